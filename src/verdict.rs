//! External verification: the caller's verdict on a certificate chain, without
//! blocking the handshake.
//!
//! With [`ExternalVerification`] on, the config's rustls configuration holds two
//! wrappers, and each connection has a [`Gate`]:
//!
//! - [`Deferring`] runs the built-in checks ([`crate::tls::Verifier::check`]). A chain
//!   that must wait for the caller is let through rustls *provisionally* and marked on
//!   the connection's gate; the session then holds the upgrade request back and
//!   reports `Verifying` until [`crate::Client::set_verdict`].
//! - [`GatedStore`] stands between rustls and the config's shared session cache.
//!   Tickets (TLS 1.3) and sessions (TLS 1.2) the server hands out are held on the
//!   gate until the verdict: an accept passes them to the shared cache, a reject or no
//!   verdict at all drops them. A session resumed later therefore always descends
//!   from a chain that was accepted or trusted by the built-in checks, and a reject
//!   also forgets earlier sessions with that server name, so the next connection
//!   does a full handshake and asks again.
//!
//! Both wrappers are shared by every connection of the config (rustls resumes a
//! session only under the verifier object that verified it), so they find the
//! connection's gate through [`scope`]: the session runs rustls's packet processing,
//! where verification and session storage happen, inside it, on its own thread. Out
//! of a scope, a chain that would wait fails and a session is dropped (fail closed).

use std::cell::RefCell;
use std::sync::Arc;

use parking_lot::Mutex;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{
    ClientSessionMemoryCache, ClientSessionStore, Resumption, Tls12ClientSessionValue,
    Tls13ClientSessionValue,
};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, NamedGroup, SignatureScheme};

use crate::config::{Config, ExternalVerification};
use crate::tls::Verifier;

/// Sessions held per connection until its verdict, at most: a server handing out
/// tickets while the caller thinks cannot grow the client's memory. The shared cache
/// keeps no more than this per server either (rustls's `ClientSessionMemoryCache`).
pub(crate) const MAX_HELD_SESSIONS: usize = 8;

/// Where the verdict of one connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Not decided yet: sessions are held.
    Pending,
    /// Accepted by the caller, or trusted by the built-in checks.
    Accepted,
    /// Rejected by the caller: sessions are dropped.
    Rejected,
}

/// A session the server handed out before the verdict.
#[derive(Debug)]
enum Held {
    Tls12(ServerName<'static>, Tls12ClientSessionValue),
    Tls13(ServerName<'static>, Tls13ClientSessionValue),
}

#[derive(Debug)]
struct GateState {
    verdict: Verdict,
    /// Why the chain waits, once the verifier let it through provisionally.
    waits: Option<&'static str>,
    held: Vec<Held>,
}

/// The verdict of one connection, shared by its verifier, its session store wrapper
/// and its session.
#[derive(Debug)]
pub(crate) struct Gate {
    shared: Arc<ClientSessionMemoryCache>,
    server_name: ServerName<'static>,
    state: Mutex<GateState>,
}

impl Gate {
    /// Why the chain waits for a verdict, if the verifier deferred it.
    pub(crate) fn waits(&self) -> Option<&'static str> {
        self.state.lock().waits
    }

    /// The name the chain must be valid for.
    pub(crate) fn server_name(&self) -> &ServerName<'static> {
        &self.server_name
    }

    /// Sessions held until the verdict.
    pub(crate) fn held(&self) -> usize {
        self.state.lock().held.len()
    }

    /// Accepts: held sessions go to the shared cache, later ones pass straight on.
    pub(crate) fn accept(&self) {
        let held = {
            let mut s = self.state.lock();
            s.verdict = Verdict::Accepted;
            std::mem::take(&mut s.held)
        };
        for h in held {
            match h {
                Held::Tls12(name, v) => self.shared.set_tls12_session(name, v),
                Held::Tls13(name, v) => self.shared.insert_tls13_ticket(name, v),
            }
        }
    }

    /// Rejects: held sessions are dropped, later ones too, and the shared cache
    /// forgets every session with this server name.
    pub(crate) fn reject(&self) {
        {
            let mut s = self.state.lock();
            s.verdict = Verdict::Rejected;
            s.held.clear();
        }
        self.shared.remove_tls12_session(&self.server_name);
        while self.shared.take_tls13_ticket(&self.server_name).is_some() {}
    }

    /// Holds or passes on a session, as the verdict says.
    fn store(&self, h: Held) {
        let mut s = self.state.lock();
        match s.verdict {
            Verdict::Pending => {
                if s.held.len() == MAX_HELD_SESSIONS {
                    s.held.remove(0); // the oldest goes, as in the shared cache
                }
                s.held.push(h)
            }
            Verdict::Rejected => {}
            Verdict::Accepted => {
                drop(s);
                match h {
                    Held::Tls12(name, v) => self.shared.set_tls12_session(name, v),
                    Held::Tls13(name, v) => self.shared.insert_tls13_ticket(name, v),
                }
            }
        }
    }
}

/// A new gate for a connection to `server_name`, or `None` without external
/// verification.
pub(crate) fn gate(config: &Config, server_name: &ServerName<'static>) -> Option<Arc<Gate>> {
    if config.settings.external == ExternalVerification::Off {
        return None;
    }
    Some(Arc::new(Gate {
        shared: config.session_store.clone(),
        server_name: server_name.clone(),
        state: Mutex::new(GateState {
            verdict: Verdict::Pending,
            waits: None,
            held: Vec::new(),
        }),
    }))
}

/// The session store wrapper for a config with external verification.
pub(crate) fn gated_resumption(shared: Arc<ClientSessionMemoryCache>) -> Resumption {
    Resumption::store(Arc::new(GatedStore { shared }))
}

thread_local! {
    /// The gate of the connection whose packets this thread is processing.
    static CURRENT: RefCell<Option<Arc<Gate>>> = const { RefCell::new(None) };
}

/// Runs `f` (rustls's processing of one connection's packets) with `gate` as the
/// current connection's gate.
pub(crate) fn scope<R>(gate: Option<&Arc<Gate>>, f: impl FnOnce() -> R) -> R {
    struct Reset(Option<Arc<Gate>>);
    impl Drop for Reset {
        fn drop(&mut self) {
            let previous = self.0.take();
            CURRENT.with(|c| *c.borrow_mut() = previous);
        }
    }
    let previous = CURRENT.with(|c| c.replace(gate.cloned()));
    let _reset = Reset(previous);
    f()
}

fn current() -> Option<Arc<Gate>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The verifier of a config with external verification: the built-in checks, and a
/// provisional pass, recorded on the connection's gate, for a chain that waits for
/// the caller's verdict.
#[derive(Debug)]
pub(crate) struct Deferring {
    base: Verifier,
}

impl Deferring {
    pub(crate) fn new(base: Verifier) -> Self {
        Deferring { base }
    }
}

impl ServerCertVerifier for Deferring {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        let waits = self
            .base
            .check(end_entity, intermediates, server_name, ocsp_response, now)?;
        if waits.is_some() {
            match current() {
                Some(gate) => gate.state.lock().waits = waits,
                // No connection to hold the verdict for: fail closed.
                None => {
                    return self.base.verify_server_cert(
                        end_entity,
                        intermediates,
                        server_name,
                        ocsp_response,
                        now,
                    )
                }
            }
        }
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.base.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        self.base.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.base.supported_verify_schemes()
    }
}

/// The session store of a config with external verification: offers from the shared
/// cache, stores through the current connection's gate (out of a scope: drops).
#[derive(Debug)]
struct GatedStore {
    shared: Arc<ClientSessionMemoryCache>,
}

impl ClientSessionStore for GatedStore {
    fn set_kx_hint(&self, server_name: ServerName<'static>, group: NamedGroup) {
        self.shared.set_kx_hint(server_name, group)
    }

    fn kx_hint(&self, server_name: &ServerName<'_>) -> Option<NamedGroup> {
        self.shared.kx_hint(server_name)
    }

    fn set_tls12_session(&self, server_name: ServerName<'static>, value: Tls12ClientSessionValue) {
        if let Some(gate) = current() {
            gate.store(Held::Tls12(server_name, value))
        }
    }

    fn tls12_session(&self, server_name: &ServerName<'_>) -> Option<Tls12ClientSessionValue> {
        self.shared.tls12_session(server_name)
    }

    fn remove_tls12_session(&self, server_name: &ServerName<'static>) {
        self.shared.remove_tls12_session(server_name)
    }

    fn insert_tls13_ticket(
        &self,
        server_name: ServerName<'static>,
        value: Tls13ClientSessionValue,
    ) {
        if let Some(gate) = current() {
            gate.store(Held::Tls13(server_name, value))
        }
    }

    fn take_tls13_ticket(
        &self,
        server_name: &ServerName<'static>,
    ) -> Option<Tls13ClientSessionValue> {
        self.shared.take_tls13_ticket(server_name)
    }
}
