//! HTTPS served by the binary itself: `kikeru serve --self-signed` answers over TLS 1.3 and 1.2
//! (nothing older), sends HSTS, is not held up by clients that never finish a handshake, and a
//! plain-HTTP listener redirects to the HTTPS origin. The handshakes are made with the openssl
//! tool.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::support::Server;
use crate::support::http::Client;

fn openssl_available() -> bool {
    Command::new("openssl")
        .arg("version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `openssl s_client` against `port` with `flags`, sending `request`; (success, output).
fn s_client(port: u16, flags: &[&str], request: &str) -> (bool, String) {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &format!("127.0.0.1:{port}"),
            "-servername",
            "localhost",
        ])
        .args(flags)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (
        output.status.success() && !text.contains("handshake failure"),
        text,
    )
}

#[test]
fn the_service_serves_modern_tls_with_hsts_and_redirects_plain_http() {
    if !openssl_available() {
        assert!(std::env::var_os("CI").is_none(), "CI must run the TLS test");
        return;
    }
    let redirect_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let redirect = format!("127.0.0.1:{redirect_port}");
    let server = Server::start_serving(
        &["--self-signed"],
        None,
        &[("KIKERU_REDIRECT_HTTP_LISTEN", redirect.as_str())],
    );
    let port: u16 = server.base.rsplit(':').next().unwrap().parse().unwrap();
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    // The listener loads its TLS configuration just after it starts listening.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let (ok, text) = loop {
        let (ok, text) = s_client(port, &["-tls1_3", "-quiet"], request);
        if (ok && text.contains("HTTP/1.1")) || std::time::Instant::now() > deadline {
            break (ok, text);
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(ok, "{text}");
    assert!(text.contains("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("strict-transport-security: max-age="),
        "{text}"
    );
    // A client that connects and never says hello holds up nobody else's handshake.
    let silent: Vec<_> = (0..4)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    let (ok, text) = s_client(port, &["-tls1_2", "-brief"], "");
    assert!(ok && text.contains("TLSv1.2"), "{text}");
    drop(silent);
    let (ok, _) = s_client(
        port,
        &["-tls1_1", "-brief", "-cipher", "DEFAULT@SECLEVEL=0"],
        "",
    );
    assert!(!ok, "TLS 1.1 is refused");

    let mut plain = Client::new(&format!("http://{redirect}"));
    let moved = plain.get("/products?page=2");
    assert_eq!(moved.status, 301);
    assert_eq!(
        moved.location.as_deref(),
        Some(format!("https://127.0.0.1:{port}/products?page=2").as_str())
    );
}
