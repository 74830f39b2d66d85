// A game's life (issue 16): pause and resume with a liveness probe, clock jumps, dead
// links, reconnects that resume TLS, the send policies, Happy Eyeballs against a real
// black hole, the close codes worth retrying, and the event facade. Real servers on
// loopback; a fake clock makes minutes and hours pass at once (the library never reads
// a clock), so nothing here sleeps longer than a real round trip.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class LifecycleTests
    {
        private const long Minute = 60 * 1000;
        private const long Hour = 60 * Minute;

        /// <summary>Pumps (relay and) reconnector at the fixed fake time <paramref name="t"/> at least once, then until <paramref name="done"/>, for at most 10 real seconds.</summary>
        private static void At(WsReconnector r, Relay relay, long t, Func<bool> done, string what)
        {
            var clock = new Clock();
            for (;;)
            {
                if (relay != null) relay.Pump();
                r.Pump(t);
                if (done()) return;
                if (clock.Now > Drive.TimeoutMs)
                {
                    Assert.Fail("timed out waiting for " + what + "; state " + r.Connection.State + ", reason " + r.Connection.CloseReason);
                }
                Thread.Sleep(1);
            }
        }

        /// <summary>The same for a bare connection.</summary>
        private static void At(WsSocketConnection c, Relay relay, long t, Func<bool> done, string what)
        {
            var clock = new Clock();
            for (;;)
            {
                if (relay != null) relay.Pump();
                c.Pump(t);
                if (done()) return;
                if (clock.Now > Drive.TimeoutMs)
                {
                    Assert.Fail("timed out waiting for " + what + "; state " + c.State + ", reason " + c.CloseReason);
                }
                Thread.Sleep(1);
            }
        }

        /// <summary>The next text message, skipping pongs (keepalive and probe answers).</summary>
        private static string NextText(WsSocketConnection c, Relay relay, long t)
        {
            string text = null;
            At(c, relay, t, () =>
            {
                WsMessage m;
                while (text == null && c.TryReceive(out m))
                {
                    if (m.IsText) text = m.GetText();
                }
                return text != null || c.IsFinished;
            }, "a text message");
            Assert.IsNotNull(text, "no text message; state " + c.State + ": " + c.CloseReason);
            return text;
        }

        private static WsConfig QuietPeerConfig()
        {
            // Pings every second, dead after three quiet seconds: any pause is far longer.
            return new WsConfig().SetKeepaliveInterval(1000).SetIdleTimeout(3000);
        }

        // ----- pause and resume ------------------------------------------------------

        [Test]
        public void PauseOfFiveMinutesWithTheServerAliveProbesAndStaysOpen()
        {
            using (var cfg = QuietPeerConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                long t = 1000;
                At(c, null, t, () => c.IsOpen || c.IsFinished, "Open");
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);

                c.OnApplicationPause(true);
                Assert.IsTrue(c.IsPaused);
                t += 5 * Minute;
                c.OnApplicationPause(false);
                c.Pump(t);
                Assert.AreEqual(WsConnectionState.Open, c.State, "no idle timeout for the pause: " + c.CloseReason);
                Assert.IsTrue(c.IsProbing, "a probe went out instead of trusting the socket");
                At(c, null, t + 100, () => !c.IsProbing || c.IsFinished, "the probe's answer");
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);

                c.SendText("after the pause");
                Assert.AreEqual("after the pause", NextText(c, null, t + 200));
                // The normal timers run again from the answer: a live server keeps it open.
                for (long u = t + 250; u <= t + 6000; u += 250)
                {
                    At(c, null, u, () => true, "a tick");
                    WsMessage m;
                    while (c.TryReceive(out m)) { }
                    Thread.Sleep(2);
                }
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
            }
        }

        [Test]
        public void APauseIsMeasuredOnTheWallClockWhenThePumpClockStoodStill()
        {
            // A monotonic clock can stop while an iOS device sleeps: OnApplicationPause
            // also measures the pause on the wall clock.
            using (var cfg = QuietPeerConfig())
            using (var c = new WsSocketConnection())
            {
                c.ResumeProbeThresholdMs = 50;
                c.Connect("ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                At(c, null, 0, () => c.IsOpen, "Open");
                c.OnApplicationPause(true);
                c.OnApplicationPause(false); // at once: no probe
                c.Pump(0);
                Assert.IsFalse(c.IsProbing, "a pause shorter than the threshold");
                c.OnApplicationPause(true);
                Thread.Sleep(80);
                c.OnApplicationPause(false);
                c.Pump(0); // the Pump clock did not move
                Assert.IsTrue(c.IsProbing);
                At(c, null, 0, () => !c.IsProbing || c.IsFinished, "the probe's answer");
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
            }
        }

        [Test]
        public void ClockJumpOfAnHourProbesInsteadOfTimingOut()
        {
            using (var cfg = QuietPeerConfig())
            using (var c = new WsSocketConnection())
            using (var control = new WsSocketConnection())
            {
                string url = "ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/";
                // Control: with the probe disabled, the jump is an idle timeout (the old behaviour).
                control.ResumeProbeThresholdMs = long.MaxValue;
                control.Connect(url, cfg);
                At(control, null, 0, () => control.IsOpen, "Open");
                control.Pump(Hour);
                Assert.AreEqual(WsConnectionState.TimedOut, control.State);

                c.Connect(url, cfg);
                At(c, null, 0, () => c.IsOpen, "Open");
                c.Pump(Hour); // no OnApplicationPause: Pump sees the gap itself
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                Assert.IsTrue(c.IsProbing);
                At(c, null, Hour + 10, () => !c.IsProbing || c.IsFinished, "the probe's answer");
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                c.SendText("still here");
                Assert.AreEqual("still here", NextText(c, null, Hour + 20));
            }
        }

        [Test]
        public void ServerKilledWhilePausedIsLostAtTheProbeDeadlineAndReopensResumed()
        {
            // A Node wss server with fixed ticket keys, killed during the pause and started
            // again on the same port (a restart or a deploy). The relay stands for the
            // network: frozen, it tells the client nothing of the kill, as a NAT that
            // forgot the connection during a phone's background time does.
            string keys = Path.GetTempFileName();
            var keyBytes = new byte[48]; // Node's ticketKeys: name, HMAC and AES keys
            new Random().NextBytes(keyBytes);
            File.WriteAllBytes(keys, keyBytes);
            NodeServer server = NodeServer.Start(0, keys);
            int port = server.Port;
            try
            {
                using (var relay = new Relay(port))
                using (var cfg = TestEnv.TrustedConfig().SetKeepaliveInterval(1000).SetIdleTimeout(3000))
                using (var c = new WsSocketConnection())
                {
                    c.Connect("wss://localhost:" + relay.Port + "/", cfg);
                    var r = new WsReconnector(c, 500, 4000, 0);
                    var events = new List<string>();
                    string lostReason = null;
                    r.Reconnecting += (n, d) =>
                    {
                        events.Add("reconnecting " + n + " " + d + " after " + c.State);
                        lostReason = c.CloseReason;
                    };
                    r.Reopened += resumed => events.Add("reopened " + resumed);
                    long t = 0;
                    At(r, relay, t, () => c.IsOpen || c.IsFinished, "Open");
                    Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                    c.SendText("before"); // a round trip also brings the session ticket
                    Assert.AreEqual("before", NextText(c, relay, t));
                    Assert.IsFalse(c.IsResumed);

                    r.OnApplicationPause(true);
                    relay.FreezeExisting();
                    server.Kill();
                    t += 5 * Minute;
                    r.OnApplicationPause(false);
                    r.Pump(t);
                    Assert.AreEqual(WsConnectionState.Open, c.State, "probing, not timed out");
                    Assert.IsTrue(c.IsProbing);
                    r.Pump(t + c.ProbeTimeoutMs - 1);
                    Assert.AreEqual(WsConnectionState.Open, c.State);
                    CollectionAssert.IsEmpty(events);
                    r.Pump(t + c.ProbeTimeoutMs);
                    // Lost at the probe deadline (not the idle timeout), and found dead on
                    // resume, so the reconnect started at once, in the same Pump.
                    CollectionAssert.AreEqual(new[] { "reconnecting 1 0 after Lost" }, events);
                    StringAssert.Contains("no answer to the liveness probe within 5000 ms", lostReason);
                    Assert.AreEqual(1, r.Attempts);
                    Assert.That(c.State == WsConnectionState.Resolving || c.State == WsConnectionState.Connecting
                        || c.State == WsConnectionState.Handshaking, "reconnecting: " + c.State);

                    server = NodeServer.Start(port, keys);
                    long again = t + c.ProbeTimeoutMs;
                    At(r, relay, again, () => c.IsOpen || c.IsFinished, "the reopen");
                    Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                    Assert.IsTrue(c.IsResumed, "the restarted server took the old session ticket");
                    CollectionAssert.AreEqual(new[] { "reconnecting 1 0 after Lost", "reopened True" }, events);
                    c.SendText("after");
                    Assert.AreEqual("after", NextText(c, relay, again));
                }
            }
            finally
            {
                server.Kill();
                File.Delete(keys);
            }
        }

        // ----- sends while not open --------------------------------------------------

        private static void LoseAndWait(WsReconnector r, Relay relay, long t)
        {
            relay.Reset();
            At(r, relay, t, () => r.Connection.IsFinished, "Lost");
            Assert.AreEqual(WsConnectionState.Lost, r.Connection.State);
        }

        [Test]
        public void SendsWhileReconnectingAreRefusedByDefault()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                Assert.AreEqual(WsSendPolicy.Refuse, r.SendPolicy);
                Assert.AreEqual(WsSendStatus.NotOpen, r.SendText("too early"));
                At(r, relay, 0, () => c.IsOpen, "Open");
                Assert.AreEqual(WsSendStatus.Sent, r.SendText("one"));
                Assert.AreEqual("one", NextText(c, relay, 0));
                LoseAndWait(r, relay, 100);
                Assert.AreEqual(WsSendStatus.NotOpen, r.SendText("lost"));
                Assert.AreEqual(WsSendStatus.NotOpen, r.SendBinary(new byte[3], 0, 3));
                Assert.AreEqual(0, r.QueuedSends);
                At(r, relay, 600, () => c.IsOpen, "the reopen");
                Assert.AreEqual(WsSendStatus.Sent, r.SendText("two"));
                Assert.AreEqual("two", NextText(c, relay, 600), "nothing refused was sent later");
            }
        }

        [Test]
        public void SendsWhileReconnectingAreQueuedBoundedAndDeliveredInOrder()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                r.SendPolicy = WsSendPolicy.Queue;
                r.MaxQueuedSendBytes = 10;
                At(r, relay, 0, () => c.IsOpen, "Open");
                LoseAndWait(r, relay, 100);
                Assert.AreEqual(WsSendStatus.Queued, r.SendText("one"));
                Assert.AreEqual(WsSendStatus.Queued, r.SendBinary(Encoding.UTF8.GetBytes("xtwox"), 1, 3));
                Assert.AreEqual(WsSendStatus.QueueFull, r.SendText("three"), "3 + 3 + 5 > 10 bytes");
                Assert.AreEqual(WsSendStatus.Queued, r.SendText("four"));
                Assert.AreEqual(10, r.QueuedSendBytes);
                Assert.AreEqual(3, r.QueuedSends);
                r.Pump(600); // the reconnect starts: still not open
                Assert.AreNotEqual(WsConnectionState.Open, c.State);
                Assert.AreEqual(WsSendStatus.QueueFull, r.SendText("!"));
                At(r, relay, 600, () => c.IsOpen, "the reopen");
                Assert.AreEqual(0, r.QueuedSends, "sent on the reopen");
                Assert.AreEqual(WsSendStatus.Sent, r.SendText("five"));
                var got = new List<string>();
                At(r, relay, 600, () =>
                {
                    WsMessage m;
                    while (c.TryReceive(out m))
                    {
                        if (m.IsText || m.IsBinary) got.Add((m.IsText ? "t:" : "b:") + m.GetText());
                    }
                    return got.Count >= 4;
                }, "four echoes");
                CollectionAssert.AreEqual(new[] { "t:one", "b:two", "t:four", "t:five" }, got);
            }
        }

        // ----- dead links ------------------------------------------------------------

        [Test]
        public void ResetMidMessageIsLostAndReconnects()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                At(r, relay, 0, () => c.IsOpen, "Open");
                relay.DownBudget = 1000; // the echo stops after 1000 bytes, inside the message
                c.SendBinary(new byte[100000], 0, 100000);
                At(r, relay, 0, () => relay.DownBudget == 0, "the first 1000 bytes of the echo");
                r.Pump(0);
                Assert.AreEqual(WsConnectionState.Open, c.State);
                relay.Reset();
                relay.DownBudget = -1;
                At(r, relay, 0, () => c.IsFinished, "Lost");
                Assert.AreEqual(WsConnectionState.Lost, c.State);
                StringAssert.Contains("ConnectionReset", c.CloseReason);
                WsMessage m;
                Assert.IsTrue(c.TryReceive(out m));
                Assert.AreEqual(WsMessageKind.Close, m.Kind, "the partial message is not delivered");
                Assert.AreEqual(1006, m.CloseCode);
                At(r, relay, 500, () => c.IsOpen, "the reopen");
                c.SendText("again");
                Assert.AreEqual("again", NextText(c, relay, 500));
            }
        }

        [Test]
        public void AnAddressThatStopsAnsweringEndsAndReconnects()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = QuietPeerConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                var ends = new List<string>();
                r.Reconnecting += (n, d) => ends.Add(c.State + " then reconnect in " + d);
                At(r, relay, 0, () => c.IsOpen, "Open");

                // In play: the path goes silent; the idle timeout ends it (TimedOut).
                relay.FreezeExisting();
                long t = 0;
                while (!c.IsFinished && t < 10000)
                {
                    t += 250;
                    relay.Pump();
                    r.Pump(t);
                }
                Assert.AreEqual(WsConnectionState.TimedOut, c.State);
                Assert.That(t >= 3000 && t <= 3250, "idle timeout at " + t);
                long reopenAt = r.NextAttemptAtMs;
                At(r, relay, reopenAt, () => c.IsOpen, "the reopen");
                c.SendText("new path");
                Assert.AreEqual("new path", NextText(c, relay, reopenAt));

                // While paused: the path goes silent again; the probe on resume ends it
                // (Lost) and the reconnect starts at once.
                relay.FreezeExisting();
                r.OnApplicationPause(true);
                long now = reopenAt + 10 * Minute;
                r.OnApplicationPause(false);
                r.Pump(now);
                Assert.IsTrue(c.IsProbing);
                r.Pump(now + c.ProbeTimeoutMs);
                CollectionAssert.AreEqual(new[] { "TimedOut then reconnect in 500", "Lost then reconnect in 0" }, ends);
                At(r, relay, now + c.ProbeTimeoutMs, () => c.IsOpen, "the second reopen");
                c.SendText("another path");
                Assert.AreEqual("another path", NextText(c, relay, now + c.ProbeTimeoutMs));
            }
        }

        // ----- Happy Eyeballs --------------------------------------------------------

        [Test]
        public void HappyEyeballsConnectsThroughTheSecondFamilyPastABlackHole()
        {
            // scripts/test-csharp.sh runs the tests in a private network namespace where
            // 10.9.9.9 is routed into lo: the kernel drops the SYN (not a local address, no
            // forwarding), so a connect gets no answer at all, no RST, no ICMP. The host
            // name resolves (hosts file, gai.conf preferring IPv4) to 10.9.9.9 first, ::1 second.
            string host = TestEnv.Require("WSM_BLACKHOLE_HOST");
            IPAddress hole = IPAddress.Parse(TestEnv.Require("WSM_BLACKHOLE_ADDR"));
            IPAddress[] resolved = Dns.GetHostAddresses(host);
            Assert.AreEqual(hole, resolved[0], "the black hole comes first");
            Assert.AreEqual(IPAddress.IPv6Loopback, resolved[1]);
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT"), 0, IPAddress.IPv6Loopback))
            using (var cfg = new WsConfig())
            using (var probe = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
            using (var patient = new WsSocketConnection())
            using (var c = new WsSocketConnection())
            {
                // The black hole is real: a connect to it neither succeeds nor fails.
                probe.Blocking = false;
                try { probe.Connect(new IPEndPoint(hole, relay.Port)); } catch (SocketException) { }
                Assert.IsFalse(probe.Poll(300000, SelectMode.SelectWrite), "connected to the black hole?");
                Assert.IsFalse(probe.Poll(0, SelectMode.SelectError), "the black hole answered");

                string url = "ws://" + host + ":" + relay.Port + "/";
                // Control: without racing (a stagger longer than the test), the first address eats the time.
                patient.ConnectStaggerMs = Minute;
                patient.Connect(url, cfg);
                var clock = new Clock();
                while (clock.Now < 300)
                {
                    relay.Pump();
                    patient.Pump(clock.Now);
                    Thread.Sleep(2);
                }
                Assert.AreEqual(WsConnectionState.Connecting, patient.State);

                c.Connect(url, cfg);
                At(c, relay, 0, () => c.State != WsConnectionState.Resolving, "DNS");
                c.Pump(c.ConnectStaggerMs - 1);
                Assert.AreEqual(WsConnectionState.Connecting, c.State, "one attempt, to the black hole");
                // At the stagger the second family starts; it connects within one round trip
                // while the fake clock stands still.
                At(c, relay, c.ConnectStaggerMs, () => c.IsOpen || c.IsFinished, "Open via ::1");
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                Assert.AreEqual(IPAddress.IPv6Loopback, c.RemoteEndPoint.Address);
            }
        }

        [Test]
        public void AnAddressThatNeverAnswersIsAbandonedAtTheAttemptTimeout()
        {
            IPAddress hole = IPAddress.Parse(TestEnv.Require("WSM_BLACKHOLE_ADDR"));
            using (var cfg = new WsConfig().SetHandshakeTimeout(60000))
            using (var c = new WsSocketConnection())
            {
                c.ConnectAttemptTimeoutMs = 1000;
                c.Connect("ws://" + hole + ":80/", cfg);
                c.Pump(0);
                Thread.Sleep(50); // long enough for any RST or ICMP to come back on lo
                c.Pump(999);
                Assert.AreEqual(WsConnectionState.Connecting, c.State);
                c.Pump(1000);
                Assert.AreEqual(WsConnectionState.Failed, c.State, "not the 60 s handshake timeout");
                StringAssert.Contains("connecting to " + hole + ":80 failed: TimedOut", c.CloseReason);
            }
        }

        [Test]
        public void EveryAddressFailingEndsWithTheLastError()
        {
            // Two addresses that refuse at once (nothing listens): both are tried, then Failed.
            int closedPort;
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            closedPort = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://localhost:" + closedPort + "/", cfg);
                At(c, null, 0, () => c.IsFinished, "Failed");
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                StringAssert.Contains("ConnectionRefused", c.CloseReason);
            }
        }

        [Test]
        public void AddressesAlternateFamiliesFromTheFirst()
        {
            IPAddress a4 = IPAddress.Parse("192.0.2.1"), b4 = IPAddress.Parse("192.0.2.2"), c4 = IPAddress.Parse("192.0.2.3");
            IPAddress a6 = IPAddress.Parse("2001:db8::1"), b6 = IPAddress.Parse("2001:db8::2");
            CollectionAssert.AreEqual(new[] { a6, a4, b6, b4, c4 },
                WsSocketConnection.Interleave(new[] { a6, b6, a4, b4, c4 }));
            CollectionAssert.AreEqual(new[] { a4, a6, b4, b6, c4 },
                WsSocketConnection.Interleave(new[] { a4, b4, c4, a6, b6 }));
        }

        [Test]
        public void DnsWithoutAsyncSupportNeverBlocksPump()
        {
            WsSocketConnection.ForceDnsFallback = true;
            try
            {
                using (var cfg = new WsConfig())
                using (var c = new WsSocketConnection())
                {
                    c.Connect("ws://localhost:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                    Assert.AreEqual(WsConnectionState.Resolving, c.State, "Connect returns before the lookup");
                    c.Pump(0);
                    Drive.Open(c);
                }
            }
            finally
            {
                WsSocketConnection.ForceDnsFallback = false;
            }
        }

        [Test]
        public void PumpWithTheBuiltInClockOpensAndEchoes()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                long before = WsSocketConnection.MonotonicMs;
                var clock = new Clock();
                while (!c.IsOpen && !c.IsFinished && clock.Now < Drive.TimeoutMs)
                {
                    c.Pump();
                    Thread.Sleep(1);
                }
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                Assert.GreaterOrEqual(WsSocketConnection.MonotonicMs, before);
            }
        }

        // ----- close codes -----------------------------------------------------------

        private static WsReconnector ClosedBy(WsSocketConnection c, WsConfig cfg, ushort code, List<string> events)
        {
            c.Connect("ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/close?code=" + code, cfg);
            var r = new WsReconnector(c, 500, 4000, 0);
            r.Reconnecting += (n, d) => events.Add("reconnecting " + n);
            At(r, null, 0, () => c.IsFinished, "the server's close");
            Assert.AreEqual(WsConnectionState.Closed, c.State);
            Assert.AreEqual(code, c.CloseCode);
            return r;
        }

        [Test]
        public void ServerClosesWith1001_1012_1013AreRetried([Values((ushort)1001, (ushort)1012, (ushort)1013)] ushort code)
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                var events = new List<string>();
                WsReconnector r = ClosedBy(c, cfg, code, events);
                CollectionAssert.AreEqual(new[] { "reconnecting 1" }, events);
                Assert.AreEqual(500, r.NextAttemptAtMs);
                At(r, null, 500, () => r.Attempts == 1 && c.IsFinished, "the second close");
                Assert.AreEqual(code, c.CloseCode, "reconnected, and closed again by the same server");
            }
        }

        [Test]
        public void ANormalCloseIsNotRetriedUnlessAsked()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                var events = new List<string>();
                WsReconnector r = ClosedBy(c, cfg, 1000, events);
                r.Pump(100000);
                Assert.AreEqual(-1, r.NextAttemptAtMs);
                CollectionAssert.IsEmpty(events);
                r.RetryNormalClose = true;
                r.Pump(100000);
                Assert.AreEqual(100500, r.NextAttemptAtMs);
                CollectionAssert.AreEqual(new[] { "reconnecting 1" }, events);
            }
        }

        [Test]
        public void OurOwnCloseIsNeverRetried()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                r.RetryNormalClose = true;
                At(r, null, 0, () => c.IsOpen, "Open");
                c.Close(1001, "leaving"); // the server echoes 1001: still ours
                At(r, null, 0, () => c.IsFinished, "Closed");
                Assert.AreEqual(1001, c.CloseCode);
                Assert.IsTrue(c.ClosedLocally);
                r.Pump(100000);
                Assert.AreEqual(-1, r.NextAttemptAtMs);
            }
        }

        [Test]
        public void GivesUpAfterMaxAttempts()
        {
            int closedPort;
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            closedPort = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + closedPort + "/", cfg);
                var r = new WsReconnector(c, 100, 400, 0);
                r.MaxAttempts = 2;
                var events = new List<string>();
                r.Reconnecting += (n, d) => events.Add("reconnecting " + n + " " + d);
                r.GaveUp += why => events.Add("gave up");
                long t = 0;
                At(r, null, t, () => c.IsFinished, "refused");
                for (int i = 0; i < 10 && !r.HasGivenUp; i++)
                {
                    t = Math.Max(t, r.NextAttemptAtMs);
                    At(r, null, t, () => c.IsFinished, "refused");
                    r.Pump(t);
                }
                CollectionAssert.AreEqual(new[] { "reconnecting 1 100", "reconnecting 2 200", "gave up" }, events);
                Assert.AreEqual(2, r.Attempts);
            }
        }

        // ----- the event facade ------------------------------------------------------

        [Test]
        public void EventFacadeRaisesInOrderOnlyInsideDispatchOnTheCallingThread()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var ws = new WsEventSocket("ws://127.0.0.1:" + relay.Port + "/", cfg))
            {
                var events = new List<string>();
                int thread = Thread.CurrentThread.ManagedThreadId;
                bool inside = false;
                Action<string> note = e =>
                {
                    Assert.IsTrue(inside, e + " raised outside DispatchMessageQueue");
                    Assert.AreEqual(thread, Thread.CurrentThread.ManagedThreadId, e + " raised on another thread");
                    events.Add(e);
                };
                ws.OnOpen += () => note("open");
                ws.OnMessage += (data, isText) => note((isText ? "text " : "binary ") + Encoding.UTF8.GetString(data));
                ws.OnError += why => note("error");
                ws.OnClose += (code, reason) => note("close " + code);
                long t = 0;
                Func<Func<bool>, bool> until = done =>
                {
                    var clock = new Clock();
                    while (!done() && clock.Now < Drive.TimeoutMs)
                    {
                        relay.Pump();
                        inside = true;
                        ws.DispatchMessageQueue(t);
                        inside = false;
                        Thread.Sleep(1);
                    }
                    return done();
                };
                ws.Connect();
                Assert.IsTrue(until(() => events.Count == 1), "open");
                Assert.AreEqual(WsSendStatus.Sent, ws.SendText("a"));
                Assert.AreEqual(WsSendStatus.Sent, ws.Send(Encoding.UTF8.GetBytes("b")));
                Assert.IsTrue(until(() => events.Count == 3), "two messages");
                relay.Reset();
                Assert.IsTrue(until(() => events.Count == 5), "the loss");
                t = 1000; // past the reconnector's default first delay (500 ms)
                Assert.IsTrue(until(() => events.Count == 6), "the reopen");
                ws.Close();
                Assert.IsTrue(until(() => events.Count == 7), "the close");
                CollectionAssert.AreEqual(new[]
                {
                    "open", "text a", "binary b", "error", "close 1006", "open", "close 1000",
                }, events);
            }
        }
    }

    /// <summary>tests/peers/node/restart_server.js: a wss echo server we can kill and start again.</summary>
    internal sealed class NodeServer
    {
        private Process _process;
        public int Port;

        public static NodeServer Start(int port, string ticketKeys)
        {
            string root = Path.GetDirectoryName(Path.GetDirectoryName(TestEnv.Require("WSM_HEADER")));
            string certs = Path.GetDirectoryName(TestEnv.Require("WSM_CA_PEM"));
            var psi = new ProcessStartInfo("node")
            {
                Arguments = "\"" + Path.Combine(root, "tests/peers/node/restart_server.js") + "\" --port " + port
                    + " --cert \"" + Path.Combine(certs, "server.pem") + "\" --key \"" + Path.Combine(certs, "server.key")
                    + "\" --ticket-keys \"" + ticketKeys + "\"",
                UseShellExecute = false,
                RedirectStandardOutput = true,
            };
            var s = new NodeServer { _process = Process.Start(psi) };
            string line = s._process.StandardOutput.ReadLine(); // "PORT n", or null if it died
            Assert.IsNotNull(line, "restart_server.js did not start (node, tests/peers/node/node_modules?)");
            s.Port = int.Parse(line.Substring(5));
            return s;
        }

        /// <summary>SIGKILL: no close frame, no goodbye.</summary>
        public void Kill()
        {
            if (_process == null) return;
            try
            {
                if (!_process.HasExited) _process.Kill();
                _process.WaitForExit(5000);
            }
            catch (InvalidOperationException)
            {
            }
            _process.Dispose();
            _process = null;
        }
    }
}
