//! Consents over the JSON API: members grant and withdraw consent to the purposes the office defines.

use super::*;
use kikeru_domain::office::operators::Role;

#[tokio::test]
async fn members_grant_and_withdraw_consent_to_purposes_the_office_defines() {
    let f = fixture();
    let operator = f.operator("office@example.jp", Role::Operator).await;
    f.partner(&operator).await;
    let purpose = |notice: &str| {
        json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers", "notice_ja": notice, "notice_en": notice,
               "recipient": "kikeru-label", "categories": ["email_address", "purchase_history"]})
    };
    let put = |body: Value| {
        f.client
            .put("/api/v1/admin/purposes/label-offers")
            .header("origin", ORIGIN)
            .header("cookie", &operator)
            .body_json(&body)
            .send()
    };
    let saved = json_of(put(purpose("v1")).await).await;
    assert_eq!(saved["notice_version"], 1);
    let bad = put(json!({"title_ja": "x", "title_en": "x", "notice_ja": "", "notice_en": "", "categories": ["shoe_size"]})).await;
    let problem = assert_problem(bad, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("shoe_size"),
        "{problem}"
    );

    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let consent = |granted: bool| {
        f.client
            .put("/api/v1/me/consents/label-offers")
            .header("origin", ORIGIN)
            .header("cookie", &hanako)
            .body_json(&json!({"granted": granted}))
            .send()
    };
    let listed = json_of(
        f.client
            .get("/api/v1/me/consents")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(listed["purposes"][0]["granted"], false);
    assert_eq!(listed["purposes"][0]["purpose"]["notice"]["ja"], "v1");
    assert_eq!(json_of(consent(true).await).await["granted"], true);
    assert_eq!(json_of(consent(false).await).await["granted"], false);
    consent(true).await.assert_status_is_ok();
    // A new notice needs new consent.
    assert_eq!(json_of(put(purpose("v2")).await).await["notice_version"], 2);
    let listed = json_of(
        f.client
            .get("/api/v1/me/consents")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        listed["purposes"][0]["granted"], false,
        "consent to v1 does not cover v2"
    );
    let history: Vec<_> = listed["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["granted"].clone())
        .collect();
    assert_eq!(history, [json!(true), json!(false), json!(true)]);
    let unknown = f
        .client
        .put("/api/v1/me/consents/nope")
        .header("origin", ORIGIN)
        .header("cookie", &hanako)
        .body_json(&json!({"granted": true}))
        .send()
        .await;
    assert_problem(unknown, StatusCode::NOT_FOUND, "purpose_not_found").await;
    assert_problem(
        f.client.get("/api/v1/me/consents").send().await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
