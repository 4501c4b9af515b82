//! Keys recently pushed out of one side of the policy, remembered by hash only.
//!
//! The policy keeps two: the candidates TinyLFU refused (they left through the window)
//! and the victims it evicted from the main region. A request for a key still remembered
//! tells which side would have kept it with a little more room, and the policy moves
//! room that way (see `WTinyLfu::consult_ghosts`). Each list only holds the last few
//! percent of the capacity's worth of keys: it measures the worth of a *small* change
//! in the window's size.

use std::collections::{HashMap, VecDeque};

/// The hashes of the last keys that left one side of the policy, oldest first.
#[derive(Default)]
pub(crate) struct Ghosts {
    order: VecDeque<u64>,
    /// How many times each hash is in `order` (a key can leave twice before it is asked
    /// for again); a hash taken by [`Self::take`] is absent however many times it is
    /// still queued.
    held: HashMap<u64, u32>,
}

impl Ghosts {
    /// Remembers `hash`, forgetting the oldest beyond `limit`.
    pub(crate) fn push(&mut self, hash: u64, limit: usize) {
        self.order.push_back(hash);
        *self.held.entry(hash).or_insert(0) += 1;
        while self.order.len() > limit {
            self.forget_oldest();
        }
    }

    fn forget_oldest(&mut self) {
        let Some(old) = self.order.pop_front() else {
            return;
        };
        if let Some(count) = self.held.get_mut(&old) {
            *count -= 1;
            if *count == 0 {
                self.held.remove(&old);
            }
        }
    }

    /// Whether `hash` is remembered; it is forgotten at once.
    pub(crate) fn take(&mut self, hash: u64) -> bool {
        self.held.remove(&hash).is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_the_last_keys_only_and_each_once() {
        let mut ghosts = Ghosts::default();
        for hash in 1..=5 {
            ghosts.push(hash, 3);
        }
        assert!(!ghosts.take(1) && !ghosts.take(2));
        assert!(ghosts.take(3) && !ghosts.take(3));
        // A taken hash still queued does not disturb what comes after it.
        ghosts.push(6, 3);
        ghosts.push(7, 3);
        assert!(!ghosts.take(4));
        assert!(ghosts.take(5) && ghosts.take(6) && ghosts.take(7));
    }
}
