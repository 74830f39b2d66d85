// The easy path: NativeWebSocket-style events (OnOpen, OnMessage, OnError, OnClose)
// over WsSocketConnection and WsReconnector. Events are raised only inside
// DispatchMessageQueue, on the thread that calls it; never from another thread.
// Each received message is copied into a new byte[] (one allocation per message);
// the allocation-free path is WsSocketConnection.TryReceive.

using System;

namespace WsMachine
{
    /// <summary>Handles a received text or binary message of <see cref="WsEventSocket"/>.</summary>
    /// <param name="data">A new array holding the payload (yours to keep).</param>
    /// <param name="isText">True for a text message (UTF-8), false for binary.</param>
    public delegate void WsMessageHandler(byte[] data, bool isText);

    /// <summary>
    /// An event-style WebSocket for people coming from NativeWebSocket: subscribe to
    /// <see cref="OnOpen"/>, <see cref="OnMessage"/>, <see cref="OnError"/> and
    /// <see cref="OnClose"/>, call <see cref="Connect"/>, then
    /// <see cref="DispatchMessageQueue()"/> from <c>Update</c>. Events are raised only
    /// inside that call, on its thread, in the order things happened.
    /// </summary>
    /// <remarks>
    /// Allocates per message (the payload is copied into a new array for the handler);
    /// use <see cref="WsSocketConnection"/> and <see cref="WsSocketConnection.TryReceive"/>
    /// for the allocation-free loop. With <c>reconnect</c> on, a lost connection raises
    /// <see cref="OnError"/> and <see cref="OnClose"/> (1006), then <see cref="OnOpen"/>
    /// again once reopened; see <see cref="Reconnector"/> for its settings and events.
    /// Ping, pong and close frames are not passed to <see cref="OnMessage"/>. Not thread-safe.
    /// </remarks>
    public sealed class WsEventSocket : IDisposable
    {
        private readonly WsSocketConnection _connection;
        private readonly WsReconnector _reconnector;
        private readonly string _url;
        private readonly WsConfig _config;
        private WsConnectionState _seen;

        /// <summary>Prepares a socket for <paramref name="url"/>; nothing happens until <see cref="Connect"/>.</summary>
        /// <param name="url"><c>ws://</c> or <c>wss://</c> URL.</param>
        /// <param name="config">The settings (not disposed by this object; keep it alive while connected).</param>
        /// <param name="reconnect">Reconnect after losses with <see cref="WsReconnector"/>'s defaults (default true).</param>
        public WsEventSocket(string url, WsConfig config, bool reconnect = true)
        {
            if (url == null) throw new ArgumentNullException("url");
            if (config == null) throw new ArgumentNullException("config");
            _url = url;
            _config = config;
            _connection = new WsSocketConnection();
            if (reconnect)
            {
                _reconnector = new WsReconnector(_connection);
            }
        }

        /// <summary>Raised when the connection opened (again, after a reconnect).</summary>
        public event Action OnOpen;

        /// <summary>Raised for each text or binary message, with a new array per message.</summary>
        public event WsMessageHandler OnMessage;

        /// <summary>Raised when the connection was lost, timed out or failed, with what went wrong; <see cref="OnClose"/> follows.</summary>
        public event Action<string> OnError;

        /// <summary>Raised when a connection ended: the close code (1006 when it was lost) and the reason.</summary>
        public event Action<ushort, string> OnClose;

        /// <summary>The driver underneath, for its properties (state, TLS, pause settings).</summary>
        public WsSocketConnection Connection
        {
            get { return _connection; }
        }

        /// <summary>The reconnector, or null when made with <c>reconnect: false</c>.</summary>
        public WsReconnector Reconnector
        {
            get { return _reconnector; }
        }

        /// <summary>Where the connection is.</summary>
        public WsConnectionState State
        {
            get { return _connection.State; }
        }

        /// <summary>Starts connecting; progress and events come from <see cref="DispatchMessageQueue()"/>.</summary>
        public void Connect()
        {
            _connection.Connect(_url, _config);
            if (_reconnector != null)
            {
                _reconnector.Enabled = true;
            }
        }

        /// <summary>Sends a text message when open (see <see cref="WsReconnector.SendPolicy"/> for other states).</summary>
        /// <param name="text">The text.</param>
        /// <returns>What became of it; without a reconnector, <see cref="WsSendStatus.NotOpen"/> when not open.</returns>
        public WsSendStatus SendText(string text)
        {
            if (_reconnector != null)
            {
                return _reconnector.SendText(text);
            }
            if (!_connection.IsOpen)
            {
                return WsSendStatus.NotOpen;
            }
            _connection.SendText(text);
            return WsSendStatus.Sent;
        }

        /// <summary>Sends a binary message (copied) when open.</summary>
        /// <param name="data">The bytes.</param>
        /// <returns>What became of it.</returns>
        public WsSendStatus Send(byte[] data)
        {
            if (data == null) throw new ArgumentNullException("data");
            if (_reconnector != null)
            {
                return _reconnector.SendBinary(data, 0, data.Length);
            }
            if (!_connection.IsOpen)
            {
                return WsSendStatus.NotOpen;
            }
            _connection.SendBinary(data, 0, data.Length);
            return WsSendStatus.Sent;
        }

        /// <summary>Closes on purpose (no reconnect); <see cref="OnClose"/> follows from a later dispatch.</summary>
        /// <param name="code">The close code (default 1000).</param>
        /// <param name="reason">A reason, or null.</param>
        public void Close(ushort code = 1000, string reason = null)
        {
            if (_reconnector != null)
            {
                _reconnector.Close(code, reason);
            }
            else
            {
                _connection.Close(code, reason);
            }
        }

        /// <summary>Forward Unity's <c>OnApplicationPause(bool)</c> here (see <see cref="WsSocketConnection.OnApplicationPause"/>).</summary>
        /// <param name="paused">True when the app goes to the background.</param>
        public void OnApplicationPause(bool paused)
        {
            _connection.OnApplicationPause(paused);
        }

        /// <summary>Does the frame's network work and raises the events, with the built-in monotonic clock. Call it from <c>Update</c>.</summary>
        public void DispatchMessageQueue()
        {
            DispatchMessageQueue(WsSocketConnection.MonotonicMs);
        }

        /// <summary>Does the frame's network work with your clock and raises the events on this thread.</summary>
        /// <param name="nowMs">Milliseconds of your monotonic clock.</param>
        public void DispatchMessageQueue(long nowMs)
        {
            if (_reconnector != null)
            {
                _reconnector.Pump(nowMs);
            }
            else
            {
                _connection.Pump(nowMs);
            }
            WsConnectionState s = _connection.State;
            // A reconnect can have ended one connection and opened the next within one Pump:
            // the messages of the old one are gone, but its end is reported first.
            if (s == WsConnectionState.Open && _seen != WsConnectionState.Open)
            {
                Raise(OnOpen);
            }
            WsMessage m;
            while (_connection.TryReceive(out m))
            {
                if (m.IsText || m.IsBinary)
                {
                    WsMessageHandler h = OnMessage;
                    if (h != null) h(m.ToArray(), m.IsText);
                }
            }
            s = _connection.State;
            if (_connection.IsFinished && _seen != s && !IsEnd(_seen))
            {
                if (s != WsConnectionState.Closed)
                {
                    Action<string> e = OnError;
                    if (e != null) e(_connection.CloseReason);
                }
                Action<ushort, string> c = OnClose;
                if (c != null) c(_connection.CloseCode, _connection.CloseReason);
            }
            _seen = s;
        }

        private static bool IsEnd(WsConnectionState s)
        {
            return s >= WsConnectionState.Closed;
        }

        private static void Raise(Action a)
        {
            if (a != null) a();
        }

        /// <summary>Closes the socket at once and frees the connection.</summary>
        public void Dispose()
        {
            if (_reconnector != null)
            {
                _reconnector.Enabled = false;
            }
            _connection.Dispose();
        }
    }
}
