//! The versioned binary envelope entries cross the wire in (to Redis, between processes).
//!
//! Layout: two magic bytes `RC`, one version byte, then the body encoded by the crate's one
//! bincode module (`codec`): creation time, logical and physical expiry (`None`: never),
//! tags and the value bytes. The physical expiry is also the Redis key's TTL; carrying it in
//! the envelope lets a reader learn an entry's whole lifetime from one GET.
//!
//! Anything that does not decode — foreign data under our key, a truncated write, a future
//! version — is an [`EnvelopeError`], which callers turn into a reported miss, never a
//! crash.
//!
//! ```
//! use rustocache_core::envelope::{WireEntry, EnvelopeError};
//! let entry = WireEntry { created_at: 1, logical_expires_at: Some(2), physical_expires_at: Some(3), tags: vec!["t".into()], value: b"{}".to_vec() };
//! let bytes = entry.encode();
//! assert_eq!(WireEntry::decode(&bytes).unwrap(), entry);
//! assert!(matches!(WireEntry::decode(b"{\"value\":1}"), Err(EnvelopeError::Foreign)));
//! assert!(matches!(WireEntry::decode(&bytes[..bytes.len() - 1]), Err(EnvelopeError::Corrupt(_))));
//! ```

use bincode::{Decode, Encode};

use crate::codec;

const MAGIC: [u8; 2] = *b"RC";
/// The version this build writes and reads.
pub const VERSION: u8 = 1;

/// An entry as it travels: everything but its physical expiry.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct WireEntry {
    /// When the entry was written, in ms since the epoch.
    pub created_at: u64,
    /// When it turns stale, in ms since the epoch; `None` never.
    pub logical_expires_at: Option<u64>,
    /// When it is dropped, in ms since the epoch; `None` never.
    pub physical_expires_at: Option<u64>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The serialized value.
    pub value: Vec<u8>,
}

/// Why bytes read from the wire are not an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The bytes do not start with our magic: another program's data.
    Foreign,
    /// Written by a version of RustoCache this one cannot read.
    UnsupportedVersion(u8),
    /// Our magic and version, but a body that does not decode (truncated, corrupted).
    Corrupt(String),
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvelopeError::Foreign => write!(f, "not a RustoCache entry"),
            EnvelopeError::UnsupportedVersion(v) => write!(
                f,
                "entry format version {v} is not supported (this build reads {VERSION})"
            ),
            EnvelopeError::Corrupt(reason) => write!(f, "corrupted entry: {reason}"),
        }
    }
}

impl std::error::Error for EnvelopeError {}

impl WireEntry {
    /// The envelope's bytes.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_after(&[MAGIC[0], MAGIC[1], VERSION], self)
    }

    /// The entry in `bytes`, or why there is none.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        match bytes {
            [a, b, version, body @ ..] if [*a, *b] == MAGIC => {
                if *version != VERSION {
                    return Err(EnvelopeError::UnsupportedVersion(*version));
                }
                codec::decode_exact(body).map_err(EnvelopeError::Corrupt)
            }
            _ => Err(EnvelopeError::Foreign),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WireEntry {
        WireEntry {
            created_at: 1_700_000_000_000,
            logical_expires_at: None,
            physical_expires_at: None,
            tags: vec![],
            value: "héllo".as_bytes().to_vec(),
        }
    }

    #[test]
    fn round_trips() {
        let e = sample();
        assert_eq!(WireEntry::decode(&e.encode()).unwrap(), e);
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample().encode();
        for len in 0..bytes.len() {
            assert!(
                WireEntry::decode(&bytes[..len]).is_err(),
                "{len} bytes decoded"
            );
        }
    }

    #[test]
    fn trailing_bytes_and_other_versions_are_refused() {
        let mut bytes = sample().encode();
        bytes.push(0);
        assert!(matches!(
            WireEntry::decode(&bytes),
            Err(EnvelopeError::Corrupt(_))
        ));
        let mut bytes = sample().encode();
        bytes[2] = 9;
        assert_eq!(
            WireEntry::decode(&bytes),
            Err(EnvelopeError::UnsupportedVersion(9))
        );
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate_wildly() {
        // Magic, version, then a varint claiming a gigantic tag list.
        let bytes = [
            b'R', b'C', VERSION, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(WireEntry::decode(&bytes).is_err());
    }

    #[test]
    fn random_bodies_never_panic() {
        // A xorshift generator: deterministic, no dependency.
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..100_000 {
            let len = (next() % 64) as usize;
            let mut bytes = vec![b'R', b'C', VERSION];
            bytes.extend((0..len).map(|_| next() as u8));
            let _ = WireEntry::decode(&bytes);
        }
    }
}
