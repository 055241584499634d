//! Operating the service: an online backup of the SQLite database that restores with every
//! purchase, and logs that never carry secrets or personal data — every journey is driven with
//! canary values and none of them appears in what the server printed.

use std::process::Command;

use crate::support::http::Client;
use crate::support::{Server, binary, outbox};
use serde_json::json;

const EMAIL: &str = "canary.buyer@example.jp";
const PASSWORD: &str = "canary lantern harbour quietly";

/// Registers, verifies, signs in and buys the first demo product in the sandbox; the order ID.
fn buy(server: &Server, client: &mut Client) -> String {
    assert_eq!(
        client
            .post(
                "/api/v1/members",
                json!({"email": EMAIL, "password": PASSWORD})
            )
            .status,
        202
    );
    let mail = outbox::last(&server.outbox(), EMAIL, "verify_email").unwrap();
    client.post(
        "/api/v1/members/verify",
        json!({"token": mail.token().unwrap()}),
    );
    assert_eq!(
        client
            .post(
                "/api/v1/sessions",
                json!({"email": EMAIL, "password": PASSWORD})
            )
            .status,
        201
    );
    let products = client.get("/api/v1/products");
    let product = products.json["items"][0]["id"].as_str().unwrap().to_owned();
    let placed = client.post("/api/v1/orders", json!({"product_ids": [product]}));
    assert_eq!(placed.status, 201, "{placed:?}");
    let checkout = placed.json["checkout_url"].as_str().unwrap().to_owned();
    let path = checkout.strip_prefix(&server.base).unwrap().to_owned();
    let paid = client.send_raw(
        "POST",
        &format!("{path}/pay"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Vec::new(),
    );
    assert_eq!(paid.status, 303);
    placed.json["id"].as_str().unwrap().to_owned()
}

#[test]
fn an_online_backup_restores_with_every_purchase() {
    let server = Server::start(None);
    let mut client = Client::new(&server.base);
    let order = buy(&server, &mut client);
    let copy = tempfile::tempdir().unwrap();
    let file = copy.path().join("kikeru-backup.db");
    let run = |file: &std::path::Path| {
        Command::new(binary())
            .arg("backup")
            .arg(file)
            .env_clear()
            .env("KIKERU_DATA_DIR", server.data.path())
            .output()
            .unwrap()
    };
    let made = run(&file);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let again = run(&file);
    assert!(
        !again.status.success(),
        "an existing file is never overwritten"
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));

    drop(server);
    let url = format!("sqlite://{}?mode=rwc", file.display());
    let restored = Server::start(Some(&url));
    let mut client = Client::new(&restored.base);
    assert_eq!(
        client
            .post(
                "/api/v1/sessions",
                json!({"email": EMAIL, "password": PASSWORD})
            )
            .status,
        201
    );
    let purchases = client.get("/api/v1/me/purchases");
    assert_eq!(purchases.json["items"][0]["order_id"], order.as_str());
}

#[test]
fn logs_carry_no_secret_and_no_personal_data() {
    let server = Server::start(None);
    let mut client = Client::new(&server.base);
    buy(&server, &mut client);
    let session = client.cookie.clone().expect("signed in");
    let token = session.split('=').nth(1).unwrap().to_owned();
    client.post(
        "/api/v1/inquiries",
        json!({"email": EMAIL, "subject": "canary subject", "message": "card 4242 4242 4242 4242"}),
    );
    client.post(
        "/api/v1/sessions",
        json!({"email": EMAIL, "password": "wrong canary password"}),
    );
    client.post("/api/v1/password-resets", json!({"email": EMAIL}));
    client.get(&format!("/verify-email?token=CANARYTOKEN&email={EMAIL}"));
    client.put(
        "/api/v1/me/password",
        json!({"current_password": PASSWORD, "new_password": "another canary passphrase here"}),
    );
    client.delete("/api/v1/me");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let log = server.log_lines().join("\n");
    assert!(log.contains("kikeru::access"), "the access log is captured");
    for canary in [
        EMAIL,
        "canary.buyer",
        PASSWORD,
        "wrong canary password",
        "another canary passphrase",
        "4242 4242",
        "CANARYTOKEN",
        "canary subject",
        token.as_str(),
    ] {
        assert!(
            !log.contains(canary),
            "{canary:?} appears in the log:\n{log}"
        );
    }
}
