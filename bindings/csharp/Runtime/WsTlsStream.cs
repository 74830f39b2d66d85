// wsmachine C# bindings, layer 4: a blocking System.IO.Stream over a connected Socket,
// for libraries that only take a Stream (HTTP, MQTT, database and game protocol code).
//
//   var s = new WsTlsStream(socket, config, "host");    // instead of new SslStream(...)
//   var w = new StreamWriter(s); var r = new StreamReader(s);
//
// It brings TLS 1.3, private CAs, pins and client certificates to Mono and IL2CPP. Like
// SslStream, one thread may read while another writes.

using System;
using System.Diagnostics;
using System.IO;
using System.Net.Sockets;

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library (WsTls is the native engine)
namespace WsMachine
{
    /// <summary>
    /// TLS over a connected <see cref="Socket"/> as a blocking <see cref="Stream"/>, the
    /// drop-in for <c>SslStream</c>: the constructor performs the handshake,
    /// <see cref="Read(byte[], int, int)"/> blocks until plaintext arrives (0 at the end of
    /// the stream), <see cref="Write(byte[], int, int)"/> blocks until the socket took the
    /// records, and <see cref="Stream.Dispose()"/> sends close_notify.
    /// </summary>
    /// <remarks>
    /// One thread may read while another writes (as <c>SslStream</c> allows); two
    /// concurrent reads, or two concurrent writes, are serialised. Errors after the
    /// handshake are <see cref="IOException"/>s whose InnerException is the
    /// <see cref="WsException"/>. A peer that ends the stream without close_notify makes
    /// <see cref="Read(byte[], int, int)"/> return 0 as well, and sets
    /// <see cref="EndedWithoutCloseNotify"/>: what arrived may be cut short, and a protocol
    /// without its own length framing should treat it as an error.
    /// </remarks>
    public sealed class WsTlsStream : Stream
    {
        private const int BufferSize = 16 * 1024 + 512;

        private readonly Socket _socket;
        private readonly bool _leaveSocketOpen;
        private readonly WsTls _tls;
        private readonly object _tlsLock = new object();   // every call on _tls
        private readonly object _sendLock = new object();  // read output + send, in order
        private readonly object _readLock = new object();  // one reader at a time
        private readonly object _writeLock = new object(); // one writer at a time
        private readonly byte[] _rx = new byte[BufferSize];
        private int _rxOffset;
        private int _rxCount;
        private readonly byte[] _tx = new byte[BufferSize];
        private bool _ended;
        private bool _truncated;
        private bool _disposed;

        /// <summary>
        /// Performs the TLS handshake with <paramref name="serverName"/> over the connected
        /// <paramref name="socket"/>, blocking until it completes or the config's handshake
        /// timeout expires.
        /// </summary>
        /// <param name="socket">A connected stream socket; its blocking mode is set to blocking.</param>
        /// <param name="config">Trust, pins, client certificate, minimum version, timeout, session store.</param>
        /// <param name="serverName">The server's DNS name or IP literal (SNI and verification).</param>
        /// <param name="leaveSocketOpen">When true, Dispose leaves the socket open (after close_notify).</param>
        /// <exception cref="WsTlsException">The handshake failed; <see cref="WsTlsException.CertificateError"/> tells certificate problems apart.</exception>
        /// <exception cref="WsTimeoutException">The handshake did not complete in time.</exception>
        /// <exception cref="IOException">The socket failed or the peer closed during the handshake.</exception>
        /// <remarks>On failure the alert telling the server why is sent, and the socket is closed unless <paramref name="leaveSocketOpen"/>.</remarks>
        public WsTlsStream(Socket socket, WsConfig config, string serverName, bool leaveSocketOpen = false)
        {
            if (socket == null) throw new ArgumentNullException("socket");
            _socket = socket;
            _leaveSocketOpen = leaveSocketOpen;
            _tls = new WsTls(config, serverName);
            try
            {
                _socket.Blocking = true;
                Handshake();
            }
            catch
            {
                // Tell the server why (the alert waits in the output), then give up.
                try
                {
                    SendOutput();
                }
                catch (Exception)
                {
                }
                if (!_leaveSocketOpen)
                {
                    _socket.Close();
                }
                _tls.Dispose();
                throw;
            }
        }

        private void Handshake()
        {
            var clock = Stopwatch.StartNew();
            while (true)
            {
                _tls.Tick(clock.ElapsedMilliseconds);
                SendOutput();
                if (_tls.State != WsState.TlsHandshaking)
                {
                    return;
                }
                long? deadline = _tls.NextDeadline;
                int waitUs = deadline.HasValue
                    ? (int)Math.Min(int.MaxValue / 1000, Math.Max(1, deadline.Value - clock.ElapsedMilliseconds)) * 1000
                    : -1;
                if (!_socket.Poll(waitUs, SelectMode.SelectRead))
                {
                    continue; // the next Tick decides whether time is up
                }
                int n = Receive(_rx, 0, _rx.Length);
                int off = 0;
                do
                {
                    off += _tls.OfferInput(_rx, off, n - off);
                } while (off < n);
            }
        }

        /// <summary>The underlying TLS object (negotiated version, cipher suite, resumption).</summary>
        public WsTls Tls
        {
            get { return _tls; }
        }

        /// <summary>The negotiated TLS version.</summary>
        public WsTlsVersion? ProtocolVersion
        {
            get { lock (_tlsLock) return _tls.ProtocolVersion; }
        }

        /// <summary>True when the session was resumed from an earlier connection of the same config.</summary>
        public bool IsResumed
        {
            get { lock (_tlsLock) return _tls.IsResumed; }
        }

        /// <summary>True once a read returned 0 because the peer ended the stream without close_notify (possible truncation).</summary>
        public bool EndedWithoutCloseNotify
        {
            get { return _truncated; }
        }

        /// <inheritdoc />
        public override bool CanRead
        {
            get { return !_disposed; }
        }

        /// <inheritdoc />
        public override bool CanWrite
        {
            get { return !_disposed; }
        }

        /// <inheritdoc />
        public override bool CanSeek
        {
            get { return false; }
        }

        /// <summary>True: <see cref="ReadTimeout"/> and <see cref="WriteTimeout"/> are the socket's receive and send timeouts.</summary>
        public override bool CanTimeout
        {
            get { return true; }
        }

        /// <summary>The socket's receive timeout in ms (0 or -1: none); a read that times out throws an <see cref="IOException"/> and the stream stays usable.</summary>
        public override int ReadTimeout
        {
            get { return _socket.ReceiveTimeout; }
            set { _socket.ReceiveTimeout = value; }
        }

        /// <summary>The socket's send timeout in ms (0 or -1: none); a write that times out throws an <see cref="IOException"/>.</summary>
        public override int WriteTimeout
        {
            get { return _socket.SendTimeout; }
            set { _socket.SendTimeout = value; }
        }

        /// <inheritdoc />
        public override long Length
        {
            get { throw new NotSupportedException(); }
        }

        /// <inheritdoc />
        public override long Position
        {
            get { throw new NotSupportedException(); }
            set { throw new NotSupportedException(); }
        }

        /// <inheritdoc />
        public override long Seek(long offset, SeekOrigin origin)
        {
            throw new NotSupportedException();
        }

        /// <inheritdoc />
        public override void SetLength(long value)
        {
            throw new NotSupportedException();
        }

        private void ThrowIfDisposed()
        {
            if (_disposed) throw new ObjectDisposedException(typeof(WsTlsStream).Name);
        }

        private int Receive(byte[] buffer, int offset, int count)
        {
            try
            {
                return _socket.Receive(buffer, offset, count, SocketFlags.None);
            }
            catch (SocketException e)
            {
                throw new IOException("receive failed: " + e.Message, e);
            }
        }

        /// <summary>Reads output out of the TLS object and sends it, in order, until none is left.</summary>
        private void SendOutput()
        {
            lock (_sendLock)
            {
                while (true)
                {
                    int n;
                    lock (_tlsLock)
                    {
                        n = _tls.ReadOutput(_tx, 0, _tx.Length);
                    }
                    if (n == 0)
                    {
                        return;
                    }
                    int sent = 0;
                    try
                    {
                        while (sent < n)
                        {
                            sent += _socket.Send(_tx, sent, n - sent, SocketFlags.None);
                        }
                    }
                    catch (SocketException e)
                    {
                        throw new IOException("send failed: " + e.Message, e);
                    }
                }
            }
        }

        /// <summary>
        /// Reads up to <paramref name="count"/> bytes of plaintext, blocking until at least
        /// one is available; returns 0 at the end of the stream (close_notify, or EOF without
        /// it: see <see cref="EndedWithoutCloseNotify"/>), and for a count of 0.
        /// </summary>
        /// <param name="buffer">Where to copy.</param>
        /// <param name="offset">Start in <paramref name="buffer"/>.</param>
        /// <param name="count">Most bytes to read.</param>
        /// <returns>Bytes read.</returns>
        public override int Read(byte[] buffer, int offset, int count)
        {
            ThrowIfDisposed();
            Ensure.Range(buffer, offset, count, "buffer");
            if (count == 0)
            {
                return 0;
            }
            lock (_readLock)
            {
                try
                {
                    return ReadLocked(buffer, offset, count);
                }
                catch (WsException e)
                {
                    SendAlert();
                    throw new IOException(e.Message, e);
                }
            }
        }

        private int ReadLocked(byte[] buffer, int offset, int count)
        {
            while (true)
            {
                if (_ended)
                {
                    return 0;
                }
                int got;
                WsTlsReadStatus status;
                lock (_tlsLock)
                {
                    status = _tls.Read(buffer, offset, count, out got);
                    // Offer what the last receive left over (while plaintext waited unread).
                    if (status == WsTlsReadStatus.NeedInput && _rxCount > 0)
                    {
                        int used = _tls.OfferInput(_rx, _rxOffset, _rxCount);
                        _rxOffset += used;
                        _rxCount -= used;
                        continue;
                    }
                }
                switch (status)
                {
                    case WsTlsReadStatus.Data:
                        return got;
                    case WsTlsReadStatus.Closed:
                        _ended = true;
                        return 0;
                    case WsTlsReadStatus.Truncated:
                        _ended = true;
                        _truncated = true;
                        return 0;
                }
                // Nothing waiting: receive (outside the TLS lock, so a writer goes on).
                int n = Receive(_rx, 0, _rx.Length);
                lock (_tlsLock)
                {
                    if (n == 0)
                    {
                        _tls.OfferEndOfStream();
                    }
                    else
                    {
                        int used = _tls.OfferInput(_rx, 0, n);
                        _rxOffset = used;
                        _rxCount = n - used;
                    }
                }
                // Input may call for an answer (a TLS 1.3 key update, an alert).
                SendOutput();
            }
        }

        /// <summary>Encrypts and sends all of the bytes, blocking until the socket took them.</summary>
        /// <param name="buffer">The plaintext.</param>
        /// <param name="offset">Start of the plaintext.</param>
        /// <param name="count">Number of bytes.</param>
        public override void Write(byte[] buffer, int offset, int count)
        {
            ThrowIfDisposed();
            Ensure.Range(buffer, offset, count, "buffer");
            lock (_writeLock)
            {
                try
                {
                    while (count > 0)
                    {
                        int n;
                        lock (_tlsLock)
                        {
                            n = _tls.Write(buffer, offset, count);
                        }
                        offset += n;
                        count -= n;
                        SendOutput();
                    }
                }
                catch (WsException e)
                {
                    SendAlert();
                    throw new IOException(e.Message, e);
                }
            }
        }

        /// <summary>After a failure: sends the alert that tells the peer why, if the socket still takes it.</summary>
        private void SendAlert()
        {
            try
            {
                SendOutput();
            }
            catch (Exception)
            {
                // Once the alert is out, ReadOutput raises the failure itself; the socket may be gone.
            }
        }

        /// <summary>Nothing to do: <see cref="Write(byte[], int, int)"/> returns only after the socket took the records.</summary>
        public override void Flush()
        {
            ThrowIfDisposed();
        }

        /// <summary>Sends close_notify (best effort), then closes the socket unless it was left open, and frees the TLS object.</summary>
        /// <param name="disposing">True from Dispose.</param>
        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                try
                {
                    bool close;
                    lock (_tlsLock)
                    {
                        WsState s = _tls.State;
                        close = s == WsState.Open || s == WsState.Closing;
                        if (close)
                        {
                            _tls.Close();
                        }
                    }
                    if (close)
                    {
                        SendOutput();
                    }
                }
                catch (Exception)
                {
                    // The peer may be gone already; closing must not throw.
                }
                if (!_leaveSocketOpen)
                {
                    try
                    {
                        _socket.Shutdown(SocketShutdown.Both);
                    }
                    catch (Exception)
                    {
                    }
                    _socket.Close();
                }
                lock (_tlsLock)
                {
                    _tls.Dispose();
                }
            }
            base.Dispose(disposing);
        }
    }
}
#endif
