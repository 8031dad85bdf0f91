//! Reads the real UAL exports in testdata/ual into records, the way the tests need them:
//! `Search-UnifiedAuditLog | Export-Csv` files (AuditData column, the row as the outer
//! object), JSON Lines of AuditData records, and ConvertTo-Json dumps (AuditData nested).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

/// One record of a sample file; `number` counts from 1 in file order.
pub struct Record {
    pub number: usize,
    pub audit_data: Value,
    pub outer: Option<Value>,
}

impl Record {
    /// The record's `Id` (every UAL record has one).
    pub fn id(&self) -> &str {
        self.audit_data
            .get("Id")
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

pub fn ual_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata/ual")
}

/// The records of `testdata/ual/<name>`.
pub fn read(name: &str) -> Vec<Record> {
    let path = ual_dir().join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let text = String::from_utf8(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let records = if name.ends_with(".csv") {
        read_csv(name, text)
    } else {
        read_json(name, text)
    };
    records
        .into_iter()
        .enumerate()
        .map(|(i, (audit_data, outer))| Record {
            number: i + 1,
            audit_data,
            outer,
        })
        .collect()
}

fn read_csv(name: &str, text: &str) -> Vec<(Value, Option<Value>)> {
    let body = if text.starts_with("#TYPE") {
        text.split_once('\n').map_or("", |(_, rest)| rest)
    } else {
        text
    };
    let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
    let headers = reader
        .headers()
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .clone();
    reader
        .records()
        .map(|row| {
            let row = row.unwrap_or_else(|e| panic!("{name}: {e}"));
            let mut outer = Map::new();
            let mut audit = Value::Null;
            for (h, cell) in headers.iter().zip(row.iter()) {
                if h == "AuditData" {
                    audit = serde_json::from_str(cell).unwrap_or_else(|e| panic!("{name}: {e}"));
                } else {
                    outer.insert(h.to_string(), Value::String(cell.to_string()));
                }
            }
            (audit, Some(Value::Object(outer)))
        })
        .collect()
}

fn read_json(name: &str, text: &str) -> Vec<(Value, Option<Value>)> {
    let values: Vec<Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(items)) => items,
        Ok(one) => vec![one],
        Err(_) => text
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: {e}")))
            .collect(),
    };
    values
        .into_iter()
        .map(|v| match v.get("AuditData") {
            Some(inner @ Value::Object(_)) => (inner.clone(), Some(v)),
            _ => (v, None),
        })
        .collect()
}
