//! The generated tenant (users, folders, clients) and one audit event, written as a legacy
//! Export-Csv row or as a Unified Audit Log AuditData object.

use super::{csv_field, en_us_time, seed_subject_matches, Rng, Summary};
use super::{END_MS, WINDOW};

// The Unified Audit Log writers: AuditData objects, in CSV cells or one a line.
#[path = "ual.rs"]
mod ual;
// The PowerShell `ConvertTo-Json` dumps of the legacy events.
#[path = "ps.rs"]
mod ps;
pub use ps::Shell;

/// The 55 Exchange Online columns of `Search-MailboxAuditLog -ShowDetails`, in order.
pub const LEGACY_HEADER: &str = "\u{FEFF}\"Operation\",\"OperationResult\",\"LogonType\",\
\"ExternalAccess\",\"DestFolderId\",\"DestFolderPathName\",\"FolderId\",\"FolderPathName\",\
\"FolderName\",\"MemberRights\",\"MemberSid\",\"MemberUpn\",\"ClientInfoString\",\
\"ClientIPAddress\",\"ClientIP\",\"ClientMachineName\",\"ClientProcessName\",\"ClientVersion\",\
\"InternalLogonType\",\"MailboxOwnerUPN\",\"MailboxOwnerSid\",\"DestMailboxOwnerUPN\",\
\"DestMailboxOwnerSid\",\"DestMailboxGuid\",\"CrossMailboxOperation\",\"LogonUserDisplayName\",\
\"LogonUserSid\",\"SourceItems\",\"SourceFolders\",\"SourceItemIdsList\",\
\"SourceItemSubjectsList\",\"SourceItemAttachmentsList\",\"SourceItemFolderPathNamesList\",\
\"SourceFolderPathNamesList\",\"SourceItemInternetMessageIdsList\",\"ItemId\",\"ItemSubject\",\
\"ItemAttachments\",\"ItemInternetMessageId\",\"DirtyProperties\",\"OriginatingServer\",\
\"SessionId\",\"OperationProperties\",\"AuditOperationsCountInAggregatedRecord\",\
\"AggregatedRecordFoldersData\",\"AppId\",\"ClientAppId\",\"ItemIsRecord\",\
\"ItemComplianceLabel\",\"MailboxGuid\",\"MailboxResolvedOwnerName\",\"LastAccessed\",\
\"Identity\",\"IsValid\",\"ObjectState\"\r\n";

/// Purview (classic) audit search export header.
pub const UAL_CSV_HEADER: &str = "\u{FEFF}RecordId,CreationDate,RecordType,Operation,UserId,\
AuditData,AssociatedAdminUnits,AssociatedAdminUnitsNames\r\n";

const SID_PREFIX: &str = "S-1-5-21-1111111111-2222222222-3333333333-";
const DOMAIN: &str = "contoso.com";
const ORG_NAME: &str = "contoso.onmicrosoft.com";

/// (display name, alias): mailbox owners, who are also each other's delegates.
const USERS: &[(&str, &str)] = &[
    ("Test User 1", "test1"),
    ("Megan Bowen", "meganb"),
    ("Alex Wilber", "alexw"),
    ("Jürgen Müller", "jmuller"),
    ("Zoë Ødegaard", "zodegaard"),
    ("François Lefèvre", "flefevre"),
    ("José Núñez", "jnunez"),
    ("Eve Attacker", "eve"),
    ("Adele Vance", "adelev"),
    ("Lee Gu", "leeg"),
    ("Nestor Wilke", "nestorw"),
    ("Pradeep Gupta", "pradeepg"),
    ("Diego Siciliani", "diegos"),
    ("Isaiah Langer", "isaiahl"),
    ("Lidia Holloway", "lidiah"),
    ("Lynne Robbins", "lynner"),
    ("Grady Archie", "gradya"),
    ("Joni Sherman", "jonis"),
    ("Miriam Graham", "miriamg"),
    ("Patti Fernandez", "pattif"),
    ("Henrietta Mueller", "henriettam"),
    ("Johanna Lorenz", "johannal"),
    ("Chloé Dubois", "cdubois"),
    ("Ana Sofía Pérez", "aperez"),
];

/// (display name, SID suffix, IP, machine).
const ADMINS: &[(&str, &str, &str, &str)] = &[
    ("Exchange Admin", "500", "198.51.100.20", "ADMIN-WKS02"),
    ("Compliance Officer", "1105", "198.51.100.33", "LEGAL-LT07"),
];

/// (logon user, ClientInfoString, process).
const SYSTEM: &[(&str, &str, &str)] = &[
    (
        "NT AUTHORITY\\SYSTEM (MSExchangeMailboxAssistants)",
        "Client=TBA;Service=MSExchangeMailboxAssistants;Action=ELCAssistant",
        "MSExchangeMailboxAssistants.exe",
    ),
    (
        "NT AUTHORITY\\SYSTEM (Microsoft.Exchange.Search.Service)",
        "Client=TBA;Service=Microsoft.Exchange.Search.Service;Action=Indexing",
        "Microsoft.Exchange.Search.Service.exe",
    ),
    (
        "NT AUTHORITY\\SYSTEM (MSExchangeMailboxReplication)",
        "Client=MSExchangeMailboxReplication;Action=MoveMailbox",
        "MSExchangeMailboxReplication.exe",
    ),
];

/// (weight, path) of the folders every mailbox has.
const FOLDERS: &[(u64, &str)] = &[
    (300, "\\Inbox"),
    (80, "\\Sent Items"),
    (70, "\\Deleted Items"),
    (50, "\\Drafts"),
    (40, "\\Archive"),
    (60, "\\Calendar"),
    (20, "\\Contacts"),
    (30, "\\Recoverable Items\\Deletions"),
    (10, "\\Recoverable Items\\Purges"),
    (40, "\\Inbox\\Finance"),
    (30, "\\Inbox\\Projects\\Contoso Merger"),
    (20, "\\Junk Email"),
    (10, "\\Notes"),
    (15, "\\Inbox\\Réunions"),
    (10, "\\Inbox\\Bestellungen – Lieferanten"),
];
const SENT: usize = 1;
const DELETED: usize = 2;
const DRAFTS: usize = 3;
const DELETIONS: usize = 7;

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/57.0.2987.133 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/51.0.2704.79 Safari/537.36 Edge/14.14393",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_12_4) AppleWebKit/603.1.30 (KHTML, like Gecko) Version/10.1 Safari/603.1.30",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:53.0) Gecko/20100101 Firefox/53.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_1 like Mac OS X) AppleWebKit/603.1.30 (KHTML, like Gecko) Version/10.0 Mobile/14E304 Safari/602.1",
];

const OUTLOOK_VERSIONS: &[&str] = &["16.0.7870.2031", "15.0.4919.1000", "16.0.8067.2115"];
const SERVERS: &[&str] = &[
    "BN6PR11MB1892 (15.01.1034.026)",
    "BN6PR11MB1795 (15.01.1061.014)",
    "CY1PR0401MB1420 (15.01.1034.026)",
    "DM5PR06MB2761 (15.01.1075.010)",
];
const REST_APPS: &[&str] = &[
    "00000002-0000-0ff1-ce00-000000000000",
    "d3590ed6-52b3-4102-aeff-aad2292ab01c",
    "27922004-5251-4030-b22d-91ecd9a37ea4",
];

/// Subjects that do not match the seed job's pattern, near misses included.
const SUBJECTS: &[&str] = &[
    "Quarterly results",
    "Invoice, March 2017",
    "He said \"hi\"",
    "Wire transfer",
    "RE: Project Falcon – status update",
    "FW: Your Microsoft invoice 0048-2231",
    "Réunion d'équipe – lundi 10h",
    "Größenänderung der Präsentation",
    "Lunch 🍕 on Friday?",
    "🎉 Team offsite photos",
    "Zoë's farewell party",
    "Updated: Weekly sync (Microsoft Teams meeting)",
    "Accepted: 1:1 Megan / Alex",
    "Resume of yesterday's discussion",
    "Goodnews newsletter #42",
    "good-news bulletin – April",
    "Your resumé draft (typo fixed)",
    "Contract renewal – Fabrikam, Inc.",
    "Re: Re: Re: budget 2017/2018",
    "Out of Office: Jürgen Müller",
    "Password expiry notice",
    "[EXTERNAL] Action required: verify your account",
    "Board minutes – CONFIDENTIAL",
    "Shipping confirmation #A-99812",
    "Q2 forecast v7 (final) (final)",
    "Café order for the all-hands ☕",
    "Undeliverable: Meeting notes",
    "Expense report – Zürich trip",
    "Merger due diligence – data room access",
    "",
];

/// Subjects that match `good news|résumé` (case-insensitively).
const MATCHING: &[&str] = &[
    "Good News",
    "RE: Good News",
    "GOOD NEWS: we won the Fabrikam bid!",
    "Some good news about your refund",
    "Résumé – Jürgen Müller",
    "RÉSUMÉ_final_v3.docx",
    "FW: résumé for the open position",
    "Good newspaper subscription renewal",
    "Re: Résumé et lettre de motivation",
];

const LINE_BREAK_TAILS: &[&str] = &[
    "URGENT",
    "(2nd attempt)",
    "Sent from my iPhone",
    "– please read",
];

pub struct User {
    display: &'static str,
    upn: String,
    resolved: String,
    sid: String,
    guid: String,
    ip: String,
    pc: String,
    puid: String,
    /// The mailbox part of its store entry ids (base64).
    store: String,
    folder_ids: Vec<String>,
}

/// The tenant: users, their mailboxes and folders.
pub struct World {
    users: Vec<User>,
    org_id: String,
    discovery_guid: String,
}

impl User {
    /// A store entry id as exports show them (~96 base64 characters, mailbox prefix).
    fn item_id(&self, rng: &mut Rng) -> String {
        rng.entry_id(&format!("RgAAAAA{}BwA", self.store), 61)
    }
}

impl World {
    pub fn new(rng: &mut Rng) -> World {
        let users = USERS
            .iter()
            .enumerate()
            .map(|(i, &(display, alias))| {
                let ip = if i % 5 == 3 {
                    format!("2001:db8:4a1:17::{:x}", 0x100 + i)
                } else if alias == "eve" {
                    "203.0.113.7".to_string()
                } else {
                    format!("192.0.2.{}", 10 + i)
                };
                let store = rng.entry_id("", 25);
                let folder_ids = FOLDERS
                    .iter()
                    .map(|_| rng.entry_id(&format!("LgAAAAA{store}AQ"), 30))
                    .collect();
                User {
                    display,
                    upn: format!("{alias}@{DOMAIN}"),
                    resolved: format!("CONTOSO\\{alias}"),
                    sid: format!("{SID_PREFIX}{}", 1001 + i),
                    guid: rng.guid(),
                    ip,
                    pc: format!("DESKTOP-{}", rng.hex_upper(7)),
                    puid: format!("10037FFE{}", rng.hex_upper(8)),
                    store,
                    folder_ids,
                }
            })
            .collect();
        World {
            users,
            org_id: rng.guid(),
            discovery_guid: rng.guid(),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Logon {
    Owner,
    Admin,
    Delegate,
    SystemService,
}

impl Logon {
    fn name(self) -> &'static str {
        match self {
            Logon::Owner => "Owner",
            Logon::Admin => "Admin",
            Logon::Delegate => "Delegate",
            Logon::SystemService => "SystemService",
        }
    }
    fn code(self) -> u8 {
        match self {
            Logon::Owner => 0,
            Logon::Admin => 1,
            Logon::Delegate => 2,
            Logon::SystemService => 4,
        }
    }
}

/// What an operation touches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// FolderBind: a folder, no item.
    Folder,
    /// One item (ExchangeItem in the UAL).
    Item,
    /// Source items moved, copied or deleted (ExchangeItemGroup in the UAL).
    Group,
    /// MailItemsAccessed (ExchangeItemAggregated).
    Access,
    /// An Azure AD sign-in: not a mailbox record.
    SignIn,
}

const LEGACY_OPS: &[(u64, (&str, Kind))] = &[
    (600, ("FolderBind", Kind::Folder)),
    (120, ("MessageBind", Kind::Item)),
    (50, ("SoftDelete", Kind::Group)),
    (25, ("HardDelete", Kind::Group)),
    (50, ("MoveToDeletedItems", Kind::Group)),
    (40, ("Move", Kind::Group)),
    (10, ("Copy", Kind::Group)),
    (15, ("SendAs", Kind::Item)),
    (10, ("SendOnBehalf", Kind::Item)),
    (40, ("Create", Kind::Item)),
    (40, ("Update", Kind::Item)),
];

const UAL_OPS: &[(u64, (&str, Kind))] = &[
    (500, ("MailItemsAccessed", Kind::Access)),
    (60, ("SoftDelete", Kind::Group)),
    (30, ("HardDelete", Kind::Group)),
    (60, ("MoveToDeletedItems", Kind::Group)),
    (50, ("Move", Kind::Group)),
    (10, ("Copy", Kind::Group)),
    (20, ("SendAs", Kind::Item)),
    (10, ("SendOnBehalf", Kind::Item)),
    (30, ("Send", Kind::Item)),
    (30, ("Create", Kind::Item)),
    (40, ("Update", Kind::Item)),
    (70, ("UserLoggedIn", Kind::SignIn)),
    (30, ("UserLoginFailed", Kind::SignIn)),
];

const LOGONS: &[(u64, Logon)] = &[
    (620, Logon::Owner),
    (180, Logon::Delegate),
    (100, Logon::Admin),
    (100, Logon::SystemService),
];

struct Item {
    id: String,
    subject: String,
    imid: String,
    size: u64,
    attachments: String,
}

/// One audit event, ready to be written in either family.
pub struct Event<'w> {
    op: &'static str,
    kind: Kind,
    result: &'static str,
    logon: Logon,
    owner: &'w User,
    actor_name: &'w str,
    actor_sid: String,
    actor_upn: &'w str,
    client_info: String,
    ip: &'w str,
    machine: &'w str,
    process: &'w str,
    version: &'w str,
    app_id: &'static str,
    folder: usize,
    dest_folder: Option<usize>,
    items: Vec<Item>,
    cross: bool,
    session: String,
    server: &'static str,
    time_ms: i64,
    identity: String,
    multiline: bool,
    sync: bool,
    dirty: &'static str,
}

impl<'w> Event<'w> {
    pub fn new(rng: &mut Rng, world: &'w World, ual: bool, time_ms: i64) -> Event<'w> {
        let (op, kind) = rng.weighted(if ual { UAL_OPS } else { LEGACY_OPS });
        let owner_ix = rng.below(world.users.len() as u64) as usize;
        let owner = &world.users[owner_ix];
        let logon = match (op, kind) {
            ("SendAs" | "SendOnBehalf", _) => Logon::Delegate,
            (_, Kind::SignIn) => Logon::Owner,
            _ => rng.weighted(LOGONS),
        };
        let result = rng.weighted(&[
            (970, "Succeeded"),
            (20, "Failed"),
            (10, "PartiallySucceeded"),
        ]);
        let mut ev = Event {
            op,
            kind,
            result,
            logon,
            owner,
            actor_name: owner.display,
            actor_sid: owner.sid.clone(),
            actor_upn: &owner.upn,
            client_info: String::new(),
            ip: "",
            machine: "",
            process: "",
            version: "",
            app_id: "",
            folder: rng.weighted(&FOLDER_INDEXES),
            dest_folder: None,
            items: Vec::new(),
            cross: false,
            session: String::new(),
            server: rng.pick(SERVERS),
            time_ms,
            identity: if ual { rng.guid() } else { owner.item_id(rng) },
            multiline: false,
            sync: false,
            dirty: "",
        };
        ev.choose_actor_and_client(rng, world, owner_ix);
        ev.choose_folders_and_items(rng, ual);
        if !ual && rng.chance(100) {
            // A raw line break inside a quoted field: in a subject when there is one.
            ev.multiline = true;
            match ev.items.first_mut() {
                Some(item) if rng.chance(500) => {
                    item.subject.push_str("\r\n");
                    let tail = rng.pick(LINE_BREAK_TAILS);
                    item.subject.push_str(tail);
                }
                _ => match ev.client_info.rfind(';') {
                    Some(i) => ev.client_info.insert_str(i + 1, "\r\n"),
                    None => ev.client_info.push_str("\r\n"),
                },
            }
        }
        ev
    }

    fn choose_actor_and_client(&mut self, rng: &mut Rng, world: &'w World, owner_ix: usize) {
        let mut who = self.owner;
        match self.logon {
            Logon::Owner => {}
            Logon::Delegate => {
                let n = world.users.len() as u64;
                let d = (owner_ix as u64 + 1 + rng.below(n - 1)) % n;
                who = &world.users[d as usize];
                self.actor_name = who.display;
                self.actor_sid = who.sid.clone();
                self.actor_upn = &who.upn;
            }
            Logon::Admin => {
                let (name, sid, ip, machine) = rng.pick(ADMINS);
                self.actor_name = name;
                self.actor_sid = format!("{SID_PREFIX}{sid}");
                self.actor_upn = "admin@contoso.onmicrosoft.com";
                self.client_info = "Client=MSExchangeRPC".into();
                self.ip = ip;
                self.machine = machine;
                self.process = "OUTLOOK.EXE";
                self.version = "15.0.4919.1000";
                self.session = rng.guid();
                return;
            }
            Logon::SystemService => {
                let (name, info, process) = rng.pick(SYSTEM);
                self.actor_name = name;
                self.actor_sid = "S-1-5-18".into();
                self.actor_upn = name;
                self.client_info = info.into();
                self.machine = self.server.split(' ').next().unwrap_or("");
                self.process = process;
                self.version = "15.1.1034.26";
                return;
            }
        }
        self.ip = &who.ip;
        self.session = rng.guid();
        match rng.below(20) {
            0..=5 => {
                self.client_info = "Client=MSExchangeRPC".into();
                self.machine = &who.pc;
                self.process = "OUTLOOK.EXE";
                self.version = rng.pick(OUTLOOK_VERSIONS);
            }
            6..=15 => {
                self.client_info = format!("Client=OWA;{};Action=ViaProxy", rng.pick(USER_AGENTS));
            }
            16..=17 => {
                self.client_info = format!(
                    "Client=ActiveSync;UserAgent=Apple-iPhone9C1/1402.86;Action=/Microsoft-Server-ActiveSync/Proxy/default.eas?User={}&DeviceId={}&DeviceType=iPhone&Cmd=Sync",
                    who.upn,
                    rng.hex_upper(32)
                );
            }
            18 => {
                self.client_info =
                    "Client=WebServices;ExchangeServicesClient/15.00.0913.015;".into();
            }
            _ => {
                self.client_info = "Client=REST;Client=RESTSystem;;".into();
                self.app_id = rng.pick(REST_APPS);
            }
        }
    }

    fn choose_folders_and_items(&mut self, rng: &mut Rng, ual: bool) {
        let n_items = match (self.op, self.kind) {
            (_, Kind::Folder | Kind::SignIn) => 0,
            (_, Kind::Item) => 1,
            (_, Kind::Access) => 1 + rng.below(6) as usize,
            _ => rng.weighted(&[(700, 1), (200, 2), (100, 3)]),
        };
        match self.op {
            "SendAs" | "SendOnBehalf" | "Send" => self.folder = SENT,
            "Create" | "Update" if rng.chance(500) => self.folder = DRAFTS,
            "MoveToDeletedItems" => self.dest_folder = Some(DELETED),
            "HardDelete" if rng.chance(600) => self.folder = DELETED,
            "SoftDelete" => self.dest_folder = Some(DELETIONS),
            "Move" | "Copy" => {
                let d = rng.weighted(&FOLDER_INDEXES);
                self.dest_folder = Some(if d == self.folder { 4 } else { d });
                self.cross = self.op == "Copy" && self.logon == Logon::Admin && rng.chance(500);
            }
            _ => {}
        }
        if self.op == "Update" {
            self.dirty = rng.pick(&["Subject, Body", "IsRead", "Categories", "FlagStatus"]);
        }
        self.sync = self.kind == Kind::Access && rng.chance(150);
        let hit_rate = if ual { 30 } else { 25 };
        let hit = matches!(self.kind, Kind::Item | Kind::Group) && rng.chance(hit_rate);
        for i in 0..n_items {
            let subject = if hit && i == 0 {
                rng.pick(MATCHING)
            } else {
                rng.pick(SUBJECTS)
            };
            let attachments = if rng.chance(200) {
                format!(
                    "{} ({}b)",
                    rng.pick(&[
                        "Q1-report.xlsx",
                        "invoice.pdf",
                        "Lebenslauf.pdf",
                        "IMG_0412.JPG"
                    ]),
                    10_000 + rng.below(2_000_000)
                )
            } else {
                String::new()
            };
            self.items.push(Item {
                id: self.owner.item_id(rng),
                subject: subject.to_string(),
                imid: format!(
                    "<{}@{}>",
                    rng.hex_upper(16),
                    rng.pick(&[
                        "contoso.com",
                        "fabrikam.com",
                        "BN6PR11MB1892.namprd11.prod.outlook.com",
                        "mail.gmail.com"
                    ])
                ),
                size: 2_000 + rng.below(400_000),
                attachments,
            });
        }
    }

    /// Adds this event to the counts, and to the seed job's expected rows if it qualifies.
    pub fn count(&self, s: &mut Summary) {
        s.records += 1;
        s.folder_bind += u64::from(self.op == "FolderBind");
        s.non_mailbox += u64::from(self.kind == Kind::SignIn);
        let mailbox = self.kind != Kind::SignIn;
        let script_logon = self.logon != Logon::SystemService;
        s.other_logon += u64::from(mailbox && !script_logon);
        s.multiline += u64::from(self.multiline);
        let hit = self.items.iter().any(|i| seed_subject_matches(&i.subject));
        s.subject_hits += u64::from(hit);
        let in_window = (WINDOW.0..WINDOW.1).contains(&self.time_ms);
        s.expected_rows +=
            u64::from(hit && in_window && mailbox && script_logon && self.op != "FolderBind");
    }

    fn folder_path(&self, i: usize) -> &'static str {
        FOLDERS[i].1
    }

    /// One `Search-MailboxAuditLog -ShowDetails | Export-Csv` row, CRLF-terminated.
    pub fn write_legacy(&self, world: &World, out: &mut Vec<u8>) {
        self.with_legacy_values(world, |fields| {
            for (i, f) in fields.iter().enumerate() {
                csv_field(out, f, i == 0);
            }
        });
        out.extend_from_slice(b"\r\n");
    }

    /// Calls `write` with the values of the 55 columns of [`LEGACY_HEADER`], as Export-Csv
    /// writes them (the PowerShell JSON dumps type some of them).
    fn with_legacy_values(&self, world: &World, write: impl FnOnce(&[&str; 55])) {
        let o = self.owner;
        let group = self.kind == Kind::Group;
        let item = self.items.first().filter(|_| !group);
        let join = |f: &dyn Fn(&Item) -> &str| -> String {
            if !group {
                return String::new();
            }
            self.items.iter().map(f).collect::<Vec<_>>().join(", ")
        };
        let mut subjects = join(&|i| &i.subject);
        if group && self.identity.as_bytes()[self.identity.len() - 1].is_multiple_of(2) {
            subjects.insert(0, ' '); // the cmdlet often writes a leading space
        }
        let (dest_id, dest_path) = match self.dest_folder {
            Some(d) if !self.cross => (o.folder_ids[d].as_str(), self.folder_path(d)),
            Some(_) => (o.folder_ids[4].as_str(), "\\Test User 1-20170413"),
            None => ("", ""),
        };
        let (dest_upn, dest_sid, dest_guid) = if self.cross {
            (
                "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}@contoso.onmicrosoft.com",
                "S-1-5-21-1111111111-2222222222-3333333333-1140",
                world.discovery_guid.as_str(),
            )
        } else {
            ("", "", "")
        };
        let is_item = matches!(self.kind, Kind::Item | Kind::Group);
        let fields: [&str; 55] = [
            self.op,
            self.result,
            self.logon.name(),
            "False",
            dest_id,
            dest_path,
            &o.folder_ids[self.folder],
            self.folder_path(self.folder),
            "",
            "",
            "",
            "",
            &self.client_info,
            self.ip,
            "",
            self.machine,
            self.process,
            self.version,
            self.logon.name(),
            &o.upn,
            &o.sid,
            dest_upn,
            dest_sid,
            dest_guid,
            if self.cross { "True" } else { "False" },
            self.actor_name,
            &self.actor_sid,
            "System.Collections.ArrayList",
            "System.Collections.ArrayList",
            &join(&|i| &i.id),
            &subjects,
            &join(&|i| &i.attachments),
            &join(&|_| self.folder_path(self.folder)),
            "",
            &join(&|i| &i.imid),
            item.map_or("", |i| &i.id),
            item.map_or("", |i| &i.subject),
            item.map_or("", |i| &i.attachments),
            item.map_or("", |i| &i.imid),
            self.dirty,
            self.server,
            &self.session,
            "",
            "",
            "",
            self.app_id,
            "",
            if is_item { "False" } else { "" },
            "",
            &o.guid,
            &o.resolved,
            &en_us_time(self.time_ms),
            &self.identity,
            "True",
            "New",
        ];
        write(&fields);
    }
}

/// Folder indexes weighted as [`FOLDERS`].
const FOLDER_INDEXES: [(u64, usize); 15] = {
    let mut out = [(0u64, 0usize); 15];
    let mut i = 0;
    while i < FOLDERS.len() {
        out[i] = (FOLDERS[i].0, i);
        i += 1;
    }
    out
};

// END_MS is the newest time a generator writes; checked here so the window test stays true.
const _: () = assert!(END_MS < WINDOW.1);
