//! Offline IP enrichment through the binary (issue 14, part 3): `--geoip` fills
//! ClientIPCountry, ClientIPASN and ClientIPASOrg exactly from GeoLite2-shaped and
//! IPinfo-shaped databases built here (tests/mmdb_writer.rs), for IPv4, IPv6, ports and
//! mapped addresses, and nothing for an address the database does not hold; `--ip-list`
//! and the new-country / new-asn rules in triage.

use std::path::Path;

use crate::mmdb_writer::{map, s, MmdbWriter, V4Layout, Value};
use crate::util::*;

/// (network, country, ASN, organisation) in every database built here.
const NETWORKS: [(&str, &str, u32, &str); 3] = [
    ("203.0.113.0/24", "DE", 64500, "Example Net"),
    ("203.0.113.128/25", "FR", 64501, "Exit Net"),
    ("2001:db8::/32", "JP", 64510, "Six Net"),
];

fn geolite2_country() -> Vec<u8> {
    let mut w = MmdbWriter::new("GeoLite2-Country", 6);
    for (net, iso, _, _) in NETWORKS {
        w.insert(net, map(&[("country", map(&[("iso_code", s(iso))]))]));
    }
    w.to_bytes()
}

fn geolite2_asn() -> Vec<u8> {
    let mut w = MmdbWriter::new("GeoLite2-ASN", 6);
    for (net, _, asn, org) in NETWORKS {
        w.insert(
            net,
            map(&[
                ("autonomous_system_number", Value::U32(asn)),
                ("autonomous_system_organization", s(org)),
            ]),
        );
    }
    w.to_bytes()
}

fn ipinfo_lite() -> Vec<u8> {
    let mut w = MmdbWriter::new("ipinfo_lite.mmdb", 6);
    w.layout = V4Layout::MappedOnly;
    for (net, iso, asn, org) in NETWORKS {
        w.insert(
            net,
            map(&[
                ("as_name", s(org)),
                ("asn", s(&format!("AS{asn}"))),
                ("country_code", s(iso)),
            ]),
        );
    }
    w.to_bytes()
}

/// One AuditData record (an Update by the owner) from `ip`, `day` days into March 2024.
fn record(n: usize, day: u32, ip: &str) -> String {
    format!(
        "{{\"CreationTime\":\"2024-03-{day:02}T10:{:02}:00\",\"Id\":\"00000000-0000-0000-0000-{n:012}\",\
         \"Operation\":\"Update\",\"RecordType\":2,\"ResultStatus\":\"Succeeded\",\"UserId\":\"test1@contoso.com\",\
         \"Workload\":\"Exchange\",\"ClientIPAddress\":\"{ip}\",\"LogonType\":0,\
         \"MailboxOwnerUPN\":\"test1@contoso.com\",\"LogonUserDisplayName\":\"Test User 1\",\
         \"Item\":{{\"Subject\":\"note {n}\"}}}}\n",
        n % 60
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    std::fs::write(dir.join(name), bytes).expect("write");
    name.to_string()
}

/// (ClientIPAddress, ClientIPCountry, ClientIPASN, ClientIPASOrg) of every row of
/// `search --columns full --format jsonl ARGS`.
fn enriched(dir: &Path, args: &[&str]) -> Vec<[String; 4]> {
    let (run, rows) = full_rows_in(dir, &[&["-q"], args].concat());
    run.expect_code(0);
    rows.iter()
        .map(|v| {
            [
                "ClientIPAddress",
                "ClientIPCountry",
                "ClientIPASN",
                "ClientIPASOrg",
            ]
            .map(|k| v[k].as_str().unwrap_or("<absent>").to_string())
        })
        .collect()
}

fn want(rows: &[[&str; 4]]) -> Vec<[String; 4]> {
    rows.iter().map(|r| r.map(str::to_string)).collect()
}

const FORMS: [&str; 5] = [
    "203.0.113.7:52044",    // IPv4 with a port: DE
    "[2001:db8::7]:443",    // IPv6 in brackets with a port: JP
    "::ffff:203.0.113.200", // IPv4-mapped IPv6: FR (the more specific network)
    "2001:db8::1",          // bare IPv6: JP
    "192.0.2.1",            // in no database: nothing
];

const EXPECTED: [[&str; 4]; 5] = [
    ["203.0.113.7:52044", "DE", "64500", "Example Net"],
    ["[2001:db8::7]:443", "JP", "64510", "Six Net"],
    ["::ffff:203.0.113.200", "FR", "64501", "Exit Net"],
    ["2001:db8::1", "JP", "64510", "Six Net"],
    ["192.0.2.1", "", "", ""],
];

#[test]
fn geolite2_databases_fill_the_three_columns_exactly() {
    let dir = tempdir();
    let export: String = FORMS
        .iter()
        .enumerate()
        .map(|(i, ip)| record(i, 5, ip))
        .collect();
    write(dir.path(), "forms.jsonl", export.as_bytes());
    let country = write(dir.path(), "GeoLite2-Country.mmdb", &geolite2_country());
    let asn = write(dir.path(), "GeoLite2-ASN.mmdb", &geolite2_asn());
    let got = enriched(
        dir.path(),
        &["--geoip", &country, "--geoip", &asn, "forms.jsonl"],
    );
    assert_eq!(got, want(&EXPECTED));
    // The enrichment columns survive rows kept on disk (issue 11's spilled runs).
    let spilled = enriched(
        dir.path(),
        &[
            "--geoip",
            &country,
            "--geoip",
            &asn,
            "--memory-limit",
            "1",
            "forms.jsonl",
        ],
    );
    assert_eq!(spilled, want(&EXPECTED));
    // Country only: the AS columns stay empty.
    let got = enriched(dir.path(), &["--geoip", &country, "forms.jsonl"]);
    let only: Vec<[&str; 4]> = EXPECTED.iter().map(|r| [r[0], r[1], "", ""]).collect();
    assert_eq!(got, want(&only));
}

#[test]
fn an_ipinfo_database_fills_the_three_columns_exactly() {
    let dir = tempdir();
    let export: String = FORMS
        .iter()
        .enumerate()
        .map(|(i, ip)| record(i, 5, ip))
        .collect();
    write(dir.path(), "forms.jsonl", export.as_bytes());
    let db = write(dir.path(), "ipinfo_lite.mmdb", &ipinfo_lite());
    assert_eq!(
        enriched(dir.path(), &["--geoip", &db, "forms.jsonl"]),
        want(&EXPECTED)
    );
}

#[test]
fn without_a_database_the_full_report_is_unchanged() {
    let dir = tempdir();
    let export: String = FORMS
        .iter()
        .enumerate()
        .map(|(i, ip)| record(i, 5, ip))
        .collect();
    write(dir.path(), "forms.jsonl", export.as_bytes());
    let got = enriched(dir.path(), &["forms.jsonl"]);
    assert!(got.iter().all(|r| r[1] == "<absent>"), "{got:?}");
}

#[test]
fn a_file_that_is_no_database_is_refused_by_name() {
    let dir = tempdir();
    write(
        dir.path(),
        "forms.jsonl",
        record(1, 5, "192.0.2.1").as_bytes(),
    );
    write(dir.path(), "notes.mmdb", b"not a database");
    mbxaudit_in(
        dir.path(),
        &["search", "--stdout", "--geoip", "notes.mmdb", "forms.jsonl"],
        None,
    )
    .expect_code(2)
    .expect_stderr("--geoip")
    .expect_stderr("notes.mmdb");
}

/// Twelve records from Germany over eight days (the baseline), then one from Japan, one
/// from a listed exit network: new-country and new-asn fire for Japan and for the exit
/// network's country and AS; flagged-network for the listed records.
#[test]
fn triage_judges_countries_networks_and_the_ip_list() {
    let dir = tempdir();
    let mut export = String::new();
    for n in 0..12 {
        export.push_str(&record(n, 1 + (n as u32 % 8), "203.0.113.7"));
    }
    export.push_str(&record(20, 12, "2001:db8::7"));
    export.push_str(&record(21, 13, "203.0.113.200:4444"));
    write(dir.path(), "story.jsonl", export.as_bytes());
    let country = write(dir.path(), "c.mmdb", &geolite2_country());
    let asn = write(dir.path(), "a.mmdb", &geolite2_asn());
    write(
        dir.path(),
        "flagged.csv",
        b"network,label\n203.0.113.128/25,Exit node\n",
    );
    let run = mbxaudit_in(
        dir.path(),
        &[
            "triage",
            "--format",
            "json",
            "--geoip",
            &country,
            "--geoip",
            &asn,
            "--ip-list",
            "flagged.csv",
            "story.jsonl",
        ],
        None,
    );
    run.expect_code(0);
    let doc: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let mut got: Vec<(String, String, Vec<String>)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                f["evidence"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| e.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .filter(|f| ["new-country", "new-asn", "flagged-network"].contains(&f.0.as_str()))
        .collect();
    got.sort();
    let at = |line: u32| vec![format!("story.jsonl:{line}")];
    let mut want = vec![
        ("flagged-network".to_string(), "high".to_string(), at(14)),
        ("new-asn".to_string(), "low".to_string(), at(13)),
        ("new-asn".to_string(), "low".to_string(), at(14)),
        ("new-country".to_string(), "medium".to_string(), at(13)),
        ("new-country".to_string(), "medium".to_string(), at(14)),
    ];
    want.sort();
    assert_eq!(got, want);
}

/// The summary with `--geoip` (issue 14): the client-IP table shows each address's
/// country and AS, the countries and networks tables count records by them (every
/// record once, `(none)` for addresses no database places), in text, CSV and JSON, and
/// `--merge` of two parts equals the summary of both.
#[test]
fn summary_counts_countries_and_networks() {
    let dir = tempdir();
    let mut a = String::new();
    for n in 0..5 {
        a.push_str(&record(n, 3, "203.0.113.7:5000"));
    }
    a.push_str(&record(5, 4, "203.0.113.200"));
    let mut b = String::new();
    b.push_str(&record(6, 5, "2001:db8::1"));
    b.push_str(&record(7, 6, "192.0.2.1"));
    b.push_str(&record(8, 7, "203.0.113.7"));
    write(dir.path(), "a.jsonl", a.as_bytes());
    write(dir.path(), "b.jsonl", b.as_bytes());
    let country = write(dir.path(), "c.mmdb", &geolite2_country());
    let asn = write(dir.path(), "a.mmdb", &geolite2_asn());
    let geo = ["--geoip", country.as_str(), "--geoip", asn.as_str()];
    let summary = |extra: &[&str]| {
        let mut args = vec!["summary"];
        args.extend(geo);
        args.extend(extra);
        let run = mbxaudit_in(dir.path(), &args, None);
        run.expect_code(0);
        run
    };

    let csv_dir = dir.path().join("tables");
    summary(&["--format", "csv", "-o", "tables", "a.jsonl", "b.jsonl"]);
    let read = |name: &str| std::fs::read_to_string(csv_dir.join(name)).expect(name);
    assert_eq!(
        read("top_client_ips.csv"),
        "\u{feff}\"ClientIP\",\"Count\",\"Share\",\"ClientIPCountry\",\"ClientIPASN\",\"ClientIPASOrg\"\r\n\
         \"203.0.113.7\",\"6\",\"66.7%\",\"DE\",\"64500\",\"Example Net\"\r\n\
         \"192.0.2.1\",\"1\",\"11.1%\",\"\",\"\",\"\"\r\n\
         \"2001:db8::1\",\"1\",\"11.1%\",\"JP\",\"64510\",\"Six Net\"\r\n\
         \"203.0.113.200\",\"1\",\"11.1%\",\"FR\",\"64501\",\"Exit Net\"\r\n"
    );
    assert_eq!(
        read("top_countries.csv"),
        "\u{feff}\"Country\",\"Count\",\"Share\"\r\n\
         \"DE\",\"6\",\"66.7%\"\r\n\
         \"(none)\",\"1\",\"11.1%\"\r\n\
         \"FR\",\"1\",\"11.1%\"\r\n\
         \"JP\",\"1\",\"11.1%\"\r\n"
    );
    assert_eq!(
        read("top_asns.csv"),
        "\u{feff}\"ASN\",\"Count\",\"Share\",\"ASOrg\"\r\n\
         \"64500\",\"6\",\"66.7%\",\"Example Net\"\r\n\
         \"(none)\",\"1\",\"11.1%\",\"\"\r\n\
         \"64501\",\"1\",\"11.1%\",\"Exit Net\"\r\n\
         \"64510\",\"1\",\"11.1%\",\"Six Net\"\r\n"
    );

    let text = String::from_utf8(summary(&["a.jsonl", "b.jsonl"]).stdout).expect("UTF-8");
    assert!(text.contains("Top countries (3 distinct)"), "{text}");
    assert!(text.contains("Top networks (AS) (3 distinct)"), "{text}");
    assert!(text.contains("ClientIPCountry"), "{text}");

    // Parts summarised apart and merged equal the whole.
    summary(&["--format", "json", "-o", "whole.json", "a.jsonl", "b.jsonl"]);
    summary(&["--format", "json", "-o", "pa.json", "a.jsonl"]);
    summary(&["--format", "json", "-o", "pb.json", "b.jsonl"]);
    let whole: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("whole.json")).unwrap()).unwrap();
    assert_eq!(whole["networks"]["places"]["203.0.113.7"]["country"], "DE");
    let merged = mbxaudit_in(
        dir.path(),
        &[
            "summary", "--merge", "--format", "csv", "-o", "merged", "pa.json", "pb.json",
        ],
        None,
    );
    merged.expect_code(0);
    for name in ["top_client_ips.csv", "top_countries.csv", "top_asns.csv"] {
        let m = std::fs::read_to_string(dir.path().join("merged").join(name)).expect(name);
        assert_eq!(m, read(name), "{name}");
    }

    // The workbook and the HTML report draw the same tables.
    summary(&["--format", "xlsx", "-o", "s.xlsx", "a.jsonl", "b.jsonl"]);
    let book: calamine::Xlsx<_> =
        calamine::open_workbook(dir.path().join("s.xlsx")).expect("calamine opens it");
    let sheets = calamine::Reader::sheet_names(&book);
    for name in ["Top client IPs", "Top countries", "Top networks"] {
        assert!(sheets.iter().any(|s| s == name), "{name} in {sheets:?}");
    }
    let mut args = vec!["report", "--html", "r.html"];
    args.extend(geo);
    args.extend(["a.jsonl", "b.jsonl"]);
    mbxaudit_in(dir.path(), &args, None).expect_code(0);
    let page = std::fs::read_to_string(dir.path().join("r.html")).expect("page");
    for needle in [
        "Top countries (3 distinct)",
        "Top networks (AS) (3 distinct)",
        "ClientIPCountry",
        "Exit Net",
    ] {
        assert!(page.contains(needle), "{needle} in the page");
    }

    // Without --geoip nothing changes: no such tables, no such columns.
    let plain = mbxaudit_in(dir.path(), &["summary", "a.jsonl"], None);
    plain.expect_code(0);
    let plain = String::from_utf8(plain.stdout).unwrap();
    assert!(
        !plain.contains("countries") && !plain.contains("ClientIPCountry"),
        "{plain}"
    );
}
