//! The firing step on a clock the test moves: every invocation due up to an instant, exactly.

use std::sync::Arc;

use serde_json::json;

use super::Firing;
use crate::catalog::Catalog;
use crate::config::Config;
use crate::delivery::{Delivery, Outbound};
use crate::destinations::Destinations;
use crate::model::Scope;
use crate::schedules::{FlexibleTimeWindow, Progress, Schedule, Schedules};
use crate::store::Store;

const MINUTE: i64 = 60_000;
/// 2026-11-30T10:00:00Z.
const T0: i64 = 1_796_032_800_000;

struct Rig {
    store: Store,
    schedules: Arc<Schedules>,
    delivery: Arc<Delivery>,
    firing: Arc<Firing>,
}

/// A firing service whose deliveries stay queued (no workers): the pending count is the
/// number of invocations made.
fn rig() -> Rig {
    let store = Store::open(None, 1 << 20).unwrap();
    let catalog = Arc::new(Catalog::load(store.clone()).unwrap());
    let destinations = Arc::new(Destinations::load(store.clone()).unwrap());
    let config = Config::for_tests();
    let outbound = Outbound::new(config.endpoint_table(), destinations);
    let clock = crate::clock::Clock::real();
    let (delivery, _queue) = Delivery::new(&config, outbound, catalog, clock.clone());
    let schedules = Arc::new(Schedules::load(store.clone()).unwrap());
    let firing = Firing::new(schedules.clone(), delivery.clone(), clock);
    Rig {
        store,
        schedules,
        delivery,
        firing,
    }
}

fn scope() -> Scope {
    Scope {
        account: "000000000000".into(),
        region: "us-east-1".into(),
    }
}

fn schedule(name: &str, expression: &str, created: i64) -> Schedule {
    let target = json!({"Arn": "arn:aws:sqs:us-east-1:000000000000:q", "RoleArn": "r"});
    Schedule {
        scope: scope(),
        group: "default".into(),
        name: name.into(),
        description: None,
        schedule_expression: expression.into(),
        schedule_expression_timezone: None,
        start_date_ms: None,
        end_date_ms: None,
        state: "ENABLED".into(),
        kms_key_arn: None,
        target: target.as_object().unwrap().clone(),
        flexible_time_window: FlexibleTimeWindow {
            mode: "OFF".into(),
            maximum_window_in_minutes: None,
        },
        action_after_completion: "NONE".into(),
        creation_ms: created,
        last_modification_ms: created,
        client_token: None,
        version: 0,
        progress: Progress::default(),
    }
}

impl Rig {
    fn add(&self, schedule: Schedule) {
        self.schedules.ensure_default_group(&scope()).unwrap();
        self.schedules.create_schedule(schedule).unwrap();
    }

    fn made(&self) -> usize {
        self.delivery.persist_pending(&self.store)
    }

    fn progress(&self, name: &str) -> Progress {
        self.schedules
            .schedule(&scope(), "default", name)
            .unwrap()
            .progress
    }
}

#[tokio::test]
async fn a_rate_makes_every_invocation_due_and_no_more() {
    let rig = rig();
    rig.add(schedule("every-minute", "rate(1 minute)", T0));
    // At creation: the first invocation, at once.
    assert_eq!(rig.firing.fire_due(T0).await, Some(T0 + MINUTE));
    assert_eq!(rig.made(), 1);
    // Just before the next instant: nothing; at it: exactly one.
    assert_eq!(
        rig.firing.fire_due(T0 + MINUTE - 1).await,
        Some(T0 + MINUTE)
    );
    assert_eq!(rig.made(), 1);
    rig.firing.fire_due(T0 + MINUTE).await;
    assert_eq!(rig.made(), 2);
    // Ten minutes on: the ten instants between, each once.
    assert_eq!(
        rig.firing.fire_due(T0 + 11 * MINUTE).await,
        Some(T0 + 12 * MINUTE)
    );
    assert_eq!(rig.made(), 12);
    let progress = rig.progress("every-minute");
    assert_eq!(progress.invocations, 12);
    assert_eq!(progress.last_nominal_ms, Some(T0 + 11 * MINUTE));
}

#[tokio::test]
async fn a_one_time_schedule_fires_once_and_delete_removes_it() {
    let rig = rig();
    let mut once = schedule("once", "at(2026-11-30T10:05:00)", T0);
    once.action_after_completion = "DELETE".into();
    rig.add(once);
    rig.add(schedule("kept", "at(2026-11-30T10:05:00)", T0));
    assert_eq!(rig.firing.fire_due(T0).await, Some(T0 + 5 * MINUTE));
    assert_eq!(rig.made(), 0);
    assert_eq!(rig.firing.fire_due(T0 + 5 * MINUTE).await, None);
    assert_eq!(rig.made(), 2);
    assert!(rig.schedules.schedule(&scope(), "default", "once").is_err());
    assert_eq!(rig.progress("kept").invocations, 1);
    rig.firing.fire_due(T0 + 60 * MINUTE).await;
    assert_eq!(rig.made(), 2);
}

#[tokio::test]
async fn a_cron_in_new_york_fires_at_the_utc_instants_of_its_local_time() {
    let rig = rig();
    // 2026-10-31T12:00:00Z; every day at 01:30 New York time, across November 1 (01:30 twice).
    let start = 1_793_448_000_000;
    let mut daily = schedule("daily", "cron(30 1 * * ? *)", start);
    daily.schedule_expression_timezone = Some("America/New_York".into());
    rig.add(daily);
    let first = rig.firing.fire_due(start).await;
    // 2026-11-01T05:30:00Z (01:30 EDT), then 2026-11-02T06:30:00Z (01:30 EST).
    assert_eq!(first, Some(1_793_511_000_000));
    assert_eq!(
        rig.firing.fire_due(1_793_511_000_000).await,
        Some(1_793_601_000_000)
    );
    assert_eq!(rig.made(), 1);
}

#[tokio::test]
async fn instants_missed_while_down_collapse_to_one() {
    let rig = rig();
    rig.add(schedule("every-minute", "rate(1 minute)", T0));
    rig.firing.fire_due(T0).await;
    assert_eq!(rig.made(), 1);
    // "Down" for an hour: at start, the latest missed instant is made once.
    rig.firing.catch_up(T0 + 60 * MINUTE + 30_000);
    assert_eq!(
        rig.progress("every-minute").next_nominal_ms,
        Some(T0 + 60 * MINUTE)
    );
    rig.firing.fire_due(T0 + 60 * MINUTE + 30_000).await;
    assert_eq!(rig.made(), 2);
}

#[tokio::test]
async fn a_missed_instant_older_than_the_event_age_is_dropped() {
    let rig = rig();
    rig.add(schedule("old", "at(2026-11-30T10:05:00)", T0));
    rig.add(schedule("recent", "at(2026-12-01T10:05:00)", T0));
    // Down until 2026-12-02T10:00: `old` passed 47 hours ago (more than the default day of
    // MaximumEventAgeInSeconds), `recent` 23 hours ago.
    let now = T0 + 48 * 60 * MINUTE;
    rig.firing.catch_up(now);
    rig.firing.fire_due(now).await;
    assert_eq!(rig.made(), 1);
    assert_eq!(rig.progress("recent").invocations, 1);
    assert_eq!(rig.progress("old").invocations, 0);
    assert_eq!(rig.progress("old").next_nominal_ms, None);
}

#[tokio::test]
async fn a_flexible_window_fires_inside_the_window() {
    let rig = rig();
    let mut flexible = schedule("flexible", "at(2026-11-30T10:05:00)", T0);
    flexible.flexible_time_window = FlexibleTimeWindow {
        mode: "FLEXIBLE".into(),
        maximum_window_in_minutes: Some(10),
    };
    rig.add(flexible);
    let fire = rig.firing.fire_due(T0).await.unwrap();
    assert!(
        (T0 + 5 * MINUTE..T0 + 15 * MINUTE).contains(&fire),
        "{fire}"
    );
    assert_eq!(
        rig.progress("flexible").next_nominal_ms,
        Some(T0 + 5 * MINUTE)
    );
    rig.firing.fire_due(fire - 1).await;
    assert_eq!(rig.made(), 0);
    rig.firing.fire_due(fire).await;
    assert_eq!(rig.made(), 1);
}
