//! The timeline: every kept row, oldest first, as plain table rows with as little markup
//! as HTML allows (end tags of cells and rows are implied), so that tens of thousands of
//! rows stay a page a browser parses in a second or two and the filter can walk. Only the first
//! [`PAGE`] rows are displayed; the others are `hidden` until the filter or "show more"
//! reveals them: a browser lays out a thousand table rows at once, but needs many seconds
//! for a hundred thousand (and lays the table out again and again while it parses it). A
//! row's `id` (`r` and its number) is what findings link to; rows that are evidence of a
//! finding carry `class=e`. Written straight to the output in chunks, never as one string.
//!
//! A timeline of more than [`INLINE_ROWS`] rows (a whole export: 600,000 records would
//! make a page of 180 MB as table rows, which no browser opens quickly) is *packed*: its first page is written as rows, as above,
//! and all its rows as one gzip-compressed JSON document of columns — each column's
//! distinct values once, then each row's value numbers — in base64 in a `<script
//! type="application/x-mbxaudit-timeline">` block (data, never run). The page's script
//! unpacks it with the browser's own `DecompressionStream` (no URL, nothing loaded: the
//! Content-Security-Policy holds) and draws the rows the filter asks for, a page at a
//! time, as the same table rows. The document is compressed on every thread
//! ([`super::gzip`]).
use std::fmt::Write as _;
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use super::escape::{push, shown};
use crate::pipeline::Table;
use crate::who::Key;

/// Timelines of more rows than this are packed (see the module documentation).
pub const INLINE_ROWS: usize = 20_000;

/// The (hidden) environment variable that sets [`INLINE_ROWS`], for tests.
const INLINE_ENV: &str = "MBXAUDIT_TIMELINE_INLINE";

fn inline_rows() -> usize {
    std::env::var(INLINE_ENV)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(INLINE_ROWS)
}

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
    let packed = rows.len() > inline_rows();
    let _ = write!(
        buf,
        "<table class=\"timeline\" id=\"tl\" data-page=\"{PAGE}\"{}><colgroup>",
        if packed { " data-packed" } else { "" }
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
    let written = if packed {
        PAGE.min(rows.len())
    } else {
        rows.len()
    };
    for i in 0..written {
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
    out.write_all(buf.as_bytes())?;
    if packed {
        write_packed(out, rows, &columns, sources, evidence)?;
    }
    Ok(())
}

/// The packed timeline's document (see the module documentation).
#[derive(Serialize)]
struct Packed<'a> {
    rows: usize,
    /// Each row's time in seconds since the epoch, after the previous row's.
    t: Vec<i64>,
    /// Each row's nanoseconds, when any row has some (else empty).
    n: Vec<u32>,
    /// Per column, its distinct values as shown (not HTML-escaped).
    d: Vec<Vec<std::borrow::Cow<'a, str>>>,
    /// Per column, each row's value number.
    c: Vec<Vec<u32>>,
    /// The inputs' names, as shown.
    s: Vec<std::borrow::Cow<'a, str>>,
    /// Each row's input, by number.
    f: Vec<u32>,
    /// Each row's line, after the previous row's.
    l: Vec<i64>,
    /// The rows that are evidence of a finding.
    e: Vec<u32>,
}

/// `p` as `serde_json::to_vec` writes it (compact JSON, members in order), its members
/// and each column written on every thread and joined: the same bytes, without a
/// million-row document being written on one thread while the other waits.
fn packed_json(p: &Packed<'_>) -> io::Result<Vec<u8>> {
    fn json<T: Serialize + ?Sized>(v: &T) -> io::Result<Vec<u8>> {
        serde_json::to_vec(v).map_err(io::Error::other)
    }
    // `c`, the largest, as an array of its columns, each written on its own.
    let columns = || -> io::Result<Vec<u8>> {
        let columns = p.c.par_iter().map(json).collect::<io::Result<Vec<_>>>()?;
        Ok([&b"["[..], &columns.join(&b","[..]), b"]"].concat())
    };
    type Job<'j> = &'j (dyn Fn() -> io::Result<Vec<u8>> + Sync);
    let members: [(&str, Job<'_>); 9] = [
        ("rows", &|| json(&p.rows)),
        ("t", &|| json(&p.t)),
        ("n", &|| json(&p.n)),
        ("d", &|| json(&p.d)),
        ("c", &columns),
        ("s", &|| json(&p.s)),
        ("f", &|| json(&p.f)),
        ("l", &|| json(&p.l)),
        ("e", &|| json(&p.e)),
    ];
    let written = members
        .par_iter()
        .map(|(_, job)| job())
        .collect::<io::Result<Vec<Vec<u8>>>>()?;
    let mut out = Vec::with_capacity(written.iter().map(Vec::len).sum::<usize>() + 64);
    out.push(b'{');
    for (k, ((name, _), value)) in members.iter().zip(&written).enumerate() {
        if k > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"\":");
        out.extend_from_slice(value);
    }
    out.push(b'}');
    Ok(out)
}

fn write_packed(
    out: &mut dyn Write,
    rows: &Table,
    columns: &[Option<usize>],
    sources: &[String],
    evidence: &[bool],
) -> io::Result<()> {
    let n = rows.len();
    let secs = |i: usize| rows.time(i).0.div_euclid(1_000_000_000);
    let mut t = Vec::with_capacity(n);
    let mut l = Vec::with_capacity(n);
    let (mut last_t, mut last_l) = (0i64, 0i64);
    for i in 0..n {
        t.push(secs(i) - last_t);
        last_t = secs(i);
        let line = i64::try_from(rows.pos(i).line).unwrap_or(i64::MAX);
        l.push(line.wrapping_sub(last_l));
        last_l = line;
    }
    let nanos: Vec<u32> = (0..n)
        .map(|i| rows.time(i).0.rem_euclid(1_000_000_000) as u32)
        .collect();
    let d = columns
        .iter()
        .map(|c| match *c {
            Some(c) => (0..rows.distinct(c) as u32)
                .map(|id| shown(rows.text(c, id)))
                .collect(),
            None => vec![std::borrow::Cow::Borrowed("")],
        })
        .collect();
    let c = columns
        .iter()
        .map(|c| match *c {
            Some(c) => (0..n).map(|i| rows.id(c, i)).collect(),
            None => vec![0; n],
        })
        .collect();
    let packed = Packed {
        rows: n,
        t,
        n: if nanos.iter().any(|&x| x != 0) {
            nanos
        } else {
            Vec::new()
        },
        d,
        c,
        s: sources.iter().map(|s| shown(s)).collect(),
        f: (0..n).map(|i| rows.pos(i).file).collect(),
        l,
        e: evidence
            .iter()
            .enumerate()
            .filter(|(_, e)| **e)
            .map(|(i, _)| i as u32)
            .collect(),
    };
    let text = packed_json(&packed)?;
    let block = super::gzip::data_block("timeline", "tld", n, &text)?;
    out.write_all(block.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    #[test]
    fn packed_json_is_serde_jsons_bytes() {
        let d = |v: &[&'static str]| v.iter().map(|&s| Cow::Borrowed(s)).collect::<Vec<_>>();
        let full = Packed {
            rows: 3,
            t: vec![1_490_000_000, 0, -5],
            n: vec![0, 500, 0],
            d: vec![d(&["a\"b", "é\n"]), d(&[""])],
            c: vec![vec![0, 1, 0], vec![0, 0, 0]],
            s: d(&["x.csv", "y\\z.json"]),
            f: vec![0, 1, 1],
            l: vec![2, 1, 7],
            e: vec![2],
        };
        let empty = Packed {
            rows: 0,
            t: Vec::new(),
            n: Vec::new(),
            d: Vec::new(),
            c: Vec::new(),
            s: Vec::new(),
            f: Vec::new(),
            l: Vec::new(),
            e: Vec::new(),
        };
        for p in [full, empty] {
            let ours = packed_json(&p).expect("written");
            let serde = serde_json::to_vec(&p).expect("serde");
            assert_eq!(
                String::from_utf8_lossy(&ours),
                String::from_utf8_lossy(&serde)
            );
        }
    }
}
