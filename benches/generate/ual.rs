//! Unified Audit Log writing: an [`Event`] as an AuditData JSON object, alone (JSON Lines)
//! or in a Purview CSV row. Field names and order follow the service's records
//! (`docs/formats.md` §C–E and the public samples in `testdata/ual/`).

use std::io::Write as _;

use super::super::{csv_field, iso_time, json_str, json_string, Rng};
use super::{Event, Item, Kind, Logon, World, ORG_NAME, USER_AGENTS};

impl Event<'_> {
    /// One Purview CSV row: AuditData in a quoted cell, its quotes doubled.
    pub fn write_ual_csv(&self, world: &World, rng: &mut Rng, out: &mut Vec<u8>) {
        let (json, user_id) = self.audit_data_and_user(world, rng);
        let _ = write!(
            out,
            "{},{}.0000000Z,{},{},",
            self.identity,
            iso_time(self.time_ms),
            self.record_type(),
            self.op
        );
        if user_id.contains([',', '"']) {
            csv_field(out, user_id, true);
        } else {
            out.extend_from_slice(user_id.as_bytes());
        }
        out.extend_from_slice(b",\"");
        for &b in &json {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.extend_from_slice(b"\",,\r\n");
    }

    /// One object of `Search-UnifiedAuditLog | ConvertTo-Json` in PowerShell 7 (two-space
    /// indentation, LF, ISO dates; the record type by its name; the AuditData a JSON
    /// string, `/` left as it is), the `index`th of the file.
    pub fn write_ual_ps_json(&self, world: &World, rng: &mut Rng, index: u64, out: &mut Vec<u8>) {
        let (json, user_id) = self.audit_data_and_user(world, rng);
        let record_type = match self.kind {
            Kind::Item => "ExchangeItem",
            Kind::Group => "ExchangeItemGroup",
            Kind::Access => "ExchangeItemAggregated",
            Kind::Folder => "ExchangeAggregatedOperation",
            Kind::SignIn => "AzureActiveDirectoryStsLogon",
        };
        let _ = write!(
            out,
            "  {{\n    \"RecordType\": \"{record_type}\",\n    \"CreationDate\": \"{}\",\n    \"UserIds\": ",
            iso_time(self.time_ms)
        );
        json_string(out, user_id.as_bytes(), false);
        let _ = write!(
            out,
            ",\n    \"Operations\": \"{}\",\n    \"AuditData\": ",
            self.op
        );
        json_string(out, &json, false);
        let _ = write!(
            out,
            ",\n    \"ResultIndex\": {index},\n    \"ResultCount\": 5000,\n    \"Identity\": \"{}\",\n    \"IsValid\": true,\n    \"ObjectState\": \"Unchanged\"\n  }}",
            self.identity
        );
    }

    /// The AuditData object and the user the export's own column names: the signed-in
    /// owner for a sign-in, else the actor.
    fn audit_data_and_user(&self, world: &World, rng: &mut Rng) -> (Vec<u8>, &str) {
        let mut json = Vec::with_capacity(4096);
        self.write_audit_data(world, rng, &mut json);
        let user_id = if self.kind == Kind::SignIn {
            &self.owner.upn
        } else {
            self.actor_upn
        };
        (json, user_id)
    }

    fn record_type(&self) -> u8 {
        match self.kind {
            Kind::Item => 2,
            Kind::Group => 3,
            Kind::Access => 50,
            Kind::Folder => 19,
            Kind::SignIn => 15,
        }
    }

    /// The AuditData JSON object, keys in the order the service writes them.
    pub fn write_audit_data(&self, world: &World, rng: &mut Rng, out: &mut Vec<u8>) {
        let o = self.owner;
        let time = iso_time(self.time_ms);
        out.push(b'{');
        kv(out, "CreationTime", &time);
        kv(out, "Id", &self.identity);
        kv(out, "Operation", self.op);
        kv(out, "OrganizationId", &world.org_id);
        kv_raw(out, "RecordType", &self.record_type().to_string());
        let status = match (self.kind, self.result) {
            (Kind::SignIn, _) if self.op == "UserLoginFailed" => "Failed",
            (Kind::SignIn, _) => "Success",
            (_, r) => r,
        };
        kv(out, "ResultStatus", status);
        if self.kind == Kind::SignIn {
            return self.write_sign_in(world, rng, out);
        }
        kv(out, "UserKey", &o.puid);
        kv_raw(
            out,
            "UserType",
            if self.logon == Logon::Admin { "2" } else { "0" },
        );
        kv_raw(out, "Version", "1");
        kv(out, "Workload", "Exchange");
        let port_ip;
        let client_ip = match (self.ip, self.time_ms % 3) {
            ("", _) => "",
            (ip, 0) if ip.contains(':') => {
                port_ip = format!("[{ip}]:{}", 1024 + self.time_ms % 60000);
                &port_ip
            }
            (ip, 0) => {
                port_ip = format!("{ip}:{}", 1024 + self.time_ms % 60000);
                &port_ip
            }
            (ip, _) => ip,
        };
        kv(out, "ClientIP", client_ip);
        kv(out, "UserId", self.actor_upn);
        kv(out, "AppId", self.app_id);
        kv(out, "ClientAppId", "");
        kv(out, "ClientIPAddress", client_ip);
        kv(out, "ClientInfoString", &self.client_info);
        kv(out, "ClientProcessName", self.process);
        kv(out, "ClientVersion", self.version);
        kv_raw(out, "ExternalAccess", "false");
        let code = self.logon.code().to_string();
        kv_raw(out, "InternalLogonType", &code);
        kv_raw(out, "LogonType", &code);
        kv(out, "LogonUserSid", &self.actor_sid);
        kv(out, "MailboxGuid", &o.guid);
        kv(out, "MailboxOwnerSid", &o.sid);
        kv(out, "MailboxOwnerUPN", &o.upn);
        if self.kind == Kind::Access {
            let access = if self.sync { "Sync" } else { "Bind" };
            let _ = write!(
                out,
                "\"OperationProperties\":[{{\"Name\":\"MailAccessType\",\"Value\":\"{access}\"}},\
                 {{\"Name\":\"IsThrottled\",\"Value\":\"False\"}}],"
            );
        }
        kv(out, "OrganizationName", ORG_NAME);
        kv(out, "OriginatingServer", &format!("{}\r\n", self.server));
        kv(out, "SessionId", &self.session);
        match self.kind {
            Kind::Item => self.write_item(out),
            Kind::Group => self.write_group(world, out),
            Kind::Access => self.write_access(out),
            Kind::Folder | Kind::SignIn => {}
        }
        close(out);
    }

    fn folder_json(&self, out: &mut Vec<u8>, key: &str, ix: usize, with_name: bool) {
        let _ = write!(out, "\"{key}\":{{");
        kv(out, "Id", &self.owner.folder_ids[ix]);
        kv(out, "Path", self.folder_path(ix));
        if with_name {
            let name = self.folder_path(ix).rsplit('\\').next().unwrap_or("");
            kv(out, "Name", name);
        }
        close(out);
        out.push(b',');
    }

    fn item_json(&self, out: &mut Vec<u8>, item: &Item, with_folder: bool) {
        out.push(b'{');
        kv(out, "Id", &item.id);
        kv(out, "InternetMessageId", &item.imid);
        if with_folder {
            self.folder_json(out, "ParentFolder", self.folder, true);
        }
        kv(out, "Subject", &item.subject);
        kv_raw(out, "SizeInBytes", &item.size.to_string());
        if !item.attachments.is_empty() {
            kv(out, "Attachments", &item.attachments);
        }
        close(out);
    }

    fn write_item(&self, out: &mut Vec<u8>) {
        if let Some(item) = self.items.first() {
            out.extend_from_slice(b"\"Item\":");
            self.item_json(out, item, true);
            out.push(b',');
        }
        if !self.dirty.is_empty() {
            out.extend_from_slice(b"\"ModifiedProperties\":[");
            for (i, p) in self.dirty.split(", ").enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_str(out, p);
            }
            out.extend_from_slice(b"],");
        }
        match self.op {
            "SendAs" => {
                kv(out, "SendAsUserSmtp", self.actor_upn);
                kv(out, "SendAsUserMailboxGuid", &self.owner.guid);
            }
            "SendOnBehalf" => {
                kv(out, "SendOnBehalfOfUserSmtp", &self.owner.upn);
                kv(out, "SendOnBehalfOfUserMailboxGuid", &self.owner.guid);
            }
            _ => {}
        }
    }

    fn write_group(&self, world: &World, out: &mut Vec<u8>) {
        out.extend_from_slice(b"\"AffectedItems\":[");
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            self.item_json(out, item, true);
        }
        out.extend_from_slice(b"],");
        kv_raw(
            out,
            "CrossMailboxOperation",
            if self.cross { "true" } else { "false" },
        );
        if let Some(d) = self.dest_folder {
            self.folder_json(out, "DestFolder", d, false);
        }
        if self.cross {
            kv(out, "DestMailboxId", &world.discovery_guid);
            kv(
                out,
                "DestMailboxOwnerUPN",
                "DiscoverySearchMailbox{D919BA05-46A6-415f-80AD-7E09334BB852}@contoso.onmicrosoft.com",
            );
        }
        self.folder_json(out, "Folder", self.folder, false);
    }

    fn write_access(&self, out: &mut Vec<u8>) {
        kv_raw(out, "OperationCount", &self.items.len().to_string());
        out.extend_from_slice(b"\"Folders\":[{");
        if !self.sync {
            out.extend_from_slice(b"\"FolderItems\":[");
            for (i, item) in self.items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'{');
                kv(out, "Id", &item.id);
                kv(out, "InternetMessageId", &item.imid);
                if i % 2 == 0 {
                    kv(out, "Subject", &item.subject);
                }
                kv_raw(out, "SizeInBytes", &item.size.to_string());
                close(out);
            }
            out.extend_from_slice(b"],");
        }
        kv(out, "Id", &self.owner.folder_ids[self.folder]);
        kv(out, "Path", self.folder_path(self.folder));
        close(out);
        out.extend_from_slice(b"],");
    }

    fn write_sign_in(&self, world: &World, rng: &mut Rng, out: &mut Vec<u8>) {
        let o = self.owner;
        let user_key = rng.guid();
        kv(out, "UserKey", &user_key);
        kv_raw(out, "UserType", "0");
        kv_raw(out, "Version", "1");
        kv(out, "Workload", "AzureActiveDirectory");
        kv(out, "ClientIP", &o.ip);
        kv(out, "ObjectId", "00000002-0000-0ff1-ce00-000000000000");
        kv(out, "UserId", &o.upn);
        kv_raw(out, "AzureActiveDirectoryEventType", "1");
        let detail = if self.op == "UserLoginFailed" {
            "UserError"
        } else {
            "Success"
        };
        let _ = write!(
            out,
            "\"ExtendedProperties\":[{{\"Name\":\"ResultStatusDetail\",\"Value\":\"{detail}\"}},\
             {{\"Name\":\"UserAgent\",\"Value\":"
        );
        let agent = rng.pick(USER_AGENTS);
        json_str(out, agent);
        out.extend_from_slice(
            b"},{\"Name\":\"UserAuthenticationMethod\",\"Value\":\"1\"},\
              {\"Name\":\"RequestType\",\"Value\":\"OAuth2:Authorize\"}],\"ModifiedProperties\":[],",
        );
        let _ = write!(
            out,
            "\"Actor\":[{{\"ID\":\"{user_key}\",\"Type\":0}},{{\"ID\":\"{}\",\"Type\":5}}],",
            o.upn
        );
        kv(out, "ActorContextId", &world.org_id);
        kv(out, "ActorIpAddress", &o.ip);
        kv(out, "InterSystemsId", &rng.guid());
        kv(out, "IntraSystemId", &self.identity);
        kv(out, "SupportTicketId", "");
        out.extend_from_slice(
            b"\"Target\":[{\"ID\":\"00000002-0000-0ff1-ce00-000000000000\",\"Type\":0}],",
        );
        kv(out, "TargetContextId", &world.org_id);
        kv(out, "ApplicationId", "00000002-0000-0ff1-ce00-000000000000");
        out.extend_from_slice(
            b"\"DeviceProperties\":[{\"Name\":\"BrowserType\",\"Value\":\"Chrome\"},\
              {\"Name\":\"IsCompliantAndManaged\",\"Value\":\"False\"}],",
        );
        if self.op == "UserLoginFailed" {
            kv(out, "ErrorNumber", "50126");
            kv(out, "LogonError", "InvalidUserNameOrPassword");
        } else {
            kv(out, "ErrorNumber", "0");
        }
        close(out);
    }
}

/// `"key":"value",`
fn kv(out: &mut Vec<u8>, key: &str, value: &str) {
    json_str(out, key);
    out.push(b':');
    json_str(out, value);
    out.push(b',');
}

/// `"key":value,` for numbers and booleans.
fn kv_raw(out: &mut Vec<u8>, key: &str, value: &str) {
    json_str(out, key);
    out.push(b':');
    out.extend_from_slice(value.as_bytes());
    out.push(b',');
}

/// Ends an object: the trailing comma becomes `}`.
fn close(out: &mut Vec<u8>) {
    if out.last() == Some(&b',') {
        out.pop();
    }
    out.push(b'}');
}
