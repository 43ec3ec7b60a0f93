"""Replays through their whole life (issue 5): states, cancel halfway and continue, resuming
after a restart (SIGTERM and kill -9), the archive deleted under a running replay, ListReplays
filters and pages, the active-replay limit, validation, FilterArns and the time window, and the
AWS CLI's start-replay / cancel-replay.

Slow replays run on dedicated servers started with `--replay-max-events-per-second`."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import (
    AwsCli,
    CliError,
    archive_arn,
    assert_error,
    assert_stays,
    bus_arn,
    envelope_time,
    replay_arn,
    rule_arn,
    rule_to_lambda,
    uid,
    wait_archive_count,
    wait_for,
    wait_replay_state,
)

TERMINAL = ("COMPLETED", "CANCELLED", "FAILED")


@dataclass
class Archived:
    bus: str
    archive: str
    fn: str | None               # Lambda function behind a rule of the bus (None: no rule)
    times: list[datetime]        # event times, ascending
    ids: list[str]               # EventIds, same order
    start: datetime              # a window covering every event: [start, end)
    end: datetime

    def id_times(self) -> dict[str, datetime]:
        return dict(zip(self.ids, self.times))


def put_at(events, bus: str, times: list[datetime], source: str = "conformance.test") -> list[str]:
    """One event per time (PutEvents in batches of 10); returns the EventIds in order."""
    ids = []
    for i in range(0, len(times), 10):
        resp = events.put_events(Entries=[
            {"EventBusName": bus, "Source": source, "DetailType": "t", "Detail": json.dumps({"i": i + j}),
             "Time": t} for j, t in enumerate(times[i:i + 10])])
        assert resp["FailedEntryCount"] == 0, resp
        ids += [e["EventId"] for e in resp["Entries"]]
    assert len(set(ids)) == len(ids)
    return ids


def make_archive(events, count: int, spacing_s: int = 1, end_ago: timedelta = timedelta(minutes=10),
                 with_rule: bool = True, bus: str | None = None) -> Archived:
    """A bus (new unless given), an archive of everything on it, optionally a rule -> Lambda
    function, and `count` events `spacing_s` apart ending `end_ago` before now."""
    if bus is None:
        bus = uid("rlbus")
        events.create_event_bus(Name=bus)
    archive = uid("rlarch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    fn = None
    if with_rule:
        fn = uid("rlfn")
        rule_to_lambda(events, bus, fn)
    end = datetime.now(timezone.utc).replace(microsecond=0) - end_ago
    times = [end - timedelta(seconds=spacing_s * (count - i)) for i in range(count)]
    ids = put_at(events, bus, times)
    wait_archive_count(events, archive, count, timeout=20)
    return Archived(bus, archive, fn, times, ids, times[0], end)


def start(events, a: Archived, name: str, start: datetime | None = None, end: datetime | None = None, **dest):
    return events.start_replay(ReplayName=name, EventSourceArn=archive_arn(a.archive),
                               EventStartTime=start or a.start, EventEndTime=end or a.end,
                               Destination={"Arn": bus_arn(a.bus), **dest})


def replayed_ids(lambda_mock, fn: str, replay: str) -> list[str]:
    return [e["id"] for e in lambda_mock.events(fn, replay)]


def no_retry_client(srv, region: str = "us-east-1"):
    """boto3 retries LimitExceededException; this client sends each call once."""
    return boto3.session.Session().client(
        "events", endpoint_url=srv.url, region_name=region, aws_access_key_id="test",
        aws_secret_access_key="test",
        config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 1, "mode": "standard"}))


def state_of(events, name: str) -> str:
    return events.describe_replay(ReplayName=name)["State"]


# --------------------------------------------------------------------------- states


def test_states_starting_running_completed(start_server, lambda_mock):
    srv = start_server(args=("--replay-max-events-per-second", "50"))
    ev = srv.client()
    a = make_archive(ev, 100)
    name = uid("rlst")
    resp = start(ev, a, name)
    assert resp["State"] == "STARTING"
    assert resp["ReplayArn"] == replay_arn(name)

    seen, last_replayed = [], []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        d = ev.describe_replay(ReplayName=name)
        if not seen or seen[-1] != d["State"]:
            seen.append(d["State"])
        if "EventLastReplayedTime" in d:
            last_replayed.append(d["EventLastReplayedTime"])
        if d["State"] in TERMINAL:
            break
        time.sleep(0.05)
    assert seen[-1] == "COMPLETED", seen
    assert "RUNNING" in seen, f"RUNNING never observed in a ~2 s replay: {seen}"
    order = ["STARTING", "RUNNING", "COMPLETED"]
    assert all(s in order for s in seen) and seen == sorted(seen, key=order.index), seen
    assert last_replayed == sorted(last_replayed), "EventLastReplayedTime went backwards"
    assert all(a.start <= t <= a.end for t in last_replayed)

    d = ev.describe_replay(ReplayName=name)
    assert d["EventLastReplayedTime"] == d["EventEndTime"] == a.end
    assert d["EventStartTime"] == a.start
    assert d["ReplayEndTime"] >= d["ReplayStartTime"]
    assert "StateReason" not in d or d["StateReason"]
    got = lambda_mock.wait_for_events(a.fn, 100, replay_name=name)
    assert sorted(e["id"] for e in got) == sorted(a.ids)
    assert_stays(lambda: len(lambda_mock.events(a.fn, name)) == 100, duration=0.3, message="each event once")


# --------------------------------------------------------------------------- cancel halfway, then continue


def test_cancel_halfway_then_continue(start_server, lambda_mock):
    srv = start_server(args=("--replay-max-events-per-second", "50"))
    ev = srv.client()
    # 300 events, one a second over 5 minutes of event time ending 10 minutes ago.
    a = make_archive(ev, 300, spacing_s=1, end_ago=timedelta(minutes=10))
    at = a.id_times()
    r1 = uid("rlr1")
    assert start(ev, a, r1)["State"] == "STARTING"

    def halfway():
        d = ev.describe_replay(ReplayName=r1)
        n = len(set(replayed_ids(lambda_mock, a.fn, r1)))
        return d if d["State"] == "RUNNING" and n >= 60 and "EventLastReplayedTime" in d else None

    wait_for(halfway, timeout=15, interval=0.05, message=f"replay {r1} RUNNING with some events delivered")
    cancelled = ev.cancel_replay(ReplayName=r1)
    assert cancelled["ReplayArn"] == replay_arn(r1)
    assert cancelled["State"] == "CANCELLING"
    d1 = wait_replay_state(ev, r1, "CANCELLED", timeout=15)
    with pytest.raises(ClientError) as e:
        ev.cancel_replay(ReplayName=r1)
    assert_error(e, "IllegalStatusException")
    assert state_of(ev, r1) == "CANCELLED"

    last = d1["EventLastReplayedTime"]
    assert a.start < last < a.end, (a.start, last, a.end)

    r2 = uid("rlr2")
    assert ev.start_replay(ReplayName=r2, EventSourceArn=archive_arn(a.archive), EventStartTime=last,
                           EventEndTime=a.end, Destination={"Arn": bus_arn(a.bus)})["State"] == "STARTING"
    d2 = wait_replay_state(ev, r2, "COMPLETED", timeout=20)
    assert d2["EventStartTime"] == last
    assert d2["EventLastReplayedTime"] == a.end
    with pytest.raises(ClientError) as e:
        ev.cancel_replay(ReplayName=r2)
    assert_error(e, "IllegalStatusException")

    def union():
        return set(replayed_ids(lambda_mock, a.fn, r1)) | set(replayed_ids(lambda_mock, a.fn, r2))

    wait_for(lambda: union() >= set(a.ids), timeout=15,
             message="every archived event replayed by R1 or R2")
    got1, got2 = set(replayed_ids(lambda_mock, a.fn, r1)), set(replayed_ids(lambda_mock, a.fn, r2))
    assert union() == set(a.ids), "replayed events keep their original ids"
    assert len(got1) < len(a.ids), "R1 was cancelled halfway, yet delivered everything"
    # EventLastReplayedTime is a promise: R1 replayed every event before it, and R2 only what is after it.
    before = {i for i, t in at.items() if t < last}
    assert before <= got1, f"{len(before - got1)} events before EventLastReplayedTime not replayed by R1"
    assert all(at[i] >= last for i in got2), "R2 replayed events outside its window"
    assert {i for i, t in at.items() if t >= last} <= got2
    for e in lambda_mock.events(a.fn, r2):
        assert e["replay-name"] == r2
        assert e["time"] == envelope_time(at[e["id"]])


# --------------------------------------------------------------------------- restarts


def test_replay_resumes_after_sigterm_restart(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    args = ("--replay-max-events-per-second", "50")
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    a = make_archive(ev, 150)
    name = uid("rlres")
    start(ev, a, name)

    def running_with_progress():
        d = ev.describe_replay(ReplayName=name)
        n = len(set(replayed_ids(lambda_mock, a.fn, name)))
        return d if d["State"] == "RUNNING" and 30 <= n < 150 and "EventLastReplayedTime" in d else None

    d = wait_for(running_with_progress, timeout=15, message=f"replay {name} RUNNING and partly delivered")
    last_before = d["EventLastReplayedTime"]
    code = srv.stop()
    assert code == 0, f"SIGTERM exit code {code}; stderr:\n{srv.stderr_tail()}"
    delivered_before = set(replayed_ids(lambda_mock, a.fn, name))
    assert len(delivered_before) < 150, "the replay finished before the restart; the test proves nothing"

    restarted_at = time.monotonic()
    srv2 = start_server(data_dir=data, args=args)
    ev2 = srv2.client()
    assert state_of(ev2, name) in ("STARTING", "RUNNING", "COMPLETED")
    d = wait_replay_state(ev2, name, "COMPLETED", timeout=30)
    assert d["EventLastReplayedTime"] == a.end
    assert d["ReplayEndTime"] >= d["ReplayStartTime"]
    wait_for(lambda: set(replayed_ids(lambda_mock, a.fn, name)) >= set(a.ids), timeout=15,
             message="every event delivered at least once across the restart")
    # It continued where it was: no event before the EventLastReplayedTime seen before the stop
    # that had been delivered came again. (Deliveries still queued at the stop are stored and
    # arrive after the restart: those are first deliveries, not repeats.)
    at = a.id_times()
    again = [inv.event["id"] for inv in lambda_mock.invocations(a.fn)
             if inv.replay_name == name and inv.received > restarted_at and at[inv.event["id"]] < last_before
             and inv.event["id"] in delivered_before]
    assert again == [], f"{len(again)} events before {last_before} replayed again after the restart"


def test_cancelling_replay_ends_cancelled_after_restart(start_server, lambda_mock, tmp_path):
    """CancelReplay answered CANCELLING, then the server stops: after the restart the replay ends
    CANCELLED (it neither stays CANCELLING nor runs to completion)."""
    data = tmp_path / "data"
    args = ("--replay-max-events-per-second", "5")
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    a = make_archive(ev, 40)
    name = uid("rlcx")
    start(ev, a, name)
    wait_for(lambda: state_of(ev, name) == "RUNNING", timeout=5, message=f"replay {name} RUNNING")
    assert ev.cancel_replay(ReplayName=name)["State"] == "CANCELLING"
    assert srv.stop() == 0
    srv2 = start_server(data_dir=data, args=args)
    ev2 = srv2.client()
    d = wait_replay_state(ev2, name, "CANCELLED", timeout=10)
    assert d["ReplayEndTime"] >= d["ReplayStartTime"]
    assert len(set(replayed_ids(lambda_mock, a.fn, name))) < 40


def test_replay_after_kill9_restart_does_not_stay_running(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    args = ("--replay-max-events-per-second", "50")
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    a = make_archive(ev, 120)
    name = uid("rlkill")
    start(ev, a, name)
    wait_for(lambda: state_of(ev, name) == "RUNNING" and len(lambda_mock.events(a.fn, name)) >= 30,
             timeout=15, message=f"replay {name} RUNNING and partly delivered")
    srv.kill()
    assert len(set(replayed_ids(lambda_mock, a.fn, name))) < 120

    srv2 = start_server(data_dir=data, args=args)
    ev2 = srv2.client()
    def ended():
        r = ev2.describe_replay(ReplayName=name)
        return r if r["State"] in ("COMPLETED", "FAILED") else None

    d = wait_for(ended, timeout=30, interval=0.1, message=f"replay {name} to end COMPLETED or FAILED after kill -9")
    if d["State"] == "FAILED":
        assert d.get("StateReason"), d
    else:
        assert d["EventLastReplayedTime"] == a.end
        assert d["ReplayEndTime"] >= d["ReplayStartTime"]
    assert_stays(lambda: state_of(ev2, name) == d["State"], duration=0.3)
    # The archive itself survived the kill -9.
    assert ev2.describe_archive(ArchiveName=a.archive)["EventCount"] == 120


# --------------------------------------------------------------------------- archive deleted under a replay


def test_deleting_the_archive_fails_the_replay(start_server, lambda_mock):
    srv = start_server(args=("--replay-max-events-per-second", "20"))
    ev = srv.client()
    a = make_archive(ev, 100)
    name = uid("rldel")
    start(ev, a, name)
    wait_for(lambda: state_of(ev, name) == "RUNNING" and lambda_mock.events(a.fn, name), timeout=15,
             message=f"replay {name} RUNNING with a first delivery")
    ev.delete_archive(ArchiveName=a.archive)
    d = wait_replay_state(ev, name, "FAILED", timeout=15)
    assert isinstance(d.get("StateReason"), str) and d["StateReason"].strip(), d
    assert d["ReplayEndTime"] >= d["ReplayStartTime"]
    listed = [r for r in ev.list_replays(NamePrefix=name)["Replays"] if r["ReplayName"] == name]
    assert listed and listed[0]["State"] == "FAILED" and listed[0].get("StateReason") == d["StateReason"]
    assert len(set(replayed_ids(lambda_mock, a.fn, name))) < 100
    with pytest.raises(ClientError) as e:
        ev.cancel_replay(ReplayName=name)
    assert_error(e, "IllegalStatusException")


# --------------------------------------------------------------------------- ListReplays


def test_list_replays_filters_and_pages(start_server):
    srv = start_server(args=("--replay-max-events-per-second", "5"))
    ev = srv.client()
    a = make_archive(ev, 40, with_rule=False)
    b = make_archive(ev, 40, with_rule=False, bus=a.bus)
    p = uid("rlls")
    running_a, running_b = [f"{p}-a1", f"{p}-a2"], [f"{p}-b1", f"{p}-b2"]
    cancelled, completed = f"{p}-a3", f"{p}-c1"
    for n in running_a + [cancelled]:
        start(ev, a, n)
    for n in running_b:
        start(ev, b, n)
    # One event in its window: done with the first batch.
    start(ev, a, completed, start=a.times[0], end=a.times[0] + timedelta(seconds=1))
    ev.cancel_replay(ReplayName=cancelled)
    wait_replay_state(ev, cancelled, "CANCELLED", timeout=10)
    wait_replay_state(ev, completed, "COMPLETED", timeout=10)
    wait_for(lambda: all(state_of(ev, n) == "RUNNING" for n in running_a + running_b), timeout=5,
             message="the four long replays RUNNING")
    everything = sorted(running_a + running_b + [cancelled, completed])

    def names(**kw):
        return sorted(r["ReplayName"] for r in ev.list_replays(**kw)["Replays"])

    assert names(NamePrefix=p) == everything
    assert names(NamePrefix=f"{p}-a") == sorted(running_a + [cancelled])
    assert names(NamePrefix=p, State="RUNNING") == sorted(running_a + running_b)
    assert names(NamePrefix=p, State="CANCELLED") == [cancelled]
    assert names(NamePrefix=p, State="COMPLETED") == [completed]
    for state in ("STARTING", "CANCELLING", "FAILED"):
        assert names(NamePrefix=p, State=state) == [], state
    assert names(EventSourceArn=archive_arn(a.archive)) == sorted(running_a + [cancelled, completed])
    assert names(EventSourceArn=archive_arn(b.archive)) == sorted(running_b)
    assert names(EventSourceArn=archive_arn(b.archive), State="RUNNING", NamePrefix=f"{p}-b2") == [f"{p}-b2"]
    assert names(EventSourceArn=archive_arn(uid("noarch"))) == []

    for limit, pages in ((1, 6), (4, 2), (6, 1)):
        seen, token, count = [], None, 0
        for _ in range(10):
            kw = {"NamePrefix": p, "Limit": limit, **({"NextToken": token} if token else {})}
            resp = ev.list_replays(**kw)
            count += 1
            assert 1 <= len(resp["Replays"]) <= limit
            seen += [r["ReplayName"] for r in resp["Replays"]]
            token = resp.get("NextToken")
            if not token:
                break
        else:
            pytest.fail(f"ListReplays pagination with Limit={limit} did not end")
        assert len(seen) == len(set(seen)), f"duplicates with Limit={limit}: {seen}"
        assert sorted(seen) == everything
        assert count == pages, (limit, count)
    for n in running_a + running_b:
        ev.cancel_replay(ReplayName=n)


# --------------------------------------------------------------------------- the active-replay limit


def test_eleventh_active_replay_is_refused(start_server):
    srv = start_server(args=("--replay-max-events-per-second", "5"))
    ev = srv.client()
    once = no_retry_client(srv)
    a = make_archive(ev, 40, with_rule=False)
    p = uid("rllim")
    names = [f"{p}-{i}" for i in range(10)]
    for n in names:
        assert start(once, a, n)["State"] == "STARTING"
    assert all(state_of(ev, n) in ("STARTING", "RUNNING") for n in names)

    eleventh = f"{p}-10"
    with pytest.raises(ClientError) as e:
        start(once, a, eleventh)
    assert_error(e, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    with pytest.raises(ClientError) as e:
        ev.describe_replay(ReplayName=eleventh)
    assert_error(e, "ResourceNotFoundException", f"Replay {eleventh} does not exist.")

    # The limit is per account and region.
    eu = no_retry_client(srv, region="eu-west-1")
    eu_bus, eu_archive = uid("rlbus"), uid("rlarch")
    eu.create_event_bus(Name=eu_bus)
    eu.create_archive(ArchiveName=eu_archive, EventSourceArn=bus_arn(eu_bus, region="eu-west-1"))
    eu_end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
    eu.start_replay(ReplayName=eleventh, EventSourceArn=archive_arn(eu_archive, region="eu-west-1"),
                    EventStartTime=eu_end - timedelta(minutes=5), EventEndTime=eu_end,
                    Destination={"Arn": bus_arn(eu_bus, region="eu-west-1")})
    assert eu.describe_replay(ReplayName=eleventh)["ReplayArn"] == replay_arn(eleventh, region="eu-west-1")

    # A replay that ended frees its place.
    assert ev.cancel_replay(ReplayName=names[0])["State"] == "CANCELLING"
    wait_replay_state(ev, names[0], "CANCELLED", timeout=10)
    assert start(once, a, eleventh)["State"] == "STARTING"
    with pytest.raises(ClientError) as e:
        start(once, a, f"{p}-11")
    assert_error(e, "LimitExceededException", "The requested resource exceeds the maximum number allowed.")
    for n in names[1:] + [eleventh]:
        ev.cancel_replay(ReplayName=n)


# --------------------------------------------------------------------------- validation


@pytest.fixture
def small(events) -> Archived:
    return make_archive(events, 3, spacing_s=10, end_ago=timedelta(hours=1))


def test_filter_arns_must_be_rules_of_the_bus(events, small):
    other_bus = uid("rlbus")
    events.create_event_bus(Name=other_bus)
    foreign = uid("rlrule")
    events.put_rule(Name=foreign, EventBusName=other_bus, EventPattern=json.dumps({"source": ["x"]}))
    missing = uid("norule")
    for bad in (rule_arn(foreign, other_bus), rule_arn(missing, small.bus), rule_arn(foreign)):
        name = uid("rlflt")
        with pytest.raises(ClientError) as e:
            start(events, small, name, FilterArns=[bad])
        # AWS's wording is not recorded; the server's documented choice.
        assert_error(e, "ValidationException",
                     f"Parameter Destination.FilterArns is not valid. Reason: {bad} is not a rule on EventBus {small.bus}.")
        with pytest.raises(ClientError):
            events.describe_replay(ReplayName=name)
    # One good ARN does not excuse a bad one.
    good = rule_to_lambda(events, small.bus, uid("rlfn"))
    with pytest.raises(ClientError) as e:
        start(events, small, uid("rlflt"), FilterArns=[good, rule_arn(missing, small.bus)])
    assert_error(e, "ValidationException")


def test_filter_arns_reach_only_listed_rules_never_archives(events, lambda_mock):
    a = make_archive(events, 5, spacing_s=5, end_ago=timedelta(hours=2))
    fn2, fn3 = uid("rlfn"), uid("rlfn")
    r1 = rule_arn(next(r["Name"] for r in events.list_rules(EventBusName=a.bus)["Rules"] if "ManagedBy" not in r),
                  a.bus)
    rule_to_lambda(events, a.bus, fn2)
    r3 = rule_to_lambda(events, a.bus, fn3)
    second_archive = uid("rlarch")
    events.create_archive(ArchiveName=second_archive, EventSourceArn=bus_arn(a.bus))
    size = events.describe_archive(ArchiveName=a.archive)["SizeBytes"]

    name = uid("rlflt")
    start(events, a, name, FilterArns=[r1, r3])
    d = wait_replay_state(events, name)
    assert d["Destination"] == {"Arn": bus_arn(a.bus), "FilterArns": [r1, r3]}
    assert sorted(e["id"] for e in lambda_mock.wait_for_events(a.fn, 5, replay_name=name)) == sorted(a.ids)
    assert sorted(e["id"] for e in lambda_mock.wait_for_events(fn3, 5, replay_name=name)) == sorted(a.ids)
    assert_stays(lambda: (lambda_mock.events(fn2) == []
                          and events.describe_archive(ArchiveName=a.archive)["EventCount"] == 5
                          and events.describe_archive(ArchiveName=a.archive)["SizeBytes"] == size
                          and events.describe_archive(ArchiveName=second_archive)["EventCount"] == 0),
                 duration=0.6, message="no delivery outside FilterArns, no archive write")
    assert len(lambda_mock.events(a.fn, name)) == 5 and len(lambda_mock.events(fn3, name)) == 5


def test_only_events_inside_the_window_are_replayed(events, lambda_mock):
    bus = uid("rlbus")
    events.create_event_bus(Name=bus)
    archive = uid("rlarch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    fn = uid("rlfn")
    rule_to_lambda(events, bus, fn)
    base = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(hours=3)
    offsets = [0, 58, 59, 60, 61, 119, 120, 180, 300, 301]
    times = [base + timedelta(seconds=s) for s in offsets]
    ids = put_at(events, bus, times)
    wait_archive_count(events, archive, len(ids))
    by_offset = dict(zip(offsets, ids))

    cases = [((59, 120), [59, 60, 61, 119]),     # spans a minute boundary; the end is excluded
             ((1, 58), []),                      # nothing inside
             ((120, 301), [120, 180, 300]),
             ((0, 302), offsets)]
    names = []
    for (s, e), _ in cases:
        name = uid("rlwin")
        names.append(name)
        events.start_replay(ReplayName=name, EventSourceArn=archive_arn(archive),
                            EventStartTime=base + timedelta(seconds=s), EventEndTime=base + timedelta(seconds=e),
                            Destination={"Arn": bus_arn(bus)})
    for name, (_, expected) in zip(names, cases):
        wait_replay_state(events, name)
        if expected:
            lambda_mock.wait_for_events(fn, len(expected), replay_name=name)
    offset_of = {i: o for o, i in by_offset.items()}
    for name, ((s, e), expected) in zip(names, cases):
        got = sorted(offset_of.get(i, i) for i in replayed_ids(lambda_mock, fn, name))
        assert got == expected, f"window [{s}, {e}) s: replayed offsets {got}, expected {expected}"
    assert_stays(lambda: [len(lambda_mock.events(fn, n)) for n in names] == [len(exp) for _, exp in cases],
                 duration=0.5, message="no event outside its window arrives later")


# --------------------------------------------------------------------------- AWS CLI


def test_cli_start_and_cancel_replay(start_server, lambda_mock):
    srv = start_server(args=("--replay-max-events-per-second", "5"))
    ev = srv.client()
    a = make_archive(ev, 40)
    cli = AwsCli(srv.url)
    name = uid("rlcli")
    iso = "%Y-%m-%dT%H:%M:%SZ"
    out = cli("start-replay", "--replay-name", name, "--event-source-arn", archive_arn(a.archive),
              "--event-start-time", a.start.strftime(iso), "--event-end-time", a.end.strftime(iso),
              "--destination", json.dumps({"Arn": bus_arn(a.bus)}), "--description", "from the cli")
    assert out["ReplayArn"] == replay_arn(name)
    assert out["State"] == "STARTING"
    assert isinstance(out["ReplayStartTime"], (int, float))
    d = ev.describe_replay(ReplayName=name)
    assert (d["EventStartTime"], d["EventEndTime"], d["Description"]) == (a.start, a.end, "from the cli")

    out = cli("cancel-replay", "--replay-name", name)
    assert out == {"ReplayArn": replay_arn(name), "State": "CANCELLING"}
    wait_replay_state(ev, name, "CANCELLED", timeout=10)
    assert len(set(replayed_ids(lambda_mock, a.fn, name))) < 40
    with pytest.raises(CliError) as e:
        cli("cancel-replay", "--replay-name", name)
    assert e.value.returncode == 255
    assert "An error occurred (IllegalStatusException) when calling the CancelReplay operation" in e.value.stderr
