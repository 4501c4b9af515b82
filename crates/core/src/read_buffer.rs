//! Batched policy bookkeeping, as Caffeine does it.
//!
//! A read is served from the store's index; what the eviction policy must learn from it
//! (that the key was used) is only recorded here, in a small buffer. A full buffer is
//! handed to one background thread that replays it against the policy (moka), so the
//! ~130 ns moka spends per recorded access is not spent on the caller's thread.
//!
//! Like Caffeine's read buffers, this one is lossy: when the replay thread falls behind,
//! whole batches are dropped. The policy then sees a sample of the reads rather than all of
//! them, which TinyLFU's frequency sketch tolerates; correctness never depends on it.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

use moka::sync::Cache;
use parking_lot::Mutex;

use crate::entry::Entry;
use crate::hashing::KeyHasher;

/// The eviction policy of a store: a moka cache holding the same entries as the index.
pub(crate) type Policy = Cache<Arc<str>, Arc<Entry>, KeyHasher>;

/// Reads recorded before a batch is handed over.
const BATCH: usize = 128;
/// Batches waiting for the replay thread, across all stores, before new ones are dropped.
const QUEUED_BATCHES: usize = 256;

type Batch = (Policy, Vec<Arc<str>>);

/// The replay thread's queue, started on first use; `None` if no thread could be started,
/// in which case batches are replayed on the caller's thread.
fn replay_thread() -> Option<&'static SyncSender<Batch>> {
    static SENDER: OnceLock<Option<SyncSender<Batch>>> = OnceLock::new();
    SENDER
        .get_or_init(|| {
            let (sender, receiver) = sync_channel::<Batch>(QUEUED_BATCHES);
            std::thread::Builder::new()
                .name("rustocache-policy".into())
                .spawn(move || {
                    for (policy, keys) in receiver {
                        replay(&policy, keys);
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

fn replay(policy: &Policy, keys: Vec<Arc<str>>) {
    for key in keys {
        policy.get(&*key);
    }
}

/// The reads of one store not yet replayed against its policy.
pub(crate) struct ReadBuffer {
    keys: Mutex<Vec<Arc<str>>>,
}

impl ReadBuffer {
    pub(crate) fn new() -> Self {
        ReadBuffer {
            keys: Mutex::new(Vec::with_capacity(BATCH)),
        }
    }

    /// Records a read of `key`; every [`BATCH`] reads, hands them to the replay thread.
    /// Returns whether a batch was dropped because the thread had fallen behind.
    #[inline]
    pub(crate) fn record(&self, key: Arc<str>, policy: &Policy) -> bool {
        let mut keys = self.keys.lock();
        keys.push(key);
        if keys.len() < BATCH {
            return false;
        }
        let batch = std::mem::replace(&mut *keys, Vec::with_capacity(BATCH));
        drop(keys);
        match replay_thread() {
            Some(thread) => matches!(
                thread.try_send((policy.clone(), batch)),
                Err(TrySendError::Full(_))
            ),
            None => {
                replay(policy, batch);
                false
            }
        }
    }

    /// Replays the pending reads on the caller's thread.
    pub(crate) fn flush(&self, policy: &Policy) {
        let batch = std::mem::take(&mut *self.keys.lock());
        replay(policy, batch);
    }
}
