"""ListRuleNamesByTarget: the rules of a bus that can invoke a target, in pages that boto3's
paginator and the AWS CLI follow."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import assert_error, bus_arn, lambda_arn, raw_call, uid

PATTERN = json.dumps({"source": ["conformance.names"]})


def rules_to(events, bus: str | None, target: str, count: int, prefix: str) -> list[str]:
    names = [f"{prefix}-{i:02}" for i in range(count)]
    kw = {"EventBusName": bus} if bus else {}
    for name in names:
        events.put_rule(Name=name, EventPattern=PATTERN, **kw)
        events.put_targets(Rule=name, Targets=[{"Id": "t", "Arn": target}], **kw)
    return names


def test_rules_of_a_target_on_a_custom_bus(events, bus):
    target, other = lambda_arn(uid("fn")), lambda_arn(uid("other"))
    names = rules_to(events, bus, target, 3, uid("r"))
    rules_to(events, bus, other, 1, uid("o"))
    # A rule with both targets counts for each.
    both = uid("both")
    events.put_rule(Name=both, EventBusName=bus, EventPattern=PATTERN)
    events.put_targets(Rule=both, EventBusName=bus, Targets=[{"Id": "a", "Arn": other}, {"Id": "b", "Arn": target}])

    resp = events.list_rule_names_by_target(TargetArn=target, EventBusName=bus)
    assert resp["RuleNames"] == sorted(names + [both])
    assert "NextToken" not in resp
    by_arn = events.list_rule_names_by_target(TargetArn=target, EventBusName=bus_arn(bus))
    assert by_arn["RuleNames"] == resp["RuleNames"]
    # Other buses are not searched.
    assert events.list_rule_names_by_target(TargetArn=target)["RuleNames"] == []
    # Removing the target removes the rule from the answer.
    events.remove_targets(Rule=both, EventBusName=bus, Ids=["b"])
    assert events.list_rule_names_by_target(TargetArn=target, EventBusName=bus)["RuleNames"] == sorted(names)
    assert events.list_rule_names_by_target(TargetArn=lambda_arn(uid("none")), EventBusName=bus)["RuleNames"] == []


def test_default_bus_and_boto3_paginator(events):
    target = lambda_arn(uid("fn"))
    names = rules_to(events, None, target, 7, uid("p"))
    pages = list(events.get_paginator("list_rule_names_by_target").paginate(
        TargetArn=target, PaginationConfig={"PageSize": 3}))
    assert [len(p["RuleNames"]) for p in pages] == [3, 3, 1]
    assert [n for p in pages for n in p["RuleNames"]] == names
    assert "NextToken" not in pages[-1]
    first = events.list_rule_names_by_target(TargetArn=target, Limit=5)
    rest = events.list_rule_names_by_target(TargetArn=target, Limit=5, NextToken=first["NextToken"])
    assert first["RuleNames"] + rest["RuleNames"] == names and "NextToken" not in rest
    for name in names:
        events.remove_targets(Rule=name, Ids=["t"])
        events.delete_rule(Name=name)


def test_aws_cli_follows_the_pages(events, aws_cli, bus):
    target = lambda_arn(uid("fn"))
    names = rules_to(events, bus, target, 5, uid("c"))
    out = aws_cli("list-rule-names-by-target", "--target-arn", target, "--event-bus-name", bus, "--page-size", "2")
    assert out["RuleNames"] == names


def test_errors(events, server, bus):
    missing = uid("missing")
    with pytest.raises(ClientError) as e:
        events.list_rule_names_by_target(TargetArn=lambda_arn("f"), EventBusName=missing)
    assert_error(e, "ResourceNotFoundException", f"Event bus {missing} does not exist.")
    r = raw_call(server.port, "AWSEvents.ListRuleNamesByTarget", {})
    assert r.status == 400
    assert r.json() == {"__type": "ValidationException",
                        "message": "1 validation error detected: Value null at 'targetArn' failed to satisfy "
                                   "constraint: Member must not be null"}
    with pytest.raises(ClientError) as e:
        events.list_rule_names_by_target(TargetArn=lambda_arn("f"), EventBusName=bus, Limit=101)
    assert_error(e, "ValidationException", "1 validation error detected: Value '101' at 'limit' failed to satisfy "
                                           "constraint: Member must have value less than or equal to 100")
    with pytest.raises(ClientError) as e:
        events.list_rule_names_by_target(TargetArn=lambda_arn("f"), EventBusName=bus, NextToken="garbage")
    assert_error(e, "ValidationException", "The NextToken provided is invalid.")
