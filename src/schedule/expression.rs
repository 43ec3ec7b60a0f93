//! Schedule expressions as EventBridge reads them: `rate(...)` and `cron(...)`, and the next
//! instant each is due. Pure: the task that fires rules is in `schedule/mod.rs`.
//!
//! A cron expression has six fields: minutes, hours, day-of-month, month, day-of-week, year
//! (UTC), with `, - * /` everywhere, `?` `L` `W` in day-of-month, `?` `L` `#` in day-of-week;
//! one of the two day fields must be `?`. A rate is `rate(N minute[s]|hour[s]|day[s])`, singular
//! for 1 and plural otherwise.

use time::{Date, Month, OffsetDateTime, Weekday};

const MINUTE_MS: i64 = 60_000;
/// How far ahead a cron expression is searched for its next time.
const SEARCH_DAYS: i64 = 366 * 8;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Schedule {
    /// A period in ms, counted from when the rule was (re)scheduled.
    Rate(i64),
    Cron(Box<Cron>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfMonth {
    Any,
    Days(u32),
    Last,
    NearestWeekday(u8),
    LastWeekday,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum DayOfWeek {
    Any,
    /// Bits 1..=7, 1 = Sunday.
    Days(u8),
    /// The last given weekday of the month (`6L`; `L` alone is Saturday).
    Last(u8),
    /// The n-th given weekday of the month (`3#2`).
    Nth(u8, u8),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cron {
    minutes: u64,
    hours: u32,
    day_of_month: DayOfMonth,
    months: u16,
    day_of_week: DayOfWeek,
    /// Years 1970..=2199 as offsets from 1970.
    years: Vec<bool>,
}

/// A field's `, - * /` list as a set of values in `min..=max`.
fn parse_list(text: &str, min: u32, max: u32, names: &[&str]) -> Option<Vec<u32>> {
    let value = |t: &str| -> Option<u32> {
        let v = match names.iter().position(|n| n.eq_ignore_ascii_case(t)) {
            Some(i) => i as u32 + min,
            None => t.parse().ok()?,
        };
        (min..=max).contains(&v).then_some(v)
    };
    let mut out = Vec::new();
    for part in text.split(',') {
        // An increment past the field's largest value (`*/60` in minutes) is refused, as
        // AWS refused `cron(*/60 * * * ? *)`.
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().ok().filter(|s| (1..=max).contains(s))?),
            None => (part, 1),
        };
        let (start, end) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            (value(a)?, value(b)?)
        } else {
            let v = value(range)?;
            (v, if part.contains('/') { max } else { v })
        };
        if start > end {
            return None;
        }
        out.extend((start..=end).step_by(step as usize));
    }
    Some(out)
}

fn bits(values: &[u32]) -> u64 {
    values.iter().fold(0, |acc, v| acc | (1u64 << v))
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];
const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

impl Schedule {
    /// Reads a ScheduleExpression; `None` when AWS would refuse it.
    pub fn parse(expression: &str) -> Option<Schedule> {
        if let Some(inner) = expression
            .strip_prefix("rate(")
            .and_then(|s| s.strip_suffix(')'))
        {
            // `value unit` with one space and nothing around them: AWS refuses
            // `rate( 10 minutes )`, `rate(10 MINUTES)` and `rate(1 minutes)`.
            let (n, unit) = inner.split_once(' ')?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: i64 = n.parse().ok().filter(|n| *n > 0)?;
            let unit_ms = match (unit, n == 1) {
                ("minute", true) | ("minutes", false) => MINUTE_MS,
                ("hour", true) | ("hours", false) => 60 * MINUTE_MS,
                ("day", true) | ("days", false) => 24 * 60 * MINUTE_MS,
                _ => return None,
            };
            return Some(Schedule::Rate(n.checked_mul(unit_ms)?));
        }
        let inner = expression.strip_prefix("cron(")?.strip_suffix(')')?;
        let fields: Vec<&str> = inner.split_whitespace().collect();
        let [minutes, hours, dom, months, dow, years] = fields[..] else {
            return None;
        };
        let day_of_month = match dom {
            "?" => DayOfMonth::Any,
            "L" => DayOfMonth::Last,
            "LW" => DayOfMonth::LastWeekday,
            d if d.ends_with('W') => {
                let day: u8 = d.trim_end_matches('W').parse().ok()?;
                (1..=31)
                    .contains(&day)
                    .then_some(DayOfMonth::NearestWeekday(day))?
            }
            d => DayOfMonth::Days(bits(&parse_list(d, 1, 31, &[])?) as u32),
        };
        let day_of_week = match dow {
            "?" => DayOfWeek::Any,
            "L" => DayOfWeek::Last(7),
            d if d.contains('#') => {
                let (day, n) = d.split_once('#')?;
                let day = parse_list(day, 1, 7, &DAYS)?;
                let n: u8 = n.parse().ok().filter(|n| (1..=5).contains(n))?;
                (day.len() == 1).then(|| DayOfWeek::Nth(day[0] as u8, n))?
            }
            d if d.ends_with('L') => {
                let day = parse_list(d.trim_end_matches('L'), 1, 7, &DAYS)?;
                (day.len() == 1).then(|| DayOfWeek::Last(day[0] as u8))?
            }
            d => DayOfWeek::Days(bits(&parse_list(d, 1, 7, &DAYS)?) as u8),
        };
        // Exactly one of the day fields is `?`.
        if (day_of_month == DayOfMonth::Any) == (day_of_week == DayOfWeek::Any) {
            return None;
        }
        let mut year_set = vec![false; 230];
        for y in parse_list(years, 1970, 2199, &[])? {
            year_set[(y - 1970) as usize] = true;
        }
        Some(Schedule::Cron(Box::new(Cron {
            minutes: bits(&parse_list(minutes, 0, 59, &[])?),
            hours: bits(&parse_list(hours, 0, 23, &[])?) as u32,
            day_of_month,
            months: bits(&parse_list(months, 1, 12, &MONTHS)?) as u16,
            day_of_week,
            years: year_set,
        })))
    }

    /// The first time strictly after `after_ms` at which the schedule fires; a rate fires
    /// every period after `anchor_ms`.
    pub fn next_after(&self, after_ms: i64, anchor_ms: i64) -> Option<i64> {
        match self {
            Schedule::Rate(period) => {
                let elapsed = (after_ms - anchor_ms).max(0);
                Some(anchor_ms + (elapsed / period + 1) * period)
            }
            Schedule::Cron(cron) => cron.next_after(after_ms),
        }
    }
}

fn last_day(year: i32, month: Month) -> u8 {
    time::util::days_in_month(month, year)
}

/// Sunday = 1 ... Saturday = 7, as cron numbers them.
fn cron_weekday(date: Date) -> u8 {
    date.weekday().number_from_sunday()
}

fn is_weekday(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday)
}

/// The weekday nearest to `day` within the month (never crossing into another month).
fn nearest_weekday(year: i32, month: Month, day: u8) -> Option<u8> {
    let last = last_day(year, month);
    let day = day.min(last);
    let date = Date::from_calendar_date(year, month, day).ok()?;
    Some(match date.weekday() {
        Weekday::Saturday if day == 1 => 3,
        Weekday::Saturday => day - 1,
        Weekday::Sunday if day == last => day - 2,
        Weekday::Sunday => day + 1,
        _ => day,
    })
}

impl Cron {
    fn day_matches(&self, date: Date) -> bool {
        let (year, month, day) = (date.year(), date.month(), date.day());
        let last = last_day(year, month);
        let dom = match &self.day_of_month {
            DayOfMonth::Any => true,
            DayOfMonth::Days(bits) => bits & (1 << day) != 0,
            DayOfMonth::Last => day == last,
            DayOfMonth::NearestWeekday(d) => nearest_weekday(year, month, *d) == Some(day),
            DayOfMonth::LastWeekday => {
                let mut d = last;
                while !Date::from_calendar_date(year, month, d).is_ok_and(is_weekday) {
                    d -= 1;
                }
                day == d
            }
        };
        let weekday = cron_weekday(date);
        let dow = match &self.day_of_week {
            DayOfWeek::Any => true,
            DayOfWeek::Days(bits) => bits & (1 << weekday) != 0,
            DayOfWeek::Last(d) => weekday == *d && day + 7 > last,
            DayOfWeek::Nth(d, n) => weekday == *d && (day - 1) / 7 + 1 == *n,
        };
        dom && dow
    }

    fn next_after(&self, after_ms: i64) -> Option<i64> {
        let start = OffsetDateTime::from_unix_timestamp(after_ms.div_euclid(1000) + 60).ok()?;
        let from_minute = u32::from(start.hour()) * 60 + u32::from(start.minute());
        let (date, minute_of_day) = self.next_civil(start.date(), from_minute)?;
        let midnight = date.midnight().assume_utc().unix_timestamp();
        Some((midnight + i64::from(minute_of_day) * 60) * 1000)
    }

    /// The first (date, minute of the day) at or after `from_minute` of `date` that the
    /// expression names, in civil time: rules read it as UTC, Scheduler in a time zone.
    pub fn next_civil(&self, mut date: Date, mut from_minute: u32) -> Option<(Date, u32)> {
        for _ in 0..SEARCH_DAYS {
            let year_ok =
                (1970..=2199).contains(&date.year()) && self.years[(date.year() - 1970) as usize];
            if year_ok && self.months & (1 << date.month() as u8) != 0 && self.day_matches(date) {
                for minute_of_day in from_minute..24 * 60 {
                    let (h, m) = (minute_of_day / 60, minute_of_day % 60);
                    if self.hours & (1 << h) != 0 && self.minutes & (1 << m) != 0 {
                        return Some((date, minute_of_day));
                    }
                }
            }
            date = date.next_day()?;
            from_minute = 0;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> i64 {
        let t =
            OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).unwrap();
        t.unix_timestamp() * 1000
    }

    fn next(expr: &str, after: &str) -> String {
        let ms = Schedule::parse(expr)
            .unwrap()
            .next_after(at(after), 0)
            .unwrap();
        crate::model::time::envelope_time(ms)
    }

    #[test]
    fn rates() {
        assert_eq!(
            Schedule::parse("rate(1 minute)"),
            Some(Schedule::Rate(60_000))
        );
        assert_eq!(
            Schedule::parse("rate(5 minutes)"),
            Some(Schedule::Rate(300_000))
        );
        assert_eq!(
            Schedule::parse("rate(2 days)"),
            Some(Schedule::Rate(172_800_000))
        );
        for bad in [
            "rate(1 minutes)",
            "rate(2 minute)",
            "rate(0 minutes)",
            "rate(5 seconds)",
            "rate(x hours)",
            "rate(1hour)",
            // Refused by AWS (recorded): spaces, case, signs, missing parts.
            "rate( 10 minutes )",
            " rate(10 minutes)",
            "rate(10  minutes)",
            "rate(10 MINUTES)",
            "rate(-10 minutes)",
            "rate(+10 minutes)",
            "rate(10)",
            "rate()",
            "rate(10 minutess)",
            "cron(*/60 * * * ? *)",
            "cron(7 20 * * 1-7 *)",
            "cron(0 1 * * * *)",
            "cron(71 8 1 * ? *)",
            "cron(*/1 * * * *)",
        ] {
            assert_eq!(Schedule::parse(bad), None, "{bad}");
        }
        // Accepted by AWS (recorded).
        for good in [
            "cron(0 2 ? * SAT *)",
            "cron(0 12 * * ? *)",
            "cron(5,35 14 * * ? *)",
            "cron(15 10 ? * 6L 2002-2005)",
            "cron(0 2 ? * SAT#3 *)",
            "cron(* * ? * SAT#3 *)",
            "cron(0/5 5 ? JAN 1-5 2022)",
            "cron(0/5 8-17 ? * MON-FRI *)",
            "cron(0 8 1 * ? *)",
        ] {
            assert!(Schedule::parse(good).is_some(), "{good}");
        }
        let every_5 = Schedule::parse("rate(5 minutes)").unwrap();
        assert_eq!(every_5.next_after(1_000, 0), Some(300_000));
        assert_eq!(every_5.next_after(300_000, 0), Some(600_000));
    }

    #[test]
    fn cron_examples_from_the_docs() {
        // 10:00 UTC every day
        assert_eq!(
            next("cron(0 10 * * ? *)", "2026-11-28T10:00:00Z"),
            "2026-11-29T10:00:00Z"
        );
        // 12:15 every day
        assert_eq!(
            next("cron(15 12 * * ? *)", "2026-11-28T09:00:00Z"),
            "2026-11-28T12:15:00Z"
        );
        // 18:00 Monday to Friday
        assert_eq!(
            next("cron(0 18 ? * MON-FRI *)", "2026-11-28T09:00:00Z"),
            "2026-11-30T18:00:00Z"
        );
        // 08:00 on the first day of the month
        assert_eq!(
            next("cron(0 8 1 * ? *)", "2026-11-28T09:00:00Z"),
            "2026-12-01T08:00:00Z"
        );
        // every 10 minutes on weekdays
        assert_eq!(
            next("cron(0/10 * ? * MON-FRI *)", "2026-11-30T09:01:00Z"),
            "2026-11-30T09:10:00Z"
        );
        // every 5 minutes between 08:00 and 17:55 on weekdays
        assert_eq!(
            next("cron(0/5 8-17 ? * MON-FRI *)", "2026-11-30T17:56:00Z"),
            "2026-12-01T08:00:00Z"
        );
        // 09:00 on the first Monday of the month
        assert_eq!(
            next("cron(0 9 ? * 2#1 *)", "2026-11-28T09:00:00Z"),
            "2026-12-07T09:00:00Z"
        );
    }

    #[test]
    fn cron_last_and_weekday_forms() {
        assert_eq!(
            next("cron(0 0 L * ? *)", "2026-02-01T00:00:00Z"),
            "2026-02-28T00:00:00Z"
        );
        assert_eq!(
            next("cron(0 0 LW * ? *)", "2026-05-01T00:00:00Z"),
            "2026-05-29T00:00:00Z"
        );
        // 2026-11-01 is a Sunday: the nearest weekday is Monday the 2nd.
        assert_eq!(
            next("cron(0 0 1W * ? *)", "2026-10-31T00:00:00Z"),
            "2026-11-02T00:00:00Z"
        );
        // Last Friday of November 2026 is the 27th.
        assert_eq!(
            next("cron(0 0 ? * 6L *)", "2026-11-01T00:00:00Z"),
            "2026-11-27T00:00:00Z"
        );
        assert_eq!(
            next("cron(0 0 ? NOV 6L 2027)", "2026-11-01T00:00:00Z"),
            "2027-11-26T00:00:00Z"
        );
    }

    #[test]
    fn invalid_crons() {
        for bad in [
            "cron(0 10 * * * *)",
            "cron(0 10 ? * ? *)",
            "cron(0 10 * *)",
            "cron(60 10 * * ? *)",
            "cron(0 24 * * ? *)",
            "cron(0 10 32 * ? *)",
            "cron(0 10 ? * 8 *)",
            "cron(0 10 ? * 3#6 *)",
            "cron(0 10 * * ? 1969)",
            "cron(0 10 * FOO ? *)",
            "0 10 * * ? *",
        ] {
            assert_eq!(Schedule::parse(bad), None, "{bad}");
        }
    }
}
