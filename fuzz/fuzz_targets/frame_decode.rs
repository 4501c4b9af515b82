//! The bus frame decoder on arbitrary bytes: it must return, never panic, and what it
//! accepts must survive a round trip.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rustocache_core::bus::frame::BusFrame;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(frame) = BusFrame::decode(bytes) {
        assert_eq!(BusFrame::decode(&frame.encode()), Ok(frame));
    }
});
