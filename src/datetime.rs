//! Timestamps of exported audit logs: parsing, zones and ISO 8601 output.
//!
//! Exports from the Exchange admin centre, `Search-MailboxAuditLog`, `Search-UnifiedAuditLog` and
//! hand-made CSV conversions write dates in many shapes: ISO 8601 (with or without offset and
//! .NET's 7-digit fraction), JSON `/Date(ms)/`, and the culture formats of whatever machine ran the
//! export (`4/10/2017 3:22:11 PM`, `10.04.2017 15:22:11`, `2017. 04. 10. 15:22:11`, ...).
//!
//! [`parse_time`] is on the hot path (once per row of multi-GB files): it works on bytes, never
//! allocates and never panics. Texts that carry their zone become [`ParsedTime::Utc`]; zone-less
//! texts are returned as wall clocks for the caller to convert with a [`Zone`]. Culture dates keep
//! both day/month candidates so the caller can decide the order from evidence across the file.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDate, TimeZone};
use chrono_tz::Tz;

const NANOS_PER_SEC: i64 = 1_000_000_000;
const SECS_PER_DAY: i64 = 86_400;
const MIN_YEAR: i32 = 1678;
const MAX_YEAR: i32 = 2261;
const MAX_OFFSET_SECS: i32 = 18 * 3600;

const EMPTY: TimeError = TimeError("empty");
const NOT_A_DATE: TimeError = TimeError("not a date");
const BAD_TIME: TimeError = TimeError("not a time of day");
const BAD_MS_DATE: TimeError = TimeError("malformed /Date(ms)/ value");
const YEAR_RANGE: TimeError = TimeError("year out of range");
const MONTH_RANGE: TimeError = TimeError("month out of range");
const DAY_RANGE: TimeError = TimeError("day out of range for month");
const HOUR_RANGE: TimeError = TimeError("hour out of range");
const AMPM_HOUR: TimeError = TimeError("hour out of range for am/pm");
const MINUTE_RANGE: TimeError = TimeError("minute out of range");
const SECOND_RANGE: TimeError = TimeError("second out of range");
const OFFSET_RANGE: TimeError = TimeError("offset out of range");
const BAD_OFFSET: TimeError = TimeError("malformed offset");
const AFTER_DATE: TimeError = TimeError("unexpected text after date");
const AFTER_TIME: TimeError = TimeError("unexpected text after time");
const DST_GAP: TimeError = TimeError("time does not exist in this time zone (DST gap)");

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
        let (y, m, d) = civil_from_days(secs.div_euclid(SECS_PER_DAY));
        let sod = secs.rem_euclid(SECS_PER_DAY) as u32;
        out.reserve(30);
        // Every i64 falls in years 1677..=2262, so four digits always suffice.
        push_digits(out, y.unsigned_abs() as u32, 4);
        out.push('-');
        push_digits(out, m, 2);
        out.push('-');
        push_digits(out, d, 2);
        out.push('T');
        push_digits(out, sod / 3600, 2);
        out.push(':');
        push_digits(out, sod / 60 % 60, 2);
        out.push(':');
        push_digits(out, sod % 60, 2);
        if nanos != 0 {
            out.push('.');
            // AutoSi: milli-, micro- or nanoseconds, whichever is exact.
            match (nanos % 1_000_000, nanos % 1_000) {
                (0, _) => push_digits(out, nanos / 1_000_000, 3),
                (_, 0) => push_digits(out, nanos / 1_000, 6),
                _ => push_digits(out, nanos, 9),
            }
        }
        out.push('Z');
    }

    /// Same as write_iso, into a new String (convenience).
    pub fn to_iso(self) -> String {
        let mut s = String::with_capacity(30);
        self.write_iso(&mut s);
        s
    }
}

/// Appends `v` as exactly `width` decimal digits (leading zeros; higher digits dropped).
fn push_digits(out: &mut String, v: u32, width: u32) {
    for k in (0..width).rev() {
        let digit = (v / 10u32.pow(k) % 10) as u8;
        out.push(char::from(b'0' + digit));
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

impl FromStr for DateOrder {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("mdy") {
            Ok(DateOrder::Mdy)
        } else if t.eq_ignore_ascii_case("dmy") {
            Ok(DateOrder::Dmy)
        } else {
            Err(format!(
                "unknown date order '{s}': expected one of mdy, dmy"
            ))
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
    fn check(&self) -> Result<(), TimeError> {
        check_date(self.year, self.month.into(), self.day.into())?;
        if self.hour > 23 {
            Err(HOUR_RANGE)
        } else if self.minute > 59 {
            Err(MINUTE_RANGE)
        } else if self.second > 59 || self.nanos >= NANOS_PER_SEC as u32 {
            Err(SECOND_RANGE)
        } else {
            Ok(())
        }
    }

    /// Nanoseconds since the epoch if this wall clock were UTC. Caller has validated the fields.
    fn epoch_nanos(&self) -> i64 {
        let days = days_from_civil(self.year.into(), self.month.into(), self.day.into());
        let sod =
            i64::from(self.hour) * 3600 + i64::from(self.minute) * 60 + i64::from(self.second);
        (days * SECS_PER_DAY + sod) * NANOS_PER_SEC + i64::from(self.nanos)
    }
}

/// The result of [`parse_time`].
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
        match *self {
            ParsedTime::Utc(_) => None,
            ParsedTime::Local(wc) => Some(wc),
            ParsedTime::Culture {
                first,
                second,
                rest,
            } => {
                let (month, day) = match order {
                    DateOrder::Mdy => (first, second),
                    DateOrder::Dmy => (second, first),
                };
                check_date(rest.year, month.into(), day.into()).ok()?;
                Some(WallClock { month, day, ..rest })
            }
        }
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
pub fn parse_time_with_presence(text: &[u8]) -> Result<(ParsedTime, bool), TimeError> {
    parse_inner(text)
}

/// A byte cursor whose reads are all bounds-checked (`get`), so malformed input cannot panic.
struct Cur<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cur<'_> {
    #[inline]
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    #[inline]
    fn at_end(&self) -> bool {
        self.i >= self.s.len()
    }

    #[inline]
    fn eat(&mut self, b: u8) -> bool {
        let hit = self.peek() == Some(b);
        self.i += usize::from(hit);
        hit
    }

    /// Consumes one byte equal to `lower` ignoring ASCII case.
    #[inline]
    fn eat_ci(&mut self, lower: u8) -> bool {
        let hit = self.peek().map(|b| b.to_ascii_lowercase()) == Some(lower);
        self.i += usize::from(hit);
        hit
    }

    #[inline]
    fn skip_spaces(&mut self) -> usize {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        self.i - start
    }

    /// Reads up to `max` (≤ 9) ASCII digits: their value and count. Consumes nothing and
    /// returns None when fewer than `min` are present.
    #[inline]
    fn digits(&mut self, min: usize, max: usize) -> Option<(u32, usize)> {
        let mut v = 0u32;
        let mut n = 0;
        while n < max {
            match self.s.get(self.i + n) {
                Some(&b) if b.is_ascii_digit() => v = v * 10 + u32::from(b - b'0'),
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

/// A parsed time of day plus the zone offset in seconds east of UTC, if the text had one.
struct TimeTail {
    hour: u8,
    minute: u8,
    second: u8,
    nanos: u32,
    offset: Option<i32>,
    present: bool,
}

#[inline]
fn parse_inner(text: &[u8]) -> Result<(ParsedTime, bool), TimeError> {
    let s = text.trim_ascii();
    if s.is_empty() {
        return Err(EMPTY);
    }
    let mut c = Cur { s, i: 0 };
    let Some((lead, n)) = c.digits(1, 4) else {
        return parse_ms_date(s).map(|t| (t, true));
    };
    let sep = match c.peek() {
        Some(b @ (b'-' | b'/' | b'.')) => b,
        _ => return Err(NOT_A_DATE),
    };
    c.i += 1;
    match n {
        4 => year_first(&mut c, lead as i32, sep),
        1 | 2 => culture(&mut c, lead as u8, sep),
        _ => Err(NOT_A_DATE),
    }
}

/// After a date separator: spaces are allowed after `.` (hu-HU `2017. 04. 10.`, sk-SK `10. 4.`).
#[inline]
fn date_number(c: &mut Cur, sep: u8) -> Result<u32, TimeError> {
    if sep == b'.' {
        c.skip_spaces();
    }
    c.digits(1, 2).map(|(v, _)| v).ok_or(NOT_A_DATE)
}

/// `yyyy-M-d`, `yyyy/M/d`, `yyyy.M.d` with optional time; the separator is already consumed.
fn year_first(c: &mut Cur, year: i32, sep: u8) -> Result<(ParsedTime, bool), TimeError> {
    let month = date_number(c, sep)?;
    if !c.eat(sep) {
        return Err(NOT_A_DATE);
    }
    let day = date_number(c, sep)?;
    if sep == b'.' {
        c.eat(b'.');
    }
    check_date(year, month, day)?;
    let t = time_tail(c, sep == b'-', false)?;
    let wc = WallClock {
        year,
        month: month as u8,
        day: day as u8,
        hour: t.hour,
        minute: t.minute,
        second: t.second,
        nanos: t.nanos,
    };
    let parsed = match t.offset {
        None => ParsedTime::Local(wc),
        Some(off) => ParsedTime::Utc(Timestamp(wc.epoch_nanos() - i64::from(off) * NANOS_PER_SEC)),
    };
    Ok((parsed, t.present))
}

/// `a SEP b SEP y[y[yy]]` with optional time; `a` and the first separator are consumed.
fn culture(c: &mut Cur, first: u8, sep: u8) -> Result<(ParsedTime, bool), TimeError> {
    let second = date_number(c, sep)?;
    if !c.eat(sep) {
        return Err(NOT_A_DATE);
    }
    if sep == b'.' {
        c.skip_spaces();
    }
    let year = match c.digits(2, 4) {
        Some((y, 4)) => y as i32,
        Some((y, 2)) => 2000 + y as i32,
        _ => return Err(NOT_A_DATE),
    };
    c.eat(b'.');
    let (a, b) = (u32::from(first), second);
    if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
        return Err(YEAR_RANGE);
    }
    if check_date(year, a, b).is_err() && check_date(year, b, a).is_err() {
        let month_ok = |m: u32| (1..=12).contains(&m);
        return Err(if month_ok(a) || month_ok(b) {
            DAY_RANGE
        } else {
            MONTH_RANGE
        });
    }
    let t = time_tail(c, false, true)?;
    let rest = WallClock {
        year,
        month: 1,
        day: 1,
        hour: t.hour,
        minute: t.minute,
        second: t.second,
        nanos: t.nanos,
    };
    Ok((
        ParsedTime::Culture {
            first,
            second: second as u8,
            rest,
        },
        t.present,
    ))
}

/// Everything after the date: nothing, or separator + time [+ AM/PM] [+ zone if `zone_ok`].
fn time_tail(c: &mut Cur, zone_ok: bool, dot_time_ok: bool) -> Result<TimeTail, TimeError> {
    let mut t = TimeTail {
        hour: 0,
        minute: 0,
        second: 0,
        nanos: 0,
        offset: None,
        present: false,
    };
    match c.peek() {
        None => return Ok(t),
        Some(b'T' | b't') => c.i += 1,
        Some(b' ') => {
            c.skip_spaces();
        }
        Some(b',') if c.s.get(c.i + 1) == Some(&b' ') => {
            c.i += 1;
            c.skip_spaces();
        }
        _ => return Err(AFTER_DATE),
    }
    t.present = true;
    let (hour, _) = c.digits(1, 2).ok_or(BAD_TIME)?;
    let tsep = match c.peek() {
        Some(b':') => b':',
        Some(b'.') if dot_time_ok => b'.',
        _ => return Err(BAD_TIME),
    };
    c.i += 1;
    let (minute, _) = c.digits(2, 2).ok_or(BAD_TIME)?;
    let mut second = 0;
    if c.eat(tsep) {
        second = c.digits(2, 2).ok_or(BAD_TIME)?.0;
        if matches!(c.peek(), Some(b'.' | b',')) {
            c.i += 1;
            t.nanos = fraction(c)?;
        }
    }
    let mut hour = hour;
    c.skip_spaces();
    if let Some(pm) = designator(c) {
        if hour > 12 || (hour == 0 && pm) {
            return Err(AMPM_HOUR);
        }
        hour = match (hour, pm) {
            (12, false) => 0,
            (12, true) => 12,
            (h, true) => h + 12,
            (h, false) => h,
        };
        c.skip_spaces();
    }
    if hour > 23 {
        return Err(HOUR_RANGE);
    }
    if minute > 59 {
        return Err(MINUTE_RANGE);
    }
    if second > 60 {
        return Err(SECOND_RANGE);
    }
    (t.hour, t.minute, t.second) = (hour as u8, minute as u8, second.min(59) as u8);
    if zone_ok {
        t.offset = zone_suffix(c)?;
    }
    if !c.at_end() {
        return Err(AFTER_TIME);
    }
    Ok(t)
}

/// Digits after the decimal separator: the first nine are kept, further digits ignored.
#[inline]
fn fraction(c: &mut Cur) -> Result<u32, TimeError> {
    const SCALE: [u32; 10] = [
        1_000_000_000,
        100_000_000,
        10_000_000,
        1_000_000,
        100_000,
        10_000,
        1_000,
        100,
        10,
        1,
    ];
    let (v, n) = c.digits(1, 9).ok_or(BAD_TIME)?;
    while c.peek().is_some_and(|b| b.is_ascii_digit()) {
        c.i += 1;
    }
    Ok(v * SCALE.get(n).copied().unwrap_or(1))
}

/// `AM`, `PM`, `A.M.`, `p. m.` and so on, any case: Some(is_pm). Consumes nothing on a miss.
#[inline]
fn designator(c: &mut Cur) -> Option<bool> {
    let start = c.i;
    let pm = match c.peek().map(|b| b.to_ascii_lowercase()) {
        Some(b'a') => false,
        Some(b'p') => true,
        _ => return None,
    };
    c.i += 1;
    if c.eat(b'.') {
        c.skip_spaces();
    }
    if !c.eat_ci(b'm') {
        c.i = start;
        return None;
    }
    c.eat(b'.');
    Some(pm)
}

/// An optional `Z`, `±HH:MM`, `±HHMM` or `±HH`, as seconds east of UTC.
fn zone_suffix(c: &mut Cur) -> Result<Option<i32>, TimeError> {
    match c.peek() {
        Some(b'Z' | b'z') => {
            c.i += 1;
            Ok(Some(0))
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let (h, _) = c.digits(2, 2).ok_or(BAD_OFFSET)?;
            let m = if c.eat(b':') {
                c.digits(2, 2).ok_or(BAD_OFFSET)?.0
            } else {
                c.digits(2, 2).map_or(0, |(m, _)| m)
            };
            signed_offset(sign, h, m).map(Some)
        }
        _ => Ok(None),
    }
}

fn signed_offset(sign: u8, h: u32, m: u32) -> Result<i32, TimeError> {
    let secs = (h * 3600 + m * 60) as i32;
    if m > 59 || secs > MAX_OFFSET_SECS {
        return Err(OFFSET_RANGE);
    }
    Ok(if sign == b'-' { -secs } else { secs })
}

/// `/Date(ms[±hhmm])/`, `\/Date(ms)\/` or `Date(ms)`: the ms are UTC, the offset is ignored.
fn parse_ms_date(s: &[u8]) -> Result<ParsedTime, TimeError> {
    let body = if let Some(r) = s.strip_prefix(b"\\/Date(") {
        r.strip_suffix(b")\\/")
    } else if let Some(r) = s.strip_prefix(b"/Date(") {
        r.strip_suffix(b")/")
    } else if let Some(r) = s.strip_prefix(b"Date(") {
        r.strip_suffix(b")")
    } else {
        return Err(NOT_A_DATE);
    };
    let mut c = Cur {
        s: body.ok_or(BAD_MS_DATE)?,
        i: 0,
    };
    let neg = c.eat(b'-');
    let (mut ms, start) = (0i64, c.i);
    while let Some(b) = c.peek().filter(u8::is_ascii_digit) {
        let d = i64::from(b - b'0');
        ms = ms
            .checked_mul(10)
            .and_then(|v| v.checked_add(d))
            .ok_or(YEAR_RANGE)?;
        c.i += 1;
    }
    if c.i == start {
        return Err(BAD_MS_DATE);
    }
    if matches!(c.peek(), Some(b'+' | b'-')) {
        c.i += 1;
        c.digits(4, 4).ok_or(BAD_MS_DATE)?;
    }
    if !c.at_end() {
        return Err(BAD_MS_DATE);
    }
    let ms = if neg { -ms } else { ms };
    Timestamp::from_unix_millis(ms)
        .map(ParsedTime::Utc)
        .ok_or(YEAR_RANGE)
}

fn is_leap(y: i32) -> bool {
    y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn check_date(y: i32, m: u32, d: u32) -> Result<(), TimeError> {
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

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Inverse of [`days_from_civil`]: (year, month, day).
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
    /// else an IANA name such as "Europe/Berlin" (exact, then case-insensitive).
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") {
            return Ok(Zone::Fixed(0));
        }
        let offset = match t.get(..3) {
            Some(p) if p.eq_ignore_ascii_case("utc") => t.get(3..).unwrap_or(""),
            _ => t,
        };
        if let Some(&sign @ (b'+' | b'-')) = offset.as_bytes().first() {
            let mut c = Cur {
                s: offset.as_bytes(),
                i: 1,
            };
            let parsed = c.digits(1, 2).and_then(|(h, _)| {
                let m = if c.eat(b':') {
                    c.digits(2, 2)?.0
                } else {
                    c.digits(2, 2).map_or(0, |v| v.0)
                };
                c.at_end().then_some((h, m))
            });
            if let Some((h, m)) = parsed {
                return signed_offset(sign, h, m)
                    .map(Zone::Fixed)
                    .map_err(|_| format!("time zone offset '{s}' is beyond ±18:00"));
            }
        } else if let Ok(tz) = Tz::from_str(t) {
            return Ok(Zone::Named(tz));
        } else if let Some(tz) = chrono_tz::TZ_VARIANTS
            .iter()
            .find(|z| z.name().eq_ignore_ascii_case(t))
        {
            return Ok(Zone::Named(*tz));
        }
        Err(format!(
            "unknown time zone '{s}': expected UTC, an offset (+02:00, -0530, +02, UTC-5) \
             or an IANA name (Europe/Berlin)"
        ))
    }

    /// Converts a wall clock read in this zone to UTC. In a DST fold (a local time that occurs
    /// twice) returns the earlier instant and `true` so the caller can warn; in a DST gap returns
    /// an error.
    pub fn to_utc(&self, wc: WallClock) -> Result<(Timestamp, bool), TimeError> {
        wc.check()?;
        match *self {
            Zone::Fixed(off) => wc
                .epoch_nanos()
                .checked_sub(i64::from(off) * NANOS_PER_SEC)
                .map(|n| (Timestamp(n), false))
                .ok_or(YEAR_RANGE),
            Zone::Named(tz) => {
                let naive = NaiveDate::from_ymd_opt(wc.year, wc.month.into(), wc.day.into())
                    .and_then(|d| {
                        let (h, m, s) = (wc.hour.into(), wc.minute.into(), wc.second.into());
                        d.and_hms_nano_opt(h, m, s, wc.nanos)
                    })
                    .ok_or(NOT_A_DATE)?;
                let ts =
                    |dt: DateTime<Tz>| dt.timestamp_nanos_opt().map(Timestamp).ok_or(YEAR_RANGE);
                match tz.from_local_datetime(&naive) {
                    LocalResult::Single(dt) => Ok((ts(dt)?, false)),
                    LocalResult::Ambiguous(a, b) => Ok((ts(a)?.min(ts(b)?), true)),
                    LocalResult::None => Err(DST_GAP),
                }
            }
        }
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Zone::Fixed(0) => f.write_str("UTC"),
            Zone::Fixed(off) => {
                let sign = if off < 0 { '-' } else { '+' };
                let a = off.unsigned_abs();
                write!(f, "{sign}{:02}:{:02}", a / 3600, a / 60 % 60)?;
                if a % 60 != 0 {
                    write!(f, ":{:02}", a % 60)?;
                }
                Ok(())
            }
            Zone::Named(tz) => f.write_str(tz.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(s: &str) -> Result<ParsedTime, TimeError> {
        parse_time(s.as_bytes())
    }
    fn utc(s: &str) -> String {
        match p(s) {
            Ok(ParsedTime::Utc(t)) => t.to_iso(),
            other => panic!("{s}: {other:?}"),
        }
    }
    fn wc(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
        nanos: u32,
    ) -> WallClock {
        WallClock {
            year,
            month,
            day,
            hour,
            minute,
            second,
            nanos,
        }
    }
    fn local(s: &str) -> WallClock {
        match p(s) {
            Ok(ParsedTime::Local(w)) => w,
            other => panic!("{s}: {other:?}"),
        }
    }
    fn resolved(s: &str, order: DateOrder) -> WallClock {
        let t = p(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(matches!(t, ParsedTime::Culture { .. }), "{s}: {t:?}");
        t.wall_clock(order)
            .unwrap_or_else(|| panic!("{s}: no wall clock"))
    }
    fn err(s: &str) -> &'static str {
        match p(s) {
            Err(TimeError(e)) => e,
            Ok(t) => panic!("{s}: parsed as {t:?}"),
        }
    }

    #[test]
    fn iso_with_zone() {
        assert_eq!(utc("2017-04-10T15:22:11Z"), "2017-04-10T15:22:11Z");
        assert_eq!(utc("  2017-04-10t15:22:11z \r\n"), "2017-04-10T15:22:11Z");
        assert_eq!(
            utc("2017-04-10T15:22:11.1234567Z"),
            "2017-04-10T15:22:11.123456700Z"
        );
        assert_eq!(utc("2017-04-10T15:22:11,12Z"), "2017-04-10T15:22:11.120Z");
        assert_eq!(
            utc("2017-04-10T15:22:11.123456789987Z"),
            "2017-04-10T15:22:11.123456789Z"
        );
        assert_eq!(utc("2017-04-10T17:22:11+02:00"), "2017-04-10T15:22:11Z");
        assert_eq!(utc("2017-04-10T09:52:11-0530"), "2017-04-10T15:22:11Z");
        assert_eq!(utc("2017-04-10 17:22+02"), "2017-04-10T15:22:00Z");
        assert_eq!(utc("2017-01-01T01:00:00+18:00"), "2016-12-31T07:00:00Z");
        assert_eq!(utc("2016-12-31T23:59:60Z"), "2016-12-31T23:59:59Z");
    }

    #[test]
    fn iso_without_zone_is_local() {
        assert_eq!(local("2017-04-10T15:22:11"), wc(2017, 4, 10, 15, 22, 11, 0));
        assert_eq!(
            local("2017-04-10 15:22:11.5"),
            wc(2017, 4, 10, 15, 22, 11, 500_000_000)
        );
        assert_eq!(local("2017-04-10"), wc(2017, 4, 10, 0, 0, 0, 0));
        assert_eq!(local("2017-4-10"), wc(2017, 4, 10, 0, 0, 0, 0));
        assert_eq!(local("2016-02-29T00:00"), wc(2016, 2, 29, 0, 0, 0, 0));
        assert_eq!(local("2000-02-29"), wc(2000, 2, 29, 0, 0, 0, 0));
    }

    #[test]
    fn year_first_culture_forms() {
        let want = wc(2017, 4, 10, 15, 22, 11, 0);
        assert_eq!(local("2017/04/10 15:22:11"), want);
        assert_eq!(local("2017.04.10 15:22:11"), want);
        assert_eq!(local("2017. 04. 10. 15:22:11"), want);
        assert_eq!(local("2017/4/10 3:22:11 PM"), want);
        assert_eq!(local("2017/4/10"), wc(2017, 4, 10, 0, 0, 0, 0));
        assert_eq!(local("2017. 4. 10."), wc(2017, 4, 10, 0, 0, 0, 0));
    }

    #[test]
    fn ms_dates() {
        assert_eq!(utc("/Date(1491837731000)/"), "2017-04-10T15:22:11Z");
        assert_eq!(utc(r"\/Date(1491837731000)\/"), "2017-04-10T15:22:11Z");
        assert_eq!(utc("Date(1491837731120)"), "2017-04-10T15:22:11.120Z");
        assert_eq!(utc("/Date(1491837731000+0200)/"), "2017-04-10T15:22:11Z");
        assert_eq!(utc("/Date(-1000-0500)/"), "1969-12-31T23:59:59Z");
        for bad in [
            "/Date()/",
            "/Date(12x)/",
            "/Date(1)",
            "/Date(1+02)/",
            r"\/Date(1)/",
        ] {
            assert_eq!(err(bad), BAD_MS_DATE.0, "{bad}");
        }
        assert_eq!(err("/Date(99999999999999999999)/"), YEAR_RANGE.0);
        assert_eq!(err("/Date(9223372036854775807)/"), YEAR_RANGE.0);
    }

    #[test]
    fn culture_dates() {
        use DateOrder::{Dmy, Mdy};
        let want = wc(2017, 4, 10, 15, 22, 11, 0);
        assert_eq!(resolved("4/10/2017 3:22:11 PM", Mdy), want);
        assert_eq!(resolved("10/04/2017 15:22:11", Dmy), want);
        assert_eq!(resolved("10.04.2017 15:22:11", Dmy), want);
        assert_eq!(resolved("10.04.2017 15.22.11", Dmy), want);
        assert_eq!(resolved("10.04.2017. 15:22:11", Dmy), want);
        assert_eq!(resolved("10. 4. 2017 15:22:11", Dmy), want);
        assert_eq!(resolved("10/04/2017, 15:22:11", Dmy), want);
        assert_eq!(
            resolved("10/04/2017T15:22:11.25", Dmy),
            wc(2017, 4, 10, 15, 22, 11, 250_000_000)
        );
        assert_eq!(resolved("4/10/17", Mdy), wc(2017, 4, 10, 0, 0, 0, 0));
        assert_eq!(
            resolved("04/10/17 3:22 pm", Mdy),
            wc(2017, 4, 10, 15, 22, 0, 0)
        );
        assert_eq!(
            resolved("10-04-2017 15:22", Dmy),
            wc(2017, 4, 10, 15, 22, 0, 0)
        );
        assert_eq!(resolved("1/2/99", Dmy), wc(2099, 2, 1, 0, 0, 0, 0));
        assert_eq!(resolved("1/2/00", Mdy), wc(2000, 1, 2, 0, 0, 0, 0));
        let t = p("4/10/17 3:22").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            t,
            ParsedTime::Culture {
                first: 4,
                second: 10,
                rest: wc(2017, 1, 1, 3, 22, 0, 0)
            }
        );
    }

    #[test]
    fn am_pm_designators() {
        use DateOrder::Mdy;
        for (s, hour) in [
            ("4/10/2017 3:22:11PM", 15),
            ("4/10/2017 3:22:11 p.m.", 15),
            ("4/10/2017 3:22:11 P.M.", 15),
            ("4/10/2017 3:22:11 p. m.", 15),
            ("4/10/2017 3:22:11 a. m.", 3),
            ("4/10/2017 3:22:11 A.M.", 3),
            ("4/10/2017 12:22:11 AM", 0),
            ("4/10/2017 12:22:11 PM", 12),
            ("4/10/2017 0:22:11 am", 0),
        ] {
            assert_eq!(resolved(s, Mdy).hour, hour, "{s}");
        }
        assert_eq!(err("4/10/2017 13:22:11 PM"), AMPM_HOUR.0);
        assert_eq!(err("4/10/2017 0:22:11 PM"), AMPM_HOUR.0);
        assert_eq!(err("4/10/2017 3:22:11 P"), AFTER_TIME.0);
        assert_eq!(err("4/10/2017 3:22:11 PMX"), AFTER_TIME.0);
    }

    #[test]
    fn error_classes() {
        for (s, e) in [
            ("", EMPTY),
            ("   ", EMPTY),
            ("hello", NOT_A_DATE),
            ("12345-01-01", NOT_A_DATE),
            ("2017", NOT_A_DATE),
            ("2017-04", NOT_A_DATE),
            ("2017-04-10T", BAD_TIME),
            ("2017-04-10T15", BAD_TIME),
            ("2017-04-10T15.22", BAD_TIME),
            ("2017-04-10T15:2", BAD_TIME),
            ("2017-04-10T15:22:11.", BAD_TIME),
            ("2017-13-10", MONTH_RANGE),
            ("2017-00-10", MONTH_RANGE),
            ("2017-02-29", DAY_RANGE),
            ("1900-02-29", DAY_RANGE),
            ("2017-04-31", DAY_RANGE),
            ("2017-04-00", DAY_RANGE),
            ("2017-04-10T24:00:00", HOUR_RANGE),
            ("2017-04-10T23:60:00", MINUTE_RANGE),
            ("2017-04-10T23:59:61", SECOND_RANGE),
            ("2017-04-10T15:22:11+19:00", OFFSET_RANGE),
            ("2017-04-10T15:22:11+02:60", OFFSET_RANGE),
            ("2017-04-10T15:22:11+2", BAD_OFFSET),
            ("2017-04-10T15:22:11+02:0", BAD_OFFSET),
            ("2017-04-10T15:22:11+021", AFTER_TIME),
            ("2017-04-10T15:22:11 UTC", AFTER_TIME),
            ("2017-04-10x", AFTER_DATE),
            ("2017-04-10,15:22", AFTER_DATE),
            ("1677-12-31", YEAR_RANGE),
            ("2262-01-01", YEAR_RANGE),
            ("1/1/1600", YEAR_RANGE),
            ("13/13/2017", MONTH_RANGE),
            ("0/0/2017", MONTH_RANGE),
            ("2/30/2017", DAY_RANGE),
            ("31/31/2017", MONTH_RANGE),
            ("4/10/201", NOT_A_DATE),
            ("4/10-2017", NOT_A_DATE),
            ("4/10/2017 15:22:11+02:00", AFTER_TIME),
            ("2017/04/10 15:22Z", AFTER_TIME),
        ] {
            assert_eq!(p(s), Err(e), "{s}");
        }
        assert_eq!(TimeError("x").to_string(), "x");
    }

    #[test]
    fn presence_of_time() {
        let has = |s: &str| parse_time_with_presence(s.as_bytes()).map(|(_, b)| b);
        assert_eq!(has("2017-04-10"), Ok(false));
        assert_eq!(has("10.04.2017."), Ok(false));
        assert_eq!(has("2017-04-10T00:00"), Ok(true));
        assert_eq!(has("4/10/2017 3:22 PM"), Ok(true));
        assert_eq!(has("/Date(0)/"), Ok(true));
    }

    #[test]
    fn evidence_and_wall_clock() {
        use DateOrder::{Dmy, Mdy};
        let t = p("13/04/2017").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.evidence(), Some(Dmy));
        assert_eq!(t.wall_clock(Mdy), None);
        assert_eq!(t.wall_clock(Dmy), Some(wc(2017, 4, 13, 0, 0, 0, 0)));
        let t = p("4/13/2017").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((t.evidence(), t.wall_clock(Dmy)), (Some(Mdy), None));
        let t = p("4/10/2017").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.evidence(), None);
        assert_eq!(t.wall_clock(Dmy), Some(wc(2017, 10, 4, 0, 0, 0, 0)));
        let t = p("31/1/2017").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.wall_clock(Dmy), Some(wc(2017, 1, 31, 0, 0, 0, 0)));
        let t = p("2/29/2016").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(t.wall_clock(Dmy), None);
        let l = ParsedTime::Local(wc(2017, 4, 10, 0, 0, 0, 0));
        assert_eq!(
            (l.evidence(), l.wall_clock(Dmy)),
            (None, Some(wc(2017, 4, 10, 0, 0, 0, 0)))
        );
        let u = ParsedTime::Utc(Timestamp(0));
        assert_eq!((u.evidence(), u.wall_clock(Mdy)), (None, None));
    }

    #[test]
    fn date_order_from_str() {
        assert_eq!("MDY".parse::<DateOrder>(), Ok(DateOrder::Mdy));
        assert_eq!("dmy".parse::<DateOrder>(), Ok(DateOrder::Dmy));
        let e = "ymd".parse::<DateOrder>().err().unwrap_or_default();
        assert!(e.contains("mdy") && e.contains("dmy"), "{e}");
    }

    #[test]
    fn zones() {
        for (s, off) in [
            ("UTC", 0),
            ("utc", 0),
            ("Z", 0),
            ("+02:00", 7200),
            ("-0530", -19800),
        ] {
            assert_eq!(Zone::parse(s), Ok(Zone::Fixed(off)), "{s}");
        }
        for (s, off) in [
            ("+02", 7200),
            ("UTC+02:00", 7200),
            ("UTC-5", -18000),
            ("utc+18", 64800),
        ] {
            assert_eq!(Zone::parse(s), Ok(Zone::Fixed(off)), "{s}");
        }
        let berlin = Zone::Named(chrono_tz::Europe::Berlin);
        assert_eq!(Zone::parse("Europe/Berlin"), Ok(berlin));
        assert_eq!(Zone::parse("europe/berlin"), Ok(berlin));
        for bad in ["Mars/Olympus", "+19:00", "UTC+", "+02:0", ""] {
            let e = Zone::parse(bad).err().unwrap_or_default();
            assert!(e.contains(bad), "{bad}: {e}");
        }
        assert_eq!(
            Zone::parse("Mars").err().map(|e| e.contains("IANA")),
            Some(true)
        );
        assert_eq!(Zone::Fixed(0).to_string(), "UTC");
        assert_eq!(Zone::Fixed(7200).to_string(), "+02:00");
        assert_eq!(Zone::Fixed(-19800).to_string(), "-05:30");
        assert_eq!(berlin.to_string(), "Europe/Berlin");
    }

    #[test]
    fn to_utc_fixed_and_berlin() {
        let iso = |r: Result<(Timestamp, bool), TimeError>| r.map(|(t, f)| (t.to_iso(), f));
        let w = wc(2017, 4, 10, 17, 22, 11, 0);
        assert_eq!(
            iso(Zone::Fixed(7200).to_utc(w)),
            Ok(("2017-04-10T15:22:11Z".into(), false))
        );
        assert_eq!(
            iso(Zone::Fixed(0).to_utc(w)),
            Ok(("2017-04-10T17:22:11Z".into(), false))
        );
        let berlin = Zone::Named(chrono_tz::Europe::Berlin);
        assert_eq!(
            iso(berlin.to_utc(w)),
            Ok(("2017-04-10T15:22:11Z".into(), false))
        );
        let fold = wc(2017, 10, 29, 2, 30, 0, 0);
        assert_eq!(
            iso(berlin.to_utc(fold)),
            Ok(("2017-10-29T00:30:00Z".into(), true))
        );
        assert_eq!(berlin.to_utc(wc(2017, 3, 26, 2, 30, 0, 0)), Err(DST_GAP));
        assert_eq!(berlin.to_utc(wc(2017, 2, 29, 0, 0, 0, 0)), Err(DAY_RANGE));
        assert_eq!(
            Zone::Fixed(0).to_utc(wc(2017, 1, 1, 24, 0, 0, 0)),
            Err(HOUR_RANGE)
        );
    }

    #[test]
    fn write_iso_forms() {
        let t = Timestamp::from_unix_millis(1_491_837_731_000).unwrap_or(Timestamp(0));
        assert_eq!(t.to_iso(), "2017-04-10T15:22:11Z");
        assert_eq!(
            Timestamp(t.0 + 120_000_000).to_iso(),
            "2017-04-10T15:22:11.120Z"
        );
        assert_eq!(
            Timestamp(t.0 + 123_456_000).to_iso(),
            "2017-04-10T15:22:11.123456Z"
        );
        assert_eq!(
            Timestamp(t.0 + 123_456_700).to_iso(),
            "2017-04-10T15:22:11.123456700Z"
        );
        assert_eq!(Timestamp(-1).to_iso(), "1969-12-31T23:59:59.999999999Z");
        assert_eq!(
            Timestamp(i64::MIN).to_iso(),
            "1677-09-21T00:12:43.145224192Z"
        );
        assert_eq!(
            Timestamp(i64::MAX).to_iso(),
            "2262-04-11T23:47:16.854775807Z"
        );
        assert_eq!(Timestamp::from_unix_millis(i64::MAX), None);
        let mut s = String::from("x=");
        Timestamp(0).write_iso(&mut s);
        assert_eq!(s, "x=1970-01-01T00:00:00Z");
    }

    fn arb_wall_clock() -> impl Strategy<Value = WallClock> {
        (
            MIN_YEAR..=MAX_YEAR,
            1u8..=12,
            1u8..=31,
            0u8..24,
            0u8..60,
            0u8..60,
            0u32..1_000_000_000,
        )
            .prop_map(|(y, mo, d, h, mi, s, n)| {
                let day = d.min(days_in_month(y, mo.into()) as u8);
                wc(y, mo, day, h, mi, s, n)
            })
    }

    /// Nanoseconds from 1678-01-01T00:00:00Z to 2261-12-31T23:59:59.999999999Z.
    fn ts_range() -> std::ops::RangeInclusive<i64> {
        let first = days_from_civil(1678, 1, 1) * SECS_PER_DAY * NANOS_PER_SEC;
        let after = days_from_civil(2262, 1, 1) * SECS_PER_DAY * NANOS_PER_SEC;
        first..=after - 1
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_time(&bytes);
            let _ = parse_time_with_presence(&bytes);
        }

        #[test]
        fn never_panics_on_near_misses(
            bytes in proptest::collection::vec(proptest::sample::select(b"0123456789/.-:, TtZzAaPpMm+\\Date()".to_vec()), 0..40)
        ) {
            if let Ok(t) = parse_time(&bytes) {
                let _ = (t.evidence(), t.wall_clock(DateOrder::Mdy), t.wall_clock(DateOrder::Dmy));
            }
            let _ = parse_time_with_presence(&bytes);
        }
    }

    proptest! {
        #[test]
        fn culture_and_iso_round_trip(w in arb_wall_clock()) {
            let h12 = if w.hour % 12 == 0 { 12 } else { w.hour % 12 };
            let tt = if w.hour < 12 { "AM" } else { "PM" };
            let (y, mo, d, mi, s) = (w.year, w.month, w.day, w.minute, w.second);
            let us = format!("{mo}/{d}/{y} {h12}:{mi:02}:{s:02} {tt}");
            let whole = WallClock { nanos: 0, ..w };
            prop_assert_eq!(p(&us).ok().and_then(|t| t.wall_clock(DateOrder::Mdy)), Some(whole));
            let de = format!("{d:02}.{mo:02}.{y} {:02}:{mi:02}:{s:02}", w.hour);
            prop_assert_eq!(p(&de).ok().and_then(|t| t.wall_clock(DateOrder::Dmy)), Some(whole));
            let iso = format!("{y}-{mo:02}-{d:02}T{:02}:{mi:02}:{s:02}.{:09}", w.hour, w.nanos);
            prop_assert_eq!(p(&iso), Ok(ParsedTime::Local(w)));
            prop_assert_eq!(Zone::Fixed(0).to_utc(w).map(|(t, _)| ParsedTime::Utc(t)), p(&(iso + "Z")));
        }

        #[test]
        fn timestamp_round_trip(n in ts_range()) {
            let iso = Timestamp(n).to_iso();
            prop_assert_eq!(p(&iso), Ok(ParsedTime::Utc(Timestamp(n))));
            let chrono_iso = DateTime::from_timestamp_nanos(n)
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true);
            prop_assert_eq!(iso, chrono_iso);
        }
    }
}
