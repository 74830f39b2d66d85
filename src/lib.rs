//! # wsmachine
//!
//! A sans-IO secure WebSocket client: rustls (TLS 1.2 and 1.3) and tungstenite's
//! WebSocket types behind a state machine that owns no socket, no thread and no clock.
//! The caller moves the bytes and the time; the library does the protocol.
//!
//! ```no_run
//! use wsmachine::{Client, Config, Poll};
//! # fn socket_read(_: &mut [u8]) -> usize { 0 }
//! # fn socket_write(_: &[u8]) {}
//! # fn now_ms() -> u64 { 0 }
//! let mut config = Config::new();
//! config.add_root_pem(b"-----BEGIN CERTIFICATE-----...")?; // trust a private CA
//! let mut client = Client::new(&config, "wss://game.example:443/ws")?;
//! let (mut rx, mut tx) = (vec![0u8; 16384], vec![0u8; 16384]);
//! loop {
//!     let n = socket_read(&mut rx);               // whatever the socket has
//!     let mut fed = 0;
//!     while fed < n {
//!         fed += client.offer_input(&rx[fed..n])?; // 1. feed
//!         while let Poll::Message(m) = client.poll_message()? { // 2. poll until empty
//!             println!("{:?} {} bytes", m.kind, m.data.len());
//!         }
//!     }
//!     client.tick(now_ms())?;                      // 3. time
//!     loop {                                       // 4. drain output until empty
//!         let k = client.read_output(&mut tx)?;
//!         if k == 0 { break; }
//!         socket_write(&tx[..k]);
//!     }
//! }
//! # Ok::<(), wsmachine::Error>(())
//! ```
//!
//! Without the copies in steps 1 and 4: read the socket straight into
//! [`Client::input_window`] and pass the count to [`Client::commit_input`], and write
//! from [`Client::peek_output`], then [`Client::consume_output`] what the socket took.
//! [`Client::commit_and_window`] commits and lends the next window in one call.
//!
//! Trust: the built-in Mozilla roots by default; [`Config::add_root_pem`], pins,
//! [`Config::set_system_roots`] (the operating system's store, read in the call), and
//! [`Config::set_external_verification`]: a chain waits in [`State::Verifying`], with
//! nothing of the application sent, until [`Client::set_verdict`] from any verifier
//! the caller runs on its own schedule ([`platform::verify_with_platform`] is the OS's,
//! blocking). docs/SECURITY.md explains each mode's threat model.
//!
//! Behind a proxy: [`Config::set_proxy`] (`http://`, `https://` or `socks5://`), then
//! connect the socket to [`Client::connect_address`] instead of the URL's host; the
//! CONNECT or SOCKS5 exchange runs inside the same loop ([`proxy`]).
//!
//! TLS without WebSocket, for any protocol over TCP: [`TlsClient`] (C: `ws_tls_*`),
//! made from the same [`Config`], with ciphertext in and out through the caller's
//! buffers and plaintext through [`TlsClient::write`] and [`TlsClient::read`]; see
//! [`tls_stream`] for its event loop.
//!
//! Layers: [`config`] (trust, limits, timeouts), [`proxy`] (the tunnel below TLS), `tls` (rustls over memory),
//! `handshake` (the HTTP upgrade), `frame` (frames and messages), [`session`] (the
//! state machine), `verdict` (external verification), [`platform`] (the OS verifier),
//! [`tls_stream`] (the TLS object) and `ffi` (the C ABI: handles, result codes, panic
//! boundary).
#![deny(missing_docs, unsafe_op_in_unsafe_fn)]

mod bytes;
pub mod config;
pub mod deflate;
pub mod error;
mod frame;
mod handshake;
pub mod platform;
pub mod proxy;
pub mod session;
mod timers;
mod tls;
pub mod tls_stream;
mod transport;
mod verdict;

pub mod ffi;

pub use config::{
    Config, ExternalVerification, Limits, PinMode, SystemRoots, Timeouts, TlsVersion,
};
pub use deflate::{DeflateConfig, DeflateParams};
pub use error::{Error, ErrorKind, Result};
pub use frame::MessageKind;
pub use proxy::{ProxyKind, ProxyUrl};
pub use session::{Client, Message, Poll, PollInto, State};
pub use tls_stream::{TlsClient, TlsRead, TlsState};
