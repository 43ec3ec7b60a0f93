//! One server per data folder. sled refuses a second opener with a bare "could not acquire
//! lock"; this lock comes first and names the holder, so the person who started a second
//! server on the same `--data-dir` knows which process to stop.
//!
//! An advisory lock (`flock`) on `eventbridge-local.lock`, which holds the holder's pid. The
//! kernel drops it when the process ends, `kill -9` included, so a stale file never blocks a
//! start.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use super::{StoreError, StoreResult};

pub const LOCK_FILE: &str = "eventbridge-local.lock";

/// How long a held lock is waited for before the start is refused.
const RELEASE_WAIT: std::time::Duration = std::time::Duration::from_secs(1);

/// Held for as long as the store is open.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> StoreResult<DirLock> {
        std::fs::create_dir_all(dir)
            .map_err(|e| StoreError(format!("cannot create {}: {e}", dir.display())))?;
        let path = dir.join(LOCK_FILE);
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StoreError(format!("cannot open {}: {e}", path.display())))?;
        // A server that is stopping (a restart, or one in this same process whose last
        // handles are going) lets go within moments: wait a little before calling it taken.
        let deadline = std::time::Instant::now() + RELEASE_WAIT;
        let mut attempt = file.try_lock();
        while matches!(attempt, Err(TryLockError::WouldBlock))
            && std::time::Instant::now() < deadline
        {
            std::thread::sleep(std::time::Duration::from_millis(20));
            attempt = file.try_lock();
        }
        match attempt {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                let mut holder = String::new();
                let _ = file.read_to_string(&mut holder);
                let holder = holder.trim();
                let who = if holder.is_empty() {
                    "another process".to_string()
                } else {
                    format!("process {holder}")
                };
                return Err(StoreError(format!(
                    "the data directory {} is in use by {who} (another eventbridge-local); stop it or start this one with another --data-dir",
                    dir.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError(format!("cannot lock {}: {e}", path.display())));
            }
        }
        // Ours now: record who holds it.
        let pid = std::process::id().to_string();
        let written = file
            .set_len(0)
            .and_then(|_| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(pid.as_bytes()))
            .and_then(|_| file.flush());
        if let Err(e) = written {
            tracing::warn!(error = %e, "could not write the pid into {}", path.display());
        }
        Ok(DirLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_holder() {
        let dir = std::env::temp_dir().join(format!("eb-dirlock-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let first = DirLock::acquire(&dir).unwrap();
        let err = DirLock::acquire(&dir).unwrap_err();
        assert!(
            err.0.contains(&format!("process {}", std::process::id())),
            "{}",
            err.0
        );
        drop(first);
        DirLock::acquire(&dir).unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
