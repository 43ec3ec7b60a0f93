//! `GET /_local/console/api/schedules?account=&region=`: the scope's scheduled rules and
//! Scheduler schedules, each with its next instant.

use serde_json::json;

use super::super::clock::rfc3339;
use super::super::{Answer, Query};
use super::scope;
use crate::app::App;

pub async fn list(app: &App, query: &Query) -> Answer {
    let scope = scope(app, query);
    let next = app.scheduler.next_instants().await;
    let rules: Vec<_> = app
        .catalog
        .scheduled_rules()
        .into_iter()
        .filter(|r| r.rule.scope == scope)
        .map(|r| {
            json!({
                "name": r.rule.name,
                "eventBusName": r.rule.bus_name,
                "scheduleExpression": r.rule.schedule_expression,
                "state": r.rule.state.as_str(),
                "targets": r.rule.targets.len(),
                "next": next.get(&r.arn).map(|at| rfc3339(*at)),
            })
        })
        .collect();
    let schedules: Vec<_> = app
        .schedules
        .schedules_in(&scope, None)
        .into_iter()
        .map(|s| {
            json!({
                "groupName": s.group,
                "name": s.name,
                "scheduleExpression": s.schedule_expression,
                "scheduleExpressionTimezone": s.schedule_expression_timezone,
                "state": s.state,
                "target": s.target.get("Arn"),
                "invocations": s.progress.invocations,
                "next": s.progress.next_fire_ms.filter(|_| s.is_enabled()).map(rfc3339),
            })
        })
        .collect();
    Ok(json!({ "rules": rules, "schedules": schedules }))
}
