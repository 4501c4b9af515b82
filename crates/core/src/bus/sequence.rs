//! Noticing lost bus messages: a gap in a sender's sequence numbers.
//!
//! Every bus numbers the frames it sends 1, 2, 3, ... and Redis delivers the messages of
//! one connection in order, so a subscriber that sees 4 after 2 from one sender missed 3.
//! [`GapDetector`] keeps, per sender, the last number seen and tells how each new one
//! relates to it.
//!
//! The first frame seen from a sender is in order: what it sent before we met it is not
//! ours to miss.
//!
//! # Memory
//!
//! Senders come and go (a process per deploy, per scale-out), so the detector forgets a
//! sender not heard from for [`GapDetector::FORGET_AFTER`] (24 hours), and never tracks
//! more than [`GapDetector::MAX_SENDERS`]: past that, the one heard from longest ago is
//! forgotten. A forgotten sender that speaks again is met anew, its next frame in order —
//! so a message it lost just before going quiet that long goes unnoticed. Each tracked
//! sender costs a few dozen bytes.
//!
//! ```
//! use rustocache_core::bus::sequence::{GapDetector, Observation};
//! let mut detector = GapDetector::new();
//! assert_eq!(detector.observe(7, 41), Observation::InOrder); // met at 41
//! assert_eq!(detector.observe(7, 42), Observation::InOrder);
//! assert_eq!(detector.observe(7, 45), Observation::Gap { expected: 43, got: 45 });
//! assert_eq!(detector.observe(7, 44), Observation::Old { last: 45 });
//! ```

use std::collections::HashMap;
use std::time::{Duration, Instant};

use crate::hashing::KeyHasher;

/// How a sequence number relates to the ones seen before from its sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Observation {
    /// The next one, or the first one seen from this sender.
    InOrder,
    /// Numbers `expected..got` were skipped: those messages were lost.
    Gap {
        /// The number that should have come.
        expected: u64,
        /// The number that came.
        got: u64,
    },
    /// At or below the last number seen (`last`): a repeat, or a frame overtaken by a later
    /// one. The last number seen stays where it was.
    Old {
        /// The highest number seen from this sender.
        last: u64,
    },
}

#[derive(Debug, Clone, Copy)]
struct Heard {
    last: u64,
    at: Instant,
}

/// The last sequence number seen per sender, with bounded memory (see the module doc).
#[derive(Debug)]
pub struct GapDetector {
    senders: HashMap<u128, Heard, KeyHasher>,
    last_sweep: Option<Instant>,
}

impl Default for GapDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl GapDetector {
    /// A sender silent this long is forgotten.
    pub const FORGET_AFTER: Duration = Duration::from_secs(24 * 60 * 60);
    /// The most senders tracked at once.
    pub const MAX_SENDERS: usize = 10_000;
    /// Silent senders are looked for at most this often, when a new sender appears.
    const SWEEP_EVERY: Duration = Duration::from_secs(60);

    /// A detector that has seen nothing.
    pub fn new() -> Self {
        GapDetector {
            senders: HashMap::default(),
            last_sweep: None,
        }
    }

    /// Records `sequence` from `sender`, now.
    pub fn observe(&mut self, sender: u128, sequence: u64) -> Observation {
        self.observe_at(sender, sequence, Instant::now())
    }

    /// Records `sequence` from `sender` at `now`.
    pub fn observe_at(&mut self, sender: u128, sequence: u64, now: Instant) -> Observation {
        if let Some(heard) = self.senders.get_mut(&sender) {
            heard.at = now;
            if sequence <= heard.last {
                return Observation::Old { last: heard.last };
            }
            // `sequence` is above `last`, so `last + 1` does not overflow.
            let expected = heard.last + 1;
            heard.last = sequence;
            return if sequence == expected {
                Observation::InOrder
            } else {
                Observation::Gap {
                    expected,
                    got: sequence,
                }
            };
        }
        self.make_room(now);
        self.senders.insert(
            sender,
            Heard {
                last: sequence,
                at: now,
            },
        );
        Observation::InOrder
    }

    /// Forgets every sender: after the subscription was lost, the next frame of each is
    /// met anew (the loss itself is reported once, as the resubscription).
    pub fn reset(&mut self) {
        self.senders.clear();
    }

    /// How many senders are tracked.
    pub fn len(&self) -> usize {
        self.senders.len()
    }

    /// Whether no sender is tracked.
    pub fn is_empty(&self) -> bool {
        self.senders.is_empty()
    }

    /// Before a new sender is added: forgets the silent ones (at most once a
    /// [`Self::SWEEP_EVERY`], or when full), then the one heard from longest ago if still
    /// full.
    fn make_room(&mut self, now: Instant) {
        let full = self.senders.len() >= Self::MAX_SENDERS;
        let due = self
            .last_sweep
            .is_none_or(|at| now.saturating_duration_since(at) >= Self::SWEEP_EVERY);
        if full || due {
            self.last_sweep = Some(now);
            self.senders
                .retain(|_, heard| now.saturating_duration_since(heard.at) < Self::FORGET_AFTER);
        }
        if self.senders.len() >= Self::MAX_SENDERS {
            if let Some(oldest) = self
                .senders
                .iter()
                .min_by_key(|(_, heard)| heard.at)
                .map(|(&sender, _)| sender)
            {
                self.senders.remove(&oldest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consecutive_numbers_are_in_order_and_the_first_one_met_too() {
        let mut d = GapDetector::new();
        assert_eq!(d.observe(1, 1), Observation::InOrder);
        assert_eq!(d.observe(1, 2), Observation::InOrder);
        assert_eq!(d.observe(2, 1_000), Observation::InOrder);
        assert_eq!(d.observe(2, 1_001), Observation::InOrder);
        assert_eq!(d.len(), 2);
    }

    #[test]
    fn a_skip_is_a_gap_and_the_count_moves_on() {
        let mut d = GapDetector::new();
        d.observe(1, 1);
        assert_eq!(
            d.observe(1, 5),
            Observation::Gap {
                expected: 2,
                got: 5
            }
        );
        assert_eq!(d.observe(1, 6), Observation::InOrder);
    }

    #[test]
    fn repeats_and_earlier_numbers_are_old_and_change_nothing() {
        let mut d = GapDetector::new();
        d.observe(1, 10);
        assert_eq!(d.observe(1, 10), Observation::Old { last: 10 });
        assert_eq!(d.observe(1, 3), Observation::Old { last: 10 });
        assert_eq!(d.observe(1, 11), Observation::InOrder);
    }

    #[test]
    fn senders_are_independent() {
        let mut d = GapDetector::new();
        d.observe(1, 1);
        d.observe(2, 1);
        assert_eq!(d.observe(2, 2), Observation::InOrder);
        assert_eq!(
            d.observe(1, 3),
            Observation::Gap {
                expected: 2,
                got: 3
            }
        );
    }

    #[test]
    fn the_largest_number_does_not_overflow() {
        let mut d = GapDetector::new();
        d.observe(1, u64::MAX);
        assert_eq!(d.observe(1, u64::MAX), Observation::Old { last: u64::MAX });
    }

    #[test]
    fn reset_forgets_everyone() {
        let mut d = GapDetector::new();
        d.observe(1, 1);
        d.reset();
        assert!(d.is_empty());
        assert_eq!(d.observe(1, 9), Observation::InOrder);
    }

    #[test]
    fn silent_senders_are_forgotten() {
        let start = Instant::now();
        let mut d = GapDetector::new();
        d.observe_at(1, 1, start);
        d.observe_at(2, 1, start);
        // Sender 2 keeps talking; sender 1 falls silent.
        let later = start + GapDetector::FORGET_AFTER - Duration::from_secs(1);
        d.observe_at(2, 2, later);
        let much_later = start + GapDetector::FORGET_AFTER + Duration::from_secs(1);
        // A new sender triggers the sweep.
        d.observe_at(3, 1, much_later);
        assert_eq!(d.len(), 2);
        // Sender 1 is met anew: no gap reported.
        assert_eq!(d.observe_at(1, 50, much_later), Observation::InOrder);
        assert_eq!(d.observe_at(2, 3, much_later), Observation::InOrder);
    }

    #[test]
    fn memory_is_bounded_by_evicting_the_longest_silent() {
        let start = Instant::now();
        let mut d = GapDetector::new();
        for sender in 0..GapDetector::MAX_SENDERS as u128 + 10 {
            d.observe_at(sender, 1, start + Duration::from_millis(sender as u64));
        }
        assert_eq!(d.len(), GapDetector::MAX_SENDERS);
        // The first ten were evicted; the newest are still tracked.
        assert_eq!(d.observe_at(0, 7, start), Observation::InOrder);
        let newest = GapDetector::MAX_SENDERS as u128 + 9;
        assert_eq!(
            d.observe_at(newest, 3, start),
            Observation::Gap {
                expected: 2,
                got: 3
            }
        );
    }
}
