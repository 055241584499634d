//! Sign-in protection in headless Chromium. Passkeys with Chromium's virtual authenticator (the
//! WebDriver extension that chromedriver supports): a member adds a passkey from My Page, signs
//! in with it without an address, and — now that a second factor is on — completes a password
//! sign-in with it. The authenticator app, in English: set up from My Page with the key shown
//! on the page, recovery codes shown once, then a sign-in that asks for the code. The pages
//! pass axe-core's checks. WebAuthn needs a domain, so the site is visited as
//! `http://localhost`.

use std::time::{Duration, Instant};

use crate::support::browser::{self, Browser, Options};
use crate::support::http::Client;
use crate::support::{Server, outbox};
use kikeru_domain::membership::second_factor::TotpSecret;
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

/// A server reached as `http://localhost:PORT`, with a verified member who reads `language`.
fn site_with_member(language: &str) -> (Server, String) {
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
            json!({"email": EMAIL, "password": PASSWORD, "language": language})
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
    (server, site)
}

#[test]
fn a_member_adds_a_passkey_and_signs_in_with_it_in_chromium() {
    if !browser::available() {
        return;
    }
    let (server, site) = site_with_member("ja");
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

/// The wall clock, as the server's check reads it.
#[allow(
    clippy::disallowed_methods,
    reason = "the server under test reads the real time"
)]
fn now() -> kikeru_domain::Timestamp {
    time::OffsetDateTime::now_utc()
}

#[test]
fn a_member_turns_on_the_authenticator_app_and_signs_in_with_it_in_english() {
    if !browser::available() {
        return;
    }
    let (server, site) = site_with_member("en");
    let browser = Browser::start(&Options {
        language: "en",
        ..Options::default()
    });
    sign_in_with_password(&browser, &site);
    wait_for_url(&browser, "/me");
    browser.click("form[action='/me/totp/begin'] button");
    wait_for_url(&browser, "/me/totp");
    accessible(&browser);
    assert!(
        browser.source().contains("<svg role=\"img\""),
        "the QR code"
    );
    let key = browser.text("#totp-secret");
    let bytes = data_encoding::BASE32_NOPAD
        .decode(key.trim().as_bytes())
        .unwrap();
    let secret = TotpSecret::from_bytes(bytes.try_into().unwrap());
    browser.fill("#code", &secret.code_at(now()));
    browser.click("form[action='/me/totp/confirm'] button");
    accessible(&browser);
    let codes = browser.execute("return document.querySelectorAll('#recovery-codes li').length;");
    assert_eq!(codes, 10, "recovery codes, shown once");
    assert!(outbox::last(&server.outbox(), EMAIL, "second_factor_added").is_some());

    browser.goto(&format!("{site}/me"));
    browser.click("form[action='/logout'] button");
    sign_in_with_password(&browser, &site);
    assert!(
        browser.url().contains("/login/second-factor"),
        "{}",
        browser.url()
    );
    accessible(&browser);
    // The code that confirmed the app is used up; the next one is accepted already.
    browser.fill("#code", &secret.code_at(now() + Duration::from_secs(30)));
    browser.click("form[action='/login/second-factor'] button");
    wait_for_url(&browser, "/me");
    assert_eq!(browser.text("h1"), "My Page");
    assert!(browser.text("#totp-state").starts_with("On"));
}
