//! Reading a segment back at open, and what is done when it is damaged.
//!
//! A segment with a whole index file is trusted as far as its length goes: its records were
//! durable before the index file was written, and not reading every segment at every start
//! is what index files are for (damage inside one shows when it is read, with a message
//! that says to repair). A segment without one is read record by record:
//! - damage with nothing readable after it is a torn tail, what a crash leaves of writes that
//!   nobody was told were durable: it is cut off;
//! - damage followed by intact records, and an indexed segment shorter than its index, are
//!   not what a crash leaves: the open stops with a message naming the file, unless
//!   repairing. Nothing is guessed and nothing is dropped silently.
//!
//! Repairing (`--repair-archive-log`) reads every segment through, copies a damaged one to
//! `<name>.damaged`, overwrites the unreadable bytes with a padding record (so the other
//! records keep their positions, which floors refer to, and the segment reads cleanly
//! again), and logs what was dropped.

use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::segment::{
    Entry, HEADER, PADDING_UID, encode_padding, index_path, io_error, read_index_file, record_crc,
    u32_at, u64_at, write_index_file,
};
use crate::store::{StoreError, StoreResult};

/// CRC work (bytes) spent at most looking for intact records after damage, outside a repair:
/// enough for any damage a disk does (zeroed or flipped blocks), not for a segment of random
/// bytes, which would take hours to search and gets the repair's thorough reading instead.
const RESYNC_BUDGET: u64 = 1 << 30;
const WINDOW: usize = 1 << 20;

/// The entries of a segment found at open, and whether a repair changed it. `write_index`:
/// a segment read record by record gets an index file, so that the next start need not read
/// it again.
pub(super) fn recover_entries(
    dir: &Path,
    segment: u32,
    path: &Path,
    write_index: bool,
    repair: bool,
) -> StoreResult<(Vec<Entry>, bool)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| io_error("opening", path, e))?;
    let file_len = file
        .metadata()
        .map_err(|e| io_error("reading", path, e))?
        .len();
    if let Some(entries) = read_index_file(&index_path(dir, segment)) {
        let missing = entries.iter().filter(|e| end(e) > file_len).count();
        if repair {
            return repair_indexed(dir, segment, path, &file, file_len, entries);
        }
        if missing > 0 {
            return Err(StoreError(format!(
                "archive log segment {} is shorter than its index file says: {file_len} bytes, so the last {missing} archived events in it are gone. Start once with --repair-archive-log to keep the events it still holds (the segment is copied to {} first), or restore the data directory from a backup",
                path.display(),
                damaged_name(path).display()
            )));
        }
        return Ok((entries, false));
    }
    let (entries, repaired) = read_through(path, &file, file_len, repair)?;
    // Old segments are never appended to again: the next start reads the small index file
    // instead of the whole segment. A segment with no event is deleted by the caller: no
    // index (and none of its syncs) for it, which most starts after an idle run see.
    if write_index
        && !entries.is_empty()
        && let Err(e) = write_index_file(dir, segment, &file, &entries)
    {
        tracing::warn!(error = %e, "no index file for an archive segment; it will be read at start");
    }
    Ok((entries, repaired))
}

fn end(e: &Entry) -> u64 {
    u64::from(e.offset) + HEADER as u64 + u64::from(e.len)
}

/// Where a damaged segment is copied before a repair changes it.
fn damaged_name(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".damaged");
    PathBuf::from(name)
}

fn keep_copy(path: &Path) -> StoreResult<PathBuf> {
    let mut copy = damaged_name(path);
    let mut n = 1;
    while copy.exists() {
        let mut name = damaged_name(path).into_os_string();
        name.push(format!(".{n}"));
        copy = PathBuf::from(name);
        n += 1;
    }
    std::fs::copy(path, &copy).map_err(|e| {
        StoreError(format!(
            "copying the damaged archive log segment {} to {} before repairing it: {e}",
            path.display(),
            copy.display()
        ))
    })?;
    Ok(copy)
}

/// Overwrites `[from, to)` with one padding record.
fn pad(file: &File, path: &Path, from: u64, to: u64) -> StoreResult<()> {
    let mut record = Vec::new();
    encode_padding(&mut record, (to - from) as usize);
    file.write_all_at(&record, from)
        .map_err(|e| io_error("repairing", path, e))
}

/// A segment whose index file is whole, under a repair: every record it lists is checked.
fn repair_indexed(
    dir: &Path,
    segment: u32,
    path: &Path,
    file: &File,
    file_len: u64,
    entries: Vec<Entry>,
) -> StoreResult<(Vec<Entry>, bool)> {
    let mut good = Vec::with_capacity(entries.len());
    let mut bad = Vec::new();
    let mut gone = 0usize;
    for entry in entries {
        if end(&entry) > file_len {
            gone += 1;
        } else if record_ok(file, &entry).map_err(|e| io_error("reading", path, e))? {
            good.push(entry);
        } else {
            bad.push(entry);
        }
    }
    if bad.is_empty() && gone == 0 {
        return Ok((good, false));
    }
    let copy = keep_copy(path)?;
    for entry in &bad {
        pad(file, path, u64::from(entry.offset), end(entry))?;
    }
    if gone > 0 {
        // What is left of the record the file ends in goes.
        let keep = good.iter().chain(&bad).map(end).max().unwrap_or(0);
        file.set_len(keep)
            .map_err(|e| io_error("truncating", path, e))?;
    }
    write_index_file(dir, segment, file, &good)?;
    tracing::warn!(
        segment = %path.display(),
        damaged = bad.len(),
        missing = gone,
        kept = good.len(),
        copy = %copy.display(),
        "repaired an archive log segment: the damaged and missing archived events were dropped"
    );
    Ok((good, true))
}

fn record_ok(file: &File, entry: &Entry) -> std::io::Result<bool> {
    let mut record = vec![0u8; HEADER + entry.len as usize];
    file.read_exact_at(&mut record, u64::from(entry.offset))?;
    Ok(u32_at(&record, 0) == entry.len && record_crc(&record[8..]) == u32_at(&record, 4))
}

/// What follows damage at some offset.
enum After {
    /// Nothing readable: a torn tail.
    Nothing,
    /// An intact record at this offset.
    RecordAt(u64),
    /// The search ran out of budget.
    Unknown,
}

/// A segment without a whole index file, read record by record.
fn read_through(
    path: &Path,
    file: &File,
    file_len: u64,
    repair: bool,
) -> StoreResult<(Vec<Entry>, bool)> {
    let mut entries = Vec::new();
    let mut unreadable: Vec<(u64, u64)> = Vec::new();
    let mut tail = None;
    let mut at = 0u64;
    loop {
        let damage = read_records(path, file, at, file_len, &mut entries)?;
        if damage >= file_len {
            break;
        }
        let budget = if repair { u64::MAX } else { RESYNC_BUDGET };
        // A damaged record still took up a header: the next one starts after it.
        let after = next_record(file, damage + HEADER as u64, file_len, budget)
            .map_err(|e| io_error("reading", path, e))?;
        match after {
            After::Nothing => {
                tail = Some(damage);
                break;
            }
            After::RecordAt(next) if repair => {
                unreadable.push((damage, next));
                at = next;
            }
            After::RecordAt(next) => {
                return Err(StoreError(format!(
                    "archive log segment {} is damaged: the {} bytes at offset {damage} hold no readable record, yet intact records follow (a crash does not leave this). Start once with --repair-archive-log to drop the unreadable bytes and keep every intact record (the segment is copied to {} first), or restore the data directory from a backup",
                    path.display(),
                    next - damage,
                    damaged_name(path).display()
                )));
            }
            After::Unknown => {
                return Err(StoreError(format!(
                    "archive log segment {} is damaged at offset {damage}, and whether intact records follow could not be told quickly. Start once with --repair-archive-log to read it through, drop what is unreadable and keep every intact record (the segment is copied to {} first), or restore the data directory from a backup",
                    path.display(),
                    damaged_name(path).display()
                )));
            }
        }
    }
    let repaired = !unreadable.is_empty();
    if repaired {
        let copy = keep_copy(path)?;
        for &(from, to) in &unreadable {
            pad(file, path, from, to)?;
        }
        let bytes: u64 = unreadable.iter().map(|(from, to)| to - from).sum();
        tracing::warn!(
            segment = %path.display(),
            unreadable_bytes = bytes,
            at_least_events = unreadable.len(),
            kept = entries.len(),
            copy = %copy.display(),
            "repaired an archive log segment: the unreadable archived events were dropped"
        );
    }
    if let Some(cut) = tail {
        tracing::warn!(segment = %path.display(), at = cut, bytes = file_len - cut, "cutting a torn archive log tail (writes a crash interrupted, never acknowledged)");
        file.set_len(cut)
            .and_then(|_| file.sync_all())
            .map_err(|e| io_error("truncating", path, e))?;
    } else if repaired {
        file.sync_all()
            .map_err(|e| io_error("repairing", path, e))?;
    }
    Ok((entries, repaired))
}

/// Reads records from `at` until the end of the file or the first record that is short,
/// runs past the end, or fails its CRC; returns that record's offset (the file's length when
/// all were whole). Padding records are skipped.
fn read_records(
    path: &Path,
    file: &File,
    at: u64,
    file_len: u64,
    entries: &mut Vec<Entry>,
) -> StoreResult<u64> {
    let mut reader = BufReader::with_capacity(1 << 20, file);
    reader
        .seek(SeekFrom::Start(at))
        .map_err(|e| io_error("reading", path, e))?;
    let mut offset = at;
    let mut header = [0u8; HEADER];
    let mut body = Vec::new();
    loop {
        if offset + HEADER as u64 > file_len {
            return Ok(offset.min(file_len));
        }
        reader
            .read_exact(&mut header)
            .map_err(|e| io_error("reading", path, e))?;
        let len = u32_at(&header, 0);
        // Checked before allocating: a damaged length can say 4 GiB.
        if offset + HEADER as u64 + u64::from(len) > file_len {
            return Ok(offset);
        }
        body.resize(len as usize, 0);
        reader
            .read_exact(&mut body)
            .map_err(|e| io_error("reading", path, e))?;
        let mut hasher = crc32fast::Hasher::new();
        hasher.update(&header[8..]);
        hasher.update(&body);
        if hasher.finalize() != u32_at(&header, 4) {
            return Ok(offset);
        }
        let uid = u64_at(&header, 8);
        if uid != PADDING_UID {
            entries.push(Entry {
                uid,
                time_ms: u64_at(&header, 16) as i64,
                offset: offset as u32,
                len,
            });
        }
        offset += (HEADER + body.len()) as u64;
    }
}

/// The first offset at or after `from` where an intact record starts, searched a window at a
/// time (a damaged stretch can be long).
fn next_record(file: &File, from: u64, file_len: u64, budget: u64) -> std::io::Result<After> {
    let mut spent = 0u64;
    let mut start = from;
    let mut window = vec![0u8; WINDOW];
    let mut record = Vec::new();
    while start + HEADER as u64 <= file_len {
        let n = (WINDOW as u64).min(file_len - start) as usize;
        file.read_exact_at(&mut window[..n], start)?;
        let last = n - HEADER;
        for i in 0..=last {
            let candidate = start + i as u64;
            let len = u32_at(&window, i) as usize;
            let crc = u32_at(&window, i + 4);
            // Zeros (what a crash can leave of a file's end) are no record: skipped for free,
            // so a long zeroed tail does not use up the budget.
            if candidate + (HEADER + len) as u64 > file_len || (len == 0 && crc == 0) {
                continue;
            }
            spent += (HEADER + len) as u64;
            if spent > budget {
                return Ok(After::Unknown);
            }
            let intact = if i + HEADER + len <= n {
                record_crc(&window[i + 8..i + HEADER + len]) == crc
            } else {
                record.resize(HEADER + len, 0);
                file.read_exact_at(&mut record, candidate)?;
                record_crc(&record[8..]) == crc
            };
            if intact {
                return Ok(After::RecordAt(candidate));
            }
        }
        start += (last + 1) as u64;
    }
    Ok(After::Nothing)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Arc;

    use super::super::EventLog;
    use super::super::segment::{encode_record, segment_path};
    use super::super::tests::{all, segment_files, temp};

    fn write_segment(dir: &Path, records: &[Vec<u8>]) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let path = segment_path(dir, 1);
        std::fs::write(&path, records.concat()).unwrap();
        path
    }

    fn record(time_ms: i64, body: &str) -> Vec<u8> {
        let mut buf = Vec::new();
        encode_record(&mut buf, 7, time_ms, body.as_bytes());
        buf
    }

    fn open(dir: &Path, repair: bool) -> crate::store::StoreResult<Arc<EventLog>> {
        EventLog::open_with_repair(Some(dir), &HashMap::new(), &HashMap::new(), 1 << 20, repair)
            .map(Arc::new)
    }

    use super::*;

    #[test]
    fn a_damaged_length_in_the_middle_stops_the_open_and_a_repair_keeps_the_rest() {
        let dir = temp();
        let mut damaged = record(2, "second");
        // A length that claims 4 GiB: never allocated, never trusted.
        damaged[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let path = write_segment(&dir.0, &[record(1, "first"), damaged, record(3, "third")]);
        let err = open(&dir.0, false).err().expect("the open stops");
        assert!(err.0.contains("intact records follow"), "{}", err.0);
        let log = open(&dir.0, true).unwrap();
        assert_eq!(
            all(&log, 7),
            [(1, "first".to_string()), (3, "third".to_string())]
        );
        assert!(damaged_name(&path).exists());
        drop(log);
        // The padding reads as a well-formed record: no repair is needed again.
        let log = open(&dir.0, false).unwrap();
        assert_eq!(all(&log, 7).len(), 2);
    }

    #[test]
    fn a_zeroed_tail_is_cut() {
        let dir = temp();
        let path = write_segment(&dir.0, &[record(1, "first"), vec![0u8; 1 << 20]]);
        // Zeros cost the search nothing: a long zeroed tail never runs out its budget.
        let file = File::open(&path).unwrap();
        let len = file.metadata().unwrap().len();
        assert!(matches!(
            next_record(&file, 29, len, 1).unwrap(),
            After::Nothing
        ));
        let log = open(&dir.0, false).unwrap();
        assert_eq!(all(&log, 7), [(1, "first".to_string())]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), 29);
        assert_eq!(segment_files(&dir.0, ".log.damaged"), Vec::<u32>::new());
    }
}
