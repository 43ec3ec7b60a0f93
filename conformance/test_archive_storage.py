"""The archive log at the scale of several segment files (issue 5), through boto3: retention
over segments that mix old and recent events gives disk space back (mostly-dead segments are
packed), and after a `kill -9` the archive holds exactly the kept events, which a replay then
delivers once each; DeleteArchive then removes every file.

The server runs with 1 MiB segments (`--archive-segment-mb 1`) so that a few thousand events
span several of them."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from support import (
    archive_arn,
    assert_error,
    assert_stays,
    bus_arn,
    rule_to_lambda,
    uid,
    wait_archive_count,
    wait_for,
    wait_replay_state,
)

EVENTS = 2400
PADDING = "x" * 1000


def segment_bytes(data: Path) -> int:
    """Bytes of the archive log's segment files (index files come and go in the background;
    a segment may be deleted between the listing and its stat)."""
    total = 0
    for p in (data / "archive-log").iterdir():
        if p.suffix in (".log", ".packed"):
            try:
                total += p.stat().st_size
            except FileNotFoundError:
                pass
    return total


def test_retention_packs_segments_and_a_kill_9_restart_keeps_exactly_the_kept_events(
        start_server, lambda_mock, tmp_path):
    data = tmp_path / "data"
    args = ("--retention-sweep-secs", "1", "--archive-segment-mb", "1")
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    bus, archive = uid("stbus"), uid("starch")
    ev.create_event_bus(Name=bus)
    ev.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))

    # Two old (30 days) events for each recent (3 days) one, so every segment holds both.
    now = datetime.now(timezone.utc).replace(microsecond=0)
    kept, expired = [], []
    for first in range(0, EVENTS, 10):
        entries = []
        for i in range(first, first + 10):
            age = timedelta(days=3 if i % 3 == 0 else 30, seconds=i)
            entries.append({"EventBusName": bus, "Source": "conformance.test", "DetailType": "t",
                            "Detail": json.dumps({"i": i, "pad": PADDING}), "Time": now - age})
        resp = ev.put_events(Entries=entries)
        assert resp["FailedEntryCount"] == 0, resp
        for i, entry in zip(range(first, first + 10), resp["Entries"]):
            (kept if i % 3 == 0 else expired).append(entry["EventId"])
    full = wait_archive_count(ev, archive, EVENTS)
    before = segment_bytes(data)
    assert before > 2.5 * 1024 * 1024, f"{before} bytes: the events should span several segments"

    ev.update_archive(ArchiveName=archive, RetentionDays=10)
    swept = wait_archive_count(ev, archive, len(kept), timeout=20)
    assert abs(swept["SizeBytes"] * 3 - full["SizeBytes"]) < full["SizeBytes"] // 20
    wait_for(lambda: segment_bytes(data) < before * 0.45, timeout=20,
             message=f"archive log below 45% of {before} bytes after the sweep")

    srv.kill()
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    described = ev.describe_archive(ArchiveName=archive)
    assert (described["EventCount"], described["SizeBytes"]) == (len(kept), swept["SizeBytes"])

    fn = uid("stfn")
    rule = rule_to_lambda(ev, bus, fn)
    replay = uid("strep")
    ev.start_replay(ReplayName=replay, EventSourceArn=archive_arn(archive),
                    EventStartTime=now - timedelta(days=31), EventEndTime=now - timedelta(days=1),
                    Destination={"Arn": bus_arn(bus), "FilterArns": [rule]})
    wait_replay_state(ev, replay)
    lambda_mock.wait_for_events(fn, len(kept), replay_name=replay, timeout=30)
    assert_stays(lambda: len(lambda_mock.events(fn, replay)) == len(kept), duration=1.0,
                 message="no delivery beyond the kept events")
    delivered = Counter(e["id"] for e in lambda_mock.events(fn, replay))
    assert set(delivered) == set(kept)
    assert max(delivered.values()) == 1

    # DeleteArchive takes its events' files with it, for good.
    ev.delete_archive(ArchiveName=archive)
    wait_for(lambda: segment_bytes(data) == 0, timeout=20,
             message="no archived bytes left after DeleteArchive")
    srv.kill()
    srv = start_server(data_dir=data, args=args)
    ev = srv.client()
    with pytest.raises(ClientError) as e:
        ev.describe_archive(ArchiveName=archive)
    assert_error(e, "ResourceNotFoundException", f"Archive {archive} does not exist.")
    assert segment_bytes(data) == 0
