//! Replays a trace through the eviction policy alone, read-through (a hit is a read, a miss
//! an insert), and prints the hit ratio: a fast loop for trying policy changes before the
//! full `bench/hit_ratio.js` run through the facade.
//!
//! `cargo run --release -p rustocache-core --example policy_replay -- <keys.txt> <capacity>...`
//! where `keys.txt` holds one key per line, e.g. written from the bench's trace reader:
//!
//! ```sh
//! node -e "import('./bench/traces.js').then(t => process.stdout.write(Array.from(t.readTrace('sprite')).join('\n') + '\n'))" > /tmp/sprite.txt
//! ```
//!
//! Plain LRU is replayed beside it, so each line gives the difference the hit-ratio bench
//! checks (the policy's sketch is seeded per process: figures move by hundredths).
use rustocache_core::policy::WTinyLfu;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Plain LRU's hit ratio on `keys` at `capacity`, in percent: the reference to beat.
fn lru_ratio(keys: &[Arc<str>], capacity: usize) -> f64 {
    let mut last_use: HashMap<&str, u64> = HashMap::new();
    let mut by_age: BTreeMap<u64, &str> = BTreeMap::new();
    let mut hits = 0u64;
    for (clock, key) in keys.iter().enumerate() {
        let clock = clock as u64;
        if let Some(previous) = last_use.insert(key, clock) {
            hits += 1;
            by_age.remove(&previous);
        } else if last_use.len() > capacity {
            let (_, oldest) = by_age.pop_first().expect("a held key");
            last_use.remove(oldest);
        }
        by_age.insert(clock, key);
    }
    100.0 * hits as f64 / keys.len() as f64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .expect("usage: policy_replay <keys.txt> <capacity>...");
    let text = std::fs::read_to_string(&path).expect("readable trace");
    let keys: Vec<Arc<str>> = text
        .lines()
        .filter(|l| !l.is_empty())
        .map(Arc::from)
        .collect();
    for capacity in args {
        let capacity: u64 = capacity.parse().expect("a capacity in entries");
        let mut policy = WTinyLfu::new(Some(capacity), Some(capacity));
        let mut hits = 0u64;
        for key in &keys {
            if policy.contains(key) {
                hits += 1;
                policy.record_read(key);
            } else {
                policy.insert(key.clone(), 1);
            }
            policy.take_removed().for_each(drop);
        }
        let ratio = 100.0 * hits as f64 / keys.len() as f64;
        let lru = lru_ratio(&keys, capacity as usize);
        println!(
            "{path} @ {capacity}: {ratio:.2} % against LRU {lru:.2} % ({:+.2} points; window {} at the end)",
            ratio - lru,
            policy.window_maximum()
        );
    }
}
