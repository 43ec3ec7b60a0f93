"""--data-dir: state survives a SIGTERM restart and a kill -9 (SIGKILL) restart."""

from __future__ import annotations

import json
import time

from support import (
    archive_arn,
    bus_arn,
    lambda_arn,
    rule_arn,
    uid,
    wait_archive_count,
    wait_for_value,
    wait_replay_state,
    window_end_after,
    window_start_before,
)


def test_state_survives_sigterm_restart(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data_dir=data)
    ev = srv.client()
    bus, rule, archive, fn = uid("pbus"), uid("prule"), uid("parch"), uid("pfn")
    pattern = {"source": ["conformance.test"]}
    ev.create_event_bus(Name=bus, Description="persisted")
    ev.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern), Description="kept")
    disabled = uid("pdis")
    ev.put_rule(Name=disabled, EventBusName=bus, EventPattern=json.dumps(pattern), State="DISABLED")
    ev.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(fn)}])
    ev.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus), RetentionDays=30,
                      EventPattern=json.dumps(pattern))
    t0 = window_start_before(time.time())
    ids = []
    for i in range(5):
        resp = ev.put_events(Entries=[{"EventBusName": bus, "Source": "conformance.test", "DetailType": "t",
                                       "Detail": json.dumps({"i": i})}])
        ids.append(resp["Entries"][0]["EventId"])
    t1 = window_end_after(time.time())
    before = wait_archive_count(ev, archive, 5)
    first_replay = uid("prep")
    ev.start_replay(ReplayName=first_replay, EventSourceArn=archive_arn(archive), EventStartTime=t0,
                    EventEndTime=t1, Destination={"Arn": bus_arn(bus)})
    replay_before = wait_replay_state(ev, first_replay)
    lambda_mock.wait_for_events(fn, 5, replay_name=first_replay)

    code = srv.stop()
    assert code == 0, f"SIGTERM exit code {code}; stderr:\n{srv.stderr_tail()}"

    srv2 = start_server(data_dir=data)
    ev2 = srv2.client()
    d = ev2.describe_event_bus(Name=bus)
    assert (d["Arn"], d.get("Description")) == (bus_arn(bus), "persisted")
    r = ev2.describe_rule(Name=rule, EventBusName=bus)
    assert r["Arn"] == rule_arn(rule, bus)
    assert json.loads(r["EventPattern"]) == pattern
    assert r["State"] == "ENABLED" and r["Description"] == "kept"
    assert ev2.describe_rule(Name=disabled, EventBusName=bus)["State"] == "DISABLED"
    targets = ev2.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
    assert [(t["Id"], t["Arn"]) for t in targets] == [("fn", lambda_arn(fn))]
    a = ev2.describe_archive(ArchiveName=archive)
    assert a["EventCount"] == 5
    assert a["SizeBytes"] == before["SizeBytes"]
    assert a["RetentionDays"] == 30
    assert json.loads(a["EventPattern"]) == pattern
    assert a["CreationTime"] == before["CreationTime"]
    assert f"Events-Archive-{archive}" in {x["Name"] for x in ev2.list_rules(EventBusName=bus)["Rules"]}
    rp = ev2.describe_replay(ReplayName=first_replay)
    for key in ("State", "EventStartTime", "EventEndTime", "ReplayStartTime", "ReplayEndTime", "EventSourceArn",
                "Destination"):
        assert rp[key] == replay_before[key], key

    # The archive still replays after the restart, and the managed rule still archives new events.
    second = uid("prep")
    ev2.start_replay(ReplayName=second, EventSourceArn=archive_arn(archive), EventStartTime=t0, EventEndTime=t1,
                     Destination={"Arn": bus_arn(bus)})
    wait_replay_state(ev2, second)
    replayed = lambda_mock.wait_for_events(fn, 5, replay_name=second)
    assert sorted(e["id"] for e in replayed) == sorted(ids)
    ev2.put_events(Entries=[{"EventBusName": bus, "Source": "conformance.test", "DetailType": "t", "Detail": "{}"}])
    wait_archive_count(ev2, archive, 6)
    assert srv2.stop() == 0


def test_acknowledged_events_survive_kill_9(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data_dir=data)
    ev = srv.client()
    bus, archive = uid("kbus"), uid("karch")
    ev.create_event_bus(Name=bus)
    ev.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    t0 = window_start_before(time.time())
    n = 25
    ids = []
    for i in range(n):
        resp = ev.put_events(Entries=[{"EventBusName": bus, "Source": "conformance.kill", "DetailType": "t",
                                       "Detail": json.dumps({"i": i})}])
        assert resp["FailedEntryCount"] == 0
        ids.append(resp["Entries"][0]["EventId"])
    last_put = time.time()
    srv.kill()  # SIGKILL right after the last acknowledgement
    t1 = window_end_after(last_put)

    srv2 = start_server(data_dir=data)
    ev2 = srv2.client()
    assert ev2.describe_event_bus(Name=bus)["Arn"] == bus_arn(bus)
    wait_for_value(lambda: ev2.describe_archive(ArchiveName=archive)["EventCount"], n, timeout=5,
                   message="EventCount after kill -9")

    fn = uid("kfn")
    rule = uid("krule")
    ev2.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.kill"]}))
    ev2.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(fn)}])
    replay = uid("krep")
    ev2.start_replay(ReplayName=replay, EventSourceArn=archive_arn(archive), EventStartTime=t0, EventEndTime=t1,
                     Destination={"Arn": bus_arn(bus)})
    wait_replay_state(ev2, replay)
    replayed = lambda_mock.wait_for_events(fn, n, replay_name=replay)
    assert sorted(e["id"] for e in replayed) == sorted(ids)


def test_resources_survive_kill_9(start_server, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data_dir=data)
    ev = srv.client()
    bus, rule = uid("kbus"), uid("krule")
    ev.create_event_bus(Name=bus)
    ev.put_rule(Name=rule, EventBusName=bus, EventPattern='{"source": ["x"]}')
    ev.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn("f")}])
    ev.disable_rule(Name=rule, EventBusName=bus)
    srv.kill()

    ev2 = start_server(data_dir=data).client()
    assert ev2.describe_rule(Name=rule, EventBusName=bus)["State"] == "DISABLED"
    assert [t["Id"] for t in ev2.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]] == ["fn"]


def test_in_memory_starts_empty(start_server):
    srv = start_server()
    ev = srv.client()
    bus = uid("mem")
    ev.create_event_bus(Name=bus)
    srv.stop()
    ev2 = start_server().client()
    assert bus not in {b["Name"] for b in ev2.list_event_buses()["EventBuses"]}
