//! `NativeL1`: the in-memory store, as JavaScript sees it.

use std::sync::Arc;

use napi::{Error, Result, Status};
use napi_derive::napi;
use rustocache_core::clock::now_ms;
use rustocache_core::entry::{Entry, Value};
use rustocache_core::namespace::Namespace;
use rustocache_core::registry::shared_store;
use rustocache_core::store::{Eviction, L1Config, L1Store};
use rustocache_core::CoreError;

use crate::convert::{core_error, limit, millis, Key, ValueOut};
use crate::handle::{L1Handle, L1Ref};

/// Limits of an in-memory store; each is optional.
#[napi(object)]
pub struct L1Limits {
    /// Most entries held at once.
    pub max_items: Option<f64>,
    /// Most bytes held at once (keys, values and tags).
    pub max_size: Option<f64>,
    /// Most bytes one entry may weigh.
    pub max_entry_size: Option<f64>,
}

/// A full entry, for the paths that need more than the value (grace, events).
#[napi(object, object_from_js = false)]
pub struct EntrySnapshot {
    /// The value: serialized text, or a slot number for `serialize: false`.
    #[napi(ts_type = "string | number")]
    pub value: ValueOut,
    /// Written at, in ms since the epoch.
    pub created_at: f64,
    /// Turns stale at, in ms since the epoch; `null` never.
    pub logical_expires_at: Option<f64>,
    /// Dropped at, in ms since the epoch; `null` never.
    pub physical_expires_at: Option<f64>,
    /// Whether it is still fresh.
    pub fresh: bool,
    /// Its tags.
    pub tags: Vec<String>,
}

/// Counters and sizes of a store.
#[napi(object, object_from_js = false)]
pub struct L1StatsOut {
    pub hits: f64,
    pub stale_hits: f64,
    pub misses: f64,
    pub writes: f64,
    pub evictions: f64,
    pub expirations: f64,
    pub rejected: f64,
    pub entries: f64,
    pub bytes: f64,
}

/// A store with the given limits, seen through its root namespace `prefix`.
///
/// With `shared`, the store is the process-wide one of that name (see
/// `rustocache_core::registry`): every thread of the process (every worker thread) that
/// creates a store with the same name gets the same store, built with the first one's
/// limits; other limits are refused. Only serialized values may go into it.
///
/// JavaScript holds the namespace as an opaque handle and passes it to the `l1*`
/// functions: free functions over an external cost about half of what class methods cost
/// at the boundary (measured), and `l1Get` is the hot path of every cache hit.
#[napi(catch_unwind, ts_return_type = "L1Handle")]
pub fn l1_create(limits: L1Limits, prefix: String, shared: Option<String>) -> Result<L1Handle> {
    let config = L1Config {
        max_items: limit("maxItems", limits.max_items)?,
        max_size: limit("maxSize", limits.max_size)?,
        max_entry_size: limit("maxEntrySize", limits.max_entry_size)?,
    };
    let store = match shared {
        Some(name) => shared_store(&name, config),
        None => L1Store::new(config).map(Arc::new),
    }
    .map_err(core_error)?;
    Ok(L1Handle(Namespace::root(store, &prefix)))
}

/// The namespace `name` nested in `store`'s namespace, on the same store.
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, name: string",
    ts_return_type = "L1Handle"
)]
pub fn l1_namespace(store: L1Ref, name: String) -> L1Handle {
    L1Handle(store.child(&name))
}

/// The whole entry if alive (fresh or stale), without counting a lookup.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, key: string")]
pub fn l1_peek(store: L1Ref, key: Key) -> Option<EntrySnapshot> {
    let now = now_ms();
    store.peek(key.as_str(), now).map(|entry| EntrySnapshot {
        created_at: entry.created_at() as f64,
        logical_expires_at: entry.logical_expires_at().map(|at| at as f64),
        physical_expires_at: entry.physical_expires_at().map(|at| at as f64),
        fresh: entry.is_fresh(now),
        tags: entry.tags().iter().map(|t| t.to_string()).collect(),
        value: ValueOut(entry),
    })
}

/// Whether `key` holds a fresh entry, without counting a lookup: what `has` asks, answered
/// without building the entry for JavaScript (an object and the value's copy).
#[napi(catch_unwind, ts_args_type = "store: L1Handle, key: string")]
pub fn l1_is_fresh(store: L1Ref, key: Key) -> bool {
    let now = now_ms();
    store
        .peek(key.as_str(), now)
        .is_some_and(|entry| entry.is_fresh(now))
}

/// Stores serialized text fresh for `ttl` ms (`null`: forever) and kept `grace` ms longer;
/// with `refreshIn`, a `getOrSet` hit from `refreshIn` ms on starts an eager refresh.
/// Returns -1 when the entry exceeds `maxEntrySize`: it was refused and the key now holds
/// nothing, as bentocache (lru-cache) does. Else, as `l1SetSlot`, how many of the freed
/// slots waiting for `l1TakeFreedSlots` (here: mirrors, see `l1Mirror`) held keys the store
/// no longer has.
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, key: string, text: string, ttl: number | null, grace: number, tags?: string[] | null, refreshIn?: number | null"
)]
pub fn l1_set(
    store: L1Ref,
    key: Key,
    text: String,
    ttl: Option<f64>,
    grace: f64,
    tags: Option<Vec<String>>,
    refresh_in: Option<f64>,
) -> Result<i64> {
    let lifetime = Lifetime::read(ttl, grace, refresh_in)?;
    let text = Value::Text(text.into_boxed_str());
    if store_entry(&store, &key, text, lifetime, tags)? {
        Ok(store.store().lost_slot_count() as i64)
    } else {
        Ok(-1)
    }
}

/// As `l1Set`, for a value the host keeps by reference in slot `slot` (`serialize: false`).
/// A separate function rather than one taking `string | number`: telling the two apart
/// through napi-rs's `Either` builds an error message for every number.
///
/// Returns how many of the freed slots waiting for `l1TakeFreedSlots` held keys the store
/// no longer has (evicted or expired by this write or before it: not the slot of the value
/// replaced), so that a host answering reads from its slots takes them only when there are
/// some; or -1 when the entry was refused (the key then holds nothing).
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, key: string, slot: number, ttl: number | null, grace: number, tags?: string[] | null, refreshIn?: number | null"
)]
pub fn l1_set_slot(
    store: L1Ref,
    key: Key,
    slot: u32,
    ttl: Option<f64>,
    grace: f64,
    tags: Option<Vec<String>>,
    refresh_in: Option<f64>,
) -> Result<i64> {
    let lifetime = Lifetime::read(ttl, grace, refresh_in)?;
    if store_entry(&store, &key, Value::Slot(slot), lifetime, tags)? {
        Ok(store.store().lost_slot_count() as i64)
    } else {
        Ok(-1)
    }
}

/// An entry's lifetimes as `l1Set` receives them, checked: ms counts, finite and positive.
struct Lifetime {
    ttl: Option<u64>,
    grace: u64,
    refresh_in: Option<u64>,
}

impl Lifetime {
    fn read(ttl: Option<f64>, grace: f64, refresh_in: Option<f64>) -> Result<Self> {
        Ok(Lifetime {
            ttl: ttl.map(|t| millis("ttl", t)).transpose()?,
            grace: millis("grace", grace)?,
            refresh_in: refresh_in.map(|t| millis("refreshIn", t)).transpose()?,
        })
    }
}

fn store_entry(
    store: &Namespace,
    key: &Key,
    value: Value,
    lifetime: Lifetime,
    tags: Option<Vec<String>>,
) -> Result<bool> {
    let mut entry = Entry::new(
        value,
        now_ms(),
        lifetime.ttl,
        lifetime.grace,
        tags.unwrap_or_default(),
    );
    if let Some(refresh_in) = lifetime.refresh_in {
        entry = entry.refreshed_after(refresh_in);
    }
    match store.set(key.as_str(), entry) {
        Ok(()) => Ok(true),
        Err(CoreError::EntryTooLarge { .. }) => Ok(false),
        Err(err) => Err(core_error(err)),
    }
}

/// Removes an entry; tells whether there was one.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, key: string")]
pub fn l1_delete(store: L1Ref, key: Key) -> bool {
    store.delete(key.as_str())
}

/// Removes entries; tells how many there were.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, keys: string[]")]
pub fn l1_delete_many(store: L1Ref, keys: Vec<String>) -> u32 {
    keys.iter().filter(|key| store.delete(key)).count() as u32
}

/// Removes the entries carrying any of `tags`, in every namespace of the store (the facade
/// qualifies tags with their namespace); tells how many there were.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, tags: string[]")]
pub fn l1_delete_tagged(store: L1Ref, tags: Vec<String>) -> u32 {
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    store.store().delete_tagged(&tags) as u32
}

/// Turns the entries carrying any of `tags` stale now, keeping them for grace; tells how
/// many there were.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, tags: string[]")]
pub fn l1_expire_tagged(store: L1Ref, tags: Vec<String>) -> u32 {
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    store.store().expire_tagged(&tags, now_ms()) as u32
}

/// As `l1ExpireTagged`, for a store whose hits the facade answers from slots (its values, or
/// mirrors of its text): returns the slots of the entries it turned stale, which the
/// facade's index then stops answering for.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, tags: string[]")]
pub fn l1_expire_tagged_slots(store: L1Ref, tags: Vec<String>) -> Vec<u32> {
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let mut slots = Vec::new();
    store.store().expire_tagged_with(&tags, now_ms(), |entry| {
        if let Some(slot) = entry.slot().or_else(|| store.store().mirror_of(entry)) {
            slots.push(slot);
        }
    });
    slots
}

/// Turns an entry stale now, keeping it for grace; tells whether there was one.
#[napi(catch_unwind, ts_args_type = "store: L1Handle, key: string")]
pub fn l1_expire(store: L1Ref, key: Key) -> bool {
    store.expire(key.as_str(), now_ms())
}

/// Removes the namespace's entries, nested namespaces included.
#[napi(catch_unwind, ts_args_type = "store: L1Handle")]
pub fn l1_clear(store: L1Ref) {
    store.clear()
}

/// Keys that left the store by eviction or expiry, in columns.
#[napi(object, object_from_js = false)]
pub struct Evictions {
    /// The keys, relative to the namespace asked (its prefix removed).
    pub keys: Vec<String>,
    /// Per key: `true` past its ttl and grace, `false` evicted over a limit.
    pub expired: Vec<bool>,
    /// Evictions not kept because too many piled up between two calls.
    pub dropped: f64,
}

/// Starts or stops keeping evicted keys for `l1TakeEvictions` (off until asked).
#[napi(catch_unwind, ts_args_type = "store: L1Handle, on: boolean")]
pub fn l1_report_evictions(store: L1Ref, on: bool) {
    store.store().report_evictions(on)
}

/// The keys evicted or expired since the last call, oldest first.
#[napi(catch_unwind, ts_args_type = "store: L1Handle")]
pub fn l1_take_evictions(store: L1Ref) -> Evictions {
    let (evicted, dropped) = store.store().take_evictions();
    let prefix = store.prefix();
    let (keys, expired) = evicted
        .iter()
        .map(|(key, why)| {
            let key = key.strip_prefix(prefix).unwrap_or(key).to_string();
            (key, *why == Eviction::Expired)
        })
        .unzip();
    Evictions {
        keys,
        expired,
        dropped: dropped as f64,
    }
}

/// Lends `slot` to the facade as the mirror of the fresh text entry under `key`: the facade
/// keeps the entry's decoded value there and answers its fresh hits itself (reported with
/// `l1RecordSlotHits`) until the time returned, in ms since the epoch (`Infinity`: no end);
/// the slot is freed as a `serialize: false` slot is, when that entry leaves the store.
/// Returns -1, lending nothing, when the key holds no fresh text entry.
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, key: string, slot: number"
)]
pub fn l1_mirror(store: L1Ref, key: Key, slot: u32) -> f64 {
    mirror_time(store.mirror(key.as_str(), slot, now_ms()))
}

/// As `l1Mirror`, when the facade has no slot free: lends it `slot`, which mirrors another
/// entry, if that entry is no longer fresh or `key` was read more often lately (the policy's
/// frequency estimate). Returns -1, changing nothing, otherwise: the facade keeps the other
/// mirror.
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, key: string, slot: number"
)]
pub fn l1_remirror(store: L1Ref, key: Key, slot: u32) -> f64 {
    let until = store.with_key(key.as_str(), |k| store.store().remirror(k, slot, now_ms()));
    mirror_time(until)
}

/// A mirror's end as JavaScript takes it: ms since the epoch, `Infinity` for none, -1 for no
/// mirror lent.
fn mirror_time(until: Option<u64>) -> f64 {
    match until {
        Some(u64::MAX) => f64::INFINITY,
        Some(until) => until as f64,
        None => -1.0,
    }
}

/// Slots of `serialize: false` values, and of mirrors, that left the store since the last
/// call.
#[napi(catch_unwind, ts_args_type = "store: L1Handle")]
pub fn l1_take_freed_slots(store: L1Ref) -> Vec<u32> {
    store.store().take_freed_slots()
}

/// Counts fresh hits the facade answered itself from a `serialize: false` store's slots
/// (the first `count` numbers of `slots`), and tells the eviction policy of them as reads.
///
/// `slots` is borrowed as a slice for the call (napi-rs's `Uint32Array` argument would
/// also take a reference to the array, for nothing: the call does not keep it).
#[napi(
    catch_unwind,
    ts_args_type = "store: L1Handle, slots: Uint32Array, count: number"
)]
pub fn l1_record_slot_hits(store: L1Ref, slots: &[u32], count: u32) -> Result<()> {
    let slots = slots.get(..count as usize).ok_or_else(|| {
        Error::new(
            Status::InvalidArg,
            format!("count {count} is past the {} slots given", slots.len()),
        )
    })?;
    store.store().record_slot_hits(slots);
    Ok(())
}

/// Counters and sizes, exact as of this call.
#[napi(catch_unwind, ts_args_type = "store: L1Handle")]
pub fn l1_stats(store: L1Ref) -> L1StatsOut {
    let s = store.store().stats();
    L1StatsOut {
        hits: s.hits as f64,
        stale_hits: s.stale_hits as f64,
        misses: s.misses as f64,
        writes: s.writes as f64,
        evictions: s.evictions as f64,
        expirations: s.expirations as f64,
        rejected: s.rejected as f64,
        entries: s.entries as f64,
        bytes: s.bytes as f64,
    }
}
