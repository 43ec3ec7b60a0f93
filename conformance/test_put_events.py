"""PutEvents (boto3): results, per-entry errors, request limits, the delivered envelope, routing."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import (
    ENVELOPE_KEYS,
    TIME_RE,
    UUID_RE,
    assert_error,
    assert_stays,
    bus_arn,
    put_one,
    rule_to_lambda,
    uid,
)


def test_success_results(events, bus):
    entries = [{"EventBusName": bus, "Source": "conformance.test", "DetailType": "t", "Detail": json.dumps({"i": i})}
               for i in range(10)]
    resp = events.put_events(Entries=entries)
    assert resp["FailedEntryCount"] == 0
    assert len(resp["Entries"]) == 10
    ids = [e["EventId"] for e in resp["Entries"]]
    assert all(UUID_RE.match(i) for i in ids), ids
    assert len(set(ids)) == 10
    assert all(set(e) == {"EventId"} for e in resp["Entries"])


def test_per_entry_errors(events, bus):
    base = {"EventBusName": bus, "Source": "conformance.test", "DetailType": "t", "Detail": "{}"}
    entries = [
        {k: v for k, v in base.items() if k != "Source"},
        {k: v for k, v in base.items() if k != "DetailType"},
        {k: v for k, v in base.items() if k != "Detail"},
        dict(base, Detail="NotJSON"),
        dict(base),
        dict(base, Detail="[]"),
        dict(base, Detail='"NotJSON"'),
        dict(base, Detail="{{}"),
        dict(base, DetailType=""),
    ]
    resp = events.put_events(Entries=entries)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["FailedEntryCount"] == 8
    r = resp["Entries"]
    assert len(r) == len(entries)
    assert r[0] == {"ErrorCode": "InvalidArgument",
                    "ErrorMessage": "Parameter Source is not valid. Reason: Source is a required argument."}
    assert r[1] == {"ErrorCode": "InvalidArgument",
                    "ErrorMessage": "Parameter DetailType is not valid. Reason: DetailType is a required argument."}
    assert r[2] == {"ErrorCode": "InvalidArgument",
                    "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}
    for i in (3, 5, 6, 7):
        assert r[i] == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}, (i, r[i])
    assert set(r[4]) == {"EventId"} and UUID_RE.match(r[4]["EventId"])
    assert r[8] == r[1]


def test_source_checked_before_detail_type_and_detail(events, bus):
    resp = events.put_events(Entries=[{"EventBusName": bus, "Detail": "nope"}])
    assert resp["FailedEntryCount"] == 1
    assert resp["Entries"][0]["ErrorMessage"] == "Parameter Source is not valid. Reason: Source is a required argument."


def test_all_entries_failing_is_still_200(events, bus):
    resp = events.put_events(Entries=[{"EventBusName": bus, "DetailType": "t", "Detail": "{}"}])
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["FailedEntryCount"] == 1
    assert resp["Entries"][0]["ErrorCode"] == "InvalidArgument"


def test_eleven_entries_rejected(events, bus):
    entries = [{"EventBusName": bus, "Source": "conformance.test", "DetailType": "t", "Detail": "{}"}] * 11
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=entries)
    msg = assert_error(e, "ValidationException")
    assert msg.startswith("1 validation error detected: Value '[PutEventsRequestEntry("), msg
    assert msg.endswith("at 'entries' failed to satisfy constraint: Member must have length less than or equal to 10")


def test_missing_bus_still_succeeds(events):
    resp = events.put_events(Entries=[{"EventBusName": uid("nobus"), "Source": "s", "DetailType": "t", "Detail": "{}"}])
    assert resp["FailedEntryCount"] == 0
    assert UUID_RE.match(resp["Entries"][0]["EventId"])


def test_total_size_over_limit(events, bus):
    detail = json.dumps({"p": "x" * 1_048_576})  # 1 MiB + overhead: over the limit
    with pytest.raises(ClientError) as e:
        events.put_events(Entries=[{"EventBusName": bus, "Source": "s", "DetailType": "t", "Detail": detail}])
    assert_error(e, "ValidationException", "Total size of the entries in the request is over the limit.")


# --------------------------------------------------------------------------- envelope


def test_envelope(events, bus, lambda_mock):
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    t = datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    detail = {"customerId": "123", "nested": {"list": [1, 2.5, None, True], "s": "é ü 中"}}
    resp = events.put_events(Entries=[{
        "EventBusName": bus, "Source": "conformance.test", "DetailType": "Order Placed",
        "Detail": json.dumps(detail), "Resources": ["arn:aws:s3:::bucket", "arn:aws:s3:::other"], "Time": t}])
    event_id = resp["Entries"][0]["EventId"]
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert list(event) == ENVELOPE_KEYS
    assert event == {
        "version": "0",
        "id": event_id,
        "detail-type": "Order Placed",
        "source": "conformance.test",
        "account": "000000000000",
        "time": "2024-01-02T03:04:05Z",
        "region": "us-east-1",
        "resources": ["arn:aws:s3:::bucket", "arn:aws:s3:::other"],
        "detail": detail,
    }


def test_envelope_defaults(events, bus, lambda_mock):
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    event_id = put_one(events, bus, detail={})
    after = datetime.now(timezone.utc)
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert list(event) == ENVELOPE_KEYS
    assert event["id"] == event_id
    assert event["resources"] == []
    assert event["detail"] == {}
    assert TIME_RE.match(event["time"]), event["time"]
    when = datetime.strptime(event["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert before <= when <= after + timedelta(seconds=1)


def test_envelope_account_and_region_from_credentials(events_factory, lambda_mock):
    other = events_factory(region="eu-west-3", access_key="111122223333")
    bus = uid("pbus")
    other.create_event_bus(Name=bus)
    fn = uid("fn")
    rule_to_lambda(other, bus, fn, region="eu-west-3", account="111122223333")
    event_id = put_one(other, bus)
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert (event["id"], event["account"], event["region"]) == (event_id, "111122223333", "eu-west-3")


def test_bus_named_by_arn(events, bus, lambda_mock):
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    event_id = put_one(events, bus_arn(bus))
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert event["id"] == event_id


def test_default_bus_when_no_bus_name(events, lambda_mock):
    fn = uid("fn")
    source = uid("src")
    rule_to_lambda(events, "default", fn, pattern={"source": [source]})
    resp = events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": "{}"}])
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert event["id"] == resp["Entries"][0]["EventId"]


# --------------------------------------------------------------------------- routing


def test_only_matching_rules_fire(events, bus, lambda_mock):
    fn = uid("fn")
    rule_to_lambda(events, bus, fn, pattern={"detail-type": ["wanted"]})
    resp = events.put_events(Entries=[
        {"EventBusName": bus, "Source": "s", "DetailType": "unwanted", "Detail": "{}"},
        {"EventBusName": bus, "Source": "s", "DetailType": "wanted", "Detail": "{}"},
    ])
    wanted_id = resp["Entries"][1]["EventId"]
    lambda_mock.wait_for_events(fn, 1)
    assert_stays(lambda: len(lambda_mock.events(fn)) == 1, message="only the matching event is delivered")
    assert lambda_mock.events(fn)[0]["id"] == wanted_id


def test_disabled_rule_gets_nothing(events, bus, lambda_mock):
    enabled_fn, disabled_fn = uid("on"), uid("off")
    rule_to_lambda(events, bus, enabled_fn)
    disabled_rule = uid("off")
    rule_to_lambda(events, bus, disabled_fn, rule=disabled_rule)
    events.disable_rule(Name=disabled_rule, EventBusName=bus)
    event_id = put_one(events, bus)
    (event,) = lambda_mock.wait_for_events(enabled_fn, 1)
    assert event["id"] == event_id
    assert_stays(lambda: lambda_mock.events(disabled_fn) == [], message="disabled rule gets nothing")
    # Re-enabled, it fires again.
    events.enable_rule(Name=disabled_rule, EventBusName=bus)
    second = put_one(events, bus)
    (event,) = lambda_mock.wait_for_events(disabled_fn, 1)
    assert event["id"] == second


def test_one_event_fans_out_to_every_matching_rule_and_target(events, bus, lambda_mock):
    fns = [uid("fan") for _ in range(3)]
    rule_to_lambda(events, bus, fns[0])
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[
        {"Id": "a", "Arn": f"arn:aws:lambda:us-east-1:000000000000:function:{fns[1]}"},
        {"Id": "b", "Arn": f"arn:aws:lambda:us-east-1:000000000000:function:{fns[2]}"}])
    event_id = put_one(events, bus)
    for fn in fns:
        (event,) = lambda_mock.wait_for_events(fn, 1)
        assert event["id"] == event_id


def test_events_stay_on_their_bus(events, bus, lambda_mock):
    other = uid("pbus")
    events.create_event_bus(Name=other)
    fn = uid("fn")
    rule_to_lambda(events, other, fn)
    fn_here = uid("fn")
    rule_to_lambda(events, bus, fn_here)
    put_one(events, bus)
    lambda_mock.wait_for_events(fn_here, 1)
    assert_stays(lambda: lambda_mock.events(fn) == [], message="rule of another bus gets nothing")
