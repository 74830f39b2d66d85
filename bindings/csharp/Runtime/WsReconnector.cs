// Optional helper: reconnects a WsSocketConnection with exponential backoff, on the
// caller's clock and thread. Reconnects reuse the config, so TLS sessions resume.

using System;

namespace WsMachine
{
    /// <summary>
    /// Reconnects a <see cref="WsSocketConnection"/> after it was lost, timed out, or could
    /// not connect, waiting <see cref="InitialDelayMs"/> and doubling up to
    /// <see cref="MaxDelayMs"/>; a connection that reaches Open resets the delay. A clean
    /// close, and failures that a retry cannot fix (TLS, handshake, protocol), stop it.
    /// Call <see cref="Pump"/> instead of the connection's Pump.
    /// </summary>
    public sealed class WsReconnector
    {
        private readonly WsSocketConnection _connection;
        private readonly Random _random;
        private long _delay;
        private long _nextAttemptAt = -1;
        private int _attempts;

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
            _delay = initialDelayMs;
            _random = jitter > 0 ? new Random() : null;
            Enabled = true;
        }

        /// <summary>The first delay, in ms.</summary>
        public long InitialDelayMs { get; private set; }

        /// <summary>The largest delay, in ms.</summary>
        public long MaxDelayMs { get; private set; }

        /// <summary>The random fraction taken off each delay.</summary>
        public double Jitter { get; private set; }

        /// <summary>Whether reconnects happen; set false to stop (for example before closing on purpose).</summary>
        public bool Enabled { get; set; }

        /// <summary>Reconnect attempts since the connection was last open.</summary>
        public int Attempts
        {
            get { return _attempts; }
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

        /// <summary>Pumps the connection, then schedules or starts a reconnect when it ended in a way a retry can fix.</summary>
        /// <param name="nowMs">Milliseconds of your monotonic clock.</param>
        public void Pump(long nowMs)
        {
            _connection.Pump(nowMs);
            WsConnectionState s = _connection.State;
            if (s == WsConnectionState.Open)
            {
                _delay = InitialDelayMs;
                _attempts = 0;
                _nextAttemptAt = -1;
                return;
            }
            if (!Enabled || !ShouldRetry(s, _connection.Error))
            {
                _nextAttemptAt = -1;
                return;
            }
            if (_nextAttemptAt < 0)
            {
                long d = _delay;
                if (_random != null)
                {
                    d -= (long)(d * Jitter * _random.NextDouble());
                }
                _nextAttemptAt = nowMs + d;
                _delay = Math.Min(MaxDelayMs, Math.Max(1, _delay * 2));
                return;
            }
            if (nowMs >= _nextAttemptAt)
            {
                _nextAttemptAt = -1;
                _attempts++;
                _connection.Reconnect();
                _connection.Pump(nowMs);
            }
        }

        /// <summary>Lost and timed-out connections, and failures to reach the server, are retried.</summary>
        private static bool ShouldRetry(WsConnectionState s, WsException error)
        {
            if (s == WsConnectionState.Lost || s == WsConnectionState.TimedOut)
            {
                return true;
            }
            return s == WsConnectionState.Failed && error is WsClosedException;
        }
    }
}
