//! A borrowed record's fields decoded to text once (escapes resolved, invalid UTF-8
//! replaced with U+FFFD), into buffers reused from row to row: what a kept row's values
//! are computed from without building an [`OwnedRecord`](super::OwnedRecord) per row.

use super::{AuditRecord, Escape, Field, FieldSet, Fields, RawField, FIELD_COUNT};

/// Some fields of one record as text; the others read as empty.
#[derive(Debug)]
pub struct Decoded {
    text: String,
    /// `(start, end)` of each field in `text`.
    spans: [(u32, u32); FIELD_COUNT],
    scratch: Vec<u8>,
}

impl Default for Decoded {
    fn default() -> Decoded {
        Decoded {
            text: String::new(),
            spans: [(0, 0); FIELD_COUNT],
            scratch: Vec::new(),
        }
    }
}

impl Decoded {
    /// Decodes `fields` of `rec` (the others become empty). Returns whether invalid UTF-8
    /// was replaced in one of them.
    pub fn fill(&mut self, rec: &AuditRecord<'_>, fields: FieldSet) -> bool {
        self.text.clear();
        self.spans = [(0, 0); FIELD_COUNT];
        let mut lossy = false;
        for field in fields.fields() {
            let start = self.text.len();
            lossy |= push_text(rec.get(field), &mut self.scratch, &mut self.text);
            let at = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
            self.spans[field as usize] = (at(start), at(self.text.len()));
        }
        lossy
    }
}

impl Fields for Decoded {
    fn get(&self, field: Field) -> &str {
        let (start, end) = self.spans[field as usize];
        self.text
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

/// Appends `field`'s value, unescaped, to `out`; invalid UTF-8 becomes U+FFFD. Returns
/// whether any was replaced.
fn push_text(field: RawField<'_>, scratch: &mut Vec<u8>, out: &mut String) -> bool {
    let bytes = field.unescaped_in(scratch);
    match simdutf8::basic::from_utf8(bytes) {
        Ok(s) => {
            out.push_str(s);
            false
        }
        Err(_) => {
            out.push_str(&String::from_utf8_lossy(bytes));
            true
        }
    }
}

/// Whether a field of `rec` outside `skip` holds invalid UTF-8 once unescaped: what
/// [`AuditRecord::to_owned_record`] would replace (and warn about) in the fields a compact
/// row does not keep.
pub fn has_invalid_utf8(rec: &AuditRecord<'_>, skip: FieldSet, scratch: &mut Vec<u8>) -> bool {
    Field::ALL
        .into_iter()
        .any(|field| !skip.contains(field) && invalid_utf8(rec.get(field), scratch))
}

/// Whether `raw` holds invalid UTF-8 once unescaped: whether decoding it replaces some.
/// ASCII values, the usual case, are passed over at once.
pub fn invalid_utf8(raw: RawField<'_>, scratch: &mut Vec<u8>) -> bool {
    if raw.bytes.is_ascii() {
        return false;
    }
    let bytes = match raw.escape {
        // Resolving a JSON escape may replace a broken sequence after a backslash
        // (with U+FFFD, silently), so the resolved value is what is checked.
        Escape::Json => raw.unescaped_in(scratch),
        // Undoubling quotes changes no byte that UTF-8 validity depends on.
        Escape::None | Escape::CsvQuotes => raw.bytes,
    };
    simdutf8::basic::from_utf8(bytes).is_err()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::Timestamp;
    use crate::record::SourcePos;

    #[test]
    fn decodes_the_fields_asked_for() {
        let mut r = AuditRecord::default();
        r.set(Field::Operation, RawField::new(b"Move", Escape::None));
        r.set(
            Field::ItemSubject,
            RawField::new(br#"a ""b"""#, Escape::CsvQuotes),
        );
        r.set(Field::ClientIp, RawField::new(b"x\xffy", Escape::None));
        let mut d = Decoded::default();
        let lossy = d.fill(
            &r,
            FieldSet::EMPTY
                .with(Field::ItemSubject)
                .with(Field::Operation),
        );
        assert!(!lossy);
        assert_eq!(d.get(Field::ItemSubject), "a \"b\"");
        assert_eq!(d.get(Field::Operation), "Move");
        assert_eq!(d.get(Field::ClientIp), "");
        assert_eq!(d.subject(), "a \"b\"");
        let mut scratch = Vec::new();
        let done = FieldSet::EMPTY.with(Field::Operation);
        assert!(has_invalid_utf8(&r, done, &mut scratch));
        assert!(!has_invalid_utf8(
            &r,
            done.with(Field::ClientIp),
            &mut scratch
        ));
        assert!(d.fill(&r, FieldSet::ALL));
        assert_eq!(d.get(Field::ClientIp), "x\u{FFFD}y");
        // The same values as the owned record.
        let (owned, lossy) = r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 1 }, false);
        assert!(lossy);
        for f in Field::ALL {
            assert_eq!(d.get(f), owned.get(f), "{f:?}");
        }
    }

    #[test]
    fn owned_record_from_parts() {
        let r = crate::record::OwnedRecord::from_parts(
            &[(Field::Operation, "Move"), (Field::ClientIp, "1.2.3.4")],
            Timestamp(5),
            SourcePos { file: 1, line: 7 },
            Vec::new(),
        );
        assert_eq!(r.get(Field::Operation), "Move");
        assert_eq!(r.get(Field::ClientIp), "1.2.3.4");
        assert_eq!(r.get(Field::OperationResult), "");
        assert_eq!(r.get(Field::IsThrottled), "");
        assert_eq!(r.time, Timestamp(5));
    }
}
