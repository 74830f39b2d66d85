// Checks of the WebGL build of the C# bindings that run on Mono (no browser, no Unity):
//
//   mono WsMachine.Tests.exe NATIVE.dll      (compiled against the -define:UNITY_WEBGL build)
//
// 1. API parity: every public type of the native build (except WsClient, WsLibrary and the TLS
//    object WsTls/WsTlsStream, which need the native library) exists in the WebGL build with exactly the same public members.
// 2. Every setting the browser cannot honour makes Connect throw a WsMisuseException
//    (InvalidConfig) naming the setting and WebGL, before any browser call.
// 3. Settings the browser honours pass those checks: Connect then calls the jslib's
//    ws_js_open, which Mono cannot find (EntryPointNotFoundException), the proof that the
//    call reached the jslib boundary.
// 4. Smaller contracts: a non-ws URL, Ping, a send before Connect, the deflate parser.
// Prints "PASS name" / "FAIL name: why" and exits 1 on any failure. Named WsMachine.Tests so
// that it sees the bindings' internals (InternalsVisibleTo).

using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using WsMachine;

public static class WebGLChecks
{
    private static int _passed;
    private static int _failed;

    private static void Check(string name, bool ok, string why)
    {
        if (ok)
        {
            _passed++;
            Console.WriteLine("PASS " + name);
        }
        else
        {
            _failed++;
            Console.WriteLine("FAIL " + name + ": " + why);
        }
    }

    private static Exception ConnectWith(Action<WsConfig> setup, string url = "wss://example.com/")
    {
        var config = new WsConfig();
        try
        {
            setup(config);
            new WsSocketConnection().Connect(url, config);
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    private static void Unsupported(string name, Action<WsConfig> setup)
    {
        Exception e = ConnectWith(setup);
        var m = e as WsMisuseException;
        Check("unsupported on WebGL: " + name,
            m != null && m.Result == WsResult.InvalidConfig && m.Message.Contains(name) && m.Message.Contains("WebGL"),
            e == null ? "Connect did not throw" : e.GetType().Name + ": " + e.Message);
    }

    private static void Supported(string name, Action<WsConfig> setup)
    {
        Exception e = ConnectWith(setup);
        Check("honoured on WebGL: " + name, e is EntryPointNotFoundException || e is DllNotFoundException,
            e == null ? "Connect did not reach the jslib" : e.GetType().Name + ": " + e.Message);
    }

    private static SortedSet<string> Members(Type t)
    {
        var set = new SortedSet<string>();
        foreach (MemberInfo m in t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
        {
            set.Add(m.MemberType + " " + m);
        }
        return set;
    }

    private static void ApiParity(string nativePath)
    {
        Assembly native = Assembly.LoadFile(System.IO.Path.GetFullPath(nativePath));
        Assembly webgl = typeof(WsSocketConnection).Assembly;
        var nativeOnly = new HashSet<string>
        {
            "WsMachine.WsClient", "WsMachine.WsLibrary", "WsMachine.WsTls", "WsMachine.WsTlsStream", "WsMachine.WsTlsReadStatus",
        };
        var webglTypes = webgl.GetExportedTypes().ToDictionary(t => t.FullName);
        foreach (Type nt in native.GetExportedTypes().OrderBy(t => t.FullName))
        {
            if (nativeOnly.Contains(nt.FullName))
            {
                Check("native only: " + nt.Name, !webglTypes.ContainsKey(nt.FullName), "exists in the WebGL build");
                continue;
            }
            Type wt;
            if (!webglTypes.TryGetValue(nt.FullName, out wt))
            {
                Check("API parity: " + nt.Name, false, "missing from the WebGL build");
                continue;
            }
            SortedSet<string> a = Members(nt), b = Members(wt);
            var missing = a.Except(b).ToList();
            var extra = b.Except(a).ToList();
            Check("API parity: " + nt.Name + " (" + a.Count + " members)", missing.Count == 0 && extra.Count == 0,
                "missing on WebGL: [" + string.Join(", ", missing) + "]; only on WebGL: [" + string.Join(", ", extra) + "]");
        }
        foreach (Type wt in webgl.GetExportedTypes())
        {
            if (native.GetType(wt.FullName) == null)
            {
                Check("API parity: " + wt.Name, false, "public on WebGL only");
            }
        }
    }

    public static int Main(string[] args)
    {
        if (args.Length != 1)
        {
            Console.WriteLine("usage: mono WsMachine.Tests.exe NATIVE_WsMachine.dll");
            return 2;
        }
        ApiParity(args[0]);

        byte[] pin = new byte[32];
        Unsupported("AddRootPem", c => c.AddRootPem("-----BEGIN CERTIFICATE-----"));
        Unsupported("AddRootPem", c => c.AddRootPem(new byte[] { 1 }));
        Unsupported("AddPinSha256", c => c.AddPinSha256(pin));
        Unsupported("AddPinSha256", c => c.AddPinSha256(Convert.ToBase64String(pin)));
        Unsupported("SetPinMode(PinOnly)", c => c.SetPinMode(WsPinMode.PinOnly));
        Unsupported("SetClientCertificatePem", c => c.SetClientCertificatePem("chain", "key"));
        Unsupported("SetClientCertificatePem", c => c.SetClientCertificatePem(new byte[1], new byte[1]));
        Unsupported("DangerousDisableCertificateVerification", c => c.DangerousDisableCertificateVerification());
        Unsupported("SetDeflate(false)", c => c.SetDeflate(false));
        Unsupported("SetDeflateWindowBits", c => c.SetDeflateWindowBits(12));
        Unsupported("SetDeflateNoContextTakeover", c => c.SetDeflateNoContextTakeover(true, false));
        Unsupported("SetDeflateThreshold", c => c.SetDeflateThreshold(100));
        Unsupported("SetDeflateLevel", c => c.SetDeflateLevel(1));
        Unsupported("SetBuiltinRoots(false)", c => c.SetBuiltinRoots(false));
        Unsupported("ExternalVerification(UnknownIssuer)", c => c.ExternalVerification = WsExternalVerification.UnknownIssuer);
        Unsupported("AddHeader(Authorization)", c => c.AddHeader("Authorization", "Bearer secret"));
        Unsupported("SetServerName", c => c.SetServerName("game.example"));
        Unsupported("SetMinTlsVersion(Tls13)", c => c.SetMinTlsVersion(WsTlsVersion.Tls13));
        Unsupported("SetMaxFrameSize", c => c.SetMaxFrameSize(1 << 20));
        Unsupported("SetMaxHeaderSize", c => c.SetMaxHeaderSize(4096));
        Unsupported("SetKeepaliveInterval", c => c.SetKeepaliveInterval(20000));
        Unsupported("SetIdleTimeout", c => c.SetIdleTimeout(60000));
        Unsupported("Proxy", c => c.Proxy = "http://user:secret@proxy.example:3128");
        Unsupported("Proxy", c => c.SetProxy("socks5://proxy.example:1080"));
        Unsupported("SetProxyAuthorization", c => c.SetProxyAuthorization("Basic dXNlcjpwYXNz"));
        Exception proxy = ConnectWith(c => c.SetProxy("http://user:secret@proxy.example:3128"));
        Check("proxy credentials stay out of the message", proxy != null && !proxy.Message.Contains("secret"),
            proxy == null ? "no exception" : proxy.Message);

        Exception both = ConnectWith(c => c.AddHeader("Cookie", "a=b").SetMaxFrameSize(10));
        Check("every unsupported setting is named", both != null && both.Message.Contains("AddHeader(Cookie)")
            && both.Message.Contains("SetMaxFrameSize"), both == null ? "no exception" : both.Message);
        Check("header values stay out of the message", both != null && !both.Message.Contains("a=b"),
            both == null ? "no exception" : both.Message);

        Supported("defaults", c => { });
        Supported("SetSubprotocols, limits, timeouts", c => c.SetSubprotocols("v2.game", "v1.game")
            .SetMaxMessageSize(1 << 20).SetMaxQueuedMessages(100).SetMaxPendingOutput(1 << 20)
            .SetHandshakeTimeout(5000).SetCloseTimeout(1000));
        Supported("what the browser does anyway", c => c.SetBuiltinRoots(true).SetMinTlsVersion(WsTlsVersion.Tls12)
            .SetPinMode(WsPinMode.PinAndCa).SetDeflate(true).SetKeepaliveInterval(0).SetIdleTimeout(0).SetServerName(null)
            .SetProxy(null).SetProxyAuthorization(null));
        Supported("a proxy set, then cleared", c => { c.Proxy = "http://proxy.example:3128"; c.Proxy = ""; });
        Supported("system roots (the browser's store anyway), external verification off", c => { c.UseSystemRoots = true; c.ExternalVerification = WsExternalVerification.Off; });

        Exception url = ConnectWith(c => { }, "http://example.com/");
        Check("a non-ws URL", url is WsMisuseException && ((WsMisuseException)url).Result == WsResult.InvalidUrl,
            url == null ? "no exception" : url.GetType().Name + ": " + url.Message);

        var conn = new WsSocketConnection();
        Exception ping = null, send = null;
        try { conn.Ping(); } catch (Exception e) { ping = e; }
        try { conn.SendText("x"); } catch (Exception e) { send = e; }
        Check("Ping is not supported", ping is NotSupportedException && ping.Message.Contains("WebGL"), "" + ping);
        Check("a send before Connect", send is InvalidOperationException, "" + send);
        Check("state before Connect", conn.State == WsConnectionState.None && conn.CloseCode == 0, "" + conn.State);
        conn.Dispose();
        Exception disposed = null;
        try { var s = conn.State; } catch (Exception e) { disposed = e; }
        Check("ObjectDisposedException after Dispose", disposed is ObjectDisposedException, "" + disposed);
        var cfg = new WsConfig();
        cfg.Dispose();
        Exception cfgDisposed = null;
        try { cfg.SetSubprotocols("x"); } catch (Exception e) { cfgDisposed = e; }
        Check("a disposed config", cfgDisposed is ObjectDisposedException, "" + cfgDisposed);

        WsDeflateInfo d = WsSocketConnection.ParseDeflate("permessage-deflate; client_max_window_bits=12; server_no_context_takeover");
        Check("deflate from the browser's extensions", d.Enabled && d.ClientMaxWindowBits == 12 && d.ServerMaxWindowBits == 15
            && d.ServerNoContextTakeover && !d.ClientNoContextTakeover, d.ClientMaxWindowBits + "/" + d.ServerMaxWindowBits);
        Check("no deflate", !WsSocketConnection.ParseDeflate("").Enabled && !WsSocketConnection.ParseDeflate("x-other").Enabled, "");

        Console.WriteLine(_passed + " passed, " + _failed + " failed");
        return _failed == 0 && _passed > 0 ? 0 : 1;
    }
}
