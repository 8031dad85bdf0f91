//! Generated well-formed legacy exports (`Search-MailboxAuditLog | Export-Csv`) for the
//! comparison of the fast CSV path with the sequential reference: random events, written
//! in several shapes (delimiter, line ends, quoting, UTF-16, column order, with or without
//! Identity), large enough to span several chunks.

use super::generate::Rng;

/// A legacy `Search-MailboxAuditLog | Export-Csv` event, its values by column.
pub(super) struct LegacyEvent {
    values: Vec<(&'static str, String)>,
}

/// The columns of a generated legacy export, in Export-Csv's order.
const LEGACY_COLUMNS: &[&str] = &[
    "RunspaceId",
    "Operation",
    "OperationResult",
    "LogonType",
    "ExternalAccess",
    "FolderId",
    "FolderPathName",
    "FolderName",
    "ClientInfoString",
    "ClientIPAddress",
    "ClientMachineName",
    "ClientProcessName",
    "InternalLogonType",
    "MailboxOwnerUPN",
    "MailboxOwnerSid",
    "DestMailboxOwnerUPN",
    "CrossMailboxOperation",
    "LogonUserDisplayName",
    "LogonUserSid",
    "SourceItems",
    "SourceFolders",
    "SourceItemIdsList",
    "SourceItemSubjectsList",
    "SourceItemFolderPathNamesList",
    "ItemId",
    "ItemSubject",
    "DirtyProperties",
    "OriginatingServer",
    "SessionId",
    "MailboxGuid",
    "MailboxResolvedOwnerName",
    "LastAccessed",
    "Identity",
    "IsValid",
    "ObjectState",
    "PSComputerName",
];

const SUBJECTS: &[&str] = &[
    "Good News",
    "RE: Good News",
    "Résumé – Jürgen Müller",
    "Quarterly results",
    "He said \"hi\"",
    "\"quoted\", and a comma",
    "Wire transfer\r\nURGENT",
    "two\nlines; one LF",
    "Invoice, March 2017",
    "Lunch 🍕 Friday?",
    "=HYPERLINK(\"http://x\")",
    "",
    "  leading spaces",
];

/// A random well-formed event of April 2017 (a little before and after the seed job's
/// window too); about 60% FolderBind.
pub(super) fn legacy_event(rng: &mut Rng, n: usize) -> LegacyEvent {
    let folder_bind = rng.chance(600);
    let op = if folder_bind {
        "FolderBind"
    } else {
        rng.pick(&[
            "Move",
            "SoftDelete",
            "HardDelete",
            "SendAs",
            "SendOnBehalf",
            "MessageBind",
            "Update",
            "Create",
            "MoveToDeletedItems",
            "Copy",
            "MailItemsAccessed",
        ])
    };
    let logon = rng.pick(&[
        "Owner",
        "Delegate",
        "Admin",
        "SystemService",
        "Transport",
        "",
    ]);
    let (day, hour) = (5 + rng.below(28), rng.below(24));
    let (month, day) = if day > 30 { (5, day - 30) } else { (4, day) };
    let (h12, tt) = match hour {
        0 => (12, "AM"),
        1..=11 => (hour, "AM"),
        12 => (12, "PM"),
        _ => (hour - 12, "PM"),
    };
    let time = if rng.chance(5) {
        "not a date".to_string()
    } else {
        format!(
            "{month}/{day}/2017 {h12}:{:02}:{:02} {tt}",
            rng.below(60),
            rng.below(60)
        )
    };
    let mailbox = rng.pick(&["test1@contoso.com", "test1@contoso.com", "eve@contoso.com"]);
    let subjects = (0..rng.below(3))
        .map(|_| rng.pick(SUBJECTS))
        .collect::<Vec<_>>()
        .join(",");
    let (item_subject, list) = match (folder_bind, rng.chance(500)) {
        (true, _) => (String::new(), String::new()),
        (false, true) => (rng.pick(SUBJECTS).to_string(), String::new()),
        (false, false) => (String::new(), format!(" {subjects}")),
    };
    let folder = rng.pick(&[
        "\\Inbox",
        "\\Sent Items",
        "\\Deleted Items",
        "\\Mappe\r\nneu",
        "\\a\nb",
        "",
    ]);
    let client = rng.pick(&[
        "Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)",
        "Client=MSExchangeRPC",
        "Client=REST;Client=RESTSystem;;",
        "",
    ]);
    let entry = |rng: &mut Rng, len: usize| -> String {
        (0..len)
            .map(|_| {
                char::from(
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij0123456789+/"[rng.below(48) as usize],
                )
            })
            .collect()
    };
    let values = LEGACY_COLUMNS
        .iter()
        .map(|&c| {
            let v = match c {
                "Operation" => op.to_string(),
                "OperationResult" => "Succeeded".into(),
                "LogonType" => logon.into(),
                "ExternalAccess" => rng.pick(&["False", "True"]).into(),
                "FolderId" | "ItemId" | "SourceItemIdsList" => entry(rng, 140),
                "FolderPathName" => folder.into(),
                "FolderName" => folder.trim_start_matches('\\').into(),
                "ClientInfoString" => client.into(),
                "ClientIPAddress" => rng
                    .pick(&["192.0.2.15", "203.0.113.7", "2001:db8::7", ""])
                    .into(),
                "ClientMachineName" => rng.pick(&["", "WS-0042"]).into(),
                "ClientProcessName" => rng.pick(&["", "OUTLOOK.EXE", "w3wp.exe"]).into(),
                "InternalLogonType" => logon.into(),
                "MailboxOwnerUPN" => mailbox.into(),
                "MailboxOwnerSid" => "S-1-5-21-1111111111-2222222222-3333333333-1001".into(),
                "DestMailboxOwnerUPN" => rng.pick(&["", "discovery@contoso.com"]).into(),
                "CrossMailboxOperation" => rng.pick(&["False", "True", ""]).into(),
                "LogonUserDisplayName" => rng
                    .pick(&[
                        "Test User 1",
                        "Eve Attacker",
                        "Exchange Admin",
                        "Müller, Jürgen",
                    ])
                    .into(),
                "LogonUserSid" => format!(
                    "S-1-5-21-1111111111-2222222222-3333333333-{}",
                    1000 + rng.below(3)
                ),
                "SourceItems" | "SourceFolders" => "System.Collections.ArrayList".into(),
                "SourceItemSubjectsList" => list.clone(),
                "SourceItemFolderPathNamesList" => folder.into(),
                "ItemSubject" => item_subject.clone(),
                "DirtyProperties" => rng.pick(&["", "Subject, Body", "IsRead"]).into(),
                "OriginatingServer" => "AM6PR04MB5512 (15.20.7362.019)".into(),
                "SessionId" | "MailboxGuid" => entry(rng, 36),
                "MailboxResolvedOwnerName" => "Test User 1".into(),
                "LastAccessed" => time.clone(),
                "Identity" if rng.chance(950) => format!("RgAAAAD{n:08}{}", entry(rng, 24)),
                "IsValid" => "True".into(),
                "ObjectState" => "Unchanged".into(),
                _ => String::new(), // RunspaceId, PSComputerName: per export
            };
            (c, v)
        })
        .collect();
    LegacyEvent { values }
}

/// How a generated legacy export is written.
#[derive(Clone, Copy, Debug)]
pub(super) struct Shape {
    pub(super) delimiter: char,
    pub(super) crlf: bool,
    /// Every field quoted (Windows PowerShell), or only where needed (PowerShell 7).
    pub(super) quote_all: bool,
    pub(super) final_newline: bool,
    pub(super) utf16: bool,
    pub(super) identity: bool,
    /// The columns in reverse order (another session's export of the same events).
    pub(super) reversed: bool,
    pub(super) runspace: &'static str,
}

pub(super) fn write_legacy(events: &[LegacyEvent], shape: Shape) -> Vec<u8> {
    let mut columns: Vec<usize> = (0..LEGACY_COLUMNS.len())
        .filter(|&i| shape.identity || LEGACY_COLUMNS[i] != "Identity")
        .collect();
    if shape.reversed {
        columns.reverse();
    }
    let eol = if shape.crlf { "\r\n" } else { "\n" };
    let field = |out: &mut String, value: &str| {
        if shape.quote_all || value.contains(['"', '\r', '\n', shape.delimiter]) {
            out.push('"');
            out.push_str(&value.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(value);
        }
    };
    let mut text = String::from("\u{feff}");
    for (k, &i) in columns.iter().enumerate() {
        if k > 0 {
            text.push(shape.delimiter);
        }
        field(&mut text, LEGACY_COLUMNS[i]);
    }
    for (n, event) in events.iter().enumerate() {
        text.push_str(eol);
        for (k, &i) in columns.iter().enumerate() {
            if k > 0 {
                text.push(shape.delimiter);
            }
            let (name, value) = &event.values[i];
            let value = match *name {
                "RunspaceId" => shape.runspace,
                "PSComputerName" => "outlook.office365.com",
                _ => value,
            };
            field(&mut text, value);
        }
        if n + 1 == events.len() && shape.final_newline {
            text.push_str(eol);
        }
    }
    if shape.utf16 {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    } else {
        text.into_bytes()
    }
}

pub(super) fn random_shape(rng: &mut Rng) -> Shape {
    Shape {
        delimiter: rng.pick(&[',', ',', ';']),
        crlf: rng.chance(700),
        quote_all: rng.chance(600),
        final_newline: rng.chance(500),
        utf16: rng.chance(200),
        identity: rng.chance(600),
        reversed: rng.chance(300),
        runspace: rng.pick(&[
            "6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f",
            "0b3e9c1a-77aa-4d51-b1e0-5c9d2f3a4b6c",
        ]),
    }
}
