//! My Page's forms: each changes what it says and explains a refusal.

use super::*;
use kikeru_domain::office::operators::Role;

async fn form(f: &Fixture, path: &str, cookie: &str, body: &str) -> TestResponse {
    f.client
        .post(path)
        .header("origin", ORIGIN)
        .header("cookie", cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(body.to_owned())
        .send()
        .await
}

#[tokio::test]
async fn every_my_page_form_changes_what_it_says_and_explains_a_refusal() {
    let f = fixture();
    let office = f.operator("office@example.jp", Role::Operator).await;
    f.partner(&office).await;
    f.client
        .put("/api/v1/admin/purposes/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &office)
        .body_json(&json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers", "notice_ja": "メールアドレスを提供します",
                           "notice_en": "We give the label your address", "recipient": "kikeru-label", "categories": ["email_address"]}))
        .send()
        .await
        .assert_status_is_ok();
    f.register_and_verify("hanako@example.jp").await;
    let other_browser = f.sign_in("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    let (csrf_cookie, csrf) = form_session(&f, "/login").await;
    let cookie = format!("{csrf_cookie}; {session}");

    let saved = form(
        &f,
        "/me/profile",
        &cookie,
        &format!("csrf={csrf}&display_name=%E8%8A%B1%E5%AD%90&language=en"),
    )
    .await;
    saved.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(header(&saved, "location"), "/me?done=profile#profile");
    assert!(header(&saved, "set-cookie").starts_with("kikeru_lang=en"));
    let page = text_of(
        f.client
            .get("/me?done=profile")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert!(
        page.contains("value=\"花子\"") && page.contains("Saved."),
        "English from now on"
    );

    let consent = form(
        &f,
        "/me/consents/label-offers",
        &cookie,
        &format!("csrf={csrf}&granted=true"),
    )
    .await;
    consent.assert_status(StatusCode::SEE_OTHER);
    let page = text_of(f.client.get("/me").header("cookie", &cookie).send().await).await;
    assert!(page.contains("You consent") && page.contains("We give the label your address"));
    form(
        &f,
        "/me/consents/label-offers",
        &cookie,
        &format!("csrf={csrf}&granted=false"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let page = text_of(f.client.get("/me").header("cookie", &cookie).send().await).await;
    assert!(page.contains("You do not consent"));

    let wrong = form(
        &f,
        "/me/email",
        &cookie,
        &format!("csrf={csrf}&new_email=new%40example.jp&password=nope"),
    )
    .await;
    wrong.assert_status(StatusCode::FORBIDDEN);
    let html = text_of(wrong).await;
    assert!(
        html.contains("The current password is wrong.")
            && html.contains("value=\"new@example.jp\"")
    );
    assert!(!html.contains("nope"), "a password is never echoed");

    let weak = form(
        &f,
        "/me/password",
        &cookie,
        &format!(
            "csrf={csrf}&current_password={}&new_password=short",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text_of(weak).await.contains("Use at least 12 characters."));

    let token = kikeru_domain::SessionToken::parse(session.split('=').nth(1).unwrap()).unwrap();
    let me = f.harness.membership.authenticate(&token).await.unwrap();
    let sessions = f.harness.membership.sessions(&me).await.unwrap();
    assert_eq!(sessions.len(), 2);
    let other = sessions
        .iter()
        .find(|s| s.token_hash != token.hash())
        .unwrap();
    form(
        &f,
        &format!("/me/sessions/{}/revoke", other.id),
        &cookie,
        &format!("csrf={csrf}"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    f.client
        .get("/api/v1/me")
        .header("cookie", &other_browser)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);

    // Nothing is deleted without the ticked confirmation, even with the right password.
    let unconfirmed = form(
        &f,
        "/me/delete",
        &cookie,
        &format!("csrf={csrf}&password={}", PASSWORD.replace(' ', "+")),
    )
    .await;
    unconfirmed.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let page = text_of(unconfirmed).await;
    assert!(page.contains("tick the box"), "{page}");
    assert!(page.contains("can no longer be played") && page.contains("/api/v1/me/export"));
    let refused = form(
        &f,
        "/me/delete",
        &cookie,
        &format!("csrf={csrf}&password=nope&confirm=yes"),
    )
    .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    let expired = form(
        &f,
        "/me/delete",
        &cookie,
        &format!("csrf={}&password=x", "f".repeat(32)),
    )
    .await;
    expired.assert_status(StatusCode::FORBIDDEN);
    assert!(text_of(expired).await.contains("The form expired"));
    let deleted = form(
        &f,
        "/me/delete",
        &cookie,
        &format!(
            "csrf={csrf}&password={}&confirm=yes",
            PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    deleted.assert_status_is_ok();
    assert!(header(&deleted, "set-cookie").contains("Max-Age=0"));
    assert!(text_of(deleted).await.contains("Account deleted"));
}
