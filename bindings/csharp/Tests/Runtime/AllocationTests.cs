// The steady state allocates nothing per message: 10,000 messages sent (half through
// the string overload, half from a byte[]) and received through the pooled ring.

using System;
using System.Diagnostics;
using System.Net.Sockets;
using System.Reflection;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class AllocationTests
    {
        private const int Size = 64;      // payload bytes per message
        private const int Window = 32;    // messages in flight
        private const int Warmup = 2000;  // grows the ring, the pooled buffers and the text scratch; JITs the loop
        private const int N = 10000;

        /// <summary>
        /// The bound with the precise per-thread counter: 16 bytes per message on average,
        /// 160,000 bytes for the run. A byte[] (or a string) per message cannot fit under it:
        /// the smallest array object is 32 bytes on 64-bit Mono (vtable, sync, bounds, length),
        /// so one array holding the 64-byte payload costs 96 bytes and 10,000 of them 960,000,
        /// six times the bound (checked by hand with a mutant that copies each message). What
        /// the bound leaves room for is fixed, per-run cost (the runtime's lazy caches).
        /// </summary>
        private const long BoundBytes = N * 16L;

        /// <summary>
        /// Without the per-thread counter, allocations are seen only through collections:
        /// SGen's nursery is 4 MiB and GC.GetTotalMemory(false) does not count nursery
        /// allocations (it stayed flat with the 96-byte-per-message mutant), so the run is made
        /// long enough that one array per message (100,000 x 96 bytes = 9.6 MB) must fill the
        /// nursery at least twice, and zero gen0 collections are required.
        /// </summary>
        private const int FallbackN = 100000;

        private static Func<long> AllocatedBytesCounter()
        {
            // Precise and per-thread where the runtime has it (Mono 6.x, .NET Core 3+).
            // WSM_ALLOC_FALLBACK=1 tries the fallback measure on such runtimes too.
            if (Environment.GetEnvironmentVariable("WSM_ALLOC_FALLBACK") == "1") return null;
            MethodInfo mi = typeof(GC).GetMethod("GetAllocatedBytesForCurrentThread", BindingFlags.Public | BindingFlags.Static);
            return mi == null ? null : (Func<long>)Delegate.CreateDelegate(typeof(Func<long>), mi);
        }

        /// <summary>Sends n messages (text and binary in turn) with at most Window in flight and receives every echo. Allocation-free.</summary>
        private static void Run(WsSocketConnection c, string text, byte[] payload, int n, Stopwatch sw)
        {
            int sent = 0, got = 0;
            long deadline = sw.ElapsedMilliseconds + 60000;
            while (got < n)
            {
                while (sent < n && sent - got < Window)
                {
                    if ((sent & 1) == 0) c.SendText(text);
                    else c.SendBinary(payload, 0, payload.Length);
                    sent++;
                }
                c.Pump(sw.ElapsedMilliseconds);
                WsMessage m;
                bool any = false;
                while (c.TryReceive(out m))
                {
                    WsMessageKind want = (got & 1) == 0 ? WsMessageKind.Text : WsMessageKind.Binary;
                    if (m.Kind != want || m.Length != Size || m.Array[m.Offset] != payload[0])
                    {
                        Assert.Fail("message " + got + " is " + m + ", expected " + want);
                    }
                    got++;
                    any = true;
                }
                if (!any)
                {
                    if (c.IsFinished) Assert.Fail("connection ended: " + c.State + " " + c.CloseReason);
                    if (sw.ElapsedMilliseconds > deadline) Assert.Fail("timed out after " + got + " messages");
                    c.Socket.Poll(1000, SelectMode.SelectRead);
                }
            }
        }

        [Test]
        public void SteadyStateSendAndReceiveAllocateNothingPerMessage()
        {
            using (var cfg = TestEnv.TrustedConfig().SetKeepaliveInterval(0))
            using (var c = new WsSocketConnection())
            {
                c.Connect(TestEnv.WssUrl(), cfg);
                Drive.Open(c);
                byte[] payload = new byte[Size];
                for (int i = 0; i < Size; i++) payload[i] = (byte)'a';
                string text = new string('a', Size); // same bytes as text, made once
                var sw = Stopwatch.StartNew();
                Func<long> allocated = AllocatedBytesCounter();

                Run(c, text, payload, Warmup, sw);
                GC.Collect();
                GC.WaitForPendingFinalizers();
                GC.Collect();

                int n = allocated != null ? N : FallbackN;
                int gen0Before = GC.CollectionCount(0);
                long heapBefore = GC.GetTotalMemory(false);
                long allocBefore = allocated != null ? allocated() : 0;
                long t0 = sw.ElapsedMilliseconds;

                Run(c, text, payload, n, sw);

                long allocDelta = allocated != null ? allocated() - allocBefore : -1;
                long heapDelta = GC.GetTotalMemory(false) - heapBefore;
                int collections = GC.CollectionCount(0) - gen0Before;
                long ms = sw.ElapsedMilliseconds - t0;
                Console.WriteLine("allocation check: " + n + " messages echoed in " + ms + " ms; " +
                                  (allocated != null
                                      ? "allocated " + allocDelta + " bytes on this thread (" + (allocDelta / (double)n).ToString("0.00") +
                                        " per message, bound " + BoundBytes + " bytes); "
                                      : "no per-thread counter: fallback on collections; ") +
                                  "gen0 collections " + collections + ", heap delta " + heapDelta + " bytes");

                if (allocated != null)
                {
                    Assert.Less(allocDelta, BoundBytes, "managed bytes allocated during " + n + " messages");
                }
                Assert.AreEqual(0, collections, "gen0 collections during the run (each one means over 4 MiB allocated)");
                c.Close();
                Drive.Finished(c);
            }
        }
    }
}
