// Disposal, finalizers and stale handles.

using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using System.Threading;
using NUnit.Framework;
using WsMachine;

namespace WsMachine.Tests
{
    [TestFixture]
    public class LifetimeTests
    {
        private static bool IsSpan(Type t)
        {
            if (t.IsByRef) t = t.GetElementType();
            return t.IsGenericType && (t.GetGenericTypeDefinition() == typeof(Span<>) || t.GetGenericTypeDefinition() == typeof(ReadOnlySpan<>));
        }

        private static object DefaultArg(ParameterInfo p)
        {
            Type t = p.ParameterType.IsByRef ? p.ParameterType.GetElementType() : p.ParameterType;
            return t.IsValueType ? Activator.CreateInstance(t) : null;
        }

        /// <summary>Invokes every public instance member with default arguments and expects ObjectDisposedException.</summary>
        private static int AllMembersThrowDisposed(object disposed)
        {
            var problems = new List<string>();
            int checkedCount = 0;
            Type type = disposed.GetType();
            foreach (MethodInfo m in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (m.DeclaringType == typeof(object) || m.Name == "Dispose" || m.Name == "get_IsDisposed") continue;
                if (m.GetParameters().Any(p => IsSpan(p.ParameterType))) continue; // cannot be boxed; called directly below
                object[] args = m.GetParameters().Select(DefaultArg).ToArray();
                checkedCount++;
                try
                {
                    m.Invoke(disposed, args);
                    problems.Add(m + " did not throw");
                }
                catch (TargetInvocationException e)
                {
                    if (!(e.InnerException is ObjectDisposedException))
                        problems.Add(m + " threw " + e.InnerException.GetType().Name + ": " + e.InnerException.Message);
                }
            }
            Assert.IsEmpty(problems, type.Name + ":\n" + string.Join("\n", problems.ToArray()));
            return checkedCount;
        }

        [Test]
        public void EveryMemberThrowsObjectDisposedAfterDispose()
        {
            var cfg = new WsConfig();
            var client = new WsClient(cfg, "ws://127.0.0.1:9/");
            var conn = new WsSocketConnection();
            conn.Connect("ws://127.0.0.1:9/", cfg);
            client.Dispose();
            cfg.Dispose();
            conn.Dispose();
            client.Dispose(); // twice is fine
            cfg.Dispose();
            conn.Dispose();
            Assert.IsTrue(client.IsDisposed);
            Assert.IsTrue(cfg.IsDisposed);

            Assert.Greater(AllMembersThrowDisposed(client), 20);
            Assert.Greater(AllMembersThrowDisposed(cfg), 20);
            Assert.Greater(AllMembersThrowDisposed(conn), 20);

            // The span overloads, which reflection cannot call.
            Assert.Throws<ObjectDisposedException>(() => client.OfferInput(ReadOnlySpan<byte>.Empty));
            Assert.Throws<ObjectDisposedException>(() => client.ReadOutput(new Span<byte>(new byte[4])));
            Assert.Throws<ObjectDisposedException>(() => client.SendText(ReadOnlySpan<byte>.Empty));
            Assert.Throws<ObjectDisposedException>(() => client.SendBinary(ReadOnlySpan<byte>.Empty));
            Assert.Throws<ObjectDisposedException>(() => client.Ping(ReadOnlySpan<byte>.Empty));
            Assert.Throws<ObjectDisposedException>(() => conn.SendText(ReadOnlySpan<byte>.Empty));
            Assert.Throws<ObjectDisposedException>(() => conn.SendBinary(ReadOnlySpan<byte>.Empty));
            // Using a disposed config to create a client.
            Assert.Throws<ObjectDisposedException>(() => new WsClient(cfg, "ws://127.0.0.1:9/"));
        }

        [Test]
        public void DisposeInvalidatesBorrowedAndPooledViews()
        {
            using (var cfg = new WsConfig())
            using (var h = new SansIoHarness(cfg, TestEnv.WsUrl()))
            {
                h.AutoPoll = false;
                h.StepUntil(() => h.Client.State == WsState.Open, "Open");
                h.Client.SendText("x");
                WsMessage m = default(WsMessage);
                h.StepUntil(() => h.Client.TryPollMessage(out m), "the echo");
                Assert.IsTrue(m.IsValid);
                h.Client.Dispose();
                Assert.IsFalse(m.IsValid);
                Assert.Throws<InvalidOperationException>(() => m.GetText());
            }
        }

        private static void MakeGarbage(int n)
        {
            for (int i = 0; i < n; i++)
            {
                var cfg = new WsConfig();
                new WsClient(cfg, "wss://localhost:9/");
            }
        }

        [Test]
        public void FinalizersFreeForgottenHandles()
        {
            long before = WsLibrary.HandleCount;
            // Allocate on a thread that then ends, so no stale stack slot keeps an object alive
            // (Mono scans stacks conservatively).
            var t = new Thread(() => MakeGarbage(50));
            t.Start();
            t.Join();
            Assert.GreaterOrEqual(WsLibrary.HandleCount, before); // finalizers may have run already
            long after = long.MaxValue;
            for (int i = 0; i < 10 && after > before; i++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                after = WsLibrary.HandleCount;
            }
            Assert.LessOrEqual(after, before, "finalizers freed the 100 forgotten handles on the finalizer thread");
        }

        [Test]
        public unsafe void StaleHandlesAreHarmless()
        {
            var cfg = new WsConfig();
            ulong ch = cfg.Handle;
            var client = new WsClient(cfg, "ws://127.0.0.1:9/");
            ulong h = client.Handle;
            client.Dispose();
            cfg.Dispose();
            Assert.AreEqual(0u, NativeMethods.ws_client_free(h), "double free is a no-op");
            Assert.AreEqual(0u, NativeMethods.ws_config_free(ch));
            Assert.AreEqual(0u, NativeMethods.ws_client_free(0));
            uint state;
            Assert.AreEqual((uint)WsResult.InvalidHandle, NativeMethods.ws_client_state(h, &state));
            Assert.AreEqual((uint)WsResult.InvalidHandle, NativeMethods.ws_client_tick(0xdeadbeefUL, 1));
            var e = Ensure.ForClient((uint)WsResult.InvalidHandle, h);
            Assert.IsInstanceOf<WsMisuseException>(e);
            StringAssert.Contains("handle", e.Message);
            Assert.IsNotNull(WsLibrary.LastThreadError);
        }
    }
}
