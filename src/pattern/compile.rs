//! Pattern text -> sub-rules, validating as AWS does.
//!
//! The walk mirrors the order in which EventBridge's rule compiler reads
//! tokens, so that the first error found (and the location Jackson reports
//! for it) is the same. Each `$or` forks the rules built so far; the result is
//! a list of sub-rules (the pattern matches when any sub-rule does), each a
//! map from a dotted field path to the values OR'ed for it. A path given twice
//! keeps its last values.

use super::cidr::{self, IpRange};
use super::json::{Parser, Tok};
use super::matcher::{FieldSpec, Matcher, SubRule, lower};
use super::numeric::{self, NumLit, Range};
use super::wildcard::{self, Wildcard};

/// The most sub-rules a pattern may expand into through `$or`.
pub(crate) const MAX_COMBINATIONS: usize = 1000;

/// Reason used when `$or` expands past [`MAX_COMBINATIONS`]. AWS documents the
/// limit but its message was not observed; this text is ours.
pub(crate) const TOO_MANY_COMBINATIONS: &str =
    "The event pattern expands into more than 1000 combinations of $or conditions";

/// Names that may not be field names inside `$or` (event-ruler's list).
const RESERVED_IN_OR: &[&str] = &[
    "exactly",
    "equals-ignore-case",
    "prefix",
    "suffix",
    "anything-but",
    "exists",
    "wildcard",
    "numeric",
    "cidr",
    "html",
    "=",
    "<",
    "<=",
    ">",
    ">=",
    "regex",
    "not-wildcard",
    "not-equals-ignore-case",
    "date-after",
    "date-on-or-after",
    "date-before",
    "date-on-or-before",
    "in-date-range",
    "ip-address-in-range",
    "ip-address-not-in-range",
];

type R<T> = Result<T, String>;

/// Compiles pattern text into sub-rules, or AWS's reason text.
pub(crate) fn compile(src: &str) -> R<Vec<SubRule>> {
    let mut p = Parser::new(src);
    if p.next_token()? != Some(Tok::StartObject) {
        return Err(p.error("Filter is not an object"));
    }
    let mut c = Compiler {
        p,
        rules: Vec::new(),
        path: Vec::new(),
    };
    c.parse_object(false)?;
    // Trailing text after the pattern object is not read (as in AWS).
    let rules = c.rules;
    if rules.iter().flatten().any(|f| f.too_complex) {
        return Err(wildcard::TOO_COMPLEX.to_string());
    }
    Ok(rules)
}

/// One value of a field's array.
enum Item {
    M(Matcher),
    Absent,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum AbKind {
    Plain,
    IgnoreCase,
    Prefix,
    Suffix,
    Wildcard,
}

struct Compiler<'a> {
    p: Parser<'a>,
    rules: Vec<SubRule>,
    path: Vec<String>,
}

impl Compiler<'_> {
    fn err<T>(&self, msg: &str) -> R<T> {
        Err(self.p.error(msg))
    }

    /// A JsonParseException re-wrapped by event-ruler's `catch (IOException)`:
    /// the message then carries the location suffix twice.
    fn err_twice<T>(&self, msg: &str) -> R<T> {
        Err(self.p.error(&self.p.error(msg)))
    }

    fn next(&mut self) -> R<Option<Tok>> {
        self.p.next_token()
    }

    fn expect_end(&mut self, msg: &str) -> R<()> {
        if self.next()? != Some(Tok::EndObject) {
            return self.err(msg);
        }
        Ok(())
    }

    fn parse_object(&mut self, in_or: bool) -> R<()> {
        let mut fields_present = false;
        loop {
            match self.next()? {
                Some(Tok::EndObject) | None => break,
                _ => {}
            }
            fields_present = true;
            let step = self.p.name().to_string();
            if step == "$or" {
                self.parse_or()?;
                continue;
            }
            if in_or && RESERVED_IN_OR.contains(&step.as_str()) {
                return self.err(&format!(
                    "{step} is Ruler reserved fieldName which cannot be used inside $or."
                ));
            }
            match self.next()? {
                Some(Tok::StartObject) => {
                    self.path.push(step);
                    self.parse_object(in_or)?;
                    self.path.pop();
                }
                Some(Tok::StartArray) => {
                    let mut name = self.path.join(".");
                    if !self.path.is_empty() {
                        name.push('.');
                    }
                    name.push_str(&step);
                    self.write_rules(name)?;
                }
                _ => return self.err(&format!("\"{step}\" must be an object or an array")),
            }
        }
        if !fields_present {
            return self.err("Empty objects are not allowed");
        }
        Ok(())
    }

    fn parse_or(&mut self) -> R<()> {
        let current = std::mem::take(&mut self.rules);
        if self.next()? != Some(Tok::StartArray) {
            return self.err("It must be an Array followed with $or.");
        }
        let mut count = 0;
        loop {
            match self.next()? {
                Some(Tok::EndArray) | None => break,
                Some(Tok::StartObject) => {
                    count += 1;
                    let saved = std::mem::replace(&mut self.rules, current.clone());
                    if self.rules.is_empty() {
                        self.rules.push(Vec::new());
                    }
                    self.parse_object(true)?;
                    let mut branch = std::mem::replace(&mut self.rules, saved);
                    self.rules.append(&mut branch);
                    if self.rules.len() > MAX_COMBINATIONS {
                        return Err(TOO_MANY_COMBINATIONS.to_string());
                    }
                }
                Some(_) => {
                    return self.err("Only JSON object is allowed in array of $or relationship.");
                }
            }
        }
        if count < 2 {
            return self.err("There must have at least 2 Objects in $or relationship.");
        }
        Ok(())
    }

    fn write_rules(&mut self, name: String) -> R<()> {
        let mut matchers = Vec::new();
        let mut absent = false;
        let mut count = 0;
        loop {
            let item = match self.next()? {
                Some(Tok::EndArray) | None => break,
                Some(Tok::StartObject) => self.match_expression()?,
                Some(Tok::String) => {
                    let s = self.p.text()?;
                    match cidr::parse_ip(&s) {
                        Some(ip) => Item::M(Matcher::ExactIp(s, IpRange::single(ip))),
                        None => Item::M(Matcher::Exact(s)),
                    }
                }
                Some(Tok::NumberInt | Tok::NumberFloat) => {
                    Item::M(Matcher::Number(NumLit::new(&self.p.text()?)))
                }
                Some(Tok::True) => Item::M(Matcher::Bool(true)),
                Some(Tok::False) => Item::M(Matcher::Bool(false)),
                Some(Tok::Null) => Item::M(Matcher::Null),
                Some(_) => {
                    return self.err("Match value must be String, number, true, false, or null");
                }
            };
            count += 1;
            match item {
                Item::M(m) => matchers.push(m),
                Item::Absent => absent = true,
            }
        }
        if count == 0 {
            return self.err("Empty arrays are not allowed");
        }
        if self.rules.is_empty() {
            self.rules.push(Vec::new());
        }
        let ws: Vec<&Wildcard> = matchers
            .iter()
            .filter_map(|m| match m {
                Matcher::Wildcard(w) => Some(w),
                _ => None,
            })
            .collect();
        let too_complex = !ws.is_empty() && wildcard::too_complex(&ws);
        let spec = FieldSpec {
            path: name,
            matchers,
            absent,
            too_complex,
        };
        for rule in &mut self.rules {
            match rule.iter_mut().find(|f| f.path == spec.path) {
                Some(f) => *f = spec.clone(),
                None => rule.push(spec.clone()),
            }
        }
        Ok(())
    }

    /// `{ "<operator>": ... }` inside a field's array.
    fn match_expression(&mut self) -> R<Item> {
        if self.next()? != Some(Tok::FieldName) {
            return self.err("Match expression name not found");
        }
        let op = self.p.name().to_string();
        const ONE_KEY: &str = "Only one key allowed in match expression";
        let item = match op.as_str() {
            "exactly" => {
                if self.next()? != Some(Tok::String) {
                    return self.err("exact match pattern must be a string");
                }
                let s = self.p.text()?;
                self.expect_end(ONE_KEY)?;
                Item::M(Matcher::Exact(s))
            }
            "prefix" | "suffix" => {
                let t = self.next()?;
                if t == Some(Tok::StartObject) {
                    return self.affix_ignore_case(op == "prefix");
                }
                if t != Some(Tok::String) {
                    return self.err(&format!("{op} match pattern must be a string"));
                }
                let s = self.p.text()?;
                self.expect_end(ONE_KEY)?;
                Item::M(if op == "prefix" {
                    Matcher::Prefix(s)
                } else {
                    Matcher::Suffix(s)
                })
            }
            "numeric" => {
                if self.next()? != Some(Tok::StartArray) {
                    return self.err("Value of numeric must be an array.");
                }
                let r = self.numeric()?;
                self.expect_end("Too many elements in numeric expression")?;
                Item::M(Matcher::Numeric(r))
            }
            "anything-but" => Item::M(self.anything_but()?),
            "exists" => {
                let item = match self.next()? {
                    Some(Tok::True) => Item::M(Matcher::Exists),
                    Some(Tok::False) => Item::Absent,
                    _ => return self.err("exists match pattern must be either true or false."),
                };
                self.expect_end(ONE_KEY)?;
                item
            }
            "cidr" => {
                if self.next()? != Some(Tok::String) {
                    // (sic) AWS reuses the prefix message here.
                    return self.err("prefix match pattern must be a string");
                }
                let s = self.p.text()?;
                // CIDR errors carry no location suffix (observed on AWS).
                let range = cidr::cidr(&s)?;
                self.expect_end(ONE_KEY)?;
                Item::M(Matcher::Cidr(range))
            }
            "equals-ignore-case" => {
                if self.next()? != Some(Tok::String) {
                    return self.err("equals-ignore-case match pattern must be a string");
                }
                let s = self.p.text()?;
                self.expect_end(ONE_KEY)?;
                Item::M(Matcher::EqualsIc(lower(&s)))
            }
            "wildcard" => {
                if self.next()? != Some(Tok::String) {
                    return self.err("wildcard match pattern must be a string");
                }
                let s = self.p.text()?;
                let w = match Wildcard::parse(&s) {
                    Ok(w) => w,
                    Err(e) => return self.err(&e),
                };
                self.expect_end(ONE_KEY)?;
                Item::M(Matcher::Wildcard(w))
            }
            _ => return self.err(&format!("Unrecognized match type {op}")),
        };
        Ok(item)
    }

    /// `{"prefix": {"equals-ignore-case": "x"}}` and the suffix form.
    fn affix_ignore_case(&mut self, prefix: bool) -> R<Item> {
        let (what, lower_what) = if prefix {
            ("Prefix", "prefix")
        } else {
            ("Suffix", "suffix")
        };
        if self.next()? != Some(Tok::FieldName) {
            return self.err(&format!("{what} expression name not found"));
        }
        let op = self.p.name().to_string();
        if op != "equals-ignore-case" {
            return self.err(&format!("Unsupported {lower_what} pattern: {op}"));
        }
        if self.next()? != Some(Tok::String) {
            return self.err("equals-ignore-case match pattern must be a string");
        }
        let s = lower(&self.p.text()?);
        self.expect_end("Only one key allowed in match expression")?;
        self.expect_end("Only one key allowed in match expression")?;
        Ok(Item::M(if prefix {
            Matcher::PrefixIc(s)
        } else {
            Matcher::SuffixIc(s)
        }))
    }

    fn anything_but(&mut self) -> R<Matcher> {
        let mut kind = AbKind::Plain;
        let mut t = self.next()?;
        if t == Some(Tok::StartObject) {
            if self.next()? != Some(Tok::FieldName) {
                return self.err("Anything-But expression name not found");
            }
            let op = self.p.name().to_string();
            kind = match op.as_str() {
                "equals-ignore-case" => AbKind::IgnoreCase,
                "prefix" => AbKind::Prefix,
                "suffix" => AbKind::Suffix,
                "wildcard" => AbKind::Wildcard,
                _ => return self.err(&format!("Unsupported anything-but pattern: {op}")),
            };
            t = self.next()?;
        }
        let m = match t {
            Some(Tok::StartArray) if kind == AbKind::Plain => self.anything_but_list()?,
            Some(Tok::StartArray) => self.anything_but_set(kind, true)?,
            Some(Tok::String | Tok::NumberInt | Tok::NumberFloat) if kind == AbKind::Plain => {
                if t == Some(Tok::String) {
                    Matcher::AnythingBut {
                        strings: vec![self.p.text()?],
                        numbers: Vec::new(),
                    }
                } else {
                    // An out-of-range number escapes event-ruler's handler here,
                    // so its message has no location suffix.
                    let v = numeric::comparable(&self.p.text()?)?;
                    Matcher::AnythingBut {
                        strings: Vec::new(),
                        numbers: vec![v],
                    }
                }
            }
            Some(Tok::String | Tok::NumberInt | Tok::NumberFloat) => {
                self.anything_but_set(kind, false)?
            }
            _ => {
                return self
                    .err("Value of anything-but must be an array or single string/number value.");
            }
        };
        // (sic) event-ruler reports a second key here with the numeric message.
        self.expect_end("Too many elements in numeric expression")?;
        if kind != AbKind::Plain {
            self.expect_end("Too many elements in numeric expression")?;
        }
        Ok(m)
    }

    fn anything_but_list(&mut self) -> R<Matcher> {
        let mut strings = Vec::new();
        let mut numbers = Vec::new();
        loop {
            match self.next()? {
                Some(Tok::EndArray) | None => break,
                Some(Tok::String) => strings.push(self.p.text()?),
                Some(Tok::NumberInt | Tok::NumberFloat) => {
                    let text = self.p.text()?;
                    match numeric::comparable(&text) {
                        Ok(v) => numbers.push(v),
                        Err(e) => return self.err(&e),
                    }
                }
                Some(_) => {
                    return self.err_twice(
                        "Inside anything but list, start|null|boolean is not supported.",
                    );
                }
            }
        }
        if strings.is_empty() == numbers.is_empty() {
            return self.err(
                "Inside anything but list, either all values are number or string, mixed type is not supported",
            );
        }
        Ok(Matcher::AnythingBut { strings, numbers })
    }

    fn non_string_message(kind: AbKind) -> &'static str {
        match kind {
            AbKind::IgnoreCase => {
                "Inside anything-but/equals-ignore-case list, number|start|null|boolean is not supported."
            }
            AbKind::Wildcard => "wildcard match pattern must be a string",
            _ => "prefix/suffix match pattern must be a string",
        }
    }

    /// anything-but with prefix / suffix / equals-ignore-case / wildcard,
    /// single value or list.
    fn anything_but_set(&mut self, kind: AbKind, list: bool) -> R<Matcher> {
        let affix = matches!(kind, AbKind::Prefix | AbKind::Suffix);
        let mut values: Vec<String> = Vec::new();
        if list {
            loop {
                match self.next()? {
                    Some(Tok::EndArray) | None => break,
                    Some(Tok::String) => {
                        let s = self.p.text()?;
                        if affix && s.is_empty() {
                            return self.err_twice("Null prefix/suffix not allowed");
                        }
                        if !values.contains(&s) {
                            values.push(s);
                        }
                    }
                    Some(_) => return self.err_twice(Self::non_string_message(kind)),
                }
            }
        } else if self.p_is_string() {
            let s = self.p.text()?;
            if affix && s.is_empty() {
                return self.err("Null prefix/suffix not allowed");
            }
            values.push(s);
        } else {
            return self.err(Self::non_string_message(kind));
        }
        Ok(match kind {
            AbKind::Prefix => Matcher::AnythingButPrefix(values),
            AbKind::Suffix => Matcher::AnythingButSuffix(values),
            AbKind::IgnoreCase => Matcher::AnythingButIc(values.iter().map(|s| lower(s)).collect()),
            _ => {
                let mut ws = Vec::with_capacity(values.len());
                for v in &values {
                    match Wildcard::parse(v) {
                        Ok(w) => ws.push(w),
                        Err(e) => return self.err(&e),
                    }
                }
                Matcher::AnythingButWildcard(ws)
            }
        })
    }

    fn p_is_string(&self) -> bool {
        self.p_current() == Some(Tok::String)
    }

    fn p_current(&self) -> Option<Tok> {
        self.p.current()
    }

    /// The body of `"numeric": [ ... ]` (the `[` is consumed).
    fn numeric(&mut self) -> R<Range> {
        let t = self.next()?;
        if t != Some(Tok::String) {
            let text = self.p.text()?;
            return self.err(&format!("Invalid member in numeric match: {text}"));
        }
        let op = self.p.text()?;
        let t = self.next()?;
        let is_num = t.is_some_and(Tok::is_numeric);
        match op.as_str() {
            "=" => {
                if !is_num {
                    return self.err("Value of equals must be numeric");
                }
                let val = self.p.text()?;
                if self.next()? != Some(Tok::EndArray) {
                    return self.err("Too many elements in numeric expression");
                }
                let v = self.number(&val)?;
                Ok(Range {
                    lo: v,
                    lo_open: false,
                    hi: v,
                    hi_open: false,
                })
            }
            ">" | ">=" => {
                if !is_num {
                    return self.err(&format!("Value of {op} must be numeric"));
                }
                let bottom = self.p.text()?;
                let t = self.next()?;
                let open_bottom = op == ">";
                if t == Some(Tok::EndArray) {
                    let v = self.number(&bottom)?;
                    return Ok(Range {
                        lo: v,
                        lo_open: open_bottom,
                        ..Range::all()
                    });
                }
                if t != Some(Tok::String) {
                    let text = self.p.text()?;
                    return self.err(&format!("Bad value in numeric range: {text}"));
                }
                let op2 = self.p.text()?;
                let open_top = match op2.as_str() {
                    "<" => true,
                    "<=" => false,
                    _ => return self.err(&format!("Bad numeric range operator: {op2}")),
                };
                if !self.next()?.is_some_and(Tok::is_numeric) {
                    return self.err(&format!("Value of {op2} must be numeric"));
                }
                let top = self.p.text()?;
                if self.next()? != Some(Tok::EndArray) {
                    return self.err("Too many terms in numeric range expression");
                }
                let lo = self.number(&bottom)?;
                let hi = self.number(&top)?;
                Ok(Range {
                    lo,
                    lo_open: open_bottom,
                    hi,
                    hi_open: open_top,
                })
            }
            "<" | "<=" => {
                if !is_num {
                    return self.err(&format!("Value of {op} must be numeric"));
                }
                let top = self.p.text()?;
                if self.next()? != Some(Tok::EndArray) {
                    return self.err("Too many elements in numeric expression");
                }
                let v = self.number(&top)?;
                Ok(Range {
                    hi: v,
                    hi_open: op == "<",
                    ..Range::all()
                })
            }
            _ => self.err(&format!("Unrecognized numeric range operator: {op}")),
        }
    }

    fn number(&self, text: &str) -> R<f64> {
        numeric::comparable(text).map_err(|e| self.p.error(&e))
    }
}
