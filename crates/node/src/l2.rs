//! The Redis (L2) tier, as JavaScript sees it: every function returns a promise settled
//! from the I/O thread ([`crate::io_thread`]), so no Redis I/O and no reply parsing touch
//! the JS thread.

use std::sync::Arc;
use std::time::Duration;

use napi::bindgen_prelude::{External, Float64Array, Object};
use napi::{Env, Error, Result, Status};
use napi_derive::napi;
use rustocache_core::bentocache_wire::Wire;
use rustocache_core::clock::now_ms;
use rustocache_core::envelope::WireEntry;
use rustocache_core::l2_tier::L2Tier;
use rustocache_core::redis_tier::{Endpoint, L2Error, Read, RedisConfig, RedisTier};

use crate::convert::millis;
use crate::io_thread::settle;

/// An L2 tier of either backend (Redis, or a file: see [`crate::file`]); every function
/// here takes both.
pub(crate) type L2Handle = External<Arc<L2Tier>>;

/// Where and how the tier connects.
#[napi(object)]
pub struct L2Options {
    /// A `redis://` URL, for one server.
    pub url: Option<String>,
    /// Node URLs, for a cluster.
    pub nodes: Option<Vec<String>>,
    /// Key prefix; empty for none.
    pub prefix: String,
    /// Longest an operation may take, in ms.
    pub timeout: f64,
    /// `"bentocache"`: read and write bentocache's JSON entries and tag keys; default ours.
    pub wire: Option<String>,
}

/// What a batch of reads found, in columns: one JS object per batch, not per key (building
/// an object natively costs about a microsecond; a column entry, a fraction of that).
#[napi(object, object_from_js = false)]
pub struct L2Reads {
    /// Per key: the serialized value (UTF-8 text), or `null` when there is no entry.
    pub values: Vec<Option<String>>,
    /// Per key, three numbers: written at, turns stale at, dropped at (ms since the epoch;
    /// `NaN` for never). Meaningless where `values` is `null`.
    pub times: Float64Array,
    /// Per key, its tags; `null` when no entry of the batch has any.
    pub tags: Option<Vec<Vec<String>>>,
    /// Per key, why the stored bytes are not an entry (foreign or corrupted data), or
    /// `null`; the whole column is `null` when every read was fine.
    pub unreadable: Option<Vec<Option<String>>>,
}

/// One entry to write.
#[napi(object)]
pub struct L2Write {
    pub key: String,
    /// The serialized value.
    pub value: String,
    /// Turns stale at, in ms since the epoch; `null` never.
    pub logical_expires_at: Option<f64>,
    /// ms before Redis drops it; `null` never.
    pub ttl: Option<f64>,
    pub tags: Option<Vec<String>>,
    /// When the value was computed (a factory's start), in ms since the epoch; now if absent.
    pub created_at: Option<f64>,
}

/// Recorded tag invalidations, in columns: `fields[i]` (`delete:<tag>` or `expire:<tag>`)
/// happened at `at[i]` (ms since the epoch).
#[napi(object, object_from_js = false)]
pub struct L2Invalidations {
    pub fields: Vec<String>,
    pub at: Vec<f64>,
}

/// An L2 (or bus) error as a JavaScript error whose message starts with its kind in
/// brackets: `[timeout]`, `[redis]`, `[config]` or `[store]`.
pub(crate) fn l2_error(err: L2Error) -> Error {
    let kind = match err {
        L2Error::Timeout => "timeout",
        L2Error::Redis(_) => "redis",
        L2Error::Config(_) => "config",
        L2Error::Store(_) => "store",
    };
    Error::new(Status::GenericFailure, format!("[{kind}] {err}"))
}

fn reads_out(reads: Vec<Read>) -> L2Reads {
    let mut values = Vec::with_capacity(reads.len());
    let mut times = Vec::with_capacity(reads.len() * 3);
    let mut tags = Vec::with_capacity(reads.len());
    let mut unreadable = Vec::with_capacity(reads.len());
    let never = |at: Option<u64>| at.map_or(f64::NAN, |at| at as f64);
    for read in reads {
        match read {
            Read::Found(entry) => {
                // Values are written as UTF-8 text by the facade; lossy only for foreign writers.
                values.push(Some(String::from_utf8(entry.value).unwrap_or_else(|e| {
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                })));
                times.extend([
                    entry.created_at as f64,
                    never(entry.logical_expires_at),
                    never(entry.physical_expires_at),
                ]);
                tags.push(entry.tags);
                unreadable.push(None);
            }
            Read::Missing | Read::Unreadable(_) => {
                values.push(None);
                times.extend([f64::NAN; 3]);
                tags.push(Vec::new());
                unreadable.push(match read {
                    Read::Unreadable(reason) => Some(reason.to_string()),
                    _ => None,
                });
            }
        }
    }
    L2Reads {
        values,
        times: Float64Array::new(times),
        tags: tags.iter().any(|t| !t.is_empty()).then_some(tags),
        unreadable: unreadable.iter().any(Option::is_some).then_some(unreadable),
    }
}

fn wire_entry(write: &L2Write) -> Result<WireEntry> {
    let now = now_ms();
    Ok(WireEntry {
        created_at: write
            .created_at
            .map(|at| millis("createdAt", at))
            .transpose()?
            .unwrap_or(now),
        logical_expires_at: write
            .logical_expires_at
            .map(|at| millis("logicalExpiresAt", at))
            .transpose()?,
        physical_expires_at: write
            .ttl
            .map(|ttl| millis("ttl", ttl).map(|ttl| now.saturating_add(ttl)))
            .transpose()?,
        tags: write.tags.clone().unwrap_or_default(),
        value: write.value.as_bytes().to_vec(),
    })
}

/// The [`Wire`] named by the `wire` option.
pub(crate) fn wire_of(name: Option<&str>) -> Result<Wire> {
    match name {
        None | Some("rustocache") => Ok(Wire::Rustocache),
        Some("bentocache") => Ok(Wire::Bentocache),
        Some(other) => Err(Error::new(
            Status::InvalidArg,
            format!("wire must be 'rustocache' or 'bentocache', not {other:?}"),
        )),
    }
}

/// A Redis tier; connects on first use.
#[napi(catch_unwind, ts_return_type = "ExternalObject<RedisTier>")]
pub fn l2_create(options: L2Options) -> Result<L2Handle> {
    let endpoint = match (options.url, options.nodes) {
        (Some(url), None) => Endpoint::Single(url),
        (None, Some(nodes)) => Endpoint::Cluster(nodes),
        _ => {
            return Err(Error::new(
                Status::InvalidArg,
                "give either a url or cluster nodes",
            ))
        }
    };
    let timeout = Duration::from_millis(millis("timeout", options.timeout)?.max(1));
    let tier = RedisTier::new(RedisConfig {
        endpoint,
        prefix: options.prefix,
        timeout,
        wire: wire_of(options.wire.as_deref())?,
    })
    .map_err(l2_error)?;
    Ok(External::new(Arc::new(L2Tier::Redis(tier))))
}

/// Reads `keys` in one round trip, in order.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, keys: string[]",
    ts_return_type = "Promise<L2Reads>"
)]
pub fn l2_get_many<'env>(
    env: &'env Env,
    store: &L2Handle,
    keys: Vec<String>,
) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.get_many(&keys).await.map(reads_out).map_err(l2_error)
    })
}

/// Writes entries in one round trip.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, items: L2Write[]",
    ts_return_type = "Promise<void>"
)]
pub fn l2_set_many<'env>(
    env: &'env Env,
    store: &L2Handle,
    items: Vec<L2Write>,
) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    let items = items
        .iter()
        .map(|item| wire_entry(item).map(|entry| (item.key.clone(), entry)))
        .collect::<Result<Vec<_>>>()?;
    settle(
        env,
        async move { tier.set_many(&items).await.map_err(l2_error) },
    )
}

/// Removes `keys`; resolves how many existed.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, keys: string[]",
    ts_return_type = "Promise<number>"
)]
pub fn l2_delete_many<'env>(
    env: &'env Env,
    store: &L2Handle,
    keys: Vec<String>,
) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.delete_many(&keys)
            .await
            .map(|n| n as u32)
            .map_err(l2_error)
    })
}

/// Removes the entries filed under any of `tags`; resolves how many existed.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, tags: string[]",
    ts_return_type = "Promise<number>"
)]
pub fn l2_delete_tagged<'env>(
    env: &'env Env,
    store: &L2Handle,
    tags: Vec<String>,
) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.delete_tagged(&tags)
            .await
            .map(|n| n as u32)
            .map_err(l2_error)
    })
}

/// Records that `tags` were invalidated (`kind`: `"delete"` or `"expire"`) at `at` ms.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, kind: 'delete' | 'expire', tags: string[], at: number",
    ts_return_type = "Promise<void>"
)]
pub fn l2_record_invalidations<'env>(
    env: &'env Env,
    store: &L2Handle,
    kind: String,
    tags: Vec<String>,
    at: f64,
) -> Result<Object<'env>> {
    if kind != "delete" && kind != "expire" {
        return Err(Error::new(
            Status::InvalidArg,
            "kind must be 'delete' or 'expire'",
        ));
    }
    let at = millis("at", at)?;
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.record_invalidations(&kind, &tags, at)
            .await
            .map_err(l2_error)
    })
}

/// Every recorded tag invalidation.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>",
    ts_return_type = "Promise<L2Invalidations>"
)]
pub fn l2_invalidations<'env>(env: &'env Env, store: &L2Handle) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        let records = tier.invalidations().await.map_err(l2_error)?;
        let (fields, at) = records.into_iter().map(|(f, at)| (f, at as f64)).unzip();
        Ok(L2Invalidations { fields, at })
    })
}

/// Turns `key` stale now, keeping its TTL; resolves whether it existed.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, key: string",
    ts_return_type = "Promise<boolean>"
)]
pub fn l2_expire<'env>(env: &'env Env, store: &L2Handle, key: String) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.expire(&key, now_ms()).await.map_err(l2_error)
    })
}

/// Removes the keys under `namespace` (all the tier's keys for an empty one).
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>, namespace: string",
    ts_return_type = "Promise<void>"
)]
pub fn l2_clear<'env>(env: &'env Env, store: &L2Handle, namespace: String) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.clear(&namespace).await.map_err(l2_error)
    })
}

/// Closes the tier's connection once the operations under way are done; a later operation
/// opens a new one.
#[napi(
    catch_unwind,
    ts_args_type = "store: ExternalObject<RedisTier>",
    ts_return_type = "Promise<void>"
)]
pub fn l2_disconnect<'env>(env: &'env Env, store: &L2Handle) -> Result<Object<'env>> {
    let tier = Arc::clone(store);
    settle(env, async move {
        tier.disconnect().await;
        Ok(())
    })
}
