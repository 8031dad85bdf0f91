//! De-duplication: the same event read from several exports is written once, by the
//! first input that holds it ("first" in input order: the inputs as given, then the
//! rows in each).
//!
//! Every kept row has a 128-bit key (see [`crate::input::visit::EventKey`]: a legacy
//! record's Identity, a Unified Audit Log record's Id and AuditData, or its columns with
//! the time). [`mark`] sorts the rows' keys with their places in the input — in parallel,
//! 20 bytes a row whatever the rows hold, and whether the rows themselves are in memory or
//! on disk — and marks every row after the first of its key as excluded, counted as a
//! duplicate of its file. The decision is exact (no sampling, no approximate sets) and
//! is made before a row is written, so the run's messages give the counts first. A
//! Unified Audit Log record keyed by its AuditData's text rather than its content
//! ([`crate::input::visit::UalKeys::Text`]) is exact only while no `Id` has two texts:
//! [`mark`] says when one has, and the run is read again with content keys.
//!
//! A rule that cannot be a key — two exports of different column sets agreeing on every
//! column both hold (issue 15) — runs next ([`mark_shapes`], [`super::shapes`]): it
//! sorts the rows left by instant and Operation and compares those of different shapes,
//! marking the narrower the same way (an exclusion and a duplicate count).

use rayon::prelude::*;

use super::kept::FileKept;
use super::shapes::{self, FileRows};

/// Whether `files`' rows can be numbered for [`mark`] (fewer than 2^32 in all).
pub(super) fn fits(files: &[FileKept]) -> bool {
    files.iter().map(|f| f.rows).sum::<u64>() < u64::from(u32::MAX)
}

/// Marks every row whose key an earlier row has (in `files`' order, then position) as
/// excluded; returns the duplicates found in each file. The caller checked [`fits`].
///
/// With `text_keys` (Unified Audit Log records keyed by their `Id` and AuditData text,
/// [`crate::input::visit::UalKeys::Text`]): `None`, leaving `files` as they were, when
/// two rows' keys share their upper half (an `Id`) but not their lower one (the text):
/// those keys cannot tell whether the two texts hold one content, and the run must be
/// read again with content keys. Any other two keys share an upper half by chance only
/// (2^-64 a pair), which costs that second reading, never a wrong mark.
///
/// Each file's keys are given up as its rows are taken, each row as its key and number
/// together ([`Keyed`], 20 bytes), and those are sorted by key, ties in number order, in
/// parallel. Sorting the keys with the numbers (rather than the numbers by a look-up of
/// their keys) keeps the sort and the walk after it in sequential memory: a look-up per
/// comparison read the keys at random (a cache miss each, on a million rows).
pub(super) fn mark(files: &mut [FileKept], text_keys: bool) -> Option<Vec<u64>> {
    let total: usize = files.iter().map(|f| f.keys.len()).sum();
    // Where each file's rows start among all.
    let mut starts = Vec::with_capacity(files.len());
    let mut rows: Vec<Keyed> = Vec::with_capacity(total);
    let mut start = 0usize;
    for f in files.iter() {
        starts.push(start);
        let mut excluded = f.excluded.iter().copied().peekable();
        for (o, &key) in f.keys.iter().enumerate() {
            if excluded.next_if_eq(&(o as u64)).is_none() {
                rows.push(Keyed {
                    high: (key >> 64) as u64,
                    low: key as u64,
                    row: (start + o) as u32,
                });
            }
        }
        start += f.keys.len();
    }
    rows.par_sort_unstable_by_key(|k| (k.high, k.low, k.row));
    if text_keys
        && rows
            .windows(2)
            .any(|w| w[0].high == w[1].high && w[0].low != w[1].low)
    {
        return None;
    }
    for f in files.iter_mut() {
        f.keys = Vec::new();
    }
    let mut duplicates = vec![0u64; files.len()];
    for group in rows.chunk_by(|a, b| (a.high, a.low) == (b.high, b.low)) {
        for k in &group[1..] {
            let i = k.row as usize;
            let f = starts.partition_point(|&s| s <= i) - 1;
            files[f].excluded.push((i - starts[f]) as u64);
            duplicates[f] += 1;
        }
    }
    for f in files.iter_mut() {
        f.excluded.sort_unstable();
    }
    Some(duplicates)
}

/// A row's key (in two halves) and its number among all rows: 20 bytes, packed.
#[derive(Clone, Copy)]
#[repr(C, packed)]
struct Keyed {
    high: u64,
    low: u64,
    row: u32,
}

/// Marks as excluded, after [`mark`], every row that is the same event as a row of an
/// export of other columns ([`shapes::mark`]); returns how many in each file.
pub(super) fn mark_shapes(files: &mut [FileKept]) -> Vec<u64> {
    let rows: Vec<FileRows<'_>> = files
        .iter()
        .map(|f| FileRows {
            rows: f.rows,
            excluded: &f.excluded,
            signatures: f.signatures.as_ref(),
        })
        .collect();
    let found = shapes::mark(&rows);
    let mut counts = Vec::with_capacity(files.len());
    for (f, mut more) in files.iter_mut().zip(found) {
        counts.push(more.len() as u64);
        if !more.is_empty() {
            f.excluded.append(&mut more);
            f.excluded.sort_unstable();
        }
    }
    counts
}

/// `excluded` positions (ascending) as a bit set over `rows` positions.
pub(super) fn bits(excluded: &[u64], rows: u64) -> Vec<u64> {
    let mut bits = vec![0u64; usize::try_from(rows.div_ceil(64)).unwrap_or(0)];
    for &o in excluded {
        if let Some(w) = bits.get_mut((o / 64) as usize) {
            *w |= 1 << (o % 64);
        }
    }
    bits
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::kept::FileData;

    fn file(file: u32, keys: &[u128], excluded: &[u64]) -> FileKept {
        FileKept {
            file,
            rows: keys.len() as u64,
            keys: keys.to_vec(),
            excluded: excluded.to_vec(),
            items: Vec::new(),
            data: FileData::Columns(Vec::new()),
            signatures: None,
        }
    }

    #[test]
    fn the_first_in_input_order_keeps_the_event() {
        let mut files = vec![file(0, &[7, 8, 7, 9], &[3]), file(2, &[9, 1, 8], &[])];
        assert!(fits(&files));
        let dups = mark(&mut files, false).expect("content keys are never judged");
        assert_eq!(dups, vec![1, 1]);
        assert_eq!(files[0].excluded, vec![2, 3]);
        // 9 is excluded in the first file, so the second file's 9 is the first one kept.
        assert_eq!(files[1].excluded, vec![2]);
        assert_eq!(bits(&files[0].excluded, 70), vec![0b1100, 0]);
    }

    /// Large files: duplicates within and across files, rows excluded before (runs of
    /// them, and at random), keys of every top byte and many sharing one: the marks a
    /// reading row by row in input order makes.
    #[test]
    fn many_rows_mark_as_one_by_one() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut files = Vec::new();
        for (f, len) in [(0u32, 150_000usize), (1, 3), (3, 70_000)] {
            let keys: Vec<u128> = (0..len)
                .map(|_| {
                    let n = next();
                    // A few thousand events, some under one top byte.
                    let event = u128::from(n % 5_000);
                    let high = if n % 7 == 0 {
                        0x42 << 56 | event
                    } else {
                        event.wrapping_mul(0x9e37_79b9_7f4a_7c15) as u64 as u128
                    };
                    high << 64 | event
                })
                .collect();
            let excluded: Vec<u64> = (0..len as u64)
                .filter(|&o| o % 65_536 < 2 || o % 65_536 > 65_533 || next() % 50 == 0)
                .collect();
            files.push(file(f, &keys, &excluded));
        }
        // The reference: each key's first row not excluded, in input order, keeps it.
        let mut seen = std::collections::HashSet::new();
        let mut want_excluded = Vec::new();
        let mut want_dups = Vec::new();
        for f in &files {
            let mut excluded = f.excluded.clone();
            let mut dups = 0;
            for (o, k) in f.keys.iter().enumerate() {
                if f.excluded.binary_search(&(o as u64)).is_err() && !seen.insert(*k) {
                    excluded.push(o as u64);
                    dups += 1;
                }
            }
            excluded.sort_unstable();
            want_excluded.push(excluded);
            want_dups.push(dups);
        }
        assert_eq!(mark(&mut files, false), Some(want_dups));
        for (f, want) in files.iter().zip(want_excluded) {
            assert_eq!(f.excluded, want, "file {}", f.file);
        }
    }

    /// Text keys: one `Id` (upper half) with two texts (lower halves) among the rows not
    /// excluded asks for content keys, and leaves the files as they were; the same
    /// `Id` and text twice is a duplicate, and an excluded row is not compared.
    #[test]
    fn one_id_with_two_texts_asks_for_content_keys() {
        let key = |id: u128, text: u128| (id << 64) | text;
        let same = [key(1, 5), key(2, 6), key(1, 5)];
        let mut files = vec![file(0, &same, &[]), file(1, &[key(3, 7), key(2, 8)], &[1])];
        assert_eq!(mark(&mut files, true), Some(vec![1, 0]));
        assert_eq!(files[0].excluded, vec![2]);

        let mut files = vec![file(0, &same, &[]), file(1, &[key(2, 8)], &[])];
        assert_eq!(mark(&mut files, true), None);
        assert_eq!(files[0].keys, same, "left as they were");
        assert!(files[0].excluded.is_empty() && files[1].excluded.is_empty());
        // Content keys are never judged so.
        assert_eq!(mark(&mut files, false), Some(vec![1, 0]));
    }
}
