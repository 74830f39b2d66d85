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
            UIntPtr len;
            if (NativeMethods.ws_client_proxy_challenges(client, null, UIntPtr.Zero, &len) != 0)
            {
                return new string[0];
            }
            int n = (int)len.ToUInt64();
            if (n == 0)
            {
                return new string[0];
            }
            byte[] buf = new byte[n + 1];
            fixed (byte* p = buf)
            {
                if (NativeMethods.ws_client_proxy_challenges(client, p, (UIntPtr)buf.Length, &len) != 0)
                {
                    return new string[0];
                }
                return Encoding.UTF8.GetString(p, Math.Min(n, (int)len.ToUInt64())).Split('\n');
            }
        }

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
                detail = ResultString(code);
            }
            return detail + " (" + name + " " + code + ")";
        }

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
