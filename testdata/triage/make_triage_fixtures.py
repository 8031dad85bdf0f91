#!/usr/bin/env python3
"""Generate the triage fixtures in testdata/triage/: for each rule of `mbxaudit triage`,
one small export that fires it (`<rule>_fires.*`) and one that must not (`<rule>_quiet.*`,
near misses), plus `html_escape.csv` (hostile values for the HTML report).

Standard library only, deterministic: running it twice writes byte-identical files.
Legacy files are `Search-MailboxAuditLog | Export-Csv` (UTF-8 BOM, CRLF, every field
quoted, a subset of the columns, ISO times without offset: read as UTC); UAL files are
`Search-UnifiedAuditLog | Export-Csv` (AuditData JSON in a cell) or JSON Lines of
AuditData objects.

The story: mailbox test1@contoso.com (Test User 1, Outlook from 192.0.2.15) in March 2024;
Eve (eve@contoso.com, a delegate) and an attacker with the owner's password abuse it.

    python3 testdata/triage/make_triage_fixtures.py
"""

from __future__ import annotations

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

MAILBOX = "test1@contoso.com"
OWNER = "Test User 1"
OWNER_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
EVE = "eve@contoso.com"
EVE_NAME = "Eve Attacker"
EVE_SID = "S-1-5-21-1111111111-2222222222-3333333333-1337"
ORG = "8d4121ed-0008-406d-bff9-0d5bb312183c"
OUTLOOK = "Client=MSExchangeRPC"
OWA = "Client=OWA;Mozilla/5.0"
REST = "Client=REST;Client=RESTSystem;;"
OWNER_IP = "192.0.2.15"
EVE_IP = "203.0.113.7"

LEGACY_HEADER = ["Operation", "OperationResult", "LogonType", "FolderPathName",
                 "ClientInfoString", "ClientIPAddress", "MailboxOwnerUPN",
                 "MailboxResolvedOwnerName", "LogonUserDisplayName", "ItemSubject",
                 "SourceItemSubjectsList", "LastAccessed", "Identity"]


def t(day: int, hour: int, minute: int, second: int = 0) -> str:
    return f"2024-03-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def quote_all(fields: list[str]) -> str:
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields)


def write(name: str, text: str, *, bom: bool = False) -> None:
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


class Legacy:
    """Rows of a legacy export; each gets a unique Identity."""

    def __init__(self, name: str, seed: int):
        self.name = name
        self.seed = seed
        self.rows: list[list[str]] = []

    def add(self, time: str, op: str, *, actor: str = "owner", folder: str = "\\Inbox",
            subject: str = "", source: str = "", ip: str | None = None,
            client: str | None = None, logon: str | None = None) -> None:
        owner = actor == "owner"
        name = {"owner": OWNER, "eve": EVE_NAME}.get(actor, actor)
        n = len(self.rows) + 1
        self.rows.append([
            op, "Succeeded", logon or ("Owner" if owner else "Delegate"), folder,
            client or (OUTLOOK if owner else OWA), ip or (OWNER_IP if owner else EVE_IP),
            MAILBOX, "CONTOSO\\test1", name, subject, source, time, f"Rg{self.seed:02d}{n:04d}",
        ])

    def save(self) -> None:
        self.rows.sort(key=lambda r: r[11], reverse=True)  # newest first, as the cmdlet
        lines = [quote_all(LEGACY_HEADER)] + [quote_all(r) for r in self.rows]
        write(self.name, "\r\n".join(lines) + "\r\n", bom=True)


def uid(n: int) -> str:
    return f"{n:08x}-7a1e-4c2b-8d3a-{n * 7919:012x}"


def mailbox_record(n: int, time: str, op: str, rtype: int, *, actor: str = EVE,
                   logon: int = 2, ip: str = EVE_IP, client: str = REST,
                   extra: dict | None = None) -> dict:
    r = {
        "CreationTime": time, "Id": uid(n), "Operation": op, "OrganizationId": ORG,
        "RecordType": rtype, "ResultStatus": "Succeeded", "UserType": 0, "Version": 1,
        "Workload": "Exchange", "ClientIP": ip, "UserId": actor,
        "ClientIPAddress": ip, "ClientInfoString": client, "ExternalAccess": False,
        "LogonType": logon, "LogonUserSid": EVE_SID if actor == EVE else OWNER_SID,
        "MailboxGuid": "5b1c2a9e-0d7f-4e0b-9a51-2f3c9d1e7a10", "MailboxOwnerSid": OWNER_SID,
        "MailboxOwnerUPN": MAILBOX,
    }
    r.update(extra or {})
    return r


def mia(n: int, time: str, access: str, throttled: bool, items: int, *, actor: str = EVE,
        logon: int = 2, ip: str = EVE_IP, folder: str = "\\Inbox") -> dict:
    folder_items = [{"Id": f"RgAAAA{n:04d}{i:03d}", "InternetMessageId": f"<m{n}.{i}@contoso.com>",
                     "SizeInBytes": 4000 + i} for i in range(items)]
    f = {"Id": f"LgAAAA{n:04d}", "Path": folder}
    if folder_items:
        f["FolderItems"] = folder_items
    return mailbox_record(n, time, "MailItemsAccessed", 50, actor=actor, logon=logon, ip=ip,
                          extra={
                              "OperationCount": max(items, 1),
                              "OperationProperties": [
                                  {"Name": "MailAccessType", "Value": access},
                                  {"Name": "IsThrottled", "Value": "True" if throttled else "False"},
                              ],
                              "Folders": [f],
                          })


def admin_record(n: int, time: str, op: str, object_id: str, params: list[tuple[str, str]], *,
                 actor: str = EVE, ip: str = EVE_IP + ":51190") -> dict:
    return {
        "CreationTime": time, "Id": uid(n), "Operation": op, "OrganizationId": ORG,
        "RecordType": 1, "ResultStatus": "True", "UserType": 2, "Version": 1,
        "Workload": "Exchange", "ClientIP": ip, "ObjectId": object_id, "UserId": actor,
        "ExternalAccess": False,
        "Parameters": [{"Name": k, "Value": v} for k, v in params],
    }


RECORD_TYPE_NAMES = {1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup",
                     50: "ExchangeItemAggregated"}
SUA_HEADER = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData",
              "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"]


def us_date(iso: str) -> str:
    date, time = iso.split("T")
    y, m, d = (int(x) for x in date.split("-"))
    hh, mm, ss = (int(x) for x in time.split(":"))
    return f"{m}/{d}/{y} {hh % 12 or 12}:{mm:02d}:{ss:02d} {'AM' if hh < 12 else 'PM'}"


def sua_csv(name: str, records: list[dict]) -> None:
    lines = [quote_all(SUA_HEADER)]
    for i, r in enumerate(records):
        audit = json.dumps(r, separators=(",", ":")).replace("/", "\\/")
        lines.append(quote_all([RECORD_TYPE_NAMES[r["RecordType"]], us_date(r["CreationTime"]),
                                r["UserId"], r["Operation"], audit, str(i + 1),
                                str(len(records)), r["Id"], "True", "Unchanged"]))
    write(name, "\r\n".join(lines) + "\r\n")


def jsonl(name: str, records: list[dict]) -> None:
    write(name, "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records))


# --------------------------------------------------------------------------
# mass-deletion: >= 50 messages deleted by one user in one mailbox within 1h
# --------------------------------------------------------------------------

def mass_deletion() -> None:
    fires = Legacy("mass_deletion_fires.csv", 1)
    for i in range(3):  # the owner tidies up, days before
        fires.add(t(12, 8, 10 + i), "MoveToDeletedItems", folder="\\Inbox",
                  source=f"Newsletter {i + 1}")
    for i in range(30):  # Eve purges the Inbox in 40 minutes...
        fires.add(t(14, 9, i, 15), "SoftDelete", actor="eve", source=f" Invoice {1000 + i}")
    for i in range(22):  # ...and the Recoverable Items
        fires.add(t(14, 9, 30 + i // 2, 30 * (i % 2)), "HardDelete", actor="eve",
                  folder="\\Recoverable Items\\Deletions", source=f" Invoice {1000 + i}")
    fires.save()

    quiet = Legacy("mass_deletion_quiet.csv", 2)
    for i in range(49):  # the owner deletes 49 newsletters in an hour: one short
        quiet.add(t(14, 8, i, 5), "MoveToDeletedItems", source=f" Newsletter {i + 1}")
    for i in range(24):  # Eve deletes 24, 8 an hour over 3 hours
        quiet.add(t(14, 10 + i // 8, (i % 8) * 7, 0), "SoftDelete", actor="eve",
                  source=f" Report {i + 1}")
    quiet.save()


# --------------------------------------------------------------------------
# non-owner-access: >= 25 folders/messages opened by a delegate or admin within 1h
# --------------------------------------------------------------------------

def non_owner_access() -> None:
    fires = [mia(100 + i, t(14, 11, 5 + 7 * i), "Bind", False, 10) for i in range(3)]
    jsonl("non_owner_access_fires.jsonl", fires)
    quiet = [
        # The owner reads 30 messages: owners are not judged by this rule.
        mia(110, t(14, 11, 0), "Bind", False, 15, actor=MAILBOX, logon=0, ip=OWNER_IP),
        mia(111, t(14, 11, 20), "Bind", False, 15, actor=MAILBOX, logon=0, ip=OWNER_IP),
        # Eve reads 20 in an hour, and 20 again three hours later: below 25 each time.
        mia(112, t(14, 11, 5), "Bind", False, 12),
        mia(113, t(14, 11, 50), "Bind", False, 8),
        mia(114, t(14, 14, 55), "Bind", False, 20),
    ]
    jsonl("non_owner_access_quiet.jsonl", quiet)


# --------------------------------------------------------------------------
# send-as-other: SendAs / SendOnBehalf by someone other than the owner
# --------------------------------------------------------------------------

def send_as() -> None:
    fires = Legacy("send_as_fires.csv", 3)
    fires.add(t(14, 9, 20, 45), "SendAs", actor="eve", folder="\\Sent Items",
              subject="Urgent: updated bank details")
    fires.add(t(14, 9, 24, 2), "SendOnBehalf", actor="eve", folder="\\Sent Items",
              subject="RE: Invoice 1042")
    fires.add(t(14, 9, 30, 0), "Create", folder="\\Drafts", subject="Lunch?")
    fires.save()
    quiet = Legacy("send_as_quiet.csv", 4)
    # The owner's own SendAs (a shared address) and Eve's ordinary delegate work.
    quiet.add(t(14, 9, 20, 45), "SendAs", folder="\\Sent Items", subject="Team update")
    quiet.add(t(14, 9, 25, 0), "Update", actor="eve", folder="\\Calendar", subject="Board meeting")
    quiet.add(t(14, 9, 26, 0), "Create", actor="eve", folder="\\Calendar", subject="Dentist")
    quiet.save()


# --------------------------------------------------------------------------
# inbox-rule: New-InboxRule / Set-InboxRule / UpdateInboxRules
# --------------------------------------------------------------------------

def inbox_rule() -> None:
    fires = [
        admin_record(200, t(14, 9, 6, 30), "New-InboxRule", "test1\\.", [
            ("Mailbox", "test1"), ("Name", "."), ("SubjectOrBodyContainsWords", "invoice;payment"),
            ("MoveToFolder", "RSS Feeds"), ("MarkAsRead", "True"), ("StopProcessingRules", "True")]),
        admin_record(201, t(14, 9, 8, 2), "Set-InboxRule", "test1\\Accounts", [
            ("Identity", "Accounts"), ("ForwardTo", "eve@evil.example")]),
        # The owner files newsletters: a rule, but nothing that hides mail.
        admin_record(202, t(13, 16, 40, 0), "New-InboxRule", "test1\\Newsletters", [
            ("Mailbox", "test1"), ("Name", "Newsletters"), ("From", "news@example.com"),
            ("MoveToFolder", "Newsletters")], actor=MAILBOX, ip=OWNER_IP),
        mailbox_record(203, t(14, 9, 5, 51), "UpdateInboxRules", 2, client=OUTLOOK, extra={
            "OperationProperties": [{"Name": "RuleName", "Value": "x"},
                                    {"Name": "RuleState", "Value": "Enabled"}]}),
    ]
    sua_csv("inbox_rule_fires.csv", fires)
    quiet = [
        admin_record(210, t(14, 9, 6, 30), "Remove-InboxRule", "test1\\Old rule",
                     [("Identity", "Old rule"), ("Confirm", "False")], actor=MAILBOX, ip=OWNER_IP),
        admin_record(211, t(14, 9, 7, 0), "Set-CASMailbox", "test1",
                     [("Identity", "test1"), ("OWAEnabled", "True")], actor="admin@contoso.com",
                     ip="198.51.100.20"),
    ]
    sua_csv("inbox_rule_quiet.csv", quiet)


# --------------------------------------------------------------------------
# mailbox-forwarding: Set-Mailbox -ForwardingSmtpAddress ...
# --------------------------------------------------------------------------

def forwarding() -> None:
    jsonl("forwarding_fires.jsonl", [
        admin_record(300, t(14, 9, 12, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1"), ("ForwardingSmtpAddress", "smtp:eve@evil.example"),
            ("DeliverToMailboxAndForward", "True")]),
    ])
    jsonl("forwarding_quiet.jsonl", [
        admin_record(310, t(14, 9, 12, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1"), ("ProhibitSendQuota", "49GB")], actor="admin@contoso.com",
            ip="198.51.100.20"),
        admin_record(311, t(14, 9, 13, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1"), ("AuditEnabled", "True")], actor="admin@contoso.com",
            ip="198.51.100.20"),
    ])


# --------------------------------------------------------------------------
# mailbox-sync and mail-access-throttled: MailItemsAccessed
# --------------------------------------------------------------------------

def mail_access() -> None:
    sua_csv("mailbox_sync_fires.csv", [
        mia(400, t(14, 10, 6, 0), "Sync", False, 0, folder="\\Inbox"),
        mia(401, t(14, 10, 6, 40), "Sync", False, 0, folder="\\Sent Items"),
        mia(402, t(14, 7, 45, 13), "Sync", False, 0, actor=MAILBOX, logon=0, ip=OWNER_IP),
    ])
    sua_csv("mailbox_sync_quiet.csv", [
        mia(410, t(14, 10, 6, 0), "Bind", False, 2, actor=MAILBOX, logon=0, ip=OWNER_IP),
        mia(411, t(14, 10, 9, 0), "Bind", False, 1),
    ])
    sua_csv("mail_access_throttled_fires.csv", [
        mia(420, t(14, 11, 0, 0), "Bind", False, 3),
        mia(421, t(14, 11, 2, 0), "Bind", True, 2),
    ])
    sua_csv("mail_access_throttled_quiet.csv", [
        mia(430, t(14, 11, 0, 0), "Bind", False, 3),
        mia(431, t(14, 11, 2, 0), "Bind", False, 2),
    ])


# --------------------------------------------------------------------------
# new-client-ip / new-client-app: first seen after a 7-day baseline
# --------------------------------------------------------------------------

def routine(log: Legacy, days: range, *, ips: list[str], clients: list[str]) -> None:
    """The owner's routine: two reads a day, 9:00 and 14:00."""
    for k, day in enumerate(days):
        for j, hour in enumerate((9, 14)):
            log.add(t(day, hour, 0, 0), "MessageBind", folder="\\Inbox",
                    subject=f"Daily report {day}.{j}", ip=ips[(k + j) % len(ips)],
                    client=clients[(k + j) % len(clients)])


def first_seen() -> None:
    fires = Legacy("new_client_ip_fires.csv", 5)
    routine(fires, range(1, 11), ips=[OWNER_IP], clients=[OUTLOOK])
    for m in (0, 2, 9):  # the owner's password, used from elsewhere
        fires.add(t(10, 22, m, 0), "MessageBind", subject="Payroll March", ip="198.51.100.66")
    fires.save()

    quiet = Legacy("new_client_ip_quiet.csv", 6)
    # Two addresses from the first day on: both known after the baseline.
    routine(quiet, range(1, 11), ips=[OWNER_IP, "192.0.2.16"], clients=[OUTLOOK])
    quiet.save()

    fires = Legacy("new_client_app_fires.csv", 7)
    routine(fires, range(1, 11), ips=[OWNER_IP], clients=[OUTLOOK])
    for m in (0, 1):  # a mail-sync tool with the owner's token, from the owner's network
        fires.add(t(10, 23, m, 0), "MessageBind", subject="Contracts", client="Client=POP3/IMAP4;Protocol=IMAP4")
    fires.save()

    quiet = Legacy("new_client_app_quiet.csv", 8)
    routine(quiet, range(1, 11), ips=[OWNER_IP], clients=[OUTLOOK, OWA])
    # Only three days of another mailbox's records: too short to judge (a note, no finding).
    for day in (8, 9, 10):
        quiet.add(t(day, 12, 0, 0), "MessageBind", actor="eve", subject="x",
                  client="Client=POP3/IMAP4;Protocol=IMAP4")
    for row in quiet.rows[-3:]:
        row[6], row[7] = EVE, "CONTOSO\\eve"
    quiet.save()


# --------------------------------------------------------------------------
# many-client-ips: >= 4 client IPs on one mailbox within 1h
# --------------------------------------------------------------------------

def many_ips() -> None:
    owner = dict(actor=MAILBOX, logon=0)
    fires = [
        mailbox_record(500, t(14, 13, 0), "Update", 2, ip=OWNER_IP + ":51000", client=OUTLOOK, **owner),
        mailbox_record(501, t(14, 13, 10), "Update", 2, ip="198.51.100.23", client=OWA, **owner),
        mailbox_record(502, t(14, 13, 25), "Update", 2, ip="[2001:db8::7]:443", client=OWA, **owner),
        mailbox_record(503, t(14, 13, 41), "Update", 2, ip="203.0.113.99", client=OWA, **owner),
        mailbox_record(504, t(14, 13, 50), "Update", 2, ip=OWNER_IP, client=OUTLOOK, **owner),
    ]
    for r in fires:
        r["Item"] = {"Id": "RgAAAA" + r["Id"][:8], "Subject": "Q1 forecast"}
    jsonl("many_client_ips_fires.jsonl", fires)
    quiet = [
        # Three addresses in an hour (the same one with and without a port counts once)...
        mailbox_record(510, t(14, 13, 0), "Update", 2, ip=OWNER_IP + ":51000", client=OUTLOOK, **owner),
        mailbox_record(511, t(14, 13, 10), "Update", 2, ip=OWNER_IP, client=OUTLOOK, **owner),
        mailbox_record(512, t(14, 13, 25), "Update", 2, ip="198.51.100.23", client=OWA, **owner),
        mailbox_record(513, t(14, 13, 41), "Update", 2, ip="::ffff:192.0.2.16", client=OWA, **owner),
        # ...and a fourth three hours later.
        mailbox_record(514, t(14, 16, 41), "Update", 2, ip="203.0.113.99", client=OWA, **owner),
    ]
    for r in quiet:
        r["Item"] = {"Id": "RgAAAA" + r["Id"][:8], "Subject": "Q1 forecast"}
    jsonl("many_client_ips_quiet.jsonl", quiet)


# --------------------------------------------------------------------------
# permission-change
# --------------------------------------------------------------------------

def permissions() -> None:
    sua_csv("permission_change_fires.csv", [
        mailbox_record(600, t(14, 9, 3, 17), "ModifyFolderPermissions", 2, client=OWA, extra={
            "Item": {"Id": "LgAAAAD00001AQAAAA", "ParentFolder": {
                "Id": "LgAAAAD00001", "Path": "\\Inbox", "MemberRights": "ReadAny",
                "MemberSid": "S-1-1-0", "MemberUpn": "Default"}}}),
        admin_record(601, t(14, 9, 4, 0), "Add-MailboxPermission", "test1", [
            ("Identity", "test1"), ("User", "eve@contoso.com"), ("AccessRights", "FullAccess"),
            ("InheritanceType", "All")], actor="admin@contoso.com", ip="198.51.100.20"),
        admin_record(602, t(14, 9, 4, 30), "Add-MailboxFolderPermission", "test1:\\Inbox", [
            ("Identity", "test1:\\Inbox"), ("User", "Default"), ("AccessRights", "Reviewer")]),
    ])
    sua_csv("permission_change_quiet.csv", [
        admin_record(610, t(14, 9, 4, 0), "Remove-MailboxPermission", "test1", [
            ("Identity", "test1"), ("User", "eve@contoso.com"), ("AccessRights", "FullAccess")],
            actor="admin@contoso.com", ip="198.51.100.20"),
        admin_record(611, t(14, 9, 5, 0), "Set-CalendarProcessing", "test1", [
            ("Identity", "test1"), ("AutomateProcessing", "AutoAccept")],
            actor="admin@contoso.com", ip="198.51.100.20"),
    ])


# --------------------------------------------------------------------------
# audit-tampering, protocol-enabled, impersonation-role, transport-rule: admin cmdlets
# --------------------------------------------------------------------------

ADMIN = "admin@contoso.com"
ADMIN_IP = "198.51.100.20"


def audit_tampering() -> None:
    sua_csv("audit_tampering_fires.csv", [
        admin_record(700, t(14, 8, 0, 0), "Set-MailboxAuditBypassAssociation", "test1", [
            ("AuditBypassEnabled", "True"), ("Identity", "test1@contoso.com")]),
        admin_record(701, t(14, 8, 1, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("AuditLogAgeLimit", "30.00:00:00")]),
        admin_record(702, t(14, 8, 2, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("AuditOwner", "@{Remove=MailItemsAccessed}")]),
    ])
    jsonl("audit_tampering_fires.jsonl", [
        admin_record(703, t(14, 8, 3, 0), "Set-AdminAuditLogConfig", "Admin Audit Log Settings", [
            ("UnifiedAuditLogIngestionEnabled", "False")]),
        admin_record(704, t(14, 8, 4, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("AuditEnabled", "False")]),
    ])
    sua_csv("audit_tampering_quiet.csv", [
        admin_record(710, t(14, 8, 0, 0), "Set-MailboxAuditBypassAssociation", "test1", [
            ("AuditBypassEnabled", "False"), ("Identity", "test1@contoso.com")],
            actor=ADMIN, ip=ADMIN_IP),
        admin_record(711, t(14, 8, 1, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("AuditLogAgeLimit", "180.00:00:00")],
            actor=ADMIN, ip=ADMIN_IP),
        admin_record(712, t(14, 8, 2, 0), "Set-Mailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("AuditEnabled", "True"),
            ("AuditOwner", "@{Add=MailItemsAccessed}")], actor=ADMIN, ip=ADMIN_IP),
        admin_record(713, t(14, 8, 3, 0), "Set-AdminAuditLogConfig", "Admin Audit Log Settings", [
            ("UnifiedAuditLogIngestionEnabled", "True")], actor=ADMIN, ip=ADMIN_IP),
    ])


def protocol_enabled() -> None:
    sua_csv("protocol_enabled_fires.csv", [
        admin_record(720, t(14, 8, 10, 0), "Set-CASMailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("ImapEnabled", "True"), ("PopEnabled", "True")]),
        admin_record(721, t(14, 8, 11, 0), "Set-CASMailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("SmtpClientAuthenticationDisabled", "False")]),
    ])
    sua_csv("protocol_enabled_quiet.csv", [
        admin_record(730, t(14, 8, 10, 0), "Set-CASMailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("OWAEnabled", "True"), ("PopEnabled", "False")],
            actor=ADMIN, ip=ADMIN_IP),
        admin_record(731, t(14, 8, 11, 0), "Set-CASMailbox", "test1", [
            ("Identity", "test1@contoso.com"), ("SmtpClientAuthenticationDisabled", "True")],
            actor=ADMIN, ip=ADMIN_IP),
    ])


def impersonation_role() -> None:
    sua_csv("impersonation_role_fires.csv", [
        admin_record(740, t(14, 8, 20, 0), "New-ManagementRoleAssignment", "EvilApp-Impersonation", [
            ("Role", "ApplicationImpersonation"), ("User", "0a1b7ab4-e3c2-4e75-93ad-6ea6d16cffbf")]),
        admin_record(741, t(14, 8, 21, 0), "Add-RoleGroupMember", "Discovery Management", [
            ("Identity", "Discovery Management"), ("Member", "eve@contoso.com")]),
    ])
    sua_csv("impersonation_role_quiet.csv", [
        admin_record(750, t(14, 8, 20, 0), "New-ManagementRoleAssignment", "Helpdesk-Recipients", [
            ("Role", "Mail Recipients"), ("SecurityGroup", "Helpdesk")], actor=ADMIN, ip=ADMIN_IP),
        admin_record(751, t(14, 8, 21, 0), "Add-RoleGroupMember", "Help Desk", [
            ("Identity", "Help Desk"), ("Member", "bob@contoso.com")], actor=ADMIN, ip=ADMIN_IP),
    ])


def transport_rule() -> None:
    sua_csv("transport_rule_fires.csv", [
        admin_record(760, t(14, 8, 30, 0), "New-TransportRule", "Archive copy", [
            ("Name", "Archive copy"), ("SentToScope", "InOrganization"),
            ("BlindCopyTo", "eve@evil.example")]),
        admin_record(761, t(14, 8, 31, 0), "Set-TransportRule", "External tag", [
            ("Identity", "External tag"), ("PrependSubject", "[EXTERNAL] ")],
            actor=ADMIN, ip=ADMIN_IP),
    ])
    sua_csv("transport_rule_quiet.csv", [
        admin_record(770, t(14, 8, 30, 0), "Disable-TransportRule", "Archive copy", [
            ("Identity", "Archive copy")], actor=ADMIN, ip=ADMIN_IP),
        admin_record(771, t(14, 8, 31, 0), "Remove-TransportRule", "Old rule", [
            ("Identity", "Old rule")], actor=ADMIN, ip=ADMIN_IP),
    ])


# --------------------------------------------------------------------------
# html_escape.csv: hostile values for the HTML report and the CSV output
# --------------------------------------------------------------------------

def html_escape() -> None:
    log = Legacy("html_escape.csv", 9)
    log.add(t(14, 15, 0, 0), "SendAs", actor="eve", folder="\\Sent Items",
            subject="<script>alert(1)</script>")
    log.add(t(14, 15, 1, 0), "Update", actor="eve", folder="\\Inbox\\<b>loot</b>",
            subject='=HYPERLINK("http://evil.example","open")')
    log.add(t(14, 15, 2, 0), "Create", actor="eve", folder="\\Drafts",
            subject='"><img src=x onerror=alert(2)>')
    log.add(t(14, 15, 3, 0), "SendOnBehalf", actor="=cmd|' /C calc'!A0", folder="\\Sent Items",
            subject="Wire transfer\r\nURGENT \u202eexe.pdf")
    log.save()


def main() -> None:
    mass_deletion()
    non_owner_access()
    send_as()
    inbox_rule()
    forwarding()
    mail_access()
    first_seen()
    many_ips()
    permissions()
    audit_tampering()
    protocol_enabled()
    impersonation_role()
    transport_rule()
    html_escape()


if __name__ == "__main__":
    main()
