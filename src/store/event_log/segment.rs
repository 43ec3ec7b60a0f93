//! The files of one segment and their formats: the records (`NNNNNNNN.log`, or `.packed` for
//! a packed copy) and the index file written beside a sealed segment (`.idx`). Everything
//! here works on files alone; which segments exist is the log's business.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::store::{StoreError, StoreResult};

/// Record header: len u32, crc32 u32, archive u64, time i64.
pub(super) const HEADER: usize = 24;
/// The archive of a padding record: bytes a repair found unreadable, overwritten with a
/// well-formed record that belongs to no archive (archive uids come from sled's id
/// generator, which never gets near it).
pub(super) const PADDING_UID: u64 = u64::MAX;
/// Trailer of a segment index file: entry count u64, crc32 u32, magic u32.
const IDX_MAGIC: u32 = 0x4542_4c31;
const IDX_ENTRY: usize = 24;

/// Where a record is: segment number in the high 32 bits, byte offset in the low 32. Ordered
/// like the writes, so it doubles as the arrival sequence of events with equal times.
pub type Position = u64;

pub(super) fn position(segment: u32, offset: u32) -> Position {
    (u64::from(segment) << 32) | u64::from(offset)
}

pub(super) fn segment_of(pos: Position) -> u32 {
    (pos >> 32) as u32
}

/// One record as the index knows it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Entry {
    pub uid: u64,
    pub time_ms: i64,
    pub offset: u32,
    pub len: u32,
}

pub(super) fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError(format!("{what} {}: {e}", path.display()))
}

pub(super) fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.log"))
}

pub(super) fn packed_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.packed"))
}

pub(super) fn index_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.idx"))
}

pub(super) fn create_segment(dir: &Path, segment: u32) -> StoreResult<File> {
    let path = segment_path(dir, segment);
    OpenOptions::new()
        .create_new(true)
        .read(true)
        .append(true)
        .open(&path)
        .map_err(|e| io_error("creating", &path, e))
}

pub(super) fn remove_segment_files(dir: &Path, segment: u32) {
    let _ = std::fs::remove_file(segment_path(dir, segment));
    let _ = std::fs::remove_file(packed_path(dir, segment));
    let _ = std::fs::remove_file(index_path(dir, segment));
}

pub(super) fn record_crc(rest: &[u8]) -> u32 {
    crc32fast::hash(rest)
}

pub(super) fn encode_record(buf: &mut Vec<u8>, uid: u64, time_ms: i64, body: &[u8]) {
    let start = buf.len();
    buf.extend_from_slice(&(body.len() as u32).to_le_bytes());
    buf.extend_from_slice(&[0; 4]);
    buf.extend_from_slice(&uid.to_le_bytes());
    buf.extend_from_slice(&time_ms.to_le_bytes());
    buf.extend_from_slice(body);
    let crc = record_crc(&buf[start + 8..]);
    buf[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// A padding record of exactly `total` bytes (at least `HEADER`), for a repair to write over
/// unreadable bytes so that the segment reads cleanly again.
pub(super) fn encode_padding(buf: &mut Vec<u8>, total: usize) {
    let body = vec![0u8; total.saturating_sub(HEADER)];
    encode_record(buf, PADDING_UID, 0, &body);
}

/// The little-endian u32 at `at` (0 past the end: callers check lengths first).
pub(super) fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// The little-endian u64 at `at` (0 past the end: callers check lengths first).
pub(super) fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The body of the record at `pos`, whose body the index says is `len` bytes long. `dir`
/// names the log in the message about a damaged record.
pub(super) fn read_record(
    dir: &Path,
    file: &File,
    pos: Position,
    len: u32,
) -> StoreResult<Vec<u8>> {
    let mut record = vec![0u8; HEADER + len as usize];
    let read = file.read_exact_at(&mut record, u64::from(pos as u32));
    if read.is_err() || u32_at(&record, 0) != len || record_crc(&record[8..]) != u32_at(&record, 4)
    {
        // Segments with an index file are not read through at start (that is what the index
        // file saves), so damage inside one shows here first.
        let why = read
            .err()
            .map_or("damaged".to_string(), |e| format!("unreadable ({e})"));
        return Err(StoreError(format!(
            "the archived event at offset {} of archive log segment {:08} in {} is {why}; stop the server and start it once with --repair-archive-log to drop the damaged events and keep the rest",
            pos as u32,
            segment_of(pos),
            dir.display()
        )));
    }
    record.drain(..HEADER);
    Ok(record)
}

/// The entries of a sealed segment from its index file, if that file is whole.
pub(super) fn read_index_file(path: &Path) -> Option<Vec<Entry>> {
    let bytes = std::fs::read(path).ok()?;
    let body_len = bytes.len().checked_sub(16)?;
    let trailer = &bytes[body_len..];
    let count = u64_at(trailer, 0) as usize;
    if u32_at(trailer, 12) != IDX_MAGIC
        || count.checked_mul(IDX_ENTRY)? != body_len
        || crc32fast::hash(&bytes[..body_len]) != u32_at(trailer, 8)
    {
        return None;
    }
    Some(
        bytes[..body_len]
            .chunks_exact(IDX_ENTRY)
            .map(|e| Entry {
                uid: u64_at(e, 0),
                time_ms: u64_at(e, 8) as i64,
                offset: u32_at(e, 16),
                len: u32_at(e, 20),
            })
            .collect(),
    )
}

/// Writes a sealed segment's index file once the segment itself is durable.
pub(super) fn write_index_file(
    dir: &Path,
    segment: u32,
    file: &File,
    entries: &[Entry],
) -> StoreResult<()> {
    let path = index_path(dir, segment);
    file.sync_data()
        .map_err(|e| io_error("syncing", &segment_path(dir, segment), e))?;
    let mut bytes = Vec::with_capacity(entries.len() * IDX_ENTRY + 16);
    for e in entries {
        bytes.extend_from_slice(&e.uid.to_le_bytes());
        bytes.extend_from_slice(&e.time_ms.to_le_bytes());
        bytes.extend_from_slice(&e.offset.to_le_bytes());
        bytes.extend_from_slice(&e.len.to_le_bytes());
    }
    let crc = crc32fast::hash(&bytes);
    bytes.extend_from_slice(&(entries.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc.to_le_bytes());
    bytes.extend_from_slice(&IDX_MAGIC.to_le_bytes());
    let tmp = path.with_extension("idx.tmp");
    let mut out = File::create(&tmp).map_err(|e| io_error("creating", &tmp, e))?;
    out.write_all(&bytes)
        .and_then(|_| out.sync_data())
        .map_err(|e| io_error("writing", &tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| io_error("renaming", &tmp, e))
}
