//! The house rules, checked: modules form layers with dependencies pointing down only, no
//! cycle among the top-level modules nor among the children of any one module, and every
//! document the code or the README cites is in the repository.
//!
//! The module graph is read from the source itself: every `crate::a::b` and `super::...`
//! path outside comments (in `use` lines and inline), with `{...}` groups expanded, gives an
//! edge from the file's module to the module the path names. A child may use its parent's
//! items and the parent its children's (a module and its files are one unit); siblings may
//! not depend on each other in a circle. Test code (`tests.rs` files and the
//! `#[cfg(test)]` module at the end of a file) is left out. `README.md` ("How it is
//! built") shows the layers.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The top-level modules by layer, top first. A module may use modules of its own layer
/// or of a lower one, never of a higher one.
const LAYERS: &[&[&str]] = &[
    &["cmd"],
    &["session", "build_info"],
    &["output"],
    &["summary", "triage"],
    &["pipeline"],
    &["input"],
    &[
        "filter",
        "fingerprint",
        "who",
        "enrich",
        "ip",
        "record",
        "datetime",
        "funnel",
        "diag",
        "hash",
        "id_hash",
        "base64",
        "progress",
        "exit",
    ],
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, with its module path (`src/a/b.rs` → `["a", "b"]`,
/// `src/a/mod.rs` → `["a"]`).
fn modules(dir: &Path, prefix: &[String], out: &mut Vec<(Vec<String>, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut p = prefix.to_vec();
            p.push(name);
            modules(&path, &p, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut p = prefix.to_vec();
            if name != "mod" && !(prefix.is_empty() && (name == "lib" || name == "main")) {
                p.push(name);
            }
            out.push((p, path));
        }
    }
}

/// The code of a Rust file without its comments and string literals' contents (so that
/// `crate::` in a doc comment or a message is not an edge).
fn code_only(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"//") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'"' && (i == 0 || b[i - 1] != b'\'') {
            // A raw string r#"..."# is rare in paths' neighbourhood; treat `"` pairs.
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else {
            out.push(b[i] as char);
            i += 1;
        }
    }
    out
}

/// Expands the path that starts at `text` (after `crate::` or `super::`) into its
/// segment lists: `a::b::{c, d::e}` → `[a,b,c]`, `[a,b,d,e]`.
fn paths_at(text: &str) -> Vec<Vec<String>> {
    fn parse(s: &[u8], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
        let mut path = prefix;
        loop {
            while *i < s.len() && s[*i].is_ascii_whitespace() {
                *i += 1;
            }
            if *i < s.len() && s[*i] == b'{' {
                *i += 1;
                loop {
                    parse(s, i, path.clone(), out);
                    while *i < s.len() && s[*i].is_ascii_whitespace() {
                        *i += 1;
                    }
                    match s.get(*i) {
                        Some(b',') => *i += 1,
                        Some(b'}') => {
                            *i += 1;
                            return;
                        }
                        _ => return,
                    }
                    while *i < s.len() && s[*i].is_ascii_whitespace() {
                        *i += 1;
                    }
                    if s.get(*i) == Some(&b'}') {
                        *i += 1;
                        return;
                    }
                }
            }
            let start = *i;
            while *i < s.len() && (s[*i].is_ascii_alphanumeric() || s[*i] == b'_') {
                *i += 1;
            }
            if *i == start {
                out.push(path);
                return;
            }
            path.push(String::from_utf8_lossy(&s[start..*i]).to_string());
            if s[*i..].starts_with(b"::") {
                *i += 2;
            } else {
                out.push(path);
                return;
            }
        }
    }
    let mut out = Vec::new();
    let mut i = 0;
    parse(text.as_bytes(), &mut i, Vec::new(), &mut out);
    out
}

/// The absolute module paths a file refers to.
fn references(module: &[String], is_mod_file: bool, code: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("crate::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
            continue;
        }
        out.extend(paths_at(&code[at + 7..]));
    }
    // `super::` from `a/b.rs` (module a::b) is `a`; from `a/b/mod.rs` (a::b) also `a`.
    let _ = is_mod_file;
    for (at, _) in code.match_indices("super::") {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut base: Vec<String> = module.to_vec();
        let mut rest = &code[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        for p in paths_at(rest) {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
    }
    out
}

/// Whether `path` names a module (file or directory) of the crate.
fn is_module(all: &BTreeSet<Vec<String>>, path: &[String]) -> bool {
    all.contains(path)
}

fn layer_of(top: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&top))
}

/// A cycle in `graph`, if any (depth-first search).
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        g: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(n.to_string(), 1);
        stack.push(n.to_string());
        for m in g.get(n).into_iter().flatten() {
            match state.get(m.as_str()).copied().unwrap_or(0) {
                1 => {
                    let from = stack.iter().position(|s| s == m).unwrap_or(0);
                    let mut cycle = stack[from..].to_vec();
                    cycle.push(m.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(m, g, state, stack) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        stack.pop();
        state.insert(n.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for n in graph.keys() {
        if state.get(n.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(c) = visit(n, graph, &mut state, &mut Vec::new()) {
                return Some(c);
            }
        }
    }
    None
}

struct Graphs {
    /// Top-level module → the top-level modules it uses.
    top: BTreeMap<String, BTreeSet<String>>,
    /// Parent module (`a` or `a::b`) → its children's edges among themselves.
    children: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
}

fn graphs() -> Graphs {
    let src = repo().join("src");
    let mut files = Vec::new();
    modules(&src, &[], &mut files);
    let all: BTreeSet<Vec<String>> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut g = Graphs {
        top: BTreeMap::new(),
        children: BTreeMap::new(),
    };
    for (module, path) in &files {
        if module.is_empty() {
            continue; // lib.rs and main.rs sit above everything
        }
        // Tests may reach anywhere: unit-test files and the `#[cfg(test)]` module that
        // ends a file are left out.
        if path.file_name().is_some_and(|n| n == "tests.rs") {
            continue;
        }
        let is_mod = path.file_name().is_some_and(|n| n == "mod.rs");
        let text = std::fs::read_to_string(path).unwrap();
        let text = text.split("#[cfg(test)]").next().unwrap_or_default();
        let code = code_only(text);
        g.top.entry(module[0].clone()).or_default();
        for reference in references(module, is_mod, &code) {
            // The longest prefix of the path that is a module.
            let mut target = reference.clone();
            while !target.is_empty() && !is_module(&all, &target) {
                target.pop();
            }
            if target.is_empty() {
                continue;
            }
            if target[0] != module[0] {
                g.top
                    .entry(module[0].clone())
                    .or_default()
                    .insert(target[0].clone());
                continue;
            }
            // Siblings: the first place the two paths part, below a common parent.
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common < module.len() && common < target.len() {
                let parent = module[..common].join("::");
                g.children
                    .entry(parent)
                    .or_default()
                    .entry(module[common].clone())
                    .or_default()
                    .insert(target[common].clone());
            }
        }
    }
    g
}

#[test]
fn top_level_modules_depend_downwards_only() {
    let g = graphs();
    let mut wrong = Vec::new();
    for (from, tos) in &g.top {
        let Some(lf) = layer_of(from) else {
            wrong.push(format!(
                "module '{from}' is in no layer: add it to LAYERS here and to the README"
            ));
            continue;
        };
        for to in tos {
            match layer_of(to) {
                Some(lt) if lt >= lf => {}
                Some(_) => wrong.push(format!("{from} (layer {lf}) uses {to}, a higher layer")),
                None => wrong.push(format!("module '{to}' is in no layer")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn no_cycle_among_top_level_modules() {
    let g = graphs();
    assert_eq!(find_cycle(&g.top), None, "graph: {:#?}", g.top);
}

#[test]
fn no_cycle_among_the_children_of_any_module() {
    let g = graphs();
    for (parent, graph) in &g.children {
        assert_eq!(find_cycle(graph), None, "children of {parent}: {graph:#?}");
    }
    // The check sees the modules it should.
    assert!(g.children.contains_key("cmd"), "{:?}", g.children.keys());
    assert!(g.children.contains_key("input"));
}

#[test]
fn the_graph_reader_finds_edges() {
    let refs = references(
        &["a".into(), "b".into()],
        false,
        "use crate::x::{y, z::{w}};\nuse super::c::D;\nlet v = crate::q::f();",
    );
    let want: Vec<Vec<String>> = [
        vec!["x", "y"],
        vec!["x", "z", "w"],
        vec!["q", "f"],
        vec!["a", "c", "D"],
    ]
    .iter()
    .map(|p| p.iter().map(|s| s.to_string()).collect())
    .collect();
    assert_eq!(refs, want);
    let mut cyclic = BTreeMap::new();
    cyclic.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    cyclic.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(find_cycle(&cyclic).is_some());
    assert_eq!(code_only("x // crate::y\n\"crate::z\" w"), "x \n\"\" w");
}

/// Every `*.md` file named in src/, tests/, benches/ or the README exists in the repository.
#[test]
fn every_cited_document_is_in_the_repository() {
    let root = repo();
    let mut texts = vec![root.join("README.md")];
    for dir in ["src", "tests", "benches"] {
        let mut files = Vec::new();
        collect_files(&root.join(dir), &mut files);
        texts.extend(files);
    }
    let mut have = BTreeSet::new();
    let mut all = Vec::new();
    for dir in ["", "docs", "testdata", "src", "tests", "benches"] {
        collect_files(&root.join(dir), &mut all);
    }
    for f in &all {
        if let Some(name) = f.file_name() {
            have.insert(name.to_string_lossy().to_string());
        }
    }
    let mut missing = BTreeSet::new();
    for path in texts {
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (at, _) in text.match_indices(".md") {
            let after = text[at + 3..].chars().next();
            if after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let start = text[..at]
                .rfind(|c: char| !(c.is_alphanumeric() || "._-/".contains(c)))
                .map_or(0, |i| i + 1);
            let cited = &text[start..at + 3];
            let name = cited.rsplit('/').next().unwrap_or(cited);
            if name.len() > 3 && !have.contains(name) {
                missing.insert(format!("{cited} (in {})", path.display()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "cited but not in the repository: {missing:#?}"
    );
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            if !p.ends_with("target") && !p.ends_with(".git") {
                collect_files(&p, out);
            }
        } else {
            out.push(p);
        }
    }
}
