//! AuditData members that hold an object or an array written as a JSON *string*
//! (`"Item": "{\"Subject\": …}"`, `"Folders": "[…]"`), as re-serialised exports (a SIEM's
//! flattening, a script's `ConvertTo-Json` of already-JSON text) write them.
//!
//! Read as they lie, such a member gives nothing (no subject, no folder) without a word,
//! and an UpdateInboxRules rule is rendered from raw JSON. When one is found, the object is
//! rewritten with each such string replaced by the value it holds, and mapped from that;
//! a string that starts like JSON but is not is left as it is, with a warning naming the
//! member. Strings that do not start with `{` or `[` (PowerShell's depth-truncated type
//! names, a Parameters line) are not JSON text and are left alone.

use serde_json::{Map, Value};

use super::{AuditData, Raw};

/// What [`decode`] made of the string-encoded members.
pub(super) struct Decoded {
    /// The object with every decodable member replaced by its value; `None` when none was.
    pub json: Option<Vec<u8>>,
    /// One warning per member that starts like JSON but is not.
    pub warnings: Vec<String>,
}

/// The members mbxaudit reads inside that may be written as strings.
fn nested<'a>(d: &AuditData<'a>) -> [(&'static str, Raw<'a>); 8] {
    [
        ("Item", d.item),
        ("Folder", d.folder),
        ("DestFolder", d.dest_folder),
        ("Folders", d.folders),
        ("AffectedItems", d.affected_items),
        ("Messages", d.messages),
        ("OperationProperties", d.operation_properties),
        ("Parameters", d.parameters),
    ]
}

/// The JSON text a string member holds, when it is a string that starts with `{` or `[`.
fn json_text(raw: Raw<'_>) -> Option<String> {
    let raw = raw?.get();
    if !raw.starts_with('"') {
        return None;
    }
    let inner: String = serde_json::from_str(raw).ok()?;
    matches!(inner.trim_start().as_bytes().first(), Some(b'{' | b'[')).then_some(inner)
}

/// Whether a member of `d` is JSON written as a string (what [`decode`] would rewrite).
pub(super) fn any(d: &AuditData<'_>) -> bool {
    nested(d)
        .into_iter()
        .any(|(_, raw)| json_text(raw).is_some())
}

/// `None` (the usual case: nothing to do) unless a member of `d`, the object `json`, is
/// JSON written as a string.
pub(super) fn decode(d: &AuditData<'_>, json: &[u8]) -> Option<Decoded> {
    let encoded: Vec<(&str, String)> = nested(d)
        .into_iter()
        .filter_map(|(name, raw)| Some((name, json_text(raw)?)))
        .collect();
    if encoded.is_empty() {
        return None;
    }
    let mut warnings = Vec::new();
    let mut object: Map<String, Value> = serde_json::from_slice(json).ok()?;
    let mut changed = false;
    for (name, text) in encoded {
        match serde_json::from_str::<Value>(&text) {
            Ok(value) => {
                object.insert(name.to_string(), value);
                changed = true;
            }
            Err(e) => warnings.push(format!(
                "AuditData member '{name}' is a string that starts like JSON but is not \
                 valid JSON ({e}): its fields are not read"
            )),
        }
    }
    let json = changed
        .then(|| serde_json::to_vec(&Value::Object(object)).ok())
        .flatten();
    Some(Decoded { json, warnings })
}
