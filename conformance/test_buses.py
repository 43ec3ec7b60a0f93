"""CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus (boto3)."""

from __future__ import annotations

from datetime import datetime

import pytest
from botocore.exceptions import ClientError

from support import assert_error, bus_arn, uid


def test_create_describe_list_delete(events):
    name = uid("bus")
    created = events.create_event_bus(Name=name, Description="orders of the shop")
    assert created["EventBusArn"] == bus_arn(name)

    desc = events.describe_event_bus(Name=name)
    assert desc["Name"] == name
    assert desc["Arn"] == bus_arn(name)
    assert desc["Description"] == "orders of the shop"
    if "CreationTime" in desc:
        assert isinstance(desc["CreationTime"], datetime)

    buses = events.list_event_buses()["EventBuses"]
    mine = [b for b in buses if b["Name"] == name]
    assert len(mine) == 1 and mine[0]["Arn"] == bus_arn(name)

    events.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")
    assert name not in [b["Name"] for b in events.list_event_buses()["EventBuses"]]


def test_describe_by_arn(events):
    name = uid("bus")
    events.create_event_bus(Name=name)
    desc = events.describe_event_bus(Name=bus_arn(name))
    assert desc["Name"] == name and desc["Arn"] == bus_arn(name)


def test_default_bus_exists(events):
    desc = events.describe_event_bus()
    assert desc["Name"] == "default"
    assert desc["Arn"] == "arn:aws:events:us-east-1:000000000000:event-bus/default"
    assert events.describe_event_bus(Name="default")["Arn"] == desc["Arn"]
    assert any(b["Name"] == "default" and b["Arn"] == desc["Arn"] for b in events.list_event_buses()["EventBuses"])


def test_list_name_prefix(events):
    prefix = uid("pfx")
    names = [f"{prefix}-a", f"{prefix}-b", f"{prefix}-c"]
    for n in names:
        events.create_event_bus(Name=n)
    events.create_event_bus(Name=uid("other"))
    listed = events.list_event_buses(NamePrefix=prefix)["EventBuses"]
    assert sorted(b["Name"] for b in listed) == names
    assert {b["Arn"] for b in listed} == {bus_arn(n) for n in names}


def test_region_and_account_come_from_the_credentials(events_factory, events):
    other = events_factory(region="eu-west-3", access_key="111122223333")
    name = uid("bus")
    assert other.create_event_bus(Name=name)["EventBusArn"] == f"arn:aws:events:eu-west-3:111122223333:event-bus/{name}"
    # Each (account, region) has its own default bus ...
    assert other.describe_event_bus()["Arn"] == "arn:aws:events:eu-west-3:111122223333:event-bus/default"
    # ... and its own namespace.
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")
    same_account_other_region = events_factory(region="eu-central-1", access_key="111122223333")
    with pytest.raises(ClientError):
        same_account_other_region.describe_event_bus(Name=name)
    # A non-numeric access key id maps to the default account.
    assert events_factory(access_key="AKIDEXAMPLE").describe_event_bus()["Arn"] == \
        "arn:aws:events:us-east-1:000000000000:event-bus/default"
    # The same name can exist in two accounts.
    assert events.create_event_bus(Name=name)["EventBusArn"] == bus_arn(name)


def test_describe_missing(events):
    name = uid("missing")
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event bus {name} does not exist.")
    assert isinstance(e.value, events.exceptions.ResourceNotFoundException)


def test_create_duplicate(events):
    name = uid("dup")
    events.create_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert_error(e, "ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    assert isinstance(e.value, events.exceptions.ResourceAlreadyExistsException)


def test_delete_default_is_refused(events):
    with pytest.raises(ClientError) as e:
        events.delete_event_bus(Name="default")
    assert_error(e, "ValidationException", "Cannot delete event bus default.")
    assert events.describe_event_bus(Name="default")["Name"] == "default"


def test_delete_missing_is_ok(events):
    resp = events.delete_event_bus(Name=uid("never-created"))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_delete_removes_rules(events):
    """A re-created bus starts empty."""
    name = uid("bus")
    events.create_event_bus(Name=name)
    events.put_rule(Name="r1", EventBusName=name, EventPattern='{"source": ["x"]}')
    events.delete_rule(Name="r1", EventBusName=name)
    events.delete_event_bus(Name=name)
    events.create_event_bus(Name=name)
    assert events.list_rules(EventBusName=name)["Rules"] == []


def test_invalid_name_pattern(events):
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name="bad name!")
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'bad name!' at 'name' failed to satisfy constraint: "
                 r"Member must satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+")


def test_invalid_name_too_long(events):
    name = "b" * 257
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{name}' at 'name' failed to satisfy constraint: "
                 "Member must have length less than or equal to 256")


def test_invalid_name_two_errors(events):
    name = "!" * 257
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    msg = assert_error(e, "ValidationException")
    assert msg.startswith("2 validation errors detected: "), msg
    assert "Member must have length less than or equal to 256" in msg
    assert r"Member must satisfy regular expression pattern: [/\.\-_A-Za-z0-9]+" in msg
    assert "; " in msg


@pytest.mark.parametrize("name", ["default", "a/b", "team/orders"])
def test_reserved_or_slash_names_rejected(events, name):
    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=name)
    assert_error(e, "ValidationException")


def test_describe_invalid_name(events):
    with pytest.raises(ClientError) as e:
        events.describe_event_bus(Name="bad name!")
    assert_error(e, "ValidationException")
