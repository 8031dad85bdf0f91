//! `search --format parquet`: the report as one Parquet file, for SQL engines (DuckDB,
//! Spark, Trino...) and for cases spread over several machines (one file per shard,
//! queried together).
//!
//! Schema ([`message`]): the chosen columns (`--columns script|full`) in the CSV report's
//! order, all required (never null): `LastAccessed` is `INT64`
//! `TIMESTAMP(MICROS, isAdjustedToUTC=true)` (digits below the microsecond are dropped),
//! `SourceLine` is `INT64`, every other column a `BYTE_ARRAY` `STRING` (UTF-8), empty when
//! the export had no value. Strings are written as read: Parquet is never neutralised for
//! Excel.
//!
//! Rows are streamed: the lines of each batch are added to the row group in progress,
//! which is encoded and handed to the output when it holds [`ROW_GROUP`] rows (the size
//! engines read well) or [`GROUP_BYTES`] of text, whichever comes first: memory holds one
//! row group, whatever the report's length. Compression is Snappy (pure Rust, read by
//! every engine).
//!
//! The writer is the `parquet` crate's own column writer, without its Arrow bridge: the
//! bridge would double the build's time (Arrow's array, selection and comparison kernels)
//! for nothing a report needs.

use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int64Type};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use super::{lines, Column, Layout, RowWriter};
use crate::record::{Field, OwnedRecord};

/// Rows per row group, at most.
pub const ROW_GROUP: usize = 128 * 1024;
/// Text per row group, at most (bytes, before encoding): bounds memory for wide rows.
pub const GROUP_BYTES: usize = 64 << 20;

fn parquet_error(e: ParquetError) -> io::Error {
    io::Error::other(e)
}

/// Whether a column is a time, a line number or text.
fn is_time(column: Column) -> bool {
    column == Column::Field(Field::LastAccessed)
}

/// The file's schema for `columns`, in Parquet's message syntax.
pub fn message(columns: &[Column]) -> String {
    let mut m = String::from("message mbxaudit_report {\n");
    for &c in columns {
        let kind = match c {
            _ if is_time(c) => "INT64 %s (TIMESTAMP(MICROS,true))",
            Column::SourceLine => "INT64 %s",
            _ => "BYTE_ARRAY %s (STRING)",
        };
        m.push_str("  REQUIRED ");
        m.push_str(&kind.replace("%s", c.name()));
        m.push_str(";\n");
    }
    m.push('}');
    m
}

/// One column's values in the row group in progress: text as one buffer and the end of
/// each value in it (no allocation per cell).
enum Values {
    Text { data: Vec<u8>, ends: Vec<usize> },
    Int(Vec<i64>),
}

/// The Parquet report writer.
pub struct Parquet<'a> {
    layout: Layout<'a>,
    /// Encodes into a buffer that is emptied into the output after every row group.
    writer: Option<SerializedFileWriter<Vec<u8>>>,
    values: Vec<Values>,
    /// Rows, and bytes of text, in the row group in progress.
    rows: usize,
    bytes: usize,
    cell: String,
}

impl<'a> Parquet<'a> {
    pub fn new(layout: Layout<'a>) -> Parquet<'a> {
        let values = layout
            .columns
            .iter()
            .map(|&c| match c {
                _ if is_time(c) => Values::Int(Vec::new()),
                Column::SourceLine => Values::Int(Vec::new()),
                _ => Values::Text {
                    data: Vec::new(),
                    ends: Vec::new(),
                },
            })
            .collect();
        Parquet {
            layout,
            writer: None,
            values,
            rows: 0,
            bytes: 0,
            cell: String::new(),
        }
    }

    /// Writes the row group in progress, and hands what is encoded to `out`.
    fn flush(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let Some(writer) = &mut self.writer else {
            return Err(io::Error::other("parquet: rows before begin"));
        };
        if self.rows > 0 {
            let mut group = writer.next_row_group().map_err(parquet_error)?;
            for values in &mut self.values {
                let Some(mut column) = group.next_column().map_err(parquet_error)? else {
                    return Err(io::Error::other("parquet: fewer columns than the schema"));
                };
                match values {
                    Values::Text { data, ends } => {
                        // Slices of one shared buffer: the values are not copied again.
                        let all = Bytes::from(std::mem::take(data));
                        let mut start = 0;
                        let v: Vec<ByteArray> = ends
                            .iter()
                            .map(|&end| {
                                let value = ByteArray::from(all.slice(start..end));
                                start = end;
                                value
                            })
                            .collect();
                        column
                            .typed::<ByteArrayType>()
                            .write_batch(&v, None, None)
                            .map_err(parquet_error)?;
                        ends.clear();
                    }
                    Values::Int(v) => {
                        column
                            .typed::<Int64Type>()
                            .write_batch(v, None, None)
                            .map_err(parquet_error)?;
                        v.clear();
                    }
                }
                column.close().map_err(parquet_error)?;
            }
            group.close().map_err(parquet_error)?;
            self.rows = 0;
            self.bytes = 0;
        }
        let encoded = std::mem::take(writer.inner_mut());
        out.write_all(&encoded)
    }
}

impl RowWriter for Parquet<'_> {
    fn begin(&mut self, _out: &mut (dyn Write + Send)) -> io::Result<()> {
        let schema = parse_message_type(&message(self.layout.columns)).map_err(parquet_error)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("mbxaudit {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(props))
            .map_err(parquet_error)?;
        self.writer = Some(writer);
        Ok(())
    }

    fn rows(&mut self, out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()> {
        for (row, item) in lines(rows) {
            for (&column, values) in self.layout.columns.iter().zip(&mut self.values) {
                match values {
                    Values::Int(v) if is_time(column) => v.push(row.time.0.div_euclid(1_000)),
                    Values::Int(v) => v.push(i64::try_from(row.pos.line).unwrap_or(i64::MAX)),
                    Values::Text { data, ends } => {
                        self.cell.clear();
                        self.layout
                            .write_cell(column, &row.view(), item, &mut self.cell);
                        self.bytes += self.cell.len();
                        data.extend_from_slice(self.cell.as_bytes());
                        ends.push(data.len());
                    }
                }
            }
            self.rows += 1;
            if self.rows == ROW_GROUP || self.bytes >= GROUP_BYTES {
                self.flush(out)?;
            }
        }
        Ok(())
    }

    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64> {
        self.flush(out)?;
        let Some(writer) = self.writer.take() else {
            return Err(io::Error::other("parquet: finish before begin"));
        };
        // The footer.
        let rest = writer.into_inner().map_err(parquet_error)?;
        out.write_all(&rest)?;
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::rows::FULL;

    #[test]
    fn schema_of_the_full_profile_parses() {
        let m = message(FULL);
        assert!(m.contains("REQUIRED INT64 LastAccessed (TIMESTAMP(MICROS,true));"));
        assert!(m.contains("REQUIRED INT64 SourceLine;"));
        assert!(m.contains("REQUIRED BYTE_ARRAY Subject (STRING);"));
        let schema = parse_message_type(&m).expect("parses");
        assert_eq!(schema.get_fields().len(), FULL.len());
    }
}
