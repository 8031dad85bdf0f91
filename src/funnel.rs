//! Where every row read went: written, dropped by which rule, duplicate, malformed, or
//! in a file rejected as a whole after its rows were read (its dates contradict each
//! other). The numbers always add up; the run prints them so a responder can check
//! nothing was lost silently.

use std::collections::BTreeMap;

use crate::filter::{Rule, RULE_COUNT};

/// Row counts for one input, or summed over all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Data records read (blank lines are not records).
    pub read: u64,
    /// Records that could not be read (bad field count, unparsable time...).
    pub malformed: u64,
    /// Records of a file rejected as a whole once read (none of its rows is reported).
    pub rejected: u64,
    /// Records dropped by each rule, indexed by `Rule as usize`.
    pub dropped: [u64; RULE_COUNT],
    /// Records that passed every rule (before de-duplication).
    pub matched: u64,
    /// Matched records that repeat one already kept (the same event in another export).
    pub duplicates: u64,
    /// Of [`Counts::duplicates`], those found in an export of other columns (the
    /// cross-shape rule, `pipeline::shapes`).
    pub other_shapes: u64,
    /// Of the records dropped by [`Rule::RecordType`], how many per workload (or record
    /// type, when the record names no workload).
    pub skipped_workloads: BTreeMap<String, u64>,
}

impl Counts {
    pub fn add(&mut self, other: &Counts) {
        self.read += other.read;
        self.malformed += other.malformed;
        self.rejected += other.rejected;
        for (a, b) in self.dropped.iter_mut().zip(other.dropped) {
            *a += b;
        }
        self.matched += other.matched;
        self.duplicates += other.duplicates;
        self.other_shapes += other.other_shapes;
        for (k, v) in &other.skipped_workloads {
            *self.skipped_workloads.entry(k.clone()).or_default() += v;
        }
    }

    pub fn dropped_by(&self, rule: Rule) -> u64 {
        self.dropped[rule as usize]
    }

    /// Records written to the report.
    pub fn written(&self) -> u64 {
        self.matched - self.duplicates
    }

    /// Records left after the rules up to and including `rule`.
    pub fn left_after(&self, rule: Rule) -> u64 {
        let gone: u64 = self.dropped[..=rule as usize].iter().sum();
        self.read
            .saturating_sub(self.malformed)
            .saturating_sub(self.rejected)
            .saturating_sub(gone)
    }

    /// True when read = written + dropped + duplicates + malformed + rejected, with
    /// nothing above what a u64 holds (counts read back from a file may be anything).
    pub fn adds_up(&self) -> bool {
        let total = [self.duplicates, self.malformed, self.rejected]
            .into_iter()
            .chain(self.dropped)
            .fold(self.matched.checked_sub(self.duplicates), |sum, n| {
                sum.and_then(|s| s.checked_add(n))
            });
        total == Some(self.read)
    }

    /// The funnel as lines of text, numbers right-aligned, ending in "= rows written".
    pub fn lines(&self) -> Vec<String> {
        self.lines_kept_as("rows written")
    }

    /// The funnel, its last line naming the kept rows `kept` ("rows summarised"...).
    pub fn lines_kept_as(&self, kept: &str) -> Vec<String> {
        let mut rows: Vec<(String, u64)> = vec![("rows read".into(), self.read)];
        if self.malformed > 0 {
            rows.push(("- malformed (reported above)".into(), self.malformed));
        }
        if self.rejected > 0 {
            rows.push((
                "- rejected file (none of its rows reported; see above)".into(),
                self.rejected,
            ));
        }
        for rule in Rule::ALL {
            let n = self.dropped_by(rule);
            if n > 0 {
                rows.push((format!("- {}", rule.describe()), n));
                if rule == Rule::RecordType {
                    for (workload, n) in &self.skipped_workloads {
                        rows.push((format!("    of which {workload}"), *n));
                    }
                }
            }
        }
        let exact = self.duplicates.saturating_sub(self.other_shapes);
        if exact > 0 {
            rows.push(("- duplicates (same event in several exports)".into(), exact));
        }
        if self.other_shapes > 0 {
            rows.push((
                "- same event in exports of other columns".into(),
                self.other_shapes,
            ));
        }
        rows.push((format!("= {kept}"), self.written()));
        let width = rows
            .iter()
            .map(|r| r.1.to_string().len())
            .max()
            .unwrap_or(1);
        rows.into_iter()
            .map(|(label, n)| format!("  {n:>width$}  {label}"))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_up() {
        let mut c = Counts {
            read: 10,
            malformed: 1,
            matched: 4,
            duplicates: 1,
            ..Counts::default()
        };
        c.dropped[Rule::FolderBind as usize] = 3;
        c.dropped[Rule::Subject as usize] = 2;
        assert!(c.adds_up());
        assert_eq!(c.written(), 3);
        assert_eq!(c.left_after(Rule::Mailbox), 9);
        assert_eq!(c.left_after(Rule::FolderBind), 6);
        let text = c.lines().join("\n");
        assert!(text.contains("3  - FolderBind removed"), "{text}");
        c.rejected = 2;
        c.read += 2;
        assert!(c.adds_up());
        assert_eq!(c.left_after(Rule::Mailbox), 9);
        c.malformed = u64::MAX;
        assert!(!c.adds_up(), "no wrapping");
    }
}
