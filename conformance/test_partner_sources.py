"""Partner event sources: any account acts as the SaaS partner (CreatePartnerEventSource,
PutPartnerEvents...), the customer account makes a partner bus for the source, and the events
reach that bus's rules, archives and replays as on any bus."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import (
    assert_error,
    assert_stays,
    bus_arn,
    lambda_arn,
    raw_call,
    uid,
    wait_archive_count,
    wait_replay_state,
    window_end_after,
    window_start_before,
)

PARTNER = "444455556666"
CUSTOMER = "111122223333"
REGION = "us-east-1"


def source_name(prefix: str = "orders") -> str:
    return f"aws.partner/example.com/{uid(prefix)}/events"


def source_arn(name: str, region: str = REGION) -> str:
    return f"arn:aws:events:{region}::event-source/{name}"


@pytest.fixture
def partner(events_factory):
    return events_factory(access_key=PARTNER)


@pytest.fixture
def customer(events_factory):
    return events_factory(access_key=CUSTOMER)


def signed_by(account: str) -> dict[str, str]:
    """The Authorization header of a raw call by `account` (only its credential scope is read)."""
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={account}/20260101/{REGION}/events/aws4_request, "
                             "SignedHeaders=host, Signature=00"}


def partner_entry(source: str, detail: dict | None = None, **extra) -> dict:
    entry = {"Source": source, "DetailType": "Order Created", "Detail": json.dumps(detail or {"n": 1})}
    entry.update(extra)
    return entry


def test_source_lifecycle_seen_from_both_sides(partner, customer):
    name = source_name()
    created = partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    assert created["EventSourceArn"] == source_arn(name)

    assert partner.describe_partner_event_source(Name=name)["Arn"] == source_arn(name)
    listed = partner.list_partner_event_sources(NamePrefix=name)["PartnerEventSources"]
    assert listed == [{"Arn": source_arn(name), "Name": name}]
    (account,) = partner.list_partner_event_source_accounts(EventSourceName=name)["PartnerEventSourceAccounts"]
    assert account["Account"] == CUSTOMER
    assert account["State"] == "PENDING"
    assert account["ExpirationTime"] - account["CreationTime"] == timedelta(days=14)

    described = customer.describe_event_source(Name=name)
    assert described["Arn"] == source_arn(name)
    assert described["Name"] == name
    assert described["State"] == "PENDING"
    assert described["CreatedBy"] == "aws.partner/example.com"
    assert abs(described["CreationTime"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert [s["Name"] for s in customer.list_event_sources(NamePrefix=name)["EventSources"]] == [name]

    bus = customer.create_event_bus(Name=name, EventSourceName=name)
    assert bus["EventBusArn"] == bus_arn(name, account=CUSTOMER)
    described = customer.describe_event_source(Name=name)
    assert described["State"] == "ACTIVE"
    assert "ExpirationTime" not in described
    assert customer.describe_event_bus(Name=name)["Name"] == name
    (account,) = partner.list_partner_event_source_accounts(EventSourceName=name)["PartnerEventSourceAccounts"]
    assert account["State"] == "ACTIVE"

    customer.deactivate_event_source(Name=name)
    assert customer.describe_event_source(Name=name)["State"] == "PENDING"
    customer.activate_event_source(Name=name)
    assert customer.describe_event_source(Name=name)["State"] == "ACTIVE"

    partner.delete_partner_event_source(Name=name, Account=CUSTOMER)
    assert customer.describe_event_source(Name=name)["State"] == "DELETED"
    with pytest.raises(ClientError) as e:
        partner.describe_partner_event_source(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event source {name} does not exist.")
    with pytest.raises(ClientError) as e:
        customer.activate_event_source(Name=name)
    assert_error(e, "InvalidStateException")

    customer.delete_event_bus(Name=name)
    with pytest.raises(ClientError) as e:
        customer.describe_event_source(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event source {name} does not exist.")


def test_partner_events_reach_rules_archives_and_replays(partner, customer, lambda_mock):
    name = source_name()
    partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    customer.create_event_bus(Name=name, EventSourceName=name)
    fn = uid("fn")
    rule = uid("rule")
    customer.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"source": [name]}))
    customer.put_targets(Rule=rule, EventBusName=name,
                         Targets=[{"Id": "fn", "Arn": lambda_arn(fn, account=CUSTOMER)}])
    archive = uid("arch")
    archive_arn = customer.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(name, account=CUSTOMER))[
        "ArchiveArn"]

    first_put = time.time()
    resp = partner.put_partner_events(Entries=[
        partner_entry(name, {"order": 1}, Resources=["arn:aws:example:::order/1"]),
        partner_entry(name, {"order": 2}),
    ])
    assert resp["FailedEntryCount"] == 0, resp
    ids = [e["EventId"] for e in resp["Entries"]]
    last_put = time.time()

    got = lambda_mock.wait_for_events(fn, 2)
    assert sorted(e["id"] for e in got) == sorted(ids)
    first = next(e for e in got if e["detail"] == {"order": 1})
    assert first["source"] == name
    assert first["account"] == CUSTOMER
    assert first["region"] == REGION
    assert first["detail-type"] == "Order Created"
    assert first["resources"] == ["arn:aws:example:::order/1"]

    wait_archive_count(customer, archive, 2)
    replay = uid("replay")
    customer.start_replay(ReplayName=replay, EventSourceArn=archive_arn,
                          EventStartTime=window_start_before(first_put), EventEndTime=window_end_after(last_put),
                          Destination={"Arn": bus_arn(name, account=CUSTOMER)})
    wait_replay_state(customer, replay)
    replayed = lambda_mock.wait_for_events(fn, 4)
    assert sorted(e["id"] for e in replayed if e.get("replay-name") == replay) == sorted(ids)


def test_pending_and_deactivated_sources_deliver_nothing(partner, customer, lambda_mock):
    name = source_name()
    partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    # No bus yet: the entry is accepted and reaches no bus.
    resp = partner.put_partner_events(Entries=[partner_entry(name)])
    assert resp["FailedEntryCount"] == 0 and resp["Entries"][0]["EventId"]

    customer.create_event_bus(Name=name, EventSourceName=name)
    fn = uid("fn")
    rule = uid("rule")
    customer.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"source": [name]}))
    customer.put_targets(Rule=rule, EventBusName=name,
                         Targets=[{"Id": "fn", "Arn": lambda_arn(fn, account=CUSTOMER)}])
    customer.deactivate_event_source(Name=name)
    partner.put_partner_events(Entries=[partner_entry(name, {"phase": "deactivated"})])
    customer.activate_event_source(Name=name)
    partner.put_partner_events(Entries=[partner_entry(name, {"phase": "active"})])
    (event,) = lambda_mock.wait_for_events(fn, 1)
    assert event["detail"] == {"phase": "active"}
    assert_stays(lambda: len(lambda_mock.events(fn)) == 1)


def test_put_partner_events_entry_errors(partner, events_factory):
    name = source_name()
    partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    other = source_name("other")
    # A source made by another "partner" account is not the caller's.
    events_factory(access_key="777788889999").create_partner_event_source(Name=other, Account=CUSTOMER)
    resp = partner.put_partner_events(Entries=[
        partner_entry(name),
        partner_entry(other),
        {"Source": name, "DetailType": "x"},
        {"Source": name, "DetailType": "x", "Detail": "[1]"},
    ])
    assert resp["FailedEntryCount"] == 3
    ok, foreign, no_detail, malformed = resp["Entries"]
    assert "EventId" in ok
    assert foreign == {"ErrorCode": "InvalidArgument", "ErrorMessage": f"Event source {other} does not exist."}
    assert no_detail == {"ErrorCode": "InvalidArgument",
                         "ErrorMessage": "Parameter Detail is not valid. Reason: Detail is a required argument."}
    assert malformed == {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}


def test_put_partner_events_request_errors(partner):
    name = source_name()
    with pytest.raises(ClientError) as e:
        partner.put_partner_events(Entries=[partner_entry(name)] * 21)
    message = assert_error(e, "ValidationException")
    assert message.startswith("1 validation error detected: Value '[...]' at 'entries' failed to satisfy constraint: "
                              "Member must have length less than or equal to 20"), message
    with pytest.raises(ClientError) as e:
        partner.put_partner_events(Entries=[partner_entry("not.a.partner.source")])
    message = assert_error(e, "ValidationException")
    assert "at 'entries.1.member.source'" in message, message


def test_partner_side_errors(partner, customer):
    name = source_name()
    partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    with pytest.raises(ClientError) as e:
        partner.create_partner_event_source(Name=name, Account="999999999999")
    assert_error(e, "ResourceAlreadyExistsException", f"Event source {name} already exists.")
    with pytest.raises(ClientError) as e:
        partner.create_partner_event_source(Name="aws.partner/only-two", Account=CUSTOMER)
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'aws.partner/only-two' at 'name' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: aws\\.partner(/[\\.\\-_A-Za-z0-9]+){2,}")
    with pytest.raises(ClientError) as e:
        partner.create_partner_event_source(Name=source_name(), Account="12345678901x")
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value '12345678901x' at 'account' failed to satisfy constraint: "
                 "Member must satisfy regular expression pattern: \\d{12}")
    # Only the partner that made a source sees it on the partner side.
    with pytest.raises(ClientError) as e:
        customer.describe_partner_event_source(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Event source {name} does not exist.")
    with pytest.raises(ClientError) as e:
        partner.list_partner_event_source_accounts(EventSourceName=source_name("missing"))
    assert_error(e, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        partner.list_partner_event_sources(NamePrefix="example.com")
    assert_error(e, "ValidationException")
    # Deleting what does not exist is no error (the model has no ResourceNotFoundException).
    partner.delete_partner_event_source(Name=source_name("missing"), Account=CUSTOMER)
    # Deleting a source without a bus removes it for the customer at once.
    partner.delete_partner_event_source(Name=name, Account=CUSTOMER)
    with pytest.raises(ClientError) as e:
        customer.describe_event_source(Name=name)
    assert_error(e, "ResourceNotFoundException")


def test_customer_side_errors(server, partner, customer):
    missing = source_name("missing")
    for call in (customer.describe_event_source, customer.activate_event_source, customer.deactivate_event_source):
        with pytest.raises(ClientError) as e:
            call(Name=missing)
        assert_error(e, "ResourceNotFoundException", f"Event source {missing} does not exist.")
    with pytest.raises(ClientError) as e:
        customer.create_event_bus(Name=missing, EventSourceName=missing)
    assert_error(e, "ResourceNotFoundException", f"Event source {missing} does not exist.")

    name = source_name()
    partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    with pytest.raises(ClientError) as e:
        customer.create_event_bus(Name="another-name", EventSourceName=name)
    assert_error(e, "ValidationException")
    # The source is offered to CUSTOMER only.
    with pytest.raises(ClientError) as e:
        partner.create_event_bus(Name=name, EventSourceName=name)
    assert_error(e, "ResourceNotFoundException")
    customer.create_event_bus(Name=name, EventSourceName=name)
    with pytest.raises(ClientError) as e:
        customer.create_event_bus(Name=name, EventSourceName=name)
    assert_error(e, "ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    r = raw_call(server.port, "AWSEvents.ListEventSources", {"Limit": 0},
                 headers=signed_by(CUSTOMER))
    assert r.status == 400 and r.json()["__type"] == "ValidationException", r.body


def test_lists_page_with_limit_and_next_token(partner, customer):
    stem = f"aws.partner/example.com/{uid('page')}"
    names = [f"{stem}/s{i}" for i in range(3)]
    for name in names:
        partner.create_partner_event_source(Name=name, Account=CUSTOMER)

    first = partner.list_partner_event_sources(NamePrefix=stem, Limit=2)
    assert [s["Name"] for s in first["PartnerEventSources"]] == names[:2]
    second = partner.list_partner_event_sources(NamePrefix=stem, Limit=2, NextToken=first["NextToken"])
    assert [s["Name"] for s in second["PartnerEventSources"]] == names[2:]
    assert "NextToken" not in second

    first = customer.list_event_sources(NamePrefix=stem, Limit=1)
    assert [s["Name"] for s in first["EventSources"]] == names[:1]
    rest = customer.list_event_sources(NamePrefix=stem, NextToken=first["NextToken"])
    assert [s["Name"] for s in rest["EventSources"]] == names[1:]

    accounts = partner.list_partner_event_source_accounts(EventSourceName=names[0], Limit=1)
    assert len(accounts["PartnerEventSourceAccounts"]) == 1 and "NextToken" not in accounts
    with pytest.raises(ClientError) as e:
        customer.list_event_sources(NextToken="not-a-token")
    assert_error(e, "ValidationException", "The NextToken provided is invalid.")


def test_sources_and_partner_buses_survive_a_restart(start_server, tmp_path):
    srv = start_server(data_dir=tmp_path / "data")
    partner, customer = srv.client(access_key=PARTNER), srv.client(access_key=CUSTOMER)
    active, pending = source_name("active"), source_name("pending")
    for name in (active, pending):
        partner.create_partner_event_source(Name=name, Account=CUSTOMER)
    customer.create_event_bus(Name=active, EventSourceName=active)
    srv.stop()

    srv = start_server(data_dir=tmp_path / "data")
    partner, customer = srv.client(access_key=PARTNER), srv.client(access_key=CUSTOMER)
    assert customer.describe_event_source(Name=active)["State"] == "ACTIVE"
    assert customer.describe_event_source(Name=pending)["State"] == "PENDING"
    assert partner.describe_partner_event_source(Name=pending)["Name"] == pending
    assert customer.describe_event_bus(Name=active)["Arn"] == bus_arn(active, account=CUSTOMER)


def test_aws_cli_lists_and_describes_event_sources(aws_cli, events_factory):
    """The CLI's default credentials are account 000000000000 (the customer here)."""
    name = source_name("cli")
    events_factory(access_key=PARTNER).create_partner_event_source(Name=name, Account="000000000000")
    (listed,) = aws_cli("list-event-sources", "--name-prefix", name)["EventSources"]
    assert listed["Name"] == name and listed["State"] == "PENDING"
    aws_cli("create-event-bus", "--name", name, "--event-source-name", name)
    assert aws_cli("describe-event-source", "--name", name)["State"] == "ACTIVE"
