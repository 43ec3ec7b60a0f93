"""AWS JSON 1.1 over raw HTTP (http.client / sockets): envelope, headers, protocol errors,
request limits, health, and that the server keeps serving after each error."""

from __future__ import annotations

import json
import re

import pytest

from support import (
    DEFAULT_ACCOUNT,
    ServerProcess,
    raw_call,
    raw_socket_call,
    server_env,
    uid,
)

JSON_CT = "application/x-amz-json-1.1"
UUIDISH = re.compile(r"^[0-9A-Za-z-]{8,}$")


def assert_serving(server) -> None:
    """After an error: health answers and a normal call works."""
    health = raw_call(server.port, None, method="GET", path="/_local/health")
    assert health.status == 200
    assert health.json()["status"] == "ok"
    r = raw_call(server.port, "AWSEvents.ListEventBuses", b"{}")
    assert r.status == 200, r.body
    assert any(b["Name"] == "default" for b in r.json()["EventBuses"])


def assert_raw_error(r, code: str, message: str | None = None, status: int = 400) -> str:
    assert r.status == status, (r.status, r.body)
    body = r.json()
    assert body["__type"] == code, body
    assert r.header("x-amzn-ErrorType") == code
    assert r.header("x-amzn-RequestId")
    assert isinstance(body.get("message"), str) and body["message"], body
    if message is not None:
        assert body["message"] == message
    return body["message"]


# --------------------------------------------------------------------------- startup, health


def test_health(server):
    r = raw_call(server.port, None, method="GET", path="/_local/health")
    assert r.status == 200
    assert r.json()["status"] == "ok"


def test_startup_line_and_sigterm(log_dir, lambda_mock):
    srv = ServerProcess(["--in-memory"], server_env(lambda_url=lambda_mock.url), log_dir).start()
    try:
        assert srv.port != 0
        assert srv.healthy()
    finally:
        code = srv.stop()
    assert code == 0, f"SIGTERM should shut down gracefully with exit code 0, got {code}; stderr:\n{srv.stderr_tail()}"
    assert srv.stdout_lines == [f"eventbridge-local (data: in memory) listening on http://127.0.0.1:{srv.port}"]


def test_sigterm_right_after_the_listening_line_is_graceful(log_dir, lambda_mock):
    """A supervisor may stop the server as soon as it announced itself: SIGTERM must already be handled."""
    codes = []
    for _ in range(20):
        srv = ServerProcess(["--in-memory"], server_env(lambda_url=lambda_mock.url), log_dir).start()
        codes.append(srv.stop())
    assert codes == [0] * 20, f"exit codes after SIGTERM (-15 = killed by the signal): {codes}"


def test_account_id_flag(start_server):
    srv = start_server(args=("--account-id", "444455556666"))
    # A non-12-digit access key id -> the configured default account.
    arn = srv.client(access_key="AKIDEXAMPLE").create_event_bus(Name=uid("acct"))["EventBusArn"]
    assert arn.startswith("arn:aws:events:us-east-1:444455556666:event-bus/")


# --------------------------------------------------------------------------- success envelope


def test_success_headers_and_body(server):
    r = raw_call(server.port, "AWSEvents.ListEventBuses", b"{}")
    assert r.status == 200
    assert r.header("content-type") == JSON_CT
    assert UUIDISH.match(r.header("x-amzn-RequestId") or ""), r.headers
    body = r.json()
    assert isinstance(body["EventBuses"], list)


def test_request_ids_are_unique(server):
    ids = {raw_call(server.port, "AWSEvents.ListEventBuses", b"{}").header("x-amzn-RequestId") for _ in range(5)}
    assert len(ids) == 5 and None not in ids


def test_boto3_sees_request_id(events):
    resp = events.list_event_buses()
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert resp["ResponseMetadata"]["RequestId"]


def test_no_credential_scope_uses_default_region_and_account(server):
    r = raw_call(server.port, "AWSEvents.DescribeEventBus", b"{}")
    assert r.status == 200, r.body
    assert r.json()["Arn"] == f"arn:aws:events:us-east-1:{DEFAULT_ACCOUNT}:event-bus/default"


def test_credential_scope_region_and_account(server):
    auth = ("AWS4-HMAC-SHA256 Credential=111122223333/20260101/ap-southeast-2/events/aws4_request, "
            "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64)
    r = raw_call(server.port, "AWSEvents.DescribeEventBus", b"{}",
                 headers={"Authorization": auth, "X-Amz-Date": "20260101T000000Z"})
    if r.status != 200:  # a server that verifies signatures may refuse the fake one; boto3 covers it then
        pytest.skip(f"fake signature refused: {r.body!r}")
    assert r.json()["Arn"] == "arn:aws:events:ap-southeast-2:111122223333:event-bus/default"


def test_timestamps_are_epoch_numbers(server, events):
    bus = uid("ts")
    events.create_event_bus(Name=bus)
    r = raw_call(server.port, "AWSEvents.CreateArchive",
                 {"ArchiveName": uid("ts"), "EventSourceArn": f"arn:aws:events:us-east-1:{DEFAULT_ACCOUNT}:event-bus/{bus}"})
    assert r.status == 200, r.body
    created = r.json()["CreationTime"]
    assert isinstance(created, (int, float)) and not isinstance(created, bool)
    assert 1.6e9 < created < 4e9


def test_absent_members_are_omitted_not_null(server, events):
    name = uid("nonull")
    events.put_rule(Name=name, EventPattern=json.dumps({"source": ["x"]}))
    r = raw_call(server.port, "AWSEvents.DescribeRule", {"Name": name})
    assert r.status == 200
    assert None not in r.json().values(), r.json()
    events.delete_rule(Name=name)


# --------------------------------------------------------------------------- protocol errors


def test_error_envelope(server):
    name = uid("nobus")
    r = raw_call(server.port, "AWSEvents.DescribeEventBus", {"Name": name})
    assert_raw_error(r, "ResourceNotFoundException", f"Event bus {name} does not exist.")
    assert r.header("content-type") == JSON_CT


@pytest.mark.parametrize("body", [b"{", b"not json", b'{"Name": "x",}', b"[1, 2"])
def test_malformed_json_is_serialization_exception(server, body):
    r = raw_call(server.port, "AWSEvents.DescribeEventBus", body)
    assert_raw_error(r, "SerializationException")
    assert_serving(server)


@pytest.mark.parametrize("target,body", [
    ("AWSEvents.DescribeEventBus", {"Name": 5}),
    ("AWSEvents.PutEvents", {"Entries": "x"}),
    ("AWSEvents.PutRule", {"Name": ["r"]}),
    ("AWSEvents.ListRules", {"Limit": "ten"}),
])
def test_type_mismatch_is_serialization_exception(server, target, body):
    r = raw_call(server.port, target, body)
    assert_raw_error(r, "SerializationException")
    assert_serving(server)


def test_missing_target_header_is_unknown_operation(server):
    r = raw_call(server.port, None, b"{}")
    assert_raw_error(r, "UnknownOperationException")
    assert_serving(server)


@pytest.mark.parametrize("target", ["AWSEvents.NoSuchOp", "AWSEvents.", "SomethingElse.ListEventBuses"])
def test_unknown_operation(server, target):
    r = raw_call(server.port, target, b"{}")
    assert_raw_error(r, "UnknownOperationException")
    assert_serving(server)


@pytest.mark.parametrize("target", ["AWSEvents.DescribeRule", "AWSEvents.CreateEventBus", "AWSEvents.DeleteRule"])
def test_missing_required_member(server, target):
    r = raw_call(server.port, target, b"{}")
    assert_raw_error(r, "ValidationException",
                     "1 validation error detected: Value null at 'name' failed to satisfy constraint: "
                     "Member must not be null")
    assert_serving(server)


def test_missing_required_member_camel_case_path(server):
    r = raw_call(server.port, "AWSEvents.DescribeArchive", b"{}")
    assert_raw_error(r, "ValidationException",
                     "1 validation error detected: Value null at 'archiveName' failed to satisfy constraint: "
                     "Member must not be null")


def test_put_events_more_than_ten_entries(server):
    entries = [{"Source": "raw.test", "DetailType": "t", "Detail": json.dumps({"i": i}), "EventBusName": uid("nobus")}
               for i in range(11)]
    r = raw_call(server.port, "AWSEvents.PutEvents", {"Entries": entries})
    msg = assert_raw_error(r, "ValidationException")
    assert msg.startswith("1 validation error detected: Value '[PutEventsRequestEntry("), msg
    assert msg.endswith("at 'entries' failed to satisfy constraint: "
                        "Member must have length less than or equal to 10"), msg
    assert_serving(server)


def _sized_entries(total: int, n: int = 2) -> list[dict]:
    """n entries whose sizes (wire-protocol 5.3: Source + DetailType + Detail) add up to `total` bytes."""
    source, detail_type = "conformance.size", "big"
    overhead = len(source) + len(detail_type) + len('{"p": ""}')
    payload = total - n * overhead
    sizes = [payload // n + (1 if i < payload % n else 0) for i in range(n)]
    entries = [{"Source": source, "DetailType": detail_type, "Detail": json.dumps({"p": "x" * k}),
                "EventBusName": "size-limit-no-such-bus"} for k in sizes]
    assert sum(len(e["Source"]) + len(e["DetailType"]) + len(e["Detail"]) for e in entries) == total
    return entries


def test_put_events_total_size_at_limit_is_accepted(server):
    r = raw_call(server.port, "AWSEvents.PutEvents", {"Entries": _sized_entries(1_048_576)})
    assert r.status == 200, r.body[:500]
    body = r.json()
    assert body["FailedEntryCount"] == 0, body
    assert all("EventId" in e for e in body["Entries"])


def test_put_events_total_size_over_limit(server):
    r = raw_call(server.port, "AWSEvents.PutEvents", {"Entries": _sized_entries(1_048_577)})
    assert_raw_error(r, "ValidationException", "Total size of the entries in the request is over the limit.")
    assert_serving(server)


def test_put_events_resources_and_time_count_toward_size(server):
    # 14 bytes for Time + the Resources strings: an entry that is under the limit without them is over with them.
    entries = _sized_entries(1_048_576 - 14 - 10, n=1)
    entries[0]["Time"] = 1_700_000_000
    entries[0]["Resources"] = ["r" * 10]
    ok = raw_call(server.port, "AWSEvents.PutEvents", {"Entries": entries})
    assert ok.status == 200, ok.body[:300]
    entries[0]["Resources"] = ["r" * 11]
    r = raw_call(server.port, "AWSEvents.PutEvents", {"Entries": entries})
    assert_raw_error(r, "ValidationException", "Total size of the entries in the request is over the limit.")


def test_body_over_10_mib_is_rejected(server):
    filler = b"x" * (10 * 1024 * 1024)
    body = b'{"Entries": [{"Source": "a", "DetailType": "b", "Detail": "' + filler + b'"}]}'
    r = raw_socket_call(server.port, "AWSEvents.PutEvents", body)
    assert r.status == 400, (r.status, r.body[:300])
    assert r.json()["__type"] == "ValidationException", r.body[:300]
    assert_serving(server)


def test_client_errors_are_400_not_5xx(server):
    name = uid("dup")
    assert raw_call(server.port, "AWSEvents.CreateEventBus", {"Name": name}).status == 200
    r = raw_call(server.port, "AWSEvents.CreateEventBus", {"Name": name})
    assert_raw_error(r, "ResourceAlreadyExistsException", f"Event bus {name} already exists.")
    raw_call(server.port, "AWSEvents.DeleteEventBus", {"Name": name})


def test_cli_error_output(aws_cli):
    from support import CliError

    name = uid("nobus")
    with pytest.raises(CliError) as e:
        aws_cli("describe-event-bus", "--name", name)
    assert e.value.returncode == 255
    assert (f"An error occurred (ResourceNotFoundException) when calling the DescribeEventBus operation: "
            f"Event bus {name} does not exist.") in e.value.stderr


def test_cli_list_event_buses(aws_cli):
    buses = aws_cli("list-event-buses")["EventBuses"]
    assert any(b["Name"] == "default" for b in buses)
