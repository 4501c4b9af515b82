//! The versioned binary frame bus messages travel in.
//!
//! Layout, as [`crate::envelope`] lays out entries: two magic bytes `RB`, one version byte,
//! then the body encoded by the crate's one bincode module (`codec`): sender, sequence
//! number, kind, when it happened, store name, namespace and keys (tags, for the tag kinds).
//!
//! Whatever arrives on the channel is untrusted: another program may publish there, a
//! newer RustoCache may speak a later version. Anything that is not a frame this build
//! reads is a [`FrameError`], never a panic, and a frame above [`MAX_FRAME_BYTES`] is
//! refused before any decoding.
//!
//! ```
//! use rustocache_core::bus::frame::{BusFrame, BusKind, FrameError};
//! let frame = BusFrame {
//!     sender: 7,
//!     sequence: 1,
//!     kind: BusKind::Delete,
//!     at: 1_700_000_000_000,
//!     store: "users".into(),
//!     namespace: String::new(),
//!     keys: vec!["users:1".into()],
//! };
//! let bytes = frame.encode();
//! assert_eq!(BusFrame::decode(&bytes).unwrap(), frame);
//! assert_eq!(BusFrame::decode(b"{\"keys\":[]}"), Err(FrameError::Foreign));
//! assert!(matches!(BusFrame::decode(&bytes[..bytes.len() - 1]), Err(FrameError::Corrupt(_))));
//! ```

use bincode::{Decode, Encode};

use crate::codec;

const MAGIC: [u8; 2] = *b"RB";
/// The frame version this build writes and reads.
pub const VERSION: u8 = 1;
/// The largest frame accepted, in bytes (1 MiB): a bigger one is refused unread, on both
/// sides — the publisher does not send it, the subscriber does not decode it.
pub const MAX_FRAME_BYTES: usize = 1 << 20;

/// What happened to the keys a frame names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Encode, Decode)]
pub enum BusKind {
    /// The keys were written: other copies are out of date.
    Set,
    /// The keys were removed.
    Delete,
    /// The keys were turned stale.
    Expire,
    /// The namespace was cleared (`keys` is empty).
    Clear,
    /// The entries carrying these tags (in `keys`) were removed.
    DeleteByTag,
    /// The entries carrying these tags (in `keys`) were turned stale.
    ExpireByTag,
}

/// One bus message, as it travels.
#[derive(Debug, Clone, PartialEq, Eq, Encode, Decode)]
pub struct BusFrame {
    /// The id of the bus that published it, random per bus instance.
    pub sender: u128,
    /// Its number among the frames of its sender: 1, 2, 3, ... in the order they were sent.
    pub sequence: u64,
    /// What happened.
    pub kind: BusKind,
    /// When it happened at the sender, in ms since the epoch (for tag invalidations, the
    /// time entries are compared with).
    pub at: u64,
    /// The name of the cache store it concerns.
    pub store: String,
    /// The namespace within the store; empty for none.
    pub namespace: String,
    /// The keys concerned; for the tag kinds, the tags.
    pub keys: Vec<String>,
}

/// What a publisher says: a frame before the bus stamps it with its sender id and sequence
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusMessage {
    /// What happened.
    pub kind: BusKind,
    /// When it happened at the sender, in ms since the epoch (for tag invalidations, the
    /// time entries are compared with).
    pub at: u64,
    /// The cache store concerned.
    pub store: String,
    /// The namespace within the store; empty for none.
    pub namespace: String,
    /// The keys concerned; for the tag kinds, the tags.
    pub keys: Vec<String>,
}

impl BusMessage {
    /// The frame of this message as `sender`'s number `sequence`.
    pub fn into_frame(self, sender: u128, sequence: u64) -> BusFrame {
        BusFrame {
            sender,
            sequence,
            kind: self.kind,
            at: self.at,
            store: self.store,
            namespace: self.namespace,
            keys: self.keys,
        }
    }
}

/// Why bytes read from the channel are not a frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// The bytes do not start with our magic: another program's message.
    Foreign,
    /// Written by a version of RustoCache this one cannot read.
    UnsupportedVersion(u8),
    /// Our magic and version, but a body that does not decode (truncated, corrupted).
    Corrupt(String),
    /// Longer than [`MAX_FRAME_BYTES`] (the length, in bytes): not read at all.
    Oversized(usize),
}

impl std::fmt::Display for FrameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FrameError::Foreign => write!(f, "not a RustoCache bus message"),
            FrameError::UnsupportedVersion(v) => write!(
                f,
                "bus message format version {v} is not supported (this build reads {VERSION})"
            ),
            FrameError::Corrupt(reason) => write!(f, "corrupted bus message: {reason}"),
            FrameError::Oversized(len) => write!(
                f,
                "bus message of {len} bytes is over the {MAX_FRAME_BYTES} byte limit"
            ),
        }
    }
}

impl std::error::Error for FrameError {}

impl BusFrame {
    /// The frame's bytes.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode_after(&[MAGIC[0], MAGIC[1], VERSION], self)
    }

    /// The frame in `bytes`, or why there is none.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(FrameError::Oversized(bytes.len()));
        }
        match bytes {
            [a, b, version, body @ ..] if [*a, *b] == MAGIC => {
                if *version != VERSION {
                    return Err(FrameError::UnsupportedVersion(*version));
                }
                codec::decode_exact(body).map_err(FrameError::Corrupt)
            }
            _ => Err(FrameError::Foreign),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(kind: BusKind) -> BusFrame {
        BusFrame {
            sender: u128::MAX - 3,
            sequence: u64::MAX,
            kind,
            store: "störe".into(),
            namespace: "users".into(),
            at: u64::MAX,
            keys: vec!["a".into(), String::new(), "ключ".into()],
        }
    }

    const KINDS: [BusKind; 6] = [
        BusKind::Set,
        BusKind::Delete,
        BusKind::Expire,
        BusKind::Clear,
        BusKind::DeleteByTag,
        BusKind::ExpireByTag,
    ];

    #[test]
    fn every_kind_round_trips() {
        for kind in KINDS {
            let frame = sample(kind);
            assert_eq!(BusFrame::decode(&frame.encode()).unwrap(), frame);
        }
    }

    #[test]
    fn every_truncation_is_an_error_not_a_panic() {
        let bytes = sample(BusKind::DeleteByTag).encode();
        for len in 0..bytes.len() {
            assert!(
                BusFrame::decode(&bytes[..len]).is_err(),
                "{len} bytes decoded"
            );
        }
    }

    #[test]
    fn trailing_bytes_other_versions_and_unknown_kinds_are_refused() {
        let mut bytes = sample(BusKind::Set).encode();
        bytes.push(0);
        assert!(matches!(
            BusFrame::decode(&bytes),
            Err(FrameError::Corrupt(_))
        ));
        let mut bytes = sample(BusKind::Set).encode();
        bytes[2] = 2;
        assert_eq!(
            BusFrame::decode(&bytes),
            Err(FrameError::UnsupportedVersion(2))
        );
        // Sender 0 and sequence 0 take one byte each, so the kind is the sixth byte.
        let mut frame = sample(BusKind::Set);
        frame.sender = 0;
        frame.sequence = 0;
        let mut bytes = frame.encode();
        bytes[5] = 200;
        assert!(matches!(
            BusFrame::decode(&bytes),
            Err(FrameError::Corrupt(_))
        ));
    }

    #[test]
    fn oversized_frames_are_refused_unread() {
        let mut frame = sample(BusKind::Delete);
        frame.keys = vec!["k".repeat(MAX_FRAME_BYTES)];
        let bytes = frame.encode();
        assert_eq!(
            BusFrame::decode(&bytes),
            Err(FrameError::Oversized(bytes.len()))
        );
        // At the limit exactly, the length alone does not refuse it.
        let mut at_limit = b"RB".to_vec();
        at_limit.resize(MAX_FRAME_BYTES, 0);
        assert!(matches!(
            BusFrame::decode(&at_limit),
            Err(FrameError::UnsupportedVersion(0))
        ));
    }

    #[test]
    fn a_huge_length_prefix_does_not_allocate_wildly() {
        // Magic, version, sender 0, sequence 0, kind 0, then a varint claiming a gigantic
        // store name.
        let bytes = [
            b'R', b'B', VERSION, 0, 0, 0, 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
        ];
        assert!(BusFrame::decode(&bytes).is_err());
    }

    #[test]
    fn random_bytes_never_panic() {
        // A xorshift generator: deterministic, no dependency.
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = sample(BusKind::ExpireByTag).encode();
        for round in 0..100_000 {
            let bytes: Vec<u8> = match round % 3 {
                // Anything at all.
                0 => (0..next() % 48).map(|_| next() as u8).collect(),
                // Our magic and version, then noise.
                1 => [b'R', b'B', VERSION]
                    .into_iter()
                    .chain((0..next() % 64).map(|_| next() as u8))
                    .collect(),
                // A valid frame with one byte flipped.
                _ => {
                    let mut bytes = valid.clone();
                    let at = 3 + (next() as usize) % (bytes.len() - 3);
                    bytes[at] ^= (next() as u8) | 1;
                    bytes
                }
            };
            let _ = BusFrame::decode(&bytes);
        }
    }
}
