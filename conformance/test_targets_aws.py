"""Issue 4: AWS service targets reached at AWS_ENDPOINT_URL (here moto_server), each with the
request AWS itself would make; and the dead-letter queue after the last failed attempt."""

from __future__ import annotations

import http.server
import json
import threading
import urllib.request

import boto3
import pytest

from support import (
    DEFAULT_REGION,
    ServerProcess,
    lambda_arn,
    server_env,
    uid,
    wait_for,
    wait_for_value,
)

ACCOUNT = "123456789012"  # moto's account: target ARNs name moto's resources


def aws(moto, service):
    return boto3.session.Session().client(service, endpoint_url=moto.url, region_name=DEFAULT_REGION,
                                          aws_access_key_id="test", aws_secret_access_key="test")


@pytest.fixture(scope="module")
def aws_server(moto, lambda_mock, log_dir):
    """A server whose AWS targets all live in moto, Lambda in the mock, retries fast."""
    env = server_env(lambda_url=lambda_mock.url)
    env["AWS_ENDPOINT_URL"] = moto.url
    srv = ServerProcess(["--in-memory", "--retry-base-delay-ms", "10"], env, log_dir).start()
    yield srv
    srv.stop()


def rule_to(events, target: dict, source: str) -> str:
    rule = uid("r")
    events.put_rule(Name=rule, EventPattern=json.dumps({"source": [source]}))
    out = events.put_targets(Rule=rule, Targets=[target])
    assert out["FailedEntryCount"] == 0
    return rule


def put(events, source: str, detail: dict) -> str:
    out = events.put_events(Entries=[{"Source": source, "DetailType": "t", "Detail": json.dumps(detail)}])
    assert out["FailedEntryCount"] == 0
    return out["Entries"][0]["EventId"]


def test_sns_publish_reaches_a_subscribed_queue(aws_server, moto):
    events, sns, sqs = aws_server.client(), aws(moto, "sns"), aws(moto, "sqs")
    topic = sns.create_topic(Name=uid("topic"))["TopicArn"]
    queue_url = sqs.create_queue(QueueName=uid("q"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    source = uid("src")
    rule_to(events, {"Id": "sns", "Arn": topic}, source)
    event_id = put(events, source, {"n": 1})

    def received():
        return sqs.receive_message(QueueUrl=queue_url, WaitTimeSeconds=1).get("Messages")

    body = json.loads(wait_for(received, timeout=15)[0]["Body"])
    assert body["id"] == event_id and body["detail"] == {"n": 1}


def test_kinesis_put_record_with_partition_key_path(aws_server, moto):
    events, kinesis = aws_server.client(), aws(moto, "kinesis")
    stream = uid("stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    source = uid("src")
    rule_to(events, {"Id": "k", "Arn": arn, "KinesisParameters": {"PartitionKeyPath": "$.detail.customer"}}, source)
    event_id = put(events, source, {"customer": "c-42"})
    shard = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream, ShardId=shard,
                                          ShardIteratorType="TRIM_HORIZON")["ShardIterator"]

    def records():
        return kinesis.get_records(ShardIterator=iterator)["Records"]

    record = wait_for(records, timeout=15)[0]
    assert record["PartitionKey"] == "c-42"
    assert json.loads(record["Data"])["id"] == event_id


def test_step_functions_start_execution_with_the_event_as_input(aws_server, moto):
    events, sfn = aws_server.client(), aws(moto, "stepfunctions")
    machine = sfn.create_state_machine(
        name=uid("sm"), roleArn=f"arn:aws:iam::{ACCOUNT}:role/sf",
        definition=json.dumps({"StartAt": "S", "States": {"S": {"Type": "Pass", "End": True}}}))["stateMachineArn"]
    source = uid("src")
    rule_to(events, {"Id": "sf", "Arn": machine}, source)
    event_id = put(events, source, {"order": 7})

    def executions():
        return sfn.list_executions(stateMachineArn=machine)["executions"]

    execution = wait_for(executions, timeout=15)[0]
    described = sfn.describe_execution(executionArn=execution["executionArn"])
    assert json.loads(described["input"])["id"] == event_id


def test_cloudwatch_logs_get_the_event(aws_server, moto):
    events, logs = aws_server.client(), aws(moto, "logs")
    group = "/aws/events/" + uid("g")
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:{DEFAULT_REGION}:{ACCOUNT}:log-group:{group}"
    source = uid("src")
    rule_to(events, {"Id": "logs", "Arn": arn}, source)
    event_id = put(events, source, {"line": "hello"})

    def logged():
        return logs.filter_log_events(logGroupName=group).get("events")

    message = json.loads(wait_for(logged, timeout=15)[0]["message"])
    assert message["id"] == event_id and message["detail"] == {"line": "hello"}


def test_firehose_put_record(aws_server, moto):
    events, firehose, s3 = aws_server.client(), aws(moto, "firehose"), aws(moto, "s3")
    bucket = uid("bucket")
    s3.create_bucket(Bucket=bucket)
    name = uid("fh")
    arn = firehose.create_delivery_stream(
        DeliveryStreamName=name,
        ExtendedS3DestinationConfiguration={"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/fh",
                                            "BucketARN": f"arn:aws:s3:::{bucket}"})["DeliveryStreamARN"]
    source = uid("src")
    rule_to(events, {"Id": "fh", "Arn": arn}, source)
    event_id = put(events, source, {"x": 1})

    def objects():
        return s3.list_objects_v2(Bucket=bucket).get("Contents")

    key = wait_for(objects, timeout=15)[0]["Key"]
    data = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert event_id in data


class FailingEndpoint:
    """An HTTP endpoint that answers every request 500, counting them."""

    def __init__(self):
        self.count = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                outer.count += 1
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


def deliveries(server, event_id: str) -> list[dict]:
    with urllib.request.urlopen(f"{server.url}/_local/deliveries?eventId={event_id}", timeout=5) as r:
        return json.loads(r.read())["deliveries"]


def test_failed_deliveries_go_to_the_dead_letter_queue_with_aws_attributes(moto, log_dir):
    failing = FailingEndpoint()
    env = server_env(lambda_url=failing.url)
    env["AWS_ENDPOINT_URL"] = moto.url
    srv = ServerProcess(["--in-memory", "--retry-base-delay-ms", "10"], env, log_dir).start()
    try:
        events, sqs = srv.client(), aws(moto, "sqs")
        dlq_url = sqs.create_queue(QueueName=uid("dlq"))["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        function = lambda_arn(uid("always-fails"))
        source = uid("src")
        rule = rule_to(events, {"Id": "f", "Arn": function,
                                "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 60},
                                "DeadLetterConfig": {"Arn": dlq_arn}}, source)
        event_id = put(events, source, {"n": 1})

        def received():
            return sqs.receive_message(QueueUrl=dlq_url, WaitTimeSeconds=1,
                                       MessageAttributeNames=["All"]).get("Messages")

        message = wait_for(received, timeout=15)[0]
        assert json.loads(message["Body"])["id"] == event_id
        attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
        assert attributes["RULE_ARN"].endswith(f":rule/{rule}")
        assert attributes["TARGET_ARN"] == function
        assert attributes["ERROR_CODE"] == "INTERNAL_ERROR"
        assert "boom" in attributes["ERROR_MESSAGE"]
        assert attributes["RETRY_ATTEMPTS"] == "2"
        assert attributes["EXHAUSTED_RETRY_CONDITION"] == "MaximumRetryAttempts"
        assert failing.count == 3  # the first attempt and two retries
        # The log records the last attempt once the dead-letter queue has answered, which can
        # be just after the message is readable there.
        wait_for_value(lambda: [d["outcome"] for d in deliveries(srv, event_id)],
                       ["dead-lettered", "retrying", "retrying"], timeout=5)
    finally:
        srv.stop()
        failing.close()


def test_unknown_target_kinds_are_accepted_and_fail_clearly(aws_server):
    events = aws_server.client()
    source = uid("src")
    rule_to(events, {"Id": "batch", "Arn": f"arn:aws:batch:{DEFAULT_REGION}:{ACCOUNT}:job-queue/q",
                     "BatchParameters": {"JobDefinition": "d", "JobName": "n"}}, source)
    event_id = put(events, source, {})
    entry = wait_for(lambda: deliveries(aws_server, event_id), timeout=10)[0]
    assert entry["outcome"] == "failed"
    assert "target type not supported by eventbridge-local" in entry["error"]
