//! The bus on Redis pub/sub: publishing frames, and a subscriber that reports what it
//! receives — and what it may have missed.
//!
//! # Publishing
//!
//! [`RedisBus::publish`] hands the message to the bus's publisher task, which stamps it
//! with the bus id and the next sequence number *at the moment it is sent* and sends it,
//! with whatever else is queued, as one pipeline of PUBLISH commands over a connection of
//! its own (a `ConnectionManager`, which reconnects by itself). One task sending in order
//! means frames leave in the order of their numbers, so a subscriber never sees a false
//! gap. A publish is bounded by the bus's `timeout`, waiting included; one whose caller
//! gave up before it was sent is not sent, and takes no number, so a retry gets a fresh
//! number and never arrives "old". A number taken by a PUBLISH that then failed shows to
//! subscribers as a gap — rightly: they missed that message.
//!
//! # Subscribing
//!
//! [`RedisBus::subscribe`] starts a task, on the caller's tokio runtime, that holds a
//! pub/sub connection and calls back with a [`BusEvent`] per frame (except its own bus's
//! frames, which it skips), per gap in a sender's numbers, per message it cannot read, and
//! per loss and recovery of the subscription. It pings Redis every [`HEARTBEAT_EVERY`]: a
//! connection that is closed, or silent for a `timeout` after a ping, is lost; the task then
//! reconnects by itself, with a capped, jittered backoff, and reports
//! [`BusEvent::Resubscribed`] — the receiver must assume it missed messages meanwhile.
//!
//! The bus connects to one server; for a cluster, give it any node's URL (PUBLISH is
//! broadcast cluster-wide). `rediss://` URLs use TLS, as the L2 tier's do.
//!
//! ```no_run
//! use std::time::Duration;
//! use rustocache_core::bus::frame::{BusKind, BusMessage};
//! use rustocache_core::bus::redis_bus::{BusConfig, BusEvent, RedisBus};
//!
//! # async fn run() -> Result<(), rustocache_core::redis_tier::L2Error> {
//! let bus = RedisBus::new(BusConfig {
//!     url: "redis://127.0.0.1:6379".into(),
//!     channel: "rustocache:bus".into(),
//!     timeout: Duration::from_secs(1),
//!     wire: Default::default(),
//! })?;
//! bus.subscribe(|event| match event {
//!     BusEvent::Message(frame) => println!("{:?} {:?}", frame.kind, frame.keys),
//!     BusEvent::Gap { .. } | BusEvent::SubscriptionLost | BusEvent::Resubscribed => {
//!         println!("messages may have been lost: drop the whole L1")
//!     }
//!     BusEvent::Unreadable(reason) => println!("ignored: {reason}"),
//! })
//! .await?;
//! bus.publish(BusMessage {
//!     kind: BusKind::Delete,
//!     at: 1_700_000_000_000,
//!     store: "users".into(),
//!     namespace: String::new(),
//!     keys: vec!["users:1".into()],
//! })
//! .await?;
//! bus.disconnect().await;
//! # Ok(())
//! # }
//! ```

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, PubSubSink, PubSubStream};
use redis::Client;
use tokio::sync::{mpsc, oneshot, Mutex};
use tokio::task::JoinHandle;
use tokio::time::{sleep, timeout, Instant, MissedTickBehavior};

use super::frame::{BusFrame, BusKind, BusMessage, FrameError, MAX_FRAME_BYTES};
use super::sequence::{GapDetector, Observation};
use crate::bentocache_wire::{self, BentoFrame};
use crate::redis_tier::L2Error;

/// How often the subscriber pings Redis to learn that its connection still works.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(5);
/// The longest wait between two attempts to subscribe again.
pub const MAX_RETRY_DELAY: Duration = Duration::from_secs(2);
/// The wait before the second attempt; it doubles with each failure, up to the maximum.
const FIRST_RETRY_DELAY: Duration = Duration::from_millis(50);
/// A subscription that lasted this long was healthy: after losing it, retries start over
/// from an immediate attempt.
const STABLE_AFTER: Duration = Duration::from_secs(5);
/// The most messages sent in one pipeline.
const MAX_BATCH: usize = 256;

/// Settings of a bus.
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// A `redis://` or `rediss://` URL.
    pub url: String,
    /// The pub/sub channel; every process of one cache uses the same.
    pub channel: String,
    /// Longest a publish may take, connecting included; also how long the subscriber waits
    /// to (re)subscribe and for the answer to a heartbeat ping.
    pub timeout: Duration,
    /// The frames it speaks.
    pub wire: FrameWire,
}

/// The frames a bus publishes and reads.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum FrameWire {
    /// Ours ([`BusFrame`]): numbered per sender, so that a lost one is noticed.
    #[default]
    Rustocache,
    /// bentocache's ([`BentoFrame`]), for a fleet that mixes the two: no sequence numbers
    /// (a lost message goes unnoticed), namespaces named by their full key prefix, tag
    /// invalidations sent as a `Set` of bentocache's tag keys.
    Bentocache {
        /// The store the channel belongs to (bentocache's frames do not name it).
        store: String,
        /// The store's key prefix, which bentocache's frames name namespaces by.
        prefix: String,
    },
}

/// What the subscriber reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BusEvent {
    /// A frame from another bus.
    Message(BusFrame),
    /// Frames `expected..got` of `sender` never arrived: reported before the frame `got`.
    Gap {
        /// The id of the bus whose frames were lost.
        sender: u128,
        /// The first missing number.
        expected: u64,
        /// The number that arrived instead.
        got: u64,
    },
    /// A message on the channel that is not a frame this build reads; skipped.
    Unreadable(FrameError),
    /// The pub/sub connection was lost; the subscriber is reconnecting.
    SubscriptionLost,
    /// Subscribed again after a loss (or after a first attempt that failed): messages sent
    /// meanwhile were missed.
    Resubscribed,
}

struct PublishRequest {
    message: BusMessage,
    reply: oneshot::Sender<Result<(), L2Error>>,
}

struct Publisher {
    requests: mpsc::UnboundedSender<PublishRequest>,
    task: JoinHandle<()>,
}

/// A bus on one Redis channel. Its methods must run on a tokio runtime (with time enabled).
pub struct RedisBus {
    id: u128,
    client: Client,
    channel: String,
    timeout: Duration,
    wire: FrameWire,
    /// The last sequence number sent; kept here so that a publisher started after a
    /// `disconnect` carries on from it.
    last_sequence: Arc<AtomicU64>,
    publisher: Mutex<Option<Publisher>>,
    subscriber: Mutex<Option<JoinHandle<()>>>,
}

impl RedisBus {
    /// A bus for `config`, with a fresh random id. Connects lazily: publishing opens one
    /// connection, subscribing another.
    pub fn new(config: BusConfig) -> Result<Self, L2Error> {
        if config.channel.is_empty() {
            return Err(L2Error::Config("the bus needs a channel name".into()));
        }
        let client =
            Client::open(config.url.as_str()).map_err(|e| L2Error::Config(e.to_string()))?;
        Ok(RedisBus {
            id: random_id(),
            client,
            channel: config.channel,
            timeout: config.timeout,
            wire: config.wire,
            last_sequence: Arc::new(AtomicU64::new(0)),
            publisher: Mutex::new(None),
            subscriber: Mutex::new(None),
        })
    }

    /// This bus's id: the `sender` of the frames it publishes.
    pub fn id(&self) -> u128 {
        self.id
    }

    /// Tells the other nodes that `count` messages of this bus were lost before they could
    /// be sent (dropped from a full retry queue, say): the next frame skips that many
    /// sequence numbers, so every subscriber sees a gap and stops trusting its L1, as it
    /// would for a frame lost on the way.
    pub fn skip(&self, count: u64) {
        self.last_sequence.fetch_add(count, Ordering::Relaxed);
    }

    /// Publishes `message`, within the bus's timeout. A message whose frame would be over
    /// [`MAX_FRAME_BYTES`] is refused (as [`L2Error::Config`]) and not sent.
    pub async fn publish(&self, message: BusMessage) -> Result<(), L2Error> {
        let (reply, outcome) = oneshot::channel();
        let request = PublishRequest { message, reply };
        timeout(self.timeout, async {
            self.publisher_queue()
                .await?
                .send(request)
                .map_err(|_| L2Error::Redis("the bus's publisher stopped".into()))?;
            outcome
                .await
                .unwrap_or_else(|_| Err(L2Error::Redis("the bus's publisher stopped".into())))
        })
        .await
        .unwrap_or(Err(L2Error::Timeout))
    }

    /// The queue of the publisher task, started if there is none.
    async fn publisher_queue(&self) -> Result<mpsc::UnboundedSender<PublishRequest>, L2Error> {
        let mut held = self.publisher.lock().await;
        if let Some(publisher) = held.as_ref() {
            if !publisher.requests.is_closed() {
                return Ok(publisher.requests.clone());
            }
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout))
            .set_number_of_retries(1);
        let connection = ConnectionManager::new_lazy_with_config(self.client.clone(), config)?;
        let (requests, queue) = mpsc::unbounded_channel();
        let task = tokio::spawn(send_in_order(
            queue,
            connection,
            Sender {
                id: self.id,
                channel: self.channel.clone(),
                wire: self.wire.clone(),
                last_sequence: Arc::clone(&self.last_sequence),
            },
        ));
        *held = Some(Publisher {
            requests: requests.clone(),
            task,
        });
        Ok(requests)
    }

    /// Starts the subscriber task, which calls `on_event` for every [`BusEvent`] until
    /// [`RedisBus::disconnect`]. `on_event` runs on the task: it must not block.
    ///
    /// Resolves once the channel is subscribed. If the first attempt fails (within the
    /// timeout), that error is returned but the task keeps trying, and reports
    /// [`BusEvent::Resubscribed`] when it makes it. Fails with [`L2Error::Config`] if this bus
    /// already has a subscriber.
    pub async fn subscribe(
        &self,
        on_event: impl FnMut(BusEvent) + Send + 'static,
    ) -> Result<(), L2Error> {
        let mut held = self.subscriber.lock().await;
        if held.as_ref().is_some_and(|task| !task.is_finished()) {
            return Err(L2Error::Config("this bus is already subscribed".into()));
        }
        let (ready, subscribed) = oneshot::channel();
        let listener = Listener {
            target: Subscription {
                client: self.client.clone(),
                channel: self.channel.clone(),
                timeout: self.timeout,
            },
            own_id: self.id,
            wire: self.wire.clone(),
            on_event: Box::new(on_event),
        };
        *held = Some(tokio::spawn(listener.run(ready)));
        drop(held);
        subscribed
            .await
            .unwrap_or_else(|_| Err(L2Error::Redis("the subscriber stopped".into())))
    }

    /// Stops the subscriber (no event is reported after this returns) and closes both
    /// connections, once the messages already queued for publishing are sent (each within
    /// the timeout). A later publish or subscribe opens new ones.
    pub async fn disconnect(&self) {
        if let Some(task) = self.subscriber.lock().await.take() {
            task.abort();
            let _ = task.await;
        }
        let mut publisher = self.publisher.lock().await;
        if let Some(Publisher { requests, task }) = publisher.take() {
            // The task ends when its queue is closed and drained.
            drop(requests);
            let _ = task.await;
        }
    }
}

impl Drop for RedisBus {
    /// A bus dropped without `disconnect` stops its subscriber all the same; its publisher
    /// ends once its queue is drained.
    fn drop(&mut self) {
        if let Some(task) = self.subscriber.get_mut().take() {
            task.abort();
        }
    }
}

/// Who the publisher task sends as.
struct Sender {
    id: u128,
    channel: String,
    wire: FrameWire,
    last_sequence: Arc<AtomicU64>,
}

impl Sender {
    /// The bytes of `message` as the next frame: ours numbered, bentocache's not.
    fn encode(&self, message: BusMessage) -> Result<Vec<u8>, FrameError> {
        let FrameWire::Bentocache { prefix, .. } = &self.wire else {
            // Only this task takes numbers one by one; `RedisBus::skip` may add to the
            // count meanwhile, in which case the frame is numbered again past the skipped
            // ones.
            let last = self.last_sequence.load(Ordering::Relaxed);
            let frame = message.into_frame(self.id, last + 1);
            let bytes = frame.encode();
            if bytes.len() > MAX_FRAME_BYTES {
                return Err(FrameError::Oversized(bytes.len()));
            }
            if self
                .last_sequence
                .compare_exchange(last, last + 1, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(bytes);
            }
            let sequence = self.last_sequence.fetch_add(1, Ordering::Relaxed) + 1;
            return Ok(BusFrame { sequence, ..frame }.encode());
        };
        let (kind, keys) = match message.kind {
            BusKind::DeleteByTag | BusKind::ExpireByTag => (
                BusKind::Set,
                message
                    .keys
                    .iter()
                    .map(|tag| format!("{}{tag}", bentocache_wire::TAG_KEY_PREFIX))
                    .collect(),
            ),
            kind => (kind, message.keys),
        };
        BentoFrame {
            bus_id: bento_id(self.id),
            kind,
            namespace: bentocache_wire::bento_namespace(prefix, &message.namespace),
            keys,
        }
        .encode()
    }
}

/// The 24-character bus id bentocache's frames carry, for our id.
fn bento_id(id: u128) -> String {
    format!("{:024x}", id & ((1u128 << 96) - 1))
}

/// The publisher task: sends what is queued, a batch at a time, each frame numbered as it
/// goes out. Ends when the queue is closed and empty.
async fn send_in_order(
    mut queue: mpsc::UnboundedReceiver<PublishRequest>,
    mut connection: ConnectionManager,
    sender: Sender,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while queue.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let mut pipe = redis::pipe();
        let mut waiting = Vec::with_capacity(batch.len());
        for PublishRequest { message, reply } in batch.drain(..) {
            // Its caller gave up (timed out): not sent, so that a retry is not doubled.
            if reply.is_closed() {
                continue;
            }
            let bytes = match sender.encode(message) {
                Ok(bytes) => bytes,
                Err(err) => {
                    let _ = reply.send(Err(L2Error::Config(err.to_string())));
                    continue;
                }
            };
            pipe.cmd("PUBLISH").arg(&sender.channel).arg(bytes).ignore();
            waiting.push(reply);
        }
        if waiting.is_empty() {
            continue;
        }
        let outcome = pipe
            .query_async::<()>(&mut connection)
            .await
            .map_err(L2Error::from);
        for reply in waiting {
            let _ = reply.send(outcome.clone());
        }
    }
}

/// What the subscriber subscribes to.
struct Subscription {
    client: Client,
    channel: String,
    timeout: Duration,
}

impl Subscription {
    /// A pub/sub connection subscribed to the channel, within the timeout.
    async fn connect(&self) -> Result<(PubSubSink, PubSubStream), L2Error> {
        timeout(self.timeout, async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok(pubsub.split())
        })
        .await
        .unwrap_or(Err(L2Error::Timeout))
    }
}

/// The subscriber task's state.
struct Listener {
    target: Subscription,
    own_id: u128,
    wire: FrameWire,
    on_event: Box<dyn FnMut(BusEvent) + Send>,
}

impl Listener {
    /// Subscribes, listens, and subscribes again whenever the subscription is lost, until
    /// aborted. `ready` learns how the first attempt went.
    async fn run(mut self, ready: oneshot::Sender<Result<(), L2Error>>) {
        let mut ready = Some(ready);
        let mut detector = GapDetector::new();
        let mut retry = Backoff::new(self.own_id);
        loop {
            match self.target.connect().await {
                Ok((sink, stream)) => {
                    match ready.take() {
                        Some(ready) => {
                            let _ = ready.send(Ok(()));
                        }
                        None => {
                            // What was lost is reported once, here, not as a gap per sender.
                            detector.reset();
                            (self.on_event)(BusEvent::Resubscribed);
                        }
                    }
                    let subscribed_at = Instant::now();
                    self.listen(sink, stream, &mut detector).await;
                    (self.on_event)(BusEvent::SubscriptionLost);
                    if subscribed_at.elapsed() >= STABLE_AFTER {
                        retry.reset();
                    }
                }
                Err(err) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(Err(err));
                    }
                }
            }
            sleep(retry.next_delay()).await;
        }
    }

    /// Reports what arrives until the connection closes or stops answering pings. Dropping
    /// `stream` on return closes the connection.
    async fn listen(
        &mut self,
        mut sink: PubSubSink,
        mut stream: PubSubStream,
        detector: &mut GapDetector,
    ) {
        let mut heartbeat =
            tokio::time::interval_at(Instant::now() + HEARTBEAT_EVERY, HEARTBEAT_EVERY);
        heartbeat.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let wait = self.target.timeout;
        loop {
            tokio::select! {
                message = stream.next() => match message {
                    Some(message) => self.deliver(message.get_payload_bytes(), detector),
                    None => return,
                },
                _ = heartbeat.tick() => {
                    // Messages keep flowing while the ping waits: they are read by this
                    // same loop only after it, but they are buffered, not lost.
                    let answered = timeout(wait, sink.ping::<redis::Value>()).await;
                    if !matches!(answered, Ok(Ok(_))) {
                        return;
                    }
                }
            }
        }
    }

    /// Reports one message of the channel.
    fn deliver(&mut self, payload: &[u8], detector: &mut GapDetector) {
        if let FrameWire::Bentocache { store, prefix } = &self.wire {
            let events = bento_events(payload, self.own_id, store, prefix);
            events.into_iter().for_each(&mut self.on_event);
            return;
        }
        match BusFrame::decode(payload) {
            Err(reason) => (self.on_event)(BusEvent::Unreadable(reason)),
            Ok(frame) if frame.sender == self.own_id => {}
            Ok(frame) => {
                if let Observation::Gap { expected, got } =
                    detector.observe(frame.sender, frame.sequence)
                {
                    (self.on_event)(BusEvent::Gap {
                        sender: frame.sender,
                        expected,
                        got,
                    });
                }
                // An old frame is delivered too: invalidating twice is harmless, skipping
                // an invalidation is not.
                (self.on_event)(BusEvent::Message(frame));
            }
        }
    }
}

/// What a bentocache frame on the channel reports: nothing for our own or another
/// prefix's; a `DeleteByTag` for a `Set` of bentocache's tag keys (its tag invalidation),
/// besides a `Set` of any other keys.
fn bento_events(payload: &[u8], own_id: u128, store: &str, prefix: &str) -> Vec<BusEvent> {
    let frame = match BentoFrame::decode(payload) {
        Ok(frame) => frame,
        Err(reason) => return vec![BusEvent::Unreadable(reason)],
    };
    if frame.bus_id == bento_id(own_id) {
        return Vec::new();
    }
    let Some(namespace) = bentocache_wire::namespace_path(prefix, &frame.namespace) else {
        return Vec::new();
    };
    let sender = frame.bus_id.bytes().fold(0u128, |h, b| {
        (h ^ b as u128).wrapping_mul(0x0000_0000_0100_0000_0000_0000_0000_013B)
    });
    let at = crate::clock::now_ms();
    let message = |kind, keys| {
        BusEvent::Message(BusFrame {
            sender,
            sequence: 0,
            kind,
            at,
            store: store.to_string(),
            namespace: namespace.clone(),
            keys,
        })
    };
    if frame.kind != BusKind::Set {
        return vec![message(frame.kind, frame.keys)];
    }
    let (tags, keys): (Vec<String>, Vec<String>) = frame
        .keys
        .into_iter()
        .partition(|key| key.starts_with(bentocache_wire::TAG_KEY_PREFIX));
    let mut events = Vec::new();
    if !keys.is_empty() {
        events.push(message(BusKind::Set, keys));
    }
    if !tags.is_empty() {
        let tags = tags
            .into_iter()
            .map(|key| key[bentocache_wire::TAG_KEY_PREFIX.len()..].to_string())
            .collect();
        events.push(message(BusKind::DeleteByTag, tags));
    }
    events
}

/// Delays between attempts to subscribe: none for the first, then doubling from
/// [`FIRST_RETRY_DELAY`] up to [`MAX_RETRY_DELAY`], each cut by a random part of up to half
/// so that many processes do not reconnect in step.
struct Backoff {
    failures: u32,
    jitter: u64,
}

impl Backoff {
    fn new(seed: u128) -> Self {
        Backoff {
            failures: 0,
            jitter: (seed as u64) | 1,
        }
    }

    fn reset(&mut self) {
        self.failures = 0;
    }

    fn next_delay(&mut self) -> Duration {
        let failures = self.failures;
        self.failures = self.failures.saturating_add(1);
        if failures == 0 {
            return Duration::ZERO;
        }
        let full = FIRST_RETRY_DELAY
            .saturating_mul(1 << (failures - 1).min(16))
            .min(MAX_RETRY_DELAY);
        // xorshift: any spread will do.
        self.jitter ^= self.jitter << 13;
        self.jitter ^= self.jitter >> 7;
        self.jitter ^= self.jitter << 17;
        let cut = full.as_millis() as u64 / 2 * (self.jitter % 1_000) / 1_000;
        full - Duration::from_millis(cut)
    }
}

/// A random bus id, from the operating system's generator; should that fail, from the
/// clock, the process id and a counter, which still differ between buses.
fn random_id() -> u128 {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_ok() {
        return u128::from_le_bytes(bytes);
    }
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let count = COUNTER.fetch_add(1, Ordering::Relaxed) as u128;
    nanos ^ ((std::process::id() as u128) << 64) ^ (count << 96)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_start_at_once_then_back_off_up_to_the_cap() {
        let mut backoff = Backoff::new(12345);
        assert_eq!(backoff.next_delay(), Duration::ZERO);
        let delays: Vec<Duration> = (0..20).map(|_| backoff.next_delay()).collect();
        assert!(delays[0] >= FIRST_RETRY_DELAY / 2 && delays[0] <= FIRST_RETRY_DELAY);
        assert!(delays.iter().all(|d| *d <= MAX_RETRY_DELAY));
        assert!(delays[19] >= MAX_RETRY_DELAY / 2);
        backoff.reset();
        assert_eq!(backoff.next_delay(), Duration::ZERO);
    }

    #[test]
    fn ids_differ() {
        assert_ne!(random_id(), random_id());
    }

    #[test]
    fn a_bus_needs_a_url_and_a_channel() {
        let config = |url: &str, channel: &str| BusConfig {
            url: url.into(),
            channel: channel.into(),
            timeout: Duration::from_secs(1),
            wire: Default::default(),
        };
        assert!(matches!(
            RedisBus::new(config("not a url", "bus")),
            Err(L2Error::Config(_))
        ));
        assert!(matches!(
            RedisBus::new(config("redis://127.0.0.1", "")),
            Err(L2Error::Config(_))
        ));
        assert!(RedisBus::new(config("rediss://127.0.0.1/#insecure", "bus")).is_ok());
    }
}
