// Resume-to-usable time on Mono (issue 16): how long after a pause until the game can
// send again, over real loopback wss to Node's `ws` (tests/peers/node/restart_server.js).
//
//   probe     the server stayed up: the first Pump after a 5-minute pause (a jump of the
//             Pump clock) sends the liveness probe; usable when its answer arrived
//   resumed   the server was restarted (SIGKILL, started again with the same ticket
//             keys): Lost, then Reconnect() with the same WsConfig; usable at Open,
//             TLS 1.3 session resumed
//   full      the same reconnect with a fresh WsConfig (no session to resume): a full
//             handshake with certificate verification
//
// Prints one "RESULT case=... n=... median_ms=... p90_ms=... resumed=..." line per case.
// Run by scripts/bench-resume.sh; results in docs/BENCH-MONO.md.

using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Threading;
using WsMachine;

internal static class ResumeBench
{
    private static string _node, _cert, _key, _keys, _ca;
    private static Process _server;
    private static int _port;

    private static void Main(string[] args)
    {
        _node = args[0];
        string certs = args[1];
        int reps = int.Parse(args[2]);
        _cert = Path.Combine(certs, "server.pem");
        _key = Path.Combine(certs, "server.key");
        _ca = File.ReadAllText(Path.Combine(certs, "ca.pem"));
        _keys = Path.GetTempFileName();
        var k = new byte[48];
        new Random().NextBytes(k);
        File.WriteAllBytes(_keys, k);
        try
        {
            StartServer(0);
            var probe = new List<double>();
            var resumed = new List<double>();
            var full = new List<double>();
            int resumedCount = 0, fullResumed = 0;
            for (int i = 0; i < reps; i++)
            {
                // A fresh config per round: its first handshake is a full one, whose
                // tickets the reconnect uses (OpenSSL behind Node does not take every
                // ticket issued on an already resumed session after a restart).
                using (var cfg = new WsConfig().AddRootPem(_ca))
                using (var c = new WsSocketConnection())
                {
                    c.Connect("wss://localhost:" + _port + "/", cfg);
                    long offset = 0;
                    Func<long> now = () => WsSocketConnection.MonotonicMs + offset;
                    Until(c, now, () => c.IsOpen);
                    Echo(c, now); // the round trip also brings the session tickets
                    // 1. probe after a pause with the server alive
                    offset += 5 * 60 * 1000;
                    var sw = Stopwatch.StartNew();
                    c.Pump(now());
                    if (!c.IsProbing) throw new Exception("no probe");
                    Until(c, now, () => !c.IsProbing);
                    probe.Add(sw.Elapsed.TotalMilliseconds);
                    // 2. the server restarts while paused: Lost, reconnect, resumed
                    KillServer();
                    StartServer(_port);
                    Until(c, now, () => c.IsFinished);
                    sw = Stopwatch.StartNew();
                    c.Reconnect();
                    Until(c, now, () => c.IsOpen);
                    resumed.Add(sw.Elapsed.TotalMilliseconds);
                    if (c.IsResumed) resumedCount++;
                    Echo(c, now);
                }
                // 3. the same after another restart, without a session to resume
                KillServer();
                StartServer(_port);
                using (var fresh = new WsConfig().AddRootPem(_ca))
                using (var c = new WsSocketConnection())
                {
                    Func<long> now = () => WsSocketConnection.MonotonicMs;
                    var sw = Stopwatch.StartNew();
                    c.Connect("wss://localhost:" + _port + "/", fresh);
                    Until(c, now, () => c.IsOpen);
                    full.Add(sw.Elapsed.TotalMilliseconds);
                    if (c.IsResumed) fullResumed++;
                }
            }
            Report("probe", probe, "n/a");
            Report("resumed", resumed, resumedCount + "/" + reps);
            Report("full", full, fullResumed + "/" + reps);
        }
        finally
        {
            KillServer();
            File.Delete(_keys);
        }
    }

    private static void Until(WsSocketConnection c, Func<long> now, Func<bool> done)
    {
        var sw = Stopwatch.StartNew();
        while (!done())
        {
            if (c.IsFinished && !done()) throw new Exception("ended: " + c.State + " " + c.CloseReason);
            if (sw.ElapsedMilliseconds > 10000) throw new Exception("timeout in " + c.State);
            c.Pump(now());
            if (done()) break;
            Thread.Sleep(0); // a game's loop: pump, yield, pump
        }
    }

    private static void Echo(WsSocketConnection c, Func<long> now)
    {
        c.SendText("x");
        bool got = false;
        Until(c, now, () =>
        {
            WsMessage m;
            while (c.TryReceive(out m)) got |= m.IsText;
            return got;
        });
    }

    private static void StartServer(int port)
    {
        var psi = new ProcessStartInfo("node", "\"" + _node + "\" --port " + port + " --cert \"" + _cert + "\" --key \"" + _key
            + "\" --ticket-keys \"" + _keys + "\"") { UseShellExecute = false, RedirectStandardOutput = true };
        _server = Process.Start(psi);
        _port = int.Parse(_server.StandardOutput.ReadLine().Substring(5));
    }

    private static void KillServer()
    {
        if (_server == null) return;
        if (!_server.HasExited) _server.Kill();
        _server.WaitForExit();
        _server.Dispose();
        _server = null;
    }

    private static void Report(string name, List<double> ms, string resumed)
    {
        ms.Sort();
        Console.WriteLine("RESULT case={0} n={1} median_ms={2:F2} p90_ms={3:F2} min_ms={4:F2} resumed={5}", name, ms.Count,
            ms[ms.Count / 2], ms[(int)Math.Min(ms.Count - 1, Math.Ceiling(ms.Count * 0.9) - 1)], ms[0], resumed);
    }
}
