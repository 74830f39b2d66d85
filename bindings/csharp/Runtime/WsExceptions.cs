// wsmachine C# bindings, layer 2: exceptions and the checking layer (Ensure).
//
// Like libgit2sharp's Ensure: every native call that can fail goes through one place
// that maps the code block to an exception type and takes the detailed message from
// the native last-error copy-out (per handle when there is one, else per thread).
// Statuses that are not errors (WS_NEED_INPUT, WS_CLOSED, "nothing to send") never get
// here: the callers turn them into return values.

using System;
using System.Text;

namespace WsMachine
{
    /// <summary>Base of every error reported by wsmachine; <see cref="Result"/> is the native code.</summary>
    public class WsException : Exception
    {
        /// <summary>Creates an exception for <paramref name="result"/> with a message.</summary>
        /// <param name="result">The native result code.</param>
        /// <param name="message">The detailed message.</param>
        public WsException(WsResult result, string message) : base(message)
        {
            Result = result;
        }

        /// <summary>The native result code (<c>ws_result</c>).</summary>
        public WsResult Result { get; private set; }
    }

    /// <summary>
    /// The native plugin has a different ABI version than these bindings were written for
    /// (an old or new wsmachine library next to these C# files). Thrown by the first call
    /// into the library, before any call whose signature or struct layout could differ.
    /// </summary>
    public class WsAbiMismatchException : Exception
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="pluginVersion">What the library reports (<c>ws_abi_version</c>); 0 when it has no such function.</param>
        /// <param name="expectedVersion">The <c>WS_ABI_VERSION</c> the bindings expect.</param>
        /// <param name="message">The message.</param>
        public WsAbiMismatchException(uint pluginVersion, uint expectedVersion, string message) : base(message)
        {
            PluginVersion = pluginVersion;
            ExpectedVersion = expectedVersion;
        }

        /// <summary>The ABI version of the loaded native library (0: too old to say).</summary>
        public uint PluginVersion { get; private set; }

        /// <summary>The ABI version these bindings expect.</summary>
        public uint ExpectedVersion { get; private set; }
    }

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no native library to check
    /// <summary>The one-time check of the native library's ABI version.</summary>
    internal static class AbiCheck
    {
        private static volatile bool _checked;

        /// <summary>Throws <see cref="WsAbiMismatchException"/> unless the loaded library has our ABI; cheap after the first success.</summary>
        internal static void Ensure()
        {
            if (_checked) return;
            uint plugin;
            try
            {
                plugin = NativeMethods.ws_abi_version();
            }
            catch (EntryPointNotFoundException)
            {
                throw new WsAbiMismatchException(0, NativeMethods.WS_ABI_VERSION,
                    "wsmachine ABI mismatch: plugin is older than ABI 1 (no ws_abi_version), bindings expect " +
                    NativeMethods.WS_ABI_VERSION + "; use the native library built with these C# files");
            }
            if (plugin != NativeMethods.WS_ABI_VERSION)
            {
                throw new WsAbiMismatchException(plugin, NativeMethods.WS_ABI_VERSION,
                    "wsmachine ABI mismatch: plugin is " + plugin + ", bindings expect " + NativeMethods.WS_ABI_VERSION +
                    "; use the native library built with these C# files");
            }
            _checked = true;
        }
    }
#endif

    /// <summary>A caller error (codes 100-199): bad argument, wrong state, invalid handle, bad URL or config.</summary>
    public class WsMisuseException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (100-199).</param>
        /// <param name="message">The detailed message.</param>
        public WsMisuseException(WsResult result, string message) : base(result, message) { }
    }

    /// <summary>A TLS failure (codes 200-299), with the certificate problem told apart.</summary>
    public class WsTlsException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (200-299).</param>
        /// <param name="message">The detailed message.</param>
        public WsTlsException(WsResult result, string message) : base(result, message) { }

        /// <summary>Which certificate problem it was, or <see cref="WsCertificateError.None"/> for other TLS errors.</summary>
        public WsCertificateError CertificateError
        {
            get
            {
                switch (Result)
                {
                    case WsResult.CertUntrusted: return WsCertificateError.Untrusted;
                    case WsResult.CertExpired: return WsCertificateError.Expired;
                    case WsResult.CertNotYetValid: return WsCertificateError.NotYetValid;
                    case WsResult.CertWrongHost: return WsCertificateError.WrongHost;
                    case WsResult.CertPinMismatch: return WsCertificateError.PinMismatch;
                    case WsResult.CertInvalid: return WsCertificateError.Invalid;
                    default: return WsCertificateError.None;
                }
            }
        }
    }

    /// <summary>The opening handshake failed (codes 300-399), for example an HTTP status other than 101.</summary>
    public class WsHandshakeException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (300-399).</param>
        /// <param name="message">The detailed message.</param>
        /// <param name="httpStatus">The HTTP status of the upgrade response, or 0 when none was received.</param>
        public WsHandshakeException(WsResult result, string message, int httpStatus) : base(result, message)
        {
            HttpStatus = httpStatus;
        }

        /// <summary>The HTTP status of the upgrade response (for example 403), or 0 when none was received.</summary>
        public int HttpStatus { get; private set; }
    }

    /// <summary>The server violated the WebSocket protocol or a size limit (codes 400-499).</summary>
    public class WsProtocolException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (400-499).</param>
        /// <param name="message">The detailed message.</param>
        public WsProtocolException(WsResult result, string message) : base(result, message) { }
    }

    /// <summary>The connection is closed, was lost, or timed out (codes 500-599).</summary>
    public class WsClosedException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (500-599).</param>
        /// <param name="message">The detailed message.</param>
        public WsClosedException(WsResult result, string message) : base(result, message) { }
    }

    /// <summary>The handshake or idle (dead-peer) timeout expired (<see cref="WsResult.Timeout"/>).</summary>
    public class WsTimeoutException : WsClosedException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="message">The detailed message.</param>
        public WsTimeoutException(string message) : base(WsResult.Timeout, message) { }
    }

    /// <summary>
    /// The proxy did not open the tunnel (codes 600-699): it refused (<see cref="WsResult.ProxyRefused"/>,
    /// with <see cref="HttpStatus"/> 403, 502, ... or 0 for a SOCKS5 reply code), answered nonsense, or
    /// closed the connection. A proxy that wants credentials is a <see cref="WsProxyAuthenticationException"/>.
    /// </summary>
    public class WsProxyException : WsException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="result">The native result code (600-699).</param>
        /// <param name="message">The detailed message (it never contains the proxy URL's credentials).</param>
        /// <param name="httpStatus">The proxy's HTTP status, or 0.</param>
        public WsProxyException(WsResult result, string message, int httpStatus) : base(result, message)
        {
            HttpStatus = httpStatus;
        }

        /// <summary>The proxy's HTTP status (407, 403, 502, ...), or 0 (SOCKS5, or no answer).</summary>
        public int HttpStatus { get; private set; }
    }

    /// <summary>
    /// The proxy wants credentials (<see cref="WsResult.ProxyAuthRequired"/>): HTTP 407 with its
    /// <c>Proxy-Authenticate</c> <see cref="Challenges"/>, or a SOCKS5 proxy that rejected the user
    /// name and password. Retry with credentials in the proxy URL (Basic), or compute a
    /// <c>Proxy-Authorization</c> value for a challenge (NTLM, Negotiate) and set it with
    /// <see cref="WsConfig.SetProxyAuthorization"/>, then connect again.
    /// </summary>
    public class WsProxyAuthenticationException : WsProxyException
    {
        /// <summary>Creates the exception.</summary>
        /// <param name="message">The detailed message.</param>
        /// <param name="httpStatus">407, or 0 for SOCKS5.</param>
        /// <param name="challenges">The <c>Proxy-Authenticate</c> values in the proxy's order (for example <c>Basic realm="corp"</c>, <c>NTLM</c>).</param>
        public WsProxyAuthenticationException(string message, int httpStatus, string[] challenges)
            : base(WsResult.ProxyAuthRequired, message, httpStatus)
        {
            Challenges = challenges ?? new string[0];
        }

        /// <summary>The <c>Proxy-Authenticate</c> challenges, in the proxy's order; empty for SOCKS5.</summary>
        public string[] Challenges { get; private set; }
    }

    /// <summary>Maps native result codes to exceptions (the checking layer).</summary>
    internal static unsafe class Ensure
    {
#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library: no native last error
        /// <summary>Throws unless <paramref name="code"/> is WS_OK. Details come from the client's last error.</summary>
        internal static void ClientSuccess(uint code, ulong client)
        {
            if (code != 0)
            {
                throw ForClient(code, client);
            }
        }

        /// <summary>Throws unless <paramref name="code"/> is WS_OK. Details come from the thread's last error.</summary>
        internal static void Success(uint code)
        {
            if (code != 0)
            {
                throw Create(code, ThreadLastError(), 0);
            }
        }

        /// <summary>Builds the exception for a failed call on a client handle (not thrown here).</summary>
        internal static WsException ForClient(uint code, ulong client)
        {
            string detail = null;
            int status = 0;
            string[] challenges = null;
            if (client != 0 && code != (uint)WsResult.InvalidHandle)
            {
                detail = ClientLastError(client);
                ushort s;
                if (NativeMethods.ws_client_http_status(client, &s) == 0)
                {
                    status = s;
                }
                if (code == (uint)WsResult.ProxyAuthRequired)
                {
                    challenges = ProxyChallenges(client);
                }
            }
            if (string.IsNullOrEmpty(detail))
            {
                detail = ThreadLastError();
            }
            if (challenges != null)
            {
                return new WsProxyAuthenticationException(Format(code, detail), status, challenges);
            }
            return Create(code, detail, status);
        }

        /// <summary>The <c>Proxy-Authenticate</c> challenges of a client (<c>ws_client_proxy_challenges</c>), one per element.</summary>
        internal static string[] ProxyChallenges(ulong client)
        {
            string all = CopyOut((byte* b, UIntPtr c, UIntPtr* l) => NativeMethods.ws_client_proxy_challenges(client, b, c, l));
            return all == null ? new string[0] : all.Split('\n');
        }

        /// <summary>Throws unless <paramref name="code"/> is WS_OK. Details come from the TLS object's last error.</summary>
        internal static void TlsSuccess(uint code, ulong tls)
        {
            if (code != 0)
            {
                throw ForTls(code, tls);
            }
        }

        /// <summary>Builds the exception for a failed call on a TLS object handle (not thrown here).</summary>
        internal static WsException ForTls(uint code, ulong tls)
        {
            string detail = null;
            if (tls != 0 && code != (uint)WsResult.InvalidHandle)
            {
                detail = CopyOut((byte* b, UIntPtr c, UIntPtr* l) => NativeMethods.ws_tls_last_error(tls, b, c, l));
            }
            if (string.IsNullOrEmpty(detail))
            {
                detail = ThreadLastError();
            }
            return Create(code, detail, 0);
        }

        /// <summary>A copy-out call of the <c>ws_client_last_error</c> convention.</summary>
        internal delegate uint CopyOutCall(byte* buf, UIntPtr cap, UIntPtr* outLen);

        /// <summary>Runs a copy-out call twice (size, then text); null on failure or when empty.</summary>
        internal static string CopyOut(CopyOutCall call)
        {
            UIntPtr len;
            if (call(null, UIntPtr.Zero, &len) != 0)
            {
                return null;
            }
            int n = (int)len.ToUInt64();
            if (n == 0)
            {
                return null;
            }
            byte[] buf = new byte[n + 1];
            fixed (byte* p = buf)
            {
                if (call(p, (UIntPtr)buf.Length, &len) != 0)
                {
                    return null;
                }
                return Encoding.UTF8.GetString(p, Math.Min(n, (int)len.ToUInt64()));
            }
        }
#endif

        /// <summary>Maps a code block to its exception type.</summary>
        internal static WsException Create(uint code, string detail, int httpStatus)
        {
            WsResult r = (WsResult)code;
            string message = Format(code, detail);
            if (code == (uint)WsResult.Timeout) return new WsTimeoutException(message);
            if (code >= 100 && code < 200) return new WsMisuseException(r, message);
            if (code >= 200 && code < 300) return new WsTlsException(r, message);
            if (code >= 300 && code < 400) return new WsHandshakeException(r, message, httpStatus);
            if (code >= 400 && code < 500) return new WsProtocolException(r, message);
            if (code >= 500 && code < 600) return new WsClosedException(r, message);
            if (code == (uint)WsResult.ProxyAuthRequired) return new WsProxyAuthenticationException(message, httpStatus, null);
            if (code >= 600 && code < 700) return new WsProxyException(r, message, httpStatus);
            return new WsException(r, message);
        }

        /// <summary>"detail (WS_NAME, code)", or the static description when there is no detail.</summary>
        internal static string Format(uint code, string detail)
        {
            string name = Enum.IsDefined(typeof(WsResult), code) ? ((WsResult)code).ToString() : "code";
            if (string.IsNullOrEmpty(detail))
            {
#if !(UNITY_WEBGL && !UNITY_EDITOR)
                detail = ResultString(code);
#else
                detail = name;
#endif
            }
            return detail + " (" + name + " " + code + ")";
        }

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no sockets and no native library: no native strings
        /// <summary>The static description of a code (<c>ws_result_str</c>).</summary>
        internal static string ResultString(uint code)
        {
            return FromCString(NativeMethods.ws_result_str(code));
        }

        /// <summary>The per-client detailed last error, or null.</summary>
        internal static string ClientLastError(ulong client)
        {
            UIntPtr len;
            if (NativeMethods.ws_client_last_error(client, null, UIntPtr.Zero, &len) != 0)
            {
                return null;
            }
            int n = (int)len.ToUInt64();
            if (n == 0)
            {
                return null;
            }
            byte[] buf = new byte[n + 1];
            fixed (byte* p = buf)
            {
                if (NativeMethods.ws_client_last_error(client, p, (UIntPtr)buf.Length, &len) != 0)
                {
                    return null;
                }
                return Encoding.UTF8.GetString(p, Math.Min(n, (int)len.ToUInt64()));
            }
        }

        /// <summary>The detailed message of the latest failed call on this thread, or null.</summary>
        internal static string ThreadLastError()
        {
            UIntPtr len;
            if (NativeMethods.ws_last_error(null, UIntPtr.Zero, &len) != 0)
            {
                return null;
            }
            int n = (int)len.ToUInt64();
            if (n == 0)
            {
                return null;
            }
            byte[] buf = new byte[n + 1];
            fixed (byte* p = buf)
            {
                if (NativeMethods.ws_last_error(p, (UIntPtr)buf.Length, &len) != 0)
                {
                    return null;
                }
                return Encoding.UTF8.GetString(p, Math.Min(n, (int)len.ToUInt64()));
            }
        }

        /// <summary>Decodes a static NUL-terminated UTF-8 string owned by the library.</summary>
        internal static string FromCString(byte* s)
        {
            if (s == null)
            {
                return null;
            }
            int n = 0;
            while (s[n] != 0)
            {
                n++;
            }
            return Encoding.UTF8.GetString(s, n);
        }

#endif

        /// <summary>Encodes a string as NUL-terminated UTF-8 (null stays null).</summary>
        internal static byte[] ToCString(string s)
        {
            if (s == null)
            {
                return null;
            }
            byte[] b = new byte[Encoding.UTF8.GetByteCount(s) + 1];
            Encoding.UTF8.GetBytes(s, 0, s.Length, b, 0);
            return b;
        }

        /// <summary>Checks an (array, offset, count) triple like the BCL does.</summary>
        internal static void Range(byte[] buffer, int offset, int count, string name)
        {
            if (buffer == null) throw new ArgumentNullException(name);
            if (offset < 0 || offset > buffer.Length) throw new ArgumentOutOfRangeException("offset");
            if (count < 0 || count > buffer.Length - offset) throw new ArgumentOutOfRangeException("count");
        }
    }
}
