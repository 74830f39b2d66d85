// wsmachine C# bindings, layer 4: the batteries-included driver.
//
// A WsClient plus a non-blocking System.Net.Sockets.Socket, pumped once per frame from
// the caller's thread. No threads, no Tasks, no callbacks: DNS is started with
// Dns.BeginGetHostAddresses and only polled (IsCompleted), the TCP connect is a
// non-blocking connect checked with Socket.Poll, and every byte moves inside Pump.
// Received messages are copied into a ring of pooled buffers, so the steady state
// allocates nothing per message.
//
// The game's life: a gap between two Pumps longer than ResumeProbeThresholdMs (the app
// was paused, backgrounded, the Editor paused, a long scene load) sends a liveness
// probe (ws_client_probe) instead of trusting the socket or letting the idle timeout
// fire on the jump: any answer within ProbeTimeoutMs keeps the connection, silence ends
// it as Lost. Connecting races the resolved addresses (Happy Eyeballs, RFC 8305).

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library: see WebGL/WsSocketConnection.WebGL.cs
namespace WsMachine
{
    /// <summary>
    /// A WebSocket connection over a non-blocking socket, driven by calling
    /// <see cref="Pump(long)"/> once per frame. Messages surface only on the calling thread,
    /// through <see cref="TryReceive"/>. Every ending is observable: <see cref="State"/>
    /// becomes <see cref="WsConnectionState.Closed"/> (clean close handshake),
    /// <see cref="WsConnectionState.Lost"/> (peer reset or EOF without a close frame),
    /// <see cref="WsConnectionState.TimedOut"/> or <see cref="WsConnectionState.Failed"/>,
    /// with <see cref="CloseCode"/> and <see cref="CloseReason"/> set.
    /// </summary>
    /// <remarks>
    /// Pump never throws for network events: failures end in a terminal state and
    /// <see cref="Error"/>. Calls that cannot be done (a send before the handshake
    /// completed, after a close) throw like <see cref="WsClient"/>. Not thread-safe.
    /// </remarks>
    public sealed unsafe class WsSocketConnection : IDisposable
    {
        /// <summary>Pooled payload buffers larger than this are dropped once read, instead of being kept.</summary>
        private const int MaxRetainedBuffer = 1 << 20;

        private struct Slot
        {
            public byte[] Buffer;
            public int Length;
            public WsMessageKind Kind;
            public ushort CloseCode;
        }

        private readonly byte[] _rx;
        private int _rxStart;
        private int _rxEnd;
        private readonly byte[] _tx;
        private readonly ArraySegment<byte>[] _segment = new ArraySegment<byte>[1];
        private int _txStart;
        private int _txEnd;

        private Slot[] _slots = new Slot[16];
        private int _head;
        private int _count;
        private bool _held;
        private readonly ViewGuard _guard = new ViewGuard();

        private WsClient _client;
        private WsConfig _config;
        private string _url;
        private Socket _socket;
        private IAsyncResult _dns;
        private DnsJob _dnsJob;
        private string _host;
        private int _port;
        private bool _viaProxy;
        private IPAddress[] _addresses;
        private int _addressIndex;
        private string _connectError;
        private readonly List<Attempt> _attempts = new List<Attempt>();
        private long _lastAttemptAt = -1;
        private IPEndPoint _remote;
        private long _lastPumpAt = -1;
        private long _resumeUntil = -1;
        private bool _paused;
        private DateTime _pausedAtUtc;
        private bool _resumeProbe;
        private bool _probing;
        private bool _closedLocally;
        private long _probeThreshold = 5000;
        private long _probeTimeout = 5000;
        private long _connectStagger = 250;
        private long _attemptTimeout = 10000;
        private bool _peerGone;
        private bool _failing;
        private SocketError _socketError;

        private WsConnectionState _state;
        private ushort _closeCode;
        private string _closeReason;
        private WsException _error;
        private long _now;
        private bool _disposed;
        private int _maxQueued = 4096;
        private int _maxReadsPerPump = 64;

        /// <summary>Creates an unconnected driver with 64 KiB socket buffers.</summary>
        public WsSocketConnection() : this(64 * 1024)
        {
        }

        /// <summary>Creates an unconnected driver.</summary>
        /// <param name="bufferSize">Size of the receive and the send buffer (at least 1 KiB).</param>
        public WsSocketConnection(int bufferSize)
        {
            if (bufferSize < 1024) throw new ArgumentOutOfRangeException("bufferSize");
            _rx = new byte[bufferSize];
            _tx = new byte[bufferSize];
        }

        // ----- lifecycle -------------------------------------------------------------

        /// <summary>
        /// Starts connecting to <paramref name="url"/> without blocking: DNS and the TCP
        /// connect complete in later <see cref="Pump(long)"/> calls, and the handshake timeout of
        /// <paramref name="config"/> covers them. Allowed when not connected yet or after a
        /// terminal state (that is a reconnect; see <see cref="Reconnect"/>), which discards
        /// messages of the previous connection not yet taken with <see cref="TryReceive"/>.
        /// </summary>
        /// <param name="url"><c>ws://</c> or <c>wss://</c> URL.</param>
        /// <param name="config">The settings; kept for <see cref="Reconnect"/>, so do not dispose it while reconnecting.</param>
        /// <exception cref="InvalidOperationException">A connection is in progress or open.</exception>
        /// <exception cref="WsMisuseException">A malformed URL.</exception>
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
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri))
            {
                throw new WsMisuseException(WsResult.InvalidUrl, "not an absolute URL: " + url);
            }
            WsClient client = new WsClient(config, url); // validates the URL natively
            string host;
            int port;
            try
            {
                // The URL's host and port, or the proxy's when the config has one.
                client.GetConnectAddress(out host, out port);
            }
            catch
            {
                client.Dispose();
                throw;
            }
            Reset();
            _client = client;
            _url = url;
            _config = config;
            _host = host;
            _port = port;
            _viaProxy = config.Proxy != null;
            IPAddress ip;
            if (IPAddress.TryParse(_host, out ip))
            {
                // A literal is used as is: Mono and .NET answer it without asking the OS
                // resolver, so an IPv4 literal gets no NAT64 synthesis (see the README).
                _addresses = new[] { ip };
                _state = WsConnectionState.Connecting; // the first Pump starts the attempt
            }
            else
            {
                _state = WsConnectionState.Resolving;
                StartDns();
            }
        }

        /// <summary>Starts the lookup without blocking: the runtime's asynchronous DNS, else a thread-pool job.</summary>
        private void StartDns()
        {
            if (!ForceDnsFallback)
            {
                try
                {
                    // Resolved on the runtime's resolver thread; Pump only polls IsCompleted.
                    _dns = Dns.BeginGetHostAddresses(_host, null, null);
                    return;
                }
                catch (NotSupportedException)
                {
                    // a runtime without asynchronous DNS: a thread-pool job instead (never block Pump)
                }
            }
            DnsJob job = new DnsJob(_host);
            try
            {
                ThreadPool.QueueUserWorkItem(DnsJob.Run, job);
                _dnsJob = job;
            }
            catch (NotSupportedException)
            {
                FailLocal(WsConnectionState.Failed, new WsClosedException(WsResult.ConnectionLost,
                    "this runtime can resolve " + _host + " only by blocking; connect to an IP address instead"));
            }
        }

        /// <summary>Test hook: resolve through the thread-pool fallback, as on a runtime without asynchronous DNS.</summary>
        internal static bool ForceDnsFallback;

        /// <summary>A lookup on a thread-pool thread; Pump only reads <see cref="Done"/>.</summary>
        private sealed class DnsJob
        {
            private readonly string _host;
            public volatile bool Done;
            public IPAddress[] Addresses;
            public SocketException Error;

            public DnsJob(string host)
            {
                _host = host;
            }

            public static void Run(object state)
            {
                DnsJob job = (DnsJob)state;
                try
                {
                    job.Addresses = Dns.GetHostAddresses(job._host);
                }
                catch (SocketException e)
                {
                    job.Error = e;
                }
                catch (Exception)
                {
                    job.Error = new SocketException((int)SocketError.HostNotFound);
                }
                job.Done = true;
            }
        }

        /// <summary>Connects again to the same URL with the same config (TLS resumption makes it cheap). Only after a terminal state.</summary>
        /// <exception cref="InvalidOperationException">Never connected, or not in a terminal state.</exception>
        public void Reconnect()
        {
            ThrowIfDisposed();
            if (_url == null) throw new InvalidOperationException("Connect was never called");
            Connect(_url, _config);
        }

        /// <summary>Closes the socket and frees the client. Pooled message views become invalid. Calling it again does nothing.</summary>
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
            CloseSocket();
            if (_client != null)
            {
                _client.Dispose();
                _client = null;
            }
            _guard.Version++;
            _head = 0;
            _count = 0;
            _held = false;
            _rxStart = _rxEnd = 0;
            _txStart = _txEnd = 0;
            _dns = null;
            _dnsJob = null;
            _addresses = null;
            _addressIndex = 0;
            if (_trust != null)
            {
                _trust.Reset();
            }
            _connectError = null;
            _lastAttemptAt = -1;
            _remote = null;
            _probing = false;
            _closedLocally = false;
            _resumeUntil = -1;
            _resumeProbe = false;
            _peerGone = false;
            _failing = false;
            _socketError = SocketError.Success;
            _state = WsConnectionState.None;
            _closeCode = 0;
            _closeReason = null;
            _error = null;
        }

        // ----- the frame -------------------------------------------------------------

        /// <summary>
        /// Does this frame's work: finishes DNS and connect, reads what the socket has into
        /// the client (keeping what it did not take), moves decoded messages into the
        /// receive queue, applies <paramref name="nowMs"/> (keepalive, timeouts), and sends
        /// pending output, keeping what a partial send left. Never blocks; never throws for
        /// network events. Also releases the message last returned by <see cref="TryReceive"/>.
        /// </summary>
        /// <remarks>
        /// A gap of at least <see cref="ResumeProbeThresholdMs"/> since the previous Pump
        /// (a pause, the background, a long load) does not count as silence: an open
        /// connection first reads what arrived, then sends a liveness probe and waits up to
        /// <see cref="ProbeTimeoutMs"/> for any answer before its idle timeout runs again;
        /// silence ends it as <see cref="WsConnectionState.Lost"/>. Use one clock for all
        /// Pumps of a connection: this one or <see cref="Pump()"/>'s.
        /// </remarks>
        /// <param name="nowMs">Milliseconds of any monotonic clock (a fake one in tests), never decreasing.</param>
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
            bool resumed = gap >= _probeThreshold || _resumeProbe;
            _resumeProbe = false;
            if (resumed)
            {
                _resumeUntil = nowMs + _probeTimeout; // an ending from here on is found on resume
            }
            _now = nowMs;
            if (_state == WsConnectionState.Resolving)
            {
                CheckDns();
            }
            if (_state == WsConnectionState.Connecting)
            {
                CheckConnect();
            }
            bool connected = _state >= WsConnectionState.Handshaking && !IsTerminal;
            if (connected)
            {
                Receive();
            }
            if (_state == WsConnectionState.Open && resumed && !_probing)
            {
                // (a probe in flight keeps its deadline: another gap must not extend it)
                StartProbe(nowMs);
            }
            if (!IsTerminal)
            {
                uint code = NativeMethods.ws_client_tick(_client.Handle, (ulong)nowMs);
                if (code != 0)
                {
                    Fail(code);
                    return;
                }
                DrainMessages(); // a close timeout delivers a 1006 close message
            }
            if (connected && !IsTerminal && _trust != null)
            {
                StepTrust();
            }
            if (connected && !IsTerminal)
            {
                Flush();
                UpdateState();
            }
        }

        /// <summary>
        /// The platform's verdict on the server's chain, for a config with
        /// <see cref="WsConfig.ExternalVerification"/> on: while the client waits
        /// (<see cref="WsState.Verifying"/>), <see cref="Pump(long)"/> starts
        /// <see cref="WsPlatformTrust"/> on a worker thread and hands its verdict back on this
        /// thread. Null (the default) leaves the verdict to you: read <see cref="PeerCertificates"/>
        /// and call <see cref="SetVerdict"/>. The handshake timeout keeps running meanwhile.
        /// </summary>
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

        /// <summary>True while the server's chain waits for a verdict (<see cref="WsState.Verifying"/>); the connection state says Handshaking meanwhile.</summary>
        public bool IsVerifying
        {
            get
            {
                ThrowIfDisposed();
                uint s;
                return _client != null && !IsTerminal && NativeMethods.ws_client_state(_client.Handle, &s) == 0 && (WsState)s == WsState.Verifying;
            }
        }

        /// <summary>The server's certificate chain, leaf first (see <see cref="WsClient.PeerCertificates"/>).</summary>
        public System.Security.Cryptography.X509Certificates.X509Certificate2[] PeerCertificates
        {
            get { return Client.PeerCertificates; }
        }

        /// <summary>The operating system's verdict on the chain while <see cref="IsVerifying"/> (see <see cref="WsClient.VerifyWithPlatform"/>); BLOCKS, so call it on a worker thread.</summary>
        /// <param name="reason">Why not, when false.</param>
        /// <returns>True when the operating system trusts the chain.</returns>
        public bool VerifyWithPlatform(out string reason)
        {
            return Client.VerifyWithPlatform(out reason);
        }

        /// <summary>Your own verdict while <see cref="IsVerifying"/> (see <see cref="WsClient.SetVerdict"/>); the upgrade request leaves at once on accept.</summary>
        /// <param name="accept">True to trust the chain.</param>
        /// <param name="reason">Why (for a reject), or null.</param>
        public void SetVerdict(bool accept, string reason)
        {
            Client.SetVerdict(accept, reason);
            Flush();
            UpdateState();
        }

        private void StepTrust()
        {
            uint s;
            if (NativeMethods.ws_client_state(_client.Handle, &s) != 0 || (WsState)s != WsState.Verifying)
            {
                return;
            }
            try
            {
                _trust.Step(_client, _host);
            }
            catch (WsException)
            {
                // The client failed meanwhile (a timeout): UpdateState reports it.
            }
        }

        /// <summary>
        /// <see cref="Pump(long)"/> with the built-in monotonic clock (<see cref="MonotonicMs"/>):
        /// the easy call for Unity's <c>Update</c>. Do not mix it with your own clock on one connection.
        /// </summary>
        public void Pump()
        {
            Pump(MonotonicMs);
        }

        private static readonly Stopwatch Clock = Stopwatch.StartNew();

        /// <summary>Milliseconds of the built-in monotonic clock (a <see cref="Stopwatch"/>) that <see cref="Pump()"/> uses.</summary>
        public static long MonotonicMs
        {
            get { return Clock.ElapsedMilliseconds; }
        }

        /// <summary>
        /// Call from Unity's <c>OnApplicationPause(bool)</c> (or <c>OnApplicationFocus(!focus)</c>).
        /// Pausing hands pending output to the socket once. After resuming, the next Pump
        /// sends a liveness probe when the pause lasted at least <see cref="ResumeProbeThresholdMs"/>,
        /// on the Pump clock or the wall clock (a monotonic clock may stand still while the
        /// device sleeps). Pump notices a gap of its own clock without this call. The package
        /// does not keep sockets alive in the background; see the README's lifecycle section.
        /// </summary>
        /// <param name="paused">True when the app goes to the background, false when it comes back.</param>
        public void OnApplicationPause(bool paused)
        {
            ThrowIfDisposed();
            if (paused == _paused)
            {
                return;
            }
            _paused = paused;
            if (paused)
            {
                _pausedAtUtc = DateTime.UtcNow;
                Flush();
            }
            else if ((DateTime.UtcNow - _pausedAtUtc).TotalMilliseconds >= _probeThreshold)
            {
                // Measured on the wall clock too: a monotonic clock may stand still while
                // the device sleeps (iOS), so the Pump clock alone could miss the pause.
                _resumeProbe = true;
            }
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

        /// <summary>True while a liveness probe waits for its answer (after a pause).</summary>
        public bool IsProbing
        {
            get
            {
                ThrowIfDisposed();
                return _probing && _state == WsConnectionState.Open;
            }
        }

        /// <summary>
        /// A gap between two Pumps at least this long (ms, default 5000) makes an open
        /// connection probe the server instead of trusting the socket. Keep it below the
        /// config's idle timeout.
        /// </summary>
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

        /// <summary>How long the server has to answer a liveness probe (ms, default 5000) before the connection is Lost.</summary>
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

        /// <summary>
        /// Happy Eyeballs (RFC 8305): when an address has not connected after this long
        /// (ms, default 250), the next one is tried alongside it; the first to connect wins.
        /// </summary>
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

        /// <summary>A connection attempt to one address is abandoned after this long (ms, default 10000); the config's handshake timeout still bounds the whole.</summary>
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

        /// <summary>The address the TCP connection reached, or null before.</summary>
        public IPEndPoint RemoteEndPoint
        {
            get
            {
                ThrowIfDisposed();
                return _remote;
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

        /// <summary>The end of the probe window after the last resume (Pump clock), or -1: an ending before it was found on resume.</summary>
        internal long ResumeWindowUntil
        {
            get { return _resumeUntil; }
        }

        /// <summary>Sends the probe; a refusal (closing, output full) leaves the normal timers in charge.</summary>
        private void StartProbe(long nowMs)
        {
            uint code = NativeMethods.ws_client_probe(_client.Handle, (ulong)nowMs, (ulong)_probeTimeout);
            if (code == 0)
            {
                _probing = true;
                Flush();
            }
            else if (code != (uint)WsResult.InvalidState && code != (uint)WsResult.AlreadyClosed
                     && code != (uint)WsResult.OutputFull)
            {
                Fail(code);
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

        /// <summary>Sends a text message (encoded into a reused buffer) and flushes what the socket takes now.</summary>
        /// <param name="text">The text.</param>
        /// <exception cref="WsMisuseException">Not open yet (<see cref="WsResult.InvalidState"/>), or the output is full.</exception>
        /// <exception cref="WsClosedException">The connection is closing or closed.</exception>
        public void SendText(string text)
        {
            Client.SendText(text);
            Flush();
        }

        /// <summary>Sends a text message from UTF-8 bytes (copied) and flushes.</summary>
        /// <param name="utf8">The bytes.</param>
        /// <param name="offset">Start of the text.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendText(byte[] utf8, int offset, int count)
        {
            Client.SendText(utf8, offset, count);
            Flush();
        }

        /// <summary>Sends a text message from UTF-8 bytes (copied) and flushes.</summary>
        /// <param name="utf8">The bytes.</param>
        public void SendText(ReadOnlySpan<byte> utf8)
        {
            Client.SendText(utf8);
            Flush();
        }

        /// <summary>Sends a binary message (copied) and flushes.</summary>
        /// <param name="data">The bytes.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length in bytes.</param>
        public void SendBinary(byte[] data, int offset, int count)
        {
            Client.SendBinary(data, offset, count);
            Flush();
        }

        /// <summary>Sends a binary message (copied) and flushes.</summary>
        /// <param name="data">The bytes.</param>
        public void SendBinary(ReadOnlySpan<byte> data)
        {
            Client.SendBinary(data);
            Flush();
        }

        /// <summary>Sends a ping with up to 125 bytes of payload; the pong arrives as a <see cref="WsMessageKind.Pong"/> message.</summary>
        /// <param name="data">The payload.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length, at most 125.</param>
        public void Ping(byte[] data, int offset, int count)
        {
            Client.Ping(data, offset, count);
            Flush();
        }

        /// <summary>Sends a ping with an empty payload.</summary>
        public void Ping()
        {
            Client.Ping();
            Flush();
        }

        /// <summary>
        /// Starts the close handshake when open; the state becomes
        /// <see cref="WsConnectionState.Closed"/> once the server answered (or Lost after the
        /// config's close timeout). Before the handshake completed it abandons the attempt at
        /// once (state Closed with this code). Does nothing when a close is already under way
        /// or the connection has ended.
        /// </summary>
        /// <param name="code">1000-1003, 1007-1011 or 3000-4999 (default 1000).</param>
        /// <param name="reason">A reason of at most 123 UTF-8 bytes, or null.</param>
        public void Close(ushort code = 1000, string reason = null)
        {
            ThrowIfDisposed();
            if (_state == WsConnectionState.Open)
            {
                _client.Close(code, reason);
                _closedLocally = true;
                _state = WsConnectionState.Closing;
                Flush();
            }
            else if (_state == WsConnectionState.Resolving || _state == WsConnectionState.Connecting
                     || _state == WsConnectionState.Handshaking)
            {
                _closedLocally = true;
                CloseSocket();
                _closeCode = code;
                _closeReason = reason ?? string.Empty;
                _state = WsConnectionState.Closed;
            }
        }

        // ----- properties ------------------------------------------------------------

        /// <summary>Where the connection is; the last four values are terminal.</summary>
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

        /// <summary>
        /// The close code once the connection ended: the server's (clean close), or 1006
        /// (abnormal: lost, timed out, failed, or the server sent no close frame); 0 before.
        /// </summary>
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

        /// <summary>The failure behind <see cref="WsConnectionState.Failed"/> or <see cref="WsConnectionState.TimedOut"/> (a <see cref="WsTlsException"/>, <see cref="WsHandshakeException"/>, ...), else null.</summary>
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

        /// <summary>Received messages waiting for <see cref="TryReceive"/>.</summary>
        public int QueuedMessages
        {
            get
            {
                ThrowIfDisposed();
                return _held ? _count - 1 : _count;
            }
        }

        /// <summary>
        /// The most received messages kept for <see cref="TryReceive"/> (default 4096). When
        /// reached, Pump stops reading the socket until messages are taken (backpressure).
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

        /// <summary>Bytes queued for the socket that it has not taken yet (library output plus the unsent remainder).</summary>
        public long PendingSendBytes
        {
            get
            {
                ThrowIfDisposed();
                long n = _txEnd - _txStart;
                if (_client != null && !IsTerminal)
                {
                    UIntPtr p;
                    if (NativeMethods.ws_client_pending_output(_client.Handle, &p) == 0)
                    {
                        n += (long)p.ToUInt64();
                    }
                }
                return n;
            }
        }

        /// <summary>The HTTP status of the upgrade response, or 0 before it arrived.</summary>
        public int HttpStatus
        {
            get
            {
                ThrowIfDisposed();
                return _client == null ? 0 : _client.HttpStatus;
            }
        }

        /// <summary>True when this connection resumed an earlier TLS session of the same config.</summary>
        public bool IsResumed
        {
            get
            {
                ThrowIfDisposed();
                return _client != null && _client.IsResumed;
            }
        }

        /// <summary>True when certificate verification is off (the config used <see cref="WsConfig.DangerousDisableCertificateVerification"/>).</summary>
        public bool IsInsecure
        {
            get
            {
                ThrowIfDisposed();
                return _client != null && _client.IsInsecure;
            }
        }

        /// <summary>What permessage-deflate negotiated (all zero when it was not).</summary>
        public WsDeflateInfo Deflate
        {
            get
            {
                ThrowIfDisposed();
                return _client == null ? default(WsDeflateInfo) : _client.Deflate;
            }
        }

        /// <summary>The negotiated TLS version, or null (<c>ws://</c>, or TLS not done).</summary>
        public WsTlsVersion? TlsVersion
        {
            get
            {
                ThrowIfDisposed();
                return _client == null ? null : _client.TlsVersion;
            }
        }

        /// <summary>The subprotocol the server selected, or null.</summary>
        public string Subprotocol
        {
            get
            {
                ThrowIfDisposed();
                return _client == null ? null : _client.Subprotocol;
            }
        }

        /// <summary>The socket, for tests that wait on it (Poll); never read or write it.</summary>
        internal Socket Socket
        {
            get { return _socket; }
        }

        // ----- internals -------------------------------------------------------------

        private bool IsTerminal
        {
            get { return _state >= WsConnectionState.Closed; }
        }

        private WsClient Client
        {
            get
            {
                ThrowIfDisposed();
                if (_client == null) throw new InvalidOperationException("not connected: call Connect first");
                return _client;
            }
        }

        private void ThrowIfDisposed()
        {
            if (_disposed) throw new ObjectDisposedException(typeof(WsSocketConnection).Name);
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

        /// <summary>"the proxy HOST at " when the socket goes to a proxy (for connect errors), else "".</summary>
        private string ProxyNote()
        {
            return _viaProxy ? "the proxy " + _host + " at " : "";
        }

        private void CheckDns()
        {
            if ((_dns != null && !_dns.IsCompleted) || (_dnsJob != null && !_dnsJob.Done))
            {
                return;
            }
            IAsyncResult dns = _dns;
            DnsJob job = _dnsJob;
            _dns = null;
            _dnsJob = null;
            try
            {
                if (dns != null)
                {
                    _addresses = Dns.EndGetHostAddresses(dns);
                }
                else if (job != null && job.Error != null)
                {
                    throw job.Error;
                }
                else
                {
                    _addresses = job != null ? job.Addresses : null;
                }
            }
            catch (SocketException e)
            {
                FailLocal(WsConnectionState.Failed, new WsClosedException(WsResult.ConnectionLost,
                    "could not resolve " + (_viaProxy ? "the proxy " : "") + _host + ": " + e.SocketErrorCode));
                return;
            }
            if (_addresses == null || _addresses.Length == 0)
            {
                FailLocal(WsConnectionState.Failed, new WsClosedException(WsResult.ConnectionLost,
                    "no address found for " + _host));
                return;
            }
            _addresses = Interleave(_addresses);
            _state = WsConnectionState.Connecting;
            CheckConnect();
        }

        /// <summary>RFC 8305 section 4: keep the resolver's order, alternating address families from the first one's.</summary>
        internal static IPAddress[] Interleave(IPAddress[] sorted)
        {
            var first = new List<IPAddress>();
            var other = new List<IPAddress>();
            foreach (IPAddress a in sorted)
            {
                (a.AddressFamily == sorted[0].AddressFamily ? first : other).Add(a);
            }
            var result = new IPAddress[sorted.Length];
            int n = 0;
            for (int i = 0; n < result.Length; i++)
            {
                if (i < first.Count) result[n++] = first[i];
                if (i < other.Count) result[n++] = other[i];
            }
            return result;
        }

        private struct Attempt
        {
            public Socket Socket;
            public IPAddress Address;
            public long StartedAt;
        }

        /// <summary>
        /// Happy Eyeballs (RFC 8305): starts the next address when none is in flight or the
        /// last one has had <see cref="ConnectStaggerMs"/>; the first attempt to connect
        /// wins and the others are closed; a failed or timed-out attempt makes room for the
        /// next address at once. Fails when every address failed.
        /// </summary>
        private void CheckConnect()
        {
            for (;;)
            {
                for (int i = 0; i < _attempts.Count; i++)
                {
                    Attempt a = _attempts[i];
                    SocketError err = Poll(a.Socket);
                    if (err == SocketError.Success)
                    {
                        _attempts.RemoveAt(i);
                        AbortAttempts();
                        _socket = a.Socket;
                        _remote = new IPEndPoint(a.Address, _port);
                        _state = WsConnectionState.Handshaking;
                        return;
                    }
                    if (err == SocketError.InProgress && _now - a.StartedAt >= _attemptTimeout)
                    {
                        err = SocketError.TimedOut;
                    }
                    if (err != SocketError.InProgress)
                    {
                        _connectError = "connecting to " + ProxyNote() + a.Address + ":" + _port + " failed: " + err;
                        a.Socket.Close();
                        _attempts.RemoveAt(i);
                        i--;
                    }
                }
                bool due = _attempts.Count == 0 || _now - _lastAttemptAt >= _connectStagger;
                if (!due || _addressIndex >= _addresses.Length)
                {
                    break;
                }
                StartAttempt(_addresses[_addressIndex++]); // then poll it once too
            }
            if (_attempts.Count == 0)
            {
                FailLocal(WsConnectionState.Failed, new WsClosedException(WsResult.ConnectionLost,
                    _connectError ?? "no address to connect to"));
            }
        }

        /// <summary>Starts a non-blocking connect; one that fails at once is only recorded.</summary>
        private void StartAttempt(IPAddress address)
        {
            _lastAttemptAt = _now;
            Socket s = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            s.Blocking = false;
            s.NoDelay = true;
            try
            {
                s.Connect(new IPEndPoint(address, _port));
            }
            catch (SocketException e)
            {
                SocketError err = e.SocketErrorCode;
                if (err != SocketError.WouldBlock && err != SocketError.InProgress && err != SocketError.AlreadyInProgress)
                {
                    _connectError = "connecting to " + ProxyNote() + address + ":" + _port + " failed: " + err;
                    s.Close();
                    return;
                }
            }
            _attempts.Add(new Attempt { Socket = s, Address = address, StartedAt = _now });
        }

        /// <summary>Success when connected, InProgress while connecting, else the error.</summary>
        private static SocketError Poll(Socket s)
        {
            try
            {
                bool failed = s.Poll(0, SelectMode.SelectError);
                bool writable = !failed && s.Poll(0, SelectMode.SelectWrite);
                if (!failed && !writable)
                {
                    return SocketError.InProgress;
                }
                int so = (int)s.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error);
                if (!failed && so == 0)
                {
                    return SocketError.Success;
                }
                return so != 0 ? (SocketError)so : SocketError.ConnectionRefused;
            }
            catch (SocketException e)
            {
                return e.SocketErrorCode == SocketError.InProgress ? SocketError.SocketError : e.SocketErrorCode;
            }
        }

        private void AbortAttempts()
        {
            foreach (Attempt a in _attempts)
            {
                a.Socket.Close();
            }
            _attempts.Clear();
        }

        /// <summary>Reads the socket into the client, honouring partial consumption.</summary>
        private void Receive()
        {
            ulong h = _client.Handle;
            int reads = 0;
            // A read that filled less than the buffer emptied the socket's receive queue:
            // the next read would only say WouldBlock (one syscall and about 1 us on Mono per
            // Pump, issue 18). What arrives later is read by the next Pump, as it would be anyway.
            bool drained = false;
            for (;;)
            {
                if (_rxStart < _rxEnd)
                {
                    if (_count >= _maxQueued)
                    {
                        return; // our queue is full: leave the rest for a later Pump
                    }
                    UIntPtr used;
                    uint code;
                    fixed (byte* p = _rx)
                    {
                        code = NativeMethods.ws_offer_input(h, p + _rxStart, (UIntPtr)(_rxEnd - _rxStart), &used);
                    }
                    if (code != 0)
                    {
                        Fail(code);
                        return;
                    }
                    _rxStart += (int)used.ToUInt64();
                    int taken = DrainMessages();
                    if (_rxStart < _rxEnd)
                    {
                        if (used == UIntPtr.Zero && taken == 0)
                        {
                            return; // no progress possible now
                        }
                        continue; // offer the rest
                    }
                }
                if (_peerGone || IsTerminal || drained || reads >= _maxReadsPerPump)
                {
                    return;
                }
                reads++;
                _rxStart = 0;
                _rxEnd = 0;
                SocketError err;
                int n = _socket.Receive(_rx, 0, _rx.Length, SocketFlags.None, out err);
                if (err == SocketError.WouldBlock)
                {
                    return;
                }
                if (err != SocketError.Success || n == 0)
                {
                    OnPeerGone(err);
                    return;
                }
                _probing = false; // anything from the server answers a probe
                _rxEnd = n;
                drained = n < _rx.Length;
            }
        }

        /// <summary>EOF or a socket error: tell the client the stream ended.</summary>
        private void OnPeerGone(SocketError err)
        {
            if (_peerGone)
            {
                return;
            }
            _peerGone = true;
            _socketError = err;
            _txStart = _txEnd = 0; // nobody left to send to
            UIntPtr used;
            uint code = NativeMethods.ws_offer_input(_client.Handle, null, UIntPtr.Zero, &used);
            if (code != 0)
            {
                Fail(code);
                return;
            }
            DrainMessages();
        }

        /// <summary>Moves decoded messages into the ring; returns how many.</summary>
        private int DrainMessages()
        {
            if (_client == null)
            {
                return 0;
            }
            ulong h = _client.Handle;
            int taken = 0;
            while (_count < _maxQueued)
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
                uint kind;
                UIntPtr len;
                ushort cc;
                uint code;
                fixed (byte* p = buf)
                {
                    code = NativeMethods.ws_poll_message_copy(h, p, (UIntPtr)buf.Length, &kind, &len, &cc);
                }
                if (code == (uint)WsResult.BufferTooSmall)
                {
                    _slots[i].Buffer = new byte[WsClient.RoundUp((int)len.ToUInt64())];
                    continue;
                }
                if (code == (uint)WsResult.NeedInput || code == (uint)WsResult.Closed)
                {
                    break;
                }
                if (code != 0)
                {
                    Fail(code);
                    break;
                }
                _slots[i].Kind = (WsMessageKind)kind;
                _slots[i].Length = (int)len.ToUInt64();
                _slots[i].CloseCode = cc;
                _count++;
                taken++;
                if (kind == (uint)WsMessageKind.Close && _closeReason == null)
                {
                    _closeCode = cc;
                    _closeReason = Encoding.UTF8.GetString(buf, 0, (int)len.ToUInt64());
                }
            }
            return taken;
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

        /// <summary>Moves library output to the socket; keeps what a partial send left for later.</summary>
        private void Flush()
        {
            if (_socket == null || _state < WsConnectionState.Handshaking || IsTerminal)
            {
                return;
            }
            ulong h = _client.Handle;
            for (;;)
            {
                if (_txStart == _txEnd)
                {
                    _txStart = _txEnd = 0;
                    UIntPtr n;
                    uint code;
                    fixed (byte* p = _tx)
                    {
                        code = NativeMethods.ws_read_output(h, p, (UIntPtr)_tx.Length, &n);
                    }
                    if (code != 0 || n == UIntPtr.Zero)
                    {
                        return; // a failure code is picked up by UpdateState
                    }
                    _txEnd = (int)n.ToUInt64();
                }
                if (_peerGone)
                {
                    _txStart = _txEnd; // the peer is gone: drop
                    continue;
                }
                SocketError err;
                int sent = NonBlockingSend.Send(_socket, _tx, _txStart, _txEnd - _txStart, _segment, out err);
                if (err == SocketError.WouldBlock)
                {
                    return;
                }
                if (err != SocketError.Success)
                {
                    OnPeerGone(err);
                    if (IsTerminal)
                    {
                        return;
                    }
                    continue;
                }
                _txStart += sent;
                if (_txStart < _txEnd)
                {
                    return; // partial send: the kernel buffer is full; the rest goes next Pump
                }
            }
        }

        private void UpdateState()
        {
            ulong h = _client.Handle;
            uint s;
            if (NativeMethods.ws_client_state(h, &s) != 0)
            {
                return;
            }
            switch ((WsState)s)
            {
                case WsState.TlsHandshaking:
                case WsState.Verifying:
                case WsState.WsHandshaking:
                    _state = WsConnectionState.Handshaking;
                    break;
                case WsState.Open:
                    _state = WsConnectionState.Open;
                    break;
                case WsState.Closing:
                    _state = WsConnectionState.Closing;
                    break;
                case WsState.Closed:
                    if (_txStart < _txEnd || _count >= _maxQueued)
                    {
                        _state = WsConnectionState.Closing; // still sending, or messages not all taken
                        break;
                    }
                    Finish();
                    break;
                case WsState.Failed:
                    // The sticky failure code comes back from any call; tick is harmless.
                    Fail(NativeMethods.ws_client_tick(h, (ulong)_now));
                    break;
            }
        }

        /// <summary>The connection ended without a failure: Closed, or Lost for 1006.</summary>
        private void Finish()
        {
            DrainMessages();
            CloseSocket();
            if (_closeCode == 0)
            {
                _closeCode = 1006;
            }
            if (_closeCode == 1006)
            {
                _closeReason = PeerGoneReason();
                _state = WsConnectionState.Lost;
            }
            else
            {
                _state = WsConnectionState.Closed;
            }
        }

        private string PeerGoneReason()
        {
            if (_socketError != SocketError.Success)
            {
                return "socket error: " + _socketError;
            }
            string why = _client == null ? null : Ensure.ClientLastError(_client.Handle);
            return string.IsNullOrEmpty(why) ? "the connection ended without a close frame" : why;
        }

        /// <summary>A failure code from the client: pass on the bytes that tell the server, then end.</summary>
        private void Fail(uint code)
        {
            if (IsTerminal || _failing)
            {
                return;
            }
            _failing = true;
            ulong h = _client.Handle;
            WsException e = Ensure.ForClient(code, h);
            DrainMessages(); // messages that arrived before the failure come first
            if (!_peerGone && _socket != null && _state >= WsConnectionState.Handshaking)
            {
                FlushOnce(h);
            }
            WsConnectionState end = WsConnectionState.Failed;
            if (code == (uint)WsResult.Timeout)
            {
                end = WsConnectionState.TimedOut;
            }
            else if (code == (uint)WsResult.ConnectionLost)
            {
                end = WsConnectionState.Lost;
            }
            if (end == WsConnectionState.Lost && _socketError != SocketError.Success)
            {
                e = new WsClosedException(e.Result, e.Message + "; socket error: " + _socketError);
            }
            FailLocal(end, e);
        }

        /// <summary>Best effort: hands the alert or close frame to the socket once, without waiting.</summary>
        private void FlushOnce(ulong h)
        {
            SocketError err = SocketError.Success;
            while (err == SocketError.Success)
            {
                if (_txStart == _txEnd)
                {
                    _txStart = _txEnd = 0;
                    UIntPtr n;
                    uint code;
                    fixed (byte* p = _tx)
                    {
                        code = NativeMethods.ws_read_output(h, p, (UIntPtr)_tx.Length, &n);
                    }
                    if (code != 0 || n == UIntPtr.Zero)
                    {
                        return;
                    }
                    _txEnd = (int)n.ToUInt64();
                }
                int sent = NonBlockingSend.Send(_socket, _tx, _txStart, _txEnd - _txStart, _segment, out err);
                _txStart += sent;
            }
        }

        private void FailLocal(WsConnectionState end, WsException e)
        {
            _error = e;
            CloseSocket();
            _closeCode = 1006;
            _closeReason = e.Message;
            _state = end;
        }

        private void CloseSocket()
        {
            AbortAttempts();
            Socket s = _socket;
            _socket = null;
            if (s == null)
            {
                return;
            }
            try
            {
                if (s.Connected)
                {
                    s.Shutdown(SocketShutdown.Both);
                }
            }
            catch (SocketException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
            s.Close();
        }
    }

    /// <summary>
    /// A send that never blocks or spins on a non-blocking socket, on Mono and Unity too.
    /// </summary>
    /// <remarks>
    /// Mono's (and so Unity's, Mono and IL2CPP) <c>Socket.Send(byte[], int, int, SocketFlags,
    /// out SocketError)</c> retries in a loop until every byte is taken, even on a
    /// non-blocking socket: when the peer stops reading it spins forever. Its
    /// <c>Send(IList&lt;ArraySegment&lt;byte&gt;&gt;, ...)</c> overload makes exactly one
    /// <c>send()</c> call and returns a partial count, but allocates two small arrays per call.
    /// So: pieces of at most <see cref="SafeChunk"/> bytes, each after <c>Poll(SelectWrite)</c>
    /// said the socket is writable, which guarantees room for them (BSD/macOS: the 2048-byte
    /// send low-water mark; Linux: writable means at least a third of the send buffer is
    /// free), go through the allocation-free overload; large sends take the list overload,
    /// whose small garbage is negligible next to the payload.
    /// </remarks>
    internal static class NonBlockingSend
    {
        /// <summary>Largest piece sent through the looping overload after a writability check.</summary>
        internal const int SafeChunk = 2048;

        /// <summary>From this size on, one list-overload call is used instead of small pieces.</summary>
        internal const int LargeSend = 4096;

        /// <summary>Sends what the socket takes now; returns the count (0 with WouldBlock when it takes nothing).</summary>
        internal static int Send(Socket socket, byte[] buffer, int offset, int count, ArraySegment<byte>[] scratch,
            out SocketError error)
        {
            error = SocketError.Success;
            if (count >= LargeSend)
            {
                scratch[0] = new ArraySegment<byte>(buffer, offset, count);
                int n = socket.Send(scratch, SocketFlags.None, out error);
                scratch[0] = default(ArraySegment<byte>);
                return n;
            }
            int sent = 0;
            while (sent < count)
            {
                bool writable;
                try
                {
                    writable = socket.Poll(0, SelectMode.SelectWrite);
                }
                catch (SocketException e)
                {
                    error = e.SocketErrorCode;
                    return sent;
                }
                if (!writable)
                {
                    if (sent == 0)
                    {
                        error = SocketError.WouldBlock;
                    }
                    return sent;
                }
                int piece = Math.Min(SafeChunk, count - sent);
                int k = socket.Send(buffer, offset + sent, piece, SocketFlags.None, out error);
                if (error != SocketError.Success)
                {
                    return sent;
                }
                sent += k;
            }
            return sent;
        }
    }
}
#endif
