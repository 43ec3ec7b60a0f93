//! Folders of temporary logs (in-memory mode, tests): named after the process, so that the
//! ones a killed process could not remove are found and removed by the next one.

use std::path::{Path, PathBuf};

pub(super) const TEMPORARY_PREFIX: &str = "eventbridge-local-";

/// A fresh folder name under the system's temporary folder.
pub(super) fn temporary_dir() -> PathBuf {
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

/// Removes the temporary logs of processes that are gone (killed before they could remove
/// their own), so that `--in-memory` servers stopped with `kill -9` do not fill /tmp.
pub(super) fn remove_orphaned_temporary_dirs() {
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
