// wsmachine C# bindings, layer 3: one sans-IO connection.
//
// The caller owns the socket and the clock. The event loop, on one thread:
//   1. OfferInput(bytes from the socket)        (0 bytes = the peer closed)
//   2. while (TryPollMessage(...)) handle it     (poll until empty)
//   3. Tick(nowMs)                               (keepalive and timeouts)
//   4. while ((n = ReadOutput(buf)) > 0) send   (drain output until empty)
// WsSocketConnection does exactly this over a non-blocking Socket.

using System;
using System.Runtime.InteropServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace WsMachine
{
#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library (WsClient is the native engine)
    /// <summary>
    /// One WebSocket client connection as a sans-IO state machine: bytes go in with
    /// <see cref="OfferInput(byte[], int, int)"/>, messages come out with
    /// <see cref="TryPollMessage(out WsMessage)"/>, bytes to send come out with
    /// <see cref="ReadOutput(byte[], int, int)"/>, and <see cref="Tick"/> applies the
    /// caller's clock. Sends only queue bytes for <see cref="ReadOutput(byte[], int, int)"/>.
    /// Nothing here touches a socket, a thread or a clock.
    /// </summary>
    /// <remarks>
    /// Failures throw a <see cref="WsException"/> subclass and are sticky: after one, every
    /// call throws the same failure (except <see cref="State"/>, <see cref="LastError"/> and
    /// Dispose). "Nothing yet" is never an exception: polls return false or a
    /// <see cref="WsPollStatus"/>, <see cref="ReadOutput(byte[], int, int)"/> returns 0.
    /// Not thread-safe: drive a client from one thread. The finalizer frees a forgotten
    /// handle from the finalizer thread; stale handles are harmless by design.
    /// </remarks>
    public sealed unsafe class WsClient : IDisposable
    {
        private ulong _handle;
        private readonly ViewGuard _guard = new ViewGuard();
        private byte[] _scratch;

        /// <summary>
        /// Creates a client for <paramref name="url"/> (<c>ws://</c> or <c>wss://host[:port]/path?query</c>).
        /// The config's settings are copied. The TLS ClientHello (or for <c>ws://</c> the
        /// upgrade request) is ready in <see cref="ReadOutput(byte[], int, int)"/> at once.
        /// </summary>
        /// <param name="config">The settings to copy.</param>
        /// <param name="url">The server URL.</param>
        /// <exception cref="WsMisuseException">A malformed URL (<see cref="WsResult.InvalidUrl"/>) or config.</exception>
        public WsClient(WsConfig config, string url)
        {
            if (config == null) throw new ArgumentNullException("config");
            if (url == null) throw new ArgumentNullException("url");
            ulong cfg = config.Handle;
            ulong h;
            fixed (byte* u = Ensure.ToCString(url))
            {
                Ensure.Success(NativeMethods.ws_client_new(cfg, u, &h));
            }
            _handle = h;
        }

        /// <summary>Frees the client if <see cref="Dispose"/> was not called.</summary>
        ~WsClient()
        {
            Free();
        }

        /// <summary>Frees the native client (it sends nothing: close first for a clean shutdown). Borrowed message views become invalid. Calling it again does nothing.</summary>
        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        private void Free()
        {
            ulong h = _handle;
            _handle = 0;
            _guard.Version++;
            if (h != 0)
            {
                NativeMethods.ws_client_free(h);
            }
        }

        /// <summary>True once <see cref="Dispose"/> was called.</summary>
        public bool IsDisposed
        {
            get { return _handle == 0; }
        }

        /// <summary>The native handle; throws once disposed.</summary>
        internal ulong Handle
        {
            get
            {
                if (_handle == 0) throw new ObjectDisposedException(typeof(WsClient).Name);
                return _handle;
            }
        }

        internal ViewGuard Guard
        {
            get { return _guard; }
        }

        // ----- input -----------------------------------------------------------------

        /// <summary>
        /// Offers bytes received from the socket; <paramref name="count"/> 0 means the peer
        /// closed the TCP stream. The bytes are processed at once and not referenced later.
        /// </summary>
        /// <param name="buffer">The received bytes.</param>
        /// <param name="offset">Start of the bytes in <paramref name="buffer"/>.</param>
        /// <param name="count">Number of bytes.</param>
        /// <returns>
        /// How many bytes were taken: less than <paramref name="count"/> only when the bound on
        /// undelivered messages was reached. Poll messages, then offer the rest again.
        /// </returns>
        /// <exception cref="WsException">The connection failed (TLS, handshake, protocol); sticky.</exception>
        public int OfferInput(byte[] buffer, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            fixed (byte* p = buffer)
            {
                return OfferInput(h, p + offset, count);
            }
        }

        /// <summary>Offers bytes received from the socket (see <see cref="OfferInput(byte[], int, int)"/>); an empty span means the peer closed.</summary>
        /// <param name="data">The received bytes.</param>
        /// <returns>How many bytes were taken.</returns>
        public int OfferInput(ReadOnlySpan<byte> data)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(data))
            {
                return OfferInput(h, p, data.Length);
            }
        }

        /// <summary>Tells the client that the peer closed the TCP stream (end of stream).</summary>
        public void OfferEndOfStream()
        {
            OfferInput(Handle, null, 0);
        }

        private int OfferInput(ulong h, byte* p, int count)
        {
            UIntPtr used;
            Ensure.ClientSuccess(NativeMethods.ws_offer_input(h, p, (UIntPtr)count, &used), h);
            return (int)used.ToUInt64();
        }

        // ----- output ----------------------------------------------------------------

        /// <summary>
        /// Copies bytes that must be written to the socket (TLS records, the upgrade, frames,
        /// automatic pongs, close frames) into <paramref name="buffer"/>. Call until it
        /// returns 0, and send every byte in order (keep what a partial socket write left).
        /// </summary>
        /// <param name="buffer">Destination.</param>
        /// <param name="offset">Where to start writing.</param>
        /// <param name="count">Room available, greater than 0.</param>
        /// <returns>Bytes copied; 0 when nothing is pending.</returns>
        /// <exception cref="WsException">The failure, once the bytes telling the peer about it have been read out.</exception>
        public int ReadOutput(byte[] buffer, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            if (count == 0) throw new ArgumentOutOfRangeException("count", "the buffer must have room");
            fixed (byte* p = buffer)
            {
                return ReadOutput(h, p + offset, count);
            }
        }

        /// <summary>Copies pending output bytes into <paramref name="buffer"/> (see <see cref="ReadOutput(byte[], int, int)"/>).</summary>
        /// <param name="buffer">Destination, not empty.</param>
        /// <returns>Bytes copied; 0 when nothing is pending.</returns>
        public int ReadOutput(Span<byte> buffer)
        {
            ulong h = Handle;
            if (buffer.Length == 0) throw new ArgumentOutOfRangeException("buffer", "the buffer must have room");
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer))
            {
                return ReadOutput(h, p, buffer.Length);
            }
        }

        private int ReadOutput(ulong h, byte* p, int count)
        {
            UIntPtr n;
            Ensure.ClientSuccess(NativeMethods.ws_read_output(h, p, (UIntPtr)count, &n), h);
            return (int)n.ToUInt64();
        }

        /// <summary>The number of bytes waiting for <see cref="ReadOutput(byte[], int, int)"/>.</summary>
        public long PendingOutput
        {
            get
            {
                ulong h = Handle;
                UIntPtr n;
                Ensure.ClientSuccess(NativeMethods.ws_client_pending_output(h, &n), h);
                return (long)n.ToUInt64();
            }
        }

        // ----- messages --------------------------------------------------------------

        /// <summary>
        /// Takes the next message as a borrowed view (no copy, no allocation). Its payload is
        /// valid until the next poll or Dispose on this client; sends do not invalidate it.
        /// </summary>
        /// <param name="message">The message, when true is returned.</param>
        /// <returns>True with a message; false when none is ready or the connection ended (the last message was its CLOSE; see <see cref="State"/>).</returns>
        /// <exception cref="WsException">The connection failed (after every message that arrived before the failure).</exception>
        public bool TryPollMessage(out WsMessage message)
        {
            return PollMessage(out message) == WsPollStatus.Message;
        }

        /// <summary>Takes the next message as a borrowed view (see <see cref="TryPollMessage(out WsMessage)"/>), telling "need input" from "closed".</summary>
        /// <param name="message">The message, when <see cref="WsPollStatus.Message"/> is returned.</param>
        /// <returns><see cref="WsPollStatus.Message"/>, <see cref="WsPollStatus.NeedInput"/> or <see cref="WsPollStatus.Closed"/>.</returns>
        public WsPollStatus PollMessage(out WsMessage message)
        {
            ulong h = Handle;
            _guard.Version++;
            WsNativeMessage m;
            uint code = NativeMethods.ws_poll_message(h, &m);
            if (code == 0)
            {
                message = new WsMessage((WsMessageKind)m.kind, m.close_code, null, 0, (int)m.len.ToUInt64(),
                    m.data, _guard, _guard.Version);
                return WsPollStatus.Message;
            }
            message = default(WsMessage);
            if (code == (uint)WsResult.NeedInput) return WsPollStatus.NeedInput;
            if (code == (uint)WsResult.Closed) return WsPollStatus.Closed;
            throw Ensure.ForClient(code, h);
        }

        /// <summary>
        /// Takes the next message by copying its payload into <paramref name="buffer"/>
        /// (<c>ws_poll_message_copy</c>): nothing is borrowed and nothing is allocated.
        /// </summary>
        /// <param name="buffer">Caller-owned destination (for example a pooled array).</param>
        /// <param name="offset">Where to start writing.</param>
        /// <param name="count">Room available.</param>
        /// <param name="message">The message (payload in <paramref name="buffer"/>); after <see cref="WsPollStatus.BufferTooSmall"/> only its <see cref="WsMessage.Length"/> (the size needed) is set.</param>
        /// <returns>The status; <see cref="WsPollStatus.BufferTooSmall"/> leaves the message queued.</returns>
        public WsPollStatus PollMessage(byte[] buffer, int offset, int count, out WsMessage message)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            _guard.Version++;
            uint kind;
            UIntPtr len;
            ushort closeCode;
            uint code;
            fixed (byte* p = buffer)
            {
                code = NativeMethods.ws_poll_message_copy(h, p + offset, (UIntPtr)count, &kind, &len, &closeCode);
            }
            if (code == 0)
            {
                message = new WsMessage((WsMessageKind)kind, closeCode, buffer, offset, (int)len.ToUInt64(),
                    null, null, 0);
                return WsPollStatus.Message;
            }
            if (code == (uint)WsResult.BufferTooSmall)
            {
                message = new WsMessage(0, 0, null, 0, (int)len.ToUInt64(), null, null, 0);
                return WsPollStatus.BufferTooSmall;
            }
            message = default(WsMessage);
            if (code == (uint)WsResult.NeedInput) return WsPollStatus.NeedInput;
            if (code == (uint)WsResult.Closed) return WsPollStatus.Closed;
            throw Ensure.ForClient(code, h);
        }

        /// <summary>
        /// Takes the next message by copying it into <paramref name="buffer"/>, replacing the
        /// buffer with a larger one (next power of two) when it is too small. Reusing the same
        /// buffer makes the steady state allocation-free.
        /// </summary>
        /// <param name="buffer">A reusable buffer; may be replaced by a larger one.</param>
        /// <param name="message">The message, payload at the start of <paramref name="buffer"/>.</param>
        /// <returns>True with a message; false when none is ready or the connection ended (the last message was its CLOSE).</returns>
        public bool TryPollMessage(ref byte[] buffer, out WsMessage message)
        {
            ThrowIfDisposed();
            if (buffer == null)
            {
                buffer = new byte[256];
            }
            for (;;)
            {
                WsPollStatus s = PollMessage(buffer, 0, buffer.Length, out message);
                if (s != WsPollStatus.BufferTooSmall)
                {
                    return s == WsPollStatus.Message;
                }
                buffer = new byte[RoundUp(message.Length)];
            }
        }

        internal static int RoundUp(int n)
        {
            int size = 256;
            while (size < n && size < (1 << 30))
            {
                size <<= 1;
            }
            return size < n ? n : size;
        }

        // ----- sending ---------------------------------------------------------------

        /// <summary>Queues a text message; the string is encoded into a reused buffer (no allocation in the steady state).</summary>
        /// <param name="text">The text.</param>
        /// <exception cref="WsMisuseException">Before the handshake completed (<see cref="WsResult.InvalidState"/>) or when the output is full.</exception>
        /// <exception cref="WsClosedException">A close was already sent (<see cref="WsResult.AlreadyClosed"/>).</exception>
        public void SendText(string text)
        {
            ulong h = Handle;
            if (text == null) throw new ArgumentNullException("text");
            int n = Encoding.UTF8.GetByteCount(text);
            if (_scratch == null || _scratch.Length < n)
            {
                _scratch = new byte[RoundUp(n)];
            }
            fixed (char* c = text)
            fixed (byte* p = _scratch)
            {
                if (n > 0)
                {
                    Encoding.UTF8.GetBytes(c, text.Length, p, n);
                }
                Ensure.ClientSuccess(NativeMethods.ws_send_text(h, p, (UIntPtr)n), h);
            }
        }

        /// <summary>Queues a text message from UTF-8 bytes (copied); invalid UTF-8 is refused.</summary>
        /// <param name="utf8">The bytes.</param>
        /// <param name="offset">Start of the text.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendText(byte[] utf8, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(utf8, offset, count, "utf8");
            fixed (byte* p = utf8)
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_text(h, p + offset, (UIntPtr)count), h);
            }
        }

        /// <summary>Queues a text message from UTF-8 bytes (copied); invalid UTF-8 is refused.</summary>
        /// <param name="utf8">The bytes.</param>
        public void SendText(ReadOnlySpan<byte> utf8)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(utf8))
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_text(h, p, (UIntPtr)utf8.Length), h);
            }
        }

        /// <summary>Queues a binary message (the bytes are copied).</summary>
        /// <param name="data">The bytes.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendBinary(byte[] data, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(data, offset, count, "data");
            fixed (byte* p = data)
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_binary(h, p + offset, (UIntPtr)count), h);
            }
        }

        /// <summary>Queues a binary message (the bytes are copied).</summary>
        /// <param name="data">The bytes.</param>
        public void SendBinary(ReadOnlySpan<byte> data)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(data))
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_binary(h, p, (UIntPtr)data.Length), h);
            }
        }

        /// <summary>Queues a ping with an empty payload; the pong arrives as a <see cref="WsMessageKind.Pong"/> message.</summary>
        public void Ping()
        {
            ulong h = Handle;
            Ensure.ClientSuccess(NativeMethods.ws_send_ping(h, null, UIntPtr.Zero), h);
        }

        /// <summary>Queues a ping with up to 125 bytes of payload.</summary>
        /// <param name="data">The payload.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length, at most 125.</param>
        public void Ping(byte[] data, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(data, offset, count, "data");
            fixed (byte* p = data)
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_ping(h, p + offset, (UIntPtr)count), h);
            }
        }

        /// <summary>Queues a ping with up to 125 bytes of payload.</summary>
        /// <param name="data">The payload.</param>
        public void Ping(ReadOnlySpan<byte> data)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(data))
            {
                Ensure.ClientSuccess(NativeMethods.ws_send_ping(h, p, (UIntPtr)data.Length), h);
            }
        }

        /// <summary>
        /// Starts the close handshake. Messages keep arriving until the server's close frame
        /// (a <see cref="WsMessageKind.Close"/> message); the state becomes
        /// <see cref="WsState.Closed"/> once the output is drained.
        /// </summary>
        /// <param name="code">1000-1003, 1007-1011 or 3000-4999 (default 1000, normal closure).</param>
        /// <param name="reason">A reason of at most 123 UTF-8 bytes, or null.</param>
        /// <exception cref="WsMisuseException">A code or reason that may not be sent, or the handshake is not done.</exception>
        /// <exception cref="WsClosedException">A close was already sent.</exception>
        public void Close(ushort code = 1000, string reason = null)
        {
            ulong h = Handle;
            byte[] r = reason == null ? null : Encoding.UTF8.GetBytes(reason);
            fixed (byte* p = r)
            {
                Ensure.ClientSuccess(NativeMethods.ws_close(h, code, p, (UIntPtr)(r == null ? 0 : r.Length)), h);
            }
        }

        // ----- time ------------------------------------------------------------------

        /// <summary>
        /// Tells the client the time in milliseconds of any monotonic clock of yours (the
        /// library never reads a clock). Sends keepalive pings and applies the handshake,
        /// idle and close timeouts. Call it every frame.
        /// </summary>
        /// <param name="nowMs">The current time in ms, never decreasing.</param>
        /// <exception cref="WsTimeoutException">The handshake or idle timeout expired (the client fails).</exception>
        public void Tick(long nowMs)
        {
            ulong h = Handle;
            if (nowMs < 0) throw new ArgumentOutOfRangeException("nowMs");
            Ensure.ClientSuccess(NativeMethods.ws_client_tick(h, (ulong)nowMs), h);
        }

        /// <summary>
        /// After your clock jumped (the app was paused, the loop stalled): queues a ping and
        /// gives the server <paramref name="deadlineMs"/> to send anything. The time before
        /// <paramref name="nowMs"/> does not count toward the idle timeout, which waits for
        /// the answer; silence until the deadline makes a later <see cref="Tick"/> fail with
        /// <see cref="WsResult.ConnectionLost"/>. Call it before the first Tick after the jump.
        /// </summary>
        /// <param name="nowMs">The current time in ms (after the jump).</param>
        /// <param name="deadlineMs">How long the server has to answer, more than 0.</param>
        /// <exception cref="WsMisuseException">Not open (<see cref="WsResult.InvalidState"/>), or the output is full.</exception>
        /// <exception cref="WsClosedException">Closing or closed.</exception>
        public void Probe(long nowMs, long deadlineMs)
        {
            ulong h = Handle;
            if (nowMs < 0) throw new ArgumentOutOfRangeException("nowMs");
            if (deadlineMs <= 0) throw new ArgumentOutOfRangeException("deadlineMs");
            Ensure.ClientSuccess(NativeMethods.ws_client_probe(h, (ulong)nowMs, (ulong)deadlineMs), h);
        }

        /// <summary>When <see cref="Tick"/> should next be called (your clock, ms): 0 before the first tick, null when no timer runs.</summary>
        public long? NextDeadline
        {
            get
            {
                ulong h = Handle;
                ulong d;
                Ensure.ClientSuccess(NativeMethods.ws_client_next_deadline(h, &d), h);
                if (d == NativeMethods.WS_NO_DEADLINE) return null;
                return d > long.MaxValue ? long.MaxValue : (long)d;
            }
        }

                /// <summary>
        /// Releases memory kept for large messages now. Buffers keep the size of the largest
        /// recent message so that a stream of large messages does not allocate per message;
        /// <see cref="Tick"/> trims them after a second without traffic anyway.
        /// </summary>
        public void Trim()
        {
            ulong h = Handle;
            Ensure.ClientSuccess(NativeMethods.ws_client_trim(h), h);
        }

        // ----- inspection ------------------------------------------------------------

        /// <summary>The connection state; readable in every state, including failed.</summary>
        public WsState State
        {
            get
            {
                ulong h = Handle;
                uint s;
                Ensure.ClientSuccess(NativeMethods.ws_client_state(h, &s), h);
                return (WsState)s;
            }
        }

        /// <summary>The detailed last error: the failure, else the newer of the last failed call and why the connection ended uncleanly; null when none.</summary>
        public string LastError
        {
            get
            {
                ulong h = Handle;
                return Ensure.ClientLastError(h);
            }
        }

        /// <summary>The HTTP status of the upgrade response (101 on success, for example 403 when refused), or 0 before it arrived.</summary>
        public int HttpStatus
        {
            get
            {
                ulong h = Handle;
                ushort s;
                Ensure.ClientSuccess(NativeMethods.ws_client_http_status(h, &s), h);
                return s;
            }
        }

        /// <summary>
        /// Where the socket must connect (<c>ws_client_connect_address</c>): the proxy's host and port when
        /// the config has a proxy, else the URL's (443 or 80 by default). The host is a name or an IP
        /// address without brackets.
        /// </summary>
        /// <param name="host">The host name or address.</param>
        /// <param name="port">The port.</param>
        public void GetConnectAddress(out string host, out int port)
        {
            ulong h = Handle;
            byte[] buf = new byte[256];
            UIntPtr len;
            ushort p;
            uint code;
            fixed (byte* b = buf)
            {
                code = NativeMethods.ws_client_connect_address(h, b, (UIntPtr)buf.Length, &len, &p);
            }
            if (code == (uint)WsResult.BufferTooSmall)
            {
                buf = new byte[(int)len.ToUInt64() + 1];
                fixed (byte* b = buf)
                {
                    code = NativeMethods.ws_client_connect_address(h, b, (UIntPtr)buf.Length, &len, &p);
                }
            }
            Ensure.ClientSuccess(code, h);
            host = Encoding.UTF8.GetString(buf, 0, (int)len.ToUInt64());
            port = p;
        }

        /// <summary>The <c>Proxy-Authenticate</c> challenges of a proxy's 407 answer, in its order; empty otherwise.</summary>
        public string[] ProxyChallenges
        {
            get
            {
                ulong h = Handle;
                return Ensure.ProxyChallenges(h);
            }
        }

        /// <summary>True when the TLS session was resumed from an earlier connection made with the same config.</summary>
        public bool IsResumed
        {
            get
            {
                ulong h = Handle;
                uint r;
                Ensure.ClientSuccess(NativeMethods.ws_client_is_resumed(h, &r), h);
                return r != 0;
            }
        }

        /// <summary>True when certificate verification is off for this client (its config used <see cref="WsConfig.DangerousDisableCertificateVerification"/>).</summary>
        public bool IsInsecure
        {
            get
            {
                ulong h = Handle;
                uint r;
                Ensure.ClientSuccess(NativeMethods.ws_client_is_insecure(h, &r), h);
                return r != 0;
            }
        }

        /// <summary>What permessage-deflate negotiated (all zero when it was not, or before the handshake completed).</summary>
        public WsDeflateInfo Deflate
        {
            get
            {
                ulong h = Handle;
                WsNativeDeflateInfo d;
                Ensure.ClientSuccess(NativeMethods.ws_client_deflate(h, &d), h);
                return new WsDeflateInfo(d.enabled != 0, (int)d.client_max_window_bits, (int)d.server_max_window_bits,
                    d.client_no_context_takeover != 0, d.server_no_context_takeover != 0);
            }
        }

        /// <summary>The negotiated TLS version, or null for <c>ws://</c> and before the TLS handshake completed.</summary>
        public WsTlsVersion? TlsVersion
        {
            get
            {
                ulong h = Handle;
                uint v;
                Ensure.ClientSuccess(NativeMethods.ws_client_tls_version(h, &v), h);
                if (v == 0) return null;
                return (WsTlsVersion)v;
            }
        }

        /// <summary>The subprotocol the server selected, or null when none.</summary>
        public string Subprotocol
        {
            get
            {
                ulong h = Handle;
                UIntPtr len;
                Ensure.ClientSuccess(NativeMethods.ws_client_subprotocol(h, null, UIntPtr.Zero, &len), h);
                int n = (int)len.ToUInt64();
                if (n == 0) return null;
                byte[] buf = new byte[n + 1];
                fixed (byte* p = buf)
                {
                    Ensure.ClientSuccess(NativeMethods.ws_client_subprotocol(h, p, (UIntPtr)buf.Length, &len), h);
                    return Encoding.UTF8.GetString(p, Math.Min(n, (int)len.ToUInt64()));
                }
            }
        }

        /// <summary>
        /// The server's certificate chain as it sent it, leaf first (empty for <c>ws://</c>
        /// and before the server's certificate arrived). Meant for <see cref="WsState.Verifying"/>:
        /// hand it to a verifier, then call <see cref="SetVerdict"/>. Each call makes new objects.
        /// </summary>
        public X509Certificate2[] PeerCertificates
        {
            get
            {
                ulong h = Handle;
                var list = new System.Collections.Generic.List<X509Certificate2>();
                for (int i = 0; ; i++)
                {
                    byte* der;
                    UIntPtr len;
                    uint code = NativeMethods.ws_client_peer_certificate(h, (UIntPtr)i, &der, &len);
                    if (code == (uint)WsResult.InvalidArgument || code == (uint)WsResult.InvalidState)
                    {
                        break; // past the end, or no chain yet
                    }
                    Ensure.ClientSuccess(code, h);
                    byte[] copy = new byte[(int)len.ToUInt64()];
                    Marshal.Copy((IntPtr)der, copy, 0, copy.Length);
                    list.Add(new X509Certificate2(copy));
                }
                return list.ToArray();
            }
        }

        /// <summary>
        /// Gives the application's verdict on the server's chain while <see cref="State"/> is
        /// <see cref="WsState.Verifying"/>: accept sends the upgrade request (its bytes are in the
        /// output); reject fails the client with <see cref="WsCertificateError.Untrusted"/> and
        /// <paramref name="reason"/> in <see cref="LastError"/>, and forgets the TLS sessions of
        /// this server so that the next connection asks again.
        /// </summary>
        /// <param name="accept">True to trust the chain.</param>
        /// <param name="reason">Why (for a reject), or null.</param>
        /// <exception cref="WsMisuseException">No verdict is awaited (<see cref="WsResult.InvalidState"/>).</exception>
        public void SetVerdict(bool accept, string reason)
        {
            ulong h = Handle;
            fixed (byte* r = Ensure.ToCString(reason))
            {
                Ensure.ClientSuccess(NativeMethods.ws_client_set_verdict(h, accept ? 1u : 0u, r), h);
            }
        }

        /// <summary>
        /// Asks the operating system's verifier (the native <c>ws_client_verify_with_platform</c>:
        /// Windows CertGetCertificateChain, macOS/iOS SecTrust, Linux webpki with the
        /// distribution's roots) about the chain this client waits with. It BLOCKS: call it on a
        /// worker thread (the client may be pumped meanwhile), then give the answer to
        /// <see cref="SetVerdict"/> on the pumping thread. Not available on Android or WebGL
        /// (throws <see cref="WsMisuseException"/>; <see cref="WsPlatformTrust"/> works there).
        /// </summary>
        /// <param name="reason">Why not, when false; empty when true.</param>
        /// <returns>True when the operating system trusts the chain.</returns>
        public bool VerifyWithPlatform(out string reason)
        {
            ulong h = Handle;
            uint trusted;
            UIntPtr len;
            byte[] buf = new byte[1024];
            fixed (byte* p = buf)
            {
                Ensure.ClientSuccess(NativeMethods.ws_client_verify_with_platform(h, &trusted, p, (UIntPtr)buf.Length, &len), h);
                reason = Encoding.UTF8.GetString(p, Math.Min(buf.Length - 1, (int)len.ToUInt64()));
            }
            return trusted != 0;
        }

        private void ThrowIfDisposed()
        {
            if (_handle == 0) throw new ObjectDisposedException(typeof(WsClient).Name);
        }
    }

#endif

    /// <summary>What permessage-deflate negotiated for a connection.</summary>
    public struct WsDeflateInfo
    {
        private readonly bool _enabled;
        private readonly int _clientBits;
        private readonly int _serverBits;
        private readonly bool _clientNoTakeover;
        private readonly bool _serverNoTakeover;

        internal WsDeflateInfo(bool enabled, int clientBits, int serverBits, bool clientNoTakeover, bool serverNoTakeover)
        {
            _enabled = enabled;
            _clientBits = clientBits;
            _serverBits = serverBits;
            _clientNoTakeover = clientNoTakeover;
            _serverNoTakeover = serverNoTakeover;
        }

        /// <summary>True when compression was negotiated (the other values are 0 otherwise).</summary>
        public bool Enabled
        {
            get { return _enabled; }
        }

        /// <summary>The window our compressor uses (8-15; 8 means we send uncompressed).</summary>
        public int ClientMaxWindowBits
        {
            get { return _clientBits; }
        }

        /// <summary>The window the server compresses with (8-15).</summary>
        public int ServerMaxWindowBits
        {
            get { return _serverBits; }
        }

        /// <summary>True when we reset our compressor after every message.</summary>
        public bool ClientNoContextTakeover
        {
            get { return _clientNoTakeover; }
        }

        /// <summary>True when the server resets its compressor after every message.</summary>
        public bool ServerNoContextTakeover
        {
            get { return _serverNoTakeover; }
        }
    }
}
