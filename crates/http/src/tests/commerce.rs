//! Selling lawfully in Japan on the site: the 特定商取引法 page in both languages, linked
//! from every page, from the configured seller or labelled samples.

use poem::http::StatusCode;

use super::{fixture, fixture_selling, text_of};

#[tokio::test]
async fn the_commerce_disclosure_is_linked_everywhere_and_labels_samples_in_the_sandbox() {
    let f = fixture();
    for path in ["/", "/login", "/privacy"] {
        let html = text_of(f.client.get(path).send().await).await;
        assert!(html.contains("href=\"/tokushoho\""), "{path} links it");
    }
    for (lang, heading, item) in [
        ("ja", "特定商取引法に基づく表記", "返品・キャンセル"),
        (
            "en",
            "Act on Specified Commercial Transactions",
            "Returns and cancellation",
        ),
    ] {
        let page = f
            .client
            .get("/tokushoho")
            .header("cookie", format!("kikeru_lang={lang}"))
            .send()
            .await;
        page.assert_status(StatusCode::OK);
        let html = text_of(page).await;
        assert!(html.contains(heading), "{lang}");
        assert!(html.contains(item), "{lang}");
        assert!(
            html.contains("id=\"sample-notice\""),
            "samples are labelled ({lang})"
        );
        assert!(html.contains("T7123456789012"), "a fictional sample number");
    }
}

#[tokio::test]
async fn a_configured_seller_is_shown_as_configured() {
    let seller = kikeru_domain::shop::legal::Seller {
        name: "株式会社キケル".to_owned(),
        representative: "山田 花子".to_owned(),
        address: "東京都千代田区千代田1-1".to_owned(),
        phone: "03-1234-5678".to_owned(),
        email: "support@kikeru.example".to_owned(),
        registration_number: None,
    };
    let f = fixture_selling(seller);
    let html = text_of(f.client.get("/tokushoho").send().await).await;
    assert!(html.contains("株式会社キケル") && html.contains("03-1234-5678"));
    assert!(!html.contains("sample-notice"));
    assert!(
        !html.contains("適格請求書発行事業者登録番号"),
        "no number configured"
    );
}

#[tokio::test]
async fn the_final_confirmation_shows_the_facts_and_only_its_button_orders() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    let product = text_of(
        f.client
            .get(format!("/products/{}", products[1]))
            .header("cookie", &session)
            .send()
            .await,
    )
    .await;
    assert!(product.contains("1,100円（税込）"));
    assert!(
        product.contains(&format!("action=\"/products/{}/confirm\"", products[1])),
        "buying starts at the confirmation"
    );
    for (lang, facts) in [
        (
            "ja",
            [
                "1,100円（税込）",
                "うち消費税（10%）",
                "<td>100円</td>",
                "返品",
                "/tokushoho",
                // The provider is named (the test double's name here).
                "決済代行会社（test）のお支払いページ",
            ],
        ),
        (
            "en",
            [
                "¥1,100 (tax incl.)",
                "Consumption tax included (10%)",
                "<td>¥100</td>",
                "cancelled",
                "/tokushoho",
                "payment provider (test)",
            ],
        ),
    ] {
        let page = f
            .client
            .get(format!("/products/{}/confirm?key=k-1", products[1]))
            .header("cookie", format!("kikeru_lang={lang}; {session}"))
            .send()
            .await;
        page.assert_status(StatusCode::OK);
        let html = text_of(page).await;
        for fact in facts {
            assert!(html.contains(fact), "{lang}: {fact}");
        }
        assert!(html.contains(&format!("action=\"/products/{}/buy\"", products[1])));
        assert!(html.contains("name=\"key\" value=\"k-1\""));
    }
    let payments = f
        .client
        .get("/api/v1/me/payments")
        .header("cookie", &session)
        .send()
        .await;
    let payments = super::json_of(payments).await;
    assert_eq!(
        payments["items"].as_array().map(Vec::len),
        Some(0),
        "nothing ordered yet: {payments}"
    );

    let quote = f
        .post(
            "/api/v1/orders/quote",
            serde_json::json!({"product_ids": [products[0], products[1]]}),
            Some(&session),
        )
        .await;
    quote.assert_status_is_ok();
    let quote = super::json_of(quote).await;
    assert_eq!(quote["total"]["amount"], 1430);
    assert_eq!(quote["taxes"][0]["rate"], 10);
    assert_eq!(
        quote["taxes"][0]["tax"]["amount"], 130,
        "1,430 × 10 / 110, once"
    );
    assert!(
        quote["terms"]["cancellation"]
            .as_str()
            .unwrap()
            .contains("返品")
    );
}

#[tokio::test]
async fn a_paid_order_gets_a_numbered_qualified_receipt_its_member_alone_sees() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    f.register_and_verify("taro@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let taro = f.sign_in("taro@example.jp").await;
    let placed = f.order(&hanako, &[&products[0], &products[1]], None).await;
    placed.assert_status(StatusCode::CREATED);
    let placed = super::json_of(placed).await;
    // The order snapshots its tax as placed: each line's rate, the tax per rate rounded once.
    assert_eq!(placed["lines"][0]["tax_rate"], 10);
    assert_eq!(placed["taxes"][0]["rate"], 10);
    assert_eq!(placed["taxes"][0]["inclusive"]["amount"], 1430);
    assert_eq!(placed["taxes"][0]["tax"]["amount"], 130);
    assert_eq!(f.harness.receipts.issue_due(10).await.unwrap(), 0, "unpaid");
    f.pay(&placed).await;
    assert_eq!(f.harness.receipts.issue_due(10).await.unwrap(), 1);
    assert_eq!(f.harness.receipts.issue_due(10).await.unwrap(), 0, "once");

    let my_page = text_of(f.client.get("/me").header("cookie", &hanako).send().await).await;
    assert!(my_page.contains("href=\"/me/receipts/1\""));
    let receipt = f
        .client
        .get("/me/receipts/1")
        .header("cookie", &hanako)
        .send()
        .await;
    receipt.assert_status(StatusCode::OK);
    let html = text_of(receipt).await;
    for required in [
        "適格簡易請求書",
        "id=\"receipt-number\">1<",
        "みんな聞ける株式会社（サンプル）",
        "T7123456789012",
        "10%対象",
        "1,430円（うち消費税 130円）",
        "id=\"receipt-total\">1,430円<",
        "音",
    ] {
        assert!(html.contains(required), "{required} in the receipt");
    }
    // Addressed to a company on request: a full qualified invoice, marked 再発行.
    let (csrf_cookie, csrf) = super::form_session(&f, "/login").await;
    let both = format!("{csrf_cookie}; {hanako}");
    let reissued = f
        .client
        .post("/me/receipts/1/recipient")
        .header("origin", super::ORIGIN)
        .header("cookie", &both)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&recipient=%E6%A0%AA%E5%BC%8F%E4%BC%9A%E7%A4%BE%E3%82%B5%E3%83%B3%E3%83%97%E3%83%AB+%E5%BE%A1%E4%B8%AD"))
        .send()
        .await;
    reissued.assert_status(StatusCode::SEE_OTHER);
    let html = text_of(
        f.client
            .get("/me/receipts/1")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert!(html.contains("id=\"reissue-mark\""), "marked 再発行");
    assert!(html.contains("株式会社サンプル 御中"));
    assert!(html.contains("<p>適格請求書</p>"));
    let blank = f
        .client
        .post("/me/receipts/1/recipient")
        .header("origin", super::ORIGIN)
        .header("cookie", &both)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&recipient=+"))
        .send()
        .await;
    blank.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    for other in ["/me/receipts/1", "/me/receipts/2", "/me/receipts/x"] {
        f.client
            .get(other)
            .header("cookie", &taro)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let export = super::json_of(
        f.client
            .get("/api/v1/me/export")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(export["receipts"][0]["number"], 1);
    assert_eq!(export["receipts"][0]["per_rate"][0]["tax"], 130);
    assert_eq!(export["receipts"][0]["reissues"], 1);

    // The office finds a receipt by its number; the look-up is audited.
    let office = f
        .operator(
            "office@kikeru.example",
            kikeru_domain::office::operators::Role::Operator,
        )
        .await;
    let found = f
        .client
        .get("/api/v1/admin/receipts/1")
        .header("cookie", &office)
        .send()
        .await;
    found.assert_status_is_ok();
    let found = super::json_of(found).await;
    assert_eq!(found["total"], 1430);
    assert_eq!(found["registration_number"], "T7123456789012");
    assert!(found["member_id"].is_string() && found.get("email").is_none());
    f.client
        .get("/api/v1/admin/receipts/99")
        .header("cookie", &office)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
    f.client
        .get("/api/v1/admin/receipts/1")
        .header("cookie", &hanako)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_refund_gets_a_return_invoice_for_what_was_returned() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let placed = super::json_of(f.order(&hanako, &[&products[1]], None).await).await;
    let order_id = placed["id"].as_str().unwrap().to_owned();
    f.pay(&placed).await;
    // Refunded before its receipt was issued: one run issues the receipt, then the return.
    let office = f
        .operator(
            "office@kikeru.example",
            kikeru_domain::office::operators::Role::Operator,
        )
        .await;
    f.client
        .post(format!("/api/v1/admin/orders/{order_id}/refund"))
        .header("cookie", &office)
        .header("origin", super::ORIGIN)
        .send()
        .await
        .assert_status_is_ok();
    assert_eq!(f.harness.receipts.issue_due(10).await.unwrap(), 2);
    assert_eq!(f.harness.receipts.issue_due(10).await.unwrap(), 0, "once");

    let my_page = text_of(f.client.get("/me").header("cookie", &hanako).send().await).await;
    assert!(
        my_page.contains("href=\"/me/returns/1\""),
        "listed on My Page"
    );
    let receipt = text_of(
        f.client
            .get("/me/receipts/1")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert!(
        receipt.contains("id=\"refunded-note\""),
        "the receipt says it was refunded"
    );
    let page = f
        .client
        .get("/me/returns/1")
        .header("cookie", &hanako)
        .send()
        .await;
    page.assert_status(StatusCode::OK);
    let html = text_of(page).await;
    for required in [
        "適格返還請求書",
        "id=\"receipt-number\">1<",
        "みんな聞ける株式会社（サンプル）",
        "T7123456789012",
        "id=\"return-date\"",
        "href=\"/me/receipts/1\"",
        "返還額 10%対象",
        "id=\"receipt-total\">1,100円<",
    ] {
        assert!(html.contains(required), "{required} in the return invoice");
    }
    assert!(
        !html.contains("/recipient\""),
        "a return invoice is not reissued"
    );
    f.register_and_verify("taro@example.jp").await;
    let taro = f.sign_in("taro@example.jp").await;
    for other in ["/me/returns/1", "/me/returns/2", "/me/returns/x"] {
        f.client
            .get(other)
            .header("cookie", &taro)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let export = super::json_of(
        f.client
            .get("/api/v1/me/export")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(export["return_invoices"][0]["number"], 1);
    assert_eq!(export["return_invoices"][0]["receipt_number"], 1);
    assert_eq!(export["return_invoices"][0]["per_rate"][0]["tax"], 100);
    let found = f
        .client
        .get("/api/v1/admin/return-invoices/1")
        .header("cookie", &office)
        .send()
        .await;
    found.assert_status_is_ok();
    let found = super::json_of(found).await;
    assert_eq!(found["total"], 1100);
    assert_eq!(found["receipt_number"], 1);
    f.client
        .get("/api/v1/admin/return-invoices/2")
        .header("cookie", &office)
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}
