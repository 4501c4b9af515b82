//! Errors the engine reports to its callers.

use std::fmt;

use crate::store::L1Config;

/// An error of the engine. Every variant is a caller's mistake or a limit being hit;
/// none of them leaves the store in a changed state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CoreError {
    /// A store option is out of range (the message names it and says why).
    InvalidOption(String),
    /// An entry weighs more bytes than the store's `maxEntrySize`; it was not stored.
    EntryTooLarge {
        /// The entry's weight in bytes (key, value and tags).
        size: u64,
        /// The store's limit in bytes.
        limit: u64,
    },
    /// A shared store (see [`crate::registry`]) was asked for with other limits than those
    /// it was built with; nothing was created.
    SharedStoreMismatch {
        /// The store's name.
        name: String,
        /// The limits the live store was built with.
        existing: L1Config,
        /// The limits asked for.
        requested: L1Config,
    },
}

/// Limits as options are written in JavaScript, e.g. `maxItems 100, maxSize none`.
fn limits(config: &L1Config) -> String {
    let show = |limit: Option<u64>| limit.map_or_else(|| "none".to_string(), |n| n.to_string());
    format!(
        "maxItems {}, maxSize {}, maxEntrySize {}",
        show(config.max_items),
        show(config.max_size),
        show(config.max_entry_size)
    )
}

impl fmt::Display for CoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoreError::InvalidOption(msg) => write!(f, "invalid option: {msg}"),
            CoreError::EntryTooLarge { size, limit } => {
                write!(
                    f,
                    "entry of {size} bytes exceeds maxEntrySize of {limit} bytes"
                )
            }
            CoreError::SharedStoreMismatch {
                name,
                existing,
                requested,
            } => write!(
                f,
                "shared store {name:?} already exists with {}; asked for {}: every thread must open it with the same limits",
                limits(existing),
                limits(requested)
            ),
        }
    }
}

impl std::error::Error for CoreError {}
