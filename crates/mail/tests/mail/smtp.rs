//! The SMTP adapter against a real SMTP server process (aiosmtpd) on loopback: STARTTLS and
//! implicit TLS with a private CA, authentication, temporary and permanent refusals — and the
//! postman delivering the outbox through it.
//!
//! The server needs Python's `aiosmtpd` (`pip install aiosmtpd`, which `.ci/run` does). Without
//! it the cases say so and pass, unless `CI` is set: CI must run them.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::Envelope;
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::mail::postman::{Postman, PostmanConfig, PostmanPorts};
use kikeru_domain::ports::{AuditLog, Mail, MailError, Mailer, Message};
use kikeru_domain::{Email, Language, MemberId, SecurityEventKind, SessionToken};
use kikeru_mail::{Links, Security, SmtpConfig, SmtpMailer, parse_sender};
use kikeru_memory::MemoryStore;
use kikeru_testkit::{CountingRandom, ManualClock};

struct SmtpServer {
    child: Child,
    port: u16,
    inbox: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_available() -> bool {
    let found = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the SMTP tests: pip install aiosmtpd"
        );
        #[allow(clippy::print_stderr, reason = "say loudly that the case did not run")]
        {
            eprintln!("SKIPPED: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        }
    }
    found
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private CA and a certificate for `localhost` it signed, made with the openssl tool.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl tool");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pki(dir: &Path) -> Pki {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509", "-days", "2", "-subj", "/CN=Kikeru Test CA"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem"]);
    openssl(dir, &ca);
    let mut csr = vec!["req", "-subj", "/CN=localhost"];
    csr.extend(ec);
    csr.extend(["-keyout", "leaf.key", "-out", "leaf.csr"]);
    openssl(dir, &csr);
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
            "-out",
            "leaf.pem",
        ],
    );
    Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("leaf.pem"),
        key: dir.join("leaf.key"),
    }
}

impl SmtpServer {
    fn start(extra: &[&str]) -> Option<(Self, Pki)> {
        if !aiosmtpd_available() {
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let pki = pki(dir.path());
        let port = free_port();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/smtp_server.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string()])
            .arg("--dir")
            .arg(&inbox)
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key)
            .args(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3");
        let mut ready = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut ready,
        )
        .unwrap();
        assert_eq!(ready.trim(), "READY", "the SMTP server did not start");
        Some((
            Self {
                child,
                port,
                inbox,
                _dir: dir,
            },
            pki,
        ))
    }

    /// The stored messages, oldest first: (raw message, envelope as JSON).
    fn received(&self) -> Vec<(Vec<u8>, serde_json::Value)> {
        let mut found = Vec::new();
        for n in 1.. {
            let eml = self.inbox.join(format!("{n}.eml"));
            let Ok(raw) = std::fs::read(&eml) else { break };
            let envelope = std::fs::read_to_string(self.inbox.join(format!("{n}.json"))).unwrap();
            found.push((raw, serde_json::from_str(&envelope).unwrap()));
        }
        found
    }
}

fn mailer(server: &SmtpServer, pki: &Pki, security: Security, auth: bool) -> SmtpMailer {
    SmtpMailer::new(SmtpConfig {
        host: "localhost".into(),
        port: server.port,
        security,
        credentials: auth.then(|| ("kikeru".into(), "s3cret-Passw0rd".into())),
        timeout: Duration::from_secs(5),
        ca_file: Some(pki.ca.clone()),
        from: parse_sender("みんな聞ける <no-reply@kikeru.example>").unwrap(),
        links: Links::new("https://kikeru.example"),
    })
    .unwrap()
}

fn verify_mail(to: &str, language: Language) -> Mail {
    Mail {
        to: Email::parse(to).unwrap(),
        language,
        message: Message::VerifyEmail {
            token: SessionToken::from_bytes([3; 32]),
        },
    }
}

#[tokio::test]
async fn starttls_with_authentication_delivers_japanese_mail_intact() {
    let Some((server, pki)) = SmtpServer::start(&["--auth", "kikeru:s3cret-Passw0rd"]) else {
        return;
    };
    let smtp = mailer(&server, &pki, Security::StartTls, true);
    smtp.send(&verify_mail("hanako@example.jp", Language::Ja))
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    let (raw, envelope) = &received[0];
    assert_eq!(envelope["login"], "kikeru");
    assert_eq!(envelope["tls"], true);
    assert_eq!(envelope["rcpt_tos"][0], "hanako@example.jp");
    let message = mail_parser::MessageParser::default().parse(raw).unwrap();
    assert_eq!(
        message.subject(),
        Some("【みんな聞ける】メールアドレスの確認")
    );
    assert_eq!(
        message.from().unwrap().first().unwrap().name(),
        Some("みんな聞ける")
    );
    let text = message.body_text(0).unwrap();
    assert!(text.contains("メールアドレスを確認してください"), "{text}");
    assert!(text.contains("https://kikeru.example/verify-email?token="));
    assert!(message.body_html(0).unwrap().contains("<a href="));
    assert!(raw.is_ascii(), "every byte on the wire is encoded");
}

#[tokio::test]
async fn implicit_tls_delivers_too() {
    let Some((server, pki)) = SmtpServer::start(&["--implicit-tls"]) else {
        return;
    };
    let smtp = mailer(&server, &pki, Security::Tls, false);
    smtp.send(&verify_mail("taro@example.jp", Language::En))
        .await
        .unwrap();
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].1["tls"], true);
}

#[tokio::test]
async fn refusals_say_whether_retrying_can_help() {
    let Some((flaky, flaky_pki)) = SmtpServer::start(&["--mode", "flaky", "--fail", "1"]) else {
        return;
    };
    let smtp = mailer(&flaky, &flaky_pki, Security::StartTls, false);
    let first = smtp.send(&verify_mail("a@example.jp", Language::Ja)).await;
    assert!(matches!(first, Err(MailError::Temporary(_))), "{first:?}");
    smtp.send(&verify_mail("a@example.jp", Language::Ja))
        .await
        .unwrap();
    assert_eq!(flaky.received().len(), 1);

    let (rejecting, pki) = SmtpServer::start(&["--mode", "reject"]).unwrap();
    let smtp = mailer(&rejecting, &pki, Security::StartTls, false);
    let refused = smtp.send(&verify_mail("b@example.jp", Language::Ja)).await;
    assert!(
        matches!(refused, Err(MailError::Permanent(_))),
        "{refused:?}"
    );

    let untrusted = SmtpMailer::new(SmtpConfig {
        ca_file: None,
        ..config_of(&rejecting, &pki)
    })
    .unwrap();
    let unknown_ca = untrusted
        .send(&verify_mail("c@example.jp", Language::Ja))
        .await;
    assert!(
        unknown_ca.is_err(),
        "a certificate from an unknown CA is refused"
    );
    drop(rejecting);
    let down = SmtpMailer::new(SmtpConfig {
        port: free_port(),
        ..config_of(&flaky, &flaky_pki)
    })
    .unwrap();
    let nobody = down.send(&verify_mail("d@example.jp", Language::Ja)).await;
    assert!(matches!(nobody, Err(MailError::Temporary(_))), "{nobody:?}");
}

fn config_of(server: &SmtpServer, pki: &Pki) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        port: server.port,
        security: Security::StartTls,
        credentials: None,
        timeout: Duration::from_secs(5),
        ca_file: Some(pki.ca.clone()),
        from: parse_sender("no-reply@kikeru.example").unwrap(),
        links: Links::new("https://kikeru.example"),
    }
}

fn postman(
    store: &std::sync::Arc<MemoryStore>,
    clock: &std::sync::Arc<ManualClock>,
    smtp: SmtpMailer,
) -> Postman {
    store.register_processor(kikeru_domain::privacy::Processor {
        key: kikeru_domain::mail::outbox::MAIL_PROCESSOR.into(),
        name: "SMTP".into(),
        purpose: "mail".into(),
        categories: kikeru_domain::mail::outbox::mail_categories(),
    });
    Postman::new(
        PostmanPorts {
            outbox: store.clone(),
            mailer: std::sync::Arc::new(smtp),
            processors: store.clone(),
            audit: store.clone(),
            clock: clock.clone(),
            random: std::sync::Arc::new(CountingRandom::default()),
        },
        PostmanConfig::default(),
    )
}

async fn enqueue(store: &MemoryStore, member: MemberId) {
    let mut changes = Changes::new();
    changes.push(Change::Send(Envelope {
        id: uuid::Uuid::from_u128(1),
        member_id: Some(member),
        mail: verify_mail("hanako@example.jp", Language::Ja),
        created_at: time::macros::datetime!(2026-04-01 09:00 UTC),
    }));
    store.apply(changes).await.unwrap();
}

#[tokio::test]
async fn the_postman_retries_a_temporary_failure_and_records_a_permanent_one() {
    let Some((flaky, pki)) = SmtpServer::start(&["--mode", "flaky", "--fail", "2"]) else {
        return;
    };
    let start = time::macros::datetime!(2026-04-01 09:00 UTC);
    let store = std::sync::Arc::new(MemoryStore::new());
    let clock = std::sync::Arc::new(ManualClock::new(start));
    let member = MemberId::from_uuid(uuid::Uuid::from_u128(9));
    enqueue(&store, member).await;
    let post = postman(
        &store,
        &clock,
        mailer(&flaky, &pki, Security::StartTls, false),
    );
    assert_eq!(post.deliver_due().await.unwrap().retrying, 1);
    assert_eq!(
        post.deliver_due().await.unwrap().claimed(),
        0,
        "not retried before its time"
    );
    clock.advance(Duration::from_secs(30));
    assert_eq!(post.deliver_due().await.unwrap().retrying, 1);
    clock.advance(Duration::from_secs(60));
    assert_eq!(post.deliver_due().await.unwrap().sent, 1);
    clock.advance(Duration::from_secs(3600));
    assert_eq!(post.deliver_due().await.unwrap().claimed(), 0);
    assert_eq!(flaky.received().len(), 1, "retried, not lost, sent once");

    let (rejecting, pki) = SmtpServer::start(&["--mode", "reject"]).unwrap();
    let store = std::sync::Arc::new(MemoryStore::new());
    enqueue(&store, member).await;
    let post = postman(
        &store,
        &clock,
        mailer(&rejecting, &pki, Security::StartTls, false),
    );
    assert_eq!(post.deliver_due().await.unwrap().failed, 1);
    let counts = store.counts().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 1));
    let events = store.for_member(member, 10).await.unwrap();
    assert_eq!(events[0].kind, SecurityEventKind::MailUndeliverable);
}
