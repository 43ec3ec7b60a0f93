"""Issue 12: why an event did (not) match (/_local/explain), the events each bus received
(/_local/events), waits instead of sleeps (`wait` and `min` on /_local/deliveries and
/_local/events) and reset without a restart (/_local/reset); boto3 for the AWS side, plain
HTTP for the controls."""

from __future__ import annotations

import json
import threading
import time

import pytest

from support import (
    archive_arn,
    assert_stays,
    bus_arn,
    lambda_arn,
    local,
    local_ok,
    parse_time,
    rule_arn,
    uid,
    wait_archive_count,
    wait_for,
)


def put(events, bus: str, source: str, detail: dict, detail_type: str = "t") -> str:
    out = events.put_events(Entries=[{"EventBusName": bus, "Source": source, "DetailType": detail_type,
                                      "Detail": json.dumps(detail)}])
    assert out["FailedEntryCount"] == 0, out
    return out["Entries"][0]["EventId"]


# --------------------------------------------------------------------------- explain

PATTERNS = {
    "exact": ({"source": ["shop"], "detail": {"state": ["paid"]}}, "detail.state", ["paid"], "open"),
    "prefix": ({"detail": {"sku": [{"prefix": "EU-"}]}}, "detail.sku", [{"prefix": "EU-"}], "US-12"),
    "numeric": ({"detail": {"total": [{"numeric": [">", 100, "<=", 500]}]}}, "detail.total",
                [{"numeric": [">", 100, "<=", 500]}], 42),
    "anything-but": ({"detail": {"state": [{"anything-but": ["open", "void"]}]}}, "detail.state",
                     [{"anything-but": ["open", "void"]}], "open"),
    "exists": ({"detail": {"coupon": [{"exists": True}]}}, "detail.coupon", [{"exists": True}], None),
    "absent": ({"detail": {"total": [{"exists": False}]}}, "detail.total", [{"exists": False}], 42),
}
EVENT = {"source": "shop", "detail-type": "order", "detail": {"state": "open", "sku": "US-12", "total": 42}}


@pytest.fixture
def explained_bus(events, bus):
    """A bus with one rule per kind of pattern (and one that matches), each named after its kind."""
    names = {}
    for kind, (pattern, *_rest) in PATTERNS.items():
        names[kind] = f"{kind}-{uid('r')}"
        events.put_rule(Name=names[kind], EventBusName=bus, EventPattern=json.dumps(pattern))
    names["or"] = f"or-{uid('r')}"
    events.put_rule(Name=names["or"], EventBusName=bus, EventPattern=json.dumps(
        {"$or": [{"detail": {"state": ["paid"]}}, {"detail": {"total": [{"numeric": [">=", 1000]}]}}]}))
    names["match"] = f"match-{uid('r')}"
    events.put_rule(Name=names["match"], EventBusName=bus, EventPattern=json.dumps(
        {"source": ["shop"], "detail": {"total": [{"numeric": ["<", 50]}]}}))
    return bus, names


def by_name(answer: dict) -> dict:
    return {r["name"]: r for r in answer["rules"]}


def test_explain_names_the_failing_field_for_each_kind_of_pattern(server, explained_bus):
    bus, names = explained_bus
    answer = local_ok(server, "POST", "/_local/explain", {"event": EVENT, "eventBusName": bus})
    assert answer["eventBusName"] == bus
    # The envelope is completed as PutEvents would make it.
    assert answer["event"]["account"] == "000000000000" and answer["event"]["region"] == "us-east-1"
    rules = by_name(answer)
    assert set(rules) == set(names.values())
    for kind, (_, path, wanted, had) in PATTERNS.items():
        rule = rules[names[kind]]
        assert rule["matches"] is False, kind
        assert rule["arn"] == rule_arn(names[kind], bus)
        assert rule["state"] == "ENABLED"
        mismatch = rule["mismatch"]
        assert (mismatch["path"], mismatch["wanted"], mismatch["had"]) == (path, wanted, had), kind
        assert mismatch["present"] is (had is not None), kind
        assert rule["reason"] == mismatch["reason"]
    missing = rules[names["exists"]]["mismatch"]
    assert "no value" in missing["reason"]
    either = rules[names["or"]]
    assert either["matches"] is False
    assert [(m["path"], m["had"]) for m in either["alternatives"]] == [("detail.state", "open"),
                                                                       ("detail.total", 42)]
    assert either["mismatch"] == either["alternatives"][0]
    assert rules[names["match"]]["matches"] is True
    assert rules[names["match"]]["reason"] == "the rule has no targets: matching events go nowhere"


def test_explain_one_rule_and_a_put_events_entry(server, explained_bus):
    bus, names = explained_bus
    entry = {"Source": "shop", "DetailType": "order", "Detail": json.dumps({"state": "paid", "total": 7})}
    answer = local_ok(server, "POST", "/_local/explain",
                      {"event": entry, "eventBusName": bus_arn(bus), "rule": names["exact"]})
    [rule] = answer["rules"]
    assert rule["name"] == names["exact"] and rule["matches"] is True
    assert answer["event"]["detail"] == {"state": "paid", "total": 7}
    status, body = local(server, "POST", "/_local/explain", {"event": EVENT, "eventBusName": bus, "rule": "nope"})
    assert status == 404 and "nope" in body["message"]
    status, body = local(server, "POST", "/_local/explain", {"event": EVENT, "eventBusName": uid("nobus")})
    assert status == 404 and "does not exist" in body["message"]
    assert local(server, "POST", "/_local/explain", {"eventBusName": bus})[0] == 400
    assert local(server, "POST", "/_local/explain", {"event": [1]})[0] == 400


def test_explain_a_stored_event_by_id(server, events, explained_bus):
    bus, names = explained_bus
    event_id = put(events, bus, "shop", {"state": "open", "sku": "US-12", "total": 42}, "order")
    [listed] = local_ok(server, "GET", f"/_local/events?bus={bus}&eventId={event_id}&wait=5")["events"]
    assert listed["matchedRules"] == [names["match"]]
    answer = local_ok(server, "POST", "/_local/explain", {"eventId": event_id, "rule": names["numeric"]})
    assert answer["eventBusName"] == bus
    assert answer["event"]["id"] == event_id
    assert answer["received"]["matchedRules"] == [names["match"]]
    [rule] = answer["rules"]
    assert (rule["mismatch"]["path"], rule["mismatch"]["had"]) == ("detail.total", 42)
    status, body = local(server, "POST", "/_local/explain", {"eventId": "not-an-id"})
    assert status == 404


def test_explain_disabled_and_scheduled_rules(server, events, bus):
    disabled, scheduled = uid("off"), uid("sched")
    events.put_rule(Name=disabled, EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}), State="DISABLED")
    [rule] = local_ok(server, "POST", "/_local/explain", {"event": EVENT, "eventBusName": bus})["rules"]
    assert (rule["name"], rule["state"], rule["matches"]) == (disabled, "DISABLED", True)
    assert "not enabled" in rule["reason"]
    events.put_rule(Name=scheduled, ScheduleExpression="rate(1 day)")
    # The bus defaults to `default`.
    [rule] = local_ok(server, "POST", "/_local/explain", {"event": EVENT, "rule": scheduled})["rules"]
    assert rule["matches"] is False and "scheduled rule" in rule["reason"]


# --------------------------------------------------------------------------- recent events and waits


def test_events_lists_what_each_bus_received_with_the_rules_it_matched(server, events, bus, lambda_mock):
    function = uid("fn")
    rule = uid("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"detail-type": ["hit"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(function)}])
    ids = [put(events, bus, "a", {"n": 1}, "hit"), put(events, bus, "b", {"n": 2}, "miss"),
           put(events, bus, "a", {"n": 3}, "hit")]
    answer = local_ok(server, "GET", f"/_local/events?bus={bus}&min=3&wait=5")
    assert answer["timedOut"] is False
    listed = answer["events"]
    assert [e["eventId"] for e in listed] == ids[::-1]  # newest first
    assert [e["matchedRules"] for e in listed] == [[rule], [], [rule]]
    first = listed[-1]
    assert first["eventBusName"] == bus and first["account"] == "000000000000" and first["region"] == "us-east-1"
    assert first["event"]["detail"] == {"n": 1}
    assert parse_time(first["receivedTime"]) >= parse_time(first["time"])
    assert [e["eventId"] for e in local_ok(server, "GET", f"/_local/events?bus={bus}&source=b")["events"]] == [ids[1]]
    assert [e["eventId"] for e in local_ok(
        server, "GET", f"/_local/events?bus={bus}&detailType=hit&limit=1")["events"]] == [ids[2]]
    assert len(local_ok(server, "GET", f"/_local/events?bus={bus}&rule={rule}")["events"]) == 2
    assert "timedOut" not in local_ok(server, "GET", f"/_local/events?bus={bus}")


def test_a_wait_times_out_with_what_there_is(server, events, bus):
    put(events, bus, "a", {})
    started = time.monotonic()
    answer = local_ok(server, "GET", f"/_local/events?bus={bus}&min=5&wait=0.5")
    elapsed = time.monotonic() - started
    assert answer["timedOut"] is True and len(answer["events"]) == 1
    assert 0.45 <= elapsed < 2
    answer = local_ok(server, "GET", f"/_local/deliveries?rule={uid('none')}&wait=0.3")
    assert answer == {"deliveries": [], "timedOut": True}
    for bad in ("wait=soon", "wait=-1", "min=x", "limit=-2"):
        status, body = local(server, "GET", f"/_local/deliveries?{bad}")
        assert status == 400, (bad, body)


def test_a_wait_returns_within_100_ms_of_the_delivery(server, events, bus, lambda_mock):
    function, rule = uid("fn"), uid("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["waited"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(function)}])
    returned = {}

    def waiter():
        returned["answer"] = local_ok(server, "GET", f"/_local/deliveries?rule={rule}&outcome=succeeded&wait=20")
        returned["at"] = time.monotonic()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.3)  # the waiter is waiting (nothing to poll for: this is the situation under test)
    event_id = put(events, bus, "waited", {"x": 1}, "waited-type")
    thread.join(timeout=25)
    [invocation] = lambda_mock.invocations(function)
    answer = returned["answer"]
    assert answer["timedOut"] is False
    [record] = answer["deliveries"]
    assert record["eventId"] == event_id and record["source"] == "waited" and record["detailType"] == "waited-type"
    assert returned["at"] - invocation.received < 0.1
    # Every filter narrows the log.
    base = f"/_local/deliveries?rule={rule}"
    for query, count in (("&source=waited", 1), ("&source=other", 0), ("&detailType=waited-type", 1),
                         (f"&eventId={event_id}", 1), ("&outcome=failed", 0), ("&target=fn", 1),
                         (f"&target={lambda_arn(function)}", 1), ("&target=other", 0)):
        assert len(local_ok(server, "GET", base + query)["deliveries"]) == count, query


# --------------------------------------------------------------------------- reset


def populate(srv, region: str, lambda_function: str) -> dict:
    """Buses, rules, targets, an archive with an event, a connection, an API destination."""
    events = srv.client(region=region)
    bus, rule, archive, conn, dest = "orders", "to-fn", "kept", "conn", "dest"
    events.create_event_bus(Name=bus)
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(lambda_function, region)}])
    events.put_rule(Name="nightly", ScheduleExpression="cron(0 0 * * ? *)")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus, region))
    conn_arn = events.create_connection(Name=conn, AuthorizationType="API_KEY", AuthParameters={
        "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})["ConnectionArn"]
    events.create_api_destination(Name=dest, ConnectionArn=conn_arn, InvocationEndpoint="https://example.com",
                                  HttpMethod="POST")
    put(events, bus, "shop", {"n": 1})
    wait_archive_count(events, archive, 1)
    return {"bus": bus, "rule": rule, "archive": archive, "events": events}


def assert_fresh(events) -> None:
    assert [b["Name"] for b in events.list_event_buses()["EventBuses"]] == ["default"]
    assert events.list_rules()["Rules"] == []
    assert events.list_archives()["Archives"] == []
    assert events.list_replays()["Replays"] == []
    assert events.list_connections()["Connections"] == []
    assert events.list_api_destinations()["ApiDestinations"] == []


def test_reset_leaves_a_server_that_behaves_like_a_fresh_one(start_server, lambda_mock):
    srv = start_server(args=("--clock", "manual", "--clock-start", "2030-01-01T00:00:00Z"))
    function = uid("fn")
    made = populate(srv, "us-east-1", function)
    events = made["events"]
    lambda_mock.wait_for_events(function, 1)
    local_ok(srv, "POST", "/_local/faults", {"target": lambda_arn(function)})
    local_ok(srv, "POST", "/_local/clock", {"advance": "P2D"})
    assert local_ok(srv, "GET", "/_local/deliveries")["deliveries"]
    assert local_ok(srv, "GET", "/_local/events")["events"]

    assert local_ok(srv, "POST", "/_local/reset") == {"reset": "all"}
    assert_fresh(events)
    assert local_ok(srv, "GET", "/_local/deliveries") == {"deliveries": []}
    assert local_ok(srv, "GET", "/_local/events") == {"events": []}
    assert local_ok(srv, "GET", "/_local/faults") == {"faults": []}
    assert local_ok(srv, "GET", "/_local/clock")["now"] == "2030-01-01T00:00:00Z"

    # The same names again, as on a new server: the archive starts empty, events flow.
    again = populate(srv, "us-east-1", function)
    assert again["events"].describe_archive(ArchiveName="kept")["EventCount"] == 1
    assert len(lambda_mock.wait_for_events(function, 2)) == 2
    assert local_ok(srv, "POST", "/_local/clock", {"advance": "P1D"})["fired"] == 1


def test_reset_of_one_region_keeps_the_others(start_server, lambda_mock):
    srv = start_server()
    populate(srv, "us-east-1", uid("fn"))
    west = populate(srv, "eu-west-1", uid("fn"))
    assert local_ok(srv, "POST", "/_local/reset?region=us-east-1") == {
        "reset": {"account": "000000000000", "region": "us-east-1"}}
    assert_fresh(srv.client(region="us-east-1"))
    kept = west["events"]
    assert sorted(b["Name"] for b in kept.list_event_buses()["EventBuses"]) == ["default", "orders"]
    assert kept.describe_archive(ArchiveName="kept")["EventCount"] == 1
    assert kept.describe_archive(ArchiveName="kept")["ArchiveArn"] == archive_arn("kept", "eu-west-1")
    assert len(kept.list_connections()["Connections"]) == 1
    listed = local_ok(srv, "GET", "/_local/events")["events"]
    assert {e["region"] for e in listed} == {"eu-west-1"}
    assert wait_for(lambda: local_ok(srv, "GET", "/_local/deliveries")["deliveries"])
    assert all(":eu-west-1:" in d["ruleArn"] for d in local_ok(srv, "GET", "/_local/deliveries")["deliveries"])


def test_reset_stops_running_replays(start_server, lambda_mock):
    srv = start_server(args=("--replay-max-events-per-second", "4"))
    events = srv.client()
    function, bus = uid("fn"), uid("bus")
    events.create_event_bus(Name=bus)
    rule = uid("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["shop"]}))
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "fn", "Arn": lambda_arn(function)}])
    archive = uid("arch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    started = time.time()
    for n in range(40):
        put(events, bus, "shop", {"n": n})
    wait_archive_count(events, archive, 40)
    replay = uid("replay")
    events.start_replay(ReplayName=replay, EventSourceArn=archive_arn(archive),
                        EventStartTime=started - 5, EventEndTime=time.time() + 1,
                        Destination={"Arn": bus_arn(bus)})
    wait_for(lambda: events.describe_replay(ReplayName=replay)["State"] == "RUNNING")
    assert local_ok(srv, "POST", "/_local/reset") == {"reset": "all"}
    assert events.list_replays()["Replays"] == []
    replayed = len(lambda_mock.events(function, replay_name=replay))
    assert replayed < 40
    # Stopped: nothing more is replayed, and the names are free again.
    events.create_event_bus(Name=bus)
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    assert events.describe_archive(ArchiveName=archive)["EventCount"] == 0
    # Long enough for a replay still running at 4 events/s to send two more.
    assert_stays(lambda: len(lambda_mock.events(function, replay_name=replay)) == replayed, duration=0.6)
