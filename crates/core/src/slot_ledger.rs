//! The slots of a store whose values the host keeps ([`Value::Slot`]): which slots were
//! freed, and which key each live slot is filed under.
//!
//! The host (the facade's `serialize: false` tier) holds the values by slot number and may
//! answer hits itself, without a call into the store. It then reports those hits in
//! batches, by slot; the ledger turns each slot back into the hash of its key, which is
//! what the eviction policy records a read by.
//!
//! [`Value::Slot`]: crate::entry::Value::Slot

use crate::read_buffer::{read_hash, ReadHash};

/// Freed slots, and the key hash of each slot as last filed.
#[derive(Debug, Default)]
pub(crate) struct SlotLedger {
    freed: Vec<u32>,
    /// How many of `freed` held a key that left the store (evicted or expired), rather
    /// than a value replaced under a key that stays.
    lost: usize,
    /// By slot number: the hash of the key the slot was last stored under, as the read
    /// buffer records it (its low 32 bits). A freed slot keeps its last hash until it is
    /// filed again, so a read reported late still counts for the key it was a read of.
    hashes: Vec<ReadHash>,
}

impl SlotLedger {
    /// Notes that `slot` now holds the value of the key whose hash is `hash`.
    pub(crate) fn file(&mut self, slot: u32, hash: u64) {
        let at = slot as usize;
        if at >= self.hashes.len() {
            self.hashes.resize(at + 1, 0);
        }
        self.hashes[at] = read_hash(hash);
    }

    /// Notes that the entry holding `slot` left the store.
    pub(crate) fn free(&mut self, slot: u32) {
        self.freed.push(slot);
    }

    /// Notes that the slot freed last held a key the store no longer has.
    pub(crate) fn note_lost(&mut self) {
        self.lost += 1;
    }

    /// The slots freed since the last call.
    pub(crate) fn take_freed(&mut self) -> Vec<u32> {
        self.lost = 0;
        std::mem::take(&mut self.freed)
    }

    /// How many of the freed slots waiting to be taken held a key the store lost.
    pub(crate) fn lost_len(&self) -> usize {
        self.lost
    }

    /// The key hash `slot` was last filed under, as the read buffer records it; `None` for
    /// a slot never filed.
    pub(crate) fn hash_of(&self, slot: u32) -> Option<ReadHash> {
        self.hashes.get(slot as usize).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_keeps_the_hash_it_was_last_filed_under() {
        let mut ledger = SlotLedger::default();
        ledger.file(3, 30);
        assert_eq!(ledger.hash_of(3), Some(30));
        assert_eq!(ledger.hash_of(9), None);
        ledger.free(3);
        assert_eq!(ledger.hash_of(3), Some(30), "a freed slot keeps its hash");
        ledger.file(3, 31);
        assert_eq!(ledger.hash_of(3), Some(31));
        ledger.free(4);
        ledger.note_lost();
        assert_eq!(ledger.lost_len(), 1);
        assert_eq!(ledger.take_freed(), vec![3, 4]);
        assert_eq!(ledger.lost_len(), 0);
    }
}
