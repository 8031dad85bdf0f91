//! The record a rule is matched against, and how a Sigma field name finds its values in it.
//!
//! An [`Event`] borrows a parsed JSON record: a Unified Audit Log `AuditData` object, or a
//! legacy Search-MailboxAuditLog row as a flat object of column name → string. Optionally
//! a second, outer object (the CSV row around `AuditData`) answers the fields the record
//! lacks. A field name resolves to every value it can name ([`Event::visit_field`]), and a
//! field test holds when any of them passes (docs/sigma.md has the examples):
//!
//! - members by name, nested objects by dotted path (`Item.ParentFolder.Path`), and a
//!   member whose name itself has dots (`Role.DisplayName`) by its whole name;
//! - a name found exactly first, else ASCII case-insensitively (`operation`, `auditData`);
//! - Name/Value arrays (`Parameters`, `OperationProperties`, `ExtendedProperties`,
//!   `ModifiedProperties`...) by element name: `Parameters.ForwardTo` is the `Value` of
//!   the element named `ForwardTo` (`NewValue` and `OldValue` both, where those are the
//!   members), `ModifiedProperties.Role.DisplayName.NewValue` one of them;
//! - the plain dotted path through array elements: `Parameters.Name` is every element's
//!   `Name`;
//! - an array or object itself as its compact JSON text, so `Parameters|contains` works as
//!   in a SIEM that stores the array as a string; an array of scalars also as each element;
//! - a string that holds serialised JSON (`"Item": "{\"Subject\": ...}"`) is descended
//!   into by a dotted path as if it were the object;
//! - numbers and booleans as their JSON text (`LogonType: 2` matches `2` and `"2"`).
//!
//! Nothing here allocates on the common path: values are visited in place; only an object
//! or array compared as text is serialised, into a per-thread buffer that is reused, and
//! only a string descended into as JSON is parsed.

use std::cell::RefCell;
use std::fmt::Write as _;

use serde_json::{Map, Number, Value};

/// How many JSON-in-a-string levels one lookup may descend through.
const MAX_STRING_DESCENTS: u8 = 8;
/// How deep the keyword search walks (serde_json parses at most 128 levels anyway).
const MAX_WALK_DEPTH: usize = 128;

/// A record to match rules against; cheap to build (two references).
#[derive(Clone, Copy, Debug)]
pub struct Event<'a> {
    record: &'a Value,
    outer: Option<&'a Value>,
}

/// One value that a field name resolved to.
#[derive(Clone, Copy, Debug)]
pub enum Leaf<'v> {
    Str(&'v str),
    Num(&'v Number),
    Bool(bool),
    Null,
    /// An object or array, compared as its compact JSON text.
    Composite(&'v Value),
}

/// What a field lookup saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Visited {
    /// At least one value was found (a JSON `null` counts).
    pub found: bool,
    /// The visitor returned `true` for one of them (the lookup stopped there).
    pub matched: bool,
}

impl<'a> Event<'a> {
    /// The record alone: an `AuditData` object, a legacy row, any JSON object.
    pub fn new(record: &'a Value) -> Self {
        Event {
            record,
            outer: None,
        }
    }

    /// A record inside an outer object (the CSV row holding `AuditData`): a field that
    /// names nothing in `record` is looked up in `outer`.
    pub fn with_outer(record: &'a Value, outer: &'a Value) -> Self {
        Event {
            record,
            outer: Some(outer),
        }
    }

    /// Calls `visit` on each value that `field` names until it returns `true`.
    pub fn visit_field(&self, field: &str, visit: &mut dyn FnMut(Leaf<'_>) -> bool) -> Visited {
        let found = std::cell::Cell::new(false);
        let mut counting = |leaf: Leaf<'_>| {
            found.set(true);
            visit(leaf)
        };
        let mut matched = visit_path(self.record, field, MAX_STRING_DESCENTS, &mut counting);
        if !matched && !found.get() {
            if let Some(outer) = self.outer {
                matched = visit_path(outer, field, MAX_STRING_DESCENTS, &mut counting);
            }
        }
        Visited {
            found: found.get(),
            matched,
        }
    }

    /// Calls `visit` on every scalar anywhere in the event (keyword search) until it
    /// returns `true`.
    pub fn visit_all(&self, visit: &mut dyn FnMut(Leaf<'_>) -> bool) -> bool {
        walk(self.record, 0, visit) || self.outer.is_some_and(|o| walk(o, 0, visit))
    }
}

/// Looks `key` up in an object: exactly, else ASCII case-insensitively.
fn lookup<'v>(map: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    map.get(key).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The dots of a path, as (head, tail) splits from the left.
fn splits(path: &str) -> impl Iterator<Item = (&str, &str)> {
    path.match_indices('.')
        .map(move |(i, _)| (&path[..i], &path[i + 1..]))
}

/// Visits what `path` (non-empty) names below `value`.
fn visit_path(
    value: &Value,
    path: &str,
    descents: u8,
    visit: &mut dyn FnMut(Leaf<'_>) -> bool,
) -> bool {
    match value {
        Value::Object(map) => {
            if let Some(v) = lookup(map, path) {
                if terminal(v, visit) {
                    return true;
                }
            }
            splits(path).any(|(head, tail)| {
                lookup(map, head).is_some_and(|v| visit_path(v, tail, descents, visit))
            })
        }
        Value::Array(items) => visit_array(items, path, descents, visit),
        Value::String(s) => visit_json_string(s, path, descents, visit),
        Value::Number(_) | Value::Bool(_) | Value::Null => false,
    }
}

/// Visits what `path` names below an array: elements by their `Name`, then each element.
fn visit_array(
    items: &[Value],
    path: &str,
    descents: u8,
    visit: &mut dyn FnMut(Leaf<'_>) -> bool,
) -> bool {
    let mut named = false;
    for exact in [true, false] {
        for item in items {
            let Some(name) = element_name(item) else {
                continue;
            };
            let same = |a: &str| {
                if exact {
                    a == name
                } else {
                    a.eq_ignore_ascii_case(name)
                }
            };
            if same(path) {
                named = true;
                if element_values(item).any(|v| terminal(v, visit)) {
                    return true;
                }
            }
            for (head, tail) in splits(path) {
                if same(head) {
                    named = true;
                    if visit_path(item, tail, descents, visit)
                        || element_values(item).any(|v| visit_path(v, tail, descents, visit))
                    {
                        return true;
                    }
                }
            }
        }
        if named {
            break;
        }
    }
    items.iter().any(|item| {
        matches!(item, Value::Object(_) | Value::Array(_))
            && visit_path(item, path, descents, visit)
    })
}

/// The `Name` of a Name/Value element.
fn element_name(item: &Value) -> Option<&str> {
    match item {
        Value::Object(map) => map.get("Name").and_then(Value::as_str),
        _ => None,
    }
}

/// The values of a Name/Value element: `Value`, or `NewValue` and `OldValue`.
fn element_values(item: &Value) -> impl Iterator<Item = &Value> {
    let map = item.as_object();
    ["Value", "NewValue", "OldValue"]
        .into_iter()
        .filter_map(move |k| map.and_then(|m| m.get(k)))
}

/// Descends into a string that holds a serialised JSON object or array.
fn visit_json_string(
    s: &str,
    path: &str,
    descents: u8,
    visit: &mut dyn FnMut(Leaf<'_>) -> bool,
) -> bool {
    let trimmed = s.trim_start();
    if descents == 0 || !(trimmed.starts_with('{') || trimmed.starts_with('[')) {
        return false;
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(inner) => visit_path(&inner, path, descents - 1, visit),
        Err(_) => false,
    }
}

/// Visits a value that a path ends on.
fn terminal(value: &Value, visit: &mut dyn FnMut(Leaf<'_>) -> bool) -> bool {
    match value {
        Value::String(s) => visit(Leaf::Str(s)),
        Value::Number(n) => visit(Leaf::Num(n)),
        Value::Bool(b) => visit(Leaf::Bool(*b)),
        Value::Null => visit(Leaf::Null),
        Value::Object(_) => visit(Leaf::Composite(value)),
        Value::Array(items) => {
            visit(Leaf::Composite(value))
                || items.iter().any(|item| match item {
                    Value::Object(_) | Value::Array(_) => false,
                    scalar => terminal(scalar, visit),
                })
        }
    }
}

/// Visits every scalar below `value`.
fn walk(value: &Value, depth: usize, visit: &mut dyn FnMut(Leaf<'_>) -> bool) -> bool {
    if depth > MAX_WALK_DEPTH {
        return false;
    }
    match value {
        Value::Object(map) => map.values().any(|v| walk(v, depth + 1, visit)),
        Value::Array(items) => items.iter().any(|v| walk(v, depth + 1, visit)),
        scalar => terminal(scalar, visit),
    }
}

/// A number's JSON text, written on the stack.
struct NumText {
    buf: [u8; 48],
    len: usize,
}

impl std::fmt::Write for NumText {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        let slot = self.buf.get_mut(self.len..end).ok_or(std::fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

thread_local! {
    /// The JSON text of the last object or array compared as text, reused per thread.
    static JSON_TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

impl Leaf<'_> {
    /// Runs `f` on the leaf's text; `None` for null, which has no text.
    pub fn with_text<R>(&self, f: impl FnOnce(&str) -> R) -> Option<R> {
        match *self {
            Leaf::Str(s) => Some(f(s)),
            Leaf::Bool(b) => Some(f(if b { "true" } else { "false" })),
            Leaf::Null => None,
            Leaf::Num(n) => {
                let mut text = NumText {
                    buf: [0; 48],
                    len: 0,
                };
                if write!(text, "{n}").is_ok() {
                    std::str::from_utf8(&text.buf[..text.len]).ok().map(f)
                } else {
                    Some(f(&n.to_string()))
                }
            }
            Leaf::Composite(v) => JSON_TEXT.with(|cell| match cell.try_borrow_mut() {
                Ok(mut buf) => {
                    buf.clear();
                    serde_json::to_writer(&mut *buf, v).ok()?;
                    std::str::from_utf8(&buf).ok().map(f)
                }
                Err(_) => serde_json::to_string(v).ok().map(|s| f(&s)),
            }),
        }
    }

    /// The leaf as a number: a JSON number, or a string holding one.
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            Leaf::Num(n) => n.as_f64(),
            Leaf::Str(s) => s.trim().parse().ok(),
            Leaf::Bool(_) | Leaf::Null | Leaf::Composite(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn texts(event: &Event<'_>, field: &str) -> Vec<String> {
        let mut out = Vec::new();
        event.visit_field(field, &mut |leaf| {
            out.push(
                leaf.with_text(str::to_string)
                    .unwrap_or_else(|| "<null>".into()),
            );
            false
        });
        out
    }

    #[test]
    fn resolves_the_documented_shapes() {
        let record = json!({
            "Operation": "New-InboxRule",
            "LogonType": 2,
            "ExternalAccess": false,
            "Item": {"Subject": "Hi", "ParentFolder": {"Path": "\\Inbox"}},
            "Reserialised": "{\"Subject\": \"inner\", \"List\": [{\"Name\": \"A\", \"Value\": \"1\"}]}",
            "Parameters": [
                {"Name": "ForwardTo", "Value": "eve@evil.example"},
                {"Name": "Name", "Value": "rule"}
            ],
            "ModifiedProperties": [
                {"Name": "Role.DisplayName", "NewValue": "Global Administrator", "OldValue": ""}
            ],
            "Members": ["a", "b"],
            "Role.Flat": "dotted key"
        });
        let event = Event::new(&record);
        assert_eq!(texts(&event, "Operation"), ["New-InboxRule"]);
        assert_eq!(texts(&event, "operation"), ["New-InboxRule"]);
        assert_eq!(texts(&event, "LogonType"), ["2"]);
        assert_eq!(texts(&event, "ExternalAccess"), ["false"]);
        assert_eq!(texts(&event, "Item.ParentFolder.Path"), ["\\Inbox"]);
        assert_eq!(texts(&event, "item.subject"), ["Hi"]);
        assert_eq!(texts(&event, "Reserialised.Subject"), ["inner"]);
        assert_eq!(texts(&event, "Reserialised.List.A"), ["1"]);
        assert_eq!(texts(&event, "Parameters.ForwardTo"), ["eve@evil.example"]);
        assert_eq!(texts(&event, "Parameters.forwardto"), ["eve@evil.example"]);
        assert_eq!(
            texts(&event, "Parameters.Name"),
            ["rule", "ForwardTo", "Name"],
            "the parameter called Name, then every element's Name"
        );
        assert_eq!(
            texts(&event, "Parameters.Value"),
            ["eve@evil.example", "rule"]
        );
        assert_eq!(
            texts(&event, "Parameters"),
            [r#"[{"Name":"ForwardTo","Value":"eve@evil.example"},{"Name":"Name","Value":"rule"}]"#]
        );
        assert_eq!(
            texts(&event, "ModifiedProperties.Role.DisplayName"),
            ["Global Administrator", ""]
        );
        assert_eq!(
            texts(&event, "ModifiedProperties.Role.DisplayName.NewValue"),
            ["Global Administrator"]
        );
        assert_eq!(texts(&event, "Members"), [r#"["a","b"]"#, "a", "b"]);
        assert_eq!(texts(&event, "Role.Flat"), ["dotted key"]);
        assert!(texts(&event, "Missing").is_empty());
        assert!(texts(&event, "Operation.Sub").is_empty());
    }

    #[test]
    fn exact_name_wins_over_case_insensitive() {
        let record = json!({"operation": "lower", "Operation": "Upper"});
        assert_eq!(texts(&Event::new(&record), "Operation"), ["Upper"]);
        assert_eq!(texts(&Event::new(&record), "OPERATION").len(), 1);
        let params =
            json!({"P": [{"Name": "x", "Value": "lower"}, {"Name": "X", "Value": "upper"}]});
        assert_eq!(texts(&Event::new(&params), "P.X"), ["upper"]);
        assert_eq!(texts(&Event::new(&params), "P.x"), ["lower"]);
    }

    #[test]
    fn outer_answers_only_what_the_record_lacks() {
        let record = json!({"Operation": "Set-Mailbox"});
        let row = json!({"Operation": "ignored", "RecordType": "ExchangeAdmin"});
        let event = Event::with_outer(&record, &row);
        assert_eq!(texts(&event, "Operation"), ["Set-Mailbox"]);
        assert_eq!(texts(&event, "RecordType"), ["ExchangeAdmin"]);
    }

    #[test]
    fn keyword_walk_sees_every_scalar() {
        let record = json!({"a": {"b": [1, "two", null, true]}});
        let mut seen = Vec::new();
        Event::new(&record).visit_all(&mut |leaf| {
            seen.push(leaf.with_text(str::to_string));
            false
        });
        assert_eq!(
            seen,
            [
                Some("1".into()),
                Some("two".into()),
                None,
                Some("true".into())
            ]
        );
    }
}
