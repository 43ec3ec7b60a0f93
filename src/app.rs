//! Everything a request handler or background task can reach, built once at start.

use std::sync::{Arc, Weak};

use crate::catalog::Catalog;
use crate::config::Config;
use crate::delivery::Delivery;
use crate::destinations::Destinations;
use crate::replay::Replays;
use crate::store::{Store, StoreError};

pub struct App {
    me: Weak<App>,
    pub config: Config,
    pub store: Store,
    pub catalog: Catalog,
    pub destinations: Destinations,
    pub delivery: Delivery,
    pub replays: Replays,
}

impl App {
    /// Opens the store, loads the catalog and starts the delivery workers and any replays
    /// that were running when the server last stopped.
    pub fn start(config: Config) -> Result<Arc<App>, StoreError> {
        let dir = (!config.in_memory).then_some(config.data_dir.as_path());
        let store = Store::open_with(dir, config.cache_mb << 20, config.archive_segment_mb << 20)?;
        let catalog = Catalog::load(store.clone())?;
        let destinations = Destinations::load(store.clone())?;
        let (delivery, queue) = Delivery::new(&config);
        let app = Arc::new_cyclic(|me| App {
            me: me.clone(),
            store,
            catalog,
            destinations,
            delivery,
            replays: Replays::default(),
            config,
        });
        crate::delivery::spawn_workers(&app, queue);
        crate::delivery::resume_pending(&app);
        crate::replay::resume_all(&app);
        crate::schedule::spawn(&app);
        crate::retention::spawn(
            &app,
            std::time::Duration::from_secs(app.config.retention_sweep_secs.max(1)),
        );
        Ok(app)
    }

    /// A strong handle for background tasks started from a request.
    pub fn self_arc(&self) -> Option<Arc<App>> {
        self.me.upgrade()
    }
}
