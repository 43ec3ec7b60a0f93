//! Scheduled rules: each enabled rule with a `ScheduleExpression` sends its targets a
//! `Scheduled Event` when due. The expressions themselves are read in `expression.rs`.
//!
//! One function fires everything due up to an instant ([`Scheduler::fire_due`]); a task
//! calls it four times a second with the clock's time, and a manual clock's moves call it
//! at every due instant on the way (`/_local/clock`), so each instant fires once, in order,
//! with the instant it was due as the event's `time`.

mod expression;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::catalog::CompiledRule;
use crate::clock::Clock;
use crate::model::Scope;
use crate::model::event::{Event, envelope};
use crate::router::Router;
pub use expression::{Cron, Schedule};

/// Sends scheduled rules' events; holds when each rule is next due.
pub struct Scheduler {
    router: Arc<Router>,
    clock: Clock,
    /// Divides `rate(...)` periods (`--schedule-rate-divisor`).
    divisor: i64,
    /// Rule ARN -> (expression, next due time). A rule is anchored (its first instant
    /// computed) when first seen; a changed expression anchors it again.
    next: tokio::sync::Mutex<HashMap<String, (String, i64)>>,
}

impl Scheduler {
    pub fn new(router: Arc<Router>, clock: Clock, rate_divisor: u32) -> Arc<Scheduler> {
        Arc::new(Scheduler {
            router,
            clock,
            divisor: i64::from(rate_divisor.max(1)),
            next: tokio::sync::Mutex::new(HashMap::new()),
        })
    }

    /// Fires what is due four times a second, until the scheduler (and so the server) is
    /// gone; held weakly so that a stopped server does not keep its store open.
    pub fn spawn(self: &Arc<Self>) {
        let weak: Weak<Scheduler> = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(250));
            loop {
                tick.tick().await;
                let Some(scheduler) = weak.upgrade() else {
                    break;
                };
                let now = scheduler.clock.now_ms();
                scheduler.fire_due(now).await;
            }
        });
    }

    fn schedule_of(&self, expression: &str) -> Option<Schedule> {
        match Schedule::parse(expression)? {
            Schedule::Rate(period) => Some(Schedule::Rate((period / self.divisor).max(1))),
            cron => Some(cron),
        }
    }

    /// Brings the table up to date with the catalog at `now`: rules gone are forgotten,
    /// new (or changed) ones anchored. Returns the scheduled rules.
    fn refresh(
        &self,
        next: &mut HashMap<String, (String, i64)>,
        now: i64,
    ) -> Vec<(Arc<CompiledRule>, Schedule)> {
        let rules = self.router.catalog.scheduled_rules();
        next.retain(|arn, _| rules.iter().any(|r| r.arn == *arn));
        let mut scheduled = Vec::with_capacity(rules.len());
        for rule in rules {
            let Some(expression) = rule.rule.schedule_expression.clone() else {
                continue;
            };
            let Some(schedule) = self.schedule_of(&expression) else {
                continue;
            };
            let known = next.get(&rule.arn).is_some_and(|(e, _)| *e == expression);
            if !known {
                match schedule.next_after(now, now) {
                    Some(at) => next.insert(rule.arn.clone(), (expression, at)),
                    None => next.remove(&rule.arn),
                };
            }
            scheduled.push((rule, schedule));
        }
        scheduled
    }

    /// When each scheduled rule (by ARN) is next due, as far as the scheduler has looked
    /// (a rule created since its last tick is not in it yet): what the console shows.
    pub async fn next_instants(&self) -> HashMap<String, i64> {
        self.next
            .lock()
            .await
            .iter()
            .map(|(arn, (_, at))| (arn.clone(), *at))
            .collect()
    }

    /// Fires every instant due at or before `now`, each rule's in order; returns how many
    /// events were sent. On the real clock a rule late by more than one period fires once
    /// (missed instants are skipped); on a manual clock every instant fires.
    pub async fn fire_due(&self, now: i64) -> usize {
        let mut next = self.next.lock().await;
        let mut fired = 0;
        for (rule, schedule) in self.refresh(&mut next, now) {
            let Some((expression, mut due)) = next.get(&rule.arn).cloned() else {
                continue;
            };
            let mut upcoming = Some(due);
            while due <= now {
                self.fire(&rule, due).await;
                fired += 1;
                let after = if self.clock.is_manual() { due } else { now };
                upcoming = schedule.next_after(after, due);
                match upcoming {
                    Some(at) => due = at,
                    None => break,
                }
            }
            match upcoming {
                Some(at) => next.insert(rule.arn.clone(), (expression, at)),
                None => next.remove(&rule.arn),
            };
        }
        fired
    }

    /// The earliest instant a scheduled rule is due (rules not seen yet are anchored at
    /// `now` first).
    pub async fn next_due(&self, now: i64) -> Option<i64> {
        let mut next = self.next.lock().await;
        self.refresh(&mut next, now);
        next.values().map(|(_, at)| *at).min()
    }

    /// Forgets when the rules of `scope` (or all) are due: they are anchored again when
    /// next seen (after a reset, or when a manual clock is set back).
    pub async fn forget(&self, scope: Option<&Scope>) {
        let mut next = self.next.lock().await;
        match scope {
            None => next.clear(),
            Some(scope) => next.retain(|arn, _| !crate::model::arn::in_scope(arn, scope)),
        }
    }

    /// Sends `rule`'s `Scheduled Event` for the instant `at` to its targets; returns the
    /// event's id.
    pub async fn fire(&self, rule: &CompiledRule, at: i64) -> String {
        let id = uuid::Uuid::new_v4().to_string();
        let body = envelope(
            &id,
            "Scheduled Event",
            "aws.events",
            &rule.rule.scope.account,
            at,
            &rule.rule.scope.region,
            vec![serde_json::Value::from(rule.arn.clone())],
            serde_json::json!({}),
        );
        let event = Event::new(
            rule.rule.scope.clone(),
            rule.rule.bus_name.clone(),
            at,
            body,
            0,
        );
        self.router.deliver_to_rule(&event, rule).await;
        id
    }
}
