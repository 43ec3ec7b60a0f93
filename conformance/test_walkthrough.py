"""Issue 2, as the team lived it: a bug in a Lambda consumer, fixed, then an archive replay
limited to the one rule repairs the database. Once with boto3, once with the AWS CLI.

Each story gets its own eventbridge-local and its own Lambda mock, so the resource names
are exactly the team's (`my-event-bus`, ...).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from support import (
    REPLAY_ENVELOPE_KEYS,
    AwsCli,
    LambdaMock,
    assert_stays,
    lambda_arn,
    wait_for,
    wait_for_value,
    window_end_after,
    window_start_before,
)

BUS = "my-event-bus"
SOURCE = "com.mycompany.myapp"
STORE_FUNCTION = "store-customer"          # the function with the bug
AUDIT_FUNCTION = "audit-customer-deletion"  # second rule's function: must get nothing during the replay
TRUNCATE_AT = 32                            # the bug: addresses cut to 32 characters


class CustomerStoreFunction:
    """The team's Lambda function: an idempotent upsert of the customer into a dict 'database'.
    With `bug` on it stores only the first TRUNCATE_AT characters of the address."""

    def __init__(self):
        self.bug = False
        self.db: dict[str, dict] = {}
        self.lock = threading.Lock()

    def __call__(self, event):
        detail = event["detail"]
        address = detail["address"]
        if self.bug:
            address = address[:TRUNCATE_AT]
        with self.lock:
            self.db[detail["customerId"]] = {
                "customerName": detail["customerName"],
                "customerData": detail["customerData"],
                "address": address,
            }

    def snapshot(self) -> dict[str, dict]:
        with self.lock:
            return {k: dict(v) for k, v in self.db.items()}


def make_customers(n: int = 20) -> list[dict]:
    customers = []
    for i in range(n):
        if i % 3 == 0:  # 7 of 20 have an address longer than the function expects
            address = f"{100 + i} Avenue of the Very Long Street Names, Building {i}, Floor {i % 7}, Apartment {i}B, Springfield"
        else:
            address = f"{i} Main St"
        customers.append({
            "customerId": str(123 + i),
            "customerName": f"Customer {i}" if i else "Danilo",
            "customerData": "More info...",
            "address": address,
        })
    assert sum(len(c["address"]) > TRUNCATE_AT for c in customers) >= 5
    return customers


DELETED_CUSTOMERS = [{"customerId": "9001"}, {"customerId": "9002"}, {"customerId": "9003"}]


@pytest.fixture
def story(log_dir):
    """A fresh Lambda mock + a fresh eventbridge-local whose Lambda endpoint is that mock."""
    from support import ServerProcess, server_env

    mock = LambdaMock()
    fn = CustomerStoreFunction()
    mock.deploy(STORE_FUNCTION, fn)
    srv = ServerProcess(["--in-memory"], server_env(lambda_url=mock.url), log_dir).start()
    yield srv, mock, fn
    srv.stop()
    mock.close()


def assert_db_truncated(fn: CustomerStoreFunction, customers: list[dict]) -> None:
    db = fn.snapshot()
    assert set(db) == {c["customerId"] for c in customers}
    for c in customers:
        assert db[c["customerId"]]["address"] == c["address"][:TRUNCATE_AT]
    assert any(db[c["customerId"]]["address"] != c["address"] for c in customers), "the bug should have damaged some rows"


def db_fully_repaired(fn: CustomerStoreFunction, customers: list[dict]) -> bool:
    db = fn.snapshot()
    return set(db) == {c["customerId"] for c in customers} and all(
        db[c["customerId"]] == {"customerName": c["customerName"], "customerData": c["customerData"],
                                "address": c["address"]} for c in customers)


def assert_replayed_deliveries(mock: LambdaMock, replay_name: str, created_ids: set[str],
                               deleted_originals: int) -> None:
    # Every damaged event came back, marked with the replay's name, in the replay envelope layout.
    replayed = mock.events(STORE_FUNCTION, replay_name)
    assert {e["id"] for e in replayed} == created_ids
    for e in replayed:
        assert list(e) == REPLAY_ENVELOPE_KEYS
        assert e["replay-name"] == replay_name
        assert e["detail-type"] == "customerCreated"
        assert e["source"] == SOURCE
    # Nothing else reached the store function (it only ever saw customerCreated events).
    assert all(e["detail-type"] == "customerCreated" for e in mock.events(STORE_FUNCTION))
    # The second rule is not in FilterArns: its function got the originals only, nothing of the replay.
    audit = mock.events(AUDIT_FUNCTION)
    assert len(audit) == deleted_originals
    assert all("replay-name" not in e for e in audit), audit
    assert mock.handler_errors == []


# --------------------------------------------------------------------------- boto3


def test_replay_repairs_truncated_addresses_boto3(story):
    srv, mock, fn = story
    events = srv.client()  # boto3.client("events", endpoint_url=..., region_name="us-east-1")
    customers = make_customers()

    bus_arn = events.create_event_bus(Name=BUS)["EventBusArn"]
    assert bus_arn == "arn:aws:events:us-east-1:000000000000:event-bus/my-event-bus"
    rule_arn = events.put_rule(Name="customer-created", EventBusName=BUS,
                               EventPattern=json.dumps({"detail-type": ["customerCreated"]}))["RuleArn"]
    assert rule_arn == "arn:aws:events:us-east-1:000000000000:rule/my-event-bus/customer-created"
    assert events.put_targets(Rule="customer-created", EventBusName=BUS, Targets=[
        {"Id": STORE_FUNCTION, "Arn": lambda_arn(STORE_FUNCTION)}])["FailedEntryCount"] == 0
    events.put_rule(Name="customer-deleted", EventBusName=BUS,
                    EventPattern=json.dumps({"detail-type": ["customerDeleted"]}))
    assert events.put_targets(Rule="customer-deleted", EventBusName=BUS, Targets=[
        {"Id": AUDIT_FUNCTION, "Arn": lambda_arn(AUDIT_FUNCTION)}])["FailedEntryCount"] == 0
    # Archive every event of the bus: no pattern, kept forever.
    archive = events.create_archive(ArchiveName="my-event-bus-archive", EventSourceArn=bus_arn)
    archive_arn = archive["ArchiveArn"]
    assert archive_arn == "arn:aws:events:us-east-1:000000000000:archive/my-event-bus-archive"

    # The bug is live while the customers are created.
    fn.bug = True
    window_start = window_start_before(time.time())
    created_ids = set()
    deleted_ids = set()
    for i, c in enumerate(customers):
        resp = events.put_events(Entries=[{"EventBusName": BUS, "Source": SOURCE, "DetailType": "customerCreated",
                                           "Detail": json.dumps(c)}])
        assert resp["FailedEntryCount"] == 0, resp
        created_ids.add(resp["Entries"][0]["EventId"])
        if i % 7 == 3:  # another detail-type in the same window
            d = DELETED_CUSTOMERS[len(deleted_ids)]
            resp = events.put_events(Entries=[{"EventBusName": BUS, "Source": SOURCE, "DetailType": "customerDeleted",
                                               "Detail": json.dumps(d)}])
            assert resp["FailedEntryCount"] == 0, resp
            deleted_ids.add(resp["Entries"][0]["EventId"])
    window_end = window_end_after(time.time())  # after the last put, not in the future
    assert len(created_ids) == 20 and len(deleted_ids) == 3

    # The function ran for every customer; long addresses are stored truncated.
    wait_for(lambda: len(fn.snapshot()) == 20, message="20 customers in the database")
    mock.wait_for_events(AUDIT_FUNCTION, 3)
    assert_db_truncated(fn, customers)
    originals = mock.events(STORE_FUNCTION, None)
    assert {e["id"] for e in originals} == created_ids
    assert {e["id"] for e in mock.events(AUDIT_FUNCTION)} == deleted_ids
    # Everything was archived.
    wait_for_value(lambda: events.describe_archive(ArchiveName="my-event-bus-archive")["EventCount"], 23,
                   message="archive EventCount")

    # Fix the function, then replay the damaged window to the one rule.
    fn.bug = False
    replay = events.start_replay(
        ReplayName="fix-truncated-addresses",
        EventSourceArn=archive_arn,
        EventStartTime=window_start,
        EventEndTime=window_end,
        Destination={"Arn": bus_arn, "FilterArns": [rule_arn]},
    )
    assert replay["State"] == "STARTING"
    assert replay["ReplayArn"] == "arn:aws:events:us-east-1:000000000000:replay/fix-truncated-addresses"

    deadline = time.monotonic() + 30
    while True:
        desc = events.describe_replay(ReplayName="fix-truncated-addresses")
        assert desc["State"] in ("STARTING", "RUNNING", "COMPLETED"), desc
        if desc["State"] == "COMPLETED":
            break
        assert time.monotonic() < deadline, f"replay not COMPLETED after 30 s: {desc}"
        time.sleep(0.2)
    assert desc["EventSourceArn"] == archive_arn
    assert desc["Destination"] == {"Arn": bus_arn, "FilterArns": [rule_arn]}

    # The database now holds every customer correctly (the consumer is idempotent, order doesn't matter).
    wait_for(lambda: db_fully_repaired(fn, customers), message="every customer with the full address")
    mock.wait_for_events(STORE_FUNCTION, 20, replay_name="fix-truncated-addresses")
    assert_stays(lambda: len(mock.events(AUDIT_FUNCTION)) == 3, 0.5, message="audit function gets nothing more")
    assert_replayed_deliveries(mock, "fix-truncated-addresses", created_ids, deleted_originals=3)
    assert len(mock.events(STORE_FUNCTION)) == 40  # 20 originals + 20 replayed, nothing else
    # Replayed events are not archived again.
    assert events.describe_archive(ArchiveName="my-event-bus-archive")["EventCount"] == 23


# --------------------------------------------------------------------------- AWS CLI


def test_replay_repairs_truncated_addresses_cli(story, tmp_path):
    srv, mock, fn = story
    aws = AwsCli(srv.url)  # aws events ... --endpoint-url http://127.0.0.1:<port> --region us-east-1
    customers = make_customers()

    bus_arn = aws("create-event-bus", "--name", BUS)["EventBusArn"]
    assert bus_arn == "arn:aws:events:us-east-1:000000000000:event-bus/my-event-bus"
    rule_arn = aws("put-rule", "--name", "customer-created", "--event-bus-name", BUS,
                   "--event-pattern", json.dumps({"detail-type": ["customerCreated"]}))["RuleArn"]
    assert rule_arn == "arn:aws:events:us-east-1:000000000000:rule/my-event-bus/customer-created"
    targets = tmp_path / "targets.json"
    targets.write_text(json.dumps([{"Id": STORE_FUNCTION, "Arn": lambda_arn(STORE_FUNCTION)}]))
    out = aws("put-targets", "--rule", "customer-created", "--event-bus-name", BUS, "--targets", f"file://{targets}")
    assert out["FailedEntryCount"] == 0
    aws("put-rule", "--name", "customer-deleted", "--event-bus-name", BUS,
        "--event-pattern", json.dumps({"detail-type": ["customerDeleted"]}))
    out = aws("put-targets", "--rule", "customer-deleted", "--event-bus-name", BUS,
              "--targets", f"Id={AUDIT_FUNCTION},Arn={lambda_arn(AUDIT_FUNCTION)}")
    assert out["FailedEntryCount"] == 0
    archive_arn = aws("create-archive", "--archive-name", "my-event-bus-archive",
                      "--event-source-arn", bus_arn)["ArchiveArn"]
    assert archive_arn == "arn:aws:events:us-east-1:000000000000:archive/my-event-bus-archive"

    # Bug on; put the customers (and three deletions) in batches of up to 10 entries per file.
    fn.bug = True
    window_start = int(window_start_before(time.time()).timestamp())  # the CLI sends whole epoch seconds
    entries = []
    for i, c in enumerate(customers):
        entries.append({"EventBusName": BUS, "Source": SOURCE, "DetailType": "customerCreated",
                        "Detail": json.dumps(c)})
        if i % 7 == 3:
            entries.append({"EventBusName": BUS, "Source": SOURCE, "DetailType": "customerDeleted",
                            "Detail": json.dumps(DELETED_CUSTOMERS[sum(e["DetailType"] == "customerDeleted"
                                                                       for e in entries)])})
    assert len(entries) == 23
    created_ids, deleted_ids = set(), set()
    for n, start in enumerate(range(0, len(entries), 10)):
        batch = entries[start:start + 10]
        f = tmp_path / f"entries-{n}.json"
        f.write_text(json.dumps(batch))
        out = aws("put-events", "--entries", f"file://{f}")
        assert out["FailedEntryCount"] == 0, out
        assert len(out["Entries"]) == len(batch)
        for entry, result in zip(batch, out["Entries"]):
            (created_ids if entry["DetailType"] == "customerCreated" else deleted_ids).add(result["EventId"])
    last_put = time.time()
    assert len(created_ids) == 20 and len(deleted_ids) == 3

    wait_for(lambda: len(fn.snapshot()) == 20, message="20 customers in the database")
    mock.wait_for_events(AUDIT_FUNCTION, 3)
    assert_db_truncated(fn, customers)
    deadline = time.monotonic() + 20
    while aws("describe-archive", "--archive-name", "my-event-bus-archive")["EventCount"] != 23:
        assert time.monotonic() < deadline, "archive EventCount never reached 23"
        time.sleep(0.2)

    # The end of the window is a whole second after the last put, and not in the future.
    window_end = int(window_end_after(last_put).timestamp())

    fn.bug = False
    replay = aws("start-replay", "--replay-name", "fix-truncated-addresses",
                 "--event-source-arn", archive_arn,
                 "--event-start-time", str(window_start), "--event-end-time", str(window_end),
                 "--destination", json.dumps({"Arn": bus_arn, "FilterArns": [rule_arn]}))
    assert replay["State"] == "STARTING"
    assert replay["ReplayArn"] == "arn:aws:events:us-east-1:000000000000:replay/fix-truncated-addresses"

    deadline = time.monotonic() + 30
    while True:
        desc = aws("describe-replay", "--replay-name", "fix-truncated-addresses")
        assert desc["State"] in ("STARTING", "RUNNING", "COMPLETED"), desc
        if desc["State"] == "COMPLETED":
            break
        assert time.monotonic() < deadline, f"replay not COMPLETED after 30 s: {desc}"
        time.sleep(0.2)
    # The CLI v1 prints timestamps as the raw epoch numbers of the wire.
    assert desc["EventStartTime"] == window_start
    assert desc["EventEndTime"] == window_end
    assert desc["Destination"] == {"Arn": bus_arn, "FilterArns": [rule_arn]}

    wait_for(lambda: db_fully_repaired(fn, customers), message="every customer with the full address")
    mock.wait_for_events(STORE_FUNCTION, 20, replay_name="fix-truncated-addresses")
    assert_stays(lambda: len(mock.events(AUDIT_FUNCTION)) == 3, 0.5, message="audit function gets nothing more")
    assert_replayed_deliveries(mock, "fix-truncated-addresses", created_ids, deleted_originals=3)
    assert len(mock.events(STORE_FUNCTION)) == 40
    assert aws("describe-archive", "--archive-name", "my-event-bus-archive")["EventCount"] == 23
