//! Account deletion over the JSON API: the account goes, purchases stay pseudonymous, the address is free again.

use super::*;

#[tokio::test]
async fn deleting_the_account_erases_it_keeps_purchases_pseudonymous_and_frees_the_address() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let cookie = f.sign_in("hanako@example.jp").await;
    let me = json_of(
        f.client
            .get("/api/v1/me")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    let delete = |password: &str| {
        f.client
            .delete("/api/v1/me")
            .header("origin", ORIGIN)
            .header("cookie", &cookie)
            .body_json(&json!({"password": password}))
            .send()
    };
    assert_problem(
        delete("not my password").await,
        StatusCode::FORBIDDEN,
        "wrong_password",
    )
    .await;
    let deleted = delete(PASSWORD).await;
    deleted.assert_status(StatusCode::NO_CONTENT);
    assert!(header(&deleted, "set-cookie").contains("Max-Age=0"));
    assert!(
        f.harness
            .mail()
            .await
            .kinds_to("hanako@example.jp")
            .contains(&"account_deleted")
    );
    assert_problem(
        f.client
            .get("/api/v1/me")
            .header("cookie", &cookie)
            .send()
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await;
    let old = f
        .post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
    assert_problem(old, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

    f.register_and_verify("hanako@example.jp").await;
    let again = f.sign_in("hanako@example.jp").await;
    let fresh = json_of(
        f.client
            .get("/api/v1/me")
            .header("cookie", &again)
            .send()
            .await,
    )
    .await;
    assert_ne!(fresh["id"], me["id"], "a new member with a new ID");
}
