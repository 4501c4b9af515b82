//! The one place bincode is used.
//!
//! bincode is unmaintained (RUSTSEC-2025-0141); it is pinned at 2.0.1 and reached only
//! through these two functions, so that swapping the encoder touches this file alone. The
//! wire format it produces is versioned by [`crate::envelope`], not by bincode.

use bincode::config::{standard, Configuration, Limit, LittleEndian, Varint};
use bincode::{Decode, Encode};

/// Encodes `value` after `prefix` into one buffer (little-endian, variable-length integers:
/// compact for the small numbers entries carry).
pub(crate) fn encode_after<T: Encode>(prefix: &[u8], value: &T) -> Vec<u8> {
    let mut out = prefix.to_vec();
    // Encoding into a Vec cannot fail: there is no size limit and no I/O.
    let _ = bincode::encode_into_std_write(value, &mut out, standard());
    out
}

/// Decodes a `T` that must fill `bytes` exactly.
///
/// Untrusted bytes may claim a huge length: bincode allocates what a length claims before
/// reading it, so every decode runs under a limit close above the input's own size (the
/// smallest of a few powers of 4), and a lying length fails without a large allocation.
pub(crate) fn decode_exact<T: Decode<()>>(bytes: &[u8]) -> Result<T, String> {
    let len = bytes.len();
    let decoded = if len <= 1 << 12 {
        decode_limited::<T, { 1 << 12 }>(bytes)
    } else if len <= 1 << 16 {
        decode_limited::<T, { 1 << 16 }>(bytes)
    } else if len <= 1 << 20 {
        decode_limited::<T, { 1 << 20 }>(bytes)
    } else if len <= 1 << 24 {
        decode_limited::<T, { 1 << 24 }>(bytes)
    } else if len <= 1 << 28 {
        decode_limited::<T, { 1 << 28 }>(bytes)
    } else {
        decode_limited::<T, { 1 << 30 }>(bytes)
    };
    let (value, read) = decoded?;
    if read != len {
        return Err(format!("{} trailing bytes", len - read));
    }
    Ok(value)
}

fn decode_limited<T: Decode<()>, const LIMIT: usize>(bytes: &[u8]) -> Result<(T, usize), String> {
    let config: Configuration<LittleEndian, Varint, Limit<LIMIT>> =
        standard().with_limit::<LIMIT>();
    bincode::decode_from_slice(bytes, config).map_err(|e| e.to_string())
}
