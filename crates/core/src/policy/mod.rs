//! The L1's eviction policy: W-TinyLFU with an adaptive window, and per-entry expiry.
//!
//! The design is W-TinyLFU (Einziger, Friedman, Manes, "TinyLFU: A Highly Efficient Cache
//! Admission Policy", ACM Transactions on Storage, 2017) as Caffeine runs it:
//!
//! - every new entry enters a small LRU **window** (1 % of the capacity at first);
//! - the rest of the capacity is the **main region**, a segmented LRU: entries enter it on
//!   *probation* and move to the *protected* segment (80 % of the main region) when used
//!   again, whence the least recently used fall back to probation;
//! - when the window overflows, its least recently used entry is a *candidate* for the
//!   main region; if the cache is full, it competes with the main region's least recently
//!   used entry (the *victim*), and the [frequency sketch](frequency_sketch) decides which
//!   of the two stays: the one asked for more often;
//! - the window's size adapts: the policy remembers (by hash) the last few candidates it
//!   refused and the last few victims it evicted; a miss on a refused candidate means a
//!   larger window would have hit, and grows it by that entry's weight; a miss on an
//!   evicted victim means a larger main region would have, and shrinks the window. So
//!   the policy leans to recency (a large window) or to frequency (a small one) as the
//!   workload asks, entry by entry. (Caffeine climbs on sampled hit rates instead; on
//!   recency-heavy traces here that climbed too slowly and too noisily to match LRU.)
//!
//! The window keeps TinyLFU from refusing every new key in a burst (its frequency is still
//! low); the main region keeps the one-time keys of a scan from flushing what is popular.
//!
//! Entries are weighed by the caller (1 each under `maxItems`, bytes under `maxSize`), and
//! may carry an expiry; [`WTinyLfu::expire`] removes those due. The policy never looks at
//! a value: it is generic over what it holds, and it is not thread-safe (the store runs it
//! behind a lock, off the read path).

mod access_order;
mod deadlines;
pub mod frequency_sketch;
mod ghosts;

use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::HashTable;

use crate::hashing::KeyHasher;
use access_order::{filed_hash, Arena, Deque, Node, Region};
use deadlines::Deadlines;
use frequency_sketch::FrequencySketch;
use ghosts::Ghosts;

/// The window's share of the capacity before it adapts, in percent.
const WINDOW_PERCENT: u128 = 1;
/// The protected segment's share of the main region, in percent.
const PROTECTED_PERCENT: u128 = 80;
/// A candidate at least this frequent, yet not more than its victim, is still admitted
/// once in 128 times: an attacker who floods the victim's counters (hash collisions)
/// cannot keep every newcomer out.
const FLOODING_FLOOR: u8 = 6;
/// Most entries moved between the window and the main region by one resizing step, so
/// that one step costs a bounded time.
const TRANSFER_LIMIT: usize = 1_000;
/// How many refused candidates and evicted victims are remembered, in percent of the
/// entries held: the size change whose worth the policy measures.
const GHOST_PERCENT: usize = 5;
/// The sketch's starting size, in keys, when the capacity in entries is not known.
const INITIAL_SKETCH_KEYS: usize = 64;

/// Why an entry left the policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// Evicted to keep the total weight within the capacity.
    Size,
    /// Past its expiry.
    Expired,
    /// Replaced by a newer value under the same key.
    Replaced,
    /// Removed by the caller ([`WTinyLfu::remove`], [`WTinyLfu::retain`], [`WTinyLfu::clear`]).
    Explicit,
}

/// What the policy holds: a value that knows the key it is filed under, and when it
/// expires. The policy keeps neither of its own (a node is 24 bytes smaller, and a write
/// shares no key with it).
pub trait Keyed {
    /// The key the value is filed under; it must not change while the policy holds it.
    fn key(&self) -> &str;

    /// When the value expires, in the clock given to [`WTinyLfu::expire`] (ms); `None`
    /// (the default) never. It must not change while the policy holds the value.
    fn expires_at(&self) -> Option<u64> {
        None
    }
}

/// A key and a value that never expires.
impl<T> Keyed for (Arc<str>, T) {
    fn key(&self) -> &str {
        &self.0
    }
}

/// A key, a value, and when it expires.
impl<T> Keyed for (Arc<str>, T, Option<u64>) {
    fn key(&self) -> &str {
        &self.0
    }

    fn expires_at(&self) -> Option<u64> {
        self.2
    }
}

/// A key alone, when nothing else is held.
impl Keyed for Arc<str> {
    fn key(&self) -> &str {
        self
    }
}

/// An entry that left the policy, returned by [`WTinyLfu::take_removed`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Removed<V> {
    /// Its value (and through it, its key).
    pub value: V,
    /// Why it left.
    pub cause: Cause,
}

/// A W-TinyLFU eviction policy holding values of type `V`, each filed under the key it
/// gives ([`Keyed`]).
///
/// ```
/// use std::sync::Arc;
/// use rustocache_core::policy::{Cause, WTinyLfu};
///
/// // Room for 100 entries of weight 1, each a key and a number.
/// let mut policy = WTinyLfu::new(Some(100), Some(100));
/// for round in 0..5 {
///     for hot in 0..50 {
///         policy.insert((Arc::from(format!("hot{hot}")), hot), 1);
///     }
/// }
/// // A scan of one-time keys twice the capacity.
/// for cold in 0..200 {
///     policy.insert((Arc::from(format!("cold{cold}")), cold), 1);
/// }
/// let evicted = policy.take_removed().filter(|r| r.cause == Cause::Size).count();
/// assert_eq!(policy.len(), 100);
/// assert_eq!(evicted, 150);
/// // The scan did not flush the keys used many times (LRU would keep none of them). Not
/// // all of them: the sketch's hash is seeded per process, and a one-time key whose counters
/// // all collide with hot keys' can look as frequent as they are.
/// let kept = (0..50).filter(|hot| policy.contains(&format!("hot{hot}"))).count();
/// assert!(kept >= 45, "kept {kept} of 50");
/// ```
pub struct WTinyLfu<V> {
    /// The slot of each entry, found by the key's hash (kept in the entry's node): a
    /// 4-byte bucket per entry rather than a key and a slot, and a read reported by hash
    /// alone (see [`Self::record_read_hash`]) needs no key.
    map: HashTable<u32>,
    hasher: KeyHasher,
    arena: Arena<V>,
    window: Deque,
    probation: Deque,
    protected: Deque,
    /// The total weight allowed; `None`: unbounded (nothing is evicted, and the access
    /// order is not kept).
    capacity: Option<u64>,
    window_maximum: u64,
    protected_maximum: u64,
    sketch: FrequencySketch,
    refused: Ghosts,
    evicted: Ghosts,
    deadlines: Deadlines,
    removed: Vec<Removed<V>>,
    /// The state of the generator behind the flooding guard's coin (xorshift).
    coin: u64,
}

impl<V: Keyed> WTinyLfu<V> {
    /// A policy holding at most `capacity` in total weight (`None`: no limit, only
    /// expiry). `max_entries`, the most entries it will hold if known, sizes the frequency
    /// sketch up front (pass the capacity when every entry weighs 1); otherwise the sketch
    /// grows with the entries, forgetting its counts at each doubling.
    pub fn new(capacity: Option<u64>, max_entries: Option<u64>) -> Self {
        Self::with_hasher(capacity, max_entries, KeyHasher::default())
    }

    /// As [`Self::new`], hashing keys with `hasher`: a caller that hashes keys with a clone
    /// of it can report reads by hash ([`Self::record_read_hash`]).
    pub fn with_hasher(capacity: Option<u64>, max_entries: Option<u64>, hasher: KeyHasher) -> Self {
        let total = capacity.unwrap_or(0);
        let window_maximum = total - share(total, 100 - WINDOW_PERCENT);
        let sketch_keys = match (capacity, max_entries) {
            (Some(_), Some(entries)) => entries.min(usize::MAX as u64) as usize,
            _ => INITIAL_SKETCH_KEYS,
        };
        WTinyLfu {
            map: HashTable::new(),
            hasher,
            arena: Arena::default(),
            window: Deque::default(),
            probation: Deque::default(),
            protected: Deque::default(),
            capacity,
            window_maximum,
            protected_maximum: share(total - window_maximum, PROTECTED_PERCENT),
            sketch: FrequencySketch::with_capacity(sketch_keys),
            refused: Ghosts::default(),
            evicted: Ghosts::default(),
            deadlines: Deadlines::default(),
            removed: Vec::new(),
            coin: 0x853c_49e6_748f_ea9b,
        }
    }

    /// How many entries the policy holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether the policy holds no entry.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Whether the policy holds an entry under `key`.
    pub fn contains(&self, key: &str) -> bool {
        self.slot_of(key).is_some()
    }

    /// The total weight of the entries held.
    pub fn weighted_size(&self) -> u64 {
        self.window.weight + self.probation.weight + self.protected.weight
    }

    /// The total weight allowed, if bounded.
    pub fn capacity(&self) -> Option<u64> {
        self.capacity
    }

    /// The admission window's current maximum weight (it moves as the policy adapts).
    ///
    /// ```
    /// use rustocache_core::policy::WTinyLfu;
    /// use std::sync::Arc;
    /// assert_eq!(WTinyLfu::<Arc<str>>::new(Some(1_000), None).window_maximum(), 10);
    /// ```
    pub fn window_maximum(&self) -> u64 {
        self.window_maximum
    }

    /// The entries that left the policy since the last call, oldest first.
    pub fn take_removed(&mut self) -> std::vec::Drain<'_, Removed<V>> {
        self.removed.drain(..)
    }

    /// The hash the policy files `key` under: 29 bits of the key's hash as the policy's
    /// hasher gives it, spread over 64 (so that a node keeps it in 4 bytes).
    #[inline]
    pub fn hash(&self, key: &str) -> u64 {
        filed_hash(self.hasher.hash_one(key))
    }

    /// The slot of the entry under `key`.
    #[inline]
    fn slot_of(&self, key: &str) -> Option<u32> {
        let arena = &self.arena;
        self.map
            .find(self.hash(key), |&slot| arena.get(slot).value.key() == key)
            .copied()
    }

    /// The slot of the entry whose key's hash is `hash` (see [`Self::record_read_hash`]
    /// on two keys with one hash).
    #[inline]
    fn slot_of_hash(&self, hash: u64) -> Option<u32> {
        let arena = &self.arena;
        self.map
            .find(hash, |&slot| arena.get(slot).hash() == hash)
            .copied()
    }

    /// Takes the entry under `key` out of the map; returns its slot.
    fn unmap(&mut self, key: &str) -> Option<u32> {
        let hash = self.hash(key);
        let arena = &self.arena;
        let found = self
            .map
            .find_entry(hash, |&slot| arena.get(slot).value.key() == key);
        found.ok().map(|entry| entry.remove().0)
    }

    /// How often `key` was used lately, by the frequency sketch's estimate (0 to 15); what
    /// admission compares. Always 0 without a capacity (nothing is counted then).
    pub fn frequency(&self, key: &str) -> u8 {
        self.sketch.frequency(self.hash(key))
    }

    /// Learns that `key` was read (and found). Reads are what the sketch counts and what
    /// orders the regions; a key no longer held is still counted.
    pub fn record_read(&mut self, key: &str) {
        self.record_read_hash(self.hash(key));
    }

    /// As [`Self::record_read`], for the key whose hash is `hash`: as the policy's hasher
    /// gives it, or as [`Self::hash`] files it. Two held keys whose hashes agree in the 29
    /// bits the policy keeps (about 1,000 pairs among 1M keys) may share their reads: a
    /// misplaced recency, never a wrong value.
    pub fn record_read_hash(&mut self, hash: u64) {
        if self.capacity.is_none() {
            return;
        }
        let hash = filed_hash(hash);
        self.sketch.increment(hash);
        if let Some(slot) = self.slot_of_hash(hash) {
            self.on_access(slot);
        }
    }

    /// Stores `value` under its key, weighing `weight`, expiring when it says
    /// ([`Keyed::expires_at`]); then evicts down to the capacity. A write counts
    /// as a use of the key. The previous value under `key`, and whatever is evicted, are
    /// reported by [`Self::take_removed`].
    ///
    /// An entry heavier than the whole capacity is evicted at once. A weight past
    /// `u32::MAX` is held, and counted in [`Self::weighted_size`], as `u32::MAX`.
    pub fn insert(&mut self, value: V, weight: u64) {
        let expires_at = value.expires_at();
        let bounded = self.capacity.is_some();
        let hash = self.hash(value.key());
        if bounded {
            self.sketch.increment(hash);
        }
        let slot = match self.slot_of(value.key()) {
            Some(slot) => {
                self.update(slot, value, weight);
                slot
            }
            None => {
                let slot = self.arena.insert(Node::new(hash, value, weight));
                let arena = &self.arena;
                self.map
                    .insert_unique(hash, slot, |&slot| arena.get(slot).hash());
                self.window.push_back(&mut self.arena, slot);
                if bounded {
                    self.consult_ghosts(hash, weight);
                    self.sketch.ensure_capacity(self.map.len());
                }
                slot
            }
        };
        if let Some(at) = expires_at {
            self.push_deadline(at, slot);
        }
        if self.capacity.is_some_and(|capacity| weight > capacity) {
            self.evict(slot, Cause::Size);
        }
        self.evict_to_capacity();
        if self.deadlines.needs_rebuild(self.map.len()) {
            self.deadlines.rebuild(self.arena.deadlines());
        }
    }

    /// Files deadline `at` for the entry in `slot`, rebuilding the heap around a new base
    /// if it does not fit the current one.
    fn push_deadline(&mut self, at: u64, slot: u32) {
        if !self.deadlines.push(at, slot) {
            self.deadlines.rebuild(self.arena.deadlines());
        }
    }

    /// Rewrites the entry in `slot` in place, as a use of it.
    fn update(&mut self, slot: u32, value: V, weight: u64) {
        let node = self.arena.get_mut(slot);
        let old_weight = node.set_weight(weight);
        let weight = node.weight();
        let old = std::mem::replace(&mut node.value, value);
        let region = node.region();
        let deque = self.deque(region);
        deque.weight = deque.weight - old_weight + weight;
        self.removed.push(Removed {
            value: old,
            cause: Cause::Replaced,
        });
        self.on_access(slot);
    }

    /// Removes the entry under `key`; returns its value.
    pub fn remove(&mut self, key: &str) -> Option<V> {
        let slot = self.unmap(key)?;
        Some(self.unlink_and_free(slot).value)
    }

    /// Removes the entries whose deadline is at or before `now`, as [`Cause::Expired`].
    pub fn expire(&mut self, now: u64) {
        // Entries whose deadline came out early (held as the latest that fit): pushed
        // again once every due one is out, so that the loop ends.
        let mut early = Vec::new();
        while let Some(due) = self.deadlines.pop_due(now) {
            let Some(node) = self.arena.try_get(due.slot) else {
                continue;
            };
            match node.value.expires_at() {
                Some(at) if at <= now => self.evict(due.slot, Cause::Expired),
                Some(at) if due.clamped => early.push((at, due.slot)),
                // A deadline the entry no longer has (or another entry's): the entry's
                // own is in the heap too.
                _ => {}
            }
        }
        for (at, slot) in early {
            self.push_deadline(at, slot);
        }
    }

    /// The earliest deadline of an entry (possibly of an entry since removed or
    /// rewritten, so a hint of when to call [`Self::expire`]).
    pub fn next_deadline(&self) -> Option<u64> {
        self.deadlines.earliest()
    }

    /// Removes the entries whose key `keep` refuses, as [`Cause::Explicit`].
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        let arena = &self.arena;
        let refused: Vec<u32> = self
            .map
            .iter()
            .copied()
            .filter(|&slot| !keep(arena.get(slot).value.key()))
            .collect();
        for slot in refused {
            self.unmap_slot(slot);
            let node = self.unlink_and_free(slot);
            self.removed.push(Removed {
                value: node.value,
                cause: Cause::Explicit,
            });
        }
    }

    /// Removes every entry, as [`Cause::Explicit`]. What the sketch learnt is kept.
    pub fn clear(&mut self) {
        self.map.clear();
        self.window.clear();
        self.probation.clear();
        self.protected.clear();
        self.deadlines.clear();
        let removed = self.arena.drain().map(|node| Removed {
            value: node.value,
            cause: Cause::Explicit,
        });
        self.removed.extend(removed);
    }

    fn deque(&mut self, region: Region) -> &mut Deque {
        match region {
            Region::Window => &mut self.window,
            Region::Probation => &mut self.probation,
            Region::Protected => &mut self.protected,
        }
    }

    /// Unlinks the entry in `slot` from its region and frees the slot (the map is the
    /// caller's business).
    fn unlink_and_free(&mut self, slot: u32) -> Node<V> {
        let region = self.arena.get(slot).region();
        match region {
            Region::Window => self.window.unlink(&mut self.arena, slot),
            Region::Probation => self.probation.unlink(&mut self.arena, slot),
            Region::Protected => self.protected.unlink(&mut self.arena, slot),
        }
        self.arena.remove(slot)
    }

    /// Takes `slot` out of the map (found by its node's hash).
    fn unmap_slot(&mut self, slot: u32) {
        let hash = self.arena.get(slot).hash();
        if let Ok(entry) = self.map.find_entry(hash, |&held| held == slot) {
            entry.remove();
        }
    }

    /// Removes the entry in `slot` for `cause`, reporting it.
    fn evict(&mut self, slot: u32, cause: Cause) {
        self.unmap_slot(slot);
        let node = self.unlink_and_free(slot);
        self.removed.push(Removed {
            value: node.value,
            cause,
        });
    }

    /// Moves `slot` from one region to the most recently used end of another.
    fn transfer(&mut self, slot: u32, to: Region) {
        let from = self.arena.get(slot).region();
        match from {
            Region::Window => self.window.unlink(&mut self.arena, slot),
            Region::Probation => self.probation.unlink(&mut self.arena, slot),
            Region::Protected => self.protected.unlink(&mut self.arena, slot),
        }
        let node = self.arena.get_mut(slot);
        node.set_region(to);
        if from != Region::Window && to == Region::Window {
            node.mark_moved_from_main();
        }
        match to {
            Region::Window => self.window.push_back(&mut self.arena, slot),
            Region::Probation => self.probation.push_back(&mut self.arena, slot),
            Region::Protected => self.protected.push_back(&mut self.arena, slot),
        }
    }

    /// A use of the entry in `slot`: most recently used in its region, and out of
    /// probation into the protected segment.
    fn on_access(&mut self, slot: u32) {
        if self.capacity.is_none() {
            return;
        }
        match self.arena.get(slot).region() {
            Region::Window => self.window.move_to_back(&mut self.arena, slot),
            Region::Protected => self.protected.move_to_back(&mut self.arena, slot),
            Region::Probation => {
                self.transfer(slot, Region::Protected);
                self.demote_protected_overflow();
            }
        }
    }

    /// Moves the protected segment's least recently used entries back to probation while
    /// it is over its share.
    fn demote_protected_overflow(&mut self) {
        while self.protected.weight > self.protected_maximum {
            let Some(slot) = self.protected.front() else {
                break;
            };
            self.transfer(slot, Region::Probation);
        }
    }

    /// Evicts until the total weight is within the capacity: first the window's overflow
    /// competes for the main region, then, if still over, the main region's and the
    /// window's least recently used entries go.
    fn evict_to_capacity(&mut self) {
        let Some(capacity) = self.capacity else {
            return;
        };
        while self.window.weight > self.window_maximum {
            let Some(candidate) = self.window.front() else {
                break;
            };
            self.transfer(candidate, Region::Probation);
            if self.weighted_size() > capacity {
                self.admit_or_evict(candidate, capacity);
            }
        }
        while self.weighted_size() > capacity {
            let Some(victim) = self
                .probation
                .front()
                .or(self.protected.front())
                .or(self.window.front())
            else {
                break;
            };
            self.evict(victim, Cause::Size);
        }
    }

    /// The `candidate`, just moved from the window to probation's most recently used end,
    /// against the main region's least recently used entries until the cache fits: the
    /// more frequent of each pair stays.
    fn admit_or_evict(&mut self, candidate: u32, capacity: u64) {
        while self.weighted_size() > capacity {
            let victim = match self.probation.front() {
                Some(victim) if victim != candidate => Some(victim),
                _ => self.protected.front(),
            };
            let Some(victim) = victim else {
                self.evict(candidate, Cause::Size);
                return;
            };
            let (winner, loser) = if self.admits(candidate, victim) {
                (candidate, victim)
            } else {
                (victim, candidate)
            };
            let hash = self.arena.get(loser).hash();
            let limit = (self.map.len() * GHOST_PERCENT / 100).max(1);
            // An entry the window took over from the main region to grow counts as the
            // main region's loss: otherwise, where the main region is what hits (a loop
            // longer than the window), each growth would call for the next.
            if loser == candidate && !self.arena.get(loser).moved_from_main() {
                self.refused.push(hash, limit);
            } else {
                self.evicted.push(hash, limit);
            }
            self.evict(loser, Cause::Size);
            if winner == victim {
                return;
            }
        }
    }

    /// TinyLFU's verdict: whether `candidate` is worth more than `victim`.
    fn admits(&mut self, candidate: u32, victim: u32) -> bool {
        let candidate = self.sketch.frequency(self.arena.get(candidate).hash());
        let victim = self.sketch.frequency(self.arena.get(victim).hash());
        if candidate > victim {
            true
        } else if candidate >= FLOODING_FLOOR {
            self.flip_coin(128)
        } else {
            false
        }
    }

    /// True once in `odds` times (a power of two), from a fixed-seed xorshift: the policy
    /// stays deterministic for a given sequence of requests.
    fn flip_coin(&mut self, odds: u64) -> bool {
        self.coin ^= self.coin << 13;
        self.coin ^= self.coin >> 7;
        self.coin ^= self.coin << 17;
        self.coin & (odds - 1) == 0
    }

    /// A miss on `hash`, weighing `weight`: if TinyLFU recently refused it, a larger
    /// window would have kept it, so the window grows by its weight; if it was recently
    /// evicted from the main region, the window shrinks by as much.
    fn consult_ghosts(&mut self, hash: u64, weight: u64) {
        if self.refused.take(hash) {
            self.grow_window(weight);
        } else if self.evicted.take(hash) {
            self.shrink_window(weight);
        }
    }

    /// Gives up to `amount` of the protected segment's share to the window, moving the
    /// main region's least recently used entries into it.
    fn grow_window(&mut self, amount: u64) {
        let quota = amount.min(self.protected_maximum);
        self.protected_maximum -= quota;
        self.window_maximum += quota;
        self.demote_protected_overflow();
        let unused = self.move_while_fits(Region::Probation, Region::Window, quota);
        // What could not be moved stays with the main region.
        self.protected_maximum += unused;
        self.window_maximum -= unused;
    }

    /// Gives up to `amount` of the window's share to the protected segment, moving the
    /// window's least recently used entries to probation.
    fn shrink_window(&mut self, amount: u64) {
        let quota = amount.min(self.window_maximum.saturating_sub(1));
        self.protected_maximum += quota;
        self.window_maximum -= quota;
        let unused = self.move_while_fits(Region::Window, Region::Probation, quota);
        self.protected_maximum -= unused;
        self.window_maximum += unused;
    }

    /// Moves the least recently used entries of `from` (for `Probation`: of the main
    /// region, probation first) to `to` while their weights fit in `quota`; returns what is
    /// left of it.
    fn move_while_fits(&mut self, from: Region, to: Region, mut quota: u64) -> u64 {
        for _ in 0..TRANSFER_LIMIT {
            let front = match from {
                Region::Window => self.window.front(),
                _ => self.probation.front().or(self.protected.front()),
            };
            let Some(slot) = front else {
                break;
            };
            let weight = self.arena.get(slot).weight();
            if weight > quota {
                break;
            }
            quota -= weight;
            self.transfer(slot, to);
        }
        quota
    }
}

/// `percent` % of `total`, rounded down, without overflow.
fn share(total: u64, percent: u128) -> u64 {
    (total as u128 * percent / 100) as u64
}

#[cfg(test)]
mod tests;
