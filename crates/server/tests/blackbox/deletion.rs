//! What deletion leaves, against the real binary on SQLite and PostgreSQL: a member fills every
//! part of the service with values of their own — a name, an address, a purchase with a receipt
//! reissued to a name, an inquiry, a request under APPI, a consent and a provision to a
//! partner, a failed sign-in —
//! then deletes the account; every row of every table is then searched for each of those
//! values, and each one found must sit in a table that the written list of what deletion keeps
//! ([`kikeru_store::KEPT_AFTER_DELETION`]) names, for a reason the privacy page states.

use std::collections::BTreeSet;

use kikeru_domain::privacy::kept::Kept;
use kikeru_store::fixtures::every_row;
use kikeru_store::{SqlStore, StoreConfig};
use serde_json::{Value, json};

use crate::shop::member_in;
use crate::support::http::Client;
use crate::support::{Server, add_operator, outbox};

const PASSWORD: &str = "correct horse battery staple";
const OFFICE_PASSWORD: &str = "quiet office lantern harbour";
const ADDRESS: &str = "sakura.sweep@example.jp";
const NAME: &str = "桜井さくら";
const ADDRESSEE: &str = "桜井音響合同会社";
const SUBJECT: &str = "朗読の速さについての質問";
const MESSAGE: &str = "桜井からの問い合わせ本文：再生速度を変えられますか";
const REQUEST: &str = "桜井の請求：レーベルへの提供を止めてください";

fn buy_and_reissue(server: &Server, sakura: &mut Client) {
    let products = sakura.get("/api/v1/products");
    let product = products.json["items"][0]["id"].as_str().unwrap().to_owned();
    let placed = sakura.post("/api/v1/orders", json!({"product_ids": [product]}));
    assert_eq!(placed.status, 201, "{placed:?}");
    let checkout = placed.json["checkout_url"].as_str().unwrap().to_owned();
    let path = checkout.strip_prefix(&server.base).unwrap().to_owned();
    let paid = sakura.send_raw(
        "POST",
        &format!("{path}/pay"),
        &[("content-type", "application/x-www-form-urlencoded")],
        Vec::new(),
    );
    assert_eq!(paid.status, 303, "{paid:?}");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while sakura.get("/me/receipts/1").status != 200 {
        assert!(std::time::Instant::now() < deadline, "no receipt");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let reissued = sakura.submit_form("/me/receipts/1/recipient", &[("recipient", ADDRESSEE)]);
    assert_eq!(reissued.status, 303, "{}", reissued.text);
    assert!(sakura.get("/me/receipts/1").text.contains(ADDRESSEE));
}

fn consent_and_provide(server: &Server, sakura: &mut Client, me: &Value) {
    let mut office = Client::new(&server.base);
    let signed_in = office.post(
        "/api/v1/admin/sessions",
        json!({"email": "office@example.jp", "password": OFFICE_PASSWORD}),
    );
    assert_eq!(signed_in.status, 201);
    let partner = json!({"name": "Kikeru Label K.K.", "address": "東京都港区1-2-3",
                         "representative": "山田花子", "contact": "privacy@label.example.jp"});
    assert_eq!(
        office
            .put("/api/v1/admin/partners/kikeru-label", partner)
            .status,
        200
    );
    let purpose = json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers",
                         "notice_ja": "Kikeru Label にメールアドレスを提供します",
                         "notice_en": "We give Kikeru Label your address",
                         "recipient": "kikeru-label", "categories": ["email_address"]});
    assert_eq!(
        office
            .put("/api/v1/admin/purposes/label-offers", purpose)
            .status,
        200
    );
    assert_eq!(
        sakura
            .put("/api/v1/me/consents/label-offers", json!({"granted": true}))
            .status,
        200
    );
    let provided = office.post(
        "/api/v1/admin/disclosures",
        json!({"member_id": me["id"], "recipient": "partner:kikeru-label",
               "categories": ["email_address"], "basis": "consent:label-offers"}),
    );
    assert_eq!(provided.status, 201, "{provided:?}");
}

/// The values the member gave or was given, in every form a database may print them.
fn traces(me: &Value) -> Vec<(String, &'static str)> {
    let id = me["id"].as_str().unwrap().to_owned();
    let simple = id.replace('-', "");
    vec![
        (ADDRESS.to_owned(), "address"),
        (NAME.to_owned(), "name"),
        (ADDRESSEE.to_owned(), "addressee"),
        (SUBJECT.to_owned(), "inquiry subject"),
        (MESSAGE.to_owned(), "inquiry text"),
        (REQUEST.to_owned(), "request text"),
        (id, "member ID"),
        (simple.clone(), "member ID"),
        (simple.to_uppercase(), "member ID"),
    ]
}

fn journey(database: Option<&str>) {
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().to_str().unwrap().to_owned();
    add_operator(
        data.path(),
        database,
        "office@example.jp",
        "admin",
        OFFICE_PASSWORD,
    );
    let mut settings = vec![("KIKERU_DATA_DIR", data_dir.as_str())];
    if let Some(url) = database {
        settings.push(("KIKERU_DATABASE_URL", url));
    }
    let server = Server::start_with(database, &settings);
    let mailbox = data.path().join("outbox");

    // A failed sign-in first: its counters are kept under a keyed digest, never the address.
    let mut stranger = Client::new(&server.base);
    let failed = stranger.post(
        "/api/v1/sessions",
        json!({"email": ADDRESS, "password": "not the password at all"}),
    );
    assert_eq!(failed.status, 401);
    let mut sakura = member_in(&server, &mailbox, ADDRESS);
    assert_eq!(
        sakura
            .send("PATCH", "/api/v1/me", Some(json!({"display_name": NAME})))
            .status,
        200
    );
    let me = sakura.get("/api/v1/me").json;
    buy_and_reissue(&server, &mut sakura);
    consent_and_provide(&server, &mut sakura, &me);
    let asked = sakura.post(
        "/api/v1/inquiries",
        json!({"email": ADDRESS, "name": NAME, "subject": SUBJECT, "message": MESSAGE}),
    );
    assert_eq!(asked.status, 202, "{asked:?}");
    let requested = sakura.submit_form(
        "/me/requests",
        &[
            ("kind", "cessation"),
            ("stop", "partner:kikeru-label"),
            ("details", REQUEST),
        ],
    );
    assert_eq!(requested.status, 303, "{}", requested.text);

    let deleted = sakura.send("DELETE", "/api/v1/me", Some(json!({"password": PASSWORD})));
    assert_eq!(deleted.status, 204, "{deleted:?}");
    let notice = outbox::last(&mailbox, ADDRESS, "account_deleted").expect("the deletion notice");
    for kept in Kept::ALL {
        assert!(
            notice.body.contains(kept.title_ja()),
            "the deletion notice names {kept:?}: {}",
            notice.body
        );
    }
    let page = Client::new(&server.base).get("/privacy").text;
    for kept in Kept::ALL {
        assert!(
            page.contains(&format!("id=\"kept-{}\"", kept.key())),
            "the privacy page lists {kept:?}"
        );
    }

    let url = database.map_or_else(
        || {
            format!(
                "sqlite://{}?mode=rw",
                data.path().join("kikeru.db").display()
            )
        },
        str::to_owned,
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let store = runtime
        .block_on(SqlStore::connect(&StoreConfig::new(url)))
        .unwrap();
    let rows = runtime.block_on(every_row(&store));
    assert!(
        rows.iter().any(|(table, _)| table == "receipts"),
        "the search sees the tables"
    );
    let mut unexplained = BTreeSet::new();
    let mut explained = BTreeSet::new();
    for (table, row) in &rows {
        for (value, what) in traces(&me) {
            if !row.contains(&value) {
                continue;
            }
            match kikeru_store::kept_in(table) {
                Some(kept) if kept.may_hold(what) => {
                    explained.insert((table.clone(), what));
                }
                _ => {
                    unexplained.insert(format!("{table}: the {what} in {row}"));
                }
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "deletion left what the list of kept records does not explain:\n{}",
        unexplained.into_iter().collect::<Vec<_>>().join("\n")
    );
    // The list is not vacuous: the receipt reissued to a name and the record of provision are
    // kept, as the law requires and the privacy page says.
    assert!(
        explained.contains(&("receipts".to_owned(), "addressee")),
        "{explained:?}"
    );
    assert!(
        explained.contains(&("ledger_entries".to_owned(), "member ID")),
        "{explained:?}"
    );
    runtime.block_on(store.close()).unwrap();
}

#[test]
fn deletion_leaves_only_what_the_list_of_kept_records_names_on_sqlite() {
    journey(None);
}

#[test]
fn deletion_leaves_only_what_the_list_of_kept_records_names_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url));
    runtime.block_on(database.drop());
}
