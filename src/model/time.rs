//! Time as the API speaks it: epoch seconds on the wire, milliseconds inside.

use serde::{Deserialize, Deserializer};
use time::OffsetDateTime;

pub fn now_ms() -> i64 {
    (OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64
}

/// Epoch milliseconds as the JSON number of epoch seconds that botocore reads.
pub fn to_epoch_seconds(ms: i64) -> serde_json::Value {
    if ms % 1000 == 0 {
        serde_json::Value::from(ms / 1000)
    } else {
        serde_json::Value::from(ms as f64 / 1000.0)
    }
}

/// The envelope's `time`: RFC 3339 UTC at second precision, as AWS delivers it.
pub fn envelope_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    match OffsetDateTime::from_unix_timestamp(secs) {
        // Every event gets one: digits by hand rather than through `format!`.
        Ok(t) if (0..=9999).contains(&t.year()) => {
            let mut out = String::with_capacity(20);
            let mut push = |n: u32, width: u32, then: char| {
                for i in (0..width).rev() {
                    out.push(char::from(b'0' + (n / 10u32.pow(i) % 10) as u8));
                }
                if then != '\0' {
                    out.push(then);
                }
            };
            push(t.year() as u32, 4, '-');
            push(t.month() as u32, 2, '-');
            push(u32::from(t.day()), 2, 'T');
            push(u32::from(t.hour()), 2, ':');
            push(u32::from(t.minute()), 2, ':');
            push(u32::from(t.second()), 2, 'Z');
            out
        }
        Ok(t) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        ),
        Err(_) => "1970-01-01T00:00:00Z".to_string(),
    }
}

/// A timestamp member of a request: a JSON integer or float of epoch seconds (boto3 sends
/// microseconds, the CLI whole seconds), held as epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EpochMillis(pub i64);

impl<'de> Deserialize<'de> for EpochMillis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let number = serde_json::Number::deserialize(deserializer)?;
        let ms = if let Some(i) = number.as_i64() {
            i.saturating_mul(1000)
        } else {
            let f = number
                .as_f64()
                .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))?;
            // Round to microseconds first: 1704164645.678 is 1704164645.67799997... as a double.
            ((f * 1_000_000.0).round() as i64).div_euclid(1000)
        };
        Ok(EpochMillis(ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_time_has_second_precision() {
        assert_eq!(envelope_time(1_704_164_645_678), "2024-01-02T03:04:05Z");
        assert_eq!(envelope_time(0), "1970-01-01T00:00:00Z");
        assert_eq!(envelope_time(253_402_300_799_999), "9999-12-31T23:59:59Z");
        assert_eq!(envelope_time(-1), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn reads_int_and_float_seconds() {
        let a: EpochMillis = serde_json::from_str("1704164645").unwrap();
        let b: EpochMillis = serde_json::from_str("1704164645.123456").unwrap();
        let c: EpochMillis = serde_json::from_str("1704164645.678").unwrap();
        assert_eq!(c.0, 1_704_164_645_678);
        assert_eq!(a.0, 1_704_164_645_000);
        assert_eq!(b.0, 1_704_164_645_123);
        assert!(serde_json::from_str::<EpochMillis>("\"x\"").is_err());
    }

    #[test]
    fn writes_seconds() {
        assert_eq!(
            to_epoch_seconds(1_700_000_000_000).to_string(),
            "1700000000"
        );
        assert_eq!(
            to_epoch_seconds(1_700_000_000_123).to_string(),
            "1700000000.123"
        );
    }
}

/// A response timestamp: epoch milliseconds written as epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Epoch(pub i64);

impl serde::Serialize for Epoch {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        to_epoch_seconds(self.0).serialize(serializer)
    }
}
