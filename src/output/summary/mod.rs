//! The summary drawn: as [`tables`] of text cells (what every drawing shows), on a
//! terminal ([`text`]), or as one CSV file per table ([`csv`]). The JSON form is the
//! summary's own ([`crate::summary::Summary::to_json`]); the HTML page draws the same tables.

pub mod csv;
pub mod tables;
pub mod text;
