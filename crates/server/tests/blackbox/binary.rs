//! The binary's command line and lifecycle: migrations, configuration errors, shutdown.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::{Server, binary};

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
fn the_retention_job_and_the_ledger_check_run_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    for command in [["retention", "run"], ["ledger", "verify"]] {
        let output = Command::new(binary())
            .args(command)
            .env_clear()
            .env("KIKERU_DATA_DIR", dir.path())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{command:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let verified = Command::new(binary())
        .args(["ledger", "verify"])
        .env_clear()
        .env("KIKERU_DATA_DIR", dir.path())
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&verified.stdout).contains("intact: 0 entries"));
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
fn a_sender_address_the_mailer_cannot_read_stops_the_binary_with_78() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["serve"])
        .env_clear()
        .env("KIKERU_DATA_DIR", dir.path())
        .env("KIKERU_LISTEN", "127.0.0.1:0")
        .env("KIKERU_MAIL_FROM", "Minna <no-reply@@kikeru.example>")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("mail_from"), "{stderr}");
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

#[test]
fn catalog_import_reports_every_bad_row_by_line_and_imports_a_good_file_whole() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("media/audio")).unwrap();
    std::fs::write(data.join("media/audio/a.wav"), b"RIFF....WAVE").unwrap();
    let import = |text: &str| {
        let file = dir.path().join("catalog.toml");
        std::fs::write(&file, text).unwrap();
        Command::new(binary())
            .args(["catalog", "import", file.to_str().unwrap()])
            .env_clear()
            .env("KIKERU_DATA_DIR", &data)
            .env("KIKERU_DEMO_CATALOG", "false")
            .output()
            .unwrap()
    };
    let bad = import(
        "[[product]]\nsku = \"OK-1\"\ntitle_ja = \"朝\"\ntitle_en = \"Morning\"\nprice = 100\naudio = \"audio/a.wav\"\n\n[[product]]\nsku = \"BAD 2\"\ntitle_ja = \"夜\"\ntitle_en = \"Night\"\nprice = -1\naudio = \"audio/none.wav\"\n",
    );
    assert!(!bad.status.success());
    let stderr = String::from_utf8_lossy(&bad.stderr);
    for expected in ["line 8: sku", "line 8: price", "line 8: audio"] {
        assert!(
            stderr.contains(expected),
            "{expected:?} missing from:\n{stderr}"
        );
    }
    let good = import(
        "[[product]]\nsku = \"OK-1\"\ntitle_ja = \"朝\"\ntitle_en = \"Morning\"\nprice = 100\naudio = \"audio/a.wav\"\n",
    );
    assert!(
        good.status.success(),
        "{}",
        String::from_utf8_lossy(&good.stderr)
    );

    let data_dir = data.to_str().unwrap().to_owned();
    let server = Server::start_with(
        None,
        &[
            ("KIKERU_DATA_DIR", data_dir.as_str()),
            ("KIKERU_DEMO_CATALOG", "false"),
        ],
    );
    let mut client = crate::support::http::Client::new(&server.base);
    let products = client.get("/api/v1/products");
    let skus: Vec<_> = products.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sku"].clone())
        .collect();
    assert_eq!(
        skus,
        [serde_json::json!("OK-1")],
        "only the good import is in the catalogue"
    );
}

#[test]
fn an_operator_added_from_the_command_line_signs_in_with_the_operators_cookie() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().to_str().unwrap().to_owned();
    let add = |email: &str, password: &str| {
        let mut child = Command::new(binary())
            .args(["operator", "add", "--email", email, "--role", "admin"])
            .env_clear()
            .env("KIKERU_DATA_DIR", &data_dir)
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(format!("{password}\n").as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = add("office@example.jp", "password");
    assert!(!weak.status.success(), "a weak password is refused");
    assert!(
        add("office@example.jp", "quiet office lantern harbour")
            .status
            .success()
    );
    let again = add("office@example.jp", "another long passphrase here");
    assert!(!again.status.success(), "an address is one operator");

    let server = Server::start_with(None, &[("KIKERU_DATA_DIR", data_dir.as_str())]);
    let mut office = crate::support::http::Client::new(&server.base);
    let signed_in = office.post("/api/v1/admin/sessions", serde_json::json!({"email": "office@example.jp", "password": "quiet office lantern harbour"}));
    assert_eq!(signed_in.status, 201, "{signed_in:?}");
    assert!(
        office
            .cookie
            .as_deref()
            .unwrap()
            .starts_with("kikeru_operator=")
    );
    let audit = office.get("/api/v1/admin/audit");
    assert_eq!(audit.status, 200);
    assert!(audit.text.contains("operator.added") && audit.text.contains("signed_in"));
    assert_eq!(
        office.get("/api/v1/me").status,
        401,
        "an operator's cookie is not a member's"
    );
}
