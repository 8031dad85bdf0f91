//! Unified Audit Log exports end to end (CSV with AuditData, JSON).
