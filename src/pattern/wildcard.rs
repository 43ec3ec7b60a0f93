//! Wildcard patterns: `*` matches any run of characters (possibly empty),
//! `\*` is a literal star and `\\` a literal backslash.
//!
//! Matching splits the pattern into literal segments between stars: the first
//! must be a prefix, the last a suffix, and the middle ones are found left to
//! right with substring search (leftmost placement is always safe for globs
//! made of `*` only), so matching is linear-ish and never backtracks
//! exponentially.
//!
//! Complexity limit. AWS rejects patterns its matcher would find too costly
//! (`*:*:*:*:*:event-bus/*` is observed to be rejected) but does not publish
//! the measure. Ours: simulate the pattern's NFA over every input and take the
//! largest number of pattern positions that can be "alive" at once (each
//! `*` stays alive once reached; a literal run repeated after a `*` adds a
//! live position per possible overlap). The wildcards of one field in one
//! rule are measured together. A field is too complex when that number
//! exceeds [`MAX_LIVE_STATES`] (10). Positions counted are every not-yet-final
//! position, stars included. Examples: `*.png` 3, `*/lib/*` 4,
//! `arn:aws:events:us-east-1:*:event-bus/*` 4, `*:*:*:*:event-bus/*` 10
//! (accepted), `*:*:*:*:*:event-bus/*` 12 (rejected, as on AWS), `*` followed
//! by ten `a` 11 (rejected). The exact AWS threshold is unknown.

/// The largest number of simultaneously live NFA positions we accept.
pub(crate) const MAX_LIVE_STATES: usize = 10;

/// The exploration budget for the complexity check (distinct live-sets).
const MAX_EXPLORED: usize = 5_000;

pub(crate) const TOO_COMPLEX: &str = "Rule is too complex - try using fewer wildcard characters or fewer repeating character sequences after a wildcard character";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum WTok {
    Star,
    Byte(u8),
}

/// A parsed wildcard pattern.
#[derive(Debug, Clone)]
pub(crate) struct Wildcard {
    toks: Vec<WTok>,
    /// Literal segments between stars (`segments.len() == stars + 1`).
    segments: Vec<Vec<u8>>,
}

impl Wildcard {
    /// Parses a wildcard operand. Error positions count UTF-8 bytes of the
    /// value wrapped in double quotes, as event-ruler reports them.
    pub(crate) fn parse(s: &str) -> Result<Wildcard, String> {
        let b = s.as_bytes();
        let mut toks = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'*' => {
                    if b.get(i + 1) == Some(&b'*') {
                        return Err(format!("Consecutive wildcard characters at pos {}", i + 1));
                    }
                    toks.push(WTok::Star);
                }
                b'\\' => match b.get(i + 1) {
                    Some(&c @ (b'*' | b'\\')) => {
                        toks.push(WTok::Byte(c));
                        i += 1;
                    }
                    _ => return Err(format!("Invalid escape character at pos {}", i + 1)),
                },
                c => toks.push(WTok::Byte(c)),
            }
            i += 1;
        }
        let mut segments = vec![Vec::new()];
        for t in &toks {
            match t {
                WTok::Star => segments.push(Vec::new()),
                WTok::Byte(c) => segments.last_mut().expect("segment").push(*c),
            }
        }
        Ok(Wildcard { toks, segments })
    }

    /// The operand as a pattern writes it (stars, and escapes for literal `*` and `\`).
    pub(crate) fn text(&self) -> String {
        let mut bytes = Vec::with_capacity(self.toks.len());
        for t in &self.toks {
            match t {
                WTok::Star => bytes.push(b'*'),
                WTok::Byte(c @ (b'*' | b'\\')) => bytes.extend([b'\\', *c]),
                WTok::Byte(c) => bytes.push(*c),
            }
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }

    /// Whether `text` matches the whole pattern.
    pub(crate) fn matches(&self, text: &str) -> bool {
        let t = text.as_bytes();
        let segs = &self.segments;
        if segs.len() == 1 {
            return t == segs[0].as_slice();
        }
        let first = &segs[0];
        let last = &segs[segs.len() - 1];
        if t.len() < first.len() + last.len() || !t.starts_with(first) || !t.ends_with(last) {
            return false;
        }
        let mut pos = first.len();
        let end = t.len() - last.len();
        for seg in &segs[1..segs.len() - 1] {
            if seg.is_empty() {
                continue;
            }
            match find(&t[pos..end], seg) {
                Some(at) => pos += at + seg.len(),
                None => return false,
            }
        }
        true
    }
}

/// Substring search (first occurrence).
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.len() > hay.len() {
        return None;
    }
    let first = needle[0];
    let last_start = hay.len() - needle.len();
    let mut i = 0;
    while i <= last_start {
        match hay[i..=last_start].iter().position(|&b| b == first) {
            None => return None,
            Some(off) => {
                i += off;
                if &hay[i..i + needle.len()] == needle {
                    return Some(i);
                }
                i += 1;
            }
        }
    }
    None
}

/// Whether the wildcards of one field, taken together, exceed the limit.
pub(crate) fn too_complex(patterns: &[&Wildcard]) -> bool {
    exceeds(patterns, MAX_LIVE_STATES)
}

/// Whether some input keeps more than `limit` positions live at once.
fn exceeds(patterns: &[&Wildcard], limit: usize) -> bool {
    // States are (pattern, position); a live-set is a sorted list of them.
    let mut alphabet: Vec<u8> = patterns
        .iter()
        .flat_map(|w| w.toks.iter())
        .filter_map(|t| match t {
            WTok::Byte(c) => Some(*c),
            WTok::Star => None,
        })
        .collect();
    alphabet.sort_unstable();
    alphabet.dedup();
    // A byte that appears in no pattern (if one exists) stands for all others.
    if let Some(other) = (0u8..=255).find(|b| alphabet.binary_search(b).is_err()) {
        alphabet.push(other);
    }
    let closure = |set: &mut Vec<(usize, usize)>| {
        let mut k = 0;
        while k < set.len() {
            let (p, i) = set[k];
            if patterns[p].toks.get(i) == Some(&WTok::Star) && !set.contains(&(p, i + 1)) {
                set.push((p, i + 1));
            }
            k += 1;
        }
        set.sort_unstable();
        set.dedup();
    };
    let live = |set: &Vec<(usize, usize)>| {
        set.iter()
            .filter(|&&(p, i)| i < patterns[p].toks.len())
            .count()
    };
    let mut start: Vec<(usize, usize)> = (0..patterns.len()).map(|p| (p, 0)).collect();
    closure(&mut start);
    let mut seen = std::collections::HashSet::new();
    let mut queue = std::collections::VecDeque::new();
    seen.insert(start.clone());
    queue.push_back(start);
    while let Some(set) = queue.pop_front() {
        if live(&set) > limit {
            return true;
        }
        for &c in &alphabet {
            let mut next = Vec::new();
            for &(p, i) in &set {
                match patterns[p].toks.get(i) {
                    Some(WTok::Star) => next.push((p, i)),
                    Some(WTok::Byte(b)) if *b == c => next.push((p, i + 1)),
                    _ => {}
                }
            }
            closure(&mut next);
            if next.is_empty() || seen.contains(&next) {
                continue;
            }
            if seen.len() >= MAX_EXPLORED {
                return true;
            }
            seen.insert(next.clone());
            queue.push_back(next);
        }
    }
    false
}

/// The largest live-set for one pattern (for tests and tuning).
#[cfg(test)]
fn max_live(w: &Wildcard) -> usize {
    (0..64).find(|&l| !exceeds(&[w], l)).unwrap_or(64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(s: &str) -> Wildcard {
        Wildcard::parse(s).unwrap()
    }

    #[test]
    fn parse_errors() {
        assert_eq!(
            Wildcard::parse("a**").unwrap_err(),
            "Consecutive wildcard characters at pos 2"
        );
        assert_eq!(
            Wildcard::parse("ab\\c").unwrap_err(),
            "Invalid escape character at pos 3"
        );
        assert_eq!(
            Wildcard::parse("abc\\").unwrap_err(),
            "Invalid escape character at pos 4"
        );
        assert!(Wildcard::parse("a\\*b\\\\").is_ok());
        assert!(Wildcard::parse("").is_ok());
    }

    #[test]
    fn matching() {
        assert!(w("*").matches(""));
        assert!(w("*").matches("anything"));
        assert!(w("").matches(""));
        assert!(!w("").matches("x"));
        assert!(w("a*").matches("abc"));
        assert!(!w("a*").matches("bac"));
        assert!(w("*c").matches("abc"));
        assert!(w("a*c").matches("ac"));
        assert!(!w("ab*bc").matches("abc"));
        assert!(w("ab*bc").matches("abbc"));
        assert!(w("*/lib/*").matches("/usr/lib/x"));
        assert!(!w("*/lib/*").matches("/usr/lib"));
        assert!(w("a*b*c").matches("aXbYbZc"));
        assert!(!w("a*b*c").matches("aXcYb"));
        assert!(w("a\\*b").matches("a*b"));
        assert!(!w("a\\*b").matches("aXb"));
        assert!(w("a\\\\b").matches("a\\b"));
        assert!(w("*é*").matches("café au lait"));
        assert!(
            w("arn:aws:events:us-east-1:*:event-bus/*")
                .matches("arn:aws:events:us-east-1:123456789012:event-bus/default")
        );
    }

    #[test]
    fn complexity() {
        assert!(too_complex(&[&w("*:*:*:*:*:event-bus/*")]));
        assert!(!too_complex(&[&w(
            "arn:aws:events:us-east-1:*:event-bus/*"
        )]));
        assert!(!too_complex(&[&w("*/lib/*")]));
        assert!(!too_complex(&[&w("*.png")]));
        assert!(!too_complex(&[&w("*a*b*c*")]));
        assert!(!too_complex(&[&w("arn:aws:s3:::*/*/*.jpg")]));
        assert!(!too_complex(&[&w("*:*:*:*:event-bus/*")]));
        assert!(too_complex(&[&w("*aaaaaaaaaa")]));
        assert_eq!(max_live(&w("*:*:*:*:*:event-bus/*")), 12);
        assert_eq!(max_live(&w("*.png")), 3);
        // Wildcards of one field are measured together.
        assert!(too_complex(&[&w("*:*:*:x"), &w("*:*:*:y")]));
    }
}
