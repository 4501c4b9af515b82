//! The L2 tier of a cache, whichever backend holds it: Redis ([`RedisTier`]) or a file on
//! local disk ([`FileTier`]). Both speak the same operations over the same [`WireEntry`]
//! envelopes; this enum dispatches to one of them with a `match` (no boxing, no dynamic call).

use crate::envelope::WireEntry;
use crate::file_tier::FileTier;
use crate::redis_tier::{L2Error, Read, RedisTier};

/// An L2 tier. Cheap to share: wrap it in an `Arc`.
pub enum L2Tier {
    /// On Redis, Redis Cluster or Valkey.
    Redis(RedisTier),
    /// On local disk, in an embedded database.
    File(FileTier),
}

/// Runs the same call on whichever tier `$tier` is.
macro_rules! on_tier {
    ($tier:expr, $t:ident => $call:expr) => {
        match $tier {
            L2Tier::Redis($t) => $call,
            L2Tier::File($t) => $call,
        }
    };
}

impl L2Tier {
    /// Reads `keys`, in order.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Read>, L2Error> {
        on_tier!(self, t => t.get_many(keys).await)
    }

    /// Writes several entries at once.
    pub async fn set_many(&self, items: &[(String, WireEntry)]) -> Result<(), L2Error> {
        on_tier!(self, t => t.set_many(items).await)
    }

    /// Removes `keys`; tells how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, L2Error> {
        on_tier!(self, t => t.delete_many(keys).await)
    }

    /// Removes every entry filed under any of `tags`; tells how many existed.
    pub async fn delete_tagged(&self, tags: &[String]) -> Result<u64, L2Error> {
        on_tier!(self, t => t.delete_tagged(tags).await)
    }

    /// Records that `tags` were invalidated (`kind`: `delete` or `expire`) at `at` ms.
    pub async fn record_invalidations(
        &self,
        kind: &str,
        tags: &[String],
        at: u64,
    ) -> Result<(), L2Error> {
        on_tier!(self, t => t.record_invalidations(kind, tags, at).await)
    }

    /// Every recorded invalidation: (`kind:tag`, at).
    pub async fn invalidations(&self) -> Result<Vec<(String, u64)>, L2Error> {
        on_tier!(self, t => t.invalidations().await)
    }

    /// Turns the entry under `key` stale at `now`; tells whether there was one.
    pub async fn expire(&self, key: &str, now: u64) -> Result<bool, L2Error> {
        on_tier!(self, t => t.expire(key, now).await)
    }

    /// Removes the keys under `namespace` (all the tier's for an empty one).
    pub async fn clear(&self, namespace: &str) -> Result<(), L2Error> {
        on_tier!(self, t => t.clear(namespace).await)
    }

    /// Removes entries past their physical expiry; tells how many. Redis drops them by
    /// itself, so there it does nothing.
    pub async fn prune(&self) -> Result<u64, L2Error> {
        match self {
            L2Tier::Redis(_) => Ok(0),
            L2Tier::File(t) => t.prune().await,
        }
    }

    /// Closes the connection (the database file) once the operations under way are done; a
    /// later operation opens it again.
    pub async fn disconnect(&self) {
        on_tier!(self, t => t.disconnect().await)
    }
}
