//! The only module that knows sled: typed collections of resources and the archive event log.
//!
//! Resources are serde_json values in one tree per kind. Archived events live in one tree keyed
//! by `archive uid | event time (ms) | sequence`, all big-endian, so a replay window is one range
//! scan and retention is one range delete.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// A storage failure, with sled's reason.
#[derive(Debug)]
pub struct StoreError(pub String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError(e.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(e: serde_json::Error) -> Self {
        StoreError(format!("corrupt record: {e}"))
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The kinds of resources kept.
#[derive(Debug, Clone, Copy)]
pub enum Collection {
    Buses,
    Rules,
    Archives,
    Replays,
    Connections,
    ApiDestinations,
    /// Deliveries that were pending when the server stopped.
    PendingDeliveries,
}

impl Collection {
    const ALL: [Collection; 7] = [
        Collection::Buses,
        Collection::Rules,
        Collection::Archives,
        Collection::Replays,
        Collection::Connections,
        Collection::ApiDestinations,
        Collection::PendingDeliveries,
    ];

    fn tree_name(self) -> &'static str {
        match self {
            Collection::Buses => "buses",
            Collection::Rules => "rules",
            Collection::Archives => "archives",
            Collection::Replays => "replays",
            Collection::Connections => "connections",
            Collection::ApiDestinations => "api-destinations",
            Collection::PendingDeliveries => "pending-deliveries",
        }
    }
}

/// One event to append to an archive.
pub struct ArchiveWrite {
    pub archive_uid: u64,
    pub time_ms: i64,
    pub body: std::sync::Arc<str>,
}

#[derive(Clone)]
pub struct Store {
    db: sled::Db,
    /// One tree per collection, in `Collection::ALL` order.
    trees: Vec<sled::Tree>,
    events: sled::Tree,
    /// Group commit: `None` for a temporary store, which is never flushed.
    flusher: Option<std::sync::Arc<Flusher>>,
    /// (event count, bytes) per archive, as also stored under each archive's count key.
    /// Writers hold the lock while they write, so the stored counts are updated in the same
    /// atomic batch as the events and never disagree with them, even after a crash.
    counts: std::sync::Arc<std::sync::Mutex<std::collections::HashMap<u64, (u64, u64)>>>,
}

type FlushWaiter = tokio::sync::oneshot::Sender<Result<(), String>>;

/// The group-commit thread; dropping the last handle stops and joins it, so the database is
/// closed (and its lock released) when the last `Store` goes.
struct Flusher {
    tx: std::sync::Mutex<Option<std::sync::mpsc::Sender<FlushWaiter>>>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Flusher {
    fn drop(&mut self) {
        self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = thread.join();
        }
    }
}

/// One thread makes writes durable for every waiting caller at once: callers that arrive
/// while a flush runs share the next one, so N concurrent requests cost far fewer than N
/// fsyncs. The thread ends when the last `Store` handle is dropped.
fn spawn_flusher(db: sled::Db) -> std::io::Result<Flusher> {
    let (tx, rx) = std::sync::mpsc::channel::<FlushWaiter>();
    let thread = std::thread::Builder::new()
        .name("store-flusher".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut waiters = vec![first];
                waiters.extend(rx.try_iter());
                let result = db.flush().map(|_| ()).map_err(|e| e.to_string());
                for waiter in waiters {
                    let _ = waiter.send(result.clone());
                }
            }
        })?;
    Ok(Flusher {
        tx: std::sync::Mutex::new(Some(tx)),
        thread: std::sync::Mutex::new(Some(thread)),
    })
}

/// Keeps event times ordered as unsigned bytes, negative ones included.
fn time_bytes(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

fn time_from_bytes(bytes: &[u8]) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(bytes);
    (u64::from_be_bytes(b) ^ (1 << 63)) as i64
}

fn event_key(uid: u64, time_ms: i64, seq: u64) -> [u8; 24] {
    let mut key = [0u8; 24];
    key[..8].copy_from_slice(&uid.to_be_bytes());
    key[8..16].copy_from_slice(&time_bytes(time_ms));
    key[16..].copy_from_slice(&seq.to_be_bytes());
    key
}

/// Where an archive's (count, bytes) are kept: just past its last possible event key, so
/// that time-range scans and deletes never see it.
fn count_key(uid: u64) -> [u8; 16] {
    range_bound(uid, i64::MAX)
}

fn encode_counts((count, bytes): (u64, u64)) -> [u8; 16] {
    let mut value = [0u8; 16];
    value[..8].copy_from_slice(&count.to_be_bytes());
    value[8..].copy_from_slice(&bytes.to_be_bytes());
    value
}

fn decode_counts(value: &[u8]) -> Option<(u64, u64)> {
    let count = u64::from_be_bytes(value.get(..8)?.try_into().ok()?);
    let bytes = u64::from_be_bytes(value.get(8..16)?.try_into().ok()?);
    Some((count, bytes))
}

fn range_bound(uid: u64, time_ms: i64) -> [u8; 16] {
    let mut key = [0u8; 16];
    key[..8].copy_from_slice(&uid.to_be_bytes());
    key[8..].copy_from_slice(&time_bytes(time_ms));
    key
}

impl Store {
    /// Opens the store in `dir`, or a temporary one that leaves nothing behind when `dir` is
    /// `None`. `cache_bytes` bounds sled's page cache (its default is 1 GiB).
    pub fn open(dir: Option<&Path>, cache_bytes: u64) -> StoreResult<Store> {
        let config = sled::Config::new().cache_capacity(cache_bytes);
        let config = match dir {
            Some(dir) => config.path(dir),
            None => config.temporary(true),
        };
        let db = config.open()?;
        let flusher = match dir {
            Some(_) => Some(std::sync::Arc::new(
                spawn_flusher(db.clone()).map_err(|e| StoreError(e.to_string()))?,
            )),
            None => None,
        };
        let trees = Collection::ALL
            .iter()
            .map(|c| db.open_tree(c.tree_name()))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Store {
            trees,
            events: db.open_tree("archive-events")?,
            flusher,
            counts: Default::default(),
            db,
        })
    }

    fn tree(&self, collection: Collection) -> &sled::Tree {
        &self.trees[collection as usize]
    }

    pub fn put<T: Serialize>(
        &self,
        collection: Collection,
        key: &str,
        value: &T,
    ) -> StoreResult<()> {
        let bytes = serde_json::to_vec(value)?;
        self.tree(collection).insert(key.as_bytes(), bytes)?;
        Ok(())
    }

    pub fn remove(&self, collection: Collection, key: &str) -> StoreResult<()> {
        self.tree(collection).remove(key.as_bytes())?;
        Ok(())
    }

    /// Removes every record of a collection.
    pub fn clear(&self, collection: Collection) -> StoreResult<()> {
        self.tree(collection).clear()?;
        Ok(())
    }

    pub fn load<T: DeserializeOwned>(&self, collection: Collection) -> StoreResult<Vec<T>> {
        self.tree(collection)
            .iter()
            .values()
            .map(|v| Ok(serde_json::from_slice(&v?)?))
            .collect()
    }

    /// A new id, unique for the life of the store (crashes included).
    pub fn new_id(&self) -> StoreResult<u64> {
        Ok(self.db.generate_id()?)
    }

    fn lock_counts(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, (u64, u64)>> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An archive's (count, bytes) under the lock: the cached value, else the stored count
    /// record, else (data written before counts were stored) a scan.
    fn counts_locked(
        &self,
        counts: &mut std::collections::HashMap<u64, (u64, u64)>,
        uid: u64,
    ) -> StoreResult<(u64, u64)> {
        if let Some(found) = counts.get(&uid) {
            return Ok(*found);
        }
        let found = match self
            .events
            .get(count_key(uid))?
            .and_then(|v| decode_counts(&v))
        {
            Some(stored) => stored,
            None => self.count_events(uid)?,
        };
        counts.insert(uid, found);
        Ok(found)
    }

    /// (event count, total bytes) of an archive, exact for what is stored.
    pub fn archive_counts(&self, uid: u64) -> StoreResult<(u64, u64)> {
        let mut counts = self.lock_counts();
        self.counts_locked(&mut counts, uid)
    }

    /// Appends events to archives in one batch (atomic with their counts: all or none after
    /// a crash).
    pub fn append_events(&self, writes: &[ArchiveWrite]) -> StoreResult<()> {
        let mut batch = sled::Batch::default();
        let mut added: std::collections::HashMap<u64, (u64, u64)> = Default::default();
        for write in writes {
            let seq = self.db.generate_id()?;
            batch.insert(
                &event_key(write.archive_uid, write.time_ms, seq)[..],
                write.body.as_bytes(),
            );
            let entry = added.entry(write.archive_uid).or_default();
            entry.0 += 1;
            entry.1 += write.body.len() as u64;
        }
        let mut counts = self.lock_counts();
        let mut updated = Vec::with_capacity(added.len());
        for (uid, (count, bytes)) in added {
            let (c, b) = self.counts_locked(&mut counts, uid)?;
            let total = (c + count, b + bytes);
            batch.insert(&count_key(uid)[..], &encode_counts(total)[..]);
            updated.push((uid, total));
        }
        self.events.apply_batch(batch)?;
        counts.extend(updated);
        Ok(())
    }

    /// The archived events of `[from_ms, to_ms)` in event-time order, lazily.
    pub fn scan_events(
        &self,
        uid: u64,
        from_ms: i64,
        to_ms: i64,
    ) -> impl Iterator<Item = StoreResult<(i64, Vec<u8>)>> + Send + 'static {
        self.events
            .range(range_bound(uid, from_ms)..range_bound(uid, to_ms))
            .map(|item| {
                let (key, value) = item?;
                Ok((time_from_bytes(&key[8..16]), value.to_vec()))
            })
    }

    /// (event count, total bytes) of an archive, by a scan of its events.
    pub fn count_events(&self, uid: u64) -> StoreResult<(u64, u64)> {
        let mut count = 0;
        let mut bytes = 0;
        for item in self
            .events
            .range(range_bound(uid, i64::MIN)..count_key(uid))
        {
            let (_, value) = item?;
            count += 1;
            bytes += value.len() as u64;
        }
        Ok((count, bytes))
    }

    /// Removes an archive's events older than `before_ms` (all, with its counts, when `None`);
    /// returns how many events and bytes went.
    pub fn delete_events(&self, uid: u64, before_ms: Option<i64>) -> StoreResult<(u64, u64)> {
        let end = range_bound(uid, before_ms.unwrap_or(i64::MAX));
        let mut removed = (0u64, 0u64);
        let mut chunk = (0u64, 0u64);
        let mut batch = sled::Batch::default();
        let mut items = self
            .events
            .range(range_bound(uid, i64::MIN)..end)
            .peekable();
        while let Some(item) = items.next() {
            let (key, value) = item?;
            chunk.0 += 1;
            chunk.1 += value.len() as u64;
            batch.remove(key);
            if chunk.0 == 10_000 || items.peek().is_none() {
                // Each chunk goes with the counts it leaves, in one atomic batch.
                let mut counts = self.lock_counts();
                let (c, b) = self.counts_locked(&mut counts, uid)?;
                let left = (c.saturating_sub(chunk.0), b.saturating_sub(chunk.1));
                batch.insert(&count_key(uid)[..], &encode_counts(left)[..]);
                self.events.apply_batch(std::mem::take(&mut batch))?;
                counts.insert(uid, left);
                removed = (removed.0 + chunk.0, removed.1 + chunk.1);
                chunk = (0, 0);
            }
        }
        if before_ms.is_none() {
            let mut counts = self.lock_counts();
            self.events.remove(count_key(uid))?;
            counts.remove(&uid);
        }
        Ok(removed)
    }

    /// Makes every write made before the call durable (group commit). A no-op for a
    /// temporary store.
    pub async fn flush(&self) -> StoreResult<()> {
        let Some(flusher) = &self.flusher else {
            return Ok(());
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        flusher
            .tx
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .and_then(|sender| sender.send(tx).ok())
            .ok_or_else(|| StoreError("store flusher stopped".into()))?;
        rx.await
            .map_err(|_| StoreError("store flusher stopped".into()))?
            .map_err(StoreError)
    }

    /// The synchronous flush for shutdown paths and tests.
    pub fn flush_blocking(&self) -> StoreResult<()> {
        if self.flusher.is_some() {
            self.db.flush()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn write(uid: u64, time_ms: i64, body: &str) -> ArchiveWrite {
        ArchiveWrite {
            archive_uid: uid,
            time_ms,
            body: Arc::from(body),
        }
    }

    #[test]
    fn scans_a_time_window_of_one_archive_in_order() {
        let store = Store::open(None, 1 << 20).unwrap();
        store
            .append_events(&[
                write(1, 3000, "c"),
                write(1, 1000, "a"),
                write(2, 2000, "other archive"),
                write(1, 2000, "b"),
                write(1, -5, "before 1970"),
            ])
            .unwrap();
        let got: Vec<_> = store
            .scan_events(1, 1000, 3000)
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(got, vec![(1000, b"a".to_vec()), (2000, b"b".to_vec())]);
        let all: Vec<_> = store
            .scan_events(1, i64::MIN, i64::MAX)
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(all, vec![-5, 1000, 2000, 3000]);
        assert_eq!(store.count_events(1).unwrap(), (4, 1 + 1 + 1 + 11));
        assert_eq!(store.archive_counts(1).unwrap(), (4, 14));
        assert_eq!(store.archive_counts(2).unwrap(), (1, 13));
    }

    #[test]
    fn deletes_by_age_and_whole_archive() {
        let store = Store::open(None, 1 << 20).unwrap();
        store
            .append_events(&[write(7, 10, "x"), write(7, 20, "yy"), write(8, 5, "z")])
            .unwrap();
        assert_eq!(store.delete_events(7, Some(20)).unwrap(), (1, 1));
        assert_eq!(store.count_events(7).unwrap(), (1, 2));
        assert_eq!(store.archive_counts(7).unwrap(), (1, 2));
        assert_eq!(store.delete_events(7, None).unwrap(), (1, 2));
        assert_eq!(store.count_events(7).unwrap(), (0, 0));
        assert_eq!(store.archive_counts(7).unwrap(), (0, 0));
        assert_eq!(store.count_events(8).unwrap(), (1, 1));
        assert_eq!(store.archive_counts(8).unwrap(), (1, 1));
    }

    #[test]
    fn archive_counts_are_stored_with_the_events() {
        let dir = std::env::temp_dir().join(format!("ebl-counts-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = Store::open(Some(&dir), 1 << 20).unwrap();
            store
                .append_events(&[write(3, 10, "ab"), write(3, 20, "cde")])
                .unwrap();
            store.append_events(&[write(3, 30, "f")]).unwrap();
            store.delete_events(3, Some(15)).unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(Some(&dir), 1 << 20).unwrap();
        // Read from the stored record, and it agrees with a scan.
        assert_eq!(store.archive_counts(3).unwrap(), (2, 4));
        assert_eq!(store.count_events(3).unwrap(), (2, 4));
        let times: Vec<i64> = store
            .scan_events(3, i64::MIN, i64::MAX)
            .map(|r| r.unwrap().0)
            .collect();
        assert_eq!(times, [20, 30]);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn resources_survive_reopen() {
        let dir = std::env::temp_dir().join(format!("ebl-store-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        {
            let store = Store::open(Some(&dir), 1 << 20).unwrap();
            store.put(Collection::Buses, "k1", &"v1").unwrap();
            store.put(Collection::Buses, "k2", &"v2").unwrap();
            store.remove(Collection::Buses, "k1").unwrap();
            store.flush_blocking().unwrap();
        }
        let store = Store::open(Some(&dir), 1 << 20).unwrap();
        let values: Vec<String> = store.load(Collection::Buses).unwrap();
        assert_eq!(values, vec!["v2".to_string()]);
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
