// Issue 18: what Mono's socket layer costs a sleeping driver, without TLS or WebSocket.
//
// The same four calls per round trip as WsSocketConnection with a sleeping pump (a
// writability check, the send, the poll that sleeps until the reply, one receive), on
// plain TCP over loopback against benches/c/loopback_floor.c's echo server (a C process,
// started here with --serve), 51 bytes each way (a 16 B binary message in a masked frame
// in a TLS 1.2 AES-GCM record). Two ways:
//   managed  System.Net.Sockets.Socket: Poll(0, SelectWrite), Send, Poll(100 ms,
//            SelectRead), Receive, as the driver calls them;
//   libc     the same four syscalls through P/Invoke to libc (poll, send, recv) on the
//            socket's handle: what a driver that bypassed System.Net.Sockets would pay.
// Prints one RESULT line per way and repetition: the client process's CPU per round trip
// (Process.TotalProcessorTime, as MonoBench measures the driver) and the rate.
// Together with loopback_floor (the kernel alone) and MonoBench (the whole driver) it
// splits a round trip into kernel, Mono's socket layer, and the driver with the library.
//
//   cc -O2 -o loopback_floor benches/c/loopback_floor.c
//   mcs -langversion:7.2 -unsafe -optimize+ -out:SocketFloor.exe benches/mono/SocketFloor.cs
//   mono SocketFloor.exe ./loopback_floor [seconds, default 3] [reps, default 3]
//
// Linux only (libc's poll/send/recv and struct pollfd as glibc lays them out).
// Results: docs/BENCH-MONO.md ("The floor, with a profile").
using System;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

static unsafe class SocketFloor
{
    const int Size = 51;
    const short POLLIN = 1, POLLOUT = 4;

    [StructLayout(LayoutKind.Sequential)]
    struct PollFd { public int Fd; public short Events; public short Revents; }

    [DllImport("libc", SetLastError = true)] static extern int poll(PollFd* fds, ulong nfds, int timeout);
    [DllImport("libc", SetLastError = true)] static extern long send(int fd, byte* buf, ulong len, int flags);
    [DllImport("libc", SetLastError = true)] static extern long recv(int fd, byte* buf, ulong len, int flags);

    static void Main(string[] args)
    {
        if (args.Length < 1)
        {
            Console.Error.WriteLine("usage: SocketFloor.exe PATH/TO/loopback_floor [seconds] [reps]");
            Environment.Exit(2);
        }
        double seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 3;
        int reps = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 3;
        for (int r = 0; r < reps; r++)
        {
            foreach (string way in new[] { "managed", "libc" })
            {
                Run(args[0], way, seconds);
            }
        }
    }

    static void Run(string server, string way, double seconds)
    {
        var psi = new ProcessStartInfo(server, "--serve") { UseShellExecute = false, RedirectStandardOutput = true };
        using (Process echo = Process.Start(psi))
        {
            string line = echo.StandardOutput.ReadLine() ?? "";
            if (!line.StartsWith("PORT ", StringComparison.Ordinal)) throw new Exception("echo server said: " + line);
            int port = int.Parse(line.Substring(5), CultureInfo.InvariantCulture);
            var sock = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            sock.NoDelay = true;
            sock.Connect(new IPEndPoint(IPAddress.Loopback, port));
            sock.Blocking = false; // as the driver's socket
            byte[] tx = new byte[Size];
            byte[] rx = new byte[64 * 1024];
            int fd = (int)sock.Handle;
            bool libc = way == "libc";
            Stopwatch sw = Stopwatch.StartNew();
            long warmEnd = (long)(0.5 * Stopwatch.Frequency);
            long end = warmEnd + (long)(seconds * Stopwatch.Frequency);
            long rounds = 0, t0 = 0;
            TimeSpan cpu0 = TimeSpan.Zero;
            bool measuring = false;
            fixed (byte* txp = tx)
            fixed (byte* rxp = rx)
            {
                for (;;)
                {
                    long now = sw.ElapsedTicks;
                    if (!measuring && now >= warmEnd)
                    {
                        measuring = true;
                        rounds = 0;
                        t0 = now;
                        cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                    }
                    else if (measuring && now >= end)
                    {
                        break;
                    }
                    if (libc)
                    {
                        PollFd p = new PollFd { Fd = fd, Events = POLLOUT };
                        if (poll(&p, 1, 0) != 1) throw new Exception("poll(POLLOUT) " + Marshal.GetLastWin32Error());
                        if (send(fd, txp, Size, 0) != Size) throw new Exception("send " + Marshal.GetLastWin32Error());
                        int got = 0;
                        while (got < Size)
                        {
                            p = new PollFd { Fd = fd, Events = POLLIN };
                            if (poll(&p, 1, 100) < 0) throw new Exception("poll(POLLIN) " + Marshal.GetLastWin32Error());
                            long n = recv(fd, rxp, (ulong)rx.Length, 0);
                            if (n > 0) got += (int)n;
                            else if (n == 0) throw new Exception("echo server closed");
                        }
                    }
                    else
                    {
                        if (!sock.Poll(0, SelectMode.SelectWrite)) throw new Exception("not writable");
                        SocketError err;
                        int k = sock.Send(tx, 0, Size, SocketFlags.None, out err);
                        if (err != SocketError.Success || k != Size) throw new Exception("send " + err);
                        int got = 0;
                        while (got < Size)
                        {
                            sock.Poll(100000, SelectMode.SelectRead);
                            int n = sock.Receive(rx, 0, rx.Length, SocketFlags.None, out err);
                            if (err == SocketError.WouldBlock) continue;
                            if (err != SocketError.Success || n == 0) throw new Exception("receive " + err);
                            got += n;
                        }
                    }
                    rounds++;
                }
            }
            double secs = (sw.ElapsedTicks - t0) / (double)Stopwatch.Frequency;
            double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds;
            Console.WriteLine(string.Format(CultureInfo.InvariantCulture,
                "RESULT impl=mono-{0} size={1} rounds={2} secs={3:F3} rate={4:F1} client_cpu_us_per_rt={5:F2} client_cores={6:F3}",
                way, Size, rounds, secs, rounds / secs, cpu / rounds * 1e6, cpu / secs));
            sock.Close(); // the echo server exits when the connection ends
            if (!echo.WaitForExit(5000))
            {
                echo.Kill();
                echo.WaitForExit();
            }
        }
    }
}
