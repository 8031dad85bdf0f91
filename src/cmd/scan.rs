//! Turns the options every scanning command shares into what the session runs on:
//! compiled regexes, a UTC date window, normalised name sets. Every value the user typed is
//! checked here, once, with a message that says what to type instead.

use anyhow::{bail, Context, Result};

use super::args::InputArgs;
use crate::datetime::{
    parse_time_with_presence, DateOrder, ParsedTime, Timestamp, WallClock, Zone,
};
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
    let window = DateWindow {
        start: f
            .start_date
            .as_deref()
            .map(|d| parse_bound(d, order, zone, false))
            .transpose()
            .context("--start-date")?,
        end: f
            .end_date
            .as_deref()
            .map(|d| parse_bound(d, order, zone, true))
            .transpose()
            .context("--end-date")?,
    };
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
        },
        strict: r.strict,
        quiet: args.quiet,
        threads: args.threads,
        warnings,
        subject: f.subject,
        extra_filters,
        scope,
        hash_streams: false,
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

/// Parses a --start-date / --end-date value into a UTC bound. An end date without a time
/// means the end of that day (the window is `[start, end)`); with a time it is inclusive.
pub fn parse_bound(
    text: &str,
    order: Option<DateOrder>,
    zone: Zone,
    end: bool,
) -> Result<Timestamp> {
    let (parsed, has_time) = parse_time_with_presence(text.as_bytes()).map_err(|e| {
        anyhow::anyhow!(
            "'{text}' is not a date ({e}); use 2017-04-10, 2017-04-10T15:00, 04/10/17 or 10.04.2017"
        )
    })?;
    let wall = match parsed {
        ParsedTime::Utc(ts) => return Ok(if end { Timestamp(ts.0 + 1) } else { ts }),
        ParsedTime::Local(w) => w,
        ParsedTime::Culture { .. } => {
            let order = order.or(parsed.evidence()).unwrap_or(DateOrder::Mdy);
            parsed.wall_clock(order).ok_or_else(|| {
                anyhow::anyhow!(
                    "'{text}' is not a valid date when read as {} (--date-order)",
                    if order == DateOrder::Mdy {
                        "month/day/year"
                    } else {
                        "day/month/year"
                    }
                )
            })?
        }
    };
    let (wall, bump) = match (end, has_time) {
        (true, false) => (next_day(wall).context("date out of range")?, 0),
        (true, true) => (wall, 1), // inclusive: [start, end + 1ns)
        (false, _) => (wall, 0),
    };
    let (ts, _) = zone
        .to_utc(wall)
        .map_err(|e| anyhow::anyhow!("'{text}': {e} ({zone})"))?;
    Ok(Timestamp(ts.0 + bump))
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
            iso(parse_bound("04/10/17", None, z, false).unwrap()),
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
