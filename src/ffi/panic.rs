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
pub(crate) fn boundary(f: impl FnOnce() -> Result<ws_result, Fail>) -> ws_result {
    let fail = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(code)) => return code,
        Ok(Err(fail)) => fail,
        Err(payload) => Fail::new(
            ws_result::WS_PANIC,
            format!("internal error (panic): {}", describe(&*payload)),
        ),
    };
    if let Some(detail) = &fail.detail {
        // Even recording the message must not unwind.
        let _ = catch_unwind(AssertUnwindSafe(|| last_error::set(detail)));
    }
    fail.code
}
