//! The member web site: every page in both languages, the language choice, and buying through forms.

use super::*;

async fn page(f: &Fixture, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = f.client.get(path).header("cookie", cookie).send().await;
    let status = response.0.status();
    let csp = header(&response, "content-security-policy");
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
        "{path}: {csp}"
    );
    (status, text_of(response).await)
}

#[tokio::test]
async fn every_page_renders_in_both_languages_with_every_message() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    for lang in ["ja", "en"] {
        let cookie = format!("kikeru_lang={lang}; {session}");
        for path in [
            "/".to_owned(),
            format!("/products/{}", products[0]),
            "/register".to_owned(),
            "/login".to_owned(),
            "/forgot-password".to_owned(),
            "/contact".to_owned(),
            "/privacy".to_owned(),
            "/tokushoho".to_owned(),
            "/me".to_owned(),
            "/verify-email?token=x".to_owned(),
            "/reset-password?token=x".to_owned(),
        ] {
            let (status, html) = page(&f, &path, &cookie).await;
            assert_eq!(status, StatusCode::OK, "{path} ({lang})");
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            assert!(
                !html.contains(crate::site::i18n::MISSING),
                "{path} ({lang}) lacks a message"
            );
            assert!(
                html.contains("<main id=\"main\""),
                "{path}: a main landmark"
            );
            assert!(!html.contains(" style="), "{path}: no inline style");
        }
        let (status, html) = page(&f, "/nowhere", &cookie).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(!html.contains(crate::site::i18n::MISSING));
    }
}

#[tokio::test]
async fn the_language_follows_the_switch_then_the_member_then_the_browser() {
    let f = fixture();
    let (_, html) = page(&f, "/", "").await;
    assert!(html.contains("<html lang=\"ja\">"), "Japanese by default");
    let english = f
        .client
        .get("/")
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await;
    assert!(text_of(english).await.contains("<html lang=\"en\">"));
    let switch = f.client.get("/lang/en?back=/privacy").send().await;
    switch.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(header(&switch, "location"), "/privacy");
    assert!(header(&switch, "set-cookie").starts_with("kikeru_lang=en;"));
    let away = f.client.get("/lang/en?back=//evil.example").send().await;
    assert_eq!(header(&away, "location"), "/", "never away from the site");
}

#[tokio::test]
async fn a_member_signs_in_buys_and_finds_the_purchase_on_my_page_through_forms() {
    let f = fixture();
    let products = f.catalogue().await;
    f.register_and_verify("hanako@example.jp").await;
    let (cookie, csrf) = form_session(&f, "/login").await;
    let wrong = f
        .client
        .post("/login")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&email=hanako%40example.jp&password=wrong&back=%2Fme"
        ))
        .send()
        .await;
    wrong.assert_status(StatusCode::UNAUTHORIZED);
    let html = text_of(wrong).await;
    assert!(html.contains("hanako@example.jp") && !html.contains("value=\"wrong\""));
    let signed_in = f
        .client
        .post("/login")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(format!(
            "csrf={csrf}&email=hanako%40example.jp&password={}&back=%2Fme",
            PASSWORD.replace(' ', "+")
        ))
        .send()
        .await;
    signed_in.assert_status(StatusCode::SEE_OTHER);
    assert_eq!(header(&signed_in, "location"), "/me");
    let session = header(&signed_in, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let both = format!("{cookie}; {session}");
    let bought = f
        .client
        .post(format!("/products/{}/buy", products[1]))
        .header("origin", ORIGIN)
        .header("cookie", &both)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&key=page-1"))
        .send()
        .await;
    bought.assert_status(StatusCode::SEE_OTHER);
    let checkout = header(&bought, "location");
    assert!(checkout.starts_with("https://pay.test/"), "{checkout}");
    let reference = checkout.rsplit('/').next().unwrap().to_owned();
    f.harness
        .shop
        .receive_webhook(&kikeru_testkit::TestGateway::webhook(
            "evt-1", &reference, "paid",
        ))
        .await
        .unwrap();
    let (status, mypage) = page(&f, "/me", &both).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        mypage.contains("1,100円（税込）"),
        "the purchase at its tax-inclusive price"
    );
    assert!(mypage.contains(&format!("/api/v1/me/library/{}/audio", products[1])));
    assert!(mypage.contains("支払い済み"));
    let again = f
        .client
        .post(format!("/products/{}/buy", products[1]))
        .header("origin", ORIGIN)
        .header("cookie", &both)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&key=page-2"))
        .send()
        .await;
    again.assert_status(StatusCode::CONFLICT);
    assert!(text_of(again).await.contains("購入済みです"));
    let anonymous = f.client.get("/me").send().await;
    anonymous.assert_status(StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_page_that_fails_is_the_error_page_in_the_readers_language_with_the_apis_status() {
    use crate::site::{OrPage, PageError};
    use kikeru_domain::Language;
    use poem::error::ResponseError;
    let down: Result<(), _> = Err(kikeru_domain::StoreError::Unavailable("gone".into()));
    let unavailable = down.or_page(Language::En, "a test page").unwrap_err();
    assert_eq!(unavailable.status(), StatusCode::SERVICE_UNAVAILABLE);
    let broken: Result<(), _> = Err(kikeru_domain::StoreError::Other("bug".into()));
    let broken = broken.or_page(Language::Ja, "a test page").unwrap_err();
    assert_eq!(broken.status(), StatusCode::INTERNAL_SERVER_ERROR);
    for (error, lang, text) in [
        (
            unavailable,
            "en",
            crate::site::i18n::t(Language::En, "error.server"),
        ),
        (
            PageError::new(StatusCode::NOT_FOUND, Language::Ja),
            "ja",
            crate::site::i18n::t(Language::Ja, "error.not_found"),
        ),
    ] {
        let response = error.as_response();
        let status = response.status();
        let html = response.into_body().into_string().await.unwrap();
        assert_eq!(status, error.status());
        assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{html}");
        assert!(html.contains(text), "{text} in {html}");
    }
}

#[tokio::test]
async fn every_public_page_title_is_plain_text() {
    let f = fixture();
    for path in [
        "/",
        "/login",
        "/register",
        "/contact",
        "/privacy",
        "/creators",
    ] {
        let html = text_of(f.client.get(path).send().await).await;
        let title = html
            .split("<title>")
            .nth(1)
            .and_then(|rest| rest.split("</title>").next())
            .unwrap_or_else(|| panic!("{path} has no title"));
        assert!(!title.contains('<'), "{path}: {title}");
        assert!(title.ends_with("みんな聞ける"), "{path}: {title}");
    }
}

#[tokio::test]
async fn the_registration_form_says_what_the_address_is_used_for() {
    let f = fixture();
    for (lang, words) in [
        ("ja", "ためだけに使い"),
        ("en", "only to confirm it is you"),
    ] {
        let page = text_of(
            f.client
                .get("/register")
                .header("cookie", format!("kikeru_lang={lang}"))
                .send()
                .await,
        )
        .await;
        let purpose = page.split("id=\"register-purpose\"").nth(1).unwrap();
        let form = purpose.find("<form").unwrap();
        assert!(
            purpose[..form].contains(words),
            "{lang}: stated before the fields"
        );
        assert!(purpose[..form].contains("href=\"/privacy\""));
    }
}

/// `text` with the entities askama writes turned back into characters.
fn unescaped(text: &str) -> String {
    text.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#38;", "&")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
}

#[tokio::test]
async fn the_privacy_page_carries_the_owners_text_word_for_word_then_the_additions() {
    let f = fixture();
    let owner = include_str!("../../policy/privacy-policy.txt");
    for lang in ["ja", "en"] {
        let page = unescaped(
            &text_of(
                f.client
                    .get("/privacy")
                    .header("cookie", format!("kikeru_lang={lang}"))
                    .send()
                    .await,
            )
            .await,
        );
        let written = page.split("id=\"as-written\"").nth(1).unwrap();
        let (written, additions) = written.split_once("id=\"additions\"").unwrap();
        for line in owner.lines().map(str::trim).filter(|l| !l.is_empty()) {
            assert!(
                written.contains(&format!("<p>{line}</p>")),
                "{lang}: the owner's line {line:?} is not there as written"
            );
        }
        // The additions: periods from the configuration, the cookies from the code.
        for fact in [
            "2555",
            "730",
            "1095",
            "90",
            "kikeru_session",
            "kikeru_csrf",
            "kikeru_lang",
        ] {
            assert!(additions.contains(fact), "{lang}: {fact}");
        }
        assert!(page.contains("id=\"policy-version\""));
    }
}

#[tokio::test]
async fn a_first_visit_is_told_in_one_line_that_cookies_are_used() {
    let f = fixture();
    let first = f.client.get("/").send().await;
    let set = header(&first, "set-cookie");
    let page = text_of(first).await;
    assert!(page.contains("id=\"cookie-notice\"") && page.contains("href=\"/privacy#cookies\""));
    let cookie = set.split(';').next().unwrap().to_owned();
    let again = text_of(f.client.get("/").header("cookie", &cookie).send().await).await;
    assert!(
        !again.contains("id=\"cookie-notice\""),
        "only on the first visit"
    );
    let privacy = text_of(
        f.client
            .get("/privacy")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert!(
        privacy.contains("id=\"cookies\""),
        "the notice points somewhere"
    );
}
