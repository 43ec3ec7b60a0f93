"""Answers pinned to what real AWS was recorded answering (issue 11): replays cancelled at once
and continued, future windows, empty replays, error order; ListArchives on an unknown bus;
pattern error columns; schedule expression grammar; the old 256 KB PutEvents limit."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import archive_arn, assert_error, bus_arn, uid, wait_for, wait_replay_state
from test_replay_lifecycle import Archived, make_archive, replayed_ids, start


def settle(lambda_mock, fn: str, replay: str) -> set[str]:
    """The ids a replay delivered, once no more arrive for a while (routed events may still be
    in the delivery queue when a replay stops)."""
    seen: list[int] = []

    def quiet():
        n = len(lambda_mock.events(fn, replay))
        seen.append(n)
        return len(seen) >= 6 and len(set(seen[-6:])) == 1

    wait_for(quiet, timeout=30, interval=0.05, message=f"deliveries of {replay} to settle")
    return set(replayed_ids(lambda_mock, fn, replay))


def continue_after_cancel(ev, lambda_mock, a: Archived, r1: str) -> None:
    """The promise of a cancelled replay: it reports EventLastReplayedTime when it replayed
    anything; every event before it was replayed; a new replay from it to the same end replays
    the rest, so the two together replay every archived event."""
    d1 = wait_replay_state(ev, r1, "CANCELLED", timeout=30)
    got1 = settle(lambda_mock, a.fn, r1)
    at = a.id_times()
    if not got1:
        assert "EventLastReplayedTime" not in d1, d1
        restart_at = a.start
    else:
        assert "EventLastReplayedTime" in d1, f"{len(got1)} events replayed, yet no EventLastReplayedTime: {d1}"
        restart_at = d1["EventLastReplayedTime"]
        assert a.start <= restart_at <= a.end
        before = {i for i, t in at.items() if t < restart_at}
        assert before <= got1, f"{len(before - got1)} events before EventLastReplayedTime were not replayed"
    listed = [r for r in ev.list_replays(NamePrefix=r1)["Replays"] if r["ReplayName"] == r1]
    assert listed and listed[0].get("EventLastReplayedTime") == d1.get("EventLastReplayedTime")
    r2 = uid("rar2")
    ev.start_replay(ReplayName=r2, EventSourceArn=archive_arn(a.archive), EventStartTime=restart_at,
                    EventEndTime=a.end, Destination={"Arn": bus_arn(a.bus)})
    wait_replay_state(ev, r2, "COMPLETED", timeout=60)
    got2 = settle(lambda_mock, a.fn, r2)
    assert got1 | got2 == set(a.ids), f"{len(set(a.ids) - got1 - got2)} archived events never replayed"
    assert all(at[i] >= restart_at for i in got2)


def test_cancel_at_once_reports_where_to_continue(start_server, lambda_mock):
    """AWS: a replay of 2,000 events cancelled right after StartReplay is CANCELLED; when it
    delivered anything, EventLastReplayedTime says where a new replay continues."""
    srv = start_server()
    ev = srv.client()
    a = make_archive(ev, 2000, spacing_s=1, end_ago=timedelta(hours=1))
    r1 = uid("rar1")
    assert start(ev, a, r1)["State"] == "STARTING"
    cancelled = ev.cancel_replay(ReplayName=r1)
    assert cancelled["State"] == "CANCELLING", cancelled
    continue_after_cancel(ev, lambda_mock, a, r1)


@pytest.mark.parametrize("after", [300, 1200])
def test_cancel_at_several_points_then_continue(start_server, lambda_mock, after):
    srv = start_server(args=("--replay-max-events-per-second", "1000"))
    ev = srv.client()
    a = make_archive(ev, 2000, spacing_s=1, end_ago=timedelta(hours=1))
    r1 = uid("rar1")
    start(ev, a, r1)
    wait_for(lambda: len(lambda_mock.events(a.fn, r1)) >= after, timeout=30, interval=0.02,
             message=f"{after} events of {r1} delivered")
    assert ev.cancel_replay(ReplayName=r1)["State"] == "CANCELLING"
    continue_after_cancel(ev, lambda_mock, a, r1)
    assert len(settle(lambda_mock, a.fn, r1)) < len(a.ids), "the cancel came after everything was replayed"


def test_cancel_after_a_restart_then_continue(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    args = ("--replay-max-events-per-second", "200")
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    a = make_archive(ev, 600, spacing_s=1, end_ago=timedelta(hours=1))
    r1 = uid("rar1")
    start(ev, a, r1)
    wait_for(lambda: len(lambda_mock.events(a.fn, r1)) >= 100, timeout=30, interval=0.02,
             message=f"some events of {r1} delivered")
    assert srv.stop() == 0
    srv2 = start_server(data_dir=data, args=args)
    ev2 = srv2.client()
    assert ev2.cancel_replay(ReplayName=r1)["State"] == "CANCELLING"
    continue_after_cancel(ev2, lambda_mock, a, r1)


def test_start_then_cancel_finds_the_replay_in_progress(events, lambda_mock):
    """On AWS a replay spends seconds in STARTING, so CancelReplay right after StartReplay
    succeeds even for a tiny replay."""
    a = make_archive(events, 3, spacing_s=10, end_ago=timedelta(hours=1))
    name = uid("rastc")
    assert start(events, a, name)["State"] == "STARTING"
    resp = events.cancel_replay(ReplayName=name)
    assert resp["State"] == "CANCELLING"
    d = wait_replay_state(events, name, "CANCELLED")
    assert d["State"] == "CANCELLED"


def test_replay_with_nothing_replayed_has_no_last_replayed_time(events, lambda_mock):
    a = make_archive(events, 3, spacing_s=10, end_ago=timedelta(hours=1))
    name = uid("raempty")
    # A window before every archived event.
    events.start_replay(ReplayName=name, EventSourceArn=archive_arn(a.archive),
                        EventStartTime=a.start - timedelta(hours=2), EventEndTime=a.start - timedelta(hours=1),
                        Destination={"Arn": bus_arn(a.bus)})
    d = wait_replay_state(events, name, "COMPLETED")
    assert "EventLastReplayedTime" not in d, d
    listed = [r for r in events.list_replays(NamePrefix=name)["Replays"] if r["ReplayName"] == name]
    assert listed and "EventLastReplayedTime" not in listed[0], listed
    # With events replayed it is there.
    full = uid("rafull")
    start(events, a, full)
    d = wait_replay_state(events, full, "COMPLETED")
    assert d["EventLastReplayedTime"] == a.end


def test_event_end_time_in_the_future_is_accepted(events, lambda_mock):
    a = make_archive(events, 3, spacing_s=10, end_ago=timedelta(minutes=5))
    name = uid("rafut")
    resp = events.start_replay(ReplayName=name, EventSourceArn=archive_arn(a.archive), EventStartTime=a.start,
                               EventEndTime=datetime.now(timezone.utc) + timedelta(minutes=1),
                               Destination={"Arn": bus_arn(a.bus)})
    assert resp["State"] == "STARTING"
    wait_replay_state(events, name, "COMPLETED")
    lambda_mock.wait_for_events(a.fn, 3, replay_name=name)
    assert sorted(replayed_ids(lambda_mock, a.fn, name)) == sorted(a.ids)


def test_missing_destination_bus_comes_before_the_cross_bus_rule(events):
    a = make_archive(events, 1, end_ago=timedelta(hours=1), with_rule=False)
    ghost = uid("ghostbus")
    with pytest.raises(ClientError) as e:
        events.start_replay(ReplayName=uid("raghost"), EventSourceArn=archive_arn(a.archive),
                            EventStartTime=a.start, EventEndTime=a.end, Destination={"Arn": bus_arn(ghost)})
    assert_error(e, "ResourceNotFoundException", f"Event bus {ghost} does not exist.")


def test_list_archives_of_an_unknown_bus(events):
    ghost = uid("ghostbus")
    with pytest.raises(ClientError) as e:
        events.list_archives(EventSourceArn=bus_arn(ghost))
    assert_error(e, "ResourceNotFoundException", f"Event bus {ghost} does not exist.")


def test_single_quoted_pattern_error_column(events):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("raquote"), EventPattern="{'bad': 'quotation'}")
    assert_error(e, "InvalidEventPatternException",
                 "Event pattern is not valid. Reason: Unexpected character (''' (code 39)): was expecting "
                 "double-quote to start field name\n at [Source: (String)\"{'bad': 'quotation'}\"; line: 1, column: 2]")


@pytest.mark.parametrize("expression", [
    "rate( 10 minutes )", " rate(10 minutes)", "rate(10 MINUTES)", "rate(1 minutes)", "rate(10 minute)",
    "rate(0 minutes)", "rate(-10 minutes)", "rate(10)", "rate()", "rate(10 seconds)",
    "cron(7 20 * * 1-7 *)", "cron(*/60 * * * ? *)", "cron(0 1 * * * *)", "cron(71 8 1 * ? *)", "cron(INVALID)",
])
def test_schedule_expressions_aws_refuses(events, expression):
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("rasched"), ScheduleExpression=expression)
    assert_error(e, "ValidationException", "Parameter ScheduleExpression is not valid.")


@pytest.mark.parametrize("expression", [
    "rate(1 minute)", "rate(5 minutes)", "rate(1 hour)", "rate(1 day)",
    "cron(15 10 ? * 6L 2002-2005)", "cron(0 2 ? * SAT#3 *)", "cron(0/5 5 ? JAN 1-5 2022)",
])
def test_schedule_expressions_aws_accepts(events, expression):
    name = uid("rasched")
    events.put_rule(Name=name, ScheduleExpression=expression, State="DISABLED")
    assert events.describe_rule(Name=name)["ScheduleExpression"] == expression


def test_old_256_kb_put_events_limit_on_request(start_server):
    """Recorded before AWS raised the limit to 1 MB: a 262,144-byte Detail is over the limit."""
    srv = start_server(args=("--max-put-events-bytes", "262144"))
    ev = srv.client()
    detail = json.dumps({"a": "x" * (262_144 - 9)})
    assert len(detail) == 262_144
    with pytest.raises(ClientError) as e:
        ev.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": detail}])
    assert_error(e, "ValidationException", "Total size of the entries in the request is over the limit.")
    # The default (1 MB) takes it.
    default = start_server().client()
    resp = default.put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": detail}])
    assert resp["FailedEntryCount"] == 0


# --------------------------------------------------------------------------- connections


def oauth_connection(events, name: str, method: str = "POST", endpoint: str = "http://127.0.0.1:9/token"):
    return events.create_connection(Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS", AuthParameters={
        "OAuthParameters": {"ClientParameters": {"ClientID": "id", "ClientSecret": "secret"},
                            "AuthorizationEndpoint": endpoint, "HttpMethod": method}})


def test_connection_secret_arn_has_its_own_uuid(events):
    name = uid("raconn")
    created = events.create_connection(Name=name, AuthorizationType="BASIC",
                                       AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})
    conn_uuid = created["ConnectionArn"].rsplit("/", 1)[1]
    secret = events.describe_connection(Name=name)["SecretArn"]
    prefix = f"arn:aws:secretsmanager:us-east-1:000000000000:secret:events!connection/{name}/"
    assert secret.startswith(prefix), secret
    secret_uuid, suffix = secret[len(prefix):].rsplit("-", 1)
    assert len(secret_uuid) == 36 and secret_uuid != conn_uuid, (secret_uuid, conn_uuid)
    assert len(suffix) == 6 and suffix.isalnum(), suffix


def test_oauth_connection_still_authorizing(events):
    """AWS: HttpMethod in any case and an AuthorizationEndpoint that is not a URL are accepted;
    the connection is AUTHORIZING with a LastAuthorizedTime, and its API destinations are
    INACTIVE in every answer."""
    name = uid("raoauth")
    created = oauth_connection(events, name, method="put", endpoint="replace_this")
    assert created["ConnectionState"] == "AUTHORIZING"
    d = events.describe_connection(Name=name)
    assert d["ConnectionState"] == "AUTHORIZING"
    assert "LastAuthorizedTime" in d, d
    dest = uid("radest")
    made = events.create_api_destination(Name=dest, ConnectionArn=created["ConnectionArn"], HttpMethod="POST",
                                         InvocationEndpoint="https://example.com/x")
    assert made["ApiDestinationState"] == "INACTIVE"
    assert events.describe_api_destination(Name=dest)["ApiDestinationState"] == "INACTIVE"
    listed = [x for x in events.list_api_destinations(NamePrefix=dest)["ApiDestinations"] if x["Name"] == dest]
    assert listed[0]["ApiDestinationState"] == "INACTIVE"
    updated = events.update_api_destination(Name=dest, InvocationRateLimitPerSecond=5)
    assert updated["ApiDestinationState"] == "INACTIVE"


def test_basic_and_api_key_destinations_are_active(events):
    for auth_type, params in [("BASIC", {"BasicAuthParameters": {"Username": "u", "Password": "p"}}),
                              ("API_KEY", {"ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})]:
        conn = events.create_connection(Name=uid("raconn"), AuthorizationType=auth_type, AuthParameters=params)
        dest = uid("radest")
        made = events.create_api_destination(Name=dest, ConnectionArn=conn["ConnectionArn"], HttpMethod="GET",
                                             InvocationEndpoint="https://example.com/x")
        assert made["ApiDestinationState"] == "ACTIVE"
        assert events.describe_api_destination(Name=dest)["ApiDestinationState"] == "ACTIVE"


def test_api_destination_http_method_enum_in_aws_order(events):
    conn = events.create_connection(Name=uid("raconn"), AuthorizationType="BASIC",
                                    AuthParameters={"BasicAuthParameters": {"Username": "u", "Password": "p"}})
    with pytest.raises(ClientError) as e:
        events.create_api_destination(Name=uid("radest"), ConnectionArn=conn["ConnectionArn"],
                                      HttpMethod="INVALID_METHOD", InvocationEndpoint="https://example.com/x")
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'INVALID_METHOD' at 'httpMethod' failed to satisfy constraint: "
                 "Member must satisfy enum value set: [HEAD, POST, PATCH, DELETE, PUT, GET, OPTIONS]")


def test_update_unknown_connection(events):
    name = uid("ranone")
    with pytest.raises(ClientError) as e:
        events.update_connection(Name=name, Description="x")
    assert_error(e, "ResourceNotFoundException", f"Connection '{name}' does not exist.")
    with pytest.raises(ClientError) as e:
        events.describe_connection(Name=name)
    assert_error(e, "ResourceNotFoundException",
                 f"Failed to describe the connection(s). Connection '{name}' does not exist.")
