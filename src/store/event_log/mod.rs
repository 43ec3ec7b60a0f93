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
//! is short or fails its CRC when nothing readable follows it: only writes nobody was told
//! were durable can be there. Other damage stops the open unless it is asked to repair
//! (`verify`).
//!
//! Events are removed (retention, deleted archives) by *floors*: "every event of archive A at
//! a position before P with a time before T is gone". The caller keeps the floors durable and
//! hands them back at open; a segment none of whose events is live any more is deleted.
//!
//! Retention by event time can leave old segments mostly dead (events put with old `Time`s
//! are spread over many segments). A segment at most half live (the current one is sealed
//! first) is *packed*: its live records are copied to a new `.packed` segment, the caller
//! stores "new replaces old" durably, and only then is the old one deleted. At open, a
//! `.packed` segment the caller does not know is an unfinished copy and goes; a segment that
//! was replaced goes.
//! Segment numbers are never reused (floors and replacements name them).

// `scan` and `packing` add `EventLog`'s methods for reading and for packing; the other files
// know nothing of `EventLog`.
mod index;
mod packing;
mod recovery;
mod scan;
mod segment;
mod temporary;
mod verify;

use std::collections::HashMap;
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

pub use index::Floor;
use index::Index;
use segment::{
    Entry, create_segment, encode_record, io_error, remove_segment_files, write_index_file,
};
use temporary::{remove_orphaned_temporary_dirs, temporary_dir};

use super::{StoreError, StoreResult};

/// A segment is sealed once it holds this much (a single larger record still fits).
pub const SEGMENT_BYTES: u64 = 64 << 20;

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
    /// A write failed part way (a full disk): the bytes past `len` must go before the next
    /// append, or a restart would cut the segment at the damaged record and lose what
    /// followed it.
    needs_repair: bool,
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

impl EventLog {
    /// Opens the log in `dir` (created if missing), dropping what `floors` remove; a
    /// temporary log lives in a fresh folder that goes when the log is dropped.
    /// `replaced` maps each packed segment the caller committed to the segment it replaced.
    /// `segment_bytes` is at most 2 GiB (offsets are 32-bit).
    #[cfg(test)]
    pub fn open(
        dir: Option<&Path>,
        floors: &HashMap<u64, Vec<Floor>>,
        replaced: &HashMap<u32, u32>,
        segment_bytes: u64,
    ) -> StoreResult<EventLog> {
        Self::open_with_repair(dir, floors, replaced, segment_bytes, false)
    }

    /// `open`; with `repair`, every segment is read through and damaged ones are repaired
    /// (see `verify`) instead of stopping the open.
    pub fn open_with_repair(
        dir: Option<&Path>,
        floors: &HashMap<u64, Vec<Floor>>,
        replaced: &HashMap<u32, u32>,
        segment_bytes: u64,
        repair: bool,
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
        let recovery::Recovered {
            index,
            mut files,
            high_water,
        } = recovery::recover(&dir, floors, replaced, temporary, repair)?;

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
                needs_repair: false,
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

    fn file(&self, segment: u32) -> Option<Arc<File>> {
        self.files
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&segment)
            .cloned()
    }

    /// Appends events (one write call); durable after the next `sync`.
    pub fn append(&self, events: &[Append<'_>]) -> StoreResult<()> {
        let mut writer = self.lock_writer();
        let w = &mut *writer;
        if w.needs_repair {
            self.repair(w)?;
        }
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
                // Whatever part reached the file is a damaged record: cut it off before
                // anything else is appended (now, or at the next append if that fails too).
                w.entries.truncate(first_entry);
                w.needs_repair = true;
                let _ = self.repair(w);
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

    /// Removes the bytes a failed write left past the last whole record: the file is cut back
    /// (which frees space, so it works on a full disk), or, failing that, the segment is
    /// sealed and a new one started.
    fn repair(&self, w: &mut Writer) -> StoreResult<()> {
        // Segments are opened for appending: after the cut, writes go on at `len`.
        if w.file.set_len(w.len).is_ok() || self.seal(w).is_ok() {
            w.needs_repair = false;
            return Ok(());
        }
        Err(StoreError(
            "the archive log could not be repaired after a failed write (is the disk full?)".into(),
        ))
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
            if let Err(e) = file.sync_data() {
                // Nothing is acknowledged; the next sync tries the same files again.
                let mut w = self.lock_writer();
                w.dirty |= current.is_some();
                w.unsynced.extend(sealed.iter().cloned());
                w.dir_dirty |= dir_dirty;
                return Err(StoreError(format!("syncing the archive log: {e}")));
            }
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
        let (removal, removed_events) = self.write_index().remove(uid, before_ms);
        // Freed with the index lock released.
        drop(removed_events);
        removal
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
}

/// Whether the log in `dir` holds any record (a segment that is not empty).
pub fn has_events(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|items| {
        items.flatten().any(|item| {
            let name = item.file_name();
            let name = name.to_string_lossy();
            (name.ends_with(".log") || name.ends_with(".packed"))
                && item.metadata().is_ok_and(|m| m.len() > 0)
        })
    })
}

impl Drop for EventLog {
    fn drop(&mut self) {
        if self.temporary {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs::OpenOptions;

    use super::segment::{index_path, segment_path};
    use super::temporary::TEMPORARY_PREFIX;
    use super::*;

    /// A log directory, removed with everything in it when the test ends.
    pub(super) struct TempDir(pub(super) PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    pub(super) fn temp() -> TempDir {
        TempDir(temporary_dir())
    }

    pub(super) fn append(log: &EventLog, events: &[(u64, i64, &str)]) {
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

    pub(super) fn all(log: &Arc<EventLog>, uid: u64) -> Vec<(i64, String)> {
        log.scan(uid, i64::MIN, i64::MAX)
            .map(|r| {
                let (t, b) = r.unwrap();
                (t, String::from_utf8(b).unwrap())
            })
            .collect()
    }

    pub(super) fn segment_files(dir: &Path, ext: &str) -> Vec<u32> {
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
