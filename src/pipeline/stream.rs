//! Streams (standard input, pipes): read in windows, decoded as they arrive and scanned
//! window by window, so that memory is bounded by the window and by the rows kept, and
//! the result is the one reading the same bytes from a file gives.
//!
//! The start is read until it is enough to recognise the input and to read a CSV header
//! exactly as for a file ([`open`]); then CSV bodies go through
//! [`CsvStream`](crate::input::csv::stream::CsvStream) and JSON Lines are cut at line
//! ends. A JSON document (not JSON Lines) is spooled to an unnamed temporary file and
//! mapped, as a file is ([`spool`]).

use std::io::Write;

use sha2::{Digest, Sha256};

use super::{
    absorb, csv_format, decode_warnings, finish_status, json_format, open, settle, Collector,
    FileContext, FileKept, FileOutcome, FileStatus, Opening, Reading, Settings, Sink,
};
use crate::hash::hex;
use crate::input::csv::stream::{size_name, CsvStream};
use crate::input::decode::StreamDecoder;
use crate::input::detect::{detect, Detected, HEAD_BYTES};
use crate::input::stream::{self, Windows};
use crate::input::visit::{UalKeys, Visitor};
use crate::input::{json, Bytes, Mapped, Origin};
use crate::progress::Progress;

/// The (hidden) environment variable that sets [`DEFAULT_MAX_RECORD`], for tests.
const MAX_RECORD_ENV: &str = "MBXAUDIT_STDIN_MAX_RECORD";

/// A CSV record or JSON line that runs on for more bytes than this without ending is
/// not held whole (see [`CsvStream`]).
const DEFAULT_MAX_RECORD: usize = 64 << 20;

fn max_record() -> usize {
    std::env::var(MAX_RECORD_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or(DEFAULT_MAX_RECORD)
}

/// Reads a stream; the counterpart of `process_file` + `process_bytes`.
/// A stream is read once: its Unified Audit Log records get content keys, which the
/// de-duplication never has to read again for.
fn content_keys<'s>(settings: &'s Settings, sink: Sink<'s>) -> Reading<'s> {
    Reading {
        settings,
        sink,
        ual_keys: UalKeys::Content,
    }
}

pub(super) fn process_stream(
    index: usize,
    origin: &Origin,
    settings: &Settings,
    sink: Sink<'_>,
    progress: &Progress,
    hash: bool,
) -> anyhow::Result<(FileOutcome, Option<FileKept>)> {
    let mut report = FileOutcome::new(origin, FileStatus::Skipped(String::new()));
    let reader = match stream::open(origin) {
        Ok(r) => r,
        Err(e) => {
            report.status = FileStatus::Rejected(format!("{e:#}"));
            return Ok((report, None));
        }
    };
    let mut hasher = hash.then(Sha256::new);
    let mut observe = |bytes: &[u8]| {
        if let Some(h) = hasher.as_mut() {
            h.update(bytes);
        }
    };
    let (kept, read_error) =
        stream::read_windows(reader, stream::window_size(), &mut observe, |windows| {
            let mut text = Text {
                windows,
                decoder: StreamDecoder::new(settings.encoding),
                buf: Vec::new(),
                base: 0,
                eof: false,
                error: None,
                progress,
            };
            let kept = read(index, &mut report, &mut text, settings, sink);
            let mut warnings = decode_warnings(
                &text.decoder.encoding(),
                text.decoder.replaced(),
                text.decoder.odd_byte(),
                text.decoder.overridden(),
            );
            warnings.append(&mut report.warnings);
            report.warnings = warnings;
            report.size = text.windows.bytes();
            (kept, text.error)
        });
    if let Some(e) = read_error {
        // The input is named where the status is shown.
        report.status = FileStatus::Rejected(format!("cannot read: {e}"));
        return Ok((report, None));
    }
    report.sha256 = hasher.map(|h| hex(&h.finalize()));
    Ok((report, kept?))
}

/// Reads the stream's text into `report`; its kept rows.
fn read(
    index: usize,
    report: &mut FileOutcome,
    text: &mut Text<'_>,
    settings: &Settings,
    sink: Sink<'_>,
) -> anyhow::Result<Option<FileKept>> {
    let max_record = max_record();
    while !text.eof && !ready(&text.buf, max_record) {
        text.fill();
    }
    let encoding = text.decoder.encoding();
    match open(report, &text.buf, &encoding, settings) {
        Opening::Done => {
            // Read to the end all the same: the size, the hash and the decoding's
            // warnings are those of the whole input.
            while !text.eof {
                text.buf.clear();
                text.fill();
            }
            Ok(None)
        }
        Opening::Json => {
            let ctx = FileContext::new(content_keys(settings, sink), index, true);
            let layout = json::sniff_layout(&text.buf);
            let chunks = match layout {
                json::Layout::Lines => json_lines(&ctx, text, max_record),
                json::Layout::Document => {
                    let document = spool(text, report);
                    json::scan(&document, || Collector::new(&ctx), &|_| {})
                }
            };
            let kept = settle(&ctx, chunks, report)?;
            finish_status(report, json_format(layout).into(), encoding);
            Ok(kept)
        }
        Opening::Csv {
            layout,
            check_logon,
        } => {
            let ctx = FileContext::new(content_keys(settings, sink), index, check_logon);
            let make = || Collector::new(&ctx);
            let mut body = CsvStream::new(&layout, max_record, absorb);
            let mut chunks = Chunks::default();
            loop {
                let needed = body.feed(&text.buf, text.base, text.eof, &make, &mut |c| {
                    chunks.push(c)
                });
                text.consume(needed);
                if text.eof {
                    break;
                }
                text.fill();
            }
            let kept = settle(&ctx, chunks.list, report)?;
            finish_status(report, csv_format(&layout), encoding);
            Ok(kept)
        }
    }
}

/// The whole decoded text of a JSON document, whose records cannot be cut from a window
/// (an object may run on for any length): written to an unnamed temporary file, deleted
/// when closed, and mapped, so that memory stays bounded as for a named file. Where no
/// temporary file can be written, the text is held in memory, with a warning.
fn spool(text: &mut Text<'_>, report: &mut FileOutcome) -> Bytes {
    let to_file = |text: &mut Text<'_>| -> std::io::Result<Bytes> {
        let mut file = tempfile::tempfile()?;
        loop {
            file.write_all(&text.buf)?;
            text.consume(text.end());
            if text.eof {
                break;
            }
            text.fill();
        }
        if file.metadata()?.len() == 0 {
            return Ok(Bytes::Read(Vec::new()));
        }
        // SAFETY: the file is ours alone (unnamed, never written again once mapped).
        Ok(Bytes::Mapped(Mapped::private(unsafe {
            memmap2::Mmap::map(&file)?
        })))
    };
    let start = text.base;
    match to_file(text) {
        Ok(bytes) => bytes,
        Err(e) if text.base == start => {
            report.warnings.push(format!(
                "a JSON document read from a stream is held in memory: no temporary file \
                 could be written ({e}); for a large document, save it to a file first"
            ));
            while !text.eof {
                text.fill();
            }
            Bytes::Read(std::mem::take(&mut text.buf))
        }
        Err(e) => {
            // Part of the text is gone to a file that failed: it cannot be read again.
            text.error = Some(e);
            Bytes::Read(Vec::new())
        }
    }
}

/// True when the start of the text is enough to recognise the input as [`open`] would
/// from all of it: the bytes [`detect`] looks at, the first MiB of JSON
/// ([`json::sniff_layout`]), a CSV header and the start of what follows it. A start
/// longer than `max_record` is taken as it is.
fn ready(text: &[u8], max_record: usize) -> bool {
    if text.len() > max_record {
        return true;
    }
    if text.len() < HEAD_BYTES {
        return false;
    }
    match detect(text) {
        Detected::Empty => false,
        Detected::Binary | Detected::Ours(_) => true,
        Detected::Json => text.len() > json::SNIFF_BYTES,
        Detected::Csv { header_start, .. } => {
            // The header ends at the first line feed outside quotes.
            let mut inside = false;
            let mut at = header_start;
            while let Some(i) = memchr::memchr2(b'"', b'\n', &text[at..]) {
                at += i;
                if text[at] == b'"' {
                    inside = !inside;
                } else if !inside {
                    return at + 1 < text.len();
                }
                at += 1;
            }
            false
        }
    }
}

/// JSON Lines, cut at the last line end of each window; a line longer than `max_record`
/// is counted as malformed (and skipped) rather than held.
fn json_lines<'c>(
    ctx: &'c FileContext<'c>,
    text: &mut Text<'_>,
    max_record: usize,
) -> Vec<Collector<'c>> {
    let mut chunks = Chunks::default();
    let mut line = 1u64;
    let mut skipping = false;
    loop {
        if skipping {
            match memchr::memchr(b'\n', &text.buf) {
                Some(i) => {
                    text.consume(text.base + i + 1);
                    line += 1;
                    skipping = false;
                }
                None => text.consume(text.end()),
            }
        }
        if !skipping {
            let cut = if text.eof {
                text.buf.len()
            } else {
                memchr::memrchr(b'\n', &text.buf).map_or(0, |i| i + 1)
            };
            if cut > 0 {
                let part = &text.buf[..cut];
                for c in json::scan_lines(part, line, || Collector::new(ctx)) {
                    chunks.push(c);
                }
                line += memchr::memchr_iter(b'\n', part).count() as u64;
                text.consume(text.base + cut);
            } else if text.buf.len() > max_record {
                let mut c = Collector::new(ctx);
                c.malformed(
                    line,
                    format!(
                        "this line is longer than {}, more than is held when reading a stream \
                         (standard input or a pipe), so it is counted as malformed: save the \
                         input to a file and read the file to have it read",
                        size_name(max_record)
                    ),
                );
                chunks.push(c);
                skipping = true;
                continue;
            }
        }
        if text.eof {
            return chunks.list;
        }
        text.fill();
    }
}

/// The collectors of a stream's chunks, in input order; folded into one now and then,
/// so that their number does not grow with the input.
#[derive(Default)]
struct Chunks<'c> {
    list: Vec<Collector<'c>>,
}

impl<'c> Chunks<'c> {
    fn push(&mut self, c: Collector<'c>) {
        self.list.push(c);
        if self.list.len() >= 64 {
            let mut all = self.list.drain(..);
            if let Some(mut first) = all.next() {
                all.for_each(|c| absorb(&mut first, c));
                self.list.push(first);
            }
        }
    }
}

/// The decoded text of a stream: what has arrived and is still needed.
struct Text<'w> {
    windows: &'w mut Windows,
    decoder: StreamDecoder,
    /// The text from offset `base` of the whole.
    buf: Vec<u8>,
    base: usize,
    eof: bool,
    /// A read error, which ends the stream.
    error: Option<std::io::Error>,
    progress: &'w Progress,
}

impl Text<'_> {
    /// Decodes the next window onto the end of the text; at the end, sets `eof`.
    fn fill(&mut self) {
        match self.windows.next_window() {
            Ok(Some(window)) => {
                self.progress.advance(window.len() as u64);
                self.decoder.push(window, false, &mut self.buf);
            }
            Ok(None) => {
                self.decoder.push(&[], true, &mut self.buf);
                self.eof = true;
            }
            Err(e) => {
                self.error = Some(e);
                self.eof = true;
            }
        }
    }

    /// Drops the text before offset `at`.
    fn consume(&mut self, at: usize) {
        self.buf.drain(..at - self.base);
        self.base = at;
    }

    /// The offset after the last byte arrived.
    fn end(&self) -> usize {
        self.base + self.buf.len()
    }
}
