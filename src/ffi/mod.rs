//! The C ABI. This module only translates: each export checks its arguments, calls
//! the core through `with_config` or `with_client`, and writes its outputs; errors are
//! mapped to codes once, in the panic boundary.
//!
//! Conventions (see `include/wsmachine.h` for the full reference):
//! - Every function returns a [`ws_result`] (a `uint32_t` in C); `WS_OK` is 0.
//!   Functions that take a code or a mode take a `uint32_t`.
//! - Handles are generation-counted `uint64_t`s; 0 is never valid, and stale or
//!   garbage handles return `WS_INVALID_HANDLE`. Freeing 0 or a stale handle is a no-op.
//! - Out-parameters are named `out_*`, typed (`ws_state *`), and written only on
//!   success (documented exceptions: sizes reported with `WS_BUFFER_TOO_SMALL`, and
//!   `*out_len = 0` after a failure).
//! - `(NULL, 0)` is a valid empty buffer. No pointer is kept after a call returns.
//! - Calls on different handles never block each other; calls on one handle are
//!   serialised by a per-handle lock.
//!
//! Modules: `result` (the codes and `Fail`), `last_error` (the thread's last error),
//! `panic` (the boundary), `util` (pointer checks), `handles` (the handle table), then
//! one module per part of the header, in its order: `library`, `config`, `client`,
//! `tls`.
//!
//! The doc comments of the exports are the C reference: cbindgen copies them into the
//! header, so they are written for C readers. Each says what its pointers must point
//! to, which is why the exports carry no rustdoc `# Safety` section.
#![allow(non_camel_case_types, clippy::missing_safety_doc)]

mod handles;
mod last_error;
mod panic;
mod result;
mod util;

mod library;

mod config;

mod client;

mod tls;

pub use client::*;
pub use config::*;
pub use library::*;
pub use result::ws_result;
pub use tls::*;
