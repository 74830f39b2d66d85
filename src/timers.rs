//! The timers, on the caller's clock: handshake, close, idle (dead peer), keepalive,
//! and the idle trim of retained buffers.
//!
//! The library never reads a clock. `Client::tick` passes the caller's time in, with
//! the traffic counters; [`Timers`] says what is due, and `Client::next_deadline`
//! asks it when to call again.

use crate::config::Timeouts;

/// Quiet time after which `tick` trims retained buffers.
pub(crate) const IDLE_TRIM_MS: u64 = 1000;

/// Which timers run, from the connection's phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Running {
    /// The TLS or WebSocket handshake: the handshake timeout.
    Handshake,
    /// Our close frame is sent: the close timeout.
    Closing,
    /// Open: the idle timeout and keepalive.
    Open,
    /// Nothing (ended or failed).
    Nothing,
}

/// What a tick must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Due {
    Nothing,
    HandshakeTimeout,
    CloseTimeout,
    /// Nothing was received for `quiet` ms.
    IdleTimeout {
        quiet: u64,
    },
    /// Time for a keepalive ping (call [`Timers::pinged`] once it is sent).
    Keepalive,
    /// A liveness probe of `ms` got no answer in time.
    ProbeTimeout {
        ms: u64,
    },
}

/// Caller-clock timestamps (milliseconds) and the counters they were taken at.
#[derive(Debug, Default)]
pub(crate) struct Timers {
    now: Option<u64>,
    handshake_start: Option<u64>,
    last_rx_at: u64,
    rx_seen: u64,
    last_moved_at: u64,
    moved_seen: u64,
    last_ping_at: u64,
    close_start: Option<u64>,
    /// Buffers were trimmed and nothing has moved since.
    trimmed: bool,
    /// A liveness probe is waiting for input: (deadline, its length, `rx` when sent).
    probe: Option<(u64, u64, u64)>,
}

impl Timers {
    /// Takes the time of a tick. `rx` counts bytes received, `moved` bytes received or
    /// sent; `held_back` says input waits behind the queue bounds (the peer is sending,
    /// the application is not taking it: that counts as activity). The first call
    /// starts the clocks. Returns whether the idle trim is due.
    pub(crate) fn observe(&mut self, now: u64, rx: u64, moved: u64, held_back: bool) -> bool {
        let first = self.now.is_none();
        let trim_due = if moved != self.moved_seen || first {
            self.moved_seen = moved;
            self.last_moved_at = now;
            self.trimmed = false;
            false
        } else {
            !self.trimmed && now.saturating_sub(self.last_moved_at) >= IDLE_TRIM_MS
        };
        if first {
            self.last_rx_at = now;
            self.last_ping_at = now;
            self.handshake_start = Some(now);
        }
        self.now = Some(now);
        if rx != self.rx_seen || held_back {
            self.rx_seen = rx;
            self.last_rx_at = now;
        }
        trim_due
    }

    /// Records that retained buffers were trimmed (no idle trim until traffic moves).
    pub(crate) fn note_trimmed(&mut self) {
        self.trimmed = true;
    }

    /// What is due at `now` (after [`Timers::observe`]), with `rx` bytes received so
    /// far. The close clock starts on the first tick after our close frame. While a
    /// probe waits, the idle timeout and keepalive wait for it.
    pub(crate) fn due(&mut self, to: &Timeouts, running: Running, now: u64, rx: u64) -> Due {
        match running {
            Running::Handshake => {
                let start = self.handshake_start.unwrap_or(now);
                if to.handshake_ms > 0 && now.saturating_sub(start) >= to.handshake_ms {
                    return Due::HandshakeTimeout;
                }
            }
            Running::Closing => {
                let start = *self.close_start.get_or_insert(now);
                if to.close_ms > 0 && now.saturating_sub(start) >= to.close_ms {
                    return Due::CloseTimeout;
                }
            }
            Running::Open => {
                if let Some((until, ms, sent_rx)) = self.probe {
                    if rx == sent_rx && now >= until {
                        return Due::ProbeTimeout { ms };
                    }
                    if rx == sent_rx {
                        return Due::Nothing;
                    }
                    self.probe = None; // answered: anything from the server counts
                }
                let quiet = now.saturating_sub(self.last_rx_at);
                if to.idle_ms > 0 && quiet >= to.idle_ms {
                    return Due::IdleTimeout { quiet };
                }
                let since = now.saturating_sub(self.last_rx_at.max(self.last_ping_at));
                if to.keepalive_ms > 0 && since >= to.keepalive_ms {
                    return Due::Keepalive;
                }
            }
            Running::Nothing => {}
        }
        Due::Nothing
    }

    /// A keepalive ping was sent at `now`.
    pub(crate) fn pinged(&mut self, now: u64) {
        self.last_ping_at = now;
    }

    /// A liveness probe was sent at `now` (the caller's clock may have jumped there)
    /// with `rx` bytes received so far: the server has `deadline_ms` to send anything;
    /// the time up to `now` no longer counts toward the idle timeout and keepalive.
    pub(crate) fn start_probe(&mut self, now: u64, deadline_ms: u64, rx: u64) {
        self.now = Some(self.now.map_or(now, |n| n.max(now)));
        self.last_rx_at = now;
        self.last_ping_at = now;
        self.rx_seen = rx;
        self.probe = Some((now.saturating_add(deadline_ms), deadline_ms, rx));
    }

    /// Whether a probe waits for its answer (nothing received since `rx`).
    pub(crate) fn is_probing(&self, rx: u64) -> bool {
        matches!(self.probe, Some((_, _, sent)) if sent == rx)
    }

    /// When the next tick is due, or `None` when no timer runs. Before the first tick
    /// it is 0 (when any timer is configured).
    pub(crate) fn next_deadline(&self, to: &Timeouts, running: Running, rx: u64) -> Option<u64> {
        if self.now.is_none() {
            let any = to.handshake_ms | to.close_ms | to.keepalive_ms | to.idle_ms;
            return (any > 0).then_some(0);
        }
        let on = |ms: u64, from: u64| (ms > 0).then(|| from.saturating_add(ms));
        match running {
            Running::Handshake => on(to.handshake_ms, self.handshake_start.unwrap_or(0)),
            Running::Closing => on(to.close_ms, self.close_start.unwrap_or(0)),
            Running::Open => {
                if let Some((until, _, sent)) = self.probe {
                    if sent == rx {
                        return Some(until);
                    }
                }
                let idle = on(to.idle_ms, self.last_rx_at);
                let ka = on(to.keepalive_ms, self.last_rx_at.max(self.last_ping_at));
                match (idle, ka) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                }
            }
            Running::Nothing => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeouts() -> Timeouts {
        Timeouts {
            handshake_ms: 100,
            close_ms: 50,
            keepalive_ms: 20,
            idle_ms: 60,
        }
    }

    #[test]
    fn keepalive_then_idle_timeout_and_held_back_input_counts_as_activity() {
        let to = timeouts();
        let mut t = Timers::default();
        assert_eq!(t.next_deadline(&to, Running::Open, 0), Some(0));
        t.observe(1000, 0, 0, false);
        assert_eq!(t.next_deadline(&to, Running::Open, 0), Some(1020));
        t.observe(1020, 0, 0, false);
        assert_eq!(t.due(&to, Running::Open, 1020, 0), Due::Keepalive);
        t.pinged(1020);
        assert_eq!(t.due(&to, Running::Open, 1030, 0), Due::Nothing);
        // Input held back by the queue bound keeps the connection alive.
        t.observe(1059, 0, 0, true);
        t.observe(1100, 0, 0, false);
        assert_eq!(
            t.due(&to, Running::Open, 1100, 0),
            Due::Keepalive,
            "not idle yet"
        );
        t.pinged(1100);
        t.observe(1119, 0, 0, false);
        assert_eq!(
            t.due(&to, Running::Open, 1119, 0),
            Due::IdleTimeout { quiet: 60 }
        );
    }

    #[test]
    fn the_idle_trim_is_due_once_per_quiet_spell() {
        let mut t = Timers::default();
        assert!(!t.observe(0, 0, 0, false));
        assert!(!t.observe(999, 0, 0, false));
        assert!(t.observe(1000, 0, 0, false));
        t.note_trimmed();
        assert!(!t.observe(5000, 0, 0, false));
        assert!(!t.observe(5001, 5, 10, false), "traffic restarts the spell");
        assert!(t.observe(6001, 5, 10, false));
    }

    #[test]
    fn handshake_and_close_clocks() {
        let to = timeouts();
        let mut t = Timers::default();
        t.observe(10, 0, 0, false);
        assert_eq!(t.due(&to, Running::Handshake, 109, 0), Due::Nothing);
        assert_eq!(
            t.due(&to, Running::Handshake, 110, 0),
            Due::HandshakeTimeout
        );
        assert_eq!(t.due(&to, Running::Closing, 200, 0), Due::Nothing);
        assert_eq!(t.next_deadline(&to, Running::Closing, 0), Some(250));
        assert_eq!(t.due(&to, Running::Closing, 250, 0), Due::CloseTimeout);
    }
}
