//! The timeline: every kept row, oldest first, as plain table rows with as little markup
//! as HTML allows (end tags of cells and rows are implied), so that 100,000 rows stay a
//! page a browser parses in a second or two and the filter can walk. Only the first
//! [`PAGE`] rows are displayed; the others are `hidden` until the filter or "show more"
//! reveals them: a browser lays out a thousand table rows at once, but needs many seconds
//! for a hundred thousand (and lays the table out again and again while it parses it). A
//! row's `id` (`r` and its number) is what findings link to; rows that are evidence of a
//! finding carry `class=e`. Written straight to the output in chunks, never as one string.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::escape::push;
use crate::pipeline::Table;
use crate::who::Key;

/// The values the timeline shows, after the row number and the time.
pub const KEYS: [Key; 8] = [
    Key::Operation,
    Key::LogonType,
    Key::Actor,
    Key::Mailbox,
    Key::ClientIp,
    Key::ClientApp,
    Key::Folder,
    Key::SubjectAsWritten,
];

/// Rows displayed at a time.
pub const PAGE: usize = 1000;

/// The columns, with the CSS class of their `<col>`.
const COLUMNS: [(&str, &str); 11] = [
    ("#", "c-i"),
    ("Time (UTC)", "c-t"),
    ("Operation", "c-op"),
    ("Logon", "c-lt"),
    ("User", "c-u"),
    ("Mailbox", "c-m"),
    ("Client IP", "c-ip"),
    ("Client app", "c-app"),
    ("Folder", "c-f"),
    ("Subject / parameters", "c-s"),
    ("Source", "c-src"),
];

/// Writes the timeline table. `evidence[i]` marks row `i` as evidence of a finding.
pub fn write(
    out: &mut dyn Write,
    rows: &Table,
    sources: &[String],
    evidence: &[bool],
) -> io::Result<()> {
    let mut buf = String::with_capacity(1 << 16);
    let _ = write!(
        buf,
        "<table class=\"timeline\" id=\"tl\" data-page=\"{PAGE}\"><colgroup>"
    );
    for (_, class) in COLUMNS {
        let _ = write!(buf, "<col class=\"{class}\">");
    }
    buf.push_str("</colgroup><thead><tr>");
    for (name, _) in COLUMNS {
        let _ = write!(buf, "<th>{name}</th>");
    }
    buf.push_str("</tr></thead>\n<tbody>\n");
    let columns: Vec<Option<usize>> = KEYS.iter().map(|&k| rows.column(k)).collect();
    for i in 0..rows.len() {
        let _ = write!(buf, "<tr id=r{i}");
        if evidence.get(i).copied().unwrap_or(false) {
            buf.push_str(" class=e");
        }
        if i >= PAGE {
            buf.push_str(" hidden");
        }
        let _ = write!(buf, "><td>{i}<td>");
        rows.time(i).write_iso(&mut buf);
        for col in &columns {
            buf.push_str("<td>");
            if let Some(c) = *col {
                push(&mut buf, rows.text(c, rows.id(c, i)));
            }
        }
        buf.push_str("<td>");
        let pos = rows.pos(i);
        let file = usize::try_from(pos.file)
            .ok()
            .and_then(|f| sources.get(f))
            .map_or("?", String::as_str);
        push(&mut buf, file);
        let _ = write!(buf, ":{}", pos.line);
        buf.push('\n');
        if buf.len() > (1 << 16) - 4096 {
            out.write_all(buf.as_bytes())?;
            buf.clear();
        }
    }
    buf.push_str("</tbody></table>\n");
    out.write_all(buf.as_bytes())
}
