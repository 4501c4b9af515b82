//! The wall clock published in memory, for readers for whom reading the clock costs too
//! much: a JavaScript hit answered without a call into Rust spends a fifth of its time in
//! `Date.now()` (~40 ns on these machines); a load from a typed array costs ~1 ns.
//!
//! One background thread (started with the first [`PublishedClock`]) writes the time, in whole
//! milliseconds since the Unix epoch, into every live cell every [`TICK`]. A reader that
//! has not touched its cell for [`IDLE_AFTER`] is not kept up to date: the thread then
//! writes `+∞` into the cells and wakes only every [`IDLE_TICK`], so an idle process costs
//! a few wake-ups a second. `+∞` tells the reader to read the real clock, and its touch
//! wakes the ticking again.
//!
//! The published time lags the real one by up to a tick, and by longer if the thread is
//! not scheduled: a reader must only trust it for decisions far from the edge (the facade
//! reads the real clock whenever the published one is within a second of an entry's
//! expiry), never as the time itself.

use std::ptr::NonNull;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use super::now_ms;

/// How often the thread publishes the time while a reader is active.
pub const TICK: Duration = Duration::from_millis(10);
/// How long after the last touch the cells stop being kept up to date.
pub const IDLE_AFTER: Duration = Duration::from_secs(1);
/// How often the thread looks for a touch while every reader is idle.
pub const IDLE_TICK: Duration = Duration::from_millis(250);

/// The 16 bytes a reader maps as two `f64`s: `[0]` the published time in milliseconds
/// (`+∞`: read the real clock), `[1]` non-zero when the reader has used it since the last
/// tick (the reader writes it, the thread clears it).
#[repr(C, align(16))]
pub struct ClockCell {
    now: AtomicU64,
    touched: AtomicU64,
}

/// A [`ClockCell`] the thread keeps up to date while this handle lives; dropping it stops
/// the thread writing there before the cell is freed.
pub struct PublishedClock {
    cell: NonNull<ClockCell>,
}

// The cell is only ever accessed through atomics.
unsafe impl Send for PublishedClock {}
unsafe impl Sync for PublishedClock {}

/// The live cells, by address: the thread writes into them under this lock, and a handle
/// leaves the list under it before its cell is freed.
static CELLS: Mutex<Vec<usize>> = Mutex::new(Vec::new());
static START: Once = Once::new();

/// `+∞` as an `f64`'s bits: "read the real clock".
const UNKNOWN: u64 = 0x7FF0_0000_0000_0000;
/// `1.0` as an `f64`'s bits, what a fresh cell's `touched` holds so the thread starts ticking.
const ONE: u64 = 0x3FF0_0000_0000_0000;

impl PublishedClock {
    /// A new cell, published from the next tick (until then it reads `+∞`).
    ///
    /// ```
    /// use rustocache_core::clock::published::PublishedClock;
    ///
    /// let clock = PublishedClock::new();
    /// assert!(clock.read() == f64::INFINITY || clock.read() <= rustocache_core::clock::now_ms() as f64);
    /// ```
    pub fn new() -> Self {
        let cell = Box::new(ClockCell {
            now: AtomicU64::new(UNKNOWN),
            touched: AtomicU64::new(ONE),
        });
        let cell = NonNull::from(Box::leak(cell));
        CELLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(cell.as_ptr() as usize);
        START.call_once(|| {
            // Without the thread every cell keeps reading +∞: readers use the real clock.
            // Wait until it runs (std names a thread before running its body), so that
            // once the first handle exists the thread is visible to the process's tools.
            let (started, running) = std::sync::mpsc::channel();
            let spawned = thread::Builder::new()
                .name("rustocache-clock".into())
                .spawn(move || {
                    let _ = started.send(());
                    publish_forever()
                });
            if spawned.is_ok() {
                let _ = running.recv();
            }
        });
        PublishedClock { cell }
    }

    /// The cell's address, for mapping it as 16 bytes (two `f64`s) into another runtime.
    /// Valid while this handle lives.
    pub fn as_ptr(&self) -> *mut u8 {
        self.cell.as_ptr().cast()
    }

    /// The published time in milliseconds, `+∞` when unknown; marks the cell as used.
    pub fn read(&self) -> f64 {
        let cell = unsafe { self.cell.as_ref() };
        cell.touched.store(ONE, Ordering::Relaxed);
        f64::from_bits(cell.now.load(Ordering::Relaxed))
    }
}

impl Default for PublishedClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PublishedClock {
    fn drop(&mut self) {
        let address = self.cell.as_ptr() as usize;
        let mut cells = CELLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cells.retain(|&cell| cell != address);
        drop(cells);
        // Out of the list under the lock: the thread no longer writes here.
        drop(unsafe { Box::from_raw(self.cell.as_ptr()) });
    }
}

/// The thread's loop: publish every tick while some reader is active, else `+∞` and a
/// slower look for a touch.
fn publish_forever() {
    let mut last_touch = Instant::now();
    loop {
        let active = {
            let cells = CELLS
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let cells = cells
                .iter()
                .map(|&cell| unsafe { &*(cell as *const ClockCell) });
            let mut touched = false;
            for cell in cells.clone() {
                touched |= cell.touched.swap(0, Ordering::Relaxed) != 0;
            }
            if touched {
                last_touch = Instant::now();
            }
            let active = last_touch.elapsed() < IDLE_AFTER;
            let now = if active {
                (now_ms() as f64).to_bits()
            } else {
                UNKNOWN
            };
            for cell in cells {
                cell.now.store(now, Ordering::Relaxed);
            }
            active
        };
        thread::sleep(if active { TICK } else { IDLE_TICK });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publishes_the_time_then_unknown_once_idle() {
        let clock = PublishedClock::new();
        // Touched at birth: published within a few ticks.
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut published = clock.read();
        while published == f64::INFINITY && Instant::now() < deadline {
            thread::sleep(TICK);
            published = clock.read();
        }
        let now = now_ms() as f64;
        assert!(
            published <= now && published > now - 1_000.0,
            "{published} against {now}"
        );
        // Left alone past IDLE_AFTER: unknown, so a reader falls back to the real clock.
        let cell = unsafe { clock.cell.as_ref() };
        let deadline = Instant::now() + IDLE_AFTER * 5;
        while cell.now.load(Ordering::Relaxed) != UNKNOWN && Instant::now() < deadline {
            thread::sleep(IDLE_TICK);
        }
        assert_eq!(cell.now.load(Ordering::Relaxed), UNKNOWN);
        // A touch brings it back.
        clock.read();
        let deadline = Instant::now() + Duration::from_secs(5);
        while clock.read() == f64::INFINITY && Instant::now() < deadline {
            thread::sleep(TICK);
        }
        assert!(clock.read() <= now_ms() as f64);
    }

    #[test]
    fn a_dropped_cell_leaves_the_list() {
        let clock = PublishedClock::new();
        let address = clock.as_ptr() as usize;
        assert!(CELLS.lock().unwrap().contains(&address));
        drop(clock);
        assert!(!CELLS.lock().unwrap().contains(&address));
    }
}
