//! A column's values in one chunk, found by the raw bytes of the fields they are computed
//! from ([`RawIndex`]): a row whose fields were read before in the chunk gets its value
//! number without being decoded (unescaped, checked for UTF-8, normalised) and without its
//! value being hashed and compared again. Most of a whole export's values repeat (the
//! same few operations, logon types, actors, mailboxes and client addresses), so most
//! rows need no decoding at all.
//!
//! A value is a function of the raw fields it reads (their bytes and escapes; see
//! [`crate::who::Key::fields`]), so the number found is the one the decoded value would
//! get. A value that is the first of its fields not blank (the actor, the mailbox, the
//! client address: [`crate::who::Key::first_filled`]) is a function of the fields up to
//! the first that cannot be blank ([`deciding`]), so only those are hashed and compared
//! when the row holds no invalid UTF-8 (else the other fields still decide whether
//! decoding replaced some). A column whose values rarely repeat (subjects) turns its
//! index off, since looking up and storing every miss would cost more than it saves.

use hashbrown::HashTable;

use crate::record::{invalid_utf8, AuditRecord, Escape, Field};

/// Lookups after which a column's share of hits is judged.
const JUDGED_AFTER: u32 = 512;

/// What a row's fields were found to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Lookup {
    /// Read before: the value's number, and whether decoding the fields replaced
    /// invalid UTF-8.
    Found { id: u32, lossy: bool },
    /// Not read before in this chunk: the fields' hash, to [`RawIndex::insert`] them.
    New(u64),
    /// The index is off: decode the row.
    Off,
}

#[derive(Clone, Copy)]
struct Entry {
    hash: u64,
    /// The fields' bytes in [`RawIndex::keys`].
    start: u32,
    end: u32,
    id: u32,
    lossy: bool,
}

/// One column's raw fields → value number, for one chunk.
#[derive(Default)]
pub(super) struct RawIndex {
    /// Each entry's fields back to back: per field its escape (1 byte), its length (4
    /// bytes, little-endian) and its bytes.
    keys: Vec<u8>,
    index: HashTable<Entry>,
    /// The value number of a row whose fields are all empty, once one was seen: however
    /// they are escaped, they decode to one value (a legacy export's rows have no
    /// `MailAccessType` or `IsThrottled`), found without a hash.
    empty: Option<u32>,
    lookups: u32,
    hits: u32,
    off: bool,
}

fn escape_tag(e: Escape) -> u8 {
    match e {
        Escape::None => 0,
        Escape::CsvQuotes => 1,
        Escape::Json => 2,
    }
}

fn hash_of(rec: &AuditRecord<'_>, fields: &[Field]) -> u64 {
    fields.iter().fold(0u64, |h, &f| {
        let raw = rec.get(f);
        crate::fingerprint::of(raw.bytes, h ^ u64::from(escape_tag(raw.escape)))
    })
}

/// Whether `stored` (as [`RawIndex::keys`] holds it) is `rec`'s `fields`.
fn same(mut stored: &[u8], rec: &AuditRecord<'_>, fields: &[Field]) -> bool {
    for &f in fields {
        let raw = rec.get(f);
        let Some((head, rest)) = stored.split_first_chunk::<5>() else {
            return false;
        };
        let len = u32::from_le_bytes([head[1], head[2], head[3], head[4]]) as usize;
        if head[0] != escape_tag(raw.escape) || len != raw.bytes.len() {
            return false;
        }
        let Some((bytes, rest)) = rest.split_at_checked(len) else {
            return false;
        };
        if !same_bytes(bytes, raw.bytes) {
            return false;
        }
        stored = rest;
    }
    stored.is_empty()
}

/// `a == b` for slices of the same length, eight bytes at a time: fields are short, and
/// a call to `memcmp` per field costs more than comparing them here.
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let ((x, x_rest), (y, y_rest)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    x.len() == y.len()
        && x.iter().zip(y).all(|(p, q)| p == q)
        && x_rest.len() == y_rest.len()
        && x_rest.iter().zip(y_rest).all(|(p, q)| p == q)
}

/// The fields of `fields` that decide a value taken from the first of them not blank
/// ([`crate::who::Key::first_filled`]): those up to the first whose raw text starts with
/// a printable ASCII character other than a backslash, which decodes (unescaped, CSV
/// quotes undoubled) to a text whose first character is that one, so not blank when
/// trimmed; all of them when none does.
pub(super) fn deciding<'f>(rec: &AuditRecord<'_>, fields: &'f [Field]) -> &'f [Field] {
    let filled = |&f: &Field| matches!(rec.get(f).bytes.first(), Some(&b) if b.is_ascii_graphic() && b != b'\\');
    match fields.iter().position(filled) {
        Some(i) => &fields[..=i],
        None => fields,
    }
}

/// Whether decoding any of `rec`'s `fields` replaces invalid UTF-8.
pub(super) fn fields_lossy(rec: &AuditRecord<'_>, fields: &[Field], scratch: &mut Vec<u8>) -> bool {
    fields.iter().any(|&f| invalid_utf8(rec.get(f), scratch))
}

impl RawIndex {
    /// Looks `rec`'s `fields` up.
    pub fn find(&mut self, rec: &AuditRecord<'_>, fields: &[Field]) -> Lookup {
        if self.off {
            return Lookup::Off;
        }
        if let Some(id) = self.empty {
            if fields.iter().all(|&f| rec.get(f).bytes.is_empty()) {
                self.lookups = self.lookups.saturating_add(1);
                self.hits += 1;
                return Lookup::Found { id, lossy: false };
            }
        }
        let hash = hash_of(rec, fields);
        let keys = &self.keys;
        let found = self.index.find(hash, |e| {
            e.hash == hash
                && keys
                    .get(e.start as usize..e.end as usize)
                    .is_some_and(|k| same(k, rec, fields))
        });
        self.lookups = self.lookups.saturating_add(1);
        match found {
            Some(e) => {
                self.hits += 1;
                Lookup::Found {
                    id: e.id,
                    lossy: e.lossy,
                }
            }
            None => {
                if self.lookups >= JUDGED_AFTER && self.hits < self.lookups / 2 {
                    // Mostly new values: the index costs more than it saves.
                    *self = RawIndex {
                        off: true,
                        ..RawIndex::default()
                    };
                    return Lookup::Off;
                }
                Lookup::New(hash)
            }
        }
    }

    /// Remembers that `rec`'s `fields` (of hash `hash`, from [`RawIndex::find`]) have
    /// value number `id`.
    pub fn insert(
        &mut self,
        hash: u64,
        rec: &AuditRecord<'_>,
        fields: &[Field],
        id: u32,
        lossy: bool,
    ) {
        let start = self.keys.len();
        for &f in fields {
            let raw = rec.get(f);
            let Ok(len) = u32::try_from(raw.bytes.len()) else {
                self.keys.truncate(start);
                return;
            };
            self.keys.push(escape_tag(raw.escape));
            self.keys.extend_from_slice(&len.to_le_bytes());
            self.keys.extend_from_slice(raw.bytes);
        }
        let (Ok(start32), Ok(end)) = (u32::try_from(start), u32::try_from(self.keys.len())) else {
            // Past 4 GiB of keys in one chunk: stop indexing.
            *self = RawIndex {
                off: true,
                ..RawIndex::default()
            };
            return;
        };
        let entry = Entry {
            hash,
            start: start32,
            end,
            id,
            lossy,
        };
        self.index.insert_unique(hash, entry, |e| e.hash);
        if start32 + 5 * fields.len() as u32 == end {
            self.empty = Some(id); // every field empty
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ColumnPart, ColumnSpec, FileColumns, Table};
    use super::*;
    use crate::datetime::Timestamp;
    use crate::record::{RawField, SourcePos};
    use crate::who::Key;
    use proptest::prelude::*;

    fn rec(fields: &[(Field, &'static [u8], Escape)]) -> AuditRecord<'static> {
        let mut r = AuditRecord::default();
        for &(f, v, e) in fields {
            r.set(f, RawField::new(v, e));
        }
        r
    }

    const ACTOR: [Field; 3] = [
        Field::LogonUserDisplayName,
        Field::UserId,
        Field::LogonUserSid,
    ];

    #[test]
    fn finds_what_was_inserted_and_tells_fields_apart() {
        let mut ix = RawIndex::default();
        let a = rec(&[(Field::UserId, b"eve", Escape::None)]);
        let Lookup::New(h) = ix.find(&a, &ACTOR) else {
            panic!("new")
        };
        ix.insert(h, &a, &ACTOR, 7, false);
        assert_eq!(
            ix.find(&a, &ACTOR),
            Lookup::Found {
                id: 7,
                lossy: false
            }
        );
        // The same bytes in another field, or with another escape, are another key.
        let b = rec(&[(Field::LogonUserDisplayName, b"eve", Escape::None)]);
        assert!(matches!(ix.find(&b, &ACTOR), Lookup::New(_)));
        let c = rec(&[(Field::UserId, b"eve", Escape::CsvQuotes)]);
        assert!(matches!(ix.find(&c, &ACTOR), Lookup::New(_)));
        let d = rec(&[
            (Field::UserId, b"ev", Escape::None),
            (Field::LogonUserSid, b"e", Escape::None),
        ]);
        assert!(matches!(ix.find(&d, &ACTOR), Lookup::New(_)));
    }

    #[test]
    fn turns_off_when_values_rarely_repeat() {
        let mut ix = RawIndex::default();
        let fields = [Field::ItemSubject];
        let values: Vec<Vec<u8>> = (0..2000).map(|i| format!("s{i}").into_bytes()).collect();
        let mut off = false;
        for v in &values {
            let mut r = AuditRecord::default();
            r.set(Field::ItemSubject, RawField::new(v, Escape::None));
            match ix.find(&r, &fields) {
                Lookup::New(h) => ix.insert(h, &r, &fields, 0, false),
                Lookup::Off => off = true,
                Lookup::Found { .. } => panic!("never seen"),
            }
        }
        assert!(off);
        assert!(ix.keys.is_empty());
    }

    /// A byte string drawn from a few values (so that rows repeat), with spaces, quotes,
    /// backslashes, non-ASCII and invalid UTF-8 among them.
    fn field_bytes() -> impl Strategy<Value = (Vec<u8>, u8)> {
        let value = prop_oneof![
            Just(b"".to_vec()),
            Just(b"Move".to_vec()),
            Just(b" Eve ".to_vec()),
            Just(b"192.0.2.1:443".to_vec()),
            Just(b"a\"\"b".to_vec()),
            Just(br"\u00e9\n".to_vec()),
            Just(b"x\xffy".to_vec()),
            Just("Chlo\u{e9}".as_bytes().to_vec()),
            Just("\u{3000}Eve".as_bytes().to_vec()),
            Just(br"\u0020".to_vec()),
            Just(b"\t".to_vec()),
            Just(b"\"\"x".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..12),
        ];
        (value, 0u8..3)
    }

    const FIELDS: [Field; 11] = [
        Field::LogonUserDisplayName,
        Field::UserId,
        Field::Operation,
        Field::ClientIpAddress,
        Field::ItemSubject,
        Field::LogonType,
        Field::LogonUserSid,
        Field::ClientIp,
        Field::MailboxResolvedOwnerName,
        Field::MailboxOwnerUpn,
        Field::MailboxGuid,
    ];

    proptest! {
        /// Rows pushed through the raw indexes give the values and the invalid-UTF-8
        /// flag that decoding each row gives (`Table::from_records` on owned records),
        /// rows of valid UTF-8 also when the reader vouches for it (`checked`: values
        /// taken from the first field not blank are then found by fewer fields).
        #[test]
        fn columns_equal_decoded_rows(rows in proptest::collection::vec(
            proptest::collection::vec(field_bytes(), FIELDS.len()), 1..700),
            checked: bool,
        ) {
            let keys = [
                Key::Actor,
                Key::Operation,
                Key::ClientIp,
                Key::Subject,
                Key::LogonType,
                Key::AsRead(Field::ItemSubject),
                Key::Mailbox,
            ];
            // Mostly valid UTF-8, so that most rows are vouched for.
            let rows: Vec<Vec<(Vec<u8>, u8)>> = if checked {
                rows.iter()
                    .map(|row| row.iter()
                        .map(|(b, e)| (String::from_utf8_lossy(b).into_owned().into_bytes(), *e))
                        .collect())
                    .collect()
            } else {
                rows
            };
            let spec = ColumnSpec::new(&keys, false, false);
            let mut part = ColumnPart::default();
            let mut owned = Vec::new();
            for (n, row) in rows.iter().enumerate() {
                let mut r = AuditRecord::default();
                for (&f, (bytes, e)) in FIELDS.iter().zip(row) {
                    let escape = [Escape::None, Escape::CsvQuotes, Escape::Json][usize::from(*e)];
                    r.set(f, RawField::new(bytes, escape));
                }
                let pos = SourcePos { file: 0, line: n as u64 };
                let (o, want_lossy) = r.to_owned_record(Timestamp(0), pos, false);
                // A reader vouches for a row whose fields decode to valid UTF-8 only.
                let vouched = checked && !want_lossy;
                let lossy = part.push(&spec, &r, Timestamp(0), n as u64, vouched, &[]);
                prop_assert_eq!(lossy, want_lossy, "row {}", n);
                owned.push(o);
            }
            let all = |_: u64| true;
            let got = Table::build(&spec, vec![FileColumns {
                file: 0,
                chunks: part.into_chunks(),
                written: &all,
                items: &[],
            }]);
            let want = Table::from_records(&keys, &owned, |r| r.time, |r| r.pos, |_| 0);
            prop_assert_eq!(got.len(), want.len());
            for row in 0..got.len() {
                for &k in &keys {
                    prop_assert_eq!(got.value(k, row), want.value(k, row), "row {} {:?}", row, k);
                }
            }
        }
    }

    #[test]
    fn lossy_as_decoding_is() {
        let mut s = Vec::new();
        assert!(!invalid_utf8(RawField::new(b"abc", Escape::None), &mut s));
        assert!(!invalid_utf8(
            RawField::new("é".as_bytes(), Escape::None),
            &mut s
        ));
        assert!(invalid_utf8(
            RawField::new(b"a\xffb", Escape::CsvQuotes),
            &mut s
        ));
        assert!(!invalid_utf8(
            RawField::new(br#"\u00e9"#, Escape::Json),
            &mut s
        ));
    }
}
