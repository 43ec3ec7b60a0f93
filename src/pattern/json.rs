//! A small pull parser for pattern text that reports errors the way AWS does.
//!
//! EventBridge compiles patterns with a streaming Jackson parser, and its error
//! messages (and their `at [Source: ...; line: L, column: C]` suffixes) come
//! from that parser's state at the moment of failure. To reproduce them we
//! parse the pattern the same way: one token at a time, over UTF-16 code units
//! (Java strings), with Jackson's quirks that affect reported columns:
//! - a string value is only *started* by `next_token` (the pointer stays just
//!   past its opening quote) until its text is requested or the next token is
//!   read;
//! - after a field name, the first character(s) of its value are consumed at
//!   once (the value token is returned by the following `next_token`).
//!
//! Validation errors raised by the compiler use [`Parser::error`] so that they
//! carry the same location suffix.

/// Jackson's token kinds (the subset JSON can produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Tok {
    StartObject,
    EndObject,
    StartArray,
    EndArray,
    FieldName,
    String,
    NumberInt,
    NumberFloat,
    True,
    False,
    Null,
}

impl Tok {
    pub(crate) fn is_numeric(self) -> bool {
        matches!(self, Tok::NumberInt | Tok::NumberFloat)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CtxKind {
    Root,
    Array,
    Object,
}

#[derive(Debug, Clone)]
struct Ctx {
    kind: CtxKind,
    index: i64,
    line: usize,
    col: usize,
}

impl Ctx {
    fn type_desc(&self) -> &'static str {
        match self.kind {
            CtxKind::Root => "root",
            CtxKind::Array => "Array",
            CtxKind::Object => "Object",
        }
    }
}

/// Jackson's "how a valid value starts" list (2.10+ wording).
const VALID_VALUES: &str =
    "(JSON String, Number, Array, Object or token 'null', 'true' or 'false')";

/// The longest source snippet Jackson quotes in a location (in UTF-16 units).
const MAX_SNIPPET: usize = 500;
/// The longest token Jackson echoes in "Unrecognized token" messages.
const MAX_ERROR_TOKEN: usize = 256;

pub(crate) struct Parser<'a> {
    src: &'a str,
    buf: Vec<u16>,
    ptr: usize,
    row: usize,
    row_start: usize,
    token_incomplete: bool,
    cur: Option<Tok>,
    pending: Option<(Tok, usize, usize)>,
    ctx: Vec<Ctx>,
    name: String,
    text: String,
}

impl<'a> Parser<'a> {
    pub(crate) fn new(src: &'a str) -> Self {
        Parser {
            src,
            buf: src.encode_utf16().collect(),
            ptr: 0,
            row: 1,
            row_start: 0,
            token_incomplete: false,
            cur: None,
            pending: None,
            ctx: vec![Ctx {
                kind: CtxKind::Root,
                index: -1,
                line: 1,
                col: 0,
            }],
            name: String::new(),
            text: String::new(),
        }
    }

    // ----- locations and errors -------------------------------------------

    /// `[Source: (String)"…"; line: L, column: C]`, as Jackson prints it.
    fn location(&self, line: usize, col: usize) -> String {
        let mut s = String::from("[Source: (String)\"");
        if self.buf.len() <= MAX_SNIPPET {
            s.push_str(self.src);
            s.push('"');
        } else {
            s.push_str(&String::from_utf16_lossy(&self.buf[..MAX_SNIPPET]));
            s.push('"');
            s.push_str(&format!(
                "[truncated {} chars]",
                self.buf.len() - MAX_SNIPPET
            ));
        }
        s.push_str(&format!("; line: {line}, column: {col}]"));
        s
    }

    /// An error at the parser's current position, with Jackson's suffix.
    pub(crate) fn error(&self, msg: &str) -> String {
        let col = self.ptr - self.row_start + 1;
        format!("{msg}\n at {}", self.location(self.row, col))
    }

    /// An error about the one character just consumed, located at that character: Jackson
    /// 2.17 and later report these one column before the current position (AWS answers
    /// `column: 2` for `{'bad': 'quotation'}`), while other errors keep the current one.
    fn error_at_consumed(&self, msg: &str) -> String {
        let col = (self.ptr - self.row_start).max(1);
        format!("{msg}\n at {}", self.location(self.row, col))
    }

    fn char_desc(c: u16) -> String {
        let ch = char::from_u32(c as u32).unwrap_or('\u{FFFD}');
        if c < 0x20 || (0x7f..=0x9f).contains(&c) {
            format!("(CTRL-CHAR, code {c})")
        } else if c > 255 {
            format!("'{ch}' (code {c} / 0x{c:x})")
        } else {
            format!("'{ch}' (code {c})")
        }
    }

    fn unexpected_char(&self, c: u16, comment: &str) -> String {
        self.error_at_consumed(&format!(
            "Unexpected character ({}): {comment}",
            Self::char_desc(c)
        ))
    }

    fn unexpected_number_char(&self, c: u16, comment: &str) -> String {
        self.error_at_consumed(&format!(
            "Unexpected character ({}) in numeric value: {comment}",
            Self::char_desc(c)
        ))
    }

    fn top(&self) -> &Ctx {
        self.ctx.last().expect("root context")
    }

    fn eof_error(&self) -> String {
        let top = self.top();
        self.error(&format!(
            "Unexpected end-of-input: expected close marker for {} (start marker at {})",
            top.type_desc(),
            self.location(top.line, top.col)
        ))
    }

    // ----- public API used by the compiler --------------------------------

    /// The text of the current token (finishing a started string).
    pub(crate) fn text(&mut self) -> Result<String, String> {
        match self.cur {
            Some(Tok::String) => {
                if self.token_incomplete {
                    self.token_incomplete = false;
                    self.text = self.read_string(false)?;
                }
                Ok(self.text.clone())
            }
            Some(Tok::FieldName) => Ok(self.name.clone()),
            Some(Tok::NumberInt) | Some(Tok::NumberFloat) => Ok(self.text.clone()),
            Some(Tok::True) => Ok("true".into()),
            Some(Tok::False) => Ok("false".into()),
            Some(Tok::Null) => Ok("null".into()),
            Some(Tok::StartObject) => Ok("{".into()),
            Some(Tok::EndObject) => Ok("}".into()),
            Some(Tok::StartArray) => Ok("[".into()),
            Some(Tok::EndArray) => Ok("]".into()),
            None => Ok(String::new()),
        }
    }

    /// The current token.
    pub(crate) fn current(&self) -> Option<Tok> {
        self.cur
    }

    /// The current field name (valid right after a `FieldName` token).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The next token, or `None` at the end of input at the root level.
    pub(crate) fn next_token(&mut self) -> Result<Option<Tok>, String> {
        if self.cur == Some(Tok::FieldName) {
            let (t, line, col) = self.pending.take().expect("value after name");
            match t {
                Tok::StartArray => self.push(CtxKind::Array, line, col),
                Tok::StartObject => self.push(CtxKind::Object, line, col),
                _ => {}
            }
            self.cur = Some(t);
            return Ok(Some(t));
        }
        if self.token_incomplete {
            self.token_incomplete = false;
            self.read_string(false)?;
        }
        let Some(mut i) = self.skip_ws_or_end()? else {
            self.cur = None;
            return Ok(None);
        };
        if i == b']' as u16 || i == b'}' as u16 {
            self.close_scope(i)?;
            return Ok(self.cur);
        }
        let expect_comma = {
            let top = self.ctx.last_mut().expect("root context");
            top.index += 1;
            top.kind != CtxKind::Root && top.index > 0
        };
        if expect_comma {
            i = self.skip_comma(i)?;
        }
        let in_object = self.top().kind == CtxKind::Object;
        if in_object {
            if i != b'"' as u16 {
                return Err(
                    self.unexpected_char(i, "was expecting double-quote to start field name")
                );
            }
            self.name = self.read_string(true)?;
            self.cur = Some(Tok::FieldName);
            i = self.skip_colon()?;
        }
        // Location of the value's first character (1-based column).
        let (tline, tcol) = (self.row, self.ptr - self.row_start);
        let t = match i {
            0x22 => {
                self.token_incomplete = true;
                Tok::String
            }
            0x5b => {
                if !in_object {
                    self.push(CtxKind::Array, tline, tcol);
                }
                Tok::StartArray
            }
            0x7b => {
                if !in_object {
                    self.push(CtxKind::Object, tline, tcol);
                }
                Tok::StartObject
            }
            0x7d => return Err(self.unexpected_char(i, "expected a value")),
            0x74 => {
                self.match_token("true")?;
                Tok::True
            }
            0x66 => {
                self.match_token("false")?;
                Tok::False
            }
            0x6e => {
                self.match_token("null")?;
                Tok::Null
            }
            0x2d | 0x30..=0x39 => self.parse_number(i)?,
            _ => return Err(self.odd_value(i)),
        };
        if in_object {
            self.pending = Some((t, tline, tcol));
            return Ok(Some(Tok::FieldName));
        }
        self.cur = Some(t);
        Ok(Some(t))
    }

    // ----- internals -------------------------------------------------------

    fn push(&mut self, kind: CtxKind, line: usize, col: usize) {
        self.ctx.push(Ctx {
            kind,
            index: -1,
            line,
            col,
        });
    }

    fn close_scope(&mut self, i: u16) -> Result<(), String> {
        let (want, exp, tok) = if i == b']' as u16 {
            (CtxKind::Array, '}', Tok::EndArray)
        } else {
            (CtxKind::Object, ']', Tok::EndObject)
        };
        if self.top().kind != want {
            let top = self.top();
            return Err(self.error_at_consumed(&format!(
                "Unexpected close marker '{}': expected '{exp}' (for {} starting at {})",
                i as u8 as char,
                top.type_desc(),
                self.location(top.line, top.col)
            )));
        }
        self.ctx.pop();
        self.cur = Some(tok);
        Ok(())
    }

    /// Skips white space; returns the next significant unit (consumed).
    fn skip_ws_or_end(&mut self) -> Result<Option<u16>, String> {
        loop {
            if self.ptr >= self.buf.len() {
                if self.top().kind != CtxKind::Root {
                    return Err(self.eof_error());
                }
                return Ok(None);
            }
            if let Some(c) = self.ws_step()? {
                return Ok(Some(c));
            }
        }
    }

    /// Consumes one unit; returns it if it is significant, `None` for white space.
    fn ws_step(&mut self) -> Result<Option<u16>, String> {
        let c = self.buf[self.ptr];
        self.ptr += 1;
        match c {
            0x20 | 0x09 => Ok(None),
            0x0a => {
                self.row += 1;
                self.row_start = self.ptr;
                Ok(None)
            }
            0x0d => {
                if self.ptr < self.buf.len() && self.buf[self.ptr] == 0x0a {
                    self.ptr += 1;
                }
                self.row += 1;
                self.row_start = self.ptr;
                Ok(None)
            }
            0x2f => Err(self.unexpected_char(
                c,
                "maybe a (non-standard) comment? (not recognized as one since Feature 'ALLOW_COMMENTS' not enabled for parser)",
            )),
            c if c < 0x20 => Err(self.error(&format!(
                "Illegal character ({}): only regular white space (\\r, \\n, \\t) is allowed between tokens",
                Self::char_desc(c)
            ))),
            c => Ok(Some(c)),
        }
    }

    fn skip_comma(&mut self, i: u16) -> Result<u16, String> {
        if i != b',' as u16 {
            let desc = self.top().type_desc();
            return Err(self.unexpected_char(
                i,
                &format!("was expecting comma to separate {desc} entries"),
            ));
        }
        loop {
            if self.ptr >= self.buf.len() {
                let desc = self.top().type_desc();
                return Err(self.error(&format!(
                    "Unexpected end-of-input within/between {desc} entries"
                )));
            }
            if let Some(c) = self.ws_step()? {
                return Ok(c);
            }
        }
    }

    fn skip_colon(&mut self) -> Result<u16, String> {
        let mut got_colon = false;
        loop {
            if self.ptr >= self.buf.len() {
                let desc = self.top().type_desc();
                return Err(self.error(&format!(
                    "Unexpected end-of-input within/between {desc} entries"
                )));
            }
            if let Some(c) = self.ws_step()? {
                if got_colon {
                    return Ok(c);
                }
                if c != b':' as u16 {
                    return Err(self.unexpected_char(
                        c,
                        "was expecting a colon to separate field name and value",
                    ));
                }
                got_colon = true;
            }
        }
    }

    /// Reads a string body (the opening quote is already consumed).
    fn read_string(&mut self, is_name: bool) -> Result<String, String> {
        let mut out: Vec<u16> = Vec::new();
        loop {
            if self.ptr >= self.buf.len() {
                return Err(self.error(if is_name {
                    "Unexpected end-of-input in field name"
                } else {
                    "Unexpected end-of-input: was expecting closing quote for a string value"
                }));
            }
            let c = self.buf[self.ptr];
            self.ptr += 1;
            match c {
                0x22 => break,
                0x5c => out.push(self.decode_escape()?),
                c if c < 0x20 => {
                    let what = if is_name { "name" } else { "string value" };
                    return Err(self.error_at_consumed(&format!(
                        "Illegal unquoted character ({}): has to be escaped using backslash to be included in {what}",
                        Self::char_desc(c)
                    )));
                }
                c => out.push(c),
            }
        }
        Ok(String::from_utf16_lossy(&out))
    }

    fn decode_escape(&mut self) -> Result<u16, String> {
        if self.ptr >= self.buf.len() {
            return Err(self.error("Unexpected end-of-input in character escape sequence"));
        }
        let c = self.buf[self.ptr];
        self.ptr += 1;
        Ok(match c {
            0x62 => 0x08,
            0x74 => 0x09,
            0x6e => 0x0a,
            0x66 => 0x0c,
            0x72 => 0x0d,
            0x22 | 0x2f | 0x5c => c,
            0x75 => {
                let mut v: u16 = 0;
                for _ in 0..4 {
                    if self.ptr >= self.buf.len() {
                        return Err(
                            self.error("Unexpected end-of-input in character escape sequence")
                        );
                    }
                    let h = self.buf[self.ptr];
                    self.ptr += 1;
                    let d = char::from_u32(h as u32).and_then(|ch| ch.to_digit(16));
                    match d {
                        Some(d) => v = (v << 4) | d as u16,
                        None => {
                            return Err(self.unexpected_char(
                                h,
                                "expected a hex-digit for character escape sequence",
                            ));
                        }
                    }
                }
                v
            }
            _ => {
                return Err(self.error_at_consumed(&format!(
                    "Unrecognized character escape {}",
                    Self::char_desc(c)
                )));
            }
        })
    }

    fn is_ident_part(c: u16) -> bool {
        match char::from_u32(c as u32) {
            Some(ch) => ch.is_alphanumeric() || ch == '_' || ch == '$' || is_currency(ch),
            None => false,
        }
    }

    fn is_ident_start(c: u16) -> bool {
        match char::from_u32(c as u32) {
            Some(ch) => ch.is_alphabetic() || ch == '_' || ch == '$' || is_currency(ch),
            None => false,
        }
    }

    /// Jackson's `_reportInvalidToken`: echo the token plus following identifier characters.
    fn invalid_token(&mut self, matched: &str) -> String {
        let mut s: Vec<u16> = matched.encode_utf16().collect();
        let mut suffix = "";
        while self.ptr < self.buf.len() && Self::is_ident_part(self.buf[self.ptr]) {
            s.push(self.buf[self.ptr]);
            self.ptr += 1;
            if s.len() >= MAX_ERROR_TOKEN {
                suffix = "...";
                break;
            }
        }
        let tok = String::from_utf16_lossy(&s);
        self.error(&format!(
            "Unrecognized token '{tok}{suffix}': was expecting {VALID_VALUES}"
        ))
    }

    /// Matches the rest of `true`/`false`/`null` (first letter already consumed).
    fn match_token(&mut self, word: &str) -> Result<(), String> {
        let w: Vec<u16> = word.encode_utf16().collect();
        for (k, &wc) in w.iter().enumerate().skip(1) {
            if self.ptr >= self.buf.len() || self.buf[self.ptr] != wc {
                return Err(self.invalid_token(&word[..k]));
            }
            self.ptr += 1;
        }
        if self.ptr < self.buf.len() {
            let c = self.buf[self.ptr];
            if c >= b'0' as u16 && c != b']' as u16 && c != b'}' as u16 && Self::is_ident_part(c) {
                return Err(self.invalid_token(word));
            }
        }
        Ok(())
    }

    fn odd_value(&mut self, i: u16) -> String {
        match i {
            0x4e | 0x49 => {
                // 'N' (NaN) or 'I' (Infinity): not allowed without a Jackson feature.
                let word = if i == 0x4e { "NaN" } else { "Infinity" };
                match self.match_token(word) {
                    Err(e) => e,
                    Ok(()) => self.error(&format!(
                        "Non-standard token '{word}': enable JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS to allow"
                    )),
                }
            }
            0x2b => {
                if self.ptr >= self.buf.len() {
                    return self.error("Unexpected end-of-input in a Number value");
                }
                let c = self.buf[self.ptr];
                self.ptr += 1;
                self.unexpected_number_char(
                    c,
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                )
            }
            _ if Self::is_ident_start(i) => {
                let first = String::from_utf16_lossy(&[i]);
                self.invalid_token(&first)
            }
            _ => self.unexpected_char(i, &format!("expected a valid value {VALID_VALUES}")),
        }
    }

    fn is_digit(c: u16) -> bool {
        (b'0' as u16..=b'9' as u16).contains(&c)
    }

    /// Parses a number whose first unit (`-` or a digit) is already consumed.
    fn parse_number(&mut self, first: u16) -> Result<Tok, String> {
        let start = self.ptr - 1;
        let mut float = false;
        let mut c = first;
        if first == b'-' as u16 {
            if self.ptr >= self.buf.len() {
                return Err(self.error("Unexpected end-of-input in a Number value"));
            }
            c = self.buf[self.ptr];
            self.ptr += 1;
            if !Self::is_digit(c) {
                return Err(self.unexpected_number_char(
                    c,
                    "expected digit (0-9) to follow minus sign, for valid numeric value",
                ));
            }
        }
        if c == b'0' as u16 && self.ptr < self.buf.len() && Self::is_digit(self.buf[self.ptr]) {
            return Err(self.error("Invalid numeric value: Leading zeroes not allowed"));
        }
        while self.ptr < self.buf.len() && Self::is_digit(self.buf[self.ptr]) {
            self.ptr += 1;
        }
        if self.ptr < self.buf.len() && self.buf[self.ptr] == b'.' as u16 {
            float = true;
            self.ptr += 1;
            let mut n = 0;
            while self.ptr < self.buf.len() && Self::is_digit(self.buf[self.ptr]) {
                self.ptr += 1;
                n += 1;
            }
            if n == 0 {
                if self.ptr >= self.buf.len() {
                    return Err(self.error("Unexpected end-of-input in a Number value"));
                }
                let c = self.buf[self.ptr];
                self.ptr += 1;
                return Err(self.unexpected_number_char(c, "Decimal point not followed by a digit"));
            }
        }
        if self.ptr < self.buf.len() && (self.buf[self.ptr] | 0x20) == b'e' as u16 {
            float = true;
            self.ptr += 1;
            if self.ptr < self.buf.len()
                && (self.buf[self.ptr] == b'+' as u16 || self.buf[self.ptr] == b'-' as u16)
            {
                self.ptr += 1;
            }
            let mut n = 0;
            while self.ptr < self.buf.len() && Self::is_digit(self.buf[self.ptr]) {
                self.ptr += 1;
                n += 1;
            }
            if n == 0 {
                if self.ptr >= self.buf.len() {
                    return Err(self.error("Unexpected end-of-input in a Number value"));
                }
                let c = self.buf[self.ptr];
                self.ptr += 1;
                return Err(
                    self.unexpected_number_char(c, "Exponent indicator not followed by a digit")
                );
            }
        }
        self.text = String::from_utf16_lossy(&self.buf[start..self.ptr]);
        Ok(if float {
            Tok::NumberFloat
        } else {
            Tok::NumberInt
        })
    }
}

fn is_currency(ch: char) -> bool {
    matches!(ch, '\u{a2}'..='\u{a5}' | '\u{20a0}'..='\u{20cf}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first_error(src: &str) -> String {
        let mut p = Parser::new(src);
        loop {
            match p.next_token() {
                Ok(None) => return String::new(),
                Ok(Some(Tok::String)) => {
                    if let Err(e) = p.text() {
                        return e;
                    }
                }
                Ok(Some(_)) => {}
                Err(e) => return e,
            }
        }
    }

    #[test]
    fn unrecognized_token() {
        assert_eq!(
            first_error("this is not json"),
            "Unrecognized token 'this': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')\n at [Source: (String)\"this is not json\"; line: 1, column: 5]"
        );
    }

    #[test]
    fn single_quote_name() {
        assert_eq!(
            first_error("{'a': 1}"),
            "Unexpected character (''' (code 39)): was expecting double-quote to start field name\n at [Source: (String)\"{'a': 1}\"; line: 1, column: 2]"
        );
    }

    #[test]
    fn eof_in_object() {
        assert_eq!(
            first_error("{\"a\":[1]"),
            "Unexpected end-of-input: expected close marker for Object (start marker at [Source: (String)\"{\"a\":[1]\"; line: 1, column: 1])\n at [Source: (String)\"{\"a\":[1]\"; line: 1, column: 9]"
        );
    }

    #[test]
    fn lines_and_columns() {
        let e = first_error("{\n  \"a\": [1,\n  tru]}");
        assert!(e.ends_with("line: 3, column: 6]"), "{e}");
        assert!(e.starts_with("Unrecognized token 'tru':"), "{e}");
    }

    #[test]
    fn truncated_snippet() {
        let long = format!("{{\"a\":[\"{}\"]", "x".repeat(600));
        let e = first_error(&long);
        assert!(e.contains("[truncated 109 chars]; line: 1"), "{e}");
    }
}
