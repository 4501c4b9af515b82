//! A time after an entry's creation, in 4 bytes: exact to the millisecond for the first
//! ~24.8 days, to the second (rounded up) after that, up to ~68 years; later is never.
//!
//! An entry keeps its creation time in full and its expiries and eager-refresh time as
//! offsets from it, so that its header is 32 bytes rather than 48. Its lifetimes round up:
//! an entry given more than 24.8 days stays fresh, lives, or waits to be refreshed at most
//! a second longer than asked, never shorter; turning it stale early rounds down.

/// The offset that never comes.
pub(super) const NEVER: u32 = u32::MAX;
/// Offsets below this are milliseconds; from it up, seconds past it.
const SECONDS: u32 = 1 << 31;
/// The longest offset held exactly, in ms (~24.8 days).
const LONGEST_IN_MS: u64 = SECONDS as u64 - 1;

/// `ms` as an offset: exact below ~24.8 days, rounded up to the second after, and
/// [`NEVER`] past ~68 years.
pub(super) fn encode(ms: u64) -> u32 {
    encode_seconds(ms, ms.div_ceil(1_000))
}

/// As [`encode`], rounding down to the second: for a time that must not come later than
/// asked (an entry turned stale now is stale now).
pub(super) fn encode_down(ms: u64) -> u32 {
    encode_seconds(ms, ms / 1_000)
}

/// `ms` exactly if short enough, else `seconds` (the same time rounded one way).
fn encode_seconds(ms: u64, seconds: u64) -> u32 {
    if ms <= LONGEST_IN_MS {
        return ms as u32;
    }
    match u32::try_from(seconds) {
        Ok(seconds) if seconds < NEVER - SECONDS => SECONDS + seconds,
        _ => NEVER,
    }
}

/// The time `offset` stands for, in ms after `start`; `None` for [`NEVER`].
#[inline]
pub(super) fn after(start: u64, offset: u32) -> Option<u64> {
    let ms = match offset {
        NEVER => return None,
        exact if exact < SECONDS => u64::from(exact),
        seconds => u64::from(seconds - SECONDS) * 1_000,
    };
    Some(start.saturating_add(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_offsets_are_exact_and_long_ones_round_up_to_the_second() {
        for ms in [0, 1, 999, 86_400_000, LONGEST_IN_MS] {
            assert_eq!(after(10, encode(ms)), Some(10 + ms));
        }
        let year = 365 * 86_400_000;
        assert_eq!(after(0, encode(year)), Some(year));
        assert_eq!(after(0, encode(year + 1)), Some(year + 1_000));
        assert_eq!(after(0, encode_down(year + 999)), Some(year));
        // Rounded up: never shorter than asked, at most a second longer; rounded down: the
        // other way; and in order either way (an atomic minimum of offsets is the minimum
        // of the times).
        let mut last = 0;
        for ms in (LONGEST_IN_MS - 10..LONGEST_IN_MS + 5_000).step_by(7) {
            let (up, down) = (
                after(0, encode(ms)).unwrap(),
                after(0, encode_down(ms)).unwrap(),
            );
            assert!(up >= ms && up < ms + 1_000, "{ms} → {up}");
            assert!(down <= ms && down + 1_000 > ms, "{ms} → {down}");
            assert!(encode(ms) >= last && encode_down(ms) >= last);
            last = encode_down(ms);
        }
    }

    #[test]
    fn offsets_past_68_years_never_come() {
        let seconds_held = u64::from(NEVER - SECONDS - 1);
        assert_eq!(
            after(0, encode(seconds_held * 1_000)),
            Some(seconds_held * 1_000)
        );
        assert_eq!(encode(seconds_held * 1_000 + 1), NEVER);
        assert_eq!(encode(u64::MAX), NEVER);
        assert_eq!(after(5, NEVER), None);
        // A start near the end of time saturates rather than wrapping.
        assert_eq!(after(u64::MAX - 1, encode(10)), Some(u64::MAX));
    }
}
