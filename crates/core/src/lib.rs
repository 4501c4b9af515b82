//! The engine of RustoCache, free of any Node.js binding.
//!
//! The crate holds what a cache tier needs whatever language drives it:
//!
//! - [`entry`]: the entry model — a value with a logical expiry (its ttl), a physical
//!   expiry (ttl plus grace), tags and a creation time;
//! - [`store`]: the in-memory (L1) store, bounded by item count and/or bytes, with
//!   per-entry expiry and prefix-scoped clears for namespaces;
//! - [`policy`]: the store's eviction policy, W-TinyLFU with an adaptive window, and its
//!   [frequency sketch](policy::frequency_sketch);
//! - [`registry`]: named stores shared by every thread of a process (worker threads);
//! - [`namespace`]: views of a store under a key prefix, as bentocache namespaces are;
//! - [`stats`]: the counters every store keeps;
//! - [`redis_tier`]: the distributed (L2) tier on Redis, Redis Cluster or Valkey;
//! - [`file_tier`]: the embedded, persistent L2 tier on local disk (SQLite), and
//!   [`l2_tier`], either of the two behind one type;
//! - [`envelope`]: the versioned binary form entries cross the wire in, and
//!   [`bentocache_wire`], bentocache's own formats for fleets that mix the two;
//! - [`bus`]: Redis pub/sub that keeps the L1 stores of many processes coherent, and
//!   notices the messages it missed;
//! - [`clock`] and [`hashing`]: the wall clock entries are stamped with and the fast
//!   non-cryptographic hasher keys go through.
//!
//! ```
//! use rustocache_core::{entry::{Entry, Value}, store::{L1Config, L1Store, Lookup}};
//!
//! let store = L1Store::new(L1Config { max_items: Some(1_000), ..Default::default() }).unwrap();
//! let now = rustocache_core::clock::now_ms();
//! store.set("users:1", Entry::new(Value::text("{\"id\":1}"), now, Some(60_000), 0, Vec::new())).unwrap();
//! assert!(matches!(store.get("users:1", now), Lookup::Fresh(_)));
//! ```

// Every public item says what it is for (CI also builds the docs with warnings as errors).
#![deny(missing_docs)]

pub mod bentocache_wire;
pub mod bus;
pub mod clock;
mod codec;
pub mod entry;
pub mod envelope;
pub mod error;
pub mod file_tier;
pub mod hashing;
mod index;
pub mod l2_tier;
pub mod namespace;
pub mod policy;
mod read_buffer;
pub mod redis_tier;
pub mod registry;
mod slot_ledger;
pub mod stats;
pub mod store;

pub use error::CoreError;
