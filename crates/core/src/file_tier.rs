//! The embedded, persistent L2 tier: entries on local disk in one SQLite database, no
//! server needed.
//!
//! Each tier owns one thread that opens and owns its [`FileStore`]: operations are sent to it and
//! answered through a oneshot channel, so callers (the JS thread, the I/O runtime) never
//! block on disk I/O. The same thread prunes expired entries every `prune_interval`.
//!
//! Entries are the same [`WireEntry`] envelopes as on Redis, under the same keys
//! (`<prefix>:<key>`), so the facade treats both tiers alike. Several tiers (several stores,
//! several processes) may share a directory: SQLite's locks order their writes.
//!
//! ```
//! # async fn run() -> Result<(), rustocache_core::redis_tier::L2Error> {
//! use rustocache_core::file_tier::{FileConfig, FileTier};
//! use rustocache_core::envelope::WireEntry;
//! let tier = FileTier::open(FileConfig {
//!     directory: std::env::temp_dir().join("rustocache-doc"),
//!     prefix: "app".into(),
//!     prune_interval: None,
//! })?;
//! let entry = WireEntry { created_at: 1, logical_expires_at: None, physical_expires_at: None, tags: vec![], value: b"1".to_vec() };
//! tier.set_many(&[("k".into(), entry)]).await?;
//! assert_eq!(tier.get_many(&["k".into()]).await?.len(), 1);
//! # Ok(()) }
//! ```

mod store;

use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::oneshot;

use crate::clock::now_ms;
use crate::envelope::WireEntry;
use crate::redis_tier::{L2Error, Read};
pub use store::{FileStore, StoreReport, FILE_NAME, SCHEMA_VERSION};

/// Settings of a file tier.
#[derive(Debug, Clone)]
pub struct FileConfig {
    /// Where the database lives; created if missing.
    pub directory: PathBuf,
    /// Key prefix, joined to keys with `:`; empty for none.
    pub prefix: String,
    /// How often expired entries are removed from disk; `None` never (they are still never
    /// returned once expired).
    pub prune_interval: Option<Duration>,
}

/// An operation, given the open store or why it could not be opened.
type Job = Box<dyn FnOnce(Result<&mut FileStore, &L2Error>) + Send>;

enum Message {
    Run(Job),
    /// Stop once the jobs before it are done; answered after the database is closed.
    Close(oneshot::Sender<()>),
}

/// A file tier. Cheap to share: wrap it in an `Arc`.
pub struct FileTier {
    config: FileConfig,
    /// The store thread's inbox, if it runs: started by `open`, stopped by `disconnect`,
    /// restarted by the next operation.
    worker: Mutex<Option<mpsc::Sender<Message>>>,
}

impl FileTier {
    /// Opens the tier: creates the directory and the database if need be, checks its
    /// layout, and starts its thread. Fails, as [`L2Error::Config`], when the directory
    /// cannot be created or written, or holds a database this build cannot read.
    pub fn open(config: FileConfig) -> Result<Self, L2Error> {
        let (worker, opened) = start(&config)?;
        opened
            .recv()
            .unwrap_or_else(|_| Err(L2Error::Store("the store's thread stopped".into())))?;
        Ok(FileTier {
            config,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Runs `job` on the store thread (restarting it after a `disconnect`) and awaits it.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut FileStore) -> Result<T, L2Error> + Send + 'static,
    ) -> Result<T, L2Error> {
        let (reply, answer) = oneshot::channel();
        let message = Message::Run(Box::new(move |store: Result<&mut FileStore, &L2Error>| {
            let _ = reply.send(store.map_err(L2Error::clone).and_then(job));
        }));
        {
            let mut worker = self.worker.lock();
            let unsent = match worker.as_ref() {
                Some(inbox) => inbox
                    .send(message)
                    .err()
                    .map(|mpsc::SendError(message)| message),
                None => Some(message),
            };
            if let Some(message) = unsent {
                // Not running (disconnected, or its thread died): start it again. Not waiting
                // for the open: a failure reaches the job through its reply.
                let (inbox, _) = start(&self.config)?;
                let _ = inbox.send(message);
                *worker = Some(inbox);
            }
        }
        answer
            .await
            .unwrap_or_else(|_| Err(L2Error::Store("the store's thread stopped".into())))
    }

    /// Reads `keys`, in order. Entries past their physical expiry are missing.
    pub async fn get_many(&self, keys: &[String]) -> Result<Vec<Read>, L2Error> {
        let keys = keys.to_vec();
        self.run(move |store| store.get_many(&keys, now_ms())).await
    }

    /// Writes entries in one transaction.
    pub async fn set_many(&self, items: &[(String, WireEntry)]) -> Result<(), L2Error> {
        let items = items.to_vec();
        self.run(move |store| store.set_many(&items, now_ms()))
            .await
    }

    /// Removes `keys`; tells how many existed.
    pub async fn delete_many(&self, keys: &[String]) -> Result<u64, L2Error> {
        let keys = keys.to_vec();
        self.run(move |store| store.delete_many(&keys, now_ms()))
            .await
    }

    /// Removes every entry filed under any of `tags`; tells how many existed.
    pub async fn delete_tagged(&self, tags: &[String]) -> Result<u64, L2Error> {
        let tags = tags.to_vec();
        self.run(move |store| store.delete_tagged(&tags, now_ms()))
            .await
    }

    /// Records that `tags` were invalidated (`kind`: `delete` or `expire`) at `at` ms.
    pub async fn record_invalidations(
        &self,
        kind: &str,
        tags: &[String],
        at: u64,
    ) -> Result<(), L2Error> {
        let (kind, tags) = (kind.to_string(), tags.to_vec());
        self.run(move |store| store.record_invalidations(&kind, &tags, at))
            .await
    }

    /// Every recorded invalidation: (`kind:tag`, at).
    pub async fn invalidations(&self) -> Result<Vec<(String, u64)>, L2Error> {
        self.run(FileStore::invalidations).await
    }

    /// Turns the entry under `key` stale at `now`; tells whether there was one.
    pub async fn expire(&self, key: &str, now: u64) -> Result<bool, L2Error> {
        let key = key.to_string();
        self.run(move |store| store.expire(&key, now)).await
    }

    /// Removes the entries under `namespace` (the whole tier for an empty one).
    pub async fn clear(&self, namespace: &str) -> Result<(), L2Error> {
        let namespace = namespace.to_string();
        self.run(move |store| store.clear(&namespace)).await
    }

    /// Removes the entries past their physical expiry now; tells how many.
    pub async fn prune(&self) -> Result<u64, L2Error> {
        self.run(|store| store.prune(now_ms())).await
    }

    /// Counts what the database holds and checks its integrity (see [`FileStore::report`]).
    pub async fn report(&self) -> Result<StoreReport, L2Error> {
        self.run(|store| store.report(now_ms())).await
    }

    /// Closes the database once the operations under way are done, and stops pruning; a
    /// later operation opens it again.
    pub async fn disconnect(&self) {
        let Some(inbox) = self.worker.lock().take() else {
            return;
        };
        let (closed, done) = oneshot::channel();
        if inbox.send(Message::Close(closed)).is_ok() {
            let _ = done.await;
        }
    }
}

/// Where a starting store thread tells whether it opened the store.
type OpenOutcome = mpsc::Receiver<Result<(), L2Error>>;

/// Starts a store thread, which opens the store first; its inbox, and where the outcome of
/// the open is told.
fn start(config: &FileConfig) -> Result<(mpsc::Sender<Message>, OpenOutcome), L2Error> {
    let (inbox, messages) = mpsc::channel();
    let (told, opened) = mpsc::channel();
    let config = config.clone();
    std::thread::Builder::new()
        .name("rustocache-file".into())
        .spawn(
            move || match FileStore::open(&config.directory, &config.prefix) {
                Ok(store) => {
                    let _ = told.send(Ok(()));
                    serve(store, messages, config.prune_interval)
                }
                Err(err) => {
                    let _ = told.send(Err(err.clone()));
                    // Fail what was already sent; the next operation tries to open it again.
                    while let Ok(message) = messages.try_recv() {
                        match message {
                            Message::Run(job) => job(Err(&err)),
                            Message::Close(closed) => drop(closed.send(())),
                        }
                    }
                }
            },
        )
        .map_err(|e| L2Error::Store(format!("cannot start the store's thread: {e}")))?;
    Ok((inbox, opened))
}

/// The store thread: runs jobs in order and prunes on schedule, until closed or orphaned.
fn serve(
    mut store: FileStore,
    messages: mpsc::Receiver<Message>,
    prune_interval: Option<Duration>,
) {
    let mut next_prune = prune_interval.map(|every| Instant::now() + every);
    loop {
        let message = match next_prune {
            None => messages.recv().map_err(|_| RecvTimeoutError::Disconnected),
            Some(at) => messages.recv_timeout(at.saturating_duration_since(Instant::now())),
        };
        match message {
            Ok(Message::Run(job)) => job(Ok(&mut store)),
            Ok(Message::Close(closed)) => {
                drop(store);
                let _ = closed.send(());
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                // A failed prune (a lock held too long by another process) is retried next time.
                let _ = store.prune(now_ms());
                next_prune = prune_interval.map(|every| Instant::now() + every);
            }
            Err(RecvTimeoutError::Disconnected) => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(name: &str, prune_interval: Option<Duration>) -> (FileTier, PathBuf) {
        let directory =
            std::env::temp_dir().join(format!("rustocache-tier-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&directory);
        let tier = FileTier::open(FileConfig {
            directory: directory.clone(),
            prefix: "app".into(),
            prune_interval,
        })
        .unwrap();
        (tier, directory)
    }

    fn entry(physical: Option<u64>) -> WireEntry {
        WireEntry {
            created_at: now_ms(),
            logical_expires_at: None,
            physical_expires_at: physical,
            tags: vec!["t".into()],
            value: b"v".to_vec(),
        }
    }

    fn count_rows(directory: &std::path::Path) -> i64 {
        let connection = rusqlite::Connection::open(directory.join(FILE_NAME)).unwrap();
        connection
            .query_row("SELECT count(*) FROM entries", [], |r| r.get(0))
            .unwrap()
    }

    #[tokio::test]
    async fn reopens_after_disconnect_and_keeps_entries() {
        let (tier, directory) = tier("reopen", None);
        tier.set_many(&[("k".into(), entry(None))]).await.unwrap();
        tier.disconnect().await;
        tier.disconnect().await;
        let reads = tier.get_many(&["k".into()]).await.unwrap();
        assert!(matches!(reads[0], Read::Found(_)));
        assert_eq!(tier.delete_tagged(&["t".into()]).await.unwrap(), 1);
        let _ = std::fs::remove_dir_all(directory);
    }

    #[tokio::test]
    async fn prunes_on_its_interval() {
        let (tier, directory) = tier("interval", Some(Duration::from_millis(20)));
        tier.set_many(&[
            // Long enough to be counted first, even under valgrind.
            ("short".into(), entry(Some(now_ms() + 500))),
            ("long".into(), entry(None)),
        ])
        .await
        .unwrap();
        assert_eq!(count_rows(&directory), 2);
        let deadline = Instant::now() + Duration::from_secs(10);
        while count_rows(&directory) != 1 {
            assert!(
                Instant::now() < deadline,
                "the expired entry was never pruned"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(tier.prune().await.unwrap(), 0);
        let _ = std::fs::remove_dir_all(directory);
    }
}
