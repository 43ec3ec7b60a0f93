"""Delivery to targets: Lambda (Invoke API mock), SQS (moto_server), another event bus."""

from __future__ import annotations

import json

from support import (
    ENVELOPE_KEYS,
    assert_stays,
    bus_arn,
    lambda_arn,
    put_one,
    rule_to_lambda,
    uid,
    wait_for,
)


def test_lambda_invoke_request(events, bus, lambda_mock):
    fn = uid("fn")
    rule_to_lambda(events, bus, fn)
    event_id = put_one(events, bus, detail={"hello": "lambda"})
    lambda_mock.wait_for_events(fn, 1)
    (inv,) = lambda_mock.invocations(fn)
    assert inv.path == f"/2015-03-31/functions/{fn}/invocations"
    assert inv.headers.get("x-amz-invocation-type") == "Event"
    assert inv.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 Credential="), inv.headers
    assert "/lambda/aws4_request" in inv.headers["authorization"]
    assert list(inv.event) == ENVELOPE_KEYS
    assert inv.event["id"] == event_id
    assert inv.event["detail"] == {"hello": "lambda"}


def test_lambda_target_in_other_region_and_account(events_factory, lambda_mock):
    """A target in another region/account is still invoked through the configured endpoint."""
    ev = events_factory(region="eu-west-1", access_key="210987654321")
    bus = uid("dbus")
    ev.create_event_bus(Name=bus)
    fn = uid("fn")
    rule_to_lambda(ev, bus, fn, region="eu-west-1", account="210987654321")
    event_id = put_one(ev, bus)
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert event["id"] == event_id
    (inv,) = lambda_mock.invocations(fn)
    assert inv.path == f"/2015-03-31/functions/{fn}/invocations"
    assert inv.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256 ")


def test_each_target_of_a_rule_is_invoked_once(events, bus, lambda_mock):
    fn1, fn2 = uid("fn"), uid("fn")
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[
        {"Id": "1", "Arn": lambda_arn(fn1)}, {"Id": "2", "Arn": lambda_arn(fn2)}])
    ids = [put_one(events, bus) for _ in range(3)]
    for fn in (fn1, fn2):
        got = lambda_mock.wait_for_events(fn, 3)
        assert sorted(e["id"] for e in got) == sorted(ids)
    assert_stays(lambda: len(lambda_mock.events(fn1)) == 3 and len(lambda_mock.events(fn2)) == 3)


def test_removed_target_gets_nothing(events, bus, lambda_mock):
    kept, removed = uid("fn"), uid("fn")
    name = uid("rule")
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[
        {"Id": "keep", "Arn": lambda_arn(kept)}, {"Id": "gone", "Arn": lambda_arn(removed)}])
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["gone"])
    put_one(events, bus)
    lambda_mock.wait_for_events(kept, 1)
    assert_stays(lambda: lambda_mock.events(removed) == [])


def test_sqs_target_via_moto(moto, start_server, lambda_mock):
    srv = start_server(lambda_url=lambda_mock.url, sqs_url=moto.url)
    ev = srv.client()
    sqs = moto.sqs()
    queue_url = sqs.create_queue(QueueName=uid("q"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    assert queue_arn.startswith("arn:aws:sqs:us-east-1:123456789012:")

    bus = uid("dbus")
    ev.create_event_bus(Name=bus)
    name = uid("rule")
    ev.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    assert ev.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])["FailedEntryCount"] == 0
    resp = ev.put_events(Entries=[{"EventBusName": bus, "Source": "conformance.test", "DetailType": "to-sqs",
                                   "Detail": json.dumps({"order": 7}), "Resources": ["arn:aws:s3:::b"]}])
    event_id = resp["Entries"][0]["EventId"]

    messages = []

    def receive():
        messages.extend(sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
                        .get("Messages", []))
        return messages

    wait_for(receive, timeout=15, interval=0.1, message="a message in the SQS queue")
    assert len(messages) == 1
    body = json.loads(messages[0]["Body"])
    assert list(body) == ENVELOPE_KEYS
    assert body["id"] == event_id
    assert body["detail-type"] == "to-sqs"
    assert body["source"] == "conformance.test"
    assert body["account"] == "000000000000"
    assert body["region"] == "us-east-1"
    assert body["resources"] == ["arn:aws:s3:::b"]
    assert body["detail"] == {"order": 7}


def test_event_bus_target(events, lambda_mock):
    bus_a, bus_b = uid("busa"), uid("busb")
    events.create_event_bus(Name=bus_a)
    events.create_event_bus(Name=bus_b)
    forward = uid("fwd")
    events.put_rule(Name=forward, EventBusName=bus_a, EventPattern=json.dumps({"source": ["conformance.test"]}))
    events.put_targets(Rule=forward, EventBusName=bus_a, Targets=[{"Id": "to-b", "Arn": bus_arn(bus_b)}])
    fn_b = uid("fn")
    rule_to_lambda(events, bus_b, fn_b)
    fn_a = uid("fn")
    rule_to_lambda(events, bus_a, fn_a)

    put_one(events, bus_a, detail_type="forwarded", detail={"x": [1, 2]})
    (on_b,) = lambda_mock.wait_for_events(fn_b, 1)
    (on_a,) = lambda_mock.wait_for_events(fn_a, 1)
    assert list(on_b) == ENVELOPE_KEYS
    assert on_b["source"] == "conformance.test"
    assert on_b["detail-type"] == "forwarded"
    assert on_b["detail"] == {"x": [1, 2]}
    assert on_b["account"] == on_a["account"] == "000000000000"
    # Delivered once, not looped back.
    assert_stays(lambda: len(lambda_mock.events(fn_b)) == 1)


def test_event_bus_target_is_archived_on_destination(events, lambda_mock):
    bus_a, bus_b = uid("busa"), uid("busb")
    events.create_event_bus(Name=bus_a)
    events.create_event_bus(Name=bus_b)
    archive = uid("arch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus_b))
    forward = uid("fwd")
    events.put_rule(Name=forward, EventBusName=bus_a, EventPattern=json.dumps({"source": ["conformance.test"]}))
    events.put_targets(Rule=forward, EventBusName=bus_a, Targets=[{"Id": "to-b", "Arn": bus_arn(bus_b)}])
    put_one(events, bus_a)
    wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 1,
             message="forwarded event archived on the destination bus")
