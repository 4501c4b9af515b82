//! Batched policy bookkeeping, as Caffeine does it.
//!
//! A read is served from the store's index; what the eviction policy must learn from it
//! (that the key was used) is only recorded here, in a small buffer. A full buffer is
//! handed to one background thread that replays it against the policy, so the policy's
//! lock and bookkeeping are not on the reader's path.
//!
//! Like Caffeine's read buffers, this one is lossy: when the replay thread falls behind,
//! whole batches are dropped. The policy then sees a sample of the reads rather than all of
//! them, which TinyLFU's frequency sketch tolerates; correctness never depends on it.

use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};
use std::sync::{Arc, OnceLock};

use parking_lot::Mutex;

/// What replays a batch of reads: a store's policy.
pub(crate) trait Replay: Send + Sync {
    /// Tells the policy that `keys` were read, in that order.
    fn replay(&self, keys: &[Arc<str>]);
}

/// Reads recorded before a batch is handed over. Each hand-over wakes the replay thread
/// (a futex syscall on the reader's thread, a few µs); at 512 reads that is a few ns per
/// read (128 measured ~10 % slower lookups). Writes drain the buffer first, so a bigger
/// batch does not delay what the policy knows when it evicts (sprite and OLTP hit ratios
/// moved by under 0.7 points either way).
const BATCH: usize = 512;
/// Batches waiting for the replay thread, across all stores, before new ones are dropped.
const QUEUED_BATCHES: usize = 256;

type Batch = (Arc<dyn Replay>, Vec<Arc<str>>);

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
                    for (target, keys) in receiver {
                        target.replay(&keys);
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
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

    /// Records a read of `key`; every [`BATCH`] reads, hands them to the replay thread
    /// for `target`. Returns whether a batch was dropped because the thread had fallen
    /// behind.
    #[inline]
    pub(crate) fn record<T: Replay + 'static>(&self, key: Arc<str>, target: &Arc<T>) -> bool {
        let mut keys = self.keys.lock();
        keys.push(key);
        if keys.len() < BATCH {
            return false;
        }
        let batch = std::mem::replace(&mut *keys, Vec::with_capacity(BATCH));
        drop(keys);
        match replay_thread() {
            Some(thread) => matches!(
                thread.try_send((Arc::clone(target) as Arc<dyn Replay>, batch)),
                Err(TrySendError::Full(_))
            ),
            None => {
                target.replay(&batch);
                false
            }
        }
    }

    /// Hands the reads not yet sent to `apply`, in order, on the caller's thread.
    pub(crate) fn drain(&self, apply: impl FnMut(&Arc<str>)) {
        let mut keys = self.keys.lock();
        keys.iter().for_each(apply);
        keys.clear();
    }
}
