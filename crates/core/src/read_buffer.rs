//! Batched policy bookkeeping, as Caffeine does it.
//!
//! A read is served from the store's index; what the eviction policy must learn from it
//! (that the key was used) is only recorded here, as the key's hash, in a small buffer.
//! A hash rather than the key: recording it touches no reference count that the replay
//! thread, on another core, would touch again when it is done with the batch.
//!
//! Full buffers queue up per store, in order, for one background thread that replays them
//! against the policy, so the policy's lock and bookkeeping are not on the reader's path.
//! Nor is waking that thread: a wake is a futex syscall that cost readers here ~40 ns a read
//! even at one per 512 reads (a fifth of a lookup), so while reads keep coming the thread
//! looks for batches every [`POLL`] by itself, and it is woken only after it has gone idle.
//! A writer replays its store's queued and current reads itself, first, under the policy's
//! lock: the policy always sees one thread's requests in the order they came (what it
//! decides depends on it: a hit counted late can cost a key its place).
//!
//! Like Caffeine's read buffers, this one is lossy: when the replay thread falls behind,
//! whole batches are dropped. The policy then sees a sample of the reads rather than all of
//! them, which TinyLFU's frequency sketch tolerates; correctness never depends on it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use parking_lot::Mutex;

/// What replays a store's queued batches of reads: its policy.
pub(crate) trait Replay: Send + Sync {
    /// Tells the policy of the reads queued in the store's buffer, oldest first.
    fn replay_queued(&self);
}

/// Reads recorded before they are queued as a batch.
const BATCH: usize = 512;
/// Batches one store may have queued before new ones are dropped (a store read at 5 M/s
/// fills this in about 6 ms; the thread looks every [`POLL`]).
const QUEUED_BATCHES: usize = 64;
/// How often the replay thread looks for batches while reads keep coming.
const POLL: Duration = Duration::from_millis(1);
/// Empty looks in a row after which the replay thread sleeps until woken (about 50 ms of
/// no batches): an idle process does not pay for the polling.
const IDLE_POLLS: u32 = 50;

/// What the replay thread shares with readers: the stores with batches queued, and
/// whether it sleeps until woken.
struct ReplayQueue {
    due: Mutex<Vec<Arc<dyn Replay>>>,
    asleep: AtomicBool,
}

static QUEUE: ReplayQueue = ReplayQueue {
    due: Mutex::new(Vec::new()),
    asleep: AtomicBool::new(false),
};

impl ReplayQueue {
    /// Puts `target` on the thread's list, waking the thread if it had gone idle.
    fn schedule(&self, target: Arc<dyn Replay>, thread: &Thread) {
        self.due.lock().push(target);
        if self.asleep.load(SeqCst) {
            thread.unpark();
        }
    }

    /// The replay thread's loop.
    fn run(&self) {
        let mut idle = 0;
        loop {
            let due = std::mem::take(&mut *self.due.lock());
            if due.is_empty() {
                idle += 1;
            } else {
                idle = 0;
                due.iter().for_each(|target| target.replay_queued());
            }
            if idle < IDLE_POLLS {
                std::thread::park_timeout(POLL);
                continue;
            }
            // Asleep, then one more look: a store put on the list before the flag was seen
            // set is replayed now; one put there after it wakes the thread (an unpark
            // before the park makes the park return at once).
            self.asleep.store(true, SeqCst);
            if self.due.lock().is_empty() {
                std::thread::park();
            }
            self.asleep.store(false, SeqCst);
            idle = 0;
        }
    }
}

/// The replay thread, started on first use; `None` if no thread could be started, in
/// which case batches are replayed on the reader's thread.
fn replay_thread() -> Option<&'static Thread> {
    static THREAD: OnceLock<Option<Thread>> = OnceLock::new();
    THREAD
        .get_or_init(|| {
            std::thread::Builder::new()
                .name("rustocache-policy".into())
                .spawn(|| QUEUE.run())
                .ok()
                .map(|handle| handle.thread().clone())
        })
        .as_ref()
}

/// What a read is recorded as: the low 32 bits of its key's hash. The policy keeps only
/// the low 29 ([`WTinyLfu::record_read_hash`] narrows what it is given), so the other
/// half of a 64-bit hash would be bytes written, queued and read for nothing.
///
/// [`WTinyLfu::record_read_hash`]: crate::policy::WTinyLfu::record_read_hash
pub(crate) type ReadHash = u32;

/// A key's 64-bit hash as a read is recorded (its low 32 bits).
#[inline]
pub(crate) fn read_hash(hash: u64) -> ReadHash {
    hash as ReadHash
}

/// The reads of one store not yet replayed against its policy.
pub(crate) struct ReadBuffer {
    current: Mutex<Vec<ReadHash>>,
    /// An empty batch [`Self::drain`] swaps for the current one, so that it replays that
    /// batch without holding its lock and without allocating. Only writers take it, under
    /// the policy's lock: never contended.
    spare: Mutex<Vec<ReadHash>>,
    queued: Mutex<VecDeque<Vec<ReadHash>>>,
    /// Whether the store is on the replay thread's list (so that it is put there once).
    scheduled: AtomicBool,
}

impl ReadBuffer {
    pub(crate) fn new() -> Self {
        ReadBuffer {
            current: Mutex::new(Vec::with_capacity(BATCH)),
            spare: Mutex::new(Vec::with_capacity(BATCH)),
            queued: Mutex::new(VecDeque::new()),
            scheduled: AtomicBool::new(false),
        }
    }

    /// Records a read of the key whose hash is `hash`; every [`BATCH`] reads, queues them
    /// for the replay thread to hand to `target` (the store this buffer belongs to).
    /// Returns whether a batch was dropped because the thread had fallen behind.
    #[inline]
    pub(crate) fn record<T: Replay + 'static>(&self, hash: u64, target: &Arc<T>) -> bool {
        let mut current = self.current.lock();
        current.push(read_hash(hash));
        if current.len() < BATCH {
            return false;
        }
        let batch = std::mem::replace(&mut *current, Vec::with_capacity(BATCH));
        drop(current);
        self.queue(batch, target)
    }

    /// As [`Self::record`], for many reads at once (one lock for each batch's worth).
    /// Returns how many batches were dropped.
    pub(crate) fn record_all<T: Replay + 'static>(
        &self,
        hashes: impl IntoIterator<Item = ReadHash>,
        target: &Arc<T>,
    ) -> u64 {
        let mut dropped = 0;
        let mut hashes = hashes.into_iter().peekable();
        while hashes.peek().is_some() {
            let mut current = self.current.lock();
            let room = BATCH - current.len();
            current.extend(hashes.by_ref().take(room));
            if current.len() < BATCH {
                return dropped;
            }
            let batch = std::mem::replace(&mut *current, Vec::with_capacity(BATCH));
            drop(current);
            dropped += u64::from(self.queue(batch, target));
        }
        dropped
    }

    #[cold]
    fn queue<T: Replay + 'static>(&self, batch: Vec<ReadHash>, target: &Arc<T>) -> bool {
        {
            let mut queued = self.queued.lock();
            if queued.len() >= QUEUED_BATCHES {
                return true;
            }
            queued.push_back(batch);
        }
        match replay_thread() {
            Some(thread) => {
                if !self.scheduled.swap(true, SeqCst) {
                    QUEUE.schedule(Arc::clone(target) as Arc<dyn Replay>, thread);
                }
            }
            None => target.replay_queued(),
        }
        false
    }

    /// Hands the queued batches to `apply`, oldest first, on the caller's thread. The
    /// caller holds the policy's lock.
    pub(crate) fn drain_queued(&self, mut apply: impl FnMut(u64)) {
        // Cleared first: a batch queued from now on puts the store on the list again.
        self.scheduled.store(false, SeqCst);
        loop {
            // Popped in a statement of its own: a `while let` would hold the lock through
            // the replay of the batch, and a reader queueing a batch meanwhile would wait.
            let batch = self.queued.lock().pop_front();
            let Some(batch) = batch else {
                break;
            };
            batch.iter().for_each(|&hash| apply(u64::from(hash)));
        }
    }

    /// Hands every read not yet replayed to `apply`, in order (the queued batches, then
    /// the current one), on the caller's thread. The caller holds the policy's lock.
    pub(crate) fn drain(&self, mut apply: impl FnMut(u64)) {
        self.drain_queued(&mut apply);
        let mut batch = self.spare.lock();
        // The current batch is locked for the swap only: readers of other threads go on
        // recording while it is replayed (up to BATCH reads).
        std::mem::swap(&mut *self.current.lock(), &mut *batch);
        batch.iter().for_each(|&hash| apply(u64::from(hash)));
        batch.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A store stand-in whose batches the test replays itself.
    struct Unreplayed;

    impl Replay for Unreplayed {
        fn replay_queued(&self) {}
    }

    #[test]
    fn replays_in_order_and_lets_readers_queue_meanwhile() {
        let buffer = ReadBuffer::new();
        let target = Arc::new(Unreplayed);
        let reads = 2 * BATCH as u64;
        for hash in 0..reads {
            assert!(!buffer.record(hash, &target));
        }
        let mut replayed = Vec::new();
        buffer.drain_queued(|hash| {
            // The queue is not locked while a batch is replayed: a reader filling a batch
            // now queues it without waiting for the replay to end.
            assert!(buffer.queued.try_lock().is_some());
            replayed.push(hash);
        });
        assert_eq!(replayed, (0..reads).collect::<Vec<_>>());
    }

    #[test]
    fn drain_replays_every_read_in_order_and_lets_readers_record_meanwhile() {
        let buffer = ReadBuffer::new();
        let target = Arc::new(Unreplayed);
        // Two batches queued, and part of a third still current.
        let reads = 2 * BATCH as u64 + 100;
        for hash in 0..reads {
            assert!(!buffer.record(hash, &target));
        }
        let mut replayed = Vec::new();
        buffer.drain(|hash| {
            // Nothing a reader takes is locked while reads are replayed.
            assert!(buffer.current.try_lock().is_some());
            assert!(buffer.queued.try_lock().is_some());
            replayed.push(hash);
        });
        assert_eq!(replayed, (0..reads).collect::<Vec<_>>());
        // Reads recorded after a drain are replayed by the next one, and only those.
        for hash in reads..reads + 3 {
            assert!(!buffer.record(hash, &target));
        }
        let mut next = Vec::new();
        buffer.drain(|hash| next.push(hash));
        assert_eq!(next, (reads..reads + 3).collect::<Vec<_>>());
    }
}
