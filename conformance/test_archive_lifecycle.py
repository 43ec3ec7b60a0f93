"""Archives through their whole life (issue 5): UpdateArchive, ListArchives filters and pages,
the managed rule's protection, exact counts, retention sweeps, CreateArchive errors, and the
AWS CLI's update-archive / describe-archive."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import (
    CliError,
    archive_arn,
    assert_error,
    assert_stays,
    bus_arn,
    rule_to_lambda,
    uid,
    wait_archive_count,
    wait_replay_state,
)

MANAGER_NOT_REPLAYED = {"replay-name": [{"exists": False}]}


def put_batch(events, bus: str, entries: list[dict]) -> list[str]:
    """PutEvents in batches of 10 (each entry: DetailType/Detail/Source/Time overrides); returns EventIds."""
    ids = []
    for i in range(0, len(entries), 10):
        chunk = [{"EventBusName": bus, "Source": "conformance.test", "DetailType": "t", "Detail": "{}", **e}
                 for e in entries[i:i + 10]]
        resp = events.put_events(Entries=chunk)
        assert resp["FailedEntryCount"] == 0, resp
        ids += [r["EventId"] for r in resp["Entries"]]
    return ids


def managed_rule(events, bus: str, archive: str) -> dict:
    return events.describe_rule(Name=f"Events-Archive-{archive}", EventBusName=bus)


# --------------------------------------------------------------------------- UpdateArchive


def test_update_archive_pattern_description_retention(events, bus):
    name = uid("ularch")
    created = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), Description="before",
                                    EventPattern=json.dumps({"detail-type": ["a"]}), RetentionDays=3)
    assert json.loads(managed_rule(events, bus, name)["EventPattern"]) == {"detail-type": ["a"], **MANAGER_NOT_REPLAYED}
    put_batch(events, bus, [{"DetailType": dt} for dt in ("a", "b", "a", "b", "b")])
    wait_archive_count(events, name, 2)

    new_pattern = {"detail-type": ["b"], "source": ["conformance.test"]}
    resp = events.update_archive(ArchiveName=name, Description="after", EventPattern=json.dumps(new_pattern),
                                 RetentionDays=12)
    assert resp["ArchiveArn"] == archive_arn(name)
    assert resp["State"] == "ENABLED"  # the server applies at once (documented choice)
    assert resp["CreationTime"] == created["CreationTime"]

    d = events.describe_archive(ArchiveName=name)
    assert d["Description"] == "after"
    assert json.loads(d["EventPattern"]) == new_pattern
    assert d["RetentionDays"] == 12
    assert d["State"] == "ENABLED"
    assert d["CreationTime"] == created["CreationTime"]
    # The managed rule follows: the new pattern plus "replay-name" absent.
    rule = managed_rule(events, bus, name)
    assert json.loads(rule["EventPattern"]) == {**new_pattern, **MANAGER_NOT_REPLAYED}
    assert rule["ManagedBy"]
    assert rule["State"] == "ENABLED"

    # New events are filtered by the new pattern; the two archived "a" events stay.
    put_batch(events, bus, [{"DetailType": dt} for dt in ("a", "b", "a", "b", "c")])
    wait_archive_count(events, name, 4)
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == 4,
                 message="2 old 'a' events + 2 new 'b' events")


def test_update_archive_single_members_keep_the_others(events, bus):
    name = uid("ularch")
    pattern = {"source": ["x"]}
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), Description="d0",
                          EventPattern=json.dumps(pattern), RetentionDays=4)

    events.update_archive(ArchiveName=name, Description="d1")
    d = events.describe_archive(ArchiveName=name)
    assert (d["Description"], json.loads(d["EventPattern"]), d["RetentionDays"]) == ("d1", pattern, 4)

    events.update_archive(ArchiveName=name, RetentionDays=0)
    d = events.describe_archive(ArchiveName=name)
    assert (d["Description"], json.loads(d["EventPattern"]), d["RetentionDays"]) == ("d1", pattern, 0)

    pattern2 = {"source": ["y"]}
    events.update_archive(ArchiveName=name, EventPattern=json.dumps(pattern2))
    d = events.describe_archive(ArchiveName=name)
    assert (d["Description"], json.loads(d["EventPattern"]), d["RetentionDays"]) == ("d1", pattern2, 0)
    assert json.loads(managed_rule(events, bus, name)["EventPattern"]) == {**pattern2, **MANAGER_NOT_REPLAYED}


def test_update_archive_without_change_member(events, bus):
    name = uid("ularch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), Description="kept")
    with pytest.raises(ClientError) as e:
        events.update_archive(ArchiveName=name)
    assert_error(e, "ValidationException", "At least one of EventPattern, RetentionDays or Description must be provided.")
    assert events.describe_archive(ArchiveName=name)["Description"] == "kept"


def test_update_unknown_archive(events):
    name = uid("noarch")
    with pytest.raises(ClientError) as e:
        events.update_archive(ArchiveName=name, Description="x")
    assert_error(e, "ResourceNotFoundException", f"Archive {name} does not exist.")


def test_update_archive_invalid_pattern(events, bus):
    name = uid("ularch")
    pattern = {"source": ["ok"]}
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), EventPattern=json.dumps(pattern))
    for bad in ('{"source": "x"}', "not json", '{"detail-type": []}'):
        with pytest.raises(ClientError) as e:
            events.update_archive(ArchiveName=name, EventPattern=bad, Description="must not apply")
        msg = assert_error(e, "InvalidEventPatternException")
        assert msg.startswith("Event pattern is not valid. Reason: "), msg
    d = events.describe_archive(ArchiveName=name)
    assert json.loads(d["EventPattern"]) == pattern
    assert "Description" not in d
    assert json.loads(managed_rule(events, bus, name)["EventPattern"]) == {**pattern, **MANAGER_NOT_REPLAYED}


# --------------------------------------------------------------------------- ListArchives


def test_list_archives_filters(events, bus):
    prefix = uid("lf")
    other = uid("albus")
    events.create_event_bus(Name=other)
    on_bus = [f"{prefix}-a{i}" for i in range(3)]
    on_other = [f"{prefix}-b{i}" for i in range(2)]
    for n in on_bus:
        events.create_archive(ArchiveName=n, EventSourceArn=bus_arn(bus))
    for n in on_other:
        events.create_archive(ArchiveName=n, EventSourceArn=bus_arn(other))

    def names(**kw):
        return sorted(a["ArchiveName"] for a in events.list_archives(**kw)["Archives"])

    assert names(NamePrefix=prefix) == sorted(on_bus + on_other)
    assert names(NamePrefix=f"{prefix}-b") == on_other
    assert names(EventSourceArn=bus_arn(bus)) == on_bus
    assert names(EventSourceArn=bus_arn(other), NamePrefix=prefix) == on_other
    assert names(EventSourceArn=bus_arn(other), NamePrefix=f"{prefix}-a") == []
    assert names(NamePrefix=prefix, State="ENABLED") == sorted(on_bus + on_other)
    for state in ("DISABLED", "CREATING", "UPDATING", "CREATE_FAILED", "UPDATE_FAILED"):
        assert names(NamePrefix=prefix, State=state) == [], state
    # A deleted archive leaves the listing.
    events.delete_archive(ArchiveName=on_bus[0])
    assert names(EventSourceArn=bus_arn(bus)) == on_bus[1:]


def test_list_archives_pagination(events, bus):
    prefix = uid("lp")
    expected = sorted(f"{prefix}-{i:02d}" for i in range(7))
    for n in expected:
        events.create_archive(ArchiveName=n, EventSourceArn=bus_arn(bus))
    for limit, pages in ((2, 4), (3, 3), (7, 1), (100, 1)):
        seen, tokens, token = [], [], None
        for _ in range(20):  # bounded walk
            kw = {"NamePrefix": prefix, "Limit": limit}
            if token:
                kw["NextToken"] = token
            resp = events.list_archives(**kw)
            page = [a["ArchiveName"] for a in resp["Archives"]]
            assert 1 <= len(page) <= limit, (limit, page)
            seen += page
            token = resp.get("NextToken")
            if not token:
                break
            assert token not in tokens, f"NextToken {token!r} repeated"
            tokens.append(token)
        else:
            pytest.fail(f"pagination with Limit={limit} did not end")
        assert len(seen) == len(set(seen)), f"duplicates with Limit={limit}: {seen}"
        assert sorted(seen) == expected, limit
        assert len(tokens) + 1 == pages, (limit, tokens)
    # EventSourceArn filter with pages too.
    resp = events.list_archives(EventSourceArn=bus_arn(bus), Limit=5)
    assert len(resp["Archives"]) == 5 and resp.get("NextToken")
    last = events.list_archives(EventSourceArn=bus_arn(bus), Limit=5, NextToken=resp["NextToken"])
    assert len(last["Archives"]) == 2 and "NextToken" not in last
    assert sorted(a["ArchiveName"] for a in resp["Archives"] + last["Archives"]) == expected


# --------------------------------------------------------------------------- the managed rule


def test_managed_rule_is_protected(events, bus, lambda_mock):
    name = uid("march")
    managed = f"Events-Archive-{name}"
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    user_rule = uid("urule")
    events.put_rule(Name=user_rule, EventBusName=bus, EventPattern=json.dumps({"source": ["x"]}))

    rules = {r["Name"]: r for r in events.list_rules(EventBusName=bus)["Rules"]}
    assert set(rules) == {managed, user_rule}
    assert isinstance(rules[managed].get("ManagedBy"), str) and rules[managed]["ManagedBy"], rules[managed]
    assert "ManagedBy" not in rules[user_rule]
    assert rules[managed]["State"] == "ENABLED"
    assert json.loads(rules[managed]["EventPattern"]) == MANAGER_NOT_REPLAYED
    before = events.describe_rule(Name=managed, EventBusName=bus)

    def refused(call, **kw):
        with pytest.raises(ClientError) as e:
            call(**kw)
        msg = assert_error(e, "ManagedRuleException")
        assert managed in msg, msg

    refused(events.put_rule, Name=managed, EventBusName=bus, EventPattern=json.dumps({"source": ["y"]}))
    refused(events.delete_rule, Name=managed, EventBusName=bus)
    refused(events.put_targets, Rule=managed, EventBusName=bus, Targets=[{"Id": "t", "Arn": "arn:aws:lambda:us-east-1:000000000000:function:f"}])
    refused(events.disable_rule, Name=managed, EventBusName=bus)
    refused(events.enable_rule, Name=managed, EventBusName=bus)

    after = events.describe_rule(Name=managed, EventBusName=bus)
    assert after == {**before, "ResponseMetadata": after["ResponseMetadata"]}
    assert events.list_targets_by_rule(Rule=managed, EventBusName=bus)["Targets"] == []
    # It still archives.
    put_batch(events, bus, [{}])
    wait_archive_count(events, name, 1)

    # DeleteArchive removes the archive and its rule.
    events.delete_archive(ArchiveName=name)
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName=name)
    assert_error(e, "ResourceNotFoundException", f"Archive {name} does not exist.")
    with pytest.raises(ClientError) as e:
        events.describe_rule(Name=managed, EventBusName=bus)
    assert_error(e, "ResourceNotFoundException", f"Rule {managed} does not exist on EventBus {bus}.")
    assert [r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]] == [user_rule]
    with pytest.raises(ClientError) as e:
        events.delete_archive(ArchiveName=name)
    assert_error(e, "ResourceNotFoundException", f"Archive {name} does not exist.")


# --------------------------------------------------------------------------- counts


def test_event_count_is_exact(events, bus):
    name = uid("carch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), EventPattern=json.dumps({"source": ["keep"]}))
    entries = [{"Source": "keep" if i % 10 not in (2, 5, 8) else "drop", "Detail": json.dumps({"i": i})}
               for i in range(20)]
    put_batch(events, bus, entries)
    kept = sum(1 for e in entries if e["Source"] == "keep")
    assert kept == 14
    wait_archive_count(events, name, kept)
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == kept,
                 message="non-matching events are not counted")
    listed = [a for a in events.list_archives(NamePrefix=name)["Archives"] if a["ArchiveName"] == name]
    assert listed and listed[0]["EventCount"] == kept
    assert listed[0]["SizeBytes"] == events.describe_archive(ArchiveName=name)["SizeBytes"]


def test_size_bytes_grows_with_event_size(events, bus):
    name = uid("sarch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    assert events.describe_archive(ArchiveName=name)["SizeBytes"] == 0
    put_batch(events, bus, [{"Detail": json.dumps({"pad": ""})}])
    small = wait_archive_count(events, name, 1)["SizeBytes"]
    assert small > 0
    put_batch(events, bus, [{"Detail": json.dumps({"pad": ""})}])
    two_small = wait_archive_count(events, name, 2)["SizeBytes"]
    small_delta = two_small - small
    assert small_delta > 0
    put_batch(events, bus, [{"Detail": json.dumps({"pad": "x" * 3000})}])
    big = wait_archive_count(events, name, 3)["SizeBytes"]
    big_delta = big - two_small
    assert big_delta >= small_delta + 3000, (small_delta, big_delta)


# --------------------------------------------------------------------------- retention


def test_retention_sweep(start_server, lambda_mock):
    srv = start_server(args=("--retention-sweep-secs", "1"))
    ev = srv.client()
    bus = uid("rtbus")
    ev.create_event_bus(Name=bus)
    ten, keep_all, later = uid("rt10"), uid("rt0"), uid("rtupd")
    ev.create_archive(ArchiveName=ten, EventSourceArn=bus_arn(bus), RetentionDays=10)
    ev.create_archive(ArchiveName=keep_all, EventSourceArn=bus_arn(bus), RetentionDays=0)
    ev.create_archive(ArchiveName=later, EventSourceArn=bus_arn(bus))
    fn = uid("rtfn")
    rule_to_lambda(ev, bus, fn)

    now = datetime.now(timezone.utc).replace(microsecond=0)
    recent = [now - timedelta(days=3, seconds=i) for i in range(3)]
    old = [now - timedelta(days=30, seconds=i) for i in range(2)]
    recent_ids = put_batch(ev, bus, [{"Time": t, "Detail": json.dumps({"age": "3d"})} for t in recent])
    old_ids = put_batch(ev, bus, [{"Time": t, "Detail": json.dumps({"age": "30d"})} for t in old])
    lambda_mock.wait_for_events(fn, 5, replay_name=None)

    full = wait_archive_count(ev, keep_all, 5)
    swept = wait_archive_count(ev, ten, 3, timeout=10)
    assert 0 < swept["SizeBytes"] < full["SizeBytes"]
    # More sweeps (one a second) change nothing: RetentionDays=0 keeps everything.
    assert_stays(lambda: (ev.describe_archive(ArchiveName=ten)["EventCount"],
                          ev.describe_archive(ArchiveName=keep_all)["EventCount"]) == (3, 5),
                 duration=2.5, interval=0.2, message="counts (10-day archive, keep-all archive)")

    # The ones that went are the 30-day-old ones: a replay over the whole span brings the 3 recent.
    replay = uid("rtrep")
    ev.start_replay(ReplayName=replay, EventSourceArn=archive_arn(ten), EventStartTime=now - timedelta(days=31),
                    EventEndTime=now - timedelta(days=1), Destination={"Arn": bus_arn(bus)})
    wait_replay_state(ev, replay)
    got = lambda_mock.wait_for_events(fn, 3, replay_name=replay)
    assert_stays(lambda: len(lambda_mock.events(fn, replay)) == 3, duration=0.5)
    assert sorted(e["id"] for e in got) == sorted(recent_ids)
    assert not set(old_ids) & {e["id"] for e in got}

    # A retention set later by UpdateArchive applies at the next sweep.
    assert ev.describe_archive(ArchiveName=later)["EventCount"] == 5
    ev.update_archive(ArchiveName=later, RetentionDays=10)
    wait_archive_count(ev, later, 3, timeout=10)


# --------------------------------------------------------------------------- CreateArchive errors


def test_create_archive_errors(events, bus):
    name = uid("earch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    other = uid("albus")
    events.create_event_bus(Name=other)
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(other))
    assert_error(e, "ResourceAlreadyExistsException", f"Archive {name} already exists.")
    assert events.describe_archive(ArchiveName=name)["EventSourceArn"] == bus_arn(bus)

    missing = uid("nobus")
    new = uid("earch")
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=new, EventSourceArn=bus_arn(missing))
    assert_error(e, "ResourceNotFoundException", f"Event bus {missing} does not exist.")
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName=new)
    assert_error(e, "ResourceNotFoundException")

    longest = uid("L").ljust(48, "z")
    assert len(longest) == 48
    events.create_archive(ArchiveName=longest, EventSourceArn=bus_arn(bus))
    assert events.describe_archive(ArchiveName=longest)["ArchiveName"] == longest
    too_long = longest + "z"
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=too_long, EventSourceArn=bus_arn(bus))
    msg = assert_error(e, "ValidationException")
    assert msg.endswith("Member must have length less than or equal to 48"), msg
    assert msg == (f"1 validation error detected: Value '{too_long}' at 'archiveName' failed to satisfy "
                   "constraint: Member must have length less than or equal to 48")


# --------------------------------------------------------------------------- AWS CLI


def test_cli_update_and_describe_archive(aws_cli, events, bus):
    name = uid("cliarch")
    aws_cli("create-archive", "--archive-name", name, "--event-source-arn", bus_arn(bus), "--retention-days", "2")
    pattern = {"source": ["cli.src"]}
    out = aws_cli("update-archive", "--archive-name", name, "--description", "from the cli",
                  "--event-pattern", json.dumps(pattern), "--retention-days", "9")
    assert out["ArchiveArn"] == archive_arn(name)
    assert out["State"] == "ENABLED"
    assert isinstance(out["CreationTime"], (int, float))  # the CLI v1 prints the raw epoch seconds

    d = aws_cli("describe-archive", "--archive-name", name)
    assert d["ArchiveName"] == name
    assert d["Description"] == "from the cli"
    assert json.loads(d["EventPattern"]) == pattern
    assert d["RetentionDays"] == 9
    assert d["EventCount"] == 0 and d["SizeBytes"] == 0
    assert json.loads(managed_rule(events, bus, name)["EventPattern"]) == {**pattern, **MANAGER_NOT_REPLAYED}

    with pytest.raises(CliError) as e:
        aws_cli("update-archive", "--archive-name", name)
    assert e.value.returncode == 255
    assert ("An error occurred (ValidationException) when calling the UpdateArchive operation: "
            "At least one of EventPattern, RetentionDays or Description must be provided.") in e.value.stderr
    missing = uid("noarch")
    with pytest.raises(CliError) as e:
        aws_cli("describe-archive", "--archive-name", missing)
    assert e.value.returncode == 255
    assert (f"An error occurred (ResourceNotFoundException) when calling the DescribeArchive operation: "
            f"Archive {missing} does not exist.") in e.value.stderr
