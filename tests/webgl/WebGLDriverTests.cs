// The C# WebGL driver (WsSocketConnection and WsReconnector compiled with
// -define:UNITY_WEBGL) against the real jslib in headless Chromium, on Mono:
//
//   node tests/webgl/bridge.mjs BUILD LIBBRIDGE -- mono WsMachine.DriverTests.exe WS SILENT REFUSED MUTE
//
// tests/webgl/bridge.c forwards every ws_js_* call to the page (see bridge.mjs), so the
// events are the browser's. Pump runs against a real clock here, with a short sleep per
// "frame". Prints "PASS name" / "FAIL name: why"; exits 1 on any failure.

using System;
using System.Diagnostics;
using System.Text;
using System.Threading;
using WsMachine;

public static class WebGLDriverTests
{
    private static int _passed;
    private static int _failed;
    private static readonly Stopwatch Clock = Stopwatch.StartNew();
    private static int _ws, _silent, _refused, _mute;

    private static long Now
    {
        get { return Clock.ElapsedMilliseconds; }
    }

    private static void Check(string name, bool ok, string why)
    {
        if (ok) { _passed++; Console.WriteLine("PASS " + name); }
        else { _failed++; Console.WriteLine("FAIL " + name + ": " + why); }
    }

    private static string Url(string path)
    {
        return "ws://127.0.0.1:" + _ws + path;
    }

    // Pumps once per "frame" until done() or timeout.
    private static bool Until(WsSocketConnection c, Func<bool> done, int timeoutMs = 10000)
    {
        long end = Now + timeoutMs;
        while (Now < end)
        {
            c.Pump(Now);
            if (done()) return true;
            Thread.Sleep(2);
        }
        return false;
    }

    private static string Describe(WsSocketConnection c)
    {
        return c.State + " " + c.CloseCode + " " + c.CloseReason + (c.Error != null ? " [" + c.Error.GetType().Name + ": " + c.Error.Message + "]" : "");
    }

    private static void Echo()
    {
        var config = new WsConfig().SetSubprotocols("wsm.test");
        var c = new WsSocketConnection();
        c.Connect(Url("/echo"), config);
        Check("Connecting at once", c.State == WsConnectionState.Connecting, c.State.ToString());
        Exception early = null;
        try { c.SendText("too early"); } catch (Exception e) { early = e; }
        Check("a send before open", early is WsMisuseException && ((WsMisuseException)early).Result == WsResult.InvalidState, "" + early);
        Check("opens", Until(c, () => c.IsOpen), Describe(c));
        Check("subprotocol, HttpStatus, Deflate", c.Subprotocol == "wsm.test" && c.HttpStatus == 101 && c.Deflate.Enabled,
            c.Subprotocol + " " + c.HttpStatus + " " + c.Deflate.Enabled);
        string text = "h\u00e9llo w\u00f6rld \u2014 \u65e5\u672c\u8a9e \U0001F3AE";
        int[] sizes = { 0, 1, 125, 126, 65535, 65536, 1 << 20 };
        c.SendText(text);
        c.SendText(new ReadOnlySpan<byte>(Encoding.UTF8.GetBytes("span")));
        foreach (int n in sizes)
        {
            byte[] b = new byte[n];
            for (int i = 0; i < n; i++) b[i] = (byte)(i * 31 + n);
            c.SendBinary(b, 0, n);
        }
        int got = 0;
        string bad = null;
        Until(c, () =>
        {
            WsMessage m;
            while (bad == null && c.TryReceive(out m))
            {
                if (got == 0 && !(m.IsText && m.GetText() == text)) bad = "text: " + m;
                else if (got == 1 && !(m.IsText && m.GetText() == "span")) bad = "span: " + m;
                else if (got >= 2)
                {
                    int n = sizes[got - 2];
                    if (!m.IsBinary || m.Length != n) bad = "binary " + n + ": " + m;
                    else
                    {
                        ReadOnlySpan<byte> s = m.Span;
                        for (int i = 0; i < n && bad == null; i++)
                            if (s[i] != (byte)(i * 31 + n)) bad = "binary " + n + " byte " + i;
                    }
                }
                got++;
            }
            return bad != null || got == sizes.Length + 2;
        });
        Check("echo of text and binary 0 B..1 MiB, in order", bad == null && got == sizes.Length + 2, bad ?? got + " messages");
        Exception ping = null;
        try { c.Ping(); } catch (Exception e) { ping = e; }
        Check("Ping is not supported", ping is NotSupportedException, "" + ping);
        Exception code = null;
        try { c.Close(1001, "going away"); } catch (Exception e) { code = e; }
        Check("Close(1001) refused on WebGL", code is WsMisuseException && c.IsOpen, "" + code);
        c.Close(4000, "done \u00fc");
        Check("Closing after Close", c.State == WsConnectionState.Closing, c.State.ToString());
        Check("client close ends Closed", Until(c, () => c.IsFinished) && c.State == WsConnectionState.Closed
            && c.CloseCode == 4000 && c.CloseReason == "done \u00fc" && c.ClosedLocally, Describe(c));
        Exception after = null;
        try { c.SendText("x"); } catch (Exception e) { after = e; }
        Check("a send after the close", after is WsClosedException, "" + after);
        c.Dispose();
    }

    private static void ServerClose()
    {
        var c = new WsSocketConnection();
        c.Connect(Url("/close?code=4321&reason=bye%20%C3%BC"), new WsConfig());
        Until(c, () => c.IsFinished);
        WsMessage m;
        bool close = c.TryReceive(out m) && m.IsClose && m.CloseCode == 4321 && m.GetText() == "bye \u00fc";
        Check("server close with code and reason", c.State == WsConnectionState.Closed && c.CloseCode == 4321
            && c.CloseReason == "bye \u00fc" && close && !c.ClosedLocally, Describe(c) + " message " + m);
        c.Dispose();
    }

    private static void Refused()
    {
        var c = new WsSocketConnection();
        var r = new WsReconnector(c, 200, 1000, 0);
        c.Connect("ws://127.0.0.1:" + _refused + "/", new WsConfig());
        long start = Now;
        Until(c, () => { r.Pump(Now); return c.IsFinished; });
        Check("refused: Failed with WsClosedException (ConnectionLost), 1006",
            c.State == WsConnectionState.Failed && c.Error is WsClosedException
            && c.Error.Result == WsResult.ConnectionLost && c.CloseCode == 1006, Describe(c));
        Until(c, () => { r.Pump(Now); return r.Attempts >= 2; }, 5000);
        Check("the reconnector retries with backoff", r.Attempts >= 2 && Now - start >= 200 + 400, r.Attempts + " attempts in " + (Now - start) + " ms");
        c.Dispose();
    }

    private static void HandshakeTimeout()
    {
        var c = new WsSocketConnection();
        c.Connect("ws://127.0.0.1:" + _silent + "/", new WsConfig().SetHandshakeTimeout(500));
        long start = Now;
        Until(c, () => c.IsFinished, 5000);
        long took = Now - start;
        Check("handshake timeout against a silent server", c.State == WsConnectionState.TimedOut
            && c.Error is WsTimeoutException && took >= 500 && took < 3000, Describe(c) + " after " + took + " ms");
        c.Dispose();
    }

    private static void CloseTimeout()
    {
        var c = new WsSocketConnection();
        c.Connect("ws://127.0.0.1:" + _mute + "/", new WsConfig().SetCloseTimeout(500));
        Until(c, () => c.IsOpen);
        c.Close();
        long start = Now;
        Until(c, () => c.IsFinished, 5000);
        long took = Now - start;
        WsMessage m;
        bool close = c.TryReceive(out m) && m.IsClose && m.CloseCode == 1006;
        Check("close timeout against a server that never answers the close", c.State == WsConnectionState.Lost
            && c.CloseCode == 1006 && close && took >= 500 && took < 3000, Describe(c) + " after " + took + " ms");
        c.Dispose();
    }

    private static void Bound()
    {
        var c = new WsSocketConnection();
        c.MaxQueuedMessages = 100;
        c.Connect(Url("/push?n=500&size=1000"), new WsConfig());
        Thread.Sleep(1500); // no frames, as in a hidden tab; the browser keeps reading
        int got = 0;
        bool inOrder = true;
        Until(c, () =>
        {
            WsMessage m;
            while (c.TryReceive(out m))
            {
                if (m.IsBinary)
                {
                    inOrder &= BitConverter.ToInt32(m.Array, m.Offset) == got;
                    got++;
                }
            }
            return c.IsFinished;
        });
        Check("background queue bound: 100 messages in order, then Failed naming the bound",
            got == 100 && inOrder && c.State == WsConnectionState.Failed && c.Error is WsProtocolException
            && c.Error.Result == WsResult.MessageTooBig && c.Error.Message.Contains("bound 100 messages"),
            got + " messages, in order " + inOrder + ", " + Describe(c));
        c.Dispose();
    }

    private static void TooBig()
    {
        var c = new WsSocketConnection();
        c.Connect(Url("/push?n=3&size=6000"), new WsConfig().SetMaxMessageSize(5000));
        Until(c, () => c.IsFinished);
        WsMessage m;
        Check("message over SetMaxMessageSize", c.State == WsConnectionState.Failed && c.Error is WsProtocolException
            && c.Error.Message.Contains("5000") && !c.TryReceive(out m), Describe(c));
        c.Dispose();
    }

    private static void OutputFull()
    {
        var c = new WsSocketConnection();
        c.Connect(Url("/echo"), new WsConfig().SetMaxPendingOutput(1000));
        Until(c, () => c.IsOpen);
        Exception full = null;
        try { c.SendBinary(new byte[2000], 0, 2000); } catch (Exception e) { full = e; }
        Check("SetMaxPendingOutput against bufferedAmount", full is WsMisuseException
            && ((WsMisuseException)full).Result == WsResult.OutputFull, "" + full);
        c.SendBinary(new byte[500], 0, 500);
        WsMessage m = default(WsMessage);
        Check("a send under the limit", Until(c, () => c.TryReceive(out m)) && m.Length == 500, "" + m);
        c.Dispose();
    }

    private static void Several()
    {
        var cs = new WsSocketConnection[4];
        for (int i = 0; i < cs.Length; i++)
        {
            cs[i] = new WsSocketConnection();
            cs[i].Connect(Url("/echo"), new WsConfig());
        }
        var got = new string[cs.Length];
        Until(cs[0], () => { foreach (var c in cs) c.Pump(Now); return Array.TrueForAll(cs, c => c.IsOpen); });
        for (int i = 0; i < cs.Length; i++) cs[i].SendText("socket " + i);
        Until(cs[0], () =>
        {
            for (int i = 0; i < cs.Length; i++)
            {
                WsMessage m;
                cs[i].Pump(Now);
                if (got[i] == null && cs[i].TryReceive(out m)) got[i] = m.GetText();
            }
            return Array.TrueForAll(got, g => g != null);
        });
        bool ok = true;
        for (int i = 0; i < cs.Length; i++) ok &= got[i] == "socket " + i;
        Check("several connections at once", ok, string.Join(",", got));
        foreach (var c in cs) c.Dispose();
    }

    public static int Main(string[] args)
    {
        _ws = int.Parse(args[0]);
        _silent = int.Parse(args[1]);
        _refused = int.Parse(args[2]);
        _mute = int.Parse(args[3]);
        Echo();
        ServerClose();
        Refused();
        HandshakeTimeout();
        CloseTimeout();
        Bound();
        TooBig();
        OutputFull();
        Several();
        Console.WriteLine(_passed + " passed, " + _failed + " failed");
        return _failed == 0 && _passed > 0 ? 0 : 1;
    }
}
