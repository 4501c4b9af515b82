//! The store's read index: every live entry by key, with the bytes they weigh.

use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::sync::Arc;

use hashbrown::hash_table::{Entry as Slot, HashTable};

use crate::entry::Entry;
use crate::hashing::KeyHasher;

/// Entries by key. The total weight is kept up to date by every change, so that the store
/// can tell at once whether it holds more than its limits; so is the set of keys under each
/// tag, so that invalidating a tag costs the entries it has, not a scan of the store.
/// Untagged entries cost the tag index nothing.
///
/// The map is a bare table searched by a hash the caller may supply
/// ([`Index::get_hashed`]): a read hashes its key once, for this lookup and for the policy.
#[derive(Default)]
pub(crate) struct Index {
    /// The entries, each found by the key it carries ([`Entry::key`]).
    map: HashTable<Entry>,
    hasher: KeyHasher,
    bytes: u64,
    by_tag: HashMap<Box<str>, HashSet<Arc<str>, KeyHasher>, KeyHasher>,
}

/// Files `entry`'s key under each of its tags (one shared copy of the key for all).
fn tag(by_tag: &mut HashMap<Box<str>, HashSet<Arc<str>, KeyHasher>, KeyHasher>, entry: &Entry) {
    let key: Arc<str> = Arc::from(entry.key());
    for tag in entry.tags().iter() {
        by_tag
            .entry(tag.clone())
            .or_default()
            .insert(Arc::clone(&key));
    }
}

/// Takes `key` out of each of `entry`'s tags, dropping tags left empty.
fn untag(
    by_tag: &mut HashMap<Box<str>, HashSet<Arc<str>, KeyHasher>, KeyHasher>,
    key: &str,
    entry: &Entry,
) {
    for tag in entry.tags().iter() {
        if let Some(keys) = by_tag.get_mut(tag) {
            keys.remove(key);
            if keys.is_empty() {
                by_tag.remove(tag);
            }
        }
    }
}

impl Index {
    /// An empty index hashing keys with `hasher`.
    pub(crate) fn with_hasher(hasher: KeyHasher) -> Self {
        Index {
            hasher,
            ..Index::default()
        }
    }

    /// The hash the index files `key` under.
    #[inline]
    pub(crate) fn hash(&self, key: &str) -> u64 {
        self.hasher.hash_one(key)
    }

    /// The entry under `key`, whose [`Self::hash`] is `hash`.
    #[inline]
    pub(crate) fn get_hashed(&self, key: &str, hash: u64) -> Option<&Entry> {
        self.map.find(hash, |held| held.key() == key)
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.get_hashed(key, self.hash(key))
    }

    pub(crate) fn insert(&mut self, entry: Entry) {
        let key_bytes = entry.key().len() as u64;
        let added = key_bytes + entry.weight_without_key();
        let tagged = !entry.tags().is_empty();
        let new = tagged.then(|| entry.clone());
        let hasher = &self.hasher;
        let hash = hasher.hash_one(entry.key());
        let old = match self.map.entry(
            hash,
            |held| held.key() == entry.key(),
            |held| hasher.hash_one(held.key()),
        ) {
            Slot::Occupied(mut held) => Some(std::mem::replace(held.get_mut(), entry)),
            Slot::Vacant(vacant) => {
                vacant.insert(entry);
                None
            }
        };
        if let Some(old) = old {
            self.bytes -= key_bytes + old.weight_without_key();
            if !old.tags().is_empty() {
                untag(&mut self.by_tag, old.key(), &old);
            }
        }
        if let Some(new) = new {
            tag(&mut self.by_tag, &new);
        }
        self.bytes += added;
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Entry> {
        let found = self
            .map
            .find_entry(self.hasher.hash_one(key), |held| held.key() == key);
        let (entry, _) = found.ok()?.remove();
        self.bytes -= entry.weight(key);
        if !entry.tags().is_empty() {
            untag(&mut self.by_tag, key, &entry);
        }
        Some(entry)
    }

    /// Removes `key` only if it still holds `entry` (and not a newer entry); tells whether
    /// it did.
    pub(crate) fn remove_if_same(&mut self, key: &str, entry: &Entry) -> bool {
        let same = self.get(key).is_some_and(|held| Entry::ptr_eq(held, entry));
        if same {
            self.remove(key);
        }
        same
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &Entry) -> bool) {
        let mut bytes = self.bytes;
        let by_tag = &mut self.by_tag;
        self.map.retain(|entry| {
            let key = entry.key();
            let kept = keep(key, entry);
            if !kept {
                bytes -= entry.weight(key);
                if !entry.tags().is_empty() {
                    untag(by_tag, key, entry);
                }
            }
            kept
        });
        self.bytes = bytes;
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.by_tag.clear();
        self.bytes = 0;
    }

    /// The keys of the entries carrying any of `tags`.
    pub(crate) fn tagged(&self, tags: &[&str]) -> Vec<Arc<str>> {
        let mut keys: HashSet<Arc<str>, KeyHasher> = HashSet::default();
        for tag in tags {
            if let Some(tagged) = self.by_tag.get(*tag) {
                keys.extend(tagged.iter().cloned());
            }
        }
        keys.into_iter().collect()
    }

    pub(crate) fn len(&self) -> u64 {
        self.map.len() as u64
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}
