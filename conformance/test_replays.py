"""StartReplay, DescribeReplay, ListReplays, CancelReplay (boto3)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import (
    REPLAY_ENVELOPE_KEYS,
    archive_arn,
    assert_error,
    assert_stays,
    bus_arn,
    replay_arn,
    rule_to_lambda,
    uid,
    wait_archive_count,
    wait_replay_state,
)


@dataclass
class Archived:
    bus: str
    archive: str
    rule_arn: str
    fn: str
    base: datetime               # event times are base + 0 s, 10 s, 20 s, 30 s
    ids: list[str]               # EventIds in time order


@pytest.fixture
def archived(events, lambda_mock) -> Archived:
    """A bus with an archive of every event, a rule -> Lambda function, and 4 archived events
    with explicit times an hour ago, 10 s apart."""
    bus = uid("rbus")
    events.create_event_bus(Name=bus)
    archive = uid("rarch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    fn = uid("rfn")
    arn = rule_to_lambda(events, bus, fn)
    base = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    ids = []
    for i in range(4):
        resp = events.put_events(Entries=[{
            "EventBusName": bus, "Source": "conformance.test", "DetailType": "t",
            "Detail": json.dumps({"i": i}), "Time": base + timedelta(seconds=10 * i)}])
        assert resp["FailedEntryCount"] == 0
        ids.append(resp["Entries"][0]["EventId"])
    wait_archive_count(events, archive, 4)
    lambda_mock.wait_for_events(fn, 4, replay_name=None)
    return Archived(bus, archive, arn, fn, base, ids)


def start(events, a: Archived, name: str, start_s: int = 0, end_s: int = 40, filter_arns=None, **kw):
    dest = {"Arn": bus_arn(a.bus)}
    if filter_arns is not None:
        dest["FilterArns"] = filter_arns
    return events.start_replay(ReplayName=name, EventSourceArn=archive_arn(a.archive),
                               EventStartTime=a.base + timedelta(seconds=start_s),
                               EventEndTime=a.base + timedelta(seconds=end_s), Destination=dest, **kw)


def test_start_and_describe(events, archived, lambda_mock):
    a = archived
    name = uid("replay")
    resp = start(events, a, name, 0, 40, Description="replay everything")
    assert resp["State"] == "STARTING"
    assert resp["ReplayArn"] == replay_arn(name)
    assert isinstance(resp["ReplayStartTime"], datetime)

    d = wait_replay_state(events, name, "COMPLETED")
    assert d["ReplayName"] == name
    assert d["ReplayArn"] == replay_arn(name)
    assert d["Description"] == "replay everything"
    assert d["EventSourceArn"] == archive_arn(a.archive)
    assert d["Destination"] == {"Arn": bus_arn(a.bus)}
    assert d["EventStartTime"] == a.base
    assert d["EventEndTime"] == a.base + timedelta(seconds=40)
    assert isinstance(d["EventLastReplayedTime"], datetime)
    assert isinstance(d["ReplayStartTime"], datetime)
    assert isinstance(d["ReplayEndTime"], datetime)
    assert d["ReplayEndTime"] >= d["ReplayStartTime"]

    replayed = lambda_mock.wait_for_events(a.fn, 4, replay_name=name)
    assert sorted(e["id"] for e in replayed) == sorted(a.ids)
    for e in replayed:
        assert list(e) == REPLAY_ENVELOPE_KEYS
        assert e["replay-name"] == name
        assert e["detail"]["i"] == a.ids.index(e["id"])
        assert e["time"] == (a.base + timedelta(seconds=10 * e["detail"]["i"])).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert_stays(lambda: len(lambda_mock.events(a.fn, name)) == 4, message="each event replayed once")


def test_window_is_half_open(events, archived, lambda_mock):
    """[EventStartTime, EventEndTime): the event at the start is replayed, the one at the end is not."""
    a = archived
    name = uid("replay")
    start(events, a, name, 10, 30)
    wait_replay_state(events, name)
    replayed = lambda_mock.wait_for_events(a.fn, 2, replay_name=name)
    assert_stays(lambda: len(lambda_mock.events(a.fn, name)) == 2)
    assert sorted(e["id"] for e in replayed) == sorted(a.ids[1:3])


def test_empty_window_completes(events, archived, lambda_mock):
    a = archived
    name = uid("replay")
    start(events, a, name, 1, 9)
    wait_replay_state(events, name)
    assert_stays(lambda: lambda_mock.events(a.fn, name) == [])


def test_filter_arns_limits_rules(events, archived, lambda_mock):
    a = archived
    other_fn = uid("rfn")
    other_rule = rule_to_lambda(events, a.bus, other_fn)
    name = uid("replay")
    start(events, a, name, filter_arns=[a.rule_arn])
    d = wait_replay_state(events, name)
    assert d["Destination"] == {"Arn": bus_arn(a.bus), "FilterArns": [a.rule_arn]}
    lambda_mock.wait_for_events(a.fn, 4, replay_name=name)
    assert_stays(lambda: lambda_mock.events(other_fn) == [], message="the rule outside FilterArns gets nothing")

    # Without FilterArns every (non-archive) rule of the bus gets the replay.
    name2 = uid("replay")
    start(events, a, name2)
    wait_replay_state(events, name2)
    lambda_mock.wait_for_events(a.fn, 4, replay_name=name2)
    lambda_mock.wait_for_events(other_fn, 4, replay_name=name2)
    assert other_rule


def test_replay_skips_disabled_rules(events, archived, lambda_mock):
    a = archived
    rule_name = a.rule_arn.rsplit("/", 1)[1]
    events.disable_rule(Name=rule_name, EventBusName=a.bus)
    on_fn = uid("rfn")
    rule_to_lambda(events, a.bus, on_fn)
    name = uid("replay")
    start(events, a, name)
    wait_replay_state(events, name)
    lambda_mock.wait_for_events(on_fn, 4, replay_name=name)
    assert_stays(lambda: lambda_mock.events(a.fn, name) == [])


def test_replayed_events_are_not_archived_again(events, archived, lambda_mock):
    a = archived
    name = uid("replay")
    start(events, a, name)
    wait_replay_state(events, name)
    lambda_mock.wait_for_events(a.fn, 4, replay_name=name)
    assert_stays(lambda: events.describe_archive(ArchiveName=a.archive)["EventCount"] == 4)


def test_list_replays(events, archived):
    a = archived
    prefix = uid("lrp")
    names = [f"{prefix}-1", f"{prefix}-2"]
    for n in names:
        start(events, a, n)
    for n in names:
        wait_replay_state(events, n)
    got = events.list_replays(NamePrefix=prefix)["Replays"]
    assert sorted(r["ReplayName"] for r in got) == names
    for r in got:
        assert r["EventSourceArn"] == archive_arn(a.archive)
        assert r["State"] == "COMPLETED"
        assert r["EventStartTime"] == a.base
        assert r["EventEndTime"] == a.base + timedelta(seconds=40)
        assert isinstance(r["ReplayStartTime"], datetime)
    assert sorted(r["ReplayName"] for r in
                  events.list_replays(NamePrefix=prefix, State="COMPLETED")["Replays"]) == names
    assert events.list_replays(NamePrefix=prefix, State="RUNNING")["Replays"] == []
    by_source = events.list_replays(EventSourceArn=archive_arn(a.archive))["Replays"]
    assert sorted(r["ReplayName"] for r in by_source) == names
    assert events.list_replays(NamePrefix=uid("none"))["Replays"] == []


def test_cancel_completed_replay(events, archived):
    a = archived
    name = uid("replay")
    start(events, a, name)
    wait_replay_state(events, name)
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName=name)
    msg = assert_error(e, "IllegalStatusException")
    assert msg
    assert events.describe_replay(ReplayName=name)["State"] == "COMPLETED"


def test_cancel_right_after_start(events, archived):
    """Either the cancel wins (CANCELLING -> CANCELLED) or the replay already completed (IllegalStatus)."""
    a = archived
    name = uid("replay")
    start(events, a, name)
    try:
        resp = events.cancel_replay(ReplayName=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] == "IllegalStatusException", e.response
        assert events.describe_replay(ReplayName=name)["State"] == "COMPLETED"
        return
    assert resp["ReplayArn"] == replay_arn(name)
    assert resp["State"] in ("CANCELLING", "CANCELLED")
    d = wait_replay_state(events, name, "CANCELLED")
    assert d["State"] == "CANCELLED"


def test_cancel_missing(events):
    name = uid("noreplay")
    with pytest.raises(ClientError) as e:
        events.cancel_replay(ReplayName=name)
    assert_error(e, "ResourceNotFoundException", f"Replay {name} does not exist.")


def test_describe_missing(events):
    name = uid("noreplay")
    with pytest.raises(ClientError) as e:
        events.describe_replay(ReplayName=name)
    assert_error(e, "ResourceNotFoundException", f"Replay {name} does not exist.")


def test_unknown_archive(events, archived):
    a = archived
    missing = uid("noarch")
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName=uid("replay"), EventSourceArn=archive_arn(missing),
                            EventStartTime=a.base, EventEndTime=a.base + timedelta(seconds=40),
                            Destination={"Arn": bus_arn(a.bus)})
    assert_error(e, "ValidationException", f"Parameter EventSourceArn is not valid. Reason: Archive {missing} does not exist.")


@pytest.mark.parametrize("start_s,end_s", [(20, 20), (30, 10)])
def test_start_not_before_end(events, archived, start_s, end_s):
    name = uid("replay")
    with pytest.raises(ClientError) as e:
        start(events, archived, name, start_s, end_s)
    assert_error(e, "ValidationException",
                 "Parameter EventEndTime is not valid. Reason: EventStartTime must be before EventEndTime.")
    with pytest.raises(ClientError):
        events.describe_replay(ReplayName=name)


def test_cross_bus_replay_refused(events, archived):
    other = uid("rbus")
    events.create_event_bus(Name=other)
    a = archived
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName=uid("replay"), EventSourceArn=archive_arn(a.archive),
                            EventStartTime=a.base, EventEndTime=a.base + timedelta(seconds=40),
                            Destination={"Arn": bus_arn(other)})
    assert_error(e, "ValidationException",
                 "Parameter Destination.Arn is not valid. Reason: Cross event bus replay is not permitted.")


def test_duplicate_replay_name(events, archived):
    name = uid("replay")
    start(events, archived, name)
    with pytest.raises(ClientError) as e:
        start(events, archived, name)
    assert_error(e, "ResourceAlreadyExistsException", f"Replay {name} already exists.")
    wait_replay_state(events, name)


def test_replay_name_too_long(events, archived):
    name = "p" * 65
    with pytest.raises(ClientError) as e:
        start(events, archived, name)
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{name}' at 'replayName' failed to satisfy constraint: "
                 "Member must have length less than or equal to 64")
