#!/usr/bin/env python3
"""Generate the legacy Search-MailboxAuditLog CSV fixtures in testdata/legacy/.

Standard library only, deterministic: running it twice writes byte-identical
files.  Every file is built as text with explicit line ends, then encoded to
bytes explicitly (BOMs, UTF-16 byte order) and written in binary mode.

After writing, the script parses every file back with the csv module and checks
record and field counts against the model, then prints the per-file counts that
it also writes into testdata/legacy/README.md.

    python3 testdata/make_legacy_fixtures.py
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
import sys
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "legacy")

# --------------------------------------------------------------------------
# The story
# --------------------------------------------------------------------------

MAILBOX_UPN = "test1@contoso.com"
MAILBOX_OWNER = "CONTOSO\\test1"
MAILBOX_GUID = "5b1c2a9e-0d7f-4e0b-9a51-2f3c9d1e7a10"
DOMAIN_SID = "S-1-5-21-1111111111-2222222222-3333333333"
OWNER_SID = DOMAIN_SID + "-1001"
EVE_SID = DOMAIN_SID + "-1337"
ADMIN_SID = DOMAIN_SID + "-500"
SYSTEM_SID = "S-1-5-18"
DISCOVERY_UPN = "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}@contoso.onmicrosoft.com"
DISCOVERY_SID = DOMAIN_SID + "-1140"
EXO_SERVER = "BN6PR11MB1892 (15.01.1034.026)"
ONPREM_SERVER = "EX2013-MBX01 (15.00.1293.002)"

OWA = ("Client=OWA;Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
       "(KHTML, like Gecko) Chrome/57.0.2987.133 Safari/537.36;Action=ViaProxy")

OWA_SHORT = "Client=OWA;Action=ViaProxy"

ACTORS = {
    "owner": dict(LogonType="Owner", LogonUserDisplayName="Test User 1",
                  LogonUserSid=OWNER_SID, ClientIPAddress="192.0.2.15",
                  ClientInfoString="Client=MSExchangeRPC", ClientMachineName="TEST1-PC",
                  ClientProcessName="OUTLOOK.EXE", ClientVersion="16.0.7870.2031"),
    "eve": dict(LogonType="Delegate", LogonUserDisplayName="Eve Attacker",
                LogonUserSid=EVE_SID, ClientIPAddress="203.0.113.7",
                ClientInfoString=OWA, ClientMachineName="",
                ClientProcessName="", ClientVersion=""),
    "admin": dict(LogonType="Admin", LogonUserDisplayName="Exchange Admin",
                  LogonUserSid=ADMIN_SID, ClientIPAddress="198.51.100.20",
                  ClientInfoString="Client=MSExchangeRPC", ClientMachineName="ADMIN-WKS02",
                  ClientProcessName="OUTLOOK.EXE", ClientVersion="15.0.4919.1000"),
    "system": dict(LogonType="SystemService",
                   LogonUserDisplayName="NT AUTHORITY\\SYSTEM (MSExchangeMailboxAssistants)",
                   LogonUserSid=SYSTEM_SID, ClientIPAddress="",
                   ClientInfoString="Client=TBA;Service=MSExchangeMailboxAssistants;Action=ELCAssistant",
                   ClientMachineName="BN6PR11MB1892",
                   ClientProcessName="MSExchangeMailboxAssistants.exe", ClientVersion="15.1.1034.26"),
    "transport": dict(LogonType="Transport",
                      LogonUserDisplayName="NT AUTHORITY\\SYSTEM (MSExchangeTransport)",
                      LogonUserSid=SYSTEM_SID, ClientIPAddress="",
                      ClientInfoString="Client=Hub Transport", ClientMachineName="BN6PR11MB1892",
                      ClientProcessName="MSExchangeDelivery.exe", ClientVersion="15.1.1034.26"),
}
DEFAULT_LOGON_TYPES = ("Owner", "Admin", "Delegate")

# The 55 Exchange Online columns of docs/formats.md section A, in order.
COLUMNS = [
    "Operation", "OperationResult", "LogonType", "ExternalAccess", "DestFolderId",
    "DestFolderPathName", "FolderId", "FolderPathName", "FolderName", "MemberRights",
    "MemberSid", "MemberUpn", "ClientInfoString", "ClientIPAddress", "ClientIP",
    "ClientMachineName", "ClientProcessName", "ClientVersion", "InternalLogonType",
    "MailboxOwnerUPN", "MailboxOwnerSid", "DestMailboxOwnerUPN", "DestMailboxOwnerSid",
    "DestMailboxGuid", "CrossMailboxOperation", "LogonUserDisplayName", "LogonUserSid",
    "SourceItems", "SourceFolders", "SourceItemIdsList", "SourceItemSubjectsList",
    "SourceItemAttachmentsList", "SourceItemFolderPathNamesList", "SourceFolderPathNamesList",
    "SourceItemInternetMessageIdsList", "ItemId", "ItemSubject", "ItemAttachments",
    "ItemInternetMessageId", "DirtyProperties", "OriginatingServer", "SessionId",
    "OperationProperties", "AuditOperationsCountInAggregatedRecord",
    "AggregatedRecordFoldersData", "AppId", "ClientAppId", "ItemIsRecord",
    "ItemComplianceLabel", "MailboxGuid", "MailboxResolvedOwnerName", "LastAccessed",
    "Identity", "IsValid", "ObjectState",
]
assert len(COLUMNS) == 55 and len(set(COLUMNS)) == 55

SEED_COLUMNS = [
    "Subject", "Operation", "LogonUserDisplayName", "LastAccessed", "DestFolderPathName",
    "FolderPathName", "ClientInfoString", "ClientIPAddress", "ClientMachineName",
    "ClientProcessName", "ClientVersion", "LogonType", "MailboxResolvedOwnerName",
    "OperationResult", "CrossMailboxOp",
]

# Export-Csv writes the ToString() of the (empty or not) collection: a type name, never values.
# Objects that came over a remote session (Exchange Online) hold deserialized collections,
# which print as System.Collections.ArrayList; a local Exchange Management Shell prints the
# Exchange type (used in onprem2013_subset.csv).
SOURCE_ITEMS_TYPE = "System.Collections.ArrayList"
SOURCE_FOLDERS_TYPE = "System.Collections.ArrayList"
ONPREM_SOURCE_ITEMS_TYPE = ("Microsoft.Exchange.Data.MultiValuedProperty`1"
                            "[Microsoft.Exchange.Data.MailboxAuditLogSourceItem]")

TYPE_LINE = "#TYPE Microsoft.Exchange.Management.SystemConfigurationTasks.MailboxAuditLogRecord"
TYPE_LINE_DESERIALIZED = ("#TYPE Deserialized.Microsoft.Exchange.Management."
                          "SystemConfigurationTasks.MailboxAuditLogRecord")

ISO_OFFSET = timedelta(hours=2)  # on-prem server / PS7 machine: CEST, +02:00

INVALID_UTF8_SENTINEL = "\ue000"  # replaced by the raw byte 0xFF after encoding


def _digest(key: str, n: int) -> bytes:
    out = b""
    block = key.encode("utf-8")
    while len(out) < n:
        block = hashlib.sha256(block).digest()
        out += block
    return out[:n]


def b64id(prefix: str, key: str, nbytes: int) -> str:
    return prefix + base64.b64encode(_digest(key, nbytes)).decode("ascii")


def guid(key: str) -> str:
    h = _digest("guid:" + key, 16).hex()
    return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:32]}"


def frac7(key: str) -> int:
    return int.from_bytes(_digest("frac:" + key, 4), "big") % 10_000_000


def msgid(subject: str) -> str:
    h = _digest("msg:" + subject, 8).hex().upper()
    return f"<{h}@contoso.com>"


@dataclass(frozen=True)
class Ev:
    key: str
    t: datetime                    # wall time as the exporting machine showed it
    op: str
    actor: str
    folder: str
    subject: str = ""              # ItemSubject (MessageBind, SendAs, SendOnBehalf, Create, Update)
    src: tuple = ()                # source item subjects as stored (may carry a leading space)
    dest: str = ""                 # DestFolderPathName
    result: str = "Succeeded"
    cross: bool = False
    dirty: str = ""
    overrides: tuple = ()          # ((column, value), ...) applied last

    @property
    def logon(self) -> str:
        return ACTORS[self.actor]["LogonType"]

    def seed_subject(self) -> str:
        """Subject per the seed script: first source item's subject (TrimStart ' '), else ItemSubject."""
        if self.src:
            return self.src[0].lstrip(" ")
        return self.subject

    def values(self) -> dict:
        a = ACTORS[self.actor]
        item_ops = bool(self.subject)
        v = {c: "" for c in COLUMNS}
        v.update(
            Operation=self.op,
            OperationResult=self.result,
            LogonType=a["LogonType"],
            ExternalAccess="False",
            DestFolderId=b64id("LgAAAAD2", "folder:" + self.dest, 15) if self.dest else "",
            DestFolderPathName=self.dest,
            FolderId=b64id("LgAAAAD2", "folder:" + self.folder, 15),
            FolderPathName=self.folder,
                        ClientInfoString=a["ClientInfoString"],
            ClientIPAddress=a["ClientIPAddress"],
            ClientMachineName=a["ClientMachineName"],
            ClientProcessName=a["ClientProcessName"],
            ClientVersion=a["ClientVersion"],
            InternalLogonType=a["LogonType"],
            MailboxOwnerUPN=MAILBOX_UPN,
            MailboxOwnerSid=OWNER_SID,
            CrossMailboxOperation="True" if self.cross else "False",
            LogonUserDisplayName=a["LogonUserDisplayName"],
            LogonUserSid=a["LogonUserSid"],
            SourceItems=SOURCE_ITEMS_TYPE,
            SourceFolders=SOURCE_FOLDERS_TYPE,
            OriginatingServer=EXO_SERVER,
            MailboxGuid=MAILBOX_GUID,
            MailboxResolvedOwnerName=MAILBOX_OWNER,
            Identity=b64id("RgAAAAD2", "identity:" + self.key, 18),
            IsValid="True",
            ObjectState="New",
        )
        if self.actor == "eve" and self.op == "FolderBind":
            v["ClientInfoString"] = OWA_SHORT   # OWA logs folder opens without the user agent
        if self.actor in ("owner", "eve", "admin"):   # interactive logons have a session
            v["SessionId"] = guid(f"session:{self.actor}:{self.t:%Y%m%d}")
        if self.cross:
            v.update(DestMailboxOwnerUPN=DISCOVERY_UPN, DestMailboxOwnerSid=DISCOVERY_SID,
                     DestMailboxGuid=guid("discovery-mailbox"))
        if self.src:
            subj = [s.lstrip(" ") for s in self.src]
            v.update(
                SourceItemIdsList=", ".join(b64id("RgAAAAAD", "item:" + s, 18) for s in subj),
                SourceItemSubjectsList=",".join(self.src),
                SourceItemFolderPathNamesList=", ".join(self.folder for _ in subj),
                SourceItemInternetMessageIdsList=", ".join(msgid(s) for s in subj),
            )
        if item_ops:
            v.update(ItemId=b64id("RgAAAAAD", "item:" + self.subject, 18),
                     ItemIsRecord="False",
                     ItemSubject=self.subject,
                     ItemInternetMessageId=msgid(self.subject))
        v["DirtyProperties"] = self.dirty
        for col, val in self.overrides:
            assert col in v, col
            v[col] = val
        return v


def D(month, day, hour, minute, second):
    return datetime(2017, month, day, hour, minute, second)


# Master timeline (chronological).  basic_en-US.csv holds exactly these 25.
MASTER = [
    Ev("E01", D(4, 10, 15, 22, 11), "FolderBind", "eve", "\\Inbox"),
    Ev("E02", D(4, 10, 15, 23, 40), "MessageBind", "eve", "\\Inbox", subject="Good News"),
    Ev("E03", D(4, 10, 15, 25, 2), "FolderBind", "eve", "\\Sent Items"),
    Ev("E04", D(4, 10, 15, 31, 57), "SendAs", "eve", "\\Sent Items", subject="RE: Good News"),
    Ev("E05", D(4, 11, 2, 0, 4), "FolderBind", "system", "\\Calendar"),
    Ev("E06", D(4, 11, 8, 47, 30), "Create", "owner", "\\Drafts", subject="Quarterly results"),
    Ev("E07", D(4, 11, 8, 52, 12), "Update", "owner", "\\Drafts", subject="Quarterly results",
       dirty="Subject, Body"),
    Ev("E08", D(4, 12, 22, 14, 9), "FolderBind", "eve", "\\Inbox"),
    Ev("E09", D(4, 12, 22, 16, 45), "SoftDelete", "eve", "\\Inbox",
       src=(" Good News", " Invoice, March 2017")),
    Ev("E10", D(4, 12, 22, 17, 3), "MoveToDeletedItems", "eve", "\\Inbox",
       src=(' He said "hi"',), dest="\\Deleted Items"),
    Ev("E11", D(4, 13, 7, 5, 0), "Create", "transport", "\\Inbox",
       subject="Undeliverable: RE: Good News"),
    Ev("E12", D(4, 13, 9, 10, 44), "FolderBind", "admin", "\\Inbox"),
    Ev("E13", D(4, 13, 9, 12, 18), "Copy", "admin", "\\Inbox",
       src=("Résumé – Jürgen Müller",), dest="\\Test User 1-20170413", cross=True),
    Ev("E14", D(4, 14, 11, 3, 27), "FolderBind", "eve", "\\Inbox\\Finance"),
    Ev("E15", D(4, 14, 11, 4, 2), "Move", "eve", "\\Inbox\\Finance",
       src=("Invoice, March 2017",), dest="\\RSS Feeds"),
    Ev("E16", D(4, 14, 11, 6, 39), "SendOnBehalf", "eve", "\\Sent Items",
       subject="RE: Invoice, March 2017"),
    Ev("E17", D(4, 15, 1, 30, 0), "FolderBind", "system", "\\Inbox"),
    Ev("E18", D(4, 17, 16, 45, 12), "FolderBind", "eve", "\\Deleted Items"),
    Ev("E19", D(4, 17, 16, 46, 55), "HardDelete", "eve", "\\Deleted Items",
       src=(" Good News", ' He said "hi"'), result="PartiallySucceeded"),
    Ev("E20", D(4, 18, 10, 20, 31), "Move", "owner", "\\Inbox",
       src=(" Quarterly results",), dest="\\Archive"),
    Ev("E21", D(4, 19, 14, 3, 33), "MessageBind", "eve", "\\Inbox",
       subject="Wire transfer\r\nURGENT", result="Failed"),
    Ev("E22", D(4, 20, 9, 15, 8), "SendAs", "eve", "\\Sent Items", subject="Résumé – Jürgen Müller"),
    Ev("E23", D(4, 21, 13, 0, 0), "FolderBind", "admin", "\\Recoverable Items\\Deletions"),
    Ev("E24", D(4, 24, 20, 41, 19), "FolderBind", "eve", "\\Inbox"),
    Ev("E25", D(4, 25, 6, 12, 44), "Create", "transport", "\\Inbox", subject='He said "hi"'),
]
M = {e.key: e for e in MASTER}

EXTRA = [
    Ev("X1", D(4, 26, 12, 0, 1), "FolderBind", "eve", "\\Sent Items"),
    Ev("X2", D(4, 27, 8, 30, 27), "Create", "owner", "\\Drafts", subject="Good News"),
    Ev("X3", D(4, 27, 10, 14, 59), "FolderBind", "eve", "\\Inbox"),
    Ev("X4", D(4, 27, 10, 15, 30), "MessageBind", "eve", "\\Inbox", subject="Quarterly results"),
    # two genuinely different events in the same second (differ only by folder)
    Ev("Z1", D(4, 18, 11, 11, 11), "FolderBind", "eve", "\\Inbox"),
    Ev("Z2", D(4, 18, 11, 11, 11), "FolderBind", "eve", "\\Sent Items"),
    Ev("Y1", D(4, 16, 15, 33, 33), "MessageBind", "eve", "\\Inbox", subject="Lunch \U0001F355 Friday?"),
    Ev("Y2", D(4, 16, 15, 40, 0), "SendAs", "eve", "\\Sent Items", subject="Agenda; Q2 planning"),
    Ev("W1", D(4, 13, 9, 30, 0), "MessageBind", "eve", "\\Inbox",
       subject="Lunch " + INVALID_UTF8_SENTINEL + " Friday"),
    # twelve-hour clock edges
    Ev("T1", D(4, 13, 0, 5, 0), "FolderBind", "eve", "\\Inbox"),
    Ev("T2", D(4, 13, 12, 30, 0), "MessageBind", "eve", "\\Inbox", subject="Good News"),
    Ev("T3", D(4, 13, 23, 59, 59), "FolderBind", "eve", "\\Sent Items"),
    Ev("T4", D(4, 14, 0, 0, 0), "FolderBind", "eve", "\\Inbox"),
    Ev("T5", D(4, 14, 1, 0, 0), "FolderBind", "system", "\\Calendar"),
    Ev("T6", D(4, 14, 11, 59, 59), "Create", "owner", "\\Drafts", subject="Quarterly results"),
    Ev("T7", D(4, 14, 12, 0, 0), "FolderBind", "admin", "\\Inbox"),
    Ev("T8", D(4, 15, 12, 59, 59), "SendAs", "eve", "\\Sent Items", subject="RE: Good News"),
]
X = {e.key: e for e in EXTRA}
ALL = {**M, **X}


def pick(*keys):
    return [ALL[k] for k in keys]


def newest_first(evs):
    return sorted(evs, key=lambda e: (e.t, e.key), reverse=True)


def oldest_first(evs):
    return sorted(evs, key=lambda e: (e.t, e.key))


# --------------------------------------------------------------------------
# Date formats
# --------------------------------------------------------------------------

def fmt_us(t: datetime, lower=False) -> str:
    h = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    if lower:
        ampm = ampm.lower()
    return f"{t.month}/{t.day}/{t.year} {h}:{t.minute:02d}:{t.second:02d} {ampm}"


def fmt_us_dayfirst(t: datetime) -> str:
    h = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    return f"{t.day}/{t.month}/{t.year} {h}:{t.minute:02d}:{t.second:02d} {ampm}"


def fmt_gb(t: datetime) -> str:
    return f"{t:%d/%m/%Y %H:%M:%S}"


def fmt_de(t: datetime) -> str:
    return f"{t:%d.%m.%Y %H:%M:%S}"


def fmt_iso_offset(e: Ev) -> str:
    return f"{e.t:%Y-%m-%dT%H:%M:%S}.{frac7(e.key):07d}+02:00"


def fmt_iso_z(e: Ev) -> str:
    return f"{e.t - ISO_OFFSET:%Y-%m-%dT%H:%M:%S}.{frac7(e.key):07d}Z"


def fmt_iso_naive(e: Ev) -> str:
    return f"{e.t:%Y-%m-%dT%H:%M:%S}.{frac7(e.key):07d}"


# --------------------------------------------------------------------------
# CSV rendering (our own writer, so quoting and line ends are exact)
# --------------------------------------------------------------------------

def q_all(s: str) -> str:
    return '"' + s.replace('"', '""') + '"'


def q_min(s: str, delim: str) -> str:
    if any(ch in s for ch in (delim, '"', "\r", "\n")):
        return q_all(s)
    return s


@dataclass
class Rendered:
    text: str
    record_lines: list = field(default_factory=list)   # physical line where each data record starts
    header_line: int = 1


def render(header, rows, *, delim=",", quote="all", eol="\r\n", type_line=None,
           final_eol=True) -> Rendered:
    """header: list of names; rows: list of lists of strings (any length)."""
    def line(fields):
        if quote == "all":
            return delim.join(q_all(f) for f in fields)
        return delim.join(q_min(f, delim) for f in fields)

    parts = []
    lines_so_far = 0
    out = Rendered(text="")
    if type_line is not None:
        parts.append(type_line + eol)
        lines_so_far += 1
    out.header_line = lines_so_far + 1
    parts.append(line(header) + eol)
    lines_so_far += 1
    for i, r in enumerate(rows):
        out.record_lines.append(lines_so_far + 1)
        s = line(r)
        last = i == len(rows) - 1
        s += "" if (last and not final_eol) else eol
        parts.append(s)
        lines_so_far += s.count("\n")
    out.text = "".join(parts)
    return out


def encode(text: str, enc: str) -> bytes:
    if enc == "utf-8-bom":
        b = b"\xef\xbb\xbf" + text.encode("utf-8")
    elif enc == "utf-8":
        b = text.encode("utf-8")
    elif enc == "utf-16-le":
        b = b"\xff\xfe" + text.encode("utf-16-le")
    elif enc == "utf-16-be":
        b = b"\xfe\xff" + text.encode("utf-16-be")
    else:
        raise ValueError(enc)
    # The only place an invalid byte is wanted: W1's subject.
    sentinel = INVALID_UTF8_SENTINEL.encode("utf-8")
    if sentinel in b:
        assert enc.startswith("utf-8")
        b = b.replace(sentinel, b"\xff")
    return b


# --------------------------------------------------------------------------
# Fixture specs
# --------------------------------------------------------------------------

@dataclass
class Fixture:
    name: str
    data: bytes
    trap: str
    behaviour: str
    # model, for counts and self-check
    header: list = field(default_factory=list)
    rows: list = field(default_factory=list)        # list of list[str] as written (text)
    events: list = field(default_factory=list)      # Ev per row (None for non-event rows)
    rendered: Rendered | None = None
    decode: str = "utf-8-sig"
    delim: str = ","
    type_line: bool = False
    expected_field_counts: list | None = None       # for malformed files
    kept: list | None = None                        # indices of rows a correct reader keeps
    outcome: str = "read"                           # expected outcome, for the summary
    extra: list = field(default_factory=list)       # extra README lines


FIXTURES: list[Fixture] = []


def ev_rows(evs, columns, datefmt, extra_cols=None):
    rows = []
    for e in evs:
        v = e.values()
        v["LastAccessed"] = datefmt(e)
        if extra_cols:
            v.update(extra_cols)
        rows.append([v[c] for c in columns])
    return rows


def add(name, evs, *, columns=COLUMNS, header=None, datefmt=lambda e: fmt_us(e.t),
        enc="utf-8-bom", delim=",", quote="all", eol="\r\n", type_line=None,
        final_eol=True, extra_cols=None, trap="", behaviour="", rows=None,
        expected_field_counts=None, kept=None):
    if rows is None:
        rows = ev_rows(evs, columns, datefmt, extra_cols)
    hdr = header or list(columns)
    r = render(hdr, rows, delim=delim, quote=quote, eol=eol, type_line=type_line,
               final_eol=final_eol)
    fx = Fixture(name=name, data=encode(r.text, enc), trap=trap, behaviour=behaviour,
                 header=hdr, rows=rows, events=list(evs), rendered=r,
                 decode={"utf-8-bom": "utf-8-sig", "utf-8": "utf-8",
                         "utf-16-le": "utf-16", "utf-16-be": "utf-16"}[enc],
                 delim=delim, type_line=type_line is not None,
                 expected_field_counts=expected_field_counts, kept=kept)
    FIXTURES.append(fx)
    return fx


def first_line(fx, pred):
    """Physical line of the first record (in file order) whose event satisfies pred."""
    for ln, e in zip(fx.rendered.record_lines, fx.events):
        if e is not None and pred(e):
            return ln
    return None


def line_of(fx, key):
    return first_line(fx, lambda e: e.key == key)


def build():
    # 1 -------------------------------------------------------------------
    basic = newest_first(MASTER)
    fx = add("basic_en-US.csv", basic,
             trap="The main sample: Windows PowerShell `Export-Csv -NoTypeInformation -Encoding UTF8` "
                  "(BOM, CRLF, all 55 columns quoted), en-US `M/d/yyyy h:mm:ss tt` dates, newest "
                  "first as the cmdlet returns them; all operations, all five logon types, all the "
                  "special subjects (non-ASCII, comma, doubled quotes, embedded CRLF).")
    fx.behaviour = (
        f"Read all records. Month-first is proved by line {first_line(fx, lambda e: e.t.day > 12)} "
        f"(the first value with day > 12; here nearly every row). Rows are newest first: do not "
        f"assume ascending order. `SourceItems`/`SourceFolders` hold a type name on EVERY row, even "
        f"FolderBind: never use them as data nor to decide whether the row has source items; take "
        f"the subject from `SourceItemSubjectsList` when it is non-empty (first subject left-trimmed "
        f"is what the seed showed), else `ItemSubject`. The CRLF subject (line "
        f"{line_of(fx, 'E21')}) must stay one record.")
    fx.extra = basic_table(fx)

    # 2 -------------------------------------------------------------------
    evs = newest_first(MASTER[0::2])
    fx = add("typeline_nobom.csv", evs, enc="utf-8", type_line=TYPE_LINE,
             trap="`Export-Csv` without `-NoTypeInformation`: line 1 is `#TYPE ...`, the header is "
                  "line 2; UTF-8 with no BOM.")
    fx.behaviour = ("Skip the `#TYPE` line, take line 2 as the header. Month-first proved by line "
                    f"{first_line(fx, lambda e: e.t.day > 12)}.")

    # 3 -------------------------------------------------------------------
    evs = newest_first(pick("E01", "E02", "E03", "E04", "E09", "E13", "Y1", "E15", "E19", "E22"))
    fx = add("utf16le.csv", evs, enc="utf-16-le", type_line=TYPE_LINE_DESERIALIZED,
             trap="UTF-16 LE with BOM `FF FE` (Windows PowerShell `-Encoding Unicode`/`Out-File`), "
                  "CRLF, `#TYPE Deserialized....` line (objects that came over a remote session); "
                  "non-ASCII subjects and an emoji outside the BMP (surrogate pair D83C DF55).")
    fx.behaviour = (f"Detect UTF-16 LE from the BOM, skip any line starting `#TYPE ` (including the "
                    f"`Deserialized.` variant). Subject on line {line_of(fx, 'Y1')} must decode to "
                    f"`Lunch \U0001F355 Friday?` (U+1F355); `Résumé – Jürgen Müller` on lines "
                    f"{line_of(fx, 'E22')} (ItemSubject) and {line_of(fx, 'E13')} "
                    f"(SourceItemSubjectsList). Month-first proved by line "
                    f"{first_line(fx, lambda e: e.t.day > 12)}.")

    # 4 -------------------------------------------------------------------
    evs = newest_first(pick("E05", "E06", "E07", "E08", "E09", "E10", "E11", "E12", "E22"))
    fx = add("utf16be.csv", evs, enc="utf-16-be",
             trap="UTF-16 BE with BOM `FE FF` (`-Encoding BigEndianUnicode`), CRLF, no `#TYPE` line.")
    fx.behaviour = (f"Detect UTF-16 BE from the BOM. Month-first proved by line "
                    f"{first_line(fx, lambda e: e.t.day > 12)}.")

    # 5 -------------------------------------------------------------------
    evs = newest_first(pick("E01", "E02", "E04", "E08", "E09", "Y2", "E13", "E14", "E15", "E16",
                            "E21", "E22"))
    fx = add("semicolon_de-DE.csv", evs, delim=";", datefmt=lambda e: fmt_de(e.t),
             trap="`Export-Csv -UseCulture` on de-DE: `;` delimiter, dates `dd.MM.yyyy HH:mm:ss` "
                  "(24 h); a subject containing `;` and subjects containing `,`.")
    fx.behaviour = (f"Detect `;` from the header line (not from data). Day-first; day > 12 first on "
                    f"line {first_line(fx, lambda e: e.t.day > 12)}. `Agenda; Q2 planning` (line "
                    f"{line_of(fx, 'Y2')}) and `RE: Invoice, March 2017` (line {line_of(fx, 'E16')}) "
                    f"are single fields, and so is every `ClientInfoString` (it contains `;`).")

    # 6 -------------------------------------------------------------------
    evs = oldest_first(pick("E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10",
                            "E11", "E13"))
    fx = add("dayfirst_en-GB.csv", evs, datefmt=lambda e: fmt_gb(e.t),
             trap="en-GB `dd/MM/yyyy HH:mm:ss`, sorted oldest first so the only proof of day-first "
                  "(day > 12) comes in the LAST rows.")
    fx.behaviour = (f"Decide day/month order from the whole file, not the first rows: lines "
                    f"{fx.rendered.record_lines[0]}..{first_line(fx, lambda e: e.t.day > 12) - 1} are "
                    f"ambiguous, line {first_line(fx, lambda e: e.t.day > 12)} (`13/04/2017 ...`) "
                    f"proves day-first. First record = 2017-04-10 15:22:11 (10 April, not 4 October).")

    # 7 -------------------------------------------------------------------
    evs = oldest_first(pick("E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10"))
    fx = add("ambiguous_dates.csv", evs,
             trap="en-US shape but every date has month <= 12 and day <= 12 (4/10..4/12): the order "
                  "cannot be proved from the data.")
    fx.outcome = "ambiguous date order: needs the user's choice"
    fx.behaviour = ("Must not silently guess: either fail/warn that the day/month order is "
                    "ambiguous and needs the user's choice (e.g. a `--date-order`/culture option), "
                    "or use an explicit user-given order. Month-first gives 2017-04-10..2017-04-12; "
                    "day-first would give 2017-10-04..2017-12-04.")

    # 8 -------------------------------------------------------------------
    evs = oldest_first(pick("E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08", "E09", "E10",
                            "E11", "E13"))

    def conflicting_fmt(e):
        return fmt_us_dayfirst(e.t) if e.key == "E13" else fmt_us(e.t)
    fx = add("conflicting_dates.csv", evs, datefmt=conflicting_fmt,
             trap="Dates prove BOTH orders: `4/13/2017 7:05:00 AM` (month-first) and "
                  "`13/4/2017 9:12:18 AM` (day-first) in one file.")
    fx.outcome = "error: conflicting date orders"
    fx.behaviour = (f"Report the conflict as an error naming the file and both lines (month-first "
                    f"proof on line {line_of(fx, 'E11')}, day-first proof on line "
                    f"{line_of(fx, 'E13')}); never pick one order silently.")

    # 9 -------------------------------------------------------------------
    ml = [
        M["E01"],
        replace(M["E02"], overrides=(("ClientInfoString", OWA.replace(";Action", "\n;Action")),)),
        M["E03"],
        M["E04"],
        replace(M["E08"], overrides=(("FolderPathName", "\\Inbox\\Projects\r\nAlpha"),
                                     ("FolderName", "Projects\r\nAlpha"))),
        M["E09"],
        replace(M["E14"], overrides=(("FolderPathName", "\\Inbox\\Finance\nQ2"),)),
        M["E15"],
        M["E21"],
        replace(M["E22"], subject="Résumé – Jürgen Müller\nsecond line (LF only)"),
    ]
    evs = oldest_first(ml)
    fx = add("multiline_fields.csv", evs, final_eol=False,
             trap="Quoted fields containing CRLF and bare LF (ItemSubject, ClientInfoString, "
                  "FolderPathName, FolderName); the last record has NO final newline.")
    fx.behaviour = (f"{len(evs)} records, each spanning its physical lines: CRLF subject on line "
                    f"{line_of(fx, 'E21')}, LF subject on line {line_of(fx, 'E22')}, LF in "
                    f"ClientInfoString on line {line_of(fx, 'E02')}, CRLF in FolderPathName on line "
                    f"{line_of(fx, 'E08')}, LF in FolderPathName on line {line_of(fx, 'E14')}. "
                    f"Embedded line breaks are kept as data (CRLF stays CRLF). The last record "
                    f"(line {fx.rendered.record_lines[-1]}) must not be lost for lack of a final "
                    f"newline.")

    # 10 ------------------------------------------------------------------
    onprem_cols = [
        ("LastAccessed", "LASTACCESSED"), ("Operation", "operation"),
        ("OperationResult", "OperationResult"), ("LogonType", "logontype"),
        ("LogonUserDisplayName", "LogonUserDisplayName"), ("LogonUserSid", "logonUserSid"),
        ("ItemSubject", "ItemSubject"), ("FolderPathName", "FolderPathName"),
        ("FolderId", "folderid"), ("DestFolderPathName", "DestFolderPathName"),
        ("DestFolderId", "DESTFOLDERID"), ("ClientInfoString", "ClientInfoString"),
        ("ClientIPAddress", "ClientIPAddress"), ("ClientMachineName", "ClientMachineName"),
        ("ClientProcessName", "ClientProcessName"), ("ClientVersion", "ClientVersion"),
        ("ExternalAccess", "ExternalAccess"), ("SourceItems", "SourceItems"),
        ("CrossMailboxOperation", "crossmailboxoperation"), ("MailboxOwnerUPN", "MailboxOwnerUPN"),
        ("MailboxOwnerSid", "MailboxOwnerSid"), ("MailboxGuid", "mailboxguid"),
        ("MailboxResolvedOwnerName", "MailboxResolvedOwnerName"),
        ("OriginatingServer", "OriginatingServer"), ("Identity", "Identity"),
    ]
    assert len(onprem_cols) == 25
    evs = newest_first(pick("E01", "E02", "E04", "E05", "E08", "E09", "E11", "E13", "E16", "E21",
                            "E22", "E25"))
    styles = {}
    for i, e in enumerate(evs):
        styles[e.key] = ("offset", "z", "naive")[i % 3]

    def onprem_fmt(e):
        return {"offset": fmt_iso_offset, "z": fmt_iso_z, "naive": fmt_iso_naive}[styles[e.key]](e)
    rows = []
    for e in evs:
        v = e.values()
        v["OriginatingServer"] = ONPREM_SERVER
        v["SourceItems"] = ONPREM_SOURCE_ITEMS_TYPE   # local EMS: the Exchange type name
        v["LastAccessed"] = onprem_fmt(e)
        rows.append([v[c] for c, _ in onprem_cols])
    fx = add("onprem2013_subset.csv", evs, header=[h for _, h in onprem_cols], rows=rows,
             enc="utf-8", quote="minimal", eol="\n",
             trap="Exchange 2013 on-prem subset: 25 columns in a different order, header names in "
                  "mixed/upper/lower case, LF line ends, no BOM, quotes only where needed; ISO 8601 "
                  "dates with `+02:00`, with `Z`, and with no offset, 7-digit fractions. "
                  "`SourceItems` holds the local-shell type name "
                  "`Microsoft.Exchange.Data.MultiValuedProperty`1[...MailboxAuditLogSourceItem]`; "
                  "no `SourceItemSubjectsList` column.")
    z_line = first_line(fx, lambda e: styles[e.key] == "z")
    n_line = first_line(fx, lambda e: styles[e.key] == "naive")
    o_line = first_line(fx, lambda e: styles[e.key] == "offset")
    fx.behaviour = (f"Match columns by name case-insensitively (`LASTACCESSED`, `operation`...). "
                    f"Unquoted fields are plain; quoted ones (commas in ClientInfoString, `\"\"` in "
                    f"ItemSubject, CRLF subject on line {line_of(fx, 'E21')}) are one field. Dates: "
                    f"`+02:00` (first on line {o_line}) and `Z` (first on line {z_line}) are exact "
                    f"instants; no offset (first on line {n_line}) is local time and needs the "
                    f"user's zone — with `+02:00` given, all rows map to the same instants as the "
                    f"offset form (wall time - 2 h = UTC). Fractions must be kept or truncated, "
                    f"never rejected. Delete/move rows have no subject here (no "
                    f"SourceItemSubjectsList): empty, not an error.")
    fx.extra = [f"- line {ln}: `{row[0]}` ({styles[e.key]}) = UTC "
                f"{(e.t - ISO_OFFSET):%Y-%m-%d %H:%M:%S}.{frac7(e.key):07d}"
                for ln, row, e in zip(fx.rendered.record_lines, fx.rows, fx.events)]

    # 11 ------------------------------------------------------------------
    cols = [c for c in COLUMNS if c != "LastAccessed"]
    evs = newest_first(pick("E01", "E02", "E03", "E04", "E05", "E06", "E07", "E08"))
    fx = add("missing_lastaccessed.csv", evs, columns=cols,
             trap="Looks like a normal export (54 columns) but the header has no `LastAccessed`.")
    fx.outcome = "error: missing column LastAccessed"
    fx.behaviour = ("Reject the whole file with an error that names the file and the missing "
                    "column `LastAccessed`; read no records from it.")

    # 12 ------------------------------------------------------------------
    # searched like the seed does: -LogonTypes Owner, Admin, Delegate (no SystemService/Transport)
    pool = [e for e in MASTER + pick("X1", "X2", "X3", "X4", "Z1", "Z2")
            if e.logon in DEFAULT_LOGON_TYPES]
    a_evs = newest_first([e for e in pool if D(4, 10, 0, 0, 0) <= e.t < D(4, 21, 0, 0, 0)])
    b_evs = newest_first([e for e in pool if D(4, 15, 0, 0, 0) <= e.t < D(4, 28, 0, 0, 0)])
    overlap = oldest_first([e for e in a_evs if e in b_evs])
    union = {e.key for e in a_evs} | {e.key for e in b_evs}
    rps_cols = ["RunspaceId"] + COLUMNS + ["PSComputerName", "PSShowComputerName"]
    ra = {"RunspaceId": guid("runspace-a"), "PSComputerName": "outlook.office365.com",
          "PSShowComputerName": "False"}
    rb = {"RunspaceId": guid("runspace-b"), "PSComputerName": "ps.outlook.com",
          "PSShowComputerName": "False"}
    fa = add("rps_overlap_a.csv", a_evs, columns=rps_cols, extra_cols=ra,
             trap="Remote-PowerShell export: `RunspaceId` first, `PSComputerName`, "
                  "`PSShowComputerName` last; window 4/10-4/20, searched with `-LogonTypes Owner, "
                  "Admin, Delegate`.")
    fb = add("rps_overlap_b.csv", b_evs, columns=rps_cols, extra_cols=rb,
             trap="Same mailbox, window 4/15-4/27; the overlap events are identical to file a "
                  "except RunspaceId and PSComputerName.")
    dedup_note = (f"Reading a and b together: {len(a_evs)} + {len(b_evs)} records, {len(overlap)} "
                  f"duplicates, {len(union)} unique events after dedup (key: Identity; "
                  f"RunspaceId/PSComputerName/PSShowComputerName ignored).")
    fa.behaviour = dedup_note
    fb.behaviour = dedup_note
    fb.extra = overlap_table(overlap, fa, fb)

    noid = [c for c in COLUMNS if c not in ("Identity", "IsValid", "ObjectState")]
    na_cols = ["RunspaceId"] + noid + ["PSComputerName", "PSShowComputerName"]
    nb_cols = ["LastAccessed"] + sorted((c for c in na_cols if c != "LastAccessed"),
                                        key=str.lower)
    na = add("rps_overlap_noidentity_a.csv", a_evs, columns=na_cols, extra_cols=ra,
             trap="As rps_overlap_a but WITHOUT Identity, IsValid, ObjectState (55 columns).")
    nb = add("rps_overlap_noidentity_b.csv", b_evs, columns=nb_cols, extra_cols=rb,
             trap="As rps_overlap_b without Identity/IsValid/ObjectState, and the columns in a "
                  "DIFFERENT order (LastAccessed first, then alphabetical).")
    dedup_note2 = (f"Reading a and b together: {len(a_evs)} + {len(b_evs)} records, {len(overlap)} "
                   f"duplicates, {len(union)} unique after dedup. With no Identity, the key is all "
                   f"other fields matched BY NAME (RunspaceId, PSComputerName, PSShowComputerName "
                   f"ignored). Z1/Z2 (4/18/2017 11:11:11 AM, FolderBind on \\Inbox vs \\Sent Items) "
                   f"share a second and differ only in the folder: both must survive.")
    na.behaviour = dedup_note2
    nb.behaviour = dedup_note2
    assert [line_of(na, e.key) for e in overlap] == [line_of(fa, e.key) for e in overlap]
    assert [line_of(nb, e.key) for e in overlap] == [line_of(fb, e.key) for e in overlap]
    nb.extra = ["", "Duplicates: the same 7 events on the same lines as in the "
                    "rps_overlap_a/b table above (E18, E19, E20, Z1, Z2, E21, E22)."]

    # 13 ------------------------------------------------------------------
    good = pick("E01", "E02", "E04", "E06", "E08", "E10", "E12")
    bad_few, bad_many, bad_date, bad_empty, bad_utf8 = pick("E03", "E05", "E07", "E09", "W1")
    seq = [(good[0], "ok"), (good[1], "ok"), (bad_few, "few"), (good[2], "ok"),
           (bad_many, "many"), (good[3], "ok"), (bad_date, "notadate"), (good[4], "ok"),
           (bad_empty, "empty"), (good[5], "ok"), (bad_utf8, "utf8"), (good[6], "ok")]
    rows, evs, counts, kept = [], [], [], []
    for i, (e, kind) in enumerate(seq):
        v = e.values()
        v["LastAccessed"] = fmt_us(e.t)
        if kind == "notadate":
            v["LastAccessed"] = "not a date"
        if kind == "empty":
            v["LastAccessed"] = ""
        r = [v[c] for c in COLUMNS]
        if kind == "few":
            r = r[:20]
        if kind == "many":
            r = r + ["EXTRA"]
        if kind in ("ok", "utf8"):
            kept.append(i)
        rows.append(r)
        evs.append(e)
        counts.append(len(r))
    fx = add("malformed_rows.csv", evs, rows=rows, expected_field_counts=counts, kept=kept,
             trap="Default shape with bad records among good ones: too few fields, too many "
                  "fields, `not a date`, empty LastAccessed, and an invalid UTF-8 byte 0xFF in "
                  "an ItemSubject.")
    ln = dict(zip([k for _, k in seq], fx.rendered.record_lines))
    fx.outcome = f"read {len(kept)}, skip 4 with diagnostics, warn on 1"
    fx.behaviour = (f"{len(rows)} data records: keep {len(kept)}, skip 4 with a diagnostic naming "
                    f"the file and line — line {ln['few']}: 20 fields instead of 55; line "
                    f"{ln['many']}: 56 fields instead of 55 (never realign); line {ln['notadate']}: "
                    f"LastAccessed `not a date`; line {ln['empty']}: empty LastAccessed. Line "
                    f"{ln['utf8']}: byte 0xFF in ItemSubject — KEEP the record, subject "
                    f"`Lunch \uFFFD Friday` (one U+FFFD), and warn. One bad record must not stop "
                    f"the file.")

    # 14 ------------------------------------------------------------------
    evs = newest_first(MASTER[12:22])
    fx = add("iso_ps7_lf.csv", evs, enc="utf-8", eol="\n", final_eol=False,
             datefmt=fmt_iso_z,
             trap="PowerShell 7 `Export-Csv`: no `#TYPE`, UTF-8 without BOM, LF, all quoted; "
                  "LastAccessed ISO 8601 UTC with `Z` and 7-digit fractions; no final newline.")
    fx.behaviour = (f"UTC instants; no day/month question and no time-zone option needed. First "
                    f"record (line {fx.rendered.record_lines[0]}) = "
                    f"`{fmt_iso_z(evs[0])}`. The last record has no newline.")

    # 15 ------------------------------------------------------------------
    seed_pool = MASTER + pick("X2", "X4")
    seed_evs = newest_first([e for e in seed_pool
                             if e.op != "FolderBind" and e.logon in DEFAULT_LOGON_TYPES])
    rows = []
    for e in seed_evs:
        v = e.values()
        v["LastAccessed"] = fmt_us(e.t)
        v["Subject"] = e.seed_subject()
        v["CrossMailboxOp"] = ("N/A" if e.op in ("SendAs", "Create", "Update")
                               else v["CrossMailboxOperation"])
        rows.append([v[c] for c in SEED_COLUMNS])
    fx = add("AuditLogResults170427_101500.csv", seed_evs, header=SEED_COLUMNS, rows=rows,
             trap="The seed script's own report (docs/formats.md F): 15 columns starting with "
                  "`Subject`, ending with `CrossMailboxOp`; already filtered (no FolderBind, only "
                  "Owner/Admin/Delegate); no Identity, no SourceItemSubjectsList.")
    fx.behaviour = ("Recognise the seed report by its header; `Subject` is the subject, "
                    "`CrossMailboxOp` `N/A` means not applicable (SendAs/Create/Update), not a "
                    "value. Month-first proved by line "
                    f"{first_line(fx, lambda e: e.t.day > 12)}. Subject of the SoftDelete (line "
                    f"{line_of(fx, 'E09')}) is `Good News` only — the seed kept just the first "
                    f"source item.")

    # 16 ------------------------------------------------------------------
    fx = add("header_only.csv", [], rows=[],
             trap="UTF-8 BOM + the 55-column header line (CRLF), no data.")
    fx.outcome = "read 0"
    fx.behaviour = "0 records, no error (at most a note that the file is empty of events)."
    FIXTURES.append(Fixture(name="empty.csv", data=b"",
                            trap="Zero bytes.", outcome="0 records, clear message",
                            behaviour="0 records; a clear message (not a panic) that the file is "
                                      "empty / has no header."))

    # 17 ------------------------------------------------------------------
    tevs = oldest_first(pick("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"))
    lower = {"T2", "T3", "T5", "T8"}
    fx = add("twelve_hour_edge.csv", tevs, datefmt=lambda e: fmt_us(e.t, lower=e.key in lower),
             trap="12-hour clock edges: `12:05:00 AM` = 00:05, `12:30:00 PM` = 12:30, "
                  "`11:59:59 PM` = 23:59:59, `12:00:00 AM` = midnight, `12:00:00 PM` = noon; "
                  "some rows with lower-case `am`/`pm`.")
    fx.behaviour = "Parse AM/PM case-insensitively; 12 AM is hour 0, 12 PM is hour 12."
    fx.extra = [f"- line {ln}: `{row[COLUMNS.index('LastAccessed')]}` = {e.t:%Y-%m-%d %H:%M:%S}"
                for ln, row, e in zip(fx.rendered.record_lines, fx.rows, fx.events)]

    # 18 ------------------------------------------------------------------
    FIXTURES.append(Fixture(name="not_an_export.csv", data=b"name,age\nbob,3\n",
                            trap="An unrelated CSV.",
                            behaviour="Reject: not a mailbox audit export (no `Operation` / "
                                      "`LastAccessed` column); name the file. Do not emit the row.",
                            header=["name", "age"], rows=[["bob", "3"]], events=[None],
                            outcome="error: not a mailbox audit export",
                            decode="utf-8"))


def basic_table(fx):
    out = ["", "| line | LastAccessed (as written) | = local time | Operation | LogonType | "
              "Subject (seed rule) |", "|---|---|---|---|---|---|"]
    for ln, e in zip(fx.rendered.record_lines, fx.events):
        subj = e.seed_subject().replace("\r\n", "\\r\\n").replace("|", "\\|")
        out.append(f"| {ln} | `{fmt_us(e.t)}` | {e.t:%Y-%m-%d %H:%M:%S} | {e.op} | {e.logon} | "
                   f"{subj} |")
    return out


def overlap_table(overlap, fa, fb):
    with_id = "Identity" in fa.header
    out = ["", f"Duplicates between `{fa.name}` and `{fb.name}`:", "",
           f"| event | LastAccessed | Operation | Folder | Subject (seed rule) | "
           + ("Identity (prefix) | " if with_id else "")
           + f"line in {fa.name} | line in {fb.name} |",
           "|---|---|---|---|---|" + ("---|" if with_id else "") + "---|---|"]
    for e in overlap:
        ident = f"`{e.values()['Identity'][:20]}...` | " if with_id else ""
        subj = e.seed_subject().replace("\r\n", "\\r\\n").replace("|", "\\|")
        out.append(f"| {e.key} | `{fmt_us(e.t)}` | {e.op} | `{e.folder}` | {subj} | {ident}"
                   f"{line_of(fa, e.key)} | {line_of(fb, e.key)} |")
    return out


# --------------------------------------------------------------------------
# Counts, self-check, README
# --------------------------------------------------------------------------

def stats(fx):
    """(records in file, records kept, FolderBind, other logon, default view) from the model.

    FolderBind / other logon / default view count the kept records (for files a reader must
    reject, the records in the file)."""
    if not fx.rows:
        return (0, 0, 0, 0, 0)
    if fx.events and fx.events[0] is None:      # not an audit export at all
        return (len(fx.rows), 0, 0, 0, 0)
    evs = fx.events
    if fx.kept is not None:
        evs = [fx.events[i] for i in fx.kept]
    kept = 0 if fx.outcome.startswith("error") else len(evs)
    fb = sum(1 for e in evs if e.op == "FolderBind")
    nd = sum(1 for e in evs if e.logon not in DEFAULT_LOGON_TYPES)
    view = sum(1 for e in evs if e.op != "FolderBind" and e.logon in DEFAULT_LOGON_TYPES)
    return (len(fx.rows), kept, fb, nd, view)


def parse_back(fx):
    data = fx.data
    if fx.decode == "utf-16":
        assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
        text = data.decode("utf-16")  # BOM decides the byte order and is consumed
    else:
        text = data.decode(fx.decode, errors="replace")
    if fx.type_line:
        assert text.startswith("#TYPE "), fx.name
        text = text.split("\n", 1)[1]
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=fx.delim))


def check(fx):
    if not fx.data:
        assert fx.name == "empty.csv"
        return
    recs = parse_back(fx)
    header, body = recs[0], recs[1:]
    assert header == fx.header, (fx.name, header[:3])
    assert len(body) == len(fx.rows), (fx.name, len(body), len(fx.rows))
    if fx.expected_field_counts is not None:
        assert [len(r) for r in body] == fx.expected_field_counts, fx.name
    else:
        for r in body:
            assert len(r) == len(fx.header), (fx.name, len(r))
    for got, want in zip(body, fx.rows):
        want = [w.replace(INVALID_UTF8_SENTINEL, "\ufffd") for w in want]
        assert got == want, (fx.name, [(a, b) for a, b in zip(got, want) if a != b][:3])
    # physical line numbers we report must be where records really start
    text_lines = fx.rendered.text.split("\n") if fx.rendered else []
    for ln, row in zip(fx.rendered.record_lines if fx.rendered else [], fx.rows):
        first = row[0] if row else ""
        assert text_lines[ln - 1].lstrip('"').startswith(first.split("\n")[0].split("\r")[0]
                                                         .replace('"', '""')), (fx.name, ln)
    # encoding facts
    enc_checks = {
        "utf16le.csv": lambda b: b[:2] == b"\xff\xfe" and "\U0001F355".encode("utf-16-le") in b,
        "utf16be.csv": lambda b: b[:2] == b"\xfe\xff",
        "typeline_nobom.csv": lambda b: b.startswith(b"#TYPE "),
        "onprem2013_subset.csv": lambda b: b"\r\n" not in b.replace(b"\r\nURGENT", b""),
        "iso_ps7_lf.csv": lambda b: (not b.endswith(b"\n")
                                     and b"\r" not in b.replace(b"\r\nURGENT", b"")),
        "multiline_fields.csv": lambda b: not b.endswith(b"\n"),
        "malformed_rows.csv": lambda b: b"Lunch \xff Friday" in b,
    }
    if fx.name in enc_checks:
        assert enc_checks[fx.name](fx.data), fx.name
    assert len(fx.data) < 20 * 1024, (fx.name, len(fx.data))


def describe_encoding(fx):
    b = fx.data
    if not b:
        return "0 bytes"
    if b.startswith(b"\xef\xbb\xbf"):
        enc = "UTF-8 BOM"
    elif b.startswith(b"\xff\xfe"):
        enc = "UTF-16 LE BOM"
    elif b.startswith(b"\xfe\xff"):
        enc = "UTF-16 BE BOM"
    else:
        enc = "UTF-8 no BOM"
    text = fx.rendered.text if fx.rendered else b.decode("utf-8")
    eol = "CRLF" if text.split("\n", 1)[0].endswith("\r") else "LF"
    fin = "" if text.endswith("\n") else ", no final newline"
    delim = {",": "`,`", ";": "`;`"}[fx.delim]
    return f"{enc}, {eol}{fin}, {delim}, {len(b)} bytes"


README_HEAD = """\
# Legacy `Search-MailboxAuditLog` CSV fixtures

GENERATED by `python3 testdata/make_legacy_fixtures.py` (standard library only, deterministic,
byte-identical on every run). Do not edit by hand: change the script and re-run it.

## The story
Mailbox `test1@contoso.com` (`CONTOSO\\test1`, MailboxGuid `5b1c2a9e-0d7f-4e0b-9a51-2f3c9d1e7a10`,
owner SID `S-1-5-21-1111111111-2222222222-3333333333-1001`), April 2017 (4/10-4/27).
Actors: the owner `Test User 1` (Owner, 192.0.2.15, Outlook/MSExchangeRPC), the delegate
`Eve Attacker` (Delegate, SID `...-1337`, 203.0.113.7, OWA), `Exchange Admin` (Admin,
198.51.100.20, copies a CV to a discovery mailbox: CrossMailboxOperation `True`), plus
SystemService and Transport rows that the default logon types (Owner, Admin, Delegate) filter out.
Each event has a key (E01..E25 = the master timeline = basic_en-US.csv; X*, Y*, Z*, W1, T* extra);
the same key gives the same values (and the same `Identity`) in every file.

Conventions:
- "line" = 1-based physical line of the file where a record starts (a `#TYPE` line counts;
  records with embedded line breaks span several lines).
- Culture-formatted `LastAccessed` values (en-US, en-GB, de-DE) are the same local wall times
  with no offset: the zone can only come from the user. ISO values with an offset use `+02:00`;
  their `Z` form is 2 h earlier.
- `SourceItems` / `SourceFolders` hold a type name on every row, including rows without source
  items: `System.Collections.ArrayList` in the Exchange Online (remote session, deserialized)
  exports, `Microsoft.Exchange.Data.MultiValuedProperty`1[Microsoft.Exchange.Data.MailboxAuditLogSourceItem]`
  in onprem2013_subset.csv (local shell). They are never data. Subjects of moved/deleted items are in `SourceItemSubjectsList`, joined with `,`
  (e.g. ` Good News, Invoice, March 2017` = two items, `Good News` and `Invoice, March 2017`, which
  cannot be split back reliably); `ItemSubject` is empty on those rows.
- Counts columns: **records in file** = CSV data records after the header (and `#TYPE` line);
  **kept** = records a correct reader returns (0 for files it must reject; malformed_rows: after
  skipping the bad ones). **FolderBind**, **other logon** (LogonType outside Owner/Admin/Delegate)
  and **default view** (what the seed script would list: not FolderBind, logon in
  Owner/Admin/Delegate) count the kept records, or for a rejected file the records in it.

## Summary

| file | encoding, line ends, delimiter, size | records in file | kept | FolderBind | other logon | default view | expected outcome |
|---|---|---|---|---|---|---|---|
"""


def write_readme(fixtures):
    lines = [README_HEAD.rstrip("\n")]
    for fx in fixtures:
        n, k, fb, nd, view = stats(fx)
        lines.append(f"| `{fx.name}` | {describe_encoding(fx)} | {n} | {k} | {fb} | {nd} | {view} "
                     f"| {fx.outcome} |")
    lines.append("")
    lines.append("## Files")
    for fx in fixtures:
        lines.append("")
        lines.append(f"### `{fx.name}`")
        lines.append(f"- Trap: {fx.trap}")
        lines.append(f"- Reader must: {fx.behaviour}")
        if fx.rendered is not None:
            lines.append(f"- Lines: header on line {fx.rendered.header_line}"
                         + (f", records start on lines {fx.rendered.record_lines[0]}.."
                            f"{fx.rendered.record_lines[-1]}." if fx.rendered.record_lines else "."))
        lines.extend(fx.extra)
    lines.append("")
    text = "\n".join(lines)
    with open(os.path.join(OUT, "README.md"), "wb") as f:
        f.write(text.encode("utf-8"))


def main():
    build()
    os.makedirs(OUT, exist_ok=True)
    names = [fx.name for fx in FIXTURES]
    assert len(names) == len(set(names))
    for fx in FIXTURES:
        with open(os.path.join(OUT, fx.name), "wb") as f:
            f.write(fx.data)
    for fx in FIXTURES:
        check(fx)
    write_readme(FIXTURES)
    w = max(len(n) for n in names)
    print(f"{'file':<{w}}  in-file  kept  FolderBind  other-logon  default-view  bytes  outcome")
    for fx in FIXTURES:
        n, k, fb, nd, view = stats(fx)
        print(f"{fx.name:<{w}}  {n:>7}  {k:>4}  {fb:>10}  {nd:>11}  {view:>12}  {len(fx.data):>5}"
              f"  {fx.outcome}")
    print(f"self-check OK: {len(FIXTURES)} files parsed back with csv, field counts as intended")
    return 0


if __name__ == "__main__":
    sys.exit(main())
