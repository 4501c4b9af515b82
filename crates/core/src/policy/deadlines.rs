//! When entries expire: a min-heap of deadlines, checked lazily.
//!
//! Each deadline is packed with its entry's slot into 8 bytes: the deadline as ms past a
//! base in the upper half, the slot in the lower. Rewriting or removing an entry does not
//! touch the heap: a popped deadline is acted on only if the entry now in its slot is due,
//! and the heap is rebuilt from the live entries when stale deadlines outnumber them.
//! Pushing costs O(log n); finding that nothing is due costs a peek.
//!
//! The base sits [`MARGIN`] before the earliest deadline known when it is chosen, so that
//! slightly earlier deadlines pushed later still fit. A deadline that does not fit (before
//! the base, or 49.7 days or more past it) is refused by [`Deadlines::push`]: the policy
//! then rebuilds the heap around a new base. A deadline too far past even a new base is
//! held as the latest one that fits: it comes out early, and the policy pushes it again.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// Stale deadlines tolerated, beyond twice the live entries, before a rebuild.
const SLACK: usize = 1_024;

/// How far before the earliest known deadline a new base is put (~12.4 days, in ms).
const MARGIN: u64 = 1 << 30;

/// The largest offset from the base a packed deadline holds.
const FARTHEST: u64 = u32::MAX as u64;

/// The deadlines of a policy's entries.
#[derive(Default)]
pub(crate) struct Deadlines {
    /// `(deadline - base) << 32 | slot`, earliest first.
    heap: BinaryHeap<Reverse<u64>>,
    base: u64,
}

/// A deadline popped from the heap.
pub(crate) struct Due {
    /// The slot of the entry that had the deadline (it may hold another entry since).
    pub(crate) slot: u32,
    /// Whether the deadline was held as the latest that fits rather than as itself: the
    /// entry may not be due yet, and then needs pushing again.
    pub(crate) clamped: bool,
}

impl Deadlines {
    /// Files deadline `at` for the entry in `slot`; `false` if it does not fit the base
    /// (rebuild, see [`Self::rebuild`]).
    pub(crate) fn push(&mut self, at: u64, slot: u32) -> bool {
        if self.heap.is_empty() {
            self.base = at.saturating_sub(MARGIN);
        }
        match at.checked_sub(self.base) {
            Some(offset) if offset < FARTHEST => {
                self.heap.push(Reverse(offset << 32 | u64::from(slot)));
                true
            }
            _ => false,
        }
    }

    /// The earliest deadline, possibly one of an entry since rewritten or removed, or
    /// earlier than its entry's (see [`Due::clamped`]).
    #[inline]
    pub(crate) fn earliest(&self) -> Option<u64> {
        self.heap
            .peek()
            .map(|&Reverse(packed)| self.base + (packed >> 32))
    }

    /// A deadline at or before `now`, removed from the heap.
    pub(crate) fn pop_due(&mut self, now: u64) -> Option<Due> {
        if self.earliest()? > now {
            return None;
        }
        self.heap.pop().map(|Reverse(packed)| Due {
            slot: packed as u32,
            clamped: packed >> 32 == FARTHEST,
        })
    }

    /// Whether the heap holds so many stale deadlines, against `live` entries, that it
    /// should be rebuilt.
    pub(crate) fn needs_rebuild(&self, live: usize) -> bool {
        self.heap.len() > 2 * live + SLACK
    }

    /// Replaces the heap with the given deadlines and slots of the live entries, around a
    /// base that fits the earliest of them.
    pub(crate) fn rebuild(&mut self, live: impl Iterator<Item = (u64, u32)> + Clone) {
        let earliest = live.clone().map(|(at, _)| at).min().unwrap_or(0);
        self.base = earliest.saturating_sub(MARGIN);
        let base = self.base;
        let packed = live.map(|(at, slot)| (at - base).min(FARTHEST) << 32 | u64::from(slot));
        self.heap = packed.map(Reverse).collect();
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

    fn pop_slot(deadlines: &mut Deadlines, now: u64) -> Option<u32> {
        deadlines.pop_due(now).map(|due| due.slot)
    }

    #[test]
    fn deadlines_come_out_in_order_and_only_when_due() {
        let mut deadlines = Deadlines::default();
        assert!(deadlines.push(30, 3));
        assert!(deadlines.push(10, 1));
        assert!(deadlines.push(20, 2));
        assert_eq!(deadlines.earliest(), Some(10));
        assert_eq!(pop_slot(&mut deadlines, 15), Some(1));
        assert_eq!(pop_slot(&mut deadlines, 15), None);
        assert_eq!(pop_slot(&mut deadlines, 30), Some(2));
        assert_eq!(pop_slot(&mut deadlines, 30), Some(3));
        assert_eq!(deadlines.earliest(), None);
    }

    #[test]
    fn a_deadline_outside_the_base_is_refused_until_a_rebuild() {
        let now = 1_700_000_000_000;
        let mut deadlines = Deadlines::default();
        assert!(deadlines.push(now + 60_000, 1));
        // Earlier than the base, and too far past it.
        assert!(!deadlines.push(now - 2 * MARGIN, 2));
        assert!(!deadlines.push(now + 60_000 + FARTHEST, 3));
        deadlines.rebuild([(now + 60_000, 1), (now - 2 * MARGIN, 2)].into_iter());
        assert_eq!(deadlines.earliest(), Some(now - 2 * MARGIN));
        assert_eq!(pop_slot(&mut deadlines, now), Some(2));
        assert_eq!(pop_slot(&mut deadlines, now), None);
        assert_eq!(pop_slot(&mut deadlines, now + 60_000), Some(1));
    }

    #[test]
    fn a_deadline_too_far_for_any_base_comes_out_early_marked_clamped() {
        let mut deadlines = Deadlines::default();
        let far = 10 * FARTHEST;
        deadlines.rebuild([(1_000, 1), (far, 2)].into_iter());
        let early = deadlines.earliest().unwrap();
        assert_eq!(early, 1_000);
        let first = deadlines.pop_due(1_000).unwrap();
        assert!(first.slot == 1 && !first.clamped);
        // Held as the base plus the farthest offset: earlier than itself.
        let held = deadlines.earliest().unwrap();
        assert!(held < far);
        assert!(deadlines.pop_due(held - 1).is_none());
        let second = deadlines.pop_due(held).unwrap();
        assert!(second.slot == 2 && second.clamped);
    }
}
