//! The C ABI. This module only translates: it checks arguments, looks up handles,
//! calls the core inside a panic boundary, and maps results to stable codes.
//!
//! Conventions (see `include/wsmachine.h` for the full reference):
//! - Every function returns a `uint32_t` result code from [`ws_result`]; `WS_OK` is 0.
//! - Handles are generation-counted `uint64_t`s; 0 is never valid, and stale or
//!   garbage handles return `WS_INVALID_HANDLE`. Freeing 0 or a stale handle is a no-op.
//! - Out-parameters are named `out_*` and written only on success (documented
//!   exceptions: sizes reported with `WS_BUFFER_TOO_SMALL`, and `*out_len = 0`).
//! - `(NULL, 0)` is a valid empty buffer. No pointer is kept after a call returns.
//! - Calls on different handles never block each other; calls on one handle are
//!   serialised by a per-handle lock.
#![allow(non_camel_case_types)]

mod client;
mod config;
mod handles;
mod panic;
mod result;
mod tls;
mod util;

pub use client::*;
pub use config::*;
pub use result::*;
pub use tls::*;
