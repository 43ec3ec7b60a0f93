//! Partner event sources. The partner's side: CreatePartnerEventSource,
//! DescribePartnerEventSource, ListPartnerEventSources, ListPartnerEventSourceAccounts,
//! DeletePartnerEventSource and PutPartnerEvents; any account may act as the partner. The
//! customer's side: ListEventSources, DescribeEventSource, ActivateEventSource and
//! DeactivateEventSource (CreateEventBus with `EventSourceName` is in `buses.rs`).

use serde::{Deserialize, Serialize};

use super::events::{
    PutEventsRequestEntry, check_entry, check_resources, entry_envelope, entry_size,
    over_size_limit,
};
use super::{Empty, paginate};
use crate::app::App;
use crate::catalog::RuleFilter;
use crate::error::ApiError;
use crate::model::Scope;
use crate::model::event::Event;
use crate::model::event_source::EventSourceView;
use crate::model::time::{Epoch, now_ms};
use crate::ops::constraints::{
    ACCOUNT_ID, EVENT_SOURCE_NAME, EVENT_SOURCE_NAME_PREFIX, LIMIT_MAX100, NEXT_TOKEN,
    PARTNER_EVENT_SOURCE_NAME_PREFIX, PUT_PARTNER_EVENTS_REQUEST_ENTRY_LIST,
};
use crate::validate::Validator;

fn check_name(v: &mut Validator, name: &Option<String>, path: &str) {
    v.required(name, path);
    v.string(name.as_deref(), path, &EVENT_SOURCE_NAME);
}

fn check_account(v: &mut Validator, account: &Option<String>) {
    v.required(account, "account");
    v.string(account.as_deref(), "account", &ACCOUNT_ID);
}

fn check_paging(v: &mut Validator, next_token: Option<&str>, limit: Option<i64>) {
    v.string(next_token, "nextToken", &NEXT_TOKEN);
    v.integer(limit, "limit", &LIMIT_MAX100);
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePartnerEventSourceRequest {
    name: Option<String>,
    account: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatePartnerEventSourceResponse {
    event_source_arn: String,
}

pub async fn create_partner_event_source(
    app: &App,
    scope: &Scope,
    req: CreatePartnerEventSourceRequest,
) -> Result<CreatePartnerEventSourceResponse, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.name, "name");
    check_account(&mut v, &req.account);
    v.finish()?;
    let source = app.catalog.create_partner_source(
        scope,
        req.name.as_deref().unwrap_or_default(),
        req.account.as_deref().unwrap_or_default(),
        now_ms(),
    )?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(CreatePartnerEventSourceResponse {
        event_source_arn: source.arn(),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NameRequest {
    name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartnerEventSourceItem {
    arn: String,
    name: String,
}

impl From<EventSourceView> for PartnerEventSourceItem {
    fn from(v: EventSourceView) -> Self {
        PartnerEventSourceItem {
            arn: v.source.arn(),
            name: v.source.name,
        }
    }
}

pub async fn describe_partner_event_source(
    app: &App,
    scope: &Scope,
    req: NameRequest,
) -> Result<PartnerEventSourceItem, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.name, "name");
    v.finish()?;
    let found = app
        .catalog
        .partner_source(scope, req.name.as_deref().unwrap_or_default())?;
    Ok(found.into())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartnerEventSourcesRequest {
    name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartnerEventSourcesResponse {
    partner_event_sources: Vec<PartnerEventSourceItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_partner_event_sources(
    app: &App,
    scope: &Scope,
    req: ListPartnerEventSourcesRequest,
) -> Result<ListPartnerEventSourcesResponse, ApiError> {
    let mut v = Validator::new();
    v.required(&req.name_prefix, "namePrefix");
    v.string(
        req.name_prefix.as_deref(),
        "namePrefix",
        &PARTNER_EVENT_SOURCE_NAME_PREFIX,
    );
    check_paging(&mut v, req.next_token.as_deref(), req.limit);
    v.finish()?;
    let sources = app
        .catalog
        .partner_sources(scope, req.name_prefix.as_deref().unwrap_or_default());
    let (page, next_token) = paginate(
        "ListPartnerEventSources",
        sources,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListPartnerEventSourcesResponse {
        partner_event_sources: page.into_iter().map(Into::into).collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartnerEventSourceAccountsRequest {
    event_source_name: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PartnerEventSourceAccount {
    account: String,
    creation_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_time: Option<Epoch>,
    state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListPartnerEventSourceAccountsResponse {
    partner_event_source_accounts: Vec<PartnerEventSourceAccount>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_partner_event_source_accounts(
    app: &App,
    scope: &Scope,
    req: ListPartnerEventSourceAccountsRequest,
) -> Result<ListPartnerEventSourceAccountsResponse, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.event_source_name, "eventSourceName");
    check_paging(&mut v, req.next_token.as_deref(), req.limit);
    v.finish()?;
    // A source name has one account (AWS: "Each partner event source can be used by one AWS
    // account"), so the list has one item.
    let found = app
        .catalog
        .partner_source(scope, req.event_source_name.as_deref().unwrap_or_default())?;
    let (page, next_token) = paginate(
        "ListPartnerEventSourceAccounts",
        vec![found],
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListPartnerEventSourceAccountsResponse {
        partner_event_source_accounts: page
            .into_iter()
            .map(|v| PartnerEventSourceAccount {
                expiration_time: v.expiration_time_ms().map(Epoch),
                state: v.state.as_str(),
                creation_time: Epoch(v.source.creation_time_ms),
                account: v.source.scope.account,
            })
            .collect(),
        next_token,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DeletePartnerEventSourceRequest {
    name: Option<String>,
    account: Option<String>,
}

pub async fn delete_partner_event_source(
    app: &App,
    scope: &Scope,
    req: DeletePartnerEventSourceRequest,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.name, "name");
    check_account(&mut v, &req.account);
    v.finish()?;
    app.catalog.delete_partner_source(
        scope,
        req.name.as_deref().unwrap_or_default(),
        req.account.as_deref().unwrap_or_default(),
    )?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

/// `EventSource`, as ListEventSources and DescribeEventSource answer it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventSourceItem {
    arn: String,
    created_by: String,
    creation_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    expiration_time: Option<Epoch>,
    name: String,
    state: &'static str,
}

impl From<EventSourceView> for EventSourceItem {
    fn from(v: EventSourceView) -> Self {
        EventSourceItem {
            arn: v.source.arn(),
            created_by: v.source.created_by(),
            creation_time: Epoch(v.source.creation_time_ms),
            expiration_time: v.expiration_time_ms().map(Epoch),
            state: v.state.as_str(),
            name: v.source.name,
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventSourcesRequest {
    name_prefix: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListEventSourcesResponse {
    event_sources: Vec<EventSourceItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_event_sources(
    app: &App,
    scope: &Scope,
    req: ListEventSourcesRequest,
) -> Result<ListEventSourcesResponse, ApiError> {
    let mut v = Validator::new();
    v.string(
        req.name_prefix.as_deref(),
        "namePrefix",
        &EVENT_SOURCE_NAME_PREFIX,
    );
    check_paging(&mut v, req.next_token.as_deref(), req.limit);
    v.finish()?;
    let sources = app.catalog.event_sources(scope, req.name_prefix.as_deref());
    let (page, next_token) = paginate(
        "ListEventSources",
        sources,
        req.next_token.as_deref(),
        req.limit,
    )?;
    Ok(ListEventSourcesResponse {
        event_sources: page.into_iter().map(Into::into).collect(),
        next_token,
    })
}

pub async fn describe_event_source(
    app: &App,
    scope: &Scope,
    req: NameRequest,
) -> Result<EventSourceItem, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.name, "name");
    v.finish()?;
    let found = app
        .catalog
        .event_source(scope, req.name.as_deref().unwrap_or_default())?;
    Ok(found.into())
}

async fn set_active(
    app: &App,
    scope: &Scope,
    req: NameRequest,
    active: bool,
) -> Result<Empty, ApiError> {
    let mut v = Validator::new();
    check_name(&mut v, &req.name, "name");
    v.finish()?;
    app.catalog
        .set_event_source_active(scope, req.name.as_deref().unwrap_or_default(), active)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    Ok(Empty {})
}

pub async fn activate_event_source(
    app: &App,
    scope: &Scope,
    req: NameRequest,
) -> Result<Empty, ApiError> {
    set_active(app, scope, req, true).await
}

pub async fn deactivate_event_source(
    app: &App,
    scope: &Scope,
    req: NameRequest,
) -> Result<Empty, ApiError> {
    set_active(app, scope, req, false).await
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutPartnerEventsRequest {
    entries: Option<Vec<PutEventsRequestEntry>>,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "PascalCase")]
pub struct PutPartnerEventsResultEntry {
    #[serde(skip_serializing_if = "Option::is_none")]
    event_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_message: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PutPartnerEventsResponse {
    failed_entry_count: usize,
    entries: Vec<PutPartnerEventsResultEntry>,
}

/// PutPartnerEvents: each entry goes to the partner bus of the account its `Source` was made
/// for, checked as PutEvents checks its entries. An entry whose source the caller did not make
/// fails alone (`InvalidArgument`); one whose source is PENDING (no bus, or deactivated) is
/// accepted and reaches no bus. (AWS's answers to both are not recorded.)
pub async fn put_partner_events(
    app: &App,
    scope: &Scope,
    req: PutPartnerEventsRequest,
) -> Result<PutPartnerEventsResponse, ApiError> {
    let _live = app.router.live_traffic();
    let mut v = Validator::new();
    let has_entries = v.required(&req.entries, "entries");
    let entries = req.entries.unwrap_or_default();
    if has_entries {
        v.list(
            entries.len(),
            "entries",
            &PUT_PARTNER_EVENTS_REQUEST_ENTRY_LIST,
        );
    }
    for (i, entry) in entries.iter().enumerate() {
        let path = |m: &str| format!("entries.{}.member.{m}", i + 1);
        v.string_at(
            entry.source.as_deref(),
            || path("source"),
            &EVENT_SOURCE_NAME,
            false,
        );
        check_resources(&mut v, entry, &path("resources"));
    }
    v.finish()?;
    if entries.iter().map(entry_size).sum::<usize>() > app.config.max_put_events_bytes {
        return Err(over_size_limit());
    }

    // Entries without `Time` get the server's clock (virtual under `--clock manual`).
    let now = app.clock.now_ms();
    let mut results = Vec::with_capacity(entries.len());
    let mut events = Vec::with_capacity(entries.len());
    let mut failed = 0;
    for entry in entries {
        let checked = check_entry(&entry)
            .map_err(|(code, message)| (code, message.to_string()))
            .and_then(|detail| {
                let source = entry.source.as_deref().unwrap_or_default();
                app.catalog
                    .partner_event_destination(scope, source)
                    .map(|customer| (detail, customer))
                    .map_err(|message| ("InvalidArgument", message))
            });
        let (detail, customer) = match checked {
            Ok(found) => found,
            Err((code, message)) => {
                failed += 1;
                results.push(PutPartnerEventsResultEntry {
                    error_code: Some(code),
                    error_message: Some(message),
                    ..Default::default()
                });
                continue;
            }
        };
        let id = uuid::Uuid::new_v4().to_string();
        if let Some(customer) = customer {
            // The partner bus is named after the event source.
            let bus = entry.source.clone().unwrap_or_default();
            let (time_ms, doc) = entry_envelope(
                &entry,
                &id,
                detail,
                &customer.account,
                &customer.region,
                now,
            );
            events.push(Event::from_doc(customer, bus, time_ms, &doc, 0));
        }
        results.push(PutPartnerEventsResultEntry {
            event_id: Some(id),
            ..Default::default()
        });
    }
    app.router.ingest(&events, RuleFilter::All).await?;
    Ok(PutPartnerEventsResponse {
        failed_entry_count: failed,
        entries: results,
    })
}
