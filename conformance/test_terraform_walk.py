"""Each resource's life as Terraform's AWS provider drives it, call by call (issue 10): create,
read back (with ListTagsForResource where the resource is taggable), update in place, read
again with no drift, delete, and read again expecting not-found. The calls and the fields read
are the ones the provider's resources make (aws_cloudwatch_event_bus, _rule, _target,
_archive, _connection, _api_destination)."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import archive_arn, assert_error, bus_arn, rule_arn, uid


def tags_of(events, arn: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in events.list_tags_for_resource(ResourceARN=arn)["Tags"]}


def same(a: dict, b: dict) -> bool:
    """Two reads agree on every field (the response metadata aside)."""
    strip = lambda d: {k: v for k, v in d.items() if k != "ResponseMetadata"}  # noqa: E731
    return strip(a) == strip(b)


def not_found(call, **kwargs) -> str:
    with pytest.raises(ClientError) as e:
        call(**kwargs)
    return assert_error(e, "ResourceNotFoundException")


def test_event_bus(events):
    name = uid("tfbus")
    created = events.create_event_bus(Name=name, Description="orders", Tags=[{"Key": "env", "Value": "dev"}])
    arn = created["EventBusArn"]
    assert arn == bus_arn(name)
    read = events.describe_event_bus(Name=name)
    assert (read["Name"], read["Arn"], read["Description"]) == (name, arn, "orders")
    assert tags_of(events, arn) == {"env": "dev"}
    # Update in place: description, then tags (TagResource for new/changed, UntagResource for gone).
    events.update_event_bus(Name=name, Description="orders v2")
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "team", "Value": "crm"}])
    events.untag_resource(ResourceARN=arn, TagKeys=["env"])
    read = events.describe_event_bus(Name=name)
    assert read["Description"] == "orders v2"
    assert tags_of(events, arn) == {"team": "crm"}
    # Plan again: nothing drifts.
    assert same(events.describe_event_bus(Name=name), read)
    events.delete_event_bus(Name=name)
    not_found(events.describe_event_bus, Name=name)


def test_rule(events, bus):
    name = uid("tfrule")
    pattern = json.dumps({"source": ["orders"], "detail": {"amount": [{"numeric": [">", 100]}]}})
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=pattern, Description="big orders",
                          State="ENABLED", Tags=[{"Key": "env", "Value": "dev"}])["RuleArn"]
    assert arn == rule_arn(name, bus)
    read = events.describe_rule(Name=name, EventBusName=bus)
    assert read["EventPattern"] == pattern, "the pattern comes back as sent (no drift)"
    assert json.loads(read["EventPattern"]) == json.loads(pattern)
    assert (read["State"], read["Description"], read["EventBusName"]) == ("ENABLED", "big orders", bus)
    assert tags_of(events, arn) == {"env": "dev"}
    # Update in place: PutRule again with every argument (the provider sends no Tags then).
    new_pattern = json.dumps({"source": ["orders"], "detail-type": ["Created"]})
    events.put_rule(Name=name, EventBusName=bus, EventPattern=new_pattern, Description="created orders",
                    State="DISABLED")
    events.tag_resource(ResourceARN=arn, Tags=[{"Key": "env", "Value": "prod"}])
    read = events.describe_rule(Name=name, EventBusName=bus)
    assert read["EventPattern"] == new_pattern
    assert (read["State"], read["Description"]) == ("DISABLED", "created orders")
    assert tags_of(events, arn) == {"env": "prod"}, "PutRule left the tags alone"
    assert same(events.describe_rule(Name=name, EventBusName=bus), read)
    events.delete_rule(Name=name, EventBusName=bus)
    not_found(events.describe_rule, Name=name, EventBusName=bus)


def test_target(events, bus):
    rule = uid("tfrule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["orders"]}))
    target = {"Id": "to-queue", "Arn": "arn:aws:sqs:us-east-1:000000000000:orders",
              "InputTransformer": {"InputPathsMap": {"id": "$.id"}, "InputTemplate": '{"order": <id>}'},
              "RetryPolicy": {"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600}}
    assert events.put_targets(Rule=rule, EventBusName=bus, Targets=[target])["FailedEntryCount"] == 0

    def read():
        found = [t for t in events.list_targets_by_rule(Rule=rule, EventBusName=bus)["Targets"]
                 if t["Id"] == "to-queue"]
        return found[0] if found else None

    assert read() == target
    updated = dict(target, RetryPolicy={"MaximumRetryAttempts": 5, "MaximumEventAgeInSeconds": 600})
    assert events.put_targets(Rule=rule, EventBusName=bus, Targets=[updated])["FailedEntryCount"] == 0
    assert read() == updated
    assert read() == updated
    assert events.remove_targets(Rule=rule, EventBusName=bus, Ids=["to-queue"])["FailedEntryCount"] == 0
    assert read() is None
    events.delete_rule(Name=rule, EventBusName=bus)


def test_archive(events, bus):
    name = uid("tfarch")
    pattern = json.dumps({"source": ["orders"]})
    arn = events.create_archive(ArchiveName=name, EventSourceArn=bus_arn(bus), EventPattern=pattern,
                                Description="keep orders", RetentionDays=7)["ArchiveArn"]
    assert arn == archive_arn(name)
    read = events.describe_archive(ArchiveName=name)
    assert read["EventPattern"] == pattern
    assert (read["RetentionDays"], read["Description"], read["EventSourceArn"]) == (7, "keep orders", bus_arn(bus))
    events.update_archive(ArchiveName=name, RetentionDays=30, Description="keep orders longer")
    read = events.describe_archive(ArchiveName=name)
    assert (read["RetentionDays"], read["Description"], read["EventPattern"]) == (30, "keep orders longer", pattern)
    assert same(events.describe_archive(ArchiveName=name), read)
    events.delete_archive(ArchiveName=name)
    not_found(events.describe_archive, ArchiveName=name)


def test_connection_and_api_destination(events):
    conn = uid("tfconn")
    auth = {"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": "secret"}}
    conn_arn = events.create_connection(Name=conn, AuthorizationType="API_KEY", AuthParameters=auth,
                                        Description="orders api")["ConnectionArn"]
    read = events.describe_connection(Name=conn)
    assert (read["ConnectionArn"], read["AuthorizationType"], read["Description"]) == (conn_arn, "API_KEY", "orders api")
    assert read["AuthParameters"]["ApiKeyAuthParameters"] == {"ApiKeyName": "x-api-key"}, "secrets never come back"

    dest = uid("tfdest")
    dest_arn = events.create_api_destination(Name=dest, ConnectionArn=conn_arn, HttpMethod="POST",
                                             InvocationEndpoint="https://example.com/orders",
                                             InvocationRateLimitPerSecond=20)["ApiDestinationArn"]
    read_dest = events.describe_api_destination(Name=dest)
    assert (read_dest["ApiDestinationArn"], read_dest["ConnectionArn"], read_dest["HttpMethod"],
            read_dest["InvocationEndpoint"], read_dest["InvocationRateLimitPerSecond"]) == (
        dest_arn, conn_arn, "POST", "https://example.com/orders", 20)

    # Updates in place.
    events.update_connection(Name=conn, Description="orders api v2", AuthorizationType="API_KEY",
                             AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key",
                                                                      "ApiKeyValue": "rotated"}})
    assert events.describe_connection(Name=conn)["Description"] == "orders api v2"
    events.update_api_destination(Name=dest, ConnectionArn=conn_arn, HttpMethod="PUT",
                                  InvocationEndpoint="https://example.com/orders/v2",
                                  InvocationRateLimitPerSecond=10)
    read_dest = events.describe_api_destination(Name=dest)
    assert (read_dest["HttpMethod"], read_dest["InvocationEndpoint"], read_dest["InvocationRateLimitPerSecond"]) == (
        "PUT", "https://example.com/orders/v2", 10)
    assert same(events.describe_api_destination(Name=dest), read_dest)

    events.delete_api_destination(Name=dest)
    not_found(events.describe_api_destination, Name=dest)
    events.delete_connection(Name=conn)
    not_found(events.describe_connection, Name=conn)
