"""Shared helpers of the conformance suite (imported by conftest.py and the tests).

Nothing here talks to AWS: every server is started by the suite on 127.0.0.1 with an
ephemeral port (eventbridge-local itself, a Lambda Invoke API mock, moto for SQS).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable

import boto3
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "us-east-1"
LISTENING_RE = re.compile(r"^eventbridge-local \(data: .+\) listening on http://127\.0\.0\.1:(\d+)$")
STARTUP_TIMEOUT = 30.0
DEFAULT_TIMEOUT = 10.0
REPLAY_TIMEOUT = 30.0

ENVELOPE_KEYS = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]
REPLAY_ENVELOPE_KEYS = [
    "version", "id", "detail-type", "source", "account", "time", "region", "replay-name", "resources", "detail",
]
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


# --------------------------------------------------------------------------- names, polling


def uid(prefix: str) -> str:
    """A resource name unique to one test, so that tests can share a server."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def wait_for(predicate: Callable[[], Any], timeout: float = DEFAULT_TIMEOUT, interval: float = 0.05,
             message: str | None = None) -> Any:
    """Poll `predicate` until it returns a truthy value (returned) or the deadline passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = predicate()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:.1f}s waiting for {message or predicate}; last value: {last!r}")
        time.sleep(interval)


def wait_for_value(getter: Callable[[], Any], expected: Any, timeout: float = DEFAULT_TIMEOUT,
                   interval: float = 0.05, message: str | None = None) -> Any:
    """Poll `getter` until it returns `expected`; the error names the last value seen."""
    deadline = time.monotonic() + timeout
    while True:
        value = getter()
        if value == expected:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"timed out after {timeout:.1f}s waiting for {message or getter} == {expected!r}; last value: {value!r}")
        time.sleep(interval)


def assert_stays(predicate: Callable[[], Any], duration: float = 0.5, interval: float = 0.05,
                 message: str | None = None) -> None:
    """Assert that `predicate` stays truthy for `duration` seconds (negative checks: "nothing arrives")."""
    deadline = time.monotonic() + duration
    while True:
        assert predicate(), f"condition broke: {message or predicate}"
        if time.monotonic() >= deadline:
            return
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def window_end_after(last_put: float) -> datetime:
    """A replay window end for events put up to `last_put` (epoch seconds): the next whole second.

    Clients send whole epoch seconds (boto3 1.43 and the CLI v1 drop the fraction), so `now`
    would cut off the last second's events; the end must not be in the future either, so this
    waits (at most ~1 s) until that second has passed."""
    end = math.floor(last_put) + 1
    wait_for(lambda: time.time() > end + 0.05, timeout=3, interval=0.02, message="the window end to be in the past")
    return datetime.fromtimestamp(end, timezone.utc)


def window_start_before(first_put: float) -> datetime:
    """A whole second strictly before `first_put`."""
    return datetime.fromtimestamp(math.floor(first_put) - 1, timezone.utc)


def envelope_time(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- ARNs


def bus_arn(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:event-bus/{name}"


def rule_arn(rule: str, bus: str = "default", region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    if bus == "default":
        return f"arn:aws:events:{region}:{account}:rule/{rule}"
    return f"arn:aws:events:{region}:{account}:rule/{bus}/{rule}"


def archive_arn(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:archive/{name}"


def replay_arn(name: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:events:{region}:{account}:replay/{name}"


def lambda_arn(function: str, region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{function}"


# --------------------------------------------------------------------------- boto3 / errors


def events_client(endpoint_url: str, region: str = DEFAULT_REGION, access_key: str = "test"):
    return boto3.session.Session().client(
        "events",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2}),
    )


def scheduler_client(endpoint_url: str, region: str = DEFAULT_REGION, access_key: str = "test"):
    """boto3 EventBridge Scheduler client (REST-JSON, same server and port as `events`)."""
    return boto3.session.Session().client(
        "scheduler",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=access_key,
        aws_secret_access_key="test",
        config=Config(connect_timeout=5, read_timeout=30, retries={"mode": "standard", "max_attempts": 2}),
    )


def client_error(excinfo) -> tuple[str, str, int]:
    """(code, message, http status) of a botocore ClientError caught by pytest.raises."""
    resp = excinfo.value.response
    return resp["Error"]["Code"], resp["Error"].get("Message", ""), resp["ResponseMetadata"]["HTTPStatusCode"]


def assert_error(excinfo, code: str, message: str | None = None, status: int = 400) -> str:
    got_code, got_message, got_status = client_error(excinfo)
    assert (got_code, got_status) == (code, status), f"expected {status} {code}, got {got_status} {got_code}: {got_message!r}"
    if message is not None:
        assert got_message == message
    return got_message


# --------------------------------------------------------------------------- raw HTTP


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def raw_call(port: int, target: str | None, body: bytes | str | dict = b"{}", headers: dict[str, str] | None = None,
             method: str = "POST", path: str = "/", timeout: float = 15.0) -> RawResponse:
    """One HTTP request to eventbridge-local with http.client (no SigV4, no client-side validation)."""
    if isinstance(body, dict):
        body = json.dumps(body)
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        hdrs["X-Amz-Target"] = target
    hdrs.update(headers or {})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(method, path, body=body if method != "GET" else None, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
    finally:
        conn.close()


def raw_socket_call(port: int, target: str, body: bytes, timeout: float = 30.0) -> RawResponse:
    """Send a request over a plain socket, reading concurrently with sending (as curl does), so that
    an early answer to a huge body is seen even if the server closes before reading everything."""
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.1\r\n"
        f"X-Amz-Target: {target}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    received = bytearray()
    done = threading.Event()

    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        def reader():
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                try:
                    chunk = s.recv(65536)
                except (ConnectionResetError, OSError):
                    break
                if not chunk:
                    break
                received.extend(chunk)
                if _complete_http_response(bytes(received)):
                    break
            done.set()

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        try:
            s.sendall(head)
            view = memoryview(body)
            for i in range(0, len(body), 1 << 16):
                if done.is_set():
                    break
                s.sendall(view[i:i + (1 << 16)])
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before reading everything
        done.wait(timeout)
        t.join(timeout=1)
    data = bytes(received)
    assert data, "server closed the connection without sending a response"
    head_bytes, _, rest = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        rest = rest[: int(headers["content-length"])]
    return RawResponse(status, headers, rest)


def _complete_http_response(data: bytes) -> bool:
    if b"\r\n\r\n" not in data:
        return False
    head, _, rest = data.partition(b"\r\n\r\n")
    m = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    return bool(m) and len(rest) >= int(m.group(1))


# --------------------------------------------------------------------------- eventbridge-local process


def binary_path() -> Path:
    configured = os.environ.get("EVENTBRIDGE_LOCAL_BIN")
    path = Path(configured) if configured else REPO_ROOT / "target" / "debug" / "eventbridge-local"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise FileNotFoundError(
            f"eventbridge-local binary not found at {path} "
            f"(set EVENTBRIDGE_LOCAL_BIN, or run `cargo build` first)")
    return path


class ServerProcess:
    """One eventbridge-local process on 127.0.0.1 and an ephemeral port."""

    def __init__(self, args: list[str], env: dict[str, str], log_dir: Path):
        self.args = list(args)
        self.env = dict(env)
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.port: int | None = None
        self.stdout_lines: list[str] = []
        self._lines: queue.Queue = queue.Queue()
        self.stderr_path: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServerProcess":
        binary = binary_path()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.stderr_path = Path(tempfile.mkstemp(prefix="eventbridge-local-", suffix=".log", dir=self.log_dir)[1])
        stderr = open(self.stderr_path, "wb")
        cmd = [str(binary), "--host", "127.0.0.1", "--port", "0", *self.args]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL,
                                     env=self.env)
        stderr.close()
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.kill()
                raise RuntimeError(f"eventbridge-local did not print its listening line within {STARTUP_TIMEOUT}s "
                                   f"({cmd}); stdout={self.stdout_lines!r}; stderr:\n{self.stderr_tail()}")
            try:
                line = self._lines.get(timeout=min(remaining, 0.2))
            except queue.Empty:
                if self.proc.poll() is not None and self._lines.empty():
                    raise RuntimeError(f"eventbridge-local exited with {self.proc.returncode} before listening "
                                       f"({cmd}); stderr:\n{self.stderr_tail()}")
                continue
            if line is None:
                continue
            m = LISTENING_RE.match(line)
            if not m:
                self.kill()
                raise RuntimeError(f"unexpected first stdout line {line!r} (want "
                                   f"'eventbridge-local (data: ...) listening on http://127.0.0.1:<port>'); stderr:\n{self.stderr_tail()}")
            self.port = int(m.group(1))
            assert self.port > 0
            return self

    def _read_stdout(self) -> None:
        assert self.proc and self.proc.stdout
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip("\r\n")
            self.stdout_lines.append(line)
            self._lines.put(line)
        self._lines.put(None)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM and wait; returns the exit code (None when it had to be killed). The server
        may take up to 5 s draining connections plus up to 10 s for delivery attempts under
        way (their HTTP timeout) before it stores the rest and exits."""
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        """SIGKILL (kill -9) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        if getattr(self, "_reader", None) is not None:
            self._reader.join(timeout=5)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_tail(self, n: int = 4000) -> str:
        try:
            return self.stderr_path.read_bytes()[-n:].decode("utf-8", "replace") if self.stderr_path else ""
        except OSError:
            return ""

    def client(self, region: str = DEFAULT_REGION, access_key: str = "test"):
        return events_client(self.url, region=region, access_key=access_key)

    def supported_operations(self) -> frozenset[str]:
        """The operations this server implements, as its /_local/health lists them (the server's
        dispatch table is the one list; every other operation answers UnsupportedOperationException)."""
        r = raw_call(self.port, None, method="GET", path="/_local/health")
        assert r.status == 200, (r.status, r.body)
        return frozenset(r.json()["operations"])

    def healthy(self) -> bool:
        try:
            r = raw_call(self.port, None, method="GET", path="/_local/health", timeout=5)
            return r.status == 200 and r.json().get("status") == "ok"
        except (OSError, ValueError):
            return False


def server_env(lambda_url: str | None = None, sqs_url: str | None = None) -> dict[str, str]:
    # Only what the test chooses: no inherited AWS_* endpoints/credentials, no EVENTBRIDGE_LOCAL_* settings.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EVENTBRIDGE_LOCAL_"))}
    env.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    if lambda_url:
        env["AWS_ENDPOINT_URL_LAMBDA"] = lambda_url
    if sqs_url:
        env["AWS_ENDPOINT_URL_SQS"] = sqs_url
    return env


# --------------------------------------------------------------------------- Lambda Invoke API mock


INVOKE_PATH_RE = re.compile(r"^/2015-03-31/functions/([^/]+)/invocations$")


@dataclass
class Invocation:
    function: str          # function name (from the path; an ARN in the path is reduced to its name)
    path: str              # raw request path
    headers: dict[str, str]  # lower-cased names
    body: bytes
    event: Any             # parsed JSON body (None when it is not JSON)
    received: float = field(default_factory=time.monotonic)

    @property
    def replay_name(self) -> str | None:
        return self.event.get("replay-name") if isinstance(self.event, dict) else None


class LambdaMock:
    """A threaded HTTP server speaking the Lambda Invoke API (asynchronous invocations).

    Records every invocation per function name. A function's behaviour ("its code") is a
    callable registered with `deploy(name, handler)`; it gets the event (parsed JSON)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._invocations: list[Invocation] = []
        self._handlers: dict[str, Callable[[Any], None]] = {}
        self.handler_errors: list[str] = []
        mock = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                body = self._read_body()
                path = urllib.parse.urlsplit(self.path).path
                m = INVOKE_PATH_RE.match(path)
                if not m:
                    self._answer(404, json.dumps({"Type": "User", "message": f"no route {path}"}).encode())
                    return
                name = urllib.parse.unquote(m.group(1))
                if name.startswith("arn:"):
                    name = name.split(":")[6] if len(name.split(":")) > 6 else name
                try:
                    event = json.loads(body)
                except ValueError:
                    event = None
                inv = Invocation(name, self.path, {k.lower(): v for k, v in self.headers.items()}, body, event)
                with mock._lock:
                    mock._invocations.append(inv)
                    handler = mock._handlers.get(name)
                if handler is not None and event is not None:
                    try:
                        handler(event)
                    except Exception as exc:  # noqa: BLE001 - recorded, the test reports it
                        mock.handler_errors.append(f"{name}: {exc!r}")
                # Asynchronous invocation (X-Amz-Invocation-Type: Event): 202, empty body.
                self._answer(202, b"")

            def _read_body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def deploy(self, name: str, handler: Callable[[Any], None]) -> None:
        with self._lock:
            self._handlers[name] = handler

    def invocations(self, name: str | None = None) -> list[Invocation]:
        with self._lock:
            return [i for i in self._invocations if name is None or i.function == name]

    def events(self, name: str, replay_name: str | None | type(...) = ...) -> list[Any]:
        """Events received by `name`; with replay_name given, only those whose envelope has it
        (None = only original, non-replayed deliveries)."""
        out = []
        for inv in self.invocations(name):
            if replay_name is not ... and inv.replay_name != replay_name:
                continue
            out.append(inv.event)
        return out

    def wait_for_events(self, name: str, count: int, timeout: float = DEFAULT_TIMEOUT,
                        replay_name: str | None | type(...) = ...) -> list[Any]:
        """Wait until `name` received at least `count` events (optionally of one replay)."""
        wait_for(lambda: len(self.events(name, replay_name)) >= count, timeout,
                 message=f"{count} invocation(s) of Lambda function {name!r} (replay_name={replay_name!r}); "
                         f"got {len(self.events(name, replay_name))}")
        return self.events(name, replay_name)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- moto (SQS)


class MotoServer:
    def __init__(self, log_dir: Path):
        exe = Path(sys.executable).parent / "moto_server"
        if not exe.exists():
            found = shutil.which("moto_server")
            if not found:
                raise FileNotFoundError("moto_server not found (pip install 'moto[server]')")
            exe = Path(found)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        self.log_path = log_dir / f"moto-{self.port}.log"
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([str(exe), "-H", "127.0.0.1", "-p", str(self.port)], stdout=log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=server_env())
        log.close()

        def up():
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.proc.returncode}: {self.log_path.read_text()[-2000:]}")
            try:
                return raw_call(self.port, None, method="GET", path="/moto-api/", timeout=2).status < 500
            except OSError:
                return False

        wait_for(up, timeout=60, interval=0.2, message="moto_server to answer")

    def sqs(self, region: str = DEFAULT_REGION):
        return boto3.session.Session().client("sqs", endpoint_url=self.url, region_name=region,
                                              aws_access_key_id="test", aws_secret_access_key="test")

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


# --------------------------------------------------------------------------- AWS CLI


class CliError(Exception):
    def __init__(self, args, returncode, stdout, stderr):
        super().__init__(f"aws {' '.join(args)} exited {returncode}\nstdout: {stdout}\nstderr: {stderr}")
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def aws_executable() -> Path:
    exe = Path(sys.executable).parent / "aws"
    if exe.exists():
        return exe
    found = shutil.which("aws")
    if not found:
        raise FileNotFoundError(f"AWS CLI not found next to {sys.executable} nor on PATH")
    return Path(found)


class AwsCli:
    """Runs `aws <service> ...` (AWS CLI v1 from the venv) against an endpoint; returns parsed JSON."""

    def __init__(self, endpoint_url: str, region: str = DEFAULT_REGION, service: str = "events"):
        self.endpoint_url = endpoint_url
        self.region = region
        self.service = service
        self.home = Path(tempfile.mkdtemp(prefix="aws-cli-home-"))

    def __call__(self, *args: str, timeout: float = 60.0) -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_CONFIG_FILE": str(self.home / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "credentials"),
            "AWS_PAGER": "",
            "HOME": str(self.home),
        })
        cmd = [str(aws_executable()), self.service, *args, "--endpoint-url", self.endpoint_url,
               "--region", self.region, "--output", "json"]
        proc = subprocess.run(cmd, capture_output=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        if proc.returncode != 0:
            raise CliError(list(args), proc.returncode, out, err)
        return json.loads(out) if out.strip() else {}


# --------------------------------------------------------------------------- small scenario helpers


def put_one(events, bus: str, source: str = "conformance.test", detail_type: str = "test", detail: Any = None,
            **extra) -> str:
    """PutEvents with one entry; asserts success and returns the EventId."""
    entry = {"EventBusName": bus, "Source": source, "DetailType": detail_type,
             "Detail": json.dumps(detail if detail is not None else {"n": 1})}
    entry.update(extra)
    resp = events.put_events(Entries=[entry])
    assert resp["FailedEntryCount"] == 0, resp
    event_id = resp["Entries"][0]["EventId"]
    assert event_id
    return event_id


def rule_to_lambda(events, bus: str, function: str, pattern: dict | None = None, rule: str | None = None,
                   region: str = DEFAULT_REGION, account: str = DEFAULT_ACCOUNT, **put_rule_args) -> str:
    """A rule on `bus` (pattern defaults to every event of source conformance.test) with one Lambda target."""
    rule = rule or uid("rule")
    pattern = pattern if pattern is not None else {"source": ["conformance.test"]}
    arn = events.put_rule(Name=rule, EventBusName=bus, EventPattern=json.dumps(pattern), **put_rule_args)["RuleArn"]
    resp = events.put_targets(Rule=rule, EventBusName=bus,
                              Targets=[{"Id": "fn", "Arn": lambda_arn(function, region, account)}])
    assert resp["FailedEntryCount"] == 0, resp
    return arn


def wait_archive_count(events, archive: str, count: int, timeout: float = DEFAULT_TIMEOUT) -> dict:
    wait_for_value(lambda: events.describe_archive(ArchiveName=archive)["EventCount"], count, timeout,
                   message=f"EventCount of archive {archive}")
    return events.describe_archive(ArchiveName=archive)


def wait_replay_state(events, replay: str, state: str = "COMPLETED", timeout: float = REPLAY_TIMEOUT) -> dict:
    seen = []

    def check():
        d = events.describe_replay(ReplayName=replay)
        if not seen or seen[-1] != d["State"]:
            seen.append(d["State"])
        if d["State"] in ("FAILED", "CANCELLED") and state != d["State"]:
            raise AssertionError(f"replay {replay} ended {d['State']}: {d.get('StateReason')!r}")
        return d if d["State"] == state else None

    try:
        return wait_for(check, timeout, interval=0.1, message=f"replay {replay} to reach {state}")
    except AssertionError as e:
        raise AssertionError(f"{e}; states seen: {seen}") from None


# --------------------------------------------------------------------------- /_local/ test controls


def local(server, method: str, path: str, body: Any = None, timeout: float = 60.0) -> tuple[int, Any]:
    """(status, parsed JSON answer) of a plain HTTP call to one of the server's /_local/ endpoints."""
    data = b"" if body is None else json.dumps(body).encode()
    r = raw_call(server.port, None, data, method=method, path=path, timeout=timeout,
                 headers={"Content-Type": "application/json"})
    return r.status, (r.json() if r.body else None)


def local_ok(server, method: str, path: str, body: Any = None, timeout: float = 60.0) -> Any:
    """The answer of a /_local/ call that must succeed (200)."""
    status, answer = local(server, method, path, body, timeout)
    assert status == 200, (method, path, status, answer)
    return answer


def parse_time(text: str) -> datetime:
    """An RFC 3339 time as the server writes it ("...Z", milliseconds optional)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
