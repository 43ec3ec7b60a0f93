"""PutRule, DescribeRule, ListRules, DeleteRule, EnableRule, DisableRule (boto3)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import assert_error, lambda_arn, rule_arn, uid

PATTERN = {"source": ["com.shop"], "detail-type": ["Order Placed"]}


def test_put_rule_default_bus(events):
    name = uid("rule")
    arn = events.put_rule(Name=name, EventPattern=json.dumps(PATTERN), Description="orders")["RuleArn"]
    assert arn == rule_arn(name)
    d = events.describe_rule(Name=name)
    assert d["Name"] == name
    assert d["Arn"] == arn
    assert json.loads(d["EventPattern"]) == PATTERN
    assert d["State"] == "ENABLED"
    assert d["Description"] == "orders"
    assert d["EventBusName"] == "default"
    assert d["CreatedBy"] == "000000000000"
    assert "ManagedBy" not in d


def test_put_rule_custom_bus(events, bus):
    name = uid("rule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))["RuleArn"]
    assert arn == rule_arn(name, bus)
    d = events.describe_rule(Name=name, EventBusName=bus)
    assert d["Arn"] == arn
    assert d["EventBusName"] == bus
    # The bus can also be named by its ARN.
    assert events.describe_rule(Name=name, EventBusName=f"arn:aws:events:us-east-1:000000000000:event-bus/{bus}")["Arn"] == arn
    # It is not on the default bus.
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")


def test_put_rule_disabled_state(events, bus):
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN), State="DISABLED")
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "DISABLED"


def test_put_rule_updates_in_place(events, bus):
    name = uid("rule")
    arn1 = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN), Description="v1")["RuleArn"]
    new_pattern = {"source": ["com.shop"], "detail": {"total": [{"numeric": [">", 100]}]}}
    arn2 = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(new_pattern), Description="v2")["RuleArn"]
    assert arn1 == arn2
    d = events.describe_rule(Name=name, EventBusName=bus)
    assert json.loads(d["EventPattern"]) == new_pattern
    assert d["Description"] == "v2"
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [name]


def test_put_rule_keeps_targets_on_update(events, bus):
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t1", "Arn": lambda_arn("fn")}])
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["other"]}))
    assert [t["Id"] for t in events.list_targets_by_rule(Rule=name, EventBusName=bus)["Targets"]] == ["t1"]


def test_same_rule_name_on_two_buses(events, bus):
    name = uid("rule")
    a = events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))["RuleArn"]
    b = events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}))["RuleArn"]
    assert a != b
    events.delete_rule(Name=name)
    assert events.describe_rule(Name=name, EventBusName=bus)["Arn"] == a


def test_list_rules(events, bus):
    names = sorted(uid("lr") for _ in range(3))
    for n in names:
        events.put_rule(Name=n, EventBusName=bus, EventPattern=json.dumps(PATTERN), Description=f"d-{n}")
    rules = events.list_rules(EventBusName=bus)["Rules"]
    assert sorted(r["Name"] for r in rules) == names
    for r in rules:
        assert r["Arn"] == rule_arn(r["Name"], bus)
        assert r["State"] == "ENABLED"
        assert r["EventBusName"] == bus
        assert json.loads(r["EventPattern"]) == PATTERN
        assert r["Description"] == f"d-{r['Name']}"
    # Rules of another bus are not listed.
    assert not set(names) & {r["Name"] for r in events.list_rules()["Rules"]}


def test_list_rules_name_prefix(events, bus):
    prefix = uid("np")
    for n in (f"{prefix}-1", f"{prefix}-2", "zz-other"):
        events.put_rule(Name=n, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    got = events.list_rules(EventBusName=bus, NamePrefix=prefix)["Rules"]
    assert sorted(r["Name"] for r in got) == [f"{prefix}-1", f"{prefix}-2"]


def test_list_rules_pagination(events, bus):
    names = sorted(f"page-{i:02d}" for i in range(5))
    for n in names:
        events.put_rule(Name=n, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    first = events.list_rules(EventBusName=bus, Limit=2)
    assert len(first["Rules"]) == 2
    assert first.get("NextToken")
    collected = []
    for page in events.get_paginator("list_rules").paginate(EventBusName=bus, PaginationConfig={"PageSize": 2}):
        assert len(page["Rules"]) <= 2
        collected += [r["Name"] for r in page["Rules"]]
    assert sorted(collected) == names
    assert len(collected) == len(set(collected))
    last = events.list_rules(EventBusName=bus, Limit=100)
    assert "NextToken" not in last


def test_list_rules_missing_bus(events):
    name = uid("nobus")
    with pytest.raises(ClientError) as e:
        events.list_rules(EventBusName=name)
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")


def test_enable_disable(events, bus):
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    events.disable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "DISABLED"
    assert [r["State"] for r in events.list_rules(EventBusName=bus)["Rules"]] == ["DISABLED"]
    events.enable_rule(Name=name, EventBusName=bus)
    assert events.describe_rule(Name=name, EventBusName=bus)["State"] == "ENABLED"


@pytest.mark.parametrize("op", ["enable_rule", "disable_rule", "describe_rule"])
def test_missing_rule(events, bus, op):
    name = uid("nope")
    with pytest.raises(ClientError) as e:
        getattr(events, op)(Name=name, EventBusName=bus)
    assert_error(e, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")


def test_describe_missing_rule_default_bus(events):
    name = uid("nope")
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus default.")
    assert isinstance(e.value, events.exceptions.ResourceNotFoundException)


def test_delete_rule(events, bus):
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    events.delete_rule(Name=name, EventBusName=bus)
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=name, EventBusName=bus)
    assert_error(e, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")
    assert events.list_rules(EventBusName=bus)["Rules"] == []


def test_delete_rule_with_targets(events, bus):
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(PATTERN))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "t1", "Arn": lambda_arn("fn")}])
    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=name, EventBusName=bus)
    assert_error(e, "ValidationException", "Rule can't be deleted since it has targets.")
    assert events.describe_rule(Name=name, EventBusName=bus)["Name"] == name
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["t1"])
    events.delete_rule(Name=name, EventBusName=bus)


def test_put_rule_missing_bus(events):
    bus = uid("nobus")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="r", EventBusName=bus, EventPattern=json.dumps(PATTERN))
    assert_error(e, "ResourceNotFoundException", f"Event bus {bus} does not exist.")


@pytest.mark.parametrize("pattern", [
    '{"source": "com.shop"}',          # a leaf must be an array
    '{"source": []}',                  # empty arrays are not allowed
    '{"source": [{"prefix": 5}]}',     # prefix must be a string
    '{"detail": {"n": [{"numeric": ["~", 1]}]}}',
    '{"source": ["a"]',                # not JSON
    '"just a string"',                 # not an object
])
def test_invalid_event_pattern(events, bus, pattern):
    name = uid("badpat")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern)
    msg = assert_error(e, "InvalidEventPatternException")
    assert msg.startswith("Event pattern is not valid. Reason: "), msg
    assert isinstance(e.value, events.exceptions.InvalidEventPatternException)
    with pytest.raises(ClientError):
        events.describe_rule(Name=name, EventBusName=bus)


def test_rule_name_too_long(events):
    name = "r" * 65
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=name, EventPattern=json.dumps(PATTERN))
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                 "Member must have length less than or equal to 64")


def test_rule_name_max_length_ok(events):
    name = "r" * 54 + uid("")[-10:]
    assert len(name) == 64
    assert events.put_rule(Name=name, EventPattern=json.dumps(PATTERN))["RuleArn"] == rule_arn(name)
    events.delete_rule(Name=name)


def test_rule_name_pattern(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="bad name!", EventPattern=json.dumps(PATTERN))
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: "
                 r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")


def test_rule_name_with_slash_rejected(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name="a/b", EventPattern=json.dumps(PATTERN))
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'a/b' at 'name' failed to satisfy constraint: "
                 r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")


def test_invalid_state_enum(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("r"), EventPattern=json.dumps(PATTERN), State="SLEEPING")
    msg = assert_error(e, "ValidationException")
    assert "at 'state' failed to satisfy constraint: Member must satisfy enum value set: [" in msg, msg
