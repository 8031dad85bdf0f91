//! De-duplication: the same event read from several exports is written once, by the
//! first input that holds it ("first" in input order: the inputs as given, then the
//! rows in each).
//!
//! Every kept row has a 128-bit key (see [`crate::input::visit::EventKey`]: a legacy
//! record's Identity, a Unified Audit Log record's Id and AuditData, or its columns with
//! the time). [`mark`] sorts the keys with their place in the input — in parallel, 24
//! bytes a row whatever the rows hold, and whether the rows themselves are in memory or
//! on disk — and marks every row after the first of its key as excluded, counted as a
//! duplicate of its file. The decision is exact (no sampling, no approximate sets) and
//! is made before a row is written, so the run's messages give the counts first.
//!
//! A rule that cannot be a key — two exports of different column sets agreeing on every
//! column both hold (issue 15) — belongs after the time sort: copies of one event share
//! its instant, so such a rule compares the rows of each group of equal time, in input
//! order, and marks the later ones the same way (an exclusion and a duplicate count).
//! [`super::rows::Batches`] and [`super::table::Table`] visit rows in exactly that order.

use rayon::prelude::*;

use super::kept::FileKept;

/// Bits of a row's place for its position in its file; the rest is the file's.
const ORDINAL_BITS: u32 = 40;

/// Whether the places of `files`' rows fit the packed form [`mark`] sorts.
pub(super) fn fits(files: &[FileKept]) -> bool {
    files.len() < 1 << (64 - ORDINAL_BITS) && files.iter().all(|f| f.rows < 1 << ORDINAL_BITS)
}

/// Marks every row whose key an earlier row has (in `files`' order, then position) as
/// excluded; returns the duplicates found in each file. The caller checked [`fits`].
pub(super) fn mark(files: &mut [FileKept]) -> Vec<u64> {
    let total: usize = files.iter().map(|f| f.keys.len()).sum();
    let mut places: Vec<(u64, u64, u64)> = Vec::with_capacity(total);
    for (i, f) in files.iter().enumerate() {
        let mut excluded = f.excluded.iter().copied().peekable();
        for (ordinal, key) in f.keys.iter().enumerate() {
            let ordinal = ordinal as u64;
            if excluded.next_if_eq(&ordinal).is_some() {
                continue;
            }
            places.push((
                (key >> 64) as u64,
                *key as u64,
                ((i as u64) << ORDINAL_BITS) | ordinal,
            ));
        }
    }
    places.par_sort_unstable();
    let mut duplicates = vec![0u64; files.len()];
    for group in places.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
        for &(_, _, place) in &group[1..] {
            let i = (place >> ORDINAL_BITS) as usize;
            files[i].excluded.push(place & ((1 << ORDINAL_BITS) - 1));
            duplicates[i] += 1;
        }
    }
    drop(places);
    for f in files.iter_mut() {
        f.excluded.sort_unstable();
    }
    duplicates
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
        }
    }

    #[test]
    fn the_first_in_input_order_keeps_the_event() {
        let mut files = vec![file(0, &[7, 8, 7, 9], &[3]), file(2, &[9, 1, 8], &[])];
        assert!(fits(&files));
        let dups = mark(&mut files);
        assert_eq!(dups, vec![1, 1]);
        assert_eq!(files[0].excluded, vec![2, 3]);
        // 9 is excluded in the first file, so the second file's 9 is the first one kept.
        assert_eq!(files[1].excluded, vec![2]);
        assert_eq!(bits(&files[0].excluded, 70), vec![0b1100, 0]);
    }
}
