//! Times the L1 hot path (get, the clock, set) without the Node.js boundary: `cargo run --release -p rustocache-core --example hot_path`.
use rustocache_core::{
    clock::now_ms,
    entry::{Entry, Value},
    store::{L1Config, L1Store},
};
use std::time::Instant;

fn main() {
    let store = L1Store::new(L1Config {
        max_items: Some(10_000),
        ..Default::default()
    })
    .unwrap();
    let now = now_ms();
    for i in 0..10_000 {
        store
            .set(
                &format!("key:{i}"),
                Entry::new(Value::text("x".repeat(95)), now, Some(600_000), 0, vec![]),
            )
            .unwrap();
    }
    let keys: Vec<String> = (0..10_000).map(|i| format!("key:{i}")).collect();
    let n = 2_000_000;
    let t = Instant::now();
    let mut found = 0;
    for i in 0..n {
        if matches!(
            store.get(&keys[i % keys.len()], now_ms()),
            rustocache_core::store::Lookup::Fresh(_)
        ) {
            found += 1
        }
    }
    println!(
        "get: {:.1} ns/op ({found} hits)",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(now_ms());
    }
    println!(
        "now_ms: {:.1} ns/op",
        t.elapsed().as_nanos() as f64 / n as f64
    );
    let value = "x".repeat(95);
    let t = Instant::now();
    for i in 0..n {
        let now = now_ms();
        store
            .set(
                &keys[i % keys.len()],
                Entry::new(Value::text(value.as_str()), now, Some(600_000), 0, vec![]),
            )
            .unwrap();
    }
    println!(
        "set (replacing): {:.1} ns/op",
        t.elapsed().as_nanos() as f64 / n as f64
    );
}
