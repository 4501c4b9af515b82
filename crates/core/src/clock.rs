//! The wall clock entries are stamped with.
//!
//! Expiry times are absolute milliseconds since the Unix epoch rather than monotonic
//! instants, because an entry's expiry must keep its meaning when the entry travels to
//! another tier or another process.

use std::time::{SystemTime, UNIX_EPOCH};

pub mod published;

/// Milliseconds since the Unix epoch, as `Date.now()` gives them in JavaScript.
///
/// ```
/// let a = rustocache_core::clock::now_ms();
/// assert!(a > 1_600_000_000_000);
/// ```
#[inline]
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        // A clock set before 1970 is a broken host; treat it as the epoch rather than panic.
        .unwrap_or(0)
}
