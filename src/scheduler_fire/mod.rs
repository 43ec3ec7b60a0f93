//! EventBridge Scheduler's firing service: makes each enabled schedule's invocations when they
//! are due, through the same delivery queue as rules (retries, dead-letter queues, the
//! delivery log).
//!
//! The work is one step, [`Firing::fire_due`]: every invocation due at or before an instant,
//! in order, each schedule's progress stored as it goes. A task calls it with the real clock,
//! sleeping until the next instant due (at most a second, and woken by any change to the
//! schedules), so an invocation is made within milliseconds of its instant; a controllable
//! clock can drive the same step.
//!
//! After a restart, [`Firing::catch_up`] collapses the instants missed while the server was
//! down: the latest of them is made once, at start, if it is not older than the target's
//! `RetryPolicy.MaximumEventAgeInSeconds` (AWS's default: 24 hours), since an invocation that
//! old would no longer be delivered; the others are dropped.

pub mod expression;
mod invoke;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use rand::Rng;

use crate::clock::Clock;
use crate::delivery::Delivery;
use crate::schedules::{Progress, Schedule, Schedules};
pub use expression::{Recurrence, Timing, time_zone};

/// Invocations one schedule makes in one step at most (a controllable clock moved far ahead
/// catches up over several steps rather than blocking the task).
const MAX_PER_STEP: usize = 1000;
/// Missed instants looked through at start for the latest one.
const MAX_CATCH_UP: usize = 1_000_000;
/// AWS's default `MaximumEventAgeInSeconds`.
const DEFAULT_MAX_AGE_SECS: i64 = 86_400;
/// The longest sleep of the task between two steps.
const MAX_SLEEP_MS: i64 = 1000;

pub struct Firing {
    schedules: Arc<Schedules>,
    delivery: Arc<Delivery>,
    /// The server's clock: real, or moved by `/_local/clock`, which then fires each step.
    clock: Clock,
    /// One firing step at a time: the task's and a clock move's never make the same
    /// invocation twice.
    firing: tokio::sync::Mutex<()>,
    stopping: AtomicBool,
}

/// The timing of a schedule, or `None` when its stored expression or time zone no longer
/// reads (it then never fires).
pub fn timing_of(schedule: &Schedule) -> Option<Timing> {
    Some(Timing {
        recurrence: Recurrence::parse(&schedule.schedule_expression)?,
        tz: time_zone(
            schedule
                .schedule_expression_timezone
                .as_deref()
                .unwrap_or("UTC"),
        )?,
        start_ms: schedule.start_date_ms,
        end_ms: schedule.end_date_ms,
        // UpdateSchedule replaces the whole schedule, so a rate without StartDate starts
        // over from the update, as from a creation ("immediately", AWS documents).
        anchor_ms: schedule
            .start_date_ms
            .unwrap_or(schedule.last_modification_ms),
    })
}

/// When the invocation of the instant `nominal_ms` is made: at a random point of the flexible
/// time window that starts there (at the instant itself when the window is `OFF`).
fn fire_time(schedule: &Schedule, nominal_ms: Option<i64>) -> Option<i64> {
    let nominal = nominal_ms?;
    let width = schedule.flexible_time_window.width_ms();
    Some(if width > 0 {
        nominal + rand::thread_rng().gen_range(0..width)
    } else {
        nominal
    })
}

/// The progress of a schedule that has not started: its first instant at or after it was
/// made or last updated (a one-time schedule's from the start of that minute: invocations are
/// made with a minute's precision, so an `at()` of the current minute is still due).
fn first_progress(schedule: &Schedule, timing: &Timing) -> Progress {
    let since = schedule.last_modification_ms;
    let from = if timing.recurrence.is_one_time() {
        since - since.rem_euclid(60_000)
    } else {
        since
    };
    let next = timing.first_at_or_after(from);
    Progress {
        started: true,
        next_nominal_ms: next,
        next_fire_ms: fire_time(schedule, next),
        ..Progress::default()
    }
}

fn max_age_ms(schedule: &Schedule) -> i64 {
    schedule
        .target
        .get("RetryPolicy")
        .and_then(|p| p.get("MaximumEventAgeInSeconds"))
        .and_then(|v| v.as_i64())
        .unwrap_or(DEFAULT_MAX_AGE_SECS)
        * 1000
}

impl Firing {
    pub fn new(schedules: Arc<Schedules>, delivery: Arc<Delivery>, clock: Clock) -> Arc<Firing> {
        Arc::new(Firing {
            schedules,
            delivery,
            clock,
            firing: tokio::sync::Mutex::new(()),
            stopping: AtomicBool::new(false),
        })
    }

    /// When the next invocation is due (now if one already is); a manual clock's move steps
    /// through these.
    pub fn next_due(&self, now: i64) -> Option<i64> {
        let (due, next) = self.schedules.due(now);
        if due.is_empty() { next } else { Some(now) }
    }

    /// No invocation is made after this (called at shutdown, before deliveries are stored).
    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// At start: each schedule whose next instant passed while the server was down keeps
    /// only the latest missed instant, due now, if it is young enough to deliver.
    pub fn catch_up(&self, now: i64) {
        for schedule in self.schedules.enabled_schedules() {
            let Some(timing) = timing_of(&schedule) else {
                continue;
            };
            let mut progress = if schedule.progress.started {
                schedule.progress.clone()
            } else {
                first_progress(&schedule, &timing)
            };
            let Some(mut latest) = progress.next_nominal_ms.filter(|n| *n <= now) else {
                continue;
            };
            let mut looked = 0;
            while let Some(next) = timing.next_after(latest).filter(|n| *n <= now) {
                latest = next;
                looked += 1;
                if looked >= MAX_CATCH_UP {
                    break;
                }
            }
            if now - latest <= max_age_ms(&schedule) && looked < MAX_CATCH_UP {
                tracing::info!(schedule = %schedule.arn(), "making once an invocation missed while the server was down");
                progress.next_nominal_ms = Some(latest);
                progress.next_fire_ms = Some(now);
            } else {
                progress.next_nominal_ms = timing.next_after(now);
                progress.next_fire_ms = fire_time(&schedule, progress.next_nominal_ms);
            }
            if let Err(e) = self
                .schedules
                .set_progress(&schedule.key(), schedule.version, progress)
            {
                tracing::warn!(error = %e, "storing a schedule's progress failed");
            }
        }
    }

    /// Makes every invocation due at or before `now`, in order; returns when the next one is
    /// due (`None`: none is).
    pub async fn fire_due(&self, now: i64) -> Option<i64> {
        let _one_at_a_time = self.firing.lock().await;
        let (due, mut next_due) = self.schedules.due(now);
        let mut saved = false;
        for schedule in due {
            if self.stopping.load(Ordering::SeqCst) {
                return None;
            }
            let Some(timing) = timing_of(&schedule) else {
                continue;
            };
            let (progress, changed) = self.step(&schedule, &timing, now).await;
            if changed {
                self.save(&schedule, progress.clone());
                saved = true;
            }
            if let Some(at) = progress.next_fire_ms {
                next_due = Some(next_due.map_or(at, |n| n.min(at)));
            }
        }
        // Progress made durable: an invocation made is not made again after a crash.
        if saved && let Err(e) = self.schedules.store().flush().await {
            tracing::warn!(error = %e, "flushing schedules' progress failed");
        }
        next_due
    }

    /// The invocations of one schedule due by `now`.
    async fn step(&self, schedule: &Schedule, timing: &Timing, now: i64) -> (Progress, bool) {
        let mut changed = false;
        let mut progress = schedule.progress.clone();
        if !progress.started {
            progress = first_progress(schedule, timing);
            changed = true;
        }
        let mut made = 0;
        while let (Some(fire), Some(nominal)) = (progress.next_fire_ms, progress.next_nominal_ms) {
            if fire > now || made >= MAX_PER_STEP || self.stopping.load(Ordering::SeqCst) {
                break;
            }
            self.delivery
                .enqueue(invoke::job_for(schedule, nominal, now))
                .await;
            progress.last_nominal_ms = Some(nominal);
            progress.invocations += 1;
            progress.next_nominal_ms = timing.next_after(nominal);
            progress.next_fire_ms = fire_time(schedule, progress.next_nominal_ms);
            changed = true;
            made += 1;
        }
        (progress, changed)
    }

    /// Stores the progress, or removes the schedule when it is complete and its
    /// `ActionAfterCompletion` is `DELETE`.
    fn save(&self, schedule: &Schedule, progress: Progress) {
        let key = schedule.key();
        let complete = progress.next_nominal_ms.is_none() && progress.invocations > 0;
        let result = if complete && schedule.action_after_completion == "DELETE" {
            tracing::debug!(schedule = %schedule.arn(), "deleting a completed schedule");
            self.schedules.remove_completed(&key, schedule.version)
        } else {
            self.schedules
                .set_progress(&key, schedule.version, progress)
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "storing a schedule's progress failed");
        }
    }
}

/// Runs the firing service until it is dropped: on the real clock, due instants as they come;
/// on a manual clock, what a move made due (moves also fire each step themselves).
pub fn spawn(firing: &Arc<Firing>) {
    let weak: Weak<Firing> = Arc::downgrade(firing);
    // Only the notification is held: a task holding the schedules would keep the store
    // (and the data folder's lock) after the server stopped.
    let changed = firing.schedules.changed.clone();
    tokio::spawn(async move {
        if let Some(firing) = weak.upgrade() {
            firing.catch_up(firing.clock.now_ms());
        }
        loop {
            let Some(firing) = weak.upgrade() else { break };
            let now = firing.clock.now_ms();
            let next = firing.fire_due(now).await;
            let now = firing.clock.now_ms();
            drop(firing);
            let wait = next.map_or(MAX_SLEEP_MS, |at| (at - now).clamp(0, MAX_SLEEP_MS));
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(wait as u64)) => {}
                _ = changed.notified() => {}
            }
        }
    });
}

#[cfg(test)]
mod tests;
