"""Issue 12: the manual clock (`--clock manual`, /_local/clock), retries and dead letters on it,
injected faults (/_local/faults) and firing a scheduled rule now (/_local/rules/fire); through
boto3 for the AWS side and plain HTTP for the controls. Nothing here waits for real time to pass."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest

from support import (
    assert_stays,
    bus_arn,
    lambda_arn,
    local,
    local_ok,
    parse_time,
    uid,
    wait_for,
)

START = "2030-01-01T00:00:00Z"
START_DT = datetime(2030, 1, 1, tzinfo=timezone.utc)


@pytest.fixture
def manual(start_server, lambda_mock):
    """A server on a manual clock standing at 2030-01-01T00:00:00Z, delivering Lambda targets to the mock."""
    return start_server(args=("--clock", "manual", "--clock-start", START))


def scheduled_rule_to_lambda(events, schedule: str, function: str, **target_extra) -> str:
    rule = uid("sched")
    events.put_rule(Name=rule, ScheduleExpression=schedule)
    target = {"Id": "fn", "Arn": lambda_arn(function), **target_extra}
    assert events.put_targets(Rule=rule, Targets=[target])["FailedEntryCount"] == 0
    return rule


def pattern_rule_to_lambda(events, source: str, function: str, **target_extra) -> str:
    rule = uid("rule")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    target = {"Id": "fn", "Arn": lambda_arn(function), **target_extra}
    assert events.put_targets(Rule=rule, Targets=[target])["FailedEntryCount"] == 0
    return rule


def put(events, source: str, **extra) -> str:
    out = events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": "{}", **extra}])
    assert out["FailedEntryCount"] == 0, out
    return out["Entries"][0]["EventId"]


def deliveries(srv, wait: float = 10, **filters) -> dict:
    query = "&".join(f"{k}={v}" for k, v in {**filters, "wait": wait}.items())
    return local_ok(srv, "GET", f"/_local/deliveries?{query}")


# --------------------------------------------------------------------------- the clock itself


def test_the_real_clock_is_the_default_and_cannot_be_moved(server):
    now = parse_time(local_ok(server, "GET", "/_local/clock")["now"])
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 5
    status, answer = local(server, "POST", "/_local/clock", {"advance": 60})
    assert status == 409
    assert "--clock manual" in answer["message"]


def test_a_manual_clock_stands_still_until_moved(manual):
    assert local_ok(manual, "GET", "/_local/clock") == {"now": START, "mode": "manual"}
    assert_stays(lambda: local_ok(manual, "GET", "/_local/clock")["now"] == START, duration=1.1)
    assert local_ok(manual, "POST", "/_local/clock", {"advance": 90})["now"] == "2030-01-01T00:01:30Z"
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "PT1H"})["now"] == "2030-01-01T01:01:30Z"
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "P1DT0.5S"})["now"] == "2030-01-02T01:01:30.5Z"
    assert local_ok(manual, "POST", "/_local/clock", {"set": "2031-06-01T12:00:00Z"})["now"] == "2031-06-01T12:00:00Z"
    assert local_ok(manual, "POST", "/_local/clock", {"set": "2030-01-01T00:00:00+02:00"})["now"] == \
        "2029-12-31T22:00:00Z"
    for bad in ({}, {"advance": 1, "set": START}, {"advance": "1 hour"}, {"advance": "P1M"}, {"advance": -5},
                {"set": "tomorrow"}, {"set": 5}):
        status, answer = local(manual, "POST", "/_local/clock", bad)
        assert status == 400, (bad, answer)
        assert answer["message"]
    status, _ = local(manual, "POST", "/_local/clock", None)
    assert status == 400


def test_events_put_without_time_get_the_virtual_time(manual, lambda_mock):
    events = manual.client()
    function, source = uid("fn"), uid("src")
    pattern_rule_to_lambda(events, source, function)
    local_ok(manual, "POST", "/_local/clock", {"advance": "PT2H"})
    put(events, source)
    put(events, source, Time=datetime(2020, 5, 5, tzinfo=timezone.utc))
    got = sorted(e["time"] for e in lambda_mock.wait_for_events(function, 2))
    assert got == ["2020-05-05T00:00:00Z", "2030-01-01T02:00:00Z"]


def test_retention_sweeps_see_the_virtual_time(manual):
    events = manual.client()
    bus, archive = uid("bus"), uid("arch")
    events.create_event_bus(Name=bus)
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus), RetentionDays=1)
    out = events.put_events(Entries=[{"EventBusName": bus, "Source": "s", "DetailType": "t", "Detail": "{}"}])
    assert out["FailedEntryCount"] == 0
    wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 1)
    local_ok(manual, "POST", "/_local/clock", {"advance": "PT23H"})
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 1
    local_ok(manual, "POST", "/_local/clock", {"advance": "PT2H"})
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 0


# --------------------------------------------------------------------------- schedules


def test_a_rate_rule_fires_exactly_twelve_times_in_an_hour(manual, lambda_mock):
    events = manual.client()
    function = uid("every5")
    rule = scheduled_rule_to_lambda(events, "rate(5 minutes)", function)
    started = time.monotonic()
    answer = local_ok(manual, "POST", "/_local/clock", {"advance": 3600})
    assert answer["now"] == "2030-01-01T01:00:00Z"
    assert answer["fired"] == 12
    # Queued when the answer came: the deliveries are there without waiting for a schedule.
    done = deliveries(manual, rule=rule, min=12)
    assert done["timedOut"] is False
    got = lambda_mock.wait_for_events(function, 12)
    assert time.monotonic() - started < 10
    assert_stays(lambda: len(lambda_mock.events(function)) == 12, duration=0.5)
    times = sorted(e["time"] for e in got)
    assert times == [(START_DT + timedelta(minutes=5 * i)).strftime("%Y-%m-%dT%H:%M:%SZ") for i in range(1, 13)]
    for e in got:
        assert e["detail-type"] == "Scheduled Event"
        assert e["source"] == "aws.events"
        assert e["resources"] == [events.describe_rule(Name=rule)["Arn"]]
        assert e["detail"] == {}
    # The next hour fires the next twelve, not the first ones again.
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "PT1H"})["fired"] == 12
    assert len(lambda_mock.wait_for_events(function, 24)) == 24


def test_a_cron_rule_fires_at_each_instant_in_order(manual, lambda_mock):
    events = manual.client()
    function = uid("hourly")
    scheduled_rule_to_lambda(events, "cron(30 */6 * * ? *)", function)
    assert local_ok(manual, "POST", "/_local/clock", {"set": "2030-01-02T00:00:00Z"})["fired"] == 4
    got = sorted(e["time"] for e in lambda_mock.wait_for_events(function, 4))
    assert got == ["2030-01-01T00:30:00Z", "2030-01-01T06:30:00Z", "2030-01-01T12:30:00Z", "2030-01-01T18:30:00Z"]


def test_a_disabled_or_deleted_rule_does_not_fire(manual, lambda_mock):
    events = manual.client()
    function = uid("off")
    rule = scheduled_rule_to_lambda(events, "rate(1 minute)", function)
    events.disable_rule(Name=rule)
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "PT10M"})["fired"] == 0
    events.enable_rule(Name=rule)
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "PT3M"})["fired"] == 3
    events.remove_targets(Rule=rule, Ids=["fn"])
    events.delete_rule(Name=rule)
    assert local_ok(manual, "POST", "/_local/clock", {"advance": "PT10M"})["fired"] == 0
    assert len(lambda_mock.wait_for_events(function, 3)) == 3


def test_fire_sends_a_scheduled_event_now(server, lambda_mock):
    events = server.client()
    function = uid("fired")
    rule = scheduled_rule_to_lambda(events, "rate(1 day)", function)
    answer = local_ok(server, "POST", "/_local/rules/fire", {"name": rule})
    assert answer["targets"] == 1
    [event] = lambda_mock.wait_for_events(function, 1, timeout=5)
    assert event["id"] == answer["eventId"]
    assert event["detail-type"] == "Scheduled Event"
    assert event["resources"] == [answer["ruleArn"]]
    assert abs((parse_time(event["time"]) - datetime.now(timezone.utc)).total_seconds()) < 5

    status, answer = local(server, "POST", "/_local/rules/fire", {"name": uid("missing")})
    assert status == 404 and "does not exist" in answer["message"]
    pattern_rule = uid("pattern")
    events.put_rule(Name=pattern_rule, EventPattern=json.dumps({"source": ["x"]}))
    status, answer = local(server, "POST", "/_local/rules/fire", {"name": pattern_rule})
    assert status == 400 and "ScheduleExpression" in answer["message"]
    status, _ = local(server, "POST", "/_local/rules/fire", {})
    assert status == 400


def test_fire_on_a_manual_clock_stamps_the_virtual_time(manual, lambda_mock):
    events = manual.client()
    function = uid("fn")
    rule = scheduled_rule_to_lambda(events, "rate(1 hour)", function)
    local_ok(manual, "POST", "/_local/clock", {"advance": 59})
    answer = local_ok(manual, "POST", "/_local/rules/fire", {"name": rule, "eventBusName": "default"})
    assert answer["time"] == "2030-01-01T00:00:59Z"
    [event] = lambda_mock.wait_for_events(function, 1, timeout=5)
    assert event["time"] == "2030-01-01T00:00:59Z"
    # Firing by hand does not move the schedule: the hour still fires once, on the hour.
    assert local_ok(manual, "POST", "/_local/clock", {"set": "2030-01-01T01:00:00Z"})["fired"] == 1
    assert sorted(e["time"] for e in lambda_mock.wait_for_events(function, 2)) == [
        "2030-01-01T00:00:59Z", "2030-01-01T01:00:00Z"]


# --------------------------------------------------------------------------- retries, dead letters, faults


@pytest.fixture
def manual_with_sqs(start_server, lambda_mock, moto):
    return start_server(sqs_url=moto.url, args=("--clock", "manual", "--clock-start", START))


def dead_letter_queue(moto) -> tuple[str, str]:
    sqs = moto.sqs()
    url = sqs.create_queue(QueueName=uid("dlq"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive_one(moto, url: str) -> dict:
    sqs = moto.sqs()
    messages = wait_for(lambda: sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1,
                                                    MessageAttributeNames=["All"]).get("Messages"), timeout=15)
    assert len(messages) == 1
    return messages[0]


def test_retries_run_on_the_virtual_clock_and_end_in_the_dead_letter_queue(manual_with_sqs, moto, lambda_mock):
    srv = manual_with_sqs
    events = srv.client()
    dlq_url, dlq_arn = dead_letter_queue(moto)
    function, source = uid("broken"), uid("src")
    rule = pattern_rule_to_lambda(events, source, function,
                                  RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 3600},
                                  DeadLetterConfig={"Arn": dlq_arn})
    fault = local_ok(srv, "POST", "/_local/faults", {"rule": rule, "targetId": "fn", "error": {"status": 503}})
    assert fault["error"] == {"status": 503}
    event_id = put(events, source)
    first = deliveries(srv, eventId=event_id)["deliveries"]
    assert [(d["attempt"], d["outcome"], d["injected"], d["status"]) for d in first] == [(1, "retrying", True, 503)]
    # The backoff (about a second) is on the virtual clock: no retry while it stands still.
    assert_stays(lambda: len(deliveries(srv, wait=0, eventId=event_id)["deliveries"]) == 1, duration=1.5)

    started = time.monotonic()
    local_ok(srv, "POST", "/_local/clock", {"advance": "PT1M"})
    log = deliveries(srv, eventId=event_id, outcome="dead-lettered")
    assert log["timedOut"] is False
    assert time.monotonic() - started < 5
    attempts = deliveries(srv, wait=0, eventId=event_id)["deliveries"]
    assert [(d["attempt"], d["outcome"], d["injected"]) for d in attempts] == [
        (3, "dead-lettered", True), (2, "retrying", True), (1, "retrying", True)]
    # Each retry happened later on the virtual clock than the attempt before it.
    starts = [d["startedMs"] for d in reversed(attempts)]
    assert starts[0] < starts[1] < starts[2] <= int(START_DT.timestamp() * 1000) + 60_000
    message = receive_one(moto, dlq_url)
    assert json.loads(message["Body"])["id"] == event_id
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["RETRY_ATTEMPTS"] == "2"
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
    assert attributes["ERROR_CODE"] == "INTERNAL_ERROR"
    assert "injected" in attributes["ERROR_MESSAGE"]
    assert lambda_mock.events(function) == []
    [listed] = local_ok(srv, "GET", "/_local/faults")["faults"]
    assert listed["id"] == fault["id"] and listed["injected"] == 3


def test_maximum_event_age_is_measured_on_the_virtual_clock(manual_with_sqs, moto):
    srv = manual_with_sqs
    events = srv.client()
    dlq_url, dlq_arn = dead_letter_queue(moto)
    function, source = uid("broken"), uid("src")
    pattern_rule_to_lambda(events, source, function,
                           RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 120},
                           DeadLetterConfig={"Arn": dlq_arn})
    local_ok(srv, "POST", "/_local/faults", {"target": lambda_arn(function), "error": "connection-refused"})
    event_id = put(events, source)
    deliveries(srv, eventId=event_id, outcome="retrying")
    local_ok(srv, "POST", "/_local/clock", {"advance": "PT1H"})
    assert deliveries(srv, eventId=event_id, outcome="dead-lettered")["timedOut"] is False
    attributes = {k: v["StringValue"] for k, v in receive_one(moto, dlq_url)["MessageAttributes"].items()}
    assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumEventAgeInSeconds"
    assert attributes["ERROR_CODE"] == "SDK_CLIENT_ERROR"
    assert "connection refused" in attributes["ERROR_MESSAGE"]


def test_a_fault_for_the_next_attempts_then_the_target_recovers(manual, lambda_mock):
    events = manual.client()
    function, source = uid("flaky"), uid("src")
    pattern_rule_to_lambda(events, source, function)
    local_ok(manual, "POST", "/_local/faults", {"target": lambda_arn(function), "count": 2, "error": "timeout"})
    event_id = put(events, source)
    deliveries(manual, eventId=event_id, outcome="retrying")
    local_ok(manual, "POST", "/_local/clock", {"advance": "PT5M"})
    assert deliveries(manual, eventId=event_id, outcome="succeeded")["timedOut"] is False
    [event] = lambda_mock.wait_for_events(function, 1)
    assert event["id"] == event_id
    log = deliveries(manual, wait=0, eventId=event_id)["deliveries"]
    assert [(d["attempt"], d["outcome"], d.get("injected", False)) for d in log] == [
        (3, "succeeded", False), (2, "retrying", True), (1, "retrying", True)]
    assert "no answer in time" in log[-1]["error"]
    # Spent: no longer listed.
    assert local_ok(manual, "GET", "/_local/faults")["faults"] == []


def test_a_fault_for_a_duration_and_a_permanent_error(manual, lambda_mock):
    events = manual.client()
    function, source = uid("down"), uid("src")
    rule = pattern_rule_to_lambda(events, source, function)
    fault = local_ok(manual, "POST", "/_local/faults", {"rule": rule, "duration": "PT10M", "error": 400})
    assert fault["until"] == "2030-01-01T00:10:00Z"
    event_id = put(events, source)
    # 400 is not retried (as AWS): the first attempt is the last.
    [entry] = deliveries(manual, eventId=event_id, outcome="failed")["deliveries"]
    assert (entry["status"], entry["injected"]) == (400, True)
    local_ok(manual, "POST", "/_local/clock", {"advance": "PT10M"})
    assert local_ok(manual, "GET", "/_local/faults")["faults"] == []
    later = put(events, source)
    assert [e["id"] for e in lambda_mock.wait_for_events(function, 1)] == [later]


def test_faults_are_listed_and_cleared(manual):
    target = lambda_arn(uid("fn"))
    a = local_ok(manual, "POST", "/_local/faults", {"target": target})
    b = local_ok(manual, "POST", "/_local/faults", {"rule": "r", "targetId": "t", "error": "connection-refused"})
    assert a["error"] == {"status": 500} and b["error"] == "connection-refused"
    assert [f["id"] for f in local_ok(manual, "GET", "/_local/faults")["faults"]] == [a["id"], b["id"]]
    assert local_ok(manual, "DELETE", f"/_local/faults/{a['id']}") == {"cleared": 1}
    assert local(manual, "DELETE", f"/_local/faults/{a['id']}")[0] == 404
    assert local_ok(manual, "DELETE", "/_local/faults") == {"cleared": 1}
    assert local_ok(manual, "GET", "/_local/faults")["faults"] == []
    for bad in ({}, {"target": target, "error": "boom"}, {"target": target, "error": 200},
                {"target": target, "count": 0}, {"target": target, "duration": "soon"}):
        status, answer = local(manual, "POST", "/_local/faults", bad)
        assert status == 400, (bad, answer)
