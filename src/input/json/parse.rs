//! A small validating JSON parser that borrows everything from the input.
//!
//! It reads one record object at a time into a list of top-level [`Member`]s whose
//! values are byte spans of the input ([`Val`]): strings are left escaped (the caller
//! wraps them in [`crate::record::RawField::json`]), nested objects and arrays are
//! validated and kept as their raw bytes, to be walked again only when a mapping needs
//! them (`SourceItems`, a `LastAccessed` date object). No tree, no allocation besides
//! the reused member list.
//!
//! The grammar is RFC 8259's, strictly: a record that is not valid JSON is reported, not
//! guessed at. Nesting is limited to [`MAX_DEPTH`] levels so that hostile input cannot
//! exhaust the stack.

use crate::input::json_lex::{skip_ws, strict_string};

/// Deepest nesting accepted inside a record.
pub(super) const MAX_DEPTH: u32 = 128;

/// A JSON value, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Val<'a> {
    /// The inside of a string, escapes not resolved.
    Str(&'a [u8]),
    /// A number's text.
    Num(&'a [u8]),
    Bool(bool),
    Null,
    /// A whole object, braces included.
    Obj(&'a [u8]),
    /// A whole array, brackets included.
    Arr(&'a [u8]),
}

/// One `"name": value` of an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Member<'a> {
    /// The inside of the name string, escapes not resolved.
    pub key: &'a [u8],
    pub val: Val<'a>,
}

/// Why a value is not valid JSON, and where (a byte offset into the parsed slice).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Error {
    pub at: usize,
    pub what: &'static str,
}

type Res<T> = Result<T, Error>;

struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl<'a> Parser<'a> {
    fn err<T>(&self, what: &'static str) -> Res<T> {
        Err(Error { at: self.pos, what })
    }

    fn ws(&mut self) {
        self.pos = skip_ws(self.s, self.pos);
    }

    fn eat(&mut self, b: u8, what: &'static str) -> Res<()> {
        if self.s.get(self.pos) == Some(&b) {
            self.pos += 1;
            Ok(())
        } else {
            self.err(what)
        }
    }

    /// A string starting at the opening quote; returns its inside.
    fn string(&mut self) -> Res<&'a [u8]> {
        let start = self.pos + 1;
        match strict_string(self.s, start) {
            Ok(quote) => {
                self.pos = quote + 1;
                Ok(&self.s[start..quote])
            }
            Err(e) => {
                self.pos = e.at;
                self.err(e.what)
            }
        }
    }

    fn number(&mut self) -> Res<&'a [u8]> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let from = p.pos;
            while p.s.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos > from
        };
        if self.s.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        if self.s.get(self.pos) == Some(&b'0') {
            self.pos += 1;
        } else if !digits(self) {
            return self.err("invalid number");
        }
        if self.s.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if !digits(self) {
                return self.err("invalid number");
            }
        }
        if let Some(b'e' | b'E') = self.s.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.s.get(self.pos) {
                self.pos += 1;
            }
            if !digits(self) {
                return self.err("invalid number");
            }
        }
        Ok(&self.s[start..self.pos])
    }

    fn literal(&mut self, word: &'static [u8], val: Val<'a>) -> Res<Val<'a>> {
        if self.s.get(self.pos..self.pos + word.len()) == Some(word) {
            self.pos += word.len();
            Ok(val)
        } else {
            self.err("unexpected character")
        }
    }

    fn value(&mut self, depth: u32) -> Res<Val<'a>> {
        self.ws();
        match self.s.get(self.pos) {
            None => self.err("unexpected end of the record"),
            Some(b'"') => self.string().map(Val::Str),
            Some(b'{') => {
                let start = self.pos;
                self.object(depth + 1, &mut |_| {})?;
                Ok(Val::Obj(&self.s[start..self.pos]))
            }
            Some(b'[') => {
                let start = self.pos;
                self.array(depth + 1, &mut |_| {})?;
                Ok(Val::Arr(&self.s[start..self.pos]))
            }
            Some(b't') => self.literal(b"true", Val::Bool(true)),
            Some(b'f') => self.literal(b"false", Val::Bool(false)),
            Some(b'n') => self.literal(b"null", Val::Null),
            Some(b'-' | b'0'..=b'9') => self.number().map(Val::Num),
            Some(_) => self.err("unexpected character"),
        }
    }

    /// An object starting at `{`; calls `each` for every member.
    fn object(&mut self, depth: u32, each: &mut dyn FnMut(Member<'a>)) -> Res<()> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.eat(b'{', "expected '{'")?;
        self.ws();
        if self.s.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            self.ws();
            if self.s.get(self.pos) != Some(&b'"') {
                return self.err("expected a member name in quotes");
            }
            let key = self.string()?;
            self.ws();
            self.eat(b':', "expected ':' after a member name")?;
            let val = self.value(depth)?;
            each(Member { key, val });
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return self.err("unexpected end of the record"),
                Some(_) => return self.err("expected ',' or '}' after a member"),
            }
        }
    }

    /// An array starting at `[`; calls `each` for every element.
    fn array(&mut self, depth: u32, each: &mut dyn FnMut(Val<'a>)) -> Res<()> {
        if depth > MAX_DEPTH {
            return self.err("nested too deep");
        }
        self.eat(b'[', "expected '['")?;
        self.ws();
        if self.s.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            let val = self.value(depth)?;
            each(val);
            self.ws();
            match self.s.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                None => return self.err("unexpected end of the record"),
                Some(_) => return self.err("expected ',' or ']' after an element"),
            }
        }
    }
}

/// What [`super::blocks::parse_record`] tells besides the members.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Parsed {
    /// The offset just past the closing brace.
    pub end: usize,
    /// Whether a string escapes a UTF-16 surrogate (`\uD83D`), when known.
    pub surrogates: Option<bool>,
    /// The line feeds inside the record, when known.
    pub line_feeds: Option<u64>,
}

/// [`record`], one byte at a time: the reference the block reader is held to.
pub(super) fn record_by_bytes<'a>(
    s: &'a [u8],
    start: usize,
    out: &mut Vec<Member<'a>>,
) -> Res<usize> {
    out.clear();
    let mut p = Parser { s, pos: start };
    p.object(1, &mut |m| out.push(m))?;
    Ok(p.pos)
}

/// Calls `each` for every member of `obj`, an object already validated (a [`Val::Obj`]).
pub(super) fn for_each_member<'a>(obj: &'a [u8], mut each: impl FnMut(Member<'a>)) {
    let mut p = Parser { s: obj, pos: 0 };
    let _ = p.object(1, &mut each);
}

/// Calls `each` for every element of `arr`, an array already validated (a [`Val::Arr`]).
pub(super) fn for_each_element<'a>(arr: &'a [u8], mut each: impl FnMut(Val<'a>)) {
    let mut p = Parser { s: arr, pos: 0 };
    let _ = p.array(1, &mut each);
}

/// The member of `obj` named `name` (ASCII case-insensitive), if any.
pub(super) fn member<'a>(obj: &'a [u8], name: &[u8]) -> Option<Val<'a>> {
    let mut found = None;
    for_each_member(obj, |m| {
        if found.is_none() && m.key.eq_ignore_ascii_case(name) {
            found = Some(m.val);
        }
    });
    found
}

/// Feeds a canonical form of the valid JSON value `v` to `out`: no insignificant
/// whitespace, strings unescaped and length-prefixed, object members sorted by name, so
/// that two renderings of the same value (PowerShell 5.1's `\u0027` or 7's `'`, either
/// indentation) give the same bytes.
pub(super) fn canonical(v: Val<'_>, out: &mut Vec<u8>) {
    let mut scratch = Vec::new();
    let mut string = |tag: u8, raw: &[u8], out: &mut Vec<u8>| {
        scratch.clear();
        crate::record::unescape_json_into(raw, &mut scratch);
        out.push(tag);
        out.extend_from_slice(&(scratch.len() as u64).to_le_bytes());
        out.extend_from_slice(&scratch);
    };
    match v {
        Val::Str(s) => string(b's', s, out),
        Val::Num(n) => {
            out.push(b'n');
            out.extend_from_slice(&(n.len() as u64).to_le_bytes());
            out.extend_from_slice(n);
        }
        Val::Bool(b) => out.extend_from_slice(if b { b"T" } else { b"F" }),
        Val::Null => out.push(b'z'),
        Val::Arr(a) => {
            out.push(b'[');
            for_each_element(a, |e| canonical(e, out));
            out.push(b']');
        }
        Val::Obj(o) => {
            let mut members = Vec::new();
            for_each_member(o, |m| members.push(m));
            let mut keyed: Vec<(Vec<u8>, Val<'_>)> = members
                .into_iter()
                .map(|m| {
                    let mut k = Vec::new();
                    crate::record::unescape_json_into(m.key, &mut k);
                    (k, m.val)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.cmp(&b.0));
            out.push(b'{');
            for (k, val) in keyed {
                out.extend_from_slice(&(k.len() as u64).to_le_bytes());
                out.extend_from_slice(&k);
                canonical(val, out);
            }
            out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Vec<Member<'_>>, Error> {
        let mut out = Vec::new();
        let end = record_by_bytes(s.as_bytes(), 0, &mut out)?;
        assert_eq!(end, s.len());
        Ok(out)
    }

    #[test]
    fn reads_members_as_spans() {
        let m = parse(
            r#"{"a": "x\"y", "b":-1.5e+3,"c" : true,"d":null,"e":{"f":[1,{}]},"g":[],"h":false}"#,
        )
        .unwrap();
        assert_eq!(m.len(), 7);
        assert_eq!(m[0].key, b"a");
        assert_eq!(m[0].val, Val::Str(br#"x\"y"#));
        assert_eq!(m[1].val, Val::Num(b"-1.5e+3"));
        assert_eq!(m[2].val, Val::Bool(true));
        assert_eq!(m[3].val, Val::Null);
        assert_eq!(m[4].val, Val::Obj(br#"{"f":[1,{}]}"#));
        assert_eq!(m[5].val, Val::Arr(b"[]"));
        assert_eq!(m[6].val, Val::Bool(false));
        assert_eq!(member(br#"{"F":[1]}"#, b"f"), Some(Val::Arr(b"[1]")));
    }

    #[test]
    fn rejects_invalid_json() {
        for (bad, what) in [
            (r#"{"a" 1}"#, "expected ':' after a member name"),
            (r#"{"a":1 "b":2}"#, "expected ',' or '}' after a member"),
            (r#"{"a":01}"#, "expected ',' or '}' after a member"),
            (r#"{"a":1.}"#, "invalid number"),
            (r#"{"a":tru}"#, "unexpected character"),
            (r#"{"a":"\x"}"#, "invalid escape in a string"),
            (r#"{"a":"\u12g4"}"#, "invalid \\u escape in a string"),
            (
                "{\"a\":\"x\ny\"}",
                "line break inside a string (unterminated string?)",
            ),
            ("{\"a\":\"x\ty\"}", "control character inside a string"),
            (r#"{"a":[1,]}"#, "unexpected character"),
            (r#"{a:1}"#, "expected a member name in quotes"),
            (r#"{"a":1"#, "unexpected end of the record"),
            (r#"{"a":"#, "unexpected end of the record"),
            (r#"{"a":"abc"#, "unterminated string"),
        ] {
            assert_eq!(parse(bad).unwrap_err().what, what, "{bad}");
        }
        let deep = "{\"a\":".to_string() + &"[".repeat(200) + &"]".repeat(200) + "}";
        assert_eq!(parse(&deep).unwrap_err().what, "nested too deep");
    }

    #[test]
    fn canonical_ignores_layout_and_escapes() {
        let mut a = Vec::new();
        let mut b = Vec::new();
        canonical(Val::Arr(br#"[ {"b": "it\u0027s", "a": 1} ]"#), &mut a);
        canonical(Val::Arr(br#"[{"a":1,"b":"it's"}]"#), &mut b);
        assert_eq!(a, b);
        let mut c = Vec::new();
        canonical(Val::Arr(br#"[{"a":1,"b":"its"}]"#), &mut c);
        assert_ne!(a, c);
    }
}
