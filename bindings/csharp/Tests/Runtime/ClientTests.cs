// The sans-IO layer (WsConfig, WsClient) driven by hand over a blocking loopback socket,
// and the checking layer: which exception each failure raises, with which message.

using System;
using System.Linq;
using System.Text;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class ClientTests
    {
        private static SansIoHarness OpenHarness(WsConfig cfg, string url)
        {
            var h = new SansIoHarness(cfg, url);
            h.StepUntil(() => h.Client.State == WsState.Open, "Open");
            return h;
        }

        [Test]
        public void ProbeIsAnsweredAndRefusedWhenNotOpen()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
            {
                var e = Assert.Throws<WsMisuseException>(() => h.Client.Probe(0, 1000));
                Assert.AreEqual(WsResult.InvalidState, e.Result);
                Assert.Throws<ArgumentOutOfRangeException>(() => h.Client.Probe(0, 0));
                h.StepUntil(() => h.Client.State == WsState.Open, "Open");
                h.Client.Probe(0, 3600000); // the harness ticks a real clock from 0
                Assert.AreEqual(3600000L, h.Client.NextDeadline, "the probe's deadline");
                h.StepUntil(() => h.Messages.Exists(m => m.Key.Kind == WsMessageKind.Pong), "the probe's pong");
                Assert.AreEqual(WsState.Open, h.Client.State);
                Assert.Less(h.Client.NextDeadline.Value, 3600000L, "answered: the normal timers again");
            }
        }

        [Test]
        public void HandshakeOverWssWithPrivateCa()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
            {
                Assert.AreEqual(WsState.TlsHandshaking, h.Client.State);
                Assert.IsNull(h.Client.TlsVersion);
                Assert.AreEqual(0, h.Client.HttpStatus);
                Assert.Greater(h.Client.PendingOutput, 0, "the ClientHello is ready at once");
                Assert.AreEqual(0L, h.Client.NextDeadline, "0 before the first tick");
                h.StepUntil(() => h.Client.State == WsState.Open, "Open");
                Assert.AreEqual(101, h.Client.HttpStatus);
                Assert.AreEqual(WsTlsVersion.Tls13, h.Client.TlsVersion);
                Assert.IsNull(h.Client.Subprotocol);
                Assert.IsFalse(h.Client.IsResumed);
                Assert.IsNotNull(h.Client.NextDeadline, "keepalive and idle timers run while open");
            }
        }

        [Test]
        public void EchoThroughBorrowedAndCopiedPolls()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
            {
                h.Client.SendText("héllo");
                h.Client.SendBinary(new byte[] { 0, 1, 2, 255 }, 1, 3);
                h.Client.SendText(new ReadOnlySpan<byte>(Encoding.UTF8.GetBytes("span")));
                h.StepUntil(() => h.Messages.Count >= 3, "3 echoes");
                Assert.AreEqual(WsMessageKind.Text, h.Messages[0].Key.Kind);
                Assert.AreEqual("héllo", Encoding.UTF8.GetString(h.Messages[0].Value));
                Assert.AreEqual(WsMessageKind.Binary, h.Messages[1].Key.Kind);
                CollectionAssert.AreEqual(new byte[] { 1, 2, 255 }, h.Messages[1].Value);
                                Assert.AreEqual("span", Encoding.UTF8.GetString(h.Messages[2].Value));
                // Trimming releases retained buffers; the connection goes on working.
                h.Client.Trim();
                h.Client.SendText("after trim");
                h.StepUntil(() => h.Messages.Count >= 4, "echo after Trim");
                Assert.AreEqual("after trim", Encoding.UTF8.GetString(h.Messages[3].Value));
            }
        }

        [Test]
        public void CopyingPollReportsTheSizeNeededAndKeepsTheMessage()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = OpenHarness(cfg, TestEnv.WsUrl()))
            {
                h.AutoPoll = false;
                byte[] payload = TestEnv.Pattern(1000, 1);
                h.Client.SendBinary(payload, 0, payload.Length);
                byte[] small = new byte[10];
                WsMessage m = default(WsMessage);
                WsPollStatus s = WsPollStatus.NeedInput;
                h.StepUntil(() => (s = h.Client.PollMessage(small, 0, small.Length, out m)) != WsPollStatus.NeedInput, "the echo");
                Assert.AreEqual(WsPollStatus.BufferTooSmall, s);
                Assert.AreEqual(1000, m.Length, "the size needed");
                byte[] big = small;
                Assert.IsTrue(h.Client.TryPollMessage(ref big, out m), "the message stayed queued");
                Assert.GreaterOrEqual(big.Length, 1000);
                Assert.AreSame(big, m.Array);
                Assert.IsFalse(m.IsBorrowed);
                Assert.AreEqual(WsMessageKind.Binary, m.Kind);
                CollectionAssert.AreEqual(payload, m.ToArray());
                Assert.AreEqual(WsPollStatus.NeedInput, h.Client.PollMessage(big, 0, big.Length, out m));
                Assert.IsTrue(m.IsValid, "a copy into a caller buffer never goes stale");
            }
        }

        [Test]
        public void BorrowedViewIsInvalidAfterTheNextPoll()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = OpenHarness(cfg, TestEnv.WsUrl()))
            {
                h.Client.Ping(new byte[] { 7, 8 }, 0, 2);
                h.StepUntil(() => h.Messages.Count > 0, "the pong");
                WsMessage pong = h.Messages[0].Key;
                Assert.AreEqual(WsMessageKind.Pong, pong.Kind);
                CollectionAssert.AreEqual(new byte[] { 7, 8 }, h.Messages[0].Value);
                Assert.IsTrue(pong.IsBorrowed);
                Assert.IsFalse(pong.IsValid, "later polls invalidated the view");
                Assert.Throws<InvalidOperationException>(() => pong.ToArray());
                Assert.AreEqual(2, pong.Length, "metadata stays readable");
            }
        }

        [Test]
        public void UntrustedCertificateRaisesTlsExceptionNamingTheProblem()
        {
            using (var cfg = new WsConfig()) // built-in roots only: the private CA is unknown
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
            {
                var e = Assert.Throws<WsTlsException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsResult.CertUntrusted, e.Result);
                Assert.AreEqual(WsCertificateError.Untrusted, e.CertificateError);
                StringAssert.Contains("certificate", e.Message);
                StringAssert.Contains("UnknownIssuer", e.Message);
                StringAssert.Contains("CertUntrusted", e.Message);
                Assert.AreEqual(WsState.Failed, h.Client.State);
                StringAssert.Contains("UnknownIssuer", h.Client.LastError);
                // Sticky: every later call raises the same failure.
                var again = Assert.Throws<WsTlsException>(() => h.Client.Tick(1));
                Assert.AreEqual(WsResult.CertUntrusted, again.Result);
                Assert.Throws<WsTlsException>(() => h.Client.SendText("x"));
            }
        }

        [Test]
        public void SameServerWorksOnceItsCaIsAdded()
        {
            using (var cfg = new WsConfig())
            {
                using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
                {
                    Assert.Throws<WsTlsException>(() => h.StepUntil(() => false, "the failure"));
                }
                cfg.AddRootPem(Encoding.ASCII.GetBytes(TestEnv.CaPem));
                using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
                {
                    Assert.AreEqual(101, h.Client.HttpStatus);
                }
            }
        }

        [Test]
        public void ExpiredCertificateIsToldApart()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.ExpiredUrl()))
            {
                var e = Assert.Throws<WsTlsException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsCertificateError.Expired, e.CertificateError);
                Assert.AreEqual(WsResult.CertExpired, e.Result);
            }
        }

        [Test]
        public void WrongHostIsToldApart()
        {
            using (var cfg = TestEnv.TrustedConfig().SetServerName("example.com"))
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
            {
                var e = Assert.Throws<WsTlsException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsCertificateError.WrongHost, e.CertificateError);
            }
        }

        [Test]
        public void PinnedKeyWithCaWorksAndAWrongPinNamesTheKey()
        {
            string pin = TestEnv.Require("WSM_SERVER_PIN"); // base64 SHA-256 of server.pem's SPKI
            using (var cfg = TestEnv.TrustedConfig().AddPinSha256(pin))
            using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
            {
                Assert.AreEqual(101, h.Client.HttpStatus);
            }
            using (var cfg = TestEnv.TrustedConfig().AddPinSha256(new byte[32]))
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl()))
            {
                var e = Assert.Throws<WsTlsException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsCertificateError.PinMismatch, e.CertificateError);
                StringAssert.Contains(pin, e.Message, "the message names the key the server presented");
            }
            using (var cfg = new WsConfig())
            {
                var e = Assert.Throws<WsMisuseException>(() => cfg.AddPinSha256(new byte[31]));
                Assert.AreEqual(WsResult.InvalidConfig, e.Result);
            }
        }

        [Test]
        public void PinOnlyTrustsTheKeyWithoutTheCa()
        {
            string pin = TestEnv.Require("WSM_SERVER_PIN");
            using (var cfg = new WsConfig().SetBuiltinRoots(false).AddPinSha256(pin).SetPinMode(WsPinMode.PinOnly))
            using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
            {
                Assert.IsFalse(h.Client.IsInsecure);
            }
        }

        [Test]
        public void InsecureModeAcceptsAnyCertificateAndSaysSo()
        {
            using (var cfg = new WsConfig().DangerousDisableCertificateVerification())
            using (var h = OpenHarness(cfg, TestEnv.ExpiredUrl()))
            {
                Assert.IsTrue(h.Client.IsInsecure);
            }
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
            {
                Assert.IsFalse(h.Client.IsInsecure);
            }
        }

        [Test]
        public void ClientCertificateIsCheckedAgainstItsKey()
        {
            string dir = System.IO.Path.GetDirectoryName(TestEnv.Require("WSM_CA_PEM"));
            string cert = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "server.pem"));
            string key = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "server.key"));
            string otherKey = System.IO.File.ReadAllText(System.IO.Path.Combine(dir, "expired.key"));
            using (var cfg = TestEnv.TrustedConfig())
            {
                var e = Assert.Throws<WsMisuseException>(() => cfg.SetClientCertificatePem(cert, otherKey));
                Assert.AreEqual(WsResult.InvalidConfig, e.Result);
                cfg.SetClientCertificatePem(cert, key);
                using (var h = OpenHarness(cfg, TestEnv.WssUrl())) // the echo server asks for none
                {
                    Assert.AreEqual(WsState.Open, h.Client.State);
                }
            }
        }

        [Test]
        public void Http403RaisesHandshakeExceptionWithStatus()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.WssUrl("/status403")))
            {
                var e = Assert.Throws<WsHandshakeException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsResult.HttpStatus, e.Result);
                Assert.AreEqual(403, e.HttpStatus);
                Assert.AreEqual(403, h.Client.HttpStatus);
                StringAssert.Contains("403", e.Message);
            }
        }

        [Test]
        public void Tls13OnlyServerWorks()
        {
            using (var cfg = TestEnv.TrustedConfig().SetMinTlsVersion(WsTlsVersion.Tls13))
            using (var h = OpenHarness(cfg, TestEnv.Wss13Url()))
            {
                Assert.AreEqual(WsTlsVersion.Tls13, h.Client.TlsVersion);
                h.Client.SendText("over 1.3");
                h.StepUntil(() => h.Messages.Count > 0, "the echo");
                Assert.AreEqual("over 1.3", Encoding.UTF8.GetString(h.Messages[0].Value));
            }
            using (var cfg = TestEnv.TrustedConfig()) // the default allows 1.2 and 1.3
            using (var h = OpenHarness(cfg, TestEnv.Wss13Url()))
            {
                Assert.AreEqual(WsTlsVersion.Tls13, h.Client.TlsVersion);
            }
        }

        [Test]
        public void PlainWsHasNoTls()
        {
            using (var cfg = new WsConfig())
            using (var h = OpenHarness(cfg, TestEnv.WsUrl()))
            {
                Assert.IsNull(h.Client.TlsVersion);
                Assert.IsFalse(h.Client.IsResumed);
            }
        }

        [Test]
        public void CloseHandshakeEndsInClosedState()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
            {
                h.Client.Close(4000, "done");
                Assert.AreEqual(WsState.Closing, h.Client.State);
                var e = Assert.Throws<WsClosedException>(() => h.Client.SendText("late"));
                Assert.AreEqual(WsResult.AlreadyClosed, e.Result);
                h.StepUntil(() => h.Client.State == WsState.Closed, "Closed");
                var close = h.Messages.Single(m => m.Key.Kind == WsMessageKind.Close);
                Assert.AreEqual(4000, close.Key.CloseCode);
                Assert.AreEqual("done", Encoding.UTF8.GetString(close.Value));
                WsMessage none;
                Assert.AreEqual(WsPollStatus.Closed, h.Client.PollMessage(out none), "WS_CLOSED is a status");
                Assert.IsFalse(h.Client.TryPollMessage(out none));
                Assert.AreEqual(0, h.Client.ReadOutput(new byte[16], 0, 16), "nothing to send is 0, not an exception");
            }
        }

        [Test]
        public void CallerErrorsRaiseMisuseWithoutFailingTheConnection()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.WsUrl()))
            {
                var early = Assert.Throws<WsMisuseException>(() => h.Client.SendText("too early"));
                Assert.AreEqual(WsResult.InvalidState, early.Result);
                h.StepUntil(() => h.Client.State == WsState.Open, "Open");
                var bad = Assert.Throws<WsMisuseException>(() => h.Client.Close(1005, null));
                Assert.AreEqual(WsResult.InvalidArgument, bad.Result);
                StringAssert.Contains("1005", bad.Message);
                var ping = Assert.Throws<WsMisuseException>(() => h.Client.Ping(new byte[126], 0, 126));
                Assert.AreEqual(WsResult.InvalidArgument, ping.Result);
                var utf8 = Assert.Throws<WsMisuseException>(() => h.Client.SendText(new byte[] { 0xff }, 0, 1));
                Assert.AreEqual(WsResult.InvalidArgument, utf8.Result);
                Assert.AreEqual(WsState.Open, h.Client.State, "caller errors are not sticky");
                h.Client.SendText("still fine");
                h.StepUntil(() => h.Messages.Count > 0, "the echo");
                Assert.Throws<ArgumentOutOfRangeException>(() => h.Client.SendBinary(new byte[4], 2, 3));
                Assert.Throws<ArgumentNullException>(() => h.Client.SendBinary(null, 0, 0));
            }
        }

        [Test]
        public void InvalidUrlAndConfigRaiseMisuseWithNativeMessages()
        {
            using (var cfg = new WsConfig())
            {
                var url = Assert.Throws<WsMisuseException>(() => new WsClient(cfg, "http://example.com/"));
                Assert.AreEqual(WsResult.InvalidUrl, url.Result);
                Assert.Greater(url.Message.Length, "(InvalidUrl 105)".Length + 5, "the detail comes from ws_last_error");
                var pem = Assert.Throws<WsMisuseException>(() => cfg.AddRootPem("not a certificate"));
                Assert.AreEqual(WsResult.InvalidConfig, pem.Result);
                var header = Assert.Throws<WsMisuseException>(() => cfg.AddHeader("Host", "evil"));
                Assert.AreEqual(WsResult.InvalidConfig, header.Result);
                var tls = Assert.Throws<WsMisuseException>(() => cfg.SetMinTlsVersion((WsTlsVersion)11));
                Assert.AreEqual(WsResult.InvalidArgument, tls.Result);
                Assert.Throws<WsMisuseException>(() => cfg.SetMaxMessageSize(0));
                Assert.IsNotNull(WsLibrary.LastThreadError);
            }
        }

        [Test]
        public void EveryConfigSetterIsAccepted()
        {
            using (var cfg = new WsConfig())
            {
                cfg.AddRootPem(TestEnv.CaPem)
                   .SetBuiltinRoots(false)
                   .SetSubprotocols("v2.game", "v1.game")
                   .AddHeader("Authorization", "Bearer test")
                   .SetServerName("localhost")
                   .SetMinTlsVersion(WsTlsVersion.Tls12)
                   .SetMaxMessageSize(2 << 20)
                   .SetMaxFrameSize(1 << 20)
                   .SetMaxHeaderSize(8192)
                   .SetMaxQueuedMessages(64)
                   .SetMaxPendingOutput(8 << 20)
                   .SetHandshakeTimeout(5000)
                   .SetCloseTimeout(1000)
                   .SetKeepaliveInterval(0)
                   .SetIdleTimeout(0);
                cfg.SetSubprotocols(null).SetServerName(null);
                using (var h = OpenHarness(cfg, TestEnv.WssUrl()))
                {
                    Assert.IsNull(h.Client.Subprotocol, "the echo server selects none");
                    Assert.IsNull(h.Client.NextDeadline, "keepalive and idle are off while open");
                }
            }
        }

        [Test]
        public void MessagesLargerThanTheLimitFailWithProtocolException()
        {
            using (var cfg = TestEnv.TrustedConfig().SetMaxMessageSize(1000))
            using (var h = OpenHarness(cfg, TestEnv.WsUrl()))
            {
                h.Client.SendBinary(new byte[2000], 0, 2000);
                var e = Assert.Throws<WsProtocolException>(() => h.StepUntil(() => false, "the failure"));
                Assert.AreEqual(WsResult.MessageTooBig, e.Result);
            }
        }
    }
}
