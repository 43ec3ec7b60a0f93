//! sled opens a damaged database without a word: a truncated, corrupted or deleted `db` file
//! comes back as an older or an empty database (tried: each of those started a server with
//! no buses, and the load then deleted every archived event as belonging to no archive). So
//! the store counts its flushes of resources, in sled and in a small file beside it, and an
//! open that finds sled behind the file (or no database where archived events are) stops
//! with a message instead.
//!
//! The file is written after sled's flush returns and is not synced: after a power loss it
//! may lag behind sled (harmless) but never run ahead of it. A file that cannot be read
//! turns the check off with a warning.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::Mutex;

use super::{StoreError, StoreResult};

pub const FILE: &str = "resources.flushes";
const KEY: &[u8] = b"eventbridge-local/resource-flushes";
/// Fixed width, written in place: never a moment with an empty file.
const WIDTH: usize = 20;

pub struct FlushCount {
    file: File,
    /// Held through a flush, so that the value sled keeps and the file's are in step.
    count: Mutex<u64>,
}

/// What the folder holds before sled opens it.
pub struct Before {
    recorded: Option<u64>,
}

fn what_to_do(dir: &Path) -> String {
    format!(
        "eventbridge-local cannot repair it: restore {} from a backup, or move it away to start with an empty store (its buses, rules, archives and archived events are then gone from the server)",
        dir.display()
    )
}

/// Checks made before sled opens `dir` (opening creates a missing database, after which its
/// absence could no longer be seen).
pub fn before_open(dir: &Path, archive_log_has_events: bool) -> StoreResult<Before> {
    let recorded = match std::fs::read(dir.join(FILE)) {
        Ok(bytes) => {
            let count = std::str::from_utf8(&bytes)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok());
            if count.is_none() {
                tracing::warn!(
                    file = %dir.join(FILE).display(),
                    "unreadable; the resource database is not checked for lost writes at this start"
                );
            }
            count
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            return Err(StoreError(format!(
                "cannot read {}: {e}",
                dir.join(FILE).display()
            )));
        }
    };
    let db = dir.join("db");
    if !db.exists() && (recorded.is_some() || archive_log_has_events) {
        return Err(StoreError(format!(
            "the resource database {} is missing, yet {} was used before{}. {}",
            db.display(),
            dir.display(),
            if archive_log_has_events {
                " and its archive log holds archived events"
            } else {
                ""
            },
            what_to_do(dir)
        )));
    }
    Ok(Before { recorded })
}

/// Checks sled's count against the file's once sled is open.
pub fn after_open(
    dir: &Path,
    db: &sled::Db,
    before: Before,
    archive_log_has_events: bool,
) -> StoreResult<FlushCount> {
    let in_db = db
        .get(KEY)?
        .and_then(|v| <[u8; 8]>::try_from(v.as_ref()).ok())
        .map(u64::from_be_bytes);
    let damaged = |how: String| {
        StoreError(format!(
            "the resource database in {} is damaged: {how}. {}",
            dir.display(),
            what_to_do(dir)
        ))
    };
    match (before.recorded, in_db) {
        (Some(recorded), found) if found.unwrap_or(0) < recorded => {
            return Err(damaged(format!(
                "it lost writes it had made durable (it is at flush {} of {recorded}; if it was restored on purpose from a copy older than {}, delete that file to accept it as it is)",
                found.unwrap_or(0),
                dir.join(FILE).display()
            )));
        }
        // Folders from before the count was kept: only an empty database can be told.
        (None, None) if !db.was_recovered() && archive_log_has_events => {
            return Err(damaged(
                "it is empty, yet the archive log beside it holds archived events".into(),
            ));
        }
        _ => {}
    }
    let path = dir.join(FILE);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
    let count = FlushCount {
        file,
        count: Mutex::new(in_db.unwrap_or(0)),
    };
    count.record(in_db.unwrap_or(0));
    Ok(count)
}

impl FlushCount {
    /// Flushes sled, counting the flush in sled and then in the file.
    pub fn flush(&self, db: &sled::Db) -> sled::Result<()> {
        let mut count = self.count.lock().unwrap_or_else(|e| e.into_inner());
        let next = *count + 1;
        db.insert(KEY, &next.to_be_bytes())?;
        db.flush()?;
        *count = next;
        self.record(next);
        Ok(())
    }

    fn record(&self, count: u64) {
        let text = format!("{count:0WIDTH$}");
        if let Err(e) = self.file.write_all_at(text.as_bytes(), 0) {
            tracing::warn!(error = %e, "could not record a flush of the resource database");
        }
    }
}
