//! The summary on a terminal: aligned tables, then activity as a bar chart in text.
//!
//! Every name comes from the input, so each cell goes through
//! [`crate::output::text_table::clean`] (control characters escaped, long names cut).

use super::tables::{activity, tables, Activity, Table};
use crate::diag::sanitize;
use crate::output::text_table::{clean, Aligner};
use crate::summary::{Bucket, Summary};

/// The widest a name is shown.
const MAX_NAME: usize = 48;
/// The longest bar, in characters.
const BAR: usize = 40;
/// Operations named on one line of the chart; the rest are counted.
const BREAKDOWN: usize = 4;
/// Runs of empty days (hours) up to this long are drawn; longer ones are one line.
const SHOWN_GAP: i64 = 2;

const INDENT: &str = "  ";

/// The whole summary as text.
pub fn render(s: &Summary, top: usize, by: Bucket) -> String {
    let mut out = String::with_capacity(8192);
    let inputs = s.inputs.len();
    out.push_str(&format!(
        "Summary of {} record{} from {inputs} input{}",
        s.records,
        if s.records == 1 { "" } else { "s" },
        if inputs == 1 { "" } else { "s" },
    ));
    if let Some((first, last)) = s.span() {
        out.push_str(&format!(", {} to {} (UTC)", first.to_iso(), last.to_iso()));
    }
    out.push('\n');
    if !s.filters.is_empty() {
        out.push_str(&format!("Rules: {}\n", sanitize(&s.filters.join("; "))));
    }
    for t in tables(s, top) {
        out.push('\n');
        table(&t, &mut out);
    }
    out.push('\n');
    chart(&activity(s, by), &mut out);
    out
}

fn table(t: &Table, out: &mut String) {
    out.push_str(&t.title);
    out.push('\n');
    if t.rows.is_empty() {
        out.push_str(INDENT);
        out.push_str("(no records)\n");
        return;
    }
    let cleaned =
        |cells: &[String]| -> Vec<String> { cells.iter().map(|c| clean(c, MAX_NAME)).collect() };
    let rows: Vec<Vec<String>> = t.rows.iter().map(|r| cleaned(r)).collect();
    let total = t.total.as_deref().map(cleaned);
    let mut aligner = Aligner::new(t.align.clone());
    aligner.measure(&t.headers);
    for r in rows.iter().chain(&total) {
        aligner.measure(r);
    }
    aligner.line(&t.headers, INDENT, out);
    aligner.rule(INDENT, out);
    for r in &rows {
        aligner.line(r, INDENT, out);
    }
    if let Some(total) = &total {
        aligner.rule(INDENT, out);
        aligner.line(total, INDENT, out);
    }
    if t.more > 0 {
        out.push_str(&format!(
            "{INDENT}... and {} more (--top 0 shows all)\n",
            t.more
        ));
    }
}

/// One line per day (hour): label, count, a bar scaled to the busiest, and the
/// operations of that day, most frequent first.
fn chart(a: &Activity, out: &mut String) {
    let (title, unit) = match a.by {
        Bucket::Day => ("Activity per day (UTC)", "day"),
        Bucket::Hour => ("Activity per hour (UTC)", "hour"),
    };
    out.push_str(title);
    out.push('\n');
    let Some(max) = a.rows.iter().map(|r| r.total).max() else {
        out.push_str(INDENT);
        out.push_str("(no records)\n");
        return;
    };
    let label_w = a.rows.iter().map(|r| r.label.len()).max().unwrap_or(0);
    let count_w = max.to_string().len();
    let total: u64 = a.rows.iter().map(|r| r.total).sum();
    let line = |label: &str, n: u64, ops: String, out: &mut String| {
        let len = if n == 0 {
            0
        } else {
            ((n as u128 * BAR as u128).div_ceil(u128::from(max.max(1)))) as usize
        };
        let bar = format!("{}{}", "█".repeat(len), " ".repeat(BAR - len.min(BAR)));
        let text = format!("{INDENT}{label:<label_w$}  {n:>count_w$}  {bar}  {ops}");
        out.push_str(text.trim_end());
        out.push('\n');
    };
    let mut previous: Option<i64> = None;
    for r in &a.rows {
        if let Some(p) = previous {
            let gap = r.index - p - 1;
            if gap > SHOWN_GAP {
                out.push_str(&format!(
                    "{INDENT}{:<label_w$}  ({gap} {unit}s without events)\n",
                    "..."
                ));
            } else {
                for i in p + 1..r.index {
                    line(&a.by.label_of(i), 0, String::new(), out);
                }
            }
        }
        previous = Some(r.index);
        let mut ops: Vec<(usize, u64)> = r
            .per_op
            .iter()
            .copied()
            .enumerate()
            .filter(|&(_, n)| n > 0)
            .collect();
        ops.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        let mut names: Vec<String> = ops
            .iter()
            .take(BREAKDOWN)
            .map(|&(j, n)| format!("{} {n}", clean(&a.ops[j], MAX_NAME)))
            .collect();
        if ops.len() > BREAKDOWN {
            names.push(format!("+{} more", ops.len() - BREAKDOWN));
        }
        line(&r.label, r.total, names.join(", "), out);
    }
    let span = a.rows.last().map_or(0, |l| l.index) - a.rows.first().map_or(0, |f| f.index) + 1;
    out.push_str(&format!(
        "{INDENT}{total} record{} on {} of {span} {unit}{}, at most {max} in one {unit}\n",
        if total == 1 { "" } else { "s" },
        a.rows.len(),
        if span == 1 { "" } else { "s" },
    ));
}
