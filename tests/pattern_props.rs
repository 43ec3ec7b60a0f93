//! Property tests of the event-pattern matcher (`eventbridge_local::pattern`).
//!
//! Patterns come from a small grammar: fields with exact values (strings, numbers, booleans,
//! null, IP literals) and the operators prefix, suffix, their ignore-case forms,
//! equals-ignore-case, exactly, anything-but (single, list, numbers, prefix, suffix,
//! ignore-case, wildcard), numeric, exists, wildcard and cidr; nested objects; `$or` with 2-3
//! branches at the top level, inside nested objects and inside `$or` branches. Events are
//! objects over the same field names, with values that are sometimes arrays (also arrays of
//! objects), sometimes missing. Names and values come from small pools so that patterns match
//! often.
//!
//! Properties:
//! - `or_is_a_disjunction_of_its_branches`: a pattern with `$or` matches iff the pattern with
//!   that `$or` replaced by one of its branches does, for some branch;
//! - `unmentioned_fields_are_ignored`: adding fields the pattern does not mention (1 to 20,
//!   enough to make an object large) never changes the result;
//! - `event_key_order_is_irrelevant`: shuffling the keys of every object of the event;
//! - `pattern_order_is_irrelevant`: shuffling the pattern's keys, `$or` branches and value
//!   arrays;
//! - `one_element_arrays_are_transparent`: wrapping one scalar of the event in a one-element
//!   array does not change the result (patterns without `exists`, which the brief sets aside:
//!   the reference says arrays are any-element for every operator);
//! - `dotted_pattern_keys_equal_nesting` / `dotted_event_keys_equal_nesting`: `{"n":{"a":..}}`
//!   and `{"n.a":..}` are the same path, in patterns and in events;
//! - `index_keys_are_sound`: when `index_keys()` is `Some(keys)` and the pattern matches, the
//!   event holds (a string leaf at the key's path, read with `EventPath`) one of the exact
//!   values or a string starting with one of the prefixes;
//! - every generated pattern compiles.
//!
//! Cases per property: 160 by default (the file runs in a few seconds in debug);
//! `PROPTEST_CASES=N` changes it. Failures are not persisted to files: proptest prints the
//! minimal failing pattern and event.

use eventbridge_local::json_doc::Node as Doc;
use eventbridge_local::pattern::{EventPath, IndexKey, Pattern};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::Config;
use rand::Rng;
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};

const DEFAULT_CASES: u32 = 160;

fn config() -> Config {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_CASES);
    Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    }
}

// ------------------------------------------------------------------------------ pattern trees

/// A pattern object: its members in text order (a field or a `$or`).
#[derive(Clone, Debug)]
struct Obj {
    entries: Vec<Entry>,
}

#[derive(Clone, Debug)]
enum Entry {
    Field(String, Node),
    Or(Vec<Obj>),
}

#[derive(Clone, Debug)]
enum Node {
    /// A field's value array (exact values and operator objects).
    Values(Vec<Value>),
    Object(Obj),
}

impl Obj {
    fn text(&self) -> String {
        let members: Vec<String> = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Field(k, Node::Values(vs)) => {
                    format!("{}:{}", json!(k), Value::Array(vs.clone()))
                }
                Entry::Field(k, Node::Object(o)) => format!("{}:{}", json!(k), o.text()),
                Entry::Or(branches) => {
                    let bs: Vec<String> = branches.iter().map(Obj::text).collect();
                    format!("\"$or\":[{}]", bs.join(","))
                }
            })
            .collect();
        format!("{{{}}}", members.join(","))
    }

    fn compile(&self) -> Pattern {
        let text = self.text();
        Pattern::compile(&text).unwrap_or_else(|e| panic!("generated pattern {text}: {e}"))
    }

    fn has_or(&self) -> bool {
        self.entries.iter().any(|e| match e {
            Entry::Or(_) => true,
            Entry::Field(_, Node::Object(o)) => o.has_or(),
            Entry::Field(_, Node::Values(_)) => false,
        })
    }

    fn uses_operator(&self, op: &str) -> bool {
        self.entries.iter().any(|e| match e {
            Entry::Or(bs) => bs.iter().any(|b| b.uses_operator(op)),
            Entry::Field(_, Node::Object(o)) => o.uses_operator(op),
            Entry::Field(_, Node::Values(vs)) => vs
                .iter()
                .any(|v| v.as_object().is_some_and(|m| m.contains_key(op))),
        })
    }

    /// The branches of the first `$or` (depth first, in text order), each as the whole
    /// pattern with that `$or` replaced by the branch's members.
    fn expand_first_or(&self) -> Option<Vec<Obj>> {
        for (i, e) in self.entries.iter().enumerate() {
            match e {
                Entry::Or(branches) => {
                    return Some(
                        branches
                            .iter()
                            .map(|b| {
                                let mut entries = self.entries[..i].to_vec();
                                entries.extend(b.entries.iter().cloned());
                                entries.extend(self.entries[i + 1..].iter().cloned());
                                Obj { entries }
                            })
                            .collect(),
                    );
                }
                Entry::Field(k, Node::Object(o)) => {
                    if let Some(inner) = o.expand_first_or() {
                        return Some(
                            inner
                                .into_iter()
                                .map(|o2| {
                                    let mut entries = self.entries.clone();
                                    entries[i] = Entry::Field(k.clone(), Node::Object(o2));
                                    Obj { entries }
                                })
                                .collect(),
                        );
                    }
                }
                Entry::Field(_, Node::Values(_)) => {}
            }
        }
        None
    }

    /// Shuffles members, `$or` branches and value arrays, at every level.
    fn shuffled(&self, rng: &mut StdRng) -> Obj {
        let mut entries: Vec<Entry> = self
            .entries
            .iter()
            .map(|e| match e {
                Entry::Or(bs) => {
                    let mut bs: Vec<Obj> = bs.iter().map(|b| b.shuffled(rng)).collect();
                    bs.shuffle(rng);
                    Entry::Or(bs)
                }
                Entry::Field(k, Node::Object(o)) => {
                    Entry::Field(k.clone(), Node::Object(o.shuffled(rng)))
                }
                Entry::Field(k, Node::Values(vs)) => {
                    let mut vs = vs.clone();
                    vs.shuffle(rng);
                    Entry::Field(k.clone(), Node::Values(vs))
                }
            })
            .collect();
        entries.shuffle(rng);
        Obj { entries }
    }

    /// Nested objects written as dotted keys: `{"n":{"a":[1]}}` -> `{"n.a":[1]}`.
    fn dotted(&self, prefix: &str) -> Obj {
        let mut entries = Vec::new();
        for e in &self.entries {
            match e {
                Entry::Field(k, Node::Values(vs)) => entries.push(Entry::Field(
                    format!("{prefix}{k}"),
                    Node::Values(vs.clone()),
                )),
                Entry::Field(k, Node::Object(o)) => {
                    entries.extend(o.dotted(&format!("{prefix}{k}.")).entries)
                }
                Entry::Or(bs) => {
                    entries.push(Entry::Or(bs.iter().map(|b| b.dotted(prefix)).collect()))
                }
            }
        }
        Obj { entries }
    }
}

// ------------------------------------------------------------------------------ generators

const PATTERN_STRING: &str = "[aAbB]{0,2}";
const EVENT_STRING: &str = "[aAbB]{0,3}";
const IPS: &[&str] = &[
    "10.0.0.1",
    "10.0.0.255",
    "10.0.1.5",
    "11.0.0.1",
    "010.0.0.1",
];
const CIDRS: &[&str] = &[
    "10.0.0.0/24",
    "10.0.0.0/30",
    "10.0.0.0/8",
    "10.0.1.0/24",
    "10.0.0.1/31",
];
const NUMBERS: &[&str] = &["-2", "-1", "0", "1", "2", "0.5", "1.5", "-1.5", "2.0"];

fn num() -> impl Strategy<Value = Value> {
    select(NUMBERS).prop_map(|t| serde_json::from_str(t).unwrap())
}

fn pstr() -> impl Strategy<Value = String> {
    PATTERN_STRING
}

fn nonempty_pstr() -> impl Strategy<Value = String> {
    "[aAbB]{1,2}"
}

fn wildcard_text() -> impl Strategy<Value = String> {
    "[aAb*]{0,4}".prop_filter("consecutive wildcards are invalid", |s| !s.contains("**"))
}

/// One member of a field's value array.
fn match_value() -> BoxedStrategy<Value> {
    let anything_but = prop_oneof![
        pstr().prop_map(|s| json!({"anything-but": s})),
        prop::collection::vec(pstr(), 1..=2).prop_map(|v| json!({"anything-but": v})),
        num().prop_map(|n| json!({"anything-but": n})),
        prop::collection::vec(num(), 1..=2).prop_map(|v| json!({"anything-but": v})),
        nonempty_pstr().prop_map(|s| json!({"anything-but": {"prefix": s}})),
        prop::collection::vec(nonempty_pstr(), 1..=2)
            .prop_map(|v| json!({"anything-but": {"suffix": v}})),
        pstr().prop_map(|s| json!({"anything-but": {"equals-ignore-case": s}})),
        wildcard_text().prop_map(|s| json!({"anything-but": {"wildcard": s}})),
    ];
    let numeric = prop_oneof![
        (select(&["<", "<=", ">", ">=", "="][..]), num())
            .prop_map(|(op, n)| json!({"numeric": [op, n]})),
        (
            select(&[">", ">="][..]),
            num(),
            select(&["<", "<="][..]),
            num()
        )
            .prop_map(|(a, x, b, y)| json!({"numeric": [a, x, b, y]})),
    ];
    prop_oneof![
        4 => pstr().prop_map(Value::String),
        1 => select(IPS).prop_map(|s| json!(s)),
        2 => num(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        2 => pstr().prop_map(|s| json!({"prefix": s})),
        2 => pstr().prop_map(|s| json!({"suffix": s})),
        1 => pstr().prop_map(|s| json!({"prefix": {"equals-ignore-case": s}})),
        1 => pstr().prop_map(|s| json!({"suffix": {"equals-ignore-case": s}})),
        2 => pstr().prop_map(|s| json!({"equals-ignore-case": s})),
        1 => pstr().prop_map(|s| json!({"exactly": s})),
        4 => anything_but,
        3 => numeric,
        2 => any::<bool>().prop_map(|b| json!({"exists": b})),
        2 => wildcard_text().prop_map(|s| json!({"wildcard": s})),
        1 => select(CIDRS).prop_map(|c| json!({"cidr": c})),
    ]
    .boxed()
}

fn values() -> BoxedStrategy<Node> {
    prop::collection::vec(match_value(), 1..=3)
        .prop_map(Node::Values)
        .boxed()
}

/// A pattern object over `names` (present or not, at least one member), plus maybe a `$or`
/// whose branches use `or_names` (disjoint from `names`, so that no path is given twice and
/// key order cannot matter). `n` and `m` are nested objects over `a`, `b` (with a `$or` over
/// `c`, `e` inside when `depth` allows); other names are value arrays.
fn obj(
    names: &'static [&'static str],
    or_names: &'static [&'static str],
    depth: u32,
) -> BoxedStrategy<Obj> {
    let fields: Vec<BoxedStrategy<Option<(String, Node)>>> = names
        .iter()
        .map(|&name| {
            let node = if matches!(name, "n" | "m") && depth > 0 {
                obj(&["a", "b"], &["c", "e"], depth - 1)
                    .prop_map(Node::Object)
                    .boxed()
            } else {
                values()
            };
            proptest::option::weighted(0.6, node.prop_map(move |n| (name.to_string(), n))).boxed()
        })
        .collect();
    let or = if or_names.is_empty() || depth == 0 {
        Just(None).boxed()
    } else {
        proptest::option::weighted(
            0.35,
            prop::collection::vec(obj(or_names, &[], depth - 1), 2..=3),
        )
        .boxed()
    };
    (fields, or, any::<prop::sample::Index>())
        .prop_filter_map("empty object", |(fields, or, at)| {
            let mut entries: Vec<Entry> = fields
                .into_iter()
                .flatten()
                .map(|(k, n)| Entry::Field(k, n))
                .collect();
            if let Some(branches) = or {
                let i = at.index(entries.len() + 1);
                entries.insert(i, Entry::Or(branches));
            }
            (!entries.is_empty()).then_some(Obj { entries })
        })
        .boxed()
}

/// Top level: `a`, `b`, nested `n`; `$or` branches over `c`, `e`, nested `m` (which may hold
/// another `$or`).
fn pattern() -> BoxedStrategy<Obj> {
    obj(&["a", "b", "n"], &["c", "e", "m"], 2)
}

fn pattern_with_or() -> BoxedStrategy<Obj> {
    pattern().prop_filter("needs a $or", Obj::has_or).boxed()
}

fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        4 => EVENT_STRING.prop_map(Value::String),
        1 => select(IPS).prop_map(|s| json!(s)),
        3 => num(),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
    ]
    .boxed()
}

fn leaf_or_array() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => leaf(),
        2 => prop::collection::vec(leaf(), 0..=3).prop_map(Value::Array),
    ]
    .boxed()
}

fn event_object(names: &'static [&'static str], nested: bool) -> BoxedStrategy<Value> {
    let fields: Vec<BoxedStrategy<Option<(String, Value)>>> = names
        .iter()
        .map(|&name| {
            let v = if nested && matches!(name, "n" | "m") {
                let inner = event_object(&["a", "b", "c", "e"], false);
                prop_oneof![
                    5 => inner.clone(),
                    2 => prop::collection::vec(inner, 1..=2).prop_map(Value::Array),
                    1 => leaf_or_array(),
                ]
                .boxed()
            } else {
                leaf_or_array()
            };
            proptest::option::weighted(0.75, v.prop_map(move |v| (name.to_string(), v))).boxed()
        })
        .collect();
    fields
        .prop_map(|fs| Value::Object(fs.into_iter().flatten().collect()))
        .boxed()
}

fn event() -> BoxedStrategy<Value> {
    event_object(&["a", "b", "c", "e", "n", "m"], true)
}

// ------------------------------------------------------------------------------ guided events

/// A value that the value-array member `m` accepts (`None`: the field should be absent).
fn satisfying(m: &Value, rng: &mut StdRng) -> Option<Value> {
    let Value::Object(op) = m else {
        return Some(m.clone());
    };
    let (name, arg) = op.iter().next().expect("one key");
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Object(o) => o
            .values()
            .next()
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string(),
        _ => String::new(),
    };
    let pick = |rng: &mut StdRng, opts: &[&str]| opts.choose(rng).unwrap().to_string();
    Some(match name.as_str() {
        "prefix" => json!(text(arg) + &pick(rng, &["", "a", "B"])),
        "suffix" => json!(pick(rng, &["", "a", "B"]) + &text(arg)),
        "equals-ignore-case" | "exactly" => {
            let t = text(arg);
            json!(if rng.gen_bool(0.5) {
                t.to_uppercase()
            } else {
                t
            })
        }
        "anything-but" => json!(7),
        "numeric" => {
            let a = arg.as_array().expect("numeric array");
            let x = a[1].as_f64().unwrap();
            match (a[0].as_str().unwrap(), a.len()) {
                ("=", _) | (">=", 2) | ("<=", 2) => json!(x),
                (">", 2) => json!(x + 1.0),
                ("<", 2) => json!(x - 1.0),
                _ => json!((x + a[3].as_f64().unwrap()) / 2.0),
            }
        }
        "exists" => {
            if arg == &json!(false) {
                return None;
            }
            json!("a")
        }
        "wildcard" => json!(text(arg).replace('*', "")),
        "cidr" => json!(text(arg).split('/').next().unwrap()),
        other => panic!("unknown operator {other}"),
    })
}

/// Sets (or removes, for `None`) the value at `path` under `v`, making objects on the way;
/// inside an array of objects, a random element is used.
fn set_path(v: &mut Value, path: &[String], value: Option<Value>, rng: &mut StdRng) {
    if let Value::Array(a) = v
        && a.iter().any(Value::is_object)
    {
        let objects: Vec<usize> = (0..a.len()).filter(|&i| a[i].is_object()).collect();
        let i = *objects.choose(rng).unwrap();
        return set_path(&mut a[i], path, value, rng);
    }
    if !v.is_object() {
        *v = Value::Object(Map::new());
    }
    let m = v.as_object_mut().unwrap();
    if path.len() == 1 {
        match value {
            Some(x) => {
                m.insert(path[0].clone(), x);
            }
            None => {
                m.shift_remove(&path[0]);
            }
        }
        return;
    }
    let child = m.entry(path[0].clone()).or_insert(Value::Null);
    set_path(child, &path[1..], value, rng);
}

/// Edits the event so that most of the pattern's fields (one random branch of each `$or`)
/// hold an accepted value: random events alone rarely match.
fn guide(p: &Obj, prefix: &[String], e: &mut Value, rng: &mut StdRng) {
    for entry in &p.entries {
        match entry {
            Entry::Field(k, Node::Values(vs)) => {
                if rng.gen_bool(0.85) {
                    let mut path = prefix.to_vec();
                    path.push(k.clone());
                    let v = satisfying(vs.choose(rng).unwrap(), rng);
                    set_path(e, &path, v, rng);
                }
            }
            Entry::Field(k, Node::Object(o)) => {
                let mut path = prefix.to_vec();
                path.push(k.clone());
                guide(o, &path, e, rng);
            }
            Entry::Or(bs) => guide(bs.choose(rng).unwrap(), prefix, e, rng),
        }
    }
}

/// A pattern and an event, the event guided towards the pattern 3 times in 4.
fn case_from(patterns: BoxedStrategy<Obj>) -> BoxedStrategy<(Obj, Value)> {
    (patterns, event(), any::<u64>(), prop::bool::weighted(0.75))
        .prop_map(|(p, mut e, seed, guided)| {
            if guided {
                guide(&p, &[], &mut e, &mut StdRng::seed_from_u64(seed));
            }
            (p, e)
        })
        .boxed()
}

fn case() -> BoxedStrategy<(Obj, Value)> {
    case_from(pattern())
}

// ------------------------------------------------------------------------------ event edits

fn shuffle_keys(v: &Value, rng: &mut StdRng) -> Value {
    match v {
        Value::Object(m) => {
            let mut entries: Vec<(String, Value)> = m
                .iter()
                .map(|(k, v)| (k.clone(), shuffle_keys(v, rng)))
                .collect();
            entries.shuffle(rng);
            Value::Object(entries.into_iter().collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(|v| shuffle_keys(v, rng)).collect()),
        other => other.clone(),
    }
}

/// Every object of the event (as a JSON pointer), the root first.
fn object_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            out.push(at.clone());
            for (k, c) in m {
                object_pointers(c, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                object_pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// Every scalar of the event (as a JSON pointer).
fn scalar_pointers(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, c) in m {
                scalar_pointers(c, format!("{at}/{k}"), out);
            }
        }
        Value::Array(a) => {
            for (i, c) in a.iter().enumerate() {
                scalar_pointers(c, format!("{at}/{i}"), out);
            }
        }
        _ => out.push(at),
    }
}

/// Nested objects (not inside arrays) as dotted keys: `{"n":{"a":1}}` -> `{"n.a":1}`.
fn dotted_event(v: &Value) -> Value {
    fn walk(m: &Map<String, Value>, prefix: &str, out: &mut Map<String, Value>) {
        for (k, v) in m {
            let key = format!("{prefix}{k}");
            match v {
                Value::Object(inner) => walk(inner, &format!("{key}."), out),
                other => {
                    out.insert(key, other.clone());
                }
            }
        }
    }
    let mut out = Map::new();
    walk(v.as_object().expect("events are objects"), "", &mut out);
    Value::Object(out)
}

fn index_holds(p: &Pattern, event: &Value) -> Result<(), String> {
    let Some(keys) = p.index_keys() else {
        return Ok(());
    };
    for (path, key) in &keys {
        let mut found = false;
        EventPath::new(path).for_each_string(&Doc::from_value(event), |s| {
            found |= match key {
                IndexKey::Exact(x) => s == x,
                IndexKey::Prefix(x) => s.starts_with(x.as_str()),
            }
        });
        if found {
            return Ok(());
        }
    }
    Err(format!(
        "matched, but the event holds none of the index keys {keys:?}"
    ))
}

// ------------------------------------------------------------------------------ properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn generated_patterns_compile(p in pattern()) {
        let compiled = p.compile();
        prop_assert!(compiled.combinations() >= 1);
    }

    #[test]
    fn or_is_a_disjunction_of_its_branches((p, e) in case_from(pattern_with_or())) {
        let whole = p.compile().matches(&e);
        let branches = p.expand_first_or().expect("has a $or");
        let any = branches.iter().any(|b| b.compile().matches(&e));
        prop_assert_eq!(whole, any, "pattern {}", p.text());
    }

    #[test]
    fn unmentioned_fields_are_ignored(
        (p, e) in case(),
        extra in prop::collection::vec((any::<prop::sample::Index>(), "z[a-z]{0,3}", leaf_or_array()), 1..=20),
    ) {
        let compiled = p.compile();
        let before = compiled.matches(&e);
        let mut objects = Vec::new();
        object_pointers(&e, String::new(), &mut objects);
        let mut e2 = e.clone();
        for (at, key, value) in extra {
            let ptr = at.get(&objects);
            if let Some(Value::Object(m)) = e2.pointer_mut(ptr) {
                m.insert(key, value);
            }
        }
        prop_assert_eq!(before, compiled.matches(&e2), "pattern {}\nevent with extra fields {}", p.text(), e2);
    }

    #[test]
    fn event_key_order_is_irrelevant((p, e) in case(), seed in any::<u64>()) {
        let compiled = p.compile();
        let shuffled = shuffle_keys(&e, &mut StdRng::seed_from_u64(seed));
        prop_assert_eq!(compiled.matches(&e), compiled.matches(&shuffled), "pattern {}\nshuffled event {}", p.text(), shuffled);
    }

    #[test]
    fn pattern_order_is_irrelevant((p, e) in case(), seed in any::<u64>()) {
        let q = p.shuffled(&mut StdRng::seed_from_u64(seed));
        prop_assert_eq!(p.compile().matches(&e), q.compile().matches(&e), "pattern {}\nshuffled {}", p.text(), q.text());
    }

    #[test]
    fn one_element_arrays_are_transparent(
        (p, e) in case_from(pattern().prop_filter("exists set aside", |p| !p.uses_operator("exists")).boxed()),
        at in any::<prop::sample::Index>(),
    ) {
        let mut scalars = Vec::new();
        scalar_pointers(&e, String::new(), &mut scalars);
        prop_assume!(!scalars.is_empty());
        let ptr = at.get(&scalars);
        let mut e2 = e.clone();
        let slot = e2.pointer_mut(ptr).expect("pointer");
        *slot = Value::Array(vec![slot.take()]);
        let compiled = p.compile();
        prop_assert_eq!(compiled.matches(&e), compiled.matches(&e2), "pattern {}\nwrapped {} in {}", p.text(), ptr, e2);
    }

    #[test]
    fn dotted_pattern_keys_equal_nesting((p, e) in case()) {
        let q = p.dotted("");
        prop_assert_eq!(p.compile().matches(&e), q.compile().matches(&e), "pattern {}\ndotted {}", p.text(), q.text());
    }

    #[test]
    fn dotted_event_keys_equal_nesting((p, e) in case()) {
        let compiled = p.compile();
        let d = dotted_event(&e);
        prop_assert_eq!(compiled.matches(&e), compiled.matches(&d), "pattern {}\ndotted event {}", p.text(), d);
    }

    #[test]
    fn index_keys_are_sound((p, e) in case()) {
        let compiled = p.compile();
        if compiled.matches(&e)
            && let Err(msg) = index_holds(&compiled, &e)
        {
            prop_assert!(false, "{msg}\npattern {}\nevent {}", p.text(), e);
        }
    }
}

/// The generators are useful only if patterns match often enough and the index has keys.
#[test]
fn generators_reach_matches_and_index_keys() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut matched, mut indexed, mut indexed_matched, n) = (0, 0, 0, 400);
    for _ in 0..n {
        let (p, e) = case().new_tree(&mut runner).unwrap().current();
        let c = p.compile();
        let m = c.matches(&e);
        let i = c.index_keys().is_some();
        matched += usize::from(m);
        indexed += usize::from(i);
        indexed_matched += usize::from(m && i);
    }
    eprintln!("of {n}: {matched} matched, {indexed} indexed, {indexed_matched} both");
    assert!(
        matched * 20 >= n,
        "only {matched} of {n} random pairs match"
    );
    assert!(
        indexed * 10 >= n,
        "only {indexed} of {n} patterns have index keys"
    );
    assert!(
        indexed_matched >= 5,
        "only {indexed_matched} indexed patterns matched"
    );
}
