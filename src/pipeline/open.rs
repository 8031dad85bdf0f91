//! The start of an input: decoding warnings, what the content says it is, and the CSV
//! header; shared by files (read whole) and streams (read in windows).

use std::collections::HashMap;

use super::{FileOutcome, FileStatus, Settings};
use crate::input::csv::{HeaderError, Kind, Layout};
use crate::input::detect::{detect, Detected};
use crate::input::{json, Origin};
use crate::record::Field;

/// The file-level warnings of the decoding, which come first. `overridden` is the
/// `--encoding` that the input's byte-order mark contradicted.
pub(super) fn decode_warnings(
    encoding: &str,
    replaced: bool,
    odd_byte: bool,
    overridden: Option<&'static encoding_rs::Encoding>,
) -> Vec<String> {
    let mut warnings = Vec::new();
    if let Some(forced) = overridden {
        let mark = encoding.split(" (").next().unwrap_or(encoding);
        warnings.push(format!(
            "starts with a {mark} byte-order mark, which contradicts --encoding {}: read as \
             {mark}, as the mark says (--encoding applies to inputs without one)",
            forced.name()
        ));
    }
    if replaced {
        warnings.push(format!("invalid {encoding} sequences replaced with U+FFFD"));
    }
    if odd_byte {
        warnings.push(format!(
            "{encoding} text of an odd number of bytes: the file ends in the middle of a \
             character, so it was probably cut short; its last byte is ignored. Copy or \
             export it again"
        ));
    }
    warnings
}

/// What the start of an input says it is, and how to read the rest.
pub(super) enum Opening {
    /// Not read further: empty, or not an export (the status says why).
    Done,
    Json,
    Csv {
        layout: Box<Layout>,
        check_logon: bool,
    },
}

/// Recognises an input from the start of its decoded text (all of it, or as much as
/// [`detect`], [`json::sniff_layout`] and [`Layout::read`] look at) and reads a CSV
/// header. An input not read further gets its status here.
pub(super) fn open(
    report: &mut FileOutcome,
    text: &[u8],
    encoding: &str,
    settings: &Settings,
) -> Opening {
    let named = !matches!(report.origin, Origin::Walked(_));
    let not_an_export = |report: &mut FileOutcome, why: String| {
        report.status = if named {
            FileStatus::Rejected(why)
        } else {
            FileStatus::Skipped(why)
        };
    };
    let (header_start, header_line) = match detect(text) {
        Detected::Empty => {
            report.status = FileStatus::Read {
                format: "empty".into(),
                encoding: encoding.to_string(),
                date_order: None,
            };
            report.warnings.push("empty file: no records".into());
            return Opening::Done;
        }
        Detected::Binary => {
            not_an_export(
                report,
                "binary data, not an audit export (exports are CSV or JSON text): leave it out, \
                 or check that it is the file you meant"
                    .into(),
            );
            return Opening::Done;
        }
        Detected::Ours(what) => {
            not_an_export(report, what.to_string());
            return Opening::Done;
        }
        Detected::Json => {
            if let Some(why) = json::refuse_wrapper(text) {
                not_an_export(report, why);
                return Opening::Done;
            }
            return Opening::Json;
        }
        Detected::Csv {
            header_start,
            header_line,
            ..
        } => (header_start, header_line),
    };
    let layout = match Layout::read(text, header_start, header_line) {
        Ok(l) => l,
        Err(e @ HeaderError::Unrecognised { .. }) => {
            not_an_export(report, e.to_string());
            return Opening::Done;
        }
        Err(e) => {
            report.status = FileStatus::Rejected(e.to_string());
            return Opening::Done;
        }
    };
    for warning in duplicate_columns(&layout.columns) {
        report.warnings.push(warning);
    }
    let check_logon = layout.kind == Kind::UnifiedAuditLog || layout.has(Field::LogonType);
    if !check_logon && settings.filter.logon_types.is_some() {
        report
            .warnings
            .push("no LogonType column: the logon type filter is not applied to this file".into());
    }
    Opening::Csv {
        layout: Box::new(layout),
        check_logon,
    }
}

/// A warning for each column name the header holds more than once (compared as columns
/// are found: trimmed, any case): only the first of them is read.
fn duplicate_columns(columns: &[String]) -> Vec<String> {
    let mut first: HashMap<String, usize> = HashMap::with_capacity(columns.len());
    let mut repeated: Vec<Vec<usize>> = Vec::new();
    let mut slot_of: HashMap<usize, usize> = HashMap::new();
    for (i, name) in columns.iter().enumerate() {
        let key = name.trim().to_lowercase();
        if key.is_empty() {
            continue;
        }
        match first.get(&key) {
            Some(&at) => {
                let slot = *slot_of.entry(at).or_insert_with(|| {
                    repeated.push(vec![at + 1]);
                    repeated.len() - 1
                });
                repeated[slot].push(i + 1);
            }
            None => {
                first.insert(key, i);
            }
        }
    }
    const SHOWN: usize = 5;
    let more = repeated.len().saturating_sub(SHOWN);
    let mut warnings: Vec<String> = repeated
        .iter()
        .take(SHOWN)
        .map(|at| {
            let numbers: Vec<String> = at.iter().map(usize::to_string).collect();
            format!(
                "column '{}' appears {} times in the header (columns {}); only the first is read",
                columns[at[0] - 1].trim(),
                at.len(),
                numbers.join(", ")
            )
        })
        .collect();
    if more > 0 {
        warnings.push(format!(
            "... and {more} more column names appear more than once"
        ));
    }
    warnings
}

/// The name of a CSV export's format, as the run reports it.
pub(super) fn csv_format(layout: &Layout) -> String {
    let format = if layout.kind == Kind::UnifiedAuditLog {
        "Unified Audit Log CSV"
    } else if layout.has(Field::CrossMailboxOp) || layout.has(Field::Subject) {
        "report CSV (AuditLogResults)"
    } else {
        "Search-MailboxAuditLog CSV"
    };
    let delimiter = match layout.delimiter {
        b';' => " (';' delimited)",
        b'\t' => " (tab delimited)",
        _ => "",
    };
    format!("{format}{delimiter}")
}

pub(super) fn json_format(layout: json::Layout) -> &'static str {
    match layout {
        json::Layout::Lines => "JSON Lines",
        json::Layout::Document => "JSON",
    }
}
