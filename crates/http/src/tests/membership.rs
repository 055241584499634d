//! Membership over HTTP: the whole journey, cookies and HSTS, answers that reveal no membership, refusals that say why, problem documents, body limits, CSRF, security headers, sessions, throttling, the spec, and the mailed links' pages.

use super::*;

#[tokio::test]
async fn the_whole_membership_journey_works_over_http() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let cookie = f.sign_in("hanako@example.jp").await;

    let me = f
        .client
        .get("/api/v1/me")
        .header("cookie", &cookie)
        .send()
        .await;
    me.assert_status_is_ok();
    let me = json_of(me).await;
    assert_eq!(me["email"], "hanako@example.jp");
    assert_eq!(me["email_verified"], true);
    assert_eq!(me["language"], "ja");

    let patched = f
        .client
        .patch("/api/v1/me")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .body_json(&json!({"display_name": "花子", "language": "en"}))
        .send()
        .await;
    patched.assert_status_is_ok();
    assert_eq!(json_of(patched).await["display_name"], "花子");

    let sessions = json_of(
        f.client
            .get("/api/v1/me/sessions")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    assert_eq!(sessions.as_array().unwrap().len(), 1);
    assert_eq!(sessions[0]["current"], true);

    let out = f
        .client
        .delete("/api/v1/sessions/current")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .send()
        .await;
    out.assert_status(StatusCode::NO_CONTENT);
    assert!(header(&out, "set-cookie").contains("Max-Age=0"));
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
}

#[tokio::test]
async fn the_session_cookie_is_http_only_same_site_and_not_secure_over_http() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let response = f
        .post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
    let cookie = header(&response, "set-cookie");
    assert!(cookie.starts_with("kikeru_session="), "{cookie}");
    for part in [
        "; Path=/",
        "; HttpOnly",
        "; SameSite=Lax",
        "; Max-Age=2592000",
    ] {
        assert!(cookie.contains(part), "{cookie} lacks {part}");
    }
    assert!(!cookie.contains("Secure"));
    assert!(header(&response, "strict-transport-security").is_empty());
}

#[tokio::test]
async fn over_https_the_cookie_is_secure_with_the_host_prefix_and_hsts_is_sent() {
    let f = fixture_with("https://kikeru.example");
    f.harness
        .membership
        .register(
            kikeru_domain::membership::Registration {
                email: Harness::email("hanako@example.jp"),
                password: PASSWORD.into(),
                language: kikeru_domain::Language::Ja,
            },
            &kikeru_domain::membership::Client {
                key: "x".into(),
                browser: String::new(),
            },
        )
        .await
        .unwrap();
    let response = f
        .client
        .post("/api/v1/sessions")
        .header("origin", "https://kikeru.example")
        .body_json(&json!({"email": "hanako@example.jp", "password": PASSWORD}))
        .send()
        .await;
    response.assert_status(StatusCode::CREATED);
    let cookie = header(&response, "set-cookie");
    assert!(cookie.starts_with("__Host-kikeru_session="), "{cookie}");
    assert!(cookie.contains("; Secure"));
    assert!(header(&response, "strict-transport-security").starts_with("max-age="));
}

#[tokio::test]
async fn registering_an_existing_address_answers_exactly_like_a_new_one() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let existing = f
        .post(
            "/api/v1/members",
            json!({"email": "hanako@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
    let fresh = f
        .post(
            "/api/v1/members",
            json!({"email": "taro@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
    existing.assert_status(StatusCode::ACCEPTED);
    fresh.assert_status(StatusCode::ACCEPTED);
    assert_eq!(json_of(existing).await, json_of(fresh).await);
}

#[tokio::test]
async fn unknown_addresses_and_wrong_passwords_get_the_same_answer() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let wrong = f
        .post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": "wrong password!"}),
            None,
        )
        .await;
    let unknown = f
        .post(
            "/api/v1/sessions",
            json!({"email": "nobody@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
    let a = assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    let b = assert_problem(unknown, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    assert_eq!(a, b);
}

#[tokio::test]
async fn a_refused_password_says_why() {
    let f = fixture();
    let body = assert_problem(
        f.post(
            "/api/v1/members",
            json!({"email": "hanako@example.jp", "password": "short"}),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "password_too_short",
    )
    .await;
    assert!(body["detail"].as_str().unwrap().contains("12"));
    assert_problem(
        f.post(
            "/api/v1/members",
            json!({"email": "not-an-address", "password": PASSWORD}),
            None,
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_email",
    )
    .await;
}

#[tokio::test]
async fn every_client_mistake_is_a_problem_document_never_a_500() {
    let f = fixture();
    let bad_json = f
        .client
        .post("/api/v1/members")
        .header("origin", ORIGIN)
        .content_type("application/json")
        .body("{")
        .send()
        .await;
    assert_problem(bad_json, StatusCode::BAD_REQUEST, "bad_request").await;
    let wrong_type = f
        .post(
            "/api/v1/members",
            json!({"email": 5, "password": null}),
            None,
        )
        .await;
    assert_problem(wrong_type, StatusCode::BAD_REQUEST, "bad_request").await;
    let missing = f.post("/api/v1/members", json!({}), None).await;
    assert_problem(missing, StatusCode::BAD_REQUEST, "bad_request").await;
    let text = f
        .client
        .post("/api/v1/members")
        .header("origin", ORIGIN)
        .content_type("text/plain")
        .body("hi")
        .send()
        .await;
    assert_problem(
        text,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await;
    assert_problem(
        f.client.get("/api/v1/nowhere").send().await,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await;
    let wrong_method = f
        .client
        .request(
            poem::http::Method::PUT,
            "/api/v1/me/sessions/0190b1c2-7d3e-7000-8000-000000000001",
        )
        .header("origin", ORIGIN)
        .send()
        .await;
    wrong_method.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        header(&wrong_method, "allow"),
        "DELETE",
        "a 405 says what is allowed"
    );
    let me = f
        .client
        .request(poem::http::Method::TRACE, "/api/v1/me")
        .send()
        .await;
    me.assert_status(StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(header(&me, "allow"), "DELETE, GET, PATCH");
    let page = f
        .client
        .get("/nowhere")
        .header("accept-language", "en")
        .send()
        .await;
    page.assert_status(StatusCode::NOT_FOUND);
    assert!(header(&page, "content-type").starts_with("text/html"));
    assert!(
        text_of(page).await.contains("Page not found"),
        "people get a page"
    );
    let bad_token = f
        .post("/api/v1/members/verify", json!({"token": "nope"}), None)
        .await;
    assert_problem(bad_token, StatusCode::BAD_REQUEST, "invalid_token").await;
    let bad_id = f
        .client
        .delete("/api/v1/me/sessions/not-a-uuid")
        .header("origin", ORIGIN)
        .send()
        .await;
    assert!(bad_id.0.status().is_client_error());
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_parsing() {
    let f = fixture();
    let huge = json!({"email": "a@example.jp", "password": "x".repeat(5000)});
    assert_problem(
        f.post("/api/v1/members", huge, None).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    )
    .await;
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let cookie = f.sign_in("hanako@example.jp").await;
    let foreign = f
        .client
        .delete("/api/v1/sessions/current")
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_problem(foreign, StatusCode::FORBIDDEN, "cross_site_request").await;
    let bare = f
        .client
        .delete("/api/v1/sessions/current")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_problem(bare, StatusCode::FORBIDDEN, "cross_site_request").await;
    let referred = f
        .client
        .delete("/api/v1/sessions/current")
        .header("referer", format!("{ORIGIN}/mypage"))
        .header("cookie", &cookie)
        .send()
        .await;
    referred.assert_status(StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let f = fixture();
    for response in [
        f.client.get("/healthz").send().await,
        f.client.get("/api/v1/me").send().await,
    ] {
        assert!(header(&response, "content-security-policy").contains("default-src 'none'"));
        assert_eq!(header(&response, "x-content-type-options"), "nosniff");
        assert_eq!(header(&response, "x-frame-options"), "DENY");
        assert_eq!(header(&response, "referrer-policy"), "same-origin");
    }
}

#[tokio::test]
async fn changing_the_password_rotates_the_session_cookie() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let cookie = f.sign_in("hanako@example.jp").await;
    let response = f
        .client
        .put("/api/v1/me/password")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .body_json(&json!({"current_password": PASSWORD, "new_password": "violet lantern over quiet harbour"}))
        .send()
        .await;
    response.assert_status_is_ok();
    let fresh = header(&response, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(fresh, cookie);
    f.client
        .get("/api/v1/me")
        .header("cookie", &cookie)
        .send()
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    f.client
        .get("/api/v1/me")
        .header("cookie", &fresh)
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn members_cannot_revoke_each_others_sessions() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    f.register_and_verify("taro@example.jp").await;
    let hanako = f.sign_in("hanako@example.jp").await;
    let taro = f.sign_in("taro@example.jp").await;
    let taros = json_of(
        f.client
            .get("/api/v1/me/sessions")
            .header("cookie", &taro)
            .send()
            .await,
    )
    .await;
    let id = taros[0]["id"].as_str().unwrap();
    let response = f
        .client
        .delete(format!("/api/v1/me/sessions/{id}"))
        .header("origin", ORIGIN)
        .header("cookie", &hanako)
        .send()
        .await;
    assert_problem(response, StatusCode::NOT_FOUND, "session_not_found").await;
    f.client
        .get("/api/v1/me")
        .header("cookie", &taro)
        .send()
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn too_many_attempts_answer_429_with_retry_after() {
    let f = fixture();
    for _ in 0..5 {
        f.post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": "wrong password!"}),
            None,
        )
        .await;
    }
    let response = f
        .post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": "wrong password!"}),
            None,
        )
        .await;
    let retry: u64 = header(&response, "retry-after").parse().unwrap();
    assert!((1..=900).contains(&retry));
    assert_problem(response, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[tokio::test]
async fn the_spec_is_served_and_documents_the_session_scheme_and_problem_responses() {
    let f = fixture();
    let spec = json_of(f.client.get("/api/openapi.json").send().await).await;
    assert_eq!(
        spec["components"]["securitySchemes"]["session"]["in"],
        "cookie"
    );
    let sign_in = &spec["paths"]["/sessions"]["post"]["responses"];
    for status in ["201", "400", "401", "413", "415", "422", "429"] {
        assert!(
            sign_in.get(status).is_some(),
            "POST /sessions lacks {status}"
        );
    }
    assert!(
        sign_in["401"]["content"]
            .get("application/problem+json")
            .is_some()
    );
    f.client.get("/api/docs").send().await.assert_status_is_ok();
    f.client.get("/readyz").send().await.assert_status_is_ok();
}

#[tokio::test]
async fn the_mailed_verification_link_opens_a_page_whose_button_verifies() {
    let f = fixture();
    f.post(
        "/api/v1/members",
        json!({"email": "hanako@example.jp", "password": PASSWORD}),
        None,
    )
    .await;
    let token = f
        .harness
        .mail()
        .await
        .last_token_to("hanako@example.jp")
        .unwrap()
        .expose();
    let page = f
        .client
        .get(format!("/verify-email?token={token}"))
        .send()
        .await;
    page.assert_status_is_ok();
    assert!(header(&page, "content-security-policy").contains("form-action 'self'"));
    let html = text_of(page).await;
    assert!(html.contains("lang=\"ja\"") && html.contains(&token));
    let (cookie, csrf) = form_session(&f, &format!("/verify-email?token={token}")).await;
    let without_cookie = f
        .client
        .post("/verify-email")
        .header("origin", ORIGIN)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await;
    without_cookie.assert_status(StatusCode::BAD_REQUEST);
    assert!(
        text_of(without_cookie).await.contains("Cookie を有効に"),
        "a browser without cookies is told so"
    );
    // Opening the link did not use the token up.
    let submitted = f
        .client
        .post("/verify-email")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await;
    submitted.assert_status_is_ok();
    let done = text_of(submitted).await;
    assert!(done.contains("確認しました") && done.contains("ログインしてご利用ください"));
    let again = f
        .client
        .post("/verify-email")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .header("accept-language", "en-GB,en;q=0.8")
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await;
    again.assert_status(StatusCode::BAD_REQUEST);
    assert!(text_of(again).await.contains("invalid or has expired"));
    let forged = f
        .client
        .post("/verify-email")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={}&token={token}", "0".repeat(32)))
        .send()
        .await;
    forged.assert_status(StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_reset_page_explains_a_refused_password_without_echoing_it() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    f.post(
        "/api/v1/password-resets",
        json!({"email": "hanako@example.jp"}),
        None,
    )
    .await
    .assert_status(StatusCode::ACCEPTED);
    let token = f
        .harness
        .mail()
        .await
        .last_token_to("hanako@example.jp")
        .unwrap()
        .expose();
    let (cookie, csrf) = form_session(&f, &format!("/reset-password?token={token}")).await;
    let post = |password: &str| {
        f.client
            .post("/reset-password")
            .header("origin", ORIGIN)
            .header("cookie", &cookie)
            .content_type("application/x-www-form-urlencoded")
            .body(format!("csrf={csrf}&token={token}&new_password={password}"))
            .send()
    };
    let weak = post("hunter2hunter2").await;
    weak.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let html = text_of(weak).await;
    assert!(html.contains("role=\"alert\"") && !html.contains("hunter2"));
    post("violet+lantern+over+quiet+harbour")
        .await
        .assert_status_is_ok();
    let signed_in = f
        .post(
            "/api/v1/sessions",
            json!({"email": "hanako@example.jp", "password": "violet lantern over quiet harbour"}),
            None,
        )
        .await;
    signed_in.assert_status(StatusCode::CREATED);
}

#[tokio::test]
async fn page_text_is_escaped() {
    let f = fixture();
    let page = text_of(
        f.client
            .get("/verify-email?token=%3Cscript%3Ealert(1)%3C/script%3E")
            .send()
            .await,
    )
    .await;
    assert!(!page.contains("<script>alert") && page.contains("&#60;script&#62;"));
}

#[tokio::test]
async fn a_member_signed_in_who_confirms_a_new_address_is_not_told_to_sign_in() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    f.client
        .put("/api/v1/me/email")
        .header("origin", ORIGIN)
        .header("cookie", &session)
        .body_json(&json!({"password": PASSWORD, "new_email": "hanako@example.com"}))
        .send()
        .await
        .assert_status(StatusCode::ACCEPTED);
    let token = f
        .harness
        .mail()
        .await
        .last_token_to("hanako@example.com")
        .unwrap()
        .expose();
    let (csrf_cookie, csrf) = form_session(&f, &format!("/verify-email?token={token}")).await;
    let confirmed = f
        .client
        .post("/verify-email")
        .header("origin", ORIGIN)
        .header("cookie", format!("{session}; {csrf_cookie}"))
        .content_type("application/x-www-form-urlencoded")
        .body(format!("csrf={csrf}&token={token}"))
        .send()
        .await;
    confirmed.assert_status_is_ok();
    let page = text_of(confirmed).await;
    assert!(page.contains("引き続きご利用いただけます"), "{page}");
    assert!(!page.contains("ログインしてご利用ください"));
}
