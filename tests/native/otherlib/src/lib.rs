//! A tiny Rust static library with a C ABI, standing in for "some other Rust
//! library in the same game binary" (scripts/test-native.sh). It uses the parts of
//! std that carry the colliding runtime symbols: the allocator, formatting, and a
//! panic caught with catch_unwind (the unwinder and rust_eh_personality).

use std::panic::catch_unwind;

/// Returns the sum of the decimal digits of `n`, through a heap-allocated String.
#[no_mangle]
pub extern "C" fn other_digit_sum(n: u64) -> u32 {
    format!("{n}").bytes().map(|b| u32::from(b - b'0')).sum()
}

/// Panics inside catch_unwind and returns 1 when the panic was caught with its
/// message intact, 0 otherwise.
#[no_mangle]
pub extern "C" fn other_catch_panic() -> u32 {
    std::panic::set_hook(Box::new(|_| {}));
    let r = catch_unwind(|| -> u32 { panic!("other library panic {}", std::hint::black_box(42)) });
    let _ = std::panic::take_hook();
    match r {
        Err(p) => match p.downcast_ref::<String>() {
            Some(s) if s == "other library panic 42" => 1,
            _ => 0,
        },
        Ok(_) => 0,
    }
}
