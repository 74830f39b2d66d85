// Peers that go silent, reset or vanish, driven with a fake clock: the library never
// reads a clock, so Pump(nowMs) with made-up times makes timeouts instant and exact.
// Through an in-process relay (pumped on this thread) that can freeze, reset or end.

using System;
using System.Collections.Generic;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class PeerLossTests
    {
        /// <summary>Pumps relay and connection with a fixed fake time for up to <paramref name="realMs"/> real ms.</summary>
        private static void Settle(WsSocketConnection c, Relay relay, long fakeNow, int realMs)
        {
            var clock = new Clock();
            while (clock.Now < realMs && !c.IsFinished)
            {
                relay.Pump();
                c.Pump(fakeNow);
                Thread.Sleep(1);
            }
        }

        [Test]
        public void HandshakeTimeoutDetectsASilentPeer()
        {
            using (var relay = new Relay(0)) // accepts, then never says anything
            using (var cfg = TestEnv.TrustedConfig().SetHandshakeTimeout(500))
            using (var c = new WsSocketConnection())
            {
                c.Connect("wss://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Until(c, () => c.State == WsConnectionState.Handshaking && relay.Accepted == 1, "TCP connected", relay, () => 0);
                Settle(c, relay, 499, 50);
                Assert.AreEqual(WsConnectionState.Handshaking, c.State, "not yet at 499 ms");
                c.Pump(500);
                Assert.AreEqual(WsConnectionState.TimedOut, c.State);
                Assert.IsInstanceOf<WsTimeoutException>(c.Error);
                Assert.AreEqual(WsResult.Timeout, c.Error.Result);
                Assert.AreEqual(1006, c.CloseCode);
                StringAssert.Contains("handshake did not complete within 500 ms", c.CloseReason);
            }
        }

        [Test]
        public void IdleTimeoutDetectsAPeerThatDisappears()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig().SetKeepaliveInterval(1000).SetIdleTimeout(3000))
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Until(c, () => c.IsOpen || c.IsFinished, "Open", relay, () => 0);
                Assert.AreEqual(WsConnectionState.Open, c.State);

                // A live peer answers the keepalive pings: no timeout over 6 fake seconds.
                int pongs = 0;
                for (long t = 250; t <= 6000; t += 250)
                {
                    Settle(c, relay, t, 15);
                    WsMessage m;
                    while (c.TryReceive(out m))
                    {
                        if (m.Kind == WsMessageKind.Pong) pongs++;
                    }
                }
                Assert.AreEqual(WsConnectionState.Open, c.State, c.CloseReason);
                Assert.Greater(pongs, 0, "keepalive pings were answered");

                // The peer vanishes (no FIN, no RST: a pulled cable or a frozen process).
                relay.Frozen = true;
                long endedAt = -1;
                for (long t = 6250; t <= 12000; t += 250)
                {
                    Settle(c, relay, t, 2);
                    if (c.IsFinished)
                    {
                        endedAt = t;
                        break;
                    }
                }
                Assert.AreEqual(WsConnectionState.TimedOut, c.State);
                Assert.That(endedAt >= 6000 + 3000 - 1000 && endedAt <= 6000 + 3000 + 250,
                    "timed out at " + endedAt + " (last data just before 6000; idle timeout 3000)");
                Assert.IsInstanceOf<WsTimeoutException>(c.Error);
                Assert.AreEqual(1006, c.CloseCode);
                StringAssert.Contains("idle timeout 3000 ms", c.CloseReason);
            }
        }

        [Test]
        public void PeerResetIsLostWith1006()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Open(c, relay);
                relay.Reset();
                Drive.Finished(c, relay);
                Assert.AreEqual(WsConnectionState.Lost, c.State);
                Assert.AreEqual(1006, c.CloseCode);
                Assert.IsNull(c.Error, "a lost peer is an ending, not a failure");
                StringAssert.Contains("ConnectionReset", c.CloseReason);
                WsMessage m;
                Assert.IsTrue(c.TryReceive(out m));
                Assert.AreEqual(WsMessageKind.Close, m.Kind);
                Assert.AreEqual(1006, m.CloseCode);
            }
        }

        [Test]
        public void PeerEofWithoutCloseFrameIsLostWith1006()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WSS_PORT")))
            using (var cfg = TestEnv.TrustedConfig().SetServerName("localhost"))
            using (var c = new WsSocketConnection())
            {
                c.Connect("wss://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Open(c, relay);
                relay.End();
                Drive.Finished(c, relay);
                Assert.AreEqual(WsConnectionState.Lost, c.State);
                Assert.AreEqual(1006, c.CloseCode);
                StringAssert.Contains("without a close frame", c.CloseReason);
            }
        }

        [Test]
        public void PeerResetDuringHandshakeIsLost()
        {
            using (var relay = new Relay(0))
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("wss://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Until(c, () => c.State == WsConnectionState.Handshaking && relay.Accepted == 1, "TCP connected", relay);
                relay.Reset();
                Drive.Finished(c, relay);
                Assert.AreEqual(WsConnectionState.Lost, c.State);
                Assert.AreEqual(WsResult.ConnectionLost, c.Error.Result);
                Assert.AreEqual(1006, c.CloseCode);
            }
        }

        /// <summary>Pumps the reconnector at a fixed fake time until the attempt settles.</summary>
        private static void PumpAt(WsReconnector r, Relay relay, long t)
        {
            var clock = new Clock();
            do
            {
                if (relay != null) relay.Pump();
                r.Pump(t);
                WsConnectionState s = r.Connection.State;
                if (s == WsConnectionState.Open || r.Connection.IsFinished) return;
                Thread.Sleep(1);
            } while (clock.Now < Drive.TimeoutMs);
            Assert.Fail("attempt did not settle; state " + r.Connection.State);
        }

        [Test]
        public void ReconnectorBacksOffExponentially()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop();
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                var schedule = new List<long>();
                long t = 0;
                PumpAt(r, null, t);
                r.Pump(t);
                for (int i = 0; i < 5; i++)
                {
                    Assert.AreEqual(WsConnectionState.Failed, c.State);
                    schedule.Add(r.NextAttemptAtMs);
                    t = r.NextAttemptAtMs - 1;
                    r.Pump(t);
                    Assert.AreEqual(i, r.Attempts, "no attempt before the delay");
                    t++;
                    PumpAt(r, null, t); // the attempt starts and fails (refused)
                    Assert.AreEqual(i + 1, r.Attempts);
                    r.Pump(t);
                }
                CollectionAssert.AreEqual(new long[] { 500, 1500, 3500, 7500, 11500 }, schedule);
            }
        }

        [Test]
        public void ReconnectorRecoversALostConnection()
        {
            using (var relay = new Relay(TestEnv.Port("WSM_WS_PORT")))
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + relay.Port + "/", cfg);
                var r = new WsReconnector(c, 500, 4000, 0);
                PumpAt(r, relay, 0);
                Assert.AreEqual(WsConnectionState.Open, c.State);
                relay.Reset();
                PumpAt(r, relay, 1000);
                Assert.AreEqual(WsConnectionState.Lost, c.State);
                Assert.AreEqual(1500, r.NextAttemptAtMs);
                PumpAt(r, relay, 1500);
                Assert.AreEqual(WsConnectionState.Open, c.State);
                Assert.AreEqual(2, relay.Accepted);
                Assert.AreEqual(1, r.Attempts, "counted until the connection proved stable");
                PumpAt(r, relay, 1500 + r.StableAfterMs);
                Assert.AreEqual(0, r.Attempts, "reset after the stable period");
                c.SendText("back");
                Drive.Until(c, () => c.QueuedMessages > 0, "the echo", relay);
            }
        }

        [Test]
        public void ReconnectorDoesNotRetryWhatARetryCannotFix()
        {
            using (var cfg = new WsConfig()) // untrusted CA: a TLS failure
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl(), cfg);
                var r = new WsReconnector(c);
                PumpAt(r, null, 0);
                r.Pump(100000);
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                Assert.AreEqual(-1, r.NextAttemptAtMs);
                Assert.AreEqual(0, r.Attempts);
            }
        }
    }
}
