//! Fault injection: the database goes away under the running service — through a TCP proxy the
//! test cuts — and comes back. The service answers 503 quickly instead of hanging or panicking,
//! and recovers by itself.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::Server;
use crate::support::http::Client;

/// A TCP proxy to PostgreSQL that can be cut (every connection closed, new ones refused).
struct Proxy {
    port: u16,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(target: &'static str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (accepting, tracked) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if !accepting.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(target) else {
                    continue;
                };
                let mut list = tracked.lock().unwrap();
                list.push(client.try_clone().unwrap());
                list.push(server.try_clone().unwrap());
                drop(list);
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buffer = [0u8; 16 * 1024];
                        loop {
                            match from.read(&mut buffer) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if to.write_all(&buffer[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Self { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

fn timed(client: &mut Client, path: &str) -> (u16, Duration) {
    let started = Instant::now();
    let reply = client.get(path);
    (reply.status, started.elapsed())
}

#[test]
fn a_database_outage_answers_503_quickly_and_heals_by_itself() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    let proxy = Proxy::start("127.0.0.1:5432");
    let url = database
        .url
        .replace("127.0.0.1:5432", &format!("127.0.0.1:{}", proxy.port));
    assert_ne!(url, database.url, "the server goes through the proxy");
    let mut server = Server::start(Some(&url));
    let mut client = Client::new(&server.base);
    assert_eq!(client.get("/readyz").status, 200);
    assert_eq!(client.get("/api/v1/products").status, 200);

    proxy.cut();
    let unknown = "/api/v1/products/00000000-0000-0000-0000-000000000000/sample";
    for path in ["/readyz", unknown] {
        let (status, took) = timed(&mut client, path);
        assert_eq!(status, 503, "{path} while the database is down");
        assert!(took < Duration::from_millis(1500), "{path} took {took:?}");
    }
    // The public catalogue is held in memory: it stays open while the database is away.
    for path in ["/api/v1/products", "/"] {
        let (status, _) = timed(&mut client, path);
        assert_eq!(status, 200, "{path} from memory while the database is down");
    }
    let (status, _) = timed(&mut client, "/healthz");
    assert_eq!(status, 200, "the process itself is fine");
    assert!(server.try_wait().is_none(), "no panic, no exit");

    proxy.restore();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ready =
            client.get("/readyz").status == 200 && client.get("/api/v1/products").status == 200;
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not heal by itself"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(server);
    runtime.block_on(database.drop());
}

const SECRET: &str = "whsec_faults";
const PASSWORD: &str = "correct horse battery staple";

#[allow(
    clippy::disallowed_methods,
    reason = "a black-box test signs as the provider would, now"
)]
fn webhook(reference: &str) -> (Vec<u8>, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = serde_json::json!({"id": format!("evt-{reference}"), "type": "checkout.paid", "reference": reference, "created": now})
        .to_string()
        .into_bytes();
    let header = kikeru_payment::sign_header(SECRET.as_bytes(), now, &body);
    (body, header)
}

#[test]
fn a_server_killed_during_a_burst_of_webhooks_applies_each_once_after_redelivery() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap().to_owned();
    let settings = [
        ("KIKERU_SANDBOX_WEBHOOK_SECRET", SECRET),
        ("KIKERU_DATA_DIR", dir.as_str()),
    ];
    let server = Server::start_with(None, &settings);
    let mut member = Client::new(&server.base);
    let email = "burst@example.jp";
    member.post(
        "/api/v1/members",
        serde_json::json!({"email": email, "password": PASSWORD}),
    );
    let mail =
        crate::support::outbox::last(&data.path().join("outbox"), email, "verify_email").unwrap();
    member.post(
        "/api/v1/members/verify",
        serde_json::json!({"token": mail.token().unwrap()}),
    );
    member.post(
        "/api/v1/sessions",
        serde_json::json!({"email": email, "password": PASSWORD}),
    );
    let products = member.get("/api/v1/products").json["items"].clone();
    let references: Vec<String> = products
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let placed = member.post(
                "/api/v1/orders",
                serde_json::json!({"product_ids": [p["id"]]}),
            );
            assert_eq!(placed.status, 201, "{placed:?}");
            let url = placed.json["checkout_url"].as_str().unwrap().to_owned();
            url.rsplit('/').next().unwrap().to_owned()
        })
        .collect();
    assert!(references.len() >= 3);

    let deliver = |base: String, references: Vec<String>| {
        std::thread::spawn(move || {
            for reference in references {
                let (body, header) = webhook(&reference);
                let mut provider = Client::new(&base);
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    provider.send_raw(
                        "POST",
                        "/api/v1/payments/webhooks/sandbox",
                        &[
                            ("content-type", "application/json"),
                            ("kikeru-sandbox-signature", &header),
                        ],
                        body,
                    )
                }));
            }
        })
    };
    let burst = deliver(server.base.clone(), references.clone());
    std::thread::sleep(Duration::from_millis(15));
    std::process::Command::new("kill")
        .args(["-9", &server.pid().to_string()])
        .status()
        .unwrap();
    let _ = burst.join();
    drop(server);

    let restarted = Server::start_with(None, &settings);
    // The provider redelivers everything it could not confirm — here, all of it, twice.
    for _ in 0..2 {
        deliver(restarted.base.clone(), references.clone())
            .join()
            .unwrap();
    }
    let mut member = Client::new(&restarted.base);
    assert_eq!(
        member
            .post(
                "/api/v1/sessions",
                serde_json::json!({"email": email, "password": PASSWORD})
            )
            .status,
        201
    );
    let payments = member.get("/api/v1/me/payments");
    let items = payments.json["items"].as_array().unwrap();
    assert_eq!(items.len(), references.len(), "no order lost");
    for payment in items {
        let paid = payment["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["status"] == "paid")
            .count();
        assert_eq!(paid, 1, "each payment applied once: {payment}");
    }
}
