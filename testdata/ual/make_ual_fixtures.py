#!/usr/bin/env python3
"""Generate the crafted Unified Audit Log fixtures in testdata/ual/.

Standard library only, deterministic: running it twice writes byte-identical files.
Each file is built as text with explicit line ends and written in binary mode. The
real exports next to them (t*.csv, t*.json) are copies, not generated here.

The story continues the legacy fixtures': Eve (eve@contoso.com, a delegate on
test1@contoso.com) reads, forwards and deletes Test User 1's mail on 5 March 2024,
from 203.0.113.7 and 2001:db8::7. The AuditData objects follow the Management
Activity API schema (docs/formats.md section E); keys are in the order Exchange writes
them, and strings escape '/' as '\\/' the way its serializer does, except where a
file re-serializes the same record differently on purpose (dedup tests).

    python3 testdata/ual/make_ual_fixtures.py
"""

from __future__ import annotations

import csv
import io
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))

ORG = "8d4121ed-0008-406d-bff9-0d5bb312183c"
MAILBOX = "test1@contoso.com"
MAILBOX_GUID = "5b1c2a9e-0d7f-4e0b-9a51-2f3c9d1e7a10"
OWNER_SID = "S-1-5-21-1111111111-2222222222-3333333333-1001"
EVE = "eve@contoso.com"
EVE_SID = "S-1-5-21-1111111111-2222222222-3333333333-1337"
SERVER = "AM6PR04MB5512 (15.20.7362.019)"
OWA = ("Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
       "(KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36;")
REST = "Client=REST;Client=RESTSystem;;"

# The cut some exports make in AuditData cells (docs/formats.md section C).
CUT_AT = 3062


def uid(n: int) -> str:
    """A deterministic GUID-shaped id."""
    return f"{n:08x}-5e1f-4c2b-8d3a-{n * 7919:012x}"


def item_id(n: int) -> str:
    return f"RgAAAAD{n:06d}XvKq0BwCJmYpLdAAAAAEMAAAJ{n:04d}AAA"


def folder(path: str, n: int) -> dict:
    return {"Id": f"LgAAAAD{n:05d}AQAAAA", "Path": path}


def message(n: int, subject: str | None, path: str) -> dict:
    m = {"Id": item_id(n), "InternetMessageId": f"<MSG{n:04d}@AM6PR04MB5512.eurprd04.prod.outlook.com>"}
    m["ParentFolder"] = folder(path, n % 7)
    if subject is not None:
        m["Subject"] = subject
    return m


def mailbox_record(n: int, time: str, op: str, rtype: int, actor: str, *, logon: int = 2,
                   ip: str = "203.0.113.7", client: str = OWA, display: str | None = None,
                   extra: dict | None = None) -> dict:
    """An Exchange mailbox record's common part, in Exchange's key order."""
    sid = EVE_SID if actor == EVE else OWNER_SID
    r = {
        "CreationTime": time,
        "Id": uid(n),
        "Operation": op,
        "OrganizationId": ORG,
        "RecordType": rtype,
        "ResultStatus": "Succeeded",
        "UserKey": "1003200280FF7557" if actor == EVE else "10032002643F6746",
        "UserType": 0,
        "Version": 1,
        "Workload": "Exchange",
        "ClientIP": ip,
        "UserId": actor,
        "AppId": "00000002-0000-0ff1-ce00-000000000000",
        "ClientAppId": "",
        "ClientIPAddress": ip,
        "ClientInfoString": client,
        "ExternalAccess": False,
        "InternalLogonType": 0,
        "LogonType": logon,
        "LogonUserSid": sid,
    }
    if display is not None:
        r["LogonUserDisplayName"] = display
    r.update({
        "MailboxGuid": MAILBOX_GUID,
        "MailboxOwnerSid": OWNER_SID,
        "MailboxOwnerUPN": MAILBOX,
        "OrganizationName": "contoso.onmicrosoft.com",
        "OriginatingServer": SERVER,
        "SessionId": uid(9000 + n),
    })
    r.update(extra or {})
    return r


def mia(n: int, time: str, actor: str, access: str, throttled: str, folders: list[dict],
        *, logon: int = 2, ip: str = "203.0.113.7", client: str = REST) -> dict:
    count = sum(len(f.get("FolderItems", [])) for f in folders) or 1
    return mailbox_record(n, time, "MailItemsAccessed", 50, actor, logon=logon, ip=ip,
                          client=client, extra={
                              "OperationCount": count,
                              "OperationProperties": [
                                  {"Name": "MailAccessType", "Value": access},
                                  {"Name": "IsThrottled", "Value": throttled},
                              ],
                              "Folders": folders,
                          })


def mia_folder(path: str, n: int, items: list[tuple[int, str | None]]) -> dict:
    f = folder(path, n)
    if items:
        f["FolderItems"] = [
            {k: v for k, v in message(i, s, path).items() if k != "ParentFolder"}
            | {"SizeInBytes": 4000 + i * 37}
            for i, s in items
        ]
    return f


# --------------------------------------------------------------------------
# The records
# --------------------------------------------------------------------------

UPDATE = mailbox_record(1, "2024-03-05T09:12:40", "Update", 2, EVE, ip="203.0.113.7:51234", extra={
    "Item": message(1, "Good News", "\\Inbox") | {"SizeInBytes": 18211},
    "ModifiedProperties": ["RecipientCollection", "Subject"],
})
SOFT_DELETE = mailbox_record(2, "2024-03-05T09:14:02", "SoftDelete", 3, EVE, extra={
    "CrossMailboxOperation": False,
    "DestFolder": folder("\\Recoverable Items\\Deletions", 11),
    "Folder": folder("\\Inbox", 1),
    "AffectedItems": [
        message(2, "Invoice, March 2024", "\\Inbox"),
        message(3, "R\u00e9sum\u00e9 \u2013 J\u00fcrgen", "\\Inbox"),
        message(4, "Payroll update", "\\Inbox"),
    ],
})
HARD_DELETE = mailbox_record(3, "2024-03-05T09:15:30", "HardDelete", 3, EVE, extra={
    "CrossMailboxOperations": False,
    "Folder": folder("\\Recoverable Items\\Deletions", 11),
    "AffectedItems": [
        message(2, "Invoice, March 2024", "\\Recoverable Items\\Deletions"),
        message(4, "Payroll update", "\\Recoverable Items\\Deletions"),
    ],
})
MOVE_OWNER = mailbox_record(4, "2024-03-05T11:02:09", "MoveToDeletedItems", 3, MAILBOX, logon=0,
                            ip="192.0.2.15", client="Client=MSExchangeRPC",
                            display="Test User 1", extra={
                                "ClientMachineName": "TEST1-PC",
                                "ClientProcessName": "OUTLOOK.EXE",
                                "ClientVersion": "16.0.17328.20142",
                                "CrossMailboxOperation": False,
                                "DestFolder": folder("\\Deleted Items", 3),
                                "Folder": folder("\\Inbox", 1),
                                "AffectedItems": [message(5, "Lunch on Friday?", "\\Inbox")],
                            })
INBOX_RULES = mailbox_record(5, "2024-03-05T09:05:51", "UpdateInboxRules", 2, EVE,
                             client="Client=MSExchangeRPC", extra={
                                 "OperationProperties": [
                                     {"Name": "RuleName", "Value": "."},
                                     {"Name": "RuleActions", "Value": "[{\"ActionType\":\"MoveToFolder\",\"Folder\":\"RSS Feeds\"}]"},
                                     {"Name": "RuleState", "Value": "Enabled"},
                                 ],
                             })
FOLDER_PERMS = mailbox_record(6, "2024-03-05T09:03:17", "ModifyFolderPermissions", 2, EVE, extra={
    "Item": {"Id": "LgAAAAD00001AQAAAA", "ParentFolder": folder("\\Inbox", 1)
             | {"MemberRights": "ReadAny, Create, EditAny, DeleteAny", "MemberSid": "S-1-1-0", "MemberUpn": "Default"}},
})
SEND_AS = mailbox_record(7, "2024-03-05T09:20:45", "SendAs", 2, EVE, ip="[2001:db8::7]:52100", extra={
    "CrossMailboxOperation": False,
    "Item": message(6, "Urgent: wire transfer", "\\Sent Items") | {"SizeInBytes": 9120},
    "SendAsUserMailboxGuid": MAILBOX_GUID,
    "SendAsUserSmtp": MAILBOX,
})
SYSTEM_CREATE = mailbox_record(8, "2024-03-05T09:21:00", "Create", 2, "S-1-5-18", logon=4,
                               ip="", client="Client=Microsoft.Exchange.Transport", extra={
                                   "Item": message(7, "Delivery report", "\\Inbox"),
                               })
AAD_LOGON = {
    "CreationTime": "2024-03-05T09:01:12",
    "Id": uid(9),
    "Operation": "UserLoggedIn",
    "OrganizationId": ORG,
    "RecordType": 15,
    "ResultStatus": "Success",
    "UserKey": "f23cb258-50ca-4092-9027-5c4ca2f1d999",
    "UserType": 0,
    "Version": 1,
    "Workload": "AzureActiveDirectory",
    "ClientIP": "203.0.113.7",
    "ObjectId": "00000002-0000-0ff1-ce00-000000000000",
    "UserId": EVE,
    "AzureActiveDirectoryEventType": 1,
    "ExtendedProperties": [{"Name": "ResultStatusDetail", "Value": "Success"}],
    "ApplicationId": "00000002-0000-0ff1-ce00-000000000000",
}
NEW_RULE = {
    "CreationTime": "2024-03-05T09:06:30",
    "Id": uid(10),
    "Operation": "New-InboxRule",
    "OrganizationId": ORG,
    "RecordType": 1,
    "ResultStatus": "True",
    "UserKey": "1003200280FF7557",
    "UserType": 2,
    "Version": 1,
    "Workload": "Exchange",
    "ClientIP": "203.0.113.7:51190",
    "ObjectId": "test1\\Move to RSS",
    "UserId": EVE,
    "AppId": "00000002-0000-0ff1-ce00-000000000000",
    "ClientAppId": "",
    "ExternalAccess": False,
    "OrganizationName": "contoso.onmicrosoft.com",
    "OriginatingServer": SERVER,
    "Parameters": [
        {"Name": "Mailbox", "Value": "test1"},
        {"Name": "Name", "Value": "Move to RSS"},
        {"Name": "ForwardTo", "Value": "eve@evil.example"},
        {"Name": "DeleteMessage", "Value": "True"},
        {"Name": "MoveToFolder", "Value": "RSS Feeds"},
    ],
    "SessionId": uid(9010),
}

SUA_RECORDS = [FOLDER_PERMS, INBOX_RULES, NEW_RULE, UPDATE, SOFT_DELETE, HARD_DELETE, SEND_AS,
               SYSTEM_CREATE, AAD_LOGON, MOVE_OWNER]
RECORD_TYPE_NAMES = {1: "ExchangeAdmin", 2: "ExchangeItem", 3: "ExchangeItemGroup",
                     15: "AzureActiveDirectoryStsLogon", 50: "ExchangeItemAggregated"}

MIA_BIND = mia(20, "2024-03-05T09:10:00", EVE, "Bind", "True", [
    mia_folder("\\Inbox", 1, [(1, "Good News"), (2, "Invoice, March 2024"),
                              (8, "=HYPERLINK(\"http://evil.example\",\"open\")")]),
    mia_folder("\\Sent Items", 2, [(6, None), (9, "Re: Payroll update")]),
    mia_folder("\\Finance", 5, [(10, "  Q1 budget")]),
])
MIA_SYNC = mia(21, "2024-03-05T07:45:13", MAILBOX, "Sync", "False",
               [mia_folder("\\Inbox", 1, []), mia_folder("\\Archive", 4, [])],
               logon=0, ip="192.0.2.15", client="Client=MSExchangeRPC")

GROUP_MOVE = mailbox_record(30, "2024-03-05T09:16:44", "MoveToDeletedItems", 3, EVE, extra={
    "CrossMailboxOperation": False,
    "DestFolder": folder("\\Deleted Items", 3),
    "Folder": folder("\\Inbox", 1),
    "AffectedItems": [
        message(11, "  RE: Good News", "\\Inbox"),
        message(12, "Board minutes (draft)", "\\Inbox\\Board"),
        message(13, "Password reset", "\\Inbox"),
        message(14, "", "\\Inbox"),
    ],
})
GROUP_MOVE_OTHER_MAILBOX = mailbox_record(31, "2024-03-05T09:17:05", "Move", 3, EVE, extra={
    "CrossMailboxOperation": True,
    "DestMailboxId": "0d6c6c2a-9b8e-4b84-a1c4-7b0b3b0c5e21",
    "DestMailboxOwnerUPN": EVE,
    "DestFolder": folder("\\Inbox\\loot", 2),
    "Folder": folder("\\Finance", 5),
    "AffectedItems": [
        message(10, "  Q1 budget", "\\Finance"),
        message(15, "Bank details", "\\Finance"),
    ],
})


def big_mia(n: int, time: str) -> dict:
    """A MailItemsAccessed record long enough to be cut at CUT_AT characters."""
    items = [(100 + i, f"Contract {i:02d} / signed copy") for i in range(30)]
    return mia(n, time, EVE, "Bind", "False", [mia_folder("\\Legal", 6, items)])


# --------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------

def exchange_json(obj: dict, *, ascii_only: bool = True, slash: bool = True) -> str:
    """AuditData as Exchange writes it: compact, '/' escaped, non-ASCII as \\uXXXX."""
    text = json.dumps(obj, separators=(",", ":"), ensure_ascii=ascii_only)
    return text.replace("/", "\\/") if slash else text


def reordered_json(obj: dict) -> str:
    """The same record as another export writes it: keys sorted, spaces after
    separators, '/' not escaped, non-ASCII as UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(", ", ": "), ensure_ascii=False)


def quote_all(fields: list[str]) -> str:
    return ",".join('"' + f.replace('"', '""') + '"' for f in fields)


def us_date(iso: str) -> str:
    """2024-03-05T09:12:40 -> 3/5/2024 9:12:40 AM (en-US, as Export-Csv writes it)."""
    date, time = iso.split("T")
    y, m, d = (int(x) for x in date.split("-"))
    hh, mm, ss = (int(x) for x in time.split(":"))
    ampm = "AM" if hh < 12 else "PM"
    h12 = hh % 12 or 12
    return f"{m}/{d}/{y} {h12}:{mm:02d}:{ss:02d} {ampm}"


SUA_HEADER = ["RecordType", "CreationDate", "UserIds", "Operations", "AuditData",
              "ResultIndex", "ResultCount", "Identity", "IsValid", "ObjectState"]


def sua_row(rec: dict, index: int, count: int, audit: str | None = None) -> list[str]:
    return [RECORD_TYPE_NAMES[rec["RecordType"]], us_date(rec["CreationTime"]), rec["UserId"],
            rec["Operation"], exchange_json(rec) if audit is None else audit, str(index),
            str(count), rec["Id"], "True", "Unchanged"]


def write(name: str, text: str, *, bom: bool = False) -> None:
    data = text.encode("utf-8")
    if bom:
        data = b"\xef\xbb\xbf" + data
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


def sua_file(name: str, records: list[dict], *, rps: bool = False, eol: str = "\n",
             audits: dict[int, str] | None = None) -> None:
    """`Search-UnifiedAuditLog | Export-Csv` (with -NoTypeInformation unless `rps`)."""
    header = SUA_HEADER
    lines = []
    if rps:
        header = ["RunspaceId"] + SUA_HEADER + ["PSComputerName"]
        lines.append("#TYPE Deserialized.Microsoft.Exchange.Management.SystemConfigurationTasks.UnifiedAuditLogEvent")
    lines.append(quote_all(header))
    for i, rec in enumerate(records):
        row = sua_row(rec, i + 1, len(records), (audits or {}).get(i))
        if rps:
            row = ["6f1c2d3e-4b5a-4c6d-8e7f-0a1b2c3d4e5f"] + row + ["outlook.office365.com"]
        lines.append(quote_all(row))
    write(name, eol.join(lines) + eol, bom=rps)


def cut(audit: str) -> str:
    assert len(audit) > CUT_AT, len(audit)
    return audit[:CUT_AT]


def purview_classic() -> None:
    """Purview portal (classic) export: RecordType numbers, ISO CreationDate with a
    trailing space. Holds two records also in sua_mailbox.csv, written differently (a
    duplicate across exports), one record sharing UPDATE's Id with other content (not a
    duplicate), a new one, and one whose AuditData was cut."""
    header = ["RecordId", "CreationDate", "RecordType", "Operation", "UserId", "AuditData",
              "AssociatedAdminUnits", "AssociatedAdminUnitsNames"]
    same_id = dict(UPDATE, CreationTime="2024-03-05T09:13:02", Item=message(16, "Good News (2)", "\\Inbox"))
    new = mailbox_record(40, "2024-03-05T09:22:10", "SoftDelete", 3, EVE, extra={
        "CrossMailboxOperation": False,
        "Folder": folder("\\Sent Items", 2),
        "AffectedItems": [message(6, "Urgent: wire transfer", "\\Sent Items")],
    })
    rows = [
        (UPDATE, reordered_json(UPDATE)),
        (SOFT_DELETE, reordered_json(SOFT_DELETE)),
        (same_id, exchange_json(same_id)),
        (new, exchange_json(new, ascii_only=False, slash=False)),
    ]
    big = big_mia(41, "2024-03-05T09:30:00")
    rows.append((big, cut(exchange_json(big))))
    lines = [quote_all(header)]
    for rec, audit in rows:
        lines.append(quote_all([rec["Id"], rec["CreationTime"] + ".0000000Z ", str(rec["RecordType"]),
                                rec["Operation"], rec["UserId"], audit, "", ""]))
    write("purview_classic.csv", "\r\n".join(lines) + "\r\n")


def graph_export() -> None:
    """Purview new search / Graph auditLogQuery export: 13 columns, quoted only where
    needed, record types as Graph enum names."""
    header = ["id", "createdDateTime", "auditLogRecordType", "operation", "organizationId",
              "userType", "userId", "service", "objectId", "userPrincipalName", "clientIp",
              "administrativeUnits", "auditData"]
    graph_type = {2: "exchangeItem", 3: "exchangeItemGroup", 50: "exchangeItemAggregated"}
    hard = mailbox_record(50, "2024-03-05T10:02:11", "HardDelete", 3, EVE, ip="[2001:db8::7]:52311",
                          extra={"CrossMailboxOperations": False,
                                 "Folder": folder("\\Deleted Items", 3),
                                 "AffectedItems": [message(17, "Offer letter", "\\Deleted Items"),
                                                   message(18, "Salary review", "\\Deleted Items")]})
    update = mailbox_record(51, "2024-03-05T10:04:40", "Update", 2, EVE, ip="2001:db8::7", extra={
        "Item": message(19, "Draft: \"final\" numbers", "\\Drafts")})
    sync = mia(52, "2024-03-05T10:06:00", EVE, "Sync", "False", [mia_folder("\\Inbox", 1, [])],
               ip="[2001:db8::7]:52320")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    w.writerow(header)
    for rec in (hard, update, sync):
        w.writerow([rec["Id"], rec["CreationTime"] + "Z", graph_type[rec["RecordType"]],
                    rec["Operation"], ORG, "Regular", rec["UserId"], "Exchange", MAILBOX,
                    rec["UserId"], rec["ClientIP"], "[]", exchange_json(rec, slash=False)])
    write("graph_13col.csv", out.getvalue())


def jsonl(name: str, records: list[dict]) -> None:
    """JSON Lines of AuditData objects (as SOF-ELK and collectors write them), keys
    sorted and '/' unescaped: the same records as in a CSV, written differently."""
    write(name, "".join(json.dumps(r, sort_keys=True, ensure_ascii=False) + "\n" for r in records))


def main() -> None:
    sua_file("sua_mailbox.csv", SUA_RECORDS, rps=True, eol="\r\n")
    sua_file("mailitemsaccessed_throttled.csv", [MIA_SYNC, MIA_BIND])
    sua_file("exchangeitemgroup.csv", [GROUP_MOVE, GROUP_MOVE_OTHER_MAILBOX])
    big = big_mia(60, "2024-03-05T09:30:00")
    sua_file("cut_auditdata.csv", [UPDATE, big], audits={1: cut(exchange_json(big))})
    purview_classic()
    graph_export()
    jsonl("sua_mailbox.jsonl", SUA_RECORDS)

    # Read every CSV back: the AuditData cells are JSON (or cut where meant to be).
    for name in sorted(os.listdir(HERE)):
        if not (name.endswith(".csv") and not name.startswith("t")):
            continue
        with open(os.path.join(HERE, name), encoding="utf-8-sig", newline="") as f:
            text = f.read()
        if text.startswith("#TYPE"):
            text = text.split("\n", 1)[1]
        rows = list(csv.DictReader(io.StringIO(text)))
        audit_col = next(k for k in rows[0] if k.lower() == "auditdata")
        cut_rows = 0
        for row in rows:
            try:
                json.loads(row[audit_col])
            except json.JSONDecodeError:
                assert len(row[audit_col]) == CUT_AT
                cut_rows += 1
        print(f"{name}: {len(rows)} rows, {cut_rows} with AuditData cut at {CUT_AT} characters")


if __name__ == "__main__":
    main()
