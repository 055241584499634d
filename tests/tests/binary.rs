//! The binary's command line and lifecycle: migrations, configuration errors, shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use kikeru_tests::{Server, binary};

#[test]
fn migrate_creates_the_database_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .arg("migrate")
        .env_clear()
        .env("KIKERU_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("kikeru.db").exists());
}

#[test]
fn a_bad_configuration_lists_every_problem_and_exits_78() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kikeru.toml");
    std::fs::write(&file, "listen = \"nowhere\"\nunknown_key = 1\n").unwrap();
    let output = Command::new(binary())
        .args(["--config", file.to_str().unwrap(), "serve"])
        .env_clear()
        .env("KIKERU_SESSION_IDLE_TIMEOUT_SECS", "soon")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown_key"), "{stderr}");
    assert!(
        stderr.contains("KIKERU_SESSION_IDLE_TIMEOUT_SECS"),
        "{stderr}"
    );
}

#[test]
fn the_openapi_command_prints_the_spec() {
    let output = Command::new(binary())
        .arg("openapi")
        .env_clear()
        .output()
        .unwrap();
    assert!(output.status.success());
    let spec: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(spec["paths"]["/members"]["post"].is_object());
}

#[test]
fn sigterm_stops_the_server_cleanly() {
    let mut server = Server::start(None);
    let pid = server.pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = server.try_wait() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "kikeru did not stop within 10 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
}
