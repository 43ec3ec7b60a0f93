"""Operations the server does not implement (those missing from its /_local/health) answer 400
UnsupportedOperationException naming the operation."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from support import assert_error, raw_call

ALL_OPERATIONS = sorted(boto3.session.Session().client("events", region_name="us-east-1")
                        .meta.service_model.operation_names)


def message(op: str) -> str:
    return f"Operation {op} is not supported by eventbridge-local yet."


def test_model_has_57_operations(supported_operations):
    unsupported = [op for op in ALL_OPERATIONS if op not in supported_operations]
    assert len(ALL_OPERATIONS) == 57
    assert supported_operations <= set(ALL_OPERATIONS)
    assert len(unsupported) == 57 - len(supported_operations)




@pytest.mark.parametrize("op", ALL_OPERATIONS)
def test_every_operation_raw(server, supported_operations, op):
    """The list is the server's own, so it is checked both ways: a listed operation reaches its
    handler, any other answers UnsupportedOperationException."""
    r = raw_call(server.port, f"AWSEvents.{op}", b"{}")
    if op in supported_operations:
        assert r.json().get("__type") != "UnsupportedOperationException", (op, r.status, r.body)
        return
    assert r.status == 400, (op, r.status, r.body)
    body = r.json()
    assert body == {"__type": "UnsupportedOperationException", "message": message(op)}
    assert r.header("x-amzn-ErrorType") == "UnsupportedOperationException"
