//! Property tests: any bytes into the readers give records or errors, never a panic, and
//! random mutations of real fixtures keep the funnel adding up; the fast CSV path gives
//! what the slow sequential reference gives, at any thread count (issue 5).

use mbxaudit::cmd::cli::{Cli, Command};
use mbxaudit::cmd::search::SearchConfig;
use mbxaudit::filter::Rule;
use mbxaudit::funnel::Counts;
use mbxaudit::input::Origin;
use mbxaudit::pipeline::{read_bytes, run, Keep, Settings};
use mbxaudit::progress::Progress;
use mbxaudit::record::OwnedRecord;
use proptest::prelude::*;

use crate::util::testdata;
use generate::Rng;
use legacy_export::{legacy_event, random_shape, write_legacy};

fn settings() -> Settings {
    Settings {
        expand_items: true,
        ..Settings::default()
    }
}

fn check(bytes: &[u8]) {
    let origin = Origin::Named("prop.csv".into());
    // A file may be rejected, which is Ok with a status; Err is a fatal error, also fine.
    if let Ok((report, rows)) = read_bytes(&origin, bytes, &settings()) {
        assert!(report.counts.adds_up(), "{:?}", report.counts);
        assert_eq!(rows.len() as u64, report.counts.matched);
    }
}

const FIXTURES: &[&str] = &[
    "legacy/basic_en-US.csv",
    "legacy/utf16le.csv",
    "legacy/semicolon_de-DE.csv",
    "legacy/multiline_fields.csv",
    "legacy/onprem2013_subset.csv",
    "legacy/malformed_rows.csv",
    "ual/sua_mailbox.csv",
    "ual/purview_classic.csv",
    "ual/mailitemsaccessed_throttled.csv",
    "ual/sua_mailbox.jsonl",
    "json/ps51_depth4_utf16.json",
    "json/ps7_depth4.json",
];

fn fixture_bytes() -> Vec<Vec<u8>> {
    FIXTURES
        .iter()
        .map(|f| std::fs::read(testdata(f)).expect("fixture"))
        .collect()
}

/// A mutation of a valid export: flip, insert, delete or truncate.
#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Truncate(usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let special = prop::sample::select(vec![
        b'"', b',', b';', b'\n', b'\r', 0u8, 0xFF, 0xFE, b'/', b'1',
    ]);
    prop_oneof![
        (any::<usize>(), special.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), prop::collection::vec(special, 1..4))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..200).prop_map(|(i, n)| Mutation::Delete(i, n)),
        any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn apply(mut bytes: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        let len = bytes.len().max(1);
        match m {
            Mutation::Set(i, b) => {
                if !bytes.is_empty() {
                    bytes[i % len] = *b;
                }
            }
            Mutation::Insert(i, v) => {
                let at = i % (bytes.len() + 1);
                bytes.splice(at..at, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let at = i % len;
                let end = (at + n).min(bytes.len());
                if at < end {
                    bytes.drain(at..end);
                }
            }
            Mutation::Truncate(i) => bytes.truncate(i % len),
        }
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        check(&bytes);
    }

    #[test]
    fn csv_shaped_noise_never_panics(
        header in prop::sample::select(vec![
            "Operation,LastAccessed,ItemSubject,LogonType\n",
            "\u{feff}\"Operation\";\"LastAccessed\";\"LogonType\"\r\n",
            "#TYPE x\r\nLastAccessed,Operation\r\n",
        ]),
        body in prop::collection::vec(
            prop::sample::select(vec![
                "\"", ",", ";", "\r\n", "\n", "FolderBind", "Move", "Owner", "Delegate",
                "4/10/2017 3:22:11 PM", "13/04/2017 15:22", "2017-04-10T15:22:11Z",
                "/Date(1491837731000)/", "\u{e9}", "\u{0}", "12:00 AM", "31.02.2017",
            ]),
            0..60,
        ),
    ) {
        let mut text = header.to_string();
        for piece in body {
            text.push_str(piece);
        }
        check(text.as_bytes());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4_000))]

    #[test]
    fn mutated_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        thread_local! {
            static BYTES: Vec<Vec<u8>> = fixture_bytes();
        }
        let bytes = BYTES.with(|b| b[which].clone());
        check(&apply(bytes, &muts));
    }
}

/// Settings that exercise the UAL prefilter: a date window and a subject regex.
fn filtering(prefilter: bool) -> Settings {
    let (subject, _) = mbxaudit::filter::SubjectMatcher::new("good|news|rule|e", false);
    let mut s = settings();
    s.prefilter = prefilter;
    s.filter.subject = Some(subject);
    s.filter.window.start = Some(mbxaudit::datetime::Timestamp(1_600_000_000_000_000_000));
    s.filter.logon_types = Some(vec!["Owner".into(), "Admin".into(), "Delegate".into()]);
    s
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    /// The quick look at raw AuditData changes nothing but speed: same rows, same funnel.
    #[test]
    fn ual_prefilter_changes_nothing(
        which in 0..FIXTURES.len(),
        muts in prop::collection::vec(mutation(), 0..4),
    ) {
        thread_local! {
            static BYTES: Vec<Vec<u8>> = fixture_bytes();
        }
        let bytes = apply(BYTES.with(|b| b[which].clone()), &muts);
        let origin = Origin::Named("prop.csv".into());
        let fast = read_bytes(&origin, &bytes, &filtering(true));
        let slow = read_bytes(&origin, &bytes, &filtering(false));
        match (fast, slow) {
            // Rows whose AuditData the full parser cannot read are out of the contract
            // (see src/input/ual/fast.rs): compare the rest exactly.
            (Ok((a, ra)), Ok((b, rb))) if b.row_warnings.total == 0 => {
                prop_assert_eq!(a.counts, b.counts);
                prop_assert_eq!(ra, rb);
            }
            (Ok(_), Ok(_)) => {}
            (a, b) => prop_assert_eq!(a.is_ok(), b.is_ok()),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Issue 5: the fast CSV path (chunks, SIMD tokenizer, UAL prefilter) gives what the slow
// sequential reference (`src/input/csv/reference.rs`) gives, at 1 and 2 threads. The
// reference is compared chunk size by chunk size in that module's unit tests; here the
// whole pipeline is, through the real filters, at the production chunk size.

/// The benchmarks' generator of realistic exports.
#[path = "../benches/generate.rs"]
mod generate;
mod legacy_export;

/// CSV files under testdata/ that are not compared, and why: the reference is one for
/// well-formed exports (see `src/input/csv/reference.rs`). None so far: the exports damaged
/// at the CSV level (stray and cut quotes, NUL bytes, bare CRs) are built at run time by
/// `tests/hardening.rs`; `legacy/malformed_rows.csv` (one-line rows with a wrong field count,
/// times that are not times) and `ual/cut_auditdata.csv` (a cut AuditData in a well-formed
/// CSV) are within the reference's scope, and compared.
const NOT_COMPARED: &[(&str, &str)] = &[];

/// The filter settings every input is read under.
const JOBS: &[&[&str]] = &[
    // The seed script's job: a mailbox, a date window, a subject pattern.
    &[
        "--mailbox",
        "test1@contoso.com",
        "--start-date",
        "04/10/17",
        "--end-date",
        "04/27/17",
        "--subject",
        "good news|résumé",
    ],
    &["--include-folder-bind"],
    &["--logon-types", "all"],
    // No filter at all.
    &[
        "--include-folder-bind",
        "--logon-types",
        "all",
        "--record-types",
        "all",
        "--expand-items",
    ],
    // The UAL fixtures' day: an hour of it, and a subject pattern.
    &[
        "--start-date",
        "2024-03-05T09:30",
        "--end-date",
        "2024-03-05T10:30",
        "--subject",
        "news|invoice|rule|e",
    ],
];

/// The settings `mbxaudit search ARGS` runs with.
fn job_settings(args: &[&str], reference: bool) -> Settings {
    let mut argv = vec!["mbxaudit", "search", "--stdout"];
    argv.extend_from_slice(args);
    argv.push("input.csv");
    let cli = <Cli as clap::Parser>::try_parse_from(argv).expect("options parse");
    let Command::Search(search) = cli.command else {
        unreachable!("a search")
    };
    let mut settings = SearchConfig::from_args(search)
        .expect("options are valid")
        .scan
        .settings;
    assert!(!settings.reference, "the reference is off by default");
    settings.reference = reference;
    // Every field compared, not only those the report writes.
    settings.keep = Keep::ALL;
    settings
}

/// A worker pool of `n` threads.
fn pool(n: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .expect("thread pool")
}

/// Asserts `got == want`, naming the first difference.
fn assert_same_rows(what: &str, got: &[OwnedRecord], want: &[OwnedRecord]) {
    if let Some(i) = (0..got.len().max(want.len())).find(|&i| got.get(i) != want.get(i)) {
        panic!(
            "{what}: row {i} of {} (reference: {}) differs\n  fast:      {:?}\n  reference: {:?}",
            got.len(),
            want.len(),
            got.get(i),
            want.get(i)
        );
    }
}

/// Reads `bytes` under every job with the reference and with the fast path at 1 and 2
/// threads, and asserts that all three give the same rows and the same report (status,
/// funnel, malformed rows and warnings with their lines). Returns the funnels of the
/// reference, one per job, for the caller to check what was exercised.
fn compare_read(name: &str, bytes: &[u8], pools: &[rayon::ThreadPool; 2]) -> Vec<Counts> {
    let origin = Origin::Named(name.into());
    let mut funnels = Vec::new();
    for job in JOBS {
        let read = |reference: bool, pool: &rayon::ThreadPool| {
            let settings = job_settings(job, reference);
            match pool.install(|| read_bytes(&origin, bytes, &settings)) {
                Ok((report, rows)) => (format!("{report:#?}"), Some(report.counts), rows),
                Err(e) => (format!("error: {e:#}"), None, Vec::new()),
            }
        };
        let (want_report, counts, want_rows) = read(true, &pools[0]);
        for (threads, pool) in [(1, &pools[0]), (2, &pools[1])] {
            let (report, _, rows) = read(false, pool);
            let what = format!("{name} {job:?}, fast path at {threads} thread(s)");
            assert_same_rows(&what, &rows, &want_rows);
            assert_eq!(
                report, want_report,
                "{what}: report (left: fast, right: reference)"
            );
        }
        funnels.extend(counts);
    }
    funnels
}

/// Every CSV file under `dir`, recursively, in name order.
fn csv_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("testdata")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            csv_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        {
            out.push(path);
        }
    }
}

/// Issue 5: reports are the same whether the fast path or the slow sequential reference
/// reads the CSV, at 1 or 2 threads: fixtures, generated legacy exports (quoted CRLF and
/// LF line breaks, doubled quotes, non-ASCII, empty fields, ~60% FolderBind, all logon
/// types, times around the window, subjects in and out of the pattern; large enough for
/// several chunks), the benchmarks' generated exports, and merged overlapping exports
/// (so that the dedup keys must agree).
#[test]
fn fast_path_equals_sequential_reference() {
    let pools = [pool(1), pool(2)];

    // (a) Every CSV fixture.
    let mut fixtures = Vec::new();
    csv_files(&testdata(""), &mut fixtures);
    let root = testdata("");
    let mut compared = 0;
    for path in &fixtures {
        let name = path
            .strip_prefix(&root)
            .expect("under testdata")
            .to_string_lossy()
            .replace('\\', "/");
        if NOT_COMPARED.iter().any(|(n, _)| *n == name) {
            continue;
        }
        let bytes = std::fs::read(path).expect("fixture");
        compare_read(&name, &bytes, &pools);
        compared += 1;
    }
    assert!(compared > 60, "only {compared} CSV fixtures found");

    // (b) Generated legacy exports: two of more than one 4 MiB chunk, then other shapes.
    let mut funnel = Counts::default();
    for seed in 0..8u64 {
        let mut rng = Rng::new(seed);
        let rows = if seed < 2 { 4_300 } else { 700 };
        let events: Vec<_> = (0..rows).map(|n| legacy_event(&mut rng, n)).collect();
        let mut shape = random_shape(&mut rng);
        if seed < 2 {
            (shape.utf16, shape.quote_all) = (false, true);
        }
        let bytes = write_legacy(&events, shape);
        if seed < 2 {
            assert!(
                bytes.len() > 4 << 20,
                "{} bytes: one chunk only",
                bytes.len()
            );
        }
        for counts in compare_read(&format!("generated-{seed} {shape:?}"), &bytes, &pools) {
            funnel.add(&counts);
        }
    }
    // The generated rows reached every rule the jobs set, and many were kept.
    assert!(funnel.malformed > 0 && funnel.matched > 1000, "{funnel:?}");
    for rule in [
        Rule::DateWindow,
        Rule::LogonType,
        Rule::Mailbox,
        Rule::FolderBind,
        Rule::Subject,
    ] {
        assert!(funnel.dropped_by(rule) > 100, "{rule:?}: {funnel:?}");
    }

    // The benchmarks' exports (legacy and Unified Audit Log CSV, ~60% FolderBind).
    for (format, bytes) in [
        (generate::Format::Legacy, 4_400_000),
        (generate::Format::UalCsv, 4_400_000),
    ] {
        let mut data = Vec::new();
        generate::generate(format, bytes, 7, &mut data).expect("generate");
        compare_read(&format!("bench {}", format.name()), &data, &pools);
    }

    // Merged exports: the same events in two exports (other session, other column order)
    // are removed as duplicates by the same keys.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut pairs: Vec<[std::path::PathBuf; 2]> = [
        ["legacy/rps_overlap_a.csv", "legacy/rps_overlap_b.csv"],
        [
            "legacy/rps_overlap_noidentity_a.csv",
            "legacy/rps_overlap_noidentity_b.csv",
        ],
        ["ual/sua_mailbox.csv", "ual/purview_classic.csv"],
    ]
    .iter()
    .map(|p| p.map(testdata))
    .collect();
    for identity in [true, false] {
        let mut rng = Rng::new(99 + u64::from(identity));
        let events: Vec<_> = (0..1_500).map(|n| legacy_event(&mut rng, n)).collect();
        let mut shape = random_shape(&mut rng);
        shape.identity = identity;
        let a = write_legacy(&events[..1_000], shape);
        shape.reversed = !shape.reversed;
        shape.runspace = "11111111-2222-3333-4444-555555555555";
        let b = write_legacy(&events[500..], shape);
        let paths = [0, 1].map(|i| dir.path().join(format!("{identity}-{i}.csv")));
        std::fs::write(&paths[0], a).expect("write");
        std::fs::write(&paths[1], b).expect("write");
        pairs.push(paths);
    }
    for pair in &pairs {
        let origins: Vec<Origin> = pair.iter().cloned().map(Origin::Named).collect();
        let mut duplicates = 0;
        for job in JOBS {
            let search = |reference: bool, pool: &rayon::ThreadPool| {
                let settings = job_settings(job, reference);
                let outcome = pool
                    .install(|| run(&origins, &settings, &Progress::hidden()))
                    .expect("run");
                let text = format!("{:#?}\n{:#?}", outcome.files, outcome.totals);
                (
                    text,
                    outcome.rows().expect("rows"),
                    outcome.totals.duplicates,
                )
            };
            let (want, want_rows, dups) = search(true, &pools[0]);
            duplicates += dups;
            for (threads, pool) in [(1, &pools[0]), (2, &pools[1])] {
                let (got, rows, _) = search(false, pool);
                let what = format!("{pair:?} {job:?}, fast path at {threads} thread(s)");
                assert_same_rows(&what, &rows, &want_rows);
                assert_eq!(
                    got, want,
                    "{what}: files and funnel (left: fast, right: reference)"
                );
            }
        }
        assert!(
            duplicates > 0,
            "{pair:?}: no duplicates, so no key compared"
        );
    }
}

/// Every JSON file under `dir`, recursively, in name order.
fn json_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("testdata")
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            json_files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json") || e.eq_ignore_ascii_case("jsonl"))
        {
            out.push(path);
        }
    }
}

/// Issue 16: the JSON fast paths (records read from their blocks, the quick look at
/// AuditData from the parsed members, documents cut by their layout and read in parallel,
/// UTF-16 transcoded piece by piece) give what the sequential reference gives (one pass,
/// the byte parser, serde_json for every AuditData, the whole file transcoded first), at 1
/// and 2 threads: every JSON fixture, and the benchmarks' UAL JSON Lines, PowerShell 7
/// and Windows PowerShell 5.1 (UTF-16) dumps and PowerShell 7 `Search-UnifiedAuditLog`
/// objects (AuditData as a string), large enough for several pieces, as
/// generated and damaged at a few places past their head.
#[test]
fn json_fast_paths_equal_the_sequential_reference() {
    let pools = [pool(1), pool(2)];
    let mut fixtures = Vec::new();
    json_files(&testdata(""), &mut fixtures);
    assert!(fixtures.len() > 15, "only {} JSON fixtures", fixtures.len());
    for path in &fixtures {
        let bytes = std::fs::read(path).expect("fixture");
        compare_read(&path.display().to_string(), &bytes, &pools);
    }
    let mut rng = Rng::new(16);
    for (format, bytes) in [
        (generate::Format::UalJsonl, 6_000_000),
        (generate::Format::Ps7Json, 6_000_000),
        (generate::Format::Ps51Json, 12_000_000),
        (generate::Format::UalPsJson, 6_000_000),
    ] {
        let mut data = Vec::new();
        generate::generate(format, bytes, 9, &mut data).expect("generate");
        let name = format!("bench {}", format.name());
        let funnels = compare_read(&name, &data, &pools);
        assert!(
            funnels.iter().any(|c| c.matched > 100),
            "{name}: {funnels:?}"
        );
        let unit = if format == generate::Format::Ps51Json {
            2
        } else {
            1
        };
        let noise: [&[u8]; 5] = [b"}", b"\"", b"\n", b"\\", b"\x01"];
        for _ in 0..6 {
            let at = (data.len() / 2 + rng.below(data.len() as u64 / 2) as usize) & !(unit - 1);
            let piece = rng.pick(&noise);
            match rng.below(2) {
                0 => {
                    data.drain(at..(at + unit).min(data.len()));
                }
                _ => {
                    let encoded: Vec<u8> = piece
                        .iter()
                        .flat_map(|&b| [b, 0][..unit].to_vec())
                        .collect();
                    data.splice(at..at, encoded);
                }
            }
        }
        compare_read(&format!("{name}, damaged"), &data, &pools);
    }
}

/// A LastAccessed that is not a time, holding a doubled quote: the malformed-row message
/// quotes the value as written (`ab"c`), as the reference reads it, not the CSV cell
/// (`ab""c`) the fast path once excerpted.
#[test]
fn malformed_time_message_shows_the_value_unescaped() {
    let bytes = b"\"Operation\",\"LastAccessed\",\"ItemSubject\"\r\n\
\"Move\",\"4/1/2017 ab\"\"c\",\"x\"\r\n\"Move\",\"4/13/2017 1:00:00 PM\",\"y\"\r\n";
    let origin = Origin::Named("quote_in_time.csv".into());
    let malformed = |reference: bool| {
        let settings = job_settings(&["--logon-types", "all"], reference);
        let (report, rows) = read_bytes(&origin, bytes, &settings).expect("read");
        assert_eq!(rows.len(), 1);
        report.malformed
    };
    let want = malformed(true);
    assert_eq!(
        want.first[0].message,
        "LastAccessed '4/1/2017 ab\"c': not a time of day"
    );
    assert_eq!(malformed(false), want);
}

/// Two JSON Lines records joined by a lost line break: the first object repeats members,
/// which serde_json refuses. The row is reported as malformed with the quick look at
/// AuditData as without it (the look must not drop it by a rule instead).
#[test]
fn a_record_with_repeated_members_is_reported_not_dropped() {
    let line = br#"{"CreationTime":"2024-03-05T09:00:00","Operation":"FolderBind","RecordType":2,"Workload":"Exchange","LogonType":9,"RecordType":15,"Id":"x"}"#;
    let mut bytes = line.to_vec();
    bytes.push(b'\n');
    bytes.extend_from_slice(br#"{"CreationTime":"2024-03-05T09:01:00","Operation":"Move","RecordType":2,"Workload":"Exchange","LogonType":0,"Id":"y"}"#);
    bytes.push(b'\n');
    let origin = Origin::Named("joined.jsonl".into());
    let fast = read_bytes(&origin, &bytes, &filtering(true)).expect("read");
    let slow = read_bytes(&origin, &bytes, &filtering(false)).expect("read");
    assert_eq!(fast.0.counts, slow.0.counts);
    assert_eq!(fast.0.counts.malformed, 1, "{:?}", fast.0.counts);
}
