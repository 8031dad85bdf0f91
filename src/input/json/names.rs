//! The member names met in a JSON export, and what each means, remembered.
//!
//! A record's members are told apart by name (`Operation`, `LastAccessed`, `AuditData`...),
//! and working out what a name means (unescaping it, matching it against the columns and
//! roles the readers know) costs more than the rest of a small record. An export repeats
//! a handful of names in a handful of orders (one per kind of record), so each name is
//! worked out once and then found by position: the names last met at the same position
//! are compared first (four of them, most recent first), and only a name not among them
//! is looked up in a hash map.

use crate::input::json_lex::same_name;
use std::collections::HashMap;

/// Names remembered at most (exports use a few hundred).
const MAX_NAMES: usize = 4096;

/// Names remembered per member position.
const WAYS: usize = 4;

/// A name's entry: `u32::MAX` for none.
const NONE: u32 = u32::MAX;

/// Names as written, each with its meaning `T`.
pub(super) struct Names<T> {
    known: Vec<(Vec<u8>, T)>,
    by_name: HashMap<Vec<u8>, u32>,
    /// For each member position, the entries of the names last met there, most recent
    /// first.
    at_position: Vec<[u32; WAYS]>,
}

impl<T> Default for Names<T> {
    fn default() -> Self {
        Names {
            known: Vec::new(),
            by_name: HashMap::new(),
            at_position: Vec::new(),
        }
    }
}

impl<T: Copy> Names<T> {
    /// The entry and meaning of `name` (as written), the member at `position` of its
    /// record; `meaning` works it out the first time. The entry is `None` when no more
    /// names are remembered (a file of ever new names).
    #[inline]
    pub fn find(
        &mut self,
        position: usize,
        name: &[u8],
        meaning: impl FnOnce() -> T,
    ) -> (Option<u32>, T) {
        if let Some(ways) = self.at_position.get_mut(position) {
            for w in 0..WAYS {
                let k = ways[w];
                let Some((known, info)) = self.known.get(k as usize) else {
                    break;
                };
                if same_name(known, name) {
                    if w > 0 {
                        ways.copy_within(0..w, 1);
                        ways[0] = k;
                    }
                    return (Some(k), *info);
                }
            }
        }
        let k = match self.by_name.get(name) {
            Some(&k) => k,
            None if self.known.len() >= MAX_NAMES => return (None, meaning()),
            None => {
                let k = self.known.len() as u32;
                self.known.push((name.to_vec(), meaning()));
                self.by_name.insert(name.to_vec(), k);
                k
            }
        };
        if self.at_position.len() <= position {
            self.at_position.resize(position + 1, [NONE; WAYS]);
        }
        let ways = &mut self.at_position[position];
        ways.copy_within(0..WAYS - 1, 1);
        ways[0] = k;
        (Some(k), self.known[k as usize].1)
    }

    /// How many names are remembered (entries are below).
    pub fn len(&self) -> usize {
        self.known.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_worked_out_once_and_found_at_any_position() {
        let mut names = Names::default();
        let mut worked = 0;
        {
            let mut find = |names: &mut Names<usize>, at, name: &str| {
                names
                    .find(at, name.as_bytes(), || {
                        worked += 1;
                        name.len()
                    })
                    .0
            };
            let orders = [
                ["Id", "Operation", "CreationTime", "A-long-name-of-16"],
                ["CreationTime", "Id", "Workload", "Operation"],
                ["Id", "Operation", "Workload", "X"],
            ];
            let mut entries = HashMap::new();
            for round in 0..3 {
                for order in &orders {
                    for (at, name) in order.iter().enumerate() {
                        let k = find(&mut names, at, name).expect("remembered");
                        assert_eq!(*entries.entry(*name).or_insert(k), k, "round {round}");
                    }
                }
            }
        }
        assert_eq!((names.len(), worked), (6, 6));
        assert!(same_name(b"A-long-name-of-16", b"A-long-name-of-16"));
        assert!(!same_name(b"A-long-name-of-16", b"A-long-name-of-17"));
        assert!(!same_name(b"Id", b"Ix"));
        assert!(!same_name(b"Id", b"Idx"));
        assert!(same_name(b"12345678", b"12345678"));
        assert!(!same_name(b"12345678x", b"12345678y"));
        assert!(!same_name(b"x12345678", b"y12345678"));
    }
}
