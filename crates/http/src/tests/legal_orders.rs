//! Legal orders over the JSON API: two operators, and a notice to the member that may be withheld.

use super::*;
use kikeru_domain::office::operators::Role;

#[tokio::test]
async fn a_legal_order_takes_two_operators_and_can_withhold_the_members_notice() {
    let f = fixture();
    let first = f.operator("office@example.jp", Role::Admin).await;
    let second = f.operator("chief@example.jp", Role::Admin).await;
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
    let recorded = f
        .client
        .post("/api/v1/admin/legal-orders")
        .header("origin", ORIGIN)
        .header("cookie", &first)
        .body_json(&json!({"authority": "Tokyo District Court", "reference": "令和8年(モ)第123号", "legal_basis": "CCP Art. 223",
                           "issued_at": "2026-03-01T00:00:00Z", "member_ids": [me["id"]], "categories": ["email_address"],
                           "notice_withheld_until": "2026-07-01T00:00:00Z"}))
        .send()
        .await;
    recorded.assert_status(StatusCode::CREATED);
    let recorded = json_of(recorded).await;
    assert_eq!(recorded["effective"], false);
    assert_eq!(recorded["authority"], "Tokyo District Court");
    // The API used to accept what the console refused (a blank authority). Its schema now
    // says what the domain's rule says (LegalOrderDraft::check), so it is refused.
    let blank = f
        .client
        .post("/api/v1/admin/legal-orders")
        .header("origin", ORIGIN)
        .header("cookie", &first)
        .body_json(&json!({"authority": "   ", "reference": "R-2", "legal_basis": "CCP Art. 223",
                           "issued_at": "2026-03-01T00:00:00Z", "member_ids": [me["id"]], "categories": ["email_address"]}))
        .send()
        .await;
    blank.assert_status(StatusCode::BAD_REQUEST);
    let id = recorded["id"].as_str().unwrap().to_owned();
    let disclose = || {
        f.client
            .post("/api/v1/admin/disclosures")
            .header("origin", ORIGIN)
            .header("cookie", &first)
            .body_json(&json!({"member_id": me["id"], "recipient": "authority:Tokyo District Court", "categories": ["email_address"], "basis": format!("legal_order:{id}")}))
            .send()
    };
    assert_problem(disclose().await, StatusCode::FORBIDDEN, "disclosure_denied").await;
    let approve = |cookie: String| {
        f.client
            .post(format!("/api/v1/admin/legal-orders/{id}/approve"))
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .send()
    };
    assert_eq!(
        json_of(approve(first.clone()).await).await["effective"],
        false,
        "one operator approving twice is one approval"
    );
    assert_eq!(
        json_of(approve(second.clone()).await).await["effective"],
        true
    );
    disclose().await.assert_status(StatusCode::CREATED);

    assert_eq!(
        json_of(
            f.client
                .get("/api/v1/me/disclosures")
                .header("cookie", &hanako)
                .send()
                .await
        )
        .await,
        json!([]),
        "notice withheld"
    );
    f.harness
        .clock
        .advance(std::time::Duration::from_secs(100 * 86_400));
    let hanako = f.sign_in("hanako@example.jp").await;
    let visible = json_of(
        f.client
            .get("/api/v1/me/disclosures")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(visible[0]["recipient"], "authority:Tokyo District Court");
    assert_eq!(visible[0]["basis"], format!("legal_order:{id}"));
}
