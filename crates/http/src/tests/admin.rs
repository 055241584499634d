//! The operators' JSON API: sessions apart from members', catalogue updates all or none and audited, refunds of paid orders only.

use super::*;
use kikeru_domain::office::operators::Role;

impl Fixture {
    pub(super) async fn put_products(&self, cookie: &str, products: Value) -> TestResponse {
        self.client
            .put("/api/v1/admin/products")
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .body_json(&json!({"products": products}))
            .send()
            .await
    }
}

#[tokio::test]
async fn operators_and_members_never_share_a_session() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let member = f.sign_in("hanako@example.jp").await;
    let operator = f.operator("office@example.jp", Role::Operator).await;
    assert_problem(
        f.client
            .get("/api/v1/admin/products")
            .header("cookie", &member)
            .send()
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    assert_problem(
        f.client
            .get("/api/v1/me")
            .header("cookie", &operator)
            .send()
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    f.client
        .get("/api/v1/admin/products")
        .header("cookie", &operator)
        .send()
        .await
        .assert_status_is_ok();
    let wrong = f
        .post(
            "/api/v1/admin/sessions",
            json!({"email": "office@example.jp", "password": "wrong password!"}),
            None,
        )
        .await;
    assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
}

#[tokio::test]
async fn operators_update_the_catalogue_all_or_none_and_every_change_is_audited() {
    let f = fixture();
    std::fs::create_dir_all(f.media.path().join("audio")).unwrap();
    std::fs::write(f.media.path().join("audio/a.wav"), b"RIFF").unwrap();
    let operator = f.operator("office@example.jp", Role::Operator).await;
    let admin = f.operator("chief@example.jp", Role::Admin).await;

    let bad = f
        .put_products(&operator, json!([
            {"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav"},
            {"sku": "bad sku", "title_ja": "", "title_en": "Night", "price": -1, "audio": "audio/missing.wav"}
        ]))
        .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_products").await;
    let detail = body["detail"].as_str().unwrap();
    for expected in [
        "products[1].sku",
        "products[1].title",
        "products[1].price",
        "products[1].audio",
    ] {
        assert!(
            detail.contains(expected),
            "{expected} missing from {detail}"
        );
    }
    let listed = json_of(
        f.client
            .get("/api/v1/admin/products")
            .header("cookie", &operator)
            .send()
            .await,
    )
    .await;
    assert_eq!(listed["items"], json!([]), "nothing was changed");

    let good = f
        .put_products(&operator, json!([{"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav", "active": false}]))
        .await;
    good.assert_status_is_ok();
    assert_eq!(json_of(good).await["created"], 1);
    let listed = json_of(
        f.client
            .get("/api/v1/admin/products")
            .header("cookie", &operator)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (
            listed["items"][0]["active"].clone(),
            listed["items"][0]["audio"].clone()
        ),
        (json!(false), json!("audio/a.wav"))
    );
    let public = json_of(f.client.get("/api/v1/products").send().await).await;
    assert_eq!(
        public["items"],
        json!([]),
        "inactive products are not on sale"
    );

    assert_problem(
        f.client
            .get("/api/v1/admin/audit")
            .header("cookie", &operator)
            .send()
            .await,
        StatusCode::FORBIDDEN,
        "role_required",
    )
    .await;
    let audit = json_of(
        f.client
            .get("/api/v1/admin/audit")
            .header("cookie", &admin)
            .send()
            .await,
    )
    .await;
    let actions: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        actions.contains(&"catalog.updated".to_owned()),
        "{actions:?}"
    );
    assert!(actions.contains(&"signed_in".to_owned()), "{actions:?}");
}

/// An operator, a product of ¥330 with its audio, and the member who ordered it (unpaid).
struct Ordered {
    operator: String,
    hanako: String,
    product: String,
    order: Value,
}

async fn ordered(f: &Fixture) -> Ordered {
    std::fs::create_dir_all(f.media.path().join("audio")).unwrap();
    std::fs::write(f.media.path().join("audio/a.wav"), b"RIFF").unwrap();
    let operator = f.operator("office@example.jp", Role::Operator).await;
    f.put_products(&operator, json!([{"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav"}])).await.assert_status_is_ok();
    let product = json_of(f.client.get("/api/v1/products").send().await).await["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let order = json_of(
        f.client
            .post("/api/v1/orders")
            .header("origin", ORIGIN)
            .header("cookie", &hanako)
            .body_json(&json!({"product_ids": [product]}))
            .send()
            .await,
    )
    .await;
    Ordered {
        operator,
        hanako,
        product,
        order,
    }
}

#[tokio::test]
async fn operators_refund_paid_orders_only() {
    let f = fixture();
    let Ordered {
        operator,
        hanako,
        order,
        ..
    } = ordered(&f).await;
    let id = order["id"].as_str().unwrap();
    let refund = |cookie: String| {
        f.client
            .post(format!("/api/v1/admin/orders/{id}/refund"))
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .send()
    };
    assert_problem(
        refund(operator.clone()).await,
        StatusCode::CONFLICT,
        "not_refundable",
    )
    .await;
    let reference = order["checkout_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let webhook = kikeru_testkit::TestGateway::webhook("evt-1", &reference, "paid");
    f.client
        .post("/api/v1/payments/webhooks/test")
        .header("x-test-signature", "valid")
        .body(webhook.body)
        .send()
        .await
        .assert_status_is_ok();
    let refunded = refund(operator.clone()).await;
    refunded.assert_status_is_ok();
    let mine = json_of(
        f.client
            .get(format!("/api/v1/orders/{id}"))
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(mine["status"], "refunded");
    assert_problem(
        refund(hanako.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn refunds_that_pend_or_fail_and_open_disputes_are_shown_to_members_and_operators() {
    use kikeru_domain::{Case, CaseState, Currency, DisputeState, Money, RefundState};
    let f = fixture();
    let Ordered {
        operator,
        hanako,
        product,
        order,
    } = ordered(&f).await;
    let id = order["id"].as_str().unwrap().to_owned();
    let reference = order["checkout_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let deliver = |webhook: kikeru_domain::shop::ports::InboundWebhook| {
        f.client
            .post("/api/v1/payments/webhooks/test")
            .header("x-test-signature", "valid")
            .body(webhook.body)
            .send()
    };
    deliver(kikeru_testkit::TestGateway::webhook(
        "evt-paid", &reference, "paid",
    ))
    .await
    .assert_status_is_ok();
    let status = || async {
        json_of(
            f.client
                .get(format!("/api/v1/orders/{id}"))
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await["status"]
            .as_str()
            .unwrap()
            .to_owned()
    };

    // Asked, answered pending; then it fails.
    f.harness.gateway.answer_refunds(RefundState::Pending);
    let asked = f
        .client
        .post(format!("/api/v1/admin/orders/{id}/refund"))
        .header("origin", ORIGIN)
        .header("cookie", &operator)
        .send()
        .await;
    asked.assert_status_is_ok();
    assert_eq!(json_of(asked).await["status"], "refund_pending");
    let page = text_of(f.client.get("/me").header("cookie", &hanako).send().await).await;
    assert!(
        page.contains("返金手続き中"),
        "My Page names the pending refund"
    );
    let yen = Money::new(330, Currency::Jpy).unwrap();
    let refund = Case {
        reference: format!("re-{reference}-0"),
        state: CaseState::Refund(RefundState::Failed),
        amount: yen,
        reason: Some("expired_or_canceled_card".to_owned()),
        respond_by: None,
    };
    deliver(kikeru_testkit::TestGateway::case_webhook(
        "evt-failed",
        &reference,
        &refund,
    ))
    .await
    .assert_status_is_ok();
    assert_eq!(status().await, "paid");

    // Then the cardholder disputes it: the audio is withheld with its reason.
    let due = time::macros::datetime!(2026-04-20 14:59:59 UTC);
    let dispute = Case {
        reference: "du-1".to_owned(),
        state: CaseState::Dispute(DisputeState::Open),
        amount: yen,
        reason: Some("fraudulent".to_owned()),
        respond_by: Some(due),
    };
    deliver(kikeru_testkit::TestGateway::case_webhook(
        "evt-dispute",
        &reference,
        &dispute,
    ))
    .await
    .assert_status_is_ok();
    assert_eq!(status().await, "disputed");
    assert_problem(
        f.client
            .get(format!("/api/v1/me/library/{product}/audio"))
            .header("cookie", &hanako)
            .send()
            .await,
        StatusCode::FORBIDDEN,
        "payment_disputed",
    )
    .await;
    let page = text_of(f.client.get("/me").header("cookie", &hanako).send().await).await;
    assert!(page.contains("確認中"), "My Page names the dispute");

    // The operators see both: the failed refund and the dispute with its deadline (Japan time).
    let console = text_of(
        f.client
            .get("/admin/payments")
            .header("cookie", &operator)
            .send()
            .await,
    )
    .await;
    for expected in [
        id.as_str(),
        "返金: 失敗",
        "expired_or_canceled_card",
        "チャージバック: 申し立て中",
        "fraudulent",
        "2026-04-20 23:59",
    ] {
        assert!(console.contains(expected), "{expected}: {console}");
    }
}
