//! `cargo xtask schemathesis`: schemathesis (PyPI) against the spec the binary serves, every
//! check, every phase (examples, coverage, fuzzing, stateful links), in two runs: the members'
//! API with two signed-in members as peers for its object-level-authorization check, then the
//! office's API (`/admin/…`) with a signed-in administrator. Zero server errors, zero answers
//! that break the spec.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use crate::bench::{Running, agent, member_session, serve, sign_in};

const PASSWORD: &str = "correct horse battery staple";

/// Paths left out of both runs (a regular expression) for a reason that is not about the spec:
/// signing out ends the session the rest of the run authenticates with.
const SIGN_OUT: &str = "/sessions/current$";

/// The office's operations: the second run, with an administrator's session.
const OFFICE: &str = "^/admin/";

/// Runs schemathesis; `args` may set `--max-examples N` (default 25) and `--seed N`.
pub(crate) fn run(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let mut examples = 25u32;
    let mut seed = 1u64;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--max-examples" => {
                examples = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|n| *n >= 1)
                    .ok_or("--max-examples needs a number of at least 1")?;
            }
            "--seed" => {
                seed = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .ok_or("--seed needs a number")?;
            }
            other => {
                return Err(format!(
                    "unknown option {other}; usage: cargo xtask schemathesis [--max-examples N] [--seed N]"
                ));
            }
        }
    }
    if Command::new("schemathesis")
        .arg("--version")
        .output()
        .is_err()
    {
        return Err(
            "schemathesis is not installed: python3 -m pip install schemathesis".to_owned(),
        );
    }
    let binary = crate::kikeru_binary(root, cargo, false)?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let work = tempfile::tempdir().map_err(|e| e.to_string())?;
    let server = serve(&binary, data, &[("KIKERU_LOG", "warn".to_owned())])?;
    let base = server.base.clone();

    // Two members, each with a session: schemathesis checks neither sees the other's objects.
    let users: Vec<serde_json::Value> = ["alice", "bob"]
        .iter()
        .map(|name| {
            let cookie = member_session(&server, &format!("{name}@example.jp"), PASSWORD)?;
            Ok(serde_json::json!({
                "name": name,
                "fixedHeaders": [
                    {"name": "Cookie", "value": cookie},
                    {"name": "Origin", "value": base},
                ],
            }))
        })
        .collect::<Result<_, String>>()?;
    let auth = work.path().join("wfc-auth.json");
    std::fs::write(&auth, serde_json::json!({ "auth": users }).to_string())
        .map_err(|e| e.to_string())?;
    let settings = std::fs::read_to_string(root.join("xtask/schemathesis.toml"))
        .map_err(|e| format!("xtask/schemathesis.toml: {e}"))?;
    let run = Run {
        base: &base,
        work: work.path(),
        examples,
        seed,
    };
    let members = run.schemathesis(
        "members",
        &format!(
            "[auth.wfc]\npath = {}\npeers = [\"alice\", \"bob\"]\n\n{settings}",
            toml_string(&auth.display().to_string())
        ),
        // schemathesis keeps only the last `--exclude-path-regex`: one expression for both.
        &["--exclude-path-regex", &format!("{OFFICE}|{SIGN_OUT}")],
    )?;

    // The office: an administrator made with the CLI, its session cookie as the spec's
    // `operator_session` scheme (schemathesis takes one kind of auth per run).
    let operator = operator_session(&binary, &server)?;
    let office = run.schemathesis(
        "office",
        &format!(
            "headers = {{ Origin = {} }}\n\n[auth.openapi.operator_session]\napi_key = {}\n\n{settings}",
            toml_string(&base),
            toml_string(&operator)
        ),
        &["--include-path-regex", OFFICE, "--exclude-path-regex", SIGN_OUT],
    )?;
    drop(server);
    if members && office {
        Ok(())
    } else {
        Err("schemathesis found problems (above)".to_owned())
    }
}

/// What both runs share.
struct Run<'a> {
    base: &'a str,
    work: &'a Path,
    examples: u32,
    seed: u64,
}

impl Run<'_> {
    /// One schemathesis run with this configuration (auth first, then the shared settings) over
    /// the operations `filter` selects; whether it found nothing.
    fn schemathesis(&self, name: &str, config: &str, filter: &[&str]) -> Result<bool, String> {
        #[allow(clippy::print_stderr, reason = "progress report")]
        {
            eprintln!("xtask: schemathesis ({name})");
        }
        let path = self.work.join(format!("{name}.toml"));
        std::fs::write(&path, config).map_err(|e| e.to_string())?;
        let mut command = Command::new("schemathesis");
        command
            .arg("--config-file")
            .arg(&path)
            .arg("run")
            .arg(format!("{}/api/openapi.json", self.base))
            .args([
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing,stateful",
                "--max-examples",
                &self.examples.to_string(),
                "--seed",
                &self.seed.to_string(),
                "--generation-deterministic",
                // One worker: with two, schemathesis 4.32 failed with its own runtime error (a
                // `SystemError` from Python's `ast` module used by two threads at once).
                "--workers",
                "1",
                "--request-timeout",
                "10",
                "--report",
                "junit",
                "--report-dir",
            ])
            .arg(self.work.join(format!("report-{name}")))
            .args(filter)
            .current_dir(self.work);
        let status = command.status().map_err(|e| e.to_string())?;
        Ok(status.success())
    }
}

/// A TOML basic string holding `text`.
fn toml_string(text: &str) -> String {
    serde_json::Value::String(text.to_owned()).to_string()
}

/// Adds an administrator with `kikeru operator add` (the password on standard input) and signs
/// it in: the value of its session cookie.
fn operator_session(binary: &Path, server: &Running) -> Result<String, String> {
    let email = "office@example.jp";
    let mut add = Command::new(binary)
        .args(["operator", "add", "--email", email, "--role", "admin"])
        .env_clear()
        .envs(server.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("kikeru operator add: {e}"))?;
    add.stdin
        .take()
        .ok_or("kikeru operator add: no standard input")?
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    if !add.wait().map_err(|e| e.to_string())?.success() {
        return Err("kikeru operator add failed".to_owned());
    }
    let base = &server.base;
    let credentials = serde_json::json!({"email": email, "password": PASSWORD}).to_string();
    let cookie = sign_in(
        &agent(),
        &format!("{base}/api/v1/admin/sessions"),
        base,
        &credentials,
    )?;
    cookie
        .split_once('=')
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| format!("a malformed operator session cookie: {cookie}"))
}
