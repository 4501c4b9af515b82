//! The policy's entries and the LRU lists they are ordered in.
//!
//! Entries live in an arena (a vector of slots, reused through a free list) and are linked
//! by slot number into doubly-linked lists, one per region of the policy. Slot numbers
//! rather than pointers keep the lists safe code and a node small.

/// No slot: the end of a list.
const NIL: u32 = u32::MAX;
/// The deadline of an entry that never expires (a sentinel rather than an `Option`: 8
/// bytes less per node).
const NO_DEADLINE: u64 = u64::MAX;

/// The region of the policy an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Region {
    /// The admission window: every new entry starts here.
    Window,
    /// The main region's entries seen once since they entered it.
    Probation,
    /// The main region's entries used again while on probation.
    Protected,
}

/// One entry of the policy: 40 bytes besides what the value points to (its key is the
/// value's, see [`super::Keyed`]).
pub(crate) struct Node<V> {
    /// The key's hash, as the policy's map and sketch file it.
    pub(crate) hash: u64,
    pub(crate) value: V,
    /// The entry's weight; a weight past `u32::MAX` counts as `u32::MAX` (4 bytes rather
    /// than 8 keep the node at 40; no JavaScript string weighs 4 GiB).
    weight: u32,
    /// When the entry expires, in the caller's clock (ms); [`NO_DEADLINE`] never.
    deadline: u64,
    pub(crate) region: Region,
    /// Once moved from the main region into the window to grow it: if TinyLFU refuses
    /// it, the main region, not the window, lost it.
    pub(crate) from_main: bool,
    prev: u32,
    next: u32,
}

impl<V> Node<V> {
    pub(crate) fn new(hash: u64, value: V, weight: u64, expires_at: Option<u64>) -> Self {
        Node {
            hash,
            value,
            weight: saturate(weight),
            deadline: expires_at.unwrap_or(NO_DEADLINE),
            region: Region::Window,
            from_main: false,
            prev: NIL,
            next: NIL,
        }
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

    /// When the entry expires, in the caller's clock (ms); `None` never.
    pub(crate) fn expires_at(&self) -> Option<u64> {
        (self.deadline != NO_DEADLINE).then_some(self.deadline)
    }

    /// Sets when the entry expires (`None`: never).
    pub(crate) fn set_expires_at(&mut self, expires_at: Option<u64>) {
        self.deadline = expires_at.unwrap_or(NO_DEADLINE);
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

    /// Every node's slot and deadline, for the nodes with one.
    pub(crate) fn deadlines(&self) -> impl Iterator<Item = (u64, u32)> + Clone + '_ {
        self.slots.iter().enumerate().filter_map(|(slot, node)| {
            let at = node.as_ref()?.expires_at()?;
            Some((at, slot as u32))
        })
    }

    /// Takes every node out, leaving the arena empty.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = Node<V>> + '_ {
        self.free.clear();
        self.slots.drain(..).flatten()
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
            .map(|i| arena.insert(Node::new(0, i, i as u64 + 1, None)))
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
        assert_eq!(node.expires_at(), None);
        // A freed slot is reused.
        assert_eq!(arena.insert(Node::new(0, 9, 1, None)), slots[2]);
    }

    #[test]
    fn a_node_is_40_bytes_and_a_huge_weight_saturates() {
        assert_eq!(std::mem::size_of::<Option<Node<crate::entry::Entry>>>(), 40);
        let mut arena = Arena::default();
        let mut deque = Deque::default();
        let slot = arena.insert(Node::new(0, (), 1 << 40, None));
        deque.push_back(&mut arena, slot);
        assert_eq!(deque.weight, u64::from(u32::MAX));
        deque.unlink(&mut arena, slot);
        assert_eq!(deque.weight, 0);
        assert_eq!(arena.get_mut(slot).set_weight(7), u64::from(u32::MAX));
        assert_eq!(arena.get(slot).weight(), 7);
    }
}
