//! Generation-counted handles for configs and clients.
//!
//! One table maps `uint64_t` handles to objects. A handle is a slotmap key
//! (`KeyData::as_ffi`: generation in the high half, slot index in the low half), so a
//! freed slot's old handle never matches its next occupant, garbage values are simply
//! not found, and 0 is never issued. The table lock is held only to look up, insert or
//! remove; each object has its own lock, so different handles never block each other.

use std::sync::Arc;

use once_cell::sync::Lazy;
use parking_lot::Mutex;
use slotmap::{DefaultKey, Key, KeyData, SlotMap};

use crate::config::Config;
use crate::session::Client;

/// A client with the detail of its last failed call.
#[derive(Debug)]
pub(crate) struct ClientSlot {
    pub client: Client,
    /// The message of the last call on this handle that failed.
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Object {
    Config(Arc<Mutex<Config>>),
    Client(Arc<Mutex<ClientSlot>>),
}

static TABLE: Lazy<Mutex<SlotMap<DefaultKey, Object>>> = Lazy::new(|| Mutex::new(SlotMap::new()));

/// The key a handle names. `KeyData::from_ffi` forces the generation odd, so a value
/// that does not round-trip exactly (one bit off a live handle, small integers) was
/// never issued and names nothing.
fn key(handle: u64) -> Option<DefaultKey> {
    let data = KeyData::from_ffi(handle);
    (handle != 0 && data.as_ffi() == handle).then(|| data.into())
}

pub(crate) fn insert(obj: Object) -> u64 {
    TABLE.lock().insert(obj).data().as_ffi()
}

pub(crate) fn get(handle: u64) -> Option<Object> {
    TABLE.lock().get(key(handle)?).cloned()
}

pub(crate) fn config(handle: u64) -> Option<Arc<Mutex<Config>>> {
    match get(handle)? {
        Object::Config(c) => Some(c),
        Object::Client(_) => None,
    }
}

pub(crate) fn client(handle: u64) -> Option<Arc<Mutex<ClientSlot>>> {
    match get(handle)? {
        Object::Client(c) => Some(c),
        Object::Config(_) => None,
    }
}

/// Removes the object if `handle` names one of the kind `is_kind` accepts. The object
/// itself is dropped after the table lock is released.
pub(crate) fn remove(handle: u64, is_kind: fn(&Object) -> bool) -> bool {
    let removed = {
        let mut t = TABLE.lock();
        match key(handle) {
            Some(k) if t.get(k).is_some_and(is_kind) => t.remove(k),
            _ => None,
        }
    };
    removed.is_some()
}

/// Live handles (configs and clients), for leak checks.
pub(crate) fn count() -> usize {
    TABLE.lock().len()
}
