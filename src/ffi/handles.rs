//! Generation-counted handles for configs, clients and TLS objects.
//!
//! A handle is `generation << 22 | index`. Slots live in segments of 1,024 that are
//! made on first use and never freed, so looking a handle up takes no table-wide lock:
//! an atomic load finds the segment, and the slot's own lock guards both its object
//! and its generation. The generation is odd while an object lives in the slot and is
//! bumped when the object is removed, so a freed handle never matches the slot's next
//! occupant; handle 0, small integers and one bit off a live handle name nothing. Only
//! creating and freeing objects take the allocator's lock (for the free list).
//!
//! Generations never wrap: the 22 index bits leave 42 for the generation, so one slot
//! serves 2^41 objects (a free list that hands the same slot back at a million
//! creations a second would take 25 days to get there), and a slot whose generation
//! is spent is retired, never reused. Retiring costs one slot out of 4,194,304.
//!
//! Every call on a handle takes and releases its slot's lock, so the lock is on the
//! hot path of every message: see [`SlotLock`] for why it is not `parking_lot`'s.

use std::sync::atomic::{AtomicU8, Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use std::time::{Duration, Instant};

use lock_api::{MappedMutexGuard, MutexGuard};
use once_cell::sync::OnceCell;
use parking_lot::Mutex;

use super::result::{ws_result, Fail};
use crate::config::Config;
use crate::session::Client;
use crate::tls_stream::TlsClient;

#[derive(Debug)]
pub(crate) enum Object {
    Config(Box<Config>),
    Client(Box<Client>),
    Tls(Box<TlsClient>),
}

const SEG_SHIFT: u32 = 10;
const SEG_LEN: usize = 1 << SEG_SHIFT;
/// At most `SEGS * SEG_LEN` (4,194,304) objects live at once.
const SEGS: usize = 4096;
/// Bits of a handle that hold the slot index: `SEGS * SEG_LEN == 1 << INDEX_BITS`.
const INDEX_BITS: u32 = 22;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// The last generation a slot gives out (odd); freeing that object retires the slot.
const LAST_GENERATION: u64 = (1 << (64 - INDEX_BITS)) - 1;

#[derive(Default)]
struct SlotState {
    /// Odd while `obj` is `Some`; below 2^42.
    generation: u64,
    obj: Option<Object>,
}

type Slot = lock_api::Mutex<SlotLock, SlotState>;

/// A slot's lock. Uncontended, taking it is one atomic compare-and-swap and releasing
/// it is a plain store; `parking_lot`'s mutex also releases with a compare-and-swap,
/// and those two locked instructions per call were about 9% of a 16 B ws round trip's
/// CPU time (perf) with eight calls per round trip. A caller that finds the lock
/// taken spins briefly, then marks the lock `PARKED` and sleeps in `parking_lot_core`
/// until the holder wakes it.
///
/// The plain-store release reads the state and writes 0 without a locked
/// instruction, so a waiter that marks `PARKED` between that read and that write is
/// not woken: that is why a waiter sleeps at most [`PARK_TIMEOUT`] before it looks
/// again. A release that sees `PARKED` clears the state and wakes every waiter, which
/// is never lost (parking validates the state under the park queue's lock). Calls on
/// one handle from several threads are rare (a C# finalizer freeing a handle, a
/// caller's own threads), and the timeout bounds the worst case; only that contended
/// path reads the clock (for the timeout), as `parking_lot`'s own fairness timer does.
pub(crate) struct SlotLock(AtomicU8);

const LOCKED: u8 = 1;
const PARKED: u8 = 2;

/// How long a waiter sleeps before it looks at the lock again, should the holder's
/// release have missed its `PARKED` mark.
const PARK_TIMEOUT: Duration = Duration::from_millis(1);

// SAFETY: `lock` and `try_lock` return only once this thread set `LOCKED` on a state
// without it (compare-and-swap, `Acquire`), and only the holder clears it (`Release`),
// so at most one thread holds the lock at a time.
unsafe impl lock_api::RawMutex for SlotLock {
    // A `const` item is what `lock_api` asks for; each use is a fresh lock.
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: SlotLock = SlotLock(AtomicU8::new(0));
    type GuardMarker = lock_api::GuardSend;

    #[inline]
    fn lock(&self) {
        if self
            .0
            .compare_exchange_weak(0, LOCKED, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        let mut state = self.0.load(Relaxed);
        while state & LOCKED == 0 {
            match self
                .0
                .compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed)
            {
                Ok(_) => return true,
                Err(now) => state = now,
            }
        }
        false
    }

    #[inline]
    unsafe fn unlock(&self) {
        if self.0.load(Relaxed) == LOCKED {
            // Nobody waits (or one just began to: it wakes within PARK_TIMEOUT).
            self.0.store(0, Release);
        } else {
            self.unlock_contended();
        }
    }
}

impl SlotLock {
    fn key(&self) -> usize {
        self as *const SlotLock as usize
    }

    #[cold]
    fn lock_contended(&self) {
        let mut spin = parking_lot_core::SpinWait::new();
        let mut state = self.0.load(Relaxed);
        loop {
            if state & LOCKED == 0 {
                match self
                    .0
                    .compare_exchange_weak(state, state | LOCKED, Acquire, Relaxed)
                {
                    Ok(_) => return,
                    Err(now) => {
                        state = now;
                        continue;
                    }
                }
            }
            if state & PARKED == 0 {
                if spin.spin() {
                    state = self.0.load(Relaxed);
                    continue;
                }
                if let Err(now) =
                    self.0
                        .compare_exchange_weak(state, state | PARKED, Relaxed, Relaxed)
                {
                    state = now;
                    continue;
                }
            }
            let timeout = Some(Instant::now() + PARK_TIMEOUT);
            // SAFETY: the key is this lock's address, which only this lock parks and
            // unparks on; the callbacks neither panic nor park.
            unsafe {
                parking_lot_core::park(
                    self.key(),
                    || self.0.load(Relaxed) == LOCKED | PARKED,
                    || {},
                    |_, _| {},
                    parking_lot_core::DEFAULT_PARK_TOKEN,
                    timeout,
                );
            }
            spin.reset();
            state = self.0.load(Relaxed);
        }
    }

    #[cold]
    fn unlock_contended(&self) {
        // Only the holder clears LOCKED, and waiters add PARKED only while LOCKED is
        // set, so after this store no waiter can park until someone locks again.
        self.0.store(0, Release);
        // SAFETY: the same key as in `park`.
        unsafe {
            parking_lot_core::unpark_all(self.key(), parking_lot_core::DEFAULT_UNPARK_TOKEN);
        }
    }
}

static SEGMENTS: [OnceCell<Box<[Slot]>>; SEGS] = [const { OnceCell::new() }; SEGS];

#[derive(Default)]
struct Alloc {
    free: Vec<u32>,
    next: u32,
    live: usize,
}

static ALLOC: Mutex<Alloc> = Mutex::new(Alloc {
    free: Vec::new(),
    next: 0,
    live: 0,
});

fn slot(index: u32) -> Option<&'static Slot> {
    let segment = SEGMENTS.get((index >> SEG_SHIFT) as usize)?.get()?;
    segment.get(index as usize & (SEG_LEN - 1))
}

/// The locked slot `handle` names, if an object lives there.
fn lock_live(handle: u64) -> Option<MutexGuard<'static, SlotLock, SlotState>> {
    let generation = handle >> INDEX_BITS;
    if generation % 2 == 0 {
        return None;
    }
    let state = slot((handle & INDEX_MASK) as u32)?.lock();
    (state.generation == generation && state.obj.is_some()).then_some(state)
}

/// The locked object `handle` names, if it is live.
pub(crate) fn lock(handle: u64) -> Option<MappedMutexGuard<'static, SlotLock, Object>> {
    let state = lock_live(handle)?;
    Some(MutexGuard::map(state, |s| {
        s.obj.as_mut().expect("checked live")
    }))
}

/// Stores `obj` and returns its handle, or `None` when every slot is taken.
pub(crate) fn insert(obj: Object) -> Option<u64> {
    let index = {
        let mut alloc = ALLOC.lock();
        let index = match alloc.free.pop() {
            Some(i) => i,
            None if (alloc.next as usize) < SEGS * SEG_LEN => {
                let i = alloc.next;
                SEGMENTS[(i >> SEG_SHIFT) as usize]
                    .get_or_init(|| (0..SEG_LEN).map(|_| Slot::default()).collect());
                alloc.next += 1;
                i
            }
            None => return None,
        };
        alloc.live += 1;
        index
    };
    let mut state = slot(index).expect("allocated slot").lock();
    state.generation += 1;
    debug_assert!(state.generation <= LAST_GENERATION);
    state.obj = Some(obj);
    Some(state.generation << INDEX_BITS | u64::from(index))
}

/// Removes the object if `handle` names one of the kind `is_kind` accepts. The object
/// itself is dropped after every lock is released.
pub(crate) fn remove(handle: u64, is_kind: fn(&Object) -> bool) -> bool {
    let removed = {
        let Some(mut state) = lock_live(handle) else {
            return false;
        };
        if !state.obj.as_ref().is_some_and(is_kind) {
            return false;
        }
        // Even: free. A spent slot keeps LAST_GENERATION + 1 and is never reused.
        state.generation += 1;
        let spent = state.generation > LAST_GENERATION;
        (state.obj.take(), spent)
    };
    let (removed, spent) = removed;
    {
        let mut alloc = ALLOC.lock();
        if !spent {
            alloc.free.push((handle & INDEX_MASK) as u32);
        }
        alloc.live -= 1;
    }
    drop(removed);
    true
}

/// Stores `obj` like [`insert`], or fails with `WS_INVALID_STATE` when every slot is
/// taken.
pub(crate) fn insert_or_fail(obj: Object) -> Result<u64, Fail> {
    insert(obj).ok_or_else(|| {
        Fail::new(
            ws_result::WS_INVALID_STATE,
            format!(
                "too many live handles ({}); free some first",
                SEGS * SEG_LEN
            ),
        )
    })
}

/// Live handles (configs, clients and TLS objects), for leak checks.
pub(crate) fn count() -> usize {
    ALLOC.lock().live
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The free list is global: tests that expect a slot back run one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    fn is_config(o: &Object) -> bool {
        matches!(o, Object::Config(_))
    }

    #[test]
    fn slot_lock_excludes_and_wakes_waiters() {
        // Four threads take one lock 20,000 times each and bump a counter with a
        // non-atomic read-modify-write that yields in between: a second holder would
        // lose increments. Each holder also holds on for a while now and then, so
        // that others spin out and park, and are woken (or time out and look again).
        static LOCK: lock_api::Mutex<SlotLock, u64> =
            lock_api::Mutex::const_new(<SlotLock as lock_api::RawMutex>::INIT, 0);
        const THREADS: u64 = 4;
        const ROUNDS: u64 = 20_000;
        let threads: Vec<_> = (0..THREADS)
            .map(|t| {
                std::thread::spawn(move || {
                    for i in 0..ROUNDS {
                        let mut g = LOCK.lock();
                        let v = *g;
                        if (i + t) % 1000 == 0 {
                            std::thread::sleep(Duration::from_micros(200));
                        } else if i % 7 == 0 {
                            std::thread::yield_now();
                        }
                        *g = v + 1;
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*LOCK.lock(), THREADS * ROUNDS);
        assert!(LOCK.try_lock().is_some(), "released");
        let held = LOCK.lock();
        assert!(LOCK.try_lock().is_none(), "held");
        drop(held);
    }

    #[test]
    fn freed_handles_stay_dead_when_the_slot_is_reused() {
        let _serial = SERIAL.lock();
        // More than one segment, so that lookups cross segment boundaries.
        let handles: Vec<u64> = (0..SEG_LEN + 10)
            .map(|_| insert(Object::Config(Box::default())).unwrap())
            .collect();
        let mut seen = std::collections::HashSet::new();
        for &h in &handles {
            assert_ne!(h, 0);
            assert!(seen.insert(h), "handles are distinct");
            assert!(lock(h).is_some());
            assert!(lock(h ^ (1 << 32)).is_none(), "generation one bit off");
        }
        let old = handles[SEG_LEN + 3];
        assert!(remove(old, is_config));
        assert!(lock(old).is_none(), "freed");
        assert!(!remove(old, is_config), "freed twice");
        let new = insert(Object::Config(Box::default())).unwrap();
        assert!(
            lock(old).is_none(),
            "the old handle does not name the new object"
        );
        assert!(lock(new).is_some());
        // The wrong kind is not removed.
        assert!(!remove(new, |o| matches!(o, Object::Client(_))));
        assert!(lock(new).is_some());
        for h in handles.into_iter().chain([new]) {
            remove(h, is_config);
        }
        assert!(lock(new).is_none());
    }

    /// Sets the generation of the slot `handle` names (the slot must be free).
    fn age_slot(handle: u64, generation: u64) {
        let mut state = slot((handle & INDEX_MASK) as u32).unwrap().lock();
        assert!(state.obj.is_none());
        state.generation = generation;
    }

    #[test]
    fn generations_do_not_wrap_and_a_spent_slot_is_retired() {
        let _serial = SERIAL.lock();
        // 2^31 reuses of one slot (what wrapped a 32-bit generation): the first
        // handle still names nothing.
        let first = insert(Object::Config(Box::default())).unwrap();
        assert!(remove(first, is_config));
        let index = first & INDEX_MASK;
        age_slot(first, (first >> INDEX_BITS) + 1 + (1 << 32) - 2);
        let again = insert(Object::Config(Box::default())).unwrap();
        assert_eq!(
            again & INDEX_MASK,
            index,
            "the free list hands the slot back"
        );
        assert_ne!(again, first);
        assert!(
            lock(first).is_none(),
            "an old handle never names a new object"
        );
        assert!(remove(again, is_config));
        // The last generation: the slot gives it out once, then retires.
        age_slot(again, LAST_GENERATION - 1);
        let last = insert(Object::Config(Box::default())).unwrap();
        assert_eq!(last & INDEX_MASK, index);
        assert_eq!(last >> INDEX_BITS, LAST_GENERATION);
        assert!(lock(last).is_some());
        assert!(remove(last, is_config));
        assert!(lock(last).is_none());
        let next = insert(Object::Config(Box::default())).unwrap();
        assert_ne!(next & INDEX_MASK, index, "a spent slot is not reused");
        for g in [0, 1, LAST_GENERATION] {
            assert!(lock(g << INDEX_BITS | index).is_none());
        }
        assert!(remove(next, is_config));
    }
}
