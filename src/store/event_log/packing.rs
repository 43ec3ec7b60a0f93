//! Packing: the live records of a segment that removals left at most half live are copied
//! into a new `.packed` segment, which replaces the old one once the caller has stored the
//! replacement (see the module doc of `event_log`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Arc;

use super::EventLog;
use super::index::Index;
use super::segment::{
    Entry, Position, encode_record, io_error, packed_path, position, read_record,
    remove_segment_files, segment_of, write_index_file,
};
use crate::store::StoreResult;

/// The live records of a segment copied into a new one, not yet visible (see `pack`).
pub struct Packed {
    pub old: u32,
    pub new: u32,
    file: Arc<File>,
    /// (archive, time, old position, new offset, length)
    moves: Vec<(u64, i64, Position, u32, u32)>,
}

impl EventLog {
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
            let body = read_record(&self.dir, &source, pos, len)?;
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

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::store::event_log::segment::segment_path;
    use crate::store::event_log::tests::{all, append, segment_files, temp};

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
}
