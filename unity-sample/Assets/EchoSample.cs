// EchoSample: the smallest useful wsmachine client in Unity.
//
// Open EchoSample.unity (or add this script to any GameObject), set the URL (for example a
// local echo server: python3 tests/peers/echo_server.py --port 8765 --tls-cert server.pem
// --tls-key server.key gives wss://localhost:8765/), press Play, type, and press Send.
//
// Everything happens on the main thread: Update() pumps the connection once per frame.
// There are no threads, no async/await and no callbacks from native code, so it works
// the same under Mono and IL2CPP. This is the allocation-free style; EventSample shows
// the event style (OnOpen/OnMessage/OnError/OnClose) for a quicker start.

using System.Collections.Generic;
using UnityEngine;
using WsMachine;

public class EchoSample : MonoBehaviour
{
    [Tooltip("ws:// or wss:// URL of a WebSocket echo server")]
    public string url = "wss://localhost:8765/";

    [Tooltip("Optional: the PEM certificate of a private CA that signed the server's certificate " +
             "(import ca.pem renamed to ca.pem.txt or .bytes so Unity makes it a TextAsset)")]
    public TextAsset caCertificate;

    [Tooltip("Optional: a proxy URL (http://, https:// or socks5://, user:pass@ allowed). " +
             "Empty: the system's proxy for the URL, if any (https_proxy etc., then the OS setting)")]
    public string proxy = "";

    private WsConfig _config;               // settings; one config can serve many connections
    private WsSocketConnection _connection; // a non-blocking socket plus the sans-IO client
    private WsReconnector _reconnector;     // reconnects after losses, with backoff; resumes TLS
    private string _input = "Hello, wsmachine!";
    private readonly List<string> _log = new List<string>();
    private bool _reportedEnd;

    private void Start()
    {
        try
        {
            _config = new WsConfig();
#if !(UNITY_WEBGL && !UNITY_EDITOR) // in a WebGL build the browser decides trust and proxies (these make Connect throw there)
            if (caCertificate != null)
            {
                _config.AddRootPem(caCertificate.bytes); // trust a private CA besides the built-in roots
            }
            // Behind a proxy, the socket connects to the proxy and the tunnel runs inside Pump.
            _config.Proxy = string.IsNullOrEmpty(proxy) ? WsProxy.ForUrl(url) : proxy;
#endif
            _connection = new WsSocketConnection();
            _connection.Connect(url, _config); // returns at once: DNS, TCP and TLS finish inside Pump
            _reconnector = new WsReconnector(_connection);
            _reconnector.Reconnecting += (attempt, delayMs) => Log("reconnecting in " + delayMs + " ms");
            _reconnector.Reopened += resumed => { Log("reopened" + (resumed ? " (TLS resumed)" : "")); _reportedEnd = false; };
            Log("connecting to " + url);
        }
        catch (WsException e)
        {
            // A bad URL or a bad PEM fails here, before anything touches the network.
            // Show it, free what was made, and leave Update nothing to pump.
            Log("cannot connect: " + e.Message);
            OnDestroy();
        }
    }

    // Going to the background and back. The OS may kill the socket meanwhile; on resume the
    // next Pump probes the server (a ping with a deadline of a few seconds) instead of
    // trusting the socket: an answer keeps the connection, silence ends it as Lost and the
    // reconnector takes over.
    private void OnApplicationPause(bool paused)
    {
        if (_reconnector != null) _reconnector.OnApplicationPause(paused);
    }

    private void Update()
    {
        if (_connection == null)
        {
            return; // Start failed
        }

        // One call per frame moves bytes both ways, decodes messages and runs the timers
        // (keepalive pings, handshake and dead-peer timeouts). It never blocks.
        _reconnector.Pump(NowMs()); // pumps the connection, and reconnects when it was lost

        // Received messages live in pooled buffers until the next TryReceive or Pump:
        // read (or copy) them here. GetText() allocates a string; Span does not.
        WsMessage message;
        while (_connection.TryReceive(out message))
        {
            if (message.IsText) Log("< " + message.GetText());
            else if (message.IsBinary) Log("< " + message.Length + " bytes");
            else if (message.IsClose) Log("< close " + message.CloseCode + " " + message.GetText());
        }

        // Every ending is a state: Closed (clean), Lost (reset, 1006), TimedOut or Failed
        // (Error holds the typed exception, for example WsTlsException for a bad certificate).
        if (_connection.IsFinished && !_reportedEnd)
        {
            _reportedEnd = true;
            Log("ended: " + _connection.State + ", code " + _connection.CloseCode + ", " + _connection.CloseReason);
        }
    }

    private void OnGUI()
    {
        GUILayout.Label("State: " + (_connection != null ? _connection.State.ToString() : "not started"));
        GUILayout.BeginHorizontal();
        _input = GUILayout.TextField(_input, GUILayout.Width(300));
        if (GUILayout.Button("Send") && _connection != null && _connection.IsOpen)
        {
            _connection.SendText(_input); // queued and flushed now; the echo arrives in a later frame
            Log("> " + _input);
        }
        GUILayout.EndHorizontal();
        foreach (string line in _log)
        {
            GUILayout.Label(line);
        }
    }

    private void OnDestroy()
    {
        // Say goodbye politely, then free the native handles now. The Editor keeps the native
        // plugin loaded across play sessions; anything not disposed is freed by a finalizer
        // later, and a stale handle is harmless by design.
        if (_connection != null)
        {
            _connection.Close(1000, "bye"); // 1000 or 3000-4999: the codes a browser lets a page send
            _connection.Dispose();
            _connection = null;
            _reconnector = null;
        }
        if (_config != null)
        {
            _config.Dispose();
            _config = null;
        }
    }

    private void Log(string line)
    {
        _log.Add(line);
        if (_log.Count > 20)
        {
            _log.RemoveAt(0);
        }
    }

    // Any monotonic millisecond clock works; the library never reads a clock itself.
    private static long NowMs()
    {
        return (long)(Time.realtimeSinceStartupAsDouble * 1000.0);
    }
}
