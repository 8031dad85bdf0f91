//! `mbxaudit summary`: every table on fixtures (golden), the terminal form, the JSON
//! document, and the promise that summaries merge exactly.

use std::fmt::Write as _;
use std::path::Path;

use crate::util::*;

/// The tables `--format csv` writes (file stems), activity aside.
const TABLES: [&str; 6] = [
    "operations",
    "logon_types",
    "top_users",
    "top_mailboxes",
    "top_client_ips",
    "top_client_apps",
];

/// Runs `summary --format csv -o DIR ARGS` and compares every table with its golden
/// file `summary_<name>__<table>.csv`.
fn golden_tables(name: &str, args: &[&str], activity: &str) {
    let dir = tempdir();
    let out = dir.path().join("tables");
    let mut full = vec!["summary", "--format", "csv", "-o"];
    let out_s = out.to_str().expect("utf-8 path");
    full.push(out_s);
    full.extend_from_slice(args);
    let run = mbxaudit(&full);
    run.expect_code(0);
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .expect("tables written")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut expected: Vec<String> = TABLES
        .iter()
        .chain([&activity])
        .map(|t| format!("{t}.csv"))
        .collect();
    expected.sort();
    assert_eq!(files, expected, "one CSV per table, nothing else");
    for t in TABLES.iter().chain([&activity]) {
        let bytes = std::fs::read(out.join(format!("{t}.csv"))).expect("read table");
        assert!(bytes.starts_with(b"\xEF\xBB\xBF\""), "{t}: BOM, quoted");
        assert_golden(&format!("summary_{name}__{t}.csv"), &bytes);
    }
}

#[test]
fn summary_tables_basic_en_us() {
    golden_tables(
        "basic_en-US",
        &["testdata/legacy/basic_en-US.csv"],
        "activity_by_day",
    );
}

#[test]
fn summary_tables_by_hour_all_logon_types() {
    golden_tables(
        "basic_en-US_all_by_hour",
        &[
            "--logon-types",
            "all",
            "--include-folder-bind",
            "--by",
            "hour",
            "testdata/legacy/basic_en-US.csv",
        ],
        "activity_by_hour",
    );
}

#[test]
fn summary_tables_unified_audit_log() {
    // UAL: users from UserId, client IPs with ports, admin cmdlets.
    golden_tables(
        "ual_purview_classic",
        &[
            "--record-types",
            "all",
            "--logon-types",
            "all",
            "testdata/ual/purview_classic.csv",
        ],
        "activity_by_day",
    );
}

#[test]
fn summary_text_as_printed_on_a_terminal() {
    let run = mbxaudit(&["summary", "testdata/legacy/basic_en-US.csv"]);
    run.expect_code(0)
        .expect_stderr("Summarising mailbox audit logs in 1 input")
        .expect_stderr("13 entries summarised.")
        .expect_stderr("13  = rows summarised");
    assert_golden("summary_basic_en-US.txt", &run.stdout);
    let text = String::from_utf8(run.stdout).expect("utf-8");
    assert!(text.starts_with("Summary of 13 records from 1 input"));
    assert!(
        text.contains("2017-04-15  0"),
        "short gaps drawn as empty days"
    );
}

#[test]
fn summary_text_merges_several_exports_and_collapses_long_gaps() {
    let run = mbxaudit(&[
        "summary",
        "--by",
        "hour",
        "--top",
        "2",
        "testdata/legacy/rps_overlap_a.csv",
        "testdata/legacy/rps_overlap_b.csv",
        "testdata/legacy/semicolon_de-DE.csv",
    ]);
    run.expect_code(0);
    assert_golden("summary_rps_overlap_by_hour_top2.txt", &run.stdout);
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(text.contains("hours without events)"), "{text}");
    assert!(text.contains("more (--top 0 shows all)"), "{text}");
}

#[test]
fn summary_json_document() {
    let run = mbxaudit(&[
        "summary",
        "--format",
        "json",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(0);
    assert_golden("summary_basic_en-US.json", &run.stdout);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    assert_eq!(v["format"], "mbxaudit-summary");
    assert_eq!(v["records"], 13);
    assert_eq!(v["operations"]["HardDelete"]["users"][0], "Eve Attacker");
    assert_eq!(v["funnel"]["read"], 25);
}

#[test]
fn summary_applies_the_search_rules() {
    let run = mbxaudit(&[
        "summary",
        "--format",
        "json",
        "--operation",
        "HardDelete,SoftDelete",
        "testdata/legacy/basic_en-US.csv",
    ]);
    run.expect_code(0);
    let v: serde_json::Value = serde_json::from_slice(&run.stdout).expect("JSON");
    let ops: Vec<&String> = v["operations"]
        .as_object()
        .expect("object")
        .keys()
        .collect();
    assert_eq!(ops, ["HardDelete", "SoftDelete"]);
    assert!(v["filters"]
        .as_array()
        .expect("filters")
        .iter()
        .any(|f| f == "operations: HardDelete, SoftDelete"));
}

#[test]
fn summary_csv_needs_a_directory_and_never_clobbers() {
    mbxaudit(&[
        "summary",
        "--format",
        "csv",
        "testdata/legacy/basic_en-US.csv",
    ])
    .expect_code(2)
    .expect_stderr("give a directory with -o DIR");
    let dir = tempdir();
    let out = dir.path().to_str().expect("utf-8").to_string();
    let args = [
        "summary",
        "--format",
        "csv",
        "-o",
        &out,
        "testdata/legacy/basic_en-US.csv",
    ];
    mbxaudit(&args).expect_code(0);
    mbxaudit(&args)
        .expect_code(2)
        .expect_stderr("already exists; use --force");
    let mut forced = args.to_vec();
    forced.insert(1, "--force");
    mbxaudit(&forced).expect_code(0);
}

#[test]
fn summary_strips_terminal_controls() {
    let dir = tempdir();
    let input = dir.path().join("evil.csv");
    std::fs::write(
        &input,
        "Operation,LogonType,LogonUserDisplayName,LastAccessed,ClientIPAddress\r\n\
         HardDelete,Owner,\"Eve\x1b]0;pwned\x07\",2017-04-10T15:22:11Z,\u{202E}1.2.3.4\r\n",
    )
    .expect("write input");
    let run = mbxaudit_in(dir.path(), &["summary", "evil.csv"], None);
    run.expect_code(0);
    let text = String::from_utf8(run.stdout).expect("utf-8");
    assert!(!text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202E}'));
    assert!(text.contains("Eve\\u{1b}]0;pwned\\u{7}"), "{text}");
}

// ---- merging ----

/// A small deterministic generator (xorshift64*), so the test needs no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len() as u64) as usize]
    }
}

const GEN_HEADER: &str =
    "\"Operation\",\"OperationResult\",\"LogonType\",\"LogonUserDisplayName\",\
\"LastAccessed\",\"ClientInfoString\",\"ClientIPAddress\",\"MailboxOwnerUPN\",\
\"MailboxResolvedOwnerName\",\"ItemSubject\",\"Identity\"\r\n";

/// `n` export rows with unique identities, spread over two months with nanosecond
/// times; users, mailboxes and addresses repeat across the whole set, so that the two
/// halves share many of them (a sum of distinct counts would be wrong).
fn generate(rng: &mut Rng, n: usize, first_id: usize) -> String {
    const OPS: [&str; 9] = [
        "MessageBind",
        "HardDelete",
        "SoftDelete",
        "Move",
        "SendAs",
        "FolderBind",
        "Update",
        "Create",
        "MailItemsAccessed",
    ];
    const LOGONS: [&str; 5] = ["Owner", "Delegate", "Admin", "SystemService", "2"];
    const USERS: [&str; 7] = [
        "Eve Attacker",
        "Test User 1",
        "Exchange Admin",
        "Zoë, \"the\" auditor",
        "",
        "Résumé Müller",
        "svc-backup",
    ];
    const IPS: [&str; 8] = [
        "203.0.113.7",
        "203.0.113.7:51234",
        "198.51.100.20",
        "[2001:db8::1]:443",
        "2001:db8::1",
        "::ffff:192.0.2.15",
        "",
        "192.0.2.15",
    ];
    const APPS: [&str; 5] = [
        "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64)",
        "Client=MSExchangeRPC",
        "Client=REST;Client=RESTSystem;;",
        "",
        "=cmd|' /C calc'!A0",
    ];
    let mut out = String::from(GEN_HEADER);
    for i in 0..n {
        let mailbox = rng.below(12);
        // 2023-01-01T00:00:00Z plus up to 60 days, in nanoseconds.
        let ns = 1_672_531_200_000_000_000u64 + rng.below(60 * 86_400 * 1_000_000_000);
        let (secs, frac) = (ns / 1_000_000_000, ns % 1_000_000_000);
        let days = secs / 86_400;
        let (h, m, s) = (secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
        let (month, day) = if days - 19_358 < 31 {
            (1, days - 19_358 + 1)
        } else {
            (2 + (days - 19_358 - 31) / 28, (days - 19_358 - 31) % 28 + 1)
        };
        let time = format!("2023-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{frac:09}Z");
        let _ = write!(
            out,
            "\"{}\",\"Succeeded\",\"{}\",\"{}\",\"{time}\",\"{}\",\"{}\",\"mbx{mailbox}@contoso.com\",\
             \"{}\",\"Subject {i}\",\"ID-{}\"\r\n",
            rng.pick(&OPS),
            rng.pick(&LOGONS),
            rng.pick(&USERS).replace('"', "\"\""),
            rng.pick(&APPS).replace('"', "\"\""),
            rng.pick(&IPS),
            if mailbox.is_multiple_of(3) {
                String::new()
            } else {
                format!("CONTOSO\\mbx{mailbox}")
            },
            first_id + i,
        );
    }
    out
}

fn summary_json(dir: &Path, args: &[&str]) -> Vec<u8> {
    let mut full = vec!["summary", "--format", "json"];
    full.extend_from_slice(args);
    let run = mbxaudit_in(dir, &full, None);
    run.expect_code(0);
    run.stdout
}

#[test]
fn merge_of_halves_equals_the_summary_of_the_whole() {
    let dir = tempdir();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    std::fs::write(dir.path().join("a.csv"), generate(&mut rng, 2500, 0)).expect("write a");
    std::fs::write(dir.path().join("b.csv"), generate(&mut rng, 1700, 2500)).expect("write b");

    let whole = summary_json(dir.path(), &["a.csv", "b.csv"]);
    let a = summary_json(dir.path(), &["a.csv"]);
    let b = summary_json(dir.path(), &["-j", "1", "b.csv"]);
    std::fs::write(dir.path().join("a.json"), &a).expect("write a.json");
    std::fs::write(dir.path().join("b.json"), &b).expect("write b.json");
    let merged = summary_json(dir.path(), &["--merge", "a.json", "b.json"]);
    assert_eq!(
        String::from_utf8_lossy(&merged),
        String::from_utf8_lossy(&whole),
        "merge(summary(A), summary(B)) == summary(A ∪ B), byte for byte"
    );

    // The test means something: the halves share users, so distinct counts do not add.
    let (va, vb, vw): (serde_json::Value, serde_json::Value, serde_json::Value) = (
        serde_json::from_slice(&a).expect("a"),
        serde_json::from_slice(&b).expect("b"),
        serde_json::from_slice(&whole).expect("whole"),
    );
    let users = |v: &serde_json::Value| {
        v["operations"]["HardDelete"]["users"]
            .as_array()
            .map_or(0, Vec::len)
    };
    assert!(
        users(&va) + users(&vb) > users(&vw),
        "halves overlap in users"
    );
    assert!(vw["records"].as_u64().expect("records") > 1000);
    assert!(
        vw["funnel"]["dropped"]["folder_bind"]
            .as_u64()
            .expect("dropped")
            > 0
    );

    // The terminal form and the tables agree too, whatever the order of the parts.
    let text = |args: &[&str]| {
        let run = mbxaudit_in(dir.path(), args, None);
        run.expect_code(0);
        run.stdout
    };
    assert_eq!(
        text(&["summary", "--merge", "a.json", "b.json"]),
        text(&["summary", "a.csv", "b.csv"])
    );
    let reversed: serde_json::Value =
        serde_json::from_slice(&summary_json(dir.path(), &["--merge", "b.json", "a.json"]))
            .expect("reversed");
    assert_eq!(reversed["operations"], vw["operations"]);
    assert_eq!(reversed["activity"], vw["activity"]);

    // A merged summary merges again: ((A + B) + nothing new) from a directory of parts.
    std::fs::create_dir(dir.path().join("parts")).expect("mkdir");
    std::fs::write(dir.path().join("parts/1.json"), &a).expect("part 1");
    std::fs::write(dir.path().join("parts/2.json"), &b).expect("part 2");
    std::fs::write(dir.path().join("parts/notes.txt"), "not a summary").expect("notes");
    assert_eq!(summary_json(dir.path(), &["--merge", "parts"]), whole);
}

#[test]
fn merge_refuses_what_is_not_a_summary() {
    mbxaudit(&["summary", "--merge", "testdata/legacy/basic_en-US.csv"])
        .expect_code(2)
        .expect_stderr("not an mbxaudit JSON summary");
    let dir = tempdir();
    let doc = mbxaudit(&[
        "summary",
        "--format",
        "json",
        "testdata/legacy/basic_en-US.csv",
    ])
    .stdout;
    let cut = &doc[..doc.len() / 2];
    std::fs::write(dir.path().join("cut.json"), cut).expect("write");
    let edited = String::from_utf8(doc.clone()).expect("utf-8").replacen(
        "\"records\": 13",
        "\"records\": 14",
        1,
    );
    std::fs::write(dir.path().join("edited.json"), edited).expect("write");
    mbxaudit_in(dir.path(), &["summary", "--merge", "cut.json"], None)
        .expect_code(2)
        .expect_stderr("'cut.json'");
    mbxaudit_in(dir.path(), &["summary", "--merge", "edited.json"], None)
        .expect_code(2)
        .expect_stderr("inconsistent summary");
    mbxaudit(&["summary", "--merge", "--start-date", "2017-01-01", "x.json"])
        .expect_code(2)
        .expect_stderr("cannot be used with");
}

#[test]
fn merge_warns_about_different_rules_and_repeated_inputs() {
    let dir = tempdir();
    let a = mbxaudit(&[
        "summary",
        "--format",
        "json",
        "testdata/legacy/basic_en-US.csv",
    ])
    .stdout;
    let b = mbxaudit(&[
        "summary",
        "--format",
        "json",
        "--include-folder-bind",
        "testdata/legacy/basic_en-US.csv",
    ])
    .stdout;
    std::fs::write(dir.path().join("a.json"), a).expect("write");
    std::fs::write(dir.path().join("b.json"), b).expect("write");
    mbxaudit_in(
        dir.path(),
        &["summary", "--merge", "a.json", "b.json"],
        None,
    )
    .expect_code(0)
    .expect_stderr("made with different rules")
    .expect_stderr("summarised twice");
}
