//! Nested objects and arrays of an AuditData object (`Item`, `Folders[]`,
//! `AffectedItems[]`, `OperationProperties[]`...), read without serde_json when that is
//! plainly safe.
//!
//! Every value handed here was already read as JSON — by the one-pass check of
//! [`super::canon`] or by serde_json itself — so its members are found with the lexer
//! (strings and nesting skipped, not parsed again), which costs a fraction of serde_json
//! reading the same text a second time (the dump of a whole export spent ~15% of its CPU
//! there). The result is serde_json's, member for member: each value is the text serde
//! would give as a `RawValue` (no surrounding whitespace), a member the struct reads that
//! appears twice makes the whole struct its default (serde's "duplicate field" error,
//! which the callers turn into the default), and a key written with a backslash escape
//! (which serde compares unescaped) leaves the object to serde_json. A nested object or
//! array is jumped over where the scan that checked the record said it ends
//! ([`super::canon::Ends`]), else skipped with the lexer.

use super::{skip_value, Json, Raw};
use crate::input::json_lex::{self as lex, skip_ascii_ws, Quoting};

/// The strings of already checked JSON, read plainly.
const PLAIN: lex::Rules = lex::lenient(Quoting::Plain);

/// A struct read from a nested object: the slot of each member name it reads.
pub(super) trait Slots<'a>: Default {
    /// The field that member `key` (as written, unescaped) fills, and its number (below
    /// 32, one per field); `None`: not read.
    fn slot(&mut self, key: &[u8]) -> Option<(u32, &mut Raw<'a>)>;
}

/// The members of the object `json` (JSON already checked) in `T`; `None` when serde_json
/// must read it (see the module documentation).
pub(super) fn object<'a, T: Slots<'a>>(json: Json<'a>) -> Option<T> {
    let i = skip_ascii_ws(json.get().as_bytes(), 0);
    object_at(json, i).map(|(t, _)| t)
}

/// The position after the value at `b[i..]`, a part of `json`'s text: a nested container
/// is jumped over where the scan said it ends.
fn after_value(json: Json<'_>, b: &[u8], i: usize) -> Option<usize> {
    if let (Some(ends), Some(b'{' | b'[')) = (json.ends, b.get(i)) {
        if let Some(len) = ends.len_at(&b[i..]) {
            return Some(i + len);
        }
    }
    skip_value(b, i)
}

/// The members of the object at `json[i..]` in `T`, and the position after it; `None`
/// when serde_json must read it.
fn object_at<'a, T: Slots<'a>>(json: Json<'a>, i: usize) -> Option<(T, usize)> {
    let text = json.get();
    let b = text.as_bytes();
    let ws = |i: usize| skip_ascii_ws(b, i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    let mut t = T::default();
    let mut seen = 0u32;
    let mut repeated = false;
    let mut i = ws(i + 1);
    if b.get(i) == Some(&b'}') {
        return Some((t, i + 1));
    }
    loop {
        let (key, after) = PLAIN.string_at(b, i)?;
        if key.contains(&b'\\') {
            return None;
        }
        i = ws(after);
        if b.get(i) != Some(&b':') {
            return None;
        }
        let start = ws(i + 1);
        let end = after_value(json, b, start)?;
        if let Some((n, slot)) = t.slot(key) {
            repeated |= seen & 1 << n != 0;
            seen |= 1 << n;
            // serde reads `null` into an `Option` as `None`.
            let value = text.get(start..end)?;
            *slot = (value != "null").then_some(json.sibling(value));
        }
        i = ws(end);
        match b.get(i)? {
            b',' => i = ws(i + 1),
            // serde: a duplicate field, read as the default
            b'}' if repeated => return Some((T::default(), i + 1)),
            b'}' => return Some((t, i + 1)),
            _ => return None,
        }
    }
}

/// The elements of the array `json` (JSON already checked) each read as `T` — an object
/// by [`object_at`] (or `serde_object` where it declines), anything else as the default
/// — in one walk: the elements are not skipped first and read again. `None` when
/// serde_json must read the array.
pub(super) fn objects<'a, T: Slots<'a>>(
    json: Json<'a>,
    serde_object: impl Fn(&'a str) -> T,
) -> Option<Vec<T>> {
    let text = json.get();
    elements(text, |i| match object_at(json, i) {
        Some(read) => Some(read),
        None => {
            let end = after_value(json, text.as_bytes(), i)?;
            let element = text.get(i..end)?;
            let t = if element.starts_with('{') {
                serde_object(element)
            } else {
                T::default()
            };
            Some((t, end))
        }
    })
}

/// The elements of the array `json` (JSON already checked); `None` when serde_json must
/// read it.
pub(super) fn array(json: Json<'_>) -> Option<Vec<Json<'_>>> {
    let text = json.get();
    elements(text, |i| {
        let end = after_value(json, text.as_bytes(), i)?;
        Some((json.sibling(text.get(i..end)?), end))
    })
}

/// Walks the array `text`, reading each element with `read` (from its first byte: the
/// element and the position after it); `None` when the array or an element is not read.
fn elements<R>(text: &str, mut read: impl FnMut(usize) -> Option<(R, usize)>) -> Option<Vec<R>> {
    let b = text.as_bytes();
    let ws = |i: usize| skip_ascii_ws(b, i);
    let mut i = ws(0);
    if b.get(i) != Some(&b'[') {
        return None;
    }
    let mut out = Vec::new();
    i = ws(i + 1);
    if b.get(i) == Some(&b']') {
        return Some(out);
    }
    loop {
        let (element, end) = read(i)?;
        out.push(element);
        i = ws(end);
        match b.get(i)? {
            b',' => i = ws(i + 1),
            b']' => return Some(out),
            _ => return None,
        }
    }
}

impl<'a> Slots<'a> for super::ItemData<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<(u32, &mut Raw<'a>)> {
        match key {
            b"Subject" => Some((0, &mut self.subject)),
            b"InternetMessageId" => Some((1, &mut self.internet_message_id)),
            b"ParentFolder" => Some((2, &mut self.parent_folder)),
            _ => None,
        }
    }
}

impl<'a> Slots<'a> for super::FolderData<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<(u32, &mut Raw<'a>)> {
        match key {
            b"Path" => Some((0, &mut self.path)),
            b"FolderItems" => Some((1, &mut self.folder_items)),
            _ => None,
        }
    }
}

impl<'a> Slots<'a> for super::NameValue<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<(u32, &mut Raw<'a>)> {
        match key {
            b"Name" => Some((0, &mut self.name)),
            b"Value" => Some((1, &mut self.value)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{FolderData, ItemData, NameValue};
    use super::*;
    use proptest::prelude::*;

    /// What serde_json gives (the callers' reading before this module).
    fn by_serde<'a, T: serde::Deserialize<'a> + Default>(text: &'a str) -> T {
        serde_json::from_str(text).unwrap_or_default()
    }

    fn item(d: &ItemData<'_>) -> [Option<String>; 3] {
        [d.subject, d.internet_message_id, d.parent_folder].map(|r| r.map(|j| j.get().to_string()))
    }

    /// Reads `text` plainly, and as a member of an object the scan read (its containers'
    /// ends known), as serde_json reads it.
    fn same_item(text: &str) {
        same_as_serde(Json::plain(text));
        let wrapped = format!("{{\"v\":{text}}}");
        super::super::canon::scan(wrapped.as_bytes(), true, false, |whole, _, top| {
            let value = top.members.first()?.value.clone();
            let json = Json {
                text: whole.get(value)?,
                ends: Some(&top.ends),
                plain_string: false,
            };
            same_as_serde(json);
            Some(())
        });
    }

    fn same_as_serde(json: Json<'_>) {
        let text = json.get();
        if let Some(fast) = object::<ItemData<'_>>(json) {
            assert_eq!(item(&fast), item(&by_serde(text)), "{text}");
        }
        if let Some(fast) = object::<FolderData<'_>>(json) {
            let slow: FolderData<'_> = by_serde(text);
            let show = |d: &FolderData<'_>| {
                [d.path, d.folder_items].map(|r| r.map(|j| j.get().to_string()))
            };
            assert_eq!(show(&fast), show(&slow), "{text}");
        }
        if let Some(fast) = object::<NameValue<'_>>(json) {
            let slow: NameValue<'_> = by_serde(text);
            let show =
                |d: &NameValue<'_>| [d.name, d.value].map(|r| r.map(|j| j.get().to_string()));
            assert_eq!(show(&fast), show(&slow), "{text}");
        }
        if let Some(fast) = objects::<ItemData<'_>>(json, by_serde) {
            let slow: Vec<Json<'_>> = by_serde(text);
            let slow: Vec<ItemData<'_>> = slow
                .iter()
                .map(|j| {
                    if j.get().starts_with('{') {
                        by_serde(j.get())
                    } else {
                        ItemData::default()
                    }
                })
                .collect();
            let fast: Vec<_> = fast.iter().map(item).collect();
            let slow: Vec<_> = slow.iter().map(item).collect();
            assert_eq!(fast, slow, "{text}");
        }
        if let Some(fast) = array(json) {
            let slow: Vec<Json<'_>> = by_serde(text);
            let show = |v: &[Json<'_>]| v.iter().map(|j| j.get().to_string()).collect::<Vec<_>>();
            assert_eq!(show(&fast), show(&slow), "{text}");
        }
    }

    #[test]
    fn reads_what_serde_reads() {
        for text in [
            r#"{"Subject":"Good \"news\"","ParentFolder":{"Path":"\\Inbox","Id":"x"},"Size":12}"#,
            r#" { "Subject" : null , "InternetMessageId":"<a@b>" } "#,
            r#"{"Subject":"a","Subject":"b"}"#,
            r#"{"Subject":null,"Subject":"b"}"#,
            r#"{"Other":1,"Other":2,"Path":"p","FolderItems":[{"Subject":"s"},{"Id":1}]}"#,
            r#"{"Subj\u0065ct":"escaped key"}"#,
            r#"{}"#,
            r#"[]"#,
            r#"[ {"Name":"MailAccessType","Value":"Bind"} , {"Name":"IsThrottled","Value":"False"} ]"#,
            r#"[1, -2.5e3, true, null, "x", [ ], { }]"#,
            r#"[{"Subject":"a"}, {"Subject":"a","Subject":"b"}, 3, {"Subj\u0065ct":"x","InternetMessageId":"<i>"}]"#,
            r#"{"Name":"n","Value":[1,{"a":"}"}]}"#,
        ] {
            same_item(text);
        }
        let plain = |text| object::<ItemData<'_>>(Json::plain(text));
        assert!(plain(r#"{"Subj\u0065ct":"x"}"#).is_none());
        let dup = plain(r#"{"Subject":"a","Subject":"b"}"#);
        assert!(dup.is_some_and(|d| d.subject.is_none()));
        let dup = plain(r#"{"Subject":null,"Subject":"b"}"#);
        assert!(dup.is_some_and(|d| d.subject.is_none()));
    }

    /// A JSON value built from the names the structs read, nested.
    fn json_value() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("Subject"),
            Just("InternetMessageId"),
            Just("ParentFolder"),
            Just("Path"),
            Just("FolderItems"),
            Just("Name"),
            Just("Value"),
            Just("Other"),
            Just("Subj\\u0065ct"),
        ];
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("true".to_string()),
            Just("-1.5e2".to_string()),
            Just("7".to_string()),
            "[a-z\"\\\\/é ]{0,6}".prop_map(|s| serde_json::to_string(&s).unwrap_or_default()),
        ];
        leaf.prop_recursive(3, 24, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4)
                    .prop_map(|v| format!("[{}]", v.join(" , "))),
                prop::collection::vec((name.clone(), inner), 0..4).prop_map(|v| {
                    let m: Vec<String> =
                        v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{ {} }}", m.join(","))
                }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn fast_equals_serde(text in json_value()) {
            same_item(&text);
        }
    }
}
