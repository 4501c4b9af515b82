//! The store's read index: every live entry by key, with the bytes they weigh.

use std::collections::HashMap;
use std::sync::Arc;

use crate::entry::Entry;
use crate::hashing::KeyHasher;

/// Entries by key. The total weight is kept up to date by every change, so that the store
/// can tell at once whether it holds more than its limits.
#[derive(Default)]
pub(crate) struct Index {
    map: HashMap<Arc<str>, Arc<Entry>, KeyHasher>,
    bytes: u64,
}

impl Index {
    #[inline]
    pub(crate) fn get_key_value(&self, key: &str) -> Option<(&Arc<str>, &Arc<Entry>)> {
        self.map.get_key_value(key)
    }

    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<&Arc<Entry>> {
        self.map.get(key)
    }

    pub(crate) fn insert(&mut self, key: Arc<str>, entry: Arc<Entry>) {
        let key_bytes = key.len() as u64;
        let added = key_bytes + entry.weight_without_key();
        if let Some(old) = self.map.insert(key, entry) {
            self.bytes -= key_bytes + old.weight_without_key();
        }
        self.bytes += added;
    }

    pub(crate) fn remove(&mut self, key: &str) -> Option<Arc<Entry>> {
        let (key, entry) = self.map.remove_entry(key)?;
        self.bytes -= entry.weight(&key);
        Some(entry)
    }

    /// Removes `key` only if it still holds `entry` (and not a newer entry).
    pub(crate) fn remove_if_same(&mut self, key: &str, entry: &Arc<Entry>) {
        if self
            .map
            .get(key)
            .is_some_and(|held| Arc::ptr_eq(held, entry))
        {
            self.remove(key);
        }
    }

    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&str, &Entry) -> bool) {
        let mut bytes = self.bytes;
        self.map.retain(|key, entry| {
            let kept = keep(key, entry);
            if !kept {
                bytes -= entry.weight(key);
            }
            kept
        });
        self.bytes = bytes;
    }

    pub(crate) fn clear(&mut self) {
        self.map.clear();
        self.bytes = 0;
    }

    pub(crate) fn len(&self) -> u64 {
        self.map.len() as u64
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }
}
