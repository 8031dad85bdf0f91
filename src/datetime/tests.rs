use super::*;
use proptest::prelude::*;
use DateOrder::{Dmy, Mdy};

/// `inputs | expected`, inputs separated by `;` (the padding exercises trimming). Expected is
/// `utc <ISO>`, `local <wall clock>`, `mdy <wall clock>` or `dmy <wall clock>` (a culture date
/// resolved in that order, `none` if invalid in it, then any evidence), or `err <message>`.
/// A wall clock without time of day means parse_time_with_presence said there was none.
const CASES: &str = r"
    2017-04-10T15:22:11Z; 2017-04-10t15:22:11z | utc 2017-04-10T15:22:11Z
    2017-04-10T17:22:11+02:00 | utc 2017-04-10T15:22:11Z
    2017-04-10T09:52:11-0530; 2017-4-10 17:22:11 +02:00 | utc 2017-04-10T15:22:11Z
    /Date(1491837731000)/; \/Date(1491837731000)\/ | utc 2017-04-10T15:22:11Z
    /Date(1491837731000+0200)/ | utc 2017-04-10T15:22:11Z
    2017-04-10T15:22:11.1234567Z | utc 2017-04-10T15:22:11.123456700Z
    2017-04-10T15:22:11,12Z; Date(1491837731120) | utc 2017-04-10T15:22:11.120Z
    2017-04-10T15:22:11.123456789987Z | utc 2017-04-10T15:22:11.123456789Z
    2017-04-10 17:22+02 | utc 2017-04-10T15:22:00Z
    2017-01-01T01:00:00+18:00 | utc 2016-12-31T07:00:00Z
    2016-12-31T23:59:60Z | utc 2016-12-31T23:59:59Z
    2261-12-31T23:59:59.999999999-18:00 | utc 2262-01-01T17:59:59.999999999Z
    /Date(-1000-0500)/ | utc 1969-12-31T23:59:59Z
    2017-04-10T15:22:11; 2017/04/10 15:22:11; 2017.04.10 15:22:11 | local 2017-04-10 15:22:11
    2017. 04. 10. 15:22:11; 2017/4/10 3:22:11 PM | local 2017-04-10 15:22:11
    2017-04-10 15:22:11.5 | local 2017-04-10 15:22:11.500000000
    2017-04-10T00:00 | local 2017-04-10 00:00:00
    2017-04-10; 2017-4-10; 2017/4/10; 2017. 4. 10. | local 2017-04-10
    2016-02-29; 2000-02-29; 1678-01-01 | local 2016-02-29; local 2000-02-29; local 1678-01-01
    4/10/2017 3:22:11 PM; 4/10/2017 3:22:11PM; 4/10/2017 3:22:11 p.m. | mdy 2017-04-10 15:22:11
    4/10/2017 3:22:11 P.M.; 4/10/2017 3:22:11 p. m. | mdy 2017-04-10 15:22:11
    4/10/2017 3:22:11 a. m.; 4/10/2017 3:22:11 A.M. | mdy 2017-04-10 03:22:11
    4/10/2017 12:22:11 AM; 4/10/2017 0:22:11 am | mdy 2017-04-10 00:22:11
    4/10/2017 12:22:11 PM | mdy 2017-04-10 12:22:11
    10/04/2017 15:22:11; 10.04.2017 15:22:11; 10.04.2017 15.22.11 | dmy 2017-04-10 15:22:11
    10.04.2017. 15:22:11; 10. 4. 2017 15:22:11; 10/04/2017, 15:22:11 | dmy 2017-04-10 15:22:11
    10/04/2017T15:22:11.25 | dmy 2017-04-10 15:22:11.250000000
    10-04-2017 15:22 | dmy 2017-04-10 15:22:00
    04/10/17 3:22 pm | mdy 2017-04-10 15:22:00
    4/10/17; 10.04.2017. | mdy 2017-04-10; dmy 2017-04-10
    1/2/99; 1/2/00 | dmy 2099-02-01; mdy 2000-01-02
    13/04/2017; 13/04/2017 | dmy 2017-04-13 proves dmy; mdy none proves dmy
    4/13/2017 1:00; 2/29/2016 | dmy none proves mdy; dmy none proves mdy
    4/10/2017 13:22:11 PM; 4/10/2017 0:22:11 PM | err hour out of range for am/pm
    4/10/2017 3:22:11 P; 4/10/2017 3:22:11 PMX | err unexpected text after time
    4/10/2017 15:22:11+02:00; 2017/04/10 15:22Z | err unexpected text after time
    2017-04-10T15:22:11 UTC; 2017-04-10T15:22:11+021 | err unexpected text after time
    2017-04-10x; 2017-04-10Z; 2017-04-10,15:22 | err unexpected text after date
    2017-04-10T; 2017-04-10T15; 2017-04-10T15.22 | err not a time of day
    2017-04-10T15:2; 2017-04-10T15:22:11. | err not a time of day
    hello; 12345-01-01; 2017; 2017-04; 123/4/2017; 4/10/201; 4/10-2017 | err not a date
    2017-13-10; 2017-00-10; 13/13/2017; 0/0/2017 | err month out of range
    2017-02-29; 1900-02-29; 2017-04-31; 2017-04-00; 2/30/2017 | err day out of range for month
    2017-04-10T24:00:00 | err hour out of range
    2017-04-10T23:60:00 | err minute out of range
    2017-04-10T23:59:61 | err second out of range
    2017-04-10T15:22:11+19:00 | err offset out of range
    2017-04-10T15:22:11+02:60 | err offset minutes out of range
    2017-04-10T15:22:11+2; 2017-04-10T15:22:11+02:0 | err malformed offset
    1677-12-31; 2262-01-01; 1/1/1600; /Date(9223372036854775807)/ | err year out of range
    /Date()/; /Date(12x)/; /Date(1); /Date(1+02)/ | err malformed /Date(ms)/ value
    /Date(1+02:00)/; \/Date(1)/; /Date(99999999999999999999)/ | err malformed /Date(ms)/ value
    | err empty
";

/// `zones | Display of Zone::parse`, or `| err <start of the message>`.
const ZONES: &str = "
    UTC; utc; Z | UTC
    +02:00; +02; UTC+02:00 | +02:00
    -0530; UTC-5; utc+18 | -05:30; -05:00; +18:00
    Europe/Berlin; europe/BERLIN | Europe/Berlin
    +19:00 | err time zone offset '+19:00' is beyond ±18:00
    +02:60 | err time zone offset '+02:60': its minutes must be 00 to 59
    Mars/Olympus | err unknown time zone 'Mars/Olympus': expected UTC, an offset
    UTC+; +02:0 | err unknown time zone 'UTC+'; err unknown time zone '+02:0'
    UTC+02x | err unknown time zone 'UTC+02x'
";

/// `zone wall clock | to_utc`: the instant (`fold` if the earlier of two) or `err <message>`.
const TO_UTC: &str = "
    +02:00 2017-04-10 17:22 | 2017-04-10T15:22:00Z
    -01:00 2017-04-10 23:00:00.5 | 2017-04-11T00:00:00.500Z
    Europe/Berlin 2017-04-10 17:22 | 2017-04-10T15:22:00Z
    Europe/Berlin 2017-01-10 17:22 | 2017-01-10T16:22:00Z
    Europe/Berlin 2017-10-29 02:30 | 2017-10-29T00:30:00Z fold
    Europe/Berlin 2017-03-26 02:30 | err time does not exist in this time zone (DST gap)
";

/// `nanoseconds since the epoch | write_iso`.
const ISO_OUT: &str = "
    0 | 1970-01-01T00:00:00Z
    -1 | 1969-12-31T23:59:59.999999999Z
    1491837731000000000 | 2017-04-10T15:22:11Z
    1491837731120000000 | 2017-04-10T15:22:11.120Z
    1491837731123456000 | 2017-04-10T15:22:11.123456Z
    1491837731123456700 | 2017-04-10T15:22:11.123456700Z
    -9223372036854775808 | 1677-09-21T00:12:43.145224192Z
    9223372036854775807 | 2262-04-11T23:47:16.854775807Z
";

/// The (input, expected) pairs of a table; a single expectation applies to all inputs.
fn rows(table: &str) -> Vec<(&str, &str)> {
    let mut out = Vec::new();
    for (inputs, wants) in table.lines().filter_map(|l| l.split_once('|')) {
        let wants: Vec<&str> = wants.split(';').map(str::trim).collect();
        for (k, input) in inputs.split(';').enumerate() {
            out.push((input, *wants.get(k).or(wants.first()).unwrap_or(&"")));
        }
    }
    out
}

fn show(w: WallClock, time: bool) -> String {
    let mut s = format!("{:04}-{:02}-{:02}", w.year, w.month, w.day);
    if time {
        s += &format!(" {:02}:{:02}:{:02}", w.hour, w.minute, w.second);
    }
    if w.nanos != 0 {
        s += &format!(".{:09}", w.nanos);
    }
    s
}

fn describe(input: &str, order: &str) -> String {
    let (t, time) = match parse_time_with_presence(input.as_bytes()) {
        Err(e) => return format!("err {e}"),
        Ok((ParsedTime::Utc(t), _)) => return format!("utc {}", t.to_iso()),
        Ok((ParsedTime::Local(w), time)) => return format!("local {}", show(w, time)),
        Ok(culture) => culture,
    };
    let order = if order == "dmy" { Dmy } else { Mdy };
    let wall = t.wall_clock(order).map_or("none".into(), |w| show(w, time));
    let mut s = format!("{} {wall}", format!("{order:?}").to_lowercase());
    if let Some(e) = t.evidence() {
        s += &format!(" proves {}", format!("{e:?}").to_lowercase());
    }
    s
}

#[test]
fn parse_table() {
    for (input, want) in rows(CASES) {
        let got = describe(input, want.get(..3).unwrap_or(""));
        assert_eq!(got, want, "input {input:?}");
    }
    let got = describe("\t 2017-04-10T15:22:11Z\r\n", "");
    assert_eq!(got, "utc 2017-04-10T15:22:11Z");
    let mut rest = MIDNIGHT;
    (rest.year, rest.hour, rest.minute) = (2017, 3, 22);
    let (first, second) = (4, 10);
    let want = ParsedTime::Culture {
        first,
        second,
        rest,
    };
    assert_eq!(parse_time(b"4/10/17 3:22"), Ok(want));
    assert_eq!(parse_time(b"2017-04-10").map(|t| t.evidence()), Ok(None));
    assert_eq!(ParsedTime::Utc(Timestamp(0)).wall_clock(Mdy), None);
    assert_eq!(TimeError("x").to_string(), "x");
}

#[test]
fn zones_and_to_utc() {
    for (input, want) in rows(ZONES) {
        let got = Zone::parse(input).map_or_else(|e| format!("err {e}"), |z| z.to_string());
        assert!(got.starts_with(want), "{input:?}: {got}");
    }
    for (input, want) in rows(TO_UTC) {
        let (zone, wall) = input.trim().split_once(' ').unwrap_or_default();
        let Ok(ParsedTime::Local(wc)) = parse_time(wall.as_bytes()) else {
            panic!("{wall}")
        };
        let got = match Zone::parse(zone).map(|z| z.to_utc(wc)) {
            Ok(Ok((t, fold))) => format!("{}{}", t.to_iso(), if fold { " fold" } else { "" }),
            Ok(Err(e)) => format!("err {e}"),
            Err(e) => e,
        };
        assert_eq!(got, want, "{input}");
    }
    assert_eq!(Zone::Fixed(-3661).to_string(), "-01:01:01");
    let (mut bad_day, mut bad_hour) = (MIDNIGHT, MIDNIGHT);
    (bad_day.month, bad_day.day, bad_hour.hour) = (2, 29, 24);
    assert_eq!(Zone::Fixed(0).to_utc(bad_day), Err(DAY_RANGE));
    let berlin = Zone::Named(chrono_tz::Europe::Berlin);
    assert_eq!(berlin.to_utc(bad_hour), Err(TimeError("hour out of range")));
}

#[test]
fn iso_output_and_date_order() {
    for (nanos, want) in rows(ISO_OUT) {
        let nanos = nanos.trim().parse().unwrap_or_default();
        assert_eq!(Timestamp(nanos).to_iso(), want);
    }
    let mut s = String::from("at ");
    Timestamp(0).write_iso(&mut s);
    assert_eq!(s, "at 1970-01-01T00:00:00Z");
    assert_eq!(Timestamp::from_unix_millis(i64::MAX), None);
    let orders = ["MDY", "dmy", " Dmy "].map(DateOrder::from_str);
    assert_eq!(orders, [Ok(Mdy), Ok(Dmy), Ok(Dmy)]);
    let e = "ymd".parse::<DateOrder>().err().unwrap_or_default();
    assert!(e.contains("mdy") && e.contains("dmy"), "{e}");
}

fn arb_wall_clock() -> impl Strategy<Value = WallClock> {
    let date = (MIN_YEAR..=MAX_YEAR, 1u8..=12, 1u8..=31);
    let time = (0u8..24, 0u8..60, 0u8..60, 0u32..1_000_000_000);
    (date, time).prop_map(|((year, month, day), (hour, minute, second, nanos))| {
        let mut w = MIDNIGHT;
        (w.year, w.month, w.day) = (
            year,
            month,
            day.min(days_in_month(year, month.into()) as u8),
        );
        (w.hour, w.minute, w.second, w.nanos) = (hour, minute, second, nanos);
        w
    })
}

/// `write_iso` as it was written with `write!`: the reference for its digits.
fn iso_by_format(t: Timestamp) -> String {
    use std::fmt::Write;
    let secs = t.0.div_euclid(1_000_000_000);
    let nanos = t.0.rem_euclid(1_000_000_000) as u32;
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = super::civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
    let mut out = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}");
    let _ = match (nanos % 1_000_000, nanos % 1_000) {
        _ if nanos == 0 => Ok(()),
        (0, _) => write!(out, ".{:03}", nanos / 1_000_000),
        (_, 0) => write!(out, ".{:06}", nanos / 1_000),
        _ => write!(out, ".{nanos:09}"),
    };
    out.push('Z');
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    fn iso_digits_as_formatted(
        nanos in prop_oneof![
            any::<i64>(),
            any::<i64>().prop_map(|n| n / 1_000 * 1_000),
            any::<i64>().prop_map(|n| n / 1_000_000 * 1_000_000),
            any::<i64>().prop_map(|n| n / 1_000_000_000 * 1_000_000_000),
        ]
    ) {
        prop_assert_eq!(Timestamp(nanos).to_iso(), iso_by_format(Timestamp(nanos)));
    }

    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = parse_time(&bytes);
        let _ = parse_time_with_presence(&bytes);
    }

    #[test]
    fn never_panics_on_near_misses(bytes in proptest::collection::vec(
        proptest::sample::select(b"0123456789/.-:, TtZzAaPpMm+\\Date()".to_vec()), 0..40)
    ) {
        if let Ok(t) = parse_time(&bytes) {
            let _ = (t.evidence(), t.wall_clock(Mdy), t.wall_clock(Dmy));
        }
        let _ = parse_time_with_presence(&bytes);
    }
}

proptest! {
    #[test]
    fn culture_and_iso_round_trip(w in arb_wall_clock()) {
        let (y, mo, d, h, mi, s) = (w.year, w.month, w.day, w.hour, w.minute, w.second);
        let (h12, tt) = ((h + 11) % 12 + 1, if h < 12 { "AM" } else { "PM" });
        let whole = Some(WallClock { nanos: 0, ..w });
        let us = format!("{mo}/{d}/{y} {h12}:{mi:02}:{s:02} {tt}");
        prop_assert_eq!(parse_time(us.as_bytes()).ok().and_then(|t| t.wall_clock(Mdy)), whole);
        let de = format!("{d:02}.{mo:02}.{y} {h:02}:{mi:02}:{s:02}");
        prop_assert_eq!(parse_time(de.as_bytes()).ok().and_then(|t| t.wall_clock(Dmy)), whole);
        let iso = format!("{y}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{:09}", w.nanos);
        prop_assert_eq!(parse_time(iso.as_bytes()), Ok(ParsedTime::Local(w)));
        let utc = Zone::Fixed(0).to_utc(w).map(|(t, _)| ParsedTime::Utc(t));
        prop_assert_eq!(parse_time(format!("{iso}Z").as_bytes()), utc);
    }

    /// Over all instants of the years parse_time accepts: 1678-01-01 to 2261-12-31.
    #[test]
    fn timestamp_round_trip(n in -9_214_560_000_000_000_000i64..9_214_646_400_000_000_000) {
        let iso = Timestamp(n).to_iso();
        prop_assert_eq!(parse_time(iso.as_bytes()), Ok(ParsedTime::Utc(Timestamp(n))));
        let chrono_iso = DateTime::from_timestamp_nanos(n)
            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
        prop_assert_eq!(iso, chrono_iso);
    }
}
