//! Two nodes on one PostgreSQL database: a session made on one works on the other, rate limits
//! count across both, a webhook delivered to both at once applies once, and their postmen send
//! each mail once.

use crate::support::http::Client;
use crate::support::{Server, outbox};
use serde_json::json;

const SECRET: &str = "whsec_two_nodes";
const PASSWORD: &str = "correct horse battery staple";

#[allow(
    clippy::disallowed_methods,
    reason = "a black-box test signs as the provider would, now"
)]
fn signed(reference: &str, id: &str) -> (Vec<u8>, String) {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let body = json!({"id": id, "type": "checkout.paid", "reference": reference, "created": now})
        .to_string()
        .into_bytes();
    let header = kikeru_payment::sign_header(SECRET.as_bytes(), now, &body);
    (body, header)
}

#[test]
fn two_nodes_share_sessions_apply_a_webhook_once_and_send_each_mail_once() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    // Nodes of one database share the server's key, as production requires: sealed secrets
    // and the keyed rate-limit counters are the same on every node.
    let settings = [
        ("KIKERU_SANDBOX_WEBHOOK_SECRET", SECRET),
        (
            "KIKERU_SECOND_FACTOR_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
    ];
    let a = Server::start_with(Some(&database.url), &settings);
    let b = Server::start_with(Some(&database.url), &settings);

    // Mail: registrations on both nodes; each address gets exactly one verification mail,
    // whichever node's postman sent it.
    let addresses: Vec<String> = (0..10).map(|n| format!("member{n}@example.jp")).collect();
    for (n, address) in addresses.iter().enumerate() {
        let node = if n % 2 == 0 { &a } else { &b };
        let mut client = Client::new(&node.base);
        let reply = client.post(
            "/api/v1/members",
            json!({"email": address, "password": PASSWORD}),
        );
        assert_eq!(reply.status, 202);
    }
    let eleventh = Client::new(&b.base).post(
        "/api/v1/members",
        json!({"email": "one.too.many@example.jp", "password": PASSWORD}),
    );
    assert_eq!(eleventh.status, 429, "rate limits are counted across nodes");
    let sent = |address: &str| {
        outbox::all(&a.outbox(), address, "verify_email").len()
            + outbox::all(&b.outbox(), address, "verify_email").len()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while addresses.iter().any(|address| sent(address) == 0) {
        assert!(std::time::Instant::now() < deadline, "every mail is sent");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // Long enough for a second postman to send anything twice.
    std::thread::sleep(std::time::Duration::from_millis(1500));
    for address in &addresses {
        assert_eq!(sent(address), 1, "{address}: each mail once");
    }

    // A session made on one node works on the other.
    let address = &addresses[0];
    let mail = outbox::all(&a.outbox(), address, "verify_email")
        .pop()
        .or_else(|| outbox::all(&b.outbox(), address, "verify_email").pop())
        .unwrap();
    let mut on_a = Client::new(&a.base);
    on_a.post(
        "/api/v1/members/verify",
        json!({"token": mail.token().unwrap()}),
    );
    assert_eq!(
        on_a.post(
            "/api/v1/sessions",
            json!({"email": address, "password": PASSWORD})
        )
        .status,
        201
    );
    let mut on_b = Client::new(&b.base);
    on_b.cookie = on_a.cookie.clone();
    assert_eq!(on_b.get("/api/v1/me").json["email"], address.as_str());

    // A webhook delivered to both nodes at once applies once.
    let products = on_a.get("/api/v1/products");
    let product = products.json["items"][0]["id"].as_str().unwrap().to_owned();
    let placed = on_a.post("/api/v1/orders", json!({"product_ids": [product]}));
    assert_eq!(placed.status, 201, "{placed:?}");
    let checkout = placed.json["checkout_url"].as_str().unwrap().to_owned();
    let reference = checkout.rsplit('/').next().unwrap().to_owned();
    let (body, header) = signed(&reference, "evt-both-nodes");
    let deliveries: Vec<_> = [
        a.base.clone(),
        b.base.clone(),
        a.base.clone(),
        b.base.clone(),
    ]
    .into_iter()
    .map(|base| {
        let (body, header) = (body.clone(), header.clone());
        std::thread::spawn(move || {
            Client::new(&base)
                .send_raw(
                    "POST",
                    "/api/v1/payments/webhooks/sandbox",
                    &[
                        ("content-type", "application/json"),
                        ("kikeru-sandbox-signature", &header),
                    ],
                    body,
                )
                .status
        })
    })
    .collect();
    for delivery in deliveries {
        assert_eq!(delivery.join().unwrap(), 200);
    }
    let payments = on_b.get("/api/v1/me/payments");
    let history: Vec<_> = payments.json["items"][0]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["status"].clone())
        .collect();
    assert_eq!(history, [json!("pending"), json!("paid")], "applied once");
    drop((a, b));
    runtime.block_on(database.drop());
}
