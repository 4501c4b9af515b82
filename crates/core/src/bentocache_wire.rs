//! bentocache's own formats, spoken in `wire: 'bentocache'` mode so that a fleet can move
//! from bentocache to RustoCache node by node while old and new nodes share one Redis and
//! one bus.
//!
//! - Entries: the JSON text bentocache 1.x writes,
//!   `{"value":…,"createdAt":…,"logicalExpiration":…,"tags":[…]}`, under `<prefix>:<key>`
//!   with the physical lifetime as the key's TTL (the TTL is not in the text: a reader
//!   learns it from `PTTL`).
//! - Tag invalidations: bentocache does not remove tagged entries; it writes, per tag, an
//!   entry under [`TAG_KEY_PREFIX`]`<tag>` whose value is the time of the invalidation,
//!   and refuses a tagged entry created at or before it.
//! - Bus frames: bentocache's `BinaryEncoder` — the sender's 24-byte bus id, a type byte
//!   (1 set, 2 clear, 3 delete, 4 expire), a big-endian `u32` length and the namespace,
//!   then each key as a big-endian `u32` length and its bytes. They carry no sequence
//!   number, so a lost message cannot be noticed in this mode.
//!
//! Everything read is untrusted: what does not parse is an error, never a panic.
//!
//! ```
//! use rustocache_core::bentocache_wire::{decode_entry, encode_entry};
//! use rustocache_core::envelope::WireEntry;
//! let entry = WireEntry { created_at: 1, logical_expires_at: Some(2), physical_expires_at: Some(3), tags: vec!["t".into()], value: b"{\"id\":1}".to_vec() };
//! let text = encode_entry(&entry).unwrap();
//! assert_eq!(text, br#"{"value":{"id":1},"createdAt":1,"logicalExpiration":2,"tags":["t"]}"#);
//! assert_eq!(decode_entry(&text, Some(3)).unwrap(), entry);
//! assert!(decode_entry(b"\x52\x43\x01", None).is_err());
//! ```

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::bus::frame::{BusKind, FrameError, MAX_FRAME_BYTES};
use crate::envelope::{EnvelopeError, WireEntry};

/// Which formats a tier or bus speaks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Wire {
    /// Ours: the binary [envelope](crate::envelope) and [frames](crate::bus::frame).
    #[default]
    Rustocache,
    /// bentocache's JSON entries, tag invalidation keys and binary bus frames.
    Bentocache,
}

/// The key prefix (after the store's prefix) of bentocache's tag invalidation entries.
pub const TAG_KEY_PREFIX: &str = "___bc:t:";
/// How long bentocache keeps a tag invalidation entry fresh (10 days), in ms; the same
/// again is its grace, and the Redis key's TTL.
pub const TAG_KEY_LIFETIME_MS: u64 = 10 * 24 * 3_600_000;
/// The length of a bentocache bus id (a cuid2) at the start of every frame.
pub const BUS_ID_LEN: usize = 24;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EntryOut<'a> {
    value: &'a RawValue,
    created_at: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    logical_expiration: Option<u64>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    tags: &'a [String],
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EntryIn<'a> {
    #[serde(borrow)]
    value: &'a RawValue,
    /// Absent from entries of bentocache before 1.2: treated as created at the epoch.
    #[serde(default)]
    created_at: Option<f64>,
    #[serde(default)]
    logical_expiration: Option<f64>,
    #[serde(default)]
    tags: Vec<String>,
}

/// bentocache's JSON text of `entry`. Its value must be JSON text (what the default
/// serializer makes); anything else is refused, as it would be unreadable to bentocache.
pub fn encode_entry(entry: &WireEntry) -> Result<Vec<u8>, EnvelopeError> {
    let text = std::str::from_utf8(&entry.value)
        .map_err(|_| EnvelopeError::Corrupt("the value is not UTF-8 JSON text".into()))?;
    let value: &RawValue = serde_json::from_str(text)
        .map_err(|e| EnvelopeError::Corrupt(format!("the value is not JSON: {e}")))?;
    serde_json::to_vec(&EntryOut {
        value,
        created_at: entry.created_at,
        logical_expiration: entry.logical_expires_at,
        tags: &entry.tags,
    })
    .map_err(|e| EnvelopeError::Corrupt(e.to_string()))
}

/// The entry in bentocache's JSON `text`; `physical_expires_at` comes from the key's TTL.
/// Text that is not such an entry is [`EnvelopeError::Foreign`] (not JSON at all) or
/// [`EnvelopeError::Corrupt`] (JSON of another shape).
pub fn decode_entry(
    text: &[u8],
    physical_expires_at: Option<u64>,
) -> Result<WireEntry, EnvelopeError> {
    if text.first() != Some(&b'{') {
        return Err(EnvelopeError::Foreign);
    }
    let entry: EntryIn = serde_json::from_slice(text)
        .map_err(|e| EnvelopeError::Corrupt(format!("not a bentocache entry: {e}")))?;
    Ok(WireEntry {
        created_at: entry.created_at.map_or(0, time_of),
        logical_expires_at: entry.logical_expiration.map(time_of),
        physical_expires_at,
        tags: entry.tags,
        value: entry.value.get().as_bytes().to_vec(),
    })
}

/// A time in ms from a JSON number: negative, fractional or huge ones clamped.
fn time_of(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 {
        ms.min(u64::MAX as f64) as u64
    } else {
        0
    }
}

/// The time a tag invalidation entry holds (its value), if `text` is one.
pub fn tag_invalidated_at(text: &[u8]) -> Option<u64> {
    let entry = decode_entry(text, None).ok()?;
    let at: f64 = serde_json::from_slice(&entry.value).ok()?;
    Some(time_of(at))
}

/// The tag invalidation entry bentocache writes for an invalidation at `at`.
pub fn tag_invalidation_entry(at: u64) -> Vec<u8> {
    let entry = WireEntry {
        created_at: at,
        logical_expires_at: Some(at + TAG_KEY_LIFETIME_MS),
        physical_expires_at: None,
        tags: Vec::new(),
        value: at.to_string().into_bytes(),
    };
    encode_entry(&entry).expect("a number is JSON")
}

/// One bentocache bus message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BentoFrame {
    /// The sender's bus id.
    pub bus_id: String,
    /// Set, Clear, Delete or Expire (bentocache has no other kinds).
    pub kind: BusKind,
    /// The stack's full prefix (`bentocache`, `bentocache:users`); empty without one.
    pub namespace: String,
    /// The keys, relative to the namespace.
    pub keys: Vec<String>,
}

fn kind_byte(kind: BusKind) -> Option<u8> {
    match kind {
        BusKind::Set => Some(1),
        BusKind::Clear => Some(2),
        BusKind::Delete => Some(3),
        BusKind::Expire => Some(4),
        BusKind::DeleteByTag | BusKind::ExpireByTag => None,
    }
}

impl BentoFrame {
    /// The frame's bytes. Fails for the tag kinds (bentocache sends a tag invalidation as
    /// a `Set` of its [`TAG_KEY_PREFIX`] key), a bus id not [`BUS_ID_LEN`] bytes long,
    /// and frames over [`MAX_FRAME_BYTES`].
    pub fn encode(&self) -> Result<Vec<u8>, FrameError> {
        let kind = kind_byte(self.kind).ok_or_else(|| {
            FrameError::Corrupt(format!("bentocache frames cannot carry {:?}", self.kind))
        })?;
        if self.bus_id.len() != BUS_ID_LEN {
            return Err(FrameError::Corrupt(format!(
                "a bus id of {} bytes",
                self.bus_id.len()
            )));
        }
        let size = BUS_ID_LEN
            + 5
            + self.namespace.len()
            + self.keys.iter().map(|k| 4 + k.len()).sum::<usize>();
        if size > MAX_FRAME_BYTES {
            return Err(FrameError::Oversized(size));
        }
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(self.bus_id.as_bytes());
        out.push(kind);
        for part in std::iter::once(&self.namespace).chain(&self.keys) {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part.as_bytes());
        }
        Ok(out)
    }

    /// The frame in `bytes`, or why they are not one.
    pub fn decode(bytes: &[u8]) -> Result<Self, FrameError> {
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(FrameError::Oversized(bytes.len()));
        }
        if bytes.len() < BUS_ID_LEN + 5 {
            return Err(FrameError::Foreign);
        }
        let text = |range: &[u8]| {
            String::from_utf8(range.to_vec())
                .map_err(|_| FrameError::Corrupt("text that is not UTF-8".into()))
        };
        let bus_id = text(&bytes[..BUS_ID_LEN])?;
        let kind = match bytes[BUS_ID_LEN] {
            1 => BusKind::Set,
            2 => BusKind::Clear,
            3 => BusKind::Delete,
            4 => BusKind::Expire,
            _ => return Err(FrameError::Foreign),
        };
        let mut rest = &bytes[BUS_ID_LEN + 1..];
        let mut parts = Vec::new();
        while !rest.is_empty() {
            let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                return Err(FrameError::Corrupt("a truncated length".into()));
            };
            let len = u32::from_be_bytes(*len) as usize;
            if tail.len() < len {
                return Err(FrameError::Corrupt("a truncated key".into()));
            }
            parts.push(text(&tail[..len])?);
            rest = &tail[len..];
        }
        let mut parts = parts.into_iter();
        let namespace = parts.next().unwrap_or_default();
        Ok(BentoFrame {
            bus_id,
            kind,
            namespace,
            keys: parts.collect(),
        })
    }
}

/// The bentocache namespace (a stack's full prefix) of our namespace path (`users:`)
/// under the store prefix `prefix`.
pub fn bento_namespace(prefix: &str, path: &str) -> String {
    let prefix = prefix.trim_end_matches(':');
    let path = path.trim_end_matches(':');
    match (prefix.is_empty(), path.is_empty()) {
        (_, true) => prefix.to_string(),
        (true, false) => path.to_string(),
        (false, false) => format!("{prefix}:{path}"),
    }
}

/// Our namespace path of a bentocache namespace, if it is under the store prefix `prefix`.
pub fn namespace_path(prefix: &str, namespace: &str) -> Option<String> {
    let prefix = prefix.trim_end_matches(':');
    let rest = if prefix.is_empty() {
        namespace
    } else if namespace == prefix {
        ""
    } else {
        namespace.strip_prefix(prefix)?.strip_prefix(':')?
    };
    Some(if rest.is_empty() {
        String::new()
    } else {
        format!("{rest}:")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_match_bentocache_layout() {
        let frame = BentoFrame {
            bus_id: "abcdefghijklmnopqrstuvwx".into(),
            kind: BusKind::Delete,
            namespace: "bentocache".into(),
            keys: vec!["a".into(), "é".into()],
        };
        let bytes = frame.encode().unwrap();
        let mut expected =
            b"abcdefghijklmnopqrstuvwx\x03\0\0\0\x0abentocache\0\0\0\x01a\0\0\0\x02".to_vec();
        expected.extend_from_slice("é".as_bytes());
        assert_eq!(bytes, expected);
        assert_eq!(BentoFrame::decode(&bytes).unwrap(), frame);
    }

    #[test]
    fn bad_frames_are_errors() {
        assert_eq!(BentoFrame::decode(b"short"), Err(FrameError::Foreign));
        let mut bytes = BentoFrame {
            bus_id: "abcdefghijklmnopqrstuvwx".into(),
            kind: BusKind::Set,
            namespace: String::new(),
            keys: vec!["key".into()],
        }
        .encode()
        .unwrap();
        bytes.pop();
        assert!(matches!(
            BentoFrame::decode(&bytes),
            Err(FrameError::Corrupt(_))
        ));
        bytes[BUS_ID_LEN] = 9;
        assert_eq!(BentoFrame::decode(&bytes), Err(FrameError::Foreign));
        let tag_kind = BentoFrame {
            bus_id: "abcdefghijklmnopqrstuvwx".into(),
            kind: BusKind::DeleteByTag,
            namespace: String::new(),
            keys: vec![],
        };
        assert!(tag_kind.encode().is_err());
    }

    #[test]
    fn entries_of_other_shapes_are_errors() {
        assert_eq!(decode_entry(b"hello", None), Err(EnvelopeError::Foreign));
        assert!(matches!(
            decode_entry(b"{\"nope\":1}", None),
            Err(EnvelopeError::Corrupt(_))
        ));
        assert!(matches!(
            decode_entry(b"{\"value\":", None),
            Err(EnvelopeError::Corrupt(_))
        ));
        let odd = decode_entry(
            br#"{"value":"x","createdAt":-5,"logicalExpiration":1e300}"#,
            None,
        )
        .unwrap();
        assert_eq!(odd.created_at, 0);
        assert_eq!(odd.logical_expires_at, Some(u64::MAX));
        let not_json = WireEntry {
            created_at: 0,
            logical_expires_at: None,
            physical_expires_at: None,
            tags: vec![],
            value: vec![0x92, 1],
        };
        assert!(encode_entry(&not_json).is_err());
    }

    #[test]
    fn tag_entries_hold_their_time() {
        let text = tag_invalidation_entry(1_700_000_000_000);
        assert_eq!(tag_invalidated_at(&text), Some(1_700_000_000_000));
        assert_eq!(tag_invalidated_at(br#"{"value":"x"}"#), None);
    }

    #[test]
    fn namespaces_map_both_ways() {
        assert_eq!(bento_namespace("bentocache", ""), "bentocache");
        assert_eq!(bento_namespace("bentocache:", "users:"), "bentocache:users");
        assert_eq!(bento_namespace("", "users:"), "users");
        assert_eq!(
            namespace_path("bentocache", "bentocache").as_deref(),
            Some("")
        );
        assert_eq!(
            namespace_path("bentocache", "bentocache:users").as_deref(),
            Some("users:")
        );
        assert_eq!(namespace_path("bentocache", "other"), None);
        assert_eq!(namespace_path("", "users").as_deref(), Some("users:"));
    }
}
