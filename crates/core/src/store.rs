//! The in-memory (L1) store.
//!
//! Two structures hold the same entries:
//!
//! - the **index**, a plain hash map behind a read-write lock, answers every lookup
//!   (tens of nanoseconds);
//! - the **policy**, a [moka] cache, decides what to evict (TinyLFU admission over an LRU,
//!   bounded by count or by bytes) and when entries physically expire. It learns about
//!   reads in batches, from a [`ReadBuffer`], off the reader's thread, as Caffeine does.
//!
//! Writes go to both; an entry the policy evicts or expires is removed from the index by
//! moka's eviction listener, unless the index already holds a newer entry for the key.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::notification::RemovalCause;
use moka::sync::Cache;
use moka::Expiry;
use parking_lot::{Mutex, RwLock};

use crate::clock::now_ms;
use crate::entry::{Entry, Value};
use crate::error::CoreError;
use crate::hashing::KeyHasher;
use crate::index::Index;
use crate::read_buffer::{Policy, ReadBuffer};
use crate::stats::{L1Counters, L1Stats};

/// Limits of an L1 store. `None` means no limit of that kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Config {
    /// Most entries held at once.
    pub max_items: Option<u64>,
    /// Most bytes held at once, weighing each entry as its key, value and tags.
    pub max_size: Option<u64>,
    /// Most bytes one entry may weigh; a heavier entry is refused, not stored.
    pub max_entry_size: Option<u64>,
}

/// What a lookup found.
#[derive(Debug, Clone)]
pub enum Lookup {
    /// Nothing, or an entry past its physical expiry.
    Miss,
    /// An entry within its ttl.
    Fresh(Arc<Entry>),
    /// An entry past its ttl but within its grace period.
    Stale(Arc<Entry>),
}

/// Tells moka when each entry physically expires: at the end of its grace period.
struct GraceExpiry;

impl GraceExpiry {
    fn remaining(entry: &Entry) -> Option<Duration> {
        entry
            .physical_expires_at
            .map(|at| Duration::from_millis(at.saturating_sub(now_ms())))
    }
}

impl Expiry<Arc<str>, Arc<Entry>> for GraceExpiry {
    fn expire_after_create(
        &self,
        _: &Arc<str>,
        entry: &Arc<Entry>,
        _: Instant,
    ) -> Option<Duration> {
        Self::remaining(entry)
    }

    fn expire_after_update(
        &self,
        _: &Arc<str>,
        entry: &Arc<Entry>,
        _: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Self::remaining(entry)
    }
}

/// An in-memory cache tier.
pub struct L1Store {
    index: Arc<RwLock<Index>>,
    policy: Policy,
    reads: ReadBuffer,
    counters: Arc<L1Counters>,
    freed_slots: Arc<Mutex<Vec<u32>>>,
    max_entry_size: Option<u64>,
    limits: L1Config,
}

impl L1Store {
    /// A store with the given limits.
    ///
    /// With both `max_items` and `max_size`, each entry is weighed as the larger of its
    /// bytes and `max_size / max_items`, so that neither limit can be passed.
    pub fn new(config: L1Config) -> Result<Self, CoreError> {
        for (name, limit) in [
            ("maxItems", config.max_items),
            ("maxSize", config.max_size),
            ("maxEntrySize", config.max_entry_size),
        ] {
            if limit == Some(0) {
                return Err(CoreError::InvalidOption(format!(
                    "{name} must be greater than 0"
                )));
            }
        }

        let counters = Arc::new(L1Counters::default());
        let freed_slots = Arc::new(Mutex::new(Vec::new()));
        let index = Arc::new(RwLock::new(Index::default()));
        let mut builder = Cache::builder()
            .expire_after(GraceExpiry)
            .support_invalidation_closures()
            .eviction_listener({
                let counters = Arc::clone(&counters);
                let freed_slots = Arc::clone(&freed_slots);
                let index = Arc::clone(&index);
                move |key: Arc<Arc<str>>, entry: Arc<Entry>, cause| {
                    match cause {
                        RemovalCause::Size => L1Counters::bump(&counters.evictions),
                        RemovalCause::Expired => L1Counters::bump(&counters.expirations),
                        RemovalCause::Explicit | RemovalCause::Replaced => {}
                    }
                    if cause != RemovalCause::Replaced {
                        index.write().remove_if_same(&key, &entry);
                    }
                    if let Value::Slot(slot) = entry.value {
                        freed_slots.lock().push(slot);
                    }
                }
            });

        builder = match (config.max_items, config.max_size) {
            (Some(items), None) => builder.max_capacity(items),
            (None, Some(bytes)) => builder
                .max_capacity(bytes)
                .weigher(|key: &Arc<str>, entry: &Arc<Entry>| clamp_u32(entry.weight(key))),
            (Some(items), Some(bytes)) => {
                let floor = bytes.div_ceil(items);
                builder
                    .max_capacity(bytes)
                    .weigher(move |key: &Arc<str>, entry: &Arc<Entry>| {
                        clamp_u32(entry.weight(key).max(floor))
                    })
            }
            (None, None) => builder,
        };

        Ok(L1Store {
            index,
            policy: builder.build_with_hasher(KeyHasher::default()),
            reads: ReadBuffer::new(),
            counters,
            freed_slots,
            max_entry_size: config.max_entry_size,
            limits: config,
        })
    }

    /// Looks `key` up at time `now` (ms since the epoch) and counts the outcome.
    ///
    /// Misses are recorded for the policy too: TinyLFU admits a new key on the frequency
    /// of its past requests, found or not.
    #[inline]
    pub fn get(&self, key: &str, now: u64) -> Lookup {
        let found = self
            .index
            .read()
            .get_key_value(key)
            .map(|(k, e)| (Arc::clone(k), Arc::clone(e)));
        let (recorded, lookup) = match found {
            Some((key, entry)) if entry.is_alive(now) => {
                if entry.is_fresh(now) {
                    L1Counters::bump(&self.counters.hits);
                    (key, Lookup::Fresh(entry))
                } else {
                    L1Counters::bump(&self.counters.stale_hits);
                    (key, Lookup::Stale(entry))
                }
            }
            found => {
                L1Counters::bump(&self.counters.misses);
                (
                    found.map_or_else(|| Arc::from(key), |(key, _)| key),
                    Lookup::Miss,
                )
            }
        };
        if self.reads.record(recorded, &self.policy) {
            L1Counters::bump(&self.counters.dropped_reads);
        }
        lookup
    }

    /// The entry under `key` if it is still alive at `now`, without counting a lookup.
    pub fn peek(&self, key: &str, now: u64) -> Option<Arc<Entry>> {
        self.index
            .read()
            .get(key)
            .filter(|entry| entry.is_alive(now))
            .cloned()
    }

    /// Stores `entry` under `key`, replacing what was there.
    ///
    /// Fails with [`CoreError::EntryTooLarge`] when the entry exceeds `maxEntrySize`;
    /// the previous entry under `key`, if any, is then removed, so that a read never
    /// returns a value older than the one the caller tried to write.
    pub fn set(&self, key: &str, entry: Entry) -> Result<(), CoreError> {
        if let Some(limit) = self.max_entry_size {
            let size = entry.weight(key);
            if size > limit {
                L1Counters::bump(&self.counters.rejected);
                self.delete(key);
                if let Value::Slot(slot) = entry.value {
                    self.freed_slots.lock().push(slot);
                }
                return Err(CoreError::EntryTooLarge { size, limit });
            }
        }
        L1Counters::bump(&self.counters.writes);
        let key: Arc<str> = Arc::from(key);
        let entry = Arc::new(entry);
        // The index first: the policy may evict the entry at once (TinyLFU admission), and
        // its listener must then find it in the index to remove it.
        let over_limits = {
            let mut index = self.index.write();
            index.insert(Arc::clone(&key), Arc::clone(&entry));
            self.limits.max_items.is_some_and(|max| index.len() > max)
                || self.limits.max_size.is_some_and(|max| index.bytes() > max)
        };
        self.policy.insert(key, entry);
        // moka evicts in batches; past a limit, evict now, so the limits hold for readers,
        // after telling the policy about the reads it has not seen yet.
        if over_limits {
            self.run_pending_tasks();
        }
        Ok(())
    }

    /// Whether an entry, fresh or stale, exists under `key` at `now`.
    pub fn has(&self, key: &str, now: u64) -> bool {
        self.peek(key, now).is_some()
    }

    /// Removes the entry under `key`; tells whether there was one.
    pub fn delete(&self, key: &str) -> bool {
        let removed = self.index.write().remove(key);
        self.policy.invalidate(key);
        removed.is_some()
    }

    /// Turns the entry under `key` stale at `now`, keeping it for grace; tells whether
    /// there was one.
    pub fn expire(&self, key: &str, now: u64) -> bool {
        match self.peek(key, now) {
            Some(entry) => {
                entry.expire(now);
                true
            }
            None => false,
        }
    }

    /// Removes every entry.
    pub fn clear(&self) {
        self.index.write().clear();
        self.policy.invalidate_all();
    }

    /// Removes every entry whose key starts with `prefix` (a namespace's entries).
    /// Reads stop seeing them at once; the memory is reclaimed in the background.
    pub fn clear_prefix(&self, prefix: &str) {
        self.index.write().retain(|key, _| !key.starts_with(prefix));
        let prefix = prefix.to_owned();
        // Cannot fail: the policy is built with support_invalidation_closures.
        let _ = self
            .policy
            .invalidate_entries_if(move |key, _| key.starts_with(&prefix));
    }

    /// Slots of `serialize: false` values whose entries have left the store since the
    /// last call; the host may release and reuse them.
    pub fn take_freed_slots(&self) -> Vec<u32> {
        std::mem::take(&mut *self.freed_slots.lock())
    }

    /// Replays pending reads and applies pending evictions, expirations and invalidations
    /// now rather than in the background; counts and sizes are exact afterwards.
    pub fn run_pending_tasks(&self) {
        self.reads.flush(&self.policy);
        self.policy.run_pending_tasks();
    }

    /// A reading of the counters, after applying pending maintenance and dropping the
    /// entries past their physical expiry (moka's timer wheel only sees them a second or
    /// so late).
    pub fn stats(&self) -> L1Stats {
        self.run_pending_tasks();
        let now = now_ms();
        let mut index = self.index.write();
        index.retain(|_, entry| entry.is_alive(now));
        self.counters.read(index.len(), index.bytes())
    }
}

fn clamp_u32(n: u64) -> u32 {
    n.min(u32::MAX as u64) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str, now: u64, ttl: Option<u64>, grace: u64) -> Entry {
        Entry::new(Value::text(s), now, ttl, grace, vec![])
    }

    #[test]
    fn fresh_then_stale_then_gone() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("k", text("v", now, Some(100), 100)).unwrap();
        assert!(matches!(store.get("k", now + 99), Lookup::Fresh(_)));
        assert!(matches!(store.get("k", now + 100), Lookup::Stale(_)));
        assert!(matches!(store.get("k", now + 200), Lookup::Miss));
        let s = store.stats();
        assert_eq!((s.hits, s.stale_hits, s.misses), (1, 1, 1));
    }

    #[test]
    fn expire_keeps_the_entry_for_grace() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("k", text("v", now, None, 0)).unwrap();
        assert!(store.expire("k", now));
        assert!(matches!(store.get("k", now), Lookup::Stale(_)));
        assert!(!store.expire("absent", now));
    }

    /// A store of at most `max_items`, after `count` writes of keys `k0`, `k1`...
    fn filled(max_items: u64, count: usize) -> (L1Store, u64) {
        let store = L1Store::new(L1Config {
            max_items: Some(max_items),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        for i in 0..count {
            store
                .set(&format!("k{i}"), text("v", now, None, 0))
                .unwrap();
        }
        (store, now)
    }

    #[test]
    fn max_items_is_enforced_and_evictions_counted() {
        let (store, _) = filled(100, 1_000);
        let s = store.stats();
        assert!(s.entries <= 100, "{} entries", s.entries);
        assert!(s.evictions >= 900, "{} evictions", s.evictions);
    }

    #[test]
    fn max_size_is_enforced_in_bytes() {
        let store = L1Store::new(L1Config {
            max_size: Some(10_000),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        let value = "x".repeat(98);
        for i in 0..1_000 {
            store
                .set(&format!("k{i:03}"), text(&value, now, None, 0))
                .unwrap();
        }
        let s = store.stats();
        assert!(s.bytes <= 10_000 && s.bytes > 0, "{} bytes", s.bytes);
    }

    #[test]
    fn both_limits_hold_together() {
        let config = L1Config {
            max_items: Some(10),
            max_size: Some(1_000_000),
            ..Default::default()
        };
        let store = L1Store::new(config).unwrap();
        let now = now_ms();
        for i in 0..100 {
            store
                .set(&format!("k{i}"), text("small", now, None, 0))
                .unwrap();
        }
        assert!(store.stats().entries <= 10);
    }

    #[test]
    fn oversized_entries_are_refused_and_replace_nothing() {
        let store = L1Store::new(L1Config {
            max_entry_size: Some(10),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        store.set("k", text("small", now, None, 0)).unwrap();
        let err = store
            .set("k", text("far too large", now, None, 0))
            .unwrap_err();
        assert_eq!(
            err,
            CoreError::EntryTooLarge {
                size: 14,
                limit: 10
            }
        );
        assert!(matches!(store.get("k", now), Lookup::Miss));
        assert_eq!(store.stats().rejected, 1);
    }

    #[test]
    fn zero_limits_are_invalid() {
        let err = L1Store::new(L1Config {
            max_items: Some(0),
            ..Default::default()
        })
        .err()
        .unwrap();
        assert!(matches!(err, CoreError::InvalidOption(m) if m.contains("maxItems")));
    }

    #[test]
    fn clear_prefix_leaves_other_namespaces() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("users:1", text("a", now, None, 0)).unwrap();
        store.set("posts:1", text("b", now, None, 0)).unwrap();
        store.clear_prefix("users:");
        assert!(matches!(store.get("users:1", now), Lookup::Miss));
        assert!(matches!(store.get("posts:1", now), Lookup::Fresh(_)));
    }

    #[test]
    fn slots_are_freed_when_entries_leave() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store
            .set("a", Entry::new(Value::Slot(1), now, None, 0, vec![]))
            .unwrap();
        store
            .set("a", Entry::new(Value::Slot(2), now, None, 0, vec![]))
            .unwrap();
        store
            .set("b", Entry::new(Value::Slot(3), now, None, 0, vec![]))
            .unwrap();
        store.delete("b");
        store.run_pending_tasks();
        let mut freed = store.take_freed_slots();
        freed.sort();
        assert_eq!(freed, vec![1, 3]);
    }

    #[test]
    fn expiring_a_slot_entry_keeps_its_slot() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store
            .set("a", Entry::new(Value::Slot(7), now, None, 60_000, vec![]))
            .unwrap();
        assert!(store.expire("a", now));
        store.run_pending_tasks();
        assert!(store.take_freed_slots().is_empty());
        assert!(matches!(store.get("a", now), Lookup::Stale(e) if e.value == Value::Slot(7)));
    }

    #[test]
    fn the_index_follows_the_policy_through_many_reads_and_writes() {
        let store = L1Store::new(L1Config {
            max_items: Some(50),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        for round in 0..20 {
            for i in 0..200 {
                store
                    .set(&format!("k{i}"), text("v", now, None, 0))
                    .unwrap();
                store.get(&format!("k{}", i % 10), now);
            }
            if round % 5 == 0 {
                store.run_pending_tasks();
            }
        }
        let s = store.stats();
        assert!(s.entries <= 50, "{} entries", s.entries);
        // The frequently read keys survive the stream of one-off writes.
        let kept = (0..10).filter(|i| store.has(&format!("k{i}"), now)).count();
        assert!(kept >= 8, "only {kept} of the 10 hot keys kept");
    }

    #[test]
    fn limits_hold_for_readers_without_waiting_for_maintenance() {
        let (store, now) = filled(20, 1_000);
        let readable = (0..1_000)
            .filter(|i| store.has(&format!("k{i}"), now))
            .count();
        assert!(readable <= 20, "{readable} keys readable");
    }

    #[test]
    fn bytes_stay_exact_through_overwrites_and_deletes() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("ab", text("xyz", now, None, 0)).unwrap();
        store.set("ab", text("x", now, None, 0)).unwrap();
        store.set("cd", text("12345", now, None, 0)).unwrap();
        assert_eq!(store.stats().bytes, 3 + 7);
        store.delete("cd");
        assert_eq!(store.stats().bytes, 3);
    }
}
