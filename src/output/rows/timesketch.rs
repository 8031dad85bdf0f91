//! Timesketch's CSV import format: the three columns Timesketch requires (`message`,
//! `datetime` in ISO 8601, `timestamp_desc`), `timestamp` in microseconds (older
//! importers want it), then the chosen profile's columns.
//!
//! The message says what happened in one line: `HardDelete by Eve Attacker on
//! CONTOSO\test1 from 203.0.113.7: Good News`. The file is UTF-8 without BOM (a BOM would
//! become part of the first column's name) and follows the CSV report's quoting and its
//! Excel-safe rule (`--raw-cells` for an exact import).

use std::io;

use super::{LineFormat, Options};
use crate::output::cells::Line;
use crate::record::{Field, Item, RowView};
use crate::who;

/// What the `datetime` of a row is: the record's own time field.
fn timestamp_desc(row: &RowView<'_>) -> &'static str {
    if row.get(Field::RecordType).trim().is_empty() {
        "Mailbox audit: LastAccessed"
    } else {
        "Unified audit log: CreationTime"
    }
}

/// The event in one line.
pub fn message(row: &RowView<'_>, item: Option<&Item>) -> String {
    let mut m = String::with_capacity(128);
    let op = who::operation(row);
    m.push_str(if op.is_empty() { "(no operation)" } else { op });
    let user = who::user(row);
    if !user.is_empty() {
        m.push_str(" by ");
        m.push_str(user);
    }
    let mailbox = who::mailbox(row);
    if !mailbox.is_empty() {
        m.push_str(" on ");
        m.push_str(mailbox);
    }
    let ip = who::client_ip(row);
    if !ip.is_empty() {
        m.push_str(" from ");
        m.push_str(&ip);
    }
    let subject = match item {
        Some(i) if !i.subject.is_empty() => &*i.subject,
        Some(i) => &*i.internet_message_id,
        None => row.subject(),
    };
    if !subject.is_empty() {
        m.push_str(": ");
        m.push_str(subject);
    }
    m
}

/// Timesketch's CSV rows.
pub struct Timesketch<'a> {
    pub opts: Options<'a>,
}

impl LineFormat for Timesketch<'_> {
    fn header(&self, out: &mut Vec<u8>) -> io::Result<()> {
        Line::new(false).write_into(out, |line| {
            for name in ["message", "datetime", "timestamp_desc", "timestamp"] {
                line.plain(name);
            }
            for c in self.opts.layout.columns {
                line.plain(c.name());
            }
        });
        Ok(())
    }

    fn line(
        &self,
        _index: u64,
        row: &RowView<'_>,
        item: Option<&Item>,
        buffers: &mut (Line, String),
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let (line, cell) = buffers;
        line.write_into(out, |line| {
            line.cell(&message(row, item));
            cell.clear();
            row.time.write_iso(cell);
            if cell.ends_with('Z') {
                cell.pop();
                cell.push_str("+00:00");
            }
            line.plain(cell);
            line.plain(timestamp_desc(row));
            line.plain(&row.time.0.div_euclid(1000).to_string());
            self.opts.layout.csv_cells(row, item, line, cell);
        });
        Ok(())
    }

    fn excel_safe(&self) -> bool {
        self.opts.excel_safe
    }
}
