//! Scheduled rules: the task that sends each enabled rule with a `ScheduleExpression` its
//! `Scheduled Event` when due. The expressions themselves are read in `expression.rs`.

mod expression;

use std::collections::HashMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::model::event::{Event, envelope};
use crate::model::time::now_ms;
use crate::router::Router;
pub use expression::{Cron, Schedule};

/// Fires scheduled rules: four times a second, each enabled rule with a ScheduleExpression whose time
/// has come sends a `Scheduled Event` to its targets.
pub fn spawn(router: &Arc<Router>, rate_divisor: u32) {
    let weak: Weak<Router> = Arc::downgrade(router);
    let divisor = i64::from(rate_divisor.max(1));
    tokio::spawn(async move {
        // rule ARN -> (expression, next time)
        let mut next: HashMap<String, (String, i64)> = HashMap::new();
        let mut tick = tokio::time::interval(Duration::from_millis(250));
        loop {
            tick.tick().await;
            let Some(router) = weak.upgrade() else { break };
            let now = now_ms();
            let rules = router.catalog.scheduled_rules();
            next.retain(|arn, _| rules.iter().any(|r| r.arn == *arn));
            for rule in rules {
                let Some(expression) = rule.rule.schedule_expression.clone() else {
                    continue;
                };
                let schedule = match Schedule::parse(&expression) {
                    Some(Schedule::Rate(period)) => Schedule::Rate((period / divisor).max(1)),
                    Some(cron) => cron,
                    None => continue,
                };
                let arn = rule.arn.clone();
                let due = match next.get(&arn) {
                    Some((e, at)) if *e == expression => *at,
                    _ => {
                        if let Some(at) = schedule.next_after(now, now) {
                            next.insert(arn.clone(), (expression.clone(), at));
                        }
                        continue;
                    }
                };
                if now < due {
                    continue;
                }
                let event = envelope(
                    &uuid::Uuid::new_v4().to_string(),
                    "Scheduled Event",
                    "aws.events",
                    &rule.rule.scope.account,
                    due,
                    &rule.rule.scope.region,
                    vec![serde_json::Value::from(arn.clone())],
                    serde_json::json!({}),
                );
                let event = Event::new(
                    rule.rule.scope.clone(),
                    rule.rule.bus_name.clone(),
                    due,
                    event,
                    0,
                );
                router.deliver_to_rule(&event, &rule).await;
                match schedule.next_after(now, due) {
                    Some(at) => next.insert(arn, (expression, at)),
                    None => next.remove(&arn),
                };
            }
        }
    });
}
