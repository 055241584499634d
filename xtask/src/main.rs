//! Project automation, run as `cargo xtask <command>`:
//!
//! - `ci`: every check CI makes, in order — formatting, clippy (`-D warnings`, all targets),
//!   tidy, policy, `openapi --check`, the whole test suite (failing when no PostgreSQL test
//!   ran), schemathesis, tls, `fuzz --seconds 5`, and `cargo deny check`
//!   (installing cargo-deny when missing). `.ci/run` installs the prerequisites and calls it.
//! - `tidy`: every Rust file starts with a `//!` header; none outside tests is over 800 lines;
//!   no two files of the domain import each other around a circle; no normal dependency is
//!   used only by tests (each check is also a `#[test]`, run by `cargo xtask ci`).
//! - `openapi [--check]`: writes `docs/openapi.json` from the binary (or checks it is current).
//! - `fuzz [--seconds N]`: builds the fuzz targets in `fuzz/` with cargo-fuzz on the stable
//!   toolchain (`-s none`) and runs each for N seconds (60 by default; `.ci/run` runs 5) from its
//!   seed corpus, in a scratch copy so the repository's corpus stays as committed. Any crash,
//!   hang or runaway allocation fails it.
//! - `bench [--seconds N] [--postgres URL] [--sqlite-only | --postgres-only] [--webhooks-only]`: the release
//!   binary on SQLite and PostgreSQL under `wrk`, each figure as a ratio to a baseline measured
//!   in the same run; writes `docs/benchmarks.md` and `docs/benchmarks.svg` and fails when a
//!   target does not hold. `--webhooks-only` runs the webhook section alone and `--postgres-only`
//!   leaves SQLite out; both only print their rows.
//! - `schemathesis [--max-examples N] [--seed N]`: schemathesis against the served spec with
//!   every check, including object-level authorization between two signed-in members, then the
//!   office's API with a signed-in administrator.
//! - `tls`: Debian's testssl against the binary's HTTPS with a certificate from a test CA;
//!   fails on any finding above LOW.
//! - `policy`: checks `docs/policy.toml`, the map from each promise of the privacy policy to
//!   the rule that enforces it and the tests that prove it: every named rule and test must
//!   exist.

mod api_fuzz;
mod bench;
mod tidy;
mod tls;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use tidy::rust_files;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(),
        Some("tidy") => tidy(),
        Some("openapi") => openapi(args.iter().any(|a| a == "--check")),
        Some("policy") => policy(),
        Some("fuzz") => fuzz(&args[1..]),
        Some("bench") => bench::bench(&root(), &mut cargo(), &args[1..]),
        Some("schemathesis") => api_fuzz::run(&root(), &mut cargo(), &args[1..]),
        Some("tls") => tls::run(&root(), &mut cargo()),
        _ => Err(
            "usage: cargo xtask <ci | tidy | policy | openapi [--check] | fuzz [--seconds N] | bench [--seconds N] [--postgres URL] [--sqlite-only | --postgres-only] [--webhooks-only] | schemathesis [--max-examples N] [--seed N] | tls>"
                .to_owned(),
        ),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            #[allow(clippy::print_stderr, reason = "the tool's report")]
            {
                eprintln!("xtask: {message}");
            }
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(root());
    command
}

/// Builds the `kikeru` binary (release or debug) with `cargo`; its path.
pub(crate) fn kikeru_binary(
    root: &Path,
    cargo: &mut Command,
    release: bool,
) -> Result<PathBuf, String> {
    cargo.args(["build", "-p", "kikeru-server"]);
    if release {
        cargo.arg("--release");
    }
    let status = cargo.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("building the kikeru binary failed".to_owned());
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target
        .join(if release { "release" } else { "debug" })
        .join("kikeru"))
}

fn run(step: &str, command: &mut Command) -> Result<(), String> {
    #[allow(clippy::print_stderr, reason = "progress report")]
    {
        eprintln!("xtask: {step}");
    }
    let status = command.status().map_err(|e| format!("{step}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{step} failed ({status})"))
    }
}

/// Every check CI makes, in order; `.ci/run` installs what they need and calls this.
fn ci() -> Result<(), String> {
    run(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run(
        "cargo clippy -D warnings",
        cargo().args([
            "clippy",
            "--workspace",
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
    )?;
    step("cargo xtask tidy");
    tidy()?;
    step("cargo xtask policy (each promise of the privacy policy: its rule and its tests)");
    policy()?;
    step("cargo xtask openapi --check (docs/openapi.json is the spec the binary serves)");
    openapi(true)?;
    test_everything()?;
    step("cargo xtask schemathesis (every check, two members as peers)");
    api_fuzz::run(&root(), &mut cargo(), &[])?;
    step("cargo xtask tls (testssl against the binary's HTTPS: nothing above LOW)");
    tls::run(&root(), &mut cargo())?;
    step("cargo xtask fuzz --seconds 5 (every parser of outside input)");
    fuzz(&["--seconds".to_owned(), "5".to_owned()])?;
    deny()
}

/// Prints the name of a step, as `run` does.
fn step(name: &str) {
    #[allow(clippy::print_stderr, reason = "progress report")]
    {
        eprintln!("xtask: {name}");
    }
}

/// `cargo test` — the README's test command — with every backend. With `CI` set, a test that
/// cannot run (no PostgreSQL URL, no Chromium, no SMTP server) fails instead of saying
/// `SKIPPED`; this also fails when no PostgreSQL test ran at all.
fn test_everything() -> Result<(), String> {
    use std::io::{BufRead, BufReader};
    step("cargo test (SQLite, in-memory and PostgreSQL)");
    let mut child = cargo()
        // The whole workspace: xtask's own tests are the tidy checks. (xtask is not a default
        // member, so that `cargo run` on a fresh clone runs the service.)
        .args(["test", "--workspace"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cargo test: {e}"))?;
    let mut postgres = 0;
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            #[allow(clippy::print_stdout, reason = "the test report, passed through")]
            {
                println!("{line}");
            }
            if line.starts_with("test ") && line.contains("postgres") && line.ends_with(" ... ok") {
                postgres += 1;
            }
        }
    }
    let status = child.wait().map_err(|e| format!("cargo test: {e}"))?;
    if !status.success() {
        return Err(format!("cargo test failed ({status})"));
    }
    step(&format!("PostgreSQL tests run: {postgres}"));
    if postgres == 0 {
        return Err("no PostgreSQL test ran".to_owned());
    }
    Ok(())
}

/// The fuzz targets, as named in `fuzz/Cargo.toml`.
const FUZZ_TARGETS: &[&str] = &[
    "email",
    "password",
    "token",
    "webhook",
    "inbound_mail",
    "stats_path",
    "catalog",
    "config",
    "passkey",
    "second_factor",
];

fn fuzz(args: &[String]) -> Result<(), String> {
    let seconds = match args {
        [] => 60,
        [flag, n] if flag == "--seconds" => n
            .parse::<u32>()
            .map_err(|_| format!("--seconds: {n:?} is not a number"))?,
        _ => return Err("usage: cargo xtask fuzz [--seconds N]".to_owned()),
    };
    let installed = cargo()
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        run(
            "cargo install cargo-fuzz",
            cargo().args(["install", "--locked", "cargo-fuzz"]),
        )?;
    }
    let fuzz_dir = root().join("fuzz");
    run(
        "cargo fuzz build -s none",
        cargo()
            .current_dir(&fuzz_dir)
            .args(["fuzz", "build", "-s", "none"]),
    )?;
    let scratch = std::env::temp_dir().join("kikeru-fuzz");
    for target in FUZZ_TARGETS {
        let work = scratch.join(target);
        std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
        let seeds = fuzz_dir.join("corpus").join(target);
        run(
            &format!("fuzz {target} for {seconds} s"),
            cargo().current_dir(&fuzz_dir).args([
                "fuzz",
                "run",
                "-s",
                "none",
                target,
                &work.display().to_string(),
                &seeds.display().to_string(),
                "--",
                &format!("-max_total_time={seconds}"),
                "-rss_limit_mb=1024",
                "-timeout=10",
            ]),
        )?;
    }
    Ok(())
}

fn deny() -> Result<(), String> {
    let installed = cargo()
        .args(["deny", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !installed {
        run(
            "cargo install cargo-deny",
            cargo().args(["install", "--locked", "cargo-deny"]),
        )?;
    }
    run(
        "cargo deny check",
        cargo().args(["deny", "check", "bans", "licenses", "sources"]),
    )?;
    // Bounded: without a route to GitHub, git may wait a long time for a connection.
    let reachable = Command::new("timeout")
        .args([
            "20",
            "git",
            "ls-remote",
            "https://github.com/RustSec/advisory-db",
            "HEAD",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if reachable {
        run(
            "cargo deny check advisories",
            cargo().args(["deny", "check", "advisories"]),
        )
    } else {
        #[allow(clippy::print_stderr, reason = "a skipped check must be visible")]
        {
            eprintln!(
                "xtask: SKIPPED cargo deny check advisories (the advisory database cannot be fetched)"
            );
        }
        Ok(())
    }
}

/// The tidy checks ([`tidy::all`]): headers, file length, the domain's import cycles and
/// test-only dependencies.
fn tidy() -> Result<(), String> {
    let problems = tidy::all(&root());
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("untidy:\n  {}", problems.join("\n  ")))
    }
}

fn openapi(check: bool) -> Result<(), String> {
    let output = cargo()
        .args([
            "run",
            "--quiet",
            "--package",
            "kikeru-server",
            "--bin",
            "kikeru",
            "--",
            "openapi",
        ])
        .output()
        .map_err(|e| format!("cargo run: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "kikeru openapi failed: {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let path = root().join("docs").join("openapi.json");
    if check {
        let current = std::fs::read(&path).unwrap_or_default();
        if current != output.stdout {
            return Err("docs/openapi.json is out of date: run `cargo xtask openapi`".to_owned());
        }
        return Ok(());
    }
    std::fs::create_dir_all(root().join("docs")).map_err(|e| e.to_string())?;
    std::fs::write(&path, output.stdout).map_err(|e| e.to_string())
}

/// One `[[promise]]` of `docs/policy.toml` (a small, line-based subset of TOML).
#[derive(Debug, Default)]
struct Promise {
    /// Where the obligation comes from: the privacy policy unless a law is named.
    source: String,
    clause: String,
    rule: Option<String>,
    tests: Vec<String>,
    pending: bool,
}

fn quoted(value: &str) -> Vec<String> {
    value
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

fn promises(text: &str) -> Vec<Promise> {
    let mut found: Vec<Promise> = Vec::new();
    for line in text.lines().map(str::trim) {
        if line == "[[promise]]" {
            found.push(Promise::default());
            continue;
        }
        let (Some(current), Some((key, value))) = (found.last_mut(), line.split_once('=')) else {
            continue;
        };
        match key.trim() {
            "clause" => current.clause = quoted(value).concat(),
            "source" => current.source = quoted(value).concat(),
            "rule" => current.rule = quoted(value).into_iter().next(),
            "tests" => current.tests = quoted(value),
            "status" => current.pending = value.contains("pending"),
            _ => {}
        }
    }
    found
}

/// The body of the function `name` in `sources` (from its `{` to the matching `}`), if there is
/// one. Braces in strings, character literals and line comments do not count.
fn function_body<'a>(sources: &'a str, name: &str) -> Option<&'a str> {
    let start = [format!("fn {name}("), format!("fn {name}<")]
        .iter()
        .filter_map(|head| sources.find(head.as_str()))
        .min()?;
    let open = start + sources[start..].find('{')?;
    let bytes = sources.as_bytes();
    let (mut depth, mut i) = (0usize, open);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'\'' if bytes.get(i + 2) == Some(&b'\'') => i += 2,
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return sources.get(open..=i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Whether `body` asserts something: an assertion macro, a panic, an expected error — in it, or
/// in a function it calls (followed `depth` calls deep), so that a test that runs a shared
/// journey counts, and one whose checks were lost does not.
fn asserts(sources: &str, body: &str, depth: u32) -> bool {
    const MARKS: [&str; 5] = [
        "assert",
        "panic!(",
        "expect_err(",
        "unwrap_err(",
        "should_panic",
    ];
    if MARKS.iter().any(|mark| body.contains(mark)) {
        return true;
    }
    if depth == 0 {
        return false;
    }
    let mut called = std::collections::BTreeSet::new();
    let mut rest = body;
    while let Some(at) = rest.find('(') {
        let name: String = rest[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if name.len() > 2 && name.chars().next().is_some_and(|c| c.is_lowercase()) {
            called.insert(name);
        }
        rest = &rest[at + 1..];
    }
    called.iter().any(|name| {
        function_body(sources, name)
            .is_some_and(|inner| inner != body && asserts(sources, inner, depth - 1))
    })
}

fn policy() -> Result<(), String> {
    let path = root().join("docs").join("policy.toml");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut sources = String::new();
    for file in rust_files(&root().join("crates")) {
        sources.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
    }
    let mut problems = Vec::new();
    let mut pending = Vec::new();
    let all = promises(&text);
    for promise in &all {
        if promise.pending {
            pending.push(promise.clause.clone());
            continue;
        }
        match &promise.rule {
            None => problems.push(format!("{:?} names no enforcing rule", promise.clause)),
            Some(rule) => {
                let (file, item) = rule.split_once("::").unwrap_or((rule, ""));
                let code = std::fs::read_to_string(root().join(file)).unwrap_or_default();
                if code.is_empty() || !code.contains(item) {
                    problems.push(format!(
                        "{:?}: the rule {rule} does not exist",
                        promise.clause
                    ));
                }
            }
        }
        if promise.tests.is_empty() {
            problems.push(format!("{:?} names no test", promise.clause));
        }
        for test in &promise.tests {
            match function_body(&sources, test) {
                None => problems.push(format!(
                    "{:?}: the test {test} does not exist",
                    promise.clause
                )),
                Some(body) if !asserts(&sources, body, 4) => problems.push(format!(
                    "{:?}: the test {test} asserts nothing (no assertion in it or in what it calls)",
                    promise.clause
                )),
                Some(_) => {}
            }
        }
    }
    #[allow(clippy::print_stderr, reason = "the tool's report")]
    {
        eprintln!(
            "xtask: policy: {} promises enforced and tested, {} pending",
            all.len() - pending.len(),
            pending.len()
        );
        for promise in &all {
            let source = if promise.source.is_empty() {
                "privacy policy"
            } else {
                promise.source.as_str()
            };
            if promise.pending {
                eprintln!("xtask: policy: [{source}] PENDING {}", promise.clause);
            } else {
                eprintln!(
                    "xtask: policy: [{source}] {} — {} — {}",
                    promise.clause,
                    promise.rule.as_deref().unwrap_or("?"),
                    promise.tests.join(", ")
                );
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!("docs/policy.toml:\n  {}", problems.join("\n  ")))
    }
}

#[cfg(test)]
mod tests {
    use super::{asserts, function_body};

    const SOURCES: &str = r#"
fn helper() { let x = 1; assert_eq!(x, 1); }
fn quiet_helper() { let _ = "}{"; }
#[test] fn named_with_assert() { assert!(true); }
#[test] fn named_through_a_helper() { helper(); }
#[test] fn named_without_checks() { quiet_helper(); let c = '}'; }
"#;

    #[test]
    fn a_named_test_counts_only_when_it_or_what_it_calls_asserts() {
        let check = |name| asserts(SOURCES, function_body(SOURCES, name).unwrap(), 4);
        assert!(check("named_with_assert"));
        assert!(check("named_through_a_helper"));
        assert!(!check("named_without_checks"));
        assert_eq!(
            function_body(SOURCES, "quiet_helper"),
            Some(r#"{ let _ = "}{"; }"#)
        );
        assert!(function_body(SOURCES, "missing").is_none());
    }
}
