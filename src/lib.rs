//! mbxaudit: offline search of exported Exchange / Microsoft 365 mailbox audit logs.
//!
//! Layers, top to bottom; a module uses only modules of its own layer or below, and the
//! architecture test (`tests/architecture.rs`) holds the code to that:
//!
//! 1. [`cmd`]: one module per subcommand (its clap arguments, its configuration, its
//!    `run`), and the options they share;
//! 2. [`session`]: the scan session every command runs (inputs, messages, funnel,
//!    status, where outputs go) and the run's [`session::manifest`];
//! 3. [`output`]: every writer (the rows in each format, summary tables, findings, the
//!    HTML page), the one CSV line, atomic files;
//! 4. [`summary`] and [`triage`]: what the kept rows are made into;
//! 5. [`pipeline`]: the parallel scan of the inputs, per-file date order, de-duplication
//!    and sort;
//! 6. [`input`]: opening, decoding and recognising inputs, and the readers (CSV, JSON,
//!    Unified Audit Log), all handing records to one [`input::visit::Visitor`];
//! 7. the model and its rules: [`record`], [`filter`], [`who`], [`enrich`] (offline IP
//!    enrichment), [`ip`], [`datetime`], [`funnel`], [`diag`], [`hash`], [`id_hash`],
//!    [`base64`], [`progress`], [`exit`].

pub mod base64;
pub mod build_info;
pub mod cmd;
pub mod datetime;
pub mod diag;
pub mod enrich;
pub mod exit;
pub mod filter;
pub mod fingerprint;
pub mod funnel;
pub mod hash;
pub mod id_hash;
pub mod input;
pub mod ip;
pub mod output;
pub mod pipeline;
pub mod progress;
pub mod record;
pub mod session;
pub mod summary;
pub mod triage;
pub mod who;
