"""Issue 13: EventBridge Scheduler on the same port (boto3 `scheduler` client and `aws scheduler`),
and schedules that really fire: into SQS (moto), Lambda (the mock), an event bus, universal
targets; retries and the dead-letter queue; restarts."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_ACCOUNT,
    DEFAULT_REGION,
    AwsCli,
    CliError,
    ServerProcess,
    assert_error,
    assert_stays,
    lambda_arn,
    raw_call,
    scheduler_client,
    server_env,
    uid,
    wait_for,
    wait_for_value,
)
from test_targets_aws import FailingEndpoint

ROLE = "arn:aws:iam::000000000000:role/scheduler-role"
OFF = {"Mode": "OFF"}


def schedule_arn(name: str, group: str = "default") -> str:
    return f"arn:aws:scheduler:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:schedule/{group}/{name}"


def group_arn(name: str) -> str:
    return f"arn:aws:scheduler:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:schedule-group/{name}"


def target(arn: str | None = None, **extra) -> dict:
    return {"Arn": arn or lambda_arn("scheduler-quiet"), "RoleArn": ROLE, **extra}


@pytest.fixture
def scheduler(server):
    return scheduler_client(server.url)


@pytest.fixture
def group(scheduler):
    name = uid("grp")
    scheduler.create_schedule_group(Name=name)
    return name


def create(scheduler, name: str | None = None, expression: str = "rate(1 day)", **kwargs) -> str:
    name = name or uid("sch")
    kwargs.setdefault("FlexibleTimeWindow", OFF)
    kwargs.setdefault("Target", target())
    kwargs.setdefault("State", "DISABLED")
    scheduler.create_schedule(Name=name, ScheduleExpression=expression, **kwargs)
    return name


def deliveries(server, **query) -> list[dict]:
    q = "&".join(f"{k}={urllib.parse.quote(str(v), safe='')}" for k, v in query.items())
    with urllib.request.urlopen(f"{server.url}/_local/deliveries?{q}", timeout=5) as r:
        return json.loads(r.read())["deliveries"]


def at_in(seconds: float, tz: str = "UTC") -> str:
    """An `at()` expression `seconds` from now, in local time of `tz`."""
    return at_instant(seconds, tz)[0]


def at_instant(seconds: float, tz: str = "UTC") -> tuple[str, float]:
    """An `at()` expression `seconds` from now in local time of `tz`, and its instant (epoch s)."""
    local = datetime.now(timezone.utc).astimezone(ZoneInfo(tz)) + timedelta(seconds=seconds)
    local = local.replace(microsecond=0)
    return f"at({local.strftime('%Y-%m-%dT%H:%M:%S')})", local.timestamp()



# --------------------------------------------------------------------------- schedule groups


def test_the_default_group_always_exists(scheduler):
    groups = scheduler.list_schedule_groups()["ScheduleGroups"]
    default = [g for g in groups if g["Name"] == "default"]
    assert len(default) == 1
    assert default[0]["Arn"] == group_arn("default")
    assert default[0]["State"] == "ACTIVE"
    got = scheduler.get_schedule_group(Name="default")
    assert got["Arn"] == group_arn("default")


def test_schedule_group_lifecycle(scheduler):
    name = uid("grp")
    arn = scheduler.create_schedule_group(Name=name)["ScheduleGroupArn"]
    assert arn == group_arn(name)
    got = scheduler.get_schedule_group(Name=name)
    assert (got["Name"], got["Arn"], got["State"]) == (name, arn, "ACTIVE")
    assert got["CreationDate"] <= got["LastModificationDate"]
    listed = scheduler.list_schedule_groups(NamePrefix=name)["ScheduleGroups"]
    assert [g["Name"] for g in listed] == [name]

    with pytest.raises(ClientError) as e:
        scheduler.create_schedule_group(Name=name)
    assert_error(e, "ConflictException", f"Schedule group {name} already exists.", 409)

    scheduler.delete_schedule_group(Name=name)
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule_group(Name=name)
    assert_error(e, "ResourceNotFoundException", f"Schedule group {name} does not exist.", 404)
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule_group(Name=name)
    assert_error(e, "ResourceNotFoundException", status=404)


def test_the_default_group_cannot_be_deleted(scheduler):
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule_group(Name="default")
    assert_error(e, "ValidationException", status=400)


def test_deleting_a_group_deletes_its_schedules(scheduler, group):
    first = create(scheduler, GroupName=group)
    create(scheduler, GroupName=group)
    assert len(scheduler.list_schedules(GroupName=group)["Schedules"]) == 2
    scheduler.delete_schedule_group(Name=group)
    scheduler.create_schedule_group(Name=group)
    assert scheduler.list_schedules(GroupName=group)["Schedules"] == []
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name=first, GroupName=group)
    assert_error(e, "ResourceNotFoundException", f"Schedule {first} does not exist.", 404)


def test_client_token_makes_create_idempotent(scheduler):
    name = uid("grp")
    token = uid("tok")
    a = scheduler.create_schedule_group(Name=name, ClientToken=token)["ScheduleGroupArn"]
    b = scheduler.create_schedule_group(Name=name, ClientToken=token)["ScheduleGroupArn"]
    assert a == b
    s = uid("sch")
    create(scheduler, s, ClientToken=token)
    create(scheduler, s, ClientToken=token)
    with pytest.raises(ClientError) as e:
        create(scheduler, s, ClientToken=uid("other"))
    assert_error(e, "ConflictException", f"Schedule {s} already exists.", 409)
    # A delete sent again with its token answers as the first did.
    scheduler.delete_schedule(Name=s, ClientToken=token)
    scheduler.delete_schedule(Name=s, ClientToken=token)


def test_tags_of_schedule_groups(scheduler):
    name = uid("grp")
    scheduler.create_schedule_group(Name=name, Tags=[{"Key": "team", "Value": "a"}])
    arn = group_arn(name)
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "a"}]
    scheduler.tag_resource(ResourceArn=arn, Tags=[{"Key": "team", "Value": "b"}, {"Key": "env", "Value": "dev"}])
    tags = {t["Key"]: t["Value"] for t in scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"]}
    assert tags == {"team": "b", "env": "dev"}
    scheduler.untag_resource(ResourceArn=arn, TagKeys=["team"])
    assert scheduler.list_tags_for_resource(ResourceArn=arn)["Tags"] == [{"Key": "env", "Value": "dev"}]

    missing = group_arn(uid("nogroup"))
    for call in (lambda: scheduler.list_tags_for_resource(ResourceArn=missing),
                 lambda: scheduler.tag_resource(ResourceArn=missing, Tags=[{"Key": "k", "Value": "v"}]),
                 lambda: scheduler.untag_resource(ResourceArn=missing, TagKeys=["k"])):
        with pytest.raises(ClientError) as e:
            call()
        assert_error(e, "ResourceNotFoundException", status=404)
    # Only schedule groups have tags: a schedule's ARN does not match the model's pattern.
    with pytest.raises(ClientError) as e:
        scheduler.list_tags_for_resource(ResourceArn=schedule_arn("x"))
    message = assert_error(e, "ValidationException", status=400)
    assert "resourceArn" in message


# --------------------------------------------------------------------------- schedules


def test_schedule_lifecycle_and_full_replacement(scheduler, group):
    name = uid("sch")
    dlq = f"arn:aws:sqs:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:dlq"
    start = datetime.now(timezone.utc) + timedelta(days=1)
    end = start + timedelta(days=30)
    arn = scheduler.create_schedule(
        Name=name, GroupName=group, ScheduleExpression="cron(0 9 ? * MON-FRI *)",
        ScheduleExpressionTimezone="Europe/Paris", StartDate=start, EndDate=end, Description="weekday mornings",
        State="ENABLED", FlexibleTimeWindow={"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15},
        Target=target(Input='{"hello": "world"}', DeadLetterConfig={"Arn": dlq},
                      RetryPolicy={"MaximumRetryAttempts": 3}),
        ActionAfterCompletion="DELETE")["ScheduleArn"]
    assert arn == schedule_arn(name, group)
    got = scheduler.get_schedule(Name=name, GroupName=group)
    assert got["Arn"] == arn and got["Name"] == name and got["GroupName"] == group
    assert got["ScheduleExpression"] == "cron(0 9 ? * MON-FRI *)"
    assert got["ScheduleExpressionTimezone"] == "Europe/Paris"
    assert int(got["StartDate"].timestamp()) == int(start.timestamp())
    assert int(got["EndDate"].timestamp()) == int(end.timestamp())
    assert got["Description"] == "weekday mornings"
    assert got["State"] == "ENABLED"
    assert got["FlexibleTimeWindow"] == {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": 15}
    assert got["ActionAfterCompletion"] == "DELETE"
    assert got["Target"] == target(Input='{"hello": "world"}', DeadLetterConfig={"Arn": dlq},
                                   RetryPolicy={"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 86400})

    # UpdateSchedule replaces the whole schedule: what it leaves out is gone.
    scheduler.update_schedule(Name=name, GroupName=group, ScheduleExpression="rate(2 hours)",
                              FlexibleTimeWindow=OFF, Target=target(), State="DISABLED")
    got2 = scheduler.get_schedule(Name=name, GroupName=group)
    assert got2["ScheduleExpression"] == "rate(2 hours)"
    assert got2["ScheduleExpressionTimezone"] == "UTC"
    assert "Description" not in got2 and "StartDate" not in got2 and "EndDate" not in got2
    assert got2["ActionAfterCompletion"] == "NONE"
    assert got2["Target"] == target(RetryPolicy={"MaximumRetryAttempts": 185, "MaximumEventAgeInSeconds": 86400})
    assert got2["CreationDate"] == got["CreationDate"]
    assert got2["LastModificationDate"] >= got["LastModificationDate"]

    scheduler.delete_schedule(Name=name, GroupName=group)
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name=name, GroupName=group)
    assert_error(e, "ResourceNotFoundException", f"Schedule {name} does not exist.", 404)
    with pytest.raises(ClientError) as e:
        scheduler.delete_schedule(Name=name, GroupName=group)
    assert_error(e, "ResourceNotFoundException", status=404)
    with pytest.raises(ClientError) as e:
        scheduler.update_schedule(Name=name, GroupName=group, ScheduleExpression="rate(1 hour)",
                                  FlexibleTimeWindow=OFF, Target=target())
    assert_error(e, "ResourceNotFoundException", status=404)


def test_schedules_of_a_missing_group(scheduler):
    missing = uid("nogroup")
    with pytest.raises(ClientError) as e:
        create(scheduler, GroupName=missing)
    assert_error(e, "ResourceNotFoundException", f"Schedule group {missing} does not exist.", 404)
    with pytest.raises(ClientError) as e:
        scheduler.get_schedule(Name="x", GroupName=missing)
    assert_error(e, "ResourceNotFoundException", status=404)
    with pytest.raises(ClientError) as e:
        scheduler.list_schedules(GroupName=missing)
    assert_error(e, "ResourceNotFoundException", status=404)


def test_list_schedules_filters_and_pages(scheduler, group):
    names = sorted(create(scheduler, f"p-{i}-{uid('s')}", GroupName=group) for i in range(3))
    other = create(scheduler, f"q-{uid('s')}", GroupName=group, State="ENABLED")
    listed = scheduler.list_schedules(GroupName=group)["Schedules"]
    assert [s["Name"] for s in listed] == sorted(names + [other])
    first = listed[0]
    assert set(first) == {"Arn", "CreationDate", "GroupName", "LastModificationDate", "Name", "State", "Target"}
    assert first["Target"] == {"Arn": lambda_arn("scheduler-quiet")}
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group, NamePrefix="p-")["Schedules"]] == names
    assert [s["Name"] for s in scheduler.list_schedules(GroupName=group, State="ENABLED")["Schedules"]] == [other]

    page = scheduler.list_schedules(GroupName=group, NamePrefix="p-", MaxResults=2)
    assert [s["Name"] for s in page["Schedules"]] == names[:2]
    rest = scheduler.list_schedules(GroupName=group, NamePrefix="p-", MaxResults=2, NextToken=page["NextToken"])
    assert [s["Name"] for s in rest["Schedules"]] == names[2:]
    assert "NextToken" not in rest
    # The paginator walks the same pages.
    pages = scheduler.get_paginator("list_schedules").paginate(GroupName=group, PaginationConfig={"PageSize": 1})
    assert [s["Name"] for p in pages for s in p["Schedules"]] == sorted(names + [other])
    scheduler.delete_schedule_group(Name=group)


@pytest.mark.parametrize("change, fragment", [
    ({"ScheduleExpression": "rate(5 seconds)"}, "Invalid Schedule Expression rate(5 seconds)."),
    ({"ScheduleExpression": "cron(0 9 * * * *)"}, "Invalid Schedule Expression"),
    ({"ScheduleExpression": "at(2030-02-30T10:00:00)"}, "Invalid Schedule Expression"),
    ({"ScheduleExpressionTimezone": "Mars/Olympus_Mons"}, "Mars/Olympus_Mons"),
    ({"FlexibleTimeWindow": {"Mode": "FLEXIBLE"}}, "MaximumWindowInMinutes"),
    ({"FlexibleTimeWindow": {"Mode": "SOMETIMES"}}, "Member must satisfy enum value set: [OFF, FLEXIBLE]"),
    ({"StartDate": datetime.now(timezone.utc) - timedelta(minutes=10)},
     "The StartDate you specify cannot be earlier than 5 minutes ago."),
    ({"Target": {"Arn": lambda_arn("f"), "RoleArn": "not-a-role"}}, "at 'target.roleArn' failed to satisfy"),
    ({"Target": target(Input="not json")}, "well-formed JSON"),
    ({"Target": target(arn=f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:event-bus/default", Input="{}")},
     "EventBridgeParameters"),
    ({"Target": target(arn=f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:event-bus/default",
                       EventBridgeParameters={"DetailType": "d", "Source": "aws.events"})},
     "at 'target.eventBridgeParameters.source' failed to satisfy constraint"),
    ({"State": "PAUSED"}, "Member must satisfy enum value set: [ENABLED, DISABLED]"),
])
def test_validation(scheduler, change, fragment):
    args = {"Name": uid("bad"), "ScheduleExpression": "rate(1 hour)", "FlexibleTimeWindow": OFF, "Target": target()}
    args.update(change)
    with pytest.raises(ClientError) as e:
        scheduler.create_schedule(**args)
    message = assert_error(e, "ValidationException", status=400)
    assert fragment in message


def test_errors_on_the_wire(server):
    r = raw_call(server.port, None, method="GET", path="/schedules/does-not-exist")
    assert r.status == 404
    assert r.header("x-amzn-errortype") == "ResourceNotFoundException"
    assert r.header("content-type") == "application/json"
    assert r.json() == {"Message": "Schedule does-not-exist does not exist."}
    r = raw_call(server.port, None, body=b"{not json", method="POST", path=f"/schedule-groups/{uid('g')}")
    assert r.status == 400 and r.header("x-amzn-errortype") == "ValidationException"
    r = raw_call(server.port, None, method="PATCH", path="/schedules/x")
    assert r.status == 404 and r.header("x-amzn-errortype") == "UnknownOperationException"
    # A long name: the model's length limit, AWS's message format.
    r = raw_call(server.port, None, method="GET", path="/schedule-groups/" + "g" * 65)
    assert r.status == 400
    assert r.json()["Message"] == (
        f"1 validation error detected: Value '{'g' * 65}' at 'name' failed to satisfy constraint: "
        "Member must have length less than or equal to 64")
    # EventBridge requests on the same port are unaffected.
    r = raw_call(server.port, "AWSEvents.ListEventBuses", {})
    assert r.status == 200 and "EventBuses" in r.json()


def test_aws_cli_covers_every_operation(server):
    cli = AwsCli(server.url, service="scheduler")
    group = uid("cligrp")
    arn = cli("create-schedule-group", "--name", group, "--tags", "Key=k,Value=v")["ScheduleGroupArn"]
    assert arn == group_arn(group)
    assert cli("get-schedule-group", "--name", group)["State"] == "ACTIVE"
    assert group in [g["Name"] for g in cli("list-schedule-groups", "--name-prefix", group)["ScheduleGroups"]]
    cli("tag-resource", "--resource-arn", arn, "--tags", "Key=team,Value=x")
    tags = cli("list-tags-for-resource", "--resource-arn", arn)["Tags"]
    assert {t["Key"] for t in tags} == {"k", "team"}
    cli("untag-resource", "--resource-arn", arn, "--tag-keys", "k")
    assert cli("list-tags-for-resource", "--resource-arn", arn)["Tags"] == [{"Key": "team", "Value": "x"}]

    name = uid("clisch")
    out = cli("create-schedule", "--name", name, "--group-name", group, "--schedule-expression", "rate(1 day)",
              "--flexible-time-window", "Mode=OFF", "--state", "DISABLED",
              "--target", json.dumps(target()))
    assert out["ScheduleArn"] == schedule_arn(name, group)
    got = cli("get-schedule", "--name", name, "--group-name", group)
    assert got["ScheduleExpression"] == "rate(1 day)" and got["State"] == "DISABLED"
    cli("update-schedule", "--name", name, "--group-name", group, "--schedule-expression", "cron(0 12 * * ? *)",
        "--schedule-expression-timezone", "America/New_York", "--flexible-time-window", "Mode=OFF",
        "--state", "DISABLED", "--target", json.dumps(target()))
    got = cli("get-schedule", "--name", name, "--group-name", group)
    assert got["ScheduleExpressionTimezone"] == "America/New_York"
    assert [s["Name"] for s in cli("list-schedules", "--group-name", group)["Schedules"]] == [name]
    cli("delete-schedule", "--name", name, "--group-name", group)
    with pytest.raises(CliError) as e:
        cli("get-schedule", "--name", name, "--group-name", group)
    assert "ResourceNotFoundException" in e.value.stderr
    cli("delete-schedule-group", "--name", group)
    with pytest.raises(CliError) as e:
        cli("get-schedule-group", "--name", group)
    assert "ResourceNotFoundException" in e.value.stderr


# --------------------------------------------------------------------------- firing


@pytest.fixture
def sqs_server(start_server, moto):
    return start_server(sqs_url=moto.url, args=("--retry-base-delay-ms", "10"))


def queue(sqs, fifo: bool = False) -> tuple[str, str]:
    name = uid("q") + (".fifo" if fifo else "")
    attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def receive(sqs, url: str, count: int = 1, timeout: float = 15) -> list[dict]:
    got: list[dict] = []

    def poll():
        got.extend(sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"], AttributeNames=["All"])
                   .get("Messages", []))
        return len(got) >= count

    wait_for(poll, timeout=timeout, interval=0.05, message=f"{count} message(s) in {url}")
    return got


CONTEXT_INPUT = ('{"arn": "<aws.scheduler.schedule-arn>", "time": "<aws.scheduler.scheduled-time>", '
                 '"id": "<aws.scheduler.execution-id>", "attempt": <aws.scheduler.attempt-number>}')


def test_rate_schedule_fires_into_sqs_with_its_input(sqs_server, moto):
    sched, sqs = scheduler_client(sqs_server.url), moto.sqs()
    url, arn = queue(sqs)
    name = uid("every-minute")
    created = time.time()
    sched.create_schedule(Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
                          Target=target(arn, Input=CONTEXT_INPUT))
    # A rate schedule without StartDate starts at once.
    message = receive(sqs, url)[0]
    assert time.time() - created < 10
    body = json.loads(message["Body"])
    assert body["arn"] == schedule_arn(name)
    assert body["attempt"] == 1
    scheduled = datetime.strptime(body["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs(scheduled.timestamp() - created) < 5
    assert len(body["id"]) == 36
    log = deliveries(sqs_server, rule=schedule_arn(name))
    assert log[0]["outcome"] == "succeeded" and log[0]["eventId"] == body["id"]
    sched.delete_schedule(Name=name)


def test_fifo_queue_gets_the_message_group(sqs_server, moto):
    sched, sqs = scheduler_client(sqs_server.url), moto.sqs()
    url, arn = queue(sqs, fifo=True)
    sched.create_schedule(Name=uid("fifo"), ScheduleExpression=at_in(1), FlexibleTimeWindow=OFF,
                          Target=target(arn, Input="plain text", SqsParameters={"MessageGroupId": "g1"}))
    message = receive(sqs, url)[0]
    assert message["Body"] == "plain text"
    assert message["Attributes"]["MessageGroupId"] == "g1"


def test_at_schedule_fires_once_and_delete_removes_it(server, lambda_mock):
    sched = scheduler_client(server.url)
    function_a, function_b = uid("at-a"), uid("at-b")
    deleted, kept = uid("once-deleted"), uid("once-kept")
    expression, instant = at_instant(2)
    sched.create_schedule(Name=deleted, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
                          ActionAfterCompletion="DELETE", Target=target(lambda_arn(function_a), Input='{"n": 1}'))
    sched.create_schedule(Name=kept, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(function_b), Input='{"n": 2}'))
    assert lambda_mock.wait_for_events(function_a, 1, timeout=10) == [{"n": 1}]
    # On time: within a second of its instant, and not before it.
    received = lambda_mock.invocations(function_a)[0].received
    received_wall = time.time() - (time.monotonic() - received)
    assert -0.05 <= received_wall - instant < 1.0, received_wall - instant
    assert lambda_mock.wait_for_events(function_b, 1, timeout=10) == [{"n": 2}]

    def gone():
        try:
            sched.get_schedule(Name=deleted)
            return False
        except ClientError as e:
            return e.response["Error"]["Code"] == "ResourceNotFoundException"

    wait_for(gone, timeout=5, message="the completed schedule to be deleted")
    assert sched.get_schedule(Name=kept)["ActionAfterCompletion"] == "NONE"
    assert_stays(lambda: len(lambda_mock.events(function_b)) == 1, duration=1.5)


def test_at_is_read_in_its_time_zone(server, lambda_mock):
    sched = scheduler_client(server.url)
    function = uid("tokyo")
    # Now + 2 s in Tokyo's local time: read as UTC it would be 9 hours away.
    sched.create_schedule(Name=uid("tz"), ScheduleExpression=at_in(2, "Asia/Tokyo"),
                          ScheduleExpressionTimezone="Asia/Tokyo", FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(function)))
    assert lambda_mock.wait_for_events(function, 1, timeout=10) == [{}]


def test_disabled_schedules_do_not_fire(server, lambda_mock):
    sched = scheduler_client(server.url)
    function = uid("disabled")
    name = create(sched, expression="rate(1 minute)", Target=target(lambda_arn(function)), State="DISABLED")
    assert_stays(lambda: lambda_mock.events(function) == [], duration=1.5)
    # Enabling it (UpdateSchedule) starts it.
    sched.update_schedule(Name=name, ScheduleExpression="rate(1 minute)", FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(function)), State="ENABLED")
    lambda_mock.wait_for_events(function, 1, timeout=10)
    sched.delete_schedule(Name=name)


def test_eventbridge_target_puts_an_event_on_the_bus(server, lambda_mock, events):
    sched = scheduler_client(server.url)
    bus, function = uid("sbus"), uid("from-schedule")
    events.create_event_bus(Name=bus)
    source = uid("my.app")
    events.put_rule(Name="from-scheduler", EventBusName=bus, EventPattern=json.dumps({"source": [source]}))
    events.put_targets(Rule="from-scheduler", EventBusName=bus, Targets=[{"Id": "f", "Arn": lambda_arn(function)}])
    name = uid("to-bus")
    sched.create_schedule(
        Name=name, ScheduleExpression=at_in(1), FlexibleTimeWindow=OFF,
        Target=target(f"arn:aws:events:{DEFAULT_REGION}:{DEFAULT_ACCOUNT}:event-bus/{bus}",
                      Input='{"order": 7, "at": "<aws.scheduler.scheduled-time>"}',
                      EventBridgeParameters={"DetailType": "Order Due", "Source": source}))
    event = lambda_mock.wait_for_events(function, 1, timeout=10)[0]
    assert event["source"] == source
    assert event["detail-type"] == "Order Due"
    assert event["detail"]["order"] == 7
    assert event["resources"] == [schedule_arn(name)]
    assert (event["account"], event["region"]) == (DEFAULT_ACCOUNT, DEFAULT_REGION)


def test_retries_then_the_dead_letter_queue(moto, log_dir):
    failing = FailingEndpoint()
    srv = ServerProcess(["--in-memory", "--retry-base-delay-ms", "10"],
                        {**server_env(lambda_url=failing.url, sqs_url=moto.url)}, log_dir).start()
    try:
        sched, sqs = scheduler_client(srv.url), moto.sqs()
        dlq_url, dlq_arn = queue(sqs)
        name, function = uid("fails"), lambda_arn(uid("always-fails"))
        sched.create_schedule(
            Name=name, ScheduleExpression=at_in(1), FlexibleTimeWindow=OFF,
            Target=target(function, Input='{"attempt": <aws.scheduler.attempt-number>}',
                          RetryPolicy={"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
                          DeadLetterConfig={"Arn": dlq_arn}))
        message = receive(sqs, dlq_url)[0]
        assert json.loads(message["Body"]) == {"attempt": 3}  # the last attempt's payload
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes == {
            "ERROR_CODE": "INTERNAL_ERROR",
            "ERROR_MESSAGE": attributes["ERROR_MESSAGE"],
            "EXHAUSTED_RETRY_CONDITION": "MaximumRetryAttempts",
            "RETRY_ATTEMPTS": "2",
            "TARGET_ARN": function,
            "X-Amz-Scheduler-Attempt": "3",
            "X-Amz-Scheduler-Group": "default",
            "X-Amz-Scheduler-Schedule": name,
            "X-Amz-Scheduler-Schedule-Arn": schedule_arn(name),
        }
        assert "boom" in attributes["ERROR_MESSAGE"]
        assert failing.count == 3
        # The log records the last attempt once the dead-letter queue has answered.
        wait_for_value(lambda: [d["outcome"] for d in deliveries(srv, rule=name)],
                       ["dead-lettered", "retrying", "retrying"], timeout=5)
    finally:
        srv.stop()
        failing.close()


def test_universal_targets(sqs_server, moto):
    sched, sqs = scheduler_client(sqs_server.url), moto.sqs()
    url, _ = queue(sqs)
    sched.create_schedule(
        Name=uid("universal"), ScheduleExpression=at_in(1), FlexibleTimeWindow=OFF,
        Target=target("arn:aws:scheduler:::aws-sdk:sqs:sendMessage",
                      Input=json.dumps({"QueueUrl": url, "MessageBody": "from a universal target"})))
    assert receive(sqs, url)[0]["Body"] == "from a universal target"

    name = uid("unsupported")
    sched.create_schedule(Name=name, ScheduleExpression=at_in(1), FlexibleTimeWindow=OFF,
                          Target=target("arn:aws:scheduler:::aws-sdk:s3:putObject",
                                        Input=json.dumps({"Bucket": "b", "Key": "k"})))
    entry = wait_for(lambda: deliveries(sqs_server, rule=name), timeout=10)[0]
    assert entry["outcome"] == "failed"
    assert "universal target not supported by eventbridge-local" in entry["error"]


def test_schedules_survive_a_restart_and_a_missed_instant_fires_once(start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    srv = start_server(data_dir=data)
    sched = scheduler_client(srv.url)
    group = uid("grp")
    sched.create_schedule_group(Name=group, Tags=[{"Key": "k", "Value": "v"}])
    function = uid("missed")
    name = uid("while-down")
    expression, instant = at_instant(3)
    sched.create_schedule(Name=name, GroupName=group, ScheduleExpression=expression, FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(function), Input='{"missed": true}'))
    assert srv.stop() == 0
    # The instant passes while the server is down.
    wait_for(lambda: time.time() > instant + 0.5, timeout=5, interval=0.05, message="the instant to pass")
    assert lambda_mock.events(function) == []

    srv = start_server(data_dir=data)
    sched = scheduler_client(srv.url)
    assert sched.get_schedule(Name=name, GroupName=group)["ScheduleExpression"].startswith("at(")
    assert sched.list_tags_for_resource(ResourceArn=group_arn(group))["Tags"] == [{"Key": "k", "Value": "v"}]
    assert lambda_mock.wait_for_events(function, 1, timeout=10) == [{"missed": True}]
    # Once: the progress is stored, so another restart does not make it again.
    assert srv.stop() == 0
    srv = start_server(data_dir=data)
    assert scheduler_client(srv.url).get_schedule(Name=name, GroupName=group)["Name"] == name
    assert_stays(lambda: len(lambda_mock.events(function)) == 1, duration=1.5)
