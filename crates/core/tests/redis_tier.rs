//! The Redis tier against a real `redis-server`, started on a free loopback port for each
//! test and stopped after it. Without `redis-server` on the PATH the tests say so and pass,
//! except under CI (`CI` set), where they fail: CI installs Redis.

mod support;

use std::time::{Duration, Instant};

use rustocache_core::envelope::{EnvelopeError, WireEntry};
use rustocache_core::redis_tier::{Endpoint, L2Error, Read, RedisConfig, RedisTier};
use support::Server;

fn tier(server: &Server, prefix: &str, timeout_ms: u64) -> RedisTier {
    RedisTier::new(RedisConfig {
        endpoint: Endpoint::Single(server.url()),
        prefix: prefix.into(),
        timeout: Duration::from_millis(timeout_ms),
        wire: Default::default(),
    })
    .unwrap()
}

fn entry(value: &str) -> WireEntry {
    WireEntry {
        created_at: 1,
        logical_expires_at: Some(2),
        physical_expires_at: None,
        tags: vec!["t".into()],
        value: value.as_bytes().to_vec(),
    }
}

fn expiring(value: &str, ttl_ms: u64) -> WireEntry {
    WireEntry {
        physical_expires_at: Some(rustocache_core::clock::now_ms() + ttl_ms),
        ..entry(value)
    }
}

fn pttl(server: &Server, key: &str) -> i64 {
    let client = redis::Client::open(server.url()).unwrap();
    redis::cmd("PTTL")
        .arg(key)
        .query(&mut client.get_connection().unwrap())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn entries_round_trip_with_their_ttl() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 1_000);
    let written = expiring("v", 60_000);
    l2.set("k", &written).await.unwrap();
    assert_eq!(l2.get("k").await.unwrap(), Read::Found(written));
    let ttl = pttl(&server, "app:k");
    assert!(ttl > 50_000 && ttl <= 60_000, "ttl {ttl}");
    l2.set("forever", &entry("f")).await.unwrap();
    assert_eq!(pttl(&server, "app:forever"), -1);
    assert_eq!(l2.get("absent").await.unwrap(), Read::Missing);
    // An entry already past its physical expiry removes the key instead.
    let mut gone = expiring("old", 0);
    gone.physical_expires_at = Some(1);
    l2.set("k", &gone).await.unwrap();
    assert_eq!(l2.get("k").await.unwrap(), Read::Missing);
}

#[tokio::test(flavor = "multi_thread")]
async fn batches_take_one_round_trip_each() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 1_000);
    let items: Vec<_> = (0..100)
        .map(|i| (format!("k{i}"), expiring(&i.to_string(), 60_000)))
        .collect();
    l2.set_many(&items).await.unwrap();
    let keys: Vec<String> = (0..101).map(|i| format!("k{i}")).collect();
    let reads = l2.get_many(&keys).await.unwrap();
    assert_eq!(reads.len(), 101);
    assert!(matches!(&reads[42], Read::Found(e) if e.value == b"42"));
    assert_eq!(reads[100], Read::Missing);
    assert_eq!(l2.delete_many(&keys).await.unwrap(), 100);
    assert_eq!(l2.get("k1").await.unwrap(), Read::Missing);
}

#[tokio::test(flavor = "multi_thread")]
async fn expire_keeps_the_ttl_and_clear_keeps_other_prefixes() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 1_000);
    let other = tier(&server, "other", 1_000);
    let mut fresh = entry("v");
    fresh.logical_expires_at = None;
    fresh.physical_expires_at = Some(rustocache_core::clock::now_ms() + 60_000);
    l2.set("k", &fresh).await.unwrap();
    assert!(l2.expire("k", 123).await.unwrap());
    assert!(
        matches!(l2.get("k").await.unwrap(), Read::Found(e) if e.logical_expires_at == Some(123))
    );
    assert!(pttl(&server, "app:k") > 50_000);
    assert!(!l2.expire("absent", 123).await.unwrap());

    l2.set("users:1", &entry("a")).await.unwrap();
    other.set("k", &entry("b")).await.unwrap();
    l2.clear("users:").await.unwrap();
    assert_eq!(l2.get("users:1").await.unwrap(), Read::Missing);
    assert!(matches!(l2.get("k").await.unwrap(), Read::Found(..)));
    l2.clear("").await.unwrap();
    assert_eq!(l2.get("k").await.unwrap(), Read::Missing);
    assert!(matches!(other.get("k").await.unwrap(), Read::Found(..)));
}

#[tokio::test(flavor = "multi_thread")]
async fn foreign_and_corrupted_values_are_unreadable_not_errors() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 1_000);
    server.raw(&[b"SET", b"app:json", br#"{"value":1}"#]);
    let mut truncated = entry("value").encode();
    truncated.truncate(truncated.len() - 2);
    server.raw(&[b"SET", b"app:cut", &truncated]);
    assert_eq!(
        l2.get("json").await.unwrap(),
        Read::Unreadable(EnvelopeError::Foreign)
    );
    assert!(matches!(
        l2.get("cut").await.unwrap(),
        Read::Unreadable(EnvelopeError::Corrupt(_))
    ));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_stops_answering_times_out_and_recovers() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 200);
    // The first call also connects, which can outlast 200 ms on a slow machine (valgrind).
    let mut written = l2.set("k", &entry("v")).await;
    for _ in 0..50 {
        if written.is_ok() {
            break;
        }
        written = l2.set("k", &entry("v")).await;
    }
    written.unwrap();
    server.signal("-STOP");
    let started = Instant::now();
    assert_eq!(l2.get("k").await, Err(L2Error::Timeout));
    assert!(started.elapsed() < Duration::from_secs(5));
    server.signal("-CONT");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match l2.get("k").await {
            Ok(Read::Found(_)) => break,
            other => assert!(Instant::now() < deadline, "not recovered: {other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tier_can_be_built_while_redis_is_down() {
    let port = support::free_port();
    let l2 = RedisTier::new(RedisConfig {
        endpoint: Endpoint::Single(format!("redis://127.0.0.1:{port}")),
        prefix: String::new(),
        timeout: Duration::from_millis(300),
        wire: Default::default(),
    })
    .unwrap();
    assert!(matches!(
        l2.get("k").await,
        Err(L2Error::Redis(_) | L2Error::Timeout)
    ));
    assert!(matches!(
        RedisTier::new(RedisConfig {
            endpoint: Endpoint::Single("not a url".into()),
            prefix: String::new(),
            timeout: Duration::from_secs(1),
            wire: Default::default(),
        }),
        Err(L2Error::Config(_))
    ));
    // The connection attempt still running in the background is left to finish: a runtime
    // shut down under it loses its memory, which the leak check (scripts/leak_check.sh)
    // would report. The addon's runtime lives as long as the process, so only tests end so.
    drop(l2);
    tokio::time::sleep(Duration::from_millis(500)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rediss_urls_connect_over_tls() {
    let Some(server) = Server::start_tls() else {
        return;
    };
    let l2 = RedisTier::new(RedisConfig {
        endpoint: Endpoint::Single(server.tls_url()),
        prefix: "tls".into(),
        timeout: Duration::from_secs(2),
        wire: Default::default(),
    })
    .unwrap();
    l2.set("k", &entry("secret")).await.unwrap();
    assert_eq!(l2.get("k").await.unwrap(), Read::Found(entry("secret")));
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnect_closes_the_connection_and_a_later_operation_reopens_it() {
    let Some(server) = Server::start() else {
        return;
    };
    let l2 = tier(&server, "app", 1_000);
    l2.set("k", &entry("v")).await.unwrap();
    let clients = || -> usize {
        let client = redis::Client::open(server.url()).unwrap();
        let list: String = redis::cmd("CLIENT")
            .arg("LIST")
            .query(&mut client.get_connection().unwrap())
            .unwrap();
        list.lines().count() - 1 // less the connection asking
    };
    assert_eq!(clients(), 1);
    l2.disconnect().await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while clients() != 0 {
        assert!(Instant::now() < deadline, "the connection stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(l2.get("k").await.unwrap(), Read::Found(entry("v")));
}
