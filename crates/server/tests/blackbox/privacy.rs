//! The privacy promises against the real binary, on SQLite and on PostgreSQL: consent and an
//! allowed disclosure that the member sees, a denied one that leaves nothing, a legal order that
//! takes two operators and may withhold notice, a new version of the policy published from the
//! command line and mailed to the member, the export, and deletion with re-registration.

use std::process::Command;

use crate::support::http::Client;
use crate::support::{Server, add_operator, binary, outbox};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery staple";
const OFFICE_PASSWORD: &str = "quiet office lantern harbour";

fn operator(server: &Server, email: &str) -> Client {
    let mut client = Client::new(&server.base);
    assert_eq!(
        client
            .post(
                "/api/v1/admin/sessions",
                json!({"email": email, "password": OFFICE_PASSWORD})
            )
            .status,
        201
    );
    client
}

fn member(server: &Server, mailbox: &std::path::Path, email: &str) -> (Client, Value) {
    let mut client = Client::new(&server.base);
    let earlier = outbox::all(mailbox, email, "verify_email").len();
    assert_eq!(
        client
            .post(
                "/api/v1/members",
                json!({"email": email, "password": PASSWORD})
            )
            .status,
        202
    );
    let mail = outbox::nth(mailbox, email, "verify_email", earlier + 1).unwrap();
    client.post(
        "/api/v1/members/verify",
        json!({"token": mail.token().unwrap()}),
    );
    assert_eq!(
        client
            .post(
                "/api/v1/sessions",
                json!({"email": email, "password": PASSWORD})
            )
            .status,
        201
    );
    let me = client.get("/api/v1/me").json;
    (client, me)
}

fn journey(database: Option<&str>) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    // Disclosing is an administrator's.
    for email in ["office@example.jp", "chief@example.jp"] {
        add_operator(data.path(), database, email, "admin", OFFICE_PASSWORD);
    }
    let mut settings = vec![("KIKERU_DATA_DIR", data_dir.as_str())];
    if let Some(url) = database {
        settings.push(("KIKERU_DATABASE_URL", url));
    }
    let server = Server::start_with(database, &settings);
    let mut office = operator(&server, "office@example.jp");
    let mut chief = operator(&server, "chief@example.jp");
    let partner = json!({"name": "Kikeru Label K.K.", "address": "東京都港区1-2-3", "representative": "山田花子",
                         "contact": "privacy@label.example.jp"});
    assert_eq!(
        office
            .put("/api/v1/admin/partners/kikeru-label", partner)
            .status,
        200
    );
    let purpose = json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers", "notice_ja": "Kikeru Label にメールアドレスを提供します",
                         "notice_en": "We give Kikeru Label your address", "recipient": "kikeru-label", "categories": ["email_address"]});
    assert_eq!(
        office
            .put("/api/v1/admin/purposes/label-offers", purpose)
            .status,
        200
    );
    let mailbox = data.path().join("outbox");
    let (mut hanako, me) = member(&server, &mailbox, "hanako@example.jp");
    let disclose = |office: &mut Client, basis: &str, recipient: &str| {
        office.post("/api/v1/admin/disclosures", json!({"member_id": me["id"], "recipient": recipient, "categories": ["email_address"], "basis": basis}))
    };

    let denied = disclose(&mut office, "consent:label-offers", "partner:kikeru-label");
    assert_eq!(
        (denied.status, denied.json["code"].as_str()),
        (403, Some("disclosure_denied")),
        "{denied:?}"
    );
    assert_eq!(hanako.get("/api/v1/me/disclosures").json, json!([]));

    assert_eq!(
        hanako
            .put("/api/v1/me/consents/label-offers", json!({"granted": true}))
            .status,
        200
    );
    let allowed = disclose(&mut office, "consent:label-offers", "partner:kikeru-label");
    assert_eq!(allowed.status, 201, "{allowed:?}");
    assert_eq!(
        allowed.json["package"],
        json!({"email": "hanako@example.jp"})
    );
    let seen = hanako.get("/api/v1/me/disclosures").json;
    assert_eq!(seen[0]["recipient"], "partner:kikeru-label");
    assert_eq!(
        (&seen[0]["recipient_name"], &seen[0]["recipient_address"]),
        (&json!("Kikeru Label K.K."), &json!("東京都港区1-2-3")),
        "the record names who received the data and where"
    );

    let order = |office: &mut Client, withheld: Option<&str>| {
        let body = json!({"authority": "Tokyo District Court", "reference": "令和8年(モ)第1号", "legal_basis": "CCP Art. 223",
                          "issued_at": "2026-01-01T00:00:00Z", "member_ids": [me["id"]], "categories": ["email_address"],
                          "notice_withheld_until": withheld});
        office.post("/api/v1/admin/legal-orders", body).json["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let withheld = order(&mut office, Some("2099-01-01T00:00:00Z"));
    let open = order(&mut office, None);
    let court = "authority:Tokyo District Court";
    assert_eq!(
        disclose(&mut office, &format!("legal_order:{withheld}"), court).status,
        403,
        "one approval is not enough"
    );
    for id in [&withheld, &open] {
        assert_eq!(
            chief
                .post(
                    &format!("/api/v1/admin/legal-orders/{id}/approve"),
                    json!({})
                )
                .json["effective"],
            true
        );
    }
    assert_eq!(
        disclose(&mut office, &format!("legal_order:{withheld}"), court).status,
        201
    );
    assert_eq!(
        disclose(&mut office, &format!("legal_order:{open}"), court).status,
        201
    );
    let seen: Vec<Value> = hanako
        .get("/api/v1/me/disclosures")
        .json
        .as_array()
        .unwrap()
        .clone();
    let bases: Vec<&str> = seen.iter().map(|e| e["basis"].as_str().unwrap()).collect();
    assert_eq!(
        bases,
        [
            "consent:label-offers:v1".to_owned(),
            format!("legal_order:{open}")
        ],
        "the withheld entry is not shown yet"
    );

    let cli = |categories: &str, out: &std::path::Path| {
        let member_id = me["id"].as_str().unwrap().to_owned();
        Command::new(binary())
            .args([
                "disclose",
                "--member",
                &member_id,
                "--recipient",
                "partner:kikeru-label",
                "--categories",
                categories,
            ])
            .args([
                "--basis",
                "consent:label-offers",
                "--out",
                out.to_str().unwrap(),
                "--operator",
                "office@example.jp",
            ])
            .env_clear()
            .envs(settings.iter().copied())
            .output()
            .unwrap()
    };
    let refused_file = data.path().join("refused.json");
    let refused = cli("email_address,display_name", &refused_file);
    assert!(
        !refused.status.success() && !refused_file.exists(),
        "a refusal writes nothing"
    );
    assert!(String::from_utf8_lossy(&refused.stderr).contains("does not cover display_name"));
    let file = data.path().join("for-label.json");
    let made = cli("email_address", &file);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let package: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(package, json!({"email": "hanako@example.jp"}));

    // A new version of the policy, published from the command line, reaches the member.
    let publish = |effective: &str| {
        Command::new(binary())
            .args([
                "policy",
                "publish",
                "--number",
                "2",
                "--effective",
                effective,
            ])
            .args([
                "--changes-ja",
                "委託先を追加しました",
                "--changes-en",
                "A processor was added",
            ])
            .env_clear()
            .envs(settings.iter().copied())
            .output()
            .unwrap()
    };
    let refused = publish("next week");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("is not a date"));
    #[allow(
        clippy::disallowed_methods,
        reason = "the test publishes for today, as an operator would"
    )]
    let today = time::OffsetDateTime::now_utc()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string();
    let published = publish(&today);
    assert!(
        published.status.success(),
        "{}",
        String::from_utf8_lossy(&published.stderr)
    );
    assert!(String::from_utf8_lossy(&published.stdout).contains("members told by mail"));
    let told = outbox::last(&mailbox, "hanako@example.jp", "policy_changed").expect("told by mail");
    assert!(told.body.contains("委託先を追加しました"), "{}", told.body);
    assert!(
        Client::new(&server.base)
            .get("/privacy")
            .text
            .contains(&format!("第2版（{today} 施行）"))
    );

    let export = hanako.get("/api/v1/me/export");
    assert_eq!(export.status, 200);
    assert_eq!(export.json["member"]["email"], "hanako@example.jp");
    assert_eq!(export.json["disclosures"].as_array().map(Vec::len), Some(3));
    assert_eq!(export.json["consents"]["history"][0]["granted"], true);

    let wrong = hanako.send(
        "DELETE",
        "/api/v1/me",
        Some(json!({"password": "not my password"})),
    );
    assert_eq!(wrong.status, 403);
    assert_eq!(
        hanako
            .send("DELETE", "/api/v1/me", Some(json!({"password": PASSWORD})))
            .status,
        204
    );
    assert!(outbox::last(&mailbox, "hanako@example.jp", "account_deleted").is_some());
    let mut gone = Client::new(&server.base);
    assert_eq!(
        gone.post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": PASSWORD})
        )
        .status,
        401
    );
    let (_, again) = member(&server, &mailbox, "hanako@example.jp");
    assert_ne!(
        again["id"], me["id"],
        "the address registers again, as a new member"
    );

    let verify = Command::new(binary())
        .args(["ledger", "verify"])
        .env_clear()
        .envs(settings.iter().copied())
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&verify.stdout).contains("intact: 4 entries"),
        "{}",
        String::from_utf8_lossy(&verify.stderr)
    );
}

#[test]
fn the_privacy_promises_hold_on_sqlite() {
    journey(None);
}

#[test]
fn the_privacy_promises_hold_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url));
    runtime.block_on(database.drop());
}
