"""PutTargets, RemoveTargets, ListTargetsByRule (boto3)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import assert_error, lambda_arn, uid


@pytest.fixture
def rule(events):
    bus = uid("tbus")
    events.create_event_bus(Name=bus)
    name = uid("trule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["x"]}))
    return bus, name


def targets_of(events, bus, rule):
    return {t["Id"]: t for t in events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]}


def test_put_list_remove(events, rule):
    bus, name = rule
    resp = events.put_targets(Rule=name, EventBusName=bus, Targets=[
        {"Id": "fn-1", "Arn": lambda_arn("one")},
        {"Id": "fn-2", "Arn": lambda_arn("two"), "Input": '{"fixed": true}'},
    ])
    assert resp["FailedEntryCount"] == 0
    assert resp["FailedEntries"] == []
    got = targets_of(events, bus, name)
    assert set(got) == {"fn-1", "fn-2"}
    assert got["fn-1"]["Arn"] == lambda_arn("one")
    assert got["fn-2"]["Arn"] == lambda_arn("two")
    assert json.loads(got["fn-2"]["Input"]) == {"fixed": True}
    assert "Input" not in got["fn-1"]

    resp = events.remove_targets(Rule=name, EventBusName=bus, Ids=["fn-1"])
    assert resp["FailedEntryCount"] == 0
    assert resp["FailedEntries"] == []
    assert set(targets_of(events, bus, name)) == {"fn-2"}
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["fn-2"])
    assert events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"] == []
    # With no targets left the rule can be deleted.
    events.delete_rule(Name=name, EventBusName=bus)


def test_put_targets_replaces_same_id(events, rule):
    bus, name = rule
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": lambda_arn("old")}])
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": lambda_arn("new")}])
    got = targets_of(events, bus, name)
    assert list(got) == ["t"]
    assert got["t"]["Arn"] == lambda_arn("new")


def test_targets_on_default_bus(events):
    name = uid("trule")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}))
    events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": lambda_arn("fn")}])
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name)["Targets"]] == ["t"]
    events.remove_targets(Rule=name, Ids=["t"])
    events.delete_rule(Name=name)


def test_targets_survive_disable(events, rule):
    bus, name = rule
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t", "Arn": lambda_arn("fn")}])
    events.disable_rule(Name=name, EventBusName=bus)
    assert list(targets_of(events, bus, name)) == ["t"]


def test_list_targets_pagination(events, rule):
    bus, name = rule
    ids = [f"t{i}" for i in range(5)]
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": i, "Arn": lambda_arn(i)} for i in ids])
    first = events.list_targets_by_rule(Rule=name, EventBusName=bus, Limit=2)
    assert len(first["Targets"]) == 2 and first.get("NextToken")
    collected = []
    for page in events.get_paginator("list_targets_by_rule").paginate(
            Rule=name, EventBusName=bus, PaginationConfig={"PageSize": 2}):
        collected += [t["Id"] for t in page["Targets"]]
    assert sorted(collected) == ids


@pytest.mark.parametrize("op", ["put_targets", "list_targets_by_rule", "remove_targets"])
def test_missing_rule(events, op):
    bus = uid("tbus")
    events.create_event_bus(Name=bus)
    name = uid("norule")
    kwargs = {"Rule": name, "EventBusName": bus}
    if op == "put_targets":
        kwargs["Targets"] = [{"Id": "t", "Arn": lambda_arn("fn")}]
    elif op == "remove_targets":
        kwargs["Ids"] = ["t"]
    with pytest.raises(ClientError) as e:
        getattr(events, op)(**kwargs)
    msg = assert_error(e, "ResourceNotFoundException")
    assert name in msg


def test_target_id_too_long(events, rule):
    bus, name = rule
    tid = "t" * 65
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": tid, "Arn": lambda_arn("fn")}])
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{tid}' at 'targets.1.member.id' failed to satisfy constraint: "
                 "Member must have length less than or equal to 64")


def test_second_target_id_invalid_uses_one_based_index(events, rule):
    bus, name = rule
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=name, EventBusName=bus, Targets=[
            {"Id": "ok", "Arn": lambda_arn("fn")}, {"Id": "bad id!", "Arn": lambda_arn("fn")}])
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'bad id!' at 'targets.2.member.id' failed to satisfy constraint: "
                 r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")
    assert targets_of(events, bus, name) == {}
