//! The console's legal-order form: a second operator before anything is disclosed.

use super::*;
use kikeru_domain::office::operators::Role;

use super::post_form as post;

/// Disclosures are an administrator's: the console's disclosing operators are admins.
async fn console_session(f: &Fixture, email: &str) -> (String, String) {
    super::console_session(f, email, Role::Admin).await
}

#[tokio::test]
async fn a_legal_order_recorded_in_the_console_takes_a_second_operator_before_it_discloses() {
    let f = fixture();
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
    let member = me["id"].as_str().unwrap().to_owned();
    let (office, csrf) = console_session(&f, "office@example.jp").await;
    let (chief, chief_csrf) = console_session(&f, "chief@example.jp").await;

    let invalid = post(
        &f,
        "/admin/legal-orders",
        &office,
        format!("csrf={csrf}&authority=&members=x"),
    )
    .await;
    invalid.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    post(
        &f,
        "/admin/legal-orders",
        &office,
        format!(
            "csrf={csrf}&authority=Tokyo+Court&reference=R-1&legal_basis=CCP+223&issued_on=2026-01-01\
             &members={member}&categories=email_address&withheld_until="
        ),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let orders = f.harness.disclosures.legal_orders().await.unwrap();
    assert_eq!(orders.len(), 1);
    let id = orders[0].id.clone();

    let body = format!(
        "csrf={csrf}&member={member}&recipient=authority%3ATokyo+Court&categories=email_address&basis=legal_order%3A{id}"
    );
    let early = post(&f, "/admin/disclosures", &office, body.clone()).await;
    early.assert_status(StatusCode::FORBIDDEN);
    assert!(text_of(early).await.contains("two operators"));
    let own = post(
        &f,
        &format!("/admin/legal-orders/{id}/approve"),
        &office,
        format!("csrf={csrf}"),
    )
    .await;
    own.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(
        f.harness.disclosures.legal_orders().await.unwrap()[0]
            .approved_by
            .len(),
        1,
        "the recorder approving again still counts once"
    );
    post(
        &f,
        &format!("/admin/legal-orders/{id}/approve"),
        &chief,
        format!("csrf={chief_csrf}"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let made = post(&f, "/admin/disclosures", &office, body).await;
    made.assert_status(StatusCode::CREATED);
    assert!(
        text_of(made).await.contains("hanako@example.jp"),
        "the recipient's package"
    );
    let seen = json_of(
        f.client
            .get("/api/v1/me/disclosures")
            .header("cookie", &hanako)
            .send()
            .await,
    )
    .await;
    assert_eq!(seen[0]["basis"], format!("legal_order:{id}"));
}
