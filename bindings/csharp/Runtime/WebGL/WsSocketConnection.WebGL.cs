// wsmachine C# bindings for the Unity WebGL player, layer 4: the driver over the
// browser's WebSocket (Plugins/WebGL/wsmachine.jslib).
//
// The same public API and the same per-frame model as the native WsSocketConnection
// (WsSocketConnection.cs): Connect returns at once, Pump(nowMs) once per frame moves the
// browser's queued events into a ring of pooled buffers, TryReceive hands them out, and
// every ending is a terminal state with CloseCode, CloseReason and Error. Mirrored public
// API (keep it in step with WsSocketConnection.cs; tests/webgl/ApiParity.cs checks it):
//   Connect, Reconnect, Dispose, Pump, TryReceive, SendText (string, bytes, span),
//   SendBinary (bytes, span), Ping (throws NotSupportedException), Close, State, IsOpen,
//   IsFinished, CloseCode, CloseReason, Error, Url, QueuedMessages, MaxQueuedMessages,
//   PendingSendBytes, HttpStatus, IsResumed, IsInsecure, Deflate, TlsVersion, Subprotocol,
//   and the lifecycle members Pump(), MonotonicMs, OnApplicationPause, IsPaused, IsProbing,
//   ResumeProbeThresholdMs, ProbeTimeoutMs, ConnectStaggerMs, ConnectAttemptTimeoutMs,
//   RemoteEndPoint, ClosedLocally (no probe and no Happy Eyeballs in a browser).
//
// What differs from native (also in the Unity README):
//   * States: Connecting lasts until the browser opened the connection (no Resolving or
//     Handshaking: the browser does not say).
//   * A connection that never opened ends Failed with a WsClosedException
//     (ConnectionLost): browsers do not tell a refused connection from a TLS failure or an
//     HTTP error (the details are in the browser console only).
//   * Close accepts 1000 and 3000-4999 only (the codes a page may send); messages that
//     arrive after Close are dropped by the browser.
//   * Ping throws NotSupportedException; Pong and Ping messages never arrive.
//   * TlsVersion is null, IsResumed false, HttpStatus 101 once open, else 0.
//   * The browser keeps reading while the game runs no frames (a hidden tab): the
//     browser-side queue is bounded by MaxQueuedMessages and the max message size in
//     bytes; going over ends the connection Failed (WsProtocolException, MessageTooBig).

#if UNITY_WEBGL && !UNITY_EDITOR
using System;
using System.Runtime.InteropServices;
using System.Text;

namespace WsMachine
{
    /// <summary>
    /// A WebSocket connection over the browser's WebSocket, driven by calling
    /// <see cref="Pump(long)"/> once per frame (the WebGL build of the native driver, same API).
    /// Messages surface only through <see cref="TryReceive"/>. Every ending is observable:
    /// <see cref="State"/> becomes Closed, Lost, TimedOut or Failed, with
    /// <see cref="CloseCode"/> and <see cref="CloseReason"/> set.
    /// </summary>
    public sealed unsafe class WsSocketConnection : IDisposable
    {
        private const int MaxRetainedBuffer = 1 << 20;

        private struct Slot
        {
            public byte[] Buffer;
            public int Length;
            public WsMessageKind Kind;
            public ushort CloseCode;
        }

        private Slot[] _slots = new Slot[16];
        private int _head;
        private int _count;
        private bool _held;
        private readonly ViewGuard _guard = new ViewGuard();
        private byte[] _text = new byte[256];

        private int _id;
        private WsConfig _config;
        private string _url;
        private WsConnectionState _state;
        private ushort _closeCode;
        private string _closeReason;
        private WsException _error;
        private WsException _failure;
        private bool _opened;
        private string _subprotocol;
        private string _extensions;
        private long _startedAt = -1;
        private long _closingSince = -1;
        private long _handshakeTimeout;
        private long _closeTimeout;
        private int _maxPending;
        private bool _disposed;
        private int _maxQueued = 4096;
        private long _lastPumpAt = -1;
        private long _resumeUntil = -1;
        private bool _resumeGap;
        private bool _paused;
        private DateTime? _pausedAtUtc;
        private bool _closedLocally;
        private long _probeThreshold = 5000;
        private long _probeTimeout = 5000;
        private long _connectStagger = 250;
        private long _attemptTimeout = 10000;

        /// <summary>Creates an unconnected driver.</summary>
        public WsSocketConnection() : this(64 * 1024)
        {
        }

        /// <summary>Creates an unconnected driver.</summary>
        /// <param name="bufferSize">At least 1 KiB (kept for the same API; the browser owns the socket buffers on WebGL).</param>
        public WsSocketConnection(int bufferSize)
        {
            if (bufferSize < 1024) throw new ArgumentOutOfRangeException("bufferSize");
        }

        // ----- lifecycle -------------------------------------------------------------

        /// <summary>
        /// Starts connecting to <paramref name="url"/> through the browser without blocking.
        /// Allowed when not connected yet or after a terminal state (a reconnect), which
        /// discards messages of the previous connection not yet taken.
        /// </summary>
        /// <param name="url"><c>ws://</c> or <c>wss://</c> URL (an https page may only open wss://).</param>
        /// <param name="config">The settings; kept for <see cref="Reconnect"/>.</param>
        /// <exception cref="InvalidOperationException">A connection is in progress or open.</exception>
        /// <exception cref="WsMisuseException">A malformed URL, a URL the browser refuses
        /// (<see cref="WsResult.InvalidUrl"/>), or settings the browser cannot honour
        /// (<see cref="WsResult.InvalidConfig"/>, naming them).</exception>
        public void Connect(string url, WsConfig config)
        {
            ThrowIfDisposed();
            if (url == null) throw new ArgumentNullException("url");
            if (config == null) throw new ArgumentNullException("config");
            if (_state != WsConnectionState.None && !IsTerminal)
            {
                throw new InvalidOperationException("already connecting or connected; wait for a terminal state or Dispose");
            }
            Uri uri;
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri) || (uri.Scheme != "ws" && uri.Scheme != "wss"))
            {
                throw new WsMisuseException(WsResult.InvalidUrl, "not a ws:// or wss:// URL: " + url);
            }
            config.CheckBrowserCanHonour();
            Reset();
            int maxQueued = (int)Math.Min(_maxQueued, config.MaxQueuedMessages);
            int maxMessage = (int)Math.Min(int.MaxValue, config.MaxMessageSize);
            int maxBytes = (int)Math.Min(int.MaxValue, config.MaxQueuedBytes);
            int id;
            byte[] err = new byte[512];
            int r;
            fixed (byte* u = Ensure.ToCString(url))
            fixed (byte* p = Ensure.ToCString(config.Subprotocols))
            fixed (byte* e = err)
            {
                r = WebGLNative.ws_js_open(u, p, maxMessage, maxQueued, maxBytes, &id, e, err.Length);
            }
            if (r != 0)
            {
                int n = Array.IndexOf(err, (byte)0);
                throw Ensure.Create((uint)r, Encoding.UTF8.GetString(err, 0, n < 0 ? err.Length : n), 0);
            }
            _id = id;
            _url = url;
            _config = config;
            _handshakeTimeout = config.HandshakeTimeout;
            _closeTimeout = config.CloseTimeout;
            _maxPending = (int)Math.Min(int.MaxValue, config.MaxPendingOutput);
            _state = WsConnectionState.Connecting;
        }

        /// <summary>Connects again to the same URL with the same config. Only after a terminal state.</summary>
        /// <exception cref="InvalidOperationException">Never connected, or not in a terminal state.</exception>
        public void Reconnect()
        {
            ThrowIfDisposed();
            if (_url == null) throw new InvalidOperationException("Connect was never called");
            Connect(_url, _config);
        }

        /// <summary>Closes the browser's socket and drops its queue. Pooled message views become invalid. Calling it again does nothing.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }
            Reset();
            _disposed = true;
        }

        private void Reset()
        {
            FreeSocket();
            _guard.Version++;
            _head = 0;
            _count = 0;
            _held = false;
            _state = WsConnectionState.None;
            _closeCode = 0;
            _closeReason = null;
            _error = null;
            _failure = null;
            _opened = false;
            _subprotocol = null;
            _extensions = null;
            _startedAt = -1;
            _closingSince = -1;
            _resumeUntil = -1;
            _resumeGap = false;
            _closedLocally = false;
        }

        private void FreeSocket()
        {
            if (_id != 0)
            {
                WebGLNative.ws_js_free(_id);
                _id = 0;
            }
        }

        // ----- the frame -------------------------------------------------------------

        /// <summary>
        /// Does this frame's work: moves the browser's queued events (open, messages,
        /// close) into the receive queue and applies <paramref name="nowMs"/> (handshake
        /// and close timeouts). Never blocks; never throws for network events. Also releases
        /// the message last returned by <see cref="TryReceive"/>.
        /// </summary>
        /// <param name="nowMs">Milliseconds of any monotonic clock, never decreasing.</param>
        public void Pump(long nowMs)
        {
            ThrowIfDisposed();
            if (nowMs < 0) throw new ArgumentOutOfRangeException("nowMs");
            ReleaseHeld();
            long gap = _lastPumpAt < 0 ? 0 : nowMs - _lastPumpAt;
            _lastPumpAt = nowMs;
            if (_state == WsConnectionState.None || IsTerminal)
            {
                return;
            }
            if (gap >= _probeThreshold || _resumeGap)
            {
                // A resume (a hidden tab, a pause): an ending found from here on counts as
                // found on resume (WsReconnector reconnects at once). No probe: a page cannot ping.
                _resumeUntil = nowMs + _probeTimeout;
            }
            _resumeGap = false;
            if (_startedAt < 0)
            {
                _startedAt = nowMs;
            }
            if (_closingSince < 0 && _state == WsConnectionState.Closing)
            {
                _closingSince = nowMs;
            }
            DrainEvents();
            if (IsTerminal)
            {
                return;
            }
            if (_state == WsConnectionState.Connecting && _handshakeTimeout > 0 && nowMs - _startedAt >= _handshakeTimeout)
            {
                FailLocal(WsConnectionState.TimedOut, new WsTimeoutException(
                    "WebGL: the browser did not open " + _url + " within " + _handshakeTimeout + " ms (handshake timeout)"));
            }
            else if (_state == WsConnectionState.Closing && _closeTimeout > 0 && nowMs - _closingSince >= _closeTimeout)
            {
                // As natively: the close timeout delivers a 1006 close message and ends Lost.
                FreeSocket();
                _closeCode = 1006;
                _closeReason = "the server did not answer the close within " + _closeTimeout + " ms";
                Enqueue(WsMessageKind.Close, 1006);
                _state = WsConnectionState.Lost;
            }
        }

        /// <summary>
        /// Takes the next received message. Its payload lives in a pooled buffer that stays
        /// valid until the next <see cref="TryReceive"/> or <see cref="Pump(long)"/>; copy what you
        /// keep. Allocation-free in the steady state.
        /// </summary>
        /// <param name="message">The message, when true is returned.</param>
        /// <returns>True with a message; false when the queue is empty.</returns>
        public bool TryReceive(out WsMessage message)
        {
            ThrowIfDisposed();
            ReleaseHeld();
            if (_count == 0)
            {
                message = default(WsMessage);
                return false;
            }
            Slot s = _slots[_head];
            message = new WsMessage(s.Kind, s.CloseCode, s.Buffer ?? EmptyBuffer, 0, s.Length, null, _guard, _guard.Version);
            _held = true;
            return true;
        }

        private static readonly byte[] EmptyBuffer = new byte[0];

        // ----- sending ---------------------------------------------------------------

        /// <summary>Sends a text message (encoded into a reused buffer; the browser copies it).</summary>
        /// <param name="text">The text.</param>
        /// <exception cref="WsMisuseException">Not open yet (<see cref="WsResult.InvalidState"/>), or the browser's send buffer is over the pending-output limit.</exception>
        /// <exception cref="WsClosedException">The connection is closing or closed.</exception>
        public void SendText(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            CheckSendable();
            int n = Encoding.UTF8.GetByteCount(text);
            if (n > _text.Length)
            {
                _text = new byte[RoundUp(n)];
            }
            Encoding.UTF8.GetBytes(text, 0, text.Length, _text, 0);
            fixed (byte* p = _text)
            {
                CheckSend(WebGLNative.ws_js_send_text(_id, p, n, _maxPending));
            }
        }

        /// <summary>Sends a text message from UTF-8 bytes (copied).</summary>
        /// <param name="utf8">The bytes.</param>
        /// <param name="offset">Start of the text.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendText(byte[] utf8, int offset, int count)
        {
            Ensure.Range(utf8, offset, count, "utf8");
            SendText(new ReadOnlySpan<byte>(utf8, offset, count));
        }

        /// <summary>Sends a text message from UTF-8 bytes (copied).</summary>
        /// <param name="utf8">The bytes.</param>
        public void SendText(ReadOnlySpan<byte> utf8)
        {
            CheckSendable();
            fixed (byte* p = &MemoryMarshal.GetReference(utf8))
            {
                CheckSend(WebGLNative.ws_js_send_text(_id, p, utf8.Length, _maxPending));
            }
        }

        /// <summary>Sends a binary message (copied).</summary>
        /// <param name="data">The bytes.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendBinary(byte[] data, int offset, int count)
        {
            Ensure.Range(data, offset, count, "data");
            SendBinary(new ReadOnlySpan<byte>(data, offset, count));
        }

        /// <summary>Sends a binary message (copied).</summary>
        /// <param name="data">The bytes.</param>
        public void SendBinary(ReadOnlySpan<byte> data)
        {
            CheckSendable();
            fixed (byte* p = &MemoryMarshal.GetReference(data))
            {
                CheckSend(WebGLNative.ws_js_send_binary(_id, p, data.Length, _maxPending));
            }
        }

        /// <summary>Not on WebGL: the browser's WebSocket API cannot send pings.</summary>
        /// <param name="data">The payload.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length, at most 125.</param>
        /// <exception cref="NotSupportedException">Always.</exception>
        public void Ping(byte[] data, int offset, int count)
        {
            ThrowIfDisposed();
            throw new NotSupportedException("WebGL: the browser's WebSocket API cannot send pings (the browser answers the server's pings itself)");
        }

        /// <summary>Not on WebGL: the browser's WebSocket API cannot send pings.</summary>
        /// <exception cref="NotSupportedException">Always.</exception>
        public void Ping()
        {
            Ping(null, 0, 0);
        }

        /// <summary>
        /// Starts the close handshake when open; the state becomes Closed once the server
        /// answered (or Lost after the config's close timeout). Before the connection opened
        /// it abandons the attempt at once (state Closed with this code). Does nothing when
        /// a close is already under way or the connection has ended.
        /// </summary>
        /// <param name="code">1000 or 3000-4999 on WebGL (the codes a page may send; default 1000).</param>
        /// <param name="reason">A reason of at most 123 UTF-8 bytes, or null.</param>
        /// <exception cref="WsMisuseException">Another code, or a longer reason (<see cref="WsResult.InvalidArgument"/>).</exception>
        public void Close(ushort code = 1000, string reason = null)
        {
            ThrowIfDisposed();
            if (_state == WsConnectionState.Open)
            {
                if (code != 1000 && (code < 3000 || code > 4999))
                {
                    throw new WsMisuseException(WsResult.InvalidArgument,
                        "WebGL: the browser's WebSocket.close() accepts only 1000 and 3000-4999, not " + code);
                }
                byte[] r = Encoding.UTF8.GetBytes(reason ?? string.Empty);
                if (r.Length > 123)
                {
                    throw new WsMisuseException(WsResult.InvalidArgument, "the close reason is longer than 123 UTF-8 bytes");
                }
                int result;
                fixed (byte* p = r)
                {
                    result = WebGLNative.ws_js_close(_id, code, p, r.Length);
                }
                if (result != 0)
                {
                    throw Ensure.Create((uint)result, "WebGL: ws_js_close failed", 0);
                }
                _state = WsConnectionState.Closing;
                _closedLocally = true;
                _closingSince = -1; // starts at the next Pump's clock
            }
            else if (_state == WsConnectionState.Connecting)
            {
                _closedLocally = true;
                FreeSocket();
                _closeCode = code;
                _closeReason = reason ?? string.Empty;
                _state = WsConnectionState.Closed;
            }
        }

        // ----- the game's life (mirrors the native driver's pause/resume API) ------------

        /// <summary><see cref="Pump(long)"/> with the built-in monotonic clock (<see cref="MonotonicMs"/>). Do not mix it with your own clock on one connection.</summary>
        public void Pump()
        {
            Pump(MonotonicMs);
        }

        private static readonly System.Diagnostics.Stopwatch Clock = System.Diagnostics.Stopwatch.StartNew();

        /// <summary>Milliseconds of the built-in monotonic clock that <see cref="Pump()"/> uses.</summary>
        public static long MonotonicMs
        {
            get { return Clock.ElapsedMilliseconds; }
        }

        /// <summary>
        /// Call from Unity's <c>OnApplicationPause(bool)</c>. On WebGL it only records the
        /// pause: the browser keeps the socket and queues what arrives (see
        /// <see cref="MaxQueuedMessages"/>), and a page cannot send the liveness probe, so
        /// a connection that died meanwhile is found by the browser's close event on the
        /// next Pump.
        /// </summary>
        /// <param name="paused">True when the app goes to the background, false when it comes back.</param>
        public void OnApplicationPause(bool paused)
        {
            ThrowIfDisposed();
            if (paused != _paused && !paused && _pausedAtUtc.HasValue
                && (DateTime.UtcNow - _pausedAtUtc.Value).TotalMilliseconds >= _probeThreshold)
            {
                _resumeGap = true;
            }
            _pausedAtUtc = paused ? DateTime.UtcNow : (DateTime?)null;
            _paused = paused;
        }

        /// <summary>True between <c>OnApplicationPause(true)</c> and <c>OnApplicationPause(false)</c>.</summary>
        public bool IsPaused
        {
            get
            {
                ThrowIfDisposed();
                return _paused;
            }
        }

        /// <summary>Always false on WebGL: a page cannot send a ping, so there is no probe.</summary>
        public bool IsProbing
        {
            get
            {
                ThrowIfDisposed();
                return false;
            }
        }

        /// <summary>A gap between two Pumps at least this long (ms, default 5000) counts as a resume (for <see cref="WsReconnector"/>); no probe is sent on WebGL.</summary>
        public long ResumeProbeThresholdMs
        {
            get
            {
                ThrowIfDisposed();
                return _probeThreshold;
            }
            set
            {
                ThrowIfDisposed();
                if (value < 1) throw new ArgumentOutOfRangeException("value");
                _probeThreshold = value;
            }
        }

        /// <summary>The window after a resume (ms, default 5000) in which an ending counts as found on resume; no probe is sent on WebGL.</summary>
        public long ProbeTimeoutMs
        {
            get
            {
                ThrowIfDisposed();
                return _probeTimeout;
            }
            set
            {
                ThrowIfDisposed();
                if (value < 1) throw new ArgumentOutOfRangeException("value");
                _probeTimeout = value;
            }
        }

        /// <summary>Kept for the same API; the browser connects on WebGL (default 250).</summary>
        public long ConnectStaggerMs
        {
            get
            {
                ThrowIfDisposed();
                return _connectStagger;
            }
            set
            {
                ThrowIfDisposed();
                if (value < 0) throw new ArgumentOutOfRangeException("value");
                _connectStagger = value;
            }
        }

        /// <summary>Kept for the same API; the browser connects on WebGL, bounded by the handshake timeout (default 10000).</summary>
        public long ConnectAttemptTimeoutMs
        {
            get
            {
                ThrowIfDisposed();
                return _attemptTimeout;
            }
            set
            {
                ThrowIfDisposed();
                if (value < 1) throw new ArgumentOutOfRangeException("value");
                _attemptTimeout = value;
            }
        }

        /// <summary>Always null on WebGL: the browser does not tell the page the address.</summary>
        public System.Net.IPEndPoint RemoteEndPoint
        {
            get
            {
                ThrowIfDisposed();
                return null;
            }
        }

        /// <summary>True when the connection ended after our own <see cref="Close"/> (not the server's close).</summary>
        public bool ClosedLocally
        {
            get
            {
                ThrowIfDisposed();
                return _closedLocally;
            }
        }

        /// <summary>The end of the window after the last resume (Pump clock), or -1.</summary>
        internal long ResumeWindowUntil
        {
            get { return _resumeUntil; }
        }

        // ----- properties ------------------------------------------------------------

        /// <summary>Where the connection is; the last four values are terminal (Resolving and Handshaking do not occur on WebGL).</summary>
        public WsConnectionState State
        {
            get
            {
                ThrowIfDisposed();
                return _state;
            }
        }

        /// <summary>True while messages flow both ways.</summary>
        public bool IsOpen
        {
            get { return State == WsConnectionState.Open; }
        }

        /// <summary>True in a terminal state: Closed, Lost, TimedOut or Failed.</summary>
        public bool IsFinished
        {
            get
            {
                ThrowIfDisposed();
                return IsTerminal;
            }
        }

        /// <summary>The close code once the connection ended: the server's (clean close), or 1006 (abnormal); 0 before.</summary>
        public ushort CloseCode
        {
            get
            {
                ThrowIfDisposed();
                return _closeCode;
            }
        }

        /// <summary>The close reason once the connection ended: the server's, or what went wrong; null before.</summary>
        public string CloseReason
        {
            get
            {
                ThrowIfDisposed();
                return _closeReason;
            }
        }

        /// <summary>The failure behind Failed or TimedOut, else null.</summary>
        public WsException Error
        {
            get
            {
                ThrowIfDisposed();
                return _error;
            }
        }

        /// <summary>The URL of the last <see cref="Connect"/>, or null.</summary>
        public string Url
        {
            get
            {
                ThrowIfDisposed();
                return _url;
            }
        }

        /// <summary>Received messages waiting for <see cref="TryReceive"/> (moved out of the browser by Pump).</summary>
        public int QueuedMessages
        {
            get
            {
                ThrowIfDisposed();
                return _held ? _count - 1 : _count;
            }
        }

        /// <summary>
        /// The most received messages kept (default 4096), read at Connect. On WebGL it also
        /// bounds the browser-side queue, which fills while the game runs no frames (a hidden
        /// tab): going over fails the connection (WsProtocolException, MessageTooBig), since
        /// the browser cannot be told to stop reading.
        /// </summary>
        public int MaxQueuedMessages
        {
            get
            {
                ThrowIfDisposed();
                return _maxQueued;
            }
            set
            {
                ThrowIfDisposed();
                if (value < 1) throw new ArgumentOutOfRangeException("value");
                _maxQueued = value;
            }
        }

        /// <summary>Bytes given to the browser that it has not sent yet (bufferedAmount).</summary>
        public long PendingSendBytes
        {
            get
            {
                ThrowIfDisposed();
                int bytes, queued;
                if (_id == 0 || WebGLNative.ws_js_buffered_amount(_id, &bytes, &queued) != 0)
                {
                    return 0;
                }
                return bytes;
            }
        }

        /// <summary>101 once the browser opened the connection, else 0 (a page never sees other statuses).</summary>
        public int HttpStatus
        {
            get
            {
                ThrowIfDisposed();
                return _opened ? 101 : 0;
            }
        }

        /// <summary>Ignored on WebGL: the browser verifies the server's chain itself.</summary>
        public WsPlatformTrust PlatformTrust
        {
            get
            {
                ThrowIfDisposed();
                return _trust;
            }
            set
            {
                ThrowIfDisposed();
                _trust = value;
            }
        }

        private WsPlatformTrust _trust;

        /// <summary>Always false on WebGL (no verdict is ever awaited).</summary>
        public bool IsVerifying
        {
            get
            {
                ThrowIfDisposed();
                return false;
            }
        }

        /// <summary>Always empty on WebGL (the browser shows a page no certificate).</summary>
        public System.Security.Cryptography.X509Certificates.X509Certificate2[] PeerCertificates
        {
            get
            {
                ThrowIfDisposed();
                return new System.Security.Cryptography.X509Certificates.X509Certificate2[0];
            }
        }

        /// <summary>Not on WebGL: no verdict is ever awaited (throws <see cref="WsMisuseException"/>).</summary>
        /// <param name="accept">Ignored.</param>
        /// <param name="reason">Ignored.</param>
        public void SetVerdict(bool accept, string reason)
        {
            ThrowIfDisposed();
            throw new WsMisuseException(WsResult.InvalidState, "no verdict is awaited on WebGL: the browser verifies TLS itself");
        }

        /// <summary>Not on WebGL (throws <see cref="WsMisuseException"/>): the browser verifies TLS itself.</summary>
        /// <param name="reason">Not written.</param>
        /// <returns>Never returns.</returns>
        public bool VerifyWithPlatform(out string reason)
        {
            ThrowIfDisposed();
            throw new WsMisuseException(WsResult.InvalidState, "no platform verification on WebGL: the browser verifies TLS itself");
        }

        /// <summary>Always false on WebGL (the browser does not say).</summary>
        public bool IsResumed
        {
            get
            {
                ThrowIfDisposed();
                return false;
            }
        }

        /// <summary>Always false on WebGL: the browser always verifies certificates.</summary>
        public bool IsInsecure
        {
            get
            {
                ThrowIfDisposed();
                return false;
            }
        }

        /// <summary>What permessage-deflate the browser negotiated (from the extensions the server selected).</summary>
        public WsDeflateInfo Deflate
        {
            get
            {
                ThrowIfDisposed();
                return ParseDeflate(_extensions);
            }
        }

        /// <summary>Always null on WebGL (the browser does not tell the page).</summary>
        public WsTlsVersion? TlsVersion
        {
            get
            {
                ThrowIfDisposed();
                return null;
            }
        }

        /// <summary>The subprotocol the server selected, or null.</summary>
        public string Subprotocol
        {
            get
            {
                ThrowIfDisposed();
                return string.IsNullOrEmpty(_subprotocol) ? null : _subprotocol;
            }
        }

        // ----- internals -------------------------------------------------------------

        private bool IsTerminal
        {
            get { return _state >= WsConnectionState.Closed; }
        }

        private void ThrowIfDisposed()
        {
            if (_disposed) throw new ObjectDisposedException(typeof(WsSocketConnection).Name);
        }

        private void CheckSendable()
        {
            ThrowIfDisposed();
            if (_state == WsConnectionState.None) throw new InvalidOperationException("not connected: call Connect first");
            if (IsTerminal || _id == 0)
            {
                throw new WsClosedException(WsResult.AlreadyClosed, "WebGL: the connection has ended");
            }
            if (_state == WsConnectionState.Connecting)
            {
                // Our state, not the browser's readyState: the browser may have opened the
                // socket already, but until Pump took the open event the connection is not
                // open for the game (as natively), whatever the timing.
                throw Ensure.Create((uint)WsResult.InvalidState, "WebGL: not open yet", 0);
            }
        }

        private void CheckSend(int result)
        {
            if (result == 0)
            {
                return;
            }
            string why = result == (int)WsResult.InvalidState ? "WebGL: not open yet"
                : result == (int)WsResult.AlreadyClosed ? "WebGL: the connection is closing or closed"
                : result == (int)WsResult.OutputFull ? "WebGL: the browser's send buffer (bufferedAmount) is over the pending-output limit"
                : result == (int)WsResult.InvalidArgument ? "WebGL: the text is not valid UTF-8"
                : "WebGL: the send failed";
            throw Ensure.Create((uint)result, why, 0);
        }

        private void ReleaseHeld()
        {
            if (!_held)
            {
                return;
            }
            _held = false;
            _guard.Version++;
            byte[] b = _slots[_head].Buffer;
            if (b != null && b.Length > MaxRetainedBuffer)
            {
                _slots[_head].Buffer = null;
            }
            _head = (_head + 1) % _slots.Length;
            _count--;
        }

        /// <summary>Moves the browser's events into the ring (until it is full) and follows the state.</summary>
        private void DrainEvents()
        {
            while (_id != 0 && _count < _maxQueued)
            {
                if (_count == _slots.Length)
                {
                    Grow();
                }
                int i = (_head + _count) % _slots.Length;
                byte[] buf = _slots[i].Buffer;
                if (buf == null)
                {
                    buf = _slots[i].Buffer = new byte[256];
                }
                int kind, len, code, r;
                fixed (byte* p = buf)
                {
                    r = WebGLNative.ws_js_poll_event(_id, p, buf.Length, &kind, &len, &code);
                }
                if (r == (int)WsResult.BufferTooSmall)
                {
                    _slots[i].Buffer = new byte[RoundUp(len)];
                    continue;
                }
                if (r == (int)WsResult.NeedInput)
                {
                    return;
                }
                if (r != 0)
                {
                    FailLocal(WsConnectionState.Failed, Ensure.Create((uint)r, "WebGL: ws_js_poll_event failed", 0));
                    return;
                }
                switch (kind)
                {
                    case WebGLNative.EventOpen:
                        OnOpen();
                        break;
                    case WebGLNative.EventError:
                        break; // the browser gives no detail; the close event that follows decides
                    case WebGLNative.EventFailure:
                        _failure = Ensure.Create((uint)code, "WebGL: " + Encoding.UTF8.GetString(buf, 0, len), 0);
                        break;
                    case (int)WsMessageKind.Text:
                    case (int)WsMessageKind.Binary:
                        _slots[i].Kind = (WsMessageKind)kind;
                        _slots[i].Length = len;
                        _slots[i].CloseCode = 0;
                        _count++;
                        break;
                    case (int)WsMessageKind.Close:
                        OnClose(i, (ushort)code, len);
                        return;
                }
            }
        }

        private void OnOpen()
        {
            _opened = true;
            _state = WsConnectionState.Open;
            _subprotocol = ReadString(true);
            _extensions = ReadString(false);
        }

        /// <summary>The browser's close event, always the last: the terminal state follows from it.</summary>
        private void OnClose(int slot, ushort code, int len)
        {
            string reason = Encoding.UTF8.GetString(_slots[slot].Buffer, 0, len);
            FreeSocket();
            if (_failure != null)
            {
                FailLocal(WsConnectionState.Failed, _failure);
                return;
            }
            if (!_opened)
            {
                FailLocal(WsConnectionState.Failed, new WsClosedException(WsResult.ConnectionLost,
                    "WebGL: the browser could not open " + _url + " (connection refused, a TLS or certificate failure, " +
                    "or an HTTP status other than 101: browsers do not tell the page which; the browser console does)"));
                return;
            }
            _slots[slot].Kind = WsMessageKind.Close;
            _slots[slot].Length = len;
            _slots[slot].CloseCode = code;
            _count++;
            _closeCode = code;
            if (code == 1006)
            {
                _closeReason = "the connection ended without a close frame";
                _state = WsConnectionState.Lost;
            }
            else
            {
                _closeReason = reason;
                _state = WsConnectionState.Closed;
            }
        }

        /// <summary>Queues a message without payload (the 1006 close after a close timeout).</summary>
        private void Enqueue(WsMessageKind kind, ushort closeCode)
        {
            if (_count == _slots.Length)
            {
                Grow();
            }
            int i = (_head + _count) % _slots.Length;
            _slots[i].Kind = kind;
            _slots[i].Length = 0;
            _slots[i].CloseCode = closeCode;
            _count++;
        }

        private string ReadString(bool subprotocol)
        {
            byte[] buf = new byte[256];
            for (;;)
            {
                int len, r;
                fixed (byte* p = buf)
                {
                    r = subprotocol
                        ? WebGLNative.ws_js_subprotocol(_id, p, buf.Length, &len)
                        : WebGLNative.ws_js_extensions(_id, p, buf.Length, &len);
                }
                if (r == (int)WsResult.BufferTooSmall)
                {
                    buf = new byte[len];
                    continue;
                }
                return r == 0 ? Encoding.UTF8.GetString(buf, 0, len) : null;
            }
        }

        /// <summary>Reads "permessage-deflate; client_max_window_bits=N; ..." as the browser reports it.</summary>
        internal static WsDeflateInfo ParseDeflate(string extensions)
        {
            if (string.IsNullOrEmpty(extensions))
            {
                return default(WsDeflateInfo);
            }
            foreach (string ext in extensions.Split(','))
            {
                string[] parts = ext.Split(';');
                if (parts[0].Trim() != "permessage-deflate")
                {
                    continue;
                }
                int client = 15, server = 15;
                bool clientNoTakeover = false, serverNoTakeover = false;
                for (int k = 1; k < parts.Length; k++)
                {
                    string[] kv = parts[k].Split('=');
                    string key = kv[0].Trim();
                    int value;
                    if (kv.Length < 2 || !int.TryParse(kv[1].Trim().Trim('"'), out value))
                    {
                        value = 15;
                    }
                    if (key == "client_max_window_bits") client = value;
                    else if (key == "server_max_window_bits") server = value;
                    else if (key == "client_no_context_takeover") clientNoTakeover = true;
                    else if (key == "server_no_context_takeover") serverNoTakeover = true;
                }
                return new WsDeflateInfo(true, client, server, clientNoTakeover, serverNoTakeover);
            }
            return default(WsDeflateInfo);
        }

        private void Grow()
        {
            Slot[] bigger = new Slot[_slots.Length * 2];
            for (int k = 0; k < _count; k++)
            {
                bigger[k] = _slots[(_head + k) % _slots.Length];
            }
            _slots = bigger;
            _head = 0;
        }

        private static int RoundUp(int n)
        {
            int size = 256;
            while (size < n && size < (1 << 30))
            {
                size <<= 1;
            }
            return Math.Max(size, n);
        }

        private void FailLocal(WsConnectionState end, WsException e)
        {
            _error = e;
            FreeSocket();
            _closeCode = 1006;
            _closeReason = e.Message;
            _state = end;
        }
    }
}
#endif
