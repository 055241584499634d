//! In-process HTTP tests: the API on the in-memory adapters, through poem's test client.

use std::sync::Arc;

use async_trait::async_trait;
use kikeru_testkit::Harness;
use poem::endpoint::BoxEndpoint;
use poem::http::StatusCode;
use poem::test::{TestClient, TestResponse};
use poem::{EndpointExt, Response};
use serde_json::{Value, json};
use time::macros::datetime;

use super::*;

mod attacks;
mod commerce;
mod factors;
mod incidents;

const ORIGIN: &str = "http://127.0.0.1:8080";
const PASSWORD: &str = "correct horse battery staple";
const OFFICE_PASSWORD: &str = "quiet office lantern harbour";

struct Ready;

#[async_trait]
impl Readiness for Ready {
    async fn is_ready(&self) -> bool {
        true
    }
}

struct Fixture {
    harness: Harness,
    client: TestClient<BoxEndpoint<'static, Response>>,
    media: tempfile::TempDir,
}

fn fixture_with(origin: &str) -> Fixture {
    build_fixture(origin, None)
}

/// A fixture whose site is configured with `seller`'s particulars.
fn fixture_selling(seller: kikeru_domain::shop::legal::Seller) -> Fixture {
    build_fixture(ORIGIN, Some(seller))
}

fn build_fixture(origin: &str, seller: Option<kikeru_domain::shop::legal::Seller>) -> Fixture {
    let harness = Harness::new(datetime!(2026-04-01 09:00 UTC));
    let media = tempfile::tempdir().unwrap();
    let state = AppState {
        hits: Arc::new(crate::NoHits),
        statistics: harness.store.clone(),
        services: harness.services(),
        config: Arc::new(HttpConfig {
            public_origin: origin.into(),
            max_body_bytes: 4096,
            trust_forwarded_for: false,
            media_dir: media.path().to_path_buf(),
            stats_min_count: 5,
            seller,
        }),
        readiness: Arc::new(Ready),
    };
    Fixture {
        harness,
        client: TestClient::new(app(state).boxed()),
        media,
    }
}

fn fixture() -> Fixture {
    fixture_with(ORIGIN)
}

async fn json_of(response: TestResponse) -> Value {
    response.0.into_body().into_json().await.unwrap()
}

fn header(response: &TestResponse, name: &str) -> String {
    response
        .0
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}

impl Fixture {
    async fn post(&self, path: &str, body: Value, cookie: Option<&str>) -> TestResponse {
        let mut request = self
            .client
            .post(path)
            .header("origin", ORIGIN)
            .body_json(&body);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        request.send().await
    }

    async fn register_and_verify(&self, email: &str) {
        let response = self
            .post(
                "/api/v1/members",
                json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        response.assert_status(StatusCode::ACCEPTED);
        let token = self
            .harness
            .mail()
            .await
            .last_token_to(email)
            .unwrap()
            .expose();
        self.post("/api/v1/members/verify", json!({"token": token}), None)
            .await
            .assert_status(StatusCode::NO_CONTENT);
    }

    /// Creates an operator and signs them in; returns the cookie pair.
    async fn operator(&self, email: &str, role: kikeru_domain::office::operators::Role) -> String {
        self.harness
            .office
            .add_operator(Harness::email(email), OFFICE_PASSWORD, role)
            .await
            .unwrap();
        let response = self
            .post(
                "/api/v1/admin/sessions",
                json!({"email": email, "password": OFFICE_PASSWORD}),
                None,
            )
            .await;
        response.assert_status(StatusCode::CREATED);
        let cookie = header(&response, "set-cookie");
        assert!(
            cookie.starts_with("kikeru_operator=") && cookie.contains("HttpOnly"),
            "{cookie}"
        );
        cookie.split(';').next().unwrap().to_owned()
    }

    /// Registers the partner `kikeru-label` through the operator API.
    async fn partner(&self, operator: &str) {
        let saved = self
            .client
            .put("/api/v1/admin/partners/kikeru-label")
            .header("origin", ORIGIN)
            .header("cookie", operator)
            .body_json(&json!({"name": "Kikeru Label K.K.", "address": "東京都港区1-2-3",
                               "representative": "山田花子", "contact": "privacy@label.example.jp"}))
            .send()
            .await;
        saved.assert_status_is_ok();
        let blank = self
            .client
            .put("/api/v1/admin/partners/kikeru-label")
            .header("origin", ORIGIN)
            .header("cookie", operator)
            .body_json(&json!({"name": " ", "address": "", "contact": ""}))
            .send()
            .await;
        // Blank fields break the spec (`pattern: \S`): refused before any rule runs.
        assert_problem(blank, StatusCode::BAD_REQUEST, "bad_request").await;
    }

    /// Signs in and returns the `name=value` pair for the Cookie header.
    async fn sign_in(&self, email: &str) -> String {
        let response = self
            .post(
                "/api/v1/sessions",
                json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        response.assert_status(StatusCode::CREATED);
        header(&response, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }
}

async fn assert_problem(response: TestResponse, status: StatusCode, code: &str) -> Value {
    response.assert_status(status);
    assert_eq!(
        header(&response, "content-type"),
        "application/problem+json"
    );
    let body = json_of(response).await;
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    assert_eq!(body["type"], format!("/problems/{code}"));
    body
}

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

/// Signs an operator with `role` in to the console; answers the cookies and the form token.
async fn console_session(
    f: &Fixture,
    email: &str,
    role: kikeru_domain::office::operators::Role,
) -> (String, String) {
    f.harness
        .office
        .add_operator(Harness::email(email), OFFICE_PASSWORD, role)
        .await
        .unwrap();
    let (csrf_cookie, csrf) = form_session(f, "/admin").await;
    let signed_in = post_form(
        f,
        "/admin/login",
        &csrf_cookie,
        format!(
            "csrf={csrf}&email={}&password={}",
            email.replace('@', "%40"),
            OFFICE_PASSWORD.replace(' ', "+")
        ),
    )
    .await;
    signed_in.assert_status(StatusCode::SEE_OTHER);
    let operator = header(&signed_in, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    (format!("{csrf_cookie}; {operator}"), csrf)
}

/// Posts a form with the site's origin and `cookie`.
async fn post_form(f: &Fixture, path: &str, cookie: &str, body: String) -> TestResponse {
    f.client
        .post(path)
        .header("origin", ORIGIN)
        .header("cookie", cookie)
        .content_type("application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
}

async fn text_of(response: TestResponse) -> String {
    response.0.into_body().into_string().await.unwrap()
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
    assert!(text_of(submitted).await.contains("確認しました"));
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

/// Opens a form page and returns the `Cookie` header with its CSRF cookie, and the token.
async fn form_session(f: &Fixture, path: &str) -> (String, String) {
    let page = f.client.get(path).send().await;
    page.assert_status_is_ok();
    let set = header(&page, "set-cookie");
    let cookie = set.split(';').next().unwrap().to_owned();
    assert!(cookie.starts_with("kikeru_csrf="), "{set}");
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict"));
    let html = text_of(page).await;
    let at = html.find("name=\"csrf\" value=\"").unwrap() + "name=\"csrf\" value=\"".len();
    let token = html[at..at + 32].to_owned();
    assert_eq!(cookie, format!("kikeru_csrf={token}"));
    (cookie, token)
}

mod shop {
    use super::*;
    use kikeru_domain::{AssetKey, Currency, Localized, Money, ProductDraft, Sku};
    use kikeru_testkit::TestGateway;

    impl Fixture {
        /// Two products with audio files in the media folder; returns their IDs.
        pub(super) async fn catalogue(&self) -> Vec<String> {
            std::fs::create_dir_all(self.media.path().join("audio")).unwrap();
            let audio: Vec<u8> = (0..=255u8).cycle().take(10_000).collect();
            let mut drafts = Vec::new();
            for (sku, yen) in [("A", 330), ("B", 1100)] {
                std::fs::write(self.media.path().join(format!("audio/{sku}.wav")), &audio).unwrap();
                std::fs::write(
                    self.media.path().join(format!("audio/{sku}-sample.wav")),
                    &audio[..100],
                )
                .unwrap();
                drafts.push(ProductDraft {
                    sku: Sku::parse(sku).unwrap(),
                    title: Localized::title("音", "Sound").unwrap(),
                    description: Localized::description("", "").unwrap(),
                    price: Money::new(yen, Currency::Jpy).unwrap(),
                    active: true,
                    audio: AssetKey::parse(&format!("audio/{sku}.wav")).unwrap(),
                    sample: Some(AssetKey::parse(&format!("audio/{sku}-sample.wav")).unwrap()),
                });
            }
            self.harness.shop.import(drafts).await.unwrap();
            let page = json_of(self.client.get("/api/v1/products").send().await).await;
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_owned())
                .collect()
        }

        pub(super) async fn order(
            &self,
            cookie: &str,
            products: &[&str],
            key: Option<&str>,
        ) -> TestResponse {
            let mut request = self
                .client
                .post("/api/v1/orders")
                .header("origin", ORIGIN)
                .header("cookie", cookie)
                .body_json(&json!({"product_ids": products}));
            if let Some(key) = key {
                request = request.header("idempotency-key", key);
            }
            request.send().await
        }

        pub(super) async fn pay(&self, order: &Value) {
            let reference = order["checkout_url"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_owned();
            let webhook = TestGateway::webhook(&format!("evt-{reference}"), &reference, "paid");
            let response = self
                .client
                .post("/api/v1/payments/webhooks/test")
                .header("x-test-signature", "valid")
                .content_type("application/x-www-form-urlencoded")
                .body(webhook.body)
                .send()
                .await;
            response.assert_status_is_ok();
        }
    }

    #[tokio::test]
    async fn buying_makes_the_purchase_payment_and_library_visible_to_the_buyer_only() {
        let f = fixture();
        let products = f.catalogue().await;
        f.register_and_verify("hanako@example.jp").await;
        f.register_and_verify("taro@example.jp").await;
        let hanako = f.sign_in("hanako@example.jp").await;
        let taro = f.sign_in("taro@example.jp").await;

        let placed = f.order(&hanako, &[&products[1]], Some("k1")).await;
        placed.assert_status(StatusCode::CREATED);
        let order = json_of(placed).await;
        assert_eq!(order["status"], "pending");
        assert_eq!(order["total"]["display"], "¥1,100");
        let again = json_of(f.order(&hanako, &[&products[1]], Some("k1")).await).await;
        assert_eq!(again["id"], order["id"]);
        f.pay(&order).await;

        let id = order["id"].as_str().unwrap();
        let mine = json_of(
            f.client
                .get(format!("/api/v1/orders/{id}"))
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await;
        assert_eq!(mine["status"], "paid");
        let purchases = json_of(
            f.client
                .get("/api/v1/me/purchases")
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await;
        assert_eq!(purchases["items"][0]["item"]["unit_price"]["amount"], 1100);
        let payments = json_of(
            f.client
                .get("/api/v1/me/payments")
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await;
        assert_eq!(payments["items"][0]["history"].as_array().unwrap().len(), 2);
        let library = json_of(
            f.client
                .get("/api/v1/me/library")
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await;
        assert_eq!(library[0]["product"]["id"], products[1].as_str());

        assert_problem(
            f.client
                .get(format!("/api/v1/orders/{id}"))
                .header("cookie", &taro)
                .send()
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let theirs = json_of(
            f.client
                .get("/api/v1/me/purchases")
                .header("cookie", &taro)
                .send()
                .await,
        )
        .await;
        assert_eq!(theirs["items"], json!([]));
        let theirs = json_of(
            f.client
                .get("/api/v1/me/payments")
                .header("cookie", &taro)
                .send()
                .await,
        )
        .await;
        assert_eq!(theirs["items"], json!([]));
        let audio = f
            .client
            .get(format!("/api/v1/me/library/{}/audio", products[1]))
            .header("cookie", &taro)
            .send()
            .await;
        assert_problem(audio, StatusCode::FORBIDDEN, "not_owned").await;
        let owned = f.order(&hanako, &[&products[1]], None).await;
        assert_problem(owned, StatusCode::CONFLICT, "already_owned").await;
    }

    #[tokio::test]
    async fn audio_streams_with_range_to_its_buyer_and_samples_to_anyone() {
        let f = fixture();
        let products = f.catalogue().await;
        f.register_and_verify("hanako@example.jp").await;
        let hanako = f.sign_in("hanako@example.jp").await;
        let order = json_of(f.order(&hanako, &[&products[0]], None).await).await;
        f.pay(&order).await;
        let path = format!("/api/v1/me/library/{}/audio", products[0]);
        let whole = f.client.get(&path).header("cookie", &hanako).send().await;
        whole.assert_status_is_ok();
        assert_eq!(whole.0.into_body().into_vec().await.unwrap().len(), 10_000);
        let part = f
            .client
            .get(&path)
            .header("cookie", &hanako)
            .header("range", "bytes=100-199")
            .send()
            .await;
        part.assert_status(StatusCode::PARTIAL_CONTENT);
        assert_eq!(header(&part, "content-range"), "bytes 100-199/10000");
        let bytes = part.0.into_body().into_vec().await.unwrap();
        assert_eq!((bytes.len(), bytes[0]), (100, 100));
        assert_problem(
            f.client.get(&path).send().await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        let sample = f
            .client
            .get(format!("/api/v1/products/{}/sample", products[1]))
            .send()
            .await;
        sample.assert_status_is_ok();
    }

    #[tokio::test]
    async fn unverified_members_and_bad_orders_get_clear_errors() {
        let f = fixture();
        let products = f.catalogue().await;
        f.post(
            "/api/v1/members",
            json!({"email": "new@example.jp", "password": PASSWORD}),
            None,
        )
        .await;
        let cookie = f.sign_in("new@example.jp").await;
        assert_problem(
            f.order(&cookie, &[&products[0]], None).await,
            StatusCode::FORBIDDEN,
            "email_not_verified",
        )
        .await;
        f.register_and_verify("hanako@example.jp").await;
        let hanako = f.sign_in("hanako@example.jp").await;
        let unknown = f
            .order(&hanako, &["00000000-0000-0000-0000-000000000000"], None)
            .await;
        assert_problem(unknown, StatusCode::UNPROCESSABLE_ENTITY, "not_on_sale").await;
        let empty = f.order(&hanako, &[], None).await;
        assert_problem(empty, StatusCode::BAD_REQUEST, "bad_request").await;
        let anonymous = f
            .client
            .post("/api/v1/orders")
            .header("origin", ORIGIN)
            .body_json(&json!({"product_ids": [products[0]]}))
            .send()
            .await;
        assert_problem(anonymous, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    }

    #[tokio::test]
    async fn webhooks_with_bad_signatures_or_for_other_providers_are_refused() {
        let f = fixture();
        let forged = f
            .client
            .post("/api/v1/payments/webhooks/test")
            .body("id=1&reference=x&signal=paid")
            .send()
            .await;
        assert_problem(forged, StatusCode::BAD_REQUEST, "invalid_webhook").await;
        let other = f
            .client
            .post("/api/v1/payments/webhooks/stripe")
            .header("x-test-signature", "valid")
            .body("x")
            .send()
            .await;
        assert_problem(other, StatusCode::NOT_FOUND, "unknown_provider").await;
    }

    /// Every property, parameter and header name in the document.
    fn names(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::Object(properties)) = map.get("properties") {
                    out.extend(properties.keys().cloned());
                }
                if let (Some(Value::String(name)), Some(Value::String(_))) =
                    (map.get("name"), map.get("in"))
                {
                    out.push(name.clone());
                }
                if let Some(Value::Object(headers)) = map.get("headers") {
                    out.extend(headers.keys().cloned());
                }
                map.values().for_each(|v| names(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| names(v, out)),
            _ => {}
        }
    }

    #[tokio::test]
    async fn no_operation_or_schema_of_the_api_has_a_field_for_card_data() {
        let spec: Value = serde_json::from_str(&crate::openapi_json()).unwrap();
        let mut found = Vec::new();
        names(&spec, &mut found);
        assert!(
            found.iter().any(|n| n == "product_ids"),
            "the walk finds fields: {found:?}"
        );
        for name in found.iter().map(|n| n.to_lowercase()) {
            for word in [
                "card",
                "cvc",
                "cvv",
                "pan",
                "expiry",
                "exp_month",
                "exp_year",
                "security_code",
            ] {
                assert!(
                    !name.split(['_', '-']).any(|part| part == word) && !name.contains("card"),
                    "field {name:?} looks like card data"
                );
            }
        }
    }
}

mod admin {
    use super::*;
    use kikeru_domain::office::operators::Role;

    impl Fixture {
        async fn put_products(&self, cookie: &str, products: Value) -> TestResponse {
            self.client
                .put("/api/v1/admin/products")
                .header("origin", ORIGIN)
                .header("cookie", cookie)
                .body_json(&json!({"products": products}))
                .send()
                .await
        }
    }

    #[tokio::test]
    async fn operators_and_members_never_share_a_session() {
        let f = fixture();
        f.register_and_verify("hanako@example.jp").await;
        let member = f.sign_in("hanako@example.jp").await;
        let operator = f.operator("office@example.jp", Role::Operator).await;
        assert_problem(
            f.client
                .get("/api/v1/admin/products")
                .header("cookie", &member)
                .send()
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        assert_problem(
            f.client
                .get("/api/v1/me")
                .header("cookie", &operator)
                .send()
                .await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        f.client
            .get("/api/v1/admin/products")
            .header("cookie", &operator)
            .send()
            .await
            .assert_status_is_ok();
        let wrong = f
            .post(
                "/api/v1/admin/sessions",
                json!({"email": "office@example.jp", "password": "wrong password!"}),
                None,
            )
            .await;
        assert_problem(wrong, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
    }

    #[tokio::test]
    async fn operators_update_the_catalogue_all_or_none_and_every_change_is_audited() {
        let f = fixture();
        std::fs::create_dir_all(f.media.path().join("audio")).unwrap();
        std::fs::write(f.media.path().join("audio/a.wav"), b"RIFF").unwrap();
        let operator = f.operator("office@example.jp", Role::Operator).await;
        let admin = f.operator("chief@example.jp", Role::Admin).await;

        let bad = f
            .put_products(&operator, json!([
                {"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav"},
                {"sku": "bad sku", "title_ja": "", "title_en": "Night", "price": -1, "audio": "audio/missing.wav"}
            ]))
            .await;
        let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_products").await;
        let detail = body["detail"].as_str().unwrap();
        for expected in [
            "products[1].sku",
            "products[1].title",
            "products[1].price",
            "products[1].audio",
        ] {
            assert!(
                detail.contains(expected),
                "{expected} missing from {detail}"
            );
        }
        let listed = json_of(
            f.client
                .get("/api/v1/admin/products")
                .header("cookie", &operator)
                .send()
                .await,
        )
        .await;
        assert_eq!(listed["items"], json!([]), "nothing was changed");

        let good = f
            .put_products(&operator, json!([{"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav", "active": false}]))
            .await;
        good.assert_status_is_ok();
        assert_eq!(json_of(good).await["created"], 1);
        let listed = json_of(
            f.client
                .get("/api/v1/admin/products")
                .header("cookie", &operator)
                .send()
                .await,
        )
        .await;
        assert_eq!(
            (
                listed["items"][0]["active"].clone(),
                listed["items"][0]["audio"].clone()
            ),
            (json!(false), json!("audio/a.wav"))
        );
        let public = json_of(f.client.get("/api/v1/products").send().await).await;
        assert_eq!(
            public["items"],
            json!([]),
            "inactive products are not on sale"
        );

        assert_problem(
            f.client
                .get("/api/v1/admin/audit")
                .header("cookie", &operator)
                .send()
                .await,
            StatusCode::FORBIDDEN,
            "role_required",
        )
        .await;
        let audit = json_of(
            f.client
                .get("/api/v1/admin/audit")
                .header("cookie", &admin)
                .send()
                .await,
        )
        .await;
        let actions: Vec<_> = audit
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_owned())
            .collect();
        assert!(
            actions.contains(&"catalog.updated".to_owned()),
            "{actions:?}"
        );
        assert!(actions.contains(&"signed_in".to_owned()), "{actions:?}");
    }

    #[tokio::test]
    async fn operators_refund_paid_orders_only() {
        let f = fixture();
        std::fs::create_dir_all(f.media.path().join("audio")).unwrap();
        std::fs::write(f.media.path().join("audio/a.wav"), b"RIFF").unwrap();
        let operator = f.operator("office@example.jp", Role::Operator).await;
        f.put_products(&operator, json!([{"sku": "A-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav"}])).await.assert_status_is_ok();
        let product =
            json_of(f.client.get("/api/v1/products").send().await).await["items"][0]["id"]
                .as_str()
                .unwrap()
                .to_owned();
        f.register_and_verify("hanako@example.jp").await;
        let hanako = f.sign_in("hanako@example.jp").await;
        let order = json_of(
            f.client
                .post("/api/v1/orders")
                .header("origin", ORIGIN)
                .header("cookie", &hanako)
                .body_json(&json!({"product_ids": [product]}))
                .send()
                .await,
        )
        .await;
        let id = order["id"].as_str().unwrap();
        let refund = |cookie: String| {
            f.client
                .post(format!("/api/v1/admin/orders/{id}/refund"))
                .header("origin", ORIGIN)
                .header("cookie", cookie)
                .send()
        };
        assert_problem(
            refund(operator.clone()).await,
            StatusCode::CONFLICT,
            "not_refundable",
        )
        .await;
        let reference = order["checkout_url"]
            .as_str()
            .unwrap()
            .rsplit('/')
            .next()
            .unwrap()
            .to_owned();
        let webhook = kikeru_testkit::TestGateway::webhook("evt-1", &reference, "paid");
        f.client
            .post("/api/v1/payments/webhooks/test")
            .header("x-test-signature", "valid")
            .body(webhook.body)
            .send()
            .await
            .assert_status_is_ok();
        let refunded = refund(operator.clone()).await;
        refunded.assert_status_is_ok();
        let mine = json_of(
            f.client
                .get(format!("/api/v1/orders/{id}"))
                .header("cookie", &hanako)
                .send()
                .await,
        )
        .await;
        assert_eq!(mine["status"], "refunded");
        assert_problem(
            refund(hanako.clone()).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
    }
}

mod consents {
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
}

mod disclosures {
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
}

mod export {
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
}

mod deletion {
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
}

mod legal_orders {
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
}

mod register {
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
        let bad =
            put(json!({"name": "Test", "purpose": "payment", "categories": ["shoe_size"]})).await;
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
}

mod inquiries {
    use super::*;
    use kikeru_domain::office::operators::Role;
    use kikeru_domain::ports::Message;
    use uuid::Uuid;

    fn form(email: &str, subject: &str) -> Value {
        json!({"email": email, "name": "山田 花子", "subject": subject,
               "message": "注文した曲が再生できません。", "language": "ja"})
    }

    #[tokio::test]
    async fn the_contact_form_takes_an_inquiry_and_acknowledges_it_by_mail() {
        let f = fixture();
        let taken = f
            .post(
                "/api/v1/inquiries",
                form("guest@example.jp", "再生について"),
                None,
            )
            .await;
        taken.assert_status(StatusCode::ACCEPTED);
        assert_eq!(json_of(taken).await["status"], "received");
        let mail = f.harness.mail().await.sent();
        let ack = mail.last().unwrap();
        assert_eq!(ack.to.as_str(), "guest@example.jp");
        let Message::InquiryReceived { reference } = &ack.message else {
            panic!("not an acknowledgement: {ack:?}");
        };
        // The form can name any address: the acknowledgement carries nothing the sender typed
        // (the message has no field for it), only the reference.
        assert!(reference.starts_with("Q-"));

        f.register_and_verify("hanako@example.jp").await;
        let hanako = f.sign_in("hanako@example.jp").await;
        f.post(
            "/api/v1/inquiries",
            form("other-address@example.jp", "会員から"),
            Some(&hanako),
        )
        .await
        .assert_status(StatusCode::ACCEPTED);
        let stored = f.harness.contact.list(false, 10).await.unwrap();
        assert_eq!(stored.len(), 2);
        for inquiry in stored {
            assert_eq!(
                inquiry.member_id.is_some(),
                inquiry.subject == "会員から",
                "only a signed-in member's inquiry is linked"
            );
        }
    }

    #[tokio::test]
    async fn bots_bad_fields_and_floods_are_turned_away_without_storing_anything() {
        let f = fixture();
        let mut bot = form("bot@example.jp", "cheap pills");
        bot["website"] = json!("http://spam.example");
        f.post("/api/v1/inquiries", bot, None)
            .await
            .assert_status(StatusCode::ACCEPTED);
        assert!(f.harness.contact.list(false, 10).await.unwrap().is_empty());
        assert!(f.harness.mail().await.sent().is_empty(), "no mail to a bot");

        let empty = f
            .post("/api/v1/inquiries", form("a@example.jp", " "), None)
            .await;
        assert_problem(empty, StatusCode::UNPROCESSABLE_ENTITY, "invalid_inquiry").await;
        let bad_address = f
            .post("/api/v1/inquiries", form("not-an-address", "x"), None)
            .await;
        assert_problem(
            bad_address,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_email",
        )
        .await;
        let mut long = form("a@example.jp", "long");
        long["message"] = json!("あ".repeat(10_001));
        let response = f
            .client
            .post("/api/v1/inquiries")
            .header("origin", ORIGIN)
            .body_json(&long)
            .send()
            .await;
        assert!(
            [
                StatusCode::UNPROCESSABLE_ENTITY,
                StatusCode::PAYLOAD_TOO_LARGE
            ]
            .contains(&response.0.status()),
            "{:?}",
            response.0.status()
        );
        assert!(f.harness.contact.list(false, 10).await.unwrap().is_empty());

        for n in 0..4 {
            f.post(
                "/api/v1/inquiries",
                form("flood@example.jp", &format!("n{n}")),
                None,
            )
            .await
            .assert_status(StatusCode::ACCEPTED);
        }
        let flood = f
            .post("/api/v1/inquiries", form("flood@example.jp", "again"), None)
            .await;
        assert_problem(flood, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
    }

    #[tokio::test]
    async fn operators_read_and_answer_inquiries_and_every_step_is_audited() {
        let f = fixture();
        f.post(
            "/api/v1/inquiries",
            form("guest@example.jp", "領収書"),
            None,
        )
        .await
        .assert_status(StatusCode::ACCEPTED);
        assert_problem(
            f.client.get("/api/v1/admin/inquiries").send().await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        let admin = f.operator("chief@example.jp", Role::Admin).await;
        let open = json_of(
            f.client
                .get("/api/v1/admin/inquiries?open=true")
                .header("cookie", &admin)
                .send()
                .await,
        )
        .await;
        assert_eq!(open.as_array().unwrap().len(), 1);
        assert_eq!(open[0]["name"], "山田 花子");
        let id = open[0]["id"].as_str().unwrap().to_owned();
        let read = json_of(
            f.client
                .get(format!("/api/v1/admin/inquiries/{id}"))
                .header("cookie", &admin)
                .send()
                .await,
        )
        .await;
        assert_eq!(read["subject"], "領収書");
        let answer = |text: &str| {
            f.client
                .post(format!("/api/v1/admin/inquiries/{id}/answers"))
                .header("origin", ORIGIN)
                .header("cookie", &admin)
                .body_json(&json!({"answer": text}))
                .send()
        };
        assert_problem(answer("  ").await, StatusCode::BAD_REQUEST, "bad_request").await;
        let answered = answer("マイページから再発行できます。").await;
        answered.assert_status(StatusCode::CREATED);
        let answered = json_of(answered).await;
        assert_eq!(answered["open"], false);
        assert_eq!(answered["answers"][0]["operator"], "chief@example.jp");
        let mailed = f.harness.mail().await.sent();
        assert!(matches!(
            &mailed.last().unwrap().message,
            Message::InquiryAnswered { answer, .. } if answer == "マイページから再発行できます。"
        ));
        let unknown = f
            .client
            .post(format!("/api/v1/admin/inquiries/{}/answers", Uuid::nil()))
            .header("origin", ORIGIN)
            .header("cookie", &admin)
            .body_json(&json!({"answer": "x"}))
            .send()
            .await;
        assert_problem(unknown, StatusCode::NOT_FOUND, "inquiry_not_found").await;
        let still_open = json_of(
            f.client
                .get("/api/v1/admin/inquiries?open=true")
                .header("cookie", &admin)
                .send()
                .await,
        )
        .await;
        assert_eq!(still_open, json!([]));
        let audit = json_of(
            f.client
                .get("/api/v1/admin/audit")
                .header("cookie", &admin)
                .send()
                .await,
        )
        .await;
        let kinds: Vec<&str> = audit
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["action"].as_str())
            .collect();
        for kind in ["inquiry.listed", "inquiry.read", "inquiry.answered"] {
            assert!(kinds.contains(&kind), "{kind} not audited: {audit}");
        }
    }
}

mod site {
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
}

mod console {
    use super::*;
    use kikeru_domain::office::operators::Role;

    #[tokio::test]
    async fn operators_answer_inquiries_approve_orders_and_keep_partners_from_the_console() {
        let f = fixture();
        f.harness
            .office
            .add_operator(
                Harness::email("chief@example.jp"),
                OFFICE_PASSWORD,
                Role::Admin,
            )
            .await
            .unwrap();
        f.post(
            "/api/v1/inquiries",
            json!({"email": "guest@example.jp", "subject": "再生できません", "message": "助けてください"}),
            None,
        )
        .await
        .assert_status(StatusCode::ACCEPTED);

        let (csrf_cookie, csrf) = form_session(&f, "/admin").await;
        let wrong = post_form(
            &f,
            "/admin/login",
            &csrf_cookie,
            format!("csrf={csrf}&email=chief%40example.jp&password=nope"),
        )
        .await;
        wrong.assert_status(StatusCode::UNAUTHORIZED);
        let signed_in = post_form(
            &f,
            "/admin/login",
            &csrf_cookie,
            format!(
                "csrf={csrf}&email=chief%40example.jp&password={}",
                OFFICE_PASSWORD.replace(' ', "+")
            ),
        )
        .await;
        signed_in.assert_status(StatusCode::SEE_OTHER);
        let operator = header(&signed_in, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        assert!(operator.starts_with("kikeru_operator="));
        let cookie = format!("{csrf_cookie}; {operator}");

        for path in [
            "/admin",
            "/admin/statistics",
            "/admin/disclosures",
            "/admin/inquiries",
            "/admin/legal-orders",
            "/admin/register",
            "/admin/catalogue",
        ] {
            for lang in ["ja", "en"] {
                let page = f
                    .client
                    .get(path)
                    .header("cookie", format!("{cookie}; kikeru_lang={lang}"))
                    .send()
                    .await;
                page.assert_status_is_ok();
                let html = text_of(page).await;
                assert!(
                    !html.contains(crate::site::i18n::MISSING),
                    "{path} ({lang})"
                );
            }
        }
        let csv = f
            .client
            .get("/admin/statistics/export?format=csv")
            .header("cookie", &cookie)
            .send()
            .await;
        csv.assert_status_is_ok();
        assert!(header(&csv, "content-disposition").contains("kikeru-statistics-"));
        assert!(text_of(csv).await.starts_with("section,day,method,path"));
        let list = text_of(
            f.client
                .get("/admin/inquiries")
                .header("cookie", &cookie)
                .send()
                .await,
        )
        .await;
        assert!(list.contains("再生できません"));
        let stored = f.harness.contact.list(false, 10).await.unwrap();
        let id = stored[0].id;
        let answered = post_form(
            &f,
            &format!("/admin/inquiries/{id}/answer"),
            &cookie,
            format!("csrf={csrf}&answer=%E5%86%8D%E8%AA%AD%E3%81%BF%E8%BE%BC%E3%81%BF%E3%82%92"),
        )
        .await;
        answered.assert_status(StatusCode::SEE_OTHER);
        let detail = text_of(
            f.client
                .get(format!("/admin/inquiries/{id}"))
                .header("cookie", &cookie)
                .send()
                .await,
        )
        .await;
        assert!(detail.contains("再読み込みを") && detail.contains("chief@example.jp"));
        assert!(matches!(
            f.harness.mail().await.sent().last().unwrap().message,
            kikeru_domain::ports::Message::InquiryAnswered { .. }
        ));

        let partner = post_form(
            &f,
            "/admin/partners",
            &cookie,
            format!("csrf={csrf}&key=label&name=Label+K.K.&address=Tokyo&representative=&contact=privacy%40label.example"),
        )
        .await;
        partner.assert_status(StatusCode::SEE_OTHER);
        let bad = post_form(
            &f,
            "/admin/partners",
            &cookie,
            format!("csrf={csrf}&key=Bad+Key&name=&address=&contact="),
        )
        .await;
        bad.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(f.harness.disclosures.partners().await.unwrap().len(), 1);

        let member = {
            f.register_and_verify("hanako@example.jp").await;
            f.sign_in("hanako@example.jp").await
        };
        let refused = f
            .client
            .get("/admin/inquiries")
            .header("cookie", &member)
            .send()
            .await;
        refused.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(
            header(&refused, "location"),
            "/admin",
            "a member's session is no operator's"
        );

        let audit = kikeru_domain::office::ports::Operators::events(&*f.harness.store, 50)
            .await
            .unwrap();
        let actions: Vec<&str> = audit.iter().map(|e| e.action.as_str()).collect();
        for action in [
            "inquiry.listed",
            "inquiry.read",
            "inquiry.answered",
            "partner.saved",
        ] {
            assert!(actions.contains(&action), "{action}: {actions:?}");
        }
    }
}

mod mypage_forms {
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

        let refused = form(
            &f,
            "/me/delete",
            &cookie,
            &format!("csrf={csrf}&password=nope"),
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
            &format!("csrf={csrf}&password={}", PASSWORD.replace(' ', "+")),
        )
        .await;
        deleted.assert_status_is_ok();
        assert!(header(&deleted, "set-cookie").contains("Max-Age=0"));
        assert!(text_of(deleted).await.contains("Account deleted"));
    }
}

mod console_disclosures {
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
}
