//! IP addresses and CIDR ranges.
//!
//! Follows event-ruler's `CIDR` class: a string is an IP candidate only if it
//! looks like `d+.d+.d+.d+` (IPv4) or consists of hex digits and colons with
//! at least one colon (IPv6); candidates are then parsed strictly. A CIDR's
//! range runs from the address *as written* to that address with all host
//! bits set (the base is not masked first), and the mask must be < 32 (IPv4)
//! or < 128 (IPv6) — event-ruler's rules, which AWS's messages come from.

/// An address: IPv4 (4 bytes) or IPv6 (16 bytes) as an integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ip {
    V4(u32),
    V6(u128),
}

fn looks_v4(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn looks_v6(s: &str) -> bool {
    s.contains(':') && s.bytes().all(|b| b == b':' || b.is_ascii_hexdigit())
}

/// Whether `s` has the shape of an IP literal (event-ruler's regexes).
pub(crate) fn looks_like_ip(s: &str) -> bool {
    looks_v4(s) || looks_v6(s)
}

fn parse_v4(s: &str) -> Option<u32> {
    let mut v: u32 = 0;
    for p in s.split('.') {
        let p = p.trim_start_matches('0');
        if p.len() > 3 {
            return None;
        }
        let o: u32 = if p.is_empty() { 0 } else { p.parse().ok()? };
        if o > 255 {
            return None;
        }
        v = (v << 8) | o;
    }
    Some(v)
}

fn parse_v6(s: &str) -> Option<u128> {
    fn groups(part: &str) -> Option<Vec<u16>> {
        if part.is_empty() {
            return Some(Vec::new());
        }
        part.split(':')
            .map(|g| {
                if g.is_empty() || g.len() > 4 {
                    None
                } else {
                    u16::from_str_radix(g, 16).ok()
                }
            })
            .collect()
    }
    let (head, tail, compressed) = match s.find("::") {
        Some(i) => {
            let (h, t) = (&s[..i], &s[i + 2..]);
            if t.contains("::") {
                return None;
            }
            (groups(h)?, groups(t)?, true)
        }
        None => (groups(s)?, Vec::new(), false),
    };
    let n = head.len() + tail.len();
    if (compressed && n > 7) || (!compressed && n != 8) {
        return None;
    }
    let mut all = head;
    all.extend(std::iter::repeat_n(0u16, 8 - n));
    all.extend(tail);
    Some(all.iter().fold(0u128, |acc, &g| (acc << 16) | g as u128))
}

/// Parses an IP literal. An IPv4-mapped IPv6 address (`::ffff:a00:1`) is an
/// IPv4 address, as Java's `InetAddress` makes it.
pub(crate) fn parse_ip(s: &str) -> Option<Ip> {
    if looks_v4(s) {
        return parse_v4(s).map(Ip::V4);
    }
    if looks_v6(s) {
        let v = parse_v6(s)?;
        if v >> 32 == 0xffff {
            return Some(Ip::V4(v as u32));
        }
        return Some(Ip::V6(v));
    }
    None
}

/// An inclusive address range of one family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum IpRange {
    V4(u32, u32),
    V6(u128, u128),
}

impl IpRange {
    /// The one-address range for an exact IP-literal string in a pattern.
    pub(crate) fn single(ip: Ip) -> Self {
        match ip {
            Ip::V4(a) => IpRange::V4(a, a),
            Ip::V6(a) => IpRange::V6(a, a),
        }
    }

    pub(crate) fn contains(&self, ip: Ip) -> bool {
        match (self, ip) {
            (IpRange::V4(lo, hi), Ip::V4(a)) => *lo <= a && a <= *hi,
            (IpRange::V6(lo, hi), Ip::V6(a)) => *lo <= a && a <= *hi,
            _ => false,
        }
    }

    /// Whether the event string is an address in this range.
    #[inline]
    pub(crate) fn contains_str(&self, s: &str) -> bool {
        match parse_ip(s) {
            Some(ip) => self.contains(ip),
            None => false,
        }
    }
}

/// Java's `String.split("/")`: trailing empty pieces are dropped.
fn java_split_slash(s: &str) -> Vec<&str> {
    let mut parts: Vec<&str> = s.split('/').collect();
    while parts.len() > 1 && parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() == 1 && parts[0].is_empty() && !s.is_empty() {
        parts.pop();
    }
    parts
}

/// Java's `Integer.parseInt` (decimal, optional sign, 32-bit).
fn java_parse_int(s: &str) -> Option<i64> {
    let (neg, digits) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut v: i64 = 0;
    for b in digits.bytes() {
        v = v * 10 + (b - b'0') as i64;
        if v > i32::MAX as i64 + 1 {
            return None;
        }
    }
    let v = if neg { -v } else { v };
    if v > i32::MAX as i64 || v < i32::MIN as i64 {
        return None;
    }
    Some(v)
}

/// Compiles a `cidr` operand, with event-ruler's (AWS's) error texts.
pub(crate) fn cidr(s: &str) -> Result<IpRange, String> {
    let parts = java_split_slash(s);
    if parts.len() != 2 {
        return Err("Malformed CIDR, one '/' required".into());
    }
    let bits = java_parse_int(parts[1])
        .ok_or_else(|| "Malformed CIDR, mask bits must be an integer".to_string())?;
    if bits < 0 {
        return Err("Malformed CIDR, mask bits must not be negative".into());
    }
    let ip_text = parts[0];
    if !looks_like_ip(ip_text) {
        return Err(format!("Nonstandard IP address: {ip_text}"));
    }
    let ip = parse_ip(ip_text).ok_or_else(|| format!("Invalid IP address: {ip_text}"))?;
    match ip {
        Ip::V4(a) => {
            if bits > 31 {
                return Err("IPv4 mask bits must be < 32".into());
            }
            let host: u32 = if bits == 0 {
                u32::MAX
            } else {
                u32::MAX >> bits
            };
            Ok(IpRange::V4(a, a | host))
        }
        Ip::V6(a) => {
            if bits > 127 {
                return Err("IPv6 mask bits must be < 128".into());
            }
            let host: u128 = if bits == 0 {
                u128::MAX
            } else {
                u128::MAX >> bits
            };
            Ok(IpRange::V6(a, a | host))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse() {
        assert_eq!(parse_ip("10.0.0.1"), Some(Ip::V4(0x0a000001)));
        assert_eq!(parse_ip("10.0.0.256"), None);
        assert_eq!(parse_ip("10.0.0"), None);
        assert_eq!(parse_ip("::1"), Some(Ip::V6(1)));
        assert_eq!(
            parse_ip("2001:0db8:1234:1a00:0000:0000:0000:0001"),
            parse_ip("2001:db8:1234:1a00::1")
        );
        assert_eq!(parse_ip("1:2:3:4:5:6:7:8:9"), None);
        assert_eq!(parse_ip("1::2::3"), None);
        assert_eq!(parse_ip("::ffff:a00:1"), Some(Ip::V4(0x0a000001)));
        assert_eq!(parse_ip("hello"), None);
        assert_eq!(parse_ip("12345"), None);
    }

    #[test]
    fn ranges() {
        let r = cidr("10.0.0.0/24").unwrap();
        assert!(r.contains_str("10.0.0.255"));
        assert!(!r.contains_str("10.0.1.0"));
        let r6 = cidr("2001:db8:1234:1a00::/64").unwrap();
        assert!(r6.contains_str("2001:0db8:1234:1a00:0000:0000:0000:0001"));
        assert!(!r6.contains_str("2001:db8:1234:1a01::1"));
        assert!(!r6.contains_str("10.0.0.1"));
        assert!(cidr("0.0.0.0/0").unwrap().contains_str("255.255.255.255"));
    }

    #[test]
    fn errors() {
        assert_eq!(
            cidr("10.0.0.0").unwrap_err(),
            "Malformed CIDR, one '/' required"
        );
        assert_eq!(
            cidr("10.0.0.0/").unwrap_err(),
            "Malformed CIDR, one '/' required"
        );
        assert_eq!(
            cidr("1/2/3").unwrap_err(),
            "Malformed CIDR, one '/' required"
        );
        assert_eq!(
            cidr("10.0.0.0/x").unwrap_err(),
            "Malformed CIDR, mask bits must be an integer"
        );
        assert_eq!(
            cidr("10.0.0.0/-1").unwrap_err(),
            "Malformed CIDR, mask bits must not be negative"
        );
        assert_eq!(
            cidr("xx.11.xx/24").unwrap_err(),
            "Nonstandard IP address: xx.11.xx"
        );
        assert_eq!(
            cidr("10.0.0.0/32").unwrap_err(),
            "IPv4 mask bits must be < 32"
        );
        assert_eq!(cidr("::/128").unwrap_err(), "IPv6 mask bits must be < 128");
        assert_eq!(
            cidr("10.0.0.256/24").unwrap_err(),
            "Invalid IP address: 10.0.0.256"
        );
    }
}
