//! The member web site in headless Chromium: register → verify (from the outbox) → sign in →
//! confirm the order → buy in the sandbox → find the purchase and play it in the library → change the e-mail address
//! → download the data → switch language → delete the account; a browser without cookies is
//! told to enable them. Every page visited passes axe-core's WCAG 2.2 AA checks with no serious
//! or critical violation, and is photographed in Japanese and English at phone and desktop
//! width. On SQLite, and the main journey on PostgreSQL.

use std::path::{Path, PathBuf};

use crate::support::browser::{self, Browser, Options};
use crate::support::{Server, outbox};

const PASSWORD: &str = "correct horse battery staple";

fn shots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("screenshots")
}

/// Checks the page with axe-core (when installed; CI installs it) and photographs it.
pub(crate) fn inspect(browser: &Browser, name: &str) {
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
    // The total says 税込 once, with the amount.
    let checkout = browser.source();
    assert!(checkout.contains("合計: ") && !checkout.contains("合計（税込）: "));
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

    // The receipt, issued within seconds of the payment, printed: only the receipt is left.
    let mut issued = false;
    for _ in 0..50 {
        let count = browser.execute("return document.querySelectorAll('#receipts a').length");
        if count.as_u64().unwrap_or(0) > 0 {
            issued = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        browser.goto(&format!("{base}/me"));
    }
    assert!(issued, "a receipt appears on My Page");
    browser.click("#receipts a");
    let receipt = browser.text("#receipt");
    for required in [
        "適格簡易請求書",
        "T7123456789012",
        "10%対象",
        "うち消費税",
        "合計（税込）",
        title.as_str(),
    ] {
        assert!(receipt.contains(required), "{required} in {receipt}");
    }
    inspect(&browser, &format!("{label}-receipt-ja-desktop"));
    browser.command(
        "POST",
        "/goog/cdp/execute",
        Some(
            serde_json::json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": "print"}}),
        ),
    );
    let shown = |css: &str| {
        browser.execute(&format!(
            "return getComputedStyle(document.querySelector({css:?})).display !== 'none'"
        ))
    };
    assert_eq!(shown("#receipt"), true, "the receipt is printed");
    assert_eq!(shown("#receipt-lines"), true, "with its items");
    for hidden in ["header.top", "footer", "form[action$='/recipient']"] {
        assert_eq!(shown(hidden), false, "{hidden} is not printed");
    }
    browser.screenshot(&shots().join(format!("{label}-receipt-print.png")));
    browser.command(
        "POST",
        "/goog/cdp/execute",
        Some(serde_json::json!({"cmd": "Emulation.setEmulatedMedia", "params": {"media": ""}})),
    );

    // The 特定商取引法に基づく表記, linked from the footer, in both languages.
    browser.click("footer a[href='/tokushoho']");
    inspect_everywhere(&browser, &base, "/tokushoho", &format!("{label}-tokushoho"));
    assert!(browser.text("h1").contains("特定商取引法に基づく表記"));
    browser.goto(&format!("{base}/lang/en?back=/tokushoho"));
    assert!(
        browser
            .text("h1")
            .contains("Act on Specified Commercial Transactions")
    );
    browser.goto(&format!("{base}/lang/ja?back=/me"));

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
    browser.execute("document.getElementById('delete_confirm').click(); return true;");
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
    let mut add = std::process::Command::new(crate::support::binary())
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
    let mut guest = crate::support::http::Client::new(&server.base);
    let taken = guest.post(
        "/api/v1/inquiries",
        serde_json::json!({"email": "guest@example.jp", "subject": "領収書", "message": "再発行できますか"}),
    );
    assert_eq!(taken.status, 202);

    // Two sales for the books.
    let mut hanako = crate::shop::member_in(&server, &server.outbox(), "hanako@example.jp");
    let products = hanako.get("/api/v1/products");
    for item in products.json["items"]
        .as_array()
        .expect("the demo catalogue")
        .iter()
        .take(2)
    {
        crate::shop::bought_in_sandbox(&server, &mut hanako, item["id"].as_str().unwrap());
    }

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
        "/admin/payments",
    ] {
        browser.goto(&format!("{}{path}", server.base));
        inspect(
            &browser,
            &format!("console{}-ja-desktop", path.replace('/', "-")),
        );
    }

    // The books and the statistics draw their charts (SVG, no script) beside their tables.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        browser.goto(&format!("{}/admin/books", server.base));
        let bars = browser
            .execute("return document.querySelectorAll('svg.chart rect[fill=\"#1f5fa8\"]').length");
        if bars.as_u64().unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sales in the books: {}",
            browser.source()
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    assert_eq!(
        browser.execute("return document.querySelector('svg.chart').getAttribute('role')"),
        "img"
    );
    inspect_everywhere(&browser, &server.base, "/admin/books", "console-books");
    inspect_everywhere(
        &browser,
        &server.base,
        "/admin/statistics",
        "console-statistics",
    );
    assert!(browser.source().contains("views-chart-title"));

    // A leak recorded in the console: judged, counted down, and its report printable.
    browser.click("nav a[href='/admin/incidents']");
    inspect(&browser, "console-incidents-ja-desktop");
    // (A date-time field and check boxes are set directly: typing into them depends on the
    // browser's locale.)
    browser.execute(
        "document.querySelector('#discovered_at').value = '2026-01-05T10:00';\
         for (const s of ['input[name=categories][value=email_address]', \
         'input[name=credentials_or_payment]', 'input[name=people_estimated]', \
         'input[name=everyone]']) document.querySelector(s).checked = true;",
    );
    browser.fill("#people", "1200");
    browser.fill("#cause", "設定の誤りで会員一覧が公開されていた");
    browser.click("form[action='/admin/incidents'] button");
    assert!(
        browser.url().contains("/admin/incidents/"),
        "{}",
        browser.url()
    );
    assert!(browser.text("#reasons").contains("1,000 人を超える"));
    assert!(
        browser.text("#deadlines").contains("期限超過"),
        "discovered long ago"
    );
    inspect(&browser, "console-incident-ja-desktop");
    browser.click("#report-link");
    assert!(browser.text("#report").contains("約1,200人（見込み）"));
    inspect(&browser, "console-incident-report-ja-desktop");
}
