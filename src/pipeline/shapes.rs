//! Cross-shape de-duplication (issue 15): one event exported in two different column
//! sets — the seed script's 15-column report, a raw `Export-Csv` with or without
//! `Identity`, a narrower export, a JSON dump — is written once.
//!
//! The exact key ([`super::dedup`]) cannot see it: a row's key hashes every column it
//! holds, so two exports of different columns never share one. The rule instead
//! compares rows pairwise: two legacy rows of *different* column sets are the same event
//! when they have the same instant and every column both hold agrees. Columns go by
//! canonical (trimmed, case-insensitive) name, leaving out the session metadata that
//! differs between exports of one event ([`IGNORED`], and what the key leaves out); the
//! script's derived columns count as columns — `Subject` (held by a raw row that holds
//! `SourceItemSubjectsList` or `ItemSubject`), `CrossMailboxOp` (held by one that holds
//! `CrossMailboxOperation`) — with the values the report would write, and `LogonType`
//! compares by name. The row with more columns is kept (tie: the earlier in input order),
//! the other counted as a duplicate of its file.
//!
//! While the inputs are read, each kept legacy row of a run of two or more inputs — unless
//! [`one_header`] shows they are CSV files of one header, which hold one shape — gets a
//! [`Signatures`] entry: its column set (a shape, numbered per collector), its instant,
//! and one 64-bit hash per column it holds. After the exact marking, [`mark`] sorts the
//! rows left by (instant, Operation), in parallel as [`super::dedup::mark`] does, and
//! compares the rows of different shapes within each group. The rows themselves may be
//! on disk: only their signatures, in memory, are read.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use xxhash_rust::xxh3::xxh3_64;

use crate::datetime::Timestamp;
use crate::input::detect::{detect, Detected};
use crate::input::visit::{OnDemand, KEY_IGNORED};
use crate::input::Origin;
use crate::record::{logon_type_name, AuditRecord, Field};

/// Columns (lower case) that differ between exports of one event besides those the
/// exact key leaves out ([`KEY_IGNORED`]): the object's validity and state as PowerShell
/// serialised it.
pub(super) const IGNORED: &[&[u8]] = &[b"isvalid", b"objectstate"];

/// The shape of a row that has none (a Unified Audit Log record): never compared.
const NONE: u32 = u32::MAX;

/// The derived subject's name, and the name of its first comma-separated part (the
/// seed script reports the first source item's subject, which a joined
/// `SourceItemSubjectsList` cannot always give back): sorted right after it.
const SUBJECT: &[u8] = b"subject";
const SUBJECT_FIRST: &[u8] = b"subject\0first";
const CROSS: &[u8] = b"crossmailboxop";

/// A shape: the canonical names of the columns a row holds, sorted.
type Names = Vec<Box<[u8]>>;

/// The memory the run's signatures may take. They stay in memory (they are not spilled
/// with the rows), so past this budget every collector drops its own and the cross-shape
/// rule is skipped, with a warning: memory stays bounded, and exact duplicates are still
/// removed.
#[derive(Debug)]
pub(crate) struct Budget {
    limit: usize,
    used: AtomicUsize,
    over: AtomicBool,
}

/// The least a run's signatures may take, whatever `--memory-limit` says.
const MIN_BUDGET: usize = 1 << 20;

impl Budget {
    /// Half of `memory_limit`, at least [`MIN_BUDGET`].
    pub fn new(memory_limit: u64) -> Budget {
        let half = usize::try_from(memory_limit / 2).unwrap_or(usize::MAX);
        Budget {
            limit: half.max(MIN_BUDGET),
            used: AtomicUsize::new(0),
            over: AtomicBool::new(false),
        }
    }

    /// Counts `bytes` more; false once the budget is exceeded (by any collector).
    pub fn take(&self, bytes: usize) -> bool {
        if self.over.load(Ordering::Relaxed) {
            return false;
        }
        let used = self
            .used
            .fetch_add(bytes, Ordering::Relaxed)
            .saturating_add(bytes);
        if used > self.limit {
            self.over.store(true, Ordering::Relaxed);
            return false;
        }
        true
    }

    /// Whether the signatures outgrew the budget: the cross-shape rule is skipped.
    pub fn over(&self) -> bool {
        self.over.load(Ordering::Relaxed)
    }

    pub fn limit(&self) -> usize {
        self.limit
    }
}

/// The signatures of one collector's (then one file's) rows, by position.
#[derive(Default)]
pub(crate) struct Signatures {
    /// The shapes met, numbered in order of appearance.
    shapes: Vec<Names>,
    /// Each row's shape ([`NONE`]: not compared).
    shape: Vec<u32>,
    /// Each row's instant (a waiting row's once its time is known).
    times: Vec<i64>,
    /// One hash per column of its shape, for each row with a shape, in row order.
    hashes: Vec<u64>,
    /// How the last rows' names map to their shape.
    plan: Option<Plan>,
    names: Vec<u8>,
    values: Vec<u64>,
}

/// How a row's columns, as given, make its shape's hashes.
struct Plan {
    /// The names as given, each ended by a NUL.
    names: Vec<u8>,
    shape: u32,
    /// For each column given, its place among the shape's (`u32::MAX`: left out).
    slots: Vec<u32>,
    /// The shape's column count.
    len: usize,
    /// The places of the derived subject (its first part follows) and CrossMailboxOp.
    subject: Option<usize>,
    cross: Option<usize>,
}

impl Signatures {
    /// The memory the rows' signatures take (shape, instant and hashes).
    pub fn bytes(&self) -> usize {
        self.shape.len() * 4 + self.times.len() * 8 + self.hashes.len() * 8
    }

    /// Signs the next row: `rec` (the whole record) read with `key`, at `time`.
    ///
    /// The rows of a file give the same names in the same order: the way they map to
    /// their shape ([`Plan`]) is worked out once, and each row costs a hash per value.
    pub fn push(&mut self, rec: &AuditRecord<'_>, key: &dyn OnDemand, time: Timestamp) {
        self.times.push(time.0);
        let mut names = std::mem::take(&mut self.names);
        let mut values = std::mem::take(&mut self.values);
        names.clear();
        values.clear();
        let has = key.columns(&mut |name, value| {
            names.extend_from_slice(name);
            names.push(0);
            let value = value.trim_ascii();
            let name = name.trim_ascii();
            let logon = |n: &[u8]| name.eq_ignore_ascii_case(n);
            values.push(if logon(b"logontype") || logon(b"internallogontype") {
                xxh3_64(&logon_type_name(value).to_ascii_lowercase())
            } else {
                xxh3_64(value)
            });
        });
        if !has {
            self.shape.push(NONE);
        } else {
            if self.plan.as_ref().is_none_or(|p| p.names != names) {
                let plan = self.plan_for(&names);
                self.plan = Some(plan);
            }
            if let Some(plan) = &self.plan {
                self.shape.push(plan.shape);
                let base = self.hashes.len();
                self.hashes.resize(base + plan.len, 0);
                let row = &mut self.hashes[base..];
                for (&slot, &h) in plan.slots.iter().zip(&values) {
                    if let Some(cell) = row.get_mut(slot as usize) {
                        *cell = h;
                    }
                }
                if let Some(at) = plan.subject {
                    let text = rec.subject().unescaped();
                    let full = text.trim_ascii();
                    let first = full.split(|&b| b == b',').next().unwrap_or_default();
                    row[at] = xxh3_64(full);
                    row[at + 1] = xxh3_64(first.trim_ascii());
                }
                if let Some(at) = plan.cross {
                    row[at] = xxh3_64(cross_mailbox_op(rec).trim_ascii());
                }
            }
        }
        (self.names, self.values) = (names, values);
    }

    /// How a row giving `given` (names, each ended by a NUL) maps to its shape.
    fn plan_for(&mut self, given: &[u8]) -> Plan {
        let mut canonical: Vec<(Box<[u8]>, u32)> = Vec::new();
        let (mut subject, mut cross) = (false, false);
        let names = given.split(|&b| b == 0);
        let count = given.iter().filter(|&&b| b == 0).count();
        for (i, name) in names.take(count).enumerate() {
            let n = name.trim_ascii().to_ascii_lowercase();
            subject |= matches!(
                &n[..],
                b"subject" | b"sourceitemsubjectslist" | b"itemsubject"
            );
            cross |= matches!(&n[..], b"crossmailboxop" | b"crossmailboxoperation");
            let derived = n == b"subject" || n == b"crossmailboxop";
            if !derived && !KEY_IGNORED.contains(&&n[..]) && !IGNORED.contains(&&n[..]) {
                canonical.push((n.into(), i as u32));
            }
        }
        if subject {
            canonical.push((SUBJECT.into(), u32::MAX));
            canonical.push((SUBJECT_FIRST.into(), u32::MAX));
        }
        if cross {
            canonical.push((CROSS.into(), u32::MAX));
        }
        // Stable: a repeated name keeps its first value, as the first column does.
        canonical.sort_by(|a, b| a.0.cmp(&b.0));
        canonical.dedup_by(|b, a| a.0 == b.0);
        let mut slots = vec![u32::MAX; count];
        for (slot, (_, i)) in canonical.iter().enumerate() {
            if let Some(s) = slots.get_mut(*i as usize) {
                *s = slot as u32;
            }
        }
        let at = |name: &[u8]| canonical.iter().position(|(n, _)| **n == *name);
        let (subject, cross) = (at(SUBJECT), at(CROSS));
        let len = canonical.len();
        let shape = self.intern(canonical.into_iter().map(|(n, _)| n).collect());
        Plan {
            names: given.to_vec(),
            shape,
            slots,
            len,
            subject,
            cross,
        }
    }

    /// Row `ordinal` takes its final time.
    pub fn set_time(&mut self, ordinal: u64, time: Timestamp) {
        if let Some(t) = usize::try_from(ordinal)
            .ok()
            .and_then(|o| self.times.get_mut(o))
        {
            *t = time.0;
        }
    }

    /// Appends `later`'s rows, which follow these in the input.
    pub fn absorb(&mut self, later: Signatures) {
        let ids: Vec<u32> = later.shapes.into_iter().map(|s| self.intern(s)).collect();
        self.shape.extend(
            later
                .shape
                .iter()
                .map(|&s| ids.get(s as usize).copied().unwrap_or(NONE)),
        );
        self.times.extend(later.times);
        self.hashes.extend(later.hashes);
    }

    fn intern(&mut self, names: Names) -> u32 {
        match self.shapes.iter().position(|s| *s == names) {
            Some(i) => i as u32,
            None => {
                self.shapes.push(names);
                (self.shapes.len() - 1) as u32
            }
        }
    }
}

/// The seed script's `CrossMailboxOp`: a report's own column, else `N/A` for SendAs,
/// Create and Update, else `CrossMailboxOperation` (as `Fields::cross_mailbox_op`).
fn cross_mailbox_op<'a>(rec: &AuditRecord<'a>) -> Cow<'a, [u8]> {
    let own = rec.get(Field::CrossMailboxOp).unescaped();
    if !own.trim_ascii().is_empty() {
        return own;
    }
    let op = rec.get(Field::Operation).unescaped();
    let op = op.trim_ascii();
    if [&b"SendAs"[..], b"Create", b"Update"]
        .iter()
        .any(|n| n.eq_ignore_ascii_case(op))
    {
        Cow::Borrowed(b"N/A")
    } else {
        rec.get(Field::CrossMailboxOperation).unescaped()
    }
}

/// A shape of the run: its names, the column of Operation, and how many columns it
/// holds (the derived subject's first part not counted).
struct Global {
    names: Names,
    operation: Option<usize>,
    held: usize,
}

/// A row left after the exact marking, with a shape.
#[derive(Clone, Copy)]
struct Entry {
    time: i64,
    operation: u64,
    /// The row's number among all files' (input order).
    number: u32,
    shape: u32,
    /// Index into `files`, the row's position in its file, its first hash.
    file: u32,
    ordinal: u64,
    first: usize,
}

/// One file's kept rows as [`mark`] reads them.
pub(super) struct FileRows<'f> {
    pub rows: u64,
    /// Positions of rows already excluded, ascending.
    pub excluded: &'f [u64],
    pub signatures: Option<&'f Signatures>,
}

/// Finds every row that is the same event as a row of another shape with more columns
/// (or as many, earlier in input order); returns their positions in each of `files`
/// (unsorted). Files without signatures are left alone; rows already excluded are not
/// compared. The rows of all files number fewer than 2^32 (`dedup::fits`).
pub(super) fn mark(files: &[FileRows<'_>]) -> Vec<Vec<u64>> {
    let mut globals: Vec<Global> = Vec::new();
    let mut entries = Vec::new();
    let mut number = 0u64;
    for (f, k) in files.iter().enumerate() {
        let start = number;
        number += k.rows;
        let Some(sigs) = k.signatures else { continue };
        let ids: Vec<u32> = sigs
            .shapes
            .iter()
            .map(|names| global_id(&mut globals, names))
            .collect();
        let mut excluded = k.excluded.iter().copied().peekable();
        let mut first = 0;
        for (o, (&local, &time)) in sigs.shape.iter().zip(&sigs.times).enumerate() {
            let Some(&shape) = ids.get(local as usize) else {
                continue; // NONE
            };
            let g = &globals[shape as usize];
            let o = o as u64;
            while excluded.next_if(|&x| x < o).is_some() {}
            if excluded.next_if_eq(&o).is_none() {
                let operation = g
                    .operation
                    .and_then(|c| sigs.hashes.get(first + c))
                    .copied()
                    .unwrap_or(0);
                entries.push(Entry {
                    time,
                    operation,
                    number: (start + o) as u32,
                    shape,
                    file: f as u32,
                    ordinal: o,
                    first,
                });
            }
            first += g.names.len();
        }
    }
    let mut excluded = vec![Vec::new(); files.len()];
    if globals.len() < 2 {
        return excluded;
    }
    entries.par_sort_unstable_by_key(|e| (e.time, e.operation, e.number));
    let mut pairs: HashMap<(u32, u32), Vec<Pair>> = HashMap::new();
    let mut losers = Vec::new();
    let mut survivors: Vec<Entry> = Vec::new();
    let hashes = |e: &Entry| -> &[u64] {
        files[e.file as usize]
            .signatures
            .and_then(|s| s.hashes.get(e.first..))
            .unwrap_or_default()
    };
    for group in entries.chunk_by(|a, b| (a.time, a.operation) == (b.time, b.operation)) {
        if group.iter().all(|e| e.shape == group[0].shape) {
            continue;
        }
        survivors.clear();
        for &e in group {
            let matched = survivors.iter().position(|s| {
                s.shape != e.shape && {
                    let pairs = pairs
                        .entry((s.shape, e.shape))
                        .or_insert_with(|| intersection(&globals, s.shape, e.shape));
                    agree(pairs, hashes(s), hashes(&e))
                }
            });
            let Some(at) = matched else {
                survivors.push(e);
                continue;
            };
            let s = survivors[at];
            if globals[e.shape as usize].held > globals[s.shape as usize].held {
                losers.push(s);
                survivors[at] = e;
            } else {
                losers.push(e);
            }
        }
    }
    for l in losers {
        excluded[l.file as usize].push(l.ordinal);
    }
    excluded
}

fn global_id(globals: &mut Vec<Global>, names: &Names) -> u32 {
    if let Some(i) = globals.iter().position(|g| g.names == *names) {
        return i as u32;
    }
    globals.push(Global {
        names: names.clone(),
        operation: names.iter().position(|n| **n == *b"operation"),
        held: names.iter().filter(|n| ***n != *SUBJECT_FIRST).count(),
    });
    (globals.len() - 1) as u32
}

/// A column both shapes hold: its index in each; for the subject, both hashes of each
/// side are compared (see [`agree`]).
#[derive(Clone, Copy)]
struct Pair {
    a: usize,
    b: usize,
    subject: bool,
}

/// The columns shapes `a` and `b` both hold.
fn intersection(globals: &[Global], a: u32, b: u32) -> Vec<Pair> {
    let (a, b) = (&globals[a as usize].names, &globals[b as usize].names);
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                if *a[i] != *SUBJECT_FIRST {
                    out.push(Pair {
                        a: i,
                        b: j,
                        subject: *a[i] == *SUBJECT,
                    });
                }
                i += 1;
                j += 1;
            }
        }
    }
    out
}

/// Whether every column of `pairs` agrees between rows of hashes `a` and `b`. Subjects
/// agree when equal, or when one is the other's first comma-separated part (a script
/// report's first source item against a raw export's joined list).
fn agree(pairs: &[Pair], a: &[u64], b: &[u64]) -> bool {
    let at = |h: &[u64], i: usize| h.get(i).copied();
    pairs.iter().all(|p| {
        if p.subject {
            let (fa, fb) = (at(a, p.a), at(b, p.b));
            let (ra, rb) = (at(a, p.a + 1), at(b, p.b + 1));
            fa == fb || fa == rb || ra == fb
        } else {
            at(a, p.a) == at(b, p.b)
        }
    })
}

/// How much of a file [`one_header`] reads to find its header line.
const HEADER_PEEK: usize = 64 * 1024;

/// Whether `origins` are all regular CSV files with the same header line, byte for byte
/// (after a UTF-8 byte-order mark and an `Export-Csv` `#TYPE` line): their rows then
/// have one shape, and the cross-shape rule, which compares rows of different shapes
/// only, can find nothing — so rows are not signed (a multi-file archive of one export,
/// split by day, pays neither the signatures' memory nor the comparison). Anything else
/// (standard input, a pipe, JSON, UTF-16, a file that cannot be read here) answers
/// `false`, and rows are signed as before. The same answer lets Unified Audit Log
/// records be keyed by their AuditData's text ([`crate::input::visit::UalKeys::Text`]).
pub(super) fn one_header(origins: &[Origin]) -> bool {
    let mut first: Option<Vec<u8>> = None;
    for origin in origins {
        let Some(header) = origin.path().and_then(header_line) else {
            return false;
        };
        match &first {
            None => first = Some(header),
            Some(h) if *h == header => {}
            Some(_) => return false,
        }
    }
    true
}

/// The header line of the CSV file at `path`, without its line break: the line
/// [`detect`] finds the header on (after blank lines and an `Export-Csv` `#TYPE` line),
/// once a UTF-8 byte-order mark is skipped; `None` for anything [`detect`] does not call
/// delimited text (JSON, binary or UTF-16 bytes, an empty file) or a header that does not
/// end within the bytes read.
fn header_line(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::io::Read;
    // Looked at before it is opened: opening a named pipe waits for its writer, and
    // reading it here would take the bytes the run must read.
    if !std::fs::metadata(path).ok()?.is_file() {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut head = Vec::with_capacity(HEADER_PEEK);
    file.take(HEADER_PEEK as u64).read_to_end(&mut head).ok()?;
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&head);
    let Detected::Csv { header_start, .. } = detect(text) else {
        return None;
    };
    let rest = text.get(header_start..)?;
    let line = &rest[..memchr::memchr(b'\n', rest)?];
    Some(line.strip_suffix(b"\r").unwrap_or(line).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::visit::EventKey;
    use crate::record::{Escape, RawField};

    #[test]
    fn header_lines_are_found_after_a_bom_and_a_type_line() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &[u8]| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            Origin::Named(p)
        };
        let plain = write("a.csv", b"Operation,LastAccessed\nUpdate,2017-04-01\n");
        let typed = write(
            "b.csv",
            b"\xEF\xBB\xBF#TYPE Deserialized.X\r\nOperation,LastAccessed\r\nUpdate,x\r\n",
        );
        let other = write("c.csv", b"Operation,LastAccessed,ItemSubject\nUpdate,x,y\n");
        let json = write("d.json", b"[{\"Operation\":\"Update\"},\n{}]\n");
        assert!(one_header(&[plain.clone(), typed.clone()]));
        assert!(!one_header(&[plain.clone(), other]));
        assert!(!one_header(&[json.clone(), json]));
        assert!(!one_header(&[plain, Origin::Stdin]));
    }

    struct Cols(Vec<(&'static str, &'static str)>);

    impl OnDemand for Cols {
        fn event_key(&self) -> EventKey {
            EventKey::Whole(0)
        }
        fn columns(&self, each: &mut dyn FnMut(&[u8], &[u8])) -> bool {
            for (n, v) in &self.0 {
                each(n.as_bytes(), v.as_bytes());
            }
            true
        }
    }

    fn record(cols: &Cols) -> AuditRecord<'static> {
        let mut rec = AuditRecord::default();
        for &(n, v) in &cols.0 {
            if let Some(f) = Field::from_header(n.as_bytes()) {
                rec.set(f, RawField::new(v.as_bytes(), Escape::None));
            }
        }
        rec
    }

    fn file(rows: &[(&Cols, i64)]) -> Signatures {
        let mut sigs = Signatures::default();
        for (cols, t) in rows {
            sigs.push(&record(cols), *cols, Timestamp(*t));
        }
        sigs
    }

    /// What [`mark`] finds in `files`, none of whose rows is excluded yet.
    fn marked(files: &[Signatures]) -> Vec<Vec<u64>> {
        let rows: Vec<FileRows<'_>> = files
            .iter()
            .map(|s| FileRows {
                rows: s.shape.len() as u64,
                excluded: &[],
                signatures: Some(s),
            })
            .collect();
        mark(&rows)
    }

    fn report(subject: &'static str, logon: &'static str) -> Cols {
        Cols(vec![
            ("Subject", subject),
            ("Operation", "SoftDelete"),
            ("LogonType", logon),
            ("CrossMailboxOp", "False"),
        ])
    }

    fn raw(list: &'static str, logon: &'static str, item: &'static str) -> Cols {
        Cols(vec![
            ("Operation", "SoftDelete"),
            ("LogonType", logon),
            ("CrossMailboxOperation", "False"),
            ("SourceItemSubjectsList", list),
            ("ItemId", item),
            ("RunspaceId", "a-session"),
        ])
    }

    #[test]
    fn a_report_row_meets_the_raw_row_it_came_from() {
        let r = report("Good News", "Delegate");
        let x = raw(" Good News, Invoice, March 2017", "2", "i1");
        let files = [file(&[(&r, 5), (&r, 6)]), file(&[(&x, 5)])];
        // The raw row holds more columns: it is kept; the report's other row is not its.
        assert_eq!(marked(&files), vec![vec![0], vec![]]);
    }

    #[test]
    fn a_column_both_hold_that_differs_keeps_both() {
        let a = raw("Good News", "Delegate", "i1");
        let mut b = raw("Good News", "Delegate", "i2");
        b.0.push(("Identity", "x"));
        let none: Vec<Vec<u64>> = vec![vec![], vec![]];
        assert_eq!(marked(&[file(&[(&a, 5)]), file(&[(&b, 5)])]), none);
        // The same column set is the exact key's business, not this rule's.
        assert_eq!(marked(&[file(&[(&a, 5)]), file(&[(&a, 5)])]), none);
    }

    #[test]
    fn subjects_and_logon_types_compare_as_the_report_writes_them() {
        let r = report("Good News, Invoice, March 2017", "Owner");
        let same = raw("  Good News, Invoice, March 2017", "0", "i1");
        let other = raw("Bad News", "Owner", "i1");
        let files = [file(&[(&r, 1), (&r, 2)]), file(&[(&same, 1), (&other, 2)])];
        assert_eq!(marked(&files), vec![vec![0], vec![]]);
    }
}
