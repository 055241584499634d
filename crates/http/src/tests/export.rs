//! The member's data export: one JSON document with everything held about that member only.

use super::*;

#[tokio::test]
async fn the_export_is_one_json_document_with_everything_held_about_the_member_only() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    f.register_and_verify("taro@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    f.sign_in("taro@example.jp").await;
    let response = f
        .client
        .get("/api/v1/me/export")
        .header("cookie", &hanako)
        .send()
        .await;
    response.assert_status_is_ok();
    assert!(
        header(&response, "content-disposition")
            .starts_with("attachment; filename=\"kikeru-export-")
    );
    let text = text_of(response).await;
    let export: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    assert_eq!(export["member"]["email"], "hanako@example.jp");
    f.post(
        "/api/v1/inquiries",
        json!({"email": "hanako@example.jp", "subject": "返金", "message": "お願いします"}),
        Some(&hanako),
    )
    .await
    .assert_status(StatusCode::ACCEPTED);
    f.post(
        "/api/v1/inquiries",
        json!({"email": "taro@example.jp", "subject": "taro's", "message": "mine"}),
        None,
    )
    .await
    .assert_status(StatusCode::ACCEPTED);
    let response = f
        .client
        .get("/api/v1/me/export")
        .header("cookie", &hanako)
        .send()
        .await;
    let text = text_of(response).await;
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        export["inquiries"][0]["subject"], "返金",
        "an inquiry the member sent signed in is theirs"
    );
    assert_eq!(export["inquiries"].as_array().unwrap().len(), 1);
    for section in [
        "sessions",
        "security_events",
        "disclosures",
        "inquiries",
        "purchases",
        "payments",
    ] {
        assert!(export[section].is_array(), "{section} missing: {export}");
    }
    assert!(export["consents"]["history"].is_array());
    assert!(!text.contains("taro@example.jp"), "another member's data");
    assert!(
        export["security_events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "signed_in")
    );
    assert_problem(
        f.client.get("/api/v1/me/export").send().await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
}
