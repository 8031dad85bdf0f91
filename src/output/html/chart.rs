//! Activity over time as inline SVG, drawn from the summary's activity table
//! ([`crate::summary::tables::activity`]): one stacked bar chart of all operations (the
//! eight busiest by name, the rest as "other"), then one small chart per operation on
//! the same time axis, each scaled to its own peak. Every bucket between the first and
//! the last is on the axis, so gaps in activity show as gaps. Hovering a bar shows its
//! bucket and counts (SVG `<title>`); nothing here needs a script.

use std::fmt::Write as _;

use super::escape::push;
use crate::output::summary::tables::Activity;

/// Colours of the stacked series (Tableau 10), then "other".
pub const PALETTE: [&str; 8] = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f",
];
const OTHER: &str = "#bab0ac";

const W: f64 = 1100.0;
const H: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 8.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 34.0;

/// A round number at or above `n` (1, 2, 3, 4, 5, 6, 8 × 10^k).
fn nice(n: u64) -> u64 {
    let mut step = 1u64;
    loop {
        for m in [1, 2, 3, 4, 5, 6, 8] {
            if step.saturating_mul(m) >= n {
                return step.saturating_mul(m);
            }
        }
        step = step.saturating_mul(10);
    }
}

fn num(x: f64) -> String {
    let s = format!("{x:.1}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// The buckets on the axis: every index from the first to the last bucket with events,
/// each with its counts per operation (zero when it has none).
pub struct Axis<'a> {
    pub first: i64,
    pub len: usize,
    pub activity: &'a Activity,
    counts: Vec<Option<usize>>,
}

impl<'a> Axis<'a> {
    pub fn new(a: &'a Activity) -> Axis<'a> {
        let first = a.rows.first().map_or(0, |r| r.index);
        let last = a.rows.last().map_or(0, |r| r.index);
        let len = usize::try_from(last - first + 1).unwrap_or(1).max(1);
        let mut counts = vec![None; len];
        for (i, r) in a.rows.iter().enumerate() {
            if let Some(slot) = usize::try_from(r.index - first)
                .ok()
                .and_then(|k| counts.get_mut(k))
            {
                *slot = Some(i);
            }
        }
        Axis {
            first,
            len,
            activity: a,
            counts,
        }
    }

    /// Events of operation `op` (index into `activity.ops`) in bucket `k`.
    fn count(&self, k: usize, op: usize) -> u64 {
        self.counts[k]
            .and_then(|i| self.activity.rows[i].per_op.get(op).copied())
            .unwrap_or(0)
    }

    fn total(&self, k: usize) -> u64 {
        self.counts[k].map_or(0, |i| self.activity.rows[i].total)
    }

    fn label(&self, k: usize) -> String {
        self.activity.by.label_of(self.first + k as i64)
    }
}

/// The stacked chart of all operations, and its legend.
pub fn stacked(axis: &Axis<'_>, out: &mut String) {
    let a = axis.activity;
    let series = a.ops.len().min(PALETTE.len());
    let max = (0..axis.len).map(|k| axis.total(k)).max().unwrap_or(0);
    let top = nice(max.max(1));
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let bw = pw / axis.len as f64;
    let y = |v: u64| TOP + ph - ph * v as f64 / top as f64;
    let _ = writeln!(
        out,
        "<svg class=\"chart\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"Activity over time, all operations\">"
    );
    // Grid and y labels.
    for v in [0, top / 2, top] {
        let yy = num(y(v));
        let _ = writeln!(
            out,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy}\" y2=\"{yy}\" class=\"grid\"/><text x=\"{}\" y=\"{}\" class=\"ylab\">{v}</text>",
            W - RIGHT,
            LEFT - 4.0,
            num(y(v) + 4.0)
        );
    }
    for k in 0..axis.len {
        let total = axis.total(k);
        if total == 0 {
            continue;
        }
        let x = num(LEFT + bw * k as f64);
        let w = num((bw - if bw > 3.0 { 1.0 } else { 0.0 }).max(0.5));
        out.push_str("<g><title>");
        push(out, &axis.label(k));
        let _ = write!(out, ": {total}");
        let mut parts = Vec::new();
        for op in 0..a.ops.len() {
            let n = axis.count(k, op);
            if n > 0 {
                parts.push((op, n));
            }
        }
        for (i, (op, n)) in parts.iter().enumerate() {
            out.push_str(if i == 0 { " (" } else { ", " });
            push(out, &a.ops[*op]);
            let _ = write!(out, " {n}");
        }
        out.push_str(")</title>");
        let mut base = 0u64;
        let mut other = 0u64;
        for &(op, n) in &parts {
            if op >= series {
                other += n;
                continue;
            }
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"{}\"/>",
                num(y(base + n)),
                num(y(base) - y(base + n)),
                PALETTE[op]
            );
            base += n;
        }
        if other > 0 {
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"{}\" width=\"{w}\" height=\"{}\" fill=\"{OTHER}\"/>",
                num(y(base + other)),
                num(y(base) - y(base + other))
            );
        }
        out.push_str("</g>\n");
    }
    x_labels(axis, out);
    out.push_str("</svg>\n<ul class=\"legend\">");
    for (op, name) in a.ops.iter().enumerate().take(series) {
        legend_item(out, PALETTE[op], name);
    }
    if a.ops.len() > series {
        legend_item(out, OTHER, &format!("other ({})", a.ops.len() - series));
    }
    out.push_str("</ul>\n");
}

fn legend_item(out: &mut String, colour: &str, name: &str) {
    let _ = write!(
        out,
        "<li><svg width=\"10\" height=\"10\" aria-hidden=\"true\"><rect width=\"10\" height=\"10\" fill=\"{colour}\"/></svg> "
    );
    push(out, if name.is_empty() { "(none)" } else { name });
    out.push_str("</li>");
}

/// About eight labels under the axis.
fn x_labels(axis: &Axis<'_>, out: &mut String) {
    let pw = W - LEFT - RIGHT;
    let bw = pw / axis.len as f64;
    let step = axis.len.div_ceil(8).max(1);
    let mut k = 0;
    while k < axis.len {
        let x = num(LEFT + bw * k as f64 + bw / 2.0);
        let _ = write!(
            out,
            "<line x1=\"{x}\" x2=\"{x}\" y1=\"{}\" y2=\"{}\" class=\"tick\"/><text x=\"{x}\" y=\"{}\" class=\"xlab\">",
            H - BOTTOM,
            H - BOTTOM + 4.0,
            H - BOTTOM + 18.0
        );
        push(out, &axis.label(k));
        out.push_str("</text>\n");
        k += step;
    }
}

/// One small chart per operation, each scaled to its own peak, as table rows.
pub fn multiples(axis: &Axis<'_>, counts: &[u64], out: &mut String) {
    let a = axis.activity;
    const SW: f64 = 1000.0;
    const SH: f64 = 36.0;
    let bw = SW / axis.len as f64;
    out.push_str(
        "<table class=\"multiples\"><thead><tr><th>Operation</th><th class=\"n\">Count</th><th class=\"n\">Peak</th><th>Activity (each row scaled to its own peak)</th></tr></thead><tbody>\n",
    );
    for (op, name) in a.ops.iter().enumerate() {
        let peak = (0..axis.len).map(|k| axis.count(k, op)).max().unwrap_or(0);
        out.push_str("<tr><td>");
        push(out, if name.is_empty() { "(none)" } else { name });
        let _ = write!(
            out,
            "</td><td class=\"n\">{}</td><td class=\"n\">{peak}</td><td><svg class=\"spark\" viewBox=\"0 0 {SW} {SH}\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"",
            counts.get(op).copied().unwrap_or(0)
        );
        push(out, name);
        out.push_str(" over time\">");
        let colour = PALETTE.get(op).copied().unwrap_or(OTHER);
        for k in 0..axis.len {
            let n = axis.count(k, op);
            if n == 0 {
                continue;
            }
            let h = (SH - 2.0) * n as f64 / peak.max(1) as f64;
            let _ = write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{colour}\"><title>",
                num(bw * k as f64),
                num(SH - h),
                num(bw.max(0.6)),
                num(h)
            );
            push(out, &axis.label(k));
            let _ = write!(out, ": {n}</title></rect>");
        }
        out.push_str("</svg></td></tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::summary::tables::ActivityRow;
    use crate::summary::Bucket;

    #[test]
    fn nice_numbers() {
        assert_eq!(nice(1), 1);
        assert_eq!(nice(3), 3);
        assert_eq!(nice(7), 8);
        assert_eq!(nice(9), 10);
        assert_eq!(nice(55), 60);
        assert_eq!(nice(120), 200);
        assert_eq!(num(2.0), "2");
        assert_eq!(num(2.25), "2.2");
    }

    #[test]
    fn axis_fills_gaps_and_escapes_names() {
        let a = Activity {
            by: Bucket::Day,
            ops: vec!["<b>Op</b>".into(), "HardDelete".into()],
            rows: vec![
                ActivityRow {
                    index: 10,
                    label: String::new(),
                    total: 3,
                    per_op: vec![2, 1],
                },
                ActivityRow {
                    index: 13,
                    label: String::new(),
                    total: 1,
                    per_op: vec![1, 0],
                },
            ],
        };
        let axis = Axis::new(&a);
        assert_eq!(axis.len, 4);
        assert_eq!(axis.total(1), 0);
        assert_eq!(axis.count(3, 0), 1);
        let mut s = String::new();
        stacked(&axis, &mut s);
        multiples(&axis, &[3, 1], &mut s);
        assert!(!s.contains("<b>"), "{s}");
        assert!(s.contains("&lt;b&gt;Op&lt;/b&gt;"));
        assert_eq!(
            s.matches("<g><title>").count(),
            2,
            "one bar group per busy bucket"
        );
    }
}
