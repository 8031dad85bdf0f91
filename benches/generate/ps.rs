//! PowerShell `Search-MailboxAuditLog -ShowDetails | ConvertTo-Json -Depth 4` dumps of the
//! legacy events, in the two layouts responders meet (the same emulation as
//! `testdata/json/make_json_fixtures.py`, whose fixtures `ps51_depth4_utf16.json` and
//! `ps7_depth4.json` these are at scale):
//!
//! - [`Shell::Ps51`], Windows PowerShell 5.1 (JavaScriptSerializer, then `Out-File`: UTF-16 LE
//!   with BOM, CRLF): `"name":  value` with two spaces, members four columns right of their
//!   brace, nested values aligned after their name, empty arrays as `[`, a blank line, `]`;
//!   `<`, `>`, `&` and `'` escaped as `\u00XX`; dates `"\/Date(ms)\/"`; LogonType and
//!   InternalLogonType as the enum's number.
//! - [`Shell::Ps7`], PowerShell 7 (`-EnumsAsStrings`, `Out-File`: UTF-8 without BOM, LF):
//!   two-space indentation, `"name": value`, ISO 8601 dates with seven fraction digits and an
//!   offset, LogonType as text, empty arrays `[]`.
//!
//! Both write `SourceItems` as an array of `{SourceItemId, SourceItemSubject,
//! SourceItemFolderPathName}` objects, booleans and `null` where the cmdlet's object has
//! them (an empty string stays a string only for the client columns).

use std::fmt::Write as _;

use super::super::civil;
use super::{Event, Kind, World, LEGACY_HEADER};

/// Which PowerShell wrote the dump.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shell {
    Ps51,
    Ps7,
}

/// A value of the dumped object.
enum Value<'a> {
    Null,
    Bool(bool),
    /// Written as it is (numbers, dates already in JSON).
    Raw(String),
    Str(&'a str),
    Array(Vec<Value<'a>>),
    Object(Vec<(&'a str, Value<'a>)>),
}

/// Columns written as JSON booleans (`True`/`False`, empty as `null`).
const BOOLEANS: [&str; 4] = [
    "ExternalAccess",
    "CrossMailboxOperation",
    "IsValid",
    "ItemIsRecord",
];
/// Columns whose empty value stays an empty string (the others become `null`).
const EMPTY_STRINGS: [&str; 3] = ["ClientMachineName", "ClientProcessName", "ClientVersion"];

impl Shell {
    pub fn eol(self) -> &'static str {
        match self {
            Shell::Ps51 => "\r\n",
            Shell::Ps7 => "\n",
        }
    }

    fn string(self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                '<' | '>' | '&' | '\'' if self == Shell::Ps51 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c if (c as u32) < 0x20 => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }

    /// `v` at column `col` (5.1) or nesting level `col` (7).
    fn value(self, v: &Value<'_>, col: usize, out: &mut String) {
        let eol = self.eol();
        match v {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Raw(r) => out.push_str(r),
            Value::Str(s) => self.string(s, out),
            Value::Array(items) => match self {
                Shell::Ps51 if items.is_empty() => {
                    let _ = write!(out, "[{eol}{eol}{:col$}]", "");
                }
                Shell::Ps7 if items.is_empty() => out.push_str("[]"),
                Shell::Ps51 => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{eol}{:w$}", "", w = col + 4);
                        self.value(item, col + 4, out);
                    }
                    let _ = write!(out, "{eol}{:col$}]", "");
                }
                Shell::Ps7 => {
                    out.push('[');
                    for (i, item) in items.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        let _ = write!(out, "{eol}{:w$}", "", w = 2 * (col + 1));
                        self.value(item, col + 1, out);
                    }
                    let _ = write!(out, "{eol}{:w$}]", "", w = 2 * col);
                }
            },
            Value::Object(members) => {
                out.push('{');
                for (i, (name, member)) in members.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(eol);
                    match self {
                        Shell::Ps51 => {
                            let _ = write!(out, "{:w$}\"{name}\":  ", "", w = col + 4);
                            // Nested values are aligned after their name.
                            let nested = col + 4 + name.len() + 5;
                            self.value(member, nested, out);
                        }
                        Shell::Ps7 => {
                            let _ = write!(out, "{:w$}\"{name}\": ", "", w = 2 * (col + 1));
                            self.value(member, col + 1, out);
                        }
                    }
                }
                match self {
                    Shell::Ps51 => {
                        let _ = write!(out, "{eol}{:col$}}}", "");
                    }
                    Shell::Ps7 => {
                        let _ = write!(out, "{eol}{:w$}}}", "", w = 2 * col);
                    }
                }
            }
        }
    }

    /// The column (5.1) or level (7) of a record object inside the top-level array.
    fn element_indent(self) -> (usize, usize) {
        match self {
            Shell::Ps51 => (4, 4),
            Shell::Ps7 => (2, 1),
        }
    }

    fn date(self, ms: i64) -> String {
        match self {
            Shell::Ps51 => format!("\"\\/Date({ms})\\/\""),
            Shell::Ps7 => {
                let (y, mo, d, h, mi, s) = civil(ms);
                let frac = ms.rem_euclid(1000) * 10_000;
                format!("\"{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{frac:07}+00:00\"")
            }
        }
    }
}

impl Event<'_> {
    /// One record object as an element of the dump's top-level array (indented, no
    /// separator before or after).
    pub fn write_ps_json(&self, world: &World, shell: Shell, out: &mut String) {
        let names: Vec<&str> = LEGACY_HEADER
            .trim_start_matches('\u{FEFF}')
            .trim_end()
            .split(',')
            .map(|n| n.trim_matches('"'))
            .collect();
        let folder = self.folder_path(self.folder);
        let items: Vec<Value<'_>> = match self.kind {
            Kind::Group => self
                .items
                .iter()
                .map(|i| {
                    Value::Object(vec![
                        ("SourceItemId", Value::Str(&i.id)),
                        ("SourceItemSubject", Value::Str(&i.subject)),
                        ("SourceItemFolderPathName", Value::Str(folder)),
                    ])
                })
                .collect(),
            _ => Vec::new(),
        };
        let mut items = Some(items);
        self.with_legacy_values(world, |values| {
            let members = names
                .iter()
                .zip(values)
                .map(|(&name, &v)| {
                    let value = match name {
                        "LastAccessed" => Value::Raw(shell.date(self.time_ms)),
                        "LogonType" | "InternalLogonType" => match shell {
                            Shell::Ps51 => Value::Raw(self.logon.code().to_string()),
                            Shell::Ps7 => Value::Str(v),
                        },
                        "SourceItems" => Value::Array(items.take().unwrap_or_default()),
                        "SourceFolders" => Value::Array(Vec::new()),
                        n if BOOLEANS.contains(&n) => match v {
                            "True" => Value::Bool(true),
                            "False" => Value::Bool(false),
                            _ => Value::Null,
                        },
                        n if v.is_empty() && !EMPTY_STRINGS.contains(&n) => Value::Null,
                        _ => Value::Str(v),
                    };
                    (name, value)
                })
                .collect();
            let (col, level) = shell.element_indent();
            let indent = match shell {
                Shell::Ps51 => col,
                Shell::Ps7 => 2 * level,
            };
            let _ = write!(out, "{:indent$}", "");
            shell.value(
                &Value::Object(members),
                if shell == Shell::Ps51 { col } else { level },
                out,
            );
        });
    }
}
