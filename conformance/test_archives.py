"""CreateArchive, DescribeArchive, ListArchives, DeleteArchive (boto3)."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from support import (
    archive_arn,
    assert_error,
    assert_stays,
    bus_arn,
    put_one,
    uid,
    wait_archive_count,
)


def test_create_and_describe(events, bus):
    name = uid("arch")
    created = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), Description="all orders",
                                    RetentionDays=7)
    assert created["ArchiveArn"] == archive_arn(name)
    assert created["State"] in ("ENABLED", "CREATING")
    assert isinstance(created["CreationTime"], datetime)

    d = events.describe_archive(ArchiveName=name)
    assert d["ArchiveName"] == name
    assert d["ArchiveArn"] == archive_arn(name)
    assert d["EventSourceArn"] == bus_arn(bus)
    assert d["Description"] == "all orders"
    assert d["State"] == "ENABLED"
    assert d["RetentionDays"] == 7
    assert d["EventCount"] == 0
    assert d["SizeBytes"] == 0
    assert isinstance(d["CreationTime"], datetime)
    assert "EventPattern" not in d


def test_managed_rule(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    managed = f"Events-Archive-{name}"
    rules = {r["Name"]: r for r in events.list_rules(EventBusName=bus)["Rules"]}
    assert managed in rules, rules
    assert rules[managed].get("ManagedBy"), rules[managed]
    d = events.describe_rule(Name=managed, EventBusName=bus)
    assert d["ManagedBy"]
    assert d["State"] == "ENABLED"
    # Deleting the archive removes its rule.
    events.delete_archive(ArchiveName=name)
    assert managed not in {r["Name"] for r in events.list_rules(EventBusName=bus)["Rules"]}


def test_event_count_and_size(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    for i in range(3):
        put_one(events, bus, detail={"i": i, "pad": "x" * 100})
    d = wait_archive_count(events, name, 3)
    assert d["SizeBytes"] > 300
    size3 = d["SizeBytes"]
    put_one(events, bus, detail={"i": 3, "pad": "x" * 100})
    d = wait_archive_count(events, name, 4)
    assert d["SizeBytes"] > size3
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == 4)


def test_batch_put_counts_each_entry(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    resp = events.put_events(Entries=[
        {"EventBusName": bus, "Source": "s", "DetailType": "t", "Detail": json.dumps({"i": i})} for i in range(10)])
    assert resp["FailedEntryCount"] == 0
    # Failed entries are not archived.
    resp = events.put_events(Entries=[{"EventBusName": bus, "Source": "s", "DetailType": "t", "Detail": "oops"}])
    assert resp["FailedEntryCount"] == 1
    wait_archive_count(events, name, 10)
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == 10)


def test_archive_with_pattern_stores_only_matching(events, bus):
    name = uid("arch")
    pattern = {"detail-type": ["keep"]}
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), EventPattern=json.dumps(pattern))
    assert json.loads(events.describe_archive(ArchiveName=name)["EventPattern"]) == pattern
    for dt in ("drop", "drop", "keep", "drop", "keep"):
        put_one(events, bus, detail_type=dt)
    wait_archive_count(events, name, 2)
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == 2)


def test_events_of_other_buses_not_counted(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    other = uid("abus")
    events.create_event_bus(Name=other)
    put_one(events, other)
    put_one(events, bus)
    wait_archive_count(events, name, 1)
    assert_stays(lambda: events.describe_archive(ArchiveName=name)["EventCount"] == 1)


def test_archive_default_bus(events):
    # The default bus is shared with other tests: a pattern on a unique source keeps the count exact.
    name = uid("arch")
    source = uid("src")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn("default"),
                          EventPattern=json.dumps({"source": [source]}))
    assert events.describe_archive(ArchiveName=name)["EventSourceArn"] == bus_arn("default")
    for _ in range(2):
        events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": "{}"}])
    wait_archive_count(events, name, 2)
    events.delete_archive(ArchiveName=name)


def test_list_archives(events, bus):
    prefix = uid("la")
    names = [f"{prefix}-1", f"{prefix}-2"]
    for n in names:
        events.create_archive(ArchiveName=n, EventSourceArn=bus_arn(bus), RetentionDays=3)
    other_bus = uid("abus")
    events.create_event_bus(Name=other_bus)
    events.create_archive(ArchiveName=f"{prefix}-3", EventSourceArn=bus_arn(other_bus))

    by_prefix = events.list_archives(NamePrefix=prefix)["Archives"]
    assert sorted(a["ArchiveName"] for a in by_prefix) == names + [f"{prefix}-3"]
    by_source = events.list_archives(EventSourceArn=bus_arn(bus))["Archives"]
    assert sorted(a["ArchiveName"] for a in by_source) == names
    for a in by_source:
        assert a["EventSourceArn"] == bus_arn(bus)
        assert a["State"] == "ENABLED"
        assert a["RetentionDays"] == 3
        assert a["EventCount"] == 0
        assert a["SizeBytes"] == 0
        assert isinstance(a["CreationTime"], datetime)
    enabled = {a["ArchiveName"] for a in events.list_archives(NamePrefix=prefix, State="ENABLED")["Archives"]}
    assert enabled == set(names + [f"{prefix}-3"])
    assert events.list_archives(NamePrefix=prefix, State="DISABLED")["Archives"] == []


def test_delete_archive(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    events.delete_archive(ArchiveName=name)
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName=name)
    assert_error(e, "ResourceNotFoundException", f"Archive {name} does not exist.")
    assert name not in [a["ArchiveName"] for a in events.list_archives(NamePrefix=name)["Archives"]]
    # The name can be used again.
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    assert events.describe_archive(ArchiveName=name)["EventCount"] == 0


def test_create_duplicate(events, bus):
    name = uid("arch")
    events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    assert_error(e, "ResourceAlreadyExistsException", f"Archive {name} already exists.")


def test_describe_missing(events):
    name = uid("noarch")
    with pytest.raises(ClientError) as e:
        events.describe_archive(ArchiveName=name)
    assert_error(e, "ResourceNotFoundException", f"Archive {name} does not exist.")


def test_delete_missing(events):
    name = uid("noarch")
    with pytest.raises(ClientError) as e:
        events.delete_archive(ArchiveName=name)
    msg = assert_error(e, "ResourceNotFoundException")
    assert name in msg


def test_create_on_missing_bus(events):
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=uid("arch"), EventSourceArn=bus_arn(uid("nobus")))
    assert_error(e, "ResourceNotFoundException")


def test_create_with_invalid_pattern(events, bus):
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=uid("arch"), EventSourceArn=bus_arn(bus), EventPattern='{"source": "x"}')
    msg = assert_error(e, "InvalidEventPatternException")
    assert msg.startswith("Event pattern is not valid. Reason: ")


def test_archive_name_too_long(events, bus):
    name = "a" * 49
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus))
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{name}' at 'archiveName' failed to satisfy constraint: "
                 "Member must have length less than or equal to 48")


def test_archive_name_pattern(events, bus):
    with pytest.raises(ClientError) as e:
        events.create_archive(ArchiveName="bad name!", EventSourceArn=bus_arn(bus))
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'bad name!' at 'archiveName' failed to satisfy constraint: "
                 r"Member must satisfy regular expression pattern: [\.\-_A-Za-z0-9]+")
