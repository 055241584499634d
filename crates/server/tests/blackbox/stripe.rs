//! Real Stripe's states against the real binary, configured for Stripe (`stripe_api_base`
//! pointing at the local fake that checks every request against Stripe's own schemas): a
//! refund answered `pending`, its failure, a second refund that settles and its return invoice,
//! a dispute that withholds the audio until it is won — every event delivered twice, on SQLite
//! and on PostgreSQL.

use crate::fake_stripe::{FakeStripe, SECRET_KEY};
use crate::shop::member_in;
use crate::support::http::{Client, Reply};
use crate::support::{Server, add_operator};
use serde_json::{Value, json};

const OFFICE_PASSWORD: &str = "quiet office lantern harbour";
const WEBHOOK_SECRET: &str = "whsec_blackbox_stripe";

/// Stripe, as this test plays it: the fake API and the webhooks it would send.
struct Stripe {
    api: FakeStripe,
    client: Client,
    sent: u32,
}

impl Stripe {
    /// Delivers an event of `kind` about `object`, signed as Stripe signs, twice: answers the
    /// first reply's outcome, having checked that the second changed nothing.
    #[allow(
        clippy::disallowed_methods,
        reason = "a black-box test signs as the provider would, now"
    )]
    fn deliver(&mut self, kind: &str, object: Value) -> String {
        self.sent += 1;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let body = json!({
            "id": format!("evt_bb_{}", self.sent), "object": "event",
            "api_version": "2024-10-28.acacia", "created": now, "type": kind,
            "data": {"object": object},
        })
        .to_string()
        .into_bytes();
        let header = kikeru_payment::sign_header(WEBHOOK_SECRET.as_bytes(), now, &body);
        let post = |client: &mut Client| -> Reply {
            client.send_raw(
                "POST",
                "/api/v1/payments/webhooks/stripe",
                &[
                    ("content-type", "application/json"),
                    ("stripe-signature", header.as_str()),
                ],
                body.clone(),
            )
        };
        let first = post(&mut self.client);
        assert_eq!(first.status, 200, "{kind}: {first:?}");
        let again = post(&mut self.client);
        assert_eq!(
            (again.status, again.json["outcome"].as_str()),
            (200, Some("duplicate")),
            "{kind} delivered again: {again:?}"
        );
        first.json["outcome"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }
}

/// Orders `product` and pays at the (fake) hosted checkout; Stripe then reports the completed
/// session. Answers the order and its PaymentIntent.
fn bought(hanako: &mut Client, stripe: &mut Stripe, product: &str) -> (String, String) {
    let placed = hanako.post("/api/v1/orders", json!({"product_ids": [product]}));
    assert_eq!(placed.status, 201, "{placed:?}");
    let order = placed.json["id"].as_str().unwrap().to_owned();
    let checkout = placed.json["checkout_url"].as_str().unwrap();
    assert!(
        checkout.starts_with("https://checkout.stripe.com/"),
        "{checkout}"
    );
    let session = checkout.rsplit('/').next().unwrap().to_owned();
    stripe.api.pay(&session);
    let intent = stripe.api.payment_intent(&session);
    let completed = json!({
        "id": session, "object": "checkout.session", "status": "complete",
        "payment_status": "paid", "payment_intent": intent,
    });
    assert_eq!(
        stripe.deliver("checkout.session.completed", completed),
        "applied"
    );
    assert_eq!(status(hanako, &order), "paid");
    (order, intent)
}

fn status(client: &mut Client, order: &str) -> String {
    let read = client.get(&format!("/api/v1/orders/{order}"));
    assert_eq!(read.status, 200, "{read:?}");
    read.json["status"].as_str().unwrap().to_owned()
}

fn refund(id: &str, intent: &str, status: &str, amount: i64) -> Value {
    json!({
        "id": id, "object": "refund", "amount": amount, "currency": "jpy",
        "payment_intent": intent, "charge": "ch_1", "status": status,
        "reason": "requested_by_customer",
        "failure_reason": (status == "failed").then_some("expired_or_canceled_card"),
    })
}

fn dispute(intent: &str, status: &str, due_by: i64, amount: i64) -> Value {
    json!({
        "id": format!("du_bb_{}", &intent[intent.len().saturating_sub(8)..]), "object": "dispute", "amount": amount, "currency": "jpy",
        "payment_intent": intent, "charge": "ch_2", "status": status,
        "reason": "product_not_received",
        "evidence_details": {"due_by": due_by, "has_evidence": false, "past_due": false,
                             "submission_count": 0},
    })
}

fn journey(database: Option<&str>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let api = runtime.block_on(FakeStripe::start());
    let data = tempfile::tempdir().unwrap();
    add_operator(
        data.path(),
        database,
        "office@example.jp",
        "operator",
        OFFICE_PASSWORD,
    );
    let data_dir = data.path().to_str().unwrap().to_owned();
    let api_base = api.base.clone();
    let mut settings = vec![
        ("KIKERU_DATA_DIR", data_dir.as_str()),
        ("KIKERU_PAYMENT_PROVIDER", "stripe"),
        ("KIKERU_STRIPE_API_BASE", api_base.as_str()),
        ("KIKERU_STRIPE_SECRET_KEY", SECRET_KEY),
        ("KIKERU_STRIPE_WEBHOOK_SECRETS", WEBHOOK_SECRET),
        (
            "KIKERU_SECOND_FACTOR_KEY",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
        ),
        ("KIKERU_SELLER_NAME", "みんな聞ける株式会社"),
        ("KIKERU_SELLER_REPRESENTATIVE", "山田花子"),
        ("KIKERU_SELLER_ADDRESS", "東京都千代田区1-1-1"),
        ("KIKERU_SELLER_PHONE", "03-0000-0000"),
        ("KIKERU_SELLER_EMAIL", "support@kikeru.example.jp"),
        ("KIKERU_SELLER_REGISTRATION_NUMBER", "T7123456789012"),
        ("KIKERU_DEMO_CATALOG", "true"),
    ];
    if let Some(url) = database {
        settings.push(("KIKERU_DATABASE_URL", url));
    }
    let server = Server::start_with(database, &settings);
    let mut stripe = Stripe {
        api,
        client: Client::new(&server.base),
        sent: 0,
    };
    let mut hanako = member_in(&server, &data.path().join("outbox"), "hanako@example.jp");
    let products = hanako.get("/api/v1/products");
    let (ids, prices): (Vec<String>, Vec<i64>) = products.json["items"]
        .as_array()
        .expect("the demo catalogue")
        .iter()
        .map(|p| {
            (
                p["id"].as_str().unwrap().to_owned(),
                p["price"]["amount"].as_i64().unwrap(),
            )
        })
        .unzip();
    let (refunded, refunded_intent) = bought(&mut hanako, &mut stripe, &ids[0]);
    let (disputed, disputed_intent) = bought(&mut hanako, &mut stripe, &ids[1]);
    let mut office = Client::new(&server.base);
    assert_eq!(
        office
            .post(
                "/api/v1/admin/sessions",
                json!({"email": "office@example.jp", "password": OFFICE_PASSWORD})
            )
            .status,
        201
    );

    // The operator refunds; Stripe answers `pending`: not refunded yet.
    stripe.api.answer_refunds("pending");
    let asked = office.post(
        &format!("/api/v1/admin/orders/{refunded}/refund"),
        json!({}),
    );
    assert_eq!(
        (asked.status, asked.json["status"].as_str()),
        (200, Some("refund_pending")),
        "{asked:?}"
    );
    assert_eq!(status(&mut hanako, &refunded), "refund_pending");
    // It fails: paid again, and refundable again.
    let failed = refund("re_1", &refunded_intent, "failed", prices[0]);
    assert_eq!(stripe.deliver("charge.refund.updated", failed), "applied");
    assert_eq!(status(&mut hanako, &refunded), "paid");
    // The second refund settles at once: refunded, with a return invoice.
    stripe.api.answer_refunds("succeeded");
    let again = office.post(
        &format!("/api/v1/admin/orders/{refunded}/refund"),
        json!({}),
    );
    assert_eq!(again.json["status"].as_str(), Some("refunded"), "{again:?}");
    assert_eq!(
        stripe.api.refunds().len(),
        2,
        "a new refund, not the failed one replayed"
    );
    assert_eq!(
        stripe.deliver(
            "refund.updated",
            refund("re_2", &refunded_intent, "succeeded", prices[0])
        ),
        "unchanged",
        "Stripe's report of what its answer said changes nothing"
    );
    assert_eq!(status(&mut hanako, &refunded), "refunded");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let page = hanako.get("/me/returns/1");
        if page.status == 200 {
            assert!(
                page.text.contains("適格返還請求書")
                    && page
                        .text
                        .contains(&format!("id=\"receipt-total\">{}円<", prices[0])),
                "{}",
                page.text
            );
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no return invoice: {page:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // A dispute withholds the other purchase's audio until it is won.
    let audio_of = |hanako: &mut Client, product: &str| {
        hanako.send_raw(
            "GET",
            &format!("/api/v1/me/library/{product}/audio"),
            &[("range", "bytes=0-15")],
            Vec::new(),
        )
    };
    assert_eq!(audio_of(&mut hanako, &ids[1]).status, 206);
    let due_by = 1_900_000_000;
    let opened = dispute(&disputed_intent, "needs_response", due_by, prices[1]);
    assert_eq!(stripe.deliver("charge.dispute.created", opened), "applied");
    assert_eq!(status(&mut hanako, &disputed), "disputed");
    let withheld = audio_of(&mut hanako, &ids[1]);
    assert_eq!(
        (withheld.status, withheld.json["code"].as_str()),
        (403, Some("payment_disputed")),
        "{withheld:?}"
    );
    let page = hanako.get("/me");
    assert!(page.text.contains("確認中"), "My Page names the dispute");
    let won = dispute(&disputed_intent, "won", due_by, prices[1]);
    assert_eq!(stripe.deliver("charge.dispute.closed", won), "applied");
    assert_eq!(status(&mut hanako, &disputed), "paid");
    assert_eq!(audio_of(&mut hanako, &ids[1]).status, 206);

    // A third piece's dispute is lost: a chargeback, with its return invoice.
    let (lost, lost_intent) = bought(&mut hanako, &mut stripe, &ids[2]);
    let opened = dispute(&lost_intent, "needs_response", due_by, prices[2]);
    assert_eq!(stripe.deliver("charge.dispute.created", opened), "applied");
    let closed = dispute(&lost_intent, "lost", due_by, prices[2]);
    assert_eq!(stripe.deliver("charge.dispute.closed", closed), "applied");
    assert_eq!(status(&mut hanako, &lost), "charged_back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while hanako.get("/me/returns/2").status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "no second return invoice"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }

    // The books of the year reconcile to the yen, until a receipt is removed by hand.
    let url = database.map_or_else(
        || {
            format!(
                "sqlite://{}?mode=rwc",
                data.path().join("kikeru.db").display()
            )
        },
        str::to_owned,
    );
    crate::books::reconcile(
        server,
        &settings,
        &url,
        &prices[..3],
        prices[0],
        prices[2],
        &disputed,
    );
    drop(runtime);
}

#[test]
fn refunds_and_disputes_follow_stripe_on_sqlite() {
    journey(None);
}

#[test]
fn refunds_and_disputes_follow_stripe_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url));
    runtime.block_on(database.drop());
}
