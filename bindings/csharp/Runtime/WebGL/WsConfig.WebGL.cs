// wsmachine C# bindings for the Unity WebGL player: the configuration.
//
// The same public API as the native WsConfig (WsConfig.cs), so one game script serves
// every platform. In the browser the page's WebSocket does TLS, certificates, headers and
// compression itself, so this WsConfig only records settings. What the browser can honour
// is used by WsSocketConnection; every setting it cannot honour makes Connect throw a
// WsMisuseException (InvalidConfig) that names the setting and WebGL. Nothing is dropped
// silently.
//
// Honoured on WebGL: SetSubprotocols, SetMaxMessageSize (checked as messages arrive),
// SetMaxQueuedMessages and SetMaxQueuedBytes (bound the browser-side receive queue), SetMaxPendingOutput
// (against bufferedAmount), SetHandshakeTimeout, SetCloseTimeout, SetBuiltinRoots(true),
// SetMinTlsVersion(Tls12), SetPinMode(PinAndCa), SetDeflate(true), no proxy, and 0 ("off")
// for the keepalive and idle timeouts. Everything else throws at Connect (proxies included:
// the browser applies the system's proxy itself).

#if UNITY_WEBGL && !UNITY_EDITOR
using System;
using System.Collections.Generic;

namespace WsMachine
{
    /// <summary>
    /// Settings shared by many connections. On WebGL the browser's WebSocket does TLS and
    /// the handshake, so settings it cannot honour (roots, pins, client certificates,
    /// headers, proxies, server name, TLS version, deflate parameters, frame and header limits,
    /// keepalive pings, the idle timeout) make <see cref="WsSocketConnection.Connect"/>
    /// throw a <see cref="WsMisuseException"/> naming them. Setters return the config.
    /// </summary>
    public sealed class WsConfig : IDisposable
    {
        private bool _disposed;
        private readonly List<string> _unsupported = new List<string>();
        private string _subprotocols;
        private long _maxMessageSize = 64L * 1024 * 1024;
        private long _maxQueuedMessages = long.MaxValue;
        private long _maxQueuedBytes; // 0: the max message size
        private long _maxPendingOutput = 128L * 1024 * 1024;
        private long _handshakeTimeout = 15000;
        private long _closeTimeout = 5000;

        /// <summary>Creates a config: the browser's trust store and TLS settings apply.</summary>
        public WsConfig()
        {
        }

        /// <summary>Marks the config disposed (it holds no native resource on WebGL). Calling it again does nothing.</summary>
        public void Dispose()
        {
            _disposed = true;
        }

        /// <summary>True once <see cref="Dispose"/> was called.</summary>
        public bool IsDisposed
        {
            get { return _disposed; }
        }

        private WsConfig Unsupported(string setting, string why)
        {
            ThrowIfDisposed();
            string entry = setting + " (" + why + ")";
            if (!_unsupported.Contains(entry))
            {
                _unsupported.Add(entry);
            }
            return this;
        }

        private void ThrowIfDisposed()
        {
            if (_disposed) throw new ObjectDisposedException(typeof(WsConfig).Name);
        }

        /// <summary>Not on WebGL (Connect throws): the browser verifies certificates against its own trust store.</summary>
        /// <param name="pem">PEM text.</param>
        /// <returns>This config.</returns>
        public WsConfig AddRootPem(string pem)
        {
            if (pem == null) throw new ArgumentNullException("pem");
            return Unsupported("AddRootPem", "the browser verifies certificates against its own trust store");
        }

        /// <summary>Not on WebGL (Connect throws): see <see cref="AddRootPem(string)"/>.</summary>
        /// <param name="pem">PEM bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig AddRootPem(byte[] pem)
        {
            if (pem == null) throw new ArgumentNullException("pem");
            return Unsupported("AddRootPem", "the browser verifies certificates against its own trust store");
        }

        /// <summary>Not on WebGL (Connect throws): a page cannot see or pin the server's key.</summary>
        /// <param name="sha256">The 32-byte SPKI hash.</param>
        /// <returns>This config.</returns>
        public WsConfig AddPinSha256(byte[] sha256)
        {
            if (sha256 == null) throw new ArgumentNullException("sha256");
            return Unsupported("AddPinSha256", "a page cannot see or pin the server's key");
        }

        /// <summary>Not on WebGL (Connect throws): see <see cref="AddPinSha256(byte[])"/>.</summary>
        /// <param name="base64">Base64 of the 32-byte SPKI hash.</param>
        /// <returns>This config.</returns>
        public WsConfig AddPinSha256(string base64)
        {
            if (base64 == null) throw new ArgumentNullException("base64");
            return Unsupported("AddPinSha256", "a page cannot see or pin the server's key");
        }

        /// <summary><see cref="WsPinMode.PinAndCa"/> (the default) is what the browser does; PinOnly makes Connect throw.</summary>
        /// <param name="mode">The mode.</param>
        /// <returns>This config.</returns>
        public WsConfig SetPinMode(WsPinMode mode)
        {
            ThrowIfDisposed();
            return mode == WsPinMode.PinAndCa ? this : Unsupported("SetPinMode(" + mode + ")", "the browser always verifies the chain");
        }

        /// <summary>Not on WebGL (Connect throws): the browser picks client certificates itself, from the user's store.</summary>
        /// <param name="chainPem">The certificate chain, PEM.</param>
        /// <param name="keyPem">Its private key, PEM.</param>
        /// <returns>This config.</returns>
        public WsConfig SetClientCertificatePem(string chainPem, string keyPem)
        {
            if (chainPem == null) throw new ArgumentNullException("chainPem");
            if (keyPem == null) throw new ArgumentNullException("keyPem");
            return Unsupported("SetClientCertificatePem", "the browser picks client certificates from the user's store");
        }

        /// <summary>Not on WebGL (Connect throws): see <see cref="SetClientCertificatePem(string, string)"/>.</summary>
        /// <param name="chainPem">The certificate chain, PEM.</param>
        /// <param name="keyPem">Its private key, PEM.</param>
        /// <returns>This config.</returns>
        public WsConfig SetClientCertificatePem(byte[] chainPem, byte[] keyPem)
        {
            if (chainPem == null) throw new ArgumentNullException("chainPem");
            if (keyPem == null) throw new ArgumentNullException("keyPem");
            return Unsupported("SetClientCertificatePem", "the browser picks client certificates from the user's store");
        }

        /// <summary>Not on WebGL (Connect throws): a page cannot turn off the browser's certificate checks.</summary>
        /// <returns>This config.</returns>
        public WsConfig DangerousDisableCertificateVerification()
        {
            return Unsupported("DangerousDisableCertificateVerification", "a page cannot turn off the browser's certificate checks");
        }

        /// <summary>
        /// True is what browsers do (they offer permessage-deflate; the server decides, and
        /// <see cref="WsSocketConnection.Deflate"/> tells). False makes Connect throw: a page
        /// cannot stop the browser from offering it.
        /// </summary>
        /// <param name="enabled">Whether to offer compression.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflate(bool enabled)
        {
            ThrowIfDisposed();
            return enabled ? this : Unsupported("SetDeflate(false)", "the browser offers permessage-deflate itself");
        }

        /// <summary>Not on WebGL (Connect throws): the browser chooses its deflate parameters.</summary>
        /// <param name="clientMaxWindowBits">Our compressor's window.</param>
        /// <param name="serverMaxWindowBits">The window to ask the server for.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateWindowBits(int clientMaxWindowBits, int serverMaxWindowBits = 0)
        {
            return Unsupported("SetDeflateWindowBits", "the browser chooses its deflate parameters");
        }

        /// <summary>Not on WebGL (Connect throws): the browser chooses its deflate parameters.</summary>
        /// <param name="client">Reset our compressor after every message.</param>
        /// <param name="server">Ask the server to reset its compressor.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateNoContextTakeover(bool client, bool server)
        {
            return Unsupported("SetDeflateNoContextTakeover", "the browser chooses its deflate parameters");
        }

        /// <summary>Not on WebGL (Connect throws): the browser chooses its deflate parameters.</summary>
        /// <param name="bytes">Threshold in bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateThreshold(long bytes)
        {
            return Unsupported("SetDeflateThreshold", "the browser chooses its deflate parameters");
        }

        /// <summary>Not on WebGL (Connect throws): the browser chooses its deflate parameters.</summary>
        /// <param name="level">The level.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateLevel(int level)
        {
            return Unsupported("SetDeflateLevel", "the browser chooses its deflate parameters");
        }

        /// <summary>True is what the browser does (its own trust store); false makes Connect throw.</summary>
        /// <param name="enabled">Whether to trust the built-in roots.</param>
        /// <returns>This config.</returns>
        public WsConfig SetBuiltinRoots(bool enabled)
        {
            ThrowIfDisposed();
            return enabled ? this : Unsupported("SetBuiltinRoots(false)", "the browser always uses its own trust store");
        }

        /// <summary>The browser always uses the operating system's (or its own) trust store: both values are accepted and change nothing.</summary>
        public bool UseSystemRoots
        {
            get
            {
                ThrowIfDisposed();
                return _systemRoots;
            }
            set
            {
                ThrowIfDisposed();
                _systemRoots = value;
            }
        }

        private bool _systemRoots;

        /// <summary>Always 0 on WebGL (the browser reads its store itself).</summary>
        public long SystemRootsLoaded
        {
            get
            {
                ThrowIfDisposed();
                return 0;
            }
        }

        /// <summary>Always 0 on WebGL.</summary>
        public long SystemRootsSkipped
        {
            get
            {
                ThrowIfDisposed();
                return 0;
            }
        }

        /// <summary>Only <see cref="WsExternalVerification.Off"/> on WebGL; anything else makes Connect throw: the browser verifies the chain itself and shows it to no page.</summary>
        public WsExternalVerification ExternalVerification
        {
            get
            {
                ThrowIfDisposed();
                return _external;
            }
            set
            {
                ThrowIfDisposed();
                _external = value;
                if (value != WsExternalVerification.Off)
                {
                    Unsupported("ExternalVerification(" + value + ")", "the browser verifies the chain itself");
                }
            }
        }

        private WsExternalVerification _external;

        /// <summary>Offers subprotocols in order of preference (honoured: the browser sends them). Null or none offers none.</summary>
        /// <param name="protocols">Subprotocol tokens.</param>
        /// <returns>This config.</returns>
        public WsConfig SetSubprotocols(params string[] protocols)
        {
            ThrowIfDisposed();
            _subprotocols = protocols == null || protocols.Length == 0 ? null : string.Join(",", protocols);
            return this;
        }

        /// <summary>Not on WebGL (Connect throws): a page cannot add headers to the upgrade request (the browser sends the page's cookies and Origin itself).</summary>
        /// <param name="name">Header name.</param>
        /// <param name="value">Header value.</param>
        /// <returns>This config.</returns>
        public WsConfig AddHeader(string name, string value)
        {
            if (name == null) throw new ArgumentNullException("name");
            if (value == null) throw new ArgumentNullException("value");
            return Unsupported("AddHeader(" + name + ")", "a page cannot add headers to the upgrade request");
        }

        /// <summary>Null is what the browser does (the URL's host); a name makes Connect throw.</summary>
        /// <param name="name">DNS name, or null.</param>
        /// <returns>This config.</returns>
        public WsConfig SetServerName(string name)
        {
            ThrowIfDisposed();
            return name == null ? this : Unsupported("SetServerName", "the browser verifies and sends the URL's host");
        }

        /// <summary>
        /// Null or "" is what a page does (the browser applies the system's proxy itself);
        /// a proxy URL makes Connect throw: a page cannot choose a proxy.
        /// </summary>
        public string Proxy
        {
            get
            {
                ThrowIfDisposed();
                return _proxy;
            }
            set { SetProxy(value); }
        }

        private string _proxy;

        /// <summary>Sets <see cref="Proxy"/>; null or "" means none (the only value WebGL honours).</summary>
        /// <param name="url">The proxy URL, or null.</param>
        /// <returns>This config.</returns>
        public WsConfig SetProxy(string url)
        {
            ThrowIfDisposed();
            _proxy = string.IsNullOrEmpty(url) ? null : url;
            _unsupported.RemoveAll(e => e.StartsWith("Proxy ", StringComparison.Ordinal));
            return _proxy == null ? this : Unsupported("Proxy", "a page cannot choose a proxy; the browser uses the system's");
        }

        /// <summary>Null or "" only on WebGL; a value makes Connect throw (the browser answers proxy challenges itself).</summary>
        /// <param name="value">The header value.</param>
        /// <returns>This config.</returns>
        public WsConfig SetProxyAuthorization(string value)
        {
            ThrowIfDisposed();
            return string.IsNullOrEmpty(value) ? this
                : Unsupported("SetProxyAuthorization", "the browser answers proxy challenges itself");
        }

        /// <summary><see cref="WsTlsVersion.Tls12"/> is what browsers allow; Tls13 makes Connect throw.</summary>
        /// <param name="version">The lowest version.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMinTlsVersion(WsTlsVersion version)
        {
            ThrowIfDisposed();
            return version == WsTlsVersion.Tls12 ? this : Unsupported("SetMinTlsVersion(" + version + ")", "the browser chooses the TLS version");
        }

        /// <summary>Largest message passed to the game (default 64 MiB); a larger one fails the connection (the browser received it already).</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxMessageSize(long bytes)
        {
            _maxMessageSize = Positive(bytes, "SetMaxMessageSize");
            return this;
        }

        /// <summary>Not on WebGL (Connect throws): the browser reassembles frames.</summary>
        /// <param name="bytes">Size in bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxFrameSize(long bytes)
        {
            return Unsupported("SetMaxFrameSize", "the browser reassembles frames; SetMaxMessageSize applies");
        }

        /// <summary>Not on WebGL (Connect throws): the browser reads the upgrade response.</summary>
        /// <param name="bytes">Size in bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxHeaderSize(long bytes)
        {
            return Unsupported("SetMaxHeaderSize", "the browser reads the upgrade response");
        }

        /// <summary>Bounds the browser-side receive queue (with <see cref="WsSocketConnection.MaxQueuedMessages"/>; the smaller applies).</summary>
        /// <param name="count">Message count, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxQueuedMessages(long count)
        {
            _maxQueuedMessages = Positive(count, "SetMaxQueuedMessages");
            return this;
        }

        /// <summary>Bounds the bytes in the browser-side receive queue (default: the max message size); past it the connection fails, as for <see cref="SetMaxQueuedMessages"/>.</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxQueuedBytes(long bytes)
        {
            _maxQueuedBytes = Positive(bytes, "SetMaxQueuedBytes");
            return this;
        }

        /// <summary>Sends fail with <see cref="WsResult.OutputFull"/> when the browser's bufferedAmount would exceed this (default 128 MiB).</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxPendingOutput(long bytes)
        {
            _maxPendingOutput = Positive(bytes, "SetMaxPendingOutput");
            return this;
        }

        /// <summary>Time allowed for the browser to open the connection, in ms of the caller's clock (default 15000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetHandshakeTimeout(long ms)
        {
            _handshakeTimeout = NonNegative(ms);
            return this;
        }

        /// <summary>Time to wait for the server's close frame after sending ours (default 5000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetCloseTimeout(long ms)
        {
            _closeTimeout = NonNegative(ms);
            return this;
        }

        /// <summary>0 only on WebGL (keepalive is off there; another value makes Connect throw): the browser's WebSocket API cannot send pings.</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetKeepaliveInterval(long ms)
        {
            return NonNegative(ms) == 0 ? this : Unsupported("SetKeepaliveInterval", "the browser's WebSocket API cannot send pings");
        }

        /// <summary>0 only on WebGL (the idle timeout is off there; another value makes Connect throw): the browser hides pings and pongs, so a quiet server cannot be told from a dead one.</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetIdleTimeout(long ms)
        {
            return NonNegative(ms) == 0 ? this : Unsupported("SetIdleTimeout", "the browser hides pings and pongs from the page");
        }

        private long Positive(long n, string setting)
        {
            ThrowIfDisposed();
            if (n <= 0) throw new WsMisuseException(WsResult.InvalidConfig, setting + ": the value must be greater than 0");
            return n;
        }

        private long NonNegative(long ms)
        {
            ThrowIfDisposed();
            if (ms < 0) throw new ArgumentOutOfRangeException("ms");
            return ms;
        }

        // ----- what WsSocketConnection reads at Connect ------------------------------

        /// <summary>Throws a WsMisuseException naming every setting the browser cannot honour.</summary>
        internal void CheckBrowserCanHonour()
        {
            ThrowIfDisposed();
            if (_unsupported.Count > 0)
            {
                throw new WsMisuseException(WsResult.InvalidConfig,
                    "not supported on WebGL (the browser's WebSocket does TLS and the handshake): " +
                    string.Join("; ", _unsupported.ToArray()));
            }
        }

        internal string Subprotocols
        {
            get { return _subprotocols; }
        }

        internal long MaxMessageSize
        {
            get { return _maxMessageSize; }
        }

        internal long MaxQueuedBytes
        {
            get { return _maxQueuedBytes > 0 ? _maxQueuedBytes : _maxMessageSize; }
        }

        internal long MaxQueuedMessages
        {
            get { return _maxQueuedMessages; }
        }

        internal long MaxPendingOutput
        {
            get { return _maxPendingOutput; }
        }

        internal long HandshakeTimeout
        {
            get { return _handshakeTimeout; }
        }

        internal long CloseTimeout
        {
            get { return _closeTimeout; }
        }
    }
}
#endif
