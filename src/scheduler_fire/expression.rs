//! EventBridge Scheduler's schedule expressions and the instants they name, in the schedule's
//! time zone: `at(yyyy-mm-ddThh:mm:ss)` once, `rate(value unit)` every fixed period from the
//! start, and six-field `cron(...)` read in local civil time (the grammar is the rules' own,
//! `crate::schedule::Cron`).
//!
//! Daylight saving time, as the Scheduler user guide describes it: a cron time that does not
//! exist on the day clocks go forward is skipped; a cron time that exists twice on the day
//! they go back runs once (the first time). A rate is a fixed duration (`rate(1 day)` is 24
//! hours), whatever the clocks do. Time zones come from jiff's bundled copy of the IANA
//! database, not from the host.

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone};
use time::{Date, Month};

use crate::schedule::{Cron, Schedule as RuleExpression};

const MINUTE_MS: i64 = 60_000;
/// How many candidate local times a cron search looks at before giving up (each skipped one is
/// a time that does not exist or was already passed in a repeated hour).
const MAX_CANDIDATES: usize = 10_000;

#[derive(Debug, Clone)]
pub enum Recurrence {
    /// One instant, in local civil time.
    At(DateTime),
    /// A period in ms.
    Rate(i64),
    Cron(Box<Cron>),
}

impl Recurrence {
    /// Reads a ScheduleExpression; `None` when it is not one.
    pub fn parse(expression: &str) -> Option<Recurrence> {
        if let Some(inner) = expression
            .strip_prefix("at(")
            .and_then(|s| s.strip_suffix(')'))
        {
            return parse_at(inner).map(Recurrence::At);
        }
        if let Some(inner) = expression
            .strip_prefix("rate(")
            .and_then(|s| s.strip_suffix(')'))
        {
            // botocore's model lists `minute | minutes | hour | hours | day | days` without
            // tying the singular to 1, so either is taken with any value.
            let (n, unit) = inner.split_once(' ')?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
            let unit_ms = match unit {
                "minute" | "minutes" => MINUTE_MS,
                "hour" | "hours" => 60 * MINUTE_MS,
                "day" | "days" => 24 * 60 * MINUTE_MS,
                _ => return None,
            };
            return Some(Recurrence::Rate(n.checked_mul(unit_ms)?));
        }
        match RuleExpression::parse(expression)? {
            RuleExpression::Cron(cron) if expression.starts_with("cron(") => {
                Some(Recurrence::Cron(cron))
            }
            _ => None,
        }
    }

    pub fn is_one_time(&self) -> bool {
        matches!(self, Recurrence::At(_))
    }
}

/// `yyyy-mm-ddThh:mm:ss`, exactly.
fn parse_at(text: &str) -> Option<DateTime> {
    let b = text.as_bytes();
    if b.len() != 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b'T'
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = &text[range];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    DateTime::new(
        num(0..4)? as i16,
        num(5..7)? as i8,
        num(8..10)? as i8,
        num(11..13)? as i8,
        num(14..16)? as i8,
        num(17..19)? as i8,
        0,
    )
    .ok()
}

/// A time zone by its IANA name.
pub fn time_zone(name: &str) -> Option<TimeZone> {
    TimeZone::get(name).ok()
}

/// When a schedule's invocations are: its recurrence in its time zone, between its start and
/// end dates.
#[derive(Debug, Clone)]
pub struct Timing {
    pub recurrence: Recurrence,
    pub tz: TimeZone,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// Where a rate counts its periods from: the start date, or when the schedule was made.
    pub anchor_ms: i64,
}

impl Timing {
    /// The first instant at or after `from_ms`.
    pub fn first_at_or_after(&self, from_ms: i64) -> Option<i64> {
        self.next_after(from_ms - 1)
    }

    /// The first instant strictly after `after_ms`.
    pub fn next_after(&self, after_ms: i64) -> Option<i64> {
        let instant = match &self.recurrence {
            // A one-time schedule ignores the start and end dates (as AWS documents).
            Recurrence::At(local) => {
                let at = self.tz.to_ambiguous_timestamp(*local).compatible().ok()?;
                return Some(at.as_millisecond()).filter(|at| *at > after_ms);
            }
            Recurrence::Rate(period) => {
                let anchor = self.anchor_ms;
                if after_ms < anchor {
                    anchor
                } else {
                    anchor + ((after_ms - anchor) / period + 1) * period
                }
            }
            Recurrence::Cron(cron) => {
                let after = match self.start_ms {
                    Some(start) => after_ms.max(start - 1),
                    None => after_ms,
                };
                self.next_cron(cron, after)?
            }
        };
        let instant = match self.start_ms {
            Some(start) if instant < start => return None,
            _ => instant,
        };
        match self.end_ms {
            Some(end) if instant >= end => None,
            _ => Some(instant),
        }
    }

    /// The first local minute the cron names after `after_ms` that exists and was not
    /// already passed (see the module's note on daylight saving time).
    fn next_cron(&self, cron: &Cron, after_ms: i64) -> Option<i64> {
        let local = self
            .tz
            .to_datetime(Timestamp::from_millisecond(after_ms).ok()?);
        let (mut date, mut minute) = next_minute(to_date(local)?, minute_of_day(local));
        for _ in 0..MAX_CANDIDATES {
            let (day, minute_of) = cron.next_civil(date, minute)?;
            let candidate = DateTime::new(
                day.year() as i16,
                day.month() as i8,
                day.day() as i8,
                (minute_of / 60) as i8,
                (minute_of % 60) as i8,
                0,
                0,
            )
            .ok()?;
            let ambiguous = self.tz.to_ambiguous_timestamp(candidate);
            let instant = match ambiguous.offset() {
                AmbiguousOffset::Gap { .. } => None,
                _ => ambiguous.earlier().ok().map(|t| t.as_millisecond()),
            };
            if let Some(instant) = instant.filter(|i| *i > after_ms) {
                return Some(instant);
            }
            (date, minute) = next_minute(day, minute_of);
        }
        None
    }
}

fn to_date(local: DateTime) -> Option<Date> {
    Date::from_calendar_date(
        i32::from(local.year()),
        Month::try_from(local.month() as u8).ok()?,
        local.day() as u8,
    )
    .ok()
}

fn minute_of_day(local: DateTime) -> u32 {
    local.hour() as u32 * 60 + local.minute() as u32
}

/// The minute after (`date`, `minute`), crossing midnight.
fn next_minute(date: Date, minute: u32) -> (Date, u32) {
    if minute + 1 < 24 * 60 {
        (date, minute + 1)
    } else {
        (date.next_day().unwrap_or(date), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn utc(ms: i64) -> String {
        Timestamp::from_millisecond(ms).unwrap().to_string()
    }

    fn timing(expression: &str, tz: &str) -> Timing {
        Timing {
            recurrence: Recurrence::parse(expression).unwrap(),
            tz: time_zone(tz).unwrap(),
            start_ms: None,
            end_ms: None,
            anchor_ms: 0,
        }
    }

    /// The instants after `from`, in UTC.
    fn instants(t: &Timing, from: &str, count: usize) -> Vec<String> {
        let mut out = Vec::new();
        let mut at = ms(from);
        for _ in 0..count {
            at = t.next_after(at).unwrap();
            out.push(utc(at));
        }
        out
    }

    #[test]
    fn parses_the_three_kinds() {
        assert!(matches!(
            Recurrence::parse("at(2026-11-30T10:00:00)"),
            Some(Recurrence::At(_))
        ));
        assert!(matches!(
            Recurrence::parse("rate(5 minutes)"),
            Some(Recurrence::Rate(300_000))
        ));
        assert!(matches!(
            Recurrence::parse("rate(1 minute)"),
            Some(Recurrence::Rate(60_000))
        ));
        assert!(matches!(
            Recurrence::parse("cron(0 9 ? * MON-FRI *)"),
            Some(Recurrence::Cron(_))
        ));
        for bad in [
            "at(2026-11-30 10:00:00)",
            "at(2026-02-30T10:00:00)",
            "at(2026-11-30T10:00)",
            "rate(0 minutes)",
            "rate(5 seconds)",
            "rate(5minutes)",
            "cron(0 9 * * * *)",
            "cron(0 9 * * ?)",
            "every day",
            "",
        ] {
            assert!(Recurrence::parse(bad).is_none(), "{bad}");
        }
    }

    /// Every day at 02:30 and 01:30 in New York, across both changes of 2026 (March 8, clocks
    /// 02:00 -> 03:00; November 1, clocks 02:00 -> 01:00).
    #[test]
    fn cron_in_new_york_across_daylight_saving() {
        let t = timing("cron(30 2 * * ? *)", "America/New_York");
        // 02:30 does not exist on March 8: skipped.
        assert_eq!(
            instants(&t, "2026-03-06T12:00:00Z", 4),
            [
                "2026-03-07T07:30:00Z", // EST, UTC-5
                "2026-03-09T06:30:00Z", // EDT, UTC-4
                "2026-03-10T06:30:00Z",
                "2026-03-11T06:30:00Z",
            ]
        );
        // 01:30 happens twice on November 1: once, in EDT.
        let t = timing("cron(30 1 * * ? *)", "America/New_York");
        assert_eq!(
            instants(&t, "2026-10-31T00:00:00Z", 3),
            [
                "2026-10-31T05:30:00Z", // EDT
                "2026-11-01T05:30:00Z", // the first 01:30, EDT
                "2026-11-02T06:30:00Z", // EST
            ]
        );
        // Every 30 minutes through the repeated hour: no time runs twice.
        let t = timing("cron(0/30 * * * ? *)", "America/New_York");
        assert_eq!(
            instants(&t, "2026-11-01T04:45:00Z", 5),
            [
                "2026-11-01T05:00:00Z", // 01:00 EDT
                "2026-11-01T05:30:00Z", // 01:30 EDT
                "2026-11-01T07:00:00Z", // 02:00 EST (01:00 and 01:30 EST are not repeated)
                "2026-11-01T07:30:00Z",
                "2026-11-01T08:00:00Z",
            ]
        );
        // And through the missing hour in March.
        assert_eq!(
            instants(&t, "2026-03-08T06:15:00Z", 3),
            [
                "2026-03-08T06:30:00Z", // 01:30 EST
                "2026-03-08T07:00:00Z", // 03:00 EDT
                "2026-03-08T07:30:00Z",
            ]
        );
    }

    #[test]
    fn cron_in_other_zones_and_utc() {
        let t = timing("cron(0 9 ? * MON *)", "Asia/Kolkata");
        assert_eq!(
            instants(&t, "2026-11-28T00:00:00Z", 1),
            ["2026-11-30T03:30:00Z"]
        );
        let t = timing("cron(0 12 * * ? *)", "UTC");
        assert_eq!(
            instants(&t, "2026-11-28T12:00:00Z", 1),
            ["2026-11-29T12:00:00Z"]
        );
        // Europe changes on the last Sunday of March, at 01:00 UTC.
        let t = timing("cron(0 8 * * ? *)", "Europe/Paris");
        assert_eq!(
            instants(&t, "2026-03-28T12:00:00Z", 2),
            ["2026-03-29T06:00:00Z", "2026-03-30T06:00:00Z"]
        );
    }

    #[test]
    fn at_is_local_and_once() {
        let t = timing("at(2026-07-04T09:00:00)", "America/New_York");
        assert_eq!(
            t.next_after(ms("2026-07-01T00:00:00Z")).map(utc).as_deref(),
            Some("2026-07-04T13:00:00Z")
        );
        assert_eq!(t.next_after(ms("2026-07-04T13:00:00Z")), None);
        // At or after the instant itself.
        assert!(t.first_at_or_after(ms("2026-07-04T13:00:00Z")).is_some());
    }

    #[test]
    fn rate_counts_from_its_anchor_and_stops_at_the_end() {
        let mut t = timing("rate(10 minutes)", "America/New_York");
        t.anchor_ms = ms("2026-11-30T10:00:00Z");
        t.end_ms = Some(ms("2026-11-30T10:30:00Z"));
        assert_eq!(
            t.first_at_or_after(ms("2026-11-30T10:00:00Z")),
            Some(ms("2026-11-30T10:00:00Z"))
        );
        assert_eq!(
            instants(&t, "2026-11-30T10:00:00Z", 2),
            ["2026-11-30T10:10:00Z", "2026-11-30T10:20:00Z"]
        );
        assert_eq!(t.next_after(ms("2026-11-30T10:20:00Z")), None);
        // A day is 24 hours, even across a change of the clocks.
        let mut t = timing("rate(1 day)", "America/New_York");
        t.anchor_ms = ms("2026-03-07T12:00:00Z");
        assert_eq!(
            instants(&t, "2026-03-07T12:00:00Z", 2),
            ["2026-03-08T12:00:00Z", "2026-03-09T12:00:00Z"]
        );
    }

    #[test]
    fn cron_respects_start_and_end() {
        let mut t = timing("cron(0 * * * ? *)", "UTC");
        t.start_ms = Some(ms("2026-11-30T10:30:00Z"));
        t.end_ms = Some(ms("2026-11-30T12:00:00Z"));
        assert_eq!(
            instants(&t, "2026-11-30T00:00:00Z", 1),
            ["2026-11-30T11:00:00Z"]
        );
        assert_eq!(t.next_after(ms("2026-11-30T11:00:00Z")), None);
    }
}
