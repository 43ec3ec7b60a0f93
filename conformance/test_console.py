"""The console's server side: its files, its read endpoints and its live stream, through plain
HTTP (the browser tests in conformance/console/ drive the page itself)."""

import http.client
import json
import time
import urllib.error
import urllib.request

from support import archive_arn, bus_arn, uid, wait_for


def get(server, path: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(f"{server.url}{path}", timeout=10) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def test_files_are_served_from_the_binary(server):
    status, headers, body = get(server, "/_local/console")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert b'src="/_local/console/app.js"' in body
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    for name, kind in [("app.js", "text/javascript"), ("api.js", "text/javascript"), ("style.css", "text/css")]:
        status, headers, _ = get(server, f"/_local/console/{name}")
        assert status == 200, name
        assert headers["content-type"].startswith(kind)
        assert headers["cache-control"] == "no-cache"
    status, _, body = get(server, "/_local/console/nope.js")
    assert status == 404
    assert "nope.js" in json.loads(body)["message"]


def test_own_endpoints_are_read_only(server):
    request = urllib.request.Request(f"{server.url}/_local/console/api/scopes", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10)
        raise AssertionError("a POST was accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 405


def test_archive_pages_by_cursor_with_search_and_window(server, events, bus):
    archive = uid("arch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    for i in range(0, 120, 10):
        events.put_events(Entries=[{"EventBusName": bus, "Source": "console.test", "DetailType": "Paged",
                                    "Detail": json.dumps({"n": n, "tag": f"tag-{n}"})} for n in range(i, i + 10)])
    wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 120)
    seen, cursor, pages = [], "", 0
    while True:
        status, _, body = get(server, f"/_local/console/api/archive-events?archive={archive}&limit=50&cursor={cursor}")
        assert status == 200
        page = json.loads(body)
        pages += 1
        seen += [e["event"]["detail"]["n"] for e in page["events"]]
        if not page["nextCursor"]:
            break
        cursor = page["nextCursor"]
    assert pages == 3
    assert sorted(seen) == list(range(120)) and len(seen) == 120
    assert page["archive"]["eventCount"] == 120 and page["archive"]["sizeBytes"] > 0
    _, _, body = get(server, f"/_local/console/api/archive-events?archive={archive}&q=TAG-77%22")
    assert [e["event"]["detail"]["n"] for e in json.loads(body)["events"]] == [77]
    future = int(time.time() * 1000) + 3_600_000
    _, _, body = get(server, f"/_local/console/api/archive-events?archive={archive}&from={future}")
    assert json.loads(body)["events"] == []
    status, _, body = get(server, f"/_local/console/api/archive-events?archive={uid('none')}")
    assert status == 404
    status, _, _ = get(server, f"/_local/console/api/archive-events?archive={archive}&cursor=bad")
    assert status == 400


def test_replays_report_events_replayed(server, events, bus):
    archive = uid("arch")
    events.create_archive(ArchiveName=archive, EventSourceArn=bus_arn(bus))
    start = time.time() - 60
    events.put_events(Entries=[{"EventBusName": bus, "Source": "console.test", "DetailType": "R", "Detail": "{}"}] * 5)
    wait_for(lambda: events.describe_archive(ArchiveName=archive)["EventCount"] == 5)
    name = uid("replay")
    events.start_replay(ReplayName=name, EventSourceArn=archive_arn(archive), EventStartTime=start,
                        EventEndTime=time.time() + 60, Destination={"Arn": bus_arn(bus)})

    def replay():
        _, _, body = get(server, "/_local/console/api/replays")
        return next(r for r in json.loads(body)["replays"] if r["name"] == name)

    wait_for(lambda: replay()["state"] == "COMPLETED")
    assert replay()["eventsReplayed"] == 5 and replay()["eventsInWindow"] == 5


def test_stream_sends_a_bus_events_as_they_arrive(server, events, bus):
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", f"/_local/console/stream?bus={bus}")
    response = conn.getresponse()
    assert response.status == 200
    assert response.getheader("content-type") == "text/event-stream; charset=utf-8"
    assert response.readline() == b"retry: 500\n"
    sent = events.put_events(Entries=[{"EventBusName": bus, "Source": "console.test", "DetailType": "Live",
                                       "Detail": "{}"}])["Entries"][0]["EventId"]
    deadline = time.time() + 10
    while time.time() < deadline:
        line = response.readline()
        if line.startswith(b"data: "):
            batch = json.loads(line[6:])
            assert [e["eventId"] for e in batch] == [sent]
            assert batch[0]["event"]["detail-type"] == "Live"
            break
    else:
        raise AssertionError("the event did not come through the stream")
    conn.close()
    status, _, _ = get(server, "/_local/console/stream")
    assert status == 400


def test_shutdown_does_not_wait_for_open_streams(start_server):
    srv = start_server()
    host, port = srv.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request("GET", "/_local/console/stream?bus=default")
    response = conn.getresponse()
    assert response.readline() == b"retry: 500\n"
    began = time.time()
    assert srv.stop() == 0
    assert time.time() - began < 3
