//! The policy's entries and the LRU lists they are ordered in.
//!
//! Entries live in an arena (a vector of slots, reused through a free list) and are linked
//! by slot number into doubly-linked lists, one per region of the policy. Slot numbers
//! rather than pointers keep the lists safe code and a node small.

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;

/// How many bits of a key's hash a node keeps: the rest of its 32-bit tag holds the
/// entry's region and a flag, and the node is 24 bytes rather than 32.
const HASH_BITS: u32 = 29;
/// The kept bits of a hash.
const HASH_MASK: u64 = (1 << HASH_BITS) - 1;
/// The tag's bits below the kept hash: the region (2 bits) and the moved-from-main flag.
const FLAG_BITS: u32 = 3;
const REGION_MASK: u32 = 0b011;
const FROM_MAIN: u32 = 0b100;

/// The hash the policy files a key under, given the key's 64-bit hash: its low
/// [`HASH_BITS`] bits, which a node keeps, repeated at the top (a hash table finds the
/// bucket by the low bits and tells keys apart in a group by the top ones). Filing a filed
/// hash again changes nothing.
#[inline]
pub(crate) fn filed_hash(hash: u64) -> u64 {
    let kept = hash & HASH_MASK;
    kept | kept << (64 - HASH_BITS)
}

/// The region of the policy an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    /// The admission window: every new entry starts here.
    Window = 0,
    /// The main region's entries seen once since they entered it.
    Probation = 1,
    /// The main region's entries used again while on probation.
    Protected = 2,
}

/// One entry of the policy: 24 bytes besides what the value points to (its key and its
/// deadline are the value's, see [`super::Keyed`]).
pub(crate) struct Node<V> {
    pub(crate) value: V,
    /// The key's filed hash's kept bits, then the region and the moved-from-main flag (see
    /// [`Self::hash`], [`Self::region`], [`Self::moved_from_main`]).
    tag: u32,
    /// The entry's weight; a weight past `u32::MAX` counts as `u32::MAX` (4 bytes rather
    /// than 8 keep the node small; no JavaScript string weighs 4 GiB).
    weight: u32,
    prev: u32,
    next: u32,
}

impl<V> Node<V> {
    /// A node in the window for `value`, whose key's hash is `hash` (filed or not).
    pub(crate) fn new(hash: u64, value: V, weight: u64) -> Self {
        Node {
            value,
            tag: ((hash & HASH_MASK) as u32) << FLAG_BITS | Region::Window as u32,
            weight: saturate(weight),
            prev: NIL,
            next: NIL,
        }
    }

    /// The key's filed hash ([`filed_hash`]), as the policy's map and sketch know it.
    #[inline]
    pub(crate) fn hash(&self) -> u64 {
        filed_hash(u64::from(self.tag >> FLAG_BITS))
    }

    /// The region the entry is in.
    #[inline]
    pub(crate) fn region(&self) -> Region {
        match self.tag & REGION_MASK {
            0 => Region::Window,
            1 => Region::Probation,
            _ => Region::Protected,
        }
    }

    /// Files the entry as in `region` (the caller links it into that region's list).
    pub(crate) fn set_region(&mut self, region: Region) {
        self.tag = self.tag & !REGION_MASK | region as u32;
    }

    /// Whether the entry was moved from the main region into the window to grow it: if
    /// TinyLFU refuses it, the main region, not the window, lost it.
    #[inline]
    pub(crate) fn moved_from_main(&self) -> bool {
        self.tag & FROM_MAIN != 0
    }

    /// Marks the entry as moved from the main region into the window.
    pub(crate) fn mark_moved_from_main(&mut self) {
        self.tag |= FROM_MAIN;
    }

    /// The entry's weight (see the field).
    #[inline]
    pub(crate) fn weight(&self) -> u64 {
        u64::from(self.weight)
    }

    /// Sets the entry's weight; returns the weight it had.
    pub(crate) fn set_weight(&mut self, weight: u64) -> u64 {
        u64::from(std::mem::replace(&mut self.weight, saturate(weight)))
    }
}

/// A weight as a node keeps it.
fn saturate(weight: u64) -> u32 {
    u32::try_from(weight).unwrap_or(u32::MAX)
}

/// The slots entries live in.
pub(crate) struct Arena<V> {
    slots: Vec<Option<Node<V>>>,
    free: Vec<u32>,
}

impl<V> Default for Arena<V> {
    fn default() -> Self {
        Arena {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

impl<V> Arena<V> {
    /// Stores `node`; returns its slot.
    pub(crate) fn insert(&mut self, node: Node<V>) -> u32 {
        match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(node);
                slot
            }
            None => {
                self.slots.push(Some(node));
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Takes the node out of `slot` (which must be unlinked) and frees the slot.
    pub(crate) fn remove(&mut self, slot: u32) -> Node<V> {
        let node = self.slots[slot as usize]
            .take()
            .expect("a policy slot freed twice");
        self.free.push(slot);
        node
    }

    #[inline]
    pub(crate) fn get(&self, slot: u32) -> &Node<V> {
        self.slots[slot as usize]
            .as_ref()
            .expect("a policy slot read after it was freed")
    }

    #[inline]
    pub(crate) fn get_mut(&mut self, slot: u32) -> &mut Node<V> {
        self.slots[slot as usize]
            .as_mut()
            .expect("a policy slot written after it was freed")
    }

    /// The node in `slot`, if the slot holds one.
    #[inline]
    pub(crate) fn try_get(&self, slot: u32) -> Option<&Node<V>> {
        self.slots.get(slot as usize)?.as_ref()
    }

    /// Every node, in slot order.
    #[cfg(test)]
    pub(crate) fn nodes(&self) -> impl Iterator<Item = &Node<V>> {
        self.slots.iter().flatten()
    }

    /// Takes every node out, leaving the arena empty.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Node<V>> + '_ {
        self.free.clear();
        self.slots.drain(..).flatten()
    }
}

impl<V: super::Keyed> Arena<V> {
    /// Every node's slot and deadline, for the nodes whose value has one.
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = (u64, u32)> + Clone + '_ {
        self.slots.iter().enumerate().filter_map(|(slot, node)| {
            let at = node.as_ref()?.value.expires_at()?;
            Some((at, slot as u32))
        })
    }
}

/// One region's entries from least to most recently used, and what they weigh.
pub(crate) struct Deque {
    head: u32,
    tail: u32,
    /// The sum of the weights of the entries in the list.
    pub(crate) weight: u64,
}

impl Default for Deque {
    fn default() -> Self {
        Deque {
            head: NIL,
            tail: NIL,
            weight: 0,
        }
    }
}

impl Deque {
    /// The least recently used entry.
    #[inline]
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// The entry after `slot`, towards the most recently used end.
    #[cfg(test)]
    pub(crate) fn next<V>(arena: &Arena<V>, slot: u32) -> Option<u32> {
        let next = arena.get(slot).next;
        (next != NIL).then_some(next)
    }

    /// Links `slot` at the most recently used end.
    pub(crate) fn push_back<V>(&mut self, arena: &mut Arena<V>, slot: u32) {
        let tail = self.tail;
        let node = arena.get_mut(slot);
        node.prev = tail;
        node.next = NIL;
        self.weight += node.weight();
        if tail == NIL {
            self.head = slot;
        } else {
            arena.get_mut(tail).next = slot;
        }
        self.tail = slot;
    }

    /// Unlinks `slot`, which must be in this list.
    pub(crate) fn unlink<V>(&mut self, arena: &mut Arena<V>, slot: u32) {
        let node = arena.get_mut(slot);
        let (prev, next) = (node.prev, node.next);
        node.prev = NIL;
        node.next = NIL;
        self.weight -= node.weight();
        if prev == NIL {
            self.head = next;
        } else {
            arena.get_mut(prev).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            arena.get_mut(next).prev = prev;
        }
    }

    /// Moves `slot`, which must be in this list, to the most recently used end.
    #[inline]
    pub(crate) fn move_to_back<V>(&mut self, arena: &mut Arena<V>, slot: u32) {
        if self.tail != slot {
            self.unlink(arena, slot);
            self.push_back(arena, slot);
        }
    }

    /// Empties the list (its nodes are dropped elsewhere).
    pub(crate) fn clear(&mut self) {
        *self = Deque::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(deque: &Deque, arena: &Arena<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        let mut at = deque.front();
        while let Some(slot) = at {
            out.push(arena.get(slot).value);
            at = Deque::next(arena, slot);
        }
        out
    }

    #[test]
    fn lists_keep_use_order_and_weight() {
        let mut arena = Arena::default();
        let mut deque = Deque::default();
        let slots: Vec<u32> = (0..4)
            .map(|i| arena.insert(Node::new(0, i, i as u64 + 1)))
            .collect();
        for &slot in &slots {
            deque.push_back(&mut arena, slot);
        }
        deque.move_to_back(&mut arena, slots[1]);
        deque.unlink(&mut arena, slots[2]);
        assert_eq!(order(&deque, &arena), [0, 3, 1]);
        assert_eq!(deque.weight, 1 + 4 + 2);
        let node = arena.remove(slots[2]);
        assert_eq!(node.value, 2);
        // A freed slot is reused.
        assert_eq!(arena.insert(Node::new(0, 9, 1)), slots[2]);
    }

    #[test]
    fn a_node_is_24_bytes_and_a_huge_weight_saturates() {
        assert_eq!(std::mem::size_of::<Option<Node<crate::entry::Entry>>>(), 24);
        let mut arena = Arena::default();
        let mut deque = Deque::default();
        let slot = arena.insert(Node::new(0, (), 1 << 40));
        deque.push_back(&mut arena, slot);
        assert_eq!(deque.weight, u64::from(u32::MAX));
        deque.unlink(&mut arena, slot);
        assert_eq!(deque.weight, 0);
        assert_eq!(arena.get_mut(slot).set_weight(7), u64::from(u32::MAX));
        assert_eq!(arena.get(slot).weight(), 7);
    }

    #[test]
    fn a_node_keeps_its_filed_hash_beside_its_region_and_flag() {
        let hash = 0xdead_beef_f00d_cafe_u64;
        let filed = filed_hash(hash);
        assert_eq!(filed_hash(filed), filed);
        assert_eq!(filed & HASH_MASK, hash & HASH_MASK);
        assert_eq!(filed >> (64 - HASH_BITS), hash & HASH_MASK);
        let mut node = Node::new(hash, (), 1);
        assert_eq!(
            (node.hash(), node.region(), node.moved_from_main()),
            (filed, Region::Window, false)
        );
        node.set_region(Region::Protected);
        node.mark_moved_from_main();
        node.set_region(Region::Probation);
        assert_eq!(
            (node.hash(), node.region(), node.moved_from_main()),
            (filed, Region::Probation, true)
        );
        assert_eq!(Node::new(filed, (), 1).hash(), filed);
    }
}
