// The platform's verdict through WsPlatformTrust on Mono: X509Chain.Build against Mono's
// certificate store, on a worker thread, handed back through Pump. scripts/test-csharp.sh
// points XDG_CONFIG_HOME at a fresh directory, so the test CA goes into a throw-away
// Mono store (~/.config/.mono/certs/Trust there), never the machine's.

using System;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading;
using NUnit.Framework;

namespace WsMachine.Tests
{
    [TestFixture]
    public class TrustTests
    {
        // An RSA chain: Mono's X509Chain cannot decode the EC keys of the other servers.
        private static string Url
        {
            get { return "wss://localhost:" + TestEnv.Port("WSM_WSS_RSA_PORT") + "/"; }
        }

        private static string CaPem
        {
            get { return System.IO.File.ReadAllText(TestEnv.Require("WSM_RSA_CA_PEM")); }
        }

        private static X509Certificate2 TestCa()
        {
            return new X509Certificate2(Encoding.ASCII.GetBytes(CaPem));
        }

        private static void WithCaInMonoStore(Action body)
        {
            using (var ca = TestCa())
            {
                var store = new X509Store(StoreName.Root, StoreLocation.CurrentUser);
                store.Open(OpenFlags.ReadWrite);
                store.Add(ca);
                store.Close();
                try
                {
                    body();
                }
                finally
                {
                    store.Open(OpenFlags.ReadWrite);
                    store.Remove(ca);
                    store.Close();
                }
            }
        }

        [Test]
        public void PlatformTrustAcceptsAChainTheStoreTrustsOnAWorkerThread()
        {
            WithCaInMonoStore(() =>
            {
                using (var cfg = new WsConfig())
                using (var c = new WsSocketConnection())
                {
                    // The built-in roots do not know the test CA: the chain waits for the platform.
                    cfg.ExternalVerification = WsExternalVerification.UnknownIssuer;
                    Assert.AreEqual(WsExternalVerification.UnknownIssuer, cfg.ExternalVerification);
                    c.PlatformTrust = new WsPlatformTrust();
                    c.Connect(Url, cfg);
                    Drive.Until(c, () => c.IsVerifying || c.IsFinished, "Verifying");
                    Assert.IsTrue(c.IsVerifying, "state " + c.State + ": " + c.CloseReason);
                    Assert.AreEqual(WsConnectionState.Handshaking, c.State);
                    X509Certificate2[] chain = c.PeerCertificates;
                    Assert.GreaterOrEqual(chain.Length, 1);
                    StringAssert.Contains("localhost", chain[0].Subject);
                    Assert.IsTrue(WsPlatformTrust.MatchesHost(chain[0], "127.0.0.1"), "IP address SAN");
                    Drive.Open(c);
                    c.SendText("trusted by the platform");
                    WsMessage m = Drive.Receive(c);
                    Assert.AreEqual("trusted by the platform", m.GetText());
                }
            });
        }

        [Test]
        public void PlatformTrustRejectsAChainTheStoreDoesNotTrust()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                cfg.ExternalVerification = WsExternalVerification.Always;
                cfg.AddRootPem(CaPem); // the built-in checks pass; the platform still says no
                c.PlatformTrust = new WsPlatformTrust();
                c.Connect(Url, cfg);
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                var e = c.Error as WsTlsException;
                Assert.IsNotNull(e, "Error is " + c.Error);
                Assert.AreEqual(WsCertificateError.Untrusted, e.CertificateError);
                StringAssert.Contains("the platform does not trust the chain", c.CloseReason);
            }
        }

        [Test]
        public void VerifyChecksTheHostName()
        {
            WithCaInMonoStore(() =>
            {
                using (var cfg = new WsConfig())
                using (var c = new WsSocketConnection())
                {
                    cfg.ExternalVerification = WsExternalVerification.Always;
                    cfg.AddRootPem(CaPem);
                    c.Connect(Url, cfg);
                    Drive.Until(c, () => c.IsVerifying || c.IsFinished, "Verifying");
                    X509Certificate2[] chain = c.PeerCertificates;
                    Assert.IsNull(WsPlatformTrust.Verify(chain, "localhost", X509RevocationMode.NoCheck));
                    StringAssert.Contains("not valid for game.example",
                        WsPlatformTrust.Verify(chain, "game.example", X509RevocationMode.NoCheck));
                    // The native platform verifier (Linux: the distribution's roots, which do
                    // not hold the test CA), run off the pumping thread as documented.
                    string why = null;
                    bool trusted = true;
                    var t = new Thread(() => { trusted = c.VerifyWithPlatform(out why); });
                    t.Start();
                    t.Join();
                    Assert.IsFalse(trusted);
                    StringAssert.Contains("UnknownIssuer", why);
                    // Our own verdict through the connection.
                    c.SetVerdict(false, "mine");
                    Drive.Finished(c);
                    StringAssert.Contains("mine", c.CloseReason);
                }
            });
        }

        [Test]
        public void AVerifierOfYourOwnRunsOffThePumpingThread()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                cfg.ExternalVerification = WsExternalVerification.UnknownIssuer;
                int pumping = Thread.CurrentThread.ManagedThreadId;
                int verifying = 0;
                string host = null;
                c.PlatformTrust = new WsPlatformTrust((chain, name) =>
                {
                    verifying = Thread.CurrentThread.ManagedThreadId;
                    host = name;
                    Thread.Sleep(50); // a slow verifier does not stall Pump
                    return chain.Length > 0 ? null : "empty";
                });
                c.Connect(Url, cfg);
                Drive.Open(c);
                Assert.AreNotEqual(0, verifying);
                Assert.AreNotEqual(pumping, verifying, "verified on a worker thread");
                Assert.AreEqual("localhost", host);
            }
        }

        [Test]
        public void SystemRootsAndTheirCounts()
        {
            using (var cfg = new WsConfig())
            {
                Assert.IsFalse(cfg.UseSystemRoots);
                Assert.AreEqual(0, cfg.SystemRootsLoaded);
                cfg.UseSystemRoots = true; // Debian's bundle (or SSL_CERT_FILE)
                Assert.IsTrue(cfg.UseSystemRoots);
                Assert.Greater(cfg.SystemRootsLoaded, 0);
                Assert.GreaterOrEqual(cfg.SystemRootsSkipped, 0);
                cfg.UseSystemRoots = false;
                Assert.AreEqual(0, cfg.SystemRootsLoaded);
            }
        }

        [Test]
        public void ClientCertificateWithExternalVerificationIsRefused()
        {
            using (var cfg = new WsConfig())
            {
                cfg.ExternalVerification = WsExternalVerification.UnknownIssuer;
                cfg.SetClientCertificatePem(System.IO.File.ReadAllText(TestEnv.Require("WSM_CA_PEM").Replace("ca.pem", "server.pem")),
                    System.IO.File.ReadAllText(TestEnv.Require("WSM_CA_PEM").Replace("ca.pem", "server.key")));
                var e = Assert.Throws<WsMisuseException>(() => new WsClient(cfg, TestEnv.WssUrl()));
                StringAssert.Contains("client certificate", e.Message);
            }
        }
    }
}
