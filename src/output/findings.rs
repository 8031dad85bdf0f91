//! Findings written out: text for a terminal (worst first, evidence capped, every value
//! from the input escaped), one JSON document (everything, all evidence), or CSV (one row
//! per finding, Excel-safe, the evidence cell kept under Excel's 32,767 characters).

use std::fmt::Write as _;
use std::io::{self, Write};

use rayon::prelude::*;
use serde::Serialize;

use crate::diag::sanitize;
use crate::output::cells::Line;
use crate::pipeline::Table;
use crate::triage::rules::{Eval, Rule, Severity, SigmaSource};
use crate::triage::{Evaluation, Finding};

/// The `format` member of a JSON triage document.
pub const FORMAT_NAME: &str = "mbxaudit-triage";
/// Its version.
pub const FORMAT_VERSION: u32 = 1;

/// What every writer needs besides the findings.
pub struct Context<'a> {
    pub rows: &'a Table,
    /// The inputs' display names, indexed by `SourcePos::file`.
    pub sources: &'a [String],
    /// The rules in force (filters), one line each.
    pub scope: &'a [String],
    pub rules: &'a [Rule],
}

impl Context<'_> {
    /// The Sigma origin of the rule `id`, if it is a Sigma rule.
    pub fn sigma_of(&self, id: &str) -> Option<&SigmaSource> {
        self.rules
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.sigma.as_ref())
    }

    /// `file:line` of a row of evidence.
    pub fn place(&self, row: u32) -> String {
        let mut out = String::new();
        self.write_place(&mut out, row, self.sources);
        out
    }

    /// Appends [`Context::place`] to `out`, the files named by `names` (indexed as the
    /// sources are: sanitized names, say); nothing for a row the table does not hold.
    pub fn write_place(&self, out: &mut String, row: u32, names: &[String]) {
        let row = row as usize;
        if row >= self.rows.len() {
            return;
        }
        let pos = self.rows.pos(row);
        let file = usize::try_from(pos.file)
            .ok()
            .and_then(|i| names.get(i))
            .map_or("?", String::as_str);
        let _ = write!(out, "{file}:{}", pos.line);
    }
}

/// `3 findings (1 high, 2 medium)`, or `no findings`.
pub fn headline(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "no findings".into();
    }
    let mut parts = Vec::new();
    for sev in [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ] {
        let n = findings.iter().filter(|f| f.severity == sev).count();
        if n > 0 {
            parts.push(format!("{n} {}", sev.name()));
        }
    }
    format!(
        "{} finding{} ({})",
        findings.len(),
        if findings.len() == 1 { "" } else { "s" },
        parts.join(", ")
    )
}

/// `2024-03-05T09:00:00Z`, or `A to B (12m)`.
pub fn span(f: &Finding) -> String {
    if f.first == f.last {
        return f.first.to_iso();
    }
    let secs = (f.last.0 - f.first.0) / 1_000_000_000;
    let dur = match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3_600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h{:02}m", s / 3_600, s / 60 % 60),
        s => format!("{}d{:02}h", s / 86_400, s / 3_600 % 24),
    };
    format!("{} to {} ({dur})", f.first.to_iso(), f.last.to_iso())
}

/// The findings for a terminal; `evidence` caps the places listed (0: all).
pub fn text(ev: &Evaluation, ctx: &Context<'_>, evidence: usize) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "Triage: {} from {} record{}, {} rule{}.\n",
        headline(&ev.findings),
        ctx.rows.len(),
        if ctx.rows.len() == 1 { "" } else { "s" },
        ctx.rules.len(),
        if ctx.rules.len() == 1 { "" } else { "s" },
    ));
    // Each finding's text on its own (in parallel: a whole export gives thousands), then
    // joined in order.
    let files: Vec<String> = ctx.sources.iter().map(|s| sanitize(s)).collect();
    let texts: Vec<String> = ev
        .findings
        .par_iter()
        .map(|f| finding_text(f, ctx, &files, evidence))
        .collect();
    for t in texts {
        out.push_str(&t);
    }
    if !ev.notes.is_empty() {
        out.push('\n');
        for n in &ev.notes {
            out.push_str(&format!("note: {}\n", sanitize(n)));
        }
    }
    out
}

/// One finding of [`text`], from its blank line to its evidence; `files` are the
/// sources' names, sanitized.
fn finding_text(f: &Finding, ctx: &Context<'_>, files: &[String], evidence: usize) -> String {
    // About 650 bytes a finding, with its evidence.
    let mut out = String::with_capacity(1024);
    out.push('\n');
    let _ = writeln!(
        out,
        "[{}] {}: {}",
        f.severity.name().to_uppercase(),
        f.rule,
        sanitize(&f.title)
    );
    let _ = writeln!(out, "  why:      {}", sanitize(&f.why));
    if let Some(s) = ctx.sigma_of(&f.rule) {
        let _ = writeln!(out, "  sigma:    {}", sanitize(&sigma_credit(s)));
    }
    let _ = writeln!(out, "  when:     {}", span(f));
    let _ = writeln!(out, "  actor:    {}", sanitize(&f.actor));
    let _ = writeln!(out, "  mailbox:  {}", sanitize(&f.mailbox));
    let cap = if evidence == 0 { usize::MAX } else { evidence };
    // `file:line` as `Context::place` gives it, sanitized (the line is digits).
    out.push_str("  evidence: ");
    let mut shown = 0;
    for &r in f.rows.iter().take(cap) {
        if shown > 0 {
            out.push_str(", ");
        }
        shown += 1;
        ctx.write_place(&mut out, r, files);
    }
    let more = f.rows.len() - shown;
    if more > 0 {
        let _ = write!(
            out,
            " (+{more} more; {} rows, --evidence 0 lists all)",
            f.rows.len()
        );
    }
    out.push('\n');
    out
}

#[derive(Serialize)]
struct JsonDoc<'a> {
    format: &'static str,
    version: u32,
    inputs: &'a [String],
    filters: &'a [String],
    records: usize,
    rules: Vec<JsonRule<'a>>,
    notes: &'a [String],
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Serialize)]
struct JsonRule<'a> {
    id: &'a str,
    title: &'a str,
    severity: Severity,
    /// Sigma rules: where the rule came from, and its author and references (the
    /// Detection Rule License asks that the author be kept).
    #[serde(skip_serializing_if = "Option::is_none")]
    sigma: Option<JsonSigma<'a>>,
}

#[derive(Serialize)]
struct JsonSigma<'a> {
    path: &'a str,
    author: Option<&'a str>,
    level: Option<&'a str>,
    references: &'a [String],
}

impl<'a> JsonSigma<'a> {
    fn of(s: &'a SigmaSource) -> JsonSigma<'a> {
        JsonSigma {
            path: &s.path,
            author: s.author.as_deref(),
            level: s.level.as_deref(),
            references: &s.references,
        }
    }
}

/// "rule file, by author": who to credit for a Sigma finding.
pub fn sigma_credit(s: &SigmaSource) -> String {
    match &s.author {
        Some(a) => format!("{}, by {a}", s.path),
        None => s.path.clone(),
    }
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    severity: Severity,
    rule: &'a str,
    title: &'a str,
    why: &'a str,
    first: String,
    last: String,
    actor: &'a str,
    mailbox: &'a str,
    records: usize,
    evidence: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sigma: Option<JsonSigma<'a>>,
}

/// The findings as one pretty JSON document, with a final newline.
pub fn json(ev: &Evaluation, ctx: &Context<'_>) -> serde_json::Result<Vec<u8>> {
    let doc = JsonDoc {
        format: FORMAT_NAME,
        version: FORMAT_VERSION,
        inputs: ctx.sources,
        filters: ctx.scope,
        records: ctx.rows.len(),
        rules: ctx
            .rules
            .iter()
            .map(|r| JsonRule {
                id: &r.id,
                title: &r.title,
                severity: r.severity,
                sigma: r.sigma.as_ref().map(JsonSigma::of),
            })
            .collect(),
        notes: &ev.notes,
        findings: ev
            .findings
            .iter()
            .map(|f| JsonFinding {
                severity: f.severity,
                rule: &f.rule,
                title: &f.title,
                why: &f.why,
                first: f.first.to_iso(),
                last: f.last.to_iso(),
                actor: &f.actor,
                mailbox: &f.mailbox,
                records: f.rows.len(),
                evidence: f.rows.iter().map(|&r| ctx.place(r)).collect(),
                sigma: ctx.sigma_of(&f.rule).map(JsonSigma::of),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&doc)?;
    out.push(b'\n');
    Ok(out)
}

/// The CSV header.
pub const CSV_COLUMNS: [&str; 10] = [
    "Severity", "Rule", "Title", "Why", "First", "Last", "Actor", "Mailbox", "Records", "Evidence",
];

/// Excel's limit for one cell, less room for the closing note.
const CELL_MAX: usize = 32_000;

/// The findings as CSV (every field quoted, CRLF); returns the cells neutralised.
pub fn csv(
    out: &mut dyn Write,
    ev: &Evaluation,
    ctx: &Context<'_>,
    bom: bool,
    excel_safe: bool,
) -> io::Result<u64> {
    if bom {
        out.write_all(b"\xEF\xBB\xBF")?;
    }
    let mut line = Line::new(excel_safe);
    for c in CSV_COLUMNS {
        line.plain(c);
    }
    line.finish(out)?;
    for f in &ev.findings {
        line.plain(f.severity.name());
        line.cell(&f.rule);
        line.cell(&f.title);
        line.cell(&f.why);
        line.plain(&f.first.to_iso());
        line.plain(&f.last.to_iso());
        line.cell(&f.actor);
        line.cell(&f.mailbox);
        line.plain(&f.rows.len().to_string());
        line.cell(&evidence_cell(f, ctx));
        line.finish(out)?;
    }
    Ok(line.neutralised)
}

/// A finding's evidence in one cell: the places, space-separated, up to Excel's limit
/// for a cell, then `(+N more)`.
pub fn evidence_cell(f: &Finding, ctx: &Context<'_>) -> String {
    let mut cell = String::new();
    for (i, &r) in f.rows.iter().enumerate() {
        let place = ctx.place(r);
        if cell.len() + place.len() + 1 > CELL_MAX {
            cell.push_str(&format!(" (+{} more)", f.rows.len() - i));
            break;
        }
        if !cell.is_empty() {
            cell.push(' ');
        }
        cell.push_str(&place);
    }
    cell
}

/// What a rule measures, in a few words (`>= 50 items in 1h`).
pub fn measure(rule: &Rule) -> String {
    let per = if rule.group_by.is_empty() {
        String::new()
    } else {
        format!(
            " per {}",
            rule.group_by
                .iter()
                .map(|k| k.name())
                .collect::<Vec<_>>()
                .join("+")
        )
    };
    match &rule.eval {
        Eval::Match => format!("each match{per}"),
        Eval::Threshold {
            threshold,
            window,
            count,
            distinct,
        } => {
            let unit = match (count, distinct) {
                (crate::triage::rules::CountBy::Records, _) => "records".to_string(),
                (crate::triage::rules::CountBy::Items, _) => "items".to_string(),
                (_, Some(k)) => format!("distinct {}", k.name()),
                (_, None) => "distinct values".to_string(),
            };
            format!(">= {threshold} {unit} in {}{per}", window.label())
        }
        Eval::FirstSeen {
            field,
            baseline,
            min_baseline,
        } => format!(
            "new {} after a {} baseline (>= {min_baseline} records){per}",
            field.name(),
            baseline.label()
        ),
    }
}

/// `--list-rules`: one block per rule.
pub fn rule_list(rules: &[Rule]) -> String {
    let mut out = String::new();
    for r in rules {
        out.push_str(&format!(
            "{}  [{}]  {}\n  {}\n",
            r.id,
            r.severity.name(),
            sanitize(&r.title),
            measure(r)
        ));
        if !r.escalate.is_empty() {
            for e in &r.escalate {
                out.push_str(&format!(
                    "  escalated to {}: {}\n",
                    e.severity.name(),
                    sanitize(&e.reason)
                ));
            }
        }
        if !r.description.is_empty() {
            out.push_str(&wrap(&sanitize(&r.description), 88, "  "));
        }
        for reference in r.sigma.iter().flat_map(|s| &s.references) {
            out.push_str(&format!("  see {}\n", sanitize(reference)));
        }
        out.push('\n');
    }
    out
}

fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}
