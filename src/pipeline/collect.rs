//! The [`Collector`]: what one chunk of an input keeps. It parses each record's time,
//! applies the rules, counts every drop in the funnel, and copies out the rows it keeps;
//! [`absorb`] merges the collectors of an input in order.

use super::kept::{Kept, Sink, TimeCell};
use super::{record_type, FileContext, MailAccess};
use crate::datetime::{parse_time, DateOrder, ParsedTime, Timestamp, Zone};
use crate::diag::{excerpt, DiagList};
use crate::filter::{Rule, RULE_COUNT};
use crate::funnel::Counts;
use crate::input::ual;
use crate::input::visit::{KeptItems, OnDemand, QuickLook, UalKeys, Visitor};
use crate::record::{AuditRecord, Escape, Family, Field, FieldSet, RawField};

/// The first value proving an order, for the message if the file contradicts itself.
#[derive(Clone, Debug)]
pub(super) struct Proof {
    pub(super) line: u64,
    pub(super) text: String,
}

/// Records of a left-out family with the same workload and record type, as written.
struct Skipped {
    workload: OwnedField,
    record_type: OwnedField,
    records: u64,
}

/// A field's raw bytes and escaping, kept.
struct OwnedField {
    bytes: Vec<u8>,
    escape: Escape,
}

impl OwnedField {
    fn of(f: RawField<'_>) -> OwnedField {
        OwnedField {
            bytes: f.bytes.to_vec(),
            escape: f.escape,
        }
    }

    fn is(&self, f: RawField<'_>) -> bool {
        self.escape == f.escape && self.bytes == f.bytes
    }

    /// The value, unescaped and trimmed.
    fn text(&self) -> String {
        let value = RawField::new(&self.bytes, self.escape).unescaped();
        String::from_utf8_lossy(&value).trim().to_string()
    }
}

/// Collects one chunk's rows and counts.
pub(super) struct Collector<'c> {
    ctx: &'c FileContext<'c>,
    pub(super) counts: Counts,
    /// Rows dropped by a later rule whose date is in the window under one order only:
    /// `[rule][0]` in the window only as month-first, `[rule][1]` only as day-first.
    pub(super) undecided_drops: [[u64; 2]; RULE_COUNT],
    pub(super) kept: Kept<'c>,
    pub(super) proof: [Option<Proof>; 2],
    /// Culture dates that prove neither order.
    pub(super) unproven: u64,
    pub(super) malformed: DiagList,
    pub(super) warnings: DiagList,
    /// Kept MailItemsAccessed records.
    pub(super) mail_access: MailAccess,
    scratch: Vec<u8>,
    /// Records of left-out families, by raw workload and record type.
    skipped: Vec<Skipped>,
    /// What [`Visitor::prefilter`] reads (see [`Visitor::glance_fields`]).
    glance_fields: FieldSet,
    /// Whether quick looks drop enough records to be worth taking.
    glances: Glances,
    /// Whether enough records are kept to locate their kept fields with the decisive ones.
    locating: Locating,
    /// What [`Visitor::record`] reads before it keeps a record.
    record_fields: FieldSet,
    /// What it reads of a record it keeps.
    kept_fields: FieldSet,
    /// `--subject` matches an empty subject (then no glance can rule a record out by it).
    empty_subject_matches: bool,
    subject_scratch: (Vec<u8>, Vec<u8>),
}

impl<'c> Collector<'c> {
    pub(super) fn new(ctx: &'c FileContext<'c>) -> Self {
        Collector {
            ctx,
            counts: Counts::default(),
            undecided_drops: [[0; 2]; RULE_COUNT],
            kept: Kept::new(ctx.sink),
            proof: [None, None],
            unproven: 0,
            malformed: DiagList::default(),
            warnings: DiagList::default(),
            mail_access: MailAccess::default(),
            scratch: Vec::new(),
            skipped: Vec::new(),
            glances: Glances::default(),
            locating: Locating::default(),
            glance_fields: ctx
                .settings
                .filter
                .fields_before_subject(ctx.check_logon)
                .with_all(&[Field::LastAccessed, Field::RecordType, Field::Workload]),
            record_fields: {
                let filter = &ctx.settings.filter;
                let fields = filter.fields_before_subject(ctx.check_logon).with_all(&[
                    // the family, the throttling warning, the time
                    Field::RecordType,
                    Field::Workload,
                    Field::IsThrottled,
                    Field::MailboxOwnerUpn,
                    Field::LastAccessed,
                ]);
                match filter.subject {
                    // the subject rule (`AuditRecord::subject`)
                    Some(_) => fields.with_all(&[
                        Field::Subject,
                        Field::SourceItemSubjectsList,
                        Field::ItemSubject,
                    ]),
                    None => fields,
                }
            },
            kept_fields: {
                let fields = ctx
                    .sink
                    .fields()
                    .with_all(&[Field::Operation, Field::MailAccessType]);
                // The client address the enrichment looks up.
                match ctx.settings.enriches() {
                    true => fields.with_all(&[Field::ClientIpAddress, Field::ClientIp]),
                    false => fields,
                }
            },
            empty_subject_matches: ctx
                .settings
                .filter
                .subject
                .as_ref()
                .is_some_and(|s| s.is_match(b"")),
            subject_scratch: (Vec::new(), Vec::new()),
        }
    }

    fn wall_to_utc(
        &mut self,
        wall: crate::datetime::WallClock,
        zone: Zone,
        line: u64,
    ) -> Option<Timestamp> {
        match zone.to_utc(wall) {
            Ok((ts, fold)) => {
                if fold {
                    self.warnings.push(line, || {
                        format!("local time occurs twice in {zone} (DST change); read as the earlier instant")
                    });
                }
                Some(ts)
            }
            Err(_) => None,
        }
    }

    /// Counts a record already counted as read as malformed, and keeps its reason.
    fn count_malformed(&mut self, line: u64, reason: String) {
        self.counts.malformed += 1;
        self.malformed.push(line, || reason);
    }

    /// Counts a record of a family `--record-types` leaves out, by workload. Counted by
    /// the raw workload and record type (no allocation but for a new pair); named when the
    /// chunk's counts are merged ([`Collector::name_skipped`]).
    fn skip_family(&mut self, rec: &AuditRecord<'_>) {
        self.counts.dropped[Rule::RecordType as usize] += 1;
        let (workload, record_type) = (rec.get(Field::Workload), rec.get(Field::RecordType));
        let seen = self
            .skipped
            .iter_mut()
            .find(|s| s.workload.is(workload) && s.record_type.is(record_type));
        match seen {
            Some(s) => s.records += 1,
            None => self.skipped.push(Skipped {
                workload: OwnedField::of(workload),
                record_type: OwnedField::of(record_type),
                records: 1,
            }),
        }
    }

    /// Adds the skipped records counted by [`Collector::skip_family`] to the counts, by
    /// name: a record type by its name ([`record_type::label`]), one way whatever its
    /// workload and whether it was written as a number or a name (so Exchange's own
    /// skipped records, admin cmdlets..., do not read as if mailbox records were
    /// skipped); a record with no record type by its workload.
    pub(super) fn name_skipped(&mut self) {
        for skipped in self.skipped.drain(..) {
            let n = skipped.records;
            let (workload, record_type) = (skipped.workload.text(), skipped.record_type.text());
            let name =
                record_type::label(&record_type).unwrap_or_else(|| match workload.as_str() {
                    "" => "unknown".to_string(),
                    w => w.to_string(),
                });
            *self.counts.skipped_workloads.entry(name).or_default() += n;
        }
    }

    /// Reads the LastAccessed field; `Err` is the reason the row is malformed.
    fn time_of(&mut self, field: RawField<'_>, zone: Zone, line: u64) -> Result<TimeCell, String> {
        let raw = field.bytes;
        // Messages show the value as the user wrote it (a CSV cell's `""` undone).
        let shown = || excerpt(&field.unescaped());
        let parsed = parse_time(raw).map_err(|e| format!("LastAccessed '{}': {e}", shown()))?;
        match parsed {
            ParsedTime::Utc(ts) => Ok(TimeCell::Known(ts)),
            ParsedTime::Local(wall) => self
                .wall_to_utc(wall, zone, line)
                .map(TimeCell::Known)
                .ok_or_else(|| dst_gap(&shown(), zone)),
            ParsedTime::Culture { .. } => {
                match parsed.evidence() {
                    Some(order) => {
                        self.ctx.saw(order);
                        let slot = &mut self.proof[order as usize];
                        if slot.is_none() {
                            *slot = Some(Proof {
                                line,
                                text: shown(),
                            });
                        }
                    }
                    None => self.unproven += 1,
                }
                let read = |this: &mut Self, order: DateOrder| {
                    parsed
                        .wall_clock(order)
                        .and_then(|w| this.wall_to_utc(w, zone, line))
                };
                if let Some(order) = self.ctx.settings.date_order {
                    return read(self, order).map(TimeCell::Known).ok_or_else(|| {
                        if parsed.wall_clock(order).is_some() {
                            return dst_gap(&shown(), zone);
                        }
                        format!(
                            "LastAccessed '{}': not a valid date when read as {} (--date-order)",
                            shown(),
                            order.label()
                        )
                    });
                }
                match (read(self, DateOrder::Mdy), read(self, DateOrder::Dmy)) {
                    (Some(mdy), Some(dmy)) if mdy != dmy => Ok(TimeCell::Undecided { mdy, dmy }),
                    (Some(t), _) | (None, Some(t)) => Ok(TimeCell::Known(t)),
                    // A date in either order, but a wall-clock time the zone skips.
                    (None, None)
                        if parsed.wall_clock(DateOrder::Mdy).is_some()
                            || parsed.wall_clock(DateOrder::Dmy).is_some() =>
                    {
                        Err(dst_gap(&shown(), zone))
                    }
                    (None, None) => Err(format!(
                        "LastAccessed '{}': not a valid date as month/day or day/month",
                        shown()
                    )),
                }
            }
        }
    }

    /// Whether the quick look at a record is enough to drop it (and counts it dropped):
    /// [`Visitor::prefilter`].
    fn drops(&mut self, glance: &dyn QuickLook) -> bool {
        let rec = glance.record();
        let filter = &self.ctx.settings.filter;
        let family = Family::of(rec.get(Field::RecordType).bytes);
        let rendered = ual::rendered_subject(family, rec.get(Field::Operation));
        if !self.ctx.settings.prefilter || rendered.is_some() {
            return false; // its subject is not read from Subject members
        }
        if crate::record::fractional_code_warning(rec).is_some() {
            return false; // the full path warns about it
        }
        if !filter.record_types.keeps(family) {
            if !glance.droppable() {
                return false;
            }
            self.counts.read += 1;
            self.skip_family(rec);
            return true;
        }
        let time = match parse_time(rec.get(Field::LastAccessed).bytes) {
            Ok(ParsedTime::Utc(t)) => t,
            Ok(ParsedTime::Local(wall)) => match Zone::Fixed(0).to_utc(wall) {
                Ok((t, _)) => t,
                Err(_) => return false,
            },
            _ => return false, // culture dates and errors: the full path reports them
        };
        let check_logon = self.ctx.check_logon && family == Family::Mailbox;
        let rule = if !filter.window.contains(time) {
            Rule::DateWindow
        } else if let Some(rule) =
            filter.first_failing_before_subject(rec, check_logon, &mut self.scratch)
        {
            rule
        } else if let Some(subject) = filter
            .subject
            .as_ref()
            .filter(|_| !self.empty_subject_matches)
        {
            // The full path matches each item's subject, and the lead one with its
            // leading spaces trimmed (see `AuditRecord::subject`).
            let trimmed = |s: &[u8]| {
                let n = s.iter().take_while(|&&b| b == b' ').count();
                subject.is_match(&s[n..])
            };
            let (a, b) = &mut self.subject_scratch;
            match glance.any_subject(a, b, &mut |s| subject.is_match(s) || trimmed(s)) {
                Some(false) => Rule::Subject,
                _ => return false,
            }
        } else {
            return false;
        };
        if !glance.droppable() {
            return false;
        }
        self.counts.read += 1;
        self.counts.dropped[rule as usize] += 1;
        true
    }
}

/// Whether quick looks at raw records are worth taking, judged window by window (a
/// chunk's collector sees ~2,000 UAL rows, so in practice: its first rows judge the rest).
/// A look costs a part of what reading the record whole does (~12% of a UAL summary's
/// time went to looks), and saves that reading only for a record it drops: for a job that
/// keeps nearly every record (a summary of a mailbox-only export, the full dump) the looks
/// cost more than they save (a UAL summary without them: -2.4%, the dump -2.7%). So the
/// first [`Glances::JUDGED`] records of every [`Glances::WINDOW`] are looked at, and the
/// rest of the window only when at least a quarter of those were dropped. The looks decide
/// nothing the full reading would not (the quick look only drops what the rules drop), so
/// the answer changes the work, never the outcome.
#[derive(Default)]
struct Glances {
    /// Records asked about so far.
    asked: u64,
    /// Records the looks dropped in this window's judged part.
    dropped: u32,
    /// The rest of this window is not looked at.
    off: bool,
    /// The look asked for last is taken for its hint (a family dropped), whatever the
    /// window says: its outcome does not judge the window.
    hinted: bool,
}

impl Glances {
    const WINDOW: u64 = 4096;
    const JUDGED: u64 = 256;

    /// Whether to look at the next record; `hinted`: its reader names a family the
    /// visitor drops (always looked at).
    fn wanted(&mut self, hinted: bool) -> bool {
        let at = self.asked % Self::WINDOW;
        self.asked += 1;
        if at == 0 {
            (self.dropped, self.off) = (0, false);
        } else if at == Self::JUDGED {
            self.off = u64::from(self.dropped) * 4 < Self::JUDGED;
        }
        self.hinted = hinted;
        hinted || !self.off
    }

    /// A look was taken: whether it dropped its record. Looks taken for their hint are
    /// not counted: they are taken whatever the window's looks are worth.
    fn counted(&mut self, dropped: bool) {
        if !self.hinted {
            self.dropped += u32::from(dropped);
        }
    }
}

/// When a reader locates the fields of a kept record along with the decisive ones
/// ([`Visitor::locates_all`]): for the next [`Locating::EVERY`] records, when at least a
/// quarter of the last ones were kept. Locating a kept field costs a little on every
/// record; reading a kept record whole again costs more, but only on the records kept. A
/// dump keeps nearly every record, a subject search (the seed job) ~1%.
struct Locating {
    /// Records asked about so far.
    asked: u64,
    /// Records kept when the current stretch started.
    kept_before: u64,
    all: bool,
}

impl Default for Locating {
    fn default() -> Self {
        // Until the first records tell, as a visitor that keeps everything.
        Locating {
            asked: 0,
            kept_before: 0,
            all: true,
        }
    }
}

impl Locating {
    const EVERY: u64 = 64;

    /// Whether to locate every field of the next record, `kept` records being kept so far.
    fn all(&mut self, kept: u64) -> bool {
        if self.asked > 0 && self.asked.is_multiple_of(Self::EVERY) {
            self.all = (kept - self.kept_before) * 4 >= Self::EVERY;
            self.kept_before = kept;
        }
        self.asked += 1;
        self.all
    }
}

/// The message of a time that a time zone skips.
fn dst_gap(shown: &str, zone: Zone) -> String {
    format!(
        "LastAccessed '{shown}': does not exist in {zone} (the clocks skip that hour when \
         daylight saving time starts); check --tz"
    )
}

impl Visitor for Collector<'_> {
    fn record(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, line: u64) {
        self.counts.read += 1;
        if let Some(warning) = crate::record::fractional_code_warning(rec) {
            self.warnings.push(line, || warning);
        }
        let settings = self.ctx.settings;
        let family = Family::of(rec.get(Field::RecordType).bytes);
        if !settings.filter.record_types.keeps(family) {
            self.skip_family(rec);
            return;
        }
        if rec.get(Field::IsThrottled).eq_ignore_ascii_case(b"True") {
            let mailbox = excerpt(&rec.get(Field::MailboxOwnerUpn).unescaped());
            let at = excerpt(rec.get(Field::LastAccessed).bytes);
            self.warnings.push(line, || {
                format!(
                    "MailItemsAccessed logging was throttled for mailbox {mailbox} at {at} \
                     (IsThrottled): Exchange stops recording after 1,000 events in 24 hours, so \
                     the absence of later records proves nothing"
                )
            });
        }
        let zone = if rec.time_is_utc {
            Zone::Fixed(0)
        } else {
            settings.zone
        };
        let time = match self.time_of(rec.get(Field::LastAccessed), zone, line) {
            Ok(t) => t,
            Err(why) => {
                self.count_malformed(line, why); // already counted as read above
                return;
            }
        };
        let filter = &settings.filter;
        let window = filter.window;
        // None: in the window under one order only.
        let in_window = match time {
            TimeCell::Known(t) => Some(window.contains(t)),
            TimeCell::Undecided { mdy, dmy } => {
                let (a, b) = (window.contains(mdy), window.contains(dmy));
                (a == b).then_some(a)
            }
        };
        if in_window == Some(false) {
            self.counts.dropped[Rule::DateWindow as usize] += 1;
            return;
        }
        let check_logon = self.ctx.check_logon && family == Family::Mailbox;
        if let Some(rule) = filter.first_failing(rec, check_logon, &mut self.scratch) {
            match (in_window, time) {
                (None, TimeCell::Undecided { mdy, .. }) => {
                    let only = usize::from(!window.contains(mdy));
                    self.undecided_drops[rule as usize][only] += 1;
                }
                _ => self.counts.dropped[rule as usize] += 1,
            }
            return;
        }
        // Kept: from here on the whole record is read — unless the reader located every
        // field kept (they are among `record_fields`) and vouches for its UTF-8.
        let checked = key.utf8_checked();
        let whole = if checked { None } else { key.full_record() };
        let rec = whole.as_ref().unwrap_or(rec);
        // Offline enrichment of the client address (`--geoip`, `--ip-list`): the values
        // live in `info` and `asn` while the record is copied out.
        let (info, asn, flag);
        let enriched;
        let rec = if settings.enriches() {
            let client = if rec.get(Field::ClientIpAddress).is_empty() {
                rec.get(Field::ClientIp)
            } else {
                rec.get(Field::ClientIpAddress)
            };
            let ip = std::str::from_utf8(&client.unescaped())
                .ok()
                .and_then(crate::ip::parse_client_ip);
            info = match (&settings.geoip, ip) {
                (Some(db), Some(ip)) => db.lookup_shared(ip),
                _ => std::sync::Arc::default(),
            };
            asn = info.asn.map(|n| n.to_string()).unwrap_or_default();
            flag = settings
                .ip_list
                .as_ref()
                .and_then(|list| list.flag(ip, info.asn))
                .unwrap_or_default();
            let mut r = rec.clone();
            for (field, value) in [
                (
                    Field::ClientIpCountry,
                    info.country.as_deref().unwrap_or_default(),
                ),
                (Field::ClientIpAsn, asn.as_str()),
                (
                    Field::ClientIpAsOrg,
                    info.as_org.as_deref().unwrap_or_default(),
                ),
                (Field::ClientIpFlag, flag),
            ] {
                // A value already in the export (a full report read back) is kept.
                if r.get(field).is_empty() {
                    r.set(field, RawField::new(value.as_bytes(), Escape::None));
                }
            }
            enriched = r;
            &enriched
        } else {
            rec
        };
        if rec
            .get(Field::Operation)
            .eq_ignore_ascii_case(b"MailItemsAccessed")
        {
            let access = rec.get(Field::MailAccessType);
            if access.eq_ignore_ascii_case(b"Bind") {
                self.mail_access.bind += 1;
            } else if access.eq_ignore_ascii_case(b"Sync") {
                self.mail_access.sync += 1;
            }
        }
        let tags = match &settings.tagger {
            Some(tagger) => {
                self.scratch.clear();
                if key.event_json(&mut self.scratch) {
                    tagger.tags(&self.scratch)
                } else {
                    Vec::new()
                }
            }
            None => Vec::new(),
        };
        if self.kept.push(rec, time, key, line, checked, &tags) {
            self.warnings.push(line, || {
                "invalid UTF-8 replaced with U+FFFD (row kept)".into()
            });
        }
    }

    fn malformed(&mut self, line: u64, reason: String) {
        self.counts.read += 1;
        self.count_malformed(line, reason);
    }

    fn warn(&mut self, line: u64, message: String) {
        self.warnings.push(line, || message);
    }

    fn glance_fields(&self) -> FieldSet {
        self.glance_fields
    }

    fn drops_family(&self, family: Family) -> bool {
        // `drops` reads nothing but the record type and workload of a non-mailbox record
        // whose family is left out (its operation only to find admin records, which it
        // never drops).
        !self.ctx.settings.filter.record_types.keeps(family)
    }

    fn chunk_done(&mut self) {
        let window = self.ctx.settings.filter.window;
        let outside = self.kept.chunk_done(self.ctx.known_order(), window);
        self.counts.dropped[Rule::DateWindow as usize] += outside;
    }

    fn shift_lines(&mut self, by: u64) {
        self.kept.shift_lines(by);
        for diag in self
            .malformed
            .first
            .iter_mut()
            .chain(&mut self.warnings.first)
        {
            diag.line += by;
        }
        for proof in self.proof.iter_mut().flatten() {
            proof.line += by;
        }
    }

    fn record_fields(&self) -> FieldSet {
        // The kept fields and the key's Identity too: a reader that locates fields
        // (CSV) then hands over every field a kept row needs at once.
        self.record_fields
            .union(self.kept_fields)
            .with(Field::Identity)
    }

    fn decision_fields(&self) -> FieldSet {
        self.record_fields.with(Field::Identity)
    }

    fn locates_all(&mut self) -> bool {
        self.locating.all(self.kept.rows())
    }

    fn kept_fields(&self) -> FieldSet {
        self.kept_fields
    }

    fn kept_items(&self) -> KeptItems {
        match self.ctx.sink {
            _ if !self.ctx.sink.with_items() => KeptItems::None,
            // Columns keep each row's count of messages, rows the messages themselves.
            Sink::Columns(_) => KeptItems::Count,
            Sink::Rows(_) => KeptItems::Every,
        }
    }

    fn matches_every_subject(&self) -> bool {
        self.ctx.settings.filter.subject.is_some()
    }

    fn ual_keys(&self) -> UalKeys {
        self.ctx.ual_keys
    }

    fn wants_glance(&mut self, hint: Option<Family>) -> bool {
        let hinted = hint.is_some_and(|family| self.drops_family(family));
        self.glances.wanted(hinted)
    }

    fn prefilter(&mut self, glance: &dyn QuickLook, _line: u64) -> bool {
        let dropped = self.drops(glance);
        self.glances.counted(dropped);
        dropped
    }
}

/// Adds to `into` the rows, counts and messages of `later`, a collector of the records
/// that follow its own in the same input.
pub(super) fn absorb<'c>(into: &mut Collector<'c>, mut later: Collector<'c>) {
    into.name_skipped();
    later.name_skipped();
    into.counts.add(&later.counts);
    for (a, b) in into.undecided_drops.iter_mut().zip(later.undecided_drops) {
        a[0] += b[0];
        a[1] += b[1];
    }
    for (slot, p) in into.proof.iter_mut().zip(later.proof) {
        if slot.is_none() {
            *slot = p;
        }
    }
    into.unproven += later.unproven;
    into.mail_access.add(later.mail_access);
    into.malformed.extend(later.malformed);
    into.warnings.extend(later.warnings);
    into.kept.absorb(later.kept);
}

#[cfg(test)]
mod glances_tests {
    use super::Glances;

    /// Asks about one window of records, of which those `drop` says are dropped when
    /// looked at; returns how many were looked at.
    fn window(g: &mut Glances, drop: impl Fn(u64) -> bool) -> u64 {
        hinted_window(g, |_| false, drop)
    }

    /// [`window`], the records `hinted` says hinted (their family dropped, and dropped).
    fn hinted_window(
        g: &mut Glances,
        hinted: impl Fn(u64) -> bool,
        drop: impl Fn(u64) -> bool,
    ) -> u64 {
        let mut looked = 0;
        for i in 0..Glances::WINDOW {
            if g.wanted(hinted(i)) {
                looked += 1;
                g.counted(hinted(i) || drop(i));
            }
        }
        looked
    }

    #[test]
    fn looks_go_on_while_they_drop_a_quarter() {
        let mut g = Glances::default();
        // A window that drops one record in ten: looked at for its judged part only;
        // the next, which drops one in three, whole.
        assert_eq!(window(&mut g, |i| i % 10 == 0), Glances::JUDGED);
        assert_eq!(window(&mut g, |i| i % 3 == 0), Glances::WINDOW);
    }

    #[test]
    fn hinted_records_are_looked_at_and_do_not_judge_the_window() {
        let mut g = Glances::default();
        // Half the records hinted (all dropped), one in ten of the others dropped: the
        // hinted ones are looked at all through the window, the others for its judged
        // part only, as if the hinted ones were not there.
        let hinted = |i: u64| i.is_multiple_of(2);
        let looked = hinted_window(&mut g, hinted, |i| i % 10 == 1);
        assert_eq!(looked, Glances::WINDOW / 2 + Glances::JUDGED / 2);
    }
}

#[cfg(test)]
mod locating_tests {
    use super::Locating;

    /// Asks about `n` records, of which those `keep` says are kept (counted on in `kept`);
    /// returns how many were read with every field located.
    fn stretch(l: &mut Locating, kept: &mut u64, n: u64, keep: impl Fn(u64) -> bool) -> u64 {
        let mut all = 0;
        for i in 0..n {
            all += u64::from(l.all(*kept));
            *kept += u64::from(keep(i));
        }
        all
    }

    #[test]
    fn every_field_is_located_while_a_quarter_is_kept() {
        let (mut l, mut kept) = (Locating::default(), 0);
        let every = Locating::EVERY;
        // Every record kept: every field located throughout.
        assert_eq!(stretch(&mut l, &mut kept, 4 * every, |_| true), 4 * every);
        // One in ten kept: after the stretch in which that shows, only the deciding ones.
        assert_eq!(
            stretch(&mut l, &mut kept, 4 * every, |i| i % 10 == 0),
            every
        );
        // One in three kept again: every field from the stretch after.
        assert_eq!(
            stretch(&mut l, &mut kept, 4 * every, |i| i % 3 == 0),
            3 * every
        );
    }
}
