// Shared helpers for the wsmachine C# tests (NUnit 2.6 on Mono here, NUnit 3 in Unity's
// Test Runner: only attributes and asserts common to both are used).
//
// The servers are started by scripts/test-csharp.sh and found through environment
// variables. Without them the server tests are ignored, unless WSM_REQUIRE_SERVERS=1
// (the script sets it), which makes a missing variable a failure.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Net;
using System.Net.Sockets;
using System.Threading;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    internal static class TestEnv
    {
        /// <summary>An environment variable the test needs; ignores the test (or fails it in CI) when unset.</summary>
        public static string Require(string name)
        {
            string v = Environment.GetEnvironmentVariable(name);
            if (string.IsNullOrEmpty(v))
            {
                string msg = name + " is not set (run scripts/test-csharp.sh, which starts the loopback servers)";
                if (Environment.GetEnvironmentVariable("WSM_REQUIRE_SERVERS") == "1")
                {
                    Assert.Fail(msg);
                }
                Assert.Ignore(msg);
            }
            return v;
        }

        public static int Port(string name)
        {
            return int.Parse(Require(name));
        }

        /// <summary>wss echo server with server.pem (signed by the private CA).</summary>
        public static string WssUrl(string path = "/")
        {
            return "wss://localhost:" + Port("WSM_WSS_PORT") + path;
        }

        /// <summary>wss echo server that refuses TLS below 1.3.</summary>
        public static string Wss13Url(string path = "/")
        {
            return "wss://localhost:" + Port("WSM_WSS13_PORT") + path;
        }

        /// <summary>wss echo server with an expired certificate.</summary>
        public static string ExpiredUrl(string path = "/")
        {
            return "wss://localhost:" + Port("WSM_WSS_EXPIRED_PORT") + path;
        }

        /// <summary>Plain ws echo server.</summary>
        public static string WsUrl(string path = "/")
        {
            return "ws://127.0.0.1:" + Port("WSM_WS_PORT") + path;
        }

        public static string CaPem
        {
            get { return File.ReadAllText(Require("WSM_CA_PEM")); }
        }

        public static string HeaderPath
        {
            get { return Require("WSM_HEADER"); }
        }

        /// <summary>A config trusting the test CA, with keepalive off so fake clocks stay quiet.</summary>
        public static WsConfig TrustedConfig()
        {
            return new WsConfig().AddRootPem(CaPem);
        }

        public static byte[] Pattern(int size, int seed)
        {
            byte[] b = new byte[size];
            uint x = (uint)(seed * 2654435761u + 12345u);
            for (int i = 0; i < size; i++)
            {
                x = x * 1103515245u + 12345u;
                b[i] = (byte)(x >> 16);
            }
            return b;
        }

        public static string Text(int size, int seed)
        {
            char[] c = new char[size];
            for (int i = 0; i < size; i++)
            {
                c[i] = (char)('a' + (i * 7 + seed) % 26);
            }
            return new string(c);
        }
    }

    /// <summary>A real monotonic clock in ms.</summary>
    internal sealed class Clock
    {
        private readonly Stopwatch _sw = Stopwatch.StartNew();

        public long Now
        {
            get { return _sw.ElapsedMilliseconds; }
        }
    }

    /// <summary>Pumps a connection (and optionally a relay) until a condition holds or 10 s pass.</summary>
    internal static class Drive
    {
        public const int TimeoutMs = 10000;

        public static void Until(WsSocketConnection c, Func<bool> done, string what, Relay relay = null, Func<long> now = null)
        {
            Clock clock = new Clock();
            while (!done())
            {
                if (clock.Now > TimeoutMs)
                {
                    Assert.Fail("timed out waiting for " + what + "; state " + c.State + ", reason " + c.CloseReason);
                }
                if (relay != null)
                {
                    relay.Pump();
                }
                c.Pump(now != null ? now() : clock.Now);
                if (done())
                {
                    break;
                }
                Wait(c, relay);
            }
        }

        /// <summary>Sleeps until the connection's socket is readable, at most 1 ms (keeps CPU use low).</summary>
        public static void Wait(WsSocketConnection c, Relay relay)
        {
            Socket s = c.Socket;
            if (s != null && relay == null && c.State >= WsConnectionState.Handshaking)
            {
                try
                {
                    s.Poll(1000, SelectMode.SelectRead);
                    return;
                }
                catch (ObjectDisposedException)
                {
                }
                catch (SocketException)
                {
                }
            }
            Thread.Sleep(1);
        }

        public static void Open(WsSocketConnection c, Relay relay = null)
        {
            Until(c, () => c.State == WsConnectionState.Open || c.IsFinished, "Open", relay);
            Assert.AreEqual(WsConnectionState.Open, c.State, "not open: " + c.CloseReason);
        }

        public static WsMessage Receive(WsSocketConnection c, Relay relay = null)
        {
            WsMessage m = default(WsMessage);
            bool got = false;
            Until(c, () => got || (got = c.TryReceive(out m)) || c.IsFinished, "a message", relay);
            if (!got)
            {
                got = c.TryReceive(out m);
            }
            Assert.IsTrue(got, "no message; state " + c.State + ", reason " + c.CloseReason);
            return m;
        }

        public static void Finished(WsSocketConnection c, Relay relay = null, Func<long> now = null)
        {
            Until(c, () => c.IsFinished, "a terminal state", relay, now);
        }
    }

    /// <summary>
    /// Drives a sans-IO <see cref="WsClient"/> over a blocking loopback socket: the event loop
    /// of the header, written out by hand, as a user of the low-level API would.
    /// </summary>
    internal sealed class SansIoHarness : IDisposable
    {
        public readonly WsClient Client;
        public readonly List<KeyValuePair<WsMessage, byte[]>> Messages = new List<KeyValuePair<WsMessage, byte[]>>();
        private readonly Socket _socket;
        private readonly byte[] _rx = new byte[16384];
        private readonly byte[] _tx = new byte[16384];
        private readonly Clock _clock = new Clock();

        /// <summary>When false, Step leaves messages queued for the test to poll.</summary>
        public bool AutoPoll = true;

        public SansIoHarness(WsConfig config, string url)
        {
            Client = new WsClient(config, url);
            Uri u = new Uri(url);
            _socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _socket.Connect(IPAddress.Loopback, u.Port);
        }

        /// <summary>One turn of the loop: drain output, read once (10 ms at most), offer, poll, tick.</summary>
        public void Step()
        {
            int n;
            while ((n = Client.ReadOutput(_tx, 0, _tx.Length)) > 0)
            {
                int off = 0;
                while (off < n)
                {
                    off += _socket.Send(_tx, off, n - off, SocketFlags.None);
                }
            }
            if (_socket.Poll(10000, SelectMode.SelectRead))
            {
                int r = _socket.Receive(_rx);
                if (r == 0)
                {
                    Client.OfferEndOfStream();
                }
                for (int off = 0; off < r;)
                {
                    off += Client.OfferInput(_rx, off, r - off); // may take less: poll, then offer the rest
                    PollAll();
                }
            }
            PollAll();
            Client.Tick(_clock.Now);
        }

        private void PollAll()
        {
            if (!AutoPoll) return;
            WsMessage m;
            while (Client.TryPollMessage(out m))
            {
                Messages.Add(new KeyValuePair<WsMessage, byte[]>(m, m.ToArray()));
            }
        }

        public void StepUntil(Func<bool> done, string what)
        {
            Clock c = new Clock();
            while (!done())
            {
                if (c.Now > Drive.TimeoutMs) Assert.Fail("timed out waiting for " + what + "; state " + Client.State);
                Step();
            }
        }

        public void Dispose()
        {
            Client.Dispose();
            _socket.Close();
        }
    }

    /// <summary>
    /// An in-process TCP relay between the client and a real server, pumped on the test's
    /// thread (no threads). It can freeze (stop forwarding: the peer "disappears" without a
    /// FIN or RST), reset (RST towards the client) or end (FIN towards the client), and it
    /// can be silent (accept, never connect upstream, never answer).
    /// </summary>
    internal sealed class Relay : IDisposable
    {
        /// <summary>One direction of a relayed connection: bytes read but not yet written.</summary>
        private sealed class Pipe
        {
            public Socket From;
            public Socket To;
            public readonly byte[] Buf = new byte[65536];
            public int Start;
            public int End;
            public readonly ArraySegment<byte>[] Segment = new ArraySegment<byte>[1];
            public bool Frozen;
            public bool Down; // server to client
        }

        private readonly TcpListener _listener;
        private readonly int _upstreamPort;
        private readonly List<Socket[]> _pairs = new List<Socket[]>();
        private readonly List<Pipe> _pipes = new List<Pipe>();
        public bool Frozen;
        public int Accepted;

        /// <summary>When not negative: server-to-client bytes still forwarded; at 0 that direction stops (for a reset mid-message).</summary>
        public long DownBudget = -1;

        /// <summary>Relays to 127.0.0.1:<paramref name="upstreamPort"/>; 0 makes a silent peer. A small receive buffer makes a frozen relay push back quickly.</summary>
        public Relay(int upstreamPort, int receiveBufferSize = 0, IPAddress listen = null)
        {
            _upstreamPort = upstreamPort;
            _listener = new TcpListener(listen ?? IPAddress.Loopback, 0);
            if (receiveBufferSize > 0)
            {
                _listener.Server.ReceiveBufferSize = receiveBufferSize; // inherited by accepted sockets
            }
            _listener.Start();
        }

        public int Port
        {
            get { return ((IPEndPoint)_listener.LocalEndpoint).Port; }
        }

        /// <summary>Accepts new clients and moves what each side has, never blocking.</summary>
        public void Pump()
        {
            while (_listener.Pending())
            {
                Socket down = _listener.AcceptSocket();
                down.Blocking = false;
                Socket up = null;
                if (_upstreamPort != 0)
                {
                    up = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                    up.Connect(IPAddress.Loopback, _upstreamPort); // blocking, loopback: immediate
                    up.Blocking = false;
                    _pipes.Add(new Pipe { From = down, To = up });
                    _pipes.Add(new Pipe { From = up, To = down, Down = true });
                }
                _pairs.Add(new[] { down, up });
                Accepted++;
            }
            if (Frozen)
            {
                return;
            }
            foreach (Pipe p in _pipes)
            {
                if (!p.Frozen) Move(p);
            }
        }

        /// <summary>The connections relayed so far go silent both ways (no FIN, no RST); new ones flow.</summary>
        public void FreezeExisting()
        {
            foreach (Pipe p in _pipes)
            {
                p.Frozen = true;
            }
        }

        private void Move(Pipe p)
        {
            for (int i = 0; i < 64; i++)
            {
                SocketError err;
                if (p.Start == p.End)
                {
                    p.Start = p.End = 0;
                    if (p.From.Available == 0) return;
                    int cap = p.Buf.Length;
                    if (p.Down && DownBudget >= 0)
                    {
                        if (DownBudget == 0) return;
                        cap = (int)Math.Min(cap, DownBudget);
                    }
                    int n = p.From.Receive(p.Buf, 0, cap, SocketFlags.None, out err);
                    if (p.Down && DownBudget > 0 && n > 0) DownBudget -= n;
                    if (err != SocketError.Success || n <= 0) return;
                    p.End = n;
                }
                int s = NonBlockingSend.Send(p.To, p.Buf, p.Start, p.End - p.Start, p.Segment, out err);
                if (err != SocketError.Success) return; // WouldBlock: keep the rest for the next Pump
                p.Start += s;
            }
        }

        /// <summary>Closes every client-side socket with an RST (linger 0).</summary>
        public void Reset()
        {
            foreach (Socket[] p in _pairs)
            {
                p[0].LingerState = new LingerOption(true, 0);
                p[0].Close();
                if (p[1] != null) p[1].Close();
            }
            _pairs.Clear();
            _pipes.Clear();
        }

        /// <summary>Closes every client-side socket gracefully (FIN), without a WebSocket close frame.</summary>
        public void End()
        {
            foreach (Socket[] p in _pairs)
            {
                p[0].Shutdown(SocketShutdown.Send);
                p[0].Close(1);
                if (p[1] != null) p[1].Close();
            }
            _pairs.Clear();
            _pipes.Clear();
        }

        public void Dispose()
        {
            foreach (Socket[] p in _pairs)
            {
                p[0].Close();
                if (p[1] != null) p[1].Close();
            }
            _pairs.Clear();
            _pipes.Clear();
            _listener.Stop();
        }
    }
}
