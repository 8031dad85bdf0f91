//! Property tests: any bytes into the readers give records or errors, never a panic, and
//! random mutations of real fixtures keep the funnel adding up.

use mbxaudit::datetime::Zone;
use mbxaudit::filter::Filter;
use mbxaudit::input::Origin;
use mbxaudit::pipeline::{read_bytes, Settings};
use proptest::prelude::*;

use crate::util::testdata;

fn settings() -> Settings {
    Settings {
        filter: Filter::default(),
        zone: Zone::Fixed(0),
        date_order: None,
        encoding: None,
        expand_items: true,
        prefilter: true,
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
