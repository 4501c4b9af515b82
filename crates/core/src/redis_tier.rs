//! The distributed (L2) tier on Redis, Redis Cluster or Valkey.
//!
//! All I/O runs on tokio, through the `redis` crate: one multiplexed, pipelining
//! connection per tier (`ConnectionManager`, which reconnects by itself) or the crate's
//! async cluster client. Entries are stored as [`WireEntry`] envelopes under
//! `<prefix>:<key>`, with the entry's physical lifetime as the key's TTL, so a read is one
//! GET.
//!
//! Every operation is bounded by the tier's `timeout`: a Redis that does not answer in
//! time is an [`L2Error::Timeout`], never a stalled caller. A value that is not a valid
//! envelope is reported as [`Read::Unreadable`], never an error that would fail the caller.

use std::time::Duration;

use futures_util::future::try_join_all;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::{Client, Cmd, ConnectionAddr, IntoConnectionInfo, Pipeline, RedisError, Value};
use tokio::sync::Mutex;

use crate::bentocache_wire::{self, Wire};
use crate::envelope::{EnvelopeError, WireEntry};

/// Where the tier connects.
#[derive(Debug, Clone)]
pub enum Endpoint {
    /// One server: a `redis://` or `rediss://` URL.
    Single(String),
    /// A cluster: the URLs of some of its nodes.
    Cluster(Vec<String>),
}

/// Settings of a Redis tier.
#[derive(Debug, Clone)]
pub struct RedisConfig {
    /// Where to connect.
    pub endpoint: Endpoint,
    /// Key prefix, joined to keys with `:`; empty for none.
    pub prefix: String,
    /// Longest an operation may take, connecting included.
    pub timeout: Duration,
    /// The format of entries and tag invalidations: ours, or bentocache's
    /// ([`bentocache_wire`]) so that bentocache nodes share the keys.
    pub wire: Wire,
}

/// Why an L2 operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L2Error {
    /// No answer within the tier's timeout.
    Timeout,
    /// The connection failed or Redis answered with an error.
    Redis(String),
    /// The configuration cannot work (a malformed URL, no cluster nodes, a directory the
    /// file tier cannot write).
    Config(String),
    /// The file tier's embedded store failed (a disk error, another process's lock held
    /// too long).
    Store(String),
}

impl std::fmt::Display for L2Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            L2Error::Timeout => write!(f, "Redis did not answer in time"),
            L2Error::Redis(message) => write!(f, "Redis error: {message}"),
            L2Error::Config(message) => write!(f, "invalid L2 configuration: {message}"),
            L2Error::Store(message) => write!(f, "file store error: {message}"),
        }
    }
}

impl std::error::Error for L2Error {}

impl From<RedisError> for L2Error {
    fn from(err: RedisError) -> Self {
        if err.is_timeout() {
            L2Error::Timeout
        } else {
            L2Error::Redis(err.to_string())
        }
    }
}

impl From<redis::ParsingError> for L2Error {
    fn from(err: redis::ParsingError) -> Self {
        L2Error::Redis(format!("unexpected reply: {err}"))
    }
}

/// Keys as Redis names them (prefix included), and their indexes grouped one pipeline
/// each (see `RedisTier::raw_slot_groups`).
struct Grouped {
    keys: Vec<String>,
    groups: Vec<Vec<usize>>,
}

/// What reading one key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Read {
    /// Nothing under the key.
    Missing,
    /// An entry.
    Found(WireEntry),
    /// Bytes that are not an entry of ours: reported, and treated as a miss.
    Unreadable(EnvelopeError),
}

#[derive(Clone)]
enum Connection {
    Single(ConnectionManager),
    Cluster(ClusterConnection),
}

enum Target {
    Single(Box<Client>),
    Cluster(Box<ClusterClient>),
}

/// A Redis tier. Cheap to share: wrap it in an `Arc`.
pub struct RedisTier {
    endpoint: Endpoint,
    target: Target,
    /// The open connection, if any: made on first use, dropped by `disconnect`.
    connection: Mutex<Option<Connection>>,
    prefix: String,
    timeout: Duration,
    wire: Wire,
}

impl RedisTier {
    /// A tier for `config`. Connects lazily, on the first operation, so that a cache can be
    /// built while Redis is down.
    pub fn new(config: RedisConfig) -> Result<Self, L2Error> {
        let target = match &config.endpoint {
            Endpoint::Single(url) => Target::Single(Box::new(
                Client::open(url.as_str()).map_err(|e| L2Error::Config(e.to_string()))?,
            )),
            Endpoint::Cluster(nodes) if nodes.is_empty() => {
                return Err(L2Error::Config("a cluster needs at least one node".into()))
            }
            Endpoint::Cluster(nodes) => Target::Cluster(Box::new(
                ClusterClient::builder(nodes.iter().map(String::as_str))
                    .connection_timeout(config.timeout)
                    .response_timeout(config.timeout)
                    .retries(1)
                    .build()
                    .map_err(|e| L2Error::Config(e.to_string()))?,
            )),
        };
        let prefix = config.prefix.trim_end_matches(':');
        Ok(RedisTier {
            endpoint: config.endpoint.clone(),
            target,
            connection: Mutex::new(None),
            prefix: if prefix.is_empty() {
                String::new()
            } else {
                format!("{prefix}:")
            },
            timeout: config.timeout,
            wire: config.wire,
        })
    }

    /// The Redis key of `key`.
    pub fn redis_key(&self, key: &str) -> String {
        let mut redis_key = String::with_capacity(self.prefix.len() + key.len());
        redis_key.push_str(&self.prefix);
        redis_key.push_str(key);
        redis_key
    }

    /// The Redis set of the keys written with `tag`, so that `delete_tagged` removes them
    /// without a scan. It lives as long as the longest-lived entry added to it.
    fn tag_key(&self, tag: &str) -> String {
        format!("{}__rc:tag:{tag}", self.prefix)
    }

    /// The Redis hash of tag invalidations: field `<kind>:<tag>`, value the time in ms.
    fn invalidations_key(&self) -> String {
        format!("{}__rc:tag-invalidations", self.prefix)
    }

    /// The connection, opened if there is none. Both kinds are cheap handles to one
    /// multiplexed connection, cloned per operation.
    async fn connection(&self) -> Result<Connection, L2Error> {
        let mut held = self.connection.lock().await;
        if let Some(connection) = held.as_ref() {
            return Ok(connection.clone());
        }
        let connection = match &self.target {
            Target::Single(client) => {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(self.timeout))
                    .set_response_timeout(Some(self.timeout))
                    .set_number_of_retries(1);
                Connection::Single(ConnectionManager::new_lazy_with_config(
                    (**client).clone(),
                    config,
                )?)
            }
            Target::Cluster(client) => Connection::Cluster(client.get_async_connection().await?),
        };
        *held = Some(connection.clone());
        Ok(connection)
    }

    /// Closes the connection once the operations under way are done. A later operation
    /// opens a new one.
    pub async fn disconnect(&self) {
        self.connection.lock().await.take();
    }

    /// Runs one command within the timeout.
    async fn query<T: redis::FromRedisValue>(&self, cmd: &Cmd) -> Result<T, L2Error> {
        self.bounded(async {
            Ok(match self.connection().await? {
                Connection::Single(mut c) => cmd.query_async(&mut c).await?,
                Connection::Cluster(mut c) => cmd.query_async(&mut c).await?,
            })
        })
        .await
    }

    /// Runs a pipeline within the timeout (one round trip; slot-aware on a cluster).
    async fn query_pipeline<T: redis::FromRedisValue>(
        &self,
        pipe: &Pipeline,
    ) -> Result<T, L2Error> {
        self.bounded(async {
            Ok(match self.connection().await? {
                Connection::Single(mut c) => pipe.query_async(&mut c).await?,
                Connection::Cluster(mut c) => pipe.query_async(&mut c).await?,
            })
        })
        .await
    }

    async fn bounded<T>(
        &self,
        op: impl std::future::Future<Output = Result<T, L2Error>>,
    ) -> Result<T, L2Error> {
        tokio::time::timeout(self.timeout, op)
            .await
            .unwrap_or(Err(L2Error::Timeout))
    }

    /// Reads `key`.
    pub async fn get(&self, key: &str) -> Result<Read, L2Error> {
        if self.wire == Wire::Bentocache {
            let mut reads = self.get_many(&[key.to_string()]).await?;
            return Ok(reads.pop().unwrap_or(Read::Missing));
        }
        let bytes: Option<Vec<u8>> = self
            .query(redis::cmd("GET").arg(self.redis_key(key)))
            .await?;
        Ok(read_of(bytes))
    }

    /// Reads `keys` in one round trip — one MGET, or on a cluster one MGET per hash slot,
    /// concurrently — in order.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Read>, L2Error> {
        if self.wire == Wire::Bentocache {
            return self.get_many_bentocache(keys).await;
        }
        let Grouped {
            keys: redis_keys,
            groups,
        } = self.slot_groups(keys).await?;
        let commands: Vec<Cmd> = groups
            .iter()
            .map(|group| {
                let mut mget = redis::cmd("MGET");
                for &i in group {
                    mget.arg(&redis_keys[i]);
                }
                mget
            })
            .collect();
        let replies: Vec<Vec<Option<Vec<u8>>>> =
            try_join_all(commands.iter().map(|cmd| self.query(cmd))).await?;
        let mut reads = vec![Read::Missing; keys.len()];
        for (group, values) in groups.iter().zip(replies) {
            for (&i, bytes) in group.iter().zip(values) {
                reads[i] = read_of(bytes);
            }
        }
        Ok(reads)
    }

    /// [`Self::get_many`] on bentocache's keys: GET and PTTL per key (bentocache's text
    /// holds no physical expiry), then, for tagged entries, one read of their tags'
    /// invalidation keys: an entry created at or before one of them is a miss.
    async fn get_many_bentocache(&self, keys: &[String]) -> Result<Vec<Read>, L2Error> {
        let mut reads = self.read_with_ttl(keys).await?;
        let mut tags: Vec<String> = reads
            .iter()
            .filter_map(|read| match read {
                Read::Found(entry) => Some(entry.tags.iter().cloned()),
                _ => None,
            })
            .flatten()
            .collect();
        if tags.is_empty() {
            return Ok(reads);
        }
        tags.sort_unstable();
        tags.dedup();
        let tag_keys: Vec<String> = tags
            .iter()
            .map(|tag| format!("{}{tag}", bentocache_wire::TAG_KEY_PREFIX))
            .collect();
        let Grouped {
            keys: redis_tag_keys,
            groups,
        } = self.slot_groups(&tag_keys).await?;
        let commands: Vec<Cmd> = groups
            .iter()
            .map(|group| {
                let mut mget = redis::cmd("MGET");
                for &i in group {
                    mget.arg(&redis_tag_keys[i]);
                }
                mget
            })
            .collect();
        let replies: Vec<Vec<Option<Vec<u8>>>> =
            try_join_all(commands.iter().map(|cmd| self.query(cmd))).await?;
        let mut invalidated_at = std::collections::HashMap::new();
        for (group, values) in groups.iter().zip(replies) {
            for (&i, bytes) in group.iter().zip(values) {
                if let Some(at) = bytes.and_then(|b| bentocache_wire::tag_invalidated_at(&b)) {
                    invalidated_at.insert(tags[i].as_str(), at);
                }
            }
        }
        for read in &mut reads {
            if let Read::Found(entry) = read {
                let refused = entry.tags.iter().any(|tag| {
                    invalidated_at
                        .get(tag.as_str())
                        .is_some_and(|&at| entry.created_at <= at)
                });
                if refused {
                    *read = Read::Missing;
                }
            }
        }
        Ok(reads)
    }

    /// `keys` read with GET and PTTL in one pipeline per slot group (bentocache's entries).
    async fn read_with_ttl(&self, keys: &[String]) -> Result<Vec<Read>, L2Error> {
        let Grouped {
            keys: redis_keys,
            groups,
        } = self.slot_groups(keys).await?;
        let pipes: Vec<Pipeline> = groups
            .iter()
            .map(|group| {
                let mut pipe = redis::pipe();
                for &i in group {
                    let key = &redis_keys[i];
                    pipe.cmd("GET").arg(key).cmd("PTTL").arg(key);
                }
                pipe
            })
            .collect();
        let replies: Vec<Vec<Value>> =
            try_join_all(pipes.iter().map(|pipe| self.query_pipeline(pipe))).await?;
        let now = crate::clock::now_ms();
        let mut reads = vec![Read::Missing; keys.len()];
        for (group, values) in groups.iter().zip(replies) {
            for (&i, pair) in group.iter().zip(values.chunks(2)) {
                let bytes: Option<Vec<u8>> = redis::from_redis_value(pair[0].clone())?;
                let pttl: i64 = pair
                    .get(1)
                    .map(|v| redis::from_redis_value(v.clone()))
                    .transpose()?
                    .unwrap_or(-1);
                let physical = (pttl > 0).then(|| now + pttl as u64);
                reads[i] = match bytes {
                    None => Read::Missing,
                    Some(bytes) => match bentocache_wire::decode_entry(&bytes, physical) {
                        Ok(entry) => Read::Found(entry),
                        Err(err) => Read::Unreadable(err),
                    },
                };
            }
        }
        Ok(reads)
    }

    /// `entry` as this tier's wire writes it.
    fn encode(&self, entry: &WireEntry) -> Result<Vec<u8>, L2Error> {
        match self.wire {
            Wire::Rustocache => Ok(entry.encode()),
            Wire::Bentocache => bentocache_wire::encode_entry(entry)
                .map_err(|e| L2Error::Config(format!("wire 'bentocache' needs JSON values: {e}"))),
        }
    }

    /// `keys` with this tier's prefix, and their indexes grouped as
    /// [`Self::raw_slot_groups`] groups them.
    async fn slot_groups(&self, keys: &[impl AsRef<str>]) -> Result<Grouped, L2Error> {
        let keys: Vec<String> = keys
            .iter()
            .map(|key| self.redis_key(key.as_ref()))
            .collect();
        let groups = self
            .raw_slot_groups(keys.iter().map(String::as_str))
            .await?;
        Ok(Grouped { keys, groups })
    }

    /// The indexes of Redis keys (prefix included) grouped so that each group can go in
    /// one pipeline: all of them on one server, one group per hash slot on a cluster.
    async fn raw_slot_groups<'k>(
        &self,
        keys: impl ExactSizeIterator<Item = &'k str>,
    ) -> Result<Vec<Vec<usize>>, L2Error> {
        if keys.len() == 0 {
            return Ok(Vec::new());
        }
        if !matches!(self.connection().await?, Connection::Cluster(_)) {
            return Ok(vec![(0..keys.len()).collect()]);
        }
        let mut groups: std::collections::BTreeMap<u16, Vec<usize>> =
            std::collections::BTreeMap::new();
        for (i, key) in keys.enumerate() {
            groups
                .entry(cluster_slot(key.as_bytes()))
                .or_default()
                .push(i);
        }
        Ok(groups.into_values().collect())
    }

    /// Writes `entry` under `key`; Redis drops it at its physical expiry.
    pub async fn set(&self, key: &str, entry: &WireEntry) -> Result<(), L2Error> {
        match set_cmd(
            &self.redis_key(key),
            self.encode(entry)?,
            entry.physical_expires_at,
        ) {
            Some(cmd) => self.query::<()>(&cmd).await,
            None => self.delete_many(&[key.to_string()]).await.map(|_| ()),
        }
    }

    /// Writes several entries in one round trip (one pipeline per slot on a cluster).
    pub async fn set_many(&self, items: &[(String, WireEntry)]) -> Result<(), L2Error> {
        let keys: Vec<&str> = items.iter().map(|(key, _)| key.as_str()).collect();
        let Grouped {
            keys: redis_keys,
            groups,
        } = self.slot_groups(&keys).await?;
        let mut encoded: Vec<Vec<u8>> = items
            .iter()
            .map(|(_, entry)| self.encode(entry))
            .collect::<Result<_, _>>()?;
        let pipes: Vec<Pipeline> = groups
            .iter()
            .map(|group| {
                let mut pipe = redis::pipe();
                for &i in group {
                    let redis_key = &redis_keys[i];
                    let bytes = std::mem::take(&mut encoded[i]);
                    match set_cmd(redis_key, bytes, items[i].1.physical_expires_at) {
                        Some(cmd) => pipe.add_command(cmd).ignore(),
                        // Already past its physical expiry: what Redis holds is older still.
                        None => pipe.cmd("UNLINK").arg(redis_key).ignore(),
                    };
                }
                pipe
            })
            .chain(self.tag_pipelines(items).await?)
            .collect();
        try_join_all(pipes.iter().map(|pipe| self.query_pipeline::<()>(pipe))).await?;
        Ok(())
    }

    /// The pipelines (one per slot) that file tagged entries under their tags: SADD, then
    /// a TTL reaching at least the entry's physical expiry (none if the entry has none).
    async fn tag_pipelines(&self, items: &[(String, WireEntry)]) -> Result<Vec<Pipeline>, L2Error> {
        let now = crate::clock::now_ms();
        let filings: Vec<(String, String, Option<u64>)> = items
            .iter()
            .flat_map(|(key, entry)| {
                let ttl = entry
                    .physical_expires_at
                    .map(|at| at.saturating_sub(now).max(1));
                entry
                    .tags
                    .iter()
                    .map(move |tag| (self.tag_key(tag), self.redis_key(key), ttl))
            })
            .collect();
        let groups = self
            .raw_slot_groups(filings.iter().map(|(set, _, _)| set.as_str()))
            .await?;
        Ok(groups
            .iter()
            .map(|group| {
                let mut pipe = redis::pipe();
                for &i in group {
                    let (set, member, ttl) = &filings[i];
                    pipe.cmd("SADD").arg(set).arg(member).ignore();
                    match ttl {
                        Some(ms) => {
                            pipe.cmd("PEXPIRE").arg(set).arg(ms).arg("NX").ignore();
                            pipe.cmd("PEXPIRE").arg(set).arg(ms).arg("GT").ignore();
                        }
                        None => {
                            pipe.cmd("PERSIST").arg(set).ignore();
                        }
                    }
                }
                pipe
            })
            .collect())
    }

    /// Removes every entry filed under any of `tags` (and the tags' sets); tells how many
    /// entries existed.
    pub async fn delete_tagged(&self, tags: &[String]) -> Result<u64, L2Error> {
        let sets: Vec<String> = tags.iter().map(|tag| self.tag_key(tag)).collect();
        let commands: Vec<Cmd> = sets
            .iter()
            .map(|set| redis::cmd("SMEMBERS").arg(set).clone())
            .collect();
        let members: Vec<Vec<String>> =
            try_join_all(commands.iter().map(|cmd| self.query(cmd))).await?;
        let mut keys: Vec<String> = members.into_iter().flatten().collect();
        keys.sort_unstable();
        keys.dedup();
        let removed = self.unlink(&keys).await?;
        self.unlink(&sets).await?;
        Ok(removed)
    }

    /// Records that `tags` were invalidated at `at` (ms since the epoch); `kind` tells how
    /// (`"delete"` or `"expire"`). Readers on every node compare it with entries' creation
    /// times, so that an entry computed before the invalidation and written after it is
    /// still refused.
    pub async fn record_invalidations(
        &self,
        kind: &str,
        tags: &[String],
        at: u64,
    ) -> Result<(), L2Error> {
        if tags.is_empty() {
            return Ok(());
        }
        let mut hset = redis::cmd("HSET");
        hset.arg(self.invalidations_key());
        for tag in tags {
            hset.arg(format!("{kind}:{tag}")).arg(at);
        }
        self.query::<u64>(&hset).await?;
        if self.wire == Wire::Bentocache {
            // bentocache's nodes learn of it from its own tag keys (it has no deleting
            // kind: both kinds turn its copies stale).
            let keys: Vec<String> = tags
                .iter()
                .map(|tag| self.redis_key(&format!("{}{tag}", bentocache_wire::TAG_KEY_PREFIX)))
                .collect();
            let groups = self
                .raw_slot_groups(keys.iter().map(String::as_str))
                .await?;
            let text = bentocache_wire::tag_invalidation_entry(at);
            let pipes: Vec<Pipeline> = groups
                .iter()
                .map(|group| {
                    let mut pipe = redis::pipe();
                    for &i in group {
                        pipe.cmd("SET")
                            .arg(&keys[i])
                            .arg(&text)
                            .arg("PX")
                            .arg(bentocache_wire::TAG_KEY_LIFETIME_MS)
                            .ignore();
                    }
                    pipe
                })
                .collect();
            try_join_all(pipes.iter().map(|pipe| self.query_pipeline::<()>(pipe))).await?;
        }
        Ok(())
    }

    /// Every recorded invalidation: (`kind:tag`, at).
    pub async fn invalidations(&self) -> Result<Vec<(String, u64)>, L2Error> {
        self.query(redis::cmd("HGETALL").arg(self.invalidations_key()))
            .await
    }

    /// Removes `keys`; tells how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, L2Error> {
        let keys: Vec<String> = keys.iter().map(|key| self.redis_key(key)).collect();
        self.unlink(&keys).await
    }

    /// Removes Redis keys (prefix included); tells how many existed.
    async fn unlink(&self, keys: &[String]) -> Result<u64, L2Error> {
        let groups = self
            .raw_slot_groups(keys.iter().map(String::as_str))
            .await?;
        let pipes: Vec<Pipeline> = groups
            .iter()
            .map(|group| {
                // One UNLINK per key: a multi-key UNLINK would cross slots on a cluster.
                let mut pipe = redis::pipe();
                for &i in group {
                    pipe.cmd("UNLINK").arg(&keys[i]);
                }
                pipe
            })
            .collect();
        let removed: Vec<Vec<u64>> =
            try_join_all(pipes.iter().map(|pipe| self.query_pipeline(pipe))).await?;
        Ok(removed.into_iter().flatten().sum())
    }

    /// Turns the entry under `key` stale at `now`, keeping its TTL; tells whether there was one.
    pub async fn expire(&self, key: &str, now: u64) -> Result<bool, L2Error> {
        match self.get(key).await? {
            Read::Found(mut entry) => {
                entry.logical_expires_at =
                    Some(entry.logical_expires_at.map_or(now, |at| at.min(now)));
                let mut cmd = redis::cmd("SET");
                cmd.arg(self.redis_key(key))
                    .arg(self.encode(&entry)?)
                    .arg("KEEPTTL")
                    .arg("XX");
                self.query::<Option<String>>(&cmd)
                    .await
                    .map(|reply| reply.is_some())
            }
            _ => Ok(false),
        }
    }

    /// Removes every key under the tier's prefix (`namespace`: under `<prefix>:<namespace>`),
    /// with SCAN and UNLINK, on every node of a cluster. Without a prefix, the whole database.
    pub async fn clear(&self, namespace: &str) -> Result<(), L2Error> {
        let pattern = format!("{}{}*", glob_escape(&self.prefix), glob_escape(namespace));
        let mut cursor: u64 = 0;
        match self.connection().await? {
            Connection::Cluster(_) => self.clear_cluster(&pattern).await,
            Connection::Single(_) => loop {
                let mut scan = redis::cmd("SCAN");
                scan.arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000);
                let (next, keys): (u64, Vec<String>) = self.query(&scan).await?;
                if !keys.is_empty() {
                    let mut unlink = redis::cmd("UNLINK");
                    unlink.arg(&keys);
                    self.query::<u64>(&unlink).await?;
                }
                if next == 0 {
                    return Ok(());
                }
                cursor = next;
            },
        }
    }

    /// Clears a cluster node by node: SCAN only sees the node it is sent to, so each master
    /// (from CLUSTER SLOTS) is swept over a direct connection, with the credentials of the
    /// first configured node.
    async fn clear_cluster(&self, pattern: &str) -> Result<(), L2Error> {
        let Endpoint::Cluster(nodes) = &self.endpoint else {
            return Ok(());
        };
        let seed = nodes[0]
            .as_str()
            .into_connection_info()
            .map_err(|e| L2Error::Config(e.to_string()))?;
        let slots: Vec<Vec<Value>> = self
            .query(&redis::cmd("CLUSTER").arg("SLOTS").clone())
            .await?;
        let mut masters: Vec<(String, u16)> = Vec::new();
        for range in slots {
            // [start, end, [host, port, id], replicas...]
            if let Some(Value::Array(master)) = range.get(2) {
                let host: String = redis::from_redis_value(master[0].clone())?;
                let port: u16 = redis::from_redis_value(master[1].clone())?;
                if !masters.contains(&(host.clone(), port)) {
                    masters.push((host, port));
                }
            }
        }
        for (host, port) in masters {
            let info = seed.clone().set_addr(ConnectionAddr::Tcp(host, port));
            let client = Client::open(info)?;
            self.bounded(async {
                let mut conn = client.get_multiplexed_async_connection().await?;
                let mut cursor: u64 = 0;
                loop {
                    let (next, keys): (u64, Vec<Vec<u8>>) = redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(pattern)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut conn)
                        .await?;
                    if !keys.is_empty() {
                        // One key per UNLINK: keys of one node may still be in different slots.
                        let mut pipe = redis::pipe();
                        for key in &keys {
                            pipe.cmd("UNLINK").arg(key).ignore();
                        }
                        pipe.query_async::<()>(&mut conn).await?;
                    }
                    if next == 0 {
                        return Ok(());
                    }
                    cursor = next;
                }
            })
            .await?;
        }
        Ok(())
    }
}

/// The Redis Cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}`
/// when it has a non-empty one, modulo 16384.
pub fn cluster_slot(key: &[u8]) -> u16 {
    let hashed = match key.iter().position(|&b| b == b'{') {
        Some(open) => match key[open + 1..].iter().position(|&b| b == b'}') {
            Some(len) if len > 0 => &key[open + 1..open + 1 + len],
            _ => key,
        },
        None => key,
    };
    let mut crc: u16 = 0;
    for &byte in hashed {
        crc ^= (byte as u16) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc % 16384
}

/// The SET of `entry`, expiring at its physical expiry; `None` if that is already past.
fn set_cmd(redis_key: &str, bytes: Vec<u8>, physical_expires_at: Option<u64>) -> Option<Cmd> {
    let mut cmd = redis::cmd("SET");
    cmd.arg(redis_key).arg(bytes);
    if let Some(at) = physical_expires_at {
        cmd.arg("PXAT").arg(at);
        if at <= crate::clock::now_ms() {
            return None;
        }
    }
    Some(cmd)
}

fn read_of(bytes: Option<Vec<u8>>) -> Read {
    match bytes {
        None => Read::Missing,
        Some(bytes) => match WireEntry::decode(&bytes) {
            Ok(entry) => Read::Found(entry),
            Err(err) => Read::Unreadable(err),
        },
    }
}

/// Escapes the glob characters of a SCAN MATCH pattern.
fn glob_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::cluster_slot;

    #[test]
    fn slots_match_redis() {
        // Values from CLUSTER KEYSLOT.
        assert_eq!(cluster_slot(b"foo"), 12182);
        assert_eq!(cluster_slot(b"123456789"), 12739);
        assert_eq!(
            cluster_slot(b"{user1000}.following"),
            cluster_slot(b"user1000")
        );
        assert_eq!(cluster_slot(b"foo{}bar"), cluster_slot(b"foo{}bar"));
        assert_ne!(cluster_slot(b"foo{}bar"), cluster_slot(b""));
    }
}
