//! `POST /_local/reset`: everything back to a fresh server's state without a restart, or
//! one account/region's (`?account=&region=`; one given, the other is the server's
//! default). Gone: buses but the default ones, rules and targets, archives and their events,
//! replays (stopped first), connections, API destinations, Scheduler's schedules and
//! schedule groups, when scheduled rules are next due, pending deliveries and retries, injected faults, the delivery log and the events
//! buses received. A whole reset also puts a manual clock back where it started
//! (`--clock-start`, else the real time now).

use std::time::Duration;

use serde_json::json;

use super::{Answer, LocalError, Query, scope_of};
use crate::app::App;

/// How long replays get to stop.
const REPLAY_STOP_LIMIT: Duration = Duration::from_secs(5);

fn failed(e: impl std::fmt::Display) -> LocalError {
    LocalError::new(
        hyper::StatusCode::INTERNAL_SERVER_ERROR,
        format!("reset failed: {e}"),
    )
}

pub async fn reset(app: &App, query: &Query) -> Answer {
    let (account, region) = (query.get("account"), query.get("region"));
    let scope = (account.is_some() || region.is_some()).then(|| scope_of(app, account, region));
    let scope = scope.as_ref();
    // No move of the clock while state goes.
    let _moving = app.clock.exclusive().await;
    app.replays.stop_and_wait(scope, REPLAY_STOP_LIMIT).await;
    let archives = app.catalog.reset(scope).map_err(|e| failed(e.message))?;
    app.scheduler.forget(scope).await;
    app.schedules.reset(scope).map_err(|e| failed(e.message))?;
    app.delivery.reset(scope);
    app.router.recent.clear(scope);
    app.destinations
        .reset(scope)
        .map_err(|e| failed(e.message))?;
    let store = app.store.clone();
    tokio::task::spawn_blocking(move || {
        archives
            .into_iter()
            .try_for_each(|uid| store.delete_events(uid, None).map(|_| ()))
    })
    .await
    .map_err(failed)?
    .map_err(failed)?;
    app.store.flush().await.map_err(failed)?;
    if scope.is_none() && app.clock.is_manual() {
        let start = app
            .config
            .clock_start
            .unwrap_or_else(crate::model::time::now_ms);
        app.clock.set(start);
    }
    Ok(match scope {
        None => json!({ "reset": "all" }),
        Some(s) => json!({ "reset": { "account": s.account, "region": s.region } }),
    })
}
