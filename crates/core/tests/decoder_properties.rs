//! Property tests of the two decoders that read untrusted bytes: the entry envelope (what
//! Redis hands back under our keys) and the bus frame (whatever is published on the
//! channel). Each property runs a bounded number of cases, so `cargo test` stays quick; the
//! open-ended search is the cargo-fuzz targets in `fuzz/`, whose seed corpus is checked
//! here too.

use std::path::Path;

use proptest::prelude::*;
use rustocache_core::bus::frame::{BusFrame, BusKind, FrameError, MAX_FRAME_BYTES};
use rustocache_core::envelope::{EnvelopeError, WireEntry};

/// Cases per property: enough to reach the decoders' branches, few enough for CI (the
/// whole file runs in well under a second in release).
const CASES: u32 = 2_000;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: CASES,
        // Shrinking a failure is what matters; no file of past failures is written.
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn any_entry() -> impl Strategy<Value = WireEntry> {
    (
        any::<u64>(),
        any::<Option<u64>>(),
        any::<Option<u64>>(),
        prop::collection::vec(".{0,12}", 0..4),
        prop::collection::vec(any::<u8>(), 0..300),
    )
        .prop_map(
            |(created_at, logical_expires_at, physical_expires_at, tags, value)| WireEntry {
                created_at,
                logical_expires_at,
                physical_expires_at,
                tags,
                value,
            },
        )
}

fn any_kind() -> impl Strategy<Value = BusKind> {
    prop_oneof![
        Just(BusKind::Set),
        Just(BusKind::Delete),
        Just(BusKind::Expire),
        Just(BusKind::Clear),
        Just(BusKind::DeleteByTag),
        Just(BusKind::ExpireByTag),
    ]
}

fn any_frame() -> impl Strategy<Value = BusFrame> {
    (
        any::<u128>(),
        any::<u64>(),
        any_kind(),
        any::<u64>(),
        ".{0,16}",
        ".{0,16}",
        prop::collection::vec(".{0,24}", 0..6),
    )
        .prop_map(
            |(sender, sequence, kind, at, store, namespace, keys)| BusFrame {
                sender,
                sequence,
                kind,
                at,
                store,
                namespace,
                keys,
            },
        )
}

/// Bytes that start like ours (magic and version) about half the time, so the body decoder
/// is reached, not only the magic check.
fn bytes_with_magic(magic: &'static [u8; 3]) -> impl Strategy<Value = Vec<u8>> {
    (any::<bool>(), prop::collection::vec(any::<u8>(), 0..256)).prop_map(move |(ours, tail)| {
        if ours {
            magic.iter().copied().chain(tail).collect()
        } else {
            tail
        }
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn envelope_arbitrary_bytes_never_panic(bytes in bytes_with_magic(b"RC\x01")) {
        // A decode that succeeds must describe the bytes exactly: re-encoding its entry
        // decodes to the same entry.
        if let Ok(entry) = WireEntry::decode(&bytes) {
            prop_assert_eq!(WireEntry::decode(&entry.encode()), Ok(entry));
        }
    }

    #[test]
    fn envelope_round_trips(entry in any_entry()) {
        let bytes = entry.encode();
        prop_assert_eq!(WireEntry::decode(&bytes), Ok(entry));
    }

    #[test]
    fn envelope_truncations_are_errors(entry in any_entry(), cut in any::<prop::sample::Index>()) {
        let bytes = entry.encode();
        let len = cut.index(bytes.len());
        let err = WireEntry::decode(&bytes[..len]).unwrap_err();
        // Past the magic and version, what is left is ours but incomplete.
        if len >= 3 {
            prop_assert!(matches!(err, EnvelopeError::Corrupt(_)), "{:?}", err);
        }
    }

    #[test]
    fn envelope_bit_flips_never_panic(
        entry in any_entry(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut bytes = entry.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        match WireEntry::decode(&bytes) {
            // A flip in a number or in the value's bytes can give another valid entry; it
            // must then be a different one (the flip is not ignored).
            Ok(decoded) => prop_assert_ne!(decoded, entry),
            Err(EnvelopeError::Foreign) => prop_assert!(i < 2),
            Err(EnvelopeError::UnsupportedVersion(_)) => prop_assert_eq!(i, 2),
            Err(EnvelopeError::Corrupt(_)) => prop_assert!(i >= 3),
        }
    }

    #[test]
    fn frame_arbitrary_bytes_never_panic(bytes in bytes_with_magic(b"RB\x01")) {
        if let Ok(frame) = BusFrame::decode(&bytes) {
            prop_assert_eq!(BusFrame::decode(&frame.encode()), Ok(frame));
        }
    }

    #[test]
    fn frame_round_trips(frame in any_frame()) {
        let bytes = frame.encode();
        prop_assert!(bytes.len() <= MAX_FRAME_BYTES);
        prop_assert_eq!(BusFrame::decode(&bytes), Ok(frame));
    }

    #[test]
    fn frame_truncations_are_errors(frame in any_frame(), cut in any::<prop::sample::Index>()) {
        let bytes = frame.encode();
        let len = cut.index(bytes.len());
        let err = BusFrame::decode(&bytes[..len]).unwrap_err();
        if len >= 3 {
            prop_assert!(matches!(err, FrameError::Corrupt(_)), "{:?}", err);
        }
    }

    #[test]
    fn frame_bit_flips_never_panic(
        frame in any_frame(),
        at in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let mut bytes = frame.encode();
        let i = at.index(bytes.len());
        bytes[i] ^= 1 << bit;
        match BusFrame::decode(&bytes) {
            Ok(decoded) => prop_assert_ne!(decoded, frame),
            Err(FrameError::Foreign) => prop_assert!(i < 2),
            Err(FrameError::UnsupportedVersion(_)) => prop_assert_eq!(i, 2),
            Err(FrameError::Corrupt(_)) => prop_assert!(i >= 3),
            Err(FrameError::Oversized(_)) => prop_assert!(false, "a flip cannot grow a frame"),
        }
    }

    #[test]
    fn frame_appended_garbage_is_refused(frame in any_frame(), extra in prop::collection::vec(any::<u8>(), 1..16)) {
        let mut bytes = frame.encode();
        bytes.extend(extra);
        prop_assert!(matches!(BusFrame::decode(&bytes), Err(FrameError::Corrupt(_))));
    }
}

/// Every file of a cargo-fuzz target's committed seed corpus.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|f| {
            let path = f.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Whether a corpus file was written by the fuzzer (named by its SHA-1) rather than by hand.
fn found_by_the_fuzzer(name: &str) -> bool {
    name.len() == 40 && name.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn the_seed_corpora_hold_valid_and_invalid_inputs() {
    // Seeds named `valid-*` are real encodings (so the fuzzer starts from inside the
    // format); the other named seeds must be refused. Neither kind may panic.
    for (target, decode) in [
        (
            "envelope_decode",
            (|b: &[u8]| WireEntry::decode(b).is_ok()) as fn(&[u8]) -> bool,
        ),
        ("frame_decode", |b: &[u8]| BusFrame::decode(b).is_ok()),
    ] {
        let seeds: Vec<_> = corpus(target)
            .into_iter()
            .filter(|(name, _)| !found_by_the_fuzzer(name))
            .collect();
        assert!(seeds.len() >= 4, "{target}: only {} seeds", seeds.len());
        for (name, bytes) in seeds {
            assert_eq!(
                decode(&bytes),
                name.starts_with("valid-"),
                "{target}/{name}"
            );
        }
    }
}

#[test]
fn the_inputs_the_fuzzer_found_still_hold_its_properties() {
    // The committed corpus replayed on stable Rust, in every `cargo test`: each input
    // decodes or is refused without a panic, and what decodes survives a round trip.
    for (name, bytes) in corpus("envelope_decode") {
        if let Ok(entry) = WireEntry::decode(&bytes) {
            assert_eq!(
                WireEntry::decode(&entry.encode()),
                Ok(entry),
                "envelope_decode/{name}"
            );
        }
    }
    for (name, bytes) in corpus("frame_decode") {
        if let Ok(frame) = BusFrame::decode(&bytes) {
            assert_eq!(
                BusFrame::decode(&frame.encode()),
                Ok(frame),
                "frame_decode/{name}"
            );
        }
    }
}
