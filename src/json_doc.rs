//! A JSON document as rules read it: strings borrowed from the text where they need no
//! unescaping, objects as lists of keys.
//!
//! Why not `serde_json::Value`: with `preserve_order` every object of a `Value` is an
//! `IndexMap` that hashes each key with SipHash and allocates each string, and a profile of
//! PutEvents spent more time building, dropping and re-serializing those maps than matching.
//! Patterns only look keys up and compare leaves; a parse into this form costs a few vectors
//! per event, and the event's text is written once from it. An object of many keys also keeps a
//! map from key to place, so that a rule's lookups in it stay constant-time.
//!
//! It reads exactly what `Value` reads (the same parser, the same depth limit, numbers as
//! `serde_json::Number`), and a repeated key keeps the first key's place with the last value,
//! as `Value`'s map does, so matching and the re-serialized text are those of `Value`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Number, Value};

/// One JSON value, borrowing from the text it was read from.
#[derive(Debug, Clone, PartialEq)]
pub enum Node<'a> {
    Null,
    Bool(bool),
    Number(Number),
    String(Cow<'a, str>),
    Array(Vec<Node<'a>>),
    Object(Object<'a>),
}

/// The members of an object, in the order of the text; a repeated key keeps its first place
/// and takes the last value.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Object<'a> {
    entries: Vec<(Cow<'a, str>, Node<'a>)>,
    /// Key to place, once the object has more than `LINEAR_KEYS` keys (a scan of a few keys is
    /// faster than hashing; a scan of thousands, once per pattern field, is not). Boxed so
    /// that every `Node` stays small: most objects have no index.
    #[allow(clippy::box_collection)]
    index: Option<Box<HashMap<String, usize>>>,
}

/// Objects with more keys than this are looked up through `Object::index`.
const LINEAR_KEYS: usize = 32;

impl<'a> Object<'a> {
    /// An object of members whose keys the caller knows to be distinct (no search for
    /// repeats).
    pub fn from_distinct(entries: Vec<(Cow<'a, str>, Node<'a>)>) -> Object<'a> {
        debug_assert!(
            entries
                .iter()
                .enumerate()
                .all(|(i, (k, _))| entries[..i].iter().all(|(other, _)| other != k)),
            "repeated keys"
        );
        let index = (entries.len() > LINEAR_KEYS).then(|| {
            Box::new(
                entries
                    .iter()
                    .enumerate()
                    .map(|(i, (k, _))| (k.to_string(), i))
                    .collect(),
            )
        });
        Object { entries, index }
    }

    /// Adds a member, or replaces the value of a key already there.
    pub fn insert(&mut self, key: Cow<'a, str>, value: Node<'a>) {
        let at = match &self.index {
            Some(index) => index.get(key.as_ref()).copied(),
            None => self.entries.iter().position(|(k, _)| *k == key),
        };
        if let Some(i) = at {
            self.entries[i].1 = value;
            return;
        }
        if let Some(index) = &mut self.index {
            index.insert(key.to_string(), self.entries.len());
        }
        self.entries.push((key, value));
        if self.index.is_none() && self.entries.len() > LINEAR_KEYS {
            *self = Object::from_distinct(std::mem::take(&mut self.entries));
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match &self.index {
            Some(index) => index.get(key).map(|&i| &self.entries[i].1),
            None => self.entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        }
    }

    /// Whether lookups go through a hash map (many keys) rather than a scan.
    pub fn is_indexed(&self) -> bool {
        self.index.is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, (Cow<'a, str>, Node<'a>)> {
        self.entries.iter()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl<'a> FromIterator<(Cow<'a, str>, Node<'a>)> for Object<'a> {
    fn from_iter<I: IntoIterator<Item = (Cow<'a, str>, Node<'a>)>>(members: I) -> Self {
        let mut object = Object::default();
        for (key, value) in members {
            object.insert(key, value);
        }
        object
    }
}

impl<'a> Node<'a> {
    /// Reads `text` as `serde_json::from_str::<Value>` would.
    pub fn parse(text: &'a str) -> Result<Node<'a>, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The same document over a `Value` (borrowing its strings).
    pub fn from_value(value: &'a Value) -> Node<'a> {
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(*b),
            Value::Number(n) => Node::Number(n.clone()),
            Value::String(s) => Node::String(Cow::Borrowed(s)),
            Value::Array(a) => Node::Array(a.iter().map(Node::from_value).collect()),
            Value::Object(m) => Node::Object(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Node::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// The value of `key` in an object.
    pub fn get(&self, key: &str) -> Option<&Node<'a>> {
        match self {
            Node::Object(object) => object.get(key),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Node::String(s) => Some(s),
            _ => None,
        }
    }

    /// A string member of an object, `""` when absent or not a string.
    pub fn str_field(&self, key: &str) -> &str {
        self.get(key).and_then(Node::as_str).unwrap_or_default()
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Node::Null)
    }

    /// The same document owning its strings.
    pub fn into_static(self) -> Node<'static> {
        let owned = |s: Cow<'_, str>| Cow::Owned(s.into_owned());
        match self {
            Node::Null => Node::Null,
            Node::Bool(b) => Node::Bool(b),
            Node::Number(n) => Node::Number(n),
            Node::String(s) => Node::String(owned(s)),
            Node::Array(a) => Node::Array(a.into_iter().map(Node::into_static).collect()),
            Node::Object(object) => Node::Object(
                object
                    .entries
                    .into_iter()
                    .map(|(k, v)| (owned(k), v.into_static()))
                    .collect(),
            ),
        }
    }

    /// The document as a `Value` (for the rare readers that need one).
    pub fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => Value::Number(n.clone()),
            Node::String(s) => Value::String(s.to_string()),
            Node::Array(a) => Value::Array(a.iter().map(Node::to_value).collect()),
            Node::Object(object) => Value::Object(
                object
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl Serialize for Node<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => serializer.serialize_unit(),
            Node::Bool(b) => serializer.serialize_bool(*b),
            Node::Number(n) => n.serialize(serializer),
            Node::String(s) => serializer.serialize_str(s),
            Node::Array(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Node::Object(object) => {
                let mut map = serializer.serialize_map(Some(object.len()))?;
                for (k, v) in object.iter() {
                    map.serialize_entry(k.as_ref(), v)?;
                }
                map.end()
            }
        }
    }
}

/// A string that borrows from the input when it can.
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s.to_string())))
            }
            fn visit_string<E>(self, s: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(s)))
            }
        }
        deserializer.deserialize_str(TextVisitor)
    }
}

impl<'de> Deserialize<'de> for Node<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E>(self, b: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<Node<'de>, E> {
        // As `Value`: a non-finite float (never produced by the JSON parser) is null.
        Ok(Number::from_f64(n).map_or(Node::Null, Node::Number))
    }
    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(s)))
    }
    fn visit_str<E>(self, s: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(s.to_string())))
    }
    fn visit_string<E>(self, s: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(s)))
    }
    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let mut object = Object::default();
        while let Some(Text(key)) = map.next_key()? {
            let value: Node<'de> = map.next_value()?;
            object.insert(key, value);
        }
        Ok(Node::Object(object))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parsing and writing back gives `Value`'s text, for each kind of input `Value` reads.
    #[test]
    fn reads_and_writes_as_value_does() {
        let many: String = (0..40)
            .map(|i| format!("\"k{i}\":{i}"))
            .collect::<Vec<_>>()
            .join(",");
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"e"}}"#,
            r#"{ "a" : 1.50 , "b" : -0 , "c": 1e2, "d": 18446744073709551615, "e": -9223372036854775808 }"#,
            r#"{"esc":"\u00e9\/\n\"q\"","\u0041":"key escaped"}"#,
            r#"{"dup":1,"x":2,"dup":3}"#,
            &format!("{{{many},\"k3\":\"again\"}}"),
            r#"[1,"two",{"three":[3]}]"#,
            r#""just a string""#,
            "123456789.123456789",
            r#"{"f":0.1,"g":1.7976931348623157e308,"h":5e-324}"#,
        ] {
            let value: Value = serde_json::from_str(text).unwrap();
            let node = Node::parse(text).unwrap();
            assert_eq!(
                serde_json::to_string(&node).unwrap(),
                serde_json::to_string(&value).unwrap(),
                "{text}"
            );
            assert_eq!(node.to_value(), value);
            assert_eq!(Node::from_value(&value), node);
            assert_eq!(node.clone().into_static(), node);
        }
    }

    #[test]
    fn refuses_what_value_refuses() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for text in ["", "{", "{\"a\":}", "[1,]", "{\"a\":1} x", "NaN", &deep] {
            assert!(serde_json::from_str::<Value>(text).is_err(), "{text}");
            assert!(Node::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn borrows_plain_strings_and_finds_keys() {
        let text = r#"{"source":"s","detail":{"k":"v\"w"}}"#;
        let node = Node::parse(text).unwrap();
        assert!(matches!(
            node.get("source"),
            Some(Node::String(Cow::Borrowed("s")))
        ));
        let detail = node.get("detail").unwrap();
        assert!(matches!(detail.get("k"), Some(Node::String(Cow::Owned(_)))));
        assert_eq!(detail.str_field("k"), "v\"w");
        assert_eq!(node.str_field("missing"), "");
        assert_eq!(
            Node::parse(r#"{"a":1,"a":2}"#).unwrap().get("a"),
            Some(&Node::Number(2.into()))
        );
        // Past LINEAR_KEYS keys an object is looked up through its index.
        let many: String = (0..40).map(|i| format!("\"k{i}\":{i},")).collect();
        let text = format!("{{{many}\"k7\":\"again\"}}");
        let big = Node::parse(&text).unwrap();
        let Node::Object(object) = &big else {
            panic!("an object")
        };
        assert!(object.is_indexed());
        assert_eq!(object.len(), 40);
        assert_eq!(big.str_field("k7"), "again");
        assert_eq!(big.get("k39"), Some(&Node::Number(39.into())));
        let small = Node::parse(r#"{"a":1}"#).unwrap();
        assert!(matches!(&small, Node::Object(o) if !o.is_indexed()));
    }
}
