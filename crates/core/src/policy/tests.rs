use super::*;

fn key(i: u64) -> Arc<str> {
    Arc::from(i.to_string())
}

/// Replays `trace` read-through (a hit is a read, a miss an insert of weight 1) against a
/// policy of `capacity` entries; returns the hit ratio.
fn hit_ratio(capacity: u64, trace: impl IntoIterator<Item = u64>) -> f64 {
    let mut policy = WTinyLfu::new(Some(capacity), Some(capacity));
    let (mut hits, mut requests) = (0, 0);
    for id in trace {
        requests += 1;
        let key = key(id);
        if policy.contains(&key) {
            hits += 1;
            policy.record_read(&key);
        } else {
            policy.insert((key, id), 1);
        }
        assert!(policy.len() as u64 <= capacity);
    }
    hits as f64 / requests as f64
}

/// The same requests against plain LRU.
fn lru_hit_ratio(capacity: usize, trace: impl IntoIterator<Item = u64>) -> f64 {
    let mut order: std::collections::VecDeque<u64> = Default::default();
    let (mut hits, mut requests) = (0, 0);
    for id in trace {
        requests += 1;
        if let Some(at) = order.iter().position(|&k| k == id) {
            hits += 1;
            order.remove(at);
        } else if order.len() == capacity {
            order.pop_front();
        }
        order.push_back(id);
    }
    hits as f64 / requests as f64
}

/// A deterministic pseudo-random sequence (SplitMix64).
fn randoms(seed: u64) -> impl Iterator<Item = u64> {
    let mut state = seed;
    std::iter::from_fn(move || {
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Some(z ^ (z >> 31))
    })
}

/// Checks that the regions' weights are the sums of their entries' and that every entry
/// is mapped.
fn check_consistency<V: Keyed>(policy: &WTinyLfu<V>) {
    let mut weights = [0_u64; 3];
    let mut count = 0;
    for node in policy.arena.nodes() {
        count += 1;
        weights[node.region() as usize] += node.weight();
        assert!(policy.contains(node.value.key()));
        assert_eq!(node.hash(), policy.hash(node.value.key()));
    }
    assert_eq!(count, policy.map.len());
    assert_eq!(
        weights,
        [
            policy.window.weight,
            policy.probation.weight,
            policy.protected.weight
        ]
    );
}

#[test]
fn a_new_key_is_admitted_to_the_window_even_when_full() {
    let mut policy = WTinyLfu::new(Some(10), Some(10));
    for round in 0..10 {
        for i in 0..10 {
            policy.insert((key(i), round), 1);
        }
    }
    policy.insert((key(100), 0), 1);
    assert!(policy.contains("100"), "a first-seen key was refused");
    assert_eq!(policy.len(), 10);
}

#[test]
fn a_loop_longer_than_the_cache_still_hits() {
    // LRU never hits a loop of 150 keys with room for 100.
    let trace = || (0..40).flat_map(|_| 0..150);
    assert_eq!(lru_hit_ratio(100, trace()), 0.0);
    let ratio = hit_ratio(100, trace());
    assert!(ratio > 0.5, "{ratio}");
}

#[test]
fn beats_lru_on_skewed_requests_with_scans() {
    // 90 % of the requests go to 200 keys (uniformly), 10 % to a million others once.
    let mut random = randoms(1);
    let trace: Vec<u64> = (0..200_000)
        .map(|i| {
            let r = random.next().unwrap();
            if r % 10 == 0 {
                1_000_000 + i
            } else {
                r % 200
            }
        })
        .collect();
    let ours = hit_ratio(200, trace.iter().copied());
    assert!(ours > 0.85, "{ours}");
    let lru = lru_hit_ratio(200, trace.iter().copied().take(20_000));
    assert!(ours > lru + 0.05, "{ours} against LRU's {lru}");
}

#[test]
fn weights_bound_the_total_and_oversized_entries_leave_at_once() {
    let mut policy = WTinyLfu::new(Some(1_000), None);
    for (i, r) in randoms(3).take(5_000).enumerate() {
        policy.insert((key(i as u64 % 700), i), 1 + r % 90);
        assert!(policy.weighted_size() <= 1_000);
        if i % 97 == 0 {
            check_consistency(&policy);
        }
    }
    policy.take_removed().for_each(drop);
    policy.insert((key(9_999), 0), 1_001);
    assert!(!policy.contains("9999"));
    let removed: Vec<_> = policy.take_removed().collect();
    assert_eq!(removed.len(), 1);
    assert_eq!(
        (removed[0].value.key(), removed[0].cause),
        ("9999", Cause::Size)
    );
    check_consistency(&policy);
}

#[test]
fn the_window_adapts_and_stays_consistent() {
    // A recency-heavy phase, then a frequency-heavy one: the window must move, and the
    // regions stay within the capacity throughout.
    let mut policy = WTinyLfu::new(Some(500), Some(500));
    let initial = policy.window_maximum();
    let mut moved = false;
    let mut random = randoms(5);
    for i in 0..300_000_u64 {
        let id = if i < 150_000 {
            (i / 3) % 700
        } else {
            random.next().unwrap() % 5_000 % (1 + random.next().unwrap() % 1_000)
        };
        let key = key(id);
        if policy.contains(&key) {
            policy.record_read(&key);
        } else {
            policy.insert((key, id), 1);
        }
        moved |= policy.window_maximum() != initial;
        assert!(policy.window_maximum() + policy.protected_maximum <= 500);
        if i % 10_007 == 0 {
            check_consistency(&policy);
        }
    }
    assert!(moved, "the window never moved");
    assert_eq!(policy.len(), 500);
    check_consistency(&policy);
}

#[test]
fn entries_expire_at_their_latest_deadline() {
    let mut policy = WTinyLfu::new(None, None);
    policy.insert((key(1), "a", Some(100)), 1);
    policy.insert((key(2), "b", Some(200)), 1);
    policy.insert((key(3), "c", None), 1);
    // Rewritten with a later deadline: its first deadline no longer applies.
    policy.insert((key(1), "a2", Some(300)), 1);
    assert_eq!(policy.next_deadline(), Some(100));
    policy.expire(250);
    let removed: Vec<_> = policy.take_removed().collect();
    assert_eq!(
        removed,
        [
            Removed {
                value: (key(1), "a", Some(100)),
                cause: Cause::Replaced
            },
            Removed {
                value: (key(2), "b", Some(200)),
                cause: Cause::Expired
            },
        ]
    );
    policy.expire(300);
    assert_eq!(
        policy
            .take_removed()
            .map(|r| (r.value.1, r.cause))
            .collect::<Vec<_>>(),
        [("a2", Cause::Expired)]
    );
    assert_eq!(policy.len(), 1);
}

#[test]
fn deadlines_months_apart_each_expire_on_time() {
    let day = 86_400_000;
    let now = 1_700_000_000_000;
    let mut policy = WTinyLfu::new(Some(10), Some(10));
    policy.insert((key(1), "minute", Some(now + 60_000)), 1);
    // 100 days past the first: beyond what the heap's packed deadlines hold from one base.
    policy.insert((key(2), "hundred days", Some(now + 100 * day)), 1);
    // Earlier than both by more than the base's margin.
    policy.insert((key(3), "past", Some(now - 30 * day)), 1);
    let expired_at = |policy: &mut WTinyLfu<(Arc<str>, &'static str, Option<u64>)>, at: u64| {
        policy.expire(at);
        policy
            .take_removed()
            .map(|r| (r.value.1, r.cause))
            .collect::<Vec<_>>()
    };
    assert_eq!(expired_at(&mut policy, now), [("past", Cause::Expired)]);
    assert_eq!(expired_at(&mut policy, now + 59_999), []);
    assert_eq!(
        expired_at(&mut policy, now + 60_000),
        [("minute", Cause::Expired)]
    );
    // The far deadline may come out early, held as the farthest one that fits: it is put
    // back, not expired, at every step until its time.
    for days in 1..100 {
        assert_eq!(expired_at(&mut policy, now + days * day), [], "day {days}");
        assert!(policy
            .next_deadline()
            .is_some_and(|at| at > now + days * day));
    }
    assert_eq!(expired_at(&mut policy, now + 100 * day - 1), []);
    assert_eq!(
        expired_at(&mut policy, now + 100 * day),
        [("hundred days", Cause::Expired)]
    );
    assert!(policy.is_empty());
}

#[test]
fn stale_deadlines_do_not_pile_up() {
    let mut policy = WTinyLfu::new(Some(10), Some(10));
    for i in 0..100_000 {
        policy.insert((key(i % 5), i, Some(u64::MAX - i)), 1);
    }
    assert!(
        policy.deadlines.len() <= 2 * 5 + 1_024 + 1,
        "{}",
        policy.deadlines.len()
    );
}

#[test]
fn removals_report_their_values() {
    let mut policy = WTinyLfu::new(Some(100), Some(100));
    for i in 0..10 {
        policy.insert((key(i), i), 1);
    }
    assert_eq!(policy.remove("3").map(|(_, value)| value), Some(3));
    assert!(policy.remove("3").is_none());
    policy.retain(|key| key != "4" && key != "5");
    let mut retained: Vec<_> = policy
        .take_removed()
        .map(|r| (r.value.1, r.cause))
        .collect();
    retained.sort_by_key(|&(value, _)| value);
    assert_eq!(retained, [(4, Cause::Explicit), (5, Cause::Explicit)]);
    policy.clear();
    assert_eq!(policy.take_removed().count(), 7);
    assert!(policy.is_empty());
    assert_eq!(policy.weighted_size(), 0);
    check_consistency(&policy);
}
