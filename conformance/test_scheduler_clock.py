"""EventBridge Scheduler on the controllable clock (issues 12 and 13): schedules fire exactly at
their instants when /_local/clock moves, a New York cron across the daylight-saving change
included, and /_local/reset removes schedules and groups."""

from __future__ import annotations

import json
import urllib.request

from support import lambda_arn, scheduler_client, uid, wait_for


def local(srv, method: str, path: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{srv.url}{path}", data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read() or b"{}")


def target(arn: str, **extra) -> dict:
    return {"Arn": arn, "RoleArn": "arn:aws:iam::000000000000:role/scheduler", **extra}


OFF = {"Mode": "OFF"}


def test_cron_in_new_york_across_the_fall_change_on_the_manual_clock(start_server, lambda_mock):
    # Saturday 2026-10-31 12:00 UTC; New York leaves daylight saving on Sunday 2026-11-01.
    srv = start_server(args=("--clock", "manual", "--clock-start", "2026-10-31T12:00:00Z"))
    sched = scheduler_client(srv.url)
    fn = uid("nycron")
    sched.create_schedule(Name=uid("ny"), ScheduleExpression="cron(0 9 * * ? *)",
                          ScheduleExpressionTimezone="America/New_York", FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(fn), Input='{"at": "<aws.scheduler.scheduled-time>"}'))
    local(srv, "POST", "/_local/clock", {"advance": "PT72H"})
    events = lambda_mock.wait_for_events(fn, 3, timeout=10)
    # 09:00 in New York: 13:00 UTC on Saturday (daylight time), 14:00 UTC from Sunday on (the
    # change is at 02:00 on Sunday), and nothing else in the 72 hours up to Tuesday 12:00 UTC.
    assert [e["at"] for e in events] == ["2026-10-31T13:00:00Z", "2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"]
    assert len(lambda_mock.events(fn)) == 3


def test_at_fires_exactly_when_the_clock_reaches_it_and_reset_removes_schedules(start_server, lambda_mock):
    srv = start_server(args=("--clock", "manual", "--clock-start", "2030-01-01T00:00:00Z"))
    sched = scheduler_client(srv.url)
    fn = uid("atclock")
    name = uid("at")
    sched.create_schedule(Name=name, ScheduleExpression="at(2030-01-01T06:00:00)", FlexibleTimeWindow=OFF,
                          Target=target(lambda_arn(fn), Input='{"t": "<aws.scheduler.scheduled-time>"}'))
    local(srv, "POST", "/_local/clock", {"advance": "PT5H59M"})
    assert lambda_mock.events(fn) == []
    local(srv, "POST", "/_local/clock", {"advance": 60})
    assert lambda_mock.wait_for_events(fn, 1, timeout=10) == [{"t": "2030-01-01T06:00:00Z"}]

    group = uid("grp")
    sched.create_schedule_group(Name=group)
    sched.create_schedule(Name=uid("later"), GroupName=group, ScheduleExpression="rate(1 hour)",
                          FlexibleTimeWindow=OFF, Target=target(lambda_arn(fn)))
    local(srv, "POST", "/_local/reset")
    wait_for(lambda: sched.list_schedules()["Schedules"] == [], timeout=5, message="schedules gone")
    assert [g["Name"] for g in sched.list_schedule_groups()["ScheduleGroups"]] == ["default"]
