//! The shape of the code, checked on every `cargo test`: dependencies point down the layers
//! declared below, no two source files import each other (directly or around a circle), and
//! no source file is over 800 lines.
//!
//! An import is any `crate::…` or `super::…` path in a file's code (in `use` lines or
//! written inline), resolved to the file that defines the module it names. A parent
//! reaching its own child modules by their bare names (`sqs::send` in `delivery/mod.rs`) is
//! how Rust nests modules and does not count; a child reaching its parent through `super::`
//! does. `#[cfg(test)]` modules are left out: unit tests may use whatever they test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers, top to bottom, by top-level module (a directory module's files share its
/// layer). A file may import its own layer or any below it, never one above.
const LAYERS: &[&[&str]] = &[
    &["main"],
    &["lib"],
    &["server"],
    &["protocol", "local", "scheduler_api", "init"],
    &["ops", "scheduler_ops"],
    &["app"],
    &["replay", "schedule", "retention", "scheduler_fire"],
    &["router", "recent"],
    &["delivery"],
    &["destinations", "catalog", "schedules"],
    &["rule_index", "transform", "write_through"],
    &[
        "pattern",
        "model",
        "json_doc",
        "store",
        "config",
        "error",
        "validate",
        "signature",
        "clock",
        "healthcheck",
    ],
];

const MAX_LINES: usize = 800;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/delivery/sqs.rs` -> `["delivery", "sqs"]`; `src/delivery/mod.rs` -> `["delivery"]`;
/// `src/lib.rs` -> `[]`; `src/main.rs` -> `["main"]` (a crate of its own).
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts
}

fn layer_of(module: &[String]) -> Option<usize> {
    let top = module.first().map_or("lib", String::as_str);
    LAYERS.iter().position(|layer| layer.contains(&top))
}

/// The text with comments, string and char literals blanked, so that only code is read.
fn code_only(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < bytes.len() {
        let rest = &text[i..];
        if rest.starts_with("//") {
            let end = rest.find('\n').map_or(text.len(), |n| i + n);
            i = end;
        } else if rest.starts_with("/*") {
            let end = rest.find("*/").map_or(text.len(), |n| i + n + 2);
            out.extend(text[i..end].chars().filter(|c| *c == '\n'));
            i = end;
        } else if rest.starts_with("r#\"") || rest.starts_with("r\"") {
            let hashes = rest[1..].chars().take_while(|c| *c == '#').count();
            let close = format!("\"{}", "#".repeat(hashes));
            let start = i + 2 + hashes;
            let end = text[start..]
                .find(&close)
                .map_or(text.len(), |n| start + n + close.len());
            out.push_str("\"\"");
            i = end;
        } else if bytes[i] == b'"' {
            let mut j = i + 1;
            while j < bytes.len() && bytes[j] != b'"' {
                j += if bytes[j] == b'\\' { 2 } else { 1 };
            }
            out.push_str("\"\"");
            i = (j + 1).min(bytes.len());
        } else if bytes[i] == b'\'' && (rest.get(2..3) == Some("'") || rest.starts_with("'\\")) {
            // A char literal ('x' or '\n'), not a lifetime.
            let end = rest[1..].find('\'').map_or(text.len(), |n| i + n + 2);
            out.push_str("' '");
            i = end;
        } else {
            let ch = rest.chars().next().unwrap();
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// The code without its `#[cfg(test)]` items (a module or function in braces).
fn without_tests(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let Some(open) = after.find('{') else {
            rest = "";
            break;
        };
        let semi = after.find(';').unwrap_or(usize::MAX);
        if semi < open {
            // `#[cfg(test)] mod x;` or a `use`: skip that one item.
            rest = &after[semi + 1..];
            continue;
        }
        let mut depth = 0;
        let mut end = after.len();
        for (k, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = open + k + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e}}`) into its paths.
fn expand_use(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let path = tree.split(" as ").next().unwrap_or(tree).trim();
        return vec![path.to_string()];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (k, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..k]);
                start = k + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .filter(|p| !p.trim().is_empty())
        .flat_map(|p| {
            let p = p.trim();
            if p == "self" {
                vec![prefix.trim_end_matches("::").to_string()]
            } else {
                expand_use(p)
                    .into_iter()
                    .map(|sub| format!("{prefix}{sub}"))
                    .collect()
            }
        })
        .collect()
}

/// Every `crate::`/`super::` path in a file's code, as written.
fn imported_paths(code: &str, crate_name: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    // `use` statements, groups expanded.
    while let Some(at) = rest.find("use ") {
        let before_ok = at == 0
            || !rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after = &rest[at + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if before_ok {
            paths.extend(expand_use(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    // Inline paths.
    for prefix in ["crate::", "super::", &format!("{crate_name}::")] {
        let mut from = 0;
        while let Some(at) = code[from..].find(prefix) {
            let start = from + at;
            let before_ok = start == 0
                || !code[..start]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            let end = code[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |n| start + n);
            if before_ok {
                paths.push(code[start..end].trim_end_matches(':').to_string());
            }
            from = end.max(start + prefix.len());
        }
    }
    paths
}

/// The module a path names, as a module path of the crate: the longest prefix that is a
/// file of `modules`.
fn resolve(
    path: &str,
    from: &[String],
    from_is_mod: bool,
    crate_name: &str,
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    let mut segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let mut base: Vec<String> = match segments.first() {
        Some(&"crate") => Vec::new(),
        Some(name) if *name == crate_name => Vec::new(),
        Some(&"super") => {
            // `super` of `a/b.rs` is `a`; of `a/mod.rs` it is the crate root's `a`'s parent.
            let mut base = from.to_vec();
            let _ = from_is_mod;
            base.pop();
            base
        }
        _ => return None,
    };
    segments.remove(0);
    while segments.first() == Some(&"super") {
        base.pop();
        segments.remove(0);
    }
    let mut best = None;
    let mut candidate = base.clone();
    if modules.contains(&candidate) {
        best = Some(candidate.clone());
    }
    for seg in segments {
        candidate.push(seg.to_string());
        if modules.contains(&candidate) {
            best = Some(candidate.clone());
        } else {
            break;
        }
    }
    best
}

struct Graph {
    /// file -> files it imports, with the path that made each edge.
    edges: BTreeMap<Vec<String>, BTreeMap<Vec<String>, String>>,
    names: BTreeMap<Vec<String>, String>,
}

fn build_graph() -> Graph {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_path(&src, f)).collect();
    let mut graph = Graph {
        edges: BTreeMap::new(),
        names: BTreeMap::new(),
    };
    for file in &files {
        let from = module_path(&src, file);
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        graph.names.insert(from.clone(), name);
        let text = std::fs::read_to_string(file).unwrap();
        let code = without_tests(&code_only(&text));
        let is_mod = file.file_name().is_some_and(|n| n == "mod.rs");
        let is_main = from == ["main"];
        let mut out = BTreeMap::new();
        for path in imported_paths(&code, "eventbridge_local") {
            let resolved = if is_main {
                // The binary is a crate of its own: only the library's name reaches in.
                if !path.starts_with("eventbridge_local") {
                    continue;
                }
                resolve(&path, &from, is_mod, "eventbridge_local", &modules)
            } else {
                resolve(&path, &from, is_mod, "crate", &modules)
            };
            if let Some(to) = resolved
                && to != from
            {
                out.entry(to).or_insert(path);
            }
        }
        graph.edges.insert(from, out);
    }
    graph
}

#[test]
fn imports_point_down_the_layers() {
    let graph = build_graph();
    let mut wrong = Vec::new();
    for (from, targets) in &graph.edges {
        let Some(from_layer) = layer_of(from) else {
            wrong.push(format!(
                "{}: module `{}` is in no layer: add it to LAYERS in tests/architecture.rs",
                graph.names[from],
                from.first().map_or("lib", String::as_str)
            ));
            continue;
        };
        for (to, path) in targets {
            if to.is_empty() {
                continue; // the crate root (lib.rs) re-exports; it is never imported from
            }
            let Some(to_layer) = layer_of(to) else {
                continue; // reported for the file itself
            };
            if to_layer < from_layer {
                wrong.push(format!(
                    "{} imports `{path}` ({}), which is in a layer above it",
                    graph.names[from], graph.names[to]
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "upward imports:\n{}", wrong.join("\n"));
}

#[test]
fn no_import_cycle_between_files() {
    let graph = build_graph();
    // Tarjan's strongly connected components.
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g Vec<String>, usize>,
        low: BTreeMap<&'g Vec<String>, usize>,
        stack: Vec<&'g Vec<String>>,
        on_stack: BTreeSet<&'g Vec<String>>,
        next: usize,
        cycles: Vec<Vec<&'g Vec<String>>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g Vec<String>) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.graph.edges.get(v).into_iter().flat_map(|t| t.keys()) {
            if !s.graph.edges.contains_key(w) {
                continue;
            }
            if !s.index.contains_key(w) {
                visit(s, w);
                let low = s.low[w].min(s.low[v]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(w) {
                let low = s.index[w].min(s.low[v]);
                s.low.insert(v, low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                component.push(w);
                if w == v {
                    break;
                }
            }
            if component.len() > 1 {
                s.cycles.push(component);
            }
        }
    }
    let mut state = State {
        graph: &graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        next: 0,
        cycles: Vec::new(),
    };
    for v in graph.edges.keys() {
        if !state.index.contains_key(v) {
            visit(&mut state, v);
        }
    }
    let report: Vec<String> = state
        .cycles
        .iter()
        .map(|component| {
            let members: BTreeSet<_> = component.iter().copied().collect();
            let edges: Vec<String> = component
                .iter()
                .flat_map(|from| {
                    graph.edges[*from]
                        .iter()
                        .filter(|(to, _)| members.contains(to))
                        .map(|(to, path)| {
                            format!("  {} -> {} (`{path}`)", graph.names[*from], graph.names[to])
                        })
                })
                .collect();
            format!(
                "a cycle of {} files:\n{}",
                component.len(),
                edges.join("\n")
            )
        })
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn no_source_file_over_800_lines() {
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches", "fuzz/fuzz_targets"] {
        rust_files(&root().join(dir), &mut files);
    }
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).ok()?.lines().count();
            (lines > MAX_LINES).then(|| {
                format!(
                    "{}: {lines} lines",
                    f.strip_prefix(root()).unwrap().display()
                )
            })
        })
        .collect();
    assert!(
        long.is_empty(),
        "files over {MAX_LINES} lines (split them along a real seam):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_checker_reads_imports_as_written() {
    let modules: BTreeSet<Vec<String>> = [
        vec![],
        vec!["delivery".to_string()],
        vec!["delivery".to_string(), "sqs".to_string()],
        vec!["model".to_string()],
        vec!["model".to_string(), "time".to_string()],
    ]
    .into_iter()
    .collect();
    let code = code_only(
        "use crate::model::{Scope, time::{now_ms, x}};\n// use crate::app::App;\nlet s = \"crate::app\";\nsuper::job::Failure; crate::delivery::sqs::send(x);",
    );
    let paths = imported_paths(&code, "eventbridge_local");
    let from = vec!["delivery".to_string(), "sqs".to_string()];
    let resolved: BTreeSet<Vec<String>> = paths
        .iter()
        .filter_map(|p| resolve(p, &from, false, "crate", &modules))
        .collect();
    assert!(resolved.contains(&vec!["model".to_string()]));
    assert!(resolved.contains(&vec!["model".to_string(), "time".to_string()]));
    assert!(resolved.contains(&vec!["delivery".to_string()]));
    assert!(!paths.iter().any(|p| p.contains("app")), "{paths:?}");
    let tests_cut =
        without_tests("fn a() {}\n#[cfg(test)]\nmod tests { use crate::app::App; }\nfn b() {}");
    assert!(!tests_cut.contains("app") && tests_cut.contains("fn b"));
}
