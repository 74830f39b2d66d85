//! The panic boundary: no panic ever unwinds into C, and errors are mapped to codes in
//! one place.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::last_error;
use super::result::{ws_result, Fail};

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

/// Runs the body of an export. `Ok(code)` is returned as it is (`WS_OK` or a status
/// such as `WS_NEED_INPUT`); a `Fail` becomes its code, with its detail recorded as
/// this thread's last error; a panic becomes `WS_PANIC`.
///
/// Inlined into every export, with the failure paths out of line: the success path
/// of a message call is then the export's own frame and no more (callgrind counted
/// about 20 instructions of call overhead per export before).
#[inline(always)]
pub(crate) fn boundary(f: impl FnOnce() -> Result<ws_result, Fail>) -> ws_result {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(code)) => code,
        Ok(Err(fail)) => failed(fail),
        Err(payload) => panicked(payload),
    }
}

/// Records a failure's detail as this thread's last error and returns its code.
#[cold]
#[inline(never)]
fn failed(fail: Fail) -> ws_result {
    if let Some(detail) = &fail.detail {
        // Even recording the message must not unwind.
        let _ = catch_unwind(AssertUnwindSafe(|| last_error::set(detail)));
    }
    fail.code
}

#[cold]
#[inline(never)]
fn panicked(payload: Box<dyn std::any::Any + Send>) -> ws_result {
    failed(Fail::new(
        ws_result::WS_PANIC,
        format!("internal error (panic): {}", describe(&*payload)),
    ))
}
