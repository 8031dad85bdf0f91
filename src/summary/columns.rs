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

/// One group (operation or logon type) as numbers.
#[derive(Clone)]
struct Tally {
    count: u64,
    first: Timestamp,
    last: Timestamp,
    users: IdSet<u32>,
    mailboxes: IdSet<u32>,
    ips: IdSet<u32>,
}

impl Tally {
    fn new(t: Timestamp) -> Tally {
        Tally {
            count: 0,
            first: t,
            last: t,
            users: IdSet::default(),
            mailboxes: IdSet::default(),
            ips: IdSet::default(),
        }
    }

    fn merge(&mut self, other: Tally) {
        self.count += other.count;
        self.first = self.first.min(other.first);
        self.last = self.last.max(other.last);
        self.users.extend(other.users);
        self.mailboxes.extend(other.mailboxes);
        self.ips.extend(other.ips);
    }
}

/// The counts of a range of rows.
struct Counts {
    ops: IdMap<u32, Tally>,
    logons: IdMap<u32, Tally>,
    /// Per value number of the user, mailbox, client IP and client app columns.
    tops: [Vec<u64>; 4],
    hours: IdMap<(u32, i64), u64>,
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
}

impl Counts {
    fn new(t: &Table, c: &Columns) -> Counts {
        Counts {
            ops: IdMap::default(),
            logons: IdMap::default(),
            tops: [c.user, c.mailbox, c.ip, c.app].map(|col| vec![0; t.distinct(col)]),
            hours: IdMap::default(),
        }
    }

    fn add(&mut self, t: &Table, c: &Columns, row: usize) {
        let time = t.time(row);
        let (user, mailbox, ip) = (t.id(c.user, row), t.id(c.mailbox, row), t.id(c.ip, row));
        let op = t.id(c.op, row);
        for (map, id) in [(&mut self.ops, op), (&mut self.logons, t.id(c.logon, row))] {
            let g = map.entry(id).or_insert_with(|| Tally::new(time));
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
        *self
            .hours
            .entry((op, time.0.div_euclid(NANOS_PER_HOUR)))
            .or_default() += 1;
    }

    fn merge(mut self, other: Counts) -> Counts {
        for (mine, theirs) in [(&mut self.ops, other.ops), (&mut self.logons, other.logons)] {
            for (id, g) in theirs {
                match mine.get_mut(&id) {
                    Some(m) => m.merge(g),
                    None => {
                        mine.insert(id, g);
                    }
                }
            }
        }
        for (mine, theirs) in self.tops.iter_mut().zip(other.tops) {
            for (a, b) in mine.iter_mut().zip(theirs) {
                *a += b;
            }
        }
        for (k, n) in other.hours {
            *self.hours.entry(k).or_default() += n;
        }
        self
    }
}

impl Summary {
    /// The counted part of a summary of `t`'s rows (no inputs, filters or funnel); empty
    /// when `t` does not hold the columns of [`KEYS`].
    pub fn of_table(t: &Table) -> Summary {
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
        let c = Columns {
            op,
            logon,
            user,
            mailbox,
            ip,
            app,
            empty,
        };
        let piece = (t.len() / (4 * rayon::current_num_threads().max(1))).max(4096);
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
        let set = |col: usize, ids: IdSet<u32>| -> BTreeSet<String> {
            ids.into_iter().map(|id| text(col, id)).collect()
        };
        let groups = |map: IdMap<u32, Tally>, col: usize| -> BTreeMap<String, Group> {
            map.into_iter()
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
        for ((id, hour), n) in counts.hours {
            activity
                .entry(text(op, id))
                .or_default()
                .insert(hour_key(hour), n);
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
    }
}
