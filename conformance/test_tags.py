"""TagResource, UntagResource, ListTagsForResource on rules and event buses (boto3 and the AWS
CLI); Tags on PutRule and CreateEventBus. The error texts for missing resources are AWS's
(recorded answers: "Rule X does not exist on EventBus B.", "Event bus X does not exist.")."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from support import archive_arn, assert_error, bus_arn, raw_call, rule_arn, uid

PATTERN = json.dumps({"source": ["conformance.tags"]})


def tags(*pairs: tuple[str, str]) -> list[dict]:
    return [{"Key": k, "Value": v} for k, v in pairs]


def listed(events, arn: str) -> list[dict]:
    return events.list_tags_for_resource(ResourceARN=arn)["Tags"]


@pytest.mark.parametrize("kind", ["bus", "rule-on-default", "rule-on-custom-bus", "default-bus"])
def test_tag_list_untag(events, kind):
    if kind == "bus":
        name = uid("tbus")
        arn = events.create_event_bus(Name=name)["EventBusArn"]
    elif kind == "default-bus":
        arn = bus_arn("default")
    elif kind == "rule-on-default":
        arn = events.put_rule(Name=uid("trule"), EventPattern=PATTERN)["RuleArn"]
    else:
        bus = uid("tbus")
        events.create_event_bus(Name=bus)
        name = uid("trule")
        arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
        assert arn == rule_arn(name, bus)
    key = uid("k")  # the default bus is shared by every test: keys of their own
    resp = events.tag_resource(ResourceARN=arn, Tags=tags((f"{key}1", "value1"), (f"{key}2", "value2")))
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert set(resp) == {"ResponseMetadata"}
    mine = lambda: [t for t in listed(events, arn) if t["Key"].startswith(key)]  # noqa: E731
    assert mine() == tags((f"{key}1", "value1"), (f"{key}2", "value2"))

    # A known key takes the new value in place; a new one is appended.
    events.tag_resource(ResourceARN=arn, Tags=tags((f"{key}1", "new"), (f"{key}3", "")))
    assert mine() == tags((f"{key}1", "new"), (f"{key}2", "value2"), (f"{key}3", ""))

    events.untag_resource(ResourceARN=arn, TagKeys=[f"{key}2", f"{key}-never-set"])
    assert mine() == tags((f"{key}1", "new"), (f"{key}3", ""))
    events.untag_resource(ResourceARN=arn, TagKeys=[f"{key}1", f"{key}3"])
    assert mine() == []


def test_untagged_resources_list_no_tags(events, bus):
    assert events.list_tags_for_resource(ResourceARN=bus_arn(bus))["Tags"] == []


def test_put_rule_tags_are_kept_and_a_later_put_rule_leaves_them_alone(events, bus):
    name = uid("trule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN,
                          Tags=tags(("team", "crm"), ("env", "test")))["RuleArn"]
    assert listed(events, arn) == tags(("team", "crm"), ("env", "test"))
    # "If you are updating an existing rule, any tags you specify in the PutRule operation are
    # ignored." Neither new tags nor an empty list change them.
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN, Tags=tags(("team", "ops")))
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN, Tags=[])
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN, Description="changed")
    assert listed(events, arn) == tags(("team", "crm"), ("env", "test"))
    assert events.describe_rule(Name=name, EventBusName=bus)["Description"] == "changed"


def test_create_event_bus_tags(events):
    name = uid("tbus")
    arn = events.create_event_bus(Name=name, Tags=tags(("tag1", "value1"), ("tag2", "value2")))["EventBusArn"]
    assert listed(events, arn) == tags(("tag1", "value1"), ("tag2", "value2"))


def test_tags_of_a_deleted_resource_are_gone(events):
    bus = uid("tbus")
    events.create_event_bus(Name=bus, Tags=tags(("a", "1")))
    name = uid("trule")
    arn = events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN, Tags=tags(("b", "2")))["RuleArn"]
    events.delete_rule(Name=name, EventBusName=bus)
    with pytest.raises(ClientError) as e:
        events.list_tags_for_resource(ResourceARN=arn)
    assert_error(e, "ResourceNotFoundException", f"Rule {name} does not exist on EventBus {bus}.")
    # A rule made again under the same name starts without tags.
    events.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)
    assert listed(events, arn) == []

    events.delete_rule(Name=name, EventBusName=bus)
    events.delete_event_bus(Name=bus)
    with pytest.raises(ClientError) as e:
        events.list_tags_for_resource(ResourceARN=bus_arn(bus))
    assert_error(e, "ResourceNotFoundException", f"Event bus {bus} does not exist.")
    events.create_event_bus(Name=bus)
    assert listed(events, bus_arn(bus)) == []


@pytest.mark.parametrize("call", ["tag", "untag", "list"])
def test_missing_resources(events, call):
    missing = uid("missing")

    def run(arn):
        if call == "tag":
            events.tag_resource(ResourceARN=arn, Tags=tags(("k", "v")))
        elif call == "untag":
            events.untag_resource(ResourceARN=arn, TagKeys=["k"])
        else:
            events.list_tags_for_resource(ResourceARN=arn)

    for arn, message in [
        (rule_arn(missing), f"Rule {missing} does not exist on EventBus default."),
        (bus_arn(missing), f"Event bus {missing} does not exist."),
        (rule_arn("r", missing), f"Event bus {missing} does not exist."),
    ]:
        with pytest.raises(ClientError) as e:
            run(arn)
        assert_error(e, "ResourceNotFoundException", message)


@pytest.mark.parametrize("arn", [
    archive_arn("an-archive"),
    "arn:aws:events:us-east-1:000000000000:connection/c/0a1b2c3d-0000-0000-0000-000000000000",
    "arn:aws:sqs:us-east-1:000000000000:queue",
    "not-an-arn",
])
def test_resources_that_cannot_be_tagged(events, arn):
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=arn, Tags=tags(("k", "v")))
    assert_error(e, "ValidationException", f"Parameter {arn} is not valid. Reason: Provided Arn is not in correct format.")
    with pytest.raises(ClientError) as e:
        events.list_tags_for_resource(ResourceARN=arn)
    assert_error(e, "ValidationException")


def test_fifty_tags_at_most(events, bus):
    arn = bus_arn(bus)
    events.tag_resource(ResourceARN=arn, Tags=tags(*[(f"k{i:02}", str(i)) for i in range(30)]))
    events.tag_resource(ResourceARN=arn, Tags=tags(*[(f"k{i:02}", "again") for i in range(20, 50)]))
    assert len(listed(events, arn)) == 50
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=arn, Tags=tags(("one-more", "x")))
    assert_error(e, "ValidationException")
    assert len(listed(events, arn)) == 50
    # Replacing values of keys it has is still allowed at the limit.
    events.tag_resource(ResourceARN=arn, Tags=tags(("k00", "changed")))
    assert listed(events, arn)[0] == {"Key": "k00", "Value": "changed"}

    with pytest.raises(ClientError) as e:
        events.create_event_bus(Name=uid("tbus"), Tags=tags(*[(f"k{i}", "v") for i in range(51)]))
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        events.put_rule(Name=uid("trule"), EventPattern=PATTERN, Tags=tags(*[(f"k{i}", "v") for i in range(51)]))
    assert_error(e, "ValidationException")


def test_key_and_value_constraints(events, server, bus):
    arn = bus_arn(bus)
    long_key = "k" * 129
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=arn, Tags=tags((long_key, "v")))
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{long_key}' at 'tags.1.member.key' failed to satisfy "
                 "constraint: Member must have length less than or equal to 128")
    long_value = "v" * 257
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=arn, Tags=tags(("k", long_value)))
    assert_error(e, "ValidationException",
                 f"1 validation error detected: Value '{long_value}' at 'tags.1.member.value' failed to satisfy "
                 "constraint: Member must have length less than or equal to 256")
    # boto3 refuses an empty key itself; the raw request gets AWS's model answer.
    r = raw_call(server.port, "AWSEvents.TagResource", {"ResourceARN": arn, "Tags": [{"Key": "", "Value": "v"}]})
    assert r.status == 400
    assert r.json() == {
        "__type": "ValidationException",
        "message": "1 validation error detected: Value '' at 'tags.1.member.key' failed to satisfy constraint: "
                   "Member must have length greater than or equal to 1",
    }
    r = raw_call(server.port, "AWSEvents.TagResource", {"ResourceARN": arn, "Tags": [{"Key": "k"}]})
    assert r.json()["message"] == ("1 validation error detected: Value null at 'tags.1.member.value' failed to "
                                   "satisfy constraint: Member must not be null")
    r = raw_call(server.port, "AWSEvents.TagResource", {"ResourceARN": arn})
    assert r.json()["message"] == ("1 validation error detected: Value null at 'tags' failed to satisfy "
                                   "constraint: Member must not be null")

    for bad in [tags(("aws:reserved", "v")), tags(("a*b", "v")), tags(("k", "v#")),
                tags(("same", "1"), ("same", "2"))]:
        with pytest.raises(ClientError) as e:
            events.tag_resource(ResourceARN=arn, Tags=bad)
        assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=arn, Tags=tags(("same", "1"), ("same", "2")))
    assert_error(e, "ValidationException", "Invalid parameter: Duplicated keys are not allowed.")
    with pytest.raises(ClientError) as e:
        events.untag_resource(ResourceARN=arn, TagKeys=["aws:reserved"])
    assert_error(e, "ValidationException")
    assert listed(events, arn) == []
    # The documented characters pass: letters (any script), numbers, spaces and . : + = @ _ / -
    fine = tags(("Cost Center/é.1:+=@_-", "Ünïcode value 42 .:+=@_/-"))
    events.tag_resource(ResourceARN=arn, Tags=fine)
    assert listed(events, arn) == fine


def test_managed_rules_refuse_tag_changes(events, bus):
    archive = uid("tarch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    managed = rule_arn(f"Events-Archive-{archive}", bus)
    assert listed(events, managed) == []
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN=managed, Tags=tags(("k", "v")))
    assert f"Events-Archive-{archive}" in assert_error(e, "ManagedRuleException")
    with pytest.raises(ClientError) as e:
        events.untag_resource(ResourceARN=managed, TagKeys=["k"])
    assert_error(e, "ManagedRuleException")


def test_tags_survive_a_restart(start_server, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data_dir=data)
    ev = srv.client()
    bus, name = uid("tbus"), uid("trule")
    ev.create_event_bus(Name=bus, Tags=tags(("a", "1")))
    arn = ev.put_rule(Name=name, EventBusName=bus, EventPattern=PATTERN)["RuleArn"]
    ev.tag_resource(ResourceARN=arn, Tags=tags(("b", "2")))
    srv.stop()

    ev2 = start_server(data_dir=data).client()
    assert listed(ev2, bus_arn(bus)) == tags(("a", "1"))
    assert listed(ev2, arn) == tags(("b", "2"))


def test_aws_cli_tags(events, aws_cli, bus):
    arn = bus_arn(bus)
    assert aws_cli("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=crm", "Key=env,Value=dev") == {}
    assert aws_cli("list-tags-for-resource", "--resource-arn", arn) == {"Tags": tags(("team", "crm"), ("env", "dev"))}
    assert aws_cli("untag-resource", "--resource-arn", arn, "--tag-keys", "env") == {}
    assert aws_cli("list-tags-for-resource", "--resource-arn", arn) == {"Tags": tags(("team", "crm"))}
    name = uid("trule")
    out = aws_cli("put-rule", "--name", name, "--event-bus-name", bus, "--event-pattern", PATTERN,
                  "--tags", "Key=owner,Value=me")
    assert aws_cli("list-tags-for-resource", "--resource-arn", out["RuleArn"]) == {"Tags": tags(("owner", "me"))}
