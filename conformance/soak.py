"""Soak: hours of mixed load on one eventbridge-local, with restarts, then the books balanced.

Not a pytest file (pytest collects test_*.py only). Run from the repository root:

    cargo build --release
    target/conformance-venv/bin/python conformance/soak.py            # 10 minutes
    target/conformance-venv/bin/python conformance/soak.py --minutes 30 --rate 40

What runs, all against 127.0.0.1 (the binary, moto_server for SQS, and a Lambda Invoke API
receiver of this script's own):
- PutEvents at a steady rate (`--rate` events/s, 10 per request) onto three archived buses,
  each with a rule and two targets: a Lambda function that always takes the event and one that
  fails a third of the time (retried, then dead-lettered to an SQS queue); on the first bus,
  one event in ten also goes to an SQS queue that does not exist (dead-lettered at once);
- resource churn: rules with targets put, updated and deleted on those buses, buses created,
  given rules and events, and deleted, archives updated;
- replays of recent windows, a share of them cancelled;
- restarts at random points of the first 60% of the run, graceful (SIGTERM) or `kill -9`
  (the last 40% has none, so that memory can be compared over a stretch of one process).

At the end it checks, and prints with the figures:
1. no request got a 5xx except while a `kill -9` was under way, and none failed to connect
   outside a restart;
2. every acknowledged event is in its archive exactly once (the user's view: the whole
   window of each archive is replayed to a rule of its own and the replayed ids compared);
3. every delivery to the stable targets was made, or is in the dead-letter queue, or is in
   `/_local/deliveries` as failed; deliveries still pending at a `kill -9` are lost, as
   documented, and counted apart;
4. RSS at the end is within 20% of RSS after warm-up (60 s after the last restart and once
   the delivery log is full; for a short run, half-way through its last 40%).
Exit status 0 when every check holds.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter, defaultdict
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import REPO_ROOT, MotoServer, free_port, server_env  # noqa: E402

ACCOUNT = "000000000000"
REGION = "us-east-1"
BUSES = 3
PER_REQUEST = 10
DLQ = "soak-dlq"
MISSING_QUEUE = "soak-missing-q"
# One event in this many is marked for the target whose queue does not exist.
DEAD_EVERY = 10
FLAKY_FAILURE_RATE = 1 / 3
LOG_CAPACITY = 10_000


def now() -> float:
    return time.monotonic()


def lambda_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


def sqs_arn(name: str) -> str:
    return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}"


def bus_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/{name}"


def archive_arn(name: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:archive/{name}"


def rule_arn(bus: str, rule: str) -> str:
    return f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{bus}/{rule}"


# --------------------------------------------------------------------------- Lambda receiver


class Receiver:
    """The Lambda Invoke API, recording (function, event id, replay name) of what it takes.
    Functions named `*-flaky-*` answer 500 a third of the time."""

    def __init__(self, rng: random.Random):
        self.lock = threading.Lock()
        self.taken: dict[str, Counter] = defaultdict(Counter)  # function -> event id -> count
        self.replayed: dict[str, Counter] = defaultdict(Counter)  # function -> detail seq -> count
        self.refused = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = urllib.parse.urlsplit(self.path).path.split("/")
                name = urllib.parse.unquote(parts[3]) if len(parts) > 4 else "?"
                if name.startswith("arn:"):
                    name = name.split(":")[6]
                with receiver.lock:
                    fail = "-flaky-" in name and rng.random() < FLAKY_FAILURE_RATE
                if fail:
                    with receiver.lock:
                        receiver.refused[name] += 1
                    self._answer(500, b'{"Type":"Service","message":"flaky on purpose"}')
                    return
                try:
                    event = json.loads(body)
                except ValueError:
                    event = {}
                with receiver.lock:
                    if event.get("replay-name"):
                        seq = (event.get("detail") or {}).get("seq")
                        receiver.replayed[f"{name}/{event['replay-name']}"][seq] += 1
                    else:
                        receiver.taken[name][event.get("id")] += 1
                self._answer(202, b"")

            def _answer(self, status: int, body: bytes):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Quiet(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A server killed with -9 drops its connections: expected, not worth a trace.
                if not isinstance(sys.exc_info()[1], ConnectionError):
                    super().handle_error(request, client_address)

        self.httpd = Quiet(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()

    def ids(self, function: str) -> Counter:
        with self.lock:
            return Counter(self.taken[function])

    def replay_seqs(self, function: str, replay: str) -> Counter:
        with self.lock:
            return Counter(self.replayed[f"{function}/{replay}"])

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# --------------------------------------------------------------------------- the server


class Server:
    """The binary on a fixed port (clients keep their endpoint across restarts), one process
    after another; each process is an epoch."""

    def __init__(self, binary: Path, data_dir: Path, port: int, env: dict, log_dir: Path, extra: list[str]):
        self.binary, self.data_dir, self.port, self.env = binary, data_dir, port, env
        self.log_dir, self.extra = log_dir, extra
        self.proc: subprocess.Popen | None = None
        self.epoch = 0
        self.ended_by_kill: set[int] = set()
        self.lock = threading.Lock()
        # Windows (start, end) of monotonic time: the server was down or going down.
        self.kill_windows: list[list[float]] = []
        self.restart_windows: list[list[float]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        log = open(self.log_dir / f"server-{self.epoch + 1}.log", "wb")
        cmd = [str(self.binary), "--host", "127.0.0.1", "--port", str(self.port), "--data-dir", str(self.data_dir),
               *self.extra]
        deadline = now() + 30
        while True:
            proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=self.env)
            line = proc.stdout.readline().decode(errors="replace")
            if "listening on" in line:
                break
            proc.wait()
            if now() > deadline:
                raise RuntimeError(f"the server did not start: {line!r}; see {log.name}")
            time.sleep(0.2)  # the port may still be held by the process just killed
        log.close()
        threading.Thread(target=lambda: proc.stdout.read(), daemon=True).start()
        with self.lock:
            self.proc = proc
            self.epoch += 1

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0

    def restart(self, kill: bool):
        window = [now(), float("inf")]
        (self.kill_windows if kill else self.restart_windows).append(window)
        if kill:
            self.ended_by_kill.add(self.epoch)
            self.proc.kill()
            self.proc.wait()
        else:
            self.stop()
        self.start()
        window[1] = now()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise RuntimeError("the server did not stop within 60 s of SIGTERM")


def in_window(windows: list[list[float]], start: float, end: float) -> bool:
    return any(start <= w[1] and end >= w[0] for w in windows)


# --------------------------------------------------------------------------- calls and their outcomes


class Calls:
    """Every call's outcome, classified at the end against the restart windows."""

    def __init__(self):
        self.lock = threading.Lock()
        self.records: list[tuple[str, float, float, str]] = []  # operation, start, end, outcome
        self.client_errors = Counter()

    def record(self, operation: str, start: float, outcome: str):
        with self.lock:
            self.records.append((operation, start, now(), outcome))


def client(url: str):
    return boto3.session.Session().client(
        "events", endpoint_url=url, region_name=REGION, aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(retries={"total_max_attempts": 1}, connect_timeout=3, read_timeout=60,
                      max_pool_connections=4))


def call(calls: Calls, events, operation: str, **kwargs):
    """One API call; returns its answer, or None when it failed (any way)."""
    start = now()
    try:
        answer = getattr(events, operation)(**kwargs)
    except ClientError as e:
        status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = e.response.get("Error", {}).get("Code", "?")
        calls.record(operation, start, "5xx" if status >= 500 else "4xx")
        with calls.lock:
            calls.client_errors[f"{operation}: {code}"] += 1
        return None
    except (BotoCoreError, OSError):
        calls.record(operation, start, "unreachable")
        return None
    calls.record(operation, start, "ok")
    return answer


# --------------------------------------------------------------------------- the load


class Soak:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.stop_load = threading.Event()
        self.calls = Calls()
        self.lock = threading.Lock()
        # event id -> (bus index, seq, epoch it was acknowledged in, or None when ambiguous)
        self.acked: dict[str, tuple[int, int, int | None]] = {}
        self.seq_to_id: dict[int, str] = {}
        self.next_seq = 0
        self.unanswered_entries = 0
        self.failed_entries = 0
        self.replays = Counter()
        self.churn = Counter()
        self.first_put_wall = None

    # ---------------------------------------------------------------- setup

    def setup(self, events, sqs):
        sqs.create_queue(QueueName=DLQ)
        for i in range(BUSES):
            bus = f"soak-bus-{i}"
            events.create_event_bus(Name=bus)
            events.create_archive(ArchiveName=f"soak-arc-{i}", EventSourceArn=bus_arn(bus))
            events.put_rule(Name="soak-rule", EventBusName=bus, EventPattern=json.dumps({"source": ["soak"]}))
            targets = [
                {"Id": "ok", "Arn": lambda_arn(f"soak-ok-{i}")},
                {"Id": "flaky", "Arn": lambda_arn(f"soak-flaky-{i}"),
                 "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 600},
                 "DeadLetterConfig": {"Arn": sqs_arn(DLQ)}},
            ]
            answer = events.put_targets(Rule="soak-rule", EventBusName=bus, Targets=targets)
            assert answer["FailedEntryCount"] == 0, answer
            if i == 0:
                events.put_rule(Name="soak-dead", EventBusName=bus,
                                EventPattern=json.dumps({"source": ["soak"], "detail": {"dead": [True]}}))
                answer = events.put_targets(Rule="soak-dead", EventBusName=bus, Targets=[
                    {"Id": "missing", "Arn": sqs_arn(MISSING_QUEUE),
                     "RetryPolicy": {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60},
                     "DeadLetterConfig": {"Arn": sqs_arn(DLQ)}}])
                assert answer["FailedEntryCount"] == 0, answer
            events.put_rule(Name="soak-replayed", EventBusName=bus, EventPattern=json.dumps({"source": ["soak"]}))
            events.put_targets(Rule="soak-replayed", EventBusName=bus,
                               Targets=[{"Id": "replayed", "Arn": lambda_arn("soak-replayed")}])

    # ---------------------------------------------------------------- threads

    def writer(self, url: str, server: Server):
        events = client(url)
        interval = PER_REQUEST / self.args.rate
        next_at = now()
        while not self.stop_load.is_set():
            next_at += interval
            with self.lock:
                first = self.next_seq
                self.next_seq += PER_REQUEST
            bus_of = [(first + k) % BUSES for k in range(PER_REQUEST)]
            entries = [{"EventBusName": f"soak-bus-{bus_of[k]}", "Source": "soak", "DetailType": "soak",
                        "Detail": json.dumps({"seq": first + k, "dead": (first + k) % DEAD_EVERY == 0,
                                              "pad": "x" * self.args.pad})}
                       for k in range(PER_REQUEST)]
            epoch_before = server.epoch
            answer = call(self.calls, events, "put_events", Entries=entries)
            epoch_after = server.epoch
            if self.first_put_wall is None:
                self.first_put_wall = time.time()
            with self.lock:
                if answer is None:
                    self.unanswered_entries += PER_REQUEST
                else:
                    for k, entry in enumerate(answer["Entries"]):
                        if "EventId" in entry:
                            epoch = epoch_after if epoch_before == epoch_after else None
                            self.acked[entry["EventId"]] = (bus_of[k], first + k, epoch)
                            self.seq_to_id[first + k] = entry["EventId"]
                        else:
                            self.failed_entries += 1
            delay = next_at - now()
            if delay > 0:
                self.stop_load.wait(delay)
            else:
                next_at = now()  # behind: no burst to catch up

    def churner(self, url: str):
        events = client(url)
        rng = random.Random(self.rng.random())
        n = 0
        while not self.stop_load.wait(rng.uniform(0.05, 0.3)):
            n += 1
            bus = f"soak-bus-{rng.randrange(BUSES)}"
            rule = f"churn-{rng.randrange(8)}"
            action = rng.choice(["put-rule", "put-rule", "targets", "remove-targets", "delete-rule", "bus",
                                 "archive", "disable"])
            self.churn[action] += 1
            if action == "put-rule":
                call(self.calls, events, "put_rule", Name=rule, EventBusName=bus,
                     EventPattern=json.dumps({"source": ["soak"], "detail": {"seq": [{"numeric": [">=", rng.randrange(1000)]}]}}))
            elif action == "targets":
                call(self.calls, events, "put_targets", Rule=rule, EventBusName=bus,
                     Targets=[{"Id": f"t{k}", "Arn": lambda_arn("soak-churn"),
                               "InputTransformer": {"InputPathsMap": {"s": "$.detail.seq"}, "InputTemplate": '{"seq": <s>}'}}
                              for k in range(rng.randrange(1, 4))])
            elif action == "remove-targets":
                call(self.calls, events, "remove_targets", Rule=rule, EventBusName=bus, Ids=["t0", "t1", "t2"])
            elif action == "delete-rule":
                # As on AWS, a rule with targets cannot be deleted (Force is for managed rules).
                call(self.calls, events, "remove_targets", Rule=rule, EventBusName=bus, Ids=["t0", "t1", "t2"])
                call(self.calls, events, "delete_rule", Name=rule, EventBusName=bus)
            elif action == "disable":
                call(self.calls, events, rng.choice(["disable_rule", "enable_rule"]), Name=rule, EventBusName=bus)
            elif action == "archive":
                call(self.calls, events, "update_archive", ArchiveName=f"soak-arc-{rng.randrange(BUSES)}",
                     Description=f"churn {n}")
            else:
                name = f"churn-bus-{n}"
                if call(self.calls, events, "create_event_bus", Name=name):
                    call(self.calls, events, "put_rule", Name="r", EventBusName=name,
                         EventPattern=json.dumps({"source": ["churn"]}))
                    call(self.calls, events, "put_targets", Rule="r", EventBusName=name,
                         Targets=[{"Id": "t", "Arn": lambda_arn("soak-churn")}])
                    call(self.calls, events, "put_events",
                         Entries=[{"EventBusName": name, "Source": "churn", "DetailType": "c", "Detail": "{}"}])
                    call(self.calls, events, "remove_targets", Rule="r", EventBusName=name, Ids=["t"])
                    call(self.calls, events, "delete_rule", Name="r", EventBusName=name)
                    call(self.calls, events, "delete_event_bus", Name=name)

    def replayer(self, url: str):
        events = client(url)
        rng = random.Random(self.rng.random())
        n = 0
        while not self.stop_load.wait(rng.uniform(5, 15)):
            n += 1
            i = rng.randrange(BUSES)
            name = f"soak-replay-{n}"
            end = datetime.now(timezone.utc).timestamp() - 2
            answer = call(self.calls, events, "start_replay", ReplayName=name,
                          EventSourceArn=archive_arn(f"soak-arc-{i}"),
                          EventStartTime=datetime.fromtimestamp(end - rng.uniform(5, 60), timezone.utc),
                          EventEndTime=datetime.fromtimestamp(end, timezone.utc),
                          Destination={"Arn": bus_arn(f"soak-bus-{i}"),
                                       "FilterArns": [rule_arn(f"soak-bus-{i}", "soak-replayed")]})
            if answer is None:
                self.replays["not started"] += 1
                continue
            self.replays["started"] += 1
            if rng.random() < 0.4:
                time.sleep(rng.uniform(0, 0.5))
                if call(self.calls, events, "cancel_replay", ReplayName=name):
                    self.replays["cancel accepted"] += 1

    def chaos(self, server: Server, until: float):
        rng = random.Random(self.rng.random())
        while True:
            wait = rng.uniform(self.args.restart_min, self.args.restart_max)
            if now() + wait > until or self.stop_load.wait(wait):
                return
            server.restart(kill=rng.random() < 0.5)


# --------------------------------------------------------------------------- the checks


class DeadLetters:
    """Reads the dead-letter queue all along (moto slows down as a queue grows)."""

    def __init__(self, sqs, url: str):
        self.sqs, self.url = sqs, url
        self.found: list[dict] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.wait(2):
            self.found += drain_dlq(self.sqs, self.url, empty_rounds_wanted=1)

    def finish(self) -> list[dict]:
        self.stop.set()
        self.thread.join()
        self.found += drain_dlq(self.sqs, self.url, empty_rounds_wanted=3)
        return self.found


def drain_dlq(sqs, url: str, empty_rounds_wanted: int) -> list[dict]:
    """The messages of the dead-letter queue, (target ARN, event id), until it is seen empty."""
    found = []
    empty_rounds = 0
    while empty_rounds < empty_rounds_wanted:
        answer = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                     MessageAttributeNames=["All"], VisibilityTimeout=600)
        messages = answer.get("Messages", [])
        if not messages:
            empty_rounds += 1
            continue
        empty_rounds = 0
        for m in messages:
            attributes = m.get("MessageAttributes", {})
            target = attributes.get("TARGET_ARN", {}).get("StringValue", "?")
            try:
                event_id = json.loads(m["Body"]).get("id")
            except ValueError:
                event_id = None
            found.append({"target": target, "id": event_id})
        sqs.delete_message_batch(QueueUrl=url, Entries=[{"Id": str(k), "ReceiptHandle": m["ReceiptHandle"]}
                                                        for k, m in enumerate(messages)])
    return found


def failed_in_log(url: str) -> set[tuple[str, str]]:
    """(target ARN, event id) of the deliveries the current process logged as failed."""
    with urllib.request.urlopen(f"{url}/_local/deliveries?limit={LOG_CAPACITY}", timeout=30) as r:
        records = json.load(r)["deliveries"]
    return {(d["targetArn"], d["eventId"]) for d in records if d["outcome"] in ("failed", "dead-lettered")}


def log_size(url: str) -> int:
    with urllib.request.urlopen(f"{url}/_local/deliveries?limit={LOG_CAPACITY}", timeout=30) as r:
        return len(json.load(r)["deliveries"])


def wait_replay(events, name: str, timeout: float) -> str:
    deadline = now() + timeout
    while now() < deadline:
        state = events.describe_replay(ReplayName=name)["State"]
        if state in ("COMPLETED", "FAILED", "CANCELLED"):
            return state
        time.sleep(0.5)
    return "TIMED OUT"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rate", type=float, default=40, help="events per second (10 per PutEvents)")
    parser.add_argument("--pad", type=int, default=500, help="bytes of padding in each event's detail")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--restart-min", type=float, default=30, help="seconds between restarts, at least")
    parser.add_argument("--restart-max", type=float, default=90, help="seconds between restarts, at most")
    parser.add_argument("--binary", default=os.environ.get("EVENTBRIDGE_LOCAL_BIN",
                                                           str(REPO_ROOT / "target" / "release" / "eventbridge-local")))
    parser.add_argument("--keep", action="store_true", help="keep the data and log folder")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = random.randrange(1 << 30)

    work = Path(tempfile.mkdtemp(prefix="eventbridge-soak-"))
    print(f"soak: {args.minutes} min, {args.rate} events/s, seed {args.seed}, binary {args.binary}, folder {work}",
          flush=True)
    soak = Soak(args)
    receiver = Receiver(random.Random(args.seed))
    moto = MotoServer(work)
    env = server_env(lambda_url=receiver.url, sqs_url=moto.url)
    server = Server(Path(args.binary), work / "data", free_port(), env, work,
                    ["--retry-base-delay-ms", "50", "--archive-segment-mb", "4"])
    result = 1
    try:
        server.start()
        events = client(server.url)
        sqs = moto.sqs()
        soak.setup(events, sqs)
        dead_letters = DeadLetters(moto.sqs(), sqs.get_queue_url(QueueName=DLQ)["QueueUrl"])

        started = now()
        duration = args.minutes * 60
        chaos_until = started + 0.6 * duration
        threads = [threading.Thread(target=soak.writer, args=(server.url, server), daemon=True),
                   threading.Thread(target=soak.churner, args=(server.url,), daemon=True),
                   threading.Thread(target=soak.replayer, args=(server.url,), daemon=True)]
        for t in threads:
            t.start()
        soak.chaos(server, chaos_until)
        last_restart = now()
        # Warm-up of the last process: 60 s and its delivery log full (it is bounded), or half
        # of what is left of a short run.
        warm_rss = None
        half = last_restart + (started + duration - last_restart) / 2
        while now() < started + duration:
            if warm_rss is None and now() > min(last_restart + 60, half) and (
                    now() > half or log_size(server.url) >= LOG_CAPACITY):
                warm_rss = server.rss_kb()
                print(f"soak: warm-up done {now() - started:.0f} s in, RSS {warm_rss} kB", flush=True)
            time.sleep(1)
        end_rss = server.rss_kb()
        soak.stop_load.set()
        for t in threads:
            t.join(timeout=120)
        load_seconds = now() - started
        print(f"soak: load stopped after {load_seconds:.0f} s; checking", flush=True)

        # Deliveries settle: the stable targets get no new event for 15 s.
        quiet_since, last = now(), None
        while now() - quiet_since < 15:
            seen = sum(sum(receiver.ids(f"soak-{k}-{i}").values()) for i in range(BUSES) for k in ("ok", "flaky"))
            if seen != last:
                last, quiet_since = seen, now()
            time.sleep(1)
        failed = failed_in_log(server.url)
        dlq = dead_letters.finish()

        # Every archive replayed whole to a rule of its own.
        window_start = datetime.fromtimestamp(soak.first_put_wall - 120, timezone.utc)
        window_end = datetime.fromtimestamp(time.time() + 1, timezone.utc)
        archived: dict[int, Counter] = {}
        for i in range(BUSES):
            bus, name = f"soak-bus-{i}", f"soak-final-{i}"
            events.put_rule(Name="soak-check", EventBusName=bus,
                            EventPattern=json.dumps({"replay-name": [name]}))
            events.put_targets(Rule="soak-check", EventBusName=bus,
                               Targets=[{"Id": "check", "Arn": lambda_arn(f"soak-check-{i}")}])
            events.start_replay(ReplayName=name, EventSourceArn=archive_arn(f"soak-arc-{i}"),
                                EventStartTime=window_start, EventEndTime=window_end,
                                Destination={"Arn": bus_arn(bus), "FilterArns": [rule_arn(bus, "soak-check")]})
            state = wait_replay(events, name, timeout=600)
            count = events.describe_archive(ArchiveName=f"soak-arc-{i}")["EventCount"]
            # Deliveries of the replay settle.
            quiet_since, last = now(), None
            while now() - quiet_since < 5:
                seen = sum(receiver.replay_seqs(f"soak-check-{i}", name).values())
                if seen != last:
                    last, quiet_since = seen, now()
                time.sleep(0.5)
            archived[i] = receiver.replay_seqs(f"soak-check-{i}", name)
            print(f"soak: final replay of soak-arc-{i}: {state}, archive EventCount {count}, "
                  f"{sum(archived[i].values())} replayed", flush=True)

        result = report(soak, server, receiver, failed, dlq, archived, warm_rss, end_rss, load_seconds)
    finally:
        server.stop()
        moto.close()
        receiver.close()
        if not args.keep and result == 0:
            import shutil
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"soak: data and logs kept in {work}")
    return result


def report(soak: Soak, server: Server, receiver: Receiver, failed, dlq, archived, warm_rss, end_rss,
           load_seconds) -> int:
    ok = True
    print("\n==== soak figures ====")
    # 1. Calls.
    outcomes = Counter()
    bad_5xx, bad_unreachable = [], []
    for operation, start, end, outcome in soak.calls.records:
        outcomes[outcome] += 1
        if outcome == "5xx" and not in_window(server.kill_windows, start, end):
            bad_5xx.append((operation, start))
        if outcome == "unreachable" and not in_window(server.kill_windows + server.restart_windows, start, end):
            bad_unreachable.append((operation, start))
    print(f"load: {load_seconds:.0f} s; API calls {len(soak.calls.records)}: {dict(outcomes)}")
    print(f"restarts: {len(server.restart_windows)} graceful, {len(server.kill_windows)} kill -9 "
          f"(down {sum(w[1] - w[0] for w in server.restart_windows + server.kill_windows):.1f} s in all)")
    print(f"churn actions: {dict(soak.churn)}; replays: {dict(soak.replays)}")
    print("4xx answers (expected ones: churn races, replay limits): "
          + ", ".join(f"{k} x{v}" for k, v in soak.calls.client_errors.most_common(12)))
    print(f"CHECK 5xx outside a kill -9: {len(bad_5xx)}; calls unanswered outside a restart: {len(bad_unreachable)}")
    ok &= not bad_5xx and not bad_unreachable

    # 2. Archives, by seq (the replayed envelope carries a new id; its detail keeps the seq).
    acked_by_bus: dict[int, set[int]] = defaultdict(set)
    for _, (bus, seq, _) in soak.acked.items():
        acked_by_bus[bus].add(seq)
    total_missing = total_dupes = total_extra = 0
    for i in range(BUSES):
        replayed = archived.get(i, Counter())
        missing = [s for s in acked_by_bus[i] if replayed[s] == 0]
        dupes = [s for s, c in replayed.items() if c > 1]
        extra = [s for s in replayed if s not in acked_by_bus[i]]
        total_missing += len(missing)
        total_dupes += len(dupes)
        total_extra += len(extra)
        print(f"archive soak-arc-{i}: acknowledged {len(acked_by_bus[i])}, replayed {sum(replayed.values())}, "
              f"missing {len(missing)}, more than once {len(dupes)}, unacknowledged but archived {len(extra)}")
    print(f"entries: acknowledged {len(soak.acked)}, refused {soak.failed_entries}, unanswered {soak.unanswered_entries}")
    print(f"CHECK acknowledged events missing from their archive: {total_missing}; archived more than once: {total_dupes}")
    ok &= total_missing == 0 and total_dupes == 0

    # 3. Deliveries to the stable targets.
    dead = Counter((d["target"], d["id"]) for d in dlq)
    lost_to_kill = Counter()
    unexplained = Counter()
    delivered = Counter()
    dead_lettered = Counter()
    logged_failed = Counter()
    duplicates = Counter()
    taken_by = {f"soak-{kind}-{i}": receiver.ids(f"soak-{kind}-{i}") for i in range(BUSES) for kind in ("ok", "flaky")}
    for event_id, (bus, seq, epoch) in soak.acked.items():
        # Pending deliveries are stored at a graceful stop and resumed, so a kill -9 of any
        # later process can lose them.
        killed = epoch is None or any(k >= epoch for k in server.ended_by_kill)
        kinds = ["ok", "flaky"] + (["missing"] if bus == 0 and seq % DEAD_EVERY == 0 else [])
        for kind in kinds:
            arn = sqs_arn(MISSING_QUEUE) if kind == "missing" else lambda_arn(f"soak-{kind}-{bus}")
            taken = taken_by[f"soak-{kind}-{bus}"][event_id] if kind != "missing" else 0
            if taken:
                delivered[kind] += 1
                if taken > 1:
                    duplicates[kind] += 1
            elif dead[(arn, event_id)]:
                dead_lettered[kind] += 1
            elif (arn, event_id) in failed:
                logged_failed[kind] += 1
            elif killed:
                lost_to_kill[kind] += 1
            else:
                unexplained[kind] += 1
    print(f"deliveries made: {dict(delivered)} (of which more than once, at-least-once: {dict(duplicates)}); "
          f"dead-lettered: {dict(dead_lettered)}; failed in /_local/deliveries: {dict(logged_failed)}")
    print(f"deliveries lost because their process was killed -9 (documented): {dict(lost_to_kill)}")
    print(f"flaky function refusals: {sum(receiver.refused.values())}; DLQ messages: {len(dlq)}")
    print(f"CHECK deliveries neither made, dead-lettered, logged as failed nor lost to a kill -9: "
          f"{sum(unexplained.values())} {dict(unexplained)}")
    ok &= not unexplained

    # 4. Memory.
    if warm_rss:
        ratio = end_rss / warm_rss
        print(f"CHECK RSS after warm-up {warm_rss} kB, at the end {end_rss} kB: {ratio:.2f}x (at most 1.20)")
        ok &= ratio <= 1.2
    else:
        print(f"CHECK RSS: the warm-up never ended (delivery log not full?); RSS at the end {end_rss} kB")
        ok = False
    print(f"==== soak {'PASSED' if ok else 'FAILED'} ====")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
