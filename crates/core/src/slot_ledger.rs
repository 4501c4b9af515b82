//! The slots of a store whose values the host keeps ([`Value::Slot`]): which slots were
//! freed, and which key each live slot is filed under.
//!
//! The host (the facade's `serialize: false` tier) holds the values by slot number and may
//! answer hits itself, without a call into the store. It then reports those hits in
//! batches, by slot; the ledger turns each slot back into the hash of its key, which is
//! what the eviction policy records a read by.
//!
//! A store of text values can lend its slots the same way, to *mirrors*: the host keeps
//! the decoded value of a text entry it reads often in a slot of its own, and answers its
//! fresh hits from there. The ledger ties each mirror to the very entry it decodes (not to
//! its key), so that the slot is freed when that entry leaves the store, however it leaves.
//!
//! [`Value::Slot`]: crate::entry::Value::Slot

use std::collections::HashMap;

use crate::entry::Entry;
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
    /// Mirrored text entries, by [`Entry::addr`]: the slot, and a handle that keeps the
    /// entry (so its address) alive while it is mirrored.
    mirrors: HashMap<usize, (u32, Entry)>,
    /// By slot: the address of the entry a mirror slot decodes.
    mirrored: HashMap<u32, usize>,
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

    /// Frees the slot of `entry`, which left the store: its value's, or its mirror's (see
    /// [`Self::mirror`]); tells whether there was one.
    pub(crate) fn entry_left(&mut self, entry: &Entry) -> bool {
        match entry.slot().or_else(|| self.end_mirror_of(entry)) {
            Some(slot) => {
                self.free(slot);
                true
            }
            None => false,
        }
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

    /// Files `slot` as the mirror of `entry`, whose key's hash is `hash`; returns the slot
    /// that mirrored it before, if any (no longer answered for: free it).
    pub(crate) fn mirror(&mut self, entry: Entry, slot: u32, hash: u64) -> Option<u32> {
        self.file(slot, hash);
        let addr = entry.addr();
        let before = self.mirrors.insert(addr, (slot, entry)).map(|(old, _)| old);
        if let Some(old) = before {
            self.mirrored.remove(&old);
        }
        // A slot still filed for another entry would leave that one unmirrored and stuck.
        if let Some(other) = self.mirrored.insert(slot, addr) {
            if other != addr {
                self.mirrors.remove(&other);
            }
        }
        before
    }

    /// The slot mirroring `entry`, if one does.
    pub(crate) fn mirror_of(&self, entry: &Entry) -> Option<u32> {
        self.mirrors.get(&entry.addr()).map(|&(slot, _)| slot)
    }

    /// Ends the mirror of `entry` (it left the store); returns its slot, if it had one.
    pub(crate) fn end_mirror_of(&mut self, entry: &Entry) -> Option<u32> {
        let (slot, _) = self.mirrors.remove(&entry.addr())?;
        self.mirrored.remove(&slot);
        Some(slot)
    }

    /// The entry `slot` mirrors, if it mirrors one.
    pub(crate) fn mirrored_in(&self, slot: u32) -> Option<&Entry> {
        let addr = self.mirrored.get(&slot)?;
        self.mirrors.get(addr).map(|(_, entry)| entry)
    }

    /// Ends the mirror held in `slot`, at the host's request; `false` when the slot mirrors
    /// nothing (its entry left, and the slot waits among the freed ones).
    pub(crate) fn end_mirror_in(&mut self, slot: u32) -> bool {
        let Some(addr) = self.mirrored.remove(&slot) else {
            return false;
        };
        self.mirrors.remove(&addr);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Value;

    #[test]
    fn a_mirror_ends_with_its_entry_or_at_the_hosts_request() {
        let mut ledger = SlotLedger::default();
        let a = Entry::new(Value::text("1"), 0, None, 0, vec![]);
        let b = Entry::new(Value::text("2"), 0, None, 0, vec![]);
        assert_eq!(ledger.mirror(a.clone(), 4, 40), None);
        assert_eq!(ledger.mirror(b.clone(), 5, 50), None);
        assert_eq!(ledger.mirror_of(&a), Some(4));
        assert!(ledger
            .mirrored_in(5)
            .is_some_and(|entry| Entry::ptr_eq(entry, &b)));
        assert_eq!(ledger.hash_of(5), Some(read_hash(50)));
        // Mirrored again in another slot: the old one is handed back, and ends.
        assert_eq!(ledger.mirror(a.clone(), 6, 40), Some(4));
        assert!(!ledger.end_mirror_in(4));
        assert_eq!(ledger.end_mirror_of(&a), Some(6));
        assert_eq!(ledger.mirror_of(&a), None);
        assert!(ledger.end_mirror_in(5));
        assert_eq!(ledger.end_mirror_of(&b), None);
    }

    #[test]
    fn a_slot_reused_for_another_entry_unmirrors_the_first() {
        let mut ledger = SlotLedger::default();
        let a = Entry::new(Value::text("1"), 0, None, 0, vec![]);
        let b = Entry::new(Value::text("2"), 0, None, 0, vec![]);
        ledger.mirror(a.clone(), 1, 10);
        ledger.mirror(b.clone(), 1, 20);
        assert_eq!(ledger.mirror_of(&a), None);
        assert_eq!(ledger.end_mirror_of(&b), Some(1));
    }

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
