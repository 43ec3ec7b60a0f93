//! Numbers: exact-representability checks, numeric equality and ranges.
//!
//! AWS compares numbers by value (`300` matches `300.0`), but only for numbers
//! that a double represents exactly; others (20-digit account ids, or
//! `0.30000000000000001`) fall back to comparing their text. A number is
//! "exactly representable" here when the shortest round-trip decimal of its
//! double has the same decimal value as its text — the same test as
//! event-ruler's `BigDecimal.valueOf(double)` versus `new BigDecimal(text)`.

use serde_json::Number;

/// A decimal value in normal form: sign, significant digits (no leading or
/// trailing zeros), and the exponent of the digit string read as an integer.
#[derive(Debug, PartialEq, Eq)]
struct Decimal {
    neg: bool,
    digits: Vec<u8>,
    exp: i64,
}

/// Parses `[-]digits[.digits][e[+-]digits]` into normal form.
fn decimal(s: &str) -> Option<Decimal> {
    let b = s.as_bytes();
    let mut i = 0;
    let neg = b.first() == Some(&b'-');
    if neg || b.first() == Some(&b'+') {
        i += 1;
    }
    let mut digits = Vec::new();
    let mut exp: i64 = 0;
    let mut any = false;
    while i < b.len() && b[i].is_ascii_digit() {
        digits.push(b[i] - b'0');
        i += 1;
        any = true;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            digits.push(b[i] - b'0');
            exp -= 1;
            i += 1;
            any = true;
        }
    }
    if !any {
        return None;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        let eneg = b.get(i) == Some(&b'-');
        if eneg || b.get(i) == Some(&b'+') {
            i += 1;
        }
        let mut e: i64 = 0;
        let mut anye = false;
        while i < b.len() && b[i].is_ascii_digit() {
            e = e.saturating_mul(10).saturating_add((b[i] - b'0') as i64);
            i += 1;
            anye = true;
        }
        if !anye {
            return None;
        }
        exp = exp.saturating_add(if eneg { -e } else { e });
    }
    if i != b.len() {
        return None;
    }
    let first = digits.iter().position(|&d| d != 0);
    let Some(first) = first else {
        return Some(Decimal {
            neg: false,
            digits: Vec::new(),
            exp: 0,
        });
    };
    digits.drain(..first);
    while digits.last() == Some(&0) {
        digits.pop();
        exp += 1;
    }
    Some(Decimal { neg, digits, exp })
}

/// The double for `text` if the double represents the text's value exactly.
pub(crate) fn exact_f64(text: &str) -> Option<f64> {
    let v: f64 = text.parse().ok()?;
    if !v.is_finite() {
        return None;
    }
    let shortest = format!("{v:e}");
    if decimal(&shortest)? == decimal(text)? {
        Some(v)
    } else {
        None
    }
}

/// A number literal from a pattern: its text, and its value when exact.
#[derive(Debug, Clone)]
pub(crate) struct NumLit {
    pub(crate) text: String,
    pub(crate) value: Option<f64>,
}

impl NumLit {
    pub(crate) fn new(text: &str) -> Self {
        NumLit {
            text: text.to_string(),
            value: exact_f64(text),
        }
    }
}

const TWO_53: u64 = 1 << 53;

/// The event number as a double, if that double is exactly its value.
pub(crate) fn event_exact_f64(n: &Number) -> Option<f64> {
    if let Some(u) = n.as_u64() {
        if u <= TWO_53 {
            return Some(u as f64);
        }
        return exact_f64(&u.to_string());
    }
    if let Some(i) = n.as_i64() {
        if i.unsigned_abs() <= TWO_53 {
            return Some(i as f64);
        }
        return exact_f64(&i.to_string());
    }
    n.as_f64()
}

/// The event number as a double for range comparisons (may be rounded).
pub(crate) fn event_f64(n: &Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

/// Exact-value equality: by value when both sides are exact doubles, else by text.
pub(crate) fn num_equals(n: &Number, lit: &NumLit) -> bool {
    if let Some(p) = lit.value
        && let Some(e) = event_exact_f64(n)
    {
        return e == p;
    }
    // Text fallback (rare): integers compare digit for digit.
    if let Some(u) = n.as_u64() {
        return lit.text.parse::<u64>().ok() == Some(u) && !lit.text.starts_with('+');
    }
    if let Some(i) = n.as_i64() {
        return lit.text.parse::<i64>().ok() == Some(i);
    }
    n.to_string() == lit.text
}

/// A numeric interval; `=` is `[x, x]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub(crate) lo: f64,
    pub(crate) lo_open: bool,
    pub(crate) hi: f64,
    pub(crate) hi_open: bool,
}

impl Range {
    pub(crate) fn all() -> Self {
        Range {
            lo: f64::NEG_INFINITY,
            lo_open: false,
            hi: f64::INFINITY,
            hi_open: false,
        }
    }

    #[inline]
    pub(crate) fn contains(&self, v: f64) -> bool {
        let above = if self.lo_open {
            v > self.lo
        } else {
            v >= self.lo
        };
        let below = if self.hi_open {
            v < self.hi
        } else {
            v <= self.hi
        };
        above && below
    }
}

/// The double for a numeric-operator literal, or event-ruler's error text.
pub(crate) fn comparable(text: &str) -> Result<f64, String> {
    exact_f64(text).ok_or_else(|| format!("Cannot compare number : {text}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn representable() {
        assert_eq!(exact_f64("300"), Some(300.0));
        assert_eq!(exact_f64("300.0"), Some(300.0));
        assert_eq!(exact_f64("3.0e2"), Some(300.0));
        assert_eq!(exact_f64("0.1"), Some(0.1));
        assert_eq!(exact_f64("-0"), Some(-0.0));
        assert_eq!(exact_f64("1e-7"), Some(1e-7));
        assert_eq!(exact_f64("6e9"), Some(6e9));
        assert_eq!(exact_f64("12345678901234567890"), None);
        assert_eq!(exact_f64("0.30000000000000001"), None);
        assert_eq!(exact_f64("1e400"), None);
    }

    #[test]
    fn equality() {
        let n300: Number = serde_json::from_str("300.0").unwrap();
        assert!(num_equals(&n300, &NumLit::new("300")));
        assert!(num_equals(&n300, &NumLit::new("3e2")));
        assert!(!num_equals(&n300, &NumLit::new("301")));
        let big: Number = serde_json::from_str("12345678901234567890").unwrap();
        assert!(num_equals(&big, &NumLit::new("12345678901234567890")));
        assert!(!num_equals(&big, &NumLit::new("12345678901234567891")));
        let b53: Number = serde_json::from_str("9007199254740993").unwrap();
        assert!(!num_equals(&b53, &NumLit::new("9007199254740992")));
    }

    #[test]
    fn ranges() {
        let r = Range {
            lo: 0.0,
            lo_open: true,
            hi: 5.0,
            hi_open: false,
        };
        assert!(!r.contains(0.0));
        assert!(r.contains(5.0));
        assert!(r.contains(0.000001));
        assert!(!r.contains(f64::NAN));
        assert!(Range::all().contains(-1e300));
    }
}
