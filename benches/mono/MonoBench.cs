// Benchmark: wsmachine's WsSocketConnection against System.Net.WebSockets.ClientWebSocket
// on the same runtime (Mono), the same wss echo server, over real loopback sockets.
// Run by scripts/bench-mono.sh; results in docs/BENCH-MONO.md.
//
//   mono MonoBench.exe --impl wsm|cws --url wss://127.0.0.1:PORT/ --mode rt|tput --size BYTES
//        [--ca ca.pem] [--tls13] [--seconds 3] [--warmup 1] [--window 4] [--server-pid PID]
//
//   --mode rt     round trips: send one binary message, wait for its echo, repeat.
//   --mode tput   throughput: keep --window messages in flight, count echoed payload bytes.
//   --mode overhead  (wsm) cost of the driver's building blocks on an idle open connection:
//                 one P/Invoke (PendingSendBytes), Socket.Poll(0), a Receive that would
//                 block, and an idle Pump; prints "OVERHEAD name ns/call" lines.
//   --impl wsm    WsSocketConnection (non-blocking socket, pumped on this thread; between
//                 pumps the thread sleeps in Socket.Poll/Select on the connection's socket,
//                 so it does not spin).
//   --impl cws    ClientWebSocket, idiomatic async/await loop (the sender of --mode tput
//                 is a second async loop), receive/send buffers set to 64 KiB.
//   --tls13       wsmachine only: require TLS 1.3 (SetMinTlsVersion).
//   --spin        wsmachine only: Pump in a busy loop instead of sleeping in Poll/Select.
//   --server-pid  sample that process's CPU time (/proc/PID/stat) over the measured window.
//
// Prints one line: RESULT impl=.. mode=.. size=.. tls=.. ops=.. secs=.. rate=.. mbps=..
// client_cpu=.. server_cpu=.. machine_busy=.. client_runq=.. server_runq=.. waits=.. stalls=.. avail_us=..
// (CPU shares are in cores: 1.0 = one core busy for the whole window; machine_busy is all
// of /proc/stat, every process; *_runq is the time the process's threads were runnable but
// waiting for a CPU, from schedstat: the cost of sharing the machine. waits/stalls: wsm
// only, socket waits and those that hit the 100 ms timeout; avail_us: wsm, median time from
// the wake-up that found bytes waiting (the return of Poll/Select, or the start of the Pump
// when spinning) to the message coming out of TryReceive, i.e. the library's and driver's
// latency from bytes arriving to the message being available; NaN for cws).

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;
using WsMachine;

internal static class MonoBench
{
    private sealed class Options
    {
        public string Impl = "wsm";
        public string Url;
        public string Mode = "rt";
        public int Size = 16;
        public string Ca;
        public bool Tls13;
        public double Seconds = 3;
        public double Warmup = 1;
        public int Window = 4;
        public int ServerPid;
        public int CwsBuffer = 64 * 1024;
        public bool Spin;
    }

    /// <summary>What a run measured.</summary>
    private struct Measure
    {
        public long Ops;        // round trips (rt) or messages echoed (tput)
        public long Bytes;      // echoed payload bytes received in the window
        public double Seconds;
        public string Tls;
    }

    /// <summary>wsmachine: waits for the socket, and waits that timed out (100 ms each: a stall).</summary>
    private static long Waits, Stalls;
    // wsm: per delivering wake-up, Stopwatch ticks from the wake-up to the message (avail_us).
    private static readonly long[] AvailTicks = new long[1 << 20];
    private static int AvailCount;

    private static int Main(string[] args)
    {
        Options o;
        try
        {
            o = Parse(args);
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("MonoBench: " + e.Message);
            Console.Error.WriteLine("usage: MonoBench --impl wsm|cws --url wss://HOST:PORT/ --mode rt|tput --size BYTES [--ca PEM] [--tls13] [--seconds S] [--warmup S] [--window N] [--server-pid PID] [--cws-buffer BYTES]");
            return 2;
        }
        try
        {
            Measure m;
            Sampler s = new Sampler(o.ServerPid);
            if (o.Impl == "wsm")
            {
                m = RunWsm(o, s);
            }
            else if (o.Impl == "cws")
            {
                m = RunCws(o, s).GetAwaiter().GetResult();
            }
            else
            {
                throw new ArgumentException("--impl must be wsm or cws");
            }
            double rate = m.Ops / m.Seconds;
            double mbps = m.Bytes / m.Seconds / 1e6;
            double availUs = double.NaN;
            if (AvailCount > 0)
            {
                Array.Sort(AvailTicks, 0, AvailCount);
                availUs = AvailTicks[AvailCount / 2] * 1e6 / Stopwatch.Frequency;
            }
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "RESULT impl={0} mode={1} size={2} tls={3} ops={4} secs={5:F3} rate={6:F1} mbps={7:F2} client_cpu={8:F3} server_cpu={9:F3} machine_busy={10:F3} client_runq={11:F3} server_runq={12:F3} waits={13} stalls={14} avail_us={15:F2}",
                o.Impl, o.Mode, o.Size, m.Tls, m.Ops, m.Seconds, rate, mbps,
                s.ClientCores, s.ServerCores, s.MachineCores, s.ClientRunqueue, s.ServerRunqueue, Waits, Stalls, availUs));
            return 0;
        }
        catch (Exception e)
        {
            Console.Error.WriteLine("MonoBench: " + e);
            return 1;
        }
    }

    private static Options Parse(string[] a)
    {
        Options o = new Options();
        for (int i = 0; i < a.Length; i++)
        {
            string k = a[i];
            Func<string> v = () =>
            {
                if (i + 1 >= a.Length) throw new ArgumentException(k + " needs a value");
                return a[++i];
            };
            switch (k)
            {
                case "--impl": o.Impl = v(); break;
                case "--url": o.Url = v(); break;
                case "--mode": o.Mode = v(); break;
                case "--size": o.Size = int.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--ca": o.Ca = v(); break;
                case "--tls13": o.Tls13 = true; break;
                case "--seconds": o.Seconds = double.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--warmup": o.Warmup = double.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--window": o.Window = int.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--server-pid": o.ServerPid = int.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--cws-buffer": o.CwsBuffer = int.Parse(v(), CultureInfo.InvariantCulture); break;
                case "--spin": o.Spin = true; break;
                default: throw new ArgumentException("unknown argument " + k);
            }
        }
        if (o.Url == null) throw new ArgumentException("--url is required");
        if (o.Mode != "rt" && o.Mode != "tput" && o.Mode != "overhead") throw new ArgumentException("--mode must be rt, tput or overhead");
        if (o.Size < 0 || o.Window < 1) throw new ArgumentException("bad --size or --window");
        return o;
    }

    private static byte[] Payload(int size)
    {
        byte[] b = new byte[size];
        for (int i = 0; i < b.Length; i++) b[i] = (byte)(i * 31 + 7);
        return b;
    }

    // ----- wsmachine ---------------------------------------------------------------------

    private static Measure RunWsm(Options o, Sampler sampler)
    {
        Stopwatch clock = Stopwatch.StartNew();
        using (WsConfig cfg = new WsConfig())
        using (WsSocketConnection c = new WsSocketConnection())
        {
            cfg.SetBuiltinRoots(false).SetKeepaliveInterval(0).SetIdleTimeout(0);
            if (o.Ca != null) cfg.AddRootPem(File.ReadAllText(o.Ca));
            if (o.Tls13) cfg.SetMinTlsVersion(WsTlsVersion.Tls13);
            c.Connect(o.Url, cfg);
            while (!c.IsOpen)
            {
                c.Pump(clock.ElapsedMilliseconds);
                if (c.IsFinished) throw new Exception("connect failed: " + c.State + " " + c.CloseReason);
                Thread.Sleep(1);
            }
            // The connection's socket, only to sleep until it is readable (or writable when
            // output is pending) instead of spinning on Pump; the driver does all the I/O.
            Socket sock = (Socket)typeof(WsSocketConnection)
                .GetProperty("Socket", BindingFlags.Instance | BindingFlags.NonPublic).GetValue(c, null);
            WsTlsVersion? v = c.TlsVersion;
            string tls = v == WsTlsVersion.Tls13 ? "1.3" : v == WsTlsVersion.Tls12 ? "1.2" : "?";
            if (o.Mode == "overhead")
            {
                Overhead(c, sock, clock);
                return new Measure { Tls = tls, Seconds = 1 };
            }
            byte[] payload = Payload(o.Size);
            List<Socket> readList = new List<Socket>(1), writeList = new List<Socket>(1);

            Measure m = new Measure { Tls = tls };
            long warmEnd = Ticks(o.Warmup), end = Ticks(o.Warmup + o.Seconds);
            Stopwatch sw = Stopwatch.StartNew();
            bool measuring = false;
            long ops = 0, bytes = 0;
            long t0 = 0;
            int inflight = 0;
            bool rt = o.Mode == "rt";
            int window = rt ? 1 : o.Window;
            for (;;)
            {
                long now = sw.ElapsedTicks;
                if (!measuring && now >= warmEnd)
                {
                    measuring = true;
                    ops = bytes = 0;
                    t0 = now;
                    sampler.Start();
                }
                else if (measuring && now >= end)
                {
                    sampler.Stop();
                    m.Ops = ops;
                    m.Bytes = bytes;
                    m.Seconds = (now - t0) / (double)Stopwatch.Frequency;
                    break;
                }
                while (inflight < window)
                {
                    c.SendBinary(payload, 0, payload.Length); // queues and flushes what the socket takes
                    inflight++;
                }
                // Sleep until the echo (or room to send) arrives, then do one frame's work.
                if (o.Spin)
                {
                    // busy-poll: Pump again at once
                }
                else if (c.PendingSendBytes > 0)
                {
                    readList.Clear(); readList.Add(sock);
                    writeList.Clear(); writeList.Add(sock);
                    Socket.Select(readList, writeList, null, 100000);
                    if (readList.Count == 0 && writeList.Count == 0) Stalls++;
                }
                else if (!sock.Poll(100000, SelectMode.SelectRead))
                {
                    Stalls++;
                }
                Waits++;
                long woke = sw.ElapsedTicks;
                c.Pump(clock.ElapsedMilliseconds);
                WsMessage msg;
                bool first = true;
                while (c.TryReceive(out msg))
                {
                    if (first && measuring && AvailCount < AvailTicks.Length)
                    {
                        AvailTicks[AvailCount++] = sw.ElapsedTicks - woke;
                    }
                    first = false;
                    if (msg.Length != o.Size) throw new Exception("echo of " + msg.Length + " bytes, sent " + o.Size);
                    inflight--;
                    ops++;
                    bytes += msg.Length;
                }
                if (c.IsFinished) throw new Exception("connection ended: " + c.State + " " + c.CloseReason);
            }
            c.Close();
            long deadline = clock.ElapsedMilliseconds + 2000;
            while (!c.IsFinished && clock.ElapsedMilliseconds < deadline)
            {
                c.Pump(clock.ElapsedMilliseconds);
                WsMessage msg;
                while (c.TryReceive(out msg)) { }
                Thread.Sleep(1);
            }
            return m;
        }
    }

    private static void Overhead(WsSocketConnection c, Socket sock, Stopwatch clock)
    {
        byte[] buf = new byte[1024];
        long sink = 0;
        for (int round = 0; round < 2; round++) // the first round warms up the JIT
        {
            int n = round == 0 ? 1000 : 1000000;
            Stopwatch sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) sink += c.PendingSendBytes;
            Report(round, "pinvoke_pending_output", sw, n);
            n = round == 0 ? 1000 : 200000;
            sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) sink += sock.Poll(0, SelectMode.SelectRead) ? 1 : 0;
            Report(round, "socket_poll0", sw, n);
            sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++)
            {
                SocketError err;
                sink += sock.Receive(buf, 0, buf.Length, SocketFlags.None, out err);
            }
            Report(round, "socket_receive_wouldblock", sw, n);
            sw = Stopwatch.StartNew();
            for (int i = 0; i < n; i++) c.Pump(clock.ElapsedMilliseconds);
            Report(round, "idle_pump", sw, n);
        }
        if (sink == 42) Console.WriteLine();
    }

    private static void Report(int round, string name, Stopwatch sw, int n)
    {
        if (round == 0) return;
        Console.WriteLine(string.Format(CultureInfo.InvariantCulture, "OVERHEAD {0} {1:F0} ns/call",
            name, sw.Elapsed.TotalMilliseconds * 1e6 / n));
    }

    // ----- ClientWebSocket ---------------------------------------------------------------

    private static async Task<Measure> RunCws(Options o, Sampler sampler)
    {
        using (ClientWebSocket ws = new ClientWebSocket())
        {
            ws.Options.SetBuffer(o.CwsBuffer, o.CwsBuffer);
            // Trust comes from Mono's store (the bench script's private HOME): Mono's
            // ClientWebSocket ignores ServerCertificateValidationCallback over wss.
            await ws.ConnectAsync(new Uri(o.Url), CancellationToken.None).ConfigureAwait(false);
            byte[] payload = Payload(o.Size);
            byte[] rx = new byte[Math.Max(o.Size, 1) + 4096];
            Measure m = new Measure { Tls = "1.2" }; // SslStream on Mono 6.8 stops at TLS 1.2
            long warmEnd = Ticks(o.Warmup), end = Ticks(o.Warmup + o.Seconds);
            Stopwatch sw = Stopwatch.StartNew();
            bool measuring = false;
            long ops = 0, bytes = 0, t0 = 0;
            ArraySegment<byte> tx = new ArraySegment<byte>(payload);

            if (o.Mode == "rt")
            {
                for (;;)
                {
                    long now = sw.ElapsedTicks;
                    if (!measuring && now >= warmEnd)
                    {
                        measuring = true;
                        ops = bytes = 0;
                        t0 = now;
                        sampler.Start();
                    }
                    else if (measuring && now >= end)
                    {
                        sampler.Stop();
                        m.Ops = ops;
                        m.Bytes = bytes;
                        m.Seconds = (now - t0) / (double)Stopwatch.Frequency;
                        break;
                    }
                    await ws.SendAsync(tx, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                    int n = await ReceiveMessage(ws, rx).ConfigureAwait(false);
                    if (n != o.Size) throw new Exception("echo of " + n + " bytes, sent " + o.Size);
                    ops++;
                    bytes += n;
                }
            }
            else
            {
                // One send loop and one receive loop (ClientWebSocket allows one of each at a
                // time); the semaphore keeps --window messages in flight.
                SemaphoreSlim window = new SemaphoreSlim(o.Window);
                bool stop = false;
                Task sender = Task.Run(async () =>
                {
                    while (!Volatile.Read(ref stop))
                    {
                        await window.WaitAsync().ConfigureAwait(false);
                        if (Volatile.Read(ref stop)) break;
                        await ws.SendAsync(tx, WebSocketMessageType.Binary, true, CancellationToken.None).ConfigureAwait(false);
                    }
                });
                long sent = 0;
                for (;;)
                {
                    long now = sw.ElapsedTicks;
                    if (!measuring && now >= warmEnd)
                    {
                        measuring = true;
                        ops = bytes = 0;
                        t0 = now;
                        sampler.Start();
                    }
                    else if (measuring && now >= end)
                    {
                        sampler.Stop();
                        m.Ops = ops;
                        m.Bytes = bytes;
                        m.Seconds = (now - t0) / (double)Stopwatch.Frequency;
                        break;
                    }
                    int n = await ReceiveMessage(ws, rx).ConfigureAwait(false);
                    if (n != o.Size) throw new Exception("echo of " + n + " bytes, sent " + o.Size);
                    ops++;
                    bytes += n;
                    sent++;
                    window.Release();
                }
                Volatile.Write(ref stop, true);
                window.Release();
                await sender.ConfigureAwait(false);
                // Drain the echoes still in flight before closing.
                using (CancellationTokenSource cts = new CancellationTokenSource(2000))
                {
                    try
                    {
                        for (int i = 0; i < o.Window; i++)
                        {
                            WebSocketReceiveResult r = await ws.ReceiveAsync(new ArraySegment<byte>(rx), cts.Token).ConfigureAwait(false);
                            while (!r.EndOfMessage) r = await ws.ReceiveAsync(new ArraySegment<byte>(rx), cts.Token).ConfigureAwait(false);
                        }
                    }
                    catch (Exception)
                    {
                        return m; // measured already; the close is best effort
                    }
                }
            }
            try
            {
                using (CancellationTokenSource cts = new CancellationTokenSource(2000))
                {
                    await ws.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cts.Token).ConfigureAwait(false);
                }
            }
            catch (Exception)
            {
            }
            return m;
        }
    }

    /// <summary>Receives one whole message into <paramref name="rx"/>; returns its length.</summary>
    private static async Task<int> ReceiveMessage(ClientWebSocket ws, byte[] rx)
    {
        int n = 0;
        for (;;)
        {
            WebSocketReceiveResult r = await ws.ReceiveAsync(new ArraySegment<byte>(rx, n, rx.Length - n), CancellationToken.None).ConfigureAwait(false);
            if (r.MessageType == WebSocketMessageType.Close) throw new Exception("server closed: " + r.CloseStatus);
            n += r.Count;
            if (r.EndOfMessage) return n;
            if (n == rx.Length) throw new Exception("message larger than the receive buffer");
        }
    }

    private static long Ticks(double seconds)
    {
        return (long)(seconds * Stopwatch.Frequency);
    }

    // ----- CPU sampling ------------------------------------------------------------------

    /// <summary>CPU time of this process, of the server process and of the machine over the window.</summary>
    private sealed class Sampler
    {
        private readonly int _serverPid;
        private readonly Stopwatch _wall = new Stopwatch();
        private TimeSpan _client0;
        private long _server0, _busy0, _clientWait0, _serverWait0;
        public double ClientCores, ServerCores = double.NaN, MachineCores = double.NaN;
        /// <summary>Time threads spent runnable but waiting for a CPU, in cores (schedstat).</summary>
        public double ClientRunqueue = double.NaN, ServerRunqueue = double.NaN;

        public Sampler(int serverPid)
        {
            _serverPid = serverPid;
        }

        public void Start()
        {
            _client0 = Process.GetCurrentProcess().TotalProcessorTime;
            _server0 = ProcTicks(_serverPid);
            _busy0 = MachineBusyTicks();
            _clientWait0 = RunqueueNs("self");
            _serverWait0 = _serverPid > 0 ? RunqueueNs(_serverPid.ToString(CultureInfo.InvariantCulture)) : -1;
            Waits = Stalls = 0;
            AvailCount = 0;
            _wall.Restart();
        }

        public void Stop()
        {
            double secs = _wall.Elapsed.TotalSeconds;
            ClientCores = (Process.GetCurrentProcess().TotalProcessorTime - _client0).TotalSeconds / secs;
            long s1 = ProcTicks(_serverPid), b1 = MachineBusyTicks();
            // USER_HZ is 100 on Linux.
            if (s1 >= 0 && _server0 >= 0) ServerCores = (s1 - _server0) / 100.0 / secs;
            if (b1 >= 0 && _busy0 >= 0) MachineCores = (b1 - _busy0) / 100.0 / secs;
            long c1 = RunqueueNs("self");
            long w1 = _serverPid > 0 ? RunqueueNs(_serverPid.ToString(CultureInfo.InvariantCulture)) : -1;
            if (c1 >= 0 && _clientWait0 >= 0) ClientRunqueue = (c1 - _clientWait0) / 1e9 / secs;
            if (w1 >= 0 && _serverWait0 >= 0) ServerRunqueue = (w1 - _serverWait0) / 1e9 / secs;
        }

        /// <summary>Sum over a process's threads of the run-queue wait (/proc/PID/task/*/schedstat, field 2, ns); -1 if unknown.</summary>
        private static long RunqueueNs(string pid)
        {
            try
            {
                long sum = 0;
                foreach (string t in Directory.GetDirectories("/proc/" + pid + "/task"))
                {
                    try
                    {
                        string[] f = File.ReadAllText(t + "/schedstat").Split(' ');
                        sum += long.Parse(f[1], CultureInfo.InvariantCulture);
                    }
                    catch (IOException)
                    {
                        // the thread ended
                    }
                }
                return sum;
            }
            catch (Exception)
            {
                return -1;
            }
        }

        /// <summary>utime + stime of a process (all threads), in clock ticks; -1 if unknown.</summary>
        private static long ProcTicks(int pid)
        {
            if (pid <= 0) return -1;
            try
            {
                string s = File.ReadAllText("/proc/" + pid + "/stat");
                string[] f = s.Substring(s.LastIndexOf(')') + 2).Split(' ');
                // f[0] is field 3 (state); utime and stime are fields 14 and 15.
                return long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            }
            catch (Exception)
            {
                return -1;
            }
        }

        /// <summary>Non-idle ticks of all CPUs (/proc/stat "cpu" line); -1 if unknown.</summary>
        private static long MachineBusyTicks()
        {
            try
            {
                using (StreamReader r = new StreamReader("/proc/stat"))
                {
                    string[] f = r.ReadLine().Split(new[] { ' ' }, StringSplitOptions.RemoveEmptyEntries);
                    long busy = 0;
                    for (int i = 1; i < f.Length && i <= 8; i++)
                    {
                        if (i == 4 || i == 5) continue; // idle, iowait
                        busy += long.Parse(f[i], CultureInfo.InvariantCulture);
                    }
                    return busy;
                }
            }
            catch (Exception)
            {
                return -1;
            }
        }
    }
}
