//! `cargo xtask tls`: Debian's `testssl` against the binary's own HTTPS (rustls), with a
//! certificate from a throwaway test CA made by the openssl tool, so the certificate checks judge
//! the server and not a self-signed chain. Fails when testssl reports anything above LOW.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) -> Result<(), String> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .map_err(|e| format!("openssl (apt-get install openssl): {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "openssl {}: {}",
            args.first().copied().unwrap_or_default(),
            String::from_utf8_lossy(&output.stderr)
        ))
    }
}

/// A test CA and a server certificate for `localhost` signed by it, in `dir`.
fn certificates(dir: &Path) -> Result<(), String> {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName = DNS:localhost\n\
         keyUsage = critical, digitalSignature\n\
         extendedKeyUsage = serverAuth\n\
         crlDistributionPoints = URI:http://localhost/kikeru-test-ca.crl\n",
    )
    .map_err(|e| e.to_string())?;
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "365",
            "-subj",
            "/CN=Minna Kikeru test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
        ],
    )?;
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    )?;
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "365",
            "-sha256",
            "-extfile",
            "server.ext",
        ],
    )
}

/// Runs testssl against the binary.
pub(crate) fn run(root: &Path, cargo: &mut Command) -> Result<(), String> {
    if Command::new("testssl")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Err("testssl is not installed: apt-get install testssl.sh".to_owned());
    }
    let binary = crate::kikeru_binary(root, cargo, false)?;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    certificates(dir.path())?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())?;
    let server = Running(
        Command::new(&binary)
            .arg("serve")
            .env_clear()
            .env("KIKERU_LISTEN", format!("127.0.0.1:{port}"))
            .env("KIKERU_PUBLIC_URL", format!("https://localhost:{port}"))
            .env("KIKERU_DATA_DIR", dir.path().join("data"))
            .env("KIKERU_TLS_CERT", dir.path().join("server.pem"))
            .env("KIKERU_TLS_KEY", dir.path().join("server.key"))
            .env("KIKERU_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?,
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        if Instant::now() > deadline {
            return Err("the server did not start".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let report = dir.path().join("testssl.json");
    let status = Command::new("testssl")
        .args(["--quiet", "--color", "0", "--warnings", "off", "--add-ca"])
        .arg(dir.path().join("ca.pem"))
        .args(["--ip", "127.0.0.1", "--jsonfile"])
        .arg(&report)
        .arg(format!("https://localhost:{port}"))
        .status()
        .map_err(|e| e.to_string())?;
    drop(server);
    let findings: Vec<serde_json::Value> = serde_json::from_str(
        &std::fs::read_to_string(&report).map_err(|e| format!("testssl wrote no report: {e}"))?,
    )
    .map_err(|e| format!("testssl's report: {e}"))?;
    let serious: Vec<String> = findings
        .iter()
        .filter(|f| matches!(f["severity"].as_str(), Some("MEDIUM" | "HIGH" | "CRITICAL")))
        .map(|f| {
            format!(
                "{} {}: {}",
                f["severity"].as_str().unwrap_or_default(),
                f["id"].as_str().unwrap_or_default(),
                f["finding"].as_str().unwrap_or_default()
            )
        })
        .collect();
    #[allow(clippy::print_stdout, reason = "the command's report")]
    {
        println!(
            "testssl: {} findings, {} above LOW (exit status {:?})",
            findings.len(),
            serious.len(),
            status.code()
        );
        for line in &serious {
            println!("  {line}");
        }
    }
    if serious.is_empty() {
        Ok(())
    } else {
        Err("testssl reports findings above LOW".to_owned())
    }
}
