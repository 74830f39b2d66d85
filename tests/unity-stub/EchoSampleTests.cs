// Drives unity-sample/Assets/EchoSample.cs the way Unity does (Start once, then Update and
// OnGUI every frame, OnDestroy at the end) against the UnityEngine stub, on Mono. Unity logs
// an exception thrown by Start and keeps calling Update, so a sample that lets Start fail
// halfway would throw a NullReferenceException on every frame after it.

using System.Collections.Generic;
using System.Reflection;
using NUnit.Framework;
using UnityEngine;

namespace WsMachine.SampleTests
{
    [TestFixture]
    public class EchoSampleTests
    {
        private static void Call(EchoSample sample, string method)
        {
            MethodInfo m = typeof(EchoSample).GetMethod(method, BindingFlags.Instance | BindingFlags.NonPublic);
            Assert.IsNotNull(m, "EchoSample." + method);
            try
            {
                m.Invoke(sample, null);
            }
            catch (TargetInvocationException e)
            {
                Assert.Fail("EchoSample." + method + " threw " + e.InnerException);
            }
        }

        private static List<string> LogOf(EchoSample sample)
        {
            FieldInfo f = typeof(EchoSample).GetField("_log", BindingFlags.Instance | BindingFlags.NonPublic);
            Assert.IsNotNull(f, "EchoSample._log");
            return (List<string>)f.GetValue(sample);
        }

        // Start, then frames, then the end of the scene: none of them may throw.
        private static List<string> Run(EchoSample sample)
        {
            Call(sample, "Start");
            for (int frame = 0; frame < 3; frame++)
            {
                Call(sample, "Update");
                Call(sample, "OnGUI");
            }
            Call(sample, "OnDestroy");
            return LogOf(sample);
        }

        [Test]
        public void BadUrlIsShownAndFramesGoOn()
        {
            var sample = new EchoSample();
            sample.url = "not a url";
            List<string> log = Run(sample);
            Assert.That(log.Exists(l => l.StartsWith("cannot connect: ")), "log: " + string.Join(" | ", log.ToArray()));
        }

        [Test]
        public void BadPemIsShownAndFramesGoOn()
        {
            var sample = new EchoSample();
            sample.url = "wss://localhost:1/";
            sample.caCertificate = new TextAsset("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
            List<string> log = Run(sample);
            Assert.That(log.Exists(l => l.StartsWith("cannot connect: ")), "log: " + string.Join(" | ", log.ToArray()));
        }

        [Test]
        public void RefusedConnectionEndsAsAState()
        {
            // A valid start: the failure (nothing listens on port 1) arrives later, in Pump.
            var sample = new EchoSample();
            sample.url = "ws://127.0.0.1:1/";
            Call(sample, "Start");
            for (int frame = 0; frame < 200 && !LogOf(sample).Exists(l => l.StartsWith("ended: ")); frame++)
            {
                Call(sample, "Update");
                Call(sample, "OnGUI");
                System.Threading.Thread.Sleep(10);
            }
            Call(sample, "OnDestroy");
            List<string> log = LogOf(sample);
            Assert.That(log.Exists(l => l.StartsWith("connecting to ")), "log: " + string.Join(" | ", log.ToArray()));
            Assert.That(log.Exists(l => l.StartsWith("ended: Failed")), "log: " + string.Join(" | ", log.ToArray()));
        }
    }
}
