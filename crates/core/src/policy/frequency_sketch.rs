//! How often each key was asked for, approximately, in a few bits per key.
//!
//! TinyLFU's frequency sketch (Einziger, Friedman, Manes): a count-min sketch of 4-bit
//! counters. A key is counted in four counters picked from its hash, and its frequency is
//! the smallest of the four, so collisions can only overestimate it. Counters saturate at
//! 15, which is enough to rank a key against another. Every `sample_size` additions all
//! counters are halved, so that what was popular long ago fades and the sketch follows a
//! changing workload.
//!
//! Layout: the table is a power-of-two number of 64-bit words, sixteen counters to a word.
//! A key's four counters lie in one block of eight words (64 bytes, one cache line), each
//! in a different pair of words, so that counting a key touches one line. Increments are
//! *conservative* (only the counters at the minimum grow), which keeps heavy keys from
//! inflating the estimates of the keys that share their counters.

/// Counters are 4 bits: at most this.
const MAX_COUNT: u64 = 15;
/// Words of one block (one cache line).
const BLOCK_WORDS: usize = 8;
/// Each nibble's low bit, to count the odd counters a halving rounds down.
const HALVING_MASK: u64 = 0x7777_7777_7777_7777;
/// Additions between two halvings, per key the sketch is sized for. Ten is TinyLFU's
/// sample of "W = 10 × C" requests.
const SAMPLE_PER_KEY: u64 = 10;
/// The most words a sketch grows to (32 MiB of counters, sized for 4 M keys).
const MAX_WORDS: usize = 1 << 22;

/// A count-min sketch of 4-bit counters with periodic halving.
///
/// ```
/// use rustocache_core::policy::frequency_sketch::FrequencySketch;
///
/// let mut sketch = FrequencySketch::with_capacity(1_000);
/// let (popular, rare) = (0x1234_5678_9abc_def0_u64, 0x0fed_cba9_8765_4321_u64);
/// for _ in 0..5 {
///     sketch.increment(popular);
/// }
/// sketch.increment(rare);
/// assert_eq!(sketch.frequency(popular), 5);
/// assert_eq!(sketch.frequency(rare), 1);
/// ```
#[derive(Debug, Clone)]
pub struct FrequencySketch {
    table: Vec<u64>,
    block_mask: usize,
    additions: u64,
    sample_size: u64,
}

impl FrequencySketch {
    /// A sketch sized for about `keys` distinct keys (16 counters per key, rounded up to a
    /// power of two; at least one block).
    pub fn with_capacity(keys: usize) -> Self {
        let words = keys
            .max(BLOCK_WORDS)
            .checked_next_power_of_two()
            .unwrap_or(MAX_WORDS)
            .min(MAX_WORDS);
        FrequencySketch {
            table: vec![0; words],
            block_mask: words / BLOCK_WORDS - 1,
            additions: 0,
            sample_size: SAMPLE_PER_KEY * words as u64,
        }
    }

    /// How many distinct keys the sketch is sized for.
    ///
    /// ```
    /// use rustocache_core::policy::frequency_sketch::FrequencySketch;
    /// assert_eq!(FrequencySketch::with_capacity(1_000).capacity(), 1_024);
    /// ```
    pub fn capacity(&self) -> usize {
        self.table.len()
    }

    /// Grows the sketch to hold about `keys` keys if it is smaller; growing forgets every
    /// count (the counters of a larger table cannot be derived from a smaller one's).
    ///
    /// ```
    /// use rustocache_core::policy::frequency_sketch::FrequencySketch;
    /// let mut sketch = FrequencySketch::with_capacity(8);
    /// sketch.increment(42);
    /// sketch.ensure_capacity(100);
    /// assert_eq!((sketch.capacity(), sketch.frequency(42)), (128, 0));
    /// ```
    pub fn ensure_capacity(&mut self, keys: usize) {
        if keys > self.table.len() && self.table.len() < MAX_WORDS {
            *self = FrequencySketch::with_capacity(keys);
        }
    }

    /// Additions between two halvings (ten per key the sketch is sized for).
    pub fn sample_size(&self) -> u64 {
        self.sample_size
    }

    /// The four counters of `hash`: (word, bit shift) pairs.
    #[inline]
    fn counters(&self, hash: u64) -> [(usize, u32); 4] {
        // Re-mix: the caller's hash may be weak in some bits; the block takes the high
        // half, the counters the low half, so the two choices are independent.
        let mixed = hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (hash >> 29);
        let block = ((mixed >> 32) as usize & self.block_mask) * BLOCK_WORDS;
        let mut slots = [(0, 0); 4];
        for (i, slot) in slots.iter_mut().enumerate() {
            let bits = (mixed >> (i * 8)) as usize;
            let word = block + 2 * i + (bits & 1);
            let shift = ((bits >> 1) & 15) as u32 * 4;
            *slot = (word, shift);
        }
        slots
    }

    /// The estimated number of times `hash` was counted since it was last halved, 0 to 15.
    #[inline]
    pub fn frequency(&self, hash: u64) -> u8 {
        self.counters(hash)
            .iter()
            .map(|&(word, shift)| (self.table[word] >> shift) & MAX_COUNT)
            .min()
            .unwrap_or(0) as u8
    }

    /// Counts one request for `hash`; every `sample_size` counts, halves all counters.
    #[inline]
    pub fn increment(&mut self, hash: u64) {
        let slots = self.counters(hash);
        let counts = slots.map(|(word, shift)| (self.table[word] >> shift) & MAX_COUNT);
        let least = counts.iter().copied().min().unwrap_or(0);
        if least == MAX_COUNT {
            return;
        }
        for (&(word, shift), &count) in slots.iter().zip(counts.iter()) {
            if count == least {
                self.table[word] += 1 << shift;
            }
        }
        self.additions += 1;
        if self.additions >= self.sample_size {
            self.halve();
        }
    }

    /// Halves every counter (rounding down): old popularity fades.
    fn halve(&mut self) {
        for word in &mut self.table {
            *word = (*word >> 1) & HALVING_MASK;
        }
        self.additions /= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Well-spread test hashes (a SplitMix64 sequence).
    fn hashes(n: usize) -> Vec<u64> {
        let mut state = 7_u64;
        (0..n)
            .map(|_| {
                state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
                let mut z = state;
                z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
                z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
                z ^ (z >> 31)
            })
            .collect()
    }

    #[test]
    fn counts_saturate_at_fifteen() {
        let mut sketch = FrequencySketch::with_capacity(64);
        for _ in 0..100 {
            sketch.increment(99);
        }
        assert_eq!(sketch.frequency(99), 15);
    }

    #[test]
    fn halving_keeps_the_order_of_frequencies() {
        let mut sketch = FrequencySketch::with_capacity(16);
        let keys = hashes(3);
        for (times, &key) in [12, 6, 2].iter().zip(&keys) {
            for _ in 0..*times {
                sketch.increment(key);
            }
        }
        sketch.halve();
        let after: Vec<u8> = keys.iter().map(|&k| sketch.frequency(k)).collect();
        assert_eq!(after, [6, 3, 1]);
    }

    #[test]
    fn counts_halve_after_a_sample() {
        let mut sketch = FrequencySketch::with_capacity(16);
        let hot = 12_345;
        for _ in 0..14 {
            sketch.increment(hot);
        }
        // Count distinct keys once each until the sample is full and the counters halve.
        let mut previous = sketch.additions;
        for key in hashes(sketch.sample_size() as usize) {
            sketch.increment(key);
            if sketch.additions < previous {
                break;
            }
            previous = sketch.additions;
        }
        assert!(sketch.additions < previous, "no halving within a sample");
        assert!(sketch.frequency(hot) <= 8, "{}", sketch.frequency(hot));
        assert!(sketch.frequency(hot) >= 6, "{}", sketch.frequency(hot));
    }

    #[test]
    fn few_keys_are_overestimated_at_capacity() {
        let keys = hashes(1_000);
        let mut sketch = FrequencySketch::with_capacity(keys.len());
        for &key in &keys {
            sketch.increment(key);
        }
        let overestimated = keys.iter().filter(|&&k| sketch.frequency(k) > 1).count();
        assert!(overestimated < 20, "{overestimated} of 1000 overestimated");
        let absent = hashes(2_000)[1_000..]
            .iter()
            .filter(|&&k| sketch.frequency(k) > 0)
            .count();
        assert!(absent < 40, "{absent} of 1000 absent keys seen");
    }
}
