//! The one integration-test binary (as ripgrep does): drives the real `mbxaudit` binary
//! over the fixtures in `testdata/` and checks its outputs exactly.

mod architecture;
mod build_info;
mod correctness;
mod correctness_formats;
mod dedup_shapes;
mod enrich;
mod hardening;
mod html_report;
mod ip;
mod json_formats;
mod memory;
mod mmdb_writer;
mod offline_bundle;
mod output_formats;
mod output_safety;
mod properties;
mod search;
mod sigma;
mod stdin_stream;
mod summary;
mod triage;
mod ual_formats;
mod util;
mod walk;
mod workbook_reports;
mod workbooks;
