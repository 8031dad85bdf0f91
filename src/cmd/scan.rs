//! Turns the options every scanning command shares into what the session runs on:
//! compiled regexes, a UTC date window, normalised name sets. Every value the user typed is
//! checked here, once, with a message that says what to type instead.
//!
//! Dates on the command line ([`date_window`]): ISO (`2017-04-10`, `2017-04-10T15:00`,
//! with or without an offset) are what they say. A dotted date is day first, as in
//! de-DE (`10.04.2017` is 10 April). A date with slashes or dashes (`04/10/17`) is read
//! as what it can only be when one reading is not a date (`04/27/17` is 27 April,
//! `27/04/17` too); when both readings are dates, `--date-order` decides, else the order
//! the other bound proves (`--start-date 04/10/17 --end-date 04/27/17` is the seed
//! script's example, en-US), else the date is refused with both readings named.

use anyhow::{bail, Context, Result};

use super::args::InputArgs;
use crate::datetime::{
    parse_time_with_presence, DateOrder, ParsedTime, Timestamp, WallClock, Zone,
};
use crate::diag::sanitize;
use crate::enrich::{Enricher, IpList};
use crate::filter::{DateWindow, Filter, IpMatcher, RecordTypes, SubjectMatcher};
use crate::input::decode::parse_label;
use crate::pipeline::{Keep, Memory, Settings, DEFAULT_MEMORY_LIMIT};
use crate::record::LOGON_TYPE_NAMES;
use crate::session::ScanConfig;

/// Checks and compiles the shared options: the inputs, the rules, how to read.
/// `expand_items` keeps the messages each record touched (`--expand-items`; triage and
/// report count them); `keep` is what the command needs of each kept row.
pub fn scan_config(args: InputArgs, expand_items: bool, keep: Keep) -> Result<ScanConfig> {
    let mut warnings = Vec::new();
    let (f, r) = (args.filters, args.reading);
    let zone = r.tz;
    let order = r.date_order;
    let (window, date_notes) =
        date_window(f.start_date.as_deref(), f.end_date.as_deref(), order, zone)?;
    if let (Some(s), Some(e)) = (window.start, window.end) {
        if e <= s {
            bail!(
                "--end-date ({}) is not after --start-date ({}): no event could match",
                e.to_iso(),
                s.to_iso()
            );
        }
    }

    let subject = f.subject.as_deref().map(|p| {
        let (matcher, error) = SubjectMatcher::new(p, f.subject_exact);
        if let Some(e) = error {
            let first = e.lines().last().unwrap_or_default().trim().to_string();
            warnings.push(format!(
                "--subject '{p}' is not a valid regular expression ({first}); comparing it exactly"
            ));
        }
        matcher
    });

    let filter = Filter {
        record_types: f.record_types,
        window,
        include_folder_bind: f.include_folder_bind,
        logon_types: logon_types(&f.logon_types)?,
        mailboxes: lowercase(&f.mailbox),
        operations: trimmed(&f.operation),
        exclude_operations: trimmed(&f.exclude_operation),
        users: lowercase(&f.user),
        ips: f
            .ip
            .iter()
            .filter(|s| !s.trim().is_empty())
            .map(|s| IpMatcher::parse(s).map_err(|e| anyhow::anyhow!("--ip '{s}': {e}")))
            .collect::<Result<_>>()?,
        subject,
    };
    let extra_filters = !filter.operations.is_empty()
        || !filter.exclude_operations.is_empty()
        || !filter.users.is_empty()
        || !filter.ips.is_empty();
    let encoding = r
        .encoding
        .as_deref()
        .map(parse_label)
        .transpose()
        .map_err(anyhow::Error::msg)
        .context("--encoding")?;
    if args.threads == Some(0) {
        bail!("--threads must be at least 1");
    }
    let geoip = if args.enrich.geoip.is_empty() {
        None
    } else {
        Some(std::sync::Arc::new(
            Enricher::open(&args.enrich.geoip).context("--geoip")?,
        ))
    };
    let ip_list = args
        .enrich
        .ip_list
        .as_deref()
        .map(|p| IpList::load(p).map(std::sync::Arc::new))
        .transpose()
        .context("--ip-list")?;
    let threads = args.threads.map(|n| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        let cap = cores.saturating_mul(THREADS_PER_CORE).max(THREADS_PER_CORE);
        if n > cap {
            warnings.push(format!(
                "-j {n}: more threads than {cores} core{} can use; using {cap} threads \
                 ({THREADS_PER_CORE} per core)",
                if cores == 1 { "" } else { "s" }
            ));
            cap
        } else {
            n
        }
    });
    let scope = scope(&filter, &f.ip, f.subject.as_deref(), f.subject_exact);
    if let Some(dir) = &args.memory.temp_dir {
        crate::pipeline::rows::spill::check_dir(dir).with_context(|| {
            format!(
                "--temp-dir '{}': cannot create a temporary file there; give a writable \
                 directory",
                dir.display()
            )
        })?;
    }
    let memory = Memory {
        limit: args.memory.memory_limit.unwrap_or(DEFAULT_MEMORY_LIMIT),
        temp_dir: args.memory.temp_dir,
    };

    Ok(ScanConfig {
        notes: date_notes,
        inputs: args.inputs,
        settings: Settings {
            filter,
            zone,
            date_order: order,
            encoding,
            expand_items,
            prefilter: true,
            reference: false,
            keep,
            memory,
            tagger: None,
            geoip,
            ip_list,
        },
        strict: r.strict,
        quiet: args.quiet,
        threads,
        warnings,
        subject: f.subject,
        extra_filters,
        scope,
        hash_inputs: false,
    })
}

/// The rules in force, one line each, in the order they are applied.
fn scope(filter: &Filter, ips: &[String], subject: Option<&str>, exact: bool) -> Vec<String> {
    let mut out = Vec::new();
    let types = match filter.record_types {
        RecordTypes::Mailbox => "mailbox",
        RecordTypes::Admin => "admin",
        RecordTypes::All => "all",
    };
    out.push(format!("record types: {types}"));
    let w = filter.window;
    if w.start.is_some() || w.end.is_some() {
        let from = w.start.map_or("the beginning".into(), |t| t.to_iso());
        let to = w.end.map_or("the end".into(), |t| t.to_iso());
        out.push(format!("date window (UTC): from {from} up to {to}"));
    }
    out.push(match &filter.logon_types {
        Some(t) => format!("logon types: {}", t.join(", ")),
        None => "logon types: all".into(),
    });
    let list = |name: &str, values: &[String], out: &mut Vec<String>| {
        if !values.is_empty() {
            out.push(format!("{name}: {}", values.join(", ")));
        }
    };
    list("mailboxes", &filter.mailboxes, &mut out);
    if !filter.include_folder_bind {
        out.push("FolderBind removed".into());
    }
    list("operations", &filter.operations, &mut out);
    list("operations excluded", &filter.exclude_operations, &mut out);
    list("users", &filter.users, &mut out);
    list("client IPs", &trimmed(ips), &mut out);
    if let Some(s) = subject {
        let how = if exact { "exactly" } else { "regex or exact" };
        out.push(format!("subject ({how}): {s}"));
    }
    out
}

fn lowercase(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim().to_lowercase())
        .filter(|v| !v.is_empty())
        .collect()
}

fn trimmed(values: &[String]) -> Vec<String> {
    values
        .iter()
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect()
}

/// `--logon-types`: names (any case) or `all`.
fn logon_types(values: &[String]) -> Result<Option<Vec<String>>> {
    let values = trimmed(values);
    if values.iter().any(|v| v.eq_ignore_ascii_case("all")) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for v in values {
        let known = LOGON_TYPE_NAMES
            .iter()
            .find(|n| n.eq_ignore_ascii_case(&v))
            .or_else(|| v.eq_ignore_ascii_case("Delegated").then_some(&"Delegate"));
        match known {
            Some(n) => out.push((*n).to_string()),
            None => bail!(
                "--logon-types: unknown logon type '{v}'; use {} or all",
                LOGON_TYPE_NAMES.join(", ")
            ),
        }
    }
    if out.is_empty() {
        bail!("--logon-types is empty; use all to keep every logon type");
    }
    Ok(Some(out))
}

/// Worker threads per core at most (`-j`): the scan is bound by the processor and the
/// page cache, so more threads than this only cost memory and start-up time.
const THREADS_PER_CORE: usize = 4;

/// One --start-date / --end-date value, parsed but not yet placed in time.
struct Bound<'a> {
    option: &'static str,
    text: &'a str,
    parsed: ParsedTime,
    has_time: bool,
    end: bool,
}

impl Bound<'_> {
    /// The day/month order this value can only be read in, if it is a culture date with
    /// slashes or dashes of which one reading is a date and the other is not.
    fn proves(&self) -> Option<DateOrder> {
        if !matches!(self.parsed, ParsedTime::Culture { .. }) || is_dotted(self.text) {
            return None;
        }
        match (
            self.parsed.wall_clock(DateOrder::Mdy),
            self.parsed.wall_clock(DateOrder::Dmy),
        ) {
            (Some(_), None) => Some(DateOrder::Mdy),
            (None, Some(_)) => Some(DateOrder::Dmy),
            _ => None,
        }
    }
}

/// True for a date written with dots (`10.04.2017`, `10. 4. 2017`).
fn is_dotted(text: &str) -> bool {
    let t = text.trim_start();
    t.trim_start_matches(|c: char| c.is_ascii_digit())
        .starts_with('.')
}

/// The UTC date window of `--start-date` and `--end-date` (see the module documentation
/// for how dates are read), and notes for the user on how an ambiguous one was read.
pub fn date_window(
    start: Option<&str>,
    end: Option<&str>,
    order: Option<DateOrder>,
    zone: Zone,
) -> Result<(DateWindow, Vec<String>)> {
    let start = start
        .map(|t| read_bound("--start-date", t, false))
        .transpose()?;
    let end = end.map(|t| read_bound("--end-date", t, true)).transpose()?;
    let mut notes = Vec::new();
    let mut place = |this: &Option<Bound<'_>>, other: &Option<Bound<'_>>| {
        this.as_ref()
            .map(|b| {
                let proof = other.as_ref().and_then(|o| o.proves().map(|p| (p, o)));
                place_bound(b, order, proof, zone, &mut notes)
            })
            .transpose()
    };
    let window = DateWindow {
        start: place(&start, &end)?,
        end: place(&end, &start)?,
    };
    Ok((window, notes))
}

/// Parses the text of one bound, not yet placed in time.
fn read_bound<'a>(option: &'static str, text: &'a str, end: bool) -> Result<Bound<'a>> {
    let (parsed, has_time) = parse_time_with_presence(text.as_bytes()).map_err(|e| {
        anyhow::anyhow!(
            "{option}: '{}' is not a date ({e}); use 2017-04-10 or 2017-04-10T15:00 (ISO), \
             10.04.2017 (dots: day first), or 04/27/2017 (slashes: read as the date it can \
             only be, or in --date-order)",
            sanitize(text)
        )
    })?;
    Ok(Bound {
        option,
        text,
        parsed,
        has_time,
        end,
    })
}

/// Places one bound in time. An end date without a time means the end of that day (the
/// window is `[start, end)`); with a time it is inclusive.
fn place_bound(
    b: &Bound<'_>,
    order: Option<DateOrder>,
    other_proof: Option<(DateOrder, &Bound<'_>)>,
    zone: Zone,
    notes: &mut Vec<String>,
) -> Result<Timestamp> {
    let (option, text) = (b.option, sanitize(b.text));
    let wall = match b.parsed {
        ParsedTime::Utc(ts) => return Ok(if b.end { Timestamp(ts.0 + 1) } else { ts }),
        ParsedTime::Local(w) => w,
        ParsedTime::Culture { .. } if is_dotted(b.text) => {
            b.parsed.wall_clock(DateOrder::Dmy).ok_or_else(|| {
                anyhow::anyhow!(
                    "{option}: '{text}' is not a date: dotted dates are day.month.year \
                     (10.04.2017 is 10 April)"
                )
            })?
        }
        ParsedTime::Culture { .. } => {
            let (mdy, dmy) = (
                b.parsed.wall_clock(DateOrder::Mdy),
                b.parsed.wall_clock(DateOrder::Dmy),
            );
            match (mdy, dmy) {
                (Some(m), Some(d)) if m != d => match (order, other_proof) {
                    (Some(DateOrder::Mdy), _) => m,
                    (Some(DateOrder::Dmy), _) => d,
                    (None, Some((proved, other))) => {
                        notes.push(format!(
                            "{option} {text} read as {} ({}), as {} {} can only be read so.",
                            proved.label(),
                            day(if proved == DateOrder::Mdy { m } else { d }),
                            other.option,
                            sanitize(other.text)
                        ));
                        if proved == DateOrder::Mdy {
                            m
                        } else {
                            d
                        }
                    }
                    (None, None) => bail!(
                        "{option}: '{text}' can be read as {} (month/day/year) or {} \
                         (day/month/year); add --date-order mdy or --date-order dmy, or \
                         write it as {} or {}",
                        day(m),
                        day(d),
                        day(m),
                        day(d)
                    ),
                },
                (Some(w), _) | (None, Some(w)) => w,
                (None, None) => bail!("{option}: '{text}' is not a date in either day/month order"),
            }
        }
    };
    let (wall, bump) = match (b.end, b.has_time) {
        (true, false) => (next_day(wall).context("date out of range")?, 0),
        (true, true) => (wall, 1), // inclusive: [start, end + 1ns)
        (false, _) => (wall, 0),
    };
    let (ts, _) = zone.to_utc(wall).map_err(|e| match e {
        e if e == crate::datetime::DST_GAP => anyhow::anyhow!(
            "{option}: '{text}' does not exist in {zone}: the clocks skip that hour when \
             daylight saving time starts; give a time outside the gap"
        ),
        e => anyhow::anyhow!("{option}: '{text}': {e} ({zone})"),
    })?;
    Ok(Timestamp(ts.0 + bump))
}

/// `2017-04-10`: the date of a wall clock, for messages.
fn day(w: WallClock) -> String {
    format!("{:04}-{:02}-{:02}", w.year, w.month, w.day)
}

/// Parses one --start-date / --end-date value alone into a UTC bound (no other bound to
/// prove an order): see [`date_window`].
pub fn parse_bound(
    text: &str,
    order: Option<DateOrder>,
    zone: Zone,
    end: bool,
) -> Result<Timestamp> {
    let (start, end_text) = if end {
        (None, Some(text))
    } else {
        (Some(text), None)
    };
    let (window, _) = date_window(start, end_text, order, zone)?;
    window
        .start
        .or(window.end)
        .ok_or_else(|| anyhow::anyhow!("'{text}' is not a date"))
}

fn next_day(w: WallClock) -> Option<WallClock> {
    let date = chrono::NaiveDate::from_ymd_opt(w.year, u32::from(w.month), u32::from(w.day))?;
    let next = date.succ_opt()?;
    use chrono::Datelike;
    Some(WallClock {
        year: next.year(),
        month: u8::try_from(next.month()).ok()?,
        day: u8::try_from(next.day()).ok()?,
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iso(t: Timestamp) -> String {
        t.to_iso()
    }

    #[test]
    fn end_date_without_time_includes_the_day() {
        let z = Zone::Fixed(0);
        assert_eq!(
            iso(parse_bound("04/27/17", None, z, true).unwrap()),
            "2017-04-28T00:00:00Z"
        );
        assert_eq!(
            iso(parse_bound("04/10/17", Some(DateOrder::Mdy), z, false).unwrap()),
            "2017-04-10T00:00:00Z"
        );
        assert_eq!(
            iso(parse_bound("2017-04-10", None, z, false).unwrap()),
            "2017-04-10T00:00:00Z"
        );
        assert_eq!(
            iso(parse_bound("10.04.2017", Some(DateOrder::Dmy), z, false).unwrap()),
            "2017-04-10T00:00:00Z"
        );
        assert_eq!(
            iso(parse_bound("13/04/2017", None, z, false).unwrap()),
            "2017-04-13T00:00:00Z"
        );
        let with_time = parse_bound("2017-04-10T15:00:00", None, z, true).unwrap();
        assert_eq!(
            with_time.0 - 1,
            parse_bound("2017-04-10T15:00:00", None, z, false)
                .unwrap()
                .0
        );
    }

    #[test]
    fn bounds_follow_the_zone() {
        let z = Zone::parse("+02:00").unwrap();
        assert_eq!(
            iso(parse_bound("2017-04-10", None, z, false).unwrap()),
            "2017-04-09T22:00:00Z"
        );
    }

    #[test]
    fn command_line_dates() {
        let z = Zone::Fixed(0);
        let window = |s: &str, e: &str, o| {
            let (w, notes) = date_window(Some(s), Some(e), o, z)?;
            let (Some(s), Some(e)) = (w.start, w.end) else {
                bail!("no window");
            };
            Ok::<_, anyhow::Error>((iso(s), iso(e), notes))
        };
        // Dots: day first, whatever --date-order says.
        let (s, e, _) = window("10.04.2017", "20.04.2017", Some(DateOrder::Mdy)).unwrap();
        assert_eq!(
            (s.as_str(), e.as_str()),
            ("2017-04-10T00:00:00Z", "2017-04-21T00:00:00Z")
        );
        // Ambiguous: the other bound's proof, with a note.
        let (s, _, notes) = window("04/10/17", "04/27/17", None).unwrap();
        assert_eq!(s, "2017-04-10T00:00:00Z");
        assert!(notes[0].contains("month/day/year"), "{notes:?}");
        let (s, _, _) = window("10/04/17", "27/04/17", None).unwrap();
        assert_eq!(s, "2017-04-10T00:00:00Z");
        // Ambiguous both: refused, both readings named.
        let e = format!("{:#}", window("04/10/17", "05/11/17", None).unwrap_err());
        assert!(e.contains("2017-04-10") && e.contains("2017-10-04"), "{e}");
        // Unambiguous: what it can only be.
        let (s, _, _) = window("04/13/2017", "2017-05-01", Some(DateOrder::Dmy)).unwrap();
        assert_eq!(s, "2017-04-13T00:00:00Z");
        // Not a date in either order, or with dots.
        assert!(window("13/13/2017", "2017-05-01", None).is_err());
        assert!(window("04.13.2017", "2017-05-01", None).is_err());
    }

    #[test]
    fn bad_bounds_explain() {
        let e = parse_bound("yesterday", None, Zone::Fixed(0), false).unwrap_err();
        assert!(e.to_string().contains("not a date"));
    }

    #[test]
    fn logon_type_names() {
        assert_eq!(logon_types(&["all".into()]).unwrap(), None);
        assert_eq!(
            logon_types(&["owner".into(), " Delegated".into()]).unwrap(),
            Some(vec!["Owner".into(), "Delegate".into()])
        );
        assert!(logon_types(&["Guest".into()]).is_err());
    }
}
