//! Writes the seed corpus of the cargo-fuzz targets (`fuzz/corpus/`): a few real encodings,
//! named `valid-*`, and a few near misses. Run from the repository root:
//! `cargo run -p rustocache-core --example fuzz_seeds`. The property tests check that the
//! committed seeds still decode as their names say.

use std::fs;
use std::path::Path;

use rustocache_core::bus::frame::{BusFrame, BusKind};
use rustocache_core::envelope::WireEntry;

fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = Path::new("fuzz/corpus").join(target);
    fs::create_dir_all(&dir).expect("create the corpus folder");
    fs::write(dir.join(name), bytes).expect("write a seed");
}

fn main() {
    let plain = WireEntry {
        created_at: 1_700_000_000_000,
        logical_expires_at: Some(1_700_000_060_000),
        physical_expires_at: Some(1_700_003_600_000),
        tags: vec![],
        value: br#"{"id":1,"name":"Ada"}"#.to_vec(),
    };
    let tagged = WireEntry {
        logical_expires_at: None,
        physical_expires_at: None,
        tags: vec!["users".into(), "тег".into()],
        value: "\"héllo\"".as_bytes().to_vec(),
        ..plain.clone()
    };
    let envelope = "envelope_decode";
    write(envelope, "valid-plain", &plain.encode());
    write(envelope, "valid-tagged", &tagged.encode());
    let encoded = plain.encode();
    write(envelope, "truncated", &encoded[..encoded.len() - 1]);
    write(
        envelope,
        "foreign-json",
        br#"{"value":"{}","logicalExpiration":1}"#,
    );
    write(envelope, "future-version", &[b'R', b'C', 9, 0]);

    let delete = BusFrame {
        sender: 0x1234_5678_9abc_def0_1122_3344_5566_7788,
        sequence: 1,
        kind: BusKind::Delete,
        at: 1_700_000_000_000,
        store: "cache".into(),
        namespace: String::new(),
        keys: vec!["bentocache:users:1".into()],
    };
    let by_tag = BusFrame {
        sequence: u64::MAX,
        kind: BusKind::ExpireByTag,
        namespace: "users".into(),
        keys: vec!["active".into(), "ключ".into()],
        ..delete.clone()
    };
    let frame = "frame_decode";
    write(frame, "valid-delete", &delete.encode());
    write(frame, "valid-expire-by-tag", &by_tag.encode());
    let encoded = delete.encode();
    write(frame, "truncated", &encoded[..encoded.len() - 2]);
    write(
        frame,
        "foreign-boringnode",
        br#"{"busId":"x","payload":{"keys":["a"],"type":"set"}}"#,
    );
    write(frame, "future-version", &[b'R', b'B', 2, 0, 0]);
}
