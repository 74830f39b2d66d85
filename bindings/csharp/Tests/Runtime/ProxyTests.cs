// Proxies from C#: WsConfig.Proxy, the connect address, WsProxy.ForUrl, and
// WsSocketConnection through a real squid with Basic auth (started by
// scripts/test-csharp.sh: WSM_SQUID_AUTH_PORT, its access log in WSM_SQUID_AUTH_LOG),
// including the 407 path and the retry with a computed Proxy-Authorization.

using System;
using System.IO;
using System.Text;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class ProxyTests
    {
        private const string User = "player";
        private const string Password = "p@ss word"; // in the test's htpasswd

        private static string SquidUrl(string userInfo)
        {
            return "http://" + (userInfo == null ? "" : userInfo + "@") + "127.0.0.1:" + TestEnv.Port("WSM_SQUID_AUTH_PORT");
        }

        [Test]
        public void MalformedProxyUrlIsRefusedAndKeepsThePrevious()
        {
            using (var cfg = new WsConfig())
            {
                cfg.Proxy = "socks5://127.0.0.1:1080";
                var e = Assert.Throws<WsMisuseException>(() => cfg.Proxy = "ftp://user:secret@h:1");
                Assert.AreEqual(WsResult.InvalidUrl, e.Result);
                StringAssert.DoesNotContain("secret", e.Message);
                Assert.AreEqual("socks5://127.0.0.1:1080", cfg.Proxy);
                cfg.Proxy = null;
                Assert.IsNull(cfg.Proxy);
            }
        }

        [Test]
        public void ConnectAddressIsTheProxyWhenOneIsSet()
        {
            using (var cfg = new WsConfig())
            {
                string host;
                int port;
                using (var c = new WsClient(cfg, "wss://game.example/ws"))
                {
                    c.GetConnectAddress(out host, out port);
                    Assert.AreEqual("game.example", host);
                    Assert.AreEqual(443, port);
                }
                cfg.SetProxy("http://proxy.corp:3128");
                using (var c = new WsClient(cfg, "wss://game.example/ws"))
                {
                    c.GetConnectAddress(out host, out port);
                    Assert.AreEqual("proxy.corp", host);
                    Assert.AreEqual(3128, port);
                    CollectionAssert.IsEmpty(c.ProxyChallenges);
                }
            }
        }

        [Test]
        public void NoProxyListMatchesHostsAndSuffixes()
        {
            Assert.IsTrue(WsProxy.IsBypassed("localhost", "localhost,127.0.0.1"));
            Assert.IsTrue(WsProxy.IsBypassed("game.example.com", ".example.com"));
            Assert.IsTrue(WsProxy.IsBypassed("game.example.com", "example.com"));
            Assert.IsTrue(WsProxy.IsBypassed("anything", "*"));
            Assert.IsTrue(WsProxy.IsBypassed("intra", "other, intra:8080"));
            Assert.IsFalse(WsProxy.IsBypassed("notexample.com", "example.com"));
            Assert.IsFalse(WsProxy.IsBypassed("game.example.com", null));
        }

        [Test]
        public void ForUrlReadsTheEnvironment()
        {
            string[] names = { "https_proxy", "HTTPS_PROXY", "http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY" };
            var saved = new string[names.Length];
            for (int i = 0; i < names.Length; i++)
            {
                saved[i] = Environment.GetEnvironmentVariable(names[i]);
                Environment.SetEnvironmentVariable(names[i], null);
            }
            try
            {
                Environment.SetEnvironmentVariable("https_proxy", "http://secure.proxy:3128");
                Environment.SetEnvironmentVariable("http_proxy", "plain.proxy:8080");
                Environment.SetEnvironmentVariable("no_proxy", "localhost,.internal");
                Assert.AreEqual("http://secure.proxy:3128", WsProxy.ForUrl("wss://game.example/ws"));
                Assert.AreEqual("http://plain.proxy:8080", WsProxy.ForUrl("ws://game.example/ws"));
                Assert.IsNull(WsProxy.ForUrl("wss://localhost:9000/"));
                Assert.IsNull(WsProxy.ForUrl("wss://db.internal/"));
                Environment.SetEnvironmentVariable("https_proxy", null);
                Environment.SetEnvironmentVariable("ALL_PROXY", "socks5://socks.proxy:1080");
                Assert.AreEqual("socks5://socks.proxy:1080", WsProxy.ForUrl("wss://game.example/ws"));
            }
            finally
            {
                for (int i = 0; i < names.Length; i++)
                {
                    Environment.SetEnvironmentVariable(names[i], saved[i]);
                }
            }
        }

        [Test]
        public void ThroughSquidWithBasicAuth()
        {
            string url = TestEnv.WssUrl();
            using (var cfg = TestEnv.TrustedConfig())
            {
                cfg.Proxy = SquidUrl(User + ":" + Uri.EscapeDataString(Password));
                using (var c = new WsSocketConnection())
                {
                    c.Connect(url, cfg);
                    Drive.Open(c);
                    c.SendText("through squid");
                    Assert.AreEqual("through squid", Drive.Receive(c).GetText());
                    byte[] big = TestEnv.Pattern(1 << 20, 3);
                    c.SendBinary(big, 0, big.Length);
                    CollectionAssert.AreEqual(big, Drive.Receive(c).ToArray());
                    c.Close();
                    Drive.Finished(c);
                    Assert.AreEqual(WsConnectionState.Closed, c.State);
                }
            }
            // squid writes the CONNECT's line when the tunnel ends: give it a moment.
            string want = "CONNECT localhost:" + TestEnv.Port("WSM_WSS_PORT");
            string log = "";
            for (int i = 0; i < 100 && !log.Contains(want); i++)
            {
                System.Threading.Thread.Sleep(50);
                log = File.ReadAllText(TestEnv.Require("WSM_SQUID_AUTH_LOG"));
            }
            StringAssert.Contains("CONNECT localhost:" + TestEnv.Port("WSM_WSS_PORT"), log, "squid's access log names the origin");
            StringAssert.Contains(" player ", log, "squid logged the authenticated user");
        }

        [Test]
        public void WrongPasswordIs407WithChallengesThenRetryWithAuthorization()
        {
            using (var cfg = TestEnv.TrustedConfig())
            {
                cfg.Proxy = SquidUrl(User + ":wrong-secret");
                using (var c = new WsSocketConnection())
                {
                    c.Connect(TestEnv.WssUrl(), cfg);
                    Drive.Finished(c);
                    Assert.AreEqual(WsConnectionState.Failed, c.State);
                    var e = c.Error as WsProxyAuthenticationException;
                    Assert.IsNotNull(e, "a WsProxyAuthenticationException, got " + c.Error);
                    Assert.AreEqual(WsResult.ProxyAuthRequired, e.Result);
                    Assert.AreEqual(407, e.HttpStatus);
                    Assert.AreEqual(407, c.HttpStatus);
                    CollectionAssert.Contains(e.Challenges, "Basic realm=\"wsmachine-test\"");
                    StringAssert.DoesNotContain("wrong-secret", e.Message);
                }
                // The caller computes the answer to the challenge and connects again.
                cfg.Proxy = SquidUrl(null);
                cfg.SetProxyAuthorization("Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(User + ":" + Password)));
                using (var c = new WsSocketConnection())
                {
                    c.Connect(TestEnv.WssUrl(), cfg);
                    Drive.Open(c);
                    c.SendText("retried");
                    Assert.AreEqual("retried", Drive.Receive(c).GetText());
                }
            }
        }

        [Test]
        public void UnreachableProxyIsTheCallersConnectFailure()
        {
            int closed;
            var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
            l.Start();
            closed = ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            using (var cfg = new WsConfig())
            {
                cfg.Proxy = "http://127.0.0.1:" + closed;
                using (var c = new WsSocketConnection())
                {
                    c.Connect("wss://game.example/ws", cfg);
                    Drive.Finished(c);
                    Assert.AreEqual(WsConnectionState.Failed, c.State);
                    StringAssert.Contains("connecting to the proxy 127.0.0.1", c.Error.Message);
                }
            }
        }
    }
}
