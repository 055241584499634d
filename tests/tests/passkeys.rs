//! Passkeys in headless Chromium with its virtual authenticator (the WebDriver extension that
//! chromedriver supports): a member adds a passkey from My Page, signs in with it without an
//! address, and — now that a second factor is on — completes a password sign-in with it. The
//! pages pass axe-core's checks. WebAuthn needs a domain, so the site is visited as
//! `http://localhost`.

use std::time::{Duration, Instant};

use kikeru_tests::browser::{self, Browser, Options};
use kikeru_tests::http::Client;
use kikeru_tests::{Server, outbox};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
const EMAIL: &str = "hanako@example.jp";

fn wait_for_url(browser: &Browser, suffix: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !browser.url().ends_with(suffix) {
        assert!(
            Instant::now() < deadline,
            "never reached {suffix}: at {}\n{}",
            browser.url(),
            browser.source().chars().take(2000).collect::<String>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn accessible(browser: &Browser) {
    if let Some(axe) = browser::axe_script() {
        let problems = browser.accessibility_problems(&axe);
        assert!(problems.is_empty(), "{}: {problems:#?}", browser.url());
    }
}

fn sign_in_with_password(browser: &Browser, site: &str) {
    browser.goto(&format!("{site}/login"));
    browser.fill("#email", EMAIL);
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
}

#[test]
fn a_member_adds_a_passkey_and_signs_in_with_it_in_chromium() {
    if !browser::available() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let site = format!("http://localhost:{port}");
    let listen = format!("127.0.0.1:{port}");
    let server = Server::start_with(
        None,
        &[("KIKERU_LISTEN", &listen), ("KIKERU_PUBLIC_URL", &site)],
    );

    let mut api = Client::new(&site);
    assert_eq!(
        api.post(
            "/api/v1/members",
            json!({"email": EMAIL, "password": PASSWORD})
        )
        .status,
        202
    );
    let mail = outbox::last(&server.outbox(), EMAIL, "verify_email").expect("verification");
    assert_eq!(
        api.post(
            "/api/v1/members/verify",
            json!({"token": mail.token().unwrap()})
        )
        .status,
        204
    );

    let browser = Browser::start(&Options::default());
    browser.command(
        "POST",
        "/webauthn/authenticator",
        Some(json!({
            "protocol": "ctap2",
            "transport": "internal",
            "hasResidentKey": true,
            "hasUserVerification": true,
            "isUserVerified": true,
            "automaticPresenceSimulation": true,
        })),
    );

    sign_in_with_password(&browser, &site);
    wait_for_url(&browser, "/me");
    accessible(&browser);
    browser.fill("#passkey-name", "Chromium");
    browser.execute("document.getElementById('passkey-add').click();");
    browser.find("#recovery-codes li");
    let codes = browser.execute("return document.querySelectorAll('#recovery-codes li').length;");
    assert_eq!(
        codes, 10,
        "the first factor brings recovery codes, shown once"
    );
    assert!(outbox::last(&server.outbox(), EMAIL, "second_factor_added").is_some());
    browser.goto(&format!("{site}/me"));
    assert!(browser.text("#passkey-list").contains("Chromium"));

    // Signed out, the passkey alone signs in: no address, no password.
    browser.click("form[action='/logout'] button");
    browser.goto(&format!("{site}/login"));
    accessible(&browser);
    browser.execute("document.getElementById('passkey-sign-in').click();");
    wait_for_url(&browser, "/me");
    assert_eq!(browser.text("h1"), "マイページ");

    // The password alone now asks for the second factor, which the passkey gives.
    browser.click("form[action='/logout'] button");
    sign_in_with_password(&browser, &site);
    assert!(
        browser.url().contains("/login/second-factor"),
        "{}",
        browser.url()
    );
    accessible(&browser);
    browser.execute("document.getElementById('passkey-sign-in').click();");
    wait_for_url(&browser, "/me");
    let events = browser.text("#passkey-list");
    assert!(!events.contains("未使用"), "last use recorded: {events}");
}
