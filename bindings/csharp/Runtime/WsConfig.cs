// wsmachine C# bindings, layer 3: the configuration handle.

using System;
using System.Text;

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library: see WebGL/WsConfig.WebGL.cs
namespace WsMachine
{
    /// <summary>
    /// Settings shared by many clients: trusted roots, TLS version, headers, limits and
    /// timeouts. Each client copies the settings when it is created, so a config may be
    /// changed or disposed while its clients live. All clients of one config share a TLS
    /// session cache, which makes reconnecting to the same server cheap (resumption).
    /// Setters return the config, so calls chain.
    /// </summary>
    /// <remarks>
    /// The native handle is a generation-counted 64-bit number, not a pointer, so it is
    /// held as a <c>ulong</c> rather than in a SafeHandle (an IntPtr is 32 bits on ARMv7).
    /// The finalizer frees it from the finalizer thread; freeing a stale handle is a
    /// harmless no-op by design. Not thread-safe: use one config from one thread at a time.
    /// </remarks>
    public sealed unsafe class WsConfig : IDisposable
    {
        private ulong _handle;

        /// <summary>Creates a config with secure defaults: the built-in Mozilla roots are trusted, certificates and host names are verified, TLS 1.2 and 1.3 are allowed.</summary>
        public WsConfig()
        {
            ulong h;
            AbiCheck.Ensure();
            Ensure.Success(NativeMethods.ws_config_new(&h));
            _handle = h;
        }

        /// <summary>Frees the config if <see cref="Dispose"/> was not called.</summary>
        ~WsConfig()
        {
            Free();
        }

        /// <summary>Frees the native config. Clients made from it keep working. Calling it again does nothing.</summary>
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
                NativeMethods.ws_config_free(h);
            }
        }

        /// <summary>True once <see cref="Dispose"/> was called.</summary>
        public bool IsDisposed
        {
            get { return _handle == 0; }
        }

        private void ThrowIfDisposed()
        {
            if (_handle == 0) throw new ObjectDisposedException(typeof(WsConfig).Name);
        }

        internal ulong Handle
        {
            get
            {
                if (_handle == 0) throw new ObjectDisposedException(typeof(WsConfig).Name);
                return _handle;
            }
        }

        /// <summary>Trusts the PEM certificate(s) (one certificate or a bundle) as roots, in addition to the built-in ones. This is how a private-CA or self-signed server becomes trusted.</summary>
        /// <param name="pem">PEM text, for example the contents of ca.pem.</param>
        /// <returns>This config.</returns>
        /// <exception cref="WsMisuseException">No or malformed certificate (<see cref="WsResult.InvalidConfig"/>); nothing is added.</exception>
        public WsConfig AddRootPem(string pem)
        {
            ThrowIfDisposed();
            if (pem == null) throw new ArgumentNullException("pem");
            return AddRootPem(Encoding.UTF8.GetBytes(pem));
        }

        /// <summary>Trusts the PEM certificate(s) in <paramref name="pem"/> as roots (see <see cref="AddRootPem(string)"/>).</summary>
        /// <param name="pem">PEM bytes (for example a Unity TextAsset's bytes).</param>
        /// <returns>This config.</returns>
        public WsConfig AddRootPem(byte[] pem)
        {
            ulong h = Handle;
            if (pem == null) throw new ArgumentNullException("pem");
            fixed (byte* p = pem)
            {
                Ensure.Success(NativeMethods.ws_config_add_root_pem(h, p, (UIntPtr)pem.Length));
            }
            return this;
        }

        /// <summary>
        /// Pins the server's public key: the SHA-256 of the certificate's DER
        /// SubjectPublicKeyInfo (32 bytes). Several pins may be added (key rotation). A
        /// server whose key matches none fails with <see cref="WsCertificateError.PinMismatch"/>,
        /// and the error names the key it presented. See <see cref="SetPinMode"/>.
        /// </summary>
        /// <param name="sha256">The 32-byte SPKI hash.</param>
        /// <returns>This config.</returns>
        public WsConfig AddPinSha256(byte[] sha256)
        {
            ulong h = Handle;
            if (sha256 == null) throw new ArgumentNullException("sha256");
            fixed (byte* p = sha256)
            {
                Ensure.Success(NativeMethods.ws_config_add_pin_sha256(h, p, (UIntPtr)sha256.Length));
            }
            return this;
        }

        /// <summary>Pins the server's public key given as base64, the value behind <c>pin-sha256="..."</c> (see <see cref="AddPinSha256(byte[])"/>).</summary>
        /// <param name="base64">Base64 of the 32-byte SPKI hash.</param>
        /// <returns>This config.</returns>
        public WsConfig AddPinSha256(string base64)
        {
            ThrowIfDisposed();
            if (base64 == null) throw new ArgumentNullException("base64");
            return AddPinSha256(Convert.FromBase64String(base64));
        }

        /// <summary>Sets how pins combine with CA verification (default <see cref="WsPinMode.PinAndCa"/>); without pins it has no effect.</summary>
        /// <param name="mode">The mode.</param>
        /// <returns>This config.</returns>
        public WsConfig SetPinMode(WsPinMode mode)
        {
            Ensure.Success(NativeMethods.ws_config_set_pin_mode(Handle, (uint)mode));
            return this;
        }

        /// <summary>Sets a client certificate for mutual TLS, presented when the server asks for one. The key is checked against the certificate now.</summary>
        /// <param name="chainPem">The certificate chain, PEM, leaf first.</param>
        /// <param name="keyPem">Its private key, PEM (PKCS#8, PKCS#1 RSA or SEC1 EC).</param>
        /// <returns>This config.</returns>
        /// <exception cref="WsMisuseException">Bad PEM, or a key that does not match (<see cref="WsResult.InvalidConfig"/>).</exception>
        public WsConfig SetClientCertificatePem(string chainPem, string keyPem)
        {
            ThrowIfDisposed();
            if (chainPem == null) throw new ArgumentNullException("chainPem");
            if (keyPem == null) throw new ArgumentNullException("keyPem");
            return SetClientCertificatePem(Encoding.UTF8.GetBytes(chainPem), Encoding.UTF8.GetBytes(keyPem));
        }

        /// <summary>Sets a client certificate for mutual TLS from PEM bytes (see <see cref="SetClientCertificatePem(string, string)"/>).</summary>
        /// <param name="chainPem">The certificate chain, PEM, leaf first.</param>
        /// <param name="keyPem">Its private key, PEM.</param>
        /// <returns>This config.</returns>
        public WsConfig SetClientCertificatePem(byte[] chainPem, byte[] keyPem)
        {
            ulong h = Handle;
            if (chainPem == null) throw new ArgumentNullException("chainPem");
            if (keyPem == null) throw new ArgumentNullException("keyPem");
            fixed (byte* c = chainPem)
            fixed (byte* k = keyPem)
            {
                Ensure.Success(NativeMethods.ws_config_set_client_cert_pem(h, c, (UIntPtr)chainPem.Length, k, (UIntPtr)keyPem.Length));
            }
            return this;
        }

        /// <summary>
        /// DANGEROUS: turns off certificate and host-name verification, so any server is
        /// accepted, including an attacker in the middle. For development against throw-away
        /// servers only; ship with <see cref="AddRootPem(string)"/> or a pin instead. It cannot
        /// be turned back on; clients report <see cref="WsClient.IsInsecure"/>.
        /// </summary>
        /// <returns>This config.</returns>
        public WsConfig DangerousDisableCertificateVerification()
        {
            Ensure.Success(NativeMethods.ws_config_dangerous_disable_certificate_verification(Handle));
            return this;
        }

        /// <summary>
        /// Offers permessage-deflate compression (off by default: it costs memory and CPU, and
        /// compressing secrets with attacker-influenced data is a side channel). What the server
        /// accepted is in <see cref="WsClient.Deflate"/>.
        /// </summary>
        /// <param name="enabled">Whether to offer compression.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflate(bool enabled)
        {
            Ensure.Success(NativeMethods.ws_config_set_deflate(Handle, enabled ? 1u : 0u));
            return this;
        }

        /// <summary>Window sizes for permessage-deflate.</summary>
        /// <param name="clientMaxWindowBits">Our compressor's window, 8-15 (default 15; 8 sends uncompressed).</param>
        /// <param name="serverMaxWindowBits">The window to ask the server for, 8-15, or 0 to ask nothing (the default).</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateWindowBits(int clientMaxWindowBits, int serverMaxWindowBits = 0)
        {
            ulong h = Handle;
            if (clientMaxWindowBits < 0) throw new ArgumentOutOfRangeException("clientMaxWindowBits");
            if (serverMaxWindowBits < 0) throw new ArgumentOutOfRangeException("serverMaxWindowBits");
            Ensure.Success(NativeMethods.ws_config_set_deflate_window_bits(h, (uint)clientMaxWindowBits, (uint)serverMaxWindowBits));
            return this;
        }

        /// <summary>Context takeover for permessage-deflate (default: both false).</summary>
        /// <param name="client">Reset our compressor after every message.</param>
        /// <param name="server">Ask the server to reset its compressor after every message.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateNoContextTakeover(bool client, bool server)
        {
            Ensure.Success(NativeMethods.ws_config_set_deflate_no_context_takeover(Handle, client ? 1u : 0u, server ? 1u : 0u));
            return this;
        }

        /// <summary>Messages shorter than this are sent uncompressed (default 64).</summary>
        /// <param name="bytes">Threshold in bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateThreshold(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_deflate_threshold(Handle, Size(bytes)));
            return this;
        }

        /// <summary>zlib level 0-9 for outgoing messages (default 6; 1 is fastest).</summary>
        /// <param name="level">The level.</param>
        /// <returns>This config.</returns>
        public WsConfig SetDeflateLevel(int level)
        {
            ulong h = Handle;
            if (level < 0) throw new ArgumentOutOfRangeException("level");
            Ensure.Success(NativeMethods.ws_config_set_deflate_level(h, (uint)level));
            return this;
        }

        /// <summary>Switches the built-in Mozilla roots on (the default) or off. With them off, only roots added with <see cref="AddRootPem(string)"/> are trusted.</summary>
        /// <param name="enabled">Whether to trust the built-in roots.</param>
        /// <returns>This config.</returns>
        public WsConfig SetBuiltinRoots(bool enabled)
        {
            Ensure.Success(NativeMethods.ws_config_set_builtin_roots(Handle, enabled ? 1u : 0u));
            return this;
        }

        /// <summary>
        /// Also trust the operating system's certificate store (default false). Setting it
        /// true reads the store at once (the Windows store, the macOS keychain, the Linux
        /// bundle or <c>SSL_CERT_FILE</c>/<c>SSL_CERT_DIR</c>); this is what makes networks
        /// that re-sign TLS with a CA installed in the OS (corporate proxies, antivirus)
        /// work. iOS, Android and WebGL have no store to read this way: setting it there
        /// throws, use <see cref="ExternalVerification"/> with <see cref="WsPlatformTrust"/>.
        /// </summary>
        /// <exception cref="WsMisuseException">The store yielded no usable certificate (<see cref="WsResult.InvalidConfig"/>); the setting is unchanged.</exception>
        public bool UseSystemRoots
        {
            get
            {
                ThrowIfDisposed();
                return _systemRoots;
            }
            set
            {
                Ensure.Success(NativeMethods.ws_config_set_system_roots(Handle, value ? 1u : 0u));
                _systemRoots = value;
            }
        }

        private bool _systemRoots;

        /// <summary>How many certificates <see cref="UseSystemRoots"/> loaded from the OS store (0 while off).</summary>
        public long SystemRootsLoaded
        {
            get
            {
                UIntPtr loaded, skipped;
                Ensure.Success(NativeMethods.ws_config_system_roots_count(Handle, &loaded, &skipped));
                return (long)loaded.ToUInt64();
            }
        }

        /// <summary>How many certificates of the OS store were skipped because they do not parse (0 while off).</summary>
        public long SystemRootsSkipped
        {
            get
            {
                UIntPtr loaded, skipped;
                Ensure.Success(NativeMethods.ws_config_system_roots_count(Handle, &loaded, &skipped));
                return (long)skipped.ToUInt64();
            }
        }

        /// <summary>
        /// Which certificate chains wait for the application's verdict (default
        /// <see cref="WsExternalVerification.Off"/>). A chain that waits stops the client in
        /// <see cref="WsState.Verifying"/> after the TLS handshake; nothing of the application
        /// (the upgrade request with its headers, messages) leaves before
        /// <see cref="WsClient.SetVerdict"/> accepts. <see cref="WsSocketConnection.PlatformTrust"/>
        /// asks the platform's verifier on a worker thread. Cannot be combined with a client
        /// certificate: creating such a client throws.
        /// </summary>
        public WsExternalVerification ExternalVerification
        {
            get
            {
                ThrowIfDisposed();
                return _external;
            }
            set
            {
                Ensure.Success(NativeMethods.ws_config_set_external_verification(Handle, (uint)value));
                _external = value;
            }
        }

        private WsExternalVerification _external;

        /// <summary>Offers subprotocols in order of preference; the server must select one of them or none. Null or none offers none.</summary>
        /// <param name="protocols">Subprotocol tokens, for example "v2.game", "v1.game".</param>
        /// <returns>This config.</returns>
        public WsConfig SetSubprotocols(params string[] protocols)
        {
            ulong h = Handle;
            string list = protocols == null ? null : string.Join(", ", protocols);
            fixed (byte* p = Ensure.ToCString(list))
            {
                Ensure.Success(NativeMethods.ws_config_set_subprotocols(h, p));
            }
            return this;
        }

        /// <summary>Adds a header to the upgrade request, such as Authorization, Origin or Cookie. Headers the handshake sets itself (Host, Upgrade, Sec-WebSocket-*) are refused.</summary>
        /// <param name="name">Header name.</param>
        /// <param name="value">Header value.</param>
        /// <returns>This config.</returns>
        public WsConfig AddHeader(string name, string value)
        {
            ulong h = Handle;
            if (name == null) throw new ArgumentNullException("name");
            if (value == null) throw new ArgumentNullException("value");
            fixed (byte* n = Ensure.ToCString(name))
            fixed (byte* v = Ensure.ToCString(value))
            {
                Ensure.Success(NativeMethods.ws_config_add_header(h, n, v));
            }
            return this;
        }

        /// <summary>Verifies the server certificate against <paramref name="name"/> and sends it as SNI instead of the URL's host; null restores the URL's host.</summary>
        /// <param name="name">DNS name, or null.</param>
        /// <returns>This config.</returns>
        public WsConfig SetServerName(string name)
        {
            ulong h = Handle;
            fixed (byte* p = Ensure.ToCString(name))
            {
                Ensure.Success(NativeMethods.ws_config_set_server_name(h, p));
            }
            return this;
        }

        /// <summary>
        /// The proxy every connection of this config goes through (<c>ws_config_set_proxy</c>), or null for none:
        /// <c>http://[user:pass@]host:port</c> (HTTP CONNECT), <c>https://[user:pass@]host:port</c> (CONNECT
        /// inside TLS to the proxy) or <c>socks5://[user:pass@]host:port</c> (the proxy resolves the server's
        /// name). User and password may be %-encoded; HTTP proxies get them as Basic credentials.
        /// <see cref="WsProxy.ForUrl"/> finds the system's proxy for a URL. SNI, certificate checks and the
        /// <c>Host</c> header keep using the server's name; an HTTPS proxy is verified with this config's roots
        /// (pins are for the server only). Setting a malformed URL throws <see cref="WsMisuseException"/>
        /// (<see cref="WsResult.InvalidUrl"/>) and keeps the previous proxy.
        /// </summary>
        public string Proxy
        {
            get
            {
                ulong unused = Handle; // throws ObjectDisposedException after Dispose
                return unused != 0 ? _proxy : null;
            }
            set { SetProxy(value); }
        }

        private string _proxy;

        /// <summary>Sets <see cref="Proxy"/>; null or "" means no proxy.</summary>
        /// <param name="url">The proxy URL, or null.</param>
        /// <returns>This config.</returns>
        public WsConfig SetProxy(string url)
        {
            ulong h = Handle;
            fixed (byte* p = Ensure.ToCString(url))
            {
                Ensure.Success(NativeMethods.ws_config_set_proxy(h, p));
            }
            _proxy = string.IsNullOrEmpty(url) ? null : url;
            return this;
        }

        /// <summary>
        /// Sends this <c>Proxy-Authorization</c> value with the CONNECT request instead of Basic credentials
        /// from the proxy URL (<c>ws_config_set_proxy_authorization</c>): for example an NTLM or Negotiate
        /// token computed for the challenges of a <see cref="WsProxyAuthenticationException"/>. Null or ""
        /// clears it. SOCKS5 proxies ignore it.
        /// </summary>
        /// <param name="value">The header value, for example <c>Basic dXNlcjpwYXNz</c>.</param>
        /// <returns>This config.</returns>
        public WsConfig SetProxyAuthorization(string value)
        {
            ulong h = Handle;
            fixed (byte* p = Ensure.ToCString(value))
            {
                Ensure.Success(NativeMethods.ws_config_set_proxy_authorization(h, p));
            }
            return this;
        }

        /// <summary>Sets the lowest TLS version allowed (default <see cref="WsTlsVersion.Tls12"/>).</summary>
        /// <param name="version">The lowest version.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMinTlsVersion(WsTlsVersion version)
        {
            Ensure.Success(NativeMethods.ws_config_set_min_tls_version(Handle, (uint)version));
            return this;
        }

        /// <summary>Largest message accepted from the server, after reassembly (default 64 MiB).</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxMessageSize(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_message_size(Handle, Size(bytes)));
            return this;
        }

        /// <summary>Largest single frame accepted from the server (default 16 MiB).</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxFrameSize(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_frame_size(Handle, Size(bytes)));
            return this;
        }

        /// <summary>Largest HTTP upgrade response head accepted (default 16 KiB, at least 256).</summary>
        /// <param name="bytes">Size in bytes.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxHeaderSize(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_header_size(Handle, Size(bytes)));
            return this;
        }

        /// <summary>Undelivered messages after which <see cref="WsClient.OfferInput(byte[], int, int)"/> stops taking input (default 1024).</summary>
        /// <param name="count">Message count, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxQueuedMessages(long count)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_queued_messages(Handle, Size(count)));
            return this;
        }

        /// <summary>Payload bytes of undelivered messages after which <see cref="WsClient.OfferInput(byte[], int, int)"/> stops taking input (default 128 MiB); poll, then offer the rest.</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxQueuedBytes(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_queued_bytes(Handle, Size(bytes)));
            return this;
        }

        /// <summary>Bytes waiting in the output after which sends fail with <see cref="WsResult.OutputFull"/> (default 128 MiB).</summary>
        /// <param name="bytes">Size in bytes, greater than 0.</param>
        /// <returns>This config.</returns>
        public WsConfig SetMaxPendingOutput(long bytes)
        {
            Ensure.Success(NativeMethods.ws_config_set_max_pending_output(Handle, Size(bytes)));
            return this;
        }

        /// <summary>Time allowed for the TLS and WebSocket handshakes, in ms of the caller's clock (default 15000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetHandshakeTimeout(long ms)
        {
            Ensure.Success(NativeMethods.ws_config_set_handshake_timeout(Handle, Ms(ms)));
            return this;
        }

        /// <summary>Time to wait for the server's close frame after sending ours (default 5000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetCloseTimeout(long ms)
        {
            Ensure.Success(NativeMethods.ws_config_set_close_timeout(Handle, Ms(ms)));
            return this;
        }

        /// <summary>Sends a ping when nothing was received for this long (default 20000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetKeepaliveInterval(long ms)
        {
            Ensure.Success(NativeMethods.ws_config_set_keepalive_interval(Handle, Ms(ms)));
            return this;
        }

        /// <summary>Dead-peer timeout: the client fails with <see cref="WsResult.Timeout"/> when nothing at all was received for this long while open (default 60000; 0 = off).</summary>
        /// <param name="ms">Milliseconds.</param>
        /// <returns>This config.</returns>
        public WsConfig SetIdleTimeout(long ms)
        {
            Ensure.Success(NativeMethods.ws_config_set_idle_timeout(Handle, Ms(ms)));
            return this;
        }

        private static UIntPtr Size(long n)
        {
            if (n < 0 || (UIntPtr.Size == 4 && n > uint.MaxValue)) throw new ArgumentOutOfRangeException("n");
            return (UIntPtr)(ulong)n;
        }

        private static ulong Ms(long ms)
        {
            if (ms < 0) throw new ArgumentOutOfRangeException("ms");
            return (ulong)ms;
        }
    }

    /// <summary>Library-wide information from the native side.</summary>
    public static unsafe class WsLibrary
    {
        /// <summary>The native library version, for example "0.1.0" (<c>ws_version</c>).</summary>
        public static string Version
        {
            get
            {
                AbiCheck.Ensure();
                return Ensure.FromCString(NativeMethods.ws_version());
            }
        }

        /// <summary>The static description of a result code (<c>ws_result_str</c>).</summary>
        /// <param name="result">A result code.</param>
        /// <returns>A short English description.</returns>
        public static string Describe(WsResult result)
        {
            AbiCheck.Ensure();
            return Ensure.ResultString((uint)result);
        }

        /// <summary>The detailed message of the most recent failed native call on this thread, or null (<c>ws_last_error</c>).</summary>
        public static string LastThreadError
        {
            get { return Ensure.ThreadLastError(); }
        }

        /// <summary>The number of live native handles (configs plus clients), for leak checks in tests (<c>ws_handle_count</c>, a test hook of the native library, not part of its API).</summary>
        public static long HandleCount
        {
            get
            {
                UIntPtr n;
                AbiCheck.Ensure();
                Ensure.Success(NativeMethods.ws_handle_count(&n));
                return (long)n.ToUInt64();
            }
        }
    }
}
#endif
