"""--verify-signatures (issue 16): real SigV4 from boto3 and the AWS CLI is accepted; unknown
keys, wrong secrets, missing and stale signatures get AWS's answers."""

from __future__ import annotations

import datetime
import json

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from support import AwsCli, assert_error, raw_call


def client(srv, key: str, secret: str):
    return boto3.session.Session().client(
        "events", endpoint_url=srv.url, region_name="eu-west-1", aws_access_key_id=key,
        aws_secret_access_key=secret, config=Config(retries={"max_attempts": 1, "mode": "standard"}))


@pytest.fixture
def verifying(start_server, tmp_path):
    creds = tmp_path / "credentials.json"
    creds.write_text(json.dumps([{"accessKeyId": "AKIDPROD", "secretAccessKey": "prod-secret",
                                  "account": "111122223333"}]))
    return start_server(args=("--verify-signatures", "--credentials-file", str(creds)))


def test_signed_requests_act_as_their_account(verifying):
    prod = client(verifying, "AKIDPROD", "prod-secret")
    buses = prod.list_event_buses()["EventBuses"]
    assert buses[0]["Arn"] == "arn:aws:events:eu-west-1:111122223333:event-bus/default"
    # The environment's pair (the server's AWS_ACCESS_KEY_ID/SECRET) works too, as --account-id.
    env_pair = client(verifying, "test", "test")
    assert env_pair.list_event_buses()["EventBuses"][0]["Arn"].split(":")[4] == "000000000000"


def test_unknown_access_key(verifying):
    with pytest.raises(ClientError) as e:
        client(verifying, "AKIDNOBODY", "x").list_event_buses()
    assert_error(e, "UnrecognizedClientException", "The security token included in the request is invalid.")


def test_wrong_secret(verifying):
    with pytest.raises(ClientError) as e:
        client(verifying, "AKIDPROD", "not-the-secret").list_event_buses()
    assert_error(e, "InvalidSignatureException",
                 "The request signature we calculated does not match the signature you provided. Check your AWS "
                 "Secret Access Key and signing method. Consult the service documentation for details.")


def test_tampered_body(verifying):
    """A body changed after signing no longer matches its signature."""
    prod = client(verifying, "AKIDPROD", "prod-secret")

    def tamper(request, **_):
        request.body = request.body.replace(b"one", b"two")

    prod.meta.events.register_last("before-send.events.CreateEventBus", tamper)
    with pytest.raises(ClientError) as e:
        prod.create_event_bus(Name="one")
    assert_error(e, "InvalidSignatureException")


def test_missing_signature(verifying):
    r = raw_call(verifying.port, "AWSEvents.ListEventBuses", {})
    assert r.status == 400
    assert r.json()["__type"] == "MissingAuthenticationTokenException"


def test_stale_signature(verifying, monkeypatch):
    """Signed ten minutes ago (botocore's own SigV4 signer with its clock moved back; the
    request is sent as signed, without the SDK's clock-skew retry)."""
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    stale = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.timedelta(minutes=10)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *a, **k: stale)
    request = AWSRequest(method="POST", url=f"{verifying.url}/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.ListEventBuses"})
    botocore.auth.SigV4Auth(Credentials("AKIDPROD", "prod-secret"), "events", "eu-west-1").add_auth(request)
    headers = dict(request.headers.items())
    r = raw_call(verifying.port, None, b"{}", headers=headers)
    body = r.json()
    assert r.status == 400 and body["__type"] == "InvalidSignatureException", body
    assert body["message"].startswith(f"Signature expired: {stale.strftime('%Y%m%dT%H%M%SZ')} is now earlier than "), body
    assert body["message"].endswith(" - 5 min.)"), body
    # The same request signed now goes through.
    monkeypatch.undo()
    request = AWSRequest(method="POST", url=f"{verifying.url}/", data=b"{}", headers={
        "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AWSEvents.ListEventBuses"})
    botocore.auth.SigV4Auth(Credentials("AKIDPROD", "prod-secret"), "events", "eu-west-1").add_auth(request)
    assert raw_call(verifying.port, None, b"{}", headers=dict(request.headers.items())).status == 200


def test_aws_cli_signatures_verify(verifying):
    """The CLI signs with the test pair the server also knows (its own AWS_ACCESS_KEY_ID)."""
    out = AwsCli(verifying.url)("list-event-buses")
    assert out["EventBuses"][0]["Arn"].split(":")[4] == "000000000000"
