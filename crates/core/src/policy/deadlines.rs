//! When entries expire: a min-heap of deadlines, checked lazily.
//!
//! Each entry with an expiry is pushed with its deadline and its key's hash (8 bytes
//! rather than a share of the key: the policy finds entries by hash). Rewriting or removing
//! the entry does not touch the heap: a popped deadline is acted on only if the entry
//! still carries it, and the heap is rebuilt from the live entries when stale deadlines
//! outnumber them. Pushing costs O(log n); finding that nothing is due costs a peek.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Stale deadlines tolerated, beyond twice the live entries, before a rebuild.
const SLACK: usize = 1_024;

/// The deadlines of a policy's entries.
#[derive(Default)]
pub(crate) struct Deadlines {
    heap: BinaryHeap<Reverse<(u64, u64)>>,
}

impl Deadlines {
    pub(crate) fn push(&mut self, at: u64, hash: u64) {
        self.heap.push(Reverse((at, hash)));
    }

    /// The earliest deadline, possibly one of an entry since rewritten or removed.
    #[inline]
    pub(crate) fn earliest(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at, _))| *at)
    }

    /// The key hash of a deadline at or before `now`, removed from the heap.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<u64> {
        if self.earliest()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse((_, hash))| hash)
    }

    /// Whether the heap holds so many stale deadlines, against `live` entries, that it
    /// should be rebuilt.
    pub(crate) fn needs_rebuild(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + SLACK
    }

    /// Replaces the heap with the given (live) deadlines.
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = (u64, u64)>) {
        self.heap = live.map(Reverse).collect();
    }

    /// Deadlines held, stale ones included.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    pub(crate) fn clear(&mut self) {
        self.heap.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_come_out_in_order_and_only_when_due() {
        let mut deadlines = Deadlines::default();
        deadlines.push(30, 3);
        deadlines.push(10, 1);
        deadlines.push(20, 2);
        assert_eq!(deadlines.earliest(), Some(10));
        assert_eq!(deadlines.pop_due(15), Some(1));
        assert_eq!(deadlines.pop_due(15), None);
        assert_eq!(deadlines.pop_due(30), Some(2));
        assert_eq!(deadlines.pop_due(30), Some(3));
        assert_eq!(deadlines.earliest(), None);
    }
}
