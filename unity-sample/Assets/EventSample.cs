// EventSample: the event style, for people coming from NativeWebSocket.
//
// Subscribe to OnOpen, OnMessage, OnError and OnClose, then call DispatchMessageQueue()
// from Update(): the events are raised only inside that call, on the main thread. Each
// message is copied into a new byte[] (garbage per message); EchoSample shows the
// allocation-free style with WsSocketConnection.TryReceive.

using System.Text;
using UnityEngine;
using WsMachine;

public class EventSample : MonoBehaviour
{
    [Tooltip("ws:// or wss:// URL of a WebSocket echo server")]
    public string url = "wss://localhost:8765/";

    private WsConfig _config;
    private WsEventSocket _socket; // reconnects after losses by default

    private void Start()
    {
        _config = new WsConfig();
        _socket = new WsEventSocket(url, _config);
        _socket.OnOpen += () => _socket.SendText("hello");
        _socket.OnMessage += (data, isText) => Debug.Log("< " + (isText ? Encoding.UTF8.GetString(data) : data.Length + " bytes"));
        _socket.OnError += error => Debug.Log("error: " + error);
        _socket.OnClose += (code, reason) => Debug.Log("closed " + code + " " + reason);
        _socket.Connect();
    }

    private void Update()
    {
        _socket.DispatchMessageQueue(); // network work and events, with a built-in clock
    }

    // Background and back: a liveness probe on resume, a reconnect if the server is gone.
    private void OnApplicationPause(bool paused)
    {
        _socket.OnApplicationPause(paused);
    }

    private void OnDestroy()
    {
        _socket.Close(1001, "going away");
        _socket.Dispose();
        _config.Dispose();
    }
}
