//! Disclosures to third parties over the JSON API: a consented one is recorded where the member sees it, a refused one leaves nothing.

use super::*;
use kikeru_domain::office::operators::Role;

#[tokio::test]
async fn a_consented_disclosure_is_recorded_where_the_member_sees_it_and_a_refused_one_leaves_nothing()
 {
    let f = fixture();
    // Disclosing is an administrator's (a plain operator is refused below).
    let operator = f.operator("office@example.jp", Role::Admin).await;
    let unregistered = f
        .client
        .put("/api/v1/admin/purposes/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &operator)
        .body_json(&json!({"title_ja": "レーベル", "title_en": "Label", "notice_ja": "提供", "notice_en": "We provide",
                           "recipient": "kikeru-label", "categories": ["email_address"]}))
        .send()
        .await;
    assert_problem(
        unregistered,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown_partner",
    )
    .await;
    f.partner(&operator).await;
    f.client
        .put("/api/v1/admin/purposes/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &operator)
        .body_json(&json!({"title_ja": "レーベル", "title_en": "Label", "notice_ja": "提供", "notice_en": "We provide",
                           "recipient": "kikeru-label", "categories": ["email_address"]}))
        .send()
        .await
        .assert_status_is_ok();
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let me = json_of(
        f.client
            .get("/api/v1/me")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    let disclose = |categories: Value| {
        f.client
            .post("/api/v1/admin/disclosures")
            .header("origin", ORIGIN)
            .header("cookie", &operator)
            .body_json(&json!({"member_id": me["id"], "recipient": "partner:kikeru-label", "categories": categories, "basis": "consent:label-offers"}))
            .send()
    };
    let clerk = f.operator("clerk@example.jp", Role::Operator).await;
    let plain = f
        .client
        .post("/api/v1/admin/disclosures")
        .header("origin", ORIGIN)
        .header("cookie", &clerk)
        .body_json(&json!({"member_id": me["id"], "recipient": "partner:kikeru-label", "categories": ["email_address"], "basis": "consent:label-offers"}))
        .send()
        .await;
    assert_problem(plain, StatusCode::FORBIDDEN, "role_required").await;
    let refused = disclose(json!(["email_address"])).await;
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "disclosure_denied").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("not consented")
    );
    assert_eq!(
        json_of(
            f.client
                .get("/api/v1/me/disclosures")
                .header("cookie", &hanako)
                .send()
                .await
        )
        .await,
        json!([])
    );

    f.client
        .put("/api/v1/me/consents/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &hanako)
        .body_json(&json!({"granted": true}))
        .send()
        .await
        .assert_status_is_ok();
    let made = disclose(json!(["email_address"])).await;
    made.assert_status(StatusCode::CREATED);
    let made = json_of(made).await;
    assert_eq!(made["package"], json!({"email": "hanako@example.jp"}));
    let mine = json_of(
        f.client
            .get("/api/v1/me/disclosures")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(mine[0]["recipient"], "partner:kikeru-label");
    assert_eq!(mine[0]["recipient_name"], "Kikeru Label K.K.");
    assert_eq!(mine[0]["recipient_address"], "東京都港区1-2-3");
    assert_eq!(mine[0]["basis"], "consent:label-offers:v1");
    assert_eq!(mine[0]["categories"], json!(["email_address"]));
    // My Page says it as a member reads it: the day, the item's name and the basis in words.
    let page = text_of(f.client.get("/me").header("cookie", &hanako).send().await).await;
    let record = page.split("id=\"disclosures-h\"").nth(1).unwrap();
    assert!(
        record.contains("提供日") && !record.contains("購入日時"),
        "{record}"
    );
    assert!(record.contains("<td>メールアドレス</td>"), "{record}");
    assert!(
        record.contains("ご本人の同意（レーベル・第1版）"),
        "{record}"
    );
    assert!(
        !record.contains("consent:") && !record.contains("email_address"),
        "{record}"
    );
    assert!(
        record.contains("年") && record.contains("月"),
        "a Japanese date: {record}"
    );
    let consents = page.split("id=\"consents-h\"").nth(1).unwrap();
    assert!(
        consents.contains("同意を撤回する") && consents.contains("に同意"),
        "{consents}"
    );
    let wider = disclose(json!(["email_address", "purchase_history"])).await;
    assert_problem(wider, StatusCode::FORBIDDEN, "disclosure_denied").await;
    let processors = json_of(
        f.client
            .get("/api/v1/admin/processors")
            .header("cookie", &operator)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        (
            processors[1]["key"].clone(),
            processors[1]["categories"].clone()
        ),
        (json!("test"), json!(["order_details"]))
    );
}
