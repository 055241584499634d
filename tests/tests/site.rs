//! The member web site in headless Chromium: register → verify (from the outbox) → sign in →
//! confirm the order → buy in the sandbox → find the purchase and play it in the library → change the e-mail address
//! → download the data → switch language → delete the account; a browser without cookies is
//! told to enable them. Every page visited passes axe-core's WCAG 2.2 AA checks with no serious
//! or critical violation, and is photographed in Japanese and English at phone and desktop
//! width. On SQLite, and the main journey on PostgreSQL.

use std::path::{Path, PathBuf};

use kikeru_tests::browser::{self, Browser, Options};
use kikeru_tests::{Server, outbox};

const PASSWORD: &str = "correct horse battery staple";

fn shots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"),
        PathBuf::from,
    );
    target.join("screenshots")
}

/// Checks the page with axe-core (when installed; CI installs it) and photographs it.
fn inspect(browser: &Browser, name: &str) {
    if let Some(axe) = browser::axe_script() {
        let problems = browser.accessibility_problems(&axe);
        assert!(
            problems.is_empty(),
            "{name} ({}): {problems:#?}",
            browser.url()
        );
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must run the accessibility checks: npm install axe-core"
        );
    }
    browser.screenshot(&shots().join(format!("{name}.png")));
}

/// Checks and photographs the page at `path` in both languages at phone and desktop width,
/// then leaves the browser in Japanese at desktop width on that page.
fn inspect_everywhere(browser: &Browser, base: &str, path: &str, name: &str) {
    for lang in ["en", "ja"] {
        browser.goto(&format!("{base}/lang/{lang}?back={path}"));
        assert_eq!(
            browser.execute("return document.documentElement.lang"),
            lang
        );
        for (width, height, device) in [(390, 844, "phone"), (1280, 900, "desktop")] {
            browser.resize(width, height);
            inspect(browser, &format!("{name}-{lang}-{device}"));
        }
    }
}

fn journey(database: Option<&str>, label: &str) {
    if !browser::available() {
        return;
    }
    let server = Server::start(database);
    let base = server.base.clone();
    let browser = Browser::start(&Options::default());
    let email = "hanako@example.jp";

    browser.goto(&format!("{base}/"));
    assert_eq!(
        browser.execute("return document.documentElement.lang"),
        "ja"
    );
    inspect(&browser, &format!("{label}-home-ja-desktop"));

    browser.click("a[href='/register']");
    inspect(&browser, &format!("{label}-register-ja-desktop"));
    browser.fill("#email", email);
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/register'] button[type=submit]");
    assert!(browser.text("h1").contains("メールをご確認ください"));

    let verify = outbox::nth(&server.outbox(), email, "verify_email", 1).expect("a mail");
    browser.goto(&format!(
        "{base}/verify-email?token={}",
        verify.token().unwrap()
    ));
    browser.click("form[action='/verify-email'] button");
    assert!(browser.text("h1").contains("確認できました"));

    inspect_everywhere(&browser, &base, "/login", &format!("{label}-login"));
    browser.fill("#email", email);
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
    assert!(browser.url().ends_with("/me"), "{}", browser.url());
    assert_eq!(browser.text("h1"), "マイページ");

    // Buy in the sandbox.
    browser.goto(&format!("{base}/"));
    browser.click(".card h2 a");
    let product_path = browser.url().trim_start_matches(&base).to_owned();
    inspect_everywhere(&browser, &base, &product_path, &format!("{label}-product"));
    let title = browser.text("h1");
    // The final confirmation (特定商取引法 第12条の6) comes before the checkout.
    browser.click("form[action$='/confirm'] button");
    assert!(browser.url().contains("/confirm"), "{}", browser.url());
    assert!(browser.text("#order-lines").contains(&title));
    assert!(browser.text("#order-total").contains("円（税込）"));
    inspect(&browser, &format!("{label}-confirm-ja-desktop"));
    browser.click("form[action$='/buy'] button");
    assert!(
        browser.url().contains("/sandbox/checkout/"),
        "{}",
        browser.url()
    );
    browser.click("form[action$='/pay'] button");
    assert!(
        browser.url().contains("/checkout/complete"),
        "{}",
        browser.url()
    );
    assert!(browser.source().contains("お支払いが完了しました"));

    // The purchase on My Page, playable in the library.
    browser.goto(&format!("{base}/me"));
    assert!(browser.text("#purchases").contains(&title));
    let played = browser.execute_async(
        "const done = arguments[0]; const a = document.querySelector('#library audio');\
         a.muted = true; a.play().then(() => setTimeout(() => done(a.currentTime > 0 || !a.paused), 300))\
         .catch(e => done('could not play: ' + e));",
    );
    assert_eq!(played, true, "the library's audio plays: {played}");
    inspect_everywhere(&browser, &base, "/me", &format!("{label}-mypage"));

    // Change the address: proven by the link mailed to the new one.
    let new_email = "hanako.new@example.jp";
    browser.fill("#new_email", new_email);
    browser.fill("#email_password", PASSWORD);
    browser.click("form[action='/me/email'] button");
    assert!(browser.text(".notice").contains("確認のメール"));
    let confirm = outbox::nth(&server.outbox(), new_email, "confirm_email_change", 1)
        .expect("a confirmation mail");
    browser.goto(&format!(
        "{base}/verify-email?token={}",
        confirm.token().unwrap()
    ));
    browser.click("form[action='/verify-email'] button");
    browser.goto(&format!("{base}/me"));
    assert!(browser.text("#profile").contains(new_email));

    // Download everything held.
    let export = browser.execute_async(
        "const done = arguments[0]; fetch('/api/v1/me/export').then(r => r.json())\
         .then(j => done(j.member.email)).catch(e => done('failed: ' + e));",
    );
    assert_eq!(export, new_email);

    // Switch to English.
    browser.click("a[hreflang='en']");
    assert_eq!(
        browser.execute("return document.documentElement.lang"),
        "en"
    );
    assert_eq!(browser.text("h1"), "My Page");

    // Delete the account.
    browser.goto(&format!("{base}/me"));
    browser.fill("#delete_password", PASSWORD);
    browser.click("form[action='/me/delete'] button");
    assert_eq!(browser.text("h1"), "Account deleted");
    browser.goto(&format!("{base}/me"));
    assert!(browser.url().contains("/login"), "{}", browser.url());
    assert!(
        outbox::last(&server.outbox(), new_email, "account_deleted").is_some(),
        "the deletion is confirmed by mail"
    );
}

#[test]
fn every_journey_works_in_the_browser_on_sqlite() {
    journey(None, "sqlite");
}

#[test]
fn the_main_journey_works_in_the_browser_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url), "postgres");
    runtime.block_on(database.drop());
}

#[test]
fn a_browser_without_cookies_is_told_to_enable_them() {
    if !browser::available() {
        return;
    }
    let server = Server::start(None);
    let browser = Browser::start(&Options {
        cookies: false,
        ..Options::default()
    });
    browser.goto(&format!("{}/login", server.base));
    browser.fill("#email", "hanako@example.jp");
    browser.fill("#password", PASSWORD);
    browser.click("form[action='/login'] button[type=submit]");
    assert_eq!(browser.text("h1"), "Cookie を有効にしてください");
    inspect(&browser, "cookies-disabled-ja-desktop");
}

#[test]
fn the_office_console_works_in_the_browser() {
    use std::io::Write;
    if !browser::available() {
        return;
    }
    let server = Server::start(None);
    let mut add = std::process::Command::new(kikeru_tests::binary())
        .args(["operator", "add", "--email", "office@example.jp"])
        .env_clear()
        .env("KIKERU_DATA_DIR", server.data.path())
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    add.stdin
        .take()
        .unwrap()
        .write_all(b"quiet office lantern harbour\n")
        .unwrap();
    assert!(add.wait().unwrap().success());
    let mut guest = kikeru_tests::http::Client::new(&server.base);
    let taken = guest.post(
        "/api/v1/inquiries",
        serde_json::json!({"email": "guest@example.jp", "subject": "領収書", "message": "再発行できますか"}),
    );
    assert_eq!(taken.status, 202);

    let browser = Browser::start(&Options::default());
    browser.goto(&format!("{}/admin", server.base));
    inspect(&browser, "console-login-ja-desktop");
    browser.fill("#email", "office@example.jp");
    browser.fill("#password", "quiet office lantern harbour");
    browser.click("form[action='/admin/login'] button");
    inspect(&browser, "console-home-ja-desktop");
    browser.click("nav a[href='/admin/inquiries']");
    inspect(&browser, "console-inquiries-ja-desktop");
    browser.click("td a");
    inspect(&browser, "console-inquiry-ja-desktop");
    browser.fill("#answer", "マイページの購入履歴から再発行できます。");
    browser.click("form[action$='/answer'] button");
    assert!(
        browser
            .source()
            .contains("マイページの購入履歴から再発行できます。")
    );
    assert!(
        outbox::last(&server.outbox(), "guest@example.jp", "inquiry_answered").is_some(),
        "the answer is mailed"
    );
    for path in [
        "/admin/disclosures",
        "/admin/legal-orders",
        "/admin/register",
        "/admin/catalogue",
    ] {
        browser.goto(&format!("{}{path}", server.base));
        inspect(
            &browser,
            &format!("console{}-ja-desktop", path.replace('/', "-")),
        );
    }
}
