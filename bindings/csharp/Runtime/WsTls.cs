// wsmachine C# bindings, layer 3: TLS on its own, for any protocol (the SSLEngine .NET
// never had).
//
// The caller owns the socket and the clock. The event loop, on one thread:
//   1. OfferInput(bytes from the socket)              (0 bytes = the peer's stream ended)
//   2. while (Read(buf, ..., out n) == Data) use n    (until NeedInput; Closed/Truncated = end)
//   3. Write(plaintext) -> how many bytes were taken  (keep the rest for later)
//   4. Tick(nowMs)                                    (handshake timeout)
//   5. while ((n = ReadOutput(buf)) > 0) send         (drain output until empty)
// WsTlsStream does this over a blocking Socket, as a System.IO.Stream.

using System;

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library (the TLS object is the native engine)
namespace WsMachine
{
    /// <summary>The outcome of <see cref="WsTls.Read(byte[], int, int, out int)"/>.</summary>
    public enum WsTlsReadStatus
    {
        /// <summary>Plaintext was copied (the count is in the out parameter).</summary>
        Data = 0,
        /// <summary>No plaintext is waiting; offer more input.</summary>
        NeedInput = 1,
        /// <summary>The peer sent close_notify and everything before it has been read.</summary>
        Closed = 2,
        /// <summary>The peer's stream ended without close_notify after everything before it was read: what arrived may be cut short.</summary>
        Truncated = 3,
    }

    /// <summary>
    /// One TLS client connection as a sans-IO state machine: ciphertext goes in with
    /// <see cref="OfferInput(byte[], int, int)"/> and comes out of
    /// <see cref="ReadOutput(byte[], int, int)"/>; plaintext goes in with
    /// <see cref="Write(byte[], int, int)"/> and comes out of
    /// <see cref="Read(byte[], int, int, out int)"/>. It uses the config's roots, pins,
    /// client certificate, minimum version, handshake timeout, pending-output limit and
    /// session store (a second connection of one config resumes the session).
    /// </summary>
    /// <remarks>
    /// Failures throw a <see cref="WsException"/> subclass (certificate problems a
    /// <see cref="WsTlsException"/> with its <see cref="WsCertificateError"/>) and are sticky.
    /// Plaintext written before the handshake completes is buffered within the
    /// pending-output limit. Calls on one object are serialised by the library, but a
    /// read-offer-drain sequence is not atomic: <see cref="WsTlsStream"/> shows how two
    /// threads share one. The finalizer frees a forgotten handle.
    /// </remarks>
    public sealed unsafe class WsTls : IDisposable
    {
        private ulong _handle;

        /// <summary>
        /// Starts a TLS connection to <paramref name="serverName"/> (a DNS name or an IP
        /// literal; SNI and certificate verification use it). The ClientHello is ready in
        /// <see cref="ReadOutput(byte[], int, int)"/> at once.
        /// </summary>
        /// <param name="config">The settings to copy.</param>
        /// <param name="serverName">The server's name.</param>
        /// <exception cref="WsMisuseException">An invalid name or config.</exception>
        public WsTls(WsConfig config, string serverName)
        {
            if (config == null) throw new ArgumentNullException("config");
            if (serverName == null) throw new ArgumentNullException("serverName");
            ulong cfg = config.Handle;
            ulong h;
            fixed (byte* n = Ensure.ToCString(serverName))
            {
                Ensure.Success(NativeMethods.ws_tls_new(cfg, n, &h));
            }
            _handle = h;
        }

        /// <summary>Frees the object if <see cref="Dispose"/> was not called.</summary>
        ~WsTls()
        {
            Free();
        }

        /// <summary>Frees the native object (it sends nothing: <see cref="Close"/> and drain the output first). Calling it again does nothing.</summary>
        public void Dispose()
        {
            Free();
            GC.SuppressFinalize(this);
        }

        private void Free()
        {
            ulong h = _handle;
            _handle = 0;
            if (h != 0)
            {
                NativeMethods.ws_tls_free(h);
            }
        }

        /// <summary>True once <see cref="Dispose"/> was called.</summary>
        public bool IsDisposed
        {
            get { return _handle == 0; }
        }

        private ulong Handle
        {
            get
            {
                ulong h = _handle;
                if (h == 0) throw new ObjectDisposedException(typeof(WsTls).Name);
                return h;
            }
        }

        /// <summary>
        /// Offers ciphertext received from the socket; <paramref name="count"/> 0 means the
        /// peer's stream ended. Returns how many bytes were taken: fewer only while 16 KiB of
        /// plaintext wait unread (read them, then offer the rest).
        /// </summary>
        /// <param name="buffer">The received bytes.</param>
        /// <param name="offset">Start of the bytes.</param>
        /// <param name="count">Number of bytes.</param>
        /// <returns>How many bytes were taken.</returns>
        /// <exception cref="WsException">The connection failed (certificate, alert, corrupt data, EOF during the handshake); sticky.</exception>
        public int OfferInput(byte[] buffer, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            fixed (byte* p = buffer)
            {
                return OfferInput(h, count == 0 ? null : p + offset, count);
            }
        }

        /// <summary>Offers ciphertext received from the socket (see <see cref="OfferInput(byte[], int, int)"/>); an empty span means EOF.</summary>
        /// <param name="data">The received bytes.</param>
        /// <returns>How many bytes were taken.</returns>
        public int OfferInput(ReadOnlySpan<byte> data)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(data))
            {
                return OfferInput(h, data.Length == 0 ? null : p, data.Length);
            }
        }

        private int OfferInput(ulong h, byte* p, int count)
        {
            UIntPtr used;
            Ensure.TlsSuccess(NativeMethods.ws_tls_offer_input(h, p, (UIntPtr)count, &used), h);
            return (int)used.ToUInt64();
        }

        /// <summary>Tells the object that the peer's stream ended (EOF).</summary>
        public void OfferEndOfStream()
        {
            OfferInput(Handle, null, 0);
        }

        /// <summary>
        /// Copies ciphertext that must be sent to the socket into the buffer; returns how
        /// many bytes (0 when nothing is pending). Send every byte, in order.
        /// </summary>
        /// <param name="buffer">Where to copy.</param>
        /// <param name="offset">Start in <paramref name="buffer"/>.</param>
        /// <param name="count">Room in <paramref name="buffer"/>.</param>
        /// <returns>Bytes copied.</returns>
        /// <exception cref="WsException">The connection failed and its last bytes (the alert) were already handed out.</exception>
        public int ReadOutput(byte[] buffer, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            fixed (byte* p = buffer)
            {
                return ReadOutput(h, count == 0 ? null : p + offset, count);
            }
        }

        /// <summary>Copies ciphertext for the socket into <paramref name="buffer"/> (see <see cref="ReadOutput(byte[], int, int)"/>).</summary>
        /// <param name="buffer">Destination.</param>
        /// <returns>Bytes copied; 0 when nothing is pending.</returns>
        public int ReadOutput(Span<byte> buffer)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer))
            {
                return ReadOutput(h, buffer.Length == 0 ? null : p, buffer.Length);
            }
        }

        private int ReadOutput(ulong h, byte* p, int count)
        {
            UIntPtr n;
            Ensure.TlsSuccess(NativeMethods.ws_tls_read_output(h, p, (UIntPtr)count, &n), h);
            return (int)n.ToUInt64();
        }

        /// <summary>
        /// Queues plaintext to send; returns how many bytes were taken: fewer (even 0) when
        /// the pending-output limit is reached. Drain <see cref="ReadOutput(byte[], int, int)"/>, then write the rest.
        /// </summary>
        /// <param name="buffer">The plaintext.</param>
        /// <param name="offset">Start of the plaintext.</param>
        /// <param name="count">Number of bytes.</param>
        /// <returns>How many bytes were taken.</returns>
        /// <exception cref="WsClosedException">After <see cref="Close"/> (<see cref="WsResult.AlreadyClosed"/>).</exception>
        public int Write(byte[] buffer, int offset, int count)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            fixed (byte* p = buffer)
            {
                return Write(h, count == 0 ? null : p + offset, count);
            }
        }

        /// <summary>Queues plaintext to send (see <see cref="Write(byte[], int, int)"/>).</summary>
        /// <param name="data">The plaintext.</param>
        /// <returns>How many bytes were taken.</returns>
        public int Write(ReadOnlySpan<byte> data)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(data))
            {
                return Write(h, data.Length == 0 ? null : p, data.Length);
            }
        }

        private int Write(ulong h, byte* p, int count)
        {
            UIntPtr used;
            Ensure.TlsSuccess(NativeMethods.ws_tls_write(h, p, (UIntPtr)count, &used), h);
            return (int)used.ToUInt64();
        }

        /// <summary>
        /// Copies decrypted plaintext into the buffer. Never blocks; "nothing yet" and the
        /// end of the stream are statuses, not exceptions.
        /// </summary>
        /// <param name="buffer">Where to copy.</param>
        /// <param name="offset">Start in <paramref name="buffer"/>.</param>
        /// <param name="count">Room in <paramref name="buffer"/>.</param>
        /// <param name="read">Bytes copied (0 unless the status is <see cref="WsTlsReadStatus.Data"/>).</param>
        /// <returns>What happened.</returns>
        /// <exception cref="WsException">The connection failed (after the plaintext received before the failure was read).</exception>
        public WsTlsReadStatus Read(byte[] buffer, int offset, int count, out int read)
        {
            ulong h = Handle;
            Ensure.Range(buffer, offset, count, "buffer");
            fixed (byte* p = buffer)
            {
                return Read(h, count == 0 ? null : p + offset, count, out read);
            }
        }

        /// <summary>Copies decrypted plaintext into <paramref name="buffer"/> (see <see cref="Read(byte[], int, int, out int)"/>).</summary>
        /// <param name="buffer">Destination.</param>
        /// <param name="read">Bytes copied.</param>
        /// <returns>What happened.</returns>
        public WsTlsReadStatus Read(Span<byte> buffer, out int read)
        {
            ulong h = Handle;
            fixed (byte* p = &System.Runtime.InteropServices.MemoryMarshal.GetReference(buffer))
            {
                return Read(h, buffer.Length == 0 ? null : p, buffer.Length, out read);
            }
        }

        private WsTlsReadStatus Read(ulong h, byte* p, int count, out int read)
        {
            UIntPtr n;
            uint code = NativeMethods.ws_tls_read(h, p, (UIntPtr)count, &n);
            read = 0;
            switch (code)
            {
                case (uint)WsResult.Ok:
                    read = (int)n.ToUInt64();
                    return WsTlsReadStatus.Data;
                case (uint)WsResult.NeedInput: return WsTlsReadStatus.NeedInput;
                case (uint)WsResult.Closed: return WsTlsReadStatus.Closed;
                case (uint)WsResult.TlsTruncated: return WsTlsReadStatus.Truncated;
                default: throw Ensure.ForTls(code, h);
            }
        }

        /// <summary>Sends close_notify (through <see cref="ReadOutput(byte[], int, int)"/>); nothing more can be written. Closing twice does nothing.</summary>
        /// <exception cref="WsMisuseException">Before the handshake completed (<see cref="WsResult.InvalidState"/>).</exception>
        public void Close()
        {
            ulong h = Handle;
            Ensure.TlsSuccess(NativeMethods.ws_tls_close(h), h);
        }

        /// <summary>Tells the object the time (any monotonic clock, milliseconds); applies the handshake timeout.</summary>
        /// <param name="nowMs">The current time.</param>
        /// <exception cref="WsTimeoutException">The handshake did not complete in time.</exception>
        public void Tick(long nowMs)
        {
            ulong h = Handle;
            Ensure.TlsSuccess(NativeMethods.ws_tls_tick(h, (ulong)nowMs), h);
        }

        /// <summary>When <see cref="Tick"/> should next be called (ms of the caller's clock), or null when no timer runs.</summary>
        public long? NextDeadline
        {
            get
            {
                ulong h = Handle;
                ulong d;
                Ensure.TlsSuccess(NativeMethods.ws_tls_next_deadline(h, &d), h);
                return d == NativeMethods.WS_NO_DEADLINE ? (long?)null : (long)d;
            }
        }

        /// <summary>True when ciphertext waits for <see cref="ReadOutput(byte[], int, int)"/>.</summary>
        public bool WantsWrite
        {
            get
            {
                ulong h = Handle;
                uint w;
                Ensure.TlsSuccess(NativeMethods.ws_tls_wants_write(h, &w), h);
                return w != 0;
            }
        }

        /// <summary>The state: TlsHandshaking, Open, Closing, Closed or Failed (never WsHandshaking).</summary>
        public WsState State
        {
            get
            {
                ulong h = Handle;
                uint s;
                Ensure.TlsSuccess(NativeMethods.ws_tls_state(h, &s), h);
                return (WsState)s;
            }
        }

        /// <summary>The detailed last error (the failure, the last failed call, or an end without close_notify); null when none.</summary>
        public string LastError
        {
            get
            {
                ulong h = Handle;
                return Ensure.CopyOut((byte* b, UIntPtr c, UIntPtr* l) => NativeMethods.ws_tls_last_error(h, b, c, l));
            }
        }

        /// <summary>The negotiated TLS version, or null before the handshake completed.</summary>
        public WsTlsVersion? ProtocolVersion
        {
            get
            {
                ulong h = Handle;
                uint v;
                Ensure.TlsSuccess(NativeMethods.ws_tls_protocol_version(h, &v), h);
                return v == 0 ? (WsTlsVersion?)null : (WsTlsVersion)v;
            }
        }

        /// <summary>The negotiated cipher suite (for example "TLS13_AES_128_GCM_SHA256"), or null before the handshake completed.</summary>
        public string CipherSuite
        {
            get
            {
                ulong h = Handle;
                return Ensure.CopyOut((byte* b, UIntPtr c, UIntPtr* l) => NativeMethods.ws_tls_cipher_suite(h, b, c, l));
            }
        }

        /// <summary>True when the session was resumed from an earlier connection of the same config.</summary>
        public bool IsResumed
        {
            get
            {
                ulong h = Handle;
                uint r;
                Ensure.TlsSuccess(NativeMethods.ws_tls_is_resumed(h, &r), h);
                return r != 0;
            }
        }

        /// <summary>True when certificate verification is off (the config's dangerous switch).</summary>
        public bool IsInsecure
        {
            get
            {
                ulong h = Handle;
                uint r;
                Ensure.TlsSuccess(NativeMethods.ws_tls_is_insecure(h, &r), h);
                return r != 0;
            }
        }
    }
}
#endif
