//! Mail in both directions against the real binary, on SQLite and on PostgreSQL: the contact
//! form's acknowledgement and an operator's answer through the outbox, each corpus message
//! through `kikeru mail ingest` (stored, recognised again, refused, or retried when the database
//! is down, with the exit code an MTA acts on), an LMTP session, and the service sending over
//! SMTP to a real SMTP server.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::http::Client;
use crate::support::{Server, binary, outbox};
use serde_json::json;

const OFFICE_PASSWORD: &str = "quiet office lantern harbour";

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../mail/tests/corpus")
        .join(name)
}

/// Runs `kikeru ARGS` against the server's database with `stdin`; the exit code and stderr.
fn kikeru(server: &Server, database: Option<&str>, args: &[&str], stdin: &[u8]) -> (i32, String) {
    let mut command = Command::new(binary());
    command
        .args(args)
        .env_clear()
        .env("KIKERU_DATA_DIR", server.data.path())
        .env("KIKERU_LOG", "info")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(url) = database {
        command.env("KIKERU_DATABASE_URL", url);
    }
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn office(server: &Server, database: Option<&str>) -> Client {
    let (code, log) = kikeru(
        server,
        database,
        &["operator", "add", "--email", "office@example.jp"],
        format!("{OFFICE_PASSWORD}\n").as_bytes(),
    );
    assert_eq!(code, 0, "{log}");
    let mut client = Client::new(&server.base);
    let signed_in = client.post(
        "/api/v1/admin/sessions",
        json!({"email": "office@example.jp", "password": OFFICE_PASSWORD}),
    );
    assert_eq!(signed_in.status, 201);
    client
}

fn journey(database: Option<&str>) {
    let server = Server::start(database);
    let mut office = office(&server, database);

    // The contact form: acknowledged by mail, answered by mail.
    let mut guest = Client::new(&server.base);
    let taken = guest.post(
        "/api/v1/inquiries",
        json!({"email": "guest@example.jp", "subject": "領収書について", "message": "再発行できますか？", "language": "ja"}),
    );
    assert_eq!(taken.status, 202, "{taken:?}");
    let ack = outbox::last(&server.outbox(), "guest@example.jp", "inquiry_received")
        .expect("an acknowledgement");
    assert!(
        ack.subject.contains("お問い合わせを受け付けました（Q-"),
        "{}",
        ack.subject
    );
    // The form can name any address: nothing the sender typed is carried to it.
    assert!(!ack.body.contains("領収書について"), "{}", ack.body);
    assert!(!ack.subject.contains("領収書について"), "{}", ack.subject);
    let listed = office.get("/api/v1/admin/inquiries?open=true");
    let id = listed.json[0]["id"].as_str().unwrap().to_owned();
    let answered = office.post(
        &format!("/api/v1/admin/inquiries/{id}/answers"),
        json!({"answer": "マイページから再発行できます。"}),
    );
    assert_eq!(answered.status, 201, "{answered:?}");
    let answer = outbox::last(&server.outbox(), "guest@example.jp", "inquiry_answered")
        .expect("the answer by mail");
    assert!(answer.body.contains("マイページから再発行できます。"));
    assert!(answer.html.contains("マイページから再発行できます。"));

    // Mail sent to the service, as an MTA delivers it to a program.
    let stored = [
        "utf8-plain.eml",
        "iso-2022-jp.eml",
        "shift-jis.eml",
        "euc-jp.eml",
        "multipart-alternative.eml",
        "html-only.eml",
        "attachment.eml",
    ];
    for file in stored {
        let raw = std::fs::read(corpus(file)).unwrap();
        let (code, log) = kikeru(&server, database, &["mail", "ingest"], &raw);
        assert_eq!(code, 0, "{file}: {log}");
        assert!(log.contains("stored as inquiry Q-"), "{file}: {log}");
        let (again, log) = kikeru(&server, database, &["mail", "ingest"], &raw);
        assert_eq!(again, 0, "{file} redelivered: {log}");
        assert!(log.contains("already stored"), "{file}: {log}");
    }
    let (code, log) = kikeru(
        &server,
        database,
        &["mail", "ingest"],
        &std::fs::read(corpus("auto-reply.eml")).unwrap(),
    );
    assert_eq!(code, 0, "an automatic reply is dropped, not bounced: {log}");
    for file in ["no-sender.eml", "garbage.eml", "empty.eml"] {
        let (code, log) = kikeru(
            &server,
            database,
            &["mail", "ingest"],
            &std::fs::read(corpus(file)).unwrap(),
        );
        assert_eq!(code, 65, "{file}: {log}");
        assert!(log.contains("message refused"), "{file}: {log}");
    }
    // What PostgreSQL cannot store is the sender's problem on both backends (65), never a
    // temporary failure (75) that the mail server would retry for days.
    let long_id = format!("<{}@example.jp>", "x".repeat(1200));
    let unstorable = [
        b"From: nul@example.jp\r\nSubject: NUL\r\nMessage-ID: <nul-1@example.jp>\r\n\r\na\0b\r\n"
            .to_vec(),
        format!("From: long@example.jp\r\nSubject: long\r\nMessage-ID: {long_id}\r\n\r\nbody\r\n")
            .into_bytes(),
    ];
    for raw in unstorable {
        let (code, log) = kikeru(&server, database, &["mail", "ingest"], &raw);
        assert_eq!(code, 65, "{log}");
    }
    let inquiries = office.get("/api/v1/admin/inquiries?limit=100");
    let all = inquiries.json.as_array().unwrap();
    assert_eq!(
        all.len(),
        1 + stored.len(),
        "each message once, refusals none"
    );
    let sjis = all
        .iter()
        .find(|i| i["email"] == "keitai@example.co.jp")
        .unwrap();
    assert_eq!(sjis["subject"], "解約したい");
    assert!(sjis["body"].as_str().unwrap().contains("①②③"));
    assert_eq!(sjis["channel"], "mail");
    let attached = all
        .iter()
        .find(|i| i["email"] == "shots@example.jp")
        .unwrap();
    assert_eq!(attached["attachments"][0]["name"], "エラー.png");

    // The database is down: the MTA is told to try again later.
    let (code, log) = kikeru(
        &server,
        Some("postgres://nobody@127.0.0.1:9/none?connect_timeout=1"),
        &["mail", "ingest"],
        &std::fs::read(corpus("utf8-plain.eml")).unwrap(),
    );
    assert_eq!(code, 75, "{log}");

    lmtp(&server, database, &mut office);
}

/// An LMTP session: one message to two recipients gets two replies and one inquiry.
fn lmtp(server: &Server, database: Option<&str>, office: &mut Client) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let mut command = Command::new(binary());
    command
        .args(["mail", "lmtp", "--listen", &listen])
        .env_clear()
        .env("KIKERU_DATA_DIR", server.data.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(url) = database {
        command.env("KIKERU_DATABASE_URL", url);
    }
    let mut listener = command.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let stream = loop {
        match TcpStream::connect(&listen) {
            Ok(stream) => break stream,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("the LMTP listener did not start: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut reply = || {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        line
    };
    assert!(reply().starts_with("220 "));
    writer.write_all(b"LHLO mta.example\r\n").unwrap();
    while reply().starts_with("250-") {}
    writer
        .write_all(b"MAIL FROM:<lmtp@example.jp>\r\nRCPT TO:<support@kikeru.example>\r\nRCPT TO:<info@kikeru.example>\r\nDATA\r\n")
        .unwrap();
    for expected in ["250 ", "250 ", "250 ", "354 "] {
        let line = reply();
        assert!(line.starts_with(expected), "{expected}: {line}");
    }
    writer
        .write_all(
            b"From: lmtp@example.jp\r\nSubject: LMTP\r\nMessage-ID: <lmtp-1@example.jp>\r\n\r\n..a line starting with a dot\r\n.\r\n",
        )
        .unwrap();
    assert!(reply().starts_with("250 "), "one reply per recipient");
    assert!(reply().starts_with("250 "));
    writer.write_all(b"QUIT\r\n").unwrap();
    assert!(reply().starts_with("221 "));
    let _ = listener.kill();
    let _ = listener.wait();
    let inquiries = office.get("/api/v1/admin/inquiries?limit=100");
    let lmtp: Vec<_> = inquiries
        .json
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["email"] == "lmtp@example.jp")
        .collect();
    assert_eq!(lmtp.len(), 1, "one inquiry for two recipients");
    assert_eq!(lmtp[0]["body"], ".a line starting with a dot");
}

#[test]
fn mail_in_both_directions_on_sqlite() {
    journey(None);
}

#[test]
fn mail_in_both_directions_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url));
    runtime.block_on(database.drop());
}

#[test]
fn the_service_sends_over_smtp_when_configured() {
    let python = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !python {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the SMTP test: pip install aiosmtpd"
        );
        return;
    }
    let inbox = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
        .to_string();
    let mut smtp = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("../mail/tests/smtp_server.py"))
        .args(["--port", &port, "--dir"])
        .arg(inbox.path())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut ready = String::new();
    BufReader::new(smtp.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "READY");
    let server = Server::start_with(
        None,
        &[
            ("KIKERU_MAIL_TRANSPORT", "smtp"),
            ("KIKERU_SMTP_HOST", "127.0.0.1"),
            ("KIKERU_SMTP_PORT", &port),
            ("KIKERU_SMTP_SECURITY", "none"),
        ],
    );
    let mut client = Client::new(&server.base);
    let registered = client.post(
        "/api/v1/members",
        json!({"email": "smtp@example.jp", "password": "correct horse battery staple"}),
    );
    assert_eq!(registered.status, 202);
    let delivered = inbox.path().join("1.eml");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !delivered.exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(25));
    }
    let raw = std::fs::read(&delivered).expect("the verification mail reached the SMTP server");
    let text = String::from_utf8_lossy(&raw);
    assert!(text.contains("X-Kikeru-Kind: verify_email"), "{text}");
    assert!(
        std::fs::read_dir(server.outbox())
            .map(|d| d.count())
            .unwrap_or(0)
            == 0,
        "nothing went to the file outbox"
    );
    let _ = smtp.kill();
    let _ = smtp.wait();
}
