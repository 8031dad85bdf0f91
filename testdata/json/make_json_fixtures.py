#!/usr/bin/env python3
"""Generate the JSON fixtures in testdata/json/ (and their README.md).

Standard library only, deterministic: running it twice writes byte-identical files.
The events, actors and Identity values are those of testdata/make_legacy_fixtures.py
(imported, not copied), so a JSON dump and a CSV export of the same events de-duplicate
against each other; the Unified Audit Log dump reuses the records of
testdata/ual/make_ual_fixtures.py for the same reason.

Every file is built as text with explicit line ends, encoded explicitly (BOM, UTF-16)
and written in binary mode. The script then reads every file back with the json module
and checks record counts, record start lines and the deliberate breakage.

    python3 testdata/json/make_json_fixtures.py
"""

from __future__ import annotations

import calendar
import json
import os
import shutil
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
TESTDATA = os.path.dirname(HERE)
REALDATA = "/work/shared/realdata/blueteam0ps-det-eng-samples"
sys.dont_write_bytecode = True  # leave no __pycache__ in the fixture folders
sys.path.insert(0, TESTDATA)
sys.path.insert(0, os.path.join(TESTDATA, "ual"))

import make_legacy_fixtures as L  # noqa: E402
import make_ual_fixtures as U  # noqa: E402

# --------------------------------------------------------------------------
# PowerShell's JSON writers
# --------------------------------------------------------------------------


class Raw(str):
    """Text written as is (already JSON)."""


def ms_date(t) -> Raw:
    """Windows PowerShell 5.1's DateTime: `\\/Date(ms)\\/`. The exporting machine ran in
    UTC, so the wall times of the CSV fixtures are these instants."""
    return Raw('"\\/Date(%d)\\/"' % (calendar.timegm(t.timetuple()) * 1000))


def long_date(t) -> str:
    """The `DateTime` note property: the en-US long date and time."""
    h = t.hour % 12 or 12
    ampm = "AM" if t.hour < 12 else "PM"
    return f"{t:%A}, {t:%B} {t.day}, {t.year} {h}:{t.minute:02d}:{t.second:02d} {ampm}"


def esc51(s: str) -> str:
    """JavaScriptSerializer escaping (Windows PowerShell 5.1): quotes, backslashes and
    control characters, and also < > & ' as \\uXXXX; other characters as they are."""
    out = []
    for ch in s:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "\n\r\t\b\f":
            out.append({"\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}[ch])
        elif ord(ch) < 0x20 or ch in "<>&'":
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return "".join(out)


def ps51(v, col: int, eol: str) -> str:
    """Windows PowerShell 5.1 `ConvertTo-Json` layout: `"name":  value` (two spaces),
    members 4 columns right of their brace, nested values aligned after their name, empty
    arrays as `[`, an empty line, `]`."""
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return '"' + esc51(v) + '"'
    pad = " " * (col + 4)
    if isinstance(v, list):
        if not v:
            return "[" + eol + eol + " " * col + "]"
        parts = [pad + ps51(e, col + 4, eol) for e in v]
        return "[" + eol + ("," + eol).join(parts) + eol + " " * col + "]"
    parts = []
    for k, x in v.items():
        prefix = '"' + k + '":  '
        parts.append(pad + prefix + ps51(x, col + 4 + len(prefix), eol))
    return "{" + eol + ("," + eol).join(parts) + eol + " " * col + "}"


def ps7(v, level: int, eol: str) -> str:
    """PowerShell 7 `ConvertTo-Json` (Newtonsoft, indented by two spaces)."""
    if isinstance(v, Raw):
        return str(v)
    if v is None or isinstance(v, (bool, int, str)):
        return json.dumps(v, ensure_ascii=False)
    inner = "  " * (level + 1)
    if isinstance(v, list):
        if not v:
            return "[]"
        parts = [inner + ps7(e, level + 1, eol) for e in v]
        return "[" + eol + ("," + eol).join(parts) + eol + "  " * level + "]"
    parts = [inner + json.dumps(k) + ": " + ps7(x, level + 1, eol) for k, x in v.items()]
    return "{" + eol + ("," + eol).join(parts) + eol + "  " * level + "}"


def dump(values: list, *, style: str, eol: str, bare_indent: int = 0) -> str:
    """`ConvertTo-Json` of a pipeline: one result is written as a bare object."""
    if style == "ps7":
        v = values[0] if len(values) == 1 else values
        return ps7(v, 0, eol)
    if len(values) == 1:
        return " " * bare_indent + ps51(values[0], bare_indent, eol)
    return ps51(values, 0, eol)


# --------------------------------------------------------------------------
# The legacy objects
# --------------------------------------------------------------------------

LOGON_NUMBERS = {"Owner": 0, "Admin": 1, "Delegate": 2, "Transport": 3, "SystemService": 4}
BOOLEANS = {"ExternalAccess", "CrossMailboxOperation", "IsValid", "ItemIsRecord"}
EMPTY_STRINGS = {"ClientMachineName", "ClientProcessName", "ClientVersion"}
SOURCE_ITEM_TYPE = "Microsoft.Exchange.Management.SystemConfigurationTasks.MailboxAuditLogSourceItem"


def source_items(e: L.Ev) -> list:
    return [{"SourceItemId": L.b64id("RgAAAAAD", "item:" + s.lstrip(" "), 18),
             "SourceItemSubject": s,
             "SourceItemFolderPathName": e.folder} for s in e.src]


def legacy_object(e: L.Ev, *, date: str, logon: str, items: str) -> dict:
    """One `Search-MailboxAuditLog -ShowDetails` result as ConvertTo-Json sees it.

    date: 'ms' (\\/Date\\/), 'object' ({value, DisplayHint, DateTime}), 'iso' (PS 7, +02:00)
    logon: 'number' (the enum's value) or 'text'
    items: 'objects' (-Depth 3 or more), 'typenames' (default depth: each item's type
    name), 'string' (the collection's type name, as Export-Csv writes it)"""
    v = e.values()
    out = {}
    for c in L.COLUMNS:
        x = v[c]
        if c == "LastAccessed":
            x = {"ms": lambda: ms_date(e.t),
                 "object": lambda: {"value": ms_date(e.t), "DisplayHint": 2,
                                    "DateTime": long_date(e.t)},
                 "iso": lambda: L.fmt_iso_offset(e)}[date]()
        elif c in ("LogonType", "InternalLogonType"):
            x = LOGON_NUMBERS[x] if logon == "number" else x
        elif c == "SourceItems":
            x = {"objects": source_items(e),
                 "typenames": [SOURCE_ITEM_TYPE for _ in e.src],
                 "string": L.SOURCE_ITEMS_TYPE}[items]
        elif c == "SourceFolders":
            x = L.SOURCE_FOLDERS_TYPE if items == "string" else []
        elif c in BOOLEANS:
            x = {"True": True, "False": False, "": None}[x]
        elif x == "" and c not in EMPTY_STRINGS:
            x = None
        out[c] = x
    return out


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------

@dataclass
class Fixture:
    name: str
    data: bytes
    what: str
    expect: str
    text: str = ""
    encoding: str = ""
    records: int = 0                  # record objects in the file
    events: list = field(default_factory=list)
    record_lines: list = field(default_factory=list)
    lines_note: str = ""
    source: str = "generated"
    layout: str = "document"


FIXTURES: list[Fixture] = []


def encode(text: str, enc: str) -> bytes:
    return {"utf-8": lambda: text.encode("utf-8"),
            "utf-8-bom": lambda: b"\xef\xbb\xbf" + text.encode("utf-8"),
            "utf-16-le": lambda: b"\xff\xfe" + text.encode("utf-16-le")}[enc]()


def starts(text: str) -> list:
    """1-based lines where each record object starts (a top-level object or an object
    element of a top-level array), found with the json module."""
    dec = json.JSONDecoder()
    out = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            return out
        if text[pos] == "{":
            out.append(text.count("\n", 0, pos) + 1)
            _, pos = dec.raw_decode(text, pos)
            continue
        assert text[pos] == "[", text[pos:pos + 20]
        pos += 1
        while True:
            while text[pos] in " \t\r\n,":
                pos += 1
            if text[pos] == "]":
                pos += 1
                break
            assert text[pos] == "{"
            out.append(text.count("\n", 0, pos) + 1)
            _, pos = dec.raw_decode(text, pos)


def add(name, text, enc, *, what, expect, events=(), records=None, layout="document"):
    fx = Fixture(name=name, data=encode(text, enc), what=what, expect=expect, text=text,
                 encoding=enc, events=list(events), layout=layout)
    fx.records = len(fx.events) if records is None else records
    FIXTURES.append(fx)
    return fx


def build():
    master = L.newest_first(L.MASTER)

    # 1 -------------------------------------------------------------------
    objs = [legacy_object(e, date="ms", logon="number", items="objects") for e in master]
    add("ps51_depth4_utf16.json", dump(objs, style="ps51", eol="\r\n") + "\r\n", "utf-16-le",
        events=master,
        what="Windows PowerShell 5.1 `Search-MailboxAuditLog -ShowDetails | ConvertTo-Json "
             "-Depth 4 | Out-File` of the 25 events of `../legacy/basic_en-US.csv` (same "
             "order, same Identity): UTF-16 LE with BOM, CRLF, `\\/Date(ms)\\/` dates, "
             "LogonType and InternalLogonType as enum numbers, real booleans and nulls, "
             "`SourceItems` as arrays of `{SourceItemId, SourceItemSubject, "
             "SourceItemFolderPathName}`, empty arrays written `[`, blank line, `]`; "
             "non-ASCII text, a subject holding a line break (`\\r\\n`) and one holding quotes "
             "(`\\\"`).",
        expect="25 records. Same report as basic_en-US.csv, except the subject of the "
               "events with several source items (E09, E19): the first item's, as the seed "
               "script shows it (the CSV only has the comma-joined list). Read together "
               "with basic_en-US.csv every event is a duplicate (the funnel counts the 13 the "
               "default rules keep).")

    # 2 -------------------------------------------------------------------
    evs = L.newest_first(L.pick("E01", "E02", "E03", "E04", "E09", "E13", "Y1", "E15", "E19",
                                "E22"))
    objs = [legacy_object(e, date="ms", logon="number", items="typenames") for e in evs]
    add("ps51_default_depth.json", dump(objs, style="ps51", eol="\r\n") + "\r\n", "utf-8-bom",
        events=evs,
        what="`ConvertTo-Json` at its default depth (2), `Out-File -Encoding UTF8` (BOM, CRLF): "
             "the source items are written as their type name, a string per item "
             "(`SourceItems` is then no data); the events of `../legacy/utf16le.csv`, "
             "including an emoji outside the BMP (U+1F355, raw UTF-8).",
        expect="10 records; subjects from `SourceItemSubjectsList` (left-trimmed, kept whole) "
               "else `ItemSubject`, as for the CSV: the same report as utf16le.csv, and all "
               "duplicates of its rows (8 kept by the default rules).")

    # 3 -------------------------------------------------------------------
    e = L.ALL["E19"]
    obj = legacy_object(e, date="ms", logon="number", items="objects")
    add("bare_object.json", dump([obj], style="ps51", eol="\r\n", bare_indent=4), "utf-8",
        events=[e],
        what="A single result: `ConvertTo-Json` writes a bare object, not an array. Indented "
             "by four spaces and without a final newline, like the real "
             "`t1564.008_rule_mark_as_read_move.json`; UTF-8 without BOM, CRLF. E19 "
             "(HardDelete, PartiallySucceeded) with two source items.",
        expect="1 record, subject `Good News` (the first source item's, left-trimmed); "
               "`--subject 'He said'` finds it through its second item.")

    # 4 -------------------------------------------------------------------
    parts = [L.oldest_first([x for x in L.MASTER if x.t.day <= 12]),
             L.oldest_first([x for x in L.MASTER if 13 <= x.t.day <= 17]),
             [L.ALL["E20"]]]
    text = ""
    evs = []
    for p in parts:
        objs = [legacy_object(x, date="ms", logon="number", items="objects") for x in p]
        text += dump(objs, style="ps51", eol="\r\n") + "\r\n"
        evs += p
    add("appended_arrays.json", text, "utf-16-le", events=evs,
        what="Three searches appended to one file with `ConvertTo-Json -Depth 4 | Out-File "
             "-Append` (UTF-16 LE, one BOM, CRLF): an array (4/10-4/12), an array "
             "(4/13-4/17), and a search with one result, written as a bare object (E20).",
        expect=f"{len(evs)} records from three top-level values; all also in "
               "basic_en-US.csv (11 duplicates with the default rules).")

    # 5 -------------------------------------------------------------------
    evs = L.newest_first(L.MASTER[13:])
    objs = [legacy_object(x, date="object", logon="number", items="string") for x in evs]
    add("datetime_object.json", dump(objs, style="ps51", eol="\r\n") + "\r\n", "utf-8-bom",
        events=evs,
        what="Deserialized results (a remote session, or `Import-Clixml`) through "
             "`Select-Object *` and Windows PowerShell 5.1 `ConvertTo-Json`: each date is an "
             "object `{\"value\": \"\\/Date(ms)\\/\", \"DisplayHint\": 2, \"DateTime\": "
             "\"Friday, April 14, 2017 11:03:27 AM\"}`; `SourceItems` and `SourceFolders` "
             "are the collection's type name; UTF-8 BOM, CRLF.",
        expect=f"{len(evs)} records; the time is the object's `value` (6 duplicates of "
               "basic_en-US.csv rows with the default rules).")

    # 6 -------------------------------------------------------------------
    evs = L.newest_first(L.MASTER[12:22])
    objs = [legacy_object(x, date="iso", logon="text", items="objects") for x in evs]
    add("ps7_depth4.json", dump(objs, style="ps7", eol="\n") + "\n", "utf-8", events=evs,
        what="PowerShell 7 `ConvertTo-Json -Depth 4 -EnumsAsStrings` (UTF-8 without BOM, LF, "
             "two-space indentation, `\"name\": value`): ISO 8601 dates with 7-digit "
             "fractions and `+02:00`, LogonType as text, non-ASCII and `'` unescaped, "
             "`SourceItems` as arrays, empty arrays `[]`. The events of "
             "`../legacy/iso_ps7_lf.csv`, whose `Z` times are the same instants.",
        expect="10 records; same report rows as iso_ps7_lf.csv (but the subject of E19: its "
               "first source item's); all duplicates when read together (7 kept by the "
               "default rules).")

    # 7 -------------------------------------------------------------------
    evs = L.newest_first(L.MASTER[:8])
    objs = [legacy_object(x, date="ms", logon="number", items="objects") for x in evs]
    full = dump(objs, style="ps51", eol="\r\n") + "\r\n"
    lines = starts(full)
    cut_line = lines[4] + 5            # in the middle of the fifth record
    text = "\r\n".join(full.split("\r\n")[:cut_line - 1]) + "\r\n" + \
        full.split("\r\n")[cut_line - 1][:30]
    fx = add("truncated.json", text, "utf-8-bom", events=evs[:4], records=5,
             what="A 5.1 dump cut in the middle of its fifth record, inside a string (a copy "
                  "interrupted, a full disk): UTF-8 BOM, CRLF, no closing `]`.",
             expect=f"4 records read; the fifth, starting on line {lines[4]}, reported as "
                    f"truncated (exit status 1).")
    fx.record_lines = lines[:5]

    # 8 -------------------------------------------------------------------
    evs = L.newest_first(L.MASTER[2:8])
    objs = [legacy_object(x, date="ms", logon="number", items="objects") for x in evs]
    text = dump(objs, style="ps51", eol="\r\n") + "\r\n"
    lines = starts(text)
    rows = text.split("\r\n")
    bad = lines[2] + 3                 # three lines into the third record
    for i in range(bad - 1, bad + 2):  # overwritten, same length: braces stay balanced
        rows[i] = rows[i][:8] + "#" * (len(rows[i]) - 8)
    text = "\r\n".join(rows)
    fx = add("garbage_element.json", text, "utf-8-bom", events=[x for i, x in enumerate(evs)
                                                                 if i != 2], records=6,
             what="A 5.1 dump (UTF-8 BOM, CRLF) whose third element has three lines "
                  "overwritten with `#` (same length, so the brackets still balance).",
             expect=f"5 records read; the third, starting on line {lines[2]}, reported as not "
                    f"valid JSON at line {bad} (exit status 1).")
    fx.record_lines = lines

    # 9 -------------------------------------------------------------------
    big = U.big_mia(61, "2024-03-05T09:30:00")
    records = U.SUA_RECORDS + [big]
    objs = []
    for i, rec in enumerate(records):
        audit = U.exchange_json(rec)
        if rec is big:
            audit = U.cut(audit)
        t = rec["CreationTime"]
        secs = calendar.timegm((int(t[0:4]), int(t[5:7]), int(t[8:10]), int(t[11:13]),
                                int(t[14:16]), int(t[17:19]), 0, 0, 0))
        objs.append({
            "RecordType": U.RECORD_TYPE_NAMES[rec["RecordType"]],
            "CreationDate": Raw('"\\/Date(%d)\\/"' % (secs * 1000)),
            "UserIds": rec["UserId"],
            "Operations": rec["Operation"],
            "AuditData": audit,
            "ResultIndex": i + 1,
            "ResultCount": len(records),
            "Identity": rec["Id"],
            "IsValid": True,
            "ObjectState": "Unchanged",
        })
    add("ual_ps51_auditdata_string.json", dump(objs, style="ps51", eol="\r\n") + "\r\n",
        "utf-16-le", events=records,
        what="Windows PowerShell 5.1 `Search-UnifiedAuditLog | ConvertTo-Json | Out-File` "
             "(UTF-16 LE BOM, CRLF): `AuditData` is a JSON *string* holding the record (its "
             "quotes and `\\/` escaped again). The ten records of "
             "`../ual/sua_mailbox.csv`, then a MailItemsAccessed whose AuditData was cut at "
             f"{U.CUT_AT} characters (as after a round trip through Excel).",
        expect="11 records: ten read from their AuditData (the same records as "
               "sua_mailbox.csv: duplicates when read together); the cut one warned about "
               "and reported, as a cut CSV cell is, from the AuditData members before the cut "
               "and the wrapper's CreationDate, Operations, UserIds, RecordType.")


REAL = [
    ("t1114.003_rule_mail_forward_same_dest.json",
     "Real Windows PowerShell 5.1 `Search-UnifiedAuditLog | ConvertTo-Json` output: an array "
     "of two ExchangeAdmin `New-InboxRule` records (forward to an outside address), AuditData "
     "as a nested object, `\\/Date(ms)\\/` CreationDate, the top-level array indented by four "
     "spaces (`    [{`), CRLF, no final newline.",
     "2 records (ExchangeAdmin: reported with `--record-types admin` or `all`)."),
    ("t1564.008_rule_mark_as_read_move.json",
     "Real 5.1 dump of a single result: a bare object (indented by four spaces, no final "
     "newline), an ExchangeAdmin `New-InboxRule` (mark as read, move to Archive).",
     "1 record (ExchangeAdmin)."),
    ("t1114.003_Forward_Rule_Multi_Users_Same_Forward_dest.json",
     "Real JSON Lines of AuditData records (Management Activity API shape, LF, final "
     "newline): five ExchangeAdmin `Set-Mailbox` forwarding changes with an "
     "`AppAccessContext` object; lines 4 and 5 repeat lines 2 and 3 byte for byte (the "
     "same records pulled twice).",
     "5 records, 3 distinct: 2 duplicates (ExchangeAdmin)."),
]


# --------------------------------------------------------------------------
# Self-check and README
# --------------------------------------------------------------------------

def decode(fx: Fixture) -> str:
    if fx.data.startswith(b"\xff\xfe"):
        return fx.data[2:].decode("utf-16-le")
    return fx.data.decode("utf-8-sig")


def check(fx: Fixture) -> None:
    text = decode(fx)
    assert text == fx.text, fx.name
    if fx.name == "truncated.json":
        try:
            starts(text)
            raise AssertionError("truncated.json parses")
        except (json.JSONDecodeError, IndexError, AssertionError) as err:
            assert "parses" not in str(err)
        return
    if fx.name == "garbage_element.json":
        assert text.count("#####") >= 1
        return
    lines = starts(text)
    assert len(lines) == fx.records, (fx.name, len(lines), fx.records)
    fx.record_lines = lines
    dec = json.JSONDecoder()
    if fx.name.startswith("ual_"):
        return
    # every record is the event it claims to be
    pos, seen = 0, []
    while pos < len(text):
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        if pos >= len(text):
            break
        v, pos = dec.raw_decode(text, pos)
        seen += v if isinstance(v, list) else [v]
    assert [r["Identity"] for r in seen] == [e.values()["Identity"] for e in fx.events], fx.name


def describe(fx: Fixture) -> str:
    b = fx.data
    enc = ("UTF-16 LE BOM" if b.startswith(b"\xff\xfe") else
           "UTF-8 BOM" if b.startswith(b"\xef\xbb\xbf") else "UTF-8 no BOM")
    text = decode(fx)
    eol = "CRLF" if "\r\n" in text else "LF"
    fin = "" if text.endswith("\n") else ", no final newline"
    return f"{enc}, {eol}{fin}, {len(b)} bytes"


def default_view(events) -> int:
    return sum(1 for e in events
               if e.op != "FolderBind" and e.logon in L.DEFAULT_LOGON_TYPES)


README_HEAD = """\
# JSON fixtures

GENERATED by `python3 testdata/json/make_json_fixtures.py` (standard library only,
deterministic, byte-identical on every run), except the three real files, copied byte for
byte. Do not edit by hand: change the script and re-run it.

Used by `tests/json_formats.rs` (end to end, golden reports in `testdata/golden/json_*.csv`)
and by the property test of `src/input/json.rs` (every `.json` here, mutated).

## The story

The same as `../legacy/README.md`: mailbox `test1@contoso.com`, April 2017, the owner
`Test User 1`, the delegate `Eve Attacker`, `Exchange Admin`; each event (E01..E25, Y1...)
has the same values and the same `Identity` as in the CSV fixtures, so a JSON dump and a CSV
export of the same events are duplicates of each other. The exporting machine ran in UTC: the
CSVs' wall times and the dumps' `\\/Date(ms)\\/` instants are the same. The Unified Audit Log
dump holds the records of `../ual/sua_mailbox.csv` (Eve, 5 March 2024).

The PowerShell layouts are emulated (no PowerShell here): Windows PowerShell 5.1 writes
`"name":  value` with two spaces, aligns nested values after their name, writes an empty
array as `[`, an empty line and `]`, escapes `<`, `>`, `&` and `'` as `\\u00XX`, and turns
enums into numbers (shown for `LogonType` and `InternalLogonType`, docs/formats.md §B); PowerShell
7 indents by two spaces and writes ISO dates. "record" below = a record object: a top-level
object, or an object element of a top-level array; "line" = the 1-based line where it starts.

## Files

| file | source | encoding, line ends, size | records | default view | expected |
|---|---|---|---|---|---|
"""


def write_readme() -> None:
    rows = [README_HEAD.rstrip("\n")]
    for fx in FIXTURES:
        view = default_view(fx.events) if not fx.name.startswith(("ual_", "t1")) else "-"
        rows.append(f"| `{fx.name}` | {fx.source} | {describe(fx)} | {fx.records} | {view} "
                    f"| {fx.expect} |")
    rows.append("")
    rows.append("\"default view\" = records the default rules keep (not FolderBind, logon type "
                "Owner, Admin or Delegate).")
    rows.append("")
    rows.append("## What each file exercises")
    for fx in FIXTURES:
        rows.append("")
        rows.append(f"### `{fx.name}`")
        rows.append(f"- {fx.what}")
        if fx.source.startswith("real"):
            rows.append("- Source: the public repository **blueteam0ps/det-eng-samples**, "
                        "folder `dataset/`, licensed **Apache-2.0**: activity simulated in a "
                        "real Microsoft 365 tenant, pulled with `Search-UnifiedAuditLog` (via "
                        "Microsoft-Extractor-Suite). Copied byte for byte, name kept.")
        if fx.record_lines:
            shown = ", ".join(str(n) for n in fx.record_lines)
            rows.append(f"- Record{'s start' if len(fx.record_lines) > 1 else ' starts'} on "
                        f"line{'s' if len(fx.record_lines) > 1 else ''} {shown}.")
        if fx.events and not fx.name.startswith(("ual_", "t1")):
            keys = ", ".join(e.key for e in fx.events)
            rows.append(f"- Events, in file order: {keys}.")
    rows.append("")
    with open(os.path.join(HERE, "README.md"), "wb") as f:
        f.write("\n".join(rows).encode("utf-8"))


def main() -> int:
    build()
    for name, what, expect in REAL:
        src = os.path.join(REALDATA, name)
        dst = os.path.join(HERE, name)
        if os.path.exists(src):
            shutil.copyfile(src, dst)
        with open(dst, "rb") as f:
            data = f.read()
        fx = Fixture(name=name, data=data, what=what, expect=expect, text=data.decode("utf-8"),
                     source="real (Apache-2.0)")
        fx.records = len(starts(fx.text))
        fx.record_lines = starts(fx.text)
        FIXTURES.append(fx)
    for fx in FIXTURES:
        if fx.source == "generated":
            with open(os.path.join(HERE, fx.name), "wb") as f:
                f.write(fx.data)
            check(fx)
    write_readme()
    for fx in FIXTURES:
        print(f"{fx.name:<60} {fx.records:>3} records  {describe(fx)}")
    print(f"self-check OK: {len(FIXTURES)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
