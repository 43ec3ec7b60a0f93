"""Operations outside issue 2 answer 400 UnsupportedOperationException naming the operation."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from support import SUPPORTED_OPERATIONS, assert_error, raw_call

ALL_OPERATIONS = sorted(boto3.session.Session().client("events", region_name="us-east-1")
                        .meta.service_model.operation_names)
UNSUPPORTED = [op for op in ALL_OPERATIONS if op not in SUPPORTED_OPERATIONS]


def message(op: str) -> str:
    return f"Operation {op} is not supported by eventbridge-local yet."


def test_model_has_57_operations():
    assert len(ALL_OPERATIONS) == 57
    assert SUPPORTED_OPERATIONS <= set(ALL_OPERATIONS)
    assert len(UNSUPPORTED) == 57 - len(SUPPORTED_OPERATIONS)


def test_tag_resource(events):
    with pytest.raises(ClientError) as e:
        events.tag_resource(ResourceARN="arn:aws:events:us-east-1:000000000000:event-bus/default",
                            Tags=[{"Key": "team", "Value": "crm"}])
    assert_error(e, "UnsupportedOperationException", message("TagResource"))


def test_put_permission_and_create_endpoint(events):
    with pytest.raises(ClientError) as e:
        events.put_permission(Action="events:PutEvents", Principal="111122223333", StatementId="s1")
    assert_error(e, "UnsupportedOperationException", message("PutPermission"))
    with pytest.raises(ClientError) as e:
        events.list_endpoints()
    assert_error(e, "UnsupportedOperationException", message("ListEndpoints"))


@pytest.mark.parametrize("op", UNSUPPORTED)
def test_every_other_operation_raw(server, op):
    r = raw_call(server.port, f"AWSEvents.{op}", b"{}")
    assert r.status == 400, (op, r.status, r.body)
    body = r.json()
    assert body == {"__type": "UnsupportedOperationException", "message": message(op)}
    assert r.header("x-amzn-ErrorType") == "UnsupportedOperationException"
