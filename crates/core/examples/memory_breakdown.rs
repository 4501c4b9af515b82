//! Where an L1 entry's bytes go: the RSS that 1,000,000 entries add to this process, for
//! the entries as `bench/memory.js` writes them (`user:<i>` keys, ~80-byte JSON values) and
//! with one structure taken away at a time.
//!
//! ```sh
//! cargo run --release -p rustocache-core --example memory_breakdown -- <case> [entries]
//! ```
//!
//! Cases (one per process: freed memory does not reliably leave the RSS):
//! - `payload`: the keys and values alone, as boxed strings in a vector (the floor);
//! - `store`: an L1 store bounded by `maxItems` = entries, each entry with a ttl, as the
//!   facade writes them by default (bentocache's 30 minutes);
//! - `no-ttl`: the same without a ttl (no expiry deadline per entry);
//! - `unbounded`: no ttl and no limit (the policy keeps no order and no sketch).
//!
//! Linux only (it reads `/proc/self/statm`).

use std::sync::Arc;

use rustocache_core::clock::now_ms;
use rustocache_core::entry::{Entry, Value};
use rustocache_core::store::{L1Config, L1Store};

/// This process's resident set, in bytes.
fn rss() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|field| field.parse().ok())
        .expect("a resident page count");
    pages * 4096
}

fn key(i: usize) -> String {
    format!("user:{i}")
}

fn value(i: usize) -> String {
    format!(r#"{{"id":{i},"name":"user number {i}","tags":["alpha","beta","gamma","delta"]}}"#)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "store".into());
    let entries: usize = args
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let before = rss();
    let now = now_ms();
    let kept: Box<dyn std::any::Any> = match case.as_str() {
        "payload" => Box::new(
            (0..entries)
                .map(|i| (key(i).into_boxed_str(), value(i).into_boxed_str()))
                .collect::<Vec<_>>(),
        ),
        "store" | "no-ttl" | "unbounded" => {
            let bounded = case != "unbounded";
            let ttl = (case == "store").then_some(30 * 60 * 1000);
            let store = L1Store::new(L1Config {
                max_items: bounded.then_some(entries as u64),
                ..Default::default()
            })
            .expect("a valid config");
            for i in 0..entries {
                // An exact-size copy, as the binding receives a JavaScript string (a
                // formatted String's spare capacity would leave holes in the heap).
                let text: Box<str> = Box::from(value(i).as_str());
                let entry = Entry::new(Value::Text(text), now, ttl, 0, vec![]);
                store.set(&key(i), entry).expect("a write");
            }
            store.run_pending_tasks();
            Box::new(Arc::new(store))
        }
        other => panic!("unknown case {other}: payload, store, no-ttl or unbounded"),
    };
    let after = rss();
    println!(
        "{case}: {} B/entry over {entries} entries",
        (after - before) / entries as u64
    );
    drop(kept);
}
