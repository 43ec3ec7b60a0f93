//! Opening: the segments in the log's directory read back into an index, minus what the
//! caller's floors remove, after clearing away what an interrupted run left behind (packed
//! copies never committed, replaced segments, half-written temporary files).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::index::{Floor, Index};
use super::segment::{
    io_error, packed_path, position, remove_segment_files, segment_of, segment_path,
};
use super::verify::recover_entries;
use crate::store::StoreResult;

/// What the directory held.
pub(super) struct Recovered {
    pub index: Index,
    /// Open files of the segments with live events, by number.
    pub files: HashMap<u32, Arc<File>>,
    /// The highest segment number on disk or named by a floor or a replacement: numbers are
    /// never reused.
    pub high_water: u32,
}

/// Reads the log in `dir`; `floors` and `replaced` are as `EventLog::open` takes them. Index
/// files are written for segments that lack one unless the log is `temporary`. `repair`
/// reads every segment through and repairs the damaged ones (see `verify`).
pub(super) fn recover(
    dir: &Path,
    floors: &HashMap<u64, Vec<Floor>>,
    replaced: &HashMap<u32, u32>,
    temporary: bool,
    repair: bool,
) -> StoreResult<Recovered> {
    let segments = list_segments(dir, replaced)?;
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
    for item in std::fs::read_dir(dir).map_err(|e| io_error("listing", dir, e))? {
        let name = item.map_err(|e| io_error("listing", dir, e))?.file_name();
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
    let mut repaired = 0;
    let count = segments.len();
    for (segment, path) in segments {
        let (entries, changed) = recover_entries(dir, segment, &path, !temporary, repair)?;
        repaired += usize::from(changed);
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
            remove_segment_files(dir, segment);
        } else {
            let file = File::open(&path).map_err(|e| io_error("opening", &path, e))?;
            files.insert(segment, Arc::new(file));
        }
    }
    if repair {
        tracing::info!(
            segments = count,
            repaired,
            "--repair-archive-log: every archive log segment was read through"
        );
    }
    Ok(Recovered {
        index,
        files,
        high_water,
    })
}

/// The segments to read, by number, each with its file: a `.log`, or a `.packed` copy the
/// caller committed. Deletes uncommitted copies, segments that were replaced, and `.tmp`
/// files.
fn list_segments(dir: &Path, replaced: &HashMap<u32, u32>) -> StoreResult<Vec<(u32, PathBuf)>> {
    let dead: HashSet<u32> = replaced.values().copied().collect();
    let mut segments = Vec::new();
    for item in std::fs::read_dir(dir).map_err(|e| io_error("listing", dir, e))? {
        let name = item.map_err(|e| io_error("listing", dir, e))?.file_name();
        let name = name.to_string_lossy();
        let number = |suffix: &str| name.strip_suffix(suffix)?.parse::<u32>().ok();
        let found = match (number(".log"), number(".packed")) {
            (Some(n), _) => Some((n, segment_path(dir, n))),
            (_, Some(n)) if replaced.contains_key(&n) => Some((n, packed_path(dir, n))),
            // A copy that was never committed.
            (_, Some(n)) => {
                remove_segment_files(dir, n);
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
            Some((n, _)) if dead.contains(&n) => remove_segment_files(dir, n),
            Some(found) => segments.push(found),
            None => {}
        }
    }
    segments.sort_unstable();
    Ok(segments)
}
