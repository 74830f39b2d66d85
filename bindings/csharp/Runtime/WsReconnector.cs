// Optional helper: reconnects a WsSocketConnection with exponential backoff and jitter,
// on the caller's clock and thread. Reconnects reuse the config, so TLS sessions resume.
// Its events are raised only inside Pump, on the thread that calls Pump.

using System;
using System.Collections.Generic;

namespace WsMachine
{
    /// <summary>What <see cref="WsReconnector"/> does with a message sent while the connection is not open.</summary>
    public enum WsSendPolicy
    {
        /// <summary>Refuse it: the send returns <see cref="WsSendStatus.NotOpen"/> and nothing is kept (the default).</summary>
        Refuse = 0,
        /// <summary>Keep a copy, up to <see cref="WsReconnector.MaxQueuedSendBytes"/>, and send the queue in order after the reopen.</summary>
        Queue = 1,
    }

    /// <summary>What became of a message given to <see cref="WsReconnector"/>.</summary>
    public enum WsSendStatus
    {
        /// <summary>Handed to the open connection.</summary>
        Sent = 0,
        /// <summary>Not open: kept, and sent in order after the reopen (<see cref="WsSendPolicy.Queue"/>).</summary>
        Queued = 1,
        /// <summary>Not open and the policy is <see cref="WsSendPolicy.Refuse"/>: nothing was kept.</summary>
        NotOpen = 2,
        /// <summary>Not open and the queue would exceed <see cref="WsReconnector.MaxQueuedSendBytes"/>: nothing was kept.</summary>
        QueueFull = 3,
    }

    /// <summary>
    /// Keeps a <see cref="WsSocketConnection"/> up. After it was lost (reset, EOF, an
    /// unanswered liveness probe, an address change), timed out, could not connect, or
    /// the server closed with a code in <see cref="RetryCloseCodes"/> (1001 going away,
    /// 1012 service restart, 1013 try again later by default; 1000 only when
    /// <see cref="RetryNormalClose"/>), it waits <see cref="InitialDelayMs"/>, doubling up
    /// to <see cref="MaxDelayMs"/>, each delay shortened by a random part of up to
    /// <see cref="Jitter"/>, then reconnects with the same URL and config (TLS resumes).
    /// The delay resets once a connection stayed open <see cref="StableAfterMs"/>. A
    /// connection found dead on resume (within <see cref="WsSocketConnection.ProbeTimeoutMs"/>
    /// of the first Pump after a pause) reconnects at once, without the first delay. Our own
    /// close, and failures a retry cannot fix (TLS, handshake, protocol), stop it. Call
    /// <see cref="Pump(long)"/> (or <see cref="Pump()"/>) instead of the connection's Pump.
    /// </summary>
    /// <remarks>
    /// <see cref="Reconnecting"/>, <see cref="Reopened"/> and <see cref="GaveUp"/> are raised
    /// only inside Pump, on the calling thread. Sends through <see cref="SendText(string)"/>
    /// and <see cref="SendBinary(byte[], int, int)"/> follow <see cref="SendPolicy"/> while
    /// the connection is not open. Not thread-safe.
    /// </remarks>
    public sealed class WsReconnector
    {
        private struct Pending
        {
            public bool Text;
            public byte[] Data;
        }

        private readonly WsSocketConnection _connection;
        private readonly Random _random;
        private long _delay;
        private long _nextAttemptAt = -1;
        private long _openedAt = -1;
        private int _attempts;
        private bool _reconnecting;
        private bool _gaveUp;
        private readonly Queue<Pending> _queue = new Queue<Pending>();
        private long _queuedBytes;
        private long _maxQueuedBytes = 64 * 1024;
        private ushort[] _retryCodes = { 1001, 1012, 1013 };

        /// <summary>Wraps a connection that <see cref="WsSocketConnection.Connect"/> was called on.</summary>
        /// <param name="connection">The connection to keep up.</param>
        /// <param name="initialDelayMs">First delay before reconnecting (default 500 ms).</param>
        /// <param name="maxDelayMs">Largest delay (default 30 s).</param>
        /// <param name="jitter">Random fraction taken off each delay, 0 to 1 (default 0.2), so many clients do not reconnect in step.</param>
        public WsReconnector(WsSocketConnection connection, long initialDelayMs = 500, long maxDelayMs = 30000, double jitter = 0.2)
        {
            if (connection == null) throw new ArgumentNullException("connection");
            if (initialDelayMs < 0) throw new ArgumentOutOfRangeException("initialDelayMs");
            if (maxDelayMs < initialDelayMs) throw new ArgumentOutOfRangeException("maxDelayMs");
            if (jitter < 0 || jitter > 1) throw new ArgumentOutOfRangeException("jitter");
            _connection = connection;
            InitialDelayMs = initialDelayMs;
            MaxDelayMs = maxDelayMs;
            Jitter = jitter;
            StableAfterMs = 10000;
            _delay = initialDelayMs;
            // Seeded per instance: clients created in the same tick must not share a sequence.
            _random = jitter > 0 ? new Random(Guid.NewGuid().GetHashCode()) : null;
            Enabled = true;
        }

        /// <summary>Raised when a reconnect is scheduled: the attempt number (1 for the first) and the delay in ms before it starts.</summary>
        public event Action<int, long> Reconnecting;

        /// <summary>Raised when a reconnect reached Open: true when the TLS session was resumed. Sends made in the handler go before the queued ones.</summary>
        public event Action<bool> Reopened;

        /// <summary>Raised once when reconnecting stops for good: <see cref="MaxAttempts"/> reached, or a failure a retry cannot fix. The argument says why.</summary>
        public event Action<string> GaveUp;

        /// <summary>The first delay, in ms.</summary>
        public long InitialDelayMs { get; private set; }

        /// <summary>The largest delay, in ms.</summary>
        public long MaxDelayMs { get; private set; }

        /// <summary>The random fraction taken off each delay.</summary>
        public double Jitter { get; private set; }

        /// <summary>Time (ms) a connection must stay open before the delay and <see cref="Attempts"/> reset (default 10000), so a server that accepts and drops at once still meets a growing delay.</summary>
        public long StableAfterMs { get; set; }

        /// <summary>Reconnect attempts before giving up (<see cref="GaveUp"/>); 0 (the default) never gives up.</summary>
        public int MaxAttempts { get; set; }

        /// <summary>Whether reconnects happen; set false to stop (for example before closing on purpose).</summary>
        public bool Enabled { get; set; }

        /// <summary>Server close codes that are retried (default 1001, 1012, 1013: deploys and restarts). Never null.</summary>
        public ushort[] RetryCloseCodes
        {
            get { return _retryCodes; }
            set
            {
                if (value == null) throw new ArgumentNullException("value");
                _retryCodes = value;
            }
        }

        /// <summary>Whether a normal close (1000) from the server is retried too (default false).</summary>
        public bool RetryNormalClose { get; set; }

        /// <summary>What sends do while the connection is not open (default <see cref="WsSendPolicy.Refuse"/>).</summary>
        public WsSendPolicy SendPolicy { get; set; }

        /// <summary>Bound of the send queue in payload bytes (default 64 KiB); a send that would exceed it gets <see cref="WsSendStatus.QueueFull"/>.</summary>
        public long MaxQueuedSendBytes
        {
            get { return _maxQueuedBytes; }
            set
            {
                if (value < 0) throw new ArgumentOutOfRangeException("value");
                _maxQueuedBytes = value;
            }
        }

        /// <summary>Payload bytes waiting in the send queue.</summary>
        public long QueuedSendBytes
        {
            get { return _queuedBytes; }
        }

        /// <summary>Messages waiting in the send queue.</summary>
        public int QueuedSends
        {
            get { return _queue.Count; }
        }

        /// <summary>Reconnect attempts since the connection was last stably open.</summary>
        public int Attempts
        {
            get { return _attempts; }
        }

        /// <summary>True once reconnecting stopped for good (<see cref="GaveUp"/> was raised).</summary>
        public bool HasGivenUp
        {
            get { return _gaveUp; }
        }

        /// <summary>When the next attempt is due (your clock, ms), or -1 when none is scheduled.</summary>
        public long NextAttemptAtMs
        {
            get { return _nextAttemptAt; }
        }

        /// <summary>The connection being kept up.</summary>
        public WsSocketConnection Connection
        {
            get { return _connection; }
        }

        /// <summary>Forwards Unity's <c>OnApplicationPause</c> to the connection (see <see cref="WsSocketConnection.OnApplicationPause"/>).</summary>
        /// <param name="paused">True when the app goes to the background.</param>
        public void OnApplicationPause(bool paused)
        {
            _connection.OnApplicationPause(paused);
        }

        /// <summary><see cref="Pump(long)"/> with the connection's built-in monotonic clock.</summary>
        public void Pump()
        {
            Pump(WsSocketConnection.MonotonicMs);
        }

        /// <summary>Pumps the connection, then schedules or starts a reconnect when it ended in a way a retry can fix.</summary>
        /// <param name="nowMs">Milliseconds of your monotonic clock.</param>
        public void Pump(long nowMs)
        {
            _connection.Pump(nowMs);
            WsConnectionState s = _connection.State;
            if (s == WsConnectionState.Open)
            {
                _nextAttemptAt = -1;
                _gaveUp = false; // the caller connected again by hand
                if (_openedAt < 0)
                {
                    _openedAt = nowMs;
                    if (_reconnecting)
                    {
                        _reconnecting = false;
                        Action<bool> h = Reopened;
                        if (h != null) h(_connection.IsResumed);
                    }
                }
                if (nowMs - _openedAt >= StableAfterMs)
                {
                    _delay = InitialDelayMs;
                    _attempts = 0;
                }
                FlushQueue();
                return;
            }
            _openedAt = -1;
            if (!_connection.IsFinished || _gaveUp)
            {
                return;
            }
            if (!Enabled || !ShouldRetry())
            {
                if (Enabled && _reconnecting)
                {
                    GiveUp("not retried: " + s + " (" + _connection.CloseCode + " " + _connection.CloseReason + ")");
                }
                _nextAttemptAt = -1;
                return;
            }
            if (_nextAttemptAt < 0)
            {
                if (MaxAttempts > 0 && _attempts >= MaxAttempts)
                {
                    GiveUp("gave up after " + _attempts + " attempts; last: " + s + " (" + _connection.CloseReason + ")");
                    return;
                }
                long d = 0;
                if (_attempts > 0 || nowMs > _connection.ResumeWindowUntil)
                {
                    d = _delay;
                    if (_random != null)
                    {
                        d -= (long)(d * Jitter * _random.NextDouble());
                    }
                    _delay = Math.Min(MaxDelayMs, Math.Max(1, _delay * 2));
                }
                // else: found dead on resume (probe unanswered, socket gone): the first attempt starts at once
                _nextAttemptAt = nowMs + d;
                _reconnecting = true;
                Action<int, long> h = Reconnecting;
                if (h != null) h(_attempts + 1, d);
                if (d > 0)
                {
                    return;
                }
            }
            if (nowMs >= _nextAttemptAt)
            {
                _nextAttemptAt = -1;
                _attempts++;
                _connection.Reconnect();
                _connection.Pump(nowMs);
            }
        }

        private void GiveUp(string why)
        {
            _gaveUp = true;
            _reconnecting = false;
            _nextAttemptAt = -1;
            DropQueue();
            Action<string> h = GaveUp;
            if (h != null) h(why);
        }

        /// <summary>Lost and timed-out connections, failures to reach the server, and server closes with a retried code.</summary>
        private bool ShouldRetry()
        {
            WsConnectionState s = _connection.State;
            if (s == WsConnectionState.Lost || s == WsConnectionState.TimedOut)
            {
                return true;
            }
            if (s == WsConnectionState.Closed)
            {
                if (_connection.ClosedLocally)
                {
                    return false;
                }
                ushort code = _connection.CloseCode;
                if (code == 1000)
                {
                    return RetryNormalClose;
                }
                return Array.IndexOf(_retryCodes, code) >= 0;
            }
            return s == WsConnectionState.Failed && _connection.Error is WsClosedException;
        }

        // ----- sending ---------------------------------------------------------------

        /// <summary>Sends a text message when open; otherwise follows <see cref="SendPolicy"/>.</summary>
        /// <param name="text">The text.</param>
        /// <returns>What became of it.</returns>
        /// <exception cref="WsMisuseException">The connection's output is full (as <see cref="WsSocketConnection.SendText(string)"/>).</exception>
        public WsSendStatus SendText(string text)
        {
            if (text == null) throw new ArgumentNullException("text");
            if (CanSendNow())
            {
                _connection.SendText(text);
                return WsSendStatus.Sent;
            }
            return Enqueue(true, System.Text.Encoding.UTF8.GetBytes(text), 0, -1);
        }

        /// <summary>Sends a binary message (copied) when open; otherwise follows <see cref="SendPolicy"/>.</summary>
        /// <param name="data">The bytes.</param>
        /// <param name="offset">Start of the payload.</param>
        /// <param name="count">Length in bytes.</param>
        /// <returns>What became of it.</returns>
        public WsSendStatus SendBinary(byte[] data, int offset, int count)
        {
            if (data == null) throw new ArgumentNullException("data");
            if (offset < 0 || count < 0 || offset > data.Length - count) throw new ArgumentOutOfRangeException("count");
            if (CanSendNow())
            {
                _connection.SendBinary(data, offset, count);
                return WsSendStatus.Sent;
            }
            return Enqueue(false, data, offset, count);
        }

        /// <summary>Closes on purpose: stops reconnecting, drops the send queue and starts the close handshake.</summary>
        /// <param name="code">The close code (default 1000).</param>
        /// <param name="reason">A reason, or null.</param>
        public void Close(ushort code = 1000, string reason = null)
        {
            Enabled = false;
            _nextAttemptAt = -1;
            _reconnecting = false;
            DropQueue();
            _connection.Close(code, reason);
        }

        /// <summary>Open, with nothing queued before this message.</summary>
        private bool CanSendNow()
        {
            return _connection.State == WsConnectionState.Open && _queue.Count == 0;
        }

        private WsSendStatus Enqueue(bool text, byte[] data, int offset, int count)
        {
            if (SendPolicy == WsSendPolicy.Refuse && _connection.State != WsConnectionState.Open)
            {
                return WsSendStatus.NotOpen;
            }
            if (count < 0)
            {
                count = data.Length; // already a private copy
            }
            if (_queuedBytes + count > _maxQueuedBytes)
            {
                return WsSendStatus.QueueFull;
            }
            byte[] copy = data;
            if (offset != 0 || count != data.Length || !text)
            {
                copy = new byte[count];
                Buffer.BlockCopy(data, offset, copy, 0, count);
            }
            _queue.Enqueue(new Pending { Text = text, Data = copy });
            _queuedBytes += count;
            return WsSendStatus.Queued;
        }

        /// <summary>Sends queued messages in order while the connection takes them.</summary>
        private void FlushQueue()
        {
            while (_queue.Count > 0 && _connection.State == WsConnectionState.Open)
            {
                Pending p = _queue.Peek();
                try
                {
                    if (p.Text)
                    {
                        _connection.SendText(p.Data, 0, p.Data.Length);
                    }
                    else
                    {
                        _connection.SendBinary(p.Data, 0, p.Data.Length);
                    }
                }
                catch (WsMisuseException e)
                {
                    if (e.Result == WsResult.OutputFull)
                    {
                        return; // the rest goes in a later Pump
                    }
                    throw;
                }
                _queue.Dequeue();
                _queuedBytes -= p.Data.Length;
            }
        }

        private void DropQueue()
        {
            _queue.Clear();
            _queuedBytes = 0;
        }
    }
}
