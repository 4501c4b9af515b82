//! The counters a store keeps.
//!
//! Counters are relaxed atomics: a snapshot is a consistent-enough reading for metrics,
//! and incrementing one costs a few nanoseconds on the hot path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Live counters of one L1 store.
#[derive(Debug, Default)]
pub struct L1Counters {
    pub(crate) hits: AtomicU64,
    pub(crate) stale_hits: AtomicU64,
    pub(crate) misses: AtomicU64,
    pub(crate) writes: AtomicU64,
    pub(crate) evictions: AtomicU64,
    pub(crate) expirations: AtomicU64,
    pub(crate) rejected: AtomicU64,
    pub(crate) dropped_reads: AtomicU64,
}

impl L1Counters {
    #[inline]
    pub(crate) fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Relaxed);
    }
}

/// A reading of a store's counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct L1Stats {
    /// Lookups that found a fresh entry.
    pub hits: u64,
    /// Lookups that found only a stale (graced) entry.
    pub stale_hits: u64,
    /// Lookups that found nothing.
    pub misses: u64,
    /// Entries written.
    pub writes: u64,
    /// Entries evicted to keep the store within `maxItems` / `maxSize`.
    pub evictions: u64,
    /// Entries dropped at their physical expiry.
    pub expirations: u64,
    /// Writes refused because the entry exceeded `maxEntrySize`.
    pub rejected: u64,
    /// Batches of reads the eviction policy never saw because its thread was behind.
    pub dropped_reads: u64,
    /// Entries held now.
    pub entries: u64,
    /// Bytes held now, as weighed for `maxSize` (keys, values and tags).
    pub bytes: u64,
}

impl L1Counters {
    pub(crate) fn read(&self, entries: u64, bytes: u64) -> L1Stats {
        L1Stats {
            hits: self.hits.load(Relaxed),
            stale_hits: self.stale_hits.load(Relaxed),
            misses: self.misses.load(Relaxed),
            writes: self.writes.load(Relaxed),
            evictions: self.evictions.load(Relaxed),
            expirations: self.expirations.load(Relaxed),
            rejected: self.rejected.load(Relaxed),
            dropped_reads: self.dropped_reads.load(Relaxed),
            entries,
            bytes,
        }
    }
}
