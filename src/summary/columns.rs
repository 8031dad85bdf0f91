//! A summary counted from the kept columns ([`Table`]): value numbers, not strings, are
//! counted, in parallel over ranges of rows, and the partial counts merged; strings are
//! looked up once per distinct value at the end. The result is the [`Summary`] that
//! [`Summary::of_rows`] gives for the same rows.

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::{hour_key, Group, Summary, KEYS, NANOS_PER_HOUR};
use crate::datetime::Timestamp;
use crate::id_hash::{IdMap, IdSet};
use crate::pipeline::Table;

/// The distinct values of one column seen in a group: a bit per value number while the
/// column's values times the groups that can hold them stay few (one `or` a row, no
/// hash), else a hash set (a column of a million client addresses).
#[derive(Clone)]
enum Seen {
    Bits(Vec<u64>),
    Set(IdSet<u32>),
}

/// Bits the sets of one column may take in all the groups of a range of rows before
/// they turn to hash sets: 1 MiB, and never more than 64 bits a row of the range (so,
/// per column, at most twice the memory its value numbers take in the table, whatever
/// the threads and the input).
const SEEN_BITS: usize = 1 << 23;

impl Seen {
    /// An empty set for a column of `distinct` values, dense when `groups` such sets of
    /// it fit in `bits` ([`SEEN_BITS`]).
    fn new(distinct: usize, groups: usize, bits: usize) -> Seen {
        if distinct.saturating_mul(groups.max(1)) <= bits {
            Seen::Bits(vec![0; distinct.div_ceil(64)])
        } else {
            Seen::Set(IdSet::default())
        }
    }

    #[inline]
    fn insert(&mut self, id: u32) {
        match self {
            Seen::Bits(bits) => {
                if let Some(w) = bits.get_mut(id as usize / 64) {
                    *w |= 1 << (id % 64);
                }
            }
            Seen::Set(set) => {
                set.insert(id);
            }
        }
    }

    fn merge(&mut self, other: Seen) {
        match (self, other) {
            (Seen::Bits(mine), Seen::Bits(theirs)) => {
                for (a, b) in mine.iter_mut().zip(theirs) {
                    *a |= b;
                }
            }
            (mine, theirs) => {
                for id in theirs.ids() {
                    mine.insert(id);
                }
            }
        }
    }

    /// The value numbers in the set.
    fn ids(self) -> Vec<u32> {
        match self {
            Seen::Bits(bits) => bits
                .iter()
                .enumerate()
                .flat_map(|(w, &word)| {
                    (0..64u32)
                        .filter(move |b| word >> b & 1 == 1)
                        .map(move |b| 64 * w as u32 + b)
                })
                .collect(),
            Seen::Set(set) => set.into_iter().collect(),
        }
    }
}

/// One group (operation or logon type) as numbers.
#[derive(Clone)]
struct Tally {
    count: u64,
    first: Timestamp,
    last: Timestamp,
    users: Seen,
    mailboxes: Seen,
    ips: Seen,
}

impl Tally {
    fn new(t: Timestamp, shape: &Shape) -> Tally {
        Tally {
            count: 0,
            first: t,
            last: t,
            users: Seen::new(shape.distinct[0], shape.groups, shape.bits),
            mailboxes: Seen::new(shape.distinct[1], shape.groups, shape.bits),
            ips: Seen::new(shape.distinct[2], shape.groups, shape.bits),
        }
    }

    fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.users.merge(other.users);
        self.mailboxes.merge(other.mailboxes);
        self.ips.merge(other.ips);
    }
}

/// The sizes the counts are laid out by: the groups (operations and logon types) and
/// the distinct users, mailboxes and client addresses.
struct Shape {
    /// [`SEEN_BITS`].
    bits: usize,
    groups: usize,
    distinct: [usize; 3],
}

/// The counts of a range of rows.
struct Counts {
    /// Per value number of the operation and of the logon type column.
    ops: Vec<Option<Tally>>,
    logons: Vec<Option<Tally>>,
    /// Per value number of the user, mailbox, client IP and client app columns.
    tops: [Vec<u64>; 4],
    /// Per operation's value number, its rows' hours with a count each, in the order
    /// met: a row adds to its operation's last entry or starts the next, and an hour met
    /// twice is added up at the end. A summary's table is in input order, which an
    /// export writes by time, so an operation's rows of one hour mostly come together.
    hours: Vec<Vec<(i64, u64)>>,
}

/// The columns of [`KEYS`] in a table, in that order.
struct Columns {
    op: usize,
    logon: usize,
    user: usize,
    mailbox: usize,
    ip: usize,
    app: usize,
    /// Per column, per value number: whether the value is empty.
    empty: [Vec<bool>; 3],
    shape: Shape,
}

impl Counts {
    fn new(t: &Table, c: &Columns) -> Counts {
        Counts {
            ops: vec![None; t.distinct(c.op)],
            logons: vec![None; t.distinct(c.logon)],
            tops: [c.user, c.mailbox, c.ip, c.app].map(|col| vec![0; t.distinct(col)]),
            hours: vec![Vec::new(); t.distinct(c.op)],
        }
    }

    fn add(&mut self, t: &Table, c: &Columns, row: usize) {
        let time = t.time(row);
        let (user, mailbox, ip) = (t.id(c.user, row), t.id(c.mailbox, row), t.id(c.ip, row));
        let op = t.id(c.op, row);
        for (groups, id) in [(&mut self.ops, op), (&mut self.logons, t.id(c.logon, row))] {
            let Some(slot) = groups.get_mut(id as usize) else {
                continue;
            };
            let g = slot.get_or_insert_with(|| Tally::new(time, &c.shape));
            g.count += 1;
            g.first = g.first.min(time);
            g.last = g.last.max(time);
            if !c.empty[0][user as usize] {
                g.users.insert(user);
            }
            if !c.empty[1][mailbox as usize] {
                g.mailboxes.insert(mailbox);
            }
            if !c.empty[2][ip as usize] {
                g.ips.insert(ip);
            }
        }
        for (k, id) in [user, mailbox, ip, t.id(c.app, row)]
            .into_iter()
            .enumerate()
        {
            self.tops[k][id as usize] += 1;
        }
        if let Some(hours) = self.hours.get_mut(op as usize) {
            let hour = time.0.div_euclid(NANOS_PER_HOUR);
            match hours.last_mut() {
                Some((h, n)) if *h == hour => *n += 1,
                _ => hours.push((hour, 1)),
            }
        }
    }

    fn merge(mut self, other: Counts) -> Counts {
        for (mine, theirs) in [(&mut self.ops, other.ops), (&mut self.logons, other.logons)] {
            for (m, g) in mine.iter_mut().zip(theirs) {
                match (m.as_mut(), g) {
                    (Some(m), Some(g)) => m.merge(g),
                    (None, g) => *m = g,
                    (Some(_), None) => {}
                }
            }
        }
        for (mine, theirs) in self.tops.iter_mut().zip(other.tops) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        for (mine, mut theirs) in self.hours.iter_mut().zip(other.hours) {
            mine.append(&mut theirs);
        }
        self
    }
}

impl Summary {
    /// The counted part of a summary of `t`'s rows (no inputs, filters or funnel); empty
    /// when `t` does not hold the columns of [`KEYS`].
    pub fn of_table(t: &Table) -> Summary {
        Summary::of_table_with(t, SEEN_BITS)
    }

    /// [`Summary::of_table`], sets kept as bits up to `seen_bits` ([`SEEN_BITS`]).
    fn of_table_with(t: &Table, seen_bits: usize) -> Summary {
        let cols: Option<Vec<usize>> = KEYS.iter().map(|&k| t.column(k)).collect();
        let Some([op, logon, user, mailbox, ip, app]) =
            cols.and_then(|c| <[usize; 6]>::try_from(c).ok())
        else {
            return Summary::empty();
        };
        let empty = [user, mailbox, ip].map(|col| {
            (0..t.distinct(col) as u32)
                .map(|id| t.text(col, id).is_empty())
                .collect()
        });
        let piece = (t.len() / (4 * rayon::current_num_threads().max(1))).max(4096);
        let shape = Shape {
            bits: seen_bits.min(piece.saturating_mul(64)),
            groups: t.distinct(op) + t.distinct(logon),
            distinct: [user, mailbox, ip].map(|col| t.distinct(col)),
        };
        let c = Columns {
            op,
            logon,
            user,
            mailbox,
            ip,
            app,
            empty,
            shape,
        };
        let counts = (0..t.len().div_ceil(piece))
            .into_par_iter()
            .map(|k| {
                let mut counts = Counts::new(t, &c);
                for row in k * piece..((k + 1) * piece).min(t.len()) {
                    counts.add(t, &c, row);
                }
                counts
            })
            .reduce(|| Counts::new(t, &c), Counts::merge);

        let text = |col: usize, id: u32| t.text(col, id).to_owned();
        let set = |col: usize, ids: Seen| -> BTreeSet<String> {
            ids.ids().into_iter().map(|id| text(col, id)).collect()
        };
        let groups = |tallies: Vec<Option<Tally>>, col: usize| -> BTreeMap<String, Group> {
            tallies
                .into_iter()
                .enumerate()
                .filter_map(|(id, g)| Some((id as u32, g?)))
                .map(|(id, g)| {
                    let group = Group {
                        count: g.count,
                        first: g.first,
                        last: g.last,
                        users: set(user, g.users),
                        mailboxes: set(mailbox, g.mailboxes),
                        client_ips: set(ip, g.ips),
                    };
                    (text(col, id), group)
                })
                .collect()
        };
        let [users, mailboxes, ips, apps] = counts.tops;
        let top = |col: usize, counts: Vec<u64>| -> BTreeMap<String, u64> {
            counts
                .into_iter()
                .enumerate()
                .filter(|(_, n)| *n > 0)
                .map(|(id, n)| (text(col, id as u32), n))
                .collect()
        };
        let mut activity: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
        for (id, hours) in counts.hours.into_iter().enumerate() {
            if hours.is_empty() {
                continue;
            }
            let by_hour = activity.entry(text(op, id as u32)).or_default();
            let mut summed: IdMap<i64, u64> = IdMap::default();
            for (hour, n) in hours {
                *summed.entry(hour).or_default() += n;
            }
            for (hour, n) in summed {
                by_hour.insert(hour_key(hour), n);
            }
        }
        Summary {
            records: t.len() as u64,
            operations: groups(counts.ops, op),
            logon_types: groups(counts.logons, logon),
            users: top(user, users),
            mailboxes: top(mailbox, mailboxes),
            client_ips: top(ip, ips),
            client_apps: top(app, apps),
            activity,
            ..Summary::empty()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{AuditRecord, Escape, Field, OwnedRecord, RawField, SourcePos};

    /// Tens of thousands of rows (counted in several ranges, in no time order, hours met
    /// again and again), with empty values: the same summary as from the rows, with the
    /// sets kept as bits and as hash sets.
    #[test]
    fn many_rows_in_any_order_as_from_rows() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        // Value 0 of a column is its blank value.
        let blank_or = |n: u64, prefix: &str| {
            if n == 0 {
                String::new()
            } else {
                format!("{prefix}{n}")
            }
        };
        let rows: Vec<OwnedRecord> = (0..30_000)
            .map(|i| {
                let mut r = AuditRecord::default();
                let values = [
                    (Field::Operation, format!("Op{}", next(7))),
                    (Field::LogonType, next(4).to_string()),
                    (Field::LogonUserDisplayName, blank_or(next(50), "u")),
                    (Field::MailboxOwnerUpn, format!("m{}@x", next(30))),
                    (Field::ClientIpAddress, blank_or(next(400), "192.0.2.")),
                    (Field::ClientInfoString, format!("Client={}", next(9))),
                ];
                for (f, v) in &values {
                    r.set(*f, RawField::new(v.as_bytes(), Escape::None));
                }
                let t = Timestamp(next(3_000) as i64 * 1_200_000_000_000 + i);
                r.to_owned_record(t, SourcePos { file: 0, line: 2 }, false)
                    .0
            })
            .collect();
        let table = Table::from_records(&KEYS, &rows, |r| r.time, |r| r.pos, |_| 0);
        let want = Summary::of_rows(&rows);
        assert_eq!(Summary::of_table(&table), want);
        assert_eq!(Summary::of_table_with(&table, 0), want);
    }

    #[test]
    fn the_same_summary_as_from_rows() {
        let values: [(&str, &str, &str, &str, &str); 6] = [
            ("Move", "0", "Eve", "203.0.113.7:443", "Client=OWA;x"),
            ("Move", "2", "Eve", "203.0.113.7", "Client=OWA"),
            ("SendAs", "Delegate", "", "", ""),
            (
                "Move",
                "Owner",
                "Bob",
                "::ffff:192.0.2.1",
                "Client=MSExchangeRPC",
            ),
            ("HardDelete", "2", "Bob", "192.0.2.1", ""),
            ("", "", "", "", ""),
        ];
        let rows: Vec<OwnedRecord> = values
            .iter()
            .enumerate()
            .map(|(i, (op, logon, user, ip, app))| {
                let mut r = AuditRecord::default();
                for (f, v) in [
                    (Field::Operation, op),
                    (Field::LogonType, logon),
                    (Field::LogonUserDisplayName, user),
                    (Field::ClientIpAddress, ip),
                    (Field::ClientInfoString, app),
                    (Field::MailboxOwnerUpn, &"m@x"),
                ] {
                    r.set(f, RawField::new(v.as_bytes(), Escape::None));
                }
                let t = Timestamp(i as i64 * 2_000_000_000_000);
                r.to_owned_record(t, SourcePos { file: 0, line: 2 }, false)
                    .0
            })
            .collect();
        let table = Table::from_records(&KEYS, &rows, |r| r.time, |r| r.pos, |_| 0);
        assert_eq!(Summary::of_table(&table), Summary::of_rows(&rows));
        assert_eq!(Summary::of_table_with(&table, 0), Summary::of_rows(&rows));
    }
}
