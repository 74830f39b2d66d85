//! The thread's last error: the detail of the most recent failed call on this thread,
//! for `ws_last_error`.

use std::cell::RefCell;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// Records the detail of a failed call on this thread.
pub(crate) fn set(msg: &str) {
    LAST_ERROR.with(|e| {
        let mut e = e.borrow_mut();
        e.clear();
        e.push_str(msg);
    });
}

/// Runs `f` on this thread's last error ("" when no call has failed).
pub(crate) fn with<T>(f: impl FnOnce(&str) -> T) -> T {
    LAST_ERROR.with(|e| f(&e.borrow()))
}
