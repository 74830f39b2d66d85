// wsmachine C# bindings: the platform's verdict on a server's certificate chain.
//
// With WsConfig.ExternalVerification on, a client stops in WsState.Verifying after the
// TLS handshake, having sent nothing of the application. WsPlatformTrust runs
// X509Chain.Build on a worker thread (the platform's verifier may block or do network
// I/O) and WsSocketConnection.Pump hands its verdict back to the client on the caller's
// thread. For a Unity user it is one line besides the config:
//
//   config.ExternalVerification = WsExternalVerification.UnknownIssuer;
//   connection.PlatformTrust = new WsPlatformTrust();
//
// Where X509Chain consults the operating system on each Unity platform, and where it
// does not (Mono on Linux: its own store, RSA only; Android: not user CAs nor the Network
// Security Config): docs/SECURITY.md, "Trust modes". A verifier of your own (Android's
// X509TrustManager, say) plugs in through the constructor.

using System;
using System.Collections.Generic;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;

namespace WsMachine
{
    /// <summary>
    /// Asks the platform's verifier (<see cref="X509Chain.Build(X509Certificate2)"/>, with the
    /// server's chain as extra store and the host name checked against the leaf's
    /// subjectAltName) whether to trust a server's chain, on a worker thread, and hands the
    /// verdict back through <see cref="WsSocketConnection.Pump(long)"/>. Set it with
    /// <see cref="WsSocketConnection.PlatformTrust"/> together with
    /// <see cref="WsConfig.ExternalVerification"/>.
    /// </summary>
    public sealed class WsPlatformTrust
    {
#if UNITY_WEBGL && !UNITY_EDITOR
#pragma warning disable 0169, 0414 // the driver's side, which uses these, is compiled out on WebGL
#endif
        private readonly string _hostOverride;
        private readonly Func<X509Certificate2[], string, string> _verify;
        private readonly object _lock = new object();
        private int _generation;
        private bool _running;
        private bool _done;
        private string _reason;

        /// <summary>Verifies with <see cref="Verify"/> for the host name of the connection's URL.</summary>
        public WsPlatformTrust()
        {
        }

        /// <summary>Checks <paramref name="hostName"/> instead of the URL's host (use it with <see cref="WsConfig.SetServerName"/>).</summary>
        /// <param name="hostName">The DNS name or IP address the certificate must be valid for.</param>
        public WsPlatformTrust(string hostName)
        {
            _hostOverride = hostName;
        }

        /// <summary>Uses a verifier of your own, still on a worker thread: it gets the chain (leaf first) and the host name, and returns null to trust it or the reason not to.</summary>
        /// <param name="verify">The verifier; it may block.</param>
        public WsPlatformTrust(Func<X509Certificate2[], string, string> verify)
        {
            if (verify == null) throw new ArgumentNullException("verify");
            _verify = verify;
        }

        /// <summary>Whether X509Chain checks revocation (default <see cref="X509RevocationMode.NoCheck"/>: online checks may take seconds).</summary>
        public X509RevocationMode RevocationMode { get; set; }

        /// <summary>
        /// Verifies <paramref name="chain"/> (leaf first, as the server sent it) for
        /// <paramref name="hostName"/> with the platform's X509Chain, synchronously: it may
        /// block, so call it on a worker thread.
        /// </summary>
        /// <param name="chain">The server's chain (<see cref="WsClient.PeerCertificates"/>).</param>
        /// <param name="hostName">The host name or IP address connected to.</param>
        /// <param name="revocation">The revocation check mode.</param>
        /// <returns>Null when trusted; else why not.</returns>
        public static string Verify(X509Certificate2[] chain, string hostName, X509RevocationMode revocation)
        {
            if (chain == null || chain.Length == 0) return "the server presented no certificate";
            if (hostName == null) throw new ArgumentNullException("hostName");
            try
            {
                using (var x = new X509Chain())
                {
                    x.ChainPolicy.RevocationMode = revocation;
                    x.ChainPolicy.VerificationFlags = X509VerificationFlags.NoFlag;
                    for (int i = 1; i < chain.Length; i++)
                    {
                        x.ChainPolicy.ExtraStore.Add(chain[i]);
                    }
                    if (!x.Build(chain[0]))
                    {
                        var sb = new StringBuilder("the platform does not trust the chain:");
                        foreach (X509ChainStatus s in x.ChainStatus)
                        {
                            sb.Append(' ').Append(s.Status).Append(" (").Append((s.StatusInformation ?? string.Empty).Trim()).Append(')');
                        }
                        return sb.ToString();
                    }
                }
            }
            catch (Exception e)
            {
                return "the platform's verifier failed: " + e.Message;
            }
            if (!MatchesHost(chain[0], hostName))
            {
                return "the certificate is not valid for " + hostName;
            }
            return null;
        }

#if !(UNITY_WEBGL && !UNITY_EDITOR) // the WebGL player has no WsClient: the browser verifies TLS itself
        // ----- the driver's side: one verification per connection attempt ----------------

        /// <summary>Forgets any verification in flight (a new connection attempt).</summary>
        internal void Reset()
        {
            lock (_lock)
            {
                _generation++;
                _running = false;
                _done = false;
                _reason = null;
            }
        }

        /// <summary>Called by Pump while the client is Verifying: starts the worker once, and gives the verdict once it is known. Returns true when a verdict was given.</summary>
        internal bool Step(WsClient client, string host)
        {
            bool done;
            string reason;
            lock (_lock)
            {
                if (!_running)
                {
                    _running = true;
                    int generation = _generation;
                    X509Certificate2[] chain = client.PeerCertificates;
                    string name = _hostOverride ?? host;
                    X509RevocationMode revocation = RevocationMode;
                    Func<X509Certificate2[], string, string> verify = _verify;
                    ThreadPool.QueueUserWorkItem(delegate
                    {
                        string r;
                        try
                        {
                            r = verify != null ? verify(chain, name) : Verify(chain, name, revocation);
                        }
                        catch (Exception e)
                        {
                            r = "the verifier failed: " + e.Message;
                        }
                        lock (_lock)
                        {
                            if (generation == _generation)
                            {
                                _done = true;
                                _reason = r;
                            }
                        }
                    });
                    return false;
                }
                done = _done;
                reason = _reason;
            }
            if (!done) return false;
            client.SetVerdict(reason == null, reason);
            return true;
        }

#endif

        // ----- host names --------------------------------------------------------------

        /// <summary>Whether the leaf's subjectAltName holds <paramref name="host"/> (DNS names with a leftmost "*." wildcard, or IP addresses); the common name is not used, as in browsers.</summary>
        internal static bool MatchesHost(X509Certificate2 leaf, string host)
        {
            IPAddress ip;
            bool isIp = IPAddress.TryParse(host, out ip);
            byte[] ipBytes = isIp ? ip.GetAddressBytes() : null;
            foreach (X509Extension ext in leaf.Extensions)
            {
                if (ext.Oid == null || ext.Oid.Value != "2.5.29.17") continue;
                foreach (KeyValuePair<int, byte[]> name in SubjectAltNames(ext.RawData))
                {
                    if (isIp && name.Key == 7 && Same(name.Value, ipBytes)) return true;
                    if (!isIp && name.Key == 2 && DnsMatches(Encoding.ASCII.GetString(name.Value), host)) return true;
                }
            }
            return false;
        }

        private static bool Same(byte[] a, byte[] b)
        {
            if (a.Length != b.Length) return false;
            for (int i = 0; i < a.Length; i++) if (a[i] != b[i]) return false;
            return true;
        }

        private static bool DnsMatches(string pattern, string host)
        {
            pattern = pattern.TrimEnd('.').ToLowerInvariant();
            host = host.TrimEnd('.').ToLowerInvariant();
            if (pattern.StartsWith("*.", StringComparison.Ordinal))
            {
                int dot = host.IndexOf('.');
                return dot > 0 && host.Substring(dot) == pattern.Substring(1);
            }
            return pattern == host;
        }

        /// <summary>The GeneralNames of a subjectAltName extension value (DER): (context tag number, contents).</summary>
        private static List<KeyValuePair<int, byte[]>> SubjectAltNames(byte[] der)
        {
            var names = new List<KeyValuePair<int, byte[]>>();
            int pos = 0;
            int len;
            if (der == null || der.Length < 2 || der[pos++] != 0x30 || !ReadLength(der, ref pos, out len)) return names;
            int end = Math.Min(der.Length, pos + len);
            while (pos < end)
            {
                int tag = der[pos++];
                if (!ReadLength(der, ref pos, out len) || pos + len > end) break;
                if ((tag & 0xC0) == 0x80) // context-specific: [n]
                {
                    byte[] value = new byte[len];
                    Array.Copy(der, pos, value, 0, len);
                    names.Add(new KeyValuePair<int, byte[]>(tag & 0x1F, value));
                }
                pos += len;
            }
            return names;
        }

        private static bool ReadLength(byte[] der, ref int pos, out int len)
        {
            len = 0;
            if (pos >= der.Length) return false;
            int first = der[pos++];
            if (first < 0x80)
            {
                len = first;
                return true;
            }
            int count = first & 0x7F;
            if (count == 0 || count > 3) return false;
            for (int i = 0; i < count; i++)
            {
                if (pos >= der.Length) return false;
                len = (len << 8) | der[pos++];
            }
            return true;
        }
    }
}
