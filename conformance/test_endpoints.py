"""Global endpoints: CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint,
DeleteEndpoint, and PutEvents with an EndpointId as boto3 sends it (SigV4a-signed, through
awscrt), to the primary region's bus, the secondary's after a failover marked with
POST /_local/endpoints/health, and to the other one too with replication on."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_ACCOUNT,
    assert_error,
    assert_stays,
    bus_arn,
    lambda_arn,
    raw_call,
    uid,
)

PRIMARY = "us-east-1"
SECONDARY = "us-west-2"
HEALTH_CHECK = "arn:aws:route53:::healthcheck/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
ROLE = f"arn:aws:iam::{DEFAULT_ACCOUNT}:role/eventbridge-replication"
ENDPOINT_ID_RE = re.compile(r"^[a-z0-9]+\.[a-z0-9]+$")


def routing(secondary: str = SECONDARY) -> dict:
    return {"FailoverConfig": {"Primary": {"HealthCheck": HEALTH_CHECK}, "Secondary": {"Route": secondary}}}


def buses_of(name: str, regions: tuple[str, str] = (PRIMARY, SECONDARY)) -> list[dict]:
    return [{"EventBusArn": bus_arn(name, region=r)} for r in regions]


def endpoint_arn(name: str, region: str = PRIMARY) -> str:
    return f"arn:aws:events:{region}:{DEFAULT_ACCOUNT}:endpoint/{name}"


@pytest.fixture
def regional(events_factory):
    """boto3 clients of the shared server for the primary and the secondary region."""
    return events_factory(region=PRIMARY), events_factory(region=SECONDARY)


@pytest.fixture
def twin_buses(regional, lambda_mock):
    """A bus of one name in each region, each with a rule sending every event to its own Lambda
    function; returns (bus name, primary function, secondary function)."""
    name = uid("gbus")
    functions = []
    for client, region in zip(regional, (PRIMARY, SECONDARY)):
        client.create_event_bus(Name=name)
        fn = uid(f"fn-{region}")
        rule = uid("rule")
        client.put_rule(Name=rule, EventBusName=name, EventPattern=json.dumps({"source": [{"prefix": ""}]}))
        client.put_targets(Rule=rule, EventBusName=name, Targets=[{"Id": "fn", "Arn": lambda_arn(fn, region=region)}])
        functions.append(fn)
    return name, functions[0], functions[1]


def set_health(server, name: str, healthy: bool, region: str = PRIMARY) -> dict:
    r = raw_call(server.port, None, {"name": name, "healthy": healthy, "region": region},
                 path="/_local/endpoints/health")
    assert r.status == 200, r.body
    return r.json()


def put_via_endpoint(client, endpoint_id: str, bus: str, detail: dict) -> tuple[str, dict]:
    """PutEvents with EndpointId; returns the event id and the headers the request was sent with."""
    sent: dict = {}

    def capture(request, **_):
        sent.update({k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()})

    client.meta.events.register("before-send.events.PutEvents", capture)
    try:
        resp = client.put_events(EndpointId=endpoint_id, Entries=[
            {"EventBusName": bus, "Source": "global.test", "DetailType": "t", "Detail": json.dumps(detail)}])
    finally:
        client.meta.events.unregister("before-send.events.PutEvents", capture)
    assert resp["FailedEntryCount"] == 0, resp
    return resp["Entries"][0]["EventId"], sent


def test_endpoint_lifecycle(regional, twin_buses):
    primary, secondary = regional
    bus = twin_buses[0]
    name = uid("ep")
    created = primary.create_endpoint(Name=name, Description="orders", RoutingConfig=routing(),
                                      EventBuses=buses_of(bus), RoleArn=ROLE)
    assert created["State"] == "CREATING"
    assert created["Arn"] == endpoint_arn(name)
    assert created["RoutingConfig"] == routing()
    assert created["ReplicationConfig"] == {"State": "ENABLED"}
    assert created["EventBuses"] == buses_of(bus)
    assert created["RoleArn"] == ROLE

    described = primary.describe_endpoint(Name=name)
    assert described["State"] == "ACTIVE"
    assert described["Description"] == "orders"
    assert ENDPOINT_ID_RE.match(described["EndpointId"]), described["EndpointId"]
    assert described["EndpointUrl"] == f"https://{described['EndpointId']}.endpoint.events.amazonaws.com"
    assert abs(described["CreationTime"] - datetime.now(timezone.utc)) < timedelta(minutes=1)
    assert described["LastModifiedTime"] >= described["CreationTime"]
    # The secondary region finds it by its home region.
    assert secondary.describe_endpoint(Name=name, HomeRegion=PRIMARY)["Arn"] == endpoint_arn(name)
    with pytest.raises(ClientError) as e:
        secondary.describe_endpoint(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Endpoint {name} does not exist.")

    (listed,) = primary.list_endpoints(NamePrefix=name)["Endpoints"]
    assert listed["EndpointId"] == described["EndpointId"] and listed["State"] == "ACTIVE"
    assert [e["Name"] for e in secondary.list_endpoints(NamePrefix=name, HomeRegion=PRIMARY)["Endpoints"]] == [name]

    updated = primary.update_endpoint(Name=name, Description="orders v2", ReplicationConfig={"State": "DISABLED"})
    assert updated["State"] == "UPDATING"
    assert updated["EndpointId"] == described["EndpointId"]
    assert updated["EndpointUrl"] == described["EndpointUrl"]
    assert updated["ReplicationConfig"] == {"State": "DISABLED"}
    after = primary.describe_endpoint(Name=name)
    assert after["State"] == "ACTIVE"
    assert after["Description"] == "orders v2"
    assert after["RoutingConfig"] == routing()

    primary.delete_endpoint(Name=name)
    with pytest.raises(ClientError) as e:
        primary.describe_endpoint(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Endpoint {name} does not exist.")
    assert primary.list_endpoints(NamePrefix=name)["Endpoints"] == []


def test_put_events_through_endpoint_with_sigv4a_and_replication(server, regional, twin_buses, lambda_mock):
    primary, _ = regional
    bus, fn_primary, fn_secondary = twin_buses
    name = uid("ep")
    primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus), RoleArn=ROLE)
    endpoint_id = primary.describe_endpoint(Name=name)["EndpointId"]

    event_id, headers = put_via_endpoint(primary, endpoint_id, bus, {"n": 1})
    assert headers["Authorization"].startswith("AWS4-ECDSA-P256-SHA256 Credential="), headers["Authorization"]
    assert headers["X-Amz-Region-Set"] == "*"

    (original,) = lambda_mock.wait_for_events(fn_primary, 1)
    assert original["id"] == event_id
    assert original["region"] == PRIMARY
    assert original["detail"] == {"n": 1}
    (replica,) = lambda_mock.wait_for_events(fn_secondary, 1)
    assert replica["id"] == event_id
    assert replica["region"] == PRIMARY  # AWS keeps the source region in replicated events
    assert replica["resources"] == [endpoint_arn(name)]


def test_failover_and_recovery(server, regional, twin_buses, lambda_mock):
    primary, _ = regional
    bus, fn_primary, fn_secondary = twin_buses
    name = uid("ep")
    primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus),
                            ReplicationConfig={"State": "DISABLED"})
    endpoint_id = primary.describe_endpoint(Name=name)["EndpointId"]

    put_via_endpoint(primary, endpoint_id, bus, {"phase": "healthy"})
    (event,) = lambda_mock.wait_for_events(fn_primary, 1)
    assert event["detail"] == {"phase": "healthy"}

    answer = set_health(server, name, False)
    assert answer == {"name": name, "endpointId": endpoint_id, "primaryHealthy": False, "activeRegion": SECONDARY}
    failed_over_id, _ = put_via_endpoint(primary, endpoint_id, bus, {"phase": "failed over"})
    (event,) = lambda_mock.wait_for_events(fn_secondary, 1)
    assert event["id"] == failed_over_id
    assert event["region"] == SECONDARY
    assert event["resources"] == []

    set_health(server, name, True)
    put_via_endpoint(primary, endpoint_id, bus, {"phase": "recovered"})
    got = lambda_mock.wait_for_events(fn_primary, 2)
    assert [e["detail"]["phase"] for e in got] == ["healthy", "recovered"]
    # Without replication, each event reached one region only.
    assert_stays(lambda: len(lambda_mock.events(fn_primary)) == 2 and len(lambda_mock.events(fn_secondary)) == 1)


def test_failover_with_replication_copies_to_the_primary(server, regional, twin_buses, lambda_mock):
    primary, _ = regional
    bus, fn_primary, fn_secondary = twin_buses
    name = uid("ep")
    primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus), RoleArn=ROLE)
    endpoint_id = primary.describe_endpoint(Name=name)["EndpointId"]
    set_health(server, name, False)
    event_id, _ = put_via_endpoint(primary, endpoint_id, bus, {"n": 2})
    (active,) = lambda_mock.wait_for_events(fn_secondary, 1)
    (copy,) = lambda_mock.wait_for_events(fn_primary, 1)
    assert active["id"] == copy["id"] == event_id
    assert active["region"] == copy["region"] == SECONDARY
    assert copy["resources"] == [endpoint_arn(name)]


def test_endpoint_errors(server, regional, twin_buses):
    primary, _ = regional
    bus = twin_buses[0]
    name = uid("ep")
    primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus), RoleArn=ROLE)
    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus), RoleArn=ROLE)
    assert_error(e, "ResourceAlreadyExistsException", f"Endpoint {name} already exists.")

    missing = uid("missing")
    for call in (primary.describe_endpoint, primary.delete_endpoint, primary.update_endpoint):
        with pytest.raises(ClientError) as e:
            call(Name=missing)
        assert_error(e, "ResourceNotFoundException", f"Endpoint {missing} does not exist.")

    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=uid("ep"), RoutingConfig=routing(), EventBuses=buses_of(bus))
    assert_error(e, "ValidationException", "A RoleArn is required when event replication is ENABLED.")
    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=uid("ep"), RoutingConfig=routing(), EventBuses=buses_of(bus, (PRIMARY, "eu-west-1")),
                                RoleArn=ROLE)
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=uid("ep"), RoutingConfig=routing(PRIMARY), EventBuses=buses_of(bus), RoleArn=ROLE)
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=uid("ep"), RoutingConfig=routing(), RoleArn=ROLE,
                                EventBuses=[{"EventBusArn": bus_arn(bus)}, {"EventBusArn": bus_arn("other", SECONDARY)}])
    assert_error(e, "ValidationException", "The names of the event buses must be identical in each Region.")
    bad = {"FailoverConfig": {"Primary": {"HealthCheck": "arn:aws:route53:::hc/x"}, "Secondary": {"Route": SECONDARY}}}
    with pytest.raises(ClientError) as e:
        primary.create_endpoint(Name=uid("ep"), RoutingConfig=bad, EventBuses=buses_of(bus), RoleArn=ROLE)
    assert_error(e, "ValidationException",
                 "1 validation error detected: Value 'arn:aws:route53:::hc/x' at "
                 "'routingConfig.failoverConfig.primary.healthCheck' failed to satisfy constraint: Member must satisfy "
                 "regular expression pattern: ^arn:aws([a-z]|\\-)*:route53:::healthcheck/[\\-a-z0-9]+$")
    # An invalid update leaves the endpoint as it was.
    with pytest.raises(ClientError) as e:
        primary.update_endpoint(Name=name, RoutingConfig=routing("eu-west-1"))
    assert_error(e, "ValidationException")
    assert primary.describe_endpoint(Name=name)["RoutingConfig"] == routing()

    r = raw_call(server.port, "AWSEvents.CreateEndpoint", {"Name": uid("ep")})
    assert r.status == 400 and r.json()["message"] == (
        "2 validation errors detected: Value null at 'routingConfig' failed to satisfy constraint: Member must not be "
        "null; Value null at 'eventBuses' failed to satisfy constraint: Member must not be null"), r.body

    with pytest.raises(ClientError) as e:
        primary.put_events(EndpointId="nosuch.endpoint", Entries=[
            {"Source": "s", "DetailType": "t", "Detail": "{}"}])
    assert_error(e, "ResourceNotFoundException", "Endpoint nosuch.endpoint does not exist.")
    r = raw_call(server.port, None, {"name": missing, "healthy": False}, path="/_local/endpoints/health")
    assert r.status == 404


def test_list_endpoints_pages(regional, twin_buses):
    primary, _ = regional
    bus = twin_buses[0]
    stem = uid("page")
    names = [f"{stem}-{i}" for i in range(3)]
    for name in names:
        primary.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of(bus),
                                ReplicationConfig={"State": "DISABLED"})
    first = primary.list_endpoints(NamePrefix=stem, MaxResults=2)
    assert [e["Name"] for e in first["Endpoints"]] == names[:2]
    second = primary.list_endpoints(NamePrefix=stem, MaxResults=2, NextToken=first["NextToken"])
    assert [e["Name"] for e in second["Endpoints"]] == names[2:]
    assert "NextToken" not in second


def test_endpoints_and_their_health_survive_a_restart(start_server, tmp_path):
    srv = start_server(data_dir=tmp_path / "data")
    client = srv.client(region=PRIMARY)
    name = uid("ep")
    client.create_endpoint(Name=name, RoutingConfig=routing(), EventBuses=buses_of("orders"), RoleArn=ROLE)
    endpoint_id = client.describe_endpoint(Name=name)["EndpointId"]
    set_health(srv, name, False)
    srv.stop()

    srv = start_server(data_dir=tmp_path / "data")
    client = srv.client(region=PRIMARY)
    assert client.describe_endpoint(Name=name)["EndpointId"] == endpoint_id
    r = raw_call(srv.port, None, {"endpointId": endpoint_id, "healthy": True}, path="/_local/endpoints/health")
    assert r.status == 200 and r.json()["activeRegion"] == PRIMARY, r.body


def test_aws_cli_creates_an_endpoint_and_puts_events_through_it(aws_cli, events, twin_buses, lambda_mock):
    bus, fn_primary, _ = twin_buses
    name = uid("ep")
    created = aws_cli("create-endpoint", "--name", name, "--routing-config", json.dumps(routing()),
                      "--event-buses", json.dumps(buses_of(bus)), "--replication-config", "State=DISABLED")
    assert created["State"] == "CREATING"
    (listed,) = aws_cli("list-endpoints", "--name-prefix", name)["Endpoints"]
    resp = aws_cli("put-events", "--endpoint-id", listed["EndpointId"], "--entries", json.dumps(
        [{"EventBusName": bus, "Source": "cli.test", "DetailType": "t", "Detail": "{\"cli\": true}"}]))
    assert resp["FailedEntryCount"] == 0, resp
    (event,) = lambda_mock.wait_for_events(fn_primary, 1)
    assert event["id"] == resp["Entries"][0]["EventId"]
    assert event["detail"] == {"cli": True}
