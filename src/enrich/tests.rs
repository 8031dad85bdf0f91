//! Enrichment on databases built here (tests/mmdb_writer.rs) in the shapes of GeoLite2
//! Country, City and ASN and of IPinfo Lite: exact answers for every address form, nothing
//! for addresses the databases do not hold, errors (never panics) for damaged files.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::mmdb_writer::{map, s, MmdbWriter, V4Layout, Value};
use super::*;

fn names(en: &str) -> Value {
    map(&[("de", s(en)), ("en", s(en)), ("zh-CN", s("名"))])
}

/// A GeoLite2 country block: continent, country, registered country.
fn country(iso: &str, geoname: u32) -> Value {
    map(&[
        ("geoname_id", Value::U32(geoname)),
        ("is_in_european_union", Value::Bool(iso != "JP")),
        ("iso_code", s(iso)),
        ("names", names(iso)),
    ])
}

fn geolite2_country_record(iso: &str) -> Value {
    map(&[
        (
            "continent",
            map(&[
                ("code", s("EU")),
                ("geoname_id", Value::U32(6255148)),
                ("names", names("Europe")),
            ]),
        ),
        ("country", country(iso, 2921044)),
        ("registered_country", country(iso, 2921044)),
    ])
}

fn geolite2_city_record(iso: &str) -> Value {
    let Value::Map(mut pairs) = geolite2_country_record(iso) else {
        unreachable!("a map")
    };
    pairs.insert(
        0,
        (
            "city".into(),
            map(&[
                ("geoname_id", Value::U32(2950159)),
                ("names", names("Berlin")),
            ]),
        ),
    );
    pairs.push((
        "location".into(),
        map(&[
            ("accuracy_radius", Value::U16(200)),
            ("latitude", Value::Double(52.5)),
            ("longitude", Value::Double(13.4)),
            ("time_zone", s("Europe/Berlin")),
        ]),
    ));
    pairs.push(("postal".into(), map(&[("code", s("10115"))])));
    pairs.push((
        "subdivisions".into(),
        Value::Array(vec![map(&[
            ("iso_code", s("BE")),
            ("names", names("Berlin")),
        ])]),
    ));
    Value::Map(pairs)
}

fn asn_record(asn: u32, org: &str) -> Value {
    map(&[
        ("autonomous_system_number", Value::U32(asn)),
        ("autonomous_system_organization", s(org)),
    ])
}

fn ipinfo_record(iso: &str, asn: u32, org: &str) -> Value {
    map(&[
        ("as_domain", s("example.net")),
        ("as_name", s(org)),
        ("asn", s(&format!("AS{asn}"))),
        ("continent", s("Europe")),
        ("continent_code", s("EU")),
        ("country", s("Some Country")),
        ("country_code", s(iso)),
    ])
}

/// The networks every test database holds, with (country, ASN, organisation).
const NETWORKS: [(&str, &str, u32, &str); 3] = [
    ("203.0.113.0/24", "DE", 64500, "Example Net"),
    ("203.0.113.128/25", "FR", 64501, "Exit Net"),
    ("2001:db8::/32", "JP", 64510, "Six Net"),
];

fn build(kind: &str, layout: V4Layout, record: impl Fn(&str, u32, &str) -> Value) -> Vec<u8> {
    let mut w = MmdbWriter::new(kind, 6);
    w.layout = layout;
    for (net, iso, asn, org) in NETWORKS {
        w.insert(net, record(iso, asn, org));
    }
    w.to_bytes()
}

fn geolite2_country() -> Vec<u8> {
    let mut w = MmdbWriter::new("GeoLite2-Country", 6);
    for (net, iso, _, _) in NETWORKS {
        w.insert(net, geolite2_country_record(iso));
    }
    // Registered country only (anycast, satellite): the fallback.
    w.insert(
        "198.51.100.0/24",
        map(&[("registered_country", country("NL", 2750405))]),
    );
    w.to_bytes()
}

fn geolite2_city() -> Vec<u8> {
    build("GeoLite2-City", V4Layout::Geolite2, |iso, _, _| {
        geolite2_city_record(iso)
    })
}

fn geolite2_asn() -> Vec<u8> {
    build("GeoLite2-ASN", V4Layout::Geolite2, |_, asn, org| {
        asn_record(asn, org)
    })
}

fn ipinfo_lite() -> Vec<u8> {
    build("ipinfo_lite.mmdb", V4Layout::MappedOnly, ipinfo_record)
}

/// Writes each database into `dir` and opens them in that order.
fn open(dir: &Path, dbs: &[(&str, Vec<u8>)]) -> Result<Enricher> {
    let paths: Vec<PathBuf> = dbs
        .iter()
        .map(|(name, bytes)| {
            let p = dir.join(name);
            std::fs::write(&p, bytes).expect("write database");
            p
        })
        .collect();
    Enricher::open(&paths)
}

fn info(country: Option<&str>, asn: Option<u32>, org: Option<&str>) -> IpInfo {
    IpInfo {
        country: country.map(Into::into),
        asn,
        as_org: org.map(Into::into),
    }
}

/// Every written form of the test networks' addresses, with the network's row.
const FORMS: [(&str, usize); 10] = [
    ("203.0.113.7", 0),
    (" 203.0.113.7:52044 ", 0),
    ("::ffff:203.0.113.7", 0),
    ("[::ffff:203.0.113.7]:443", 0),
    ("203.0.113.200", 1),
    ("203.0.113.200:1", 1),
    ("2001:db8::1", 2),
    ("[2001:db8::1]:443", 2),
    ("2001:DB8:ffff::9", 2),
    ("fe80::1%eth0", usize::MAX),
];

/// Not in any test database, or not an address.
const ABSENT: [&str; 7] = [
    "192.0.2.1",
    "192.0.2.1:443",
    "2001:db9::1",
    "::1",
    "mail.contoso.com",
    "junk",
    "",
];

fn check(e: &Enricher, expect: impl Fn(&str, u32, &str) -> IpInfo) {
    for (text, row) in FORMS {
        let want = match NETWORKS.get(row) {
            Some((_, iso, asn, org)) => expect(iso, *asn, org),
            None => IpInfo::default(),
        };
        assert_eq!(e.lookup_text(text), want, "{text:?}");
        assert_eq!(e.lookup_text(text), want, "{text:?}, cached");
        if let Some(ip) = parse_client_ip(text) {
            assert_eq!(e.lookup_uncached(ip), want, "{text:?}, uncached");
        }
    }
    for text in ABSENT {
        assert_eq!(e.lookup_text(text), IpInfo::default(), "{text:?}");
    }
}

#[test]
fn the_writer_writes_valid_databases() {
    for bytes in [
        geolite2_country(),
        geolite2_city(),
        geolite2_asn(),
        ipinfo_lite(),
    ] {
        let reader = maxminddb::Reader::from_source(bytes).expect("opens");
        reader.verify().expect("valid database");
    }
}

#[test]
fn geolite2_country_city_and_asn_each_alone() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = open(dir.path(), &[("c.mmdb", geolite2_country())]).expect("country");
    check(&e, |iso, _, _| info(Some(iso), None, None));
    assert_eq!(e.lookup_text("198.51.100.9"), info(Some("NL"), None, None));
    let e = open(dir.path(), &[("city.mmdb", geolite2_city())]).expect("city");
    check(&e, |iso, _, _| info(Some(iso), None, None));
    let e = open(dir.path(), &[("asn.mmdb", geolite2_asn())]).expect("asn");
    check(&e, |_, asn, org| info(None, Some(asn), Some(org)));
}

#[test]
fn ipinfo_lite_gives_all_three() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = open(dir.path(), &[("ipinfo_lite.mmdb", ipinfo_lite())]).expect("ipinfo");
    check(&e, |iso, asn, org| info(Some(iso), Some(asn), Some(org)));
    let d = &e.describe()[0];
    assert_eq!(d.database_type, "ipinfo_lite.mmdb");
    assert_eq!(d.provides.to_string(), "country, ASN");
}

#[test]
fn country_and_asn_files_combine_in_either_order() {
    let dir = tempfile::tempdir().expect("temp dir");
    let both = |iso: &str, asn, org: &str| info(Some(iso), Some(asn), Some(org));
    let e = open(
        dir.path(),
        &[("c.mmdb", geolite2_country()), ("a.mmdb", geolite2_asn())],
    )
    .expect("two");
    check(&e, both);
    let e = open(
        dir.path(),
        &[("a.mmdb", geolite2_asn()), ("city.mmdb", geolite2_city())],
    )
    .expect("two");
    check(&e, both);
    let d = e.describe();
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].database_type, "GeoLite2-ASN");
    assert_eq!(d[0].provides.to_string(), "ASN");
    assert_eq!(d[1].database_type, "GeoLite2-City");
    assert_eq!(d[1].provides.to_string(), "country");
    assert_eq!((d[1].build_epoch, d[1].ip_version), (1_700_000_000, 6));
    assert!(d[1].path.ends_with("city.mmdb"));
}

#[test]
fn the_first_file_given_wins() {
    let dir = tempfile::tempdir().expect("temp dir");
    let other = build("ipinfo_lite.mmdb", V4Layout::MappedOnly, |_, asn, _| {
        ipinfo_record("US", asn + 1000, "Other")
    });
    let e = open(
        dir.path(),
        &[("c.mmdb", geolite2_country()), ("i.mmdb", other.clone())],
    )
    .expect("two");
    check(&e, |iso, asn, _| {
        info(Some(iso), Some(asn + 1000), Some("Other"))
    });
    let e = open(
        dir.path(),
        &[("i.mmdb", other), ("c.mmdb", geolite2_country())],
    )
    .expect("two");
    check(&e, |_, asn, _| {
        info(Some("US"), Some(asn + 1000), Some("Other"))
    });
    // A later file fills what the first does not know.
    assert_eq!(e.lookup_text("198.51.100.9"), info(Some("NL"), None, None));
}

#[test]
fn ipv4_only_databases_and_every_record_size() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut w = MmdbWriter::new("GeoLite2-ASN", 4);
    w.insert("203.0.113.0/24", asn_record(64500, "Example Net"));
    w.insert("203.0.113.128/25", asn_record(64501, "Exit Net"));
    for size in [24, 28, 32] {
        w.record_size = Some(size);
        let e = open(dir.path(), &[("v4.mmdb", w.to_bytes())]).expect("v4");
        assert_eq!(
            e.lookup_text("203.0.113.7:1"),
            info(None, Some(64500), Some("Example Net"))
        );
        assert_eq!(
            e.lookup_text("::ffff:203.0.113.129"),
            info(None, Some(64501), Some("Exit Net"))
        );
        assert_eq!(
            e.lookup_text("2001:db8::1"),
            IpInfo::default(),
            "IPv6 in an IPv4 database"
        );
        assert_eq!(e.lookup_text("192.0.2.1"), IpInfo::default());
        assert_eq!(e.describe()[0].lookup_errors, 0);
    }
    let mut w = MmdbWriter::new("GeoLite2-City", 6);
    w.insert("203.0.113.0/24", geolite2_city_record("DE"));
    w.insert("2001:db8::/32", geolite2_city_record("JP"));
    for size in [24, 28, 32] {
        w.record_size = Some(size);
        let e = open(dir.path(), &[("v6.mmdb", w.to_bytes())]).expect("v6");
        assert_eq!(
            e.lookup_text("[::ffff:203.0.113.7]:9"),
            info(Some("DE"), None, None)
        );
        assert_eq!(
            e.lookup_text("[2001:db8::5]:9"),
            info(Some("JP"), None, None)
        );
    }
}

#[test]
fn odd_fields_are_read_leniently() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut w = MmdbWriter::new("custom", 6);
    // Enterprise-style traits; lower-case ISO codes; numbers as text.
    w.insert(
        "203.0.113.0/24",
        map(&[
            ("country", map(&[("iso_code", s("de"))])),
            (
                "traits",
                map(&[
                    ("autonomous_system_number", Value::U64(64500)),
                    ("autonomous_system_organization", s(" Example Net ")),
                    ("is_anycast", Value::Bool(false)),
                ]),
            ),
        ]),
    );
    // Wrong types everywhere: absent, not an error.
    w.insert(
        "198.51.100.0/24",
        map(&[
            ("country", Value::U32(276)),
            ("country_code", s("Germany")),
            ("traits", s("none")),
            ("asn", s("AS-what")),
            ("as_name", Value::Array(vec![s("x")])),
            ("autonomous_system_number", Value::U128(1 << 100)),
        ]),
    );
    // IPinfo asn.mmdb: `asn` and `name`.
    w.insert(
        "192.0.2.0/24",
        map(&[
            ("asn", s("AS64511")),
            ("name", s("Asn Net")),
            ("domain", s("x")),
        ]),
    );
    // Not a map at all: a damaged record, counted.
    w.insert("2001:db8::/32", s("not a record"));
    let e = open(dir.path(), &[("odd.mmdb", w.to_bytes())]).expect("custom shape");
    assert_eq!(
        e.lookup_text("203.0.113.1"),
        info(Some("DE"), Some(64500), Some("Example Net"))
    );
    assert_eq!(e.lookup_text("198.51.100.1"), IpInfo::default());
    assert_eq!(
        e.lookup_text("192.0.2.1"),
        info(None, Some(64511), Some("Asn Net"))
    );
    assert_eq!(e.describe()[0].lookup_errors, 0);
    assert_eq!(e.lookup_text("2001:db8::1"), IpInfo::default());
    let d = &e.describe()[0];
    assert_eq!(d.lookup_errors, 1);
    assert!(
        d.first_error
            .as_deref()
            .is_some_and(|m| m.starts_with("2001:db8::1: ")),
        "{d:?}"
    );
}

#[test]
fn unusable_files_are_errors_naming_them() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut anon = MmdbWriter::new("GeoIP2-Anonymous-IP", 6);
    anon.insert(
        "203.0.113.0/24",
        map(&[("is_anonymous", Value::Bool(true))]),
    );
    let cases: [(&str, Vec<u8>, &str); 4] = [
        (
            "anon.mmdb",
            anon.to_bytes(),
            "database_type 'GeoIP2-Anonymous-IP' holds neither",
        ),
        ("empty.mmdb", Vec::new(), "not a readable MaxMind DB"),
        (
            "text.mmdb",
            b"network,country\n1.2.3.0/24,DE\n".to_vec(),
            "not a readable MaxMind DB",
        ),
        (
            "cut.mmdb",
            geolite2_city()[..100].to_vec(),
            "not a readable MaxMind DB",
        ),
    ];
    for (name, bytes, why) in cases {
        let e = open(dir.path(), &[("c.mmdb", geolite2_country()), (name, bytes)])
            .err()
            .unwrap_or_else(|| panic!("{name} accepted"));
        let msg = format!("{e:#}");
        assert!(msg.contains(name) && msg.contains(why), "{name}: {msg}");
    }
    let missing = dir.path().join("missing.mmdb");
    let e = Enricher::open(&[missing]).err().expect("missing file");
    assert!(
        format!("{e:#}").contains("missing.mmdb': cannot read"),
        "{e:#}"
    );
}

#[test]
fn no_database_knows_nothing_and_the_cache_shares_answers() {
    let none = Enricher::open(&[]).expect("no files");
    assert_eq!(none.lookup_text("203.0.113.7"), IpInfo::default());
    assert!(none.describe().is_empty());
    let dir = tempfile::tempdir().expect("temp dir");
    let e = open(dir.path(), &[("i.mmdb", ipinfo_lite())]).expect("ipinfo");
    let a = e.lookup_shared("203.0.113.7".parse().expect("ip"));
    let b = e.lookup_shared("::ffff:203.0.113.7".parse().expect("ip"));
    assert!(Arc::ptr_eq(&a, &b), "one entry per normalised address");
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Enricher>();
    send_sync::<IpList>();
}

/// A database with `n` /24 networks from 10.0.0.0 up (GeoLite2-City records).
fn many_networks(n: u32) -> Vec<u8> {
    let mut w = MmdbWriter::new("GeoLite2-City", 6);
    for i in 0..n {
        let [_, a, b, _] = (0x0a00_0000u32 + (i << 8)).to_be_bytes();
        w.insert(&format!("10.{a}.{b}.0/24"), geolite2_city_record("DE"));
    }
    w.to_bytes()
}

#[test]
fn the_cache_forgets_a_full_shard_and_stays_right() {
    let dir = tempfile::tempdir().expect("temp dir");
    let e = open(dir.path(), &[("m.mmdb", many_networks(300))]).expect("db");
    for i in 0..(SHARD_CAPACITY as u32 * 2) {
        let ip = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000u32 + i));
        let want = if i < 300 << 8 {
            info(Some("DE"), None, None)
        } else {
            IpInfo::default()
        };
        assert_eq!(*e.lookup_shared(ip), want, "{ip}");
    }
    let cached: usize = e.cache.iter().map(|s| lock(s).len()).sum();
    assert!(cached <= SHARDS * SHARD_CAPACITY);
}

/// `cargo test --release --lib enrich::tests::lookup_speed -- --ignored --nocapture`:
/// nanoseconds per lookup, uncached and cached, on 1 and 2 threads.
#[test]
#[ignore = "a measurement, run by hand"]
fn lookup_speed() {
    use std::time::Instant;
    let dir = tempfile::tempdir().expect("temp dir");
    let e = open(
        dir.path(),
        &[
            ("m.mmdb", many_networks(20_000)),
            ("a.mmdb", geolite2_asn()),
        ],
    )
    .expect("db");
    let ips: Vec<String> = (0..2_000u32)
        .map(|i| format!("10.{}.{}.{}:443", (i * 7) % 78, (i * 13) % 256, i % 256))
        .collect();
    const ROWS: usize = 2_000_000;
    let run = |f: &(dyn Fn(&str) -> usize + Sync), threads: usize| {
        let t = Instant::now();
        let total: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|k| {
                    let ips = &ips;
                    s.spawn(move || {
                        (k..ROWS)
                            .step_by(threads)
                            .map(|r| f(&ips[r % ips.len()]))
                            .sum::<usize>()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().expect("thread")).sum()
        });
        assert!(total > 0);
        t.elapsed().as_nanos() as f64 / ROWS as f64
    };
    let parse = |t: &str| usize::from(parse_client_ip(t).is_some());
    let uncached = |t: &str| {
        parse_client_ip(t).map_or(0, |ip| e.lookup_uncached(ip).country.map_or(0, |c| c.len()))
    };
    let cached = |t: &str| e.lookup_text(t).country.map_or(0, |c| c.len());
    let shared = |t: &str| {
        parse_client_ip(t).map_or(0, |ip| {
            e.lookup_shared(ip).country.as_ref().map_or(0, |c| c.len())
        })
    };
    let mut local = std::collections::HashMap::new();
    let t = Instant::now();
    let mut n = 0;
    for r in 0..ROWS {
        let ip = parse_client_ip(&ips[r % ips.len()]).expect("ip");
        n += local
            .entry(ip)
            .or_insert_with(|| e.lookup_uncached(ip))
            .country
            .as_ref()
            .map_or(0, |c| c.len());
    }
    assert!(n > 0);
    let per_caller = t.elapsed().as_nanos() as f64 / ROWS as f64;
    for threads in [1, 2] {
        println!(
            "{threads} thread(s), ns/row: parse only {:.0}, uncached {:.0}, lookup_text \
             (cached, cloned) {:.0}, lookup_shared (cached, Arc) {:.0}",
            run(&parse, threads),
            run(&uncached, threads),
            run(&cached, threads),
            run(&shared, threads),
        );
    }
    println!("1 thread, ns/row: a per-caller HashMap cache {per_caller:.0}");
}

fn arbitrary_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "\\PC{0,48}",
        "[0-9a-fA-F:.\\[\\]%/ ]{0,48}",
        (any::<u32>(), any::<u16>())
            .prop_map(|(a, p)| format!("{}:{p}", std::net::Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| format!("[{}]:1", std::net::Ipv6Addr::from(a))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn lookup_text_never_panics(text in arbitrary_text()) {
        thread_local! {
            static E: (tempfile::TempDir, Enricher) = {
                let dir = tempfile::tempdir().expect("temp dir");
                let e = open(dir.path(), &[("i.mmdb", ipinfo_lite()), ("c.mmdb", geolite2_city())])
                    .expect("dbs");
                (dir, e)
            };
        }
        E.with(|(_, e)| {
            let _ = e.lookup_text(&text);
        });
    }

    #[test]
    fn open_on_arbitrary_bytes_is_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let dir = tempfile::tempdir().expect("temp dir");
        prop_assert!(open(dir.path(), &[("x.mmdb", bytes)]).is_err());
    }

    #[test]
    fn damaged_databases_never_panic(
        which in 0usize..4,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
        cut in any::<prop::sample::Index>(),
        truncate in any::<bool>(),
    ) {
        let mut bytes = match which {
            0 => geolite2_country(),
            1 => geolite2_city(),
            2 => geolite2_asn(),
            _ => ipinfo_lite(),
        };
        for (at, byte) in flips {
            let i = at.index(bytes.len());
            bytes[i] = byte;
        }
        if truncate {
            bytes.truncate(cut.index(bytes.len()));
        }
        let dir = tempfile::tempdir().expect("temp dir");
        if let Ok(e) = open(dir.path(), &[("d.mmdb", bytes)]) {
            for text in FORMS.iter().map(|f| f.0).chain(ABSENT) {
                let _ = e.lookup_text(text);
            }
            let _ = e.describe();
        }
    }
}
