//! The in-memory (L1) store.
//!
//! Two structures hold the same entries:
//!
//! - the **index**, a plain hash map behind a read-write lock, answers every lookup
//!   (tens of nanoseconds);
//! - the **policy**, a [`WTinyLfu`], decides what to evict (W-TinyLFU, bounded by count or
//!   by bytes) and when entries physically expire. It learns about reads in batches, from a
//!   read buffer (`read_buffer.rs`), off the reader's thread, as Caffeine does; about
//!   writes at once.
//!
//! Every change to the entries is made to both under the index's write lock, with the
//! policy's lock taken inside it, so an entry the policy evicts or expires leaves the index
//! in the same step and the limits hold for readers at once. The replay thread takes the
//! policy's lock alone to apply reads (which never add entries), and the index's first
//! when it finds entries due to expire: the two locks are always taken in that order.

use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::Arc;

use parking_lot::{Mutex, RwLock};

use crate::clock::now_ms;
use crate::entry::{Entry, MAX_KEY_BYTES};
use crate::error::CoreError;
use crate::hashing::KeyHasher;
use crate::index::Index;
use crate::policy::{Cause, Removed, WTinyLfu};
use crate::read_buffer::{ReadBuffer, Replay};
use crate::slot_ledger::SlotLedger;
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
    Fresh(Entry),
    /// An entry past its ttl but within its grace period.
    Stale(Entry),
}

/// What a lookup found, borrowed from the store for the time of [`L1Store::get_with`].
#[derive(Debug, Clone, Copy)]
pub enum Found<'a> {
    /// Nothing, or an entry past its physical expiry.
    Miss,
    /// An entry within its ttl.
    Fresh(&'a Entry),
    /// An entry past its ttl but within its grace period.
    Stale(&'a Entry),
}

impl Found<'_> {
    /// The same outcome, holding a share of the entry.
    pub fn to_lookup(self) -> Lookup {
        match self {
            Found::Miss => Lookup::Miss,
            Found::Fresh(entry) => Lookup::Fresh(entry.clone()),
            Found::Stale(entry) => Lookup::Stale(entry.clone()),
        }
    }
}

/// How the policy weighs an entry, from the limits.
#[derive(Debug, Clone, Copy)]
enum Weigher {
    /// Each entry weighs 1 (`maxItems` alone, or no limit).
    One,
    /// An entry weighs its bytes (`maxSize`).
    Bytes,
    /// An entry weighs its bytes, and at least this (`maxSize / maxItems`, both limits).
    BytesAtLeast(u64),
}

impl Weigher {
    fn weigh(self, key: &str, entry: &Entry) -> u64 {
        match self {
            Weigher::One => 1,
            Weigher::Bytes => entry.weight(key),
            Weigher::BytesAtLeast(floor) => entry.weight(key).max(floor),
        }
    }
}

/// Until when a mirror of `entry` may answer at `now` (see [`L1Store::mirror`]): its expiry
/// or its eager-refresh time, whichever is first (`u64::MAX`: neither); `None` for a slot
/// value or an entry that is no longer fresh.
fn mirror_until(entry: &Entry, now: u64) -> Option<u64> {
    if entry.slot().is_some() || !entry.is_fresh(now) {
        return None;
    }
    let until = entry
        .logical_expires_at()
        .unwrap_or(u64::MAX)
        .min(entry.refresh_at().unwrap_or(u64::MAX));
    (until > now).then_some(until)
}

/// What the store's caller and its replay thread share.
struct Shared {
    index: RwLock<Index>,
    policy: Mutex<WTinyLfu<Entry>>,
    counters: L1Counters,
    slots: Mutex<SlotLedger>,
    /// Whether the host ever mirrored an entry ([`L1Store::mirror`]): until then, a text
    /// entry leaving the store need not look for its mirror.
    mirroring: AtomicBool,
    evictions: Mutex<EvictionLog>,
    reads: ReadBuffer,
}

impl Shared {
    /// Applies what left the policy to the index, the counters, the eviction log and the
    /// freed slots. The caller holds both locks.
    fn settle(&self, index: &mut Index, policy: &mut WTinyLfu<Entry>) {
        let mut log = None;
        let mut freed = None;
        for Removed { value, cause } in policy.take_removed() {
            let key = value.key();
            let reason = match cause {
                Cause::Size => {
                    L1Counters::bump(&self.counters.evictions);
                    Some(Eviction::Size)
                }
                Cause::Expired => {
                    L1Counters::bump(&self.counters.expirations);
                    Some(Eviction::Expired)
                }
                // The index already holds the newer value, or no longer holds the key.
                Cause::Replaced | Cause::Explicit => None,
            };
            // Only what readers lose is reported, not an older version of a key.
            let lost = reason.is_some_and(|reason| {
                let lost = index.remove_if_same(key, &value);
                if lost {
                    log.get_or_insert_with(|| self.evictions.lock())
                        .record(key, reason);
                }
                lost
            });
            if self.may_free_slot(&value) {
                let ledger = freed.get_or_insert_with(|| self.slots.lock());
                if ledger.entry_left(&value) && lost {
                    ledger.note_lost();
                }
            }
        }
    }

    /// Whether `entry`, leaving the store, may free a slot: its value's, or a mirror's.
    #[inline]
    fn may_free_slot(&self, entry: &Entry) -> bool {
        entry.slot().is_some() || self.mirroring.load(Relaxed)
    }

    /// Expires the entries due at `now`, in both structures.
    fn expire(&self, now: u64) {
        let mut index = self.index.write();
        let mut policy = self.policy.lock();
        policy.expire(now);
        self.settle(&mut index, &mut policy);
    }

    /// Whether some entry may be due to expire at `now` (a cheap check).
    fn expiry_due(&self, now: u64) -> bool {
        self.policy
            .lock()
            .next_deadline()
            .is_some_and(|at| at <= now)
    }
}

impl Replay for Shared {
    fn replay_queued(&self) {
        let next_deadline = {
            let mut policy = self.policy.lock();
            self.reads
                .drain_queued(|hash| policy.record_read_hash(hash));
            policy.next_deadline()
        };
        let now = now_ms();
        if next_deadline.is_some_and(|at| at <= now) {
            self.expire(now);
        }
    }
}

/// An in-memory cache tier.
pub struct L1Store {
    shared: Arc<Shared>,
    /// Whether the policy evicts, and so wants to hear of reads.
    bounded: bool,
    weigher: Weigher,
    max_entry_size: Option<u64>,
    /// The limits the store was built with.
    config: L1Config,
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
        let (capacity, weigher) = match (config.max_items, config.max_size) {
            (Some(items), None) => (Some(items), Weigher::One),
            (None, Some(bytes)) => (Some(bytes), Weigher::Bytes),
            (Some(items), Some(bytes)) => {
                (Some(bytes), Weigher::BytesAtLeast(bytes.div_ceil(items)))
            }
            (None, None) => (None, Weigher::One),
        };
        // One seed for both: a read hashes its key once, for the index and the policy.
        let hasher = KeyHasher::default();
        let policy = WTinyLfu::with_hasher(capacity, config.max_items, hasher.clone());
        Ok(L1Store {
            shared: Arc::new(Shared {
                index: RwLock::new(Index::with_hasher(hasher)),
                policy: Mutex::new(policy),
                counters: L1Counters::default(),
                slots: Mutex::new(SlotLedger::default()),
                mirroring: AtomicBool::new(false),
                evictions: Mutex::new(EvictionLog::default()),
                reads: ReadBuffer::new(),
            }),
            bounded: capacity.is_some(),
            weigher,
            max_entry_size: config.max_entry_size,
            config,
        })
    }

    /// The limits the store was built with.
    pub fn config(&self) -> L1Config {
        self.config
    }

    /// Looks `key` up at time `now` (ms since the epoch) and counts the outcome.
    ///
    /// A hit is recorded for the policy, which learns of it later, off this thread. A miss
    /// is not: the write that usually follows it counts as the key's use.
    #[inline]
    pub fn get(&self, key: &str, now: u64) -> Lookup {
        self.get_with(key, now, |found| found.to_lookup())
    }

    /// As [`Self::get`], handing `read` what was found while the index is still locked for
    /// reading, rather than a share of the entry: the hot path copies the value out in
    /// place, without the two atomic reference-count updates of a share. `read` must be
    /// short and must not call back into this store.
    ///
    /// ```
    /// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, store::{Found, L1Config, L1Store}};
    /// let store = L1Store::new(L1Config::default()).unwrap();
    /// let now = now_ms();
    /// store.set("k", Entry::new(Value::text("v"), now, None, 0, vec![])).unwrap();
    /// let len = store.get_with("k", now, |found| match found {
    ///     Found::Fresh(entry) => entry.value().weight(),
    ///     _ => 0,
    /// });
    /// assert_eq!(len, 1);
    /// ```
    #[inline]
    pub fn get_with<R>(&self, key: &str, now: u64, read: impl FnOnce(Found<'_>) -> R) -> R {
        let index = self.shared.index.read();
        let hash = index.hash(key);
        let (out, hit) = match index.get_hashed(key, hash) {
            Some(entry) if entry.is_alive(now) => {
                if entry.is_fresh(now) {
                    L1Counters::bump(&self.shared.counters.hits);
                    (read(Found::Fresh(entry)), true)
                } else {
                    L1Counters::bump(&self.shared.counters.stale_hits);
                    (read(Found::Stale(entry)), true)
                }
            }
            _ => {
                L1Counters::bump(&self.shared.counters.misses);
                (read(Found::Miss), false)
            }
        };
        drop(index);
        if hit && self.bounded && self.shared.reads.record(hash, &self.shared) {
            L1Counters::bump(&self.shared.counters.dropped_reads);
        }
        out
    }

    /// The entry under `key` if it is still alive at `now`, without counting a lookup.
    pub fn peek(&self, key: &str, now: u64) -> Option<Entry> {
        self.shared
            .index
            .read()
            .get(key)
            .filter(|entry| entry.is_alive(now))
            .cloned()
    }

    /// Stores `entry` under `key`, replacing what was there.
    ///
    /// Fails with [`CoreError::EntryTooLarge`] when the entry exceeds `maxEntrySize`, or
    /// its key [`MAX_KEY_BYTES`]; the previous entry under `key`, if any, is then removed,
    /// so that a read never returns a value older than the one the caller tried to write.
    pub fn set(&self, key: &str, entry: Entry) -> Result<(), CoreError> {
        if let Some(limit) = self.max_entry_size {
            let size = entry.weight(key);
            if size > limit {
                L1Counters::bump(&self.shared.counters.rejected);
                self.delete(key);
                if let Some(slot) = entry.slot() {
                    self.shared.slots.lock().free(slot);
                }
                return Err(CoreError::EntryTooLarge { size, limit });
            }
        }
        let weight = self.weigher.weigh(key, &entry);
        let now = entry.created_at();
        let slot = entry.slot();
        let Some(entry) = entry.filed_under(key) else {
            // A key past MAX_KEY_BYTES: never stored, so nothing older is under it.
            L1Counters::bump(&self.shared.counters.rejected);
            if let Some(slot) = slot {
                self.shared.slots.lock().free(slot);
            }
            let (size, limit) = (key.len() as u64, MAX_KEY_BYTES as u64);
            return Err(CoreError::EntryTooLarge { size, limit });
        };
        L1Counters::bump(&self.shared.counters.writes);
        let mut index = self.shared.index.write();
        if let Some(slot) = slot {
            self.shared.slots.lock().file(slot, index.hash(key));
        }
        index.insert(entry.clone());
        let mut policy = self.shared.policy.lock();
        // The policy hears of the reads not yet replayed before this write, so that it
        // sees requests in the order they came (what it decides depends on it: a hit
        // counted late can cost a key its place).
        self.shared
            .reads
            .drain(|hash| policy.record_read_hash(hash));
        policy.insert(entry, weight);
        if policy.next_deadline().is_some_and(|at| at <= now) {
            policy.expire(now);
        }
        self.shared.settle(&mut index, &mut policy);
        Ok(())
    }

    /// Whether an entry, fresh or stale, exists under `key` at `now`.
    pub fn has(&self, key: &str, now: u64) -> bool {
        self.peek(key, now).is_some()
    }

    /// Removes the entry under `key`; tells whether there was one.
    pub fn delete(&self, key: &str) -> bool {
        let removed = {
            let mut index = self.shared.index.write();
            let removed = index.remove(key);
            self.shared.policy.lock().remove(key);
            removed
        };
        match removed {
            Some(entry) => {
                if self.shared.may_free_slot(&entry) {
                    self.shared.slots.lock().entry_left(&entry);
                }
                true
            }
            None => false,
        }
    }

    /// Turns the entry under `key` stale at `now`, keeping it for grace; tells whether
    /// there was one.
    pub fn expire(&self, key: &str, now: u64) -> bool {
        self.expire_entry(key, now).is_some()
    }

    /// Turns the entry under `key` stale at `now`, if alive; returns it.
    fn expire_entry(&self, key: &str, now: u64) -> Option<Entry> {
        let entry = self.peek(key, now)?;
        entry.expire(now);
        Some(entry)
    }

    /// Removes every entry carrying any of `tags`; returns how many were removed.
    pub fn delete_tagged(&self, tags: &[&str]) -> usize {
        let keys = self.shared.index.read().tagged(tags);
        keys.iter().filter(|key| self.delete(key)).count()
    }

    /// Turns every entry carrying any of `tags` stale at `now`, keeping it for grace;
    /// returns how many there were.
    pub fn expire_tagged(&self, tags: &[&str], now: u64) -> usize {
        self.expire_tagged_with(tags, now, |_| {})
    }

    /// As [`Self::expire_tagged`], handing each entry it turns stale to `expired` (a host
    /// answering reads from its slots learns which slots to stop answering for).
    ///
    /// ```
    /// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, store::{L1Config, L1Store}};
    /// let store = L1Store::new(L1Config::default()).unwrap();
    /// let now = now_ms();
    /// store.set("a", Entry::new(Value::Slot(4), now, None, 1_000, vec!["t".into()])).unwrap();
    /// store.set("b", Entry::new(Value::Slot(5), now, None, 1_000, vec![])).unwrap();
    /// let mut slots = Vec::new();
    /// store.expire_tagged_with(&["t"], now, |entry| slots.push(entry.slot()));
    /// assert_eq!(slots, vec![Some(4)]);
    /// ```
    pub fn expire_tagged_with(
        &self,
        tags: &[&str],
        now: u64,
        mut expired: impl FnMut(&Entry),
    ) -> usize {
        let keys = self.shared.index.read().tagged(tags);
        let mut count = 0;
        for entry in keys.iter().filter_map(|key| self.expire_entry(key, now)) {
            expired(&entry);
            count += 1;
        }
        count
    }

    /// Removes every entry.
    pub fn clear(&self) {
        let mut index = self.shared.index.write();
        index.clear();
        let mut policy = self.shared.policy.lock();
        policy.clear();
        self.shared.settle(&mut index, &mut policy);
    }

    /// Removes every entry whose key starts with `prefix` (a namespace's entries).
    pub fn clear_prefix(&self, prefix: &str) {
        let mut index = self.shared.index.write();
        index.retain(|key, _| !key.starts_with(prefix));
        let mut policy = self.shared.policy.lock();
        policy.retain(|key| !key.starts_with(prefix));
        self.shared.settle(&mut index, &mut policy);
    }

    /// Starts (or stops) keeping the keys the policy evicts or expires, for
    /// [`Self::take_evictions`]. Off by default: a store nobody asks costs nothing.
    pub fn report_evictions(&self, on: bool) {
        let mut log = self.shared.evictions.lock();
        log.enabled = on;
        if !on {
            log.evicted.clear();
        }
    }

    /// The keys evicted (over a limit) or expired (past ttl and grace) since the last call,
    /// oldest first, and how many were not kept because the log was full. Entries due to
    /// expire are expired first, so a caller polling this hears of them on time.
    pub fn take_evictions(&self) -> (Vec<(Arc<str>, Eviction)>, u64) {
        let now = now_ms();
        if self.shared.expiry_due(now) {
            self.shared.expire(now);
        }
        let mut log = self.shared.evictions.lock();
        (
            std::mem::take(&mut log.evicted),
            std::mem::take(&mut log.dropped),
        )
    }

    /// Slots of `serialize: false` values whose entries have left the store since the
    /// last call; the host may release and reuse them.
    pub fn take_freed_slots(&self) -> Vec<u32> {
        self.shared.slots.lock().take_freed()
    }

    /// How many of the slots waiting for [`Self::take_freed_slots`] held a key the store
    /// no longer has (evicted or expired, not replaced by a newer value): a host that
    /// answers reads from its slots must take those before its next read.
    pub fn lost_slot_count(&self) -> usize {
        self.shared.slots.lock().lost_len()
    }

    /// Lends `slot` to the host as the mirror of the fresh text entry under `key`: the host
    /// keeps that entry's decoded value there and may answer its hits itself, reporting them
    /// with [`Self::record_slot_hits`], until the returned time (ms since the epoch;
    /// `u64::MAX`: no end), the entry's expiry or its eager-refresh time, whichever is
    /// first. The slot is freed (see [`Self::take_freed_slots`]) when that entry leaves
    /// the store, replaced, deleted, evicted or expired; a later entry under the same key
    /// is not mirrored until the host asks again.
    ///
    /// `None` (nothing lent) when the key holds no fresh text entry.
    ///
    /// ```
    /// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, store::{L1Config, L1Store}};
    /// let store = L1Store::new(L1Config::default()).unwrap();
    /// let now = now_ms();
    /// store.set("a", Entry::new(Value::text("{}"), now, Some(60_000), 0, vec![])).unwrap();
    /// assert_eq!(store.mirror("a", 3, now), Some(now + 60_000));
    /// assert_eq!(store.mirror("b", 4, now), None);
    /// store.delete("a");
    /// assert_eq!(store.take_freed_slots(), vec![3]);
    /// ```
    pub fn mirror(&self, key: &str, slot: u32, now: u64) -> Option<u64> {
        // The index stays read-locked until the ledger files the mirror: an entry cannot
        // leave (which takes the index's write lock) between being found and mirrored.
        let index = self.shared.index.read();
        let hash = index.hash(key);
        let entry = index.get_hashed(key, hash)?;
        let until = mirror_until(entry, now)?;
        self.shared.mirroring.store(true, Relaxed);
        let mut ledger = self.shared.slots.lock();
        if let Some(old) = ledger.mirror(entry.clone(), slot, hash) {
            ledger.free(old);
        }
        Some(until)
    }

    /// As [`Self::mirror`], for a host with no slot free: lends it `slot`, which mirrors
    /// another entry now, if that entry is no longer fresh or `key` was used more often
    /// lately than that entry's key (the policy's frequency estimate: the same admission
    /// that decides what the store keeps, so that a scan of one-off keys does not wipe the
    /// mirrors of the hot ones). The other entry's mirror then ends, without freeing the
    /// slot. `None` (nothing changed) when `key` holds no fresh text entry, when `slot`
    /// mirrors nothing (its entry left: the slot waits among the freed ones), or when
    /// `key` is not the more frequent.
    ///
    /// ```
    /// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, store::{L1Config, L1Store}};
    /// let store = L1Store::new(L1Config { max_items: Some(100), ..Default::default() }).unwrap();
    /// let now = now_ms();
    /// for key in ["cold", "hot"] {
    ///     store.set(key, Entry::new(Value::text("1"), now, None, 0, vec![])).unwrap();
    /// }
    /// assert_eq!(store.mirror("cold", 0, now), Some(u64::MAX));
    /// for _ in 0..5 {
    ///     store.get("hot", now);
    /// }
    /// store.run_pending_tasks();
    /// assert_eq!(store.remirror("hot", 0, now), Some(u64::MAX));
    /// assert_eq!(store.remirror("cold", 0, now), None);
    /// ```
    pub fn remirror(&self, key: &str, slot: u32, now: u64) -> Option<u64> {
        let index = self.shared.index.read();
        let hash = index.hash(key);
        let entry = index.get_hashed(key, hash)?;
        let until = mirror_until(entry, now)?;
        // The ledger and the policy are locked one after the other, never together (the
        // replay thread takes them in another order); the index's read lock keeps both
        // entries in the store meanwhile, so the slot still mirrors the same one after.
        let victim = self.shared.slots.lock().mirrored_in(slot)?.clone();
        if self.bounded && victim.is_fresh(now) {
            let policy = self.shared.policy.lock();
            if policy.frequency(key) <= policy.frequency(victim.key()) {
                return None;
            }
        }
        let mut ledger = self.shared.slots.lock();
        ledger.end_mirror_in(slot);
        if let Some(old) = ledger.mirror(entry.clone(), slot, hash) {
            ledger.free(old);
        }
        Some(until)
    }

    /// The slot mirroring `entry` (see [`Self::mirror`]), if one does.
    pub fn mirror_of(&self, entry: &Entry) -> Option<u32> {
        if !self.shared.mirroring.load(Relaxed) {
            return None;
        }
        self.shared.slots.lock().mirror_of(entry)
    }

    /// Counts fresh hits the host answered itself, from the values it keeps by slot, and
    /// tells the policy of them as reads of the keys those slots were filed under. The
    /// host must report a slot's hits before it reuses the slot for another key.
    ///
    /// ```
    /// use rustocache_core::{clock::now_ms, entry::{Entry, Value}, store::{L1Config, L1Store}};
    /// let store = L1Store::new(L1Config { max_items: Some(10), ..Default::default() }).unwrap();
    /// store.set("a", Entry::new(Value::Slot(0), now_ms(), None, 0, vec![])).unwrap();
    /// store.record_slot_hits(&[0, 0, 0]);
    /// assert_eq!(store.stats().hits, 3);
    /// ```
    pub fn record_slot_hits(&self, slots: &[u32]) {
        self.shared
            .counters
            .hits
            .fetch_add(slots.len() as u64, Relaxed);
        if !self.bounded {
            return;
        }
        // The ledger stays locked while its hashes are copied into the read buffer (the
        // replay thread never takes the ledger's lock, so the two cannot deadlock).
        let ledger = self.shared.slots.lock();
        let hashes = slots.iter().filter_map(|&slot| ledger.hash_of(slot));
        let dropped = self.shared.reads.record_all(hashes, &self.shared);
        drop(ledger);
        if dropped > 0 {
            self.shared
                .counters
                .dropped_reads
                .fetch_add(dropped, Relaxed);
        }
    }

    /// Replays pending reads and expires the entries due now, rather than in the
    /// background; counts and sizes are exact afterwards.
    pub fn run_pending_tasks(&self) {
        let mut index = self.shared.index.write();
        let mut policy = self.shared.policy.lock();
        self.shared
            .reads
            .drain(|hash| policy.record_read_hash(hash));
        policy.expire(now_ms());
        self.shared.settle(&mut index, &mut policy);
    }

    /// A reading of the counters, after applying pending reads and expiries.
    pub fn stats(&self) -> L1Stats {
        self.run_pending_tasks();
        let index = self.shared.index.read();
        self.shared.counters.read(index.len(), index.bytes())
    }
}

/// Why an entry left the store without being deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Eviction {
    /// Evicted to stay within `max_items` / `max_size`.
    Size,
    /// Past its ttl and grace.
    Expired,
}

/// Most evictions kept between two [`L1Store::take_evictions`]; more are only counted.
const MAX_LOGGED_EVICTIONS: usize = 10_000;

#[derive(Default)]
struct EvictionLog {
    enabled: bool,
    evicted: Vec<(Arc<str>, Eviction)>,
    dropped: u64,
}

impl EvictionLog {
    fn record(&mut self, key: &str, reason: Eviction) {
        if !self.enabled {
            return;
        }
        if self.evicted.len() < MAX_LOGGED_EVICTIONS {
            self.evicted.push((Arc::from(key), reason));
        } else {
            self.dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Value;

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
        assert!(matches!(store.get("a", now), Lookup::Stale(e) if e.slot() == Some(7)));
    }

    #[test]
    fn a_mirror_slot_is_freed_when_its_entry_leaves_however_it_leaves() {
        let store = L1Store::new(L1Config {
            max_items: Some(2),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        let text = |s: &str| Entry::new(Value::text(s), now, Some(60_000), 0, vec![]);
        store.set("a", text("1")).unwrap();
        store.set("b", text("2")).unwrap();
        assert_eq!(store.mirror("a", 0, now), Some(now + 60_000));
        assert_eq!(store.mirror("b", 1, now), Some(now + 60_000));
        // Replaced: the slot is freed, but nothing was lost.
        store.set("a", text("3")).unwrap();
        assert_eq!(store.lost_slot_count(), 0);
        assert_eq!(store.take_freed_slots(), vec![0]);
        // The new entry is not mirrored until asked; once it is, a delete frees the slot.
        store.delete("a");
        assert!(store.take_freed_slots().is_empty());
        store.set("a", text("3")).unwrap();
        assert_eq!(store.mirror("a", 0, now), Some(now + 60_000));
        store.delete("a");
        assert_eq!(store.take_freed_slots(), vec![0]);
        // Evicted by a write over the limit: freed and counted as lost.
        let mut writes = 0;
        while store.peek("b", now).is_some() {
            assert!(writes < 1_000, "b never evicted");
            let key = format!("k{writes}");
            store.set(&key, text("4")).unwrap();
            for _ in 0..3 {
                store.get(&key, now);
            }
            store.run_pending_tasks();
            writes += 1;
        }
        assert_eq!(store.lost_slot_count(), 1);
        assert_eq!(store.take_freed_slots(), vec![1]);
    }

    #[test]
    fn a_mirror_ends_at_the_refresh_time_and_needs_a_fresh_text_entry() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        let entry = Entry::new(Value::text("1"), now, Some(60_000), 0, vec![]);
        store.set("a", entry.refreshed_after(1_000)).unwrap();
        assert_eq!(store.mirror("a", 0, now), Some(now + 1_000));
        store
            .set("s", Entry::new(Value::Slot(9), now, None, 0, vec![]))
            .unwrap();
        assert_eq!(store.mirror("s", 1, now), None);
        store.expire("a", now);
        assert_eq!(store.mirror("a", 2, now), None);
        // Lent to another entry: not freed when the first one leaves, but with the second.
        store
            .set(
                "g",
                Entry::new(Value::text("5"), now, Some(60_000), 0, vec![]),
            )
            .unwrap();
        store
            .set(
                "h",
                Entry::new(Value::text("6"), now, Some(60_000), 0, vec![]),
            )
            .unwrap();
        assert_eq!(store.mirror("g", 2, now), Some(now + 60_000));
        store.expire("g", now);
        assert_eq!(store.remirror("h", 2, now), Some(now + 60_000));
        store.delete("g");
        assert!(store.take_freed_slots().is_empty());
        store.delete("h");
        assert_eq!(store.take_freed_slots(), vec![2]);
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
    fn reads_still_queued_reach_the_policy_before_the_next_write() {
        let (store, now) = filled(100, 100);
        // Thousands of reads of ten keys: batches queued for the replay thread, and some
        // still in the current buffer, when the writes below come at once.
        for _ in 0..600 {
            for i in 0..10 {
                assert!(matches!(store.get(&format!("k{i}"), now), Lookup::Fresh(_)));
            }
        }
        for i in 100..400 {
            store
                .set(&format!("k{i}"), text("v", now, None, 0))
                .unwrap();
        }
        let kept = (0..10).filter(|i| store.has(&format!("k{i}"), now)).count();
        assert!(kept >= 9, "only {kept} of the 10 read keys kept");
    }

    #[test]
    fn hits_reported_by_slot_count_and_reach_the_policy() {
        let store = L1Store::new(L1Config {
            max_items: Some(100),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        for slot in 0..100u32 {
            let entry = Entry::new(Value::Slot(slot), now, None, 0, vec![]);
            store.set(&format!("k{slot}"), entry).unwrap();
        }
        // Reports of ten keys' slots, spanning several batches of the read buffer.
        let reads: Vec<u32> = (0..1_300).map(|n| n % 10).collect();
        store.record_slot_hits(&reads[..700]);
        store.record_slot_hits(&reads[700..]);
        assert_eq!(store.stats().hits, 1_300);
        for slot in 100..400u32 {
            let entry = Entry::new(Value::Slot(slot), now, None, 0, vec![]);
            store.set(&format!("k{slot}"), entry).unwrap();
        }
        let kept = (0..10).filter(|i| store.has(&format!("k{i}"), now)).count();
        assert!(kept >= 9, "only {kept} of the 10 read keys kept");
    }

    #[test]
    fn an_idle_replay_thread_wakes_for_new_reads() {
        let (store, now) = filled(100, 100);
        // A first batch starts the replay thread (if no other test has); then long enough
        // for it to stop polling and sleep until woken.
        for _ in 0..512 {
            store.get("k1", now);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        // More batches than a store may queue: were the thread not woken, the reads past
        // that would be dropped. Paced, so that a thread that is awake keeps up.
        for batch in 0..100 {
            for _ in 0..512 {
                store.get("k1", now);
            }
            if batch % 4 == 3 {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        assert_eq!(store.stats().dropped_reads, 0);
    }

    #[test]
    fn limits_hold_for_readers_without_waiting_for_maintenance() {
        let (store, now) = filled(20, 1_000);
        let readable = (0..1_000)
            .filter(|i| store.has(&format!("k{i}"), now))
            .count();
        assert!(readable <= 20, "{readable} keys readable");
    }

    fn tagged(s: &str, now: u64, tags: &[&str]) -> Entry {
        let tags = tags.iter().map(|t| t.to_string()).collect();
        Entry::new(Value::text(s), now, None, 60_000, tags)
    }

    #[test]
    fn delete_tagged_removes_exactly_the_entries_under_a_tag() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("a", tagged("1", now, &["x", "y"])).unwrap();
        store.set("b", tagged("2", now, &["y"])).unwrap();
        store.set("c", tagged("3", now, &["z"])).unwrap();
        store.set("d", tagged("4", now, &[])).unwrap();
        // Rewritten without the tag: no longer under it.
        store.set("e", tagged("5", now, &["y"])).unwrap();
        store.set("e", tagged("6", now, &["z"])).unwrap();
        assert_eq!(store.delete_tagged(&["y", "absent"]), 2);
        let alive: Vec<_> = ["a", "b", "c", "d", "e"]
            .into_iter()
            .filter(|k| store.has(k, now))
            .collect();
        assert_eq!(alive, ["c", "d", "e"]);
        assert_eq!(store.delete_tagged(&["x", "y"]), 0);
        store.delete("c");
        assert_eq!(store.delete_tagged(&["z"]), 1);
    }

    #[test]
    fn expire_tagged_keeps_entries_for_grace() {
        let store = L1Store::new(L1Config::default()).unwrap();
        let now = now_ms();
        store.set("a", tagged("1", now, &["x"])).unwrap();
        store.set("b", tagged("2", now, &["w"])).unwrap();
        assert_eq!(store.expire_tagged(&["x"], now), 1);
        assert!(matches!(store.get("a", now), Lookup::Stale(_)));
        assert!(matches!(store.get("b", now), Lookup::Fresh(_)));
    }

    #[test]
    fn tags_follow_evictions_and_clears() {
        let (store, now) = filled(10, 0);
        for i in 0..200 {
            store
                .set(&format!("k{i}"), tagged("v", now, &["t"]))
                .unwrap();
        }
        store.run_pending_tasks();
        let held = store.stats().entries as usize;
        assert_eq!(store.delete_tagged(&["t"]), held);
        store.set("p:1", tagged("v", now, &["t"])).unwrap();
        store.set("q:1", tagged("v", now, &["t"])).unwrap();
        store.clear_prefix("p:");
        assert_eq!(store.delete_tagged(&["t"]), 1);
        store.set("r", tagged("v", now, &["t"])).unwrap();
        store.clear();
        assert_eq!(store.delete_tagged(&["t"]), 0);
    }

    #[test]
    fn evictions_are_reported_only_when_asked() {
        let store = L1Store::new(L1Config {
            max_items: Some(10),
            ..Default::default()
        })
        .unwrap();
        let now = now_ms();
        for i in 0..20 {
            store
                .set(&format!("quiet{i}"), text("v", now, None, 0))
                .unwrap();
        }
        store.run_pending_tasks();
        assert!(store.take_evictions().0.is_empty());
        store.report_evictions(true);
        for i in 0..40 {
            store
                .set(&format!("k{i}"), text("v", now, None, 0))
                .unwrap();
        }
        store.run_pending_tasks();
        let (evicted, dropped) = store.take_evictions();
        assert_eq!(dropped, 0);
        assert!(evicted.len() >= 30, "{} evictions", evicted.len());
        assert!(evicted
            .iter()
            .all(|(key, why)| *why == Eviction::Size && !store.has(key, now)));
        // Deletes are not evictions.
        let present = (0..40)
            .flat_map(|i| [format!("k{i}"), format!("quiet{i}")])
            .find(|k| store.has(k, now))
            .unwrap();
        store.delete(&present);
        store.run_pending_tasks();
        assert!(store.take_evictions().0.is_empty());
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
