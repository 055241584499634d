//! The operators' JSON API: sessions apart from members', catalogue updates all or none and audited, refunds of paid orders only.

use super::*;
use kikeru_domain::office::operators::Role;

impl Fixture {
    async fn put_products(&self, cookie: &str, products: Value) -> TestResponse {
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

#[tokio::test]
async fn operators_refund_paid_orders_only() {
    let f = fixture();
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
