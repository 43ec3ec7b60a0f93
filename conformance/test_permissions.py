"""Bus policies (issue 10): PutPermission and RemovePermission through boto3 and the AWS CLI,
the `Policy` DescribeEventBus and ListEventBuses show, and its enforcement where events cross
into a bus of another account (PutEvents by ARN), or of another account or region (a rule's
event-bus target: checked at PutTargets and at every delivery).

The shapes and messages asserted as AWS's are those AWS recorded (LocalStack's snapshots of
its `test_put_permission`, `test_remove_permission*`); the others are the server's documented
choices (see src/ops/permissions.rs and src/model/policy.rs)."""

from __future__ import annotations

import json
import urllib.request

import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_ACCOUNT,
    assert_error,
    assert_stays,
    bus_arn,
    lambda_arn,
    put_one,
    rule_to_lambda,
    uid,
    wait_for,
)

OTHER = "111122223333"
THIRD = "444455556666"


def policy_of(events, bus: str) -> dict | None:
    text = events.describe_event_bus(Name=bus).get("Policy")
    return json.loads(text) if text is not None else None


def allow(sid: str, principal: str, bus: str, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1") -> dict:
    """The statement AWS makes of PutPermission's parameters, keys in AWS's order."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": "*" if principal == "*" else {"AWS": f"arn:aws:iam::{principal}:root"},
        "Action": "events:PutEvents",
        "Resource": bus_arn(bus, region, account),
    }


def grant(events, bus: str, principal: str, sid: str | None = None) -> str:
    sid = sid or uid("sid")
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal=principal, StatementId=sid)
    return sid


def put_entry(events, bus: str, source: str = "conformance.test", detail_type: str = "test") -> dict:
    resp = events.put_events(Entries=[{"EventBusName": bus, "Source": source, "DetailType": detail_type,
                                       "Detail": json.dumps({"n": 1})}])
    return resp["Entries"][0] | {"FailedEntryCount": resp["FailedEntryCount"]}


def denied_message(principal_account: str, bus: str, account: str = DEFAULT_ACCOUNT, region: str = "us-east-1") -> str:
    return (f"User: arn:aws:iam::{principal_account}:root is not authorized to perform: events:PutEvents on resource: "
            f"{bus_arn(bus, region, account)} because no resource-based policy allows the events:PutEvents action")


def deliveries(server, event_id: str) -> list[dict]:
    with urllib.request.urlopen(f"{server.url}/_local/deliveries?eventId={event_id}", timeout=5) as r:
        return json.loads(r.read())["deliveries"]


# --------------------------------------------------------------------------- the policy document


@pytest.mark.parametrize("custom", [True, False], ids=["custom", "default"])
def test_statements_accumulate_in_aws_shape(events_factory, custom):
    # A fresh account per run: the default bus's policy is the account's own.
    events = events_factory(access_key="555566667777")
    bus = uid("pbus") if custom else "default"
    if custom:
        events.create_event_bus(Name=bus)
    else:
        try:  # left over from an earlier run on this server
            events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
        except ClientError:
            pass
    account = "555566667777"
    first, second, third, everyone = uid("s1"), uid("s2"), uid("s3"), uid("s4")
    assert events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal=account,
                                 StatementId=first)["ResponseMetadata"]["HTTPStatusCode"] == 200
    grant(events, bus, account, second)
    grant(events, bus, OTHER, third)
    grant(events, bus, "*", everyone)
    grant(events, bus, "*", everyone)  # the same id again replaces its statement
    text = events.describe_event_bus(Name=bus)["Policy"]
    assert json.loads(text) == {"Version": "2012-10-17", "Statement": [
        allow(first, account, bus, account), allow(second, account, bus, account),
        allow(third, OTHER, bus, account), allow(everyone, "*", bus, account)]}
    assert list(json.loads(text)) == ["Version", "Statement"]
    assert [list(s) for s in json.loads(text)["Statement"]] == [["Sid", "Effect", "Principal", "Action", "Resource"]] * 4
    listed = {b["Name"]: b for b in events.list_event_buses()["EventBuses"]}
    assert json.loads(listed[bus]["Policy"]) == json.loads(text)
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)


def test_condition_becomes_an_iam_condition(events, bus):
    sid = uid("org")
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId=sid,
                          Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1234567890"})
    (statement,) = policy_of(events, bus)["Statement"]
    assert statement == allow(sid, "*", bus) | {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}}}


def test_policy_document_replaces_every_statement(events, bus):
    grant(events, bus, OTHER)
    document = {"Version": "2012-10-17", "Statement": [{
        "Sid": uid("s5"), "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
        "Action": "events:ListRules", "Resource": "*"}]}
    events.put_permission(EventBusName=bus, Policy=json.dumps(document))
    assert policy_of(events, bus) == document
    # Statements added afterwards join the document.
    sid = grant(events, bus, THIRD)
    assert policy_of(events, bus)["Statement"] == document["Statement"] + [allow(sid, THIRD, bus)]


def test_remove_one_statement_then_all(events, bus):
    first, second = grant(events, bus, DEFAULT_ACCOUNT), grant(events, bus, OTHER)
    before = events.describe_event_bus(Name=bus)["LastModifiedTime"]
    events.remove_permission(EventBusName=bus, StatementId=first, RemoveAllPermissions=False)
    assert policy_of(events, bus)["Statement"] == [allow(second, OTHER, bus)]
    assert events.describe_event_bus(Name=bus)["LastModifiedTime"] >= before
    events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert "Policy" not in events.describe_event_bus(Name=bus)
    assert "Policy" not in {b["Name"]: b for b in events.list_event_buses()["EventBuses"]}[bus]


def test_removing_the_last_statement_removes_the_policy(events, bus):
    sid = grant(events, bus, OTHER)
    events.remove_permission(EventBusName=bus, StatementId=sid)
    assert "Policy" not in events.describe_event_bus(Name=bus)


def test_policy_goes_with_its_bus(events):
    bus = uid("pbus")
    events.create_event_bus(Name=bus)
    grant(events, bus, OTHER)
    events.delete_event_bus(Name=bus)
    events.create_event_bus(Name=bus)
    assert "Policy" not in events.describe_event_bus(Name=bus)


def test_policy_survives_a_restart(start_server, tmp_path):
    srv = start_server(data_dir=tmp_path / "data")
    events = srv.client()
    bus = uid("pbus")
    events.create_event_bus(Name=bus)
    sid = grant(events, bus, OTHER)
    srv.stop()
    again = start_server(data_dir=tmp_path / "data").client()
    assert policy_of(again, bus) == {"Version": "2012-10-17", "Statement": [allow(sid, OTHER, bus)]}
    assert put_entry(again, bus)["FailedEntryCount"] == 0


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize("policy_exists", [True, False])
def test_unknown_statement_id(events, bus, policy_exists):
    if policy_exists:
        grant(events, bus, OTHER)
    with pytest.raises(ClientError) as e:
        events.remove_permission(EventBusName=bus, StatementId="non-existing-sid")
    assert_error(e, "ResourceNotFoundException", "Statement with the provided id does not exist.")


def test_missing_bus(events):
    name = uid("missing")
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=name, Action="events:PutEvents", Principal="*", StatementId="s")
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")
    with pytest.raises(ClientError) as e:
        events.remove_permission(EventBusName=name, RemoveAllPermissions=True)
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")


def test_parameters_are_validated_as_the_model_says(events, bus):
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="12345", StatementId="s")
    assert_error(e, "ValidationException", "1 validation error detected: Value '12345' at 'principal' failed to "
                 "satisfy constraint: Member must satisfy regular expression pattern: (\\d{12}|\\*)")
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="not ok")
    assert_error(e, "ValidationException", "1 validation error detected: Value 'not ok' at 'statementId' failed to "
                 "satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+")
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=bus_arn(bus), Action="events:PutEvents", Principal="*", StatementId="s")
    assert "at 'eventBusName' failed to satisfy constraint" in assert_error(e, "ValidationException")


@pytest.mark.parametrize("args, message", [
    ({"Action": "events:PutRule", "Principal": OTHER, "StatementId": "s"},
     "Provided value in parameter 'action' is not supported."),
    ({"Action": "events:PutEvents", "StatementId": "s"}, "Parameter Principal must be specified."),
    ({"Action": "events:PutEvents", "Principal": OTHER}, "Parameter StatementId is required."),
    ({"Action": "events:PutEvents", "Principal": OTHER, "StatementId": "s",
      "Condition": {"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1"}},
     "Value of the parameter 'principal' must be '*' when the parameter 'condition' is set."),
    ({"Policy": "{not json"}, "This policy contains invalid Json"),
    ({"Policy": json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                                    "Action": "events:PutEvents"}]})},
     "Policy statement must contain resources."),
    ({"Policy": json.dumps({"Version": "2012-10-17", "Statement": []}), "StatementId": "s"},
     "Combination of policy with other arguments is not allowed"),
])
def test_refused_put_permission(events, bus, args, message):
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=bus, **args)
    assert_error(e, "ValidationException", message)
    assert "Policy" not in events.describe_event_bus(Name=bus)


def test_policy_over_10_kb(events, bus):
    statements = [{"Sid": f"s{i}", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{i:012d}:root"},
                   "Action": "events:PutEvents", "Resource": bus_arn(bus)} for i in range(80)]
    with pytest.raises(ClientError) as e:
        events.put_permission(EventBusName=bus, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    assert_error(e, "PolicyLengthExceededException")
    # One statement at a time, the limit holds as well.
    events.put_permission(EventBusName=bus, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements[:40]}))
    with pytest.raises(ClientError) as e:
        for i in range(40, 80):
            grant(events, bus, f"{i:012d}", f"s{i}")
    assert_error(e, "PolicyLengthExceededException")


def test_remove_without_statement_id_or_policy(events, bus):
    with pytest.raises(ClientError) as e:
        events.remove_permission(EventBusName=bus)
    assert_error(e, "ValidationException", "Parameter StatementId is required.")
    with pytest.raises(ClientError) as e:
        events.remove_permission(EventBusName=bus, RemoveAllPermissions=True)
    assert_error(e, "ResourceNotFoundException", "EventBus does not have a policy.")


# --------------------------------------------------------------------------- PutEvents from another account


def test_put_events_from_another_account_needs_the_policy(events, events_factory, bus, lambda_mock):
    other = events_factory(access_key=OTHER)
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    result = put_entry(other, bus_arn(bus))
    assert result == {"ErrorCode": "AccessDeniedException", "ErrorMessage": denied_message(OTHER, bus),
                      "FailedEntryCount": 1}

    sid = grant(events, bus, OTHER)
    event_id = put_one(other, bus_arn(bus))
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert (event["id"], event["account"], event["region"]) == (event_id, OTHER, "us-east-1")
    # Another account is still refused; the owner never needs a policy.
    assert put_entry(events_factory(access_key=THIRD), bus_arn(bus))["ErrorCode"] == "AccessDeniedException"
    put_one(events, bus_arn(bus))

    events.remove_permission(EventBusName=bus, StatementId=sid)
    assert put_entry(other, bus_arn(bus))["ErrorCode"] == "AccessDeniedException"
    assert_stays(lambda: len(lambda_mock.events(fn)) == 2)


def test_only_the_refused_entries_fail(events, events_factory, bus):
    other = events_factory(access_key=OTHER)
    other_bus = uid("own")
    other.create_event_bus(Name=other_bus)
    resp = other.put_events(Entries=[
        {"EventBusName": other_bus, "Source": "s", "DetailType": "t", "Detail": "{}"},
        {"EventBusName": bus_arn(bus), "Source": "s", "DetailType": "t", "Detail": "{}"},
        {"EventBusName": bus_arn(bus), "Source": "s", "DetailType": "t", "Detail": "not json"},
    ])
    assert resp["FailedEntryCount"] == 2
    assert "EventId" in resp["Entries"][0]
    assert resp["Entries"][1]["ErrorCode"] == "AccessDeniedException"
    assert resp["Entries"][2]["ErrorCode"] == "MalformedDetail"


def test_everyone_deny_and_source_conditions(events, events_factory, bus):
    other, third = events_factory(access_key=OTHER), events_factory(access_key=THIRD)
    document = {"Version": "2012-10-17", "Statement": [
        {"Sid": "everyone", "Effect": "Allow", "Principal": "*", "Action": "events:PutEvents",
         "Resource": bus_arn(bus), "Condition": {"StringLike": {"events:source": "orders.*"}}},
        {"Sid": "not-them", "Effect": "Deny", "Principal": {"AWS": THIRD}, "Action": "events:*", "Resource": "*"},
    ]}
    events.put_permission(EventBusName=bus, Policy=json.dumps(document))
    assert put_entry(other, bus_arn(bus), source="orders.placed")["FailedEntryCount"] == 0
    refused = put_entry(other, bus_arn(bus), source="billing")
    assert refused["ErrorCode"] == "NotAuthorizedForSourceException"
    denied = put_entry(third, bus_arn(bus), source="orders.placed")
    assert denied["ErrorCode"] == "AccessDeniedException"
    assert denied["ErrorMessage"].endswith("with an explicit deny in a resource-based policy")


def test_organization_condition_lets_accounts_in(events, events_factory, bus):
    events.put_permission(EventBusName=bus, Action="events:PutEvents", Principal="*", StatementId="org",
                          Condition={"Type": "StringEquals", "Key": "aws:PrincipalOrgID", "Value": "o-1234567890"})
    assert put_entry(events_factory(access_key=OTHER), bus_arn(bus))["FailedEntryCount"] == 0


def test_missing_bus_of_another_account_is_refused(events_factory):
    missing = uid("missing")
    result = put_entry(events_factory(access_key=OTHER), bus_arn(missing))
    assert result["ErrorCode"] == "AccessDeniedException"
    assert result["ErrorMessage"] == denied_message(OTHER, missing)


# --------------------------------------------------------------------------- rules whose target is a foreign bus


def forward_rule(events, bus: str) -> str:
    """A rule on `bus` for the suite's events, without targets yet."""
    rule = uid("fwd")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    return rule


def test_put_targets_to_another_account_needs_the_policy(events, events_factory, bus, lambda_mock):
    other = events_factory(access_key=OTHER)
    source_bus = uid("src")
    other.create_event_bus(Name=source_bus)
    rule = forward_rule(other, source_bus)
    target = {"Id": "central", "Arn": bus_arn(bus)}
    with pytest.raises(ClientError) as e:
        other.put_targets(Rule=rule, EventBusName=source_bus, Targets=[target])
    assert_error(e, "AccessDeniedException", denied_message(OTHER, bus))
    assert other.list_targets_by_rule(Rule=rule, EventBusName=source_bus)["Targets"] == []

    grant(events, bus, OTHER)
    assert other.put_targets(Rule=rule, EventBusName=source_bus, Targets=[target])["FailedEntryCount"] == 0
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    event_id = put_one(other, source_bus)
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert (event["id"], event["account"]) == (event_id, OTHER)


def test_missing_rule_is_reported_before_the_policy(events_factory, bus):
    other = events_factory(access_key=OTHER)
    with pytest.raises(ClientError) as e:
        other.put_targets(Rule=uid("nope"), Targets=[{"Id": "t", "Arn": bus_arn(bus)}])
    assert_error(e, "ResourceNotFoundException")


def test_put_targets_to_another_region_needs_the_policy(events, events_factory, lambda_mock):
    """Observed on AWS (2026): a bus of another region of the same account is checked too."""
    eu = events_factory(region="eu-west-1")
    central = uid("central")
    eu.create_event_bus(Name=central)
    source_bus = uid("src")
    events.create_event_bus(Name=source_bus)
    rule = forward_rule(events, source_bus)
    target = {"Id": "eu", "Arn": bus_arn(central, "eu-west-1")}
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, EventBusName=source_bus, Targets=[target])
    assert_error(e, "AccessDeniedException", denied_message(DEFAULT_ACCOUNT, central, region="eu-west-1"))

    grant(eu, central, DEFAULT_ACCOUNT)
    events.put_targets(Rule=rule, EventBusName=source_bus, Targets=[target])
    fn = uid("fn")
    rule_to_lambda(eu, central, fn, region="eu-west-1")
    event_id = put_one(events, source_bus)
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert (event["id"], event["region"]) == (event_id, "us-east-1")


def test_rule_arn_condition(events, events_factory, bus, lambda_mock):
    other = events_factory(access_key=OTHER)
    source_bus = uid("src")
    other.create_event_bus(Name=source_bus)
    allowed = forward_rule(other, source_bus)
    allowed_arn = other.describe_rule(Name=allowed, EventBusName=source_bus)["Arn"]
    events.put_permission(EventBusName=bus, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "one-rule", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
        "Action": "events:PutEvents", "Resource": bus_arn(bus),
        "Condition": {"ArnEquals": {"aws:SourceArn": allowed_arn}}}]}))
    other.put_targets(Rule=allowed, EventBusName=source_bus, Targets=[{"Id": "t", "Arn": bus_arn(bus)}])
    refused = forward_rule(other, source_bus)
    with pytest.raises(ClientError) as e:
        other.put_targets(Rule=refused, EventBusName=source_bus, Targets=[{"Id": "t", "Arn": bus_arn(bus)}])
    assert_error(e, "AccessDeniedException")
    # Calls of PutEvents have no source rule: refused as well.
    assert put_entry(other, bus_arn(bus))["ErrorCode"] == "AccessDeniedException"


def test_delivery_after_the_policy_is_removed_fails_and_is_dead_lettered(start_server, moto):
    srv = start_server(sqs_url=moto.url)
    owner, other, sqs = srv.client(), srv.client(access_key=OTHER), moto.sqs()
    dlq_url = sqs.create_queue(QueueName=uid("dlq"))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    central = uid("central")
    owner.create_event_bus(Name=central)
    sid = grant(owner, central, OTHER)
    source_bus = uid("src")
    other.create_event_bus(Name=source_bus)
    rule = forward_rule(other, source_bus)
    other.put_targets(Rule=rule, EventBusName=source_bus, Targets=[{
        "Id": "central", "Arn": bus_arn(central), "DeadLetterConfig": {"Arn": dlq_arn}}])
    delivered = put_one(other, source_bus)
    assert wait_for(lambda: deliveries(srv, delivered))[0]["outcome"] == "succeeded"

    owner.remove_permission(EventBusName=central, StatementId=sid)
    refused = put_one(other, source_bus)

    def received():
        return sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages")

    (message,) = wait_for(received, timeout=15)
    assert json.loads(message["Body"])["id"] == refused
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "NO_PERMISSIONS"
    assert "AccessDeniedException" in attributes["ERROR_MESSAGE"]
    assert attributes["TARGET_ARN"] == bus_arn(central)
    # The log records the attempt once the dead-letter queue has answered (maybe just after).
    (entry,) = wait_for(lambda: deliveries(srv, refused), timeout=5)
    assert entry["outcome"] == "dead-lettered"
    assert denied_message(OTHER, central) in entry["error"]


# --------------------------------------------------------------------------- AWS CLI


def test_aws_cli_put_and_remove_permission(aws_cli, bus):
    assert aws_cli("put-permission", "--event-bus-name", bus, "--action", "events:PutEvents",
                   "--principal", OTHER, "--statement-id", "cli-one") == {}
    assert aws_cli("put-permission", "--event-bus-name", bus, "--action", "events:PutEvents", "--principal", "*",
                   "--statement-id", "cli-org", "--condition",
                   "Type=StringEquals,Key=aws:PrincipalOrgID,Value=o-1234567890") == {}
    policy = json.loads(aws_cli("describe-event-bus", "--name", bus)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["cli-one", "cli-org"]
    assert policy["Statement"][1]["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-1234567890"}}
    assert aws_cli("remove-permission", "--event-bus-name", bus, "--statement-id", "cli-one") == {}
    document = {"Version": "2012-10-17", "Statement": [allow("doc", THIRD, bus)]}
    assert aws_cli("put-permission", "--event-bus-name", bus, "--policy", json.dumps(document)) == {}
    assert json.loads(aws_cli("describe-event-bus", "--name", bus)["Policy"]) == document
    assert aws_cli("remove-permission", "--event-bus-name", bus, "--remove-all-permissions") == {}
    assert "Policy" not in aws_cli("describe-event-bus", "--name", bus)
