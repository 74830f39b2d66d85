// WsSocketConnection against the real loopback servers: echo at many sizes, ping/pong,
// close handshakes, failures as terminal states, resumption, partial sends and
// partial consumption.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Net;
using System.Net.Sockets;
using System.Text;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class ConnectionTests
    {
        private static readonly int[] Sizes = { 0, 1, 125, 126, 65535, 65536, 300000, 1 << 20 };

        private static WsSocketConnection OpenConnection(WsConfig cfg, string url)
        {
            var c = new WsSocketConnection();
            c.Connect(url, cfg);
            Assert.AreEqual(url, c.Url);
            Drive.Open(c);
            return c;
        }

        private static void EchoAllSizes(string url)
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, url))
            {
                foreach (int size in Sizes)
                {
                    byte[] bin = TestEnv.Pattern(size, size);
                    c.SendBinary(bin, 0, bin.Length);
                    WsMessage m = Drive.Receive(c);
                    Assert.AreEqual(WsMessageKind.Binary, m.Kind, "binary " + size);
                    Assert.AreEqual(size, m.Length, "binary " + size);
                    CollectionAssert.AreEqual(bin, m.ToArray(), "binary " + size);

                    string text = TestEnv.Text(size, size);
                    c.SendText(text);
                    m = Drive.Receive(c);
                    Assert.AreEqual(WsMessageKind.Text, m.Kind, "text " + size);
                    Assert.AreEqual(text, m.GetText(), "text " + size);
                }
                c.Close();
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Closed, c.State);
            }
        }

        [Test]
        public void EchoTextAndBinaryAtManySizesOverWss()
        {
            EchoAllSizes(TestEnv.WssUrl());
        }

        [Test]
        public void EchoTextAndBinaryAtManySizesOverPlainWs()
        {
            EchoAllSizes(TestEnv.WsUrl());
        }

        [Test]
        public void SpanOverloadsEcho()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                c.SendBinary(new ReadOnlySpan<byte>(new byte[] { 9, 8, 7 }));
                WsMessage m = Drive.Receive(c);
                Assert.AreEqual(3, m.Span.Length);
                Assert.AreEqual(8, m.Span[1]);
                c.SendText(new ReadOnlySpan<byte>(Encoding.UTF8.GetBytes("€uro")));
                Assert.AreEqual("€uro", Drive.Receive(c).GetText());
            }
        }

        [Test]
        public void PingGetsPongWithPayload()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                byte[] payload = Encoding.ASCII.GetBytes("are you there");
                c.Ping(payload, 0, payload.Length);
                WsMessage m = Drive.Receive(c);
                Assert.AreEqual(WsMessageKind.Pong, m.Kind);
                Assert.AreEqual("are you there", m.GetText());
                c.Ping();
                m = Drive.Receive(c);
                Assert.AreEqual(WsMessageKind.Pong, m.Kind);
                Assert.AreEqual(0, m.Length);
            }
        }

        [Test]
        public void ClientCloseWithCodeAndReason()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                c.Close(4000, "see you");
                Assert.AreEqual(WsConnectionState.Closing, c.State);
                Assert.Throws<WsClosedException>(() => c.SendText("late"));
                c.Close(); // a second close does nothing
                WsMessage m = Drive.Receive(c);
                Assert.AreEqual(WsMessageKind.Close, m.Kind);
                Assert.AreEqual(4000, m.CloseCode, "the server echoes the code");
                Assert.AreEqual("see you", m.GetText());
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Closed, c.State);
                Assert.AreEqual(4000, c.CloseCode);
                Assert.AreEqual("see you", c.CloseReason);
                Assert.IsNull(c.Error);
                Assert.IsNull(c.Socket, "the socket is closed");
            }
        }

        [Test]
        public void ServerCloseWithCodeAndReason()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl("/close?code=4001&reason=bye"), cfg);
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Closed, c.State);
                Assert.AreEqual(4001, c.CloseCode);
                Assert.AreEqual("bye", c.CloseReason);
                WsMessage m;
                Assert.IsTrue(c.TryReceive(out m), "the close message is delivered too");
                Assert.AreEqual(WsMessageKind.Close, m.Kind);
                Assert.AreEqual(4001, m.CloseCode);
                Assert.IsFalse(c.TryReceive(out m));
            }
        }

        [Test]
        public void UntrustedCertificateEndsInFailedWithTlsError()
        {
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl(), cfg);
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                var e = c.Error as WsTlsException;
                Assert.IsNotNull(e, "Error is " + c.Error);
                Assert.AreEqual(WsCertificateError.Untrusted, e.CertificateError);
                Assert.AreEqual(1006, c.CloseCode);
                StringAssert.Contains("UnknownIssuer", c.CloseReason);
                // The same server, once the CA is trusted; Connect again on the same object.
                cfg.AddRootPem(TestEnv.CaPem);
                c.Connect(TestEnv.WssUrl(), cfg);
                Drive.Open(c);
                Assert.IsNull(c.Error);
                Assert.AreEqual(0, c.CloseCode);
            }
        }

        [Test]
        public void Http403EndsInFailedWithHandshakeError()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl("/status403"), cfg);
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                var e = c.Error as WsHandshakeException;
                Assert.IsNotNull(e, "Error is " + c.Error);
                Assert.AreEqual(403, e.HttpStatus);
                Assert.AreEqual(403, c.HttpStatus);
            }
        }

        [Test]
        public void RefusedConnectionEndsInFailed()
        {
            var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            int port = ((IPEndPoint)l.LocalEndpoint).Port;
            l.Stop(); // nothing listens there now
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://127.0.0.1:" + port + "/", cfg);
                Drive.Finished(c);
                Assert.AreEqual(WsConnectionState.Failed, c.State);
                Assert.IsInstanceOf<WsClosedException>(c.Error);
                StringAssert.Contains("ConnectionRefused", c.CloseReason);
            }
        }

        [Test]
        public void HostNamesAreResolvedWithoutBlocking()
        {
            // "localhost" goes through Dns.BeginGetHostAddresses (Resolving), and every
            // address is tried in turn (the server listens on 127.0.0.1 only).
            using (var cfg = new WsConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("ws://localhost:" + TestEnv.Port("WSM_WS_PORT") + "/", cfg);
                Assert.AreEqual(WsConnectionState.Resolving, c.State);
                Drive.Open(c);
            }
        }

        [Test]
        public void Tls13OnlyServerWorks()
        {
            using (var cfg = TestEnv.TrustedConfig().SetMinTlsVersion(WsTlsVersion.Tls13))
            using (var c = OpenConnection(cfg, TestEnv.Wss13Url()))
            {
                Assert.AreEqual(WsTlsVersion.Tls13, c.TlsVersion);
                c.SendText("hi");
                Assert.AreEqual("hi", Drive.Receive(c).GetText());
            }
        }

        [Test]
        public void ReconnectResumesTheTlsSession()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                Assert.IsFalse(c.IsResumed);
                // Let the server's session tickets arrive (they follow the handshake).
                c.SendText("x");
                Drive.Receive(c);
                c.Close();
                Drive.Finished(c);
                Assert.Throws<InvalidOperationException>(() => { var busy = new WsSocketConnection(); try { busy.Reconnect(); } finally { busy.Dispose(); } });
                c.Reconnect();
                Drive.Open(c);
                Assert.IsTrue(c.IsResumed, "the second connection of one config resumes");
                Assert.Throws<InvalidOperationException>(() => c.Connect(TestEnv.WssUrl(), cfg), "already open");
            }
        }

        [Test]
        public void PartialSendsKeepTheRemainder()
        {
            // Through a relay that stops reading: the kernel takes part of a 3 MiB send,
            // the rest waits in the connection and leaves once the relay reads again.
            using (var relay = new Relay(TestEnv.Port("WSM_WSS_PORT"), 4096))
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect("wss://127.0.0.1:" + relay.Port + "/", cfg);
                Drive.Open(c, relay);
                c.Socket.SendBufferSize = 4096;
                relay.Frozen = true;
                byte[] big = TestEnv.Pattern(3 << 20, 42);
                c.SendBinary(big, 0, big.Length);
                long pending = c.PendingSendBytes;
                Assert.Greater(pending, 1 << 20, "most of 3 MiB cannot leave while the peer does not read");
                for (int i = 0; i < 20; i++)
                {
                    c.Pump(1);
                }
                Assert.AreEqual(pending, c.PendingSendBytes, "nothing moves and nothing is dropped while blocked");
                relay.Frozen = false;
                WsMessage m = Drive.Receive(c, relay);
                Assert.AreEqual(big.Length, m.Length);
                CollectionAssert.AreEqual(big, m.ToArray());
                Assert.AreEqual(0, c.PendingSendBytes);
            }
        }

        [Test]
        public void DeflateIsNegotiatedAndTransparent()
        {
            using (var cfg = TestEnv.TrustedConfig().SetDeflate(true).SetDeflateLevel(1).SetDeflateThreshold(16)
                       .SetDeflateWindowBits(15, 0).SetDeflateNoContextTakeover(false, false))
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                WsDeflateInfo d = c.Deflate;
                Assert.IsTrue(d.Enabled, "the echo server accepts permessage-deflate");
                Assert.AreEqual(12, d.ServerMaxWindowBits, "the echo server answers server_max_window_bits=12");
                string json = string.Concat(Enumerable.Repeat("{\"player\":\"alice\",\"x\":1.5,\"y\":-2}", 2000));
                c.SendText(json);
                Assert.AreEqual(json, Drive.Receive(c).GetText());
            }
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WssUrl()))
            {
                Assert.IsFalse(c.Deflate.Enabled, "off by default");
            }
        }

        [Test]
        public void PartialConsumptionLosesNothing()
        {
            // The library takes input only while fewer than 2 messages wait, and the
            // connection keeps at most 3: input is offered in pieces, the rest is kept.
            using (var cfg = TestEnv.TrustedConfig().SetMaxQueuedMessages(2))
            using (var c = OpenConnection(cfg, TestEnv.WsUrl()))
            {
                c.MaxQueuedMessages = 3;
                const int N = 300;
                for (int i = 0; i < N; i++)
                {
                    c.SendText("m" + i);
                }
                var got = new List<string>();
                var clock = new Clock();
                while (got.Count < N && clock.Now < Drive.TimeoutMs)
                {
                    c.Pump(clock.Now);
                    Assert.LessOrEqual(c.QueuedMessages, 3);
                    WsMessage m;
                    while (c.TryReceive(out m))
                    {
                        got.Add(m.GetText());
                    }
                    Drive.Wait(c, null);
                }
                Assert.AreEqual(N, got.Count);
                for (int i = 0; i < N; i++)
                {
                    Assert.AreEqual("m" + i, got[i]);
                }
            }
        }

        [Test]
        public void PooledViewsGoStaleAtTheNextReceive()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = OpenConnection(cfg, TestEnv.WsUrl()))
            {
                c.SendText("one");
                c.SendText("two");
                Drive.Until(c, () => c.QueuedMessages >= 2, "two messages");
                WsMessage first, second;
                Assert.IsTrue(c.TryReceive(out first));
                Assert.AreEqual("one", first.GetText());
                Assert.IsTrue(c.TryReceive(out second));
                Assert.IsFalse(first.IsValid);
                Assert.Throws<InvalidOperationException>(() => first.GetText());
                Assert.AreEqual("two", second.GetText());
            }
        }

        [Test]
        public void SendingBeforeConnectOrOpenIsAMisuse()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                Assert.AreEqual(WsConnectionState.None, c.State);
                Assert.Throws<InvalidOperationException>(() => c.SendText("x"));
                c.Pump(0); // nothing to do, no error
                c.Connect(TestEnv.WssUrl(), cfg);
                var e = Assert.Throws<WsMisuseException>(() => c.SendText("x"));
                Assert.AreEqual(WsResult.InvalidState, e.Result);
                Assert.Throws<WsMisuseException>(() => new WsSocketConnection().Connect("nonsense", cfg));
            }
        }

        [Test]
        public void CloseBeforeOpenAbandonsTheAttempt()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl(), cfg);
                c.Close(1001, "going away");
                Assert.AreEqual(WsConnectionState.Closed, c.State);
                Assert.AreEqual(1001, c.CloseCode);
                c.Pump(1);
                Assert.AreEqual(WsConnectionState.Closed, c.State);
            }
        }
    }
}
