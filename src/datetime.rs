//! Timestamps of exported audit logs: parsing, time zones and ISO 8601 output.
//!
//! Exports from the Exchange admin centre, `Search-MailboxAuditLog`, `Search-UnifiedAuditLog` and
//! hand-made CSV conversions write dates in many shapes: ISO 8601 (with or without offset, with
//! .NET's 7-digit fraction), JSON `/Date(ms)/`, and the culture formats of whatever machine ran
//! the export (`4/10/2017 3:22:11 PM`, `10.04.2017 15:22:11`, `2017. 04. 10. 15:22:11`, ...).
//!
//! [`parse_time`] is on the hot path (once per row of multi-GB files): it works on bytes, never
//! allocates and never panics. Texts that carry their zone become [`ParsedTime::Utc`]; zone-less
//! texts are returned as wall clocks for the caller to convert with a [`Zone`]. Culture dates keep
//! both day/month candidates so the caller can settle the order from evidence across the file.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, TimeZone};
use chrono_tz::Tz;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
const MIN_YEAR: i32 = 1678;
const MAX_YEAR: i32 = 2261;
const MAX_OFFSET_SECS: u32 = 18 * 3600;
const MIDNIGHT: WallClock = WallClock {
    year: 1970,
    month: 1,
    day: 1,
    hour: 0,
    minute: 0,
    second: 0,
    nanos: 0,
};

const NOT_A_DATE: TimeError = TimeError("not a date");
const BAD_TIME: TimeError = TimeError("not a time of day");
const BAD_MS_DATE: TimeError = TimeError("malformed /Date(ms)/ value");
const BAD_OFFSET: TimeError = TimeError("malformed offset");
const YEAR_RANGE: TimeError = TimeError("year out of range");
const MONTH_RANGE: TimeError = TimeError("month out of range");
const DAY_RANGE: TimeError = TimeError("day out of range for month");
const SECOND_RANGE: TimeError = TimeError("second out of range");
const OFFSET_RANGE: TimeError = TimeError("offset out of range");
const OFFSET_MINUTES: TimeError = TimeError("offset minutes out of range");
/// [`Zone::to_utc`] of a local time that never occurs (the hour skipped when daylight
/// saving time starts).
pub const DST_GAP: TimeError = TimeError("time does not exist in this time zone (DST gap)");

type Res<T> = Result<T, TimeError>;

/// An instant in UTC, nanoseconds since the Unix epoch (years 1678..2261 representable).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The instant `ms` milliseconds after the epoch; `None` when it does not fit.
    pub fn from_unix_millis(ms: i64) -> Option<Timestamp> {
        ms.checked_mul(1_000_000).map(Timestamp)
    }

    /// Appends ISO 8601 UTC: `2017-04-10T15:22:11Z`; fraction only when non-zero, with 3, 6 or 9
    /// digits (like chrono's SecondsFormat::AutoSi): `2017-04-10T15:22:11.120Z`.
    pub fn write_iso(self, out: &mut String) {
        let secs = self.0.div_euclid(NANOS_PER_SEC);
        let nanos = self.0.rem_euclid(NANOS_PER_SEC) as u32;
        let (y, mo, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        let sod = secs.rem_euclid(SECS_PER_DAY);
        let (h, mi, s) = (sod / 3600, sod / 60 % 60, sod % 60);
        // The digits are written by hand: `write!` with six padded numbers took ~4% of a
        // whole legacy dump (one time per row). Nanoseconds in an i64 span the years 1677
        // to 2262: always four digits.
        let fraction = match (nanos % 1_000_000, nanos % 1_000) {
            _ if nanos == 0 => (0, 0),
            (0, _) => (nanos / 1_000_000, 3),
            (_, 0) => (nanos / 1_000, 6),
            _ => (nanos, 9),
        };
        let mut buf = [0u8; 31];
        let mut n = 0;
        let mut put = |value: u32, width: usize, after: u8| {
            let mut v = value;
            for i in (0..width).rev() {
                buf[n + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            n += width;
            buf[n] = after;
            n += 1;
        };
        put(y as u32, 4, b'-');
        put(mo, 2, b'-');
        put(d, 2, b'T');
        put(h as u32, 2, b':');
        put(mi as u32, 2, b':');
        match fraction {
            (_, 0) => put(s as u32, 2, b'Z'),
            (digits, width) => {
                put(s as u32, 2, b'.');
                put(digits, width, b'Z');
            }
        }
        // Digits and separators: ASCII, so always UTF-8.
        out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
    }

    /// Same as write_iso, into a new String (convenience).
    pub fn to_iso(self) -> String {
        let mut s = String::with_capacity(30);
        self.write_iso(&mut s);
        s
    }
}

/// Which of the two leading numbers of a culture date is the month.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum DateOrder {
    /// Month first (en-US).
    Mdy,
    /// Day first (most other cultures).
    Dmy,
}

impl DateOrder {
    /// How messages, the manifest and the report page name the order.
    pub fn label(self) -> &'static str {
        match self {
            DateOrder::Mdy => "month/day/year",
            DateOrder::Dmy => "day/month/year",
        }
    }
}

impl FromStr for DateOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "mdy" => Ok(DateOrder::Mdy),
            "dmy" => Ok(DateOrder::Dmy),
            _ => Err(format!("unknown date order '{s}': expected mdy or dmy")),
        }
    }
}

/// A wall-clock date and time with no zone.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct WallClock {
    pub year: i32,
    pub month: u8,
    pub day: u8,
    pub hour: u8,
    pub minute: u8,
    pub second: u8,
    pub nanos: u32,
}

impl WallClock {
    fn check(&self) -> Res<()> {
        check_date(self.year, self.month.into(), self.day.into())?;
        check_time(self.hour.into(), self.minute.into(), self.second.into())?;
        match self.nanos {
            0..=999_999_999 => Ok(()),
            _ => Err(SECOND_RANGE),
        }
    }

    /// Nanoseconds since the epoch if this wall clock were UTC. The fields must be valid.
    #[inline(always)]
    fn epoch_nanos(&self) -> i64 {
        let days = days_from_civil(self.year as u32, self.month.into(), self.day.into());
        let mins = i64::from(self.hour) * 60 + i64::from(self.minute);
        let secs = days * SECS_PER_DAY + mins * 60 + i64::from(self.second);
        secs * NANOS_PER_SEC + i64::from(self.nanos)
    }
}

/// A parsed timestamp field.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum ParsedTime {
    /// The text carried its zone (`Z`, a numeric offset, or `/Date(ms)/`).
    Utc(Timestamp),
    /// Year-first text without zone (ISO 8601 without offset, `yyyy/M/d`, `yyyy.M.d`): a wall
    /// clock in the user's zone.
    Local(WallClock),
    /// `a/b/yyyy`, `a.b.yyyy` or `a-b-yyyy` (culture formats): which of `first`/`second` is the
    /// day is not known from the text. `rest` holds year and time of day; its month/day fields
    /// are unused (set to 1).
    Culture {
        first: u8,
        second: u8,
        rest: WallClock,
    },
}

impl ParsedTime {
    /// What the value proves about day/month order: first > 12 proves Dmy, second > 12 proves
    /// Mdy, else None (also None for Utc/Local).
    pub fn evidence(&self) -> Option<DateOrder> {
        match *self {
            ParsedTime::Culture { first, second, .. } => match (first > 12, second > 12) {
                (true, false) => Some(DateOrder::Dmy),
                (false, true) => Some(DateOrder::Mdy),
                _ => None,
            },
            _ => None,
        }
    }

    /// The wall clock under `order` (Local: itself regardless of order; Culture: resolved and
    /// validated — None when the month is > 12 or the day does not exist in that month/year;
    /// Utc: None).
    pub fn wall_clock(&self, order: DateOrder) -> Option<WallClock> {
        let (first, second, rest) = match *self {
            ParsedTime::Utc(_) => return None,
            ParsedTime::Local(wc) => return Some(wc),
            ParsedTime::Culture {
                first,
                second,
                rest,
            } => (first, second, rest),
        };
        let (month, day) = match order {
            DateOrder::Mdy => (first, second),
            DateOrder::Dmy => (second, first),
        };
        check_date(rest.year, month.into(), day.into()).ok()?;
        Some(WallClock { month, day, ..rest })
    }
}

/// Why a text is not a timestamp (short, lower case, without the input text).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct TimeError(pub &'static str);

impl fmt::Display for TimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for TimeError {}

/// Parses one timestamp field. Leading/trailing ASCII whitespace is ignored. Never allocates,
/// never panics.
pub fn parse_time(text: &[u8]) -> Result<ParsedTime, TimeError> {
    parse_inner(text).map(|(t, _)| t)
}

/// Like parse_time, and also says whether the text had a time of day (false for a date alone).
/// Used for --start-date/--end-date.
pub fn parse_time_with_presence(text: &[u8]) -> Result<(ParsedTime, bool), TimeError> {
    parse_inner(text)
}

// The parser is small functions over a cursor; `inline(always)` folds them into one body per
// entry point, which roughly halves the cost of a call.

/// A byte cursor whose reads all go through `get`, so malformed input cannot panic.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline(always)]
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }

    /// Skips spaces; true if there were any.
    #[inline(always)]
    fn skip_spaces(&mut self) -> bool {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i > start
    }

    /// Reads `min..=max` (max ≤ 9) ASCII digits: value and count. Consumes nothing on failure.
    #[inline(always)]
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let (mut v, mut n) = (0u32, 0);
        while n < max {
            match self.s.get(self.i + n) {
                Some(&d) if d.is_ascii_digit() => v = v * 10 + u32::from(d - b'0'),
                _ => break,
            }
            n += 1;
        }
        if n < min {
            return None;
        }
        self.i += n;
        Some((v, n))
    }
}

/// The value of a fixed run of ASCII digits.
#[inline(always)]
fn fixed_digits<const N: usize>(b: [u8; N]) -> Option<u32> {
    let value = |v, d: &u8| d.is_ascii_digit().then(|| v * 10 + u32::from(d - b'0'));
    b.iter().try_fold(0, value)
}

#[inline(always)]
fn parse_inner(text: &[u8]) -> Res<(ParsedTime, bool)> {
    let s = text.trim_ascii();
    // Fast path for the usual fixed-width ISO date.
    if let [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, ..] = *s {
        let ymd = [
            fixed_digits([y0, y1, y2, y3]),
            fixed_digits([m0, m1]),
            fixed_digits([d0, d1]),
        ];
        if let [Some(y), Some(m), Some(d)] = ymd {
            return year_first(&mut Cur { s, i: 10 }, y as i32, m, d, true);
        }
    }
    let mut c = Cur { s, i: 0 };
    let Some((a, n)) = c.digits(1, 4) else {
        return match s {
            [] => Err(TimeError("empty")),
            _ => parse_ms_date(s).map(|t| (t, true)),
        };
    };
    let sep = match c.peek() {
        Some(b @ (b'-' | b'/' | b'.')) => b,
        _ => return Err(NOT_A_DATE),
    };
    c.i += 1;
    let b = date_number(&mut c, sep)?;
    if !c.eat(sep) {
        return Err(NOT_A_DATE);
    }
    if n == 4 {
        let day = date_number(&mut c, sep)?;
        // hu-HU ends the date with a dot: `2017. 04. 10.`
        if sep == b'.' {
            c.eat(b'.');
        }
        return year_first(&mut c, a as i32, b, day, sep == b'-');
    }
    if sep == b'.' {
        c.skip_spaces();
    }
    let year = match c.digits(2, 4) {
        Some((y, 4)) if n <= 2 => y as i32,
        Some((y, 2)) if n <= 2 => 2000 + y as i32,
        _ => return Err(NOT_A_DATE),
    };
    c.eat(b'.'); // some cultures end the date with a dot
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(YEAR_RANGE);
    } else if check_date(year, a, b).is_err() && check_date(year, b, a).is_err() {
        let some_month = (1..=12).contains(&a) || (1..=12).contains(&b);
        return Err(if some_month { DAY_RANGE } else { MONTH_RANGE });
    }
    let (mut rest, present) = (WallClock { year, ..MIDNIGHT }, c.peek().is_some());
    time_tail(&mut c, &mut rest, false, true)?;
    let culture = ParsedTime::Culture {
        first: a as u8,
        second: b as u8,
        rest,
    };
    Ok((culture, present))
}

/// One or two digits after a date separator; `.` may be followed by spaces (`10. 4. 2017`).
#[inline(always)]
fn date_number(c: &mut Cur, sep: u8) -> Res<u32> {
    if sep == b'.' {
        c.skip_spaces();
    }
    c.digits(1, 2).map(|(v, _)| v).ok_or(NOT_A_DATE)
}

/// The rest of a year-first text, after its date; `iso` allows a zone suffix.
#[inline(always)]
fn year_first(c: &mut Cur, year: i32, month: u32, day: u32, iso: bool) -> Res<(ParsedTime, bool)> {
    check_date(year, month, day)?;
    let mut wc = MIDNIGHT;
    (wc.year, wc.month, wc.day) = (year, month as u8, day as u8);
    let present = c.peek().is_some();
    let t = match time_tail(c, &mut wc, iso, false)? {
        None => ParsedTime::Local(wc),
        Some(off) => ParsedTime::Utc(Timestamp(wc.epoch_nanos() - i64::from(off) * NANOS_PER_SEC)),
    };
    Ok((t, present))
}

/// Everything after the date: nothing, or a separator (`T`, spaces, `, `), a time of day, an
/// optional AM/PM, and a zone if `zone_ok`. Fills the time of `wc`; returns the zone offset in
/// seconds east of UTC. `dots` allows `.` between hours, minutes and seconds (fi-FI: 15.22.11).
#[inline(always)]
fn time_tail(c: &mut Cur, wc: &mut WallClock, zone_ok: bool, dots: bool) -> Res<Option<i32>> {
    match c.peek() {
        None => return Ok(None),
        Some(b'T' | b't') => c.i += 1,
        Some(b' ') => {
            c.skip_spaces();
        }
        Some(b',') if c.s.get(c.i + 1) == Some(&b' ') => {
            c.i += 1;
            c.skip_spaces();
        }
        _ => return Err(TimeError("unexpected text after date")),
    }
    let hour = c.digits(1, 2).ok_or(BAD_TIME)?.0;
    let tsep = match c.peek() {
        Some(b':') => b':',
        Some(b'.') if dots => b'.',
        _ => return Err(BAD_TIME),
    };
    c.i += 1;
    let minute = c.digits(2, 2).ok_or(BAD_TIME)?.0;
    let mut second = 0;
    if c.eat(tsep) {
        second = c.digits(2, 2).ok_or(BAD_TIME)?.0;
        if c.eat(b'.') || c.eat(b',') {
            let (v, n) = c.digits(1, 9).ok_or(BAD_TIME)?;
            wc.nanos = v * 10u32.pow(9 - n as u32);
            while c.peek().is_some_and(|b| b.is_ascii_digit()) {
                c.i += 1; // digits beyond nanoseconds are dropped
            }
        }
    }
    c.skip_spaces();
    let hour = match designator(c) {
        None => hour,
        Some(pm) if hour > 12 || (hour == 0 && pm) => {
            return Err(TimeError("hour out of range for am/pm"))
        }
        Some(pm) => hour % 12 + if pm { 12 } else { 0 },
    };
    let second = if second == 60 { 59 } else { second }; // a leap second
    check_time(hour, minute, second)?;
    (wc.hour, wc.minute, wc.second) = (hour as u8, minute as u8, second as u8);
    c.skip_spaces();
    let offset = match zone_ok {
        true if c.eat(b'Z') || c.eat(b'z') => Some(0),
        true => signed_offset(c, 2)?,
        false => None,
    };
    match c.peek() {
        None => Ok(offset),
        Some(_) => Err(TimeError("unexpected text after time")),
    }
}

/// `AM`, `PM`, `A.M.`, `p. m.` ... in any case: Some(is_pm). Consumes nothing on a miss.
#[inline(always)]
fn designator(c: &mut Cur) -> Option<bool> {
    let pm = match c.peek()?.to_ascii_lowercase() {
        b'a' => false,
        b'p' => true,
        _ => return None,
    };
    let mut d = Cur { s: c.s, i: c.i + 1 };
    if d.eat(b'.') {
        d.skip_spaces();
    }
    if !(d.eat(b'm') || d.eat(b'M')) {
        return None;
    }
    d.eat(b'.');
    c.i = d.i;
    Some(pm)
}

/// An optional `±HH:MM`, `±HHMM`, `±HH` (or `±H` if `min_h` is 1) in seconds east of UTC.
#[inline(always)]
fn signed_offset(c: &mut Cur, min_h: usize) -> Res<Option<i32>> {
    let negative = match c.peek() {
        Some(b'+') => false,
        Some(b'-') => true,
        _ => return Ok(None),
    };
    c.i += 1;
    let h = c.digits(min_h, 2).ok_or(BAD_OFFSET)?.0;
    let m = match c.eat(b':') {
        true => c.digits(2, 2).ok_or(BAD_OFFSET)?.0,
        false => c.digits(2, 2).map_or(0, |v| v.0),
    };
    let secs = h * 3600 + m * 60;
    if m > 59 {
        return Err(OFFSET_MINUTES);
    }
    if secs > MAX_OFFSET_SECS {
        return Err(OFFSET_RANGE);
    }
    let secs = secs as i32;
    Ok(Some(if negative { -secs } else { secs }))
}

/// `/Date(ms[±hhmm])/`, `\/Date(ms)\/` or `Date(ms)`: the ms are UTC; the offset is ignored.
fn parse_ms_date(s: &[u8]) -> Res<ParsedTime> {
    let body = if let Some(r) = s.strip_prefix(b"\\/Date(") {
        r.strip_suffix(b")\\/")
    } else if let Some(r) = s.strip_prefix(b"/Date(") {
        r.strip_suffix(b")/")
    } else if let Some(r) = s.strip_prefix(b"Date(") {
        r.strip_suffix(b")")
    } else {
        return Err(NOT_A_DATE);
    };
    let body = body.ok_or(BAD_MS_DATE)?;
    // An offset (`+0200`) may follow the ms; they are UTC already, so it is checked and ignored.
    let (ms, offset) = match body.iter().rposition(|&b| b == b'+' || b == b'-') {
        Some(at) if at > 0 => body.split_at_checked(at).unwrap_or_default(),
        _ => (body, &[][..]),
    };
    let offset_ok = matches!(offset, [] | [b'+' | b'-', _, _, _, _])
        && offset.iter().skip(1).all(u8::is_ascii_digit);
    let ms = match std::str::from_utf8(ms).unwrap_or("").parse::<i64>() {
        Ok(ms) if offset_ok => ms,
        _ => return Err(BAD_MS_DATE),
    };
    Timestamp::from_unix_millis(ms)
        .map(ParsedTime::Utc)
        .ok_or(YEAR_RANGE)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[inline(always)]
fn check_date(y: i32, m: u32, d: u32) -> Res<()> {
    if !(MIN_YEAR..=MAX_YEAR).contains(&y) {
        Err(YEAR_RANGE)
    } else if !(1..=12).contains(&m) {
        Err(MONTH_RANGE)
    } else if d == 0 || d > days_in_month(y, m) {
        Err(DAY_RANGE)
    } else {
        Ok(())
    }
}

#[inline(always)]
fn check_time(h: u32, m: u32, s: u32) -> Res<()> {
    match (h > 23, m > 59, s > 59) {
        (true, _, _) => Err(TimeError("hour out of range")),
        (_, true, _) => Err(TimeError("minute out of range")),
        (_, _, true) => Err(SECOND_RANGE),
        _ => Ok(()),
    }
}

/// Days since 1970-01-01 of a valid proleptic Gregorian date with year ≥ 1 (Howard Hinnant's
/// `days_from_civil`, in unsigned arithmetic for speed).
#[inline(always)]
fn days_from_civil(y: u32, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let (era, yoe) = (y / 400, y % 400);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    i64::from(era * 146_097 + doe) - 719_468
}

/// Inverse of [`days_from_civil`] for any day count: (year, month, day).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Where wall-clock times are read: UTC, a fixed offset, or an IANA zone (DST-aware).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Zone {
    /// Seconds east of UTC.
    Fixed(i32),
    Named(Tz),
}

impl Zone {
    /// "UTC", "utc", "Z" → Fixed(0); "+02:00", "-0530", "+02", "UTC+02:00", "UTC-5" → Fixed;
    /// else an IANA name such as "Europe/Berlin" (exact, else ignoring case).
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::Fixed(0));
        }
        let utc_prefix = t.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("utc"));
        let (bytes, i) = (t.as_bytes(), if utc_prefix { 3 } else { 0 });
        let mut c = Cur { s: bytes, i };
        match signed_offset(&mut c, 1) {
            Ok(Some(off)) if c.peek().is_none() => return Ok(Zone::Fixed(off)),
            Err(OFFSET_RANGE) => return Err(format!("time zone offset '{t}' is beyond ±18:00")),
            Err(OFFSET_MINUTES) => {
                return Err(format!(
                    "time zone offset '{t}': its minutes must be 00 to 59 (+02:30, -05:45)"
                ))
            }
            _ => {}
        }
        let same = |z: &Tz| z.name().eq_ignore_ascii_case(t);
        let any_case = || chrono_tz::TZ_VARIANTS.iter().copied().find(same);
        let tz = Tz::from_str(t).ok().or_else(any_case).ok_or_else(|| {
            format!(
                "unknown time zone '{t}': expected UTC, an offset such as +02:00, -0530, +02 \
                 or UTC-5, or an IANA name such as Europe/Berlin"
            )
        })?;
        Ok(Zone::Named(tz))
    }

    /// Converts a wall clock read in this zone to UTC. In a DST fold (a local time that occurs
    /// twice) returns the earlier instant and `true` so the caller can warn; in a DST gap (a local
    /// time that never occurs) returns an error.
    pub fn to_utc(&self, wc: WallClock) -> Result<(Timestamp, bool), TimeError> {
        wc.check()?;
        let tz = match *self {
            Zone::Fixed(off) => {
                let utc = wc.epoch_nanos().checked_sub(i64::from(off) * NANOS_PER_SEC);
                return utc.map(|n| (Timestamp(n), false)).ok_or(YEAR_RANGE);
            }
            Zone::Named(tz) => tz,
        };
        let (h, m, s) = (wc.hour.into(), wc.minute.into(), wc.second.into());
        let naive = NaiveDate::from_ymd_opt(wc.year, wc.month.into(), wc.day.into())
            .and_then(|d| d.and_hms_nano_opt(h, m, s, wc.nanos))
            .ok_or(NOT_A_DATE)?;
        let ts = |dt: DateTime<Tz>| dt.timestamp_nanos_opt().map(Timestamp).ok_or(YEAR_RANGE);
        match tz.from_local_datetime(&naive) {
            LocalResult::Single(dt) => Ok((ts(dt)?, false)),
            LocalResult::Ambiguous(a, b) => Ok((ts(a)?.min(ts(b)?), true)),
            LocalResult::None => Err(DST_GAP),
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let off = match *self {
            Zone::Fixed(0) => return f.write_str("UTC"),
            Zone::Named(tz) => return f.write_str(tz.name()),
            Zone::Fixed(off) => off,
        };
        let (sign, a) = (if off < 0 { '-' } else { '+' }, off.unsigned_abs());
        write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)?;
        match a % 60 {
            0 => Ok(()),
            secs => write!(f, ":{secs:02}"),
        }
    }
}

#[cfg(test)]
mod tests;
