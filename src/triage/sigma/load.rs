//! Finding and reading rule files: `--sigma PATH` names files or directories.
//!
//! - A directory is walked recursively for `*.yml` / `*.yaml` (any case); a file named
//!   directly is read whatever its name. Symbolic links to files are read; links to
//!   directories are not followed (no loops), and are named in [`Loaded::not_loaded`].
//! - All files are read in sorted path order, each file once (however often named), so
//!   the same arguments always load the same rules in the same order.
//! - A path that does not exist is an error (the user mistyped it); a file that cannot be
//!   read, is not UTF-8, or is larger than [`MAX_RULE_FILE`] is named, and loading goes on.
//! - Duplicates: a rule with the id **and** logic (`logsource` + `detection`) of a rule
//!   loaded before it is not loaded ([`NotLoadedKind::Duplicate`], naming the first). A
//!   rule that shares only the id loads too, with a [`LoadNote`].

use std::collections::HashMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::rule::parse_rules;
use super::{LoadNote, Loaded, NotLoaded, NotLoadedKind};

/// The largest rule file read (SigmaHQ's largest rule is about 30 KB).
pub const MAX_RULE_FILE: u64 = 1 << 20;
/// How deep directories are walked.
const MAX_DIR_DEPTH: usize = 32;

/// Loads the rules in `paths` (files or directories).
///
/// # Errors
/// A path that cannot be examined (does not exist, no permission); its message names it.
pub fn load(paths: &[PathBuf]) -> io::Result<Loaded> {
    let mut loaded = Loaded::default();
    let mut files = Vec::new();
    for path in paths {
        let meta = fs::metadata(path)
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
        if meta.is_dir() {
            walk(path, 0, &mut files, &mut loaded.not_loaded);
        } else {
            files.push(path.clone());
        }
    }
    files.sort();
    files.dedup();
    let mut seen_real = std::collections::HashSet::new();
    files.retain(|f| seen_real.insert(fs::canonicalize(f).unwrap_or_else(|_| f.clone())));
    loaded.not_loaded.sort_by(|a, b| a.path.cmp(&b.path));

    // First loaded rule per id: (index in loaded.rules).
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for file in files {
        let text = match read_rule_file(&file) {
            Ok(text) => text,
            Err(reason) => {
                loaded.not_loaded.push(NotLoaded {
                    path: file,
                    id: None,
                    title: None,
                    kind: NotLoadedKind::Invalid,
                    reason,
                });
                continue;
            }
        };
        loaded.files_read += 1;
        let parsed = parse_rules(&text, &file);
        loaded.not_loaded.extend(parsed.not_loaded);
        for rule in parsed.rules {
            let Some(id) = rule.id.clone() else {
                loaded.rules.push(rule);
                continue;
            };
            let same_logic = by_id
                .get(&id)
                .and_then(|&i| loaded.rules.get(i))
                .map(|first| (first.logic == rule.logic, first.path.clone()));
            match same_logic {
                Some((true, first)) => loaded.not_loaded.push(NotLoaded {
                    path: rule.path.clone(),
                    id: Some(id),
                    title: Some(rule.title.clone()),
                    kind: NotLoadedKind::Duplicate,
                    reason: format!(
                        "same id and detection as {} (loaded instead)",
                        first.display()
                    ),
                }),
                Some((false, first)) => {
                    loaded.notes.push(LoadNote {
                        path: rule.path.clone(),
                        id: Some(id),
                        message: format!(
                            "shares its id with {} but its detection differs: both loaded",
                            first.display()
                        ),
                    });
                    loaded.rules.push(rule);
                }
                None => {
                    by_id.insert(id, loaded.rules.len());
                    loaded.rules.push(rule);
                }
            }
        }
    }
    Ok(loaded)
}

/// Collects the rule files below `dir`.
fn walk(dir: &Path, depth: usize, files: &mut Vec<PathBuf>, skipped: &mut Vec<NotLoaded>) {
    let note = |skipped: &mut Vec<NotLoaded>, path: &Path, reason: String| {
        skipped.push(NotLoaded {
            path: path.to_path_buf(),
            id: None,
            title: None,
            kind: NotLoadedKind::Invalid,
            reason,
        })
    };
    if depth > MAX_DIR_DEPTH {
        note(
            skipped,
            dir,
            format!("directory nested more than {MAX_DIR_DEPTH} levels: not read"),
        );
        return;
    }
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => return note(skipped, dir, format!("cannot list the directory: {e}")),
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                note(skipped, dir, format!("cannot list the directory: {e}"));
                continue;
            }
        };
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            note(skipped, &path, "cannot tell what this entry is".into());
            continue;
        };
        if kind.is_dir() {
            walk(&path, depth + 1, files, skipped);
        } else if kind.is_symlink() {
            match fs::metadata(&path) {
                Ok(m) if m.is_dir() => note(
                    skipped,
                    &path,
                    "a link to a directory: not followed (name the target with --sigma)".into(),
                ),
                Ok(m) if m.is_file() && is_rule_name(&path) => files.push(path),
                Ok(_) => {}
                Err(e) if is_rule_name(&path) => note(skipped, &path, format!("broken link: {e}")),
                Err(_) => {}
            }
        } else if kind.is_file() && is_rule_name(&path) {
            files.push(path);
        }
    }
}

fn is_rule_name(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yml") || e.eq_ignore_ascii_case("yaml"))
}

/// Reads one rule file as UTF-8 text.
fn read_rule_file(path: &Path) -> Result<String, String> {
    let meta = fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if meta.len() > MAX_RULE_FILE {
        return Err(format!(
            "{} bytes: larger than {} bytes, not read (is it a rule file?)",
            meta.len(),
            MAX_RULE_FILE
        ));
    }
    let bytes = fs::read(path).map_err(|e| format!("cannot read: {e}"))?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "not UTF-8 text (byte {}): save the rule as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}
