//! The in-memory index of the live events: per archive, (event time, position) -> body
//! length; per segment, how many of its records are live. Removals take events out of it and
//! describe themselves as floors, which the caller keeps durable.

use std::collections::{BTreeMap, HashMap};

use super::segment::{Entry, Position, position, segment_of};

/// Events of one archive before `position` and with a time before `before_ms` are removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Floor {
    pub before_ms: i64,
    pub position: Position,
}

impl Floor {
    pub(super) fn covers(&self, time_ms: i64, pos: Position) -> bool {
        time_ms < self.before_ms && pos < self.position
    }
}

/// An archive's events in (time, arrival) order: (event time, position) -> body length.
pub(super) type Events = BTreeMap<(i64, Position), u32>;

#[derive(Default)]
pub(super) struct ArchiveIndex {
    pub events: Events,
    pub count: u64,
    pub bytes: u64,
}

#[derive(Default)]
pub(super) struct Index {
    pub archives: HashMap<u64, ArchiveIndex>,
    /// Live events per segment; a sealed segment at zero is deleted.
    pub live: HashMap<u32, u64>,
    /// Records written to each segment, live or not.
    pub total: HashMap<u32, u64>,
}

impl Index {
    pub(super) fn insert(&mut self, segment: u32, entry: &Entry) {
        let archive = self.archives.entry(entry.uid).or_default();
        let pos = position(segment, entry.offset);
        archive.events.insert((entry.time_ms, pos), entry.len);
        archive.count += 1;
        archive.bytes += u64::from(entry.len);
        *self.live.entry(segment).or_default() += 1;
    }

    /// Takes out an archive's events older than `before_ms` (all of them when `None`).
    /// Returns the (count, bytes) removed and the floor that makes the removal durable, and
    /// the removed events themselves, for the caller to free once the index lock is released.
    pub(super) fn remove(
        &mut self,
        uid: u64,
        before_ms: Option<i64>,
    ) -> (((u64, u64), Option<Floor>), Events) {
        let Some(archive) = self.archives.get_mut(&uid) else {
            return (((0, 0), None), Events::new());
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
            self.archives.remove(&uid);
        }
        for (segment, n) in per_segment {
            if let Some(live) = self.live.get_mut(&segment) {
                *live = live.saturating_sub(n);
            }
        }
        let floor = last.map(|last| Floor {
            before_ms: before_ms.unwrap_or(i64::MAX),
            position: last + 1,
        });
        (((count, bytes), floor), removed)
    }
}
