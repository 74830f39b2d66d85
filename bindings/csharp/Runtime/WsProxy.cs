// wsmachine C# bindings: finding the system's proxy for a URL.

using System;
using System.Net;

namespace WsMachine
{
    /// <summary>
    /// Picks the proxy a WebSocket URL should go through, the way other programs on the
    /// machine would: the <c>https_proxy</c>, <c>http_proxy</c>, <c>all_proxy</c> and
    /// <c>no_proxy</c> environment variables (upper or lower case, as curl reads them), then
    /// the runtime's system proxy (<see cref="WebRequest.GetSystemWebProxy"/>: the Windows
    /// and macOS settings, where the runtime has them).
    /// </summary>
    /// <example>
    /// <code>
    /// config.Proxy = WsProxy.ForUrl(url);   // null: connect directly
    /// connection.Connect(url, config);
    /// </code>
    /// </example>
    public static class WsProxy
    {
        /// <summary>
        /// The proxy URL for <paramref name="url"/> (<c>ws://</c> or <c>wss://</c>), ready for
        /// <see cref="WsConfig.Proxy"/>, or null when the URL should be reached directly.
        /// <c>wss://</c> uses <c>https_proxy</c>, <c>ws://</c> uses <c>http_proxy</c>, both fall back
        /// to <c>all_proxy</c>; a value without a scheme means <c>http://</c>. <c>no_proxy</c> is a comma
        /// list of host names, domain suffixes (<c>.example.com</c> or <c>example.com</c>) and
        /// <c>*</c>. Credentials of a system proxy are not included: on a 407, see
        /// <see cref="WsProxyAuthenticationException"/>.
        /// </summary>
        /// <param name="url">The WebSocket URL.</param>
        /// <returns>A proxy URL, or null.</returns>
        public static string ForUrl(string url)
        {
            if (url == null) throw new ArgumentNullException("url");
            Uri uri;
            if (!Uri.TryCreate(url, UriKind.Absolute, out uri))
            {
                return null;
            }
            bool secure = string.Equals(uri.Scheme, "wss", StringComparison.OrdinalIgnoreCase);
            string host = uri.DnsSafeHost;
            string fromEnv = secure ? Env("https_proxy") : Env("http_proxy");
            if (string.IsNullOrEmpty(fromEnv))
            {
                fromEnv = Env("all_proxy");
            }
            if (!string.IsNullOrEmpty(fromEnv))
            {
                if (IsBypassed(host, Env("no_proxy")))
                {
                    return null;
                }
                return fromEnv.Contains("://") ? fromEnv : "http://" + fromEnv;
            }
            return FromSystem(uri, secure);
        }

        /// <summary>Whether <paramref name="host"/> matches a <c>no_proxy</c> list.</summary>
        /// <param name="host">The server's host name or address.</param>
        /// <param name="noProxy">The list (comma or space separated), or null.</param>
        /// <returns>True when the host is to be reached directly.</returns>
        public static bool IsBypassed(string host, string noProxy)
        {
            if (string.IsNullOrEmpty(noProxy) || string.IsNullOrEmpty(host))
            {
                return false;
            }
            host = host.ToLowerInvariant().TrimEnd('.');
            foreach (string raw in noProxy.Split(new[] { ',', ' ' }, StringSplitOptions.RemoveEmptyEntries))
            {
                string e = raw.Trim().ToLowerInvariant();
                int colon = e.LastIndexOf(':');
                if (colon > 0 && e.IndexOf(']') < colon && e.IndexOf(':') == colon)
                {
                    e = e.Substring(0, colon); // "host:port": the port is not compared
                }
                e = e.Trim('[', ']').TrimEnd('.');
                if (e == "*") return true;
                if (e.StartsWith("*.")) e = e.Substring(1);
                if (e.Length == 0) continue;
                if (host == e.TrimStart('.')) return true;
                if (host.EndsWith(e.StartsWith(".") ? e : "." + e)) return true;
            }
            return false;
        }

        private static string Env(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v))
            {
                v = Environment.GetEnvironmentVariable(name.ToUpperInvariant());
            }
            return string.IsNullOrEmpty(v) ? null : v.Trim();
        }

        private static string FromSystem(Uri uri, bool secure)
        {
            try
            {
                Uri target = new UriBuilder(uri) { Scheme = secure ? "https" : "http" }.Uri;
                IWebProxy system = WebRequest.GetSystemWebProxy();
                if (system == null || system.IsBypassed(target))
                {
                    return null;
                }
                Uri p = system.GetProxy(target);
                if (p == null || p == target || string.Equals(p.Host, target.Host, StringComparison.OrdinalIgnoreCase) && p.Port == target.Port)
                {
                    return null;
                }
                return (p.Scheme == "https" ? "https://" : "http://") + (p.HostNameType == UriHostNameType.IPv6 ? "[" + p.DnsSafeHost + "]" : p.DnsSafeHost) + ":" + p.Port;
            }
            catch (Exception)
            {
                // Runtimes without system proxy support (WebGL, trimmed players) throw here.
                return null;
            }
        }
    }
}
