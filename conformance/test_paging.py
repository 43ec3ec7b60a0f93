"""Limit and NextToken on every List operation that has them: pages add up to the whole list,
a token that the server did not issue is refused with AWS's answer, and a token of one
operation is refused by another."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import archive_arn, assert_error, bus_arn, lambda_arn, uid

INVALID = "The NextToken provided is invalid."


@pytest.fixture
def world(events):
    """Three of everything that can be listed (and paged) under one name prefix."""
    prefix = uid("pg")
    bus = f"{prefix}-bus"
    events.create_event_bus(Name=bus)
    for i in range(2):
        events.create_event_bus(Name=f"{prefix}-bus{i}")
    target = lambda_arn(uid("fn"))
    for i in range(3):
        name = f"{prefix}-rule{i}"
        events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["x"]}))
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": f"t{j}", "Arn": target} for j in range(3)])
        events.create_archive(ArchiveName=f"{prefix}-arch{i}", EventSourceArn=bus_arn(bus))
        conn = events.create_connection(
            Name=f"{prefix}-conn{i}", AuthorizationType="API_KEY",
            AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})["ConnectionArn"]
        events.create_api_destination(Name=f"{prefix}-dest{i}", ConnectionArn=conn,
                                      InvocationEndpoint="https://example.com/x", HttpMethod="POST")
        end = datetime.now(timezone.utc) - timedelta(minutes=1)
        events.start_replay(ReplayName=f"{prefix}-rep{i}", EventSourceArn=archive_arn(f"{prefix}-arch{i}"),
                            EventStartTime=end - timedelta(minutes=5), EventEndTime=end,
                            Destination={"Arn": bus_arn(bus)})
    return {"prefix": prefix, "bus": bus, "target": target}


def calls(events, world) -> dict:
    """Per operation: a function of paging arguments, and the result key."""
    p, bus = world["prefix"], world["bus"]
    return {
        "ListEventBuses": (lambda **kw: events.list_event_buses(NamePrefix=p, **kw), "EventBuses"),
        "ListRules": (lambda **kw: events.list_rules(NamePrefix=f"{p}-rule", EventBusName=bus, **kw), "Rules"),
        "ListTargetsByRule": (lambda **kw: events.list_targets_by_rule(Rule=f"{p}-rule0", EventBusName=bus, **kw),
                              "Targets"),
        "ListRuleNamesByTarget": (lambda **kw: events.list_rule_names_by_target(
            TargetArn=world["target"], EventBusName=bus, **kw), "RuleNames"),
        "ListArchives": (lambda **kw: events.list_archives(NamePrefix=f"{p}-arch", **kw), "Archives"),
        "ListConnections": (lambda **kw: events.list_connections(NamePrefix=f"{p}-conn", **kw), "Connections"),
        "ListApiDestinations": (lambda **kw: events.list_api_destinations(NamePrefix=f"{p}-dest", **kw),
                                "ApiDestinations"),
        "ListReplays": (lambda **kw: events.list_replays(NamePrefix=f"{p}-rep", **kw), "Replays"),
    }


def test_pages_add_up_and_tokens_stay_with_their_operation(events, world):
    ops = calls(events, world)
    tokens = {}
    for op, (call, key) in ops.items():
        whole = call()[key]
        assert len(whole) == 3, (op, whole)
        first = call(Limit=2)
        assert len(first[key]) == 2 and first.get("NextToken"), op
        rest = call(Limit=2, NextToken=first["NextToken"])
        assert first[key] + rest[key] == whole, op
        assert "NextToken" not in rest, op
        tokens[op] = first["NextToken"]
    for op, (call, _) in ops.items():
        for issuer, token in tokens.items():
            if issuer == op:
                continue
            with pytest.raises(ClientError) as e:
                call(Limit=2, NextToken=token)
            assert_error(e, "ValidationException", INVALID)


@pytest.mark.parametrize("call", [
    lambda ev: ev.list_event_buses(NextToken="garbage"),
    lambda ev: ev.list_rules(NextToken="garbage"),
    lambda ev: ev.list_archives(NextToken="garbage"),
    lambda ev: ev.list_replays(NextToken="garbage"),
    lambda ev: ev.list_connections(NextToken="garbage"),
    lambda ev: ev.list_api_destinations(NextToken="garbage"),
    lambda ev: ev.list_rule_names_by_target(TargetArn=lambda_arn("f"), NextToken="garbage"),
])
def test_a_token_the_server_did_not_issue_is_refused(events, call):
    with pytest.raises(ClientError) as e:
        call(events)
    assert_error(e, "ValidationException", INVALID)
