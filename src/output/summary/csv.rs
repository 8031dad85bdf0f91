//! `summary --format csv`: one CSV file per table in a directory, named after the table
//! (`operations.csv`, `top_users.csv`, `activity_by_day.csv`...), encoded like the report
//! (UTF-8 with BOM, CRLF, every field quoted, Excel-safe cells unless `--raw-cells`).
//! Totals lines are left out: a CSV holds data rows only. Column names go through the
//! Excel-safe rule too: the activity tables name their columns after the operations,
//! which come from the data.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;

use super::tables::Table;
use crate::output::{cells::Line, Outputs};

/// The file a table is written to.
pub fn path(dir: &Path, table: &str) -> PathBuf {
    dir.join(format!("{table}.csv"))
}

/// Writes `table` as CSV; returns how many cells were neutralised.
pub fn write_table(out: &mut dyn Write, table: &Table, excel_safe: bool) -> std::io::Result<u64> {
    out.write_all(b"\xEF\xBB\xBF")?;
    let mut line = Line::new(excel_safe);
    for h in &table.headers {
        line.cell(h);
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

/// Writes every table into its file in `dir`, staged in `outputs` (committed with the
/// run's other outputs).
pub fn write_all(
    outputs: &mut Outputs,
    dir: &Path,
    tables: &[Table],
    excel_safe: bool,
) -> Result<u64> {
    let mut neutralised = 0;
    for t in tables {
        outputs.staged(&path(dir, t.name))?.write_with(|out| {
            neutralised += write_table(out, t, excel_safe)?;
            Ok(())
        })?;
    }
    Ok(neutralised)
}
