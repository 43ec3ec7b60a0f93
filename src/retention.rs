//! The retention sweep: archives with `RetentionDays` > 0 lose their events older than that,
//! and their counts drop with them.
//!
//! Events are keyed by event time, so a sweep is one range delete from the start of the
//! archive: it only reads what it removes, and the counts drop in the same batches. Retention counts from the event's `time` (the
//! entry's `Time`, or its ingestion time); AWS does not document which one it uses.

use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::router::Router;
use crate::store::Store;

const DAY_MS: i64 = 86_400_000;

/// One sweep over every archive at `now` (epoch ms on the server's clock); returns how
/// many events went.
pub fn sweep(catalog: &Catalog, store: &Store, now: i64) -> u64 {
    let mut removed_total = 0;
    for entry in catalog.all_archives() {
        let days = entry.archive.retention_days;
        if days <= 0 {
            continue;
        }
        let cutoff = now.saturating_sub(days.saturating_mul(DAY_MS));
        match store.delete_events(entry.archive.uid, Some(cutoff)) {
            Ok((count, _bytes)) => {
                removed_total += count;
                if count > 0 {
                    tracing::info!(archive = %entry.archive.name, events = count, "retention sweep removed expired events");
                }
            }
            Err(e) => {
                tracing::error!(archive = %entry.archive.name, error = %e, "retention sweep failed")
            }
        }
    }
    removed_total
}

/// Sweeps at start and then every `every`, until the router (and so the server) is gone.
/// The router is held weakly so that a stopped server does not keep its store open.
pub fn spawn(router: &Arc<Router>, clock: Clock, every: Duration) {
    let weak: Weak<Router> = Arc::downgrade(router);
    tokio::spawn(async move {
        loop {
            let Some(router) = weak.upgrade() else { break };
            let swept = tokio::task::spawn_blocking({
                let router = router.clone();
                let now = clock.now_ms();
                move || sweep(&router.catalog, &router.store, now)
            })
            .await;
            if let Err(e) = swept {
                tracing::error!(error = %e, "retention sweep panicked");
            }
            drop(router);
            tokio::time::sleep(every).await;
        }
    });
}
