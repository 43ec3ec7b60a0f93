//! PutEvents: validate each entry as AWS does, build the envelope, route, answer. Delivery
//! happens later in the background.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use crate::app::App;
use crate::catalog::RuleFilter;
use crate::error::ApiError;
use crate::json_doc::Node;
use crate::model::Scope;
use crate::model::event::{EnvelopeParts, Event, envelope_doc};
use crate::model::time::EpochMillis;
use crate::ops::constraints::{
    ENDPOINT_ID, EVENT_RESOURCE, NON_PARTNER_EVENT_BUS_NAME_OR_ARN, PUT_EVENTS_REQUEST_ENTRY_LIST,
    TRACE_HEADER,
};
use crate::validate::Validator;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsRequest {
    entries: Option<Vec<PutEventsRequestEntry>>,
    endpoint_id: Option<String>,
}

/// Also the entry of PutPartnerEvents, whose members are these less `EventBusName` and
/// `TraceHeader`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsRequestEntry {
    pub time: Option<EpochMillis>,
    pub source: Option<String>,
    pub resources: Option<Vec<String>>,
    pub detail_type: Option<String>,
    pub detail: Option<String>,
    pub event_bus_name: Option<String>,
    pub trace_header: Option<String>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutEventsResponse {
    failed_entry_count: usize,
    entries: Vec<PutEventsResultEntry>,
}

/// AWS's answer when the entries add up to more than the PutEvents limit.
pub fn over_size_limit() -> ApiError {
    ApiError::validation("Total size of the entries in the request is over the limit.")
}

/// An entry's size as AWS counts it ("Calculating PutEvents event entry size").
pub fn entry_size(entry: &PutEventsRequestEntry) -> usize {
    let mut size = if entry.time.is_some() { 14 } else { 0 };
    size += entry.source.as_deref().map_or(0, str::len);
    size += entry.detail_type.as_deref().map_or(0, str::len);
    size += entry.detail.as_deref().map_or(0, str::len);
    size += entry
        .resources
        .iter()
        .flatten()
        .map(String::len)
        .sum::<usize>();
    size
}

/// The Java `toString` of the entry list that AWS prints in the too-many-entries message.
fn render_entries(entries: &[PutEventsRequestEntry]) -> String {
    fn opt(v: Option<&str>) -> &str {
        v.unwrap_or("null")
    }
    let items: Vec<String> = entries
        .iter()
        .map(|e| {
            let resources = e
                .resources
                .as_ref()
                .map_or("null".to_string(), |r| format!("[{}]", r.join(", ")));
            let time = e.time.map_or("null".to_string(), |t| java_date(t.0));
            format!(
                "PutEventsRequestEntry(time={time}, source={}, resources={resources}, detailType={}, detail={}, eventBusName={}, traceHeader={}, kmsKeyIdentifier=null, internalMetadata=null)",
                opt(e.source.as_deref()),
                opt(e.detail_type.as_deref()),
                opt(e.detail.as_deref()),
                opt(e.event_bus_name.as_deref()),
                opt(e.trace_header.as_deref()),
            )
        })
        .collect();
    format!("[{}]", items.join(", "))
}

/// `java.util.Date#toString` in UTC, e.g. `Tue Jan 02 03:04:05 UTC 2024`.
fn java_date(ms: i64) -> String {
    let Ok(t) = time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)) else {
        return "null".into();
    };
    let weekday = &t.weekday().to_string()[..3];
    let month = &t.month().to_string()[..3];
    format!(
        "{weekday} {month} {:02} {:02}:{:02}:{:02} UTC {}",
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.year()
    )
}

/// AWS's constraint on each of an entry's `Resources`; `path` names the entry's list
/// (`entries.N.member.resources`). PutEvents and PutPartnerEvents both check them here.
pub fn check_resources(v: &mut Validator, entry: &PutEventsRequestEntry, path: &str) {
    for (j, resource) in entry.resources.iter().flatten().enumerate() {
        v.string_at(
            Some(resource),
            || format!("{path}.{}.member", j + 1),
            &EVENT_RESOURCE,
            false,
        );
    }
}

/// The per-entry checks, in AWS's order; `Ok` carries the parsed detail.
pub fn check_entry(
    entry: &PutEventsRequestEntry,
) -> Result<Node<'_>, (&'static str, &'static str)> {
    const INVALID: &str = "InvalidArgument";
    if entry.source.as_deref().is_none_or(str::is_empty) {
        return Err((
            INVALID,
            "Parameter Source is not valid. Reason: Source is a required argument.",
        ));
    }
    if entry.detail_type.as_deref().is_none_or(str::is_empty) {
        return Err((
            INVALID,
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        ));
    }
    let Some(detail) = entry.detail.as_deref() else {
        return Err((
            INVALID,
            "Parameter Detail is not valid. Reason: Detail is a required argument.",
        ));
    };
    match Node::parse(detail) {
        Ok(node @ Node::Object(_)) => Ok(node),
        _ => Err(("MalformedDetail", "Detail is malformed.")),
    }
}

/// The envelope AWS wraps around a checked entry (`detail` is its parsed `Detail`), sent by
/// `account` onto a bus of `region`, and its event time: the entry's `Time`, else `now` (the
/// server's clock). PutEvents and PutPartnerEvents both make their events here.
pub fn entry_envelope<'a>(
    entry: &'a PutEventsRequestEntry,
    id: &str,
    detail: Node<'a>,
    account: &str,
    region: &str,
    now: i64,
) -> (i64, Node<'a>) {
    let time_ms = entry.time.map_or(now, |t| t.0);
    let doc = envelope_doc(EnvelopeParts {
        id: Cow::Owned(id.to_string()),
        detail_type: entry.detail_type.as_deref().unwrap_or_default(),
        source: entry.source.as_deref().unwrap_or_default(),
        account: Cow::Owned(account.to_string()),
        time_ms,
        region: Cow::Owned(region.to_string()),
        resources: entry.resources.as_deref().unwrap_or_default(),
        detail,
    });
    (time_ms, doc)
}

pub async fn put_events(
    app: &App,
    scope: &Scope,
    req: PutEventsRequest,
) -> Result<PutEventsResponse, ApiError> {
    let _live = app.router.live_traffic();
    let mut v = Validator::new();
    let has_entries = v.required(&req.entries, "entries");
    let entries = req.entries.unwrap_or_default();
    if has_entries {
        let rendered = if entries.len() > 10 {
            render_entries(&entries)
        } else {
            String::new()
        };
        v.list_len(
            &rendered,
            entries.len(),
            "entries",
            &PUT_EVENTS_REQUEST_ENTRY_LIST,
        );
    }
    for (i, entry) in entries.iter().enumerate() {
        let path = |m: &str| format!("entries.{}.member.{m}", i + 1);
        v.string_at(
            entry.event_bus_name.as_deref(),
            || path("eventBusName"),
            &NON_PARTNER_EVENT_BUS_NAME_OR_ARN,
            false,
        );
        v.string_at(
            entry.trace_header.as_deref(),
            || path("traceHeader"),
            &TRACE_HEADER,
            false,
        );
        check_resources(&mut v, entry, &path("resources"));
    }
    v.string(req.endpoint_id.as_deref(), "endpointId", &ENDPOINT_ID);
    v.finish()?;
    if entries.iter().map(entry_size).sum::<usize>() > app.config.max_put_events_bytes {
        return Err(over_size_limit());
    }
    let endpoint = match req.endpoint_id.as_deref() {
        Some(id) => Some(super::endpoints::route(app, scope, id)?),
        None => None,
    };

    let now = app.clock.now_ms();
    let mut results = Vec::with_capacity(entries.len());
    let mut events = Vec::with_capacity(entries.len());
    // The envelopes as rules read them, borrowing from `entries`: routing reads nothing again.
    let mut docs = Vec::with_capacity(entries.len());
    let mut failed = 0;
    for entry in &entries {
        let detail = match check_entry(entry) {
            Ok(detail) => detail,
            Err((code, message)) => {
                failed += 1;
                results.push(PutEventsResultEntry {
                    error_code: Some(code),
                    error_message: Some(message.to_string()),
                    ..Default::default()
                });
                continue;
            }
        };
        let (bus_scope, bus) = match &endpoint {
            Some(route) => (
                route.active.clone(),
                route.bus_for(entry.event_bus_name.as_deref()),
            ),
            None => super::resolve_bus(scope, entry.event_bus_name.as_deref()),
        };
        let source = entry.source.as_deref().unwrap_or_default();
        let detail_type = entry.detail_type.as_deref().unwrap_or_default();
        if let Err((code, message)) = super::permissions::check_put_events_entry(
            app,
            scope,
            &bus_scope,
            &bus,
            source,
            detail_type,
        ) {
            failed += 1;
            results.push(PutEventsResultEntry {
                error_code: Some(code),
                error_message: Some(message),
                ..Default::default()
            });
            continue;
        }
        let id = String::from(
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        // `account` is the sender's: events put on a bus of another account say who sent
        // them (rules match on it, as AWS's PutPermission docs advise).
        let (time_ms, doc) =
            entry_envelope(entry, &id, detail, &scope.account, &bus_scope.region, now);
        let event = Event::from_doc(bus_scope, bus, time_ms, &doc, 0);
        if let Some(route) = &endpoint
            && let Some(replica) = &route.replica
        {
            let copy = route.replicated(&event.envelope());
            docs.push(Node::from_value(&copy).into_static());
            events.push(Event::new(
                replica.clone(),
                event.bus.clone(),
                time_ms,
                copy,
                0,
            ));
        }
        events.push(event);
        docs.push(doc);
        results.push(PutEventsResultEntry {
            event_id: Some(id),
            ..Default::default()
        });
    }
    app.router
        .ingest_read(&events, &docs, RuleFilter::All)
        .await?;
    Ok(PutEventsResponse {
        failed_entry_count: failed,
        entries: results,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_size_counts_as_aws_documents() {
        let entry = PutEventsRequestEntry {
            time: Some(EpochMillis(0)),
            source: Some("abc".into()),
            detail_type: Some("de".into()),
            detail: Some("{}".into()),
            resources: Some(vec!["r1".into(), "r22".into()]),
            event_bus_name: Some("not counted".into()),
            ..Default::default()
        };
        assert_eq!(entry_size(&entry), 14 + 3 + 2 + 2 + 2 + 3);
    }

    #[test]
    fn entry_checks_follow_aws_order() {
        let mut e = PutEventsRequestEntry::default();
        assert_eq!(
            check_entry(&e).unwrap_err().1,
            "Parameter Source is not valid. Reason: Source is a required argument."
        );
        e.source = Some("s".into());
        assert!(
            check_entry(&e)
                .unwrap_err()
                .1
                .starts_with("Parameter DetailType")
        );
        e.detail_type = Some("t".into());
        assert!(
            check_entry(&e)
                .unwrap_err()
                .1
                .starts_with("Parameter Detail ")
        );
        for bad in ["NotJSON", "[]", "{{}", "\"NotJSON\""] {
            e.detail = Some(bad.into());
            assert_eq!(
                check_entry(&e).unwrap_err(),
                ("MalformedDetail", "Detail is malformed.")
            );
        }
        e.detail = Some("{\"a\":1}".into());
        assert_eq!(
            check_entry(&e).unwrap().get("a"),
            Some(&Node::Number(1.into()))
        );
    }

    #[test]
    fn java_date_format() {
        assert_eq!(java_date(1_704_164_645_000), "Tue Jan 02 03:04:05 UTC 2024");
    }
}
