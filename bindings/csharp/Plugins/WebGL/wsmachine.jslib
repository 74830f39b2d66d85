// wsmachine for Unity WebGL: the browser's WebSocket behind a polling C ABI.
//
// The same shape as the native engine: nothing calls into C# (no dynCall, no function
// pointers, no callbacks). The browser's events are queued here, per socket, and the
// game pulls them once per frame with ws_js_poll_event into a buffer it owns.
//
// Rules this file keeps (the usual ways Unity WebGL plugins break):
//   * The heap is read through HEAPU8 / HEAP32 at the moment of each call, never through a
//     view kept from an earlier call: ALLOW_MEMORY_GROWTH replaces the ArrayBuffer, and an
//     old view is then empty (writes vanish, reads throw or return zeros).
//   * No _malloc here: payloads are copied straight into the caller's buffer.
//   * Strings cross as UTF-8 bytes with a length (TextEncoder / TextDecoder), not with
//     Pointer_stringify (removed from Emscripten) or UTF8ToString (a library symbol in some
//     Emscripten versions, a runtime function in others).
//   * Pointers arrive as signed 32-bit numbers; each is made unsigned (>>> 0) first, so a heap
//     above 2 GiB works, and every buffer is checked against the heap's current size: a bad
//     pointer or length gets WS_INVALID_ARGUMENT, never an exception inside the game.
//   * Every function returns a ws_result code (the numbers of include/wsmachine.h) and
//     writes its out-parameters only on success (and the needed length on
//     WS_BUFFER_TOO_SMALL, like ws_poll_message_copy).
//
// The receive queue is bounded (max_queued_messages messages and max_queued_bytes payload
// bytes, both given to ws_js_open): the browser cannot be told to stop reading, and a
// hidden tab does not run the game's frames while messages keep arriving. Going over the
// bound is a failure, never a silent drop: the queue gets a WS_JS_EVENT_FAILURE event
// (code WS_MESSAGE_TOO_BIG, text naming the bound) after the messages it holds, the socket
// is closed with 4008, and nothing more is queued. A message larger than max_message_bytes
// fails the same way (close code 4009). (Browsers only let a page send 1000 and
// 3000-4999, so 4008 and 4009 stand in for 1008 and 1009.)
//
// Events (out_kind of ws_js_poll_event):
//   1  text     payload: the UTF-8 text
//   2  binary   payload: the bytes
//   5  close    out_code: the close code (1006 when the connection dropped or never
//               opened), payload: the reason (UTF-8); always the last event
//   16 open     the handshake completed
//   17 error    the browser's "error" event (it carries no detail by design)
//   18 failure  out_code: a ws_result code, payload: a message; the queue bound or the
//               message limit was exceeded; a close event follows
//
// States (ws_js_state): the WebSocket readyState: 0 connecting, 1 open, 2 closing, 3 closed.

var LibraryWsMachine = {
  $WSM: {
    sockets: {},
    nextId: 1,
    encoder: null,
    decoder: null,

    // ws_result codes used here (include/wsmachine.h).
    OK: 0,
    NEED_INPUT: 1,
    NULL_POINTER: 100,
    INVALID_HANDLE: 101,
    INVALID_STATE: 102,
    BUFFER_TOO_SMALL: 103,
    INVALID_ARGUMENT: 104,
    INVALID_URL: 105,
    OUTPUT_FULL: 107,
    MESSAGE_TOO_BIG: 402,
    ALREADY_CLOSED: 500,

    init: function () {
      if (!WSM.encoder) {
        WSM.encoder = new TextEncoder();
        WSM.decoder = new TextDecoder('utf-8', { 'fatal': true }); // quoted: Closure must not rename it
      }
    },

    // A view of [ptr, ptr + len) of the heap as it is now. TextDecoder refuses views of a
    // SharedArrayBuffer (threaded builds), so those are copied.
    bytes: function (ptr, len) {
      var v = HEAPU8.subarray(ptr, ptr + len);
      if (typeof SharedArrayBuffer !== 'undefined' && v.buffer instanceof SharedArrayBuffer) {
        v = v.slice();
      }
      return v;
    },

    // The NUL-terminated UTF-8 string at ptr (null for a NULL pointer).
    cstring: function (ptr) {
      if (!ptr) return null;
      var end = HEAPU8.indexOf(0, ptr);
      if (end < 0) end = HEAPU8.length;
      return new TextDecoder('utf-8').decode(WSM.bytes(ptr, end - ptr));
    },

    // True when [ptr, ptr + len) lies inside the heap (ptr unsigned, len >= 0).
    fits: function (ptr, len) {
      return len >= 0 && ptr + len <= HEAPU8.length;
    },

    // True when ptr can take an int32 out-parameter.
    outOk: function (ptr) {
      return ptr !== 0 && (ptr & 3) === 0 && ptr + 4 <= HEAPU8.length;
    },

    setI32: function (ptr, value) {
      HEAP32[ptr >>> 2] = value;
    },

    // Writes str as NUL-terminated UTF-8 into (buf, cap); sets *out_len to its byte length.
    copyString: function (str, buf, cap, outLen) {
      WSM.init();
      var b = WSM.encoder.encode(str || '');
      if (!outLen) return WSM.NULL_POINTER;
      if (!WSM.outOk(outLen) || (buf && !WSM.fits(buf, cap))) return WSM.INVALID_ARGUMENT;
      if (b.length + 1 > cap || !buf) {
        WSM.setI32(outLen, b.length + 1);
        return WSM.BUFFER_TOO_SMALL;
      }
      HEAPU8.set(b, buf);
      HEAPU8[buf + b.length] = 0;
      WSM.setI32(outLen, b.length);
      return WSM.OK;
    },

    push: function (s, kind, code, data) {
      s.queue.push({ kind: kind, code: code, data: data });
      s.queuedBytes += data.length;
      if (kind === 1 || kind === 2) s.queuedMessages++;
    },

    // Ends the socket from our side after a limit was exceeded: one failure event after the
    // queued messages, then the close event (kept by onclose even though s.failed is set).
    fail: function (s, result, message, closeCode) {
      if (s.failed) return;
      s.failed = true;
      WSM.push(s, 18, result, WSM.encoder.encode(message));
      s.ws.close(closeCode, closeCode === 4008 ? 'wsmachine: receive queue overflow' : 'wsmachine: message too big');
    },

    onMessage: function (s, e) {
      if (s.failed || s.freed) return;
      var kind, data;
      if (typeof e.data === 'string') {
        kind = 1;
        data = WSM.encoder.encode(e.data);
      } else {
        kind = 2;
        data = new Uint8Array(e.data);
      }
      if (data.length > s.maxMessage) {
        WSM.fail(s, WSM.MESSAGE_TOO_BIG, 'a message of ' + data.length + ' bytes exceeds the maximum message size of ' +
          s.maxMessage + ' bytes (WsConfig.SetMaxMessageSize)', 4009);
        return;
      }
      var count = s.queuedMessages;
      if (count >= s.maxCount || s.queuedBytes + data.length > s.maxBytes) {
        WSM.fail(s, WSM.MESSAGE_TOO_BIG, 'the browser-side receive queue overflowed: ' + count + ' messages (' +
          s.queuedBytes + ' bytes) waiting, bound ' + s.maxCount + ' messages / ' + s.maxBytes +
          ' bytes; the game did not poll (a hidden tab runs no frames) and the browser cannot pause reading', 4008);
        return;
      }
      WSM.push(s, kind, 0, data);
    }
  },

  // Opens a WebSocket to url (NUL-terminated UTF-8) offering the comma-separated protocols
  // (NULL or "" for none). max_message_bytes bounds one message; max_queued_messages and
  // max_queued_bytes bound the receive queue. Writes the socket id (> 0) to *out_id.
  // Returns WS_INVALID_URL (the browser refused the URL: malformed, not ws/wss, a blocked
  // port, or ws:// from an https:// page) or WS_INVALID_ARGUMENT (bad protocols, bad
  // limits), with the browser's message in (err, err_cap) as NUL-terminated UTF-8.
  ws_js_open__deps: ['$WSM'],
  ws_js_open: function (url, protocols, maxMessage, maxCount, maxBytes, outId, err, errCap) {
    url >>>= 0; protocols >>>= 0; outId >>>= 0; err >>>= 0;
    WSM.init();
    if (!url || !outId) return WSM.NULL_POINTER;
    if (!WSM.outOk(outId) || (err && !WSM.fits(err, errCap))) return WSM.INVALID_ARGUMENT;
    var u = WSM.cstring(url);
    var p = WSM.cstring(protocols);
    var list = p ? p.split(',').map(function (x) { return x.trim(); }).filter(function (x) { return x.length > 0; }) : [];
    var report = function (code, message) {
      if (err && errCap > 0) {
        var b = WSM.encoder.encode(message);
        var n = Math.min(b.length, errCap - 1);
        // Cut at a character boundary so the text stays valid UTF-8.
        while (n > 0 && n < b.length && (b[n] & 0xc0) === 0x80) n--;
        HEAPU8.set(b.subarray(0, n), err);
        HEAPU8[err + n] = 0;
      }
      return code;
    };
    if (maxMessage <= 0 || maxCount <= 0 || maxBytes <= 0) {
      return report(WSM.INVALID_ARGUMENT, 'limits must be greater than 0');
    }
    var ws;
    try {
      ws = new WebSocket(u, list);
    } catch (e) {
      var code = (e && e.name === 'SyntaxError' && list.length > 0 && /protocol/i.test(String(e.message)))
        ? WSM.INVALID_ARGUMENT : WSM.INVALID_URL;
      return report(code, 'the browser refused new WebSocket(' + JSON.stringify(u) + '): ' +
        (e && e.name ? e.name + ': ' : '') + (e && e.message ? e.message : String(e)));
    }
    ws.binaryType = 'arraybuffer';
    var id = WSM.nextId++;
    var s = {
      ws: ws, queue: [], head: 0, queuedBytes: 0, queuedMessages: 0, failed: false, freed: false,
      maxMessage: maxMessage, maxCount: maxCount, maxBytes: maxBytes
    };
    WSM.sockets[id] = s;
    ws.onopen = function () { if (!s.freed) WSM.push(s, 16, 0, new Uint8Array(0)); };
    ws.onerror = function () { if (!s.freed && !s.failed) WSM.push(s, 17, 0, new Uint8Array(0)); };
    ws.onmessage = function (e) { WSM.onMessage(s, e); };
    ws.onclose = function (e) {
      if (!s.freed) WSM.push(s, 5, e.code, WSM.encoder.encode(e.reason || ''));
    };
    WSM.setI32(outId, id);
    return WSM.OK;
  },

  // Sends the UTF-8 text (utf8, len) as a text message. WS_INVALID_STATE while connecting,
  // WS_ALREADY_CLOSED once closing or closed, WS_INVALID_ARGUMENT for invalid UTF-8,
  // WS_OUTPUT_FULL when bufferedAmount + len would exceed max_pending (0: no limit).
  ws_js_send_text__deps: ['$WSM'],
  ws_js_send_text: function (id, utf8, len, maxPending) {
    utf8 >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!utf8 && len > 0) return WSM.NULL_POINTER;
    if (!WSM.fits(utf8, len)) return WSM.INVALID_ARGUMENT;
    var st = s.ws.readyState;
    if (st === 0) return WSM.INVALID_STATE;
    if (st !== 1 || s.failed) return WSM.ALREADY_CLOSED;
    if (maxPending > 0 && s.ws.bufferedAmount + len > maxPending) return WSM.OUTPUT_FULL;
    WSM.init();
    var text;
    try {
      text = WSM.decoder.decode(WSM.bytes(utf8, len));
    } catch (e) {
      return WSM.INVALID_ARGUMENT;
    }
    s.ws.send(text);
    return WSM.OK;
  },

  // Sends (data, len) as a binary message (copied now). Codes as ws_js_send_text.
  ws_js_send_binary__deps: ['$WSM'],
  ws_js_send_binary: function (id, data, len, maxPending) {
    data >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!data && len > 0) return WSM.NULL_POINTER;
    if (!WSM.fits(data, len)) return WSM.INVALID_ARGUMENT;
    var st = s.ws.readyState;
    if (st === 0) return WSM.INVALID_STATE;
    if (st !== 1 || s.failed) return WSM.ALREADY_CLOSED;
    if (maxPending > 0 && s.ws.bufferedAmount + len > maxPending) return WSM.OUTPUT_FULL;
    // slice() copies out of the heap: the send must not see later writes or a grown heap.
    s.ws.send(HEAPU8.slice(data, data + len));
    return WSM.OK;
  },

  // Starts the close handshake with code (1000 or 3000-4999, the codes a page may send;
  // 0 sends none) and the UTF-8 reason (reason, len; at most 123 bytes). Closing a socket
  // that is still connecting abandons it. WS_INVALID_ARGUMENT for another code or a long
  // reason; WS_OK (nothing to do) when closing or closed already.
  ws_js_close__deps: ['$WSM'],
  ws_js_close: function (id, code, reason, len) {
    reason >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!reason && len > 0) return WSM.NULL_POINTER;
    if (len > 123 || !WSM.fits(reason, len)) return WSM.INVALID_ARGUMENT;
    if (code !== 0 && code !== 1000 && (code < 3000 || code > 4999)) return WSM.INVALID_ARGUMENT;
    if (s.ws.readyState >= 2) return WSM.OK;
    WSM.init();
    var text;
    try {
      text = WSM.decoder.decode(WSM.bytes(reason, len));
    } catch (e) {
      return WSM.INVALID_ARGUMENT;
    }
    if (code === 0) {
      s.ws.close();
    } else {
      s.ws.close(code, text);
    }
    return WSM.OK;
  },

  // Takes the next event into the caller's buffer (buf, cap): *out_kind, *out_len (payload
  // bytes) and *out_code (close code or failure result; 0 otherwise). WS_NEED_INPUT when
  // the queue is empty. WS_BUFFER_TOO_SMALL when the payload does not fit: the event stays
  // queued and *out_len holds the size needed.
  ws_js_poll_event__deps: ['$WSM'],
  ws_js_poll_event: function (id, buf, cap, outKind, outLen, outCode) {
    buf >>>= 0; outKind >>>= 0; outLen >>>= 0; outCode >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!outKind || !outLen || !outCode) return WSM.NULL_POINTER;
    if (!WSM.outOk(outKind) || !WSM.outOk(outLen) || !WSM.outOk(outCode) || (buf && !WSM.fits(buf, cap))) {
      return WSM.INVALID_ARGUMENT;
    }
    if (s.head >= s.queue.length) return WSM.NEED_INPUT;
    var ev = s.queue[s.head];
    var n = ev.data.length;
    if (n > cap || (n > 0 && !buf)) {
      WSM.setI32(outLen, n);
      return WSM.BUFFER_TOO_SMALL;
    }
    if (n > 0) HEAPU8.set(ev.data, buf);
    s.queue[s.head] = undefined;
    s.head++;
    s.queuedBytes -= n;
    if (ev.kind === 1 || ev.kind === 2) s.queuedMessages--;
    if (s.head >= s.queue.length) {
      s.queue.length = 0;
      s.head = 0;
    } else if (s.head >= 1024 && s.head * 2 >= s.queue.length) {
      s.queue = s.queue.slice(s.head);
      s.head = 0;
    }
    WSM.setI32(outKind, ev.kind);
    WSM.setI32(outLen, n);
    WSM.setI32(outCode, ev.code);
    return WSM.OK;
  },

  // The readyState (0 connecting, 1 open, 2 closing, 3 closed) into *out_state.
  ws_js_state__deps: ['$WSM'],
  ws_js_state: function (id, outState) {
    outState >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!outState) return WSM.NULL_POINTER;
    if (!WSM.outOk(outState)) return WSM.INVALID_ARGUMENT;
    WSM.setI32(outState, s.ws.readyState);
    return WSM.OK;
  },

  // Bytes given to send() that the browser has not put on the wire yet (bufferedAmount,
  // capped at 2^31 - 1), and the received messages (text and binary) waiting in the queue.
  ws_js_buffered_amount__deps: ['$WSM'],
  ws_js_buffered_amount: function (id, outBytes, outQueued) {
    outBytes >>>= 0; outQueued >>>= 0;
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    if (!outBytes || !outQueued) return WSM.NULL_POINTER;
    if (!WSM.outOk(outBytes) || !WSM.outOk(outQueued)) return WSM.INVALID_ARGUMENT;
    WSM.setI32(outBytes, Math.min(s.ws.bufferedAmount, 2147483647));
    WSM.setI32(outQueued, s.queuedMessages);
    return WSM.OK;
  },

  // The subprotocol the server selected ("" before open or when none) as NUL-terminated
  // UTF-8 in (buf, cap); *out_len = its length. WS_BUFFER_TOO_SMALL: *out_len = size needed
  // including the NUL.
  ws_js_subprotocol__deps: ['$WSM'],
  ws_js_subprotocol: function (id, buf, cap, outLen) {
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    return WSM.copyString(s.ws.protocol, buf >>> 0, cap, outLen >>> 0);
  },

  // The extensions the server selected (the Sec-WebSocket-Extensions value, "" when none),
  // like ws_js_subprotocol.
  ws_js_extensions__deps: ['$WSM'],
  ws_js_extensions: function (id, buf, cap, outLen) {
    var s = WSM.sockets[id];
    if (!s) return WSM.INVALID_HANDLE;
    return WSM.copyString(s.ws.extensions, buf >>> 0, cap, outLen >>> 0);
  },

  // Forgets the socket: no more events are queued, the queue is dropped, and an open or
  // connecting socket is closed (code 1000 when open). Freeing an unknown id does nothing.
  ws_js_free__deps: ['$WSM'],
  ws_js_free: function (id) {
    var s = WSM.sockets[id];
    if (!s) return WSM.OK;
    delete WSM.sockets[id];
    s.freed = true;
    s.queue = [];
    s.head = 0;
    s.queuedBytes = 0;
    s.queuedMessages = 0;
    s.ws.onopen = s.ws.onmessage = s.ws.onerror = s.ws.onclose = null;
    try {
      if (s.ws.readyState === 1) {
        s.ws.close(1000);
      } else if (s.ws.readyState === 0) {
        s.ws.close();
      }
    } catch (e) {
    }
    return WSM.OK;
  }
};

mergeInto(LibraryManager.library, LibraryWsMachine);
