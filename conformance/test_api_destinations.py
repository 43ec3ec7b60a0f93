"""Connections and API destinations through boto3, and one delivery with API key auth to an
http.server in the test."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from support import assert_error, put_one, uid, wait_for

CONNECTION_ARN_RE = re.compile(r"^arn:aws:events:us-east-1:000000000000:connection/[\w.-]+/[0-9a-f-]{36}$")
DESTINATION_ARN_RE = re.compile(r"^arn:aws:events:us-east-1:000000000000:api-destination/[\w.-]+/[0-9a-f-]{36}$")
SECRET_ARN_RE = re.compile(
    r"^arn:aws:secretsmanager:us-east-1:000000000000:secret:events!connection/[\w.-]+/[0-9a-f-]{36}-[A-Za-z0-9]{6}$")


def api_key_connection(events, name: str, value: str = "key-secret-1") -> str:
    resp = events.create_connection(
        Name=name, AuthorizationType="API_KEY",
        AuthParameters={"ApiKeyAuthParameters": {"ApiKeyName": "x-api-key", "ApiKeyValue": value}})
    return resp["ConnectionArn"]


def test_connection_lifecycle(events):
    name = uid("conn")
    created = events.create_connection(
        Name=name, Description="first", AuthorizationType="BASIC",
        AuthParameters={"BasicAuthParameters": {"Username": "user", "Password": "SECRET-pw"},
                        "InvocationHttpParameters": {"HeaderParameters": [
                            {"Key": "x-hidden", "Value": "SECRET-h", "IsValueSecret": True},
                            {"Key": "x-shown", "Value": "visible", "IsValueSecret": False}]}})
    assert CONNECTION_ARN_RE.match(created["ConnectionArn"]), created
    assert created["ConnectionState"] == "AUTHORIZED"

    described = events.describe_connection(Name=name)
    assert described["ConnectionArn"] == created["ConnectionArn"]
    assert described["Description"] == "first"
    assert described["AuthorizationType"] == "BASIC"
    assert SECRET_ARN_RE.match(described["SecretArn"]), described["SecretArn"]
    auth = described["AuthParameters"]
    assert auth["BasicAuthParameters"] == {"Username": "user"}
    headers = auth["InvocationHttpParameters"]["HeaderParameters"]
    assert {"Key": "x-shown", "Value": "visible", "IsValueSecret": False} in headers
    assert "SECRET" not in json.dumps(described, default=str)

    listed = events.list_connections(NamePrefix=name)["Connections"]
    assert [c["Name"] for c in listed] == [name]
    assert listed[0]["ConnectionState"] == "AUTHORIZED"
    assert "SECRET" not in json.dumps(listed, default=str)

    deauth = events.deauthorize_connection(Name=name)
    assert deauth["ConnectionState"] == "DEAUTHORIZED"
    assert [c["Name"] for c in events.list_connections(ConnectionState="DEAUTHORIZED")["Connections"]
            if c["Name"] == name] == [name]

    updated = events.update_connection(Name=name, Description="second",
                                       AuthParameters={"BasicAuthParameters": {"Password": "SECRET-new"}})
    assert updated["ConnectionState"] == "AUTHORIZED"
    assert events.describe_connection(Name=name)["Description"] == "second"

    deleted = events.delete_connection(Name=name)
    assert deleted["ConnectionState"] == "DELETING"
    with pytest.raises(ClientError) as e:
        events.describe_connection(Name=name)
    assert_error(e, "ResourceNotFoundException",
                 f"Failed to describe the connection(s). Connection '{name}' does not exist.")


def test_connection_errors(events):
    name = uid("conn")
    api_key_connection(events, name)
    with pytest.raises(ClientError) as e:
        api_key_connection(events, name)
    assert_error(e, "ResourceAlreadyExistsException")
    with pytest.raises(ClientError) as e:
        events.create_connection(Name="Invalid Name With Spaces!", AuthorizationType="INVALID",
                                 AuthParameters={})
    assert_error(
        e, "ValidationException",
        "2 validation errors detected: Value 'Invalid Name With Spaces!' at 'name' failed to satisfy constraint: "
        "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+; Value 'INVALID' at "
        "'authorizationType' failed to satisfy constraint: Member must satisfy enum value set: "
        "[BASIC, OAUTH_CLIENT_CREDENTIALS, API_KEY]")
    for call in (events.deauthorize_connection, events.delete_connection):
        with pytest.raises(ClientError) as e:
            call(Name=uid("missing"))
        assert_error(e, "ResourceNotFoundException")


def test_oauth_connection_hides_client_secret(events):
    name = uid("oauth")
    events.create_connection(
        Name=name, AuthorizationType="OAUTH_CLIENT_CREDENTIALS",
        AuthParameters={"OAuthParameters": {
            "ClientParameters": {"ClientID": "client-1", "ClientSecret": "SECRET-cs"},
            "AuthorizationEndpoint": "https://auth.example.com/token", "HttpMethod": "POST"}})
    described = events.describe_connection(Name=name)
    oauth = described["AuthParameters"]["OAuthParameters"]
    assert oauth["ClientParameters"] == {"ClientID": "client-1"}
    assert oauth["AuthorizationEndpoint"] == "https://auth.example.com/token"
    assert "SECRET" not in json.dumps(described, default=str)
    # No token is fetched before the first delivery.
    assert described["ConnectionState"] == "AUTHORIZING"


def test_api_destination_lifecycle(events):
    conn = api_key_connection(events, uid("conn"))
    name = uid("dest")
    created = events.create_api_destination(Name=name, ConnectionArn=conn, HttpMethod="POST",
                                            InvocationEndpoint="https://example.com/hook/*")
    assert DESTINATION_ARN_RE.match(created["ApiDestinationArn"]), created
    assert created["ApiDestinationState"] == "ACTIVE"
    described = events.describe_api_destination(Name=name)
    assert described["ConnectionArn"] == conn
    assert described["InvocationEndpoint"] == "https://example.com/hook/*"
    assert described["InvocationRateLimitPerSecond"] == 300

    listed = events.list_api_destinations(ConnectionArn=conn)["ApiDestinations"]
    assert [d["Name"] for d in listed] == [name]

    events.update_api_destination(Name=name, HttpMethod="PUT", InvocationRateLimitPerSecond=10)
    described = events.describe_api_destination(Name=name)
    assert (described["HttpMethod"], described["InvocationRateLimitPerSecond"]) == ("PUT", 10)

    with pytest.raises(ClientError) as e:
        events.create_api_destination(Name=name, ConnectionArn=conn, HttpMethod="POST",
                                      InvocationEndpoint="https://example.com")
    assert_error(e, "ResourceAlreadyExistsException")

    events.delete_api_destination(Name=name)
    with pytest.raises(ClientError) as e:
        events.describe_api_destination(Name=name)
    assert_error(e, "ResourceNotFoundException",
                 f"Failed to describe the api-destination(s). An api-destination '{name}' does not exist.")


def test_api_destination_follows_its_connection_state(events):
    conn_name = uid("conn")
    conn = api_key_connection(events, conn_name)
    name = uid("dest")
    events.create_api_destination(Name=name, ConnectionArn=conn, HttpMethod="POST",
                                  InvocationEndpoint="https://example.com")
    events.deauthorize_connection(Name=conn_name)
    assert events.describe_api_destination(Name=name)["ApiDestinationState"] == "INACTIVE"
    events.update_connection(Name=conn_name, Description="re-authorize")
    assert events.describe_api_destination(Name=name)["ApiDestinationState"] == "ACTIVE"


class _Recorder:
    """An http.server on 127.0.0.1 recording (method, path, headers, body) of every request."""

    def __init__(self):
        self.requests: list[tuple[str, str, dict[str, str], bytes]] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _handle(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                recorder.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                                          body))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_PUT = do_GET = _handle

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def recorder():
    r = _Recorder()
    yield r
    r.close()


def test_delivery_with_api_key(events, recorder):
    conn = api_key_connection(events, uid("conn"), value="k-123")
    dest = events.create_api_destination(
        Name=uid("dest"), ConnectionArn=conn, HttpMethod="POST",
        InvocationEndpoint=f"{recorder.url}/orders/*")["ApiDestinationArn"]
    bus = uid("bus")
    events.create_event_bus(Name=bus)
    rule = uid("rule")
    events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps({"source": ["conformance.test"]}))
    resp = events.put_targets(Rule=rule, EventBusName=bus, Targets=[{
        "Id": "api", "Arn": dest,
        "HttpParameters": {"PathParameterValues": ["$.detail.order"],
                           "HeaderParameters": {"x-team": "blue"},
                           "QueryStringParameters": {"v": "2"}}}])
    assert resp["FailedEntryCount"] == 0, resp
    event_id = put_one(events, bus, detail={"order": "o-7"})
    wait_for(lambda: recorder.requests, message="the API destination request")
    method, path, headers, body = recorder.requests[0]
    assert method == "POST"
    assert path == "/orders/o-7?v=2"
    assert headers["x-api-key"] == "k-123"
    assert headers["x-team"] == "blue"
    assert headers["content-type"].startswith("application/json")
    event = json.loads(body)
    assert event["id"] == event_id
    assert event["detail"] == {"order": "o-7"}
