//! The panic boundary: no panic ever unwinds into C.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::result::{set_thread_error, ws_result};

/// Describes a panic payload.
pub(crate) fn describe(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f`, turning a panic into `WS_PANIC`.
pub(crate) fn guard(f: impl FnOnce() -> u32) -> u32 {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(code) => code,
        Err(payload) => {
            let what = describe(&*payload);
            // Even recording the message must not unwind.
            let _ = catch_unwind(AssertUnwindSafe(|| {
                set_thread_error(&format!("internal error (panic): {what}"))
            }));
            ws_result::WS_PANIC as u32
        }
    }
}
