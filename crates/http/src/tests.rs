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

mod admin;
mod attacks;
mod catalogue;
mod commerce;
mod consents;
mod console;
mod console_disclosures;
mod deletion;
mod disclosures;
mod export;
mod factors;
mod incidents;
mod inquiries;
mod legal_orders;
mod membership;
mod mypage_forms;
mod register;
mod requests;
mod shop;
mod site;

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
            retention: kikeru_domain::privacy::retention::RetentionPolicy::default(),
            stats_retention: std::time::Duration::from_secs(90 * 86_400),
        }),
        pages: Arc::default(),
        metrics: Arc::default(),
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
