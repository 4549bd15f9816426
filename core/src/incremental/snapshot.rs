//! The snapshot format (docs/adr/0004-snapshot-format.md).
//!
//! A snapshot is a 32-byte header and two UTF-8 JSON sections:
//!
//! ```text
//! offset  size  field
//!      0     8  magic "PKENGINE"
//!      8     4  format version, u32 little-endian (this version writes and reads 1)
//!     12     4  CRC-32 (IEEE) of every byte after the header
//!     16     8  length of section A, u64 little-endian
//!     24     8  length of section B, u64 little-endian
//!     32     A  the engine's input document {plan, partners, fx, events}: its events are
//!               the ones it applied, in canonical order
//!   32+A     B  {"duplicates": [{"id", "at"}]}: the redeliveries it ignored
//! ```
//!
//! Restoring parses section A with the input document parser and replays its events
//! through the same fold as batch evaluation. The state itself is never written: it is a
//! function of the log, so a later version that changes how it keeps its state still
//! reads every format-1 snapshot, and a snapshot can be read (and audited) by anyone who
//! can read an input document.

use std::sync::Arc;

use serde::Deserialize;

use crate::error::{Error, ErrorCode, Result};
use crate::input::{At, Event, FxRate, Input, Partner};
use crate::plan::Plan;
use crate::time::{Instant, fmt_instant};

use super::write::InputDoc;

/// The first bytes of every snapshot.
const MAGIC: &[u8; 8] = b"PKENGINE";
/// The format this version writes (and the newest it reads).
pub(crate) const FORMAT: u32 = 1;
const HEADER: usize = 32;

/// What a snapshot holds.
pub(crate) struct Contents {
    /// Plan, partners, FX rates, and the applied events in canonical order.
    pub input: Input,
    /// Ignored redeliveries: (instant, event id).
    pub duplicates: Vec<(Instant, Arc<str>)>,
}

/// What an engine writes into a snapshot.
pub(crate) struct Parts<'a> {
    pub plan: &'a Plan,
    pub partners: &'a [Partner],
    pub fx: &'a [FxRate],
    pub events: &'a [Event],
    pub duplicates: &'a [(Instant, Arc<str>)],
}

/// Writes a snapshot. Serializing plain data into memory cannot fail; an empty section
/// would be caught by the checksum-verified round trip of every test.
pub(crate) fn write(parts: &Parts<'_>) -> Vec<u8> {
    let a = serde_json::to_vec(&InputDoc {
        plan: parts.plan,
        partners: parts.partners,
        fx: parts.fx,
        events: parts.events,
    })
    .unwrap_or_default();
    let dups: Vec<serde_json::Value> = parts
        .duplicates
        .iter()
        .map(|(at, id)| serde_json::json!({"id": &**id, "at": fmt_instant(*at)}))
        .collect();
    let b = serde_json::to_vec(&serde_json::json!({ "duplicates": dups })).unwrap_or_default();
    let mut crc = crc32fast::Hasher::new();
    crc.update(&a);
    crc.update(&b);
    let mut out = Vec::with_capacity(HEADER + a.len() + b.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&FORMAT.to_le_bytes());
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&(a.len() as u64).to_le_bytes());
    out.extend_from_slice(&(b.len() as u64).to_le_bytes());
    out.extend_from_slice(&a);
    out.extend_from_slice(&b);
    out
}

fn bad(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidSnapshot, "snapshot", message)
}

/// An error found inside a snapshot's content: still `InvalidSnapshot` (the bytes are what
/// is wrong), with the content's own code and path in the message.
pub(crate) fn inner(e: &Error) -> Error {
    let path = if e.path().is_empty() {
        "snapshot".to_owned()
    } else {
        format!("snapshot.{}", e.path())
    };
    Error::new(
        ErrorCode::InvalidSnapshot,
        path,
        format!(
            "the snapshot's content does not read back ({}: {}); it was altered, or written \
             by a build with different semantics: rebuild the engine from the event log",
            e.code(),
            e.message()
        ),
    )
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut x = [0u8; 4];
    x.copy_from_slice(&b[at..at + 4]);
    u32::from_le_bytes(x)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut x = [0u8; 8];
    x.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(x)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Extra {
    duplicates: Vec<Dup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Dup {
    id: String,
    at: At,
}

/// Reads a snapshot: the header, the checksum, then both sections.
pub(crate) fn read(bytes: &[u8]) -> Result<Contents> {
    if bytes.is_empty() {
        return Err(bad("empty: a snapshot has at least a 32-byte header"));
    }
    let n = bytes.len().min(MAGIC.len());
    if bytes[..n] != MAGIC[..n] {
        return Err(bad(
            "not a partnerkit engine snapshot: it does not start with \"PKENGINE\"",
        ));
    }
    if bytes.len() < HEADER {
        return Err(bad(format!(
            "truncated: {} bytes, shorter than the {HEADER}-byte header",
            bytes.len()
        )));
    }
    let format = u32_at(bytes, 8);
    if format != FORMAT {
        let why = if format > FORMAT {
            "newer than this version of partnerkit reads"
        } else {
            "not a format any version of partnerkit wrote"
        };
        return Err(bad(format!(
            "snapshot format {format} is {why} (it reads format {FORMAT}): restore it with \
             the version that wrote it or a later one, or rebuild the engine from the event log"
        )));
    }
    let (a_len, b_len) = (u64_at(bytes, 16), u64_at(bytes, 24));
    let content = (bytes.len() - HEADER) as u64;
    if a_len.checked_add(b_len) != Some(content) {
        return Err(bad(format!(
            "truncated or padded: the header announces {} bytes of content, {content} follow it",
            a_len.saturating_add(b_len)
        )));
    }
    let body = &bytes[HEADER..];
    if crc32fast::hash(body) != u32_at(bytes, 12) {
        return Err(bad(
            "corrupted: the content does not match the header's checksum",
        ));
    }
    // Both lengths are within `content`, itself a usize.
    let split = a_len as usize;
    let a = std::str::from_utf8(&body[..split])
        .map_err(|e| bad(format!("corrupted: section A is not UTF-8 ({e})")))?;
    let b = std::str::from_utf8(&body[split..])
        .map_err(|e| bad(format!("corrupted: section B is not UTF-8 ({e})")))?;
    let (input, _) = Input::parse(a, false).map_err(|e| inner(&e))?;
    let extra: Extra = crate::json::from_str_at(b, "duplicates").map_err(|e| inner(&e))?;
    let mut duplicates = Vec::with_capacity(extra.duplicates.len());
    for d in extra.duplicates {
        duplicates.push((d.at.0, Arc::from(d.id)));
    }
    Ok(Contents { input, duplicates })
}
