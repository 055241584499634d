//! `cargo xtask schemathesis`: schemathesis (PyPI) against the spec the binary serves, with two
//! signed-in members as peers for its object-level-authorization check: every check, every
//! phase (examples, coverage, fuzzing, stateful links). Zero server errors, zero answers that
//! break the spec.

use std::path::Path;
use std::process::Command;

use crate::bench::{member_session, serve};

const PASSWORD: &str = "correct horse battery staple";

/// Paths left out (as regular expressions), each for a reason that is not about the spec:
/// signing out ends the session the rest of the run authenticates with.
const EXCLUDED: &[&str] = &["/sessions/current$"];

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
    let config = work.path().join("schemathesis.toml");
    std::fs::write(
        &config,
        format!(
            "[auth.wfc]\npath = \"{}\"\npeers = [\"alice\", \"bob\"]\n\n{settings}",
            auth.display()
        ),
    )
    .map_err(|e| e.to_string())?;

    let mut command = Command::new("schemathesis");
    command
        .arg("--config-file")
        .arg(&config)
        .arg("run")
        .arg(format!("{base}/api/openapi.json"))
        .args([
            "--checks",
            "all",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            &examples.to_string(),
            "--seed",
            &seed.to_string(),
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
        .arg(work.path().join("report"))
        .current_dir(work.path());
    for path in EXCLUDED {
        command.args(["--exclude-path-regex", path]);
    }
    let status = command.status().map_err(|e| e.to_string())?;
    drop(server);
    if status.success() {
        Ok(())
    } else {
        Err("schemathesis found problems (above)".to_owned())
    }
}
