//! Namespaces: views of one store under a key prefix.
//!
//! Every key a namespace is given is stored as `<prefix><key>`, where the prefix is the
//! chain of names joined by `:` (`app:users:`), as bentocache lays keys out. Clearing a
//! namespace removes its entries and those of the namespaces nested in it, and nothing
//! else. Joining is done in a buffer on the stack for the common short key, so a lookup
//! through a namespace allocates nothing.

use std::sync::Arc;

use crate::entry::Entry;
use crate::error::CoreError;
use crate::store::{Found, L1Store, Lookup};

/// Keys up to this many bytes (prefix included) are joined without allocating.
const STACK_KEY: usize = 256;

/// A view of an [`L1Store`] under a key prefix.
///
/// ```
/// use std::sync::Arc;
/// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, namespace::Namespace, store::{L1Config, L1Store}};
///
/// let root = Namespace::root(Arc::new(L1Store::new(L1Config::default()).unwrap()), "app");
/// let users = root.child("users");
/// let now = now_ms();
/// users.set("1", Entry::new(Value::text("ada"), now, None, 0, vec![])).unwrap();
/// assert_eq!(users.prefix(), "app:users:");
/// assert!(root.has("users:1", now));
/// users.clear();
/// assert!(!root.has("users:1", now));
/// ```
#[derive(Clone)]
pub struct Namespace {
    store: Arc<L1Store>,
    prefix: Box<str>,
}

impl Namespace {
    /// The top namespace of `store`: keys are stored as `<prefix>:<key>`, or as they are
    /// when `prefix` is empty. Trailing colons of `prefix` are dropped.
    pub fn root(store: Arc<L1Store>, prefix: &str) -> Self {
        let prefix = prefix.trim_end_matches(':');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}:")
        };
        Namespace {
            store,
            prefix: prefix.into_boxed_str(),
        }
    }

    /// The namespace `name` nested in this one.
    pub fn child(&self, name: &str) -> Self {
        Namespace {
            store: Arc::clone(&self.store),
            prefix: format!("{}{name}:", self.prefix).into_boxed_str(),
        }
    }

    /// The prefix keys are stored under, with its trailing `:` (empty for none).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// The store this namespace views.
    pub fn store(&self) -> &L1Store {
        &self.store
    }

    /// Runs `f` with the stored form of `key`.
    #[inline]
    pub fn with_key<R>(&self, key: &str, f: impl FnOnce(&str) -> R) -> R {
        if self.prefix.is_empty() {
            return f(key);
        }
        let len = self.prefix.len() + key.len();
        if len > STACK_KEY {
            return f(&format!("{}{key}", self.prefix));
        }
        // Uninitialised: zeroing the whole buffer on every lookup cost more than the copy.
        let mut buf = [std::mem::MaybeUninit::<u8>::uninit(); STACK_KEY];
        let start = buf.as_mut_ptr().cast::<u8>();
        // Safety: the first `len` ≤ STACK_KEY bytes are written (prefix, then key) before
        // they are read, and the concatenation of two UTF-8 strings is UTF-8.
        unsafe {
            std::ptr::copy_nonoverlapping(self.prefix.as_ptr(), start, self.prefix.len());
            std::ptr::copy_nonoverlapping(key.as_ptr(), start.add(self.prefix.len()), key.len());
            f(std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                start, len,
            )))
        }
    }

    /// See [`L1Store::get`].
    #[inline]
    pub fn get(&self, key: &str, now: u64) -> Lookup {
        self.with_key(key, |k| self.store.get(k, now))
    }

    /// See [`L1Store::get_with`].
    #[inline]
    pub fn get_with<R>(&self, key: &str, now: u64, read: impl FnOnce(Found<'_>) -> R) -> R {
        self.with_key(key, |k| self.store.get_with(k, now, read))
    }

    /// See [`L1Store::peek`].
    pub fn peek(&self, key: &str, now: u64) -> Option<Entry> {
        self.with_key(key, |k| self.store.peek(k, now))
    }

    /// See [`L1Store::set`].
    pub fn set(&self, key: &str, entry: Entry) -> Result<(), CoreError> {
        self.with_key(key, |k| self.store.set(k, entry))
    }

    /// See [`L1Store::has`].
    pub fn has(&self, key: &str, now: u64) -> bool {
        self.with_key(key, |k| self.store.has(k, now))
    }

    /// See [`L1Store::delete`].
    pub fn delete(&self, key: &str) -> bool {
        self.with_key(key, |k| self.store.delete(k))
    }

    /// See [`L1Store::expire`].
    pub fn expire(&self, key: &str, now: u64) -> bool {
        self.with_key(key, |k| self.store.expire(k, now))
    }

    /// See [`L1Store::mirror`].
    pub fn mirror(&self, key: &str, slot: u32, now: u64) -> Option<u64> {
        self.with_key(key, |k| self.store.mirror(k, slot, now))
    }

    /// Removes this namespace's entries (all entries, for a root without prefix).
    pub fn clear(&self) {
        if self.prefix.is_empty() {
            self.store.clear()
        } else {
            self.store.clear_prefix(&self.prefix)
        }
    }
}
