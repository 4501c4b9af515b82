//! The entry model: what a tier stores under a key.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A serialized value (the facade's JSON text), kept as bytes off the JS heap.
    Text(Box<str>),
    /// A handle to a value the host keeps by reference (`serialize: false`): the engine
    /// stores only the slot number and reports the slot as freed when the entry leaves.
    Slot(u32),
}

impl Value {
    /// A serialized value from anything string-like.
    pub fn text(s: impl Into<Box<str>>) -> Self {
        Value::Text(s.into())
    }

    /// The bytes the value weighs for `maxSize` and `maxEntrySize`. A slot weighs the
    /// size of its number: the host, not the engine, holds the value itself.
    pub fn weight(&self) -> u64 {
        self.as_ref().weight()
    }

    /// The value, borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Text(text) => ValueRef::Text(text),
            Value::Slot(slot) => ValueRef::Slot(*slot),
        }
    }
}

/// A stored value as an [`Entry`] hands it out: its text borrowed, or its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// A serialized value.
    Text(&'a str),
    /// A handle to a value the host keeps (see [`Value::Slot`]).
    Slot(u32),
}

impl ValueRef<'_> {
    /// As [`Value::weight`].
    pub fn weight(&self) -> u64 {
        match self {
            ValueRef::Text(text) => text.len() as u64,
            ValueRef::Slot(_) => std::mem::size_of::<u32>() as u64,
        }
    }
}

/// One cache entry: a value and its lifetimes.
///
/// An entry is *fresh* until its logical expiry (its ttl), *stale* from then until its
/// physical expiry (ttl plus grace), when it is gone. A stale entry can still be served
/// by grace while a new value is being computed, or when computing one fails.
///
/// Its layout is kept small, for a store of millions: the key it is filed under and a text
/// value share one allocation, tags cost one pointer when there are none, and no lifetime
/// is an `Option` (sentinels instead), so that the entry's own allocation is 88 bytes.
#[derive(Debug)]
pub struct Entry {
    /// The key the L1 store files the entry under (empty until it is stored: the store's
    /// index then needs no key of its own), followed by a text value's bytes.
    bytes: Box<str>,
    /// How many of `bytes` are the key.
    key_len: u32,
    /// The slot of a [`Value::Slot`] value (unused for a text value).
    slot: u32,
    /// Whether the value is a slot rather than the text after the key.
    is_slot: bool,
    /// When the entry was written, in ms since the epoch.
    pub created_at: u64,
    /// When the entry turns stale, in ms since the epoch; [`NEVER`] never. Atomic so that
    /// `expire` can turn a shared entry stale in place, without replacing it.
    logical_expires_at: AtomicU64,
    /// When the entry is dropped, in ms since the epoch; [`NEVER`] never.
    physical_expires_at: u64,
    /// The entry's tags; `None` for none (a thin pointer: most entries have none).
    tags: Option<Box<Box<[Box<str>]>>>,
    /// From when a hit should start an eager refresh, in ms since the epoch; [`NEVER`] for
    /// no eager refresh, or once a caller has claimed it (see [`Entry::claim_refresh`]).
    refresh_at: AtomicU64,
}

/// The logical expiry of an entry that never turns stale.
pub const NEVER: u64 = u64::MAX;

/// The L1 store's policy files an entry under the key the entry was stored under.
impl crate::policy::Keyed for Arc<Entry> {
    fn key(&self) -> &str {
        Entry::key(self)
    }
}

impl Entry {
    /// A new entry written at `now`, fresh for `ttl_ms` (`None`: forever) and kept
    /// `grace_ms` longer as a stale entry.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, Some(50), 200, vec![]);
    /// assert_eq!((e.logical_expires_at(), e.physical_expires_at()), (Some(1_050), Some(1_250)));
    /// assert!(e.is_fresh(1_049) && !e.is_fresh(1_050) && e.is_alive(1_249) && !e.is_alive(1_250));
    /// ```
    pub fn new(
        value: Value,
        now: u64,
        ttl_ms: Option<u64>,
        grace_ms: u64,
        tags: Vec<String>,
    ) -> Self {
        let logical = ttl_ms.map(|ttl| now.saturating_add(ttl));
        let (bytes, slot, is_slot) = match value {
            Value::Text(text) => (text, 0, false),
            Value::Slot(slot) => (Box::default(), slot, true),
        };
        let tags: Box<[Box<str>]> = tags.into_iter().map(String::into_boxed_str).collect();
        Entry {
            bytes,
            key_len: 0,
            slot,
            is_slot,
            created_at: now,
            logical_expires_at: AtomicU64::new(logical.unwrap_or(NEVER)),
            // A deadline past u64::MAX - 1 is as good as never.
            physical_expires_at: logical.map_or(NEVER, |at| at.saturating_add(grace_ms)),
            tags: (!tags.is_empty()).then(|| Box::new(tags)),
            refresh_at: AtomicU64::new(NEVER),
        }
    }

    /// This entry, due for an eager refresh `in_ms` after its creation (a fraction of its
    /// ttl, computed by the caller). An entry that never turns stale is never refreshed.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, Some(100), 0, vec![]).refreshed_after(80);
    /// assert!(!e.claim_refresh(1_079));
    /// assert!(e.claim_refresh(1_080));   // the first caller past the threshold claims it
    /// assert!(!e.claim_refresh(1_081));  // and only that one
    /// ```
    pub fn refreshed_after(self, in_ms: u64) -> Self {
        if self.logical_expires_at().is_some() {
            self.refresh_at
                .store(self.created_at.saturating_add(in_ms), Relaxed);
        }
        self
    }

    /// Whether this call, at `now`, is the one that starts the entry's eager refresh: true
    /// once, for the first caller at or past the threshold (an atomic swap, so concurrent
    /// readers cannot both win); false when the entry has none, or it was claimed already.
    #[inline]
    pub fn claim_refresh(&self, now: u64) -> bool {
        // NEVER is past any clock reading: an entry without eager refresh costs one load.
        now >= self.refresh_at.load(Relaxed) && self.refresh_at.swap(NEVER, Relaxed) != NEVER
    }

    /// When the entry is due for an eager refresh, in ms since the epoch; `None` when it has
    /// none or it was claimed.
    pub fn refresh_at(&self) -> Option<u64> {
        Some(self.refresh_at.load(Relaxed)).filter(|&at| at != NEVER)
    }

    /// Whether the entry is still fresh (logically unexpired) at `now`.
    #[inline]
    pub fn is_fresh(&self, now: u64) -> bool {
        now < self.logical_expires_at.load(Relaxed)
    }

    /// Whether the entry still exists (physically unexpired) at `now`.
    #[inline]
    pub fn is_alive(&self, now: u64) -> bool {
        now < self.physical_expires_at
    }

    /// When the entry is dropped, in ms since the epoch; `None` never.
    pub fn physical_expires_at(&self) -> Option<u64> {
        Some(self.physical_expires_at).filter(|&at| at != NEVER)
    }

    /// The value.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value, ValueRef};
    /// assert_eq!(Entry::new(Value::text("1"), 0, None, 0, vec![]).value(), ValueRef::Text("1"));
    /// assert_eq!(Entry::new(Value::Slot(7), 0, None, 0, vec![]).value(), ValueRef::Slot(7));
    /// ```
    #[inline]
    pub fn value(&self) -> ValueRef<'_> {
        if self.is_slot {
            ValueRef::Slot(self.slot)
        } else {
            ValueRef::Text(&self.bytes[self.key_len as usize..])
        }
    }

    /// The slot of a slot value; `None` for a text value.
    #[inline]
    pub fn slot(&self) -> Option<u32> {
        self.is_slot.then_some(self.slot)
    }

    /// The entry's tags.
    pub fn tags(&self) -> &[Box<str>] {
        self.tags.as_deref().map_or(&[], |tags| tags)
    }

    /// The key the entry is stored under; empty until an L1 store holds it.
    #[inline]
    pub fn key(&self) -> &str {
        &self.bytes[..self.key_len as usize]
    }

    /// This entry, filed under `key` (what the L1 store does when it stores it): the key
    /// and a text value are copied into one allocation. `None` for a key longer than
    /// `u32::MAX` bytes (no JavaScript string is).
    pub(crate) fn filed_under(mut self, key: &str) -> Option<Self> {
        let key_len = u32::try_from(key.len()).ok()?;
        let value = &self.bytes[self.key_len as usize..];
        let mut bytes = String::with_capacity(key.len() + value.len());
        bytes.push_str(key);
        bytes.push_str(value);
        self.bytes = bytes.into_boxed_str();
        self.key_len = key_len;
        Some(self)
    }

    /// When the entry turns stale, in ms since the epoch; `None` never.
    pub fn logical_expires_at(&self) -> Option<u64> {
        Some(self.logical_expires_at.load(Relaxed)).filter(|&at| at != NEVER)
    }

    /// Turns the entry stale at `now` (if it was not already), keeping its physical expiry
    /// so grace can still serve it.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, None, 0, vec![]);
    /// e.expire(2_000);
    /// assert_eq!(e.logical_expires_at(), Some(2_000));
    /// assert!(!e.is_fresh(2_000));
    /// ```
    pub fn expire(&self, now: u64) {
        self.logical_expires_at.fetch_min(now, Relaxed);
    }

    /// The bytes the entry weighs under `key`: key, value and tags.
    pub fn weight(&self, key: &str) -> u64 {
        key.len() as u64 + self.weight_without_key()
    }

    /// The bytes of the value and tags alone.
    pub fn weight_without_key(&self) -> u64 {
        self.value().weight() + self.tags().iter().map(|t| t.len() as u64).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn an_entry_is_small_and_files_its_key_beside_its_value() {
        // With the Arc's two counts, 88 bytes: a 96-byte allocation.
        assert_eq!(std::mem::size_of::<Entry>(), 72);
        let entry = Entry::new(Value::text("{}"), 0, None, 0, vec!["t".into()])
            .filed_under("users:1")
            .unwrap();
        assert_eq!(
            (entry.key(), entry.value()),
            ("users:1", ValueRef::Text("{}"))
        );
        assert_eq!(entry.tags(), [Box::from("t")]);
        let slot = Entry::new(Value::Slot(3), 0, None, 0, vec![])
            .filed_under("k")
            .unwrap();
        assert_eq!(
            (slot.key(), slot.value(), slot.slot()),
            ("k", ValueRef::Slot(3), Some(3))
        );
        assert!(slot.tags().is_empty());
    }

    #[test]
    fn concurrent_readers_past_the_threshold_claim_one_refresh() {
        let entry =
            Arc::new(Entry::new(Value::text("v"), 0, Some(100), 0, vec![]).refreshed_after(80));
        let winners: usize = (0..8)
            .map(|_| {
                let entry = Arc::clone(&entry);
                std::thread::spawn(move || (0..1_000).filter(|_| entry.claim_refresh(90)).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum();
        assert_eq!(winners, 1);
        assert_eq!(entry.refresh_at(), None);
    }

    #[test]
    fn an_entry_without_a_ttl_is_never_refreshed() {
        let entry = Entry::new(Value::text("v"), 0, None, 0, vec![]).refreshed_after(10);
        assert_eq!(entry.refresh_at(), None);
        assert!(!entry.claim_refresh(u64::MAX - 1));
    }
}
