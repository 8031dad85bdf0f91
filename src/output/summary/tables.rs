//! The summary's tables, as rows of text cells: what both the terminal and the CSV files
//! show. Ordering is fixed so that outputs are reproducible: by count, largest first,
//! ties by name.

use std::collections::{BTreeMap, BTreeSet};

use crate::output::text_table::Align;
use crate::summary::{hour_index, Bucket, Group, Summary};

/// How an empty value (no client IP, no user) is shown.
pub const NONE: &str = "(none)";

/// What a column holds, for writers whose cells are typed (XLSX); the cells themselves
/// are text, as shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// A whole number.
    Count,
    /// A percentage, `12.5%`.
    Share,
    /// An ISO 8601 UTC instant.
    Time,
    /// A day, `2017-04-10`.
    Day,
    /// An hour, `2017-04-10 15:00`.
    Hour,
}

/// One table of the summary.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// File stem of its CSV (`operations` → `operations.csv`).
    pub name: &'static str,
    /// Heading on the terminal.
    pub title: String,
    pub headers: Vec<String>,
    pub align: Vec<Align>,
    /// What each column holds.
    pub kinds: Vec<Kind>,
    pub rows: Vec<Vec<String>>,
    /// A totals line, shown on the terminal only (a CSV keeps to data rows).
    pub total: Option<Vec<String>>,
    /// Rows left out by `--top`.
    pub more: usize,
}

/// `12.5%`.
pub fn share(n: u64, total: u64) -> String {
    if total == 0 {
        return "0.0%".into();
    }
    format!("{:.1}%", n as f64 * 100.0 / total as f64)
}

fn label(value: &str) -> String {
    if value.is_empty() {
        NONE.into()
    } else {
        value.into()
    }
}

/// Entries by count, largest first, ties by name.
fn ranked<V, F: Fn(&V) -> u64>(map: &BTreeMap<String, V>, count: F) -> Vec<(&String, &V)> {
    let mut v: Vec<_> = map.iter().collect();
    v.sort_by(|a, b| count(b.1).cmp(&count(a.1)).then_with(|| a.0.cmp(b.0)));
    v
}

/// The operations in table order (by count, then name).
pub fn operation_order(s: &Summary) -> Vec<&String> {
    ranked(&s.operations, |g| g.count)
        .into_iter()
        .map(|(k, _)| k)
        .collect()
}

const GROUP_HEADERS: [&str; 7] = [
    "Count",
    "Share",
    "FirstSeen",
    "LastSeen",
    "Users",
    "Mailboxes",
    "ClientIPs",
];

fn group_table(
    s: &Summary,
    name: &'static str,
    title: &str,
    key: &str,
    groups: &BTreeMap<String, Group>,
) -> Table {
    let mut headers = vec![key.to_string()];
    headers.extend(GROUP_HEADERS.iter().map(|h| h.to_string()));
    let mut align = vec![
        Align::Left,
        Align::Right,
        Align::Right,
        Align::Left,
        Align::Left,
    ];
    align.extend([Align::Right; 3]);
    let mut kinds = vec![Kind::Text, Kind::Count, Kind::Share, Kind::Time, Kind::Time];
    kinds.extend([Kind::Count; 3]);
    let rows = ranked(groups, |g| g.count)
        .into_iter()
        .map(|(k, g)| {
            vec![
                label(k),
                g.count.to_string(),
                share(g.count, s.records),
                g.first.to_iso(),
                g.last.to_iso(),
                g.users.len().to_string(),
                g.mailboxes.len().to_string(),
                g.client_ips.len().to_string(),
            ]
        })
        .collect();
    let total = s.span().map(|(first, last)| {
        let distinct = |pick: fn(&Group) -> &BTreeSet<String>| {
            let all: BTreeSet<&String> = groups.values().flat_map(pick).collect();
            all.len().to_string()
        };
        vec![
            "(all)".to_string(),
            s.records.to_string(),
            share(s.records, s.records),
            first.to_iso(),
            last.to_iso(),
            distinct(|g| &g.users),
            distinct(|g| &g.mailboxes),
            distinct(|g| &g.client_ips),
        ]
    });
    Table {
        name,
        title: title.into(),
        headers,
        align,
        kinds,
        rows,
        total,
        more: 0,
    }
}

fn top_table(
    s: &Summary,
    name: &'static str,
    what: &str,
    key: &str,
    map: &BTreeMap<String, u64>,
    top: usize,
) -> Table {
    let all = ranked(map, |n| *n);
    let distinct = map.keys().filter(|k| !k.is_empty()).count();
    let rows: Vec<Vec<String>> = all
        .iter()
        .take(top)
        .map(|(k, &n)| vec![label(k), n.to_string(), share(n, s.records)])
        .collect();
    Table {
        name,
        title: format!("Top {what} ({distinct} distinct)"),
        headers: vec![key.into(), "Count".into(), "Share".into()],
        align: vec![Align::Left, Align::Right, Align::Right],
        kinds: vec![Kind::Text, Kind::Count, Kind::Share],
        more: all.len() - rows.len(),
        rows,
        total: None,
    }
}

/// Every table but activity, in the order they are shown; with `--geoip`'s places the
/// client-IP table shows each address's country and AS, and the countries and networks
/// tables follow it.
pub fn tables(s: &Summary, top: usize) -> Vec<Table> {
    let mut ips = top_table(
        s,
        "top_client_ips",
        "client IPs",
        "ClientIP",
        &s.client_ips,
        top,
    );
    let mut all = vec![
        group_table(s, "operations", "Operations", "Operation", &s.operations),
        group_table(s, "logon_types", "Logon types", "LogonType", &s.logon_types),
        top_table(s, "top_users", "users", "User", &s.users, top),
        top_table(
            s,
            "top_mailboxes",
            "mailboxes",
            "Mailbox",
            &s.mailboxes,
            top,
        ),
    ];
    if let Some(n) = &s.networks {
        add_columns(
            &mut ips,
            &s.client_ips,
            &["ClientIPCountry", "ClientIPASN", "ClientIPASOrg"],
            |ip| {
                let p = n.place(ip);
                vec![p.country, p.asn, p.as_org]
            },
        );
        all.push(ips);
        let countries = n.countries(&s.client_ips);
        all.push(top_table(
            s,
            "top_countries",
            "countries",
            "Country",
            &countries,
            top,
        ));
        let asns = n.asns(&s.client_ips);
        let mut t = top_table(s, "top_asns", "networks (AS)", "ASN", &asns, top);
        add_columns(&mut t, &asns, &["ASOrg"], |asn| {
            vec![n.as_org(asn).to_string()]
        });
        all.push(t);
    } else {
        all.push(ips);
    }
    all.push(top_table(
        s,
        "top_client_apps",
        "client apps",
        "ClientApp",
        &s.client_apps,
        top,
    ));
    all
}

/// Adds text columns named `headers` to the top table of `map`, their cells from each
/// row's key (`""` for the `(none)` row).
fn add_columns(
    t: &mut Table,
    map: &BTreeMap<String, u64>,
    headers: &[&str],
    cells: impl Fn(&str) -> Vec<String>,
) {
    t.headers.extend(headers.iter().map(|h| h.to_string()));
    t.align.extend(headers.iter().map(|_| Align::Left));
    t.kinds.extend(headers.iter().map(|_| Kind::Text));
    // The rows are the map's first entries in rank order, as top_table wrote them.
    for (row, (key, _)) in t.rows.iter_mut().zip(ranked(map, |n| *n)) {
        row.extend(cells(key));
    }
}

/// The names of every table `--format csv` writes (file stems), activity last;
/// `networks`: with the `--geoip` tables.
pub fn file_names(by: Bucket, networks: bool) -> Vec<&'static str> {
    let mut s = Summary::empty();
    if networks {
        s.networks = Some(Default::default());
    }
    let mut names: Vec<&str> = tables(&s, 0).iter().map(|t| t.name).collect();
    names.push(activity_table(&activity(&s, by)).name);
    names
}

/// Activity per day or hour: one row per bucket with events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Activity {
    pub by: Bucket,
    /// Operations, in table order; `rows[i].per_op[j]` counts `ops[j]`.
    pub ops: Vec<String>,
    pub rows: Vec<ActivityRow>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActivityRow {
    /// Days (or hours) since the epoch.
    pub index: i64,
    /// `2017-04-10`, or `2017-04-10 15:00`.
    pub label: String,
    pub total: u64,
    pub per_op: Vec<u64>,
}

pub fn activity(s: &Summary, by: Bucket) -> Activity {
    let ops: Vec<String> = operation_order(s).into_iter().cloned().collect();
    let mut buckets: BTreeMap<i64, Vec<u64>> = BTreeMap::new();
    for (j, op) in ops.iter().enumerate() {
        let Some(hours) = s.activity.get(op) else {
            continue;
        };
        for (key, &n) in hours {
            // Keys were checked when the summary was read; a bad one is skipped.
            let Some(hour) = hour_index(key) else {
                continue;
            };
            let per_op = buckets
                .entry(by.of_hour(hour))
                .or_insert_with(|| vec![0; ops.len()]);
            per_op[j] += n;
        }
    }
    let rows = buckets
        .into_iter()
        .map(|(index, per_op)| ActivityRow {
            index,
            label: by.label_of(index),
            total: per_op.iter().sum(),
            per_op,
        })
        .collect();
    Activity { by, ops, rows }
}

/// Activity as a table (one column per operation), for CSV.
pub fn activity_table(a: &Activity) -> Table {
    let (name, key, title, kind) = match a.by {
        Bucket::Day => (
            "activity_by_day",
            "Day",
            "Activity per day (UTC)",
            Kind::Day,
        ),
        Bucket::Hour => (
            "activity_by_hour",
            "Hour",
            "Activity per hour (UTC)",
            Kind::Hour,
        ),
    };
    let mut headers = vec![key.to_string(), "Total".to_string()];
    headers.extend(a.ops.iter().map(|o| label(o)));
    let mut align = vec![Align::Left];
    align.extend(std::iter::repeat_n(Align::Right, a.ops.len() + 1));
    let mut kinds = vec![kind];
    kinds.extend(std::iter::repeat_n(Kind::Count, a.ops.len() + 1));
    let rows = a
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![r.label.clone(), r.total.to_string()];
            cells.extend(r.per_op.iter().map(u64::to_string));
            cells
        })
        .collect();
    Table {
        name,
        title: title.into(),
        headers,
        align,
        kinds,
        rows,
        total: None,
        more: 0,
    }
}
