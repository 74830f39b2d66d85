// The TLS object without WebSocket: WsTls (sans-IO) and WsTlsStream (a blocking Stream)
// against Python ssl servers (tests/peers/tls_echo_server.py) started by
// scripts/test-csharp.sh: echo, HTTP over TLS 1.3 only, close_notify and EOF without it.

using System;
using System.IO;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using System.Threading;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class TlsStreamTests
    {
        private static Socket Connect(string portVar)
        {
            var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            s.Connect(new IPEndPoint(IPAddress.Loopback, TestEnv.Port(portVar)));
            s.NoDelay = true;
            s.ReceiveTimeout = 30000;
            s.SendTimeout = 30000;
            return s;
        }

        private static WsTlsStream Open(string portVar, WsConfig config = null)
        {
            using (var own = config == null ? TestEnv.TrustedConfig() : null)
            {
                return new WsTlsStream(Connect(portVar), config ?? own, "localhost");
            }
        }

        private static byte[] ReadExactly(Stream s, int n, int chunk)
        {
            var got = new byte[n];
            int off = 0;
            while (off < n)
            {
                int k = s.Read(got, off, Math.Min(chunk, n - off));
                Assert.That(k, Is.GreaterThan(0), "stream ended after " + off + " of " + n + " bytes");
                Assert.That(k, Is.LessThanOrEqualTo(Math.Min(chunk, n - off)));
                off += k;
            }
            return got;
        }

        [Test]
        public void HttpThroughStreamWriterAndReaderOverTls13Only()
        {
            using (var tls = Open("WSM_TLS_HTTP13_PORT"))
            {
                Assert.AreEqual(WsTlsVersion.Tls13, tls.ProtocolVersion);
                var writer = new StreamWriter(tls, new UTF8Encoding(false)) { NewLine = "\r\n" };
                writer.WriteLine("GET /hello HTTP/1.1");
                writer.WriteLine("Host: localhost");
                writer.WriteLine("Connection: close");
                writer.WriteLine();
                writer.Flush();
                var reader = new StreamReader(tls, Encoding.UTF8);
                Assert.AreEqual("HTTP/1.1 200 OK", reader.ReadLine());
                string rest = reader.ReadToEnd();
                StringAssert.Contains("you asked for GET /hello HTTP/1.1 over TLSv1.3", rest);
                Assert.IsFalse(tls.EndedWithoutCloseNotify, "the server sent close_notify");
            }
        }

        [Test]
        public void MonosOwnSslStreamCannotReachTheTls13OnlyServer()
        {
            // The reason the Stream adapter exists: the same server through SslStream fails.
            using (var sock = Connect("WSM_TLS_HTTP13_PORT"))
            using (var net = new NetworkStream(sock, false))
            using (var ssl = new SslStream(net, false, (a, b, c, d) => true))
            {
                Exception failure = null;
                try
                {
                    ssl.AuthenticateAsClient("localhost");
                }
                catch (Exception e)
                {
                    failure = e;
                }
                if (failure == null && Type.GetType("Mono.Runtime") != null)
                {
                    Assert.Fail("Mono's SslStream negotiated " + ssl.SslProtocol + " with a TLS 1.3-only server");
                }
            }
        }

        [Test]
        public void PartialReadsReturnWhatIsThereAndNeverMoreThanAsked()
        {
            using (var tls = Open("WSM_TLS_ECHO_PORT"))
            {
                byte[] data = TestEnv.Pattern(100000, 3);
                tls.Write(data, 0, data.Length);
                byte[] back = ReadExactly(tls, data.Length, 7);
                CollectionAssert.AreEqual(data, back);
                // One byte at a time, and a big buffer that gets less than it asks for.
                tls.Write(data, 0, 10);
                Assert.AreEqual(1, tls.Read(new byte[1], 0, 1));
                var big = new byte[1 << 20];
                int k = tls.Read(big, 5, big.Length - 5);
                Assert.That(k, Is.InRange(1, 9));
                Assert.AreEqual(0, tls.Read(big, 0, 0), "count 0 reads nothing");
            }
        }

        [Test]
        public void ZeroLengthReadsAtTheEndOfTheStream()
        {
            using (var tls = Open("WSM_TLS_NOTIFY_PORT"))
            {
                var buf = new byte[100];
                Assert.AreEqual(6, ReadExactly(tls, 6, 100).Length);
                Assert.AreEqual(0, tls.Read(buf, 0, buf.Length));
                Assert.AreEqual(0, tls.Read(buf, 0, buf.Length), "again");
                Assert.IsFalse(tls.EndedWithoutCloseNotify);
            }
            using (var tls = Open("WSM_TLS_EOF_PORT"))
            {
                var buf = new byte[100];
                Assert.AreEqual("hello\n", Encoding.ASCII.GetString(ReadExactly(tls, 6, 100)));
                Assert.AreEqual(0, tls.Read(buf, 0, buf.Length));
                Assert.IsTrue(tls.EndedWithoutCloseNotify, "EOF without close_notify is reported");
                StringAssert.Contains("truncated", tls.Tls.LastError);
            }
        }

        [Test]
        public void FlushAndWriteDeliver()
        {
            using (var tls = Open("WSM_TLS_ECHO_PORT"))
            {
                byte[] data = Encoding.ASCII.GetBytes("flushed");
                tls.Write(data, 0, data.Length);
                tls.Flush();
                CollectionAssert.AreEqual(data, ReadExactly(tls, data.Length, 100));
                Assert.IsTrue(tls.CanRead && tls.CanWrite && !tls.CanSeek);
                Assert.Throws<NotSupportedException>(() => { long l = tls.Length; });
            }
        }

        [Test]
        public void ReadTimeoutThrowsAndTheStreamStaysUsable()
        {
            using (var tls = Open("WSM_TLS_ECHO_PORT"))
            {
                Assert.IsTrue(tls.CanTimeout);
                tls.ReadTimeout = 200;
                Assert.AreEqual(200, tls.ReadTimeout);
                Assert.Throws<IOException>(() => tls.Read(new byte[10], 0, 10), "nothing arrives: timeout");
                tls.ReadTimeout = 30000;
                tls.Write(new byte[] { 7, 8, 9 }, 0, 3);
                CollectionAssert.AreEqual(new byte[] { 7, 8, 9 }, ReadExactly(tls, 3, 3));
            }
        }

        [Test]
        public void DisposeSendsCloseNotify()
        {
            // The echo server answers close_notify with its own and closes the socket;
            // without our close_notify it would wait forever.
            using (var sock = Connect("WSM_TLS_ECHO_PORT"))
            {
                using (var cfg = TestEnv.TrustedConfig())
                {
                    var tls = new WsTlsStream(sock, cfg, "localhost", true);
                    tls.Write(new byte[] { 1, 2, 3 }, 0, 3);
                    ReadExactly(tls, 3, 3);
                    tls.Dispose();
                    Assert.IsFalse(tls.CanRead);
                    Assert.Throws<ObjectDisposedException>(() => tls.Write(new byte[1], 0, 1));
                }
                sock.ReceiveTimeout = 10000;
                var buf = new byte[4096];
                int total = 0, n;
                while ((n = sock.Receive(buf)) > 0)
                {
                    total += n;
                }
                Assert.That(total, Is.GreaterThan(0), "the server's close_notify arrived before its EOF");
            }
        }

        [Test]
        public void ConcurrentReadAndWriteFromTwoThreads()
        {
            using (var tls = Open("WSM_TLS_ECHO_PORT"))
            {
                byte[] data = TestEnv.Pattern(4 << 20, 9);
                Exception writerFailure = null;
                var writer = new Thread(() =>
                {
                    try
                    {
                        for (int off = 0; off < data.Length; off += 10000)
                        {
                            tls.Write(data, off, Math.Min(10000, data.Length - off));
                        }
                    }
                    catch (Exception e)
                    {
                        writerFailure = e;
                    }
                });
                writer.Start();
                byte[] back = ReadExactly(tls, data.Length, 65536);
                writer.Join();
                Assert.IsNull(writerFailure);
                CollectionAssert.AreEqual(data, back);
            }
        }

        [Test]
        public void UntrustedAndExpiredCertificatesAreTypedErrors()
        {
            using (var cfg = new WsConfig())
            {
                var e = Assert.Throws<WsTlsException>(() => new WsTlsStream(Connect("WSM_TLS_ECHO_PORT"), cfg, "localhost"));
                Assert.AreEqual(WsCertificateError.Untrusted, e.CertificateError);
            }
            using (var cfg = TestEnv.TrustedConfig())
            {
                var e = Assert.Throws<WsTlsException>(() => new WsTlsStream(Connect("WSM_TLS_ECHO_PORT"), cfg, "wrong.example"));
                Assert.AreEqual(WsCertificateError.WrongHost, e.CertificateError);
            }
        }

        [Test]
        public void HandshakeTimeoutOnASilentServer()
        {
            // A TCP server that accepts and never answers: the config's handshake timeout
            // (on the stream's own clock) ends the wait.
            var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            try
            {
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sock.Connect(new IPEndPoint(IPAddress.Loopback, port));
                using (var accepted = listener.AcceptSocket())
                using (var cfg = TestEnv.TrustedConfig().SetHandshakeTimeout(300))
                {
                    var clock = System.Diagnostics.Stopwatch.StartNew();
                    Assert.Throws<WsTimeoutException>(() => new WsTlsStream(sock, cfg, "localhost"));
                    Assert.That(clock.ElapsedMilliseconds, Is.InRange(250, 10000));
                }
            }
            finally
            {
                listener.Stop();
            }
        }

        [Test]
        public void SpanOverloadsOfTheSansIoObject()
        {
            using (var cfg = TestEnv.TrustedConfig())
            using (var tls = new WsTls(cfg, "localhost"))
            {
                Assert.AreEqual(3, tls.Write(new ReadOnlySpan<byte>(new byte[] { 1, 2, 3 })));
                Span<byte> hello = new byte[4096];
                int n = tls.ReadOutput(hello);
                Assert.That(n, Is.GreaterThan(0));
                Assert.AreEqual(0x16, hello[0], "a handshake record");
                int got;
                Assert.AreEqual(WsTlsReadStatus.NeedInput, tls.Read(new Span<byte>(new byte[10]), out got));
                var e = Assert.Throws<WsTlsException>(() => tls.OfferInput(new ReadOnlySpan<byte>(Encoding.ASCII.GetBytes("HTTP/1.1 400 Bad\r\n\r\n"))));
                Assert.AreEqual(WsResult.TlsCorrupt, e.Result);
                Assert.AreEqual(WsState.Failed, tls.State);
                StringAssert.Contains("TLS", tls.LastError);
            }
        }

        [Test]
        public void SansIoWsTlsOverASocketResumesTheSecondTime()
        {
            using (var cfg = TestEnv.TrustedConfig())
            {
                for (int round = 0; round < 2; round++)
                {
                    using (var sock = Connect("WSM_TLS_ECHO_PORT"))
                    using (var tls = new WsTls(cfg, "localhost"))
                    {
                        Assert.AreEqual(WsState.TlsHandshaking, tls.State);
                        byte[] hello = Encoding.ASCII.GetBytes("sans-io");
                        Assert.AreEqual(hello.Length, tls.Write(hello, 0, hello.Length), "buffered before the handshake");
                        var rx = new byte[20000];
                        var tx = new byte[20000];
                        var got = new MemoryStream();
                        while (got.Length < hello.Length)
                        {
                            int n;
                            while ((n = tls.ReadOutput(tx, 0, tx.Length)) > 0)
                            {
                                sock.Send(tx, 0, n, SocketFlags.None);
                            }
                            int r = sock.Receive(rx);
                            for (int off = 0; off < r;)
                            {
                                off += tls.OfferInput(rx, off, r - off);
                                int k;
                                while (tls.Read(tx, 0, tx.Length, out k) == WsTlsReadStatus.Data)
                                {
                                    got.Write(tx, 0, k);
                                }
                            }
                        }
                        CollectionAssert.AreEqual(hello, got.ToArray());
                        Assert.AreEqual(WsState.Open, tls.State);
                        Assert.AreEqual(round == 1, tls.IsResumed, "round " + round);
                        StringAssert.StartsWith("TLS13_", tls.CipherSuite);
                        tls.Close();
                        Assert.Throws<WsClosedException>(() => tls.Write(hello, 0, 1));
                        int m;
                        while ((m = tls.ReadOutput(tx, 0, tx.Length)) > 0)
                        {
                            sock.Send(tx, 0, m, SocketFlags.None);
                        }
                        // The server answers with close_notify.
                        WsTlsReadStatus st = WsTlsReadStatus.NeedInput;
                        while (st == WsTlsReadStatus.NeedInput)
                        {
                            int r = sock.Receive(rx);
                            if (r == 0) { tls.OfferEndOfStream(); } else { tls.OfferInput(rx, 0, r); }
                            int k;
                            st = tls.Read(tx, 0, tx.Length, out k);
                        }
                        Assert.AreEqual(WsTlsReadStatus.Closed, st);
                        Assert.AreEqual(WsState.Closed, tls.State);
                    }
                }
            }
        }
    }
}
