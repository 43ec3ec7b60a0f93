//! The composition root: builds every part once at start, bottom up, hands each the narrow
//! handles it needs, and owns the order of shutdown. Request handlers reach everything
//! through it; nothing below it imports it.

use std::sync::Arc;
use std::time::Duration;

use crate::catalog::Catalog;
use crate::clock::Clock;
use crate::config::{ClockMode, Config};
use crate::delivery::{Delivery, Outbound};
use crate::destinations::Destinations;
use crate::recent::RecentEvents;
use crate::replay::Replays;
use crate::router::Router;
use crate::schedule::Scheduler;
use crate::scheduler_fire::Firing;
use crate::schedules::Schedules;
use crate::signature::Verifier;
use crate::store::{Store, StoreOptions};

pub struct App {
    pub config: Config,
    pub store: Store,
    pub catalog: Arc<Catalog>,
    pub destinations: Arc<Destinations>,
    pub delivery: Arc<Delivery>,
    pub router: Arc<Router>,
    pub replays: Arc<Replays>,
    /// EventBridge Scheduler's schedules and the service that fires them.
    pub schedules: Arc<Schedules>,
    pub firing: Arc<Firing>,
    pub scheduler: Arc<Scheduler>,
    /// The one clock every part reads time from.
    pub clock: Clock,
    /// Signature checks, under `--verify-signatures`.
    pub verifier: Option<Verifier>,
}

/// Why the server could not start: the message says what to do.
#[derive(Debug)]
pub struct StartError(pub String);

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl App {
    /// Opens the store, loads the catalog and starts the delivery workers, the replays that
    /// were running when the server last stopped, scheduled rules and the retention sweep.
    pub fn start(config: Config) -> Result<Arc<App>, StartError> {
        let verifier = match config.verify_signatures {
            false => None,
            true => {
                let credentials = config.credentials().map_err(StartError)?;
                if credentials.is_empty() {
                    return Err(StartError(
                        "--verify-signatures needs credentials: --credentials-file, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
                    ));
                }
                Some(Verifier::new(credentials))
            }
        };
        let store_error = |e: crate::store::StoreError| StartError(format!("the data store: {e}"));
        let dir = (!config.in_memory).then_some(config.data_dir.as_path());
        let store = Store::open_with_options(
            dir,
            &StoreOptions {
                cache_bytes: config.cache_mb << 20,
                segment_bytes: config.archive_segment_mb << 20,
                repair_archive_log: config.repair_archive_log,
            },
        )
        .map_err(store_error)?;
        let catalog = Arc::new(Catalog::load(store.clone()).map_err(store_error)?);
        let destinations = Arc::new(Destinations::load(store.clone()).map_err(store_error)?);
        let clock = match config.clock {
            ClockMode::Real => Clock::real(),
            ClockMode::Manual => Clock::manual(
                config
                    .clock_start
                    .unwrap_or_else(crate::model::time::now_ms),
            ),
        };
        let schedules = Arc::new(Schedules::load(store.clone()).map_err(store_error)?);
        let outbound = Outbound::new(config.endpoint_table(), destinations.clone());
        let (delivery, queue) = Delivery::new(&config, outbound, catalog.clone(), clock.clone());
        let recent = Arc::new(RecentEvents::new(config.recent_events));
        let router = Router::new(catalog.clone(), store.clone(), delivery.clone(), recent);
        let replays = Replays::new(
            router.clone(),
            config.replay_max_events_per_second,
            config.replay_min_duration_ms,
        );

        let firing = Firing::new(schedules.clone(), delivery.clone(), clock.clone());

        delivery.spawn_workers(queue);
        delivery.resume_pending(&store);
        replays.resume_all();
        let scheduler = Scheduler::new(router.clone(), clock.clone(), config.schedule_rate_divisor);
        scheduler.spawn();
        crate::scheduler_fire::spawn(&firing);
        crate::retention::spawn(
            &router,
            clock.clone(),
            Duration::from_secs(config.retention_sweep_secs.max(1)),
        );
        Ok(Arc::new(App {
            config,
            store,
            catalog,
            destinations,
            delivery,
            router,
            replays,
            verifier,
            scheduler,
            clock,
            schedules,
            firing,
        }))
    }

    /// After the last request: replays stop where they are (they resume at the next start),
    /// deliveries under way finish and the rest are stored, and the store is flushed.
    pub async fn shutdown(&self) {
        self.replays.stop_all();
        self.firing.stop();
        self.delivery.stop().await;
        let pending = self.delivery.persist_pending(&self.store);
        if pending > 0 {
            tracing::info!(
                count = pending,
                "stored deliveries still pending; they resume at the next start"
            );
        }
        if let Err(e) = self.store.flush().await {
            tracing::error!(error = %e, "final flush failed");
        }
    }
}
