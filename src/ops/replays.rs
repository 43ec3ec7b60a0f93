//! StartReplay, DescribeReplay, ListReplays, CancelReplay. The replay itself runs in
//! [`crate::replay`].

use serde::{Deserialize, Serialize};

use super::paginate;
use crate::app::App;
use crate::error::{ApiError, ErrorCode};
use crate::model::time::{Epoch, EpochMillis};
use crate::model::{Replay, ReplayState, Scope, arn};
use crate::ops::constraints::{
    ARCHIVE_ARN, ARN, LIMIT_MAX100, NEXT_TOKEN, REPLAY_DESCRIPTION, REPLAY_NAME,
};
use crate::validate::Validator;

/// AWS allows ten replays in progress per account and region.
pub const MAX_ACTIVE_REPLAYS: usize = 10;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplayDestination {
    arn: Option<String>,
    filter_arns: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartReplayRequest {
    replay_name: Option<String>,
    description: Option<String>,
    event_source_arn: Option<String>,
    event_start_time: Option<EpochMillis>,
    event_end_time: Option<EpochMillis>,
    destination: Option<ReplayDestination>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StartReplayResponse {
    replay_arn: String,
    state: &'static str,
    replay_start_time: Epoch,
}

fn check_replay_name(v: &mut Validator, name: &Option<String>) {
    v.required(name, "replayName");
    v.string(name.as_deref(), "replayName", &REPLAY_NAME);
}

pub async fn start_replay(
    app: &App,
    scope: &Scope,
    req: StartReplayRequest,
) -> Result<StartReplayResponse, ApiError> {
    let mut v = Validator::new();
    check_replay_name(&mut v, &req.replay_name);
    v.string(
        req.description.as_deref(),
        "description",
        &REPLAY_DESCRIPTION,
    );
    v.required(&req.event_source_arn, "eventSourceArn");
    v.string(
        req.event_source_arn.as_deref(),
        "eventSourceArn",
        &ARCHIVE_ARN,
    );
    v.required(&req.event_start_time, "eventStartTime");
    v.required(&req.event_end_time, "eventEndTime");
    if v.required(&req.destination, "destination") {
        let destination = req.destination.as_ref().expect("checked");
        v.required(&destination.arn, "destination.arn");
        v.string(destination.arn.as_deref(), "destination.arn", &ARN);
        for (i, filter) in destination.filter_arns.iter().flatten().enumerate() {
            v.string(
                Some(filter),
                &format!("destination.filterArns.{}.member", i + 1),
                &ARN,
            );
        }
    }
    v.finish()?;
    let source_arn = req.event_source_arn.unwrap_or_default();
    let destination = req.destination.expect("validated");
    let destination_arn = destination.arn.unwrap_or_default();
    let start = req.event_start_time.expect("validated").0;
    let end = req.event_end_time.expect("validated").0;

    let archive_name = arn::parse_archive(&source_arn)
        .filter(|(s, _)| s == scope)
        .map(|(_, name)| name)
        .unwrap_or_else(|| {
            source_arn
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_string()
        });
    let archive = app.catalog.archive(scope, &archive_name).ok_or_else(|| {
        ApiError::validation(format!(
            "Parameter EventSourceArn is not valid. Reason: Archive {archive_name} does not exist."
        ))
    })?;
    if start >= end {
        return Err(ApiError::validation(
            "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.",
        ));
    }
    // A window that ends in the future is accepted, as on AWS: the replay replays what the
    // archive holds when its walk gets there and completes (AWS's docs do not say that it
    // waits for the rest of the window; it was seen reaching COMPLETED).
    let now = app.clock.now_ms();
    let cross_bus = || {
        ApiError::validation(
            "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.",
        )
    };
    let (bus_scope, bus_name) = arn::parse_event_bus(&destination_arn).ok_or_else(cross_bus)?;
    // A destination bus that does not exist is reported before the cross-bus rule (AWS).
    app.catalog.bus(&bus_scope, &bus_name)?;
    if destination_arn != archive.archive.event_source_arn {
        return Err(cross_bus());
    }
    let filter_arns = destination.filter_arns.filter(|f| !f.is_empty());
    if let Some(filters) = &filter_arns {
        let rules = app.catalog.rules(&bus_scope, &bus_name, None)?;
        for filter in filters {
            if !rules
                .iter()
                .any(|r| r.archive.is_none() && r.arn() == *filter)
            {
                // Unknown to the reference: AWS's text for a filter that is not a rule of the
                // bus. This names the rule and the bus, like its other rule errors.
                return Err(ApiError::validation(format!(
                    "Parameter Destination.FilterArns is not valid. Reason: {filter} is not a rule on EventBus {bus_name}."
                )));
            }
        }
    }
    let replay = Replay {
        scope: scope.clone(),
        name: req.replay_name.unwrap_or_default(),
        description: req.description,
        event_source_arn: archive.archive.arn(),
        destination_arn,
        filter_arns,
        event_start_ms: start,
        event_end_ms: end,
        event_last_replayed_ms: None,
        state: ReplayState::Starting,
        state_reason: None,
        replay_start_ms: now,
        replay_end_ms: None,
    };
    app.catalog
        .create_replay(replay.clone(), MAX_ACTIVE_REPLAYS)?;
    app.store.flush().await.map_err(ApiError::storage)?;
    app.replays.start(scope.clone(), replay.name.clone());
    Ok(StartReplayResponse {
        replay_arn: replay.arn(),
        state: replay.state.as_str(),
        replay_start_time: Epoch(replay.replay_start_ms),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplayNameRequest {
    replay_name: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DestinationOut {
    arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    filter_arns: Option<Vec<String>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct DescribeReplayResponse {
    replay_name: String,
    replay_arn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    event_source_arn: String,
    destination: DestinationOut,
    event_start_time: Epoch,
    event_end_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_last_replayed_time: Option<Epoch>,
    replay_start_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_end_time: Option<Epoch>,
}

pub async fn describe_replay(
    app: &App,
    scope: &Scope,
    req: ReplayNameRequest,
) -> Result<DescribeReplayResponse, ApiError> {
    let mut v = Validator::new();
    check_replay_name(&mut v, &req.replay_name);
    v.finish()?;
    let r = app
        .catalog
        .replay(scope, &req.replay_name.unwrap_or_default())?;
    Ok(DescribeReplayResponse {
        replay_arn: r.arn(),
        replay_name: r.name,
        description: r.description,
        state: r.state.as_str(),
        state_reason: r.state_reason,
        event_source_arn: r.event_source_arn,
        destination: DestinationOut {
            arn: r.destination_arn,
            filter_arns: r.filter_arns,
        },
        event_start_time: Epoch(r.event_start_ms),
        event_end_time: Epoch(r.event_end_ms),
        event_last_replayed_time: r.event_last_replayed_ms.map(Epoch),
        replay_start_time: Epoch(r.replay_start_ms),
        replay_end_time: r.replay_end_ms.map(Epoch),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListReplaysRequest {
    name_prefix: Option<String>,
    state: Option<String>,
    event_source_arn: Option<String>,
    next_token: Option<String>,
    limit: Option<i64>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ReplayItem {
    replay_name: String,
    event_source_arn: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
    event_start_time: Epoch,
    event_end_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    event_last_replayed_time: Option<Epoch>,
    replay_start_time: Epoch,
    #[serde(skip_serializing_if = "Option::is_none")]
    replay_end_time: Option<Epoch>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ListReplaysResponse {
    replays: Vec<ReplayItem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_token: Option<String>,
}

pub async fn list_replays(
    app: &App,
    scope: &Scope,
    req: ListReplaysRequest,
) -> Result<ListReplaysResponse, ApiError> {
    let mut v = Validator::new();
    v.string(req.name_prefix.as_deref(), "namePrefix", &REPLAY_NAME);
    v.one_of(req.state.as_deref(), "state", &ReplayState::VALUES);
    v.string(
        req.event_source_arn.as_deref(),
        "eventSourceArn",
        &ARCHIVE_ARN,
    );
    v.string(req.next_token.as_deref(), "nextToken", &NEXT_TOKEN);
    v.integer(req.limit, "limit", &LIMIT_MAX100);
    v.finish()?;
    let replays: Vec<Replay> = app
        .catalog
        .replays(scope)
        .into_iter()
        .filter(|r| {
            req.name_prefix
                .as_deref()
                .is_none_or(|p| r.name.starts_with(p))
                && req.state.as_deref().is_none_or(|s| r.state.as_str() == s)
                && req
                    .event_source_arn
                    .as_deref()
                    .is_none_or(|a| r.event_source_arn == a)
        })
        .collect();
    let (page, next_token) =
        paginate("ListReplays", replays, req.next_token.as_deref(), req.limit)?;
    Ok(ListReplaysResponse {
        replays: page
            .into_iter()
            .map(|r| ReplayItem {
                replay_name: r.name,
                event_source_arn: r.event_source_arn,
                state: r.state.as_str(),
                state_reason: r.state_reason,
                event_start_time: Epoch(r.event_start_ms),
                event_end_time: Epoch(r.event_end_ms),
                event_last_replayed_time: r.event_last_replayed_ms.map(Epoch),
                replay_start_time: Epoch(r.replay_start_ms),
                replay_end_time: r.replay_end_ms.map(Epoch),
            })
            .collect(),
        next_token,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct CancelReplayResponse {
    replay_arn: String,
    state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    state_reason: Option<String>,
}

pub async fn cancel_replay(
    app: &App,
    scope: &Scope,
    req: ReplayNameRequest,
) -> Result<CancelReplayResponse, ApiError> {
    let mut v = Validator::new();
    check_replay_name(&mut v, &req.replay_name);
    v.finish()?;
    let name = req.replay_name.unwrap_or_default();
    let replay = app.catalog.update_replay(scope, &name, |r| {
        if !matches!(r.state, ReplayState::Starting | ReplayState::Running) {
            return Err(ApiError::new(
                ErrorCode::IllegalStatus,
                format!("Replay {name} is not in a valid state for this operation."),
            ));
        }
        r.state = ReplayState::Cancelling;
        Ok(())
    })?;
    app.store.flush().await.map_err(ApiError::storage)?;
    app.replays.cancel(scope, &name);
    Ok(CancelReplayResponse {
        replay_arn: replay.arn(),
        state: replay.state.as_str(),
        state_reason: replay.state_reason,
    })
}
