//! The parts of a mailbox record read from its nested objects (`Item`, `Folder`,
//! `DestFolder`, `AffectedItems[]`, `Folders[]`, `Messages[]`, `OperationProperties[]`),
//! and the subjects rendered for admin cmdlets and inbox-rule changes: what
//! [`super::map_and_visit`] fills a record's folder, subject and message fields from.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::{messages, object, objects, or, text, AuditData, FolderData, ItemData, NameValue, Raw};
use crate::record::{Family, Field, ItemView, RawField};

/// The mailbox an admin cmdlet's `ObjectId` names: its directory path's last segment, without
/// the inbox rule or folder after `\` (`…/contoso.onmicrosoft.com/311b45d6-…\Direct` →
/// `311b45d6-…`, `test1:\Inbox` → `test1`); anything else as it is.
pub(super) fn mailbox_of_object(object: &[u8]) -> &[u8] {
    let name = match object.iter().rposition(|&b| b == b'/') {
        Some(i) => &object[i + 1..],
        None => object,
    };
    let name = match name.iter().position(|&b| b == b'\\') {
        Some(0) | None => name,
        Some(i) => &name[..i],
    };
    let name = name.trim_ascii();
    let name = name.strip_suffix(b":").unwrap_or(name);
    if name.is_empty() {
        object.trim_ascii()
    } else {
        name
    }
}

/// Where a record's subject is rendered from instead of read from a `Subject` member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rendered {
    /// An admin cmdlet's `Parameters`, as `-Name Value ...`.
    Parameters,
    /// An inbox rule changed from Outlook (UpdateInboxRules): its name, conditions and
    /// actions are in `OperationProperties`, rendered alike.
    OperationProperties,
}

/// Whether the subject of a record of `family` and `operation` is rendered (see
/// [`Rendered`]); `None`: it is read from its `Subject` members. The quick look at raw
/// AuditData, which reads only those, leaves rendered ones to the full parser.
pub(crate) fn rendered_subject(family: Family, operation: RawField<'_>) -> Option<Rendered> {
    match family {
        Family::Admin => Some(Rendered::Parameters),
        Family::Mailbox if operation.eq_ignore_ascii_case(b"UpdateInboxRules") => {
            Some(Rendered::OperationProperties)
        }
        _ => None,
    }
}

/// Fields read from a mailbox record's nested objects (`Item`, `Folder`, `DestFolder`,
/// `AffectedItems`, `Folders`).
pub(super) const NESTED: [Field; 6] = [
    Field::ItemSubject,
    Field::SourceItemSubjectsList,
    Field::Subject,
    Field::InternetMessageId,
    Field::FolderPathName,
    Field::DestFolderPathName,
];

/// Fields a rendered subject (admin parameters, an inbox rule's properties) goes to.
pub(super) const SUBJECTS: [Field; 3] = [
    Field::ItemSubject,
    Field::SourceItemSubjectsList,
    Field::Subject,
];

/// The mailbox-record fields that come from nested objects.
#[derive(Default)]
pub(super) struct MailboxParts<'a> {
    pub item_subject: RawField<'a>,
    pub lead_subject: RawField<'a>,
    pub internet_message_id: RawField<'a>,
    pub folder: RawField<'a>,
    pub dest_folder: RawField<'a>,
    pub mail_access_type: RawField<'a>,
    pub is_throttled: RawField<'a>,
}

/// Reads `Item`, `Folder`, `DestFolder`, `AffectedItems`, `Folders` and
/// `OperationProperties`, filling `items` and `subjects` with every message touched.
pub(super) fn mailbox_parts<'a>(
    d: &AuditData<'a>,
    items: &mut Vec<ItemView<'a>>,
    subjects: &mut Vec<RawField<'a>>,
) -> MailboxParts<'a> {
    let item: ItemData<'a> = object(d.item);
    let folder: FolderData<'a> = object(d.folder);
    let folder_path = text(folder.path);
    let parent: FolderData<'a> = object(item.parent_folder);

    // ExchangeItemGroup: the affected items, each in its parent folder.
    for it in objects::<ItemData<'a>>(d.affected_items) {
        let parent: FolderData<'a> = object(it.parent_folder);
        items.push(ItemView {
            folder: or(text(parent.path), folder_path),
            internet_message_id: text(it.internet_message_id),
            subject: text(it.subject),
        });
    }
    // ExchangeItemAggregated (MailItemsAccessed): the items of every folder.
    let mut first_folder = RawField::EMPTY;
    for (i, f) in objects::<FolderData<'a>>(d.folders).into_iter().enumerate() {
        let path = text(f.path);
        if i == 0 {
            first_folder = path;
        }
        for it in objects::<ItemData<'a>>(f.folder_items) {
            items.push(ItemView {
                folder: path,
                internet_message_id: text(it.internet_message_id),
                subject: text(it.subject),
            });
        }
    }
    // AttachmentAccess: the messages whose attachments were opened.
    let message_folder = messages::message_items(d.messages, items);
    if first_folder.is_empty() {
        first_folder = message_folder;
    }
    subjects.extend(items.iter().map(|i| i.subject).filter(|s| !s.is_empty()));
    // The first item that has a subject leads (the seed script shows the first source
    // item's subject), else the first item.
    let lead = items
        .iter()
        .find(|i| !i.subject.is_empty())
        .or(items.first())
        .copied()
        .unwrap_or_default();

    MailboxParts {
        item_subject: text(item.subject),
        lead_subject: lead.subject,
        internet_message_id: or(text(item.internet_message_id), lead.internet_message_id),
        folder: or(or(folder_path, text(parent.path)), first_folder),
        dest_folder: text(object::<FolderData<'a>>(d.dest_folder).path),
        ..operation_properties(d)
    }
}

/// `MailAccessType` and `IsThrottled` from `OperationProperties` (the other parts empty;
/// the array is read only when it names one of them).
pub(super) fn operation_properties<'a>(d: &AuditData<'a>) -> MailboxParts<'a> {
    let mut parts = MailboxParts::default();
    // Searchers built once (`memmem::find` builds one per call, which costs more than
    // the search through a short array); the quick look's for `IsThrottled`.
    static MAIL_ACCESS_TYPE: LazyLock<Finder<'static>> =
        LazyLock::new(|| Finder::new(b"MailAccessType"));
    let named = d.operation_properties.is_some_and(|raw| {
        let text = raw.get().as_bytes();
        MAIL_ACCESS_TYPE.find(text).is_some() || super::fast::IS_THROTTLED.find(text).is_some()
    });
    if !named {
        return parts;
    }
    for p in objects::<NameValue<'a>>(d.operation_properties) {
        let name = text(p.name);
        if name.eq_ignore_ascii_case(b"MailAccessType") {
            parts.mail_access_type = text(p.value);
        } else if name.eq_ignore_ascii_case(b"IsThrottled") {
            parts.is_throttled = text(p.value);
        }
    }
    parts
}

/// Renders an admin cmdlet's `Parameters[{Name, Value}]` as `-Name Value -Name2 Value2`
/// (unescaped). A value that is empty or holds spaces or quotes is written as a
/// PowerShell literal string (`'Deleted Items'`, quotes doubled), so the line can be read
/// back unambiguously. Parameters given as one string are copied as they are.
pub(super) fn render_parameters(raw: Raw<'_>, out: &mut Vec<u8>) {
    let Some(raw) = raw else { return };
    if raw.get().starts_with('"') {
        let f = text(Some(raw));
        out.extend_from_slice(&f.unescaped());
        return;
    }
    let mut scratch = Vec::new();
    for p in objects::<NameValue<'_>>(Some(raw)) {
        let name = text(p.name);
        if name.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(b' ');
        }
        out.push(b'-');
        out.extend_from_slice(name.unescaped_in(&mut scratch));
        out.push(b' ');
        let value = text(p.value);
        let value = value.unescaped_in(&mut scratch);
        let quote = value.is_empty()
            || value
                .iter()
                .any(|&b| b.is_ascii_whitespace() || b == b'\'' || b == b'"');
        if quote {
            out.push(b'\'');
            for &b in value {
                if b == b'\'' {
                    out.push(b'\'');
                }
                out.push(b);
            }
            out.push(b'\'');
        } else {
            out.extend_from_slice(value);
        }
    }
}
