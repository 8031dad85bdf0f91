//! `search --format parquet`: the report as one Parquet file, for SQL engines (DuckDB,
//! Spark, Trino...) and for cases spread over several machines (one file per shard,
//! queried together).
//!
//! Schema: the chosen columns (`--columns script|full`) in the CSV report's order, all
//! required (never null): `LastAccessed` is `TIMESTAMP(MICROS, isAdjustedToUTC=true)`
//! (Arrow `Timestamp(Microsecond, "UTC")`; digits below the microsecond are dropped),
//! `SourceLine` is `INT64`, every other column a UTF-8 `BYTE_ARRAY` (`STRING`), empty when
//! the export had no value. Strings are written as read: Parquet is never neutralised for
//! Excel.
//!
//! Rows are streamed: each batch becomes Arrow record batches of [`BATCH`] lines, which
//! the writer encodes into the row group in progress ([`ROW_GROUP`] rows, the size engines
//! read well); a finished row group is handed to the output at once, so memory holds about
//! one row group, whatever the report's length. Compression is Snappy (pure Rust, read by
//! every engine).

use std::io::{self, Write};
use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field as ArrowField, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::{lines, Column, Layout, RowWriter};
use crate::record::{Field, OwnedRecord};

/// Rows per row group.
pub const ROW_GROUP: usize = 128 * 1024;
/// Lines per Arrow record batch.
const BATCH: usize = 8 * 1024;
/// The time zone of the `LastAccessed` column.
const UTC: &str = "UTC";

fn parquet_error(e: ParquetError) -> io::Error {
    io::Error::other(e)
}

/// The Arrow type of a report column.
pub fn data_type(column: Column) -> DataType {
    match column {
        Column::Field(Field::LastAccessed) => {
            DataType::Timestamp(TimeUnit::Microsecond, Some(UTC.into()))
        }
        Column::SourceLine => DataType::Int64,
        _ => DataType::Utf8,
    }
}

/// The file's schema for `columns`.
pub fn schema(columns: &[Column]) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|&c| ArrowField::new(c.name(), data_type(c), false))
            .collect::<Vec<_>>(),
    ))
}

/// One column's values while a record batch is built.
enum Builder {
    Text(StringBuilder),
    Time(TimestampMicrosecondBuilder),
    Line(Int64Builder),
}

impl Builder {
    fn finish(&mut self) -> ArrayRef {
        match self {
            Builder::Text(b) => Arc::new(b.finish()),
            Builder::Time(b) => Arc::new(b.finish()),
            Builder::Line(b) => Arc::new(b.finish()),
        }
    }
}

/// The Parquet report writer.
pub struct Parquet<'a> {
    layout: Layout<'a>,
    schema: SchemaRef,
    /// Encodes into a buffer that is emptied into the output after every batch.
    writer: Option<ArrowWriter<Vec<u8>>>,
    builders: Vec<Builder>,
    /// Lines in the builders.
    pending: usize,
    cell: String,
}

impl<'a> Parquet<'a> {
    pub fn new(layout: Layout<'a>) -> Parquet<'a> {
        let builders = layout
            .columns
            .iter()
            .map(|&c| match data_type(c) {
                DataType::Timestamp(..) => {
                    Builder::Time(TimestampMicrosecondBuilder::new().with_timezone(UTC))
                }
                DataType::Int64 => Builder::Line(Int64Builder::new()),
                _ => Builder::Text(StringBuilder::new()),
            })
            .collect();
        Parquet {
            schema: schema(layout.columns),
            layout,
            writer: None,
            builders,
            pending: 0,
            cell: String::new(),
        }
    }

    /// Hands the lines built so far to the Parquet writer, and what it has encoded to `out`.
    fn flush(&mut self, out: &mut (dyn Write + Send)) -> io::Result<()> {
        let Some(writer) = &mut self.writer else {
            return Err(io::Error::other("parquet: rows before begin"));
        };
        if self.pending > 0 {
            let columns: Vec<ArrayRef> = self.builders.iter_mut().map(Builder::finish).collect();
            let batch = RecordBatch::try_new(self.schema.clone(), columns)
                .map_err(|e| io::Error::other(format!("parquet: {e}")))?;
            writer.write(&batch).map_err(parquet_error)?;
            self.pending = 0;
        }
        let encoded = std::mem::take(writer.inner_mut());
        out.write_all(&encoded)
    }
}

impl RowWriter for Parquet<'_> {
    fn begin(&mut self, _out: &mut (dyn Write + Send)) -> io::Result<()> {
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .set_created_by(format!("mbxaudit {}", env!("CARGO_PKG_VERSION")))
            .build();
        let writer = ArrowWriter::try_new(Vec::new(), self.schema.clone(), Some(props))
            .map_err(parquet_error)?;
        self.writer = Some(writer);
        Ok(())
    }

    fn rows(&mut self, out: &mut (dyn Write + Send), rows: &[OwnedRecord]) -> io::Result<()> {
        for (row, item) in lines(rows) {
            for (&column, builder) in self.layout.columns.iter().zip(&mut self.builders) {
                match builder {
                    Builder::Time(b) => b.append_value(row.time.0.div_euclid(1_000)),
                    Builder::Line(b) => {
                        b.append_value(i64::try_from(row.pos.line).unwrap_or(i64::MAX))
                    }
                    Builder::Text(b) => {
                        self.cell.clear();
                        self.layout.write_cell(column, row, item, &mut self.cell);
                        b.append_value(&self.cell);
                    }
                }
            }
            self.pending += 1;
            if self.pending == BATCH {
                self.flush(out)?;
            }
        }
        self.flush(out)
    }

    fn finish(&mut self, out: &mut (dyn Write + Send)) -> io::Result<u64> {
        self.flush(out)?;
        let Some(writer) = self.writer.take() else {
            return Err(io::Error::other("parquet: finish before begin"));
        };
        // The last row group and the footer.
        let rest = writer.into_inner().map_err(parquet_error)?;
        out.write_all(&rest)?;
        Ok(0)
    }
}
