//! The bus against a real `redis-server`, started on a free loopback port for each test and
//! stopped after it (see `support`). Timings are generous upper bounds, not measurements.

mod support;

use std::time::{Duration, Instant};

use futures_util::future::join_all;
use rustocache_core::bus::frame::{BusFrame, BusKind, BusMessage, FrameError, MAX_FRAME_BYTES};
use rustocache_core::bus::redis_bus::{BusConfig, BusEvent, RedisBus, HEARTBEAT_EVERY};
use rustocache_core::redis_tier::L2Error;
use support::Server;
use tokio::sync::mpsc;
use tokio::time::timeout;

const CHANNEL: &str = "rustocache:test:bus";
/// The longest any event may take to arrive, reconnections included.
const PATIENCE: Duration = Duration::from_secs(10);

fn bus_at(url: String, timeout_ms: u64) -> RedisBus {
    RedisBus::new(BusConfig {
        url,
        channel: CHANNEL.into(),
        timeout: Duration::from_millis(timeout_ms),
        wire: Default::default(),
    })
    .unwrap()
}

fn bus(server: &Server) -> RedisBus {
    bus_at(server.url(), 1_000)
}

fn message(kind: BusKind, keys: &[&str]) -> BusMessage {
    BusMessage {
        kind,
        store: "store".into(),
        namespace: "ns".into(),
        at: 42,
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

/// The events a subscriber reported, in order.
struct Events(mpsc::UnboundedReceiver<BusEvent>);

impl Events {
    async fn next(&mut self) -> BusEvent {
        timeout(PATIENCE, self.0.recv())
            .await
            .expect("no event in time")
            .expect("the subscriber ended")
    }

    async fn next_frame(&mut self) -> BusFrame {
        match self.next().await {
            BusEvent::Message(frame) => frame,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    async fn nothing_for(&mut self, wait: Duration) {
        if let Ok(event) = timeout(wait, self.0.recv()).await {
            panic!("unexpected {event:?}");
        }
    }
}

async fn subscribed(bus: &RedisBus) -> Events {
    let (events, received) = mpsc::unbounded_channel();
    bus.subscribe(move |event| {
        let _ = events.send(event);
    })
    .await
    .unwrap();
    Events(received)
}

/// Publishes a frame as another program would: raw bytes, with a plain connection.
fn publish_raw(server: &Server, bytes: &[u8]) {
    server.raw(&[b"PUBLISH", CHANNEL.as_bytes(), bytes]);
}

fn forged(sender: u128, sequence: u64) -> Vec<u8> {
    message(BusKind::Delete, &["k"])
        .into_frame(sender, sequence)
        .encode()
}

/// How many clients the server has, less the one asking.
fn clients(server: &Server) -> usize {
    let client = redis::Client::open(server.url()).unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query(&mut client.get_connection().unwrap())
        .unwrap();
    list.lines().count() - 1
}

/// Publishes until it works again (the publisher's connection may first report the loss).
async fn publish_until_it_works(bus: &RedisBus, message: BusMessage) {
    let deadline = Instant::now() + PATIENCE;
    while let Err(err) = bus.publish(message.clone()).await {
        assert!(
            Instant::now() < deadline,
            "publishing did not recover: {err}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_buses_exchange_every_kind_of_frame() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    assert_ne!(a.id(), b.id());
    let mut at_a = subscribed(&a).await;
    let mut at_b = subscribed(&b).await;
    let kinds = [
        (BusKind::Set, vec!["k1", "k2"]),
        (BusKind::Delete, vec!["k1"]),
        (BusKind::Expire, vec!["k2"]),
        (BusKind::Clear, vec![]),
        (BusKind::DeleteByTag, vec!["tag1"]),
        (BusKind::ExpireByTag, vec!["tag1", "tag2"]),
    ];
    for (kind, keys) in &kinds {
        a.publish(message(*kind, keys)).await.unwrap();
    }
    for (sequence, (kind, keys)) in (1..).zip(&kinds) {
        assert_eq!(
            at_b.next().await,
            BusEvent::Message(message(*kind, keys).into_frame(a.id(), sequence))
        );
    }
    b.publish(message(BusKind::Delete, &["from b"]))
        .await
        .unwrap();
    let frame = at_a.next_frame().await;
    assert_eq!((frame.sender, frame.sequence), (b.id(), 1));
    assert_eq!(frame.keys, ["from b"]);
    at_b.nothing_for(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bus_ignores_its_own_frames() {
    let Some(server) = Server::start() else {
        return;
    };
    let a = bus(&server);
    let mut at_a = subscribed(&a).await;
    for _ in 0..3 {
        a.publish(message(BusKind::Set, &["mine"])).await.unwrap();
    }
    // A frame from someone else, published after: it arrives, the three before did not.
    publish_raw(&server, &forged(42, 1));
    let frame = at_a.next_frame().await;
    assert_eq!(frame.sender, 42);
    at_a.nothing_for(Duration::from_millis(200)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_publishes_leave_in_the_order_of_their_numbers() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    let outcomes =
        join_all((0..300).map(|i| a.publish(message(BusKind::Set, &[&format!("k{i}")])))).await;
    assert!(outcomes.iter().all(Result::is_ok));
    for sequence in 1..=300 {
        // A gap would arrive as an event of its own, and fail this.
        assert_eq!(at_b.next_frame().await.sequence, sequence);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_skipped_sequence_number_is_reported_as_a_gap() {
    let Some(server) = Server::start() else {
        return;
    };
    let b = bus(&server);
    let mut at_b = subscribed(&b).await;
    let sender = 0xfeed_u128 << 64;
    publish_raw(&server, &forged(sender, 1));
    publish_raw(&server, &forged(sender, 2));
    publish_raw(&server, &forged(sender, 5));
    // An old number: delivered all the same, and no gap.
    publish_raw(&server, &forged(sender, 3));
    publish_raw(&server, &forged(sender, 6));
    assert_eq!(at_b.next_frame().await.sequence, 1);
    assert_eq!(at_b.next_frame().await.sequence, 2);
    assert_eq!(
        at_b.next().await,
        BusEvent::Gap {
            sender,
            expected: 3,
            got: 5
        }
    );
    assert_eq!(at_b.next_frame().await.sequence, 5);
    assert_eq!(at_b.next_frame().await.sequence, 3);
    assert_eq!(at_b.next_frame().await.sequence, 6);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_messages_are_reported_and_skipped() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    publish_raw(&server, br#"{"keys":["k"]}"#);
    let mut future_version = forged(1, 1);
    future_version[2] = 9;
    publish_raw(&server, &future_version);
    let truncated = forged(1, 1);
    publish_raw(&server, &truncated[..truncated.len() - 1]);
    let mut oversized = forged(1, 1);
    oversized.resize(MAX_FRAME_BYTES + 1, b'x');
    publish_raw(&server, &oversized);
    assert_eq!(at_b.next().await, BusEvent::Unreadable(FrameError::Foreign));
    assert_eq!(
        at_b.next().await,
        BusEvent::Unreadable(FrameError::UnsupportedVersion(9))
    );
    assert!(matches!(
        at_b.next().await,
        BusEvent::Unreadable(FrameError::Corrupt(_))
    ));
    assert_eq!(
        at_b.next().await,
        BusEvent::Unreadable(FrameError::Oversized(MAX_FRAME_BYTES + 1))
    );
    a.publish(message(BusKind::Delete, &["still here"]))
        .await
        .unwrap();
    assert_eq!(at_b.next_frame().await.keys, ["still here"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn skipped_numbers_show_the_subscribers_a_gap() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    a.publish(message(BusKind::Delete, &["first"]))
        .await
        .unwrap();
    assert_eq!(at_b.next_frame().await.sequence, 1);
    // Two messages dropped before they were sent: the next frame says so.
    a.skip(2);
    a.publish(message(BusKind::Delete, &["after"]))
        .await
        .unwrap();
    assert_eq!(
        at_b.next().await,
        BusEvent::Gap {
            sender: a.id(),
            expected: 2,
            got: 4
        }
    );
    let frame = at_b.next_frame().await;
    assert_eq!((frame.sequence, frame.keys), (4, vec!["after".to_string()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_oversized_message_is_refused_and_takes_no_number() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    let huge = "k".repeat(MAX_FRAME_BYTES);
    assert!(matches!(
        a.publish(message(BusKind::Delete, &[&huge])).await,
        Err(L2Error::Config(_))
    ));
    a.publish(message(BusKind::Delete, &["small"]))
        .await
        .unwrap();
    let frame = at_b.next_frame().await;
    assert_eq!((frame.sequence, frame.keys), (1, vec!["small".to_string()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_subscription_is_reported_and_restored() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    a.publish(message(BusKind::Set, &["before"])).await.unwrap();
    assert_eq!(at_b.next_frame().await.sequence, 1);
    server.raw(&[b"CLIENT", b"KILL", b"TYPE", b"pubsub"]);
    assert_eq!(at_b.next().await, BusEvent::SubscriptionLost);
    assert_eq!(at_b.next().await, BusEvent::Resubscribed);
    // A frame that went out while b was away: after the resubscription, no gap is reported
    // for it (the resubscription already said messages were lost).
    publish_raw(&server, &forged(a.id(), 5));
    assert_eq!(at_b.next_frame().await.sequence, 5);
    a.publish(message(BusKind::Set, &["after"])).await.unwrap();
    let frame = at_b.next_frame().await;
    assert_eq!((frame.sequence, frame.keys), (2, vec!["after".to_string()]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restarted_server_is_subscribed_again() {
    let Some(mut server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    a.publish(message(BusKind::Set, &["before"])).await.unwrap();
    at_b.next_frame().await;
    // Down long enough for a few refused attempts.
    server.restart(Duration::from_millis(500));
    assert_eq!(at_b.next().await, BusEvent::SubscriptionLost);
    assert_eq!(at_b.next().await, BusEvent::Resubscribed);
    publish_until_it_works(&a, message(BusKind::Set, &["after"])).await;
    assert_eq!(at_b.next_frame().await.keys, ["after"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn publishing_to_a_stopped_server_times_out() {
    let Some(server) = Server::start() else {
        return;
    };
    let a = bus_at(server.url(), 300);
    a.publish(message(BusKind::Set, &["k"])).await.unwrap();
    server.signal("-STOP");
    let started = Instant::now();
    assert_eq!(
        a.publish(message(BusKind::Set, &["k"])).await,
        Err(L2Error::Timeout)
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    server.signal("-CONT");
    publish_until_it_works(&a, message(BusKind::Set, &["k"])).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_silent_server_is_noticed_by_the_heartbeat() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus_at(server.url(), 300));
    let mut at_b = subscribed(&b).await;
    server.signal("-STOP");
    let started = Instant::now();
    assert_eq!(at_b.next().await, BusEvent::SubscriptionLost);
    assert!(started.elapsed() < HEARTBEAT_EVERY + Duration::from_secs(3));
    server.signal("-CONT");
    assert_eq!(at_b.next().await, BusEvent::Resubscribed);
    publish_until_it_works(&a, message(BusKind::Set, &["after"])).await;
    assert_eq!(at_b.next_frame().await.keys, ["after"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_subscribe_that_fails_keeps_trying() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus_at(server.url(), 300));
    server.signal("-STOP");
    let (events, received) = mpsc::unbounded_channel();
    let outcome = b
        .subscribe(move |event| {
            let _ = events.send(event);
        })
        .await;
    assert_eq!(outcome, Err(L2Error::Timeout));
    let mut at_b = Events(received);
    server.signal("-CONT");
    assert_eq!(at_b.next().await, BusEvent::Resubscribed);
    a.publish(message(BusKind::Set, &["k"])).await.unwrap();
    assert_eq!(at_b.next_frame().await.keys, ["k"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn subscribing_twice_is_refused() {
    let Some(server) = Server::start() else {
        return;
    };
    let b = bus(&server);
    let _at_b = subscribed(&b).await;
    assert!(matches!(b.subscribe(|_| {}).await, Err(L2Error::Config(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn disconnect_ends_the_subscriber_and_closes_the_connections() {
    let Some(server) = Server::start() else {
        return;
    };
    let (a, b) = (bus(&server), bus(&server));
    let mut at_b = subscribed(&b).await;
    b.publish(message(BusKind::Set, &["k"])).await.unwrap();
    a.publish(message(BusKind::Set, &["k"])).await.unwrap();
    at_b.next_frame().await;
    assert_eq!(clients(&server), 3); // b's subscriber and publisher, a's publisher
    b.disconnect().await;
    // The task dropped its callback, and with it the sending half of the channel.
    assert_eq!(timeout(PATIENCE, at_b.0.recv()).await, Ok(None));
    let deadline = Instant::now() + PATIENCE;
    while clients(&server) != 1 {
        assert!(Instant::now() < deadline, "b's connections stayed open");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // A disconnected bus can subscribe and publish again, its numbers carrying on.
    let mut again = subscribed(&b).await;
    a.publish(message(BusKind::Set, &["k"])).await.unwrap();
    assert_eq!(again.next_frame().await.sequence, 2);
    b.publish(message(BusKind::Set, &["k"])).await.unwrap();
    a.disconnect().await;
    let mut at_a = subscribed(&a).await;
    b.publish(message(BusKind::Set, &["k"])).await.unwrap();
    assert_eq!(at_a.next_frame().await.sequence, 3);
}

#[tokio::test(flavor = "multi_thread")]
async fn dropping_a_bus_ends_its_subscriber() {
    let Some(server) = Server::start() else {
        return;
    };
    let b = bus(&server);
    let mut at_b = subscribed(&b).await;
    drop(b);
    assert_eq!(timeout(PATIENCE, at_b.0.recv()).await, Ok(None));
}

#[tokio::test(flavor = "multi_thread")]
async fn rediss_urls_work_over_tls() {
    let Some(server) = Server::start_tls() else {
        return;
    };
    let (a, b) = (
        bus_at(server.tls_url(), 2_000),
        bus_at(server.tls_url(), 2_000),
    );
    let mut at_b = subscribed(&b).await;
    a.publish(message(BusKind::Delete, &["secret"]))
        .await
        .unwrap();
    assert_eq!(at_b.next_frame().await.keys, ["secret"]);
}
