//! AttachmentAccess's `Messages[].MessageItems[]`: the messages whose attachments were
//! opened, one item each (for `--expand-items` and `--subject`), as MailItemsAccessed's
//! `Folders[].FolderItems[]` are.
//!
//! A `Messages[]` entry names the folder (`Path`, or its `ParentFolder.Path`) and may
//! carry the message's `Subject` and `InternetMessageId`; each of its `MessageItems[]`
//! may carry its own (an item's own values win). An entry without items is one item.

use serde::Deserialize;

use super::{array, object, or, text, ItemData, Raw};
use crate::record::{ItemView, RawField};

/// A `Messages[]` entry.
#[derive(Deserialize, Default)]
#[serde(default)]
struct MessageData<'a> {
    #[serde(rename = "Path", borrow)]
    path: Raw<'a>,
    #[serde(rename = "ParentFolder", borrow)]
    parent_folder: Raw<'a>,
    #[serde(rename = "Subject", borrow)]
    subject: Raw<'a>,
    #[serde(rename = "InternetMessageId", borrow)]
    internet_message_id: Raw<'a>,
    #[serde(rename = "MessageItems", borrow)]
    message_items: Raw<'a>,
}

impl<'a> super::nested::Slots<'a> for MessageData<'a> {
    fn slot(&mut self, key: &[u8]) -> Option<(u32, &mut Raw<'a>)> {
        match key {
            b"Path" => Some((0, &mut self.path)),
            b"ParentFolder" => Some((1, &mut self.parent_folder)),
            b"Subject" => Some((2, &mut self.subject)),
            b"InternetMessageId" => Some((3, &mut self.internet_message_id)),
            b"MessageItems" => Some((4, &mut self.message_items)),
            _ => None,
        }
    }
}

/// Appends an item for every `MessageItems[]` entry of every `Messages[]` entry of `raw`
/// (an entry without items is one item); returns the first entry's folder.
pub(super) fn message_items<'a>(raw: Raw<'a>, items: &mut Vec<ItemView<'a>>) -> RawField<'a> {
    let mut first_folder = RawField::EMPTY;
    for (i, raw) in array(raw).into_iter().enumerate() {
        let m: MessageData<'a> = object(Some(raw));
        let parent: super::FolderData<'a> = object(m.parent_folder);
        let folder = or(text(m.path), text(parent.path));
        if i == 0 {
            first_folder = folder;
        }
        let entry = ItemView {
            folder,
            internet_message_id: text(m.internet_message_id),
            subject: text(m.subject),
        };
        let message_items = array(m.message_items);
        if message_items.is_empty() {
            items.push(entry);
        }
        for raw in message_items {
            let it: ItemData<'a> = object(Some(raw));
            let parent: super::FolderData<'a> = object(it.parent_folder);
            items.push(ItemView {
                folder: or(text(parent.path), entry.folder),
                internet_message_id: or(text(it.internet_message_id), entry.internet_message_id),
                subject: or(text(it.subject), entry.subject),
            });
        }
    }
    first_folder
}
