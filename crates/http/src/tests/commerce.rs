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
        assert!(html.contains("T7000012050002"));
    }
}

#[tokio::test]
async fn a_configured_seller_is_shown_as_configured() {
    let seller = kikeru_domain::legal::Seller {
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
