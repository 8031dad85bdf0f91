//! The names of the Unified Audit Log's record types, by number: the Office 365
//! Management Activity API's `AuditLogRecordType` enum (its schema reference, "Enum:
//! AuditLogRecordType"). Purview and the Management Activity API write the number
//! (`"RecordType": 1`), `Search-UnifiedAuditLog` the name (`ExchangeAdmin`); the funnel
//! names a skipped record type one way, by its name, whichever was written and whatever
//! the record's workload.

/// `(number, name)`, in the enum's order.
const NAMES: &[(u16, &str)] = &[
    (1, "ExchangeAdmin"),
    (2, "ExchangeItem"),
    (3, "ExchangeItemGroup"),
    (4, "SharePoint"),
    (6, "SharePointFileOperation"),
    (7, "OneDrive"),
    (8, "AzureActiveDirectory"),
    (9, "AzureActiveDirectoryAccountLogon"),
    (10, "DataCenterSecurityCmdlet"),
    (11, "ComplianceDLPSharePoint"),
    (12, "Sway"),
    (13, "ComplianceDLPExchange"),
    (14, "SharePointSharingOperation"),
    (15, "AzureActiveDirectoryStsLogon"),
    (16, "SkypeForBusinessPSTNUsage"),
    (17, "SkypeForBusinessUsersBlocked"),
    (18, "SecurityComplianceCenterEOPCmdlet"),
    (19, "ExchangeAggregatedOperation"),
    (20, "PowerBIAudit"),
    (21, "CRM"),
    (22, "Yammer"),
    (23, "SkypeForBusinessCmdlets"),
    (24, "Discovery"),
    (25, "MicrosoftTeams"),
    (28, "ThreatIntelligence"),
    (29, "MailSubmission"),
    (30, "MicrosoftFlow"),
    (31, "AeD"),
    (32, "MicrosoftStream"),
    (33, "ComplianceDLPSharePointClassification"),
    (34, "ThreatFinder"),
    (35, "Project"),
    (36, "SharePointListOperation"),
    (37, "SharePointCommentOperation"),
    (38, "DataGovernance"),
    (39, "Kaizala"),
    (40, "SecurityComplianceAlerts"),
    (41, "ThreatIntelligenceUrl"),
    (42, "SecurityComplianceInsights"),
    (43, "MIPLabel"),
    (44, "WorkplaceAnalytics"),
    (45, "PowerAppsApp"),
    (46, "PowerAppsPlan"),
    (47, "ThreatIntelligenceAtpContent"),
    (48, "LabelContentExplorer"),
    (49, "TeamsHealthcare"),
    (50, "ExchangeItemAggregated"),
    (51, "HygieneEvent"),
    (52, "DataInsightsRestApiAudit"),
    (53, "InformationBarrierPolicyApplication"),
    (54, "SharePointListItemOperation"),
    (55, "SharePointContentTypeOperation"),
    (56, "SharePointFieldOperation"),
    (57, "MicrosoftTeamsAdmin"),
    (58, "HRSignal"),
    (59, "MicrosoftTeamsDevice"),
    (60, "MicrosoftTeamsAnalytics"),
    (61, "InformationWorkerProtection"),
    (62, "Campaign"),
    (63, "DLPEndpoint"),
    (64, "AirInvestigation"),
    (65, "Quarantine"),
    (66, "MicrosoftForms"),
    (67, "ApplicationAudit"),
    (68, "ComplianceSupervisionExchange"),
    (69, "CustomerKeyServiceEncryption"),
    (70, "OfficeNative"),
    (71, "MipAutoLabelSharePointItem"),
    (72, "MipAutoLabelSharePointPolicyLocation"),
    (73, "MicrosoftTeamsShifts"),
    (75, "MipAutoLabelExchangeItem"),
    (76, "CortanaBriefing"),
    (78, "WDATPAlerts"),
    (82, "SensitivityLabelPolicyMatch"),
    (83, "SensitivityLabelAction"),
    (84, "SensitivityLabeledFileAction"),
    (85, "AttackSim"),
    (86, "AirManualInvestigation"),
    (87, "SecurityComplianceRBAC"),
    (88, "UserTraining"),
    (89, "AirAdminActionInvestigation"),
    (90, "MSTIC"),
    (91, "PhysicalBadgingSignal"),
    (93, "AipDiscover"),
    (94, "AipSensitivityLabelAction"),
    (95, "AipProtectionAction"),
    (96, "AipFileDeleted"),
    (97, "AipHeartBeat"),
    (98, "MCASAlerts"),
    (99, "OnPremisesFileShareScannerDlp"),
    (100, "OnPremisesSharePointScannerDlp"),
    (101, "ExchangeSearch"),
    (102, "SharePointSearch"),
    (103, "PrivacyInsights"),
    (105, "MyAnalyticsSettings"),
    (106, "SecurityComplianceUserChange"),
    (107, "ComplianceDLPExchangeClassification"),
    (109, "MipExactDataMatch"),
    (113, "MS365DCustomDetection"),
    (147, "CoreReportingSettings"),
    (148, "ComplianceConnector"),
    (154, "OMEPortal"),
    (174, "DataShareOperation"),
    (181, "EduDataLakeDownloadOperation"),
    (183, "MicrosoftGraphDataConnectOperation"),
    (186, "PowerPagesSite"),
    (188, "PlannerPlan"),
    (189, "PlannerCopyPlan"),
    (190, "PlannerTask"),
    (191, "PlannerRoster"),
    (192, "PlannerPlanList"),
    (193, "PlannerTaskList"),
    (194, "PlannerTenantSettings"),
    (195, "ProjectForTheWebProject"),
    (196, "ProjectForTheWebTask"),
    (197, "ProjectForTheWebRoadmap"),
    (198, "ProjectForTheWebRoadmapItem"),
    (199, "ProjectForTheWebProjectSettings"),
    (200, "ProjectForTheWebRoadmapSettings"),
    (216, "VivaGoals"),
    (217, "MicrosoftGraphDataConnectConsent"),
    (230, "TeamsUpdates"),
    (231, "PlannerRosterSensitivityLabel"),
];

/// The funnel's label of a record type as written (`1`, `ExchangeAdmin`, `exchangeAdmin`):
/// its name; `RecordType N` for a number the enum does not name; `None` when empty.
pub(super) fn label(record_type: &str) -> Option<String> {
    let t = record_type.trim();
    let t = std::str::from_utf8(crate::record::integral(t.as_bytes())).unwrap_or(t);
    if t.is_empty() {
        return None;
    }
    if let Ok(n) = t.parse::<u16>() {
        return Some(match NAMES.iter().find(|(k, _)| *k == n) {
            Some((_, name)) => (*name).to_string(),
            None => format!("RecordType {n}"),
        });
    }
    let known = NAMES.iter().find(|(_, name)| name.eq_ignore_ascii_case(t));
    Some(known.map_or_else(|| t.to_string(), |(_, name)| (*name).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_label_per_record_type() {
        assert_eq!(label("1").as_deref(), Some("ExchangeAdmin"));
        assert_eq!(label(" ExchangeAdmin ").as_deref(), Some("ExchangeAdmin"));
        assert_eq!(label("exchangeAdmin").as_deref(), Some("ExchangeAdmin"));
        assert_eq!(label("13").as_deref(), Some("ComplianceDLPExchange"));
        assert_eq!(label("13.0").as_deref(), Some("ComplianceDLPExchange"));
        assert_eq!(label("999").as_deref(), Some("RecordType 999"));
        assert_eq!(label("SomethingNew").as_deref(), Some("SomethingNew"));
        assert_eq!(label(""), None);
        let mut numbers: Vec<u16> = NAMES.iter().map(|(n, _)| *n).collect();
        numbers.dedup();
        assert_eq!(numbers.len(), NAMES.len(), "sorted, no number twice");
    }
}
