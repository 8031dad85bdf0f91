//! `load` on directories and files: what is read, in which order, and what is named.

use std::fs;
use std::path::{Path, PathBuf};

use crate::triage::sigma::{load, NotLoadedKind};

fn rule_text(id: &str, title: &str, value: &str) -> String {
    format!(
        "title: {title}\nid: {id}\nlogsource:\n  product: m365\ndetection:\n  s:\n    Operation: {value}\n  condition: s\n"
    )
}

fn write(path: &Path, text: impl AsRef<[u8]>) {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).expect("mkdir");
    }
    fs::write(path, text).expect("write");
}

#[test]
fn walks_sorted_names_every_skip_and_reports_duplicates() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    write(&root.join("b/second.yml"), rule_text("id-1", "copy", "A"));
    write(
        &root.join("a/first.YAML"),
        rule_text("id-1", "original", "A"),
    );
    write(
        &root.join("a/z.yml"),
        rule_text("id-1", "same id, other logic", "B"),
    );
    write(&root.join("a/notes.txt"), "not a rule");
    write(&root.join("c/latin1.yml"), b"title: caf\xe9\n");
    write(&root.join("c/huge.yml"), vec![b'#'; (1 << 20) + 1]);
    write(
        &root.join("c/windows.yml"),
        "title: w\nlogsource:\n  product: windows\ndetection: {}\n",
    );
    #[cfg(unix)]
    std::os::unix::fs::symlink(root.join("a"), root.join("c/link_to_a.yml")).expect("symlink");

    let extra = root.join("b/second.yml");
    let loaded = load(&[root.to_path_buf(), extra]).expect("loads");
    let rel = |p: &Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    let titles: Vec<(String, &str)> = loaded
        .rules
        .iter()
        .map(|r| (rel(r.path()), r.title()))
        .collect();
    assert_eq!(
        titles,
        [
            ("a/first.YAML".into(), "original"),
            ("a/z.yml".into(), "same id, other logic")
        ]
    );
    assert_eq!(loaded.notes.len(), 1);
    assert!(loaded.notes[0]
        .message
        .contains("a/first.YAML but its detection differs"));
    let skipped: Vec<(String, NotLoadedKind)> = loaded
        .not_loaded
        .iter()
        .map(|n| (rel(&n.path), n.kind))
        .collect();
    let mut want = vec![
        ("b/second.yml".to_string(), NotLoadedKind::Duplicate),
        ("c/huge.yml".to_string(), NotLoadedKind::Invalid),
        ("c/latin1.yml".to_string(), NotLoadedKind::Invalid),
        ("c/windows.yml".to_string(), NotLoadedKind::OtherLogsource),
    ];
    if cfg!(unix) {
        want.insert(0, ("c/link_to_a.yml".to_string(), NotLoadedKind::Invalid));
    }
    assert_eq!(skipped, want, "{:#?}", loaded.not_loaded);
    let reason = |name: &str| {
        loaded
            .not_loaded
            .iter()
            .find(|n| n.path.ends_with(name))
            .map(|n| n.reason.clone())
    };
    assert!(reason("latin1.yml").is_some_and(|r| r.contains("not UTF-8")));
    assert!(reason("huge.yml").is_some_and(|r| r.contains("larger than")));
    assert_eq!(
        loaded.files_read, 4,
        "b/second.yml once although named twice; not the two unreadable files"
    );
}

#[test]
fn a_missing_path_is_an_error_naming_it() {
    let missing = PathBuf::from("testdata/sigma/no-such-rules");
    let err = load(&[missing]).expect_err("missing");
    assert!(err.to_string().contains("no-such-rules"), "{err}");
}

#[test]
fn a_file_named_directly_is_read_whatever_its_name() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let path = tmp.path().join("rule.txt");
    write(&path, rule_text("x", "t", "A"));
    let loaded = load(&[path]).expect("loads");
    assert_eq!(loaded.rules.len(), 1);
}
