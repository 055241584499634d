//! Helpers for the black-box tests: start the real `kikeru` binary on a free port with its own
//! data folder (and, for PostgreSQL, its own database), and talk to it over HTTP.

pub(crate) mod browser;
pub(crate) mod http;
pub(crate) mod outbox;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The `kikeru` binary Cargo built for this test run, with the same profile as the tests.
pub(crate) fn binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_kikeru"))
}

/// Adds an operator with `role` (`operator` or `admin`) and `password` through the command
/// line, to the data folder `data_dir` (and `database`, SQLite there when `None`).
///
/// # Panics
/// When the command fails.
#[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
pub(crate) fn add_operator(
    data_dir: &Path,
    database: Option<&str>,
    email: &str,
    role: &str,
    password: &str,
) {
    use std::io::Write as _;
    let mut command = Command::new(binary());
    command
        .args(["operator", "add", "--email", email, "--role", role])
        .env_clear()
        .env("KIKERU_DATA_DIR", data_dir)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = database {
        command.env("KIKERU_DATABASE_URL", url);
    }
    let mut child = command.spawn().expect("run kikeru operator add");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("the password");
    let output = child.wait_with_output().expect("kikeru operator add");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A running `kikeru serve`; killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The data folder (outbox under `outbox/`).
    pub(crate) data: tempfile::TempDir,
    log: mpsc::Receiver<String>,
}

impl Server {
    /// Starts the binary with `database_url` (SQLite in the data folder when `None`).
    ///
    /// # Panics
    /// When it does not start within 30 seconds.
    #[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
    pub(crate) fn start(database_url: Option<&str>) -> Self {
        Self::start_with(database_url, &[])
    }

    /// Starts the binary with `database_url` and extra `KIKERU_*` settings.
    ///
    /// # Panics
    /// When it does not start within 30 seconds.
    #[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
    pub(crate) fn start_with(database_url: Option<&str>, settings: &[(&str, &str)]) -> Self {
        Self::start_serving(&[], database_url, settings)
    }

    /// Starts `kikeru serve ARGS` with `database_url` and extra `KIKERU_*` settings.
    ///
    /// # Panics
    /// When it does not start within 30 seconds.
    #[allow(clippy::expect_used, clippy::panic, reason = "test helper")]
    pub(crate) fn start_serving(
        args: &[&str],
        database_url: Option<&str>,
        settings: &[(&str, &str)],
    ) -> Self {
        let data = tempfile::tempdir().expect("temporary directory");
        let mut command = Command::new(binary());
        command
            .arg("serve")
            .args(args)
            .env_clear()
            .env("KIKERU_LISTEN", "127.0.0.1:0")
            .env("KIKERU_DATA_DIR", data.path())
            .env("KIKERU_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = database_url {
            command.env("KIKERU_DATABASE_URL", url);
        }
        for (key, value) in settings {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("start kikeru");
        let stderr = child.stderr.take().expect("stderr");
        let (lines, log) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if lines.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        let base = loop {
            let remaining = deadline.saturating_duration_since(std::time::Instant::now());
            let Ok(line) = log.recv_timeout(remaining) else {
                break None;
            };
            if let Some(at) = line
                .find("listening on http://")
                .or_else(|| line.find("listening on https://"))
            {
                let rest = &line[at + "listening on ".len()..];
                let address = rest.split_whitespace().next().unwrap_or_default();
                break Some(
                    address
                        .trim_end_matches(|c: char| !c.is_ascii_digit())
                        .to_owned(),
                );
            }
            seen.push(line);
        };
        let Some(base) = base else {
            let _ = child.kill();
            let _ = child.wait();
            panic!("kikeru did not start; it printed:\n{}", seen.join("\n"));
        };
        Self {
            child,
            base,
            data,
            log,
        }
    }

    /// The process ID.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status, once the process has ended.
    pub(crate) fn try_wait(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// The log lines printed so far.
    pub(crate) fn log_lines(&self) -> Vec<String> {
        self.log.try_iter().collect()
    }

    /// The outbox folder.
    pub(crate) fn outbox(&self) -> PathBuf {
        self.data.path().join("outbox")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
