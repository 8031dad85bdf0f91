//! `summary --format csv`: one CSV file per table in a directory, named after the table
//! (`operations.csv`, `top_users.csv`, `activity_by_day.csv`...), encoded like the report
//! (UTF-8 with BOM, CRLF, every field quoted, Excel-safe cells unless `--raw-cells`).
//! Totals lines are left out: a CSV holds data rows only.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::tables::Table;
use crate::output::{self, cells::Line};

/// The file a table is written to.
pub fn path(dir: &Path, table: &str) -> PathBuf {
    dir.join(format!("{table}.csv"))
}

/// Writes `table` as CSV; returns how many cells were neutralised.
pub fn write_table(out: &mut dyn Write, table: &Table, excel_safe: bool) -> std::io::Result<u64> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut line = Line::new(excel_safe);
    for h in &table.headers {
        line.plain(h);
    }
    line.finish(out)?;
    for row in &table.rows {
        for cell in row {
            line.cell(cell);
        }
        line.finish(out)?;
    }
    Ok(line.neutralised)
}

/// Writes every table into `dir` (created if missing), each file atomically.
pub fn write_all(dir: &Path, tables: &[Table], force: bool, excel_safe: bool) -> Result<u64> {
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow::Error::new(e).context(format!("'{}': cannot create directory", dir.display()))
    })?;
    let mut neutralised = 0;
    for t in tables {
        output::write_atomic(&path(dir, t.name), force, |out| {
            neutralised += write_table(out, t, excel_safe)?;
            Ok(())
        })?;
    }
    Ok(neutralised)
}
