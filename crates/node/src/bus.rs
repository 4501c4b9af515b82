//! The bus, as JavaScript sees it. Publishing, subscribing and disconnecting return
//! promises settled from the I/O thread ([`crate::io_thread`]), where the subscriber task
//! runs too; its events reach JavaScript through a threadsafe function, one plain object
//! per event.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use napi::bindgen_prelude::{External, Object, Unknown};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use rustocache_core::bentocache_wire::Wire;
use rustocache_core::bus::frame::{BusKind, BusMessage};
use rustocache_core::bus::redis_bus::{BusConfig, BusEvent, FrameWire, RedisBus};

use crate::convert::millis;
use crate::guard::{shielded, Guarded};
use crate::io_thread::settle;
use crate::l2::l2_error;

/// The JavaScript callback of a subscription, called with one argument (no error first).
/// Events are converted under a [`Guarded`] shield: napi-rs converts them inside a C callback.
type Listener = ThreadsafeFunction<
    Guarded<BusEventObject>,
    Unknown<'static>,
    Guarded<BusEventObject>,
    Status,
    false,
>;
/// Where a subscription's events go: emptied by `busDisconnect`, after which they go
/// nowhere and the callback no longer keeps the process alive.
type ListenerSlot = Arc<Mutex<Option<Listener>>>;

/// A bus and its current subscription's listener.
pub struct Bus {
    bus: RedisBus,
    listener: Mutex<Option<ListenerSlot>>,
}

type BusHandle = External<Arc<Bus>>;

/// Every kind with its JavaScript name.
const KINDS: [(BusKind, &str); 6] = [
    (BusKind::Set, "set"),
    (BusKind::Delete, "delete"),
    (BusKind::Expire, "expire"),
    (BusKind::Clear, "clear"),
    (BusKind::DeleteByTag, "deleteByTag"),
    (BusKind::ExpireByTag, "expireByTag"),
];

/// Where and how the bus connects.
#[napi(object)]
pub struct BusOptions {
    /// A `redis://` or `rediss://` URL (for a cluster, any node's).
    pub url: String,
    /// The pub/sub channel, the same for every process of one cache.
    pub channel: String,
    /// Longest a publish may take, in ms; also the subscriber's wait to (re)subscribe and
    /// for a heartbeat's answer.
    pub timeout: f64,
    /// `"bentocache"`: speak bentocache's frames (then `store` and `prefix` are needed:
    /// its frames name neither the store nor namespaces by path); default ours.
    pub wire: Option<String>,
    /// The store's name, for `wire: "bentocache"`.
    pub store: Option<String>,
    /// The store's key prefix, for `wire: "bentocache"`.
    pub prefix: Option<String>,
}

/// A message to publish.
#[napi(object)]
pub struct BusPublication {
    #[napi(ts_type = "BusKind")]
    pub kind: String,
    /// The cache store concerned.
    pub store: String,
    /// The namespace within the store; empty for none.
    pub namespace: String,
    /// The keys concerned; for `deleteByTag` and `expireByTag`, the tags.
    pub keys: Vec<String>,
    /// When it happened, in ms since the epoch.
    pub at: f64,
}

/// What the subscriber reports: `message` (a frame from another process: `kind`, `store`,
/// `namespace`, `keys`, `sender`), `gap` (messages `expected` to `got` - 1 of `sender` were
/// lost), `unreadable` (a message that is not ours to read: `reason`), `lost` (the
/// subscription dropped; reconnecting) and `resubscribed` (back, having missed whatever was
/// sent meanwhile). After `gap`, `lost` or `resubscribed`, the local L1 may be stale.
#[napi(object, object_from_js = false)]
pub struct BusEventObject {
    #[napi(
        js_name = "type",
        ts_type = "'message' | 'gap' | 'unreadable' | 'lost' | 'resubscribed'"
    )]
    pub event_type: String,
    #[napi(ts_type = "BusKind")]
    pub kind: Option<String>,
    pub store: Option<String>,
    pub namespace: Option<String>,
    pub keys: Option<Vec<String>>,
    /// When it happened at the sender, in ms since the epoch.
    pub at: Option<f64>,
    /// The publishing bus's id, in hex (as `busId` gives it).
    pub sender: Option<String>,
    /// Sequence numbers: the first one lost, and the one that arrived instead.
    pub expected: Option<f64>,
    pub got: Option<f64>,
    pub reason: Option<String>,
}

fn kind_named(name: &str) -> Result<BusKind> {
    KINDS
        .iter()
        .find(|(_, known)| *known == name)
        .map(|(kind, _)| *kind)
        .ok_or_else(|| {
            Error::new(
                Status::InvalidArg,
                format!("unknown bus message kind {name:?}"),
            )
        })
}

fn kind_name(kind: BusKind) -> String {
    KINDS
        .iter()
        .find(|(known, _)| *known == kind)
        .map_or("", |(_, name)| name)
        .to_string()
}

fn hex_id(id: u128) -> String {
    format!("{id:032x}")
}

/// A lock that a panic elsewhere cannot turn into one here.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn event_object(event: BusEvent) -> BusEventObject {
    let bare = |event_type: &str| BusEventObject {
        event_type: event_type.into(),
        kind: None,
        store: None,
        namespace: None,
        keys: None,
        at: None,
        sender: None,
        expected: None,
        got: None,
        reason: None,
    };
    match event {
        BusEvent::Message(frame) => BusEventObject {
            kind: Some(kind_name(frame.kind)),
            store: Some(frame.store),
            namespace: Some(frame.namespace),
            keys: Some(frame.keys),
            at: Some(frame.at as f64),
            sender: Some(hex_id(frame.sender)),
            ..bare("message")
        },
        BusEvent::Gap {
            sender,
            expected,
            got,
        } => BusEventObject {
            sender: Some(hex_id(sender)),
            expected: Some(expected as f64),
            got: Some(got as f64),
            ..bare("gap")
        },
        BusEvent::Unreadable(reason) => BusEventObject {
            reason: Some(reason.to_string()),
            ..bare("unreadable")
        },
        BusEvent::SubscriptionLost => bare("lost"),
        BusEvent::Resubscribed => bare("resubscribed"),
    }
}

/// A bus with a fresh random id; connects on first use.
#[napi(catch_unwind, ts_return_type = "ExternalObject<RedisBus>")]
pub fn bus_create(options: BusOptions) -> Result<BusHandle> {
    let timeout = Duration::from_millis(millis("timeout", options.timeout)?.max(1));
    let bus = RedisBus::new(BusConfig {
        url: options.url,
        channel: options.channel,
        timeout,
        wire: match crate::l2::wire_of(options.wire.as_deref())? {
            Wire::Rustocache => FrameWire::Rustocache,
            Wire::Bentocache => FrameWire::Bentocache {
                store: options.store.unwrap_or_default(),
                prefix: options.prefix.unwrap_or_default(),
            },
        },
    })
    .map_err(l2_error)?;
    Ok(External::new(Arc::new(Bus {
        bus,
        listener: Mutex::new(None),
    })))
}

/// The bus's id, in hex: the `sender` of what it publishes.
#[napi(catch_unwind, ts_args_type = "bus: ExternalObject<RedisBus>")]
pub fn bus_id(bus: &BusHandle) -> String {
    hex_id(bus.bus.id())
}

/// Makes the next frame skip `count` sequence numbers, so that subscribers notice that many
/// messages lost (dropped by the facade's retry queue before they could be sent).
#[napi(
    catch_unwind,
    ts_args_type = "bus: ExternalObject<RedisBus>, count: number"
)]
pub fn bus_skip(bus: &BusHandle, count: u32) {
    bus.bus.skip(u64::from(count));
}

/// Publishes a message; rejects (`[timeout] ...`, `[redis] ...`, `[config] ...` for one too
/// large) if it was not sent within the timeout.
#[napi(
    catch_unwind,
    ts_args_type = "bus: ExternalObject<RedisBus>, message: BusPublication",
    ts_return_type = "Promise<void>"
)]
pub fn bus_publish<'env>(
    env: &'env Env,
    bus: &BusHandle,
    message: BusPublication,
) -> Result<Object<'env>> {
    let message = BusMessage {
        kind: kind_named(&message.kind)?,
        store: message.store,
        namespace: message.namespace,
        at: crate::convert::millis("at", message.at)?,
        keys: message.keys,
    };
    let bus = Arc::clone(bus);
    settle(env, async move {
        bus.bus.publish(message).await.map_err(l2_error)
    })
}

/// Subscribes: `callback` gets one object per event until `busDisconnect`. Resolves once
/// subscribed; if the first attempt fails, rejects, yet keeps trying and reports
/// `resubscribed` when it makes it. Throws if the bus already has a subscription. A
/// callback that throws is an uncaught exception, as an event listener's would be.
#[napi(
    catch_unwind,
    ts_args_type = "bus: ExternalObject<RedisBus>, callback: (event: BusEventObject) => void",
    ts_return_type = "Promise<void>"
)]
pub fn bus_subscribe<'env>(
    env: &'env Env,
    bus: &BusHandle,
    callback: Listener,
) -> Result<Object<'env>> {
    let slot: ListenerSlot = Arc::new(Mutex::new(Some(callback)));
    {
        let mut current = locked(&bus.listener);
        if current.as_ref().is_some_and(|slot| locked(slot).is_some()) {
            return Err(Error::new(
                Status::GenericFailure,
                "[config] this bus is already subscribed",
            ));
        }
        *current = Some(Arc::clone(&slot));
    }
    let bus = Arc::clone(bus);
    settle(env, async move {
        bus.bus
            .subscribe(move |event| {
                // A panic here would end the subscriber task: the bus would go deaf.
                shielded(
                    || {
                        if let Some(listener) = locked(&slot).as_ref() {
                            // Non-blocking: the queue is unbounded, and the I/O thread must
                            // not wait on JavaScript.
                            listener.call(
                                Guarded(event_object(event)),
                                ThreadsafeFunctionCallMode::NonBlocking,
                            );
                        }
                    },
                    |_| {},
                )
            })
            .await
            .map_err(l2_error)
    })
}

/// Stops the subscription — its callback is released at once, so it no longer keeps the
/// process alive — and closes the bus's connections once queued messages are sent.
#[napi(
    catch_unwind,
    ts_args_type = "bus: ExternalObject<RedisBus>",
    ts_return_type = "Promise<void>"
)]
pub fn bus_disconnect<'env>(env: &'env Env, bus: &BusHandle) -> Result<Object<'env>> {
    if let Some(slot) = locked(&bus.listener).take() {
        // Dropped here, on the JavaScript thread: released before this call returns.
        let listener = locked(&slot).take();
        drop(listener);
    }
    let bus = Arc::clone(bus);
    settle(env, async move {
        bus.bus.disconnect().await;
        Ok(())
    })
}
