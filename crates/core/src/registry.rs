//! Named L1 stores, shared by every thread of a process.
//!
//! A Node.js process loads a native addon once, whatever number of worker threads load it,
//! but each thread builds its own stores: without this registry, N workers caching the same
//! data hold N copies of it. [`shared_store`] hands out one [`L1Store`] per name for the
//! whole process: every caller asking for the same name, from any thread, gets the same
//! store (the same `Arc`), so a value written in one thread is read in another.
//!
//! The registry holds its stores weakly. A store lives while some caller holds it; once the
//! last holder drops it, its entries are freed, the name is forgotten, and the next request
//! under that name builds a new, empty store.
//!
//! Every holder of a name must ask for the same limits: the store was built with the first
//! holder's, and a request with other limits is refused with
//! [`CoreError::SharedStoreMismatch`] rather than silently given a store bounded otherwise.
//!
//! A shared store holds what any [`L1Store`] holds; the binding must only put in it values
//! that mean the same in every thread (serialized text, not a thread's slot numbers).
//!
//! ```
//! use rustocache_core::registry::shared_store;
//! use rustocache_core::store::L1Config;
//! use std::sync::Arc;
//!
//! let config = L1Config { max_items: Some(100), ..Default::default() };
//! let a = shared_store("doc-example", config).unwrap();
//! let b = std::thread::spawn(move || shared_store("doc-example", config).unwrap()).join().unwrap();
//! assert!(Arc::ptr_eq(&a, &b));
//! ```

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use parking_lot::Mutex;

use crate::error::CoreError;
use crate::store::{L1Config, L1Store};

/// The longest name a shared store may have, in bytes.
pub const MAX_NAME_LEN: usize = 256;

/// The live stores, by name. Held weakly: the holders own the stores.
static REGISTRY: Mutex<BTreeMap<String, Weak<L1Store>>> = Mutex::new(BTreeMap::new());

/// The store named `name` for the whole process: the one already held by some caller, from
/// any thread, or else a new one with the limits of `config`.
///
/// Fails with [`CoreError::InvalidOption`] for an empty name, one longer than
/// [`MAX_NAME_LEN`] bytes, or limits [`L1Store::new`] refuses; with
/// [`CoreError::SharedStoreMismatch`] when the store already exists with other limits.
pub fn shared_store(name: &str, config: L1Config) -> Result<Arc<L1Store>, CoreError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN {
        return Err(CoreError::InvalidOption(format!(
            "shared must be a name of 1 to {MAX_NAME_LEN} bytes, got {} bytes",
            name.len()
        )));
    }
    let mut registry = REGISTRY.lock();
    // Forget the names whose stores were dropped, so that the map stays as small as the
    // set of live stores.
    registry.retain(|_, store| store.strong_count() > 0);
    if let Some(store) = registry.get(name).and_then(Weak::upgrade) {
        let existing = store.config();
        if existing != config {
            return Err(CoreError::SharedStoreMismatch {
                name: name.to_string(),
                existing,
                requested: config,
            });
        }
        return Ok(store);
    }
    // Built under the registry's lock, so that two threads asking at once get one store.
    let store = Arc::new(L1Store::new(config)?);
    registry.insert(name.to_string(), Arc::downgrade(&store));
    Ok(store)
}

/// The names of the shared stores alive now, in order.
pub fn shared_store_names() -> Vec<String> {
    REGISTRY
        .lock()
        .iter()
        .filter(|(_, store)| store.strong_count() > 0)
        .map(|(name, _)| name.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::now_ms;
    use crate::entry::{Entry, Value};
    use crate::store::Lookup;

    fn items(n: u64) -> L1Config {
        L1Config {
            max_items: Some(n),
            ..Default::default()
        }
    }

    fn text(value: &str) -> Entry {
        Entry::new(Value::text(value), now_ms(), None, 0, Vec::new())
    }

    #[test]
    fn one_name_one_store_across_threads() {
        let writer = std::thread::spawn(|| {
            let store = shared_store("registry-threads", items(10)).unwrap();
            store.set("k", text("\"v\"")).unwrap();
            store
        })
        .join()
        .unwrap();
        let reader = std::thread::spawn(|| {
            let store = shared_store("registry-threads", items(10)).unwrap();
            matches!(store.get("k", now_ms()), Lookup::Fresh(_))
        })
        .join()
        .unwrap();
        assert!(reader, "the reader thread sees the writer thread's entry");
        drop(writer);
    }

    #[test]
    fn other_names_are_other_stores() {
        let a = shared_store("registry-a", items(10)).unwrap();
        let b = shared_store("registry-b", items(10)).unwrap();
        assert!(!Arc::ptr_eq(&a, &b));
        a.set("k", text("1")).unwrap();
        assert!(matches!(b.get("k", now_ms()), Lookup::Miss));
    }

    #[test]
    fn other_limits_are_refused() {
        let _held = shared_store("registry-mismatch", items(10)).unwrap();
        let err = shared_store("registry-mismatch", items(20)).err().unwrap();
        assert!(
            matches!(err, CoreError::SharedStoreMismatch { .. }),
            "{err}"
        );
        assert!(err.to_string().contains("registry-mismatch"), "{err}");
    }

    #[test]
    fn a_dropped_store_is_forgotten() {
        let store = shared_store("registry-drop", items(10)).unwrap();
        store.set("k", text("1")).unwrap();
        assert!(shared_store_names().contains(&"registry-drop".to_string()));
        drop(store);
        assert!(!shared_store_names().contains(&"registry-drop".to_string()));
        // A new, empty store, and now with other limits if asked.
        let again = shared_store("registry-drop", items(20)).unwrap();
        assert!(matches!(again.get("k", now_ms()), Lookup::Miss));
    }

    #[test]
    fn bad_names_and_limits_are_refused() {
        assert!(matches!(
            shared_store("", items(10)),
            Err(CoreError::InvalidOption(_))
        ));
        let long = "x".repeat(MAX_NAME_LEN + 1);
        assert!(matches!(
            shared_store(&long, items(10)),
            Err(CoreError::InvalidOption(_))
        ));
        assert!(matches!(
            shared_store("registry-zero", items(0)),
            Err(CoreError::InvalidOption(_))
        ));
        assert!(!shared_store_names().contains(&"registry-zero".to_string()));
    }
}
