"""Fixtures of the eventbridge-local conformance suite.

The binary comes from EVENTBRIDGE_LOCAL_BIN (tests/conformance.rs passes
env!("CARGO_BIN_EXE_eventbridge-local")), else target/debug/eventbridge-local.
Run by hand:  target/conformance-venv/bin/python -m pytest conformance -q -p no:cacheprovider
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from support import (  # noqa: E402
    AwsCli,
    LambdaMock,
    MotoServer,
    ServerProcess,
    binary_path,
    server_env,
    uid,
)


@pytest.fixture(scope="session")
def log_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("logs")


@pytest.fixture(scope="session")
def lambda_mock():
    """Lambda Invoke API mock shared by the session's server (started before it)."""
    mock = LambdaMock()
    yield mock
    mock.close()


@pytest.fixture(scope="session")
def server(lambda_mock, log_dir):
    """The shared eventbridge-local (in memory), delivering Lambda targets to `lambda_mock`."""
    try:
        binary_path()
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    srv = ServerProcess(["--in-memory"], server_env(lambda_url=lambda_mock.url), log_dir).start()
    yield srv
    srv.stop()


@pytest.fixture
def start_server(log_dir, lambda_mock):
    """Factory for extra servers (own data dir, own endpoints); all stopped (SIGTERM) after the test.

    start_server(data_dir=None, lambda_url=<session mock>, sqs_url=None, args=())"""
    try:
        binary_path()
    except FileNotFoundError as e:
        pytest.fail(str(e), pytrace=False)
    started: list[ServerProcess] = []

    def start(data_dir: Path | None = None, lambda_url: str | None = None, sqs_url: str | None = None,
              args: tuple[str, ...] = ()) -> ServerProcess:
        argv = ["--data-dir", str(data_dir)] if data_dir is not None else ["--in-memory"]
        argv += list(args)
        srv = ServerProcess(argv, server_env(lambda_url=lambda_url or lambda_mock.url, sqs_url=sqs_url), log_dir)
        started.append(srv)
        return srv.start()

    yield start
    for srv in started:
        srv.stop()


@pytest.fixture(scope="session")
def moto(log_dir):
    """moto_server (SQS) on 127.0.0.1 and an ephemeral port."""
    m = MotoServer(log_dir)
    yield m
    m.close()


@pytest.fixture(scope="session")
def supported_operations(server) -> frozenset[str]:
    """The operations the shared server implements (read from its /_local/health)."""
    return server.supported_operations()


@pytest.fixture
def events(server):
    """boto3 EventBridge client for the shared server (us-east-1, account 000000000000)."""
    return server.client()


@pytest.fixture
def events_factory(server):
    """events_factory(region=..., access_key=...) -> boto3 client for the shared server."""
    return lambda region="us-east-1", access_key="test": server.client(region=region, access_key=access_key)


@pytest.fixture
def bus(events):
    """A new custom event bus on the shared server, for this test alone; returns its name."""
    name = uid("bus")
    events.create_event_bus(Name=name)
    return name


@pytest.fixture
def aws_cli(server):
    """aws_cli("put-rule", "--name", ...) -> parsed JSON of `aws events ...` against the shared server."""
    return AwsCli(server.url)
