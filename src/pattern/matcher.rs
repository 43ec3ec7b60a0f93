//! Compiled matchers and the event walk.
//!
//! A compiled pattern is a list of rules (one per `$or` combination); a rule
//! is a list of fields, each a dotted path plus the matchers OR'ed for it.
//! Matching walks the event's `Node` tree directly (no flattening, no allocation in
//! the common case):
//! - a path step may match an event key that itself contains dots
//!   (`{"a.b": 1}` is the same as `{"a": {"b": 1}}`);
//! - arrays are transparent at every level (nested arrays included), and a
//!   field matches when any leaf reached matches;
//! - objects and empty arrays are not leaves, so they count as absent;
//! - array consistency: when two fields of one rule are matched inside the
//!   same event array, both matches must come from the same element.

use crate::json_doc::Node;

use super::cidr::IpRange;
use super::numeric::{self, NumLit, Range};
use super::wildcard::Wildcard;

/// The values for one field path: matchers OR'ed, plus `exists: false`.
#[derive(Debug, Clone)]
pub(crate) struct FieldSpec {
    pub(crate) path: String,
    pub(crate) matchers: Vec<Matcher>,
    pub(crate) absent: bool,
    /// The field's wildcards, measured together, are too complex (checked once per field
    /// here rather than once per `$or` combination; reported after the whole pattern is read).
    pub(crate) too_complex: bool,
}

pub(crate) type SubRule = Vec<FieldSpec>;

/// Lowercases per character (no context-dependent final-sigma rule), the same
/// folding used on event values.
pub(crate) fn lower(s: &str) -> String {
    s.chars().flat_map(char::to_lowercase).collect()
}

fn eq_ic(value: &str, lowered: &str) -> bool {
    if value.is_ascii() && lowered.is_ascii() {
        return value.eq_ignore_ascii_case(lowered);
    }
    value
        .chars()
        .flat_map(char::to_lowercase)
        .eq(lowered.chars())
}

fn starts_with_ic(value: &str, lowered: &str) -> bool {
    if value.is_ascii() && lowered.is_ascii() {
        return value.len() >= lowered.len()
            && value.as_bytes()[..lowered.len()].eq_ignore_ascii_case(lowered.as_bytes());
    }
    let mut v = value.chars().flat_map(char::to_lowercase);
    lowered.chars().all(|c| v.next() == Some(c))
}

fn ends_with_ic(value: &str, lowered: &str) -> bool {
    if value.is_ascii() && lowered.is_ascii() {
        return value.len() >= lowered.len()
            && value.as_bytes()[value.len() - lowered.len()..]
                .eq_ignore_ascii_case(lowered.as_bytes());
    }
    let mut v = value.chars().rev().flat_map(|c| c.to_lowercase().rev());
    lowered.chars().rev().all(|c| v.next() == Some(c))
}

/// One value of a field's array, compiled.
#[derive(Debug, Clone)]
pub(crate) enum Matcher {
    /// An exact string.
    Exact(String),
    /// An exact string that is an IP literal: also matches other spellings of
    /// the same address (event-ruler turns such strings into IP ranges).
    ExactIp(String, IpRange),
    Number(NumLit),
    Bool(bool),
    Null,
    Prefix(String),
    Suffix(String),
    /// Lowercased operand.
    PrefixIc(String),
    SuffixIc(String),
    EqualsIc(String),
    /// anything-but with strings or numbers (one kind only).
    AnythingBut {
        strings: Vec<String>,
        numbers: Vec<f64>,
    },
    AnythingButPrefix(Vec<String>),
    AnythingButSuffix(Vec<String>),
    AnythingButIc(Vec<String>),
    AnythingButWildcard(Vec<Wildcard>),
    Numeric(Range),
    /// exists: true
    Exists,
    Cidr(IpRange),
    Wildcard(Wildcard),
}

impl Matcher {
    /// Whether a leaf value (string, number, boolean or null) matches.
    #[inline]
    pub(crate) fn matches(&self, v: &Node<'_>) -> bool {
        match self {
            Matcher::Exact(s) => matches!(v, Node::String(x) if x == s),
            Matcher::ExactIp(s, r) => {
                matches!(v, Node::String(x) if x == s || r.contains_str(x))
            }
            Matcher::Number(lit) => matches!(v, Node::Number(n) if numeric::num_equals(n, lit)),
            Matcher::Bool(b) => matches!(v, Node::Bool(x) if x == b),
            Matcher::Null => v.is_null(),
            Matcher::Prefix(p) => matches!(v, Node::String(x) if x.starts_with(p.as_str())),
            Matcher::Suffix(p) => matches!(v, Node::String(x) if x.ends_with(p.as_str())),
            Matcher::PrefixIc(p) => matches!(v, Node::String(x) if starts_with_ic(x, p)),
            Matcher::SuffixIc(p) => matches!(v, Node::String(x) if ends_with_ic(x, p)),
            Matcher::EqualsIc(p) => matches!(v, Node::String(x) if eq_ic(x, p)),
            Matcher::AnythingBut { strings, numbers } => match v {
                Node::String(x) => !strings.iter().any(|s| s == x),
                Node::Number(n) => {
                    let f = numeric::event_f64(n);
                    !numbers.contains(&f)
                }
                _ => true,
            },
            Matcher::AnythingButPrefix(ps) => match v {
                Node::String(x) => !ps.iter().any(|p| x.starts_with(p.as_str())),
                _ => true,
            },
            Matcher::AnythingButSuffix(ps) => match v {
                Node::String(x) => !ps.iter().any(|p| x.ends_with(p.as_str())),
                _ => true,
            },
            Matcher::AnythingButIc(ps) => match v {
                Node::String(x) => !ps.iter().any(|p| eq_ic(x, p)),
                _ => true,
            },
            Matcher::AnythingButWildcard(ws) => match v {
                Node::String(x) => !ws.iter().any(|w| w.matches(x)),
                _ => true,
            },
            Matcher::Numeric(r) => {
                matches!(v, Node::Number(n) if r.contains(numeric::event_f64(n)))
            }
            Matcher::Exists => true,
            Matcher::Cidr(r) => matches!(v, Node::String(x) if r.contains_str(x)),
            Matcher::Wildcard(w) => matches!(v, Node::String(x) if w.matches(x)),
        }
    }
}

/// A dotted path: the full text and where each step starts, so that event
/// keys containing dots can be recognised without allocating. Linear in the
/// path's length (a pattern path may have thousands of steps, and a pattern
/// up to 1000 `$or` combinations each holding it).
#[derive(Debug, Clone)]
struct PathSpec {
    /// Number of steps.
    len: usize,
    /// The steps joined with '.'.
    full: String,
    /// `starts[i]` = byte offset of step i in `full`; `starts[len]` = `full.len() + 1`.
    starts: Vec<usize>,
}

impl PathSpec {
    fn new(path: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(path.match_indices('.').map(|(i, _)| i + 1));
        let len = starts.len();
        starts.push(path.len() + 1);
        PathSpec {
            len,
            full: path.to_string(),
            starts,
        }
    }

    /// Steps `i..` joined with '.'.
    fn rest(&self, i: usize) -> &str {
        &self.full[self.starts[i]..]
    }

    /// Byte length of steps `i..=i+j` joined with '.', relative to step i.
    fn end(&self, i: usize, j: usize) -> usize {
        self.starts[i + j + 1] - 1 - self.starts[i]
    }
}

/// (array identity, element index) pairs on the way to a leaf.
type Membership = Vec<(usize, usize)>;

/// Calls `f` on every leaf under `path` (from step `step`); stops when `f`
/// returns true. Returns whether it stopped.
fn visit<'e, 'j, F>(
    v: &'e Node<'j>,
    path: &PathSpec,
    step: usize,
    arrays: &mut Membership,
    f: &mut F,
) -> bool
where
    F: FnMut(&'e Node<'j>, &[(usize, usize)]) -> bool,
{
    match v {
        Node::Array(a) => {
            let id = a.as_ptr() as usize;
            for (i, e) in a.iter().enumerate() {
                arrays.push((id, i));
                let stop = visit(e, path, step, arrays, f);
                arrays.pop();
                if stop {
                    return true;
                }
            }
            false
        }
        Node::Object(m) => {
            if step == path.len {
                return false;
            }
            if !m.is_indexed() {
                let rest = path.rest(step).as_bytes();
                // A scan of the keys: a key is a candidate when it spells one or more whole
                // steps from here (event keys may hold dots).
                let first = path.end(step, 0);
                for (k, child) in m.iter() {
                    let kb = k.as_bytes();
                    let n = kb.len();
                    if n < first || n > rest.len() || &rest[..n] != kb {
                        continue;
                    }
                    if n < rest.len() && rest[n] != b'.' {
                        continue;
                    }
                    // The key ends where a step ends: find which one.
                    let j =
                        match path.starts[step + 1..].binary_search(&(path.starts[step] + n + 1)) {
                            Ok(j) => j,
                            Err(_) => continue,
                        };
                    if visit(child, path, step + j + 1, arrays, f) {
                        return true;
                    }
                }
            } else {
                // Many keys: probe each run of steps from here instead.
                for j in 0..path.len - step {
                    if let Some(child) = m.get(&path.rest(step)[..path.end(step, j)])
                        && visit(child, path, step + j + 1, arrays, f)
                    {
                        return true;
                    }
                }
            }
            false
        }
        leaf => {
            if step == path.len {
                f(leaf, arrays)
            } else {
                false
            }
        }
    }
}

/// Every leaf at `path` (what a field at that path is matched against), for explanations.
pub(crate) fn leaves<'e, 'j>(event: &'e Node<'j>, path: &str) -> Vec<&'e Node<'j>> {
    let mut found = Vec::new();
    visit(
        event,
        &PathSpec::new(path),
        0,
        &mut Vec::new(),
        &mut |leaf, _| {
            found.push(leaf);
            false
        },
    );
    found
}

/// A compiled field of a rule.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    path: PathSpec,
    matchers: Vec<Matcher>,
    /// `exists: false` is among the values.
    absent: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// Matched by a leaf outside any array (or by absence).
    Free,
    /// Matched, but only by leaves inside arrays.
    Bound,
    Fail,
}

impl Field {
    pub(crate) fn new(spec: &FieldSpec) -> Self {
        Field {
            path: PathSpec::new(&spec.path),
            matchers: spec.matchers.clone(),
            absent: spec.absent,
        }
    }

    fn depth(&self) -> usize {
        self.path.len
    }

    #[inline]
    fn leaf_matches(&self, v: &Node<'_>) -> bool {
        self.matchers.iter().any(|m| m.matches(v))
    }

    /// First pass: stop at the first matching leaf.
    fn first(&self, event: &Node<'_>) -> Outcome {
        let mut any_leaf = false;
        let mut out = Outcome::Fail;
        let mut arrays = Vec::new();
        visit(event, &self.path, 0, &mut arrays, &mut |leaf, arr| {
            any_leaf = true;
            if self.leaf_matches(leaf) {
                out = if arr.is_empty() {
                    Outcome::Free
                } else {
                    Outcome::Bound
                };
                return true;
            }
            // With only `exists: false`, one leaf settles it.
            self.matchers.is_empty()
        });
        if out == Outcome::Fail && self.absent && !any_leaf {
            return Outcome::Free;
        }
        out
    }

    /// Second pass: every matching leaf's array membership, or `None` when a
    /// leaf outside arrays matches (no constraint).
    fn all(&self, event: &Node<'_>) -> Option<Vec<Membership>> {
        let mut found = Vec::new();
        let mut free = false;
        let mut arrays = Vec::new();
        visit(event, &self.path, 0, &mut arrays, &mut |leaf, arr| {
            if self.leaf_matches(leaf) {
                if arr.is_empty() {
                    free = true;
                    return true;
                }
                found.push(arr.to_vec());
            }
            false
        });
        if free { None } else { Some(found) }
    }
}

/// A string an event must hold at a path for a rule to have a chance.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IndexKey {
    Exact(String),
    Prefix(String),
}

impl Field {
    /// What this field requires when it accepts nothing but exact strings and prefixes: the
    /// rule can only match an event with one of them at this path.
    fn index_keys(&self) -> Option<Vec<IndexKey>> {
        if self.absent || self.matchers.is_empty() {
            return None;
        }
        self.matchers
            .iter()
            .map(|m| match m {
                Matcher::Exact(s) => Some(IndexKey::Exact(s.clone())),
                Matcher::Prefix(s) => Some(IndexKey::Prefix(s.clone())),
                _ => None,
            })
            .collect()
    }
}

/// A path compiled for reading an event's leaves the way patterns read them (dotted keys,
/// transparent arrays): what a rule index looks events up by.
#[derive(Debug, Clone)]
pub struct EventPath(PathSpec);

impl EventPath {
    pub fn new(path: &str) -> EventPath {
        EventPath(PathSpec::new(path))
    }

    /// Calls `f` with every string leaf at this path.
    pub fn for_each_string(&self, event: &Node<'_>, mut f: impl FnMut(&str)) {
        visit(event, &self.0, 0, &mut Vec::new(), &mut |leaf, _| {
            if let Node::String(s) = leaf {
                f(s);
            }
            false
        });
    }
}

/// One `$or` combination: all fields must match, consistently.
#[derive(Debug, Clone)]
pub(crate) struct Rule {
    fields: Vec<Field>,
}

fn consistent(a: &Membership, b: &Membership) -> bool {
    a.iter()
        .all(|&(id, i)| b.iter().all(|&(id2, j)| id != id2 || i == j))
}

fn choose(cands: &[Vec<Membership>], chosen: &mut Vec<usize>) -> bool {
    let k = chosen.len();
    if k == cands.len() {
        return true;
    }
    for (ci, m) in cands[k].iter().enumerate() {
        if chosen
            .iter()
            .enumerate()
            .all(|(pk, &pi)| consistent(&cands[pk][pi], m))
        {
            chosen.push(ci);
            if choose(cands, chosen) {
                return true;
            }
            chosen.pop();
        }
    }
    false
}

/// Splits fields' candidate memberships into groups connected by shared arrays.
fn independent_groups(cands: &[Vec<Membership>]) -> Vec<Vec<Vec<Membership>>> {
    let n = cands.len();
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let mut owner: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (f, c) in cands.iter().enumerate() {
        for &(id, _) in c.iter().flatten() {
            let other = *owner.entry(id).or_insert(f);
            let (a, b) = (root(&mut parent, f), root(&mut parent, other));
            if a != b {
                parent[a] = b;
            }
        }
    }
    let mut groups: Vec<Vec<Vec<Membership>>> = Vec::new();
    let mut index: std::collections::HashMap<usize, usize> = std::collections::HashMap::new();
    for (f, cand) in cands.iter().enumerate() {
        let r = root(&mut parent, f);
        let g = *index.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(cand.clone());
    }
    groups
}

impl Rule {
    pub(crate) fn new(specs: &[FieldSpec]) -> Self {
        let mut fields: Vec<Field> = specs.iter().map(Field::new).collect();
        // Shallow paths (source, detail-type, ...) are cheapest: test them first.
        fields.sort_by_key(Field::depth);
        Rule { fields }
    }

    /// The most selective field that only accepts exact strings or prefixes, as (path,
    /// keys): an index may file the rule under those keys. Exact values beat prefixes, and
    /// longer paths are usually more selective (`detail.id` over `source`).
    pub(crate) fn anchor(&self) -> Option<(&str, Vec<IndexKey>)> {
        self.fields
            .iter()
            .filter_map(|f| f.index_keys().map(|k| (f.path.full.as_str(), k)))
            .max_by_key(|(path, keys)| {
                let exact_only = keys.iter().all(|k| matches!(k, IndexKey::Exact(_)));
                (exact_only, path.len(), std::cmp::Reverse(keys.len()))
            })
    }

    pub(crate) fn matches(&self, event: &Node<'_>) -> bool {
        let mut bound: Vec<&Field> = Vec::new();
        for f in &self.fields {
            match f.first(event) {
                Outcome::Fail => return false,
                Outcome::Free => {}
                Outcome::Bound => bound.push(f),
            }
        }
        if bound.len() <= 1 {
            return true;
        }
        let mut cands = Vec::with_capacity(bound.len());
        for f in bound {
            if let Some(c) = f.all(event) {
                cands.push(c);
            }
        }
        // Fields whose candidates share no array cannot constrain each other: solve each
        // group on its own (backtracking over all fields at once is exponential in the
        // number of independent arrays).
        independent_groups(&cands)
            .iter()
            .all(|group| choose(group, &mut Vec::new()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ignore_case() {
        assert!(eq_ic("ALICE", "alice"));
        assert!(!eq_ic("ALICEs", "alice"));
        assert!(eq_ic("ÉCOLE", &lower("école")));
        assert!(starts_with_ic("EventBridge", "eventb"));
        assert!(!starts_with_ic("Even", "eventb"));
        assert!(ends_with_ic("photo.PNG", ".png"));
        assert!(ends_with_ic("CAFÉ", &lower("fé")));
        assert!(!ends_with_ic("png", ".png"));
    }

    #[test]
    fn dotted_keys() {
        let p = PathSpec::new("detail.state.status");
        let ev = json!({"detail": {"state.status": "running"}});
        let ev = Node::from_value(&ev);
        let mut seen = Vec::new();
        visit(&ev, &p, 0, &mut Vec::new(), &mut |v, _| {
            seen.push(v.to_value());
            false
        });
        assert_eq!(seen, vec![json!("running")]);
        let ev = json!({"detail.state": {"status": "x"}, "detail": {"state": {"status": "y"}}});
        let ev = Node::from_value(&ev);
        let mut seen = Vec::new();
        visit(&ev, &p, 0, &mut Vec::new(), &mut |v, _| {
            seen.push(v.to_value());
            false
        });
        seen.sort_by_key(|v| v.to_string());
        assert_eq!(seen, vec![json!("x"), json!("y")]);

        // The same through an object of many keys, which is probed rather than scanned.
        let mut detail: serde_json::Map<String, serde_json::Value> =
            (0..40).map(|i| (format!("k{i}"), json!(i))).collect();
        detail.insert("state.status".into(), json!("x"));
        detail.insert("state".into(), json!({"status": "y"}));
        let ev = json!({ "detail": detail });
        let text = ev.to_string();
        let ev = Node::parse(&text).unwrap();
        assert!(matches!(ev.get("detail"), Some(Node::Object(o)) if o.is_indexed()));
        let mut seen = Vec::new();
        visit(&ev, &p, 0, &mut Vec::new(), &mut |v, _| {
            seen.push(v.to_value());
            false
        });
        seen.sort_by_key(|v| v.to_string());
        assert_eq!(seen, vec![json!("x"), json!("y")]);
    }
}
