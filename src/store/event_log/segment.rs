//! The files of one segment and their formats: the records (`NNNNNNNN.log`, or `.packed` for
//! a packed copy) and the index file written beside a sealed segment (`.idx`). Everything
//! here works on files alone; which segments exist is the log's business.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::store::{StoreError, StoreResult};

/// Record header: len u32, crc32 u32, archive u64, time i64.
const HEADER: usize = 24;
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

fn record_crc(rest: &[u8]) -> u32 {
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

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// The body of the record at `pos`, whose body the index says is `len` bytes long.
pub(super) fn read_record(file: &File, pos: Position, len: u32) -> StoreResult<Vec<u8>> {
    let mut record = vec![0u8; HEADER + len as usize];
    file.read_exact_at(&mut record, u64::from(pos as u32))
        .map_err(|e| StoreError(format!("reading the archive log: {e}")))?;
    if u32_at(&record, 0) != len || record_crc(&record[8..]) != u32_at(&record, 4) {
        return Err(StoreError(format!(
            "archive log record at segment {} offset {} is damaged",
            segment_of(pos),
            pos as u32
        )));
    }
    record.drain(..HEADER);
    Ok(record)
}

/// The entries of a segment found at open: from its index file when that is whole, else by
/// reading the segment, which is cut at its first damaged record (and then gets its index
/// file when `write_index` is set).
pub(super) fn recover_entries(
    dir: &Path,
    segment: u32,
    path: &Path,
    write_index: bool,
) -> StoreResult<Vec<Entry>> {
    if let Some(entries) = read_index_file(&index_path(dir, segment)) {
        return Ok(entries);
    }
    let (entries, good) = scan_segment(path)?;
    let file = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io_error("opening", path, e))?;
    if file.metadata().map(|m| m.len()).unwrap_or(good) > good {
        tracing::warn!(segment = %path.display(), at = good, "cutting a damaged archive log tail");
        file.set_len(good)
            .and_then(|_| file.sync_all())
            .map_err(|e| io_error("truncating", path, e))?;
    }
    // Old segments are never appended to again: the next start reads the small index file
    // instead of the whole segment.
    if write_index && let Err(e) = write_index_file(dir, segment, &file, &entries) {
        tracing::warn!(error = %e, "no index file for an archive segment; it will be read at start");
    }
    Ok(entries)
}

/// Reads a segment's records until its end or its first damaged record; returns the entries
/// and the length of the good prefix.
fn scan_segment(path: &Path) -> StoreResult<(Vec<Entry>, u64)> {
    let file = File::open(path).map_err(|e| io_error("opening", path, e))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut entries = Vec::new();
    let mut offset: u64 = 0;
    let mut header = [0u8; HEADER];
    let mut body = Vec::new();
    loop {
        if read_full(&mut reader, &mut header).map_err(|e| io_error("reading", path, e))? < HEADER {
            break;
        }
        let len = u32_at(&header, 0);
        body.resize(len as usize, 0);
        if read_full(&mut reader, &mut body).map_err(|e| io_error("reading", path, e))? < body.len()
        {
            break;
        }
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header[8..]);
        hasher.update(&body);
        if hasher.finalize() != u32_at(&header, 4) {
            break;
        }
        entries.push(Entry {
            uid: u64_at(&header, 8),
            time_ms: u64_at(&header, 16) as i64,
            offset: offset as u32,
            len,
        });
        offset += (HEADER + body.len()) as u64;
    }
    Ok((entries, offset))
}

/// Like `read_exact`, but reports how much was read instead of failing at the end.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match reader.read(&mut buf[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// The entries of a sealed segment from its index file, if that file is whole.
fn read_index_file(path: &Path) -> Option<Vec<Entry>> {
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
