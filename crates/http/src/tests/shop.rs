//! The shop over the JSON API: the catalogue, orders, paying in the sandbox, the library and audio with Range, webhook signatures, and no field for card data.

use super::*;
use kikeru_domain::{AssetKey, Currency, Localized, Money, ProductDraft, Sku};
use kikeru_testkit::TestGateway;

impl Fixture {
    /// Two products with audio files in the media folder; returns their IDs.
    pub(super) async fn catalogue(&self) -> Vec<String> {
        std::fs::create_dir_all(self.media.path().join("audio")).unwrap();
        let audio: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
        let mut drafts = Vec::new();
        for (sku, yen) in [("A", 330), ("B", 1100)] {
            std::fs::write(self.media.path().join(format!("audio/{sku}.wav")), &audio).unwrap();
            std::fs::write(
                self.media.path().join(format!("audio/{sku}-sample.wav")),
                &audio[..100],
            )
            .unwrap();
            drafts.push(ProductDraft {
                sku: Sku::parse(sku).unwrap(),
                title: Localized::title("音", "Sound").unwrap(),
                description: Localized::description("", "").unwrap(),
                price: Money::new(yen, Currency::Jpy).unwrap(),
                active: true,
                audio: AssetKey::parse(&format!("audio/{sku}.wav")).unwrap(),
                sample: Some(AssetKey::parse(&format!("audio/{sku}-sample.wav")).unwrap()),
                reading: None,
                creator: None,
                tags: Vec::new(),
                cover: None,
            });
        }
        self.harness.shop.import(drafts).await.unwrap();
        let page = json_of(self.client.get("/api/v1/products").send().await).await;
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect()
    }

    pub(super) async fn order(
        &self,
        cookie: &str,
        products: &[&str],
        key: Option<&str>,
    ) -> TestResponse {
        let mut request = self
            .client
            .post("/api/v1/orders")
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .body_json(&json!({"product_ids": products}));
        if let Some(key) = key {
            request = request.header("idempotency-key", key);
        }
        request.send().await
    }

    pub(super) async fn pay(&self, order: &Value) {
        let reference = order["checkout_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let webhook = TestGateway::webhook(&format!("evt-{reference}"), &reference, "paid");
        let response = self
            .client
            .post("/api/v1/payments/webhooks/test")
            .header("x-test-signature", "valid")
            .content_type("application/x-www-form-urlencoded")
            .body(webhook.body)
            .send()
            .await;
        response.assert_status_is_ok();
    }
}

#[tokio::test]
async fn buying_makes_the_purchase_payment_and_library_visible_to_the_buyer_only() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    f.register_and_verify("taro@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let taro = f.sign_in("taro@example.jp").await;

    let placed = f.order(&hanako, &[&products[1]], Some("k1")).await;
    placed.assert_status(StatusCode::CREATED);
    let order = json_of(placed).await;
    assert_eq!(order["status"], "pending");
    assert_eq!(order["total"]["display"], "¥1,100");
    let again = json_of(f.order(&hanako, &[&products[1]], Some("k1")).await).await;
    assert_eq!(again["id"], order["id"]);
    f.pay(&order).await;

    let id = order["id"].as_str().unwrap();
    let mine = json_of(
        f.client
            .get(format!("/api/v1/orders/{id}"))
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(mine["status"], "paid");
    let purchases = json_of(
        f.client
            .get("/api/v1/me/purchases")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(purchases["items"][0]["item"]["unit_price"]["amount"], 1100);
    let payments = json_of(
        f.client
            .get("/api/v1/me/payments")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(payments["items"][0]["history"].as_array().unwrap().len(), 2);
    let library = json_of(
        f.client
            .get("/api/v1/me/library")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(library[0]["product"]["id"], products[1].as_str());

    assert_problem(
        f.client
            .get(format!("/api/v1/orders/{id}"))
            .header("cookie", &taro)
            .send()
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let theirs = json_of(
        f.client
            .get("/api/v1/me/purchases")
            .header("cookie", &taro)
            .send()
            .await,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    let theirs = json_of(
        f.client
            .get("/api/v1/me/payments")
            .header("cookie", &taro)
            .send()
            .await,
    )
    .await;
    assert_eq!(theirs["items"], json!([]));
    let audio = f
        .client
        .get(format!("/api/v1/me/library/{}/audio", products[1]))
        .header("cookie", &taro)
        .send()
        .await;
    assert_problem(audio, StatusCode::FORBIDDEN, "not_owned").await;
    let owned = f.order(&hanako, &[&products[1]], None).await;
    assert_problem(owned, StatusCode::CONFLICT, "already_owned").await;
}

#[tokio::test]
async fn audio_streams_with_range_to_its_buyer_and_samples_to_anyone() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let order = json_of(f.order(&hanako, &[&products[0]], None).await).await;
    f.pay(&order).await;
    let path = format!("/api/v1/me/library/{}/audio", products[0]);
    let whole = f.client.get(&path).header("cookie", &hanako).send().await;
    whole.assert_status_is_ok();
    assert_eq!(whole.0.into_body().into_vec().await.unwrap().len(), 10_000);
    let part = f
        .client
        .get(&path)
        .header("cookie", &hanako)
        .header("range", "bytes=100-199")
        .send()
        .await;
    part.assert_status(StatusCode::PARTIAL_CONTENT);
    assert_eq!(header(&part, "content-range"), "bytes 100-199/10000");
    let bytes = part.0.into_body().into_vec().await.unwrap();
    assert_eq!((bytes.len(), bytes[0]), (100, 100));
    assert_problem(
        f.client.get(&path).send().await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let sample = f
        .client
        .get(format!("/api/v1/products/{}/sample", products[1]))
        .send()
        .await;
    sample.assert_status_is_ok();
}

#[tokio::test]
async fn unverified_members_and_bad_orders_get_clear_errors() {
    let f = fixture();
    let products = f.catalogue().await;
    f.post(
        "/api/v1/members",
        json!({"email": "new@example.jp", "password": PASSWORD}),
        None,
    )
    .await;
    let cookie = f.sign_in("new@example.jp").await;
    assert_problem(
        f.order(&cookie, &[&products[0]], None).await,
        StatusCode::FORBIDDEN,
        "email_not_verified",
    )
    .await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let unknown = f
        .order(&hanako, &["00000000-0000-0000-0000-000000000000"], None)
        .await;
    assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY, "not_on_sale").await;
    let empty = f.order(&hanako, &[], None).await;
    assert_problem(empty, StatusCode::BAD_REQUEST, "bad_request").await;
    let anonymous = f
        .client
        .post("/api/v1/orders")
        .header("origin", ORIGIN)
        .body_json(&json!({"product_ids": [products[0]]}))
        .send()
        .await;
    assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
}

#[tokio::test]
async fn an_order_the_provider_cannot_take_is_a_clear_422_before_the_provider_is_called() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    f.harness
        .gateway
        .limit_amounts(kikeru_domain::shop::ports::AmountLimits {
            min: 50,
            max: 1_000,
        });
    // ¥330 and ¥1,100 together come to ¥1,430.
    let refused = f.order(&hanako, &[&products[0], &products[1]], None).await;
    let problem = assert_problem(
        refused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "amount_out_of_range",
    )
    .await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("50 to 1000 JPY"),
        "{problem}"
    );
    assert_eq!(f.harness.gateway.checkouts_opened(), 0);
    f.order(&hanako, &[&products[0]], None)
        .await
        .assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn a_refund_that_arrives_before_its_payment_is_delivered_again_not_lost() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let order = json_of(f.order(&hanako, &[&products[0]], None).await).await;
    let reference = order["checkout_url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let deliver = |body: String| {
        f.client
            .post("/api/v1/payments/webhooks/test")
            .header("x-test-signature", "valid")
            .content_type("application/x-www-form-urlencoded")
            .body(body)
            .send()
    };
    // The provider reports the refund by the payment, before the checkout's own event told
    // the shop which payment that is.
    let refund = format!("id=evt-refund&reference=pay-{reference}&signal=refunded");
    let early = deliver(refund.clone()).await;
    assert_problem(early, StatusCode::CONFLICT, "unknown_payment").await;
    let paid = format!("id=evt-paid&reference={reference}&signal=paid&payment_ref=pay-{reference}");
    deliver(paid).await.assert_status_is_ok();
    // The provider delivers the refund again: now it applies, once.
    let again = json_of(deliver(refund.clone()).await).await;
    assert_eq!(again["outcome"], "applied");
    let twice = json_of(deliver(refund).await).await;
    assert_eq!(twice["outcome"], "duplicate");
    let id = order["id"].as_str().unwrap();
    let seen = json_of(
        f.client
            .get(format!("/api/v1/orders/{id}"))
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(seen["status"], "refunded");
}

#[tokio::test]
async fn webhooks_with_bad_signatures_or_for_other_providers_are_refused() {
    let f = fixture();
    let forged = f
        .client
        .post("/api/v1/payments/webhooks/test")
        .body("id=1&reference=x&signal=paid")
        .send()
        .await;
    assert_problem(forged, StatusCode::BAD_REQUEST, "invalid_webhook").await;
    let other = f
        .client
        .post("/api/v1/payments/webhooks/stripe")
        .header("x-test-signature", "valid")
        .body("x")
        .send()
        .await;
    assert_problem(other, StatusCode::NOT_FOUND, "unknown_provider").await;
}

/// Every property, parameter and header name in the document.
fn names(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(properties)) = map.get("properties") {
                out.extend(properties.keys().cloned());
            }
            if let (Some(Value::String(name)), Some(Value::String(_))) =
                (map.get("name"), map.get("in"))
            {
                out.push(name.clone());
            }
            if let Some(Value::Object(headers)) = map.get("headers") {
                out.extend(headers.keys().cloned());
            }
            map.values().for_each(|v| names(v, out));
        }
        Value::Array(items) => items.iter().for_each(|v| names(v, out)),
        _ => {}
    }
}

#[tokio::test]
async fn no_operation_or_schema_of_the_api_has_a_field_for_card_data() {
    let spec: Value = serde_json::from_str(&crate::openapi_json()).unwrap();
    let mut found = Vec::new();
    names(&spec, &mut found);
    assert!(
        found.iter().any(|n| n == "product_ids"),
        "the walk finds fields: {found:?}"
    );
    for name in found.iter().map(|n| n.to_lowercase()) {
        for word in [
            "card",
            "cvc",
            "cvv",
            "pan",
            "expiry",
            "exp_month",
            "exp_year",
            "security_code",
        ] {
            assert!(
                !name.split(['_', '-']).any(|part| part == word) && !name.contains("card"),
                "field {name:?} looks like card data"
            );
        }
    }
}

/// Percent-encodes `text` for a query string.
fn encoded(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn japanese_is_found_as_it_is_written_on_the_api_and_the_site() {
    let f = fixture();
    let piece = |sku: &str, ja: &str, en: &str, about: &str| ProductDraft {
        sku: Sku::parse(sku).unwrap(),
        title: Localized::title(ja, en).unwrap(),
        description: Localized::description(about, "About").unwrap(),
        price: Money::new(330, Currency::Jpy).unwrap(),
        active: true,
        audio: AssetKey::parse(&format!("audio/{sku}.wav")).unwrap(),
        sample: None,
        reading: None,
        creator: None,
        tags: Vec::new(),
        cover: None,
    };
    f.harness
        .shop
        .import(vec![
            piece("A", "夕凪の子守唄", "Yuunagi Lullaby", "波の音"),
            piece("B", "ララバイ", "Lullaby", "やさしい歌"),
            piece("C", "朝の鐘", "Morning Bell", "子守唄のように静かな鐘"),
        ])
        .await
        .unwrap();
    let skus = |page: Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["sku"].as_str().unwrap().to_owned())
            .collect()
    };
    for (words, expected) in [
        ("子守唄", vec!["A", "C"]),
        ("ＹＵＵＮＡＧＩ", vec!["A"]),
        ("ららばい", vec!["B"]),
        ("鐘", vec!["C"]),
        ("見つからない", vec![]),
    ] {
        let found = f
            .client
            .get(format!("/api/v1/products?q={}", encoded(words)))
            .send()
            .await;
        found.assert_status_is_ok();
        let page = json_of(found).await;
        assert_eq!(skus(page.clone()), expected, "{words}");
        assert!(page.get("next").is_none_or(Value::is_null), "one page");
    }
    let controls = json_of(f.client.get("/api/v1/products?q=%0B%C2%8C").send().await).await;
    assert_eq!(
        skus(controls),
        Vec::<String>::new(),
        "no words, nothing found"
    );
    f.client
        .get(format!("/api/v1/products?q={}", "あ".repeat(101)))
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);

    // The site: every page has the search box; results mark the words found.
    let home = text_of(f.client.get("/").send().await).await;
    assert!(home.contains("role=\"search\""), "{home}");
    let results = text_of(
        f.client
            .get(format!("/?q={}", encoded("子守唄")))
            .header("cookie", "kikeru_lang=ja")
            .send()
            .await,
    )
    .await;
    assert!(results.contains("「子守唄」の検索結果"), "{results}");
    assert!(results.contains("夕凪の<mark>子守唄</mark>"), "{results}");
    assert!(results.contains("<mark>子守唄</mark>のように"), "{results}");
    assert!(!results.contains("ララバイ"), "only what matched");
    let katakana = text_of(
        f.client
            .get(format!("/?q={}", encoded("ららばい")))
            .header("cookie", "kikeru_lang=ja")
            .send()
            .await,
    )
    .await;
    assert!(katakana.contains("<mark>ララバイ</mark>"), "{katakana}");
    let nothing = text_of(
        f.client
            .get(format!("/?q={}", encoded("見つからない")))
            .header("cookie", "kikeru_lang=en")
            .send()
            .await,
    )
    .await;
    assert!(nothing.contains("No work matches"), "{nothing}");
    assert!(
        nothing.contains("<a href=\"/\">Browse all works</a>"),
        "{nothing}"
    );
    let long = text_of(
        f.client
            .get(format!("/?q={}", encoded(&"あ".repeat(101))))
            .send()
            .await,
    )
    .await;
    assert!(long.contains("100"), "the page says why: {long}");
}
