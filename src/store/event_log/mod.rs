//! Archived events: append-only segment files plus an in-memory index.
//!
//! Why not a sled tree: inserting a 1.4 KB event into sled cost 30-60 µs of CPU, which capped
//! archived PutEvents near 15k events/s; appending it to a file, with one `fdatasync` per group
//! of concurrent writers, costs a few µs. The files are the truth; the index
//! `(archive, event time, position) -> length` is rebuilt at start, from the small index file
//! written beside each full segment, and by reading the segments that have none.
//!
//! A record is `len u32 | crc32 u32 | archive u64 | time i64 | body`, little-endian, the CRC
//! covering everything after itself. After a crash, a segment is cut at its first record that
//! is short or fails its CRC: only writes nobody was told were durable can be there.
//!
//! Events are removed (retention, deleted archives) by *floors*: "every event of archive A at
//! a position before P with a time before T is gone". The caller keeps the floors durable and
//! hands them back at open; a segment none of whose events is live any more is deleted.
//!
//! Retention by event time can leave old segments mostly dead (events put with old `Time`s
//! are spread over many segments). A segment at most half live (the current one is sealed
//! first) is *packed*: its live records are copied to a new `.packed` segment, the caller
//! stores "new replaces old" durably, and only then is the old one deleted. At open, a `.packed` segment the caller does
//! not know is an unfinished copy and goes; a segment that was replaced goes.
//! Segment numbers are never reused (floors and replacements name them).

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

use super::{StoreError, StoreResult};

/// A segment is sealed once it holds this much (a single larger record still fits).
pub const SEGMENT_BYTES: u64 = 64 << 20;
const HEADER: usize = 24;
/// Trailer of a segment index file: entry count u64, crc32 u32, magic u32.
const IDX_MAGIC: u32 = 0x4542_4c31;
const IDX_ENTRY: usize = 24;

/// Where a record is: segment number in the high 32 bits, byte offset in the low 32. Ordered
/// like the writes, so it doubles as the arrival sequence of events with equal times.
pub type Position = u64;

fn position(segment: u32, offset: u32) -> Position {
    (u64::from(segment) << 32) | u64::from(offset)
}

fn segment_of(pos: Position) -> u32 {
    (pos >> 32) as u32
}

/// Events of one archive before `position` and with a time before `before_ms` are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    pub before_ms: i64,
    pub position: Position,
}

impl Floor {
    fn covers(&self, time_ms: i64, pos: Position) -> bool {
        time_ms < self.before_ms && pos < self.position
    }
}

/// One record as the index knows it.
#[derive(Debug, Clone, Copy)]
struct Entry {
    uid: u64,
    time_ms: i64,
    offset: u32,
    len: u32,
}

#[derive(Default)]
struct ArchiveIndex {
    /// (event time, position) -> body length.
    events: BTreeMap<(i64, Position), u32>,
    count: u64,
    bytes: u64,
}

#[derive(Default)]
struct Index {
    archives: HashMap<u64, ArchiveIndex>,
    /// Live events per segment; a sealed segment at zero is deleted.
    live: HashMap<u32, u64>,
    /// Records written to each segment, live or not.
    total: HashMap<u32, u64>,
}

impl Index {
    fn insert(&mut self, segment: u32, entry: &Entry) {
        let archive = self.archives.entry(entry.uid).or_default();
        let pos = position(segment, entry.offset);
        archive.events.insert((entry.time_ms, pos), entry.len);
        archive.count += 1;
        archive.bytes += u64::from(entry.len);
        *self.live.entry(segment).or_default() += 1;
    }
}

/// The live records of a segment copied into a new one, not yet visible (see `pack`).
pub struct Packed {
    pub old: u32,
    pub new: u32,
    file: Arc<File>,
    /// (archive, time, old position, new offset, length)
    moves: Vec<(u64, i64, Position, u32, u32)>,
}

/// The segment being appended to.
struct Writer {
    segment: u32,
    file: Arc<File>,
    len: u64,
    /// Index entries of the current segment, written beside it when it is sealed.
    entries: Vec<Entry>,
    /// Appended to since the last sync.
    dirty: bool,
    /// Sealed segments not yet synced, and whether the directory gained a file.
    unsynced: Vec<Arc<File>>,
    dir_dirty: bool,
    buf: Vec<u8>,
}

pub struct EventLog {
    dir: PathBuf,
    /// Temporary logs (in-memory mode, tests) are never synced and removed on drop.
    temporary: bool,
    segment_bytes: u64,
    writer: Mutex<Writer>,
    index: RwLock<Index>,
    /// Open files for reading, by segment number.
    files: RwLock<HashMap<u32, Arc<File>>>,
    /// The number of the next segment created (sealing or packing).
    next_segment: std::sync::atomic::AtomicU32,
}

/// One event to append.
pub struct Append<'a> {
    pub uid: u64,
    pub time_ms: i64,
    pub body: &'a [u8],
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> StoreError {
    StoreError(format!("{what} {}: {e}", path.display()))
}

fn segment_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.log"))
}

fn packed_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.packed"))
}

fn index_path(dir: &Path, segment: u32) -> PathBuf {
    dir.join(format!("{segment:08}.idx"))
}

fn record_crc(rest: &[u8]) -> u32 {
    crc32fast::hash(rest)
}

fn encode_record(buf: &mut Vec<u8>, uid: u64, time_ms: i64, body: &[u8]) {
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
fn write_index_file(dir: &Path, segment: u32, file: &File, entries: &[Entry]) -> StoreResult<()> {
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

fn create_segment(dir: &Path, segment: u32) -> StoreResult<File> {
    let path = segment_path(dir, segment);
    OpenOptions::new()
        .create_new(true)
        .read(true)
        .append(true)
        .open(&path)
        .map_err(|e| io_error("creating", &path, e))
}

impl EventLog {
    /// Opens the log in `dir` (created if missing), dropping what `floors` remove; a
    /// temporary log lives in a fresh folder that goes when the log is dropped.
    /// `replaced` maps each packed segment the caller committed to the segment it replaced.
    /// `segment_bytes` is at most 2 GiB (offsets are 32-bit).
    pub fn open(
        dir: Option<&Path>,
        floors: &HashMap<u64, Vec<Floor>>,
        replaced: &HashMap<u32, u32>,
        segment_bytes: u64,
    ) -> StoreResult<EventLog> {
        let segment_bytes = segment_bytes.clamp(1, 1 << 31);
        let (dir, temporary) = match dir {
            Some(dir) => (dir.to_path_buf(), false),
            None => {
                remove_orphaned_temporary_dirs();
                (temporary_dir(), true)
            }
        };
        std::fs::create_dir_all(&dir).map_err(|e| io_error("creating", &dir, e))?;
        let dead: std::collections::HashSet<u32> = replaced.values().copied().collect();
        let mut segments = Vec::new();
        for item in std::fs::read_dir(&dir).map_err(|e| io_error("listing", &dir, e))? {
            let name = item.map_err(|e| io_error("listing", &dir, e))?.file_name();
            let name = name.to_string_lossy();
            let number = |suffix: &str| name.strip_suffix(suffix)?.parse::<u32>().ok();
            let found = match (number(".log"), number(".packed")) {
                (Some(n), _) => Some((n, segment_path(&dir, n))),
                (_, Some(n)) if replaced.contains_key(&n) => Some((n, packed_path(&dir, n))),
                // A copy that was never committed.
                (_, Some(n)) => {
                    remove_segment_files(&dir, n);
                    None
                }
                _ => {
                    if name.ends_with(".tmp") {
                        let _ = std::fs::remove_file(dir.join(&*name));
                    }
                    None
                }
            };
            match found {
                Some((n, _)) if dead.contains(&n) => remove_segment_files(&dir, n),
                Some(found) => segments.push(found),
                None => {}
            }
        }
        segments.sort_unstable();
        let segment_numbers: Vec<u32> = segments.iter().map(|(n, _)| *n).collect();
        // Never reuse a number that a floor or a replacement names.
        let high_water = segment_numbers
            .iter()
            .copied()
            .chain(replaced.iter().flat_map(|(k, v)| [*k, *v]))
            .chain(floors.values().flatten().map(|f| segment_of(f.position)))
            .max()
            .unwrap_or(0);
        // Index files whose segment was deleted while they were being written.
        for item in std::fs::read_dir(&dir).map_err(|e| io_error("listing", &dir, e))? {
            let name = item.map_err(|e| io_error("listing", &dir, e))?.file_name();
            let name = name.to_string_lossy();
            if let Some(n) = name
                .strip_suffix(".idx")
                .and_then(|n| n.parse::<u32>().ok())
                && segment_numbers.binary_search(&n).is_err()
            {
                let _ = std::fs::remove_file(dir.join(&*name));
            }
        }

        let mut index = Index::default();
        let mut files = HashMap::new();
        for (segment, path) in segments {
            let entries = match read_index_file(&index_path(&dir, segment)) {
                Some(entries) => entries,
                None => {
                    let (entries, good) = scan_segment(&path)?;
                    let file = OpenOptions::new()
                        .write(true)
                        .open(&path)
                        .map_err(|e| io_error("opening", &path, e))?;
                    if file.metadata().map(|m| m.len()).unwrap_or(good) > good {
                        tracing::warn!(segment = %path.display(), at = good, "cutting a damaged archive log tail");
                        file.set_len(good)
                            .and_then(|_| file.sync_all())
                            .map_err(|e| io_error("truncating", &path, e))?;
                    }
                    // Old segments are never appended to again: the next start reads the
                    // small index file instead of the whole segment.
                    if !temporary && let Err(e) = write_index_file(&dir, segment, &file, &entries) {
                        tracing::warn!(error = %e, "no index file for an archive segment; it will be read at start");
                    }
                    entries
                }
            };
            index.total.insert(segment, entries.len() as u64);
            for entry in &entries {
                let pos = position(segment, entry.offset);
                let removed = floors
                    .get(&entry.uid)
                    .is_some_and(|fs| fs.iter().any(|f| f.covers(entry.time_ms, pos)));
                if !removed {
                    index.insert(segment, entry);
                }
            }
            if index.live.get(&segment).copied().unwrap_or(0) == 0 {
                index.total.remove(&segment);
                remove_segment_files(&dir, segment);
            } else {
                let file = File::open(&path).map_err(|e| io_error("opening", &path, e))?;
                files.insert(segment, Arc::new(file));
            }
        }

        // Appends always go to a fresh segment: the old ones stay as they are.
        let segment = high_water + 1;
        let file = Arc::new(create_segment(&dir, segment)?);
        files.insert(segment, file.clone());
        Ok(EventLog {
            writer: Mutex::new(Writer {
                segment,
                file,
                len: 0,
                entries: Vec::new(),
                dirty: false,
                unsynced: Vec::new(),
                dir_dirty: true,
                buf: Vec::new(),
            }),
            index: RwLock::new(index),
            files: RwLock::new(files),
            next_segment: std::sync::atomic::AtomicU32::new(segment + 1),
            dir,
            temporary,
            segment_bytes,
        })
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn read_index(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write_index(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends events (one write call); durable after the next `sync`.
    pub fn append(&self, events: &[Append<'_>]) -> StoreResult<()> {
        let mut writer = self.lock_writer();
        let w = &mut *writer;
        let mut start = 0;
        while start < events.len() {
            // Fill the current segment, sealing it when full.
            if w.len >= self.segment_bytes {
                self.seal(w)?;
            }
            w.buf.clear();
            let first_entry = w.entries.len();
            let mut end = start;
            while end < events.len()
                && (end == start || w.len + (w.buf.len() as u64) < self.segment_bytes)
            {
                let e = &events[end];
                w.entries.push(Entry {
                    uid: e.uid,
                    time_ms: e.time_ms,
                    offset: (w.len + w.buf.len() as u64) as u32,
                    len: e.body.len() as u32,
                });
                encode_record(&mut w.buf, e.uid, e.time_ms, e.body);
                end += 1;
            }
            if let Err(e) = (&*w.file).write_all(&w.buf) {
                // Whatever part reached the file ends in a damaged record or is never indexed;
                // a new segment keeps later records readable.
                w.entries.truncate(first_entry);
                let _ = self.seal(w);
                return Err(StoreError(format!("appending to the archive log: {e}")));
            }
            w.len += w.buf.len() as u64;
            w.dirty = true;
            let mut index = self.write_index();
            for entry in &w.entries[first_entry..] {
                index.insert(w.segment, entry);
            }
            *index.total.entry(w.segment).or_default() += (w.entries.len() - first_entry) as u64;
            start = end;
        }
        Ok(())
    }

    /// Closes the current segment (its index file is written in the background once it is
    /// durable) and starts the next one.
    fn seal(&self, w: &mut Writer) -> StoreResult<()> {
        let next = self
            .next_segment
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let file = Arc::new(create_segment(&self.dir, next)?);
        let sealed = std::mem::replace(&mut w.file, file.clone());
        let entries = std::mem::take(&mut w.entries);
        let segment = std::mem::replace(&mut w.segment, next);
        let empty = w.len == 0 && entries.is_empty();
        w.len = 0;
        w.dir_dirty = true;
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        files.insert(next, file);
        if empty {
            files.remove(&segment);
            remove_segment_files(&self.dir, segment);
            return Ok(());
        }
        drop(files);
        if !self.temporary {
            w.unsynced.push(sealed.clone());
            let dir = self.dir.clone();
            std::thread::Builder::new()
                .name("archive-log-index".into())
                .spawn(move || {
                    if let Err(e) = write_index_file(&dir, segment, &sealed, &entries) {
                        tracing::warn!(error = %e, "no index file for a sealed archive segment; it will be read at start");
                    }
                })
                .map_err(|e| StoreError(e.to_string()))?;
        }
        Ok(())
    }

    /// Moves appends to a segment numbered after every packed one. Without it, a later
    /// removal's floor (which ends past the packed records it removed) would also cover
    /// events appended afterwards to the lower-numbered current segment.
    pub fn append_after_packed(&self) -> StoreResult<()> {
        let mut writer = self.lock_writer();
        let newest = self
            .next_segment
            .load(std::sync::atomic::Ordering::SeqCst)
            .saturating_sub(1);
        if writer.segment < newest {
            self.seal(&mut writer)?;
        }
        Ok(())
    }

    /// Makes every append made before the call durable.
    pub fn sync(&self) -> StoreResult<()> {
        if self.temporary {
            return Ok(());
        }
        let (current, sealed, dir_dirty) = {
            let mut w = self.lock_writer();
            let current = std::mem::take(&mut w.dirty).then(|| w.file.clone());
            (
                current,
                std::mem::take(&mut w.unsynced),
                std::mem::take(&mut w.dir_dirty),
            )
        };
        for file in sealed.iter().chain(&current) {
            file.sync_data()
                .map_err(|e| StoreError(format!("syncing the archive log: {e}")))?;
        }
        if dir_dirty {
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error("syncing", &self.dir, e))?;
        }
        Ok(())
    }

    /// (event count, bytes) of an archive.
    pub fn counts(&self, uid: u64) -> (u64, u64) {
        self.read_index()
            .archives
            .get(&uid)
            .map_or((0, 0), |a| (a.count, a.bytes))
    }

    /// The time of an archive's first event in `[from_ms, to_ms)`, from the index alone.
    pub fn first_time(&self, uid: u64, from_ms: i64, to_ms: i64) -> Option<i64> {
        if from_ms >= to_ms {
            return None;
        }
        let index = self.read_index();
        let archive = index.archives.get(&uid)?;
        archive
            .events
            .range((from_ms, 0)..(to_ms, 0))
            .next()
            .map(|((t, _), _)| *t)
    }

    /// Removes an archive's events older than `before_ms` (all of them when `None`). Returns
    /// the (count, bytes) removed and the floor that makes the removal durable; the caller
    /// stores the floor and then calls `drop_empty_segments`.
    pub fn remove(&self, uid: u64, before_ms: Option<i64>) -> ((u64, u64), Option<Floor>) {
        let mut index = self.write_index();
        let Some(archive) = index.archives.get_mut(&uid) else {
            return ((0, 0), None);
        };
        let removed = match before_ms {
            None => std::mem::take(&mut archive.events),
            Some(cutoff) => {
                let keep = archive.events.split_off(&(cutoff, 0));
                std::mem::replace(&mut archive.events, keep)
            }
        };
        let mut count = 0u64;
        let mut bytes = 0u64;
        let mut last: Option<Position> = None;
        let mut per_segment: HashMap<u32, u64> = HashMap::new();
        for ((_, pos), len) in &removed {
            count += 1;
            bytes += u64::from(*len);
            last = Some(last.map_or(*pos, |l| l.max(*pos)));
            *per_segment.entry(segment_of(*pos)).or_default() += 1;
        }
        archive.count -= count;
        archive.bytes -= bytes;
        if before_ms.is_none() {
            index.archives.remove(&uid);
        }
        for (segment, n) in per_segment {
            if let Some(live) = index.live.get_mut(&segment) {
                *live = live.saturating_sub(n);
            }
        }
        drop(index);
        drop(removed);
        let floor = last.map(|last| Floor {
            before_ms: before_ms.unwrap_or(i64::MAX),
            position: last + 1,
        });
        ((count, bytes), floor)
    }

    /// The archives that have events in the log.
    pub fn archive_uids(&self) -> Vec<u64> {
        self.read_index().archives.keys().copied().collect()
    }

    /// Deletes the sealed segments that hold no live event (call once removals are durable).
    pub fn drop_empty_segments(&self) {
        let current = self.lock_writer().segment;
        let mut index = self.write_index();
        let empty: Vec<u32> = index
            .live
            .iter()
            .filter(|(s, n)| **n == 0 && **s != current)
            .map(|(s, _)| *s)
            .collect();
        for segment in &empty {
            index.live.remove(segment);
            index.total.remove(segment);
        }
        drop(index);
        let mut files = self.files.write().unwrap_or_else(|e| e.into_inner());
        for segment in empty {
            files.remove(&segment);
            remove_segment_files(&self.dir, segment);
        }
    }

    /// The events of an archive in `[from_ms, to_ms)`, in (time, arrival) order, read lazily.
    pub fn scan(self: &Arc<Self>, uid: u64, from_ms: i64, to_ms: i64) -> Scan {
        Scan {
            log: self.clone(),
            uid,
            next: (from_ms, 0),
            to_ms,
            pending: VecDeque::new(),
            done: from_ms >= to_ms,
        }
    }

    fn file(&self, segment: u32) -> Option<Arc<File>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&segment)
            .cloned()
    }

    fn read_record(file: &File, pos: Position, len: u32) -> StoreResult<Vec<u8>> {
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

    /// Segments at most half live, worth packing; the current segment is sealed first when
    /// it is one of them (or the space it holds would only come back once it fills up).
    pub fn sparse_segments(&self) -> StoreResult<Vec<u32>> {
        let mut writer = self.lock_writer();
        let is_sparse = |index: &Index, segment: u32, live: u64| {
            live > 0 && live * 2 <= index.total.get(&segment).copied().unwrap_or(0)
        };
        let current = writer.segment;
        let current_sparse = {
            let index = self.read_index();
            is_sparse(
                &index,
                current,
                index.live.get(&current).copied().unwrap_or(0),
            )
        };
        if current_sparse {
            self.seal(&mut writer)?;
        }
        drop(writer);
        let index = self.read_index();
        let mut sparse: Vec<u32> = index
            .live
            .iter()
            .filter(|(segment, live)| {
                (**segment != current || current_sparse) && is_sparse(&index, **segment, **live)
            })
            .map(|(segment, _)| *segment)
            .collect();
        sparse.sort_unstable();
        Ok(sparse)
    }

    /// Copies the live records of `old` into a new packed segment, durably, index file
    /// included; nothing changes for readers until `commit_pack`. The caller serializes
    /// `pack`, `commit_pack` and `remove`, and stores `new replaces old` in between.
    pub fn pack(&self, old: u32) -> StoreResult<Option<Packed>> {
        let Some(source) = self.file(old) else {
            return Ok(None);
        };
        let mut live: Vec<(u64, i64, Position, u32)> = {
            let index = self.read_index();
            index
                .archives
                .iter()
                .flat_map(|(uid, archive)| {
                    archive
                        .events
                        .iter()
                        .filter(|((_, pos), _)| segment_of(*pos) == old)
                        .map(|((time, pos), len)| (*uid, *time, *pos, *len))
                })
                .collect()
        };
        live.sort_unstable_by_key(|(_, _, pos, _)| *pos);
        let new = self
            .next_segment
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let path = packed_path(&self.dir, new);
        let file = OpenOptions::new()
            .create_new(true)
            .read(true)
            .append(true)
            .open(&path)
            .map_err(|e| io_error("creating", &path, e))?;
        let mut out = std::io::BufWriter::with_capacity(1 << 20, &file);
        let mut moves = Vec::with_capacity(live.len());
        let mut entries = Vec::with_capacity(live.len());
        let mut offset = 0u64;
        let mut record = Vec::new();
        for (uid, time_ms, pos, len) in live {
            let body = Self::read_record(&source, pos, len)?;
            record.clear();
            encode_record(&mut record, uid, time_ms, &body);
            out.write_all(&record)
                .map_err(|e| io_error("writing", &path, e))?;
            moves.push((uid, time_ms, pos, offset as u32, len));
            entries.push(Entry {
                uid,
                time_ms,
                offset: offset as u32,
                len,
            });
            offset += record.len() as u64;
        }
        out.flush().map_err(|e| io_error("writing", &path, e))?;
        drop(out);
        if !self.temporary {
            write_index_file(&self.dir, new, &file, &entries)?;
            File::open(&self.dir)
                .and_then(|d| d.sync_all())
                .map_err(|e| io_error("syncing", &self.dir, e))?;
        }
        Ok(Some(Packed {
            old,
            new,
            file: Arc::new(file),
            moves,
        }))
    }

    /// Points the index at the packed copy and deletes the old segment (call once the
    /// replacement is durable).
    pub fn commit_pack(&self, packed: Packed) {
        self.files
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(packed.new, packed.file.clone());
        let mut index = self.write_index();
        let mut moved = 0u64;
        for (uid, time_ms, old_pos, offset, len) in &packed.moves {
            let Some(archive) = index.archives.get_mut(uid) else {
                continue;
            };
            if archive.events.remove(&(*time_ms, *old_pos)).is_some() {
                archive
                    .events
                    .insert((*time_ms, position(packed.new, *offset)), *len);
                moved += 1;
            }
        }
        index.live.remove(&packed.old);
        index.total.remove(&packed.old);
        index.live.insert(packed.new, moved);
        index.total.insert(packed.new, packed.moves.len() as u64);
        drop(index);
        self.files
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&packed.old);
        remove_segment_files(&self.dir, packed.old);
    }
}

impl Drop for EventLog {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn remove_segment_files(dir: &Path, segment: u32) {
    let _ = std::fs::remove_file(segment_path(dir, segment));
    let _ = std::fs::remove_file(packed_path(dir, segment));
    let _ = std::fs::remove_file(index_path(dir, segment));
}

/// Removes the temporary logs of processes that are gone (killed before they could remove
/// their own), so that `--in-memory` servers stopped with `kill -9` do not fill /tmp.
fn remove_orphaned_temporary_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(TEMPORARY_PREFIX)) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
            continue;
        };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

const TEMPORARY_PREFIX: &str = "eventbridge-local-";

fn temporary_dir() -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::env::temp_dir().join(format!(
        "{TEMPORARY_PREFIX}{}-{nanos}-{}",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ))
}

/// Events read lazily, a chunk of index entries at a time (the index lock is never held
/// while reading files).
pub struct Scan {
    log: Arc<EventLog>,
    uid: u64,
    next: (i64, Position),
    to_ms: i64,
    /// Entries to read, each with its segment's file as it was when the entry was seen (a
    /// segment packed meanwhile stays readable through it).
    pending: VecDeque<(i64, Position, u32, Option<Arc<File>>)>,
    done: bool,
}

const SCAN_CHUNK: usize = 1024;

impl Iterator for Scan {
    type Item = StoreResult<(i64, Vec<u8>)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.pending.is_empty() {
                if self.done {
                    return None;
                }
                let index = self.log.read_index();
                let archive = index.archives.get(&self.uid)?;
                let files = self.log.files.read().unwrap_or_else(|e| e.into_inner());
                self.pending.extend(
                    archive
                        .events
                        .range(self.next..(self.to_ms, 0))
                        .take(SCAN_CHUNK)
                        .map(|((t, p), len)| (*t, *p, *len, files.get(&segment_of(*p)).cloned())),
                );
                match self.pending.back() {
                    Some(&(t, p, _, _)) if self.pending.len() == SCAN_CHUNK => {
                        self.next = (t, p + 1)
                    }
                    _ => self.done = true,
                }
                if self.pending.is_empty() {
                    return None;
                }
            }
            let (time_ms, pos, len, file) = self.pending.pop_front()?;
            // No file: its segment went with a removal after the index listed the entry.
            let Some(file) = file else { continue };
            return Some(EventLog::read_record(&file, pos, len).map(|body| (time_ms, body)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct TempDir(PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn temp() -> TempDir {
        TempDir(temporary_dir())
    }

    fn append(log: &EventLog, events: &[(u64, i64, &str)]) {
        let appends: Vec<Append<'_>> = events
            .iter()
            .map(|(uid, time_ms, body)| Append {
                uid: *uid,
                time_ms: *time_ms,
                body: body.as_bytes(),
            })
            .collect();
        log.append(&appends).unwrap();
    }

    fn all(log: &Arc<EventLog>, uid: u64) -> Vec<(i64, String)> {
        log.scan(uid, i64::MIN, i64::MAX)
            .map(|r| {
                let (t, b) = r.unwrap();
                (t, String::from_utf8(b).unwrap())
            })
            .collect()
    }

    fn segment_files(dir: &Path, ext: &str) -> Vec<u32> {
        let mut found: Vec<u32> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                name.strip_suffix(ext)?.parse().ok()
            })
            .collect();
        found.sort_unstable();
        found
    }

    fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !done() {
            assert!(std::time::Instant::now() < deadline, "timed out: {what}");
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn orders_by_time_then_arrival_across_segments_and_reopens() {
        let dir = temp();
        let expected = {
            let log = Arc::new(
                EventLog::open(Some(&dir.0), &HashMap::new(), &HashMap::new(), 100).unwrap(),
            );
            // ~28-byte records in 100-byte segments: several seals.
            for i in 0..20i64 {
                append(
                    &log,
                    &[(1, (i * 7) % 10, &format!("e{i:02}")), (2, i, "other")],
                );
            }
            log.sync().unwrap();
            let got = all(&log, 1);
            let mut expected: Vec<(i64, String)> = (0..20i64)
                .map(|i| ((i * 7) % 10, format!("e{i:02}")))
                .collect();
            expected.sort_by_key(|(t, _)| *t); // stable: arrival order within a time
            assert_eq!(got, expected);
            assert_eq!(log.counts(1), (20, 60));
            assert_eq!(log.first_time(1, 3, 9), Some(3));
            assert_eq!(log.first_time(1, 10, 20), None);
            assert_eq!(log.first_time(1, 5, 5), None);
            assert_eq!(log.first_time(1, 6, 2), None);
            let window: Vec<i64> = log.scan(1, 2, 4).map(|r| r.unwrap().0).collect();
            assert_eq!(window, [2, 2, 3, 3]);
            let sealed = segment_files(&dir.0, ".log").len() - 1;
            assert!(sealed >= 5, "only {sealed} sealed segments");
            wait_for("index files of sealed segments", || {
                segment_files(&dir.0, ".idx").len() == sealed
            });
            expected
        };
        // Reopen from the index files, then again with them gone (segments are read).
        for drop_index_files in [false, true] {
            if drop_index_files {
                for n in segment_files(&dir.0, ".idx") {
                    std::fs::remove_file(index_path(&dir.0, n)).unwrap();
                }
            }
            let log = Arc::new(
                EventLog::open(Some(&dir.0), &HashMap::new(), &HashMap::new(), 100).unwrap(),
            );
            assert_eq!(all(&log, 1), expected);
            assert_eq!(log.counts(2), (20, 100));
            drop(log);
            // Every segment read at that start has its index file now (all but the newest,
            // empty one, which that start opened for appends).
            let logs = segment_files(&dir.0, ".log");
            let indexed = segment_files(&dir.0, ".idx");
            assert!(logs[..logs.len() - 1].iter().all(|n| indexed.contains(n)));
        }
    }

    #[test]
    fn a_torn_tail_is_cut_and_the_rest_kept() {
        let dir = temp();
        {
            let log = EventLog::open(
                Some(&dir.0),
                &HashMap::new(),
                &HashMap::new(),
                SEGMENT_BYTES,
            )
            .unwrap();
            append(&log, &[(1, 10, "first"), (1, 20, "second")]);
            log.sync().unwrap();
        }
        let segment = *segment_files(&dir.0, ".log").last().unwrap();
        let path = segment_path(&dir.0, segment);
        let good_len = std::fs::metadata(&path).unwrap().len();
        // A third record that only half reached the disk, then one with a bad checksum.
        let mut record = Vec::new();
        encode_record(&mut record, 1, 30, b"third, torn");
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&record[..record.len() / 2]).unwrap();
        drop(file);
        let log = Arc::new(
            EventLog::open(
                Some(&dir.0),
                &HashMap::new(),
                &HashMap::new(),
                SEGMENT_BYTES,
            )
            .unwrap(),
        );
        assert_eq!(
            all(&log, 1),
            [(10, "first".to_string()), (20, "second".to_string())]
        );
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good_len);
        drop(log);

        let mut record = Vec::new();
        encode_record(&mut record, 1, 40, b"flipped");
        let last = record.len() - 1;
        record[last] ^= 1;
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(&record).unwrap();
        drop(file);
        let log = Arc::new(
            EventLog::open(
                Some(&dir.0),
                &HashMap::new(),
                &HashMap::new(),
                SEGMENT_BYTES,
            )
            .unwrap(),
        );
        assert_eq!(all(&log, 1).len(), 2);
        // Appends go on in a new segment.
        append(&log, &[(1, 50, "after")]);
        assert_eq!(all(&log, 1).last().unwrap(), &(50, "after".to_string()));
    }

    #[test]
    fn floors_keep_removals_across_reopen_and_empty_segments_go() {
        let dir = temp();
        let (floor_a, floor_b) = {
            let log = Arc::new(
                EventLog::open(Some(&dir.0), &HashMap::new(), &HashMap::new(), 64).unwrap(),
            );
            for t in 0..10 {
                append(&log, &[(1, t * 10, "aaaa"), (2, t * 10, "bbbb")]);
            }
            log.sync().unwrap();
            let before = segment_files(&dir.0, ".log").len();
            let (removed, floor_a) = log.remove(1, Some(50));
            assert_eq!(removed, (5, 20));
            assert_eq!(log.counts(1), (5, 20));
            // Archive 2 keeps every segment alive until it goes too.
            log.drop_empty_segments();
            assert_eq!(segment_files(&dir.0, ".log").len(), before);
            let (removed, floor_b) = log.remove(2, None);
            assert_eq!(removed, (10, 40));
            log.drop_empty_segments();
            assert!(segment_files(&dir.0, ".log").len() < before);
            // An event appended after the removal with an old time is not covered.
            append(&log, &[(1, 5, "late")]);
            log.sync().unwrap();
            (floor_a.unwrap(), floor_b.unwrap())
        };
        let floors = HashMap::from([(1, vec![floor_a]), (2, vec![floor_b])]);
        let log = Arc::new(EventLog::open(Some(&dir.0), &floors, &HashMap::new(), 64).unwrap());
        let times: Vec<i64> = all(&log, 1).iter().map(|(t, _)| *t).collect();
        assert_eq!(times, [5, 50, 60, 70, 80, 90]);
        assert_eq!(log.counts(2), (0, 0));
        assert_eq!(log.archive_uids(), [1]);
    }

    #[test]
    fn packing_sparse_segments_keeps_the_live_events_once() {
        let dir = temp();
        let mut floors = Vec::new();
        let packed_pairs;
        let mut expected;
        {
            let log = Arc::new(
                EventLog::open(Some(&dir.0), &HashMap::new(), &HashMap::new(), 200).unwrap(),
            );
            // Old and new event times share every segment, as with events put with old Times.
            for i in 0..40i64 {
                let time = if i % 4 == 0 { 1_000 + i } else { i };
                append(&log, &[(1, time, &format!("event-{i:02}"))]);
            }
            log.sync().unwrap();
            let ((removed, _), f) = log.remove(1, Some(1_000));
            assert_eq!(removed, 30);
            floors.push(f.unwrap());
            log.drop_empty_segments();
            expected = all(&log, 1);
            assert_eq!(expected.len(), 10);
            let sparse = log.sparse_segments().unwrap();
            assert!(!sparse.is_empty());
            let mut pairs = Vec::new();
            for segment in sparse {
                let packed = log.pack(segment).unwrap().unwrap();
                pairs.push((packed.new, packed.old));
                log.commit_pack(packed);
            }
            assert_eq!(all(&log, 1), expected);
            assert_eq!(log.counts(1), (10, 80));
            assert!(log.sparse_segments().unwrap().is_empty());
            log.append_after_packed().unwrap();
            // A removal after packing ends past the packed records; an event appended after
            // it with an old time is not removed, now or after a reopen.
            let ((removed, _), f) = log.remove(1, Some(1_005));
            assert_eq!(removed, 2);
            floors.push(f.unwrap());
            append(&log, &[(1, 3, "late-event")]);
            log.sync().unwrap();
            expected = all(&log, 1);
            assert_eq!(expected.first().unwrap(), &(3, "late-event".to_string()));
            // A pack that is never committed: its copy goes at the next open.
            let last_sealed = *log
                .read_index()
                .live
                .keys()
                .filter(|s| **s != log.lock_writer().segment)
                .max()
                .unwrap();
            let uncommitted = log.pack(last_sealed).unwrap().unwrap();
            assert!(packed_path(&dir.0, uncommitted.new).exists());
            // One whose replacement was stored but the process died before switching over:
            // the copy wins at the next open and the old segment goes.
            let first_sealed = *log
                .read_index()
                .live
                .keys()
                .filter(|s| **s != log.lock_writer().segment && **s != last_sealed)
                .min()
                .unwrap();
            let stored_only = log.pack(first_sealed).unwrap().unwrap();
            pairs.push((stored_only.new, stored_only.old));
            packed_pairs = pairs;
        }
        let floors = HashMap::from([(1, floors)]);
        let replaced: HashMap<u32, u32> = packed_pairs.iter().copied().collect();
        let log = Arc::new(EventLog::open(Some(&dir.0), &floors, &replaced, 200).unwrap());
        assert_eq!(all(&log, 1), expected);
        assert_eq!(log.counts(1), (9, 74));
        assert!(
            segment_files(&dir.0, ".packed")
                .iter()
                .all(|n| replaced.contains_key(n))
        );
        for old in replaced.values() {
            assert!(!segment_path(&dir.0, *old).exists());
        }
    }

    #[test]
    fn a_half_dead_current_segment_is_sealed_and_packed_too() {
        let dir = temp();
        let log = Arc::new(
            EventLog::open(Some(&dir.0), &HashMap::new(), &HashMap::new(), 1 << 20).unwrap(),
        );
        for i in 0..10i64 {
            append(&log, &[(1, if i % 2 == 0 { i } else { 100 + i }, "body")]);
        }
        let current = log.lock_writer().segment;
        log.remove(1, Some(100));
        assert_eq!(log.sparse_segments().unwrap(), [current]);
        assert_ne!(log.lock_writer().segment, current);
    }

    #[test]
    fn temporary_logs_of_dead_processes_are_removed() {
        let dead_pid = (1..u32::MAX)
            .map(|n| u32::MAX / 2 + n)
            .find(|pid| !Path::new(&format!("/proc/{pid}")).exists())
            .unwrap();
        let orphan = std::env::temp_dir().join(format!("{TEMPORARY_PREFIX}{dead_pid}-1-0"));
        std::fs::create_dir_all(&orphan).unwrap();
        let log = EventLog::open(None, &HashMap::new(), &HashMap::new(), SEGMENT_BYTES).unwrap();
        assert!(!orphan.exists());
        assert!(log.dir.exists(), "its own temporary log stays");
        let own = log.dir.clone();
        drop(log);
        assert!(!own.exists());
    }
}
