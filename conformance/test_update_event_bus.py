"""UpdateEventBus and the settings CreateEventBus shares with it (KmsKeyIdentifier,
DeadLetterConfig, LogConfig), through boto3 and the AWS CLI; and the bus's dead-letter queue
receiving what a target of the bus could not deliver."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request

import boto3
import pytest
from botocore.exceptions import ClientError

from support import (
    DEFAULT_REGION,
    ServerProcess,
    assert_error,
    assert_stays,
    bus_arn,
    lambda_arn,
    raw_call,
    server_env,
    uid,
    wait_for,
)

DLQ = "arn:aws:sqs:us-east-1:000000000000:bus-dlq"
KEY = "arn:aws:kms:us-east-1:000000000000:key/0a1b2c3d-1111-2222-3333-444455556666"


def test_update_sets_every_setting_and_describe_returns_them(events, bus):
    before = events.describe_event_bus(Name=bus)
    resp = events.update_event_bus(Name=bus, Description="orders", KmsKeyIdentifier=KEY,
                                   DeadLetterConfig={"Arn": DLQ},
                                   LogConfig={"IncludeDetail": "FULL", "Level": "INFO"})
    resp.pop("ResponseMetadata")
    assert resp == {"Arn": bus_arn(bus), "Name": bus, "Description": "orders", "KmsKeyIdentifier": KEY,
                    "DeadLetterConfig": {"Arn": DLQ}, "LogConfig": {"IncludeDetail": "FULL", "Level": "INFO"}}
    desc = events.describe_event_bus(Name=bus)
    for member in ["Description", "KmsKeyIdentifier", "DeadLetterConfig", "LogConfig"]:
        assert desc[member] == resp[member], member
    assert desc["CreationTime"] == before["CreationTime"]
    assert desc["LastModifiedTime"] >= before["LastModifiedTime"]
    # ListEventBuses answers AWS's EventBus shape: name, ARN, description, times (no settings).
    listed = [b for b in events.list_event_buses(NamePrefix=bus)["EventBuses"] if b["Name"] == bus][0]
    assert set(listed) == {"Name", "Arn", "Description", "CreationTime", "LastModifiedTime"}
    assert listed["Description"] == "orders"


def test_settings_left_out_are_kept_and_empty_ones_removed(events, bus):
    events.update_event_bus(Name=bus, Description="orders", KmsKeyIdentifier=KEY, DeadLetterConfig={"Arn": DLQ},
                            LogConfig={"Level": "ERROR"})
    events.update_event_bus(Name=bus)
    desc = events.describe_event_bus(Name=bus)
    assert (desc["Description"], desc["KmsKeyIdentifier"], desc["DeadLetterConfig"], desc["LogConfig"]) == \
        ("orders", KEY, {"Arn": DLQ}, {"Level": "ERROR"})

    events.update_event_bus(Name=bus, Description="")  # the way to unset a description
    desc = events.describe_event_bus(Name=bus)
    assert "Description" not in desc and desc["KmsKeyIdentifier"] == KEY
    events.update_event_bus(Name=bus, DeadLetterConfig={}, KmsKeyIdentifier="")
    desc = events.describe_event_bus(Name=bus)
    assert "DeadLetterConfig" not in desc and "KmsKeyIdentifier" not in desc
    assert desc["LogConfig"] == {"Level": "ERROR"}


def test_create_event_bus_takes_the_same_settings(events):
    name = uid("sbus")
    resp = events.create_event_bus(Name=name, Description="d", KmsKeyIdentifier="alias/mine",
                                   DeadLetterConfig={"Arn": DLQ}, LogConfig={"Level": "TRACE", "IncludeDetail": "NONE"})
    assert resp["EventBusArn"] == bus_arn(name)
    assert resp["DeadLetterConfig"] == {"Arn": DLQ} and resp["KmsKeyIdentifier"] == "alias/mine"
    desc = events.describe_event_bus(Name=name)
    assert desc["LogConfig"] == {"Level": "TRACE", "IncludeDetail": "NONE"}


def test_default_bus_when_the_name_is_left_out(events):
    marker = uid("default bus")
    resp = events.update_event_bus(Description=marker)
    assert resp["Name"] == "default" and resp["Arn"] == bus_arn("default")
    assert events.describe_event_bus()["Description"] == marker
    events.update_event_bus(Name="default", Description="")
    assert "Description" not in events.describe_event_bus()


def test_update_errors(events, server, bus):
    missing = uid("missing")
    with pytest.raises(ClientError) as e:
        events.update_event_bus(Name=missing, Description="x")
    assert_error(e, "ResourceNotFoundException", f"Event bus {missing} does not exist.")

    with pytest.raises(ClientError) as e:
        events.update_event_bus(Name=bus, LogConfig={"Level": "DEBUG", "IncludeDetail": "SOME"})
    assert_error(e, "ValidationException",
                 "2 validation errors detected: Value 'SOME' at 'logConfig.includeDetail' failed to satisfy "
                 "constraint: Member must satisfy enum value set: [NONE, FULL]; Value 'DEBUG' at 'logConfig.level' "
                 "failed to satisfy constraint: Member must satisfy enum value set: [OFF, ERROR, INFO, TRACE]")
    with pytest.raises(ClientError) as e:
        events.update_event_bus(Name=bus, Description="d" * 513)
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        events.update_event_bus(Name=bus, KmsKeyIdentifier="key with spaces")
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        events.update_event_bus(Name=bus_arn(bus), Description="x")  # a name, not an ARN
    assert_error(e, "ValidationException")

    for queue in ["arn:aws:sns:us-east-1:000000000000:topic", "not-an-arn",
                  "arn:aws:sqs:eu-west-1:000000000000:other-region", "arn:aws:sqs:us-east-1:000000000000:q.fifo"]:
        with pytest.raises(ClientError) as e:
            events.update_event_bus(Name=bus, DeadLetterConfig={"Arn": queue})
        assert_error(e, "ValidationException")
        assert assert_error(e, "ValidationException").startswith("Parameter DeadLetterConfig.Arn is not valid.")
        with pytest.raises(ClientError) as e:
            events.create_event_bus(Name=uid("sbus"), DeadLetterConfig={"Arn": queue})
        assert_error(e, "ValidationException")
    # Nothing refused was applied.
    assert "DeadLetterConfig" not in events.describe_event_bus(Name=bus)

    r = raw_call(server.port, "AWSEvents.UpdateEventBus", {"Name": bus, "LogConfig": "INFO"})
    assert r.status == 400 and r.json()["__type"] == "SerializationException"


def test_aws_cli_update_event_bus(aws_cli, bus):
    out = aws_cli("update-event-bus", "--name", bus, "--description", "from the cli",
                  "--dead-letter-config", f"Arn={DLQ}", "--log-config", "Level=INFO,IncludeDetail=FULL")
    assert out == {"Arn": bus_arn(bus), "Name": bus, "Description": "from the cli",
                   "DeadLetterConfig": {"Arn": DLQ}, "LogConfig": {"IncludeDetail": "FULL", "Level": "INFO"}}
    desc = aws_cli("describe-event-bus", "--name", bus)
    assert desc["Description"] == "from the cli" and desc["DeadLetterConfig"] == {"Arn": DLQ}


class FailingEndpoint:
    """A Lambda stand-in that answers every request 500."""

    def __init__(self):
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                body = b'{"Type": "Service", "message": "boom"}'
                self.send_response(500)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_the_bus_dead_letter_queue_takes_what_targets_without_their_own_could_not_deliver(moto, log_dir):
    failing = FailingEndpoint()
    env = server_env(lambda_url=failing.url)
    env["AWS_ENDPOINT_URL"] = moto.url
    srv = ServerProcess(["--in-memory", "--retry-base-delay-ms", "10"], env, log_dir).start()
    try:
        events = srv.client()
        sqs = boto3.session.Session().client("sqs", endpoint_url=moto.url, region_name=DEFAULT_REGION,
                                             aws_access_key_id="test", aws_secret_access_key="test")

        def queue() -> tuple[str, str]:
            url = sqs.create_queue(QueueName=uid("dlq"))["QueueUrl"]
            return url, sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        bus_queue_url, bus_queue_arn = queue()
        target_queue_url, target_queue_arn = queue()
        bus = uid("dlqbus")
        events.create_event_bus(Name=bus, DeadLetterConfig={"Arn": bus_queue_arn})
        rule = uid("r")
        events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["dlq.test"]}))
        retry = {"MaximumRetryAttempts": 1, "MaximumEventAgeInSeconds": 60}
        plain, own = lambda_arn(uid("plain")), lambda_arn(uid("own"))
        out = events.put_targets(Rule=rule, EventBusName=bus, Targets=[
            {"Id": "plain", "Arn": plain, "RetryPolicy": retry},
            {"Id": "own", "Arn": own, "RetryPolicy": retry, "DeadLetterConfig": {"Arn": target_queue_arn}},
        ])
        assert out["FailedEntryCount"] == 0
        event_id = events.put_events(Entries=[{"EventBusName": bus, "Source": "dlq.test", "DetailType": "t",
                                               "Detail": "{}"}])["Entries"][0]["EventId"]

        def received(url):
            return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1, MessageAttributeNames=["All"]).get("Messages")

        on_bus = wait_for(lambda: received(bus_queue_url), timeout=15)
        assert len(on_bus) == 1
        assert json.loads(on_bus[0]["Body"])["id"] == event_id
        attributes = {k: v["StringValue"] for k, v in on_bus[0]["MessageAttributes"].items()}
        assert attributes["TARGET_ARN"] == plain
        assert attributes["RULE_ARN"] == f"arn:aws:events:us-east-1:000000000000:rule/{bus}/{rule}"
        assert attributes["ERROR_CODE"] == "INTERNAL_ERROR"
        assert attributes["RETRY_ATTEMPTS"] == "1"
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        # The target with its own queue uses that one, not the bus's.
        on_target = wait_for(lambda: received(target_queue_url), timeout=15)
        assert {k: v["StringValue"] for k, v in on_target[0]["MessageAttributes"].items()}["TARGET_ARN"] == own
        assert_stays(lambda: not received(bus_queue_url), duration=1.5,
                     message="the bus's queue gets no second message")

        # Once removed, the bus's queue gets nothing more.
        events.update_event_bus(Name=bus, DeadLetterConfig={})
        second = events.put_events(Entries=[{"EventBusName": bus, "Source": "dlq.test", "DetailType": "t",
                                             "Detail": "{}"}])["Entries"][0]["EventId"]
        wait_for(lambda: received(target_queue_url), timeout=15)

        def failed_for_plain():
            with urllib.request.urlopen(f"{srv.url}/_local/deliveries?eventId={second}&target=plain") as r:
                return [d for d in json.loads(r.read())["deliveries"] if d["outcome"] == "failed"]

        wait_for(failed_for_plain, timeout=15)
        assert not received(bus_queue_url)
    finally:
        srv.stop()
        failing.close()
