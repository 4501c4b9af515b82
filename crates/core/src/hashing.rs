//! The hasher keys go through.
//!
//! foldhash is among the fastest general-purpose hashers for short string keys and is
//! portable (no AES-NI requirement). It is not DoS-resistant in the cryptographic sense,
//! but it is seeded randomly per process, which is what a cache keyed by user input needs.

/// The [`BuildHasher`](std::hash::BuildHasher) of every map in the engine.
pub type KeyHasher = foldhash::fast::RandomState;
