//! Errors the engine reports to its callers.

use std::fmt;

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
        }
    }
}

impl std::error::Error for CoreError {}
