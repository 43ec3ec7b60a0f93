"""Issue 4: what a target receives with Input, InputPath and InputTransformer, through boto3,
compared to the outputs the AWS user guide documents for its EC2 example event."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import assert_error, lambda_arn, uid, wait_for

DETAIL = {"instance-id": "i-0123456789", "state": "RUNNING"}


def deliver_one(events, lambda_mock, target_extra: dict) -> tuple[bytes, str, str]:
    """A rule with one Lambda target configured by `target_extra`; one EC2-like event put.
    Returns (raw payload, rule name, event id)."""
    function, rule, source = uid("fn"), uid("rule"), uid("aws.ec2")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": lambda_arn(function), **target_extra}])
    out = events.put_events(Entries=[{"Source": source, "DetailType": "EC2 Instance State-change Notification",
                                      "Detail": json.dumps(DETAIL), "Resources": ["arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789"]}])
    event_id = out["Entries"][0]["EventId"]
    invocation = wait_for(lambda: lambda_mock.invocations(function), timeout=10)[0]
    return invocation.body, rule, event_id


def test_constant_input_is_sent_as_is(events, lambda_mock):
    body, _, _ = deliver_one(events, lambda_mock, {"Input": '{"fixed": [1, 2]}'})
    assert body == b'{"fixed": [1, 2]}'


def test_input_path_sends_that_part_of_the_event(events, lambda_mock):
    body, _, _ = deliver_one(events, lambda_mock, {"InputPath": "$.detail"})
    assert json.loads(body) == DETAIL


def test_string_template_like_the_docs(events, lambda_mock):
    body, _, _ = deliver_one(events, lambda_mock, {"InputTransformer": {
        "InputPathsMap": {"instance": "$.detail.instance-id", "state": "$.detail.state"},
        "InputTemplate": '"<instance> is in state <state>"'}})
    assert body == b'"i-0123456789 is in state RUNNING"'


def test_json_template_with_placeholders_in_and_out_of_quotes(events, lambda_mock):
    body, rule, _ = deliver_one(events, lambda_mock, {"InputTransformer": {
        "InputPathsMap": {"instance": "$.detail.instance-id", "state": "$.detail.state",
                          "resource": "$.resources[0]"},
        "InputTemplate": '{"instance": <instance>, "state": <state>, "text": "<instance> is <state>", '
                         '"rule": "<aws.events.rule-name>", "first": <resource>}'}})
    assert json.loads(body) == {"instance": "i-0123456789", "state": "RUNNING",
                                "text": "i-0123456789 is RUNNING", "rule": rule,
                                "first": "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789"}


def test_whole_event_variable(events, lambda_mock):
    body, _, event_id = deliver_one(events, lambda_mock, {"InputTransformer": {
        "InputTemplate": '{"original": <aws.events.event.json>}'}})
    original = json.loads(body)["original"]
    assert original["id"] == event_id and original["detail"] == DETAIL


def test_put_targets_refuses_two_forms_and_unknown_placeholders(events):
    rule = uid("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["x"]}))
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": lambda_arn("f"), "Input": "{}",
                                                "InputPath": "$.detail"}])
    assert_error(e, "ValidationException",
                 "Only one of Input, InputPath, or InputTransformer must be provided for target t.")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": lambda_arn("f"), "InputTransformer": {
            "InputPathsMap": {"a": "$.detail.a"}, "InputTemplate": '"<a> <nope>"'}}])
    assert_error(e, "ValidationException", "InputTemplate for target t contains invalid placeholder nope.")
    assert events.list_targets_by_rule(Rule=rule)["Targets"] == []
