// Issue 18: can WsSocketConnection receive straight into the library's input window?
// The window is native memory, so a managed socket can only reach it through
// Socket.Receive(Span<byte>, ...). This measures that receive against the driver's
// Socket.Receive(byte[], ...) on a loopback TCP pair, 16 B per read, and lists the IL
// of the runtime's Receive(Span<byte>, SocketFlags, out SocketError) (on Mono 6.8 it
// allocates a byte[] of the span's length, receives into it and copies all of it).
//
//   mcs -langversion:7.2 -unsafe -optimize+ -out:ReceiveSpan.exe benches/mono/ReceiveSpan.cs
//   mono ReceiveSpan.exe [iterations] [reps]
//
// Results: docs/BENCH-MONO.md ("The input window from C#").
using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Reflection.Emit;
using System.Runtime.InteropServices;

static unsafe class ReceiveSpan
{
    static void Main(string[] args)
    {
        int iterations = args.Length > 0 ? int.Parse(args[0]) : 200000;
        int reps = args.Length > 1 ? int.Parse(args[1]) : 5;
        ListIl();

        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var tx = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        tx.Connect(listener.LocalEndPoint);
        var rx = listener.Accept();
        tx.NoDelay = true;
        rx.Blocking = false;

        byte[] message = new byte[16];
        byte[] array = new byte[64 * 1024]; // the driver's receive buffer
        IntPtr stage = Marshal.AllocHGlobal(16 * 1024); // stands in for the lent window

        // Cases: the driver's array; a 2 KiB window (the staging buffer); a 16 KiB one
        // (the staging buffer after a full read).
        string[] names = { "Receive(byte[] 64 KiB)", "Receive(Span 2 KiB window)", "Receive(Span 16 KiB window)" };
        var us = new List<double>[3];
        var gcs = new List<int>[3];
        for (int c = 0; c < 3; c++) { us[c] = new List<double>(); gcs[c] = new List<int>(); }
        for (int r = 0; r < reps + 1; r++) // the first round warms up and is not counted
        {
            for (int c = 0; c < 3; c++)
            {
                int gc0 = GC.CollectionCount(0);
                TimeSpan cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
                for (int i = 0; i < iterations; i++)
                {
                    tx.Send(message, 0, message.Length, SocketFlags.None);
                    int got = 0;
                    while (got < message.Length)
                    {
                        SocketError err;
                        int n;
                        if (c == 0)
                        {
                            n = rx.Receive(array, 0, array.Length, SocketFlags.None, out err);
                        }
                        else
                        {
                            var window = new Span<byte>((void*)stage, c == 1 ? 2048 : 16384);
                            n = rx.Receive(window, SocketFlags.None, out err);
                        }
                        if (err == SocketError.WouldBlock) continue;
                        if (err != SocketError.Success || n == 0) throw new Exception("receive: " + err);
                        got += n;
                    }
                }
                TimeSpan cpu = Process.GetCurrentProcess().TotalProcessorTime - cpu0;
                if (r > 0)
                {
                    us[c].Add(cpu.TotalMilliseconds * 1000.0 / iterations);
                    gcs[c].Add(GC.CollectionCount(0) - gc0);
                }
            }
        }
        Console.WriteLine("send 16 B + receive it, CPU per iteration (send included; median of {0} reps of {1}):", reps, iterations);
        for (int c = 0; c < 3; c++)
        {
            us[c].Sort();
            gcs[c].Sort();
            Console.WriteLine("  {0,-28} {1,6:F2} us  [{2:F2}-{3:F2}]  gen0 GCs per rep {4}",
                names[c], us[c][us[c].Count / 2], us[c][0], us[c][us[c].Count - 1], gcs[c][gcs[c].Count / 2]);
        }
        Marshal.FreeHGlobal(stage);
    }

    /// Prints the calls and allocations in the runtime's Receive(Span<byte>, SocketFlags, out SocketError).
    static void ListIl()
    {
        var ops = new Dictionary<short, OpCode>();
        foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var o = (OpCode)f.GetValue(null);
            ops[o.Value] = o;
        }
        foreach (var m in typeof(Socket).GetMethods())
        {
            var ps = m.GetParameters();
            if (m.Name != "Receive" || ps.Length != 3 || !ps[0].ParameterType.Name.StartsWith("Span")) continue;
            Console.WriteLine("IL of " + m + " (calls and allocations):");
            byte[] il = m.GetMethodBody().GetILAsByteArray();
            for (int i = 0; i < il.Length;)
            {
                short v = il[i];
                if (v == 0xFE) { v = (short)(0xFE00 | il[i + 1]); i += 2; } else { i += 1; }
                OpCode op = ops[v];
                int size;
                switch (op.OperandType)
                {
                    case OperandType.InlineNone: size = 0; break;
                    case OperandType.ShortInlineBrTarget:
                    case OperandType.ShortInlineI:
                    case OperandType.ShortInlineVar: size = 1; break;
                    case OperandType.InlineVar: size = 2; break;
                    case OperandType.InlineI8:
                    case OperandType.InlineR: size = 8; break;
                    case OperandType.InlineSwitch: size = 4 + 4 * BitConverter.ToInt32(il, i); break;
                    default: size = 4; break;
                }
                if (op.OperandType == OperandType.InlineMethod || op.OperandType == OperandType.InlineType)
                {
                    MemberInfo target = m.Module.ResolveMember(BitConverter.ToInt32(il, i));
                    Console.WriteLine("  {0} {1}::{2}", op.Name, target.DeclaringType, target);
                }
                i += size;
            }
        }
    }
}
