//! The processor register over the JSON API: narrowing a processor's categories stops that data from leaving.

use super::*;
use kikeru_domain::office::operators::Role;

#[tokio::test]
async fn narrowing_a_processors_categories_stops_that_data_from_leaving() {
    let f = fixture();
    let products = f.catalogue().await;
    let clerk = f.operator("clerk@example.jp", Role::Operator).await;
    let operator = f.operator("office@example.jp", Role::Admin).await;
    let chief = f.operator("chief@example.jp", Role::Admin).await;
    f.register_and_verify("hanako@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let put_as = |cookie: &str, body: Value| {
        f.client
            .put("/api/v1/admin/processors/test")
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .body_json(&body)
            .send()
    };
    let put = |body: Value| put_as(&operator, body);
    // Changes to the register are an administrator's.
    let plain = put_as(
        &clerk,
        json!({"name": "Test", "purpose": "payment", "categories": []}),
    )
    .await;
    assert_problem(plain, StatusCode::FORBIDDEN, "role_required").await;
    let bad = put(json!({"name": "Test", "purpose": "payment", "categories": ["shoe_size"]})).await;
    assert_problem(bad, StatusCode::BAD_REQUEST, "bad_request").await;
    put(json!({"name": "Test", "purpose": "payment", "categories": []}))
        .await
        .assert_status_is_ok();
    let refused = f.order(&hanako, &[&products[0]], None).await;
    refused.assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let payments = json_of(
        f.client
            .get("/api/v1/me/payments")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        payments["items"],
        json!([]),
        "nothing was stored or sent to the provider"
    );
    // Entrusting it again is a widening: it waits for a second administrator.
    put(json!({"name": "Test", "purpose": "payment", "categories": ["order_details"]}))
        .await
        .assert_status(StatusCode::ACCEPTED);
    f.order(&hanako, &[&products[0]], None)
        .await
        .assert_status(StatusCode::INTERNAL_SERVER_ERROR);
    let approve = |cookie: &str| {
        f.client
            .post("/api/v1/admin/processors/test/approval")
            .header("origin", ORIGIN)
            .header("cookie", cookie)
            .send()
    };
    assert_problem(
        approve(&operator).await,
        StatusCode::CONFLICT,
        "second_administrator_required",
    )
    .await;
    let waiting = json_of(
        f.client
            .get("/api/v1/admin/processor-proposals")
            .header("cookie", &chief)
            .send()
            .await,
    )
    .await;
    assert_eq!(
        waiting[0]["processor"]["categories"],
        json!(["order_details"])
    );
    approve(&chief).await.assert_status_is_ok();
    f.order(&hanako, &[&products[0]], None)
        .await
        .assert_status(StatusCode::CREATED);
    assert_problem(
        approve(&chief).await,
        StatusCode::NOT_FOUND,
        "proposal_not_found",
    )
    .await;
}
