//! The parts of a mailbox record read from its nested objects (`Item`, `Folder`,
//! `DestFolder`, `AffectedItems[]`, `Folders[]`, `Messages[]`, `OperationProperties[]`),
//! and the subjects rendered for admin cmdlets and inbox-rule changes: what
//! [`super::map_and_visit`] fills a record's folder, subject and message fields from.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::{
    array, messages, object, objects, or, text, AuditData, FolderData, ItemData, Json, NameValue,
    Raw,
};
use crate::record::{Escape, Family, Field, ItemView, RawField};

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
    /// How many messages the record touched, when counted without reading them
    /// ([`Messages::Lead`] with `count`).
    pub counted_items: Option<usize>,
}

/// Which of a mailbox record's messages [`mailbox_parts`] reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Messages {
    /// Every message (for `--expand-items`, and for `--subject`, which matches any of
    /// their subjects): the items and subjects lists are filled.
    Every,
    /// Only what the record's own fields show: the lead message (the first with a
    /// subject, else the first) and the first folder; with `count`, how many messages
    /// there are, from the lists' lengths. Reading stops at the lead, and a list whose
    /// text cannot hold a `Subject` key gives its first item only: a MailItemsAccessed
    /// record of a thousand messages is read for one.
    Lead { count: bool },
}

/// Reads `Item`, `Folder`, `DestFolder`, `AffectedItems`, `Folders` and
/// `OperationProperties`; with [`Messages::Every`], fills `items` and `subjects` with every
/// message touched.
pub(super) fn mailbox_parts<'a>(
    d: &AuditData<'a>,
    messages: Messages,
    items: &mut Vec<ItemView<'a>>,
    subjects: &mut Vec<RawField<'a>>,
) -> MailboxParts<'a> {
    let item: ItemData<'a> = object(d.item);
    let folder: FolderData<'a> = object(d.folder);
    let folder_path = text(folder.path);
    let parent: FolderData<'a> = object(item.parent_folder);

    let (lead, first_folder, counted_items) = match messages {
        Messages::Every => {
            let (lead, first_folder) = every_message(d, folder_path, items, subjects);
            (lead, first_folder, None)
        }
        Messages::Lead { count } => {
            let (lead, first_folder, n) = lead_message(d, folder_path, count);
            (lead, first_folder, count.then_some(n))
        }
    };
    MailboxParts {
        item_subject: text(item.subject),
        lead_subject: lead.subject,
        internet_message_id: or(text(item.internet_message_id), lead.internet_message_id),
        folder: or(or(folder_path, text(parent.path)), first_folder),
        dest_folder: text(object::<FolderData<'a>>(d.dest_folder).path),
        counted_items,
        ..operation_properties(d)
    }
}

/// Every message of `d` into `items` (in the order [`lead_message`] follows) and their
/// subjects into `subjects`; returns the lead message and the first folder.
fn every_message<'a>(
    d: &AuditData<'a>,
    folder_path: RawField<'a>,
    items: &mut Vec<ItemView<'a>>,
    subjects: &mut Vec<RawField<'a>>,
) -> (ItemView<'a>, RawField<'a>) {
    // ExchangeItemGroup: the affected items, each in its parent folder.
    for it in objects::<ItemData<'a>>(d.affected_items) {
        items.push(affected(it, folder_path));
    }
    // ExchangeItemAggregated (MailItemsAccessed): the items of every folder.
    let mut first_folder = RawField::EMPTY;
    for (i, f) in objects::<FolderData<'a>>(d.folders).into_iter().enumerate() {
        let path = text(f.path);
        if i == 0 {
            first_folder = path;
        }
        for it in objects::<ItemData<'a>>(f.folder_items) {
            items.push(in_folder(it, path));
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
    (lead, first_folder)
}

/// What [`every_message`] returns, reading no message after the lead, and how many
/// messages there are (counted only with `count`: every folder is then read, though not
/// its messages).
fn lead_message<'a>(
    d: &AuditData<'a>,
    folder_path: RawField<'a>,
    count: bool,
) -> (ItemView<'a>, RawField<'a>, usize) {
    let mut look = Lead::default();
    let affected_items = array(d.affected_items);
    let mut n = affected_items.len();
    for &raw in look.elements(&affected_items, d.affected_items) {
        if look.take(affected(object(Some(raw)), folder_path)) {
            break;
        }
    }
    let mut first_folder = RawField::EMPTY;
    for (i, raw) in array(d.folders).into_iter().enumerate() {
        if i > 0 && look.lead.is_some() && !count {
            break; // the first folder's path was all that was left to read
        }
        let f: FolderData<'a> = object(Some(raw));
        let path = text(f.path);
        if i == 0 {
            first_folder = path;
        }
        let folder_items = array(f.folder_items);
        n += folder_items.len();
        for &raw in look.elements(&folder_items, f.folder_items) {
            if look.take(in_folder(object(Some(raw)), path)) {
                break;
            }
        }
    }
    if d.messages.is_some() {
        let mut items = Vec::new();
        let message_folder = messages::message_items(d.messages, &mut items);
        if first_folder.is_empty() {
            first_folder = message_folder;
        }
        n += items.len();
        for it in items {
            if look.take(it) {
                break;
            }
        }
    }
    (
        look.lead.or(look.first).unwrap_or_default(),
        first_folder,
        n,
    )
}

/// An `AffectedItems[]` entry, in its parent folder (else the record's folder).
fn affected<'a>(it: ItemData<'a>, folder_path: RawField<'a>) -> ItemView<'a> {
    let parent: FolderData<'a> = object(it.parent_folder);
    ItemView {
        folder: or(text(parent.path), folder_path),
        internet_message_id: text(it.internet_message_id),
        subject: text(it.subject),
    }
}

/// A `Folders[].FolderItems[]` entry of the folder at `path`.
fn in_folder<'a>(it: ItemData<'a>, path: RawField<'a>) -> ItemView<'a> {
    ItemView {
        folder: path,
        internet_message_id: text(it.internet_message_id),
        subject: text(it.subject),
    }
}

/// The search of [`lead_message`]: the first message seen, and the first with a subject.
#[derive(Default)]
struct Lead<'a> {
    first: Option<ItemView<'a>>,
    lead: Option<ItemView<'a>>,
}

impl<'a> Lead<'a> {
    /// Counts `item` in (after the lead, nothing is); returns whether the lead is found.
    fn take(&mut self, item: ItemView<'a>) -> bool {
        if self.lead.is_some() {
            return true;
        }
        self.first.get_or_insert(item);
        if item.subject.is_empty() {
            return false;
        }
        self.lead = Some(item);
        true
    }

    /// The elements of a list (`all`, of the array `raw`) that may still matter: none
    /// once the lead is found; only the first (when no message was seen yet) when none
    /// can have a subject, that is when the text holds no `Subject` key, written neither
    /// plainly nor with a `\u` escape (the only escape that spells a letter); else all.
    fn elements<'l>(&self, all: &'l [Json<'a>], raw: Raw<'a>) -> &'l [Json<'a>] {
        use super::fast::SUBJECT;
        static UNICODE: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(b"\\u"));
        if self.lead.is_some() {
            return &[];
        }
        let text = raw.map_or(&b""[..], |r| r.get().as_bytes());
        if SUBJECT.find(text).is_none() && UNICODE.find(text).is_none() {
            return &all[..all.len().min(usize::from(self.first.is_none()))];
        }
        all
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
    fn take<'a>(parts: &mut MailboxParts<'a>, name: RawField<'a>, value: RawField<'a>) {
        if name.eq_ignore_ascii_case(b"MailAccessType") {
            parts.mail_access_type = value;
        } else if name.eq_ignore_ascii_case(b"IsThrottled") {
            parts.is_throttled = value;
        }
    }
    let plain = d.operation_properties.is_some_and(|raw| {
        plain_name_values(raw.get().as_bytes(), |name, value| {
            take(
                &mut parts,
                RawField::new(name, Escape::None),
                RawField::new(value, Escape::None),
            );
        })
    });
    if !plain {
        parts = MailboxParts::default();
        for p in objects::<NameValue<'a>>(d.operation_properties) {
            take(&mut parts, text(p.name), text(p.value));
        }
    }
    parts
}

/// Reads a `[{"Name":"…","Value":"…"},…]` array written as the service writes it (no
/// white space, no escape, those two members in that order, string values), calling `f`
/// with each entry's name and value in order; false for any other text (after calling
/// `f` for the entries before what differs), which the nested reader then reads. The
/// nested reader's entries for such an array, without building them (`OperationProperties`
/// on every MailItemsAccessed record: 3.6% of a UAL summary's instructions).
fn plain_name_values<'a>(text: &'a [u8], mut f: impl FnMut(&'a [u8], &'a [u8])) -> bool {
    if memchr::memchr(b'\\', text).is_some() {
        return false;
    }
    let Some(mut rest) = text.strip_prefix(b"[") else {
        return false;
    };
    if rest == b"]" {
        return true;
    }
    loop {
        let Some(entry) = rest.strip_prefix(br#"{"Name":""#) else {
            return false;
        };
        let Some((name, entry)) = string_then(entry, br#"","Value":""#) else {
            return false;
        };
        let Some((value, after)) = string_then(entry, br#""}"#) else {
            return false;
        };
        f(name, value);
        match after {
            [b',', more @ ..] => rest = more,
            [b']'] => return true,
            _ => return false,
        }
    }
}

/// The text up to the next quote, and what follows `then` after it (`then` starts with
/// that quote).
fn string_then<'a>(text: &'a [u8], then: &[u8]) -> Option<(&'a [u8], &'a [u8])> {
    let end = memchr::memchr(b'"', text)?;
    Some((&text[..end], text[end..].strip_prefix(then)?))
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
