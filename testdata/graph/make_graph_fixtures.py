#!/usr/bin/env python3
"""Writes the Graph page and SIEM wrapper fixtures of this folder (see README.md).

Standard library only, deterministic: every file wraps the ten records of
../ual/sua_mailbox.jsonl, so each must give the same report as that file.
"""

import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "..", "ual", "sua_mailbox.jsonl")

with open(SOURCE, encoding="utf-8") as f:
    LINES = [line.rstrip("\r\n") for line in f if line.strip()]
RECORDS = [json.loads(line) for line in LINES]

GRAPH_TYPES = {2: "exchangeItem", 3: "exchangeItemGroup", 1: "exchangeAdmin",
               15: "azureActiveDirectoryStsLogon", 50: "exchangeItemAggregated"}
CONTEXT = ("https://graph.microsoft.com/beta/$metadata#security/auditLog/queries"
           "('b7188d6b-4ff2-4a5b-9b17-0a4c8d3e2f10')/records")


def graph_record(r):
    data = {"@odata.type": "#microsoft.graph.security.defaultAuditData"}
    data.update(r)
    return {
        "id": r["Id"],
        "createdDateTime": r["CreationTime"] + "Z",
        "auditLogRecordType": GRAPH_TYPES.get(r["RecordType"], "unknownFutureValue"),
        "operation": r["Operation"],
        "organizationId": r.get("OrganizationId", ""),
        "userType": "regular",
        "userId": r.get("UserId", ""),
        "service": r.get("Workload", ""),
        "objectId": r.get("ObjectId", ""),
        "userPrincipalName": r.get("UserId", ""),
        "clientIp": r.get("ClientIP", ""),
        "administrativeUnits": [],
        "auditData": data,
    }


def pages():
    records = [graph_record(r) for r in RECORDS]
    cuts = [(0, 6, True), (6, 10, True), (10, 10, False)]
    out = []
    for a, b, more in cuts:
        page = {"@odata.context": CONTEXT, "value": records[a:b]}
        if more:
            page["@odata.nextLink"] = CONTEXT.split("$metadata")[0] + \
                "security/auditLog/queries('b7188d6b')/records?$skiptoken=" + str(b)
        out.append(page)
    return out


def write(name, text):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


# Three pages (6, 4 and 0 records), pretty-printed and concatenated as appended responses.
write("graph_pages.json", "".join(json.dumps(p, indent=2) + "\n" for p in pages()))
# The same pages, one compact response per line.
write("graph_pages.jsonl", "".join(json.dumps(p, separators=(",", ":")) + "\n" for p in pages()))

# Elastic: the raw records as text, under each of the three members Elastic keeps them in.
events = []
for i, line in enumerate(LINES):
    stamp = RECORDS[i]["CreationTime"] + "Z"
    form = i % 3
    if form == 0:
        events.append({"@timestamp": stamp, "message": line})
    elif form == 1:
        events.append({"@timestamp": stamp, "event": {"original": line, "module": "o365"}})
    else:
        events.append({"@timestamp": stamp, "event.original": line})
write("elastic_events.json", json.dumps({"events": events}, indent=2) + "\n")

# Splunk's JSON export: one result per line, the raw record in _raw.
rows = []
for i, line in enumerate(LINES):
    row = {"preview": False, "offset": i,
           "result": {"_raw": line, "_time": RECORDS[i]["CreationTime"] + ".000+00:00",
                      "sourcetype": "o365:management:activity"}}
    if i == len(LINES) - 1:
        row["lastrow"] = True
    rows.append(json.dumps(row, separators=(",", ":")))
write("splunk_export.json", "\n".join(rows) + "\n")

# An Elastic export of something else (syslog lines): rejected, with the way out.
syslog = {"events": [
    {"@timestamp": "2024-03-05T09:00:00Z",
     "message": "<34>Mar  5 09:00:00 mx1 postfix/smtpd[4242]: connect from unknown[203.0.113.7]"},
    {"@timestamp": "2024-03-05T09:00:01Z",
     "message": "<34>Mar  5 09:00:01 mx1 postfix/smtpd[4242]: disconnect from unknown[203.0.113.7]"},
]}
write("elastic_syslog.json", json.dumps(syslog, indent=2) + "\n")
