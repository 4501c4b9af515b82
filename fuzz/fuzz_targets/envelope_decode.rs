//! The entry envelope decoder on arbitrary bytes: it must return, never panic, and what it
//! accepts must survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustocache_core::envelope::WireEntry;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(entry) = WireEntry::decode(bytes) {
        assert_eq!(WireEntry::decode(&entry.encode()), Ok(entry));
    }
});
