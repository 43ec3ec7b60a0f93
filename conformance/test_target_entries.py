"""PutTargets' failed entries (targets AWS refuses one by one while adding the others), and
`Force` on RemoveTargets and DeleteRule for rules that a service manages (an archive's
`Events-Archive-<name>` rule)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import assert_error, bus_arn, lambda_arn, uid

PATTERN = json.dumps({"source": ["conformance.entries"]})


def test_failed_entries_are_reported_and_the_rest_added(events, bus):
    rule = uid("r")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=PATTERN)
    fn = lambda_arn(uid("fn"))
    fifo = "arn:aws:sqs:us-east-1:000000000000:orders.fifo"
    resp = events.put_targets(Rule=rule, EventBusName=bus, Targets=[
        {"Id": "ok", "Arn": fn},
        {"Id": "not-an-arn", "Arn": "my-function"},
        {"Id": "fifo", "Arn": fifo},
        {"Id": "fifo-ok", "Arn": fifo, "SqsParameters": {"MessageGroupId": "g"}},
    ])
    assert resp["FailedEntryCount"] == 2
    assert resp["FailedEntries"] == [
        {"TargetId": "not-an-arn", "ErrorCode": "ValidationException",
         "ErrorMessage": "Parameter my-function is not valid. Reason: Provided Arn is not in correct format."},
        {"TargetId": "fifo", "ErrorCode": "ValidationException",
         "ErrorMessage": "Parameter(s) SqsParameters must be specified for target: fifo."},
    ]
    listed = events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
    assert [t["Id"] for t in listed] == ["ok", "fifo-ok"]

    # Every entry refused: nothing changes, the answer is still a 200 with the entries.
    resp = events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "ok", "Arn": "changed"}])
    assert resp["FailedEntryCount"] == 1 and resp["FailedEntries"][0]["TargetId"] == "ok"
    assert events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"][0]["Arn"] == fn


def test_what_fails_the_whole_request(events, bus):
    rule = uid("r")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=PATTERN)
    fn = lambda_arn(uid("fn"))
    # Bad input forms and a missing rule are exceptions, even next to a refused entry.
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[
            {"Id": "bad", "Arn": "not-an-arn"}, {"Id": "both", "Arn": fn, "Input": "{}", "InputPath": "$.detail"}])
    assert_error(e, "ValidationException",
                 "Only one of Input, InputPath, or InputTransformer must be provided for target both.")
    missing = uid("missing")
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=missing, EventBusName=bus, Targets=[{"Id": "bad", "Arn": "not-an-arn"}])
    assert_error(e, "ResourceNotFoundException", f"Rule {missing} does not exist on EventBus {bus}.")
    # Refused entries do not count towards the five targets a rule may have.
    targets = [{"Id": f"t{i}", "Arn": fn} for i in range(5)] + [{"Id": "x", "Arn": "nope"}]
    resp = events.put_targets(Rule=rule, EventBusName=bus, Targets=targets)
    assert resp["FailedEntryCount"] == 1
    with pytest.raises(ClientError) as e:
        events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "t6", "Arn": fn}])
    assert_error(e, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")


def test_force_on_managed_rules(events, bus):
    archive = uid("farch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    managed = f"Events-Archive-{archive}"
    with pytest.raises(ClientError) as e:
        events.remove_targets(Rule=managed, EventBusName=bus, Ids=["any"])
    assert managed in assert_error(e, "ManagedRuleException")
    with pytest.raises(ClientError) as e:
        events.remove_targets(Rule=managed, EventBusName=bus, Ids=["any"], Force=False)
    assert_error(e, "ManagedRuleException")
    resp = events.remove_targets(Rule=managed, EventBusName=bus, Ids=["any"], Force=True)
    assert resp["FailedEntryCount"] == 0 and resp["FailedEntries"] == []

    with pytest.raises(ClientError) as e:
        events.delete_rule(Name=managed, EventBusName=bus, Force=False)
    assert_error(e, "ManagedRuleException")
    events.delete_rule(Name=managed, EventBusName=bus, Force=True)
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=managed, EventBusName=bus)
    assert_error(e, "ResourceNotFoundException", f"Rule {managed} does not exist on EventBus {bus}.")
    # The archive itself stays (no rule feeds it any more) and can still be deleted.
    assert events.describe_archive(ArchiveName=archive)["ArchiveName"] == archive
    events.delete_archive(ArchiveName=archive)

    # Force is ignored on rules nobody manages.
    rule = uid("r")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=PATTERN)
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "t", "Arn": lambda_arn("f")}])
    assert events.remove_targets(Rule=rule, EventBusName=bus, Ids=["t"], Force=True)["FailedEntryCount"] == 0
    events.delete_rule(Name=rule, EventBusName=bus, Force=True)
    assert events.list_rules(EventBusName=bus)["Rules"] == []
