//! The entry model: what a tier stores under a key.

mod offset;

use std::alloc::{alloc, dealloc, handle_alloc_error, Layout};
use std::mem::{align_of, size_of};
use std::ptr::NonNull;
use std::sync::atomic::{
    fence, AtomicU32, Ordering::Acquire, Ordering::Relaxed, Ordering::Release,
};

/// A stored value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// A serialized value (the facade's JSON text), kept as bytes off the JS heap.
    Text(Box<str>),
    /// A handle to a value the host keeps by reference (`serialize: false`): the engine
    /// stores only the slot number and reports the slot as freed when the entry leaves.
    Slot(u32),
}

impl Value {
    /// A serialized value from anything string-like.
    pub fn text(s: impl Into<Box<str>>) -> Self {
        Value::Text(s.into())
    }

    /// The bytes the value weighs for `maxSize` and `maxEntrySize`. A slot weighs the
    /// size of its number: the host, not the engine, holds the value itself.
    pub fn weight(&self) -> u64 {
        self.as_ref().weight()
    }

    /// The value, borrowed.
    pub fn as_ref(&self) -> ValueRef<'_> {
        match self {
            Value::Text(text) => ValueRef::Text(text),
            Value::Slot(slot) => ValueRef::Slot(*slot),
        }
    }
}

/// A stored value as an [`Entry`] hands it out: its text borrowed, or its slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueRef<'a> {
    /// A serialized value.
    Text(&'a str),
    /// A handle to a value the host keeps (see [`Value::Slot`]).
    Slot(u32),
}

impl ValueRef<'_> {
    /// As [`Value::weight`].
    pub fn weight(&self) -> u64 {
        match self {
            ValueRef::Text(text) => text.len() as u64,
            ValueRef::Slot(_) => std::mem::size_of::<u32>() as u64,
        }
    }
}

/// One cache entry: a value and its lifetimes.
///
/// An entry is *fresh* until its logical expiry (its ttl), *stale* from then until its
/// physical expiry (ttl plus grace), when it is gone. A stale entry can still be served
/// by grace while a new value is being computed, or when computing one fails.
///
/// An `Entry` is a shared handle, as an `Arc` would be: cloning it shares the entry (one
/// reference count), and the entry is freed with its last handle. The store holds millions,
/// so everything is in one allocation behind a thin pointer: a 32-byte header (the
/// reference count, the lengths or a slot number, the lifetimes), then the key the entry is
/// filed under, a text value's bytes and, only for an entry with tags, a thin pointer to
/// them. No lifetime is an `Option` (sentinels instead).
pub struct Entry {
    ptr: NonNull<Header>,
}

/// The start of an entry's allocation; the key's and the text's bytes follow it, then,
/// if [`TAGGED`] is set, the tags' pointer (unaligned: the bytes before it have any length).
#[repr(C)]
struct Header {
    /// Handles to this entry ([`Entry::clone`] adds one, dropping one takes it away).
    refs: AtomicU32,
    /// When the entry turns stale, as an [`offset`] from `created_at`; [`offset::NEVER`]
    /// never. Atomic so that `expire` can turn a shared entry stale in place, without
    /// replacing it.
    stale_after: AtomicU32,
    /// When the entry is dropped, as an [`offset`] from `created_at`.
    dropped_after: u32,
    /// From when a hit should start an eager refresh, as an [`offset`] from `created_at`;
    /// [`offset::NEVER`] for no eager refresh, or once a caller has claimed it (see
    /// [`Entry::claim_refresh`]).
    refresh_after: AtomicU32,
    /// [`SLOT`] and [`TAGGED`]; the key's length (0 until the entry is stored: the store's
    /// index then needs no key of its own); the text's length in bytes, or the slot of a
    /// slot value (which has no text).
    shape: u64,
    /// When the entry was written, in ms since the epoch.
    created_at: u64,
}

/// In [`Header::shape`]: the value is a slot, not text.
const SLOT: u64 = 1 << 63;
/// In [`Header::shape`]: a pointer to the tags follows the text.
const TAGGED: u64 = 1 << 62;
/// Where the key's length starts in [`Header::shape`].
const KEY_SHIFT: u32 = 38;
/// In [`Header::shape`]: the key's length.
const KEY: u64 = (TAGGED - 1) & !LENGTH;
/// In [`Header::shape`]: the text's length or the slot (256 GiB: more than any string).
const LENGTH: u64 = (1 << KEY_SHIFT) - 1;
/// The longest key an entry is filed under, in bytes (16 MiB).
pub const MAX_KEY_BYTES: usize = (KEY >> KEY_SHIFT) as usize;

/// An entry's tags, as the pointer after its text points to them.
type Tags = Box<[Box<str>]>;

impl Header {
    /// The key's length in bytes.
    #[inline]
    fn key_len(&self) -> usize {
        ((self.shape & KEY) >> KEY_SHIFT) as usize
    }

    /// The time `after` (one of the header's offsets) stands for, in ms since the epoch;
    /// `None` never (a time at `u64::MAX` is as good as never).
    #[inline]
    fn time_after(&self, after: u32) -> Option<u64> {
        offset::after(self.created_at, after).filter(|&at| at != NEVER)
    }

    /// The text's length in bytes (0 for a slot value).
    #[inline]
    fn text_len(&self) -> usize {
        if self.shape & SLOT != 0 {
            0
        } else {
            (self.shape & LENGTH) as usize
        }
    }

    /// The bytes after the header: key, text and, for a tagged entry, the tags' pointer.
    #[inline]
    fn tail_len(&self) -> usize {
        let pointer = if self.shape & TAGGED != 0 {
            size_of::<*mut Tags>()
        } else {
            0
        };
        self.key_len() + self.text_len() + pointer
    }
}

/// Past this many handles to one entry the process aborts rather than risk the count
/// wrapping (as `Arc` does; no store comes near: an entry has a handle in the index, one in
/// the policy, and one per reader holding it).
const MAX_REFS: u32 = u32::MAX / 2;

// Safety: an entry's header is only changed through atomics, its bytes never after it is
// built, and its tags are plain owned data: sharing a handle across threads is as safe as
// sharing an `Arc` of the same fields.
unsafe impl Send for Entry {}
unsafe impl Sync for Entry {}

/// The logical expiry of an entry that never turns stale.
pub const NEVER: u64 = u64::MAX;

/// The L1 store's policy files an entry under the key the entry was stored under, and
/// removes it once past its grace period (its physical expiry, fixed when it was made).
impl crate::policy::Keyed for Entry {
    fn key(&self) -> &str {
        Entry::key(self)
    }

    fn expires_at(&self) -> Option<u64> {
        self.physical_expires_at()
    }
}

impl Clone for Entry {
    /// Another handle to the same entry.
    #[inline]
    fn clone(&self) -> Self {
        if self.header().refs.fetch_add(1, Relaxed) > MAX_REFS {
            std::process::abort();
        }
        Entry { ptr: self.ptr }
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        // Release, then Acquire by the last handle: every use of the entry through another
        // handle happens before it is freed (the same protocol as `Arc`).
        if self.header().refs.fetch_sub(1, Release) != 1 {
            return;
        }
        fence(Acquire);
        let layout = Entry::layout(self.header().tail_len());
        // Safety: this was the last handle, so nothing else reads the allocation; it was
        // made by `Entry::build` with this layout, and a tags pointer in it is owned by it.
        unsafe {
            if let Some(tags) = self.tags_pointer() {
                drop(Box::from_raw(tags));
            }
            dealloc(self.ptr.as_ptr().cast(), layout);
        }
    }
}

impl AsRef<Entry> for Entry {
    fn as_ref(&self) -> &Entry {
        self
    }
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("key", &self.key())
            .field("value", &self.value())
            .field("created_at", &self.created_at())
            .field("logical_expires_at", &self.logical_expires_at())
            .field("physical_expires_at", &self.physical_expires_at())
            .field("refresh_at", &self.refresh_at())
            .field("tags", &self.tags())
            .finish()
    }
}

impl Entry {
    /// A new entry written at `now`, fresh for `ttl_ms` (`None`: forever) and kept
    /// `grace_ms` longer as a stale entry.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, Some(50), 200, vec![]);
    /// assert_eq!((e.logical_expires_at(), e.physical_expires_at()), (Some(1_050), Some(1_250)));
    /// assert!(e.is_fresh(1_049) && !e.is_fresh(1_050) && e.is_alive(1_249) && !e.is_alive(1_250));
    /// ```
    pub fn new(
        value: Value,
        now: u64,
        ttl_ms: Option<u64>,
        grace_ms: u64,
        tags: Vec<String>,
    ) -> Self {
        let tags: Tags = tags.into_iter().map(String::into_boxed_str).collect();
        let (text, shape) = match &value {
            Value::Text(text) => {
                // Cannot fail: no string in memory reaches 256 GiB.
                assert!(text.len() as u64 <= LENGTH, "a text value past 256 GiB");
                (&**text, text.len() as u64)
            }
            Value::Slot(slot) => ("", SLOT | u64::from(*slot)),
        };
        let header = Header {
            refs: AtomicU32::new(1),
            stale_after: AtomicU32::new(ttl_ms.map_or(offset::NEVER, offset::encode)),
            dropped_after: ttl_ms.map_or(offset::NEVER, |ttl| {
                offset::encode(ttl.saturating_add(grace_ms))
            }),
            refresh_after: AtomicU32::new(offset::NEVER),
            shape,
            created_at: now,
        };
        Entry::build(header, "", text, (!tags.is_empty()).then(|| Box::new(tags)))
    }

    /// The layout of an entry whose bytes after the header take `len` bytes.
    fn layout(len: usize) -> Layout {
        let size = size_of::<Header>()
            .checked_add(len)
            .expect("an entry smaller than the address space");
        // Cannot fail: the header's alignment is a power of two and `size` fits in an isize
        // whenever the bytes it counts were in memory (their strings' lengths are isizes).
        Layout::from_size_align(size, align_of::<Header>()).expect("an entry's layout")
    }

    /// One allocation holding `header`, then `key`, then `text`, then the pointer to
    /// `tags` if there are any (`header.key_len` must be the key's length and its shape the
    /// text's length, or a slot for no text; [`TAGGED`] is set here).
    fn build(mut header: Header, key: &str, text: &str, tags: Option<Box<Tags>>) -> Self {
        debug_assert_eq!(
            (header.key_len(), header.text_len()),
            (key.len(), text.len())
        );
        header.shape &= !TAGGED;
        if tags.is_some() {
            header.shape |= TAGGED;
        }
        let layout = Entry::layout(header.tail_len());
        // Safety: the layout is not zero-sized (the header is not); the header is written
        // and then the bytes and the pointer, within the `size_of::<Header>() + tail_len`
        // bytes allocated.
        unsafe {
            let raw = alloc(layout);
            let Some(ptr) = NonNull::new(raw.cast::<Header>()) else {
                handle_alloc_error(layout)
            };
            ptr.as_ptr().write(header);
            let bytes = raw.add(size_of::<Header>());
            std::ptr::copy_nonoverlapping(key.as_ptr(), bytes, key.len());
            std::ptr::copy_nonoverlapping(text.as_ptr(), bytes.add(key.len()), text.len());
            if let Some(tags) = tags {
                let at = bytes.add(key.len() + text.len()).cast::<*mut Tags>();
                at.write_unaligned(Box::into_raw(tags));
            }
            Entry { ptr }
        }
    }

    /// Where a tagged entry's pointer to its tags is; `None` for an untagged entry.
    #[inline]
    fn tags_slot(&self) -> Option<*mut *mut Tags> {
        let header = self.header();
        if header.shape & TAGGED == 0 {
            return None;
        }
        let offset = size_of::<Header>() + header.key_len() + header.text_len();
        // Safety: within the allocation: `build` counted the pointer in its layout.
        Some(unsafe { self.ptr.as_ptr().cast::<u8>().add(offset).cast() })
    }

    /// The pointer to the entry's tags, if it has any (null once they were moved out).
    #[inline]
    fn tags_pointer(&self) -> Option<*mut Tags> {
        // Safety: `build` wrote the pointer, and only `filed_under` changes it, through the
        // entry's only handle.
        let tags = unsafe { self.tags_slot()?.read_unaligned() };
        (!tags.is_null()).then_some(tags)
    }

    #[inline]
    fn header(&self) -> &Header {
        // Safety: a handle keeps its allocation alive, and the header is initialised.
        unsafe { self.ptr.as_ref() }
    }

    /// The key's bytes, then the text's.
    #[inline]
    fn bytes(&self) -> &[u8] {
        let header = self.header();
        // Safety: `build` wrote `key_len + text_len` bytes right after the header, and they
        // never change.
        unsafe {
            std::slice::from_raw_parts(
                self.ptr.as_ptr().cast::<u8>().add(size_of::<Header>()),
                header.key_len() + header.text_len(),
            )
        }
    }

    /// Whether `a` and `b` are handles to the same entry.
    #[inline]
    pub fn ptr_eq(a: &Entry, b: &Entry) -> bool {
        a.ptr == b.ptr
    }

    /// The entry's address: the same for every handle to it, and no other live entry's.
    #[inline]
    pub(crate) fn addr(&self) -> usize {
        self.ptr.as_ptr() as usize
    }

    /// When the entry was written, in ms since the epoch.
    #[inline]
    pub fn created_at(&self) -> u64 {
        self.header().created_at
    }

    /// This entry, due for an eager refresh `in_ms` after its creation (a fraction of its
    /// ttl, computed by the caller). An entry that never turns stale is never refreshed.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, Some(100), 0, vec![]).refreshed_after(80);
    /// assert!(!e.claim_refresh(1_079));
    /// assert!(e.claim_refresh(1_080));   // the first caller past the threshold claims it
    /// assert!(!e.claim_refresh(1_081));  // and only that one
    /// ```
    pub fn refreshed_after(self, in_ms: u64) -> Self {
        if self.logical_expires_at().is_some() {
            let after = offset::encode(in_ms);
            self.header().refresh_after.store(after, Relaxed);
        }
        self
    }

    /// Whether this call, at `now`, is the one that starts the entry's eager refresh: true
    /// once, for the first caller at or past the threshold (an atomic swap, so concurrent
    /// readers cannot both win); false when the entry has none, or it was claimed already.
    #[inline]
    pub fn claim_refresh(&self, now: u64) -> bool {
        let header = self.header();
        // An entry without eager refresh costs one load and one comparison.
        header
            .time_after(header.refresh_after.load(Relaxed))
            .is_some_and(|at| now >= at)
            && header.refresh_after.swap(offset::NEVER, Relaxed) != offset::NEVER
    }

    /// When the entry is due for an eager refresh, in ms since the epoch; `None` when it has
    /// none or it was claimed.
    pub fn refresh_at(&self) -> Option<u64> {
        let header = self.header();
        header.time_after(header.refresh_after.load(Relaxed))
    }

    /// Whether the entry is still fresh (logically unexpired) at `now`.
    #[inline]
    pub fn is_fresh(&self, now: u64) -> bool {
        self.logical_expires_at().is_none_or(|at| now < at)
    }

    /// Whether the entry still exists (physically unexpired) at `now`.
    #[inline]
    pub fn is_alive(&self, now: u64) -> bool {
        self.physical_expires_at().is_none_or(|at| now < at)
    }

    /// When the entry is dropped, in ms since the epoch; `None` never. Exact when the
    /// entry lives (ttl and grace) under ~24.8 days; rounded up to the second past that.
    #[inline]
    pub fn physical_expires_at(&self) -> Option<u64> {
        let header = self.header();
        header.time_after(header.dropped_after)
    }

    /// The value.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value, ValueRef};
    /// assert_eq!(Entry::new(Value::text("1"), 0, None, 0, vec![]).value(), ValueRef::Text("1"));
    /// assert_eq!(Entry::new(Value::Slot(7), 0, None, 0, vec![]).value(), ValueRef::Slot(7));
    /// ```
    #[inline]
    pub fn value(&self) -> ValueRef<'_> {
        let header = self.header();
        if let Some(slot) = self.slot() {
            ValueRef::Slot(slot)
        } else {
            // Safety: the bytes after the key were copied from one `&str`.
            ValueRef::Text(unsafe {
                std::str::from_utf8_unchecked(&self.bytes()[header.key_len()..])
            })
        }
    }

    /// The slot of a slot value; `None` for a text value.
    #[inline]
    pub fn slot(&self) -> Option<u32> {
        let shape = self.header().shape;
        (shape & SLOT != 0).then_some((shape & LENGTH) as u32)
    }

    /// The entry's tags.
    pub fn tags(&self) -> &[Box<str>] {
        match self.tags_pointer() {
            // Safety: the pointer came from `Box::into_raw` and the entry owns the box
            // until it is freed, which a handle (borrowed here) prevents.
            Some(tags) => unsafe { &*tags },
            None => &[],
        }
    }

    /// The key the entry is stored under; empty until an L1 store holds it.
    #[inline]
    pub fn key(&self) -> &str {
        let key_len = self.header().key_len();
        // Safety: the first `key_len` bytes were copied from one `&str`.
        unsafe { std::str::from_utf8_unchecked(&self.bytes()[..key_len]) }
    }

    /// This entry, filed under `key` (what the L1 store does when it stores it): a new
    /// allocation holding the key before the value, with the same lifetimes and tags (moved
    /// when this is the entry's only handle). `None` for a key longer than [`MAX_KEY_BYTES`]
    /// (the store refuses it as too large).
    pub(crate) fn filed_under(self, key: &str) -> Option<Self> {
        if key.len() > MAX_KEY_BYTES {
            return None;
        }
        let tags = match (self.tags_slot(), self.tags_pointer()) {
            (Some(at), Some(tags)) if self.header().refs.load(Acquire) == 1 => {
                // Safety: this is the only handle (and it is owned here), so nothing else
                // reads the pointer; nulling it hands the box over (the old allocation's
                // drop then frees no tags), and the box came from `Box::into_raw`.
                unsafe {
                    at.write_unaligned(std::ptr::null_mut());
                    Some(Box::from_raw(tags))
                }
            }
            (_, Some(_)) => Some(Box::new(self.tags().into())),
            _ => None,
        };
        let old = self.header();
        let header = Header {
            refs: AtomicU32::new(1),
            stale_after: AtomicU32::new(old.stale_after.load(Relaxed)),
            dropped_after: old.dropped_after,
            refresh_after: AtomicU32::new(old.refresh_after.load(Relaxed)),
            shape: old.shape & !KEY | (key.len() as u64) << KEY_SHIFT,
            created_at: old.created_at,
        };
        let text = &self.bytes()[old.key_len()..];
        // Safety: the bytes after the key were copied from one `&str`.
        let text = unsafe { std::str::from_utf8_unchecked(text) };
        Some(Entry::build(header, key, text, tags))
    }

    /// When the entry turns stale, in ms since the epoch; `None` never.
    /// Exact when the ttl is under ~24.8 days; rounded up to the second past that.
    #[inline]
    pub fn logical_expires_at(&self) -> Option<u64> {
        let header = self.header();
        header.time_after(header.stale_after.load(Relaxed))
    }

    /// Turns the entry stale at `now` (if it was not already), keeping its physical expiry
    /// so grace can still serve it.
    ///
    /// ```
    /// use rustocache_core::entry::{Entry, Value};
    /// let e = Entry::new(Value::text("1"), 1_000, None, 0, vec![]);
    /// e.expire(2_000);
    /// assert_eq!(e.logical_expires_at(), Some(2_000));
    /// assert!(!e.is_fresh(2_000));
    /// ```
    pub fn expire(&self, now: u64) {
        let header = self.header();
        // Rounded down: stale from `now` at the latest. (Offsets are in the order of the
        // times they stand for, so the smaller offset is the earlier expiry.)
        let after = offset::encode_down(now.saturating_sub(header.created_at));
        header.stale_after.fetch_min(after, Relaxed);
    }

    /// The bytes the entry weighs under `key`: key, value and tags.
    pub fn weight(&self, key: &str) -> u64 {
        key.len() as u64 + self.weight_without_key()
    }

    /// The bytes of the value and tags alone.
    pub fn weight_without_key(&self) -> u64 {
        self.value().weight() + self.tags().iter().map(|t| t.len() as u64).sum::<u64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn an_entry_is_one_allocation_behind_a_thin_pointer() {
        assert_eq!(std::mem::size_of::<Entry>(), 8);
        assert_eq!(std::mem::size_of::<Option<Entry>>(), 8);
        // The header, then the bytes: a ~100-byte key and value take a 144-byte chunk.
        assert_eq!(std::mem::size_of::<Header>(), 32);
        let entry = Entry::new(Value::text("{}"), 0, None, 0, vec!["t".into()])
            .filed_under("users:1")
            .unwrap();
        assert_eq!(
            (entry.key(), entry.value()),
            ("users:1", ValueRef::Text("{}"))
        );
        assert_eq!(entry.tags(), [Box::from("t")]);
        let slot = Entry::new(Value::Slot(3), 0, None, 0, vec![])
            .filed_under("k")
            .unwrap();
        assert_eq!(
            (slot.key(), slot.value(), slot.slot()),
            ("k", ValueRef::Slot(3), Some(3))
        );
        assert!(slot.tags().is_empty());
        let empty = Entry::new(Value::text(""), 0, None, 0, vec![]);
        assert_eq!((empty.key(), empty.value()), ("", ValueRef::Text("")));
    }

    #[test]
    fn filing_a_shared_entry_leaves_the_other_handle_whole() {
        let unfiled = Entry::new(
            Value::text("v"),
            5,
            Some(10),
            3,
            vec!["a".into(), "b".into()],
        )
        .refreshed_after(7);
        let other = unfiled.clone();
        let filed = unfiled.filed_under("key").unwrap();
        for (entry, key) in [(&other, ""), (&filed, "key")] {
            assert_eq!(entry.key(), key);
            assert_eq!(entry.value(), ValueRef::Text("v"));
            assert_eq!(entry.tags(), [Box::from("a"), Box::from("b")]);
            assert_eq!(
                (
                    entry.created_at(),
                    entry.logical_expires_at(),
                    entry.physical_expires_at()
                ),
                (5, Some(15), Some(18))
            );
            assert_eq!(entry.refresh_at(), Some(12));
        }
        assert!(!Entry::ptr_eq(&other, &filed));
        // A change through one handle is seen through its clones, not through the filed copy.
        let share = other.clone();
        share.expire(6);
        assert_eq!(other.logical_expires_at(), Some(6));
        assert_eq!(filed.logical_expires_at(), Some(15));
        assert!(Entry::ptr_eq(&other, &share));
    }

    #[test]
    fn concurrent_readers_past_the_threshold_claim_one_refresh() {
        let entry = Entry::new(Value::text("v"), 0, Some(100), 0, vec![]).refreshed_after(80);
        let winners: usize = (0..8)
            .map(|_| {
                let entry = entry.clone();
                std::thread::spawn(move || (0..1_000).filter(|_| entry.claim_refresh(90)).count())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|thread| thread.join().unwrap())
            .sum();
        assert_eq!(winners, 1);
        assert_eq!(entry.refresh_at(), None);
    }

    #[test]
    fn long_lifetimes_round_up_to_the_second_and_expire_turns_stale_at_once() {
        let (now, day) = (1_700_000_000_123, 86_400_000);
        let short = Entry::new(Value::text("v"), now, Some(day + 1), 7, vec![]);
        assert_eq!(short.logical_expires_at(), Some(now + day + 1));
        assert_eq!(short.physical_expires_at(), Some(now + day + 8));
        let long = Entry::new(Value::text("v"), now, Some(30 * day + 1), 0, vec![]);
        assert_eq!(long.logical_expires_at(), Some(now + 30 * day + 1_000));
        assert!(long.is_fresh(now + 30 * day + 999) && !long.is_fresh(now + 30 * day + 1_000));
        // Turned stale 40 days in, at a time that is not a whole second past its creation:
        // stale then, not a fraction of a second later.
        let at = now + 40 * day + 1_500;
        let old = Entry::new(Value::text("v"), now, Some(50 * day), 0, vec![]);
        old.expire(at);
        assert!(!old.is_fresh(at) && old.is_fresh(at - 1_000));
        assert!(old.is_alive(at));
        // Past ~68 years is never.
        let forever = Entry::new(Value::text("v"), now, Some(100 * 365 * day), 0, vec![]);
        assert_eq!(
            (forever.logical_expires_at(), forever.physical_expires_at()),
            (None, None)
        );
    }

    #[test]
    fn a_key_past_16_mib_is_not_filed() {
        let long = "k".repeat(MAX_KEY_BYTES + 1);
        assert!(Entry::new(Value::text("v"), 0, None, 0, vec![])
            .filed_under(&long)
            .is_none());
        let longest = &long[1..];
        let entry = Entry::new(Value::text("v"), 0, Some(5), 0, vec!["t".into()]);
        let filed = entry.filed_under(longest).unwrap();
        assert_eq!(
            (filed.key(), filed.value(), filed.tags()),
            (longest, ValueRef::Text("v"), &[Box::from("t")][..])
        );
        assert_eq!(filed.logical_expires_at(), Some(5));
    }

    #[test]
    fn an_entry_without_a_ttl_is_never_refreshed() {
        let entry = Entry::new(Value::text("v"), 0, None, 0, vec![]).refreshed_after(10);
        assert_eq!(entry.refresh_at(), None);
        assert!(!entry.claim_refresh(u64::MAX - 1));
    }
}
