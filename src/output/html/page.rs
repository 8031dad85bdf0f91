//! The page's sections, each built as a string from the models the other commands use:
//! the pipeline's per-file reports and funnel ([`Outcome`]), triage's findings
//! ([`Evaluation`]) and the summary ([`Summary`] and its [`tables`]). Every value that
//! comes from the input goes through [`push`] / [`esc`].

use rayon::prelude::*;
use std::fmt::Write as _;

use super::chart::{self, Axis};
use super::escape::{esc, push};
use crate::output::findings::{headline, measure, sigma_credit, span, Context};
use crate::output::summary::tables::{self, Table};
use crate::output::text_table::Align;
use crate::pipeline::{FileStatus, Outcome};
use crate::summary::{Bucket, Summary};
use crate::triage::{Evaluation, Finding, Rule, Severity};

/// Evidence links shown per finding before "+N more".
const LINKS: usize = 3;

/// Findings drawn as rows when the page loads; the rest (a whole export can give
/// thousands: ~20 MB of rows that took a browser many seconds to lay out) are packed
/// gzip-compressed in a data block (`#fnd`) and drawn when asked for.
pub const FINDINGS_SHOWN: usize = 200;

/// The document head: policy, title, style.
pub fn head(title: &str, policy: &str, style: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"mbxaudit {}\">\n\
         <title>{}</title>\n<style>{style}</style>\n</head>\n",
        env!("CARGO_PKG_VERSION"),
        esc(title)
    )
}

/// The banner; `generated` is the one line that differs between two runs.
pub fn banner(title: &str, generated: &str) -> String {
    format!(
        "<body>\n<header>\n<h1>{}</h1>\n<p class=\"gen\">Generated {generated} by mbxaudit {}.</p>\n\
         <nav><a href=\"#overview\">Overview</a><a href=\"#findings\">Findings</a>\
         <a href=\"#activity\">Activity</a><a href=\"#tables\">Tables</a>\
         <a href=\"#inputs\">Inputs</a><a href=\"#timeline\">Timeline</a></nav>\n</header>\n<main>\n",
        esc(title),
        env!("CARGO_PKG_VERSION")
    )
}

fn card(out: &mut String, value: &str, label: &str) {
    out.push_str("<div class=\"card\"><b>");
    push(out, value);
    out.push_str("</b><span>");
    push(out, label);
    out.push_str("</span></div>");
}

pub fn overview(s: &Summary, ev: &Evaluation, outcome: &Outcome) -> String {
    let mut out =
        String::from("<section id=\"overview\">\n<h2>Overview</h2>\n<div class=\"cards\">");
    card(&mut out, &s.records.to_string(), "records in the timeline");
    match s.span() {
        Some((a, b)) => {
            card(&mut out, &a.to_iso(), "first event (UTC)");
            card(&mut out, &b.to_iso(), "last event (UTC)");
        }
        None => card(&mut out, "-", "no events"),
    }
    card(&mut out, &headline(&ev.findings), "findings");
    let distinct = |m: &std::collections::BTreeMap<String, u64>| {
        m.keys().filter(|k| !k.is_empty()).count().to_string()
    };
    card(&mut out, &distinct(&s.mailboxes), "mailboxes");
    card(&mut out, &distinct(&s.users), "users");
    card(&mut out, &distinct(&s.client_ips), "client IPs");
    card(&mut out, &outcome.files.len().to_string(), "inputs");
    out.push_str("</div>\n</section>\n");
    out
}

pub fn inputs(outcome: &Outcome, scope: &[String]) -> String {
    let mut out = String::from(
        "<section id=\"inputs\">\n<h2>Inputs and funnel</h2>\n<table><thead><tr><th>Input</th><th>Read as</th>\
         <th class=\"n\">Rows read</th><th class=\"n\">Malformed</th><th class=\"n\">Dropped by rules</th>\
         <th class=\"n\">Duplicates</th><th class=\"n\">Kept</th><th>Notes</th></tr></thead><tbody>\n",
    );
    for f in &outcome.files {
        let c = &f.counts;
        out.push_str("<tr><td>");
        push(&mut out, &f.origin.display());
        out.push_str("</td><td>");
        let mut notes: Vec<String> = Vec::new();
        match &f.status {
            FileStatus::Read {
                format,
                encoding,
                date_order,
            } => {
                push(&mut out, &format!("{format}, {encoding}"));
                if let Some((o, how)) = date_order {
                    notes.push(format!("dates {} ({how})", o.label()));
                }
            }
            FileStatus::Skipped(why) => push(&mut out, &format!("skipped: {why}")),
            FileStatus::Rejected(why) => push(&mut out, &format!("error: {why}")),
        }
        notes.extend(f.warnings.iter().cloned());
        if f.row_warnings.total > 0 {
            notes.push(format!("{} row warnings", f.row_warnings.total));
        }
        let dropped: u64 = c.dropped.iter().sum();
        let _ = write!(
            out,
            "</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{dropped}</td>\
             <td class=\"n\">{}</td><td class=\"n\">{}</td><td>",
            c.read,
            c.malformed,
            c.duplicates,
            c.written()
        );
        push(&mut out, &notes.join("; "));
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table>\n<pre class=\"funnel\">");
    for (i, line) in outcome
        .totals
        .lines_kept_as("rows in the timeline")
        .iter()
        .enumerate()
    {
        if i > 0 {
            out.push('\n');
        }
        push(&mut out, line);
    }
    out.push_str("</pre>\n<p class=\"muted\">Rules in force: ");
    push(&mut out, &scope.join("; "));
    out.push_str(".</p>\n</section>\n");
    out
}

/// Finding `n`'s row of the findings table.
fn finding_row(n: usize, f: &Finding, ctx: &Context<'_>) -> String {
    let mut row = String::with_capacity(512);
    let out = &mut row;
    let sev = f.severity.name();
    let _ = write!(
        out,
        "<tr class=\"finding {sev}\" id=\"f{n}\"><td><span class=\"sev {sev}\">{}</span></td><td><b>",
        sev.to_uppercase()
    );
    push(out, &f.title);
    out.push_str("</b> <span class=\"rule\">");
    push(out, &f.rule);
    out.push_str("</span><div class=\"why\">");
    push(out, &f.why);
    if let Some(s) = ctx.sigma_of(&f.rule) {
        out.push_str("</div><div class=\"muted\">Sigma rule ");
        push(out, &sigma_credit(s));
    }
    out.push_str("</div></td><td class=\"when\">");
    out.push_str(&esc(&span(f)).replacen(" to ", "<br>to ", 1));
    out.push_str("</td><td>");
    push(out, &f.actor);
    out.push_str("<div class=\"muted\">");
    push(out, &f.mailbox);
    let _ = write!(
        out,
        "</div></td><td class=\"evidence\">{} row{}: ",
        f.rows.len(),
        if f.rows.len() == 1 { "" } else { "s" }
    );
    for &r in f.rows.iter().take(LINKS) {
        // The file's name only: the full path is in the timeline's Source column.
        let place = ctx.place(r);
        let short = place.rsplit(['/', '\\']).next().unwrap_or(&place);
        let _ = write!(out, "<a href=\"#r{r}\">");
        push(out, short);
        out.push_str("</a> ");
    }
    if f.rows.len() > LINKS {
        let _ = write!(out, "+{} more ", f.rows.len() - LINKS);
    }
    out.push_str("<button type=\"button\" data-rows=\"");
    for (i, r) in f.rows.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{r}");
    }
    out.push_str("\">Show in the timeline</button></td></tr>\n");
    row
}

pub fn findings(ev: &Evaluation, ctx: &Context<'_>) -> std::io::Result<String> {
    let mut out = String::from("<section id=\"findings\">\n<h2>Findings</h2>\n");
    if ev.findings.is_empty() {
        out.push_str("<p>No rule fired. That is no proof of innocence: see the rules below, and the notes.</p>\n");
    } else {
        let _ = writeln!(
            out,
            "<p>{}, worst first. Evidence rows are marked in the timeline.</p>",
            esc(&headline(&ev.findings))
        );
    }
    if !ev.findings.is_empty() {
        out.push_str(
            "<table class=\"findings\"><thead><tr><th>Severity</th><th>Finding</th>\
             <th>When (UTC)</th><th>Actor / mailbox</th><th>Evidence</th></tr></thead><tbody>\n",
        );
    }
    // One row per finding, made on every thread (a whole export can give tens of
    // thousands); the rows past the first FINDINGS_SHOWN are packed below the table.
    let rows: Vec<String> = ev
        .findings
        .par_iter()
        .enumerate()
        .map(|(n, f)| finding_row(n, f, ctx))
        .collect();
    let (drawn, rest) = rows.split_at(rows.len().min(FINDINGS_SHOWN));
    out.push_str(&drawn.concat());
    if !ev.findings.is_empty() {
        out.push_str("</tbody></table>\n");
    }
    if !rest.is_empty() {
        let packed = rest.len();
        let _ = writeln!(
            out,
            "<p><button type=\"button\" id=\"morefindings\" hidden>Show the other {packed} \
             findings</button> <span class=\"muted\">The first {FINDINGS_SHOWN} are drawn; \
             every finding is in <code>mbxaudit triage</code>'s output.</span></p>"
        );
        out.push_str(&super::gzip::data_block(
            "findings",
            "fnd",
            packed,
            rest.concat().as_bytes(),
        )?);
    }
    if !ev.notes.is_empty() {
        out.push_str("<ul class=\"note\">");
        for n in &ev.notes {
            out.push_str("<li>");
            push(&mut out, n);
            out.push_str("</li>");
        }
        out.push_str("</ul>\n");
    }
    rule_table(&mut out, ctx.rules);
    out.push_str("</section>\n");
    Ok(out)
}

fn rule_table(out: &mut String, rules: &[Rule]) {
    let _ = writeln!(
        out,
        "<details><summary>The {} rules in force</summary><table><thead><tr><th>Rule</th><th>Severity</th>\
         <th>Fires on</th><th>What</th></tr></thead><tbody>",
        rules.len()
    );
    for r in rules {
        out.push_str("<tr><td class=\"rule\">");
        push(out, &r.id);
        out.push_str("</td><td>");
        let mut sev = vec![r.severity];
        sev.extend(r.escalate.iter().map(|e| e.severity));
        sev.sort_unstable();
        sev.dedup();
        let names: Vec<&str> = sev.iter().map(|s: &Severity| s.name()).collect();
        push(out, &names.join(" / "));
        out.push_str("</td><td>");
        push(out, &measure(r));
        out.push_str("</td><td><b>");
        push(out, &r.title);
        out.push_str("</b>. ");
        push(out, &r.description);
        out.push_str("</td></tr>\n");
    }
    out.push_str("</tbody></table></details>\n");
}

/// The bucket to draw: the user's, else hours for at most 14 days of events, else days.
pub fn bucket(s: &Summary, by: Option<Bucket>) -> Bucket {
    const HOUR_SPAN: i64 = 14 * 86_400 * 1_000_000_000;
    match (by, s.span()) {
        (Some(b), _) => b,
        (None, Some((a, b))) if b.0 - a.0 <= HOUR_SPAN => Bucket::Hour,
        _ => Bucket::Day,
    }
}

pub fn activity(s: &Summary, by: Bucket) -> String {
    let mut out = String::from("<section id=\"activity\">\n<h2>Activity over time</h2>\n");
    let a = tables::activity(s, by);
    if a.rows.is_empty() {
        out.push_str("<p>No events.</p>\n</section>\n");
        return out;
    }
    let axis = Axis::new(&a);
    let _ = writeln!(
        out,
        "<p class=\"muted\">Events per {} (UTC), {} buckets from {} to {}; hover a bar for its counts.</p>",
        match by {
            Bucket::Day => "day",
            Bucket::Hour => "hour",
        },
        axis.len,
        esc(&by.label_of(axis.first)),
        esc(&by.label_of(axis.first + axis.len as i64 - 1)),
    );
    chart::stacked(&axis, &mut out);
    let counts: Vec<u64> = a
        .ops
        .iter()
        .map(|op| s.operations.get(op).map_or(0, |g| g.count))
        .collect();
    chart::multiples(&axis, &counts, &mut out);
    out.push_str("</section>\n");
    out
}

fn table(out: &mut String, t: &Table) {
    out.push_str("<div><h3>");
    push(out, &t.title);
    out.push_str("</h3><table><thead><tr>");
    let class = |i: usize| match t.align.get(i) {
        Some(Align::Right) => " class=\"n\"",
        _ => "",
    };
    for (i, h) in t.headers.iter().enumerate() {
        let _ = write!(out, "<th{}>", class(i));
        push(out, h);
        out.push_str("</th>");
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            let _ = write!(out, "<td{}>", class(i));
            push(out, cell);
            out.push_str("</td>");
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>");
    if let Some(total) = &t.total {
        out.push_str("<tfoot><tr>");
        for (i, cell) in total.iter().enumerate() {
            let _ = write!(out, "<td{}>", class(i));
            push(out, cell);
            out.push_str("</td>");
        }
        out.push_str("</tr></tfoot>");
    }
    out.push_str("</table>");
    if t.more > 0 {
        let _ = write!(
            out,
            "<p class=\"more\">{} more (--top 0 shows all)</p>",
            t.more
        );
    }
    out.push_str("</div>\n");
}

pub fn summary_tables(s: &Summary, top: usize) -> String {
    let mut out = String::from("<section id=\"tables\">\n<h2>Operations, logon types, client IPs, users, mailboxes, client apps</h2>\n<div class=\"tables\">\n");
    let all = tables::tables(s, top);
    let order = [
        "operations",
        "logon_types",
        "top_client_ips",
        "top_countries",
        "top_asns",
        "top_users",
        "top_mailboxes",
        "top_client_apps",
    ];
    for name in order {
        if let Some(t) = all.iter().find(|t| t.name == name) {
            table(&mut out, t);
        }
    }
    out.push_str("</div>\n</section>\n");
    out
}

/// The timeline's heading and filter bar (the table follows).
pub fn timeline_tools(rows: usize, evidence: usize, page: usize) -> String {
    let showing = rows.min(page);
    format!(
        "<section id=\"timeline\">\n<h2>Timeline</h2>\n<div class=\"tools\">\
         <input type=\"search\" id=\"q\" placeholder=\"Filter: words that must all appear in a row\" \
         aria-label=\"Filter the timeline\">\
         <label><input type=\"checkbox\" id=\"evonly\"> evidence rows only ({evidence})</label>\
         <button type=\"button\" id=\"clearsel\" hidden>Show all rows again</button>\
         <span id=\"shown\">showing {showing} of {rows} rows</span>\
         <button type=\"button\" id=\"more\"{hide}>Show {page} more</button>\
         <button type=\"button\" id=\"all\"{hide}>Show all</button></div>\n\
         <noscript><p class=\"note\">Scripts are off: the filter does not work, and only the \
         first {showing} rows are shown.</p></noscript>\n",
        hide = if rows > page { "" } else { " hidden" },
    )
}
