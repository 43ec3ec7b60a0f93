//! Reading an archive's events in (time, arrival) order, lazily.

use std::collections::VecDeque;
use std::fs::File;
use std::sync::Arc;

use super::EventLog;
use super::segment::{Position, read_record, segment_of};
use crate::store::StoreResult;

impl EventLog {
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
            return Some(read_record(&self.log.dir, &file, pos, len).map(|body| (time_ms, body)));
        }
    }
}
