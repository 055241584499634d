//! Requests under APPI in headless Chromium against the real binary: a former inquirer asks
//! for disclosure and a member for cessation of provision to a partner, both on the public
//! form, each proving the address with the mailed code; the status pages show the due date;
//! an administrator answers both in the console, where each shows the countdown; the answers
//! arrive by mail, and the cessation stops the disclosure engine for that partner. Every page
//! passes axe-core.

use std::path::Path;

use serde_json::json;

use crate::shop::member_in;
use crate::site::inspect;
use crate::support::browser::{self, Browser, Options};
use crate::support::http::Client;
use crate::support::{Server, add_operator, outbox};

const OFFICE_PASSWORD: &str = "quiet office lantern harbour";

/// The code in the mailed request code.
fn mailed_code(mailbox: &Path, to: &str) -> String {
    let mail = outbox::last(mailbox, to, "request_code").expect("the code by mail");
    let line = mail
        .body
        .lines()
        .find(|l| l.starts_with("確認コード: "))
        .expect("the code's line");
    line.trim_start_matches("確認コード: ").trim().to_owned()
}

/// Asks on the public form and proves the address; answers the status page's due date.
fn ask(
    browser: &Browser,
    server: &Server,
    mailbox: &Path,
    email: &str,
    kind: &str,
    stop: &str,
) -> String {
    browser.goto(&format!("{}/requests", server.base));
    browser.fill("#email", email);
    browser.execute(&format!(
        "document.querySelector('#kind-{kind}').checked = true; document.querySelector('#stop').value = '{stop}';"
    ));
    browser.fill("#details", "よろしくお願いします。");
    browser.click("form[action='/requests'] button");
    assert!(browser.url().contains("/requests/R-"), "{}", browser.url());
    assert_eq!(browser.text("#request-state"), "本人確認待ち");
    inspect(browser, &format!("request-code-{kind}-ja-desktop"));
    browser.fill("#code", &mailed_code(mailbox, email));
    browser.click("form[action$='/verify'] button");
    assert_eq!(browser.text("#request-state"), "受付済み");
    let due = browser.text("#request-due");
    assert!(due.contains("（日本時間）"), "{due}");
    let accepted = outbox::last(mailbox, email, "request_accepted").expect("accepted");
    assert!(accepted.body.contains("回答の期限"), "{}", accepted.body);
    browser.text("#request-number")
}

#[test]
fn a_disclosure_and_a_cessation_go_from_the_public_form_to_an_answer_in_the_browser() {
    if !browser::available() {
        return;
    }
    let data = tempfile::tempdir().unwrap();
    add_operator(
        data.path(),
        None,
        "chief@example.jp",
        "admin",
        OFFICE_PASSWORD,
    );
    let data_dir = data.path().to_str().unwrap().to_owned();
    let server = Server::start_with(None, &[("KIKERU_DATA_DIR", data_dir.as_str())]);
    let mailbox = data.path().join("outbox");
    let mut office = Client::new(&server.base);
    let signed_in = office.post(
        "/api/v1/admin/sessions",
        json!({"email": "chief@example.jp", "password": OFFICE_PASSWORD}),
    );
    assert_eq!(signed_in.status, 201);
    let partner = json!({"name": "Kikeru Label K.K.", "address": "東京都港区1-2-3",
                         "representative": "山田花子", "contact": "privacy@label.example.jp"});
    assert_eq!(
        office
            .put("/api/v1/admin/partners/kikeru-label", partner)
            .status,
        200
    );
    let purpose = json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers",
                         "notice_ja": "Kikeru Label にメールアドレスを提供します",
                         "notice_en": "We give Kikeru Label your address",
                         "recipient": "kikeru-label", "categories": ["email_address"]});
    assert_eq!(
        office
            .put("/api/v1/admin/purposes/label-offers", purpose)
            .status,
        200
    );
    let mut hanako = member_in(&server, &mailbox, "hanako@example.jp");
    assert_eq!(
        hanako
            .put("/api/v1/me/consents/label-offers", json!({"granted": true}))
            .status,
        200
    );
    let me = hanako.get("/api/v1/me").json;
    let disclose = |office: &mut Client| {
        office.post(
            "/api/v1/admin/disclosures",
            json!({"member_id": me["id"], "recipient": "partner:kikeru-label",
                   "categories": ["email_address"], "basis": "consent:label-offers"}),
        )
    };
    assert_eq!(disclose(&mut office).status, 201);

    let browser = Browser::start(&Options::default());
    browser.goto(&format!("{}/requests", server.base));
    inspect(&browser, "requests-ja-desktop");
    let disclosure = ask(
        &browser,
        &server,
        &mailbox,
        "guest@example.jp",
        "disclosure_document",
        "all",
    );
    let cessation = ask(
        &browser,
        &server,
        &mailbox,
        "hanako@example.jp",
        "cessation",
        "partner:kikeru-label",
    );

    browser.goto(&format!("{}/admin", server.base));
    browser.fill("#email", "chief@example.jp");
    browser.fill("#password", OFFICE_PASSWORD);
    browser.click("form[action='/admin/login'] button");
    browser.click("nav a[href='/admin/requests']");
    inspect(&browser, "console-requests-ja-desktop");
    let list = browser.source();
    assert!(list.contains(&disclosure) && list.contains(&cessation));
    assert!(
        list.contains("残り 13日 23時間") || list.contains("残り 14日 0時間"),
        "{list}"
    );
    for (number, answer) in [
        (
            &disclosure,
            "お問い合わせの記録（受付番号と日時）のほかに、保有している情報はありません。",
        ),
        (&cessation, "Kikeru Label への提供を停止しました。"),
    ] {
        browser.goto(&format!("{}/admin/requests", server.base));
        browser.click(&format!("a[data-number='{number}']"));
        inspect(&browser, "console-request-ja-desktop");
        browser.fill("#answer", answer);
        browser.click("form[action$='/answer'] button");
        assert!(browser.source().contains(answer));
    }
    let answered = outbox::last(&mailbox, "hanako@example.jp", "request_answered")
        .expect("the answer by mail");
    assert!(answered.body.contains("停止しました"), "{}", answered.body);
    assert!(outbox::last(&mailbox, "guest@example.jp", "request_answered").is_some());

    let refused = disclose(&mut office);
    assert_eq!(
        (refused.status, refused.json["code"].as_str()),
        (403, Some("disclosure_denied")),
        "the cessation stops the provision: {refused:?}"
    );
    browser.goto(&format!("{}/requests/{cessation}", server.base));
    assert_eq!(browser.text("#request-state"), "回答済み");
}
