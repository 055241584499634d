//! The tidy checks, each a function that lists what is wrong: `cargo xtask tidy` runs them all,
//! and each is also a `#[test]`, run by `cargo test --workspace` (as `cargo xtask ci` does).
//!
//! - every Rust file opens with a `//!` header saying what it is for;
//! - no Rust file outside tests is longer than [`MAX_LINES`];
//! - no two files of the domain import each other, directly or around a circle;
//! - no crate has a normal dependency that only its tests use;
//! - the store reaches the database through its helpers (`crates/store/src/write.rs`): no
//!   writer's turn, `map_err` of a driver error or transaction begun anywhere else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The longest a Rust file outside tests may be.
pub(crate) const MAX_LINES: usize = 800;

/// Every check; the problems found, one line each.
pub(crate) fn all(root: &Path) -> Vec<String> {
    let mut problems = headers(root);
    problems.extend(long_files(root));
    problems.extend(domain_cycles(root));
    problems.extend(test_only_dependencies(root));
    problems.extend(store_access(root));
    problems
}

/// Lines of the store that reach the database around its helpers: taking the writer's turn,
/// translating a driver error by hand, or beginning a transaction. Allowed in the helpers
/// themselves, in tests, and in the SQLite group commit and PostgreSQL event path, whose
/// transactions run inside a write the helpers began.
pub(crate) fn store_access(root: &Path) -> Vec<String> {
    const AROUND: [&str; 3] = [".turn().await", "map_err(store_error)", ".begin().await"];
    const ALLOWED: [&str; 3] = ["write.rs", "shop/sqlite.rs", "shop/postgres.rs"];
    let mut problems = Vec::new();
    for file in rust_files(&root.join("crates/store/src")) {
        let name = relative(&root.join("crates/store/src"), &file);
        if is_test_file(&file) || ALLOWED.contains(&name.as_str()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if let Some(found) = AROUND.iter().find(|a| line.contains(*a)) {
                problems.push(format!(
                    "{}:{}: `{found}` outside the store's write helpers",
                    relative(root, &file),
                    n + 1
                ));
            }
        }
    }
    problems
}

fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Every `.rs` file under `dir`, build output left out.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() && path.file_name().is_some_and(|n| n != "target") {
            found.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found.sort();
    found
}

/// Whether a file holds tests only: an integration test, a `tests.rs` or a file under a
/// `tests` module folder.
fn is_test_file(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "tests")
        || path.file_name().is_some_and(|n| n == "tests.rs")
}

/// Files without a `//!` header.
pub(crate) fn headers(root: &Path) -> Vec<String> {
    let mut missing = Vec::new();
    for dir in ["crates", "xtask", "fuzz/fuzz_targets"] {
        for file in rust_files(&root.join(dir)) {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            if !text.trim_start().starts_with("//!") {
                missing.push(format!(
                    "{}: needs a `//!` header saying what it is for",
                    relative(root, &file)
                ));
            }
        }
    }
    missing
}

/// Files outside tests longer than [`MAX_LINES`].
pub(crate) fn long_files(root: &Path) -> Vec<String> {
    let mut long = Vec::new();
    for dir in ["crates", "xtask"] {
        for file in rust_files(&root.join(dir)) {
            if is_test_file(&file) {
                continue;
            }
            let lines = std::fs::read_to_string(&file)
                .unwrap_or_default()
                .lines()
                .count();
            if lines > MAX_LINES {
                long.push(format!(
                    "{}: {lines} lines, over {MAX_LINES}: split it by what its parts are for",
                    relative(root, &file)
                ));
            }
        }
    }
    long
}

/// The module path of a file under `src` (`""` for `lib.rs`, `a::b` for `a/b.rs` or
/// `a/b/mod.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod" || p == "lib") {
        parts.pop();
    }
    parts.join("::")
}

/// The text of a file without comments and without its inline `#[cfg(test)] mod tests`.
fn code_of(text: &str) -> String {
    let text = text
        .split("#[cfg(test)]\nmod tests")
        .next()
        .unwrap_or_default();
    text.lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The paths named after `crate::` in `code`: `crate::a::b::C` gives `a::b::C`, and
/// `crate::{a::B, c}` gives `a::B` and `c`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let item = item.split_whitespace().next().unwrap_or_default();
                let item = item.split("::{").next().unwrap_or_default();
                if !item.is_empty() {
                    paths.push(item.to_owned());
                }
            }
            continue;
        }
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
            .unwrap_or(rest.len());
        paths.push(rest[..end].trim_end_matches(':').to_owned());
    }
    paths
}

/// The names the crate root re-exports, with the module each comes from.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        if let Some((module, group)) = rest.split_once("::{") {
            for name in group.trim_end_matches('}').split(',') {
                let name = name.trim();
                if !name.is_empty() {
                    names.insert(name.to_owned(), module.to_owned());
                }
            }
        } else if let Some((module, name)) = rest.rsplit_once("::") {
            names.insert(name.trim().to_owned(), module.to_owned());
        }
    }
    names
}

/// The module files of the domain and the files each imports through `crate::` paths, each
/// path resolved to the deepest module file it names (a name the root re-exports, to the
/// module it comes from).
fn domain_imports(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let src = root.join("crates/domain/src");
    let files: BTreeMap<String, String> = rust_files(&src)
        .into_iter()
        .filter(|f| !is_test_file(f))
        .map(|f| {
            let text = std::fs::read_to_string(&f).unwrap_or_default();
            (module_of(&src, &f), code_of(&text))
        })
        .collect();
    let exports = root_exports(files.get("").map_or("", String::as_str));
    let resolve = |path: &str| -> Option<String> {
        let mut parts: Vec<&str> = path.split("::").filter(|p| !p.is_empty()).collect();
        if let [name] = parts.as_slice()
            && let Some(module) = exports.get(*name)
        {
            parts = module.split("::").collect();
        }
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].join("::"))
            .find(|m| files.contains_key(m))
    };
    files
        .iter()
        .map(|(module, code)| {
            let imports = crate_paths(code)
                .iter()
                .filter_map(|p| resolve(p))
                .filter(|m| m != module && !m.is_empty())
                .collect();
            (module.clone(), imports)
        })
        .collect()
}

/// Circles of imports between the domain's files.
pub(crate) fn domain_cycles(root: &Path) -> Vec<String> {
    let graph = domain_imports(root);
    let mut problems = Vec::new();
    let mut reported = BTreeSet::new();
    for start in graph.keys() {
        // The shortest way back to `start`, breadth first.
        let mut previous: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.as_str()]);
        let mut closed = None;
        while let Some(at) = queue.pop_front() {
            for next in graph.get(at).into_iter().flatten() {
                if next == start {
                    closed = Some(at);
                    break;
                }
                if !previous.contains_key(next.as_str()) {
                    previous.insert(next, at);
                    queue.push_back(next);
                }
            }
            if closed.is_some() {
                break;
            }
        }
        let Some(mut at) = closed else {
            continue;
        };
        let mut way_back = Vec::new();
        while at != start {
            way_back.push(at.to_owned());
            at = previous.get(at).copied().unwrap_or(start);
        }
        let circle: Vec<String> = std::iter::once(start.clone())
            .chain(way_back.into_iter().rev())
            .collect();
        let key: BTreeSet<String> = circle.iter().cloned().collect();
        if reported.insert(key) {
            problems.push(format!(
                "crates/domain: these modules import each other in a circle: {} -> {}",
                circle.join(" -> "),
                circle.first().map_or("", String::as_str)
            ));
        }
    }
    problems
}

/// Normal dependencies of a crate that no file outside its tests names.
pub(crate) fn test_only_dependencies(root: &Path) -> Vec<String> {
    let mut problems = Vec::new();
    let mut manifests: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("Cargo.toml"))
        .collect();
    manifests.push(root.join("xtask/Cargo.toml"));
    manifests.sort();
    for manifest in manifests {
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let Ok(parsed) = text.parse::<toml::Table>() else {
            problems.push(format!("{}: not valid TOML", relative(root, &manifest)));
            continue;
        };
        let Some(dependencies) = parsed.get("dependencies").and_then(toml::Value::as_table) else {
            continue;
        };
        let dir = manifest.parent().unwrap_or(root);
        let code: String = rust_files(&dir.join("src"))
            .into_iter()
            .filter(|f| !is_test_file(f))
            .map(|f| code_of(&std::fs::read_to_string(f).unwrap_or_default()))
            .collect();
        for (name, spec) in dependencies {
            // A dependency renamed with `package =` is named by its key.
            let ident = name.replace('-', "_");
            let optional = spec
                .get("optional")
                .and_then(toml::Value::as_bool)
                .unwrap_or(false);
            if optional
                || code.contains(&format!("{ident}::"))
                || code.contains(&format!("use {ident}"))
            {
                continue;
            }
            problems.push(format!(
                "{}: the dependency {name} is not used outside tests (make it a dev-dependency)",
                relative(root, &manifest)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    }

    fn assert_none(problems: Vec<String>) {
        assert!(problems.is_empty(), "\n{}", problems.join("\n"));
    }

    #[test]
    fn every_rust_file_says_what_it_is_for() {
        assert_none(headers(&root()));
    }

    #[test]
    fn no_rust_file_outside_tests_is_over_800_lines() {
        assert_none(long_files(&root()));
    }

    #[test]
    fn no_two_modules_of_the_domain_import_each_other() {
        assert_none(domain_cycles(&root()));
    }

    #[test]
    fn no_normal_dependency_is_used_only_by_tests() {
        assert_none(test_only_dependencies(&root()));
    }

    #[test]
    fn the_store_reaches_the_database_through_its_helpers() {
        assert_none(store_access(&root()));
    }

    #[test]
    fn the_cycle_check_finds_a_circle_and_follows_root_reexports() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("crates/domain/src");
        std::fs::create_dir_all(src.join("b")).unwrap();
        std::fs::write(
            src.join("lib.rs"),
            "//! x\npub mod a;\npub mod b;\npub use a::{Thing};\n",
        )
        .unwrap();
        std::fs::write(
            src.join("a.rs"),
            "//! a\nuse crate::b::Other;\npub struct Thing;\n",
        )
        .unwrap();
        std::fs::write(
            src.join("b/mod.rs"),
            "//! b\nuse crate::{Thing};\npub struct Other;\n// crate::c is a comment\n",
        )
        .unwrap();
        let problems = domain_cycles(dir.path());
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("a -> b -> a"), "{problems:?}");
        std::fs::write(src.join("b/mod.rs"), "//! b\npub struct Other;\n").unwrap();
        assert_none(domain_cycles(dir.path()));
    }

    #[test]
    fn the_paths_of_a_file_are_read_from_code_not_comments() {
        let code = code_of(
            "//! docs crate::x\nuse crate::{a::B, c as d};\nfn f() { crate::e::f(); }\n#[cfg(test)]\nmod tests { use crate::z; }\n",
        );
        assert_eq!(crate_paths(&code), ["a::B", "c", "e::f"]);
    }
}
