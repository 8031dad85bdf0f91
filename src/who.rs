//! Who acted, on which mailbox, from where, with what: the few values summaries count
//! and Timesketch messages name, taken the same way everywhere.
//!
//! Each falls back along the fields that different exports fill: a legacy export has
//! LogonUserDisplayName, a Unified Audit Log record may only have UserId. The mailbox is
//! the report's MailboxResolvedOwnerName (so a summary names mailboxes as the report
//! does), else the owner's UPN, else its GUID. Client addresses lose their port and
//! IPv4-mapped IPv6 addresses are shown as IPv4, host names their port and case, so one
//! client is one value.
//!
//! [`Key`] names these values (and any field) for what is computed from them: triage
//! rules, and the columns the pipeline keeps for summaries, triage and the report.

use std::borrow::Cow;

use crate::ip::client_key;
use crate::record::logon_type_name;
use crate::record::{Field, Fields};

/// A value of a record, by name: one of the values above, or any field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// The acting user (LogonUserDisplayName, else UserId, else LogonUserSid).
    Actor,
    /// The mailbox (MailboxResolvedOwnerName, else MailboxOwnerUPN, else MailboxGuid).
    Mailbox,
    /// The operation, trimmed.
    Operation,
    /// The logon type by name (Owner, Delegate...), empty for admin cmdlets.
    LogonType,
    /// The client address without its port.
    ClientIp,
    /// ClientInfoString up to its first `;`.
    ClientApp,
    /// The report's Subject (admin cmdlets: their parameters).
    Subject,
    /// FolderPathName.
    Folder,
    /// The report's Subject as written, not trimmed (for display: the report page's
    /// timeline shows it so); rules read [`Key::Subject`].
    SubjectAsWritten,
    /// Any normalised field, trimmed.
    Field(Field),
    /// A field exactly as read, not trimmed: a row rebuilt for a writer from the columns
    /// (see `pipeline::Table::record`).
    AsRead(Field),
}

impl Key {
    /// The value of this key in `row` (trimmed).
    pub fn value<R: Fields + ?Sized>(self, row: &R) -> Cow<'_, str> {
        match self {
            Key::Actor => Cow::Borrowed(user(row)),
            Key::Mailbox => Cow::Borrowed(mailbox(row)),
            Key::Operation => Cow::Borrowed(operation(row)),
            Key::LogonType => Cow::Borrowed(logon_type(row)),
            Key::ClientIp => client_ip(row),
            Key::ClientApp => Cow::Borrowed(client_app(row)),
            Key::Subject => Cow::Borrowed(row.subject().trim()),
            Key::SubjectAsWritten => Cow::Borrowed(row.subject()),
            Key::Folder => Cow::Borrowed(row.get(Field::FolderPathName).trim()),
            Key::Field(f) => Cow::Borrowed(row.get(f).trim()),
            Key::AsRead(f) => Cow::Borrowed(row.get(f)),
        }
    }

    /// Whether the value is the first of [`Key::fields`] not blank (trimmed), read in
    /// that order, as it stands (the client address: [`client_key`] of it): the fields
    /// after it then do not change it.
    pub fn first_filled(self) -> bool {
        matches!(self, Key::Actor | Key::Mailbox | Key::ClientIp)
    }

    /// The fields [`Key::value`] reads.
    pub fn fields(self) -> &'static [Field] {
        match self {
            Key::Actor => &[
                Field::LogonUserDisplayName,
                Field::UserId,
                Field::LogonUserSid,
            ],
            Key::Mailbox => &[
                Field::MailboxResolvedOwnerName,
                Field::MailboxOwnerUpn,
                Field::MailboxGuid,
            ],
            Key::Operation => &[Field::Operation],
            Key::LogonType => &[Field::LogonType],
            Key::ClientIp => &[Field::ClientIpAddress, Field::ClientIp],
            Key::ClientApp => &[Field::ClientInfoString],
            Key::Subject | Key::SubjectAsWritten => &[
                Field::Subject,
                Field::SourceItemSubjectsList,
                Field::ItemSubject,
            ],
            Key::Folder => &[Field::FolderPathName],
            Key::Field(f) | Key::AsRead(f) => field_slice(f),
        }
    }
}

/// `&[f]` for a field, as a static slice.
fn field_slice(f: Field) -> &'static [Field] {
    let i = f as usize;
    &Field::ALL[i..=i]
}

fn first_non_empty<'r, R: Fields + ?Sized>(row: &'r R, fields: &[Field]) -> &'r str {
    fields
        .iter()
        .map(|&f| row.get(f).trim())
        .find(|v| !v.is_empty())
        .unwrap_or("")
}

/// The acting user: LogonUserDisplayName, else UserId, else LogonUserSid.
pub fn user<R: Fields + ?Sized>(row: &R) -> &str {
    first_non_empty(
        row,
        &[
            Field::LogonUserDisplayName,
            Field::UserId,
            Field::LogonUserSid,
        ],
    )
}

/// The mailbox acted on: MailboxResolvedOwnerName, else MailboxOwnerUPN, else MailboxGuid.
pub fn mailbox<R: Fields + ?Sized>(row: &R) -> &str {
    first_non_empty(
        row,
        &[
            Field::MailboxResolvedOwnerName,
            Field::MailboxOwnerUpn,
            Field::MailboxGuid,
        ],
    )
}

/// The operation, trimmed.
pub fn operation<R: Fields + ?Sized>(row: &R) -> &str {
    row.get(Field::Operation).trim()
}

/// The logon type by name (`Owner`, `Delegate`...), whether exported as text or number.
pub fn logon_type<R: Fields + ?Sized>(row: &R) -> &str {
    let raw = row.get(Field::LogonType);
    std::str::from_utf8(logon_type_name(raw.as_bytes()))
        .unwrap_or(raw)
        .trim()
}

/// The client address (ClientIPAddress, else ClientIP) without its port, IPv4-mapped
/// addresses as IPv4; a host name lower-cased without its port; other text kept as
/// written (trimmed). See [`crate::ip::client_key`].
pub fn client_ip<R: Fields + ?Sized>(row: &R) -> Cow<'_, str> {
    client_key(first_non_empty(
        row,
        &[Field::ClientIpAddress, Field::ClientIp],
    ))
}

/// The client application family: ClientInfoString up to its first `;`
/// (`Client=OWA;Mozilla/5.0 ...` is `Client=OWA`), trimmed.
pub fn client_app<R: Fields + ?Sized>(row: &R) -> &str {
    let info = row.get(Field::ClientInfoString);
    info.split(';').next().unwrap_or(info).trim()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::datetime::Timestamp;
    use crate::record::{AuditRecord, Escape, OwnedRecord, RawField, SourcePos};

    fn row(fields: &[(Field, &'static str)]) -> OwnedRecord {
        let mut r = AuditRecord::default();
        for (f, v) in fields {
            r.set(*f, RawField::new(v.as_bytes(), Escape::None));
        }
        r.to_owned_record(Timestamp(0), SourcePos { file: 0, line: 2 }, false)
            .0
    }

    #[test]
    fn fallbacks() {
        let r = row(&[(Field::UserId, "a@b.c"), (Field::MailboxOwnerUpn, "m@b.c")]);
        assert_eq!(user(&r), "a@b.c");
        assert_eq!(mailbox(&r), "m@b.c");
        let r = row(&[
            (Field::LogonUserDisplayName, " Eve "),
            (Field::UserId, "a@b.c"),
            (Field::MailboxResolvedOwnerName, "CONTOSO\\test1"),
            (Field::MailboxOwnerUpn, "m@b.c"),
            (Field::LogonType, "2"),
        ]);
        assert_eq!(user(&r), "Eve");
        assert_eq!(mailbox(&r), "CONTOSO\\test1");
        assert_eq!(logon_type(&r), "Delegate");
        assert_eq!(user(&row(&[])), "");
    }

    #[test]
    fn client_addresses_lose_their_port() {
        let ip = |v| client_ip(&row(&[(Field::ClientIpAddress, v)])).into_owned();
        assert_eq!(ip("203.0.113.7"), "203.0.113.7");
        assert_eq!(ip("203.0.113.7:51234"), "203.0.113.7");
        assert_eq!(ip("[2001:db8::1]:443"), "2001:db8::1");
        assert_eq!(ip("::ffff:192.0.2.1"), "192.0.2.1");
        assert_eq!(ip("not an ip"), "not an ip");
        assert_eq!(ip("Mail.Contoso.com:443"), "mail.contoso.com");
        assert_eq!(
            client_ip(&row(&[(Field::ClientIp, "192.0.2.9")])),
            "192.0.2.9"
        );
    }

    #[test]
    fn client_app_family() {
        let app = |v| client_app(&row(&[(Field::ClientInfoString, v)])).to_string();
        assert_eq!(
            app("Client=OWA;Mozilla/5.0 (Windows NT 10.0)"),
            "Client=OWA"
        );
        assert_eq!(app("Client=MSExchangeRPC"), "Client=MSExchangeRPC");
        assert_eq!(app(""), "");
    }
}
