//! The content hash of an AuditData object ([`content_hash`]), fast: the object's
//! canonical form is written straight from its bytes — strings unescaped, numbers as
//! serde_json prints them, each object's members sorted by key, the last of repeated keys
//! kept — and hashed once, with no tree of `serde_json::Value`s (which cost most of the
//! time a kept UAL record took).
//!
//! The canonical bytes are exactly those [`hash_value`] feeds its hasher for the
//! `Value` serde_json builds, so both give the same hash for any object both read; the
//! fast path gives up on anything serde_json might read otherwise (invalid UTF-8, a lone
//! surrogate escape, control characters in strings, nesting past 100, a number serde_json
//! must parse) and leaves it to the `Value` path.

use xxhash_rust::xxh3::Xxh3;

/// A hash of the object's content, independent of whitespace, key order and string
/// escaping (`\/` or `/`, `\u00e9` or `é`).
pub(super) fn content_hash(json: &[u8]) -> u128 {
    let mut out = Vec::with_capacity(json.len() + 64);
    if simdutf8::basic::from_utf8(json).is_ok() {
        let mut p = Canon {
            json,
            at: 0,
            keys: Vec::new(),
        };
        if p.value(&mut out, 0).is_some() && p.skip_ws() == json.len() {
            let mut h = Xxh3::new();
            h.update(&out);
            return h.digest128();
        }
    }
    slow_hash(json)
}

/// The hash through serde_json's `Value` (or of the raw bytes, when not JSON).
pub(super) fn slow_hash(json: &[u8]) -> u128 {
    let mut h = Xxh3::new();
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(v) => hash_value(&v, &mut h),
        Err(_) => {
            h.update(b"raw\0");
            h.update(json);
        }
    }
    h.digest128()
}

/// Feeds a canonical form of `v` to `h`: type tags and lengths make it unambiguous, and
/// object keys are sorted here (not left to the map type's order).
pub(super) fn hash_value(v: &serde_json::Value, h: &mut Xxh3) {
    use serde_json::Value;
    let mut bytes = |tag: u8, b: &[u8]| {
        h.update(&[tag]);
        h.update(&(b.len() as u64).to_le_bytes());
        h.update(b);
    };
    match v {
        Value::Null => bytes(b'z', b""),
        Value::Bool(b) => bytes(b'b', &[u8::from(*b)]),
        Value::Number(n) => bytes(b'n', n.to_string().as_bytes()),
        Value::String(s) => bytes(b's', s.as_bytes()),
        Value::Array(a) => {
            bytes(b'a', &(a.len() as u64).to_le_bytes());
            for e in a {
                hash_value(e, h);
            }
        }
        Value::Object(m) => {
            bytes(b'o', &(m.len() as u64).to_le_bytes());
            let mut entries: Vec<_> = m.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            for (k, e) in entries {
                h.update(&(k.len() as u64).to_le_bytes());
                h.update(k.as_bytes());
                hash_value(e, h);
            }
        }
    }
}

/// Nesting the fast path follows (serde_json stops at 128).
const MAX_DEPTH: usize = 100;

struct Canon<'a> {
    json: &'a [u8],
    at: usize,
    /// Unescaped keys of the objects being read.
    keys: Vec<u8>,
}

/// Appends `tag`, `len` as u64 LE: a value's header.
fn header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    out.extend_from_slice(&(len as u64).to_le_bytes());
}

impl Canon<'_> {
    fn skip_ws(&mut self) -> usize {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.json.get(self.at) {
            self.at += 1;
        }
        self.at
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.skip_ws();
        if self.json.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    /// Writes the canonical form of the value at the cursor; `None`: leave it to serde.
    fn value(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        self.skip_ws();
        match *self.json.get(self.at)? {
            b'{' => self.object(out, depth),
            b'[' => self.array(out, depth),
            b'"' => {
                let start = out.len();
                header(out, b's', 0);
                let len = self.string(out)?;
                out[start + 1..start + 9].copy_from_slice(&(len as u64).to_le_bytes());
                Some(())
            }
            b't' => self.literal(b"true", out, b'b', &[1]),
            b'f' => self.literal(b"false", out, b'b', &[0]),
            b'n' => self.literal(b"null", out, b'z', &[]),
            b'-' | b'0'..=b'9' => self.number(out),
            _ => None,
        }
    }

    fn literal(&mut self, word: &[u8], out: &mut Vec<u8>, tag: u8, value: &[u8]) -> Option<()> {
        if !self.json[self.at..].starts_with(word) {
            return None;
        }
        self.at += word.len();
        header(out, tag, value.len());
        out.extend_from_slice(value);
        Some(())
    }

    /// A number, printed as serde_json prints the `Number` it parses.
    fn number(&mut self, out: &mut Vec<u8>) -> Option<()> {
        let start = self.at;
        while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.json.get(self.at) {
            self.at += 1;
        }
        let text = std::str::from_utf8(&self.json[start..self.at]).ok()?;
        let n: serde_json::Number = serde_json::from_str(text).ok()?;
        let printed = n.to_string();
        header(out, b'n', printed.len());
        out.extend_from_slice(printed.as_bytes());
        Some(())
    }

    /// Appends the unescaped inside of the string at the cursor; its length.
    fn string(&mut self, out: &mut Vec<u8>) -> Option<usize> {
        self.at += 1; // the opening quote
        let start = out.len();
        loop {
            let rest = &self.json[self.at..];
            let i = memchr::memchr2(b'"', b'\\', rest)?;
            let plain = &rest[..i];
            if plain.iter().any(|&b| b < 0x20) {
                return None; // serde_json refuses control characters in strings
            }
            out.extend_from_slice(plain);
            self.at += i + 1;
            if rest[i] == b'"' {
                return Some(out.len() - start);
            }
            let e = *self.json.get(self.at)?;
            self.at += 1;
            let simple = match e {
                b'"' => b'"',
                b'\\' => b'\\',
                b'/' => b'/',
                b'b' => 0x08,
                b'f' => 0x0C,
                b'n' => b'\n',
                b'r' => b'\r',
                b't' => b'\t',
                b'u' => {
                    let code = self.hex()?;
                    let c = if (0xD800..0xDC00).contains(&code) {
                        if self.json.get(self.at..self.at + 2) != Some(b"\\u") {
                            return None;
                        }
                        self.at += 2;
                        let low = self.hex()?;
                        if !(0xDC00..0xE000).contains(&low) {
                            return None;
                        }
                        char::from_u32(0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00))?
                    } else {
                        char::from_u32(code)? // a lone low surrogate is no char
                    };
                    let mut buf = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                    continue;
                }
                _ => return None,
            };
            out.push(simple);
        }
    }

    fn hex(&mut self) -> Option<u32> {
        let digits = self.json.get(self.at..self.at + 4)?;
        self.at += 4;
        let text = std::str::from_utf8(digits).ok()?;
        if !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(text, 16).ok()
    }

    fn array(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.at += 1;
        let start = out.len();
        header(out, b'a', 8);
        out.extend_from_slice(&0u64.to_le_bytes());
        let mut count = 0u64;
        if !self.eat(b']') {
            loop {
                self.value(out, depth + 1)?;
                count += 1;
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b']') {
                    break;
                }
                return None;
            }
        }
        out[start + 9..start + 17].copy_from_slice(&count.to_le_bytes());
        Some(())
    }

    fn object(&mut self, out: &mut Vec<u8>, depth: usize) -> Option<()> {
        self.at += 1;
        let start = out.len();
        // Members as read: (key range in `keys`, canonical value range in `out`).
        let mut members: Vec<((usize, usize), (usize, usize))> = Vec::new();
        let keys_start = self.keys.len();
        if !self.eat(b'}') {
            loop {
                self.skip_ws();
                if self.json.get(self.at) != Some(&b'"') {
                    return None;
                }
                let k0 = self.keys.len();
                let mut key = std::mem::take(&mut self.keys);
                let len = self.string(&mut key);
                self.keys = key;
                len?;
                let k1 = self.keys.len();
                if !self.eat(b':') {
                    return None;
                }
                let v0 = out.len();
                self.value(out, depth + 1)?;
                members.push(((k0, k1), (v0, out.len())));
                if self.eat(b',') {
                    continue;
                }
                if self.eat(b'}') {
                    break;
                }
                return None;
            }
        }
        // Sorted by key (stable), the last of equal keys kept, as a BTreeMap holds them.
        let keys = &self.keys;
        let key = |m: &((usize, usize), (usize, usize))| &keys[m.0 .0..m.0 .1];
        members.sort_by(|a, b| key(a).cmp(key(b)));
        let mut kept: Vec<usize> = Vec::with_capacity(members.len());
        for (i, m) in members.iter().enumerate() {
            match kept.last() {
                Some(&j) if key(&members[j]) == key(m) => *kept.last_mut()? = i,
                _ => kept.push(i),
            }
        }
        let mut canon = Vec::with_capacity(out.len() - start + 17 + 8 * kept.len());
        header(&mut canon, b'o', 8);
        canon.extend_from_slice(&(kept.len() as u64).to_le_bytes());
        for &i in &kept {
            let ((k0, k1), (v0, v1)) = members[i];
            canon.extend_from_slice(&((k1 - k0) as u64).to_le_bytes());
            canon.extend_from_slice(&keys[k0..k1]);
            canon.extend_from_slice(&out[v0..v1]);
        }
        out.truncate(start);
        out.extend_from_slice(&canon);
        self.keys.truncate(keys_start);
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fast(json: &str) -> Option<u128> {
        let mut out = Vec::new();
        let mut p = Canon {
            json: json.as_bytes(),
            at: 0,
            keys: Vec::new(),
        };
        let whole = p.value(&mut out, 0).is_some() && p.skip_ws() == json.len();
        whole.then(|| {
            let mut h = Xxh3::new();
            h.update(&out);
            h.digest128()
        })
    }

    #[test]
    fn same_hash_as_through_values() {
        for json in [
            r#"{"b":1,"a":[true,false,null,"x\"y"],"c":{"z":-0.5,"y":1e3,"x":12345678901234567890}}"#,
            r#" { "a" : "\u00e9\/\ud83d\ude00" , "a" : 2 , "": {} , "k": [] } "#,
            r#"{"Id":"x","RecordType":2,"Item":{"Subject":"Good \"News\"\n","ParentFolder":{"Path":"\\Inbox"}}}"#,
            "{\"a\":-0,\"b\":1.0,\"c\":1E2,\"d\":0.1e-5}",
        ] {
            assert_eq!(fast(json), Some(slow_hash(json.as_bytes())), "{json}");
            assert_eq!(content_hash(json.as_bytes()), slow_hash(json.as_bytes()));
        }
        // Key order, spacing and escaping do not matter.
        assert_eq!(
            content_hash(br#"{"a":"\u00e9","b":[1,2]}"#),
            content_hash("{ \"b\" : [1, 2], \"a\": \"é\" }".as_bytes())
        );
        // Left to serde_json (and hashed raw when it refuses too).
        for json in [
            r#"{"a":"\ud800"}"#,
            "{\"a\":\"tab\there\"}",
            r#"{"a":1,}"#,
            r#"{"a":1} x"#,
            r#"{"a":1e999}"#,
            r#"{"a":01}"#,
        ] {
            assert_eq!(
                content_hash(json.as_bytes()),
                slow_hash(json.as_bytes()),
                "{json}"
            );
        }
        assert_eq!(fast(r#"{"a":"\udc00"}"#), None);
    }

    fn json_value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("false".to_string()),
            any::<i64>().prop_map(|n| n.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:e}")),
            "[a-z\"\\\\/é\u{1F600}\n\t ]{0,8}"
                .prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
            Just(r#""\u00e9\/\ud83d\ude00""#.to_string()),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(" , "))),
                prop::collection::vec(("[a-d]{0,2}", inner), 0..6).prop_map(|m| {
                    let members: Vec<String> = m
                        .into_iter()
                        .map(|(k, v)| format!("\"{k}\": {v}"))
                        .collect();
                    format!("{{ {} }}", members.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]

        /// Whatever the fast path reads, it hashes as the `Value` path does.
        #[test]
        fn fast_equals_slow(json in json_value()) {
            if let Some(h) = fast(&json) {
                prop_assert_eq!(h, slow_hash(json.as_bytes()), "{}", json);
            }
            prop_assert_eq!(content_hash(json.as_bytes()), slow_hash(json.as_bytes()));
        }

        /// Arbitrary bytes: no panic, and the same answer as the `Value` path.
        #[test]
        fn bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(content_hash(&bytes), slow_hash(&bytes));
        }
    }
}
