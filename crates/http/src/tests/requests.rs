//! Requests under APPI on the site: asked on the public form, proven by the mailed code, seen
//! by number and on My Page, counted down and answered in the console — and an answered
//! cessation stops the disclosure engine for that partner.

use super::*;
use kikeru_domain::office::operators::Role;
use kikeru_domain::ports::Message;

async fn code_mailed(f: &Fixture) -> String {
    f.harness
        .mail()
        .await
        .sent()
        .iter()
        .rev()
        .find_map(|m| match &m.message {
            Message::RequestCode { code, .. } => Some(code.clone()),
            _ => None,
        })
        .expect("a code by mail")
}

async fn page(f: &Fixture, path: &str, cookie: &str) -> (StatusCode, String) {
    let response = f.client.get(path).header("cookie", cookie).send().await;
    let status = response.0.status();
    (status, text_of(response).await)
}

#[tokio::test]
async fn a_cessation_goes_from_the_public_form_to_an_answer_and_stops_the_provision() {
    let f = fixture();
    let office = f.operator("office@example.jp", Role::Admin).await;
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
    let session = f.sign_in("hanako@example.jp").await;
    f.client
        .put("/api/v1/me/consents/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &session)
        .body_json(&json!({"granted": true}))
        .send()
        .await
        .assert_status_is_ok();
    let me = json_of(
        f.client
            .get("/api/v1/me")
            .header("cookie", &session)
            .send()
            .await,
    )
    .await;
    let disclose = || {
        f.client
            .post("/api/v1/admin/disclosures")
            .header("origin", ORIGIN)
            .header("cookie", &office)
            .body_json(
                &json!({"member_id": me["id"], "recipient": "partner:kikeru-label",
                               "categories": ["email_address"], "basis": "consent:label-offers"}),
            )
            .send()
    };
    disclose().await.assert_status(StatusCode::CREATED);

    let (csrf_cookie, csrf) = form_session(&f, "/requests").await;
    for lang in ["ja", "en"] {
        let (status, html) = page(
            &f,
            "/requests",
            &format!("{csrf_cookie}; kikeru_lang={lang}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(!html.contains(crate::site::i18n::MISSING), "{lang}");
        assert!(
            html.contains("partner:kikeru-label"),
            "the partners to stop are offered"
        );
    }
    let unchosen = post_form(
        &f,
        "/requests",
        &csrf_cookie,
        format!("csrf={csrf}&email=hanako%40example.jp"),
    )
    .await;
    unchosen.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let asked = post_form(
        &f,
        "/requests",
        &csrf_cookie,
        format!("csrf={csrf}&email=hanako%40example.jp&kind=cessation&stop=partner%3Akikeru-label&details=stop"),
    )
    .await;
    asked.assert_status(StatusCode::SEE_OTHER);
    let status_path = header(&asked, "location");
    let number = status_path.trim_start_matches("/requests/").to_owned();
    assert!(number.starts_with("R-"), "{status_path}");
    let (_, waiting) = page(&f, &status_path, &csrf_cookie).await;
    assert!(waiting.contains("本人確認待ち") && waiting.contains("name=\"code\""));
    assert!(
        !waiting.contains("hanako@example.jp"),
        "the status page names no one"
    );

    let wrong = post_form(
        &f,
        &format!("{status_path}/verify"),
        &csrf_cookie,
        format!("csrf={csrf}&code=WRNG-CODE"),
    )
    .await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let code = code_mailed(&f).await;
    let verified = post_form(
        &f,
        &format!("{status_path}/verify"),
        &csrf_cookie,
        format!("csrf={csrf}&code={code}"),
    )
    .await;
    verified.assert_status(StatusCode::SEE_OTHER);
    let (_, accepted) = page(&f, &status_path, &csrf_cookie).await;
    assert!(
        accepted.contains("受付済み") && accepted.contains("id=\"request-due\""),
        "{accepted}"
    );
    assert!(matches!(
        f.harness.mail().await.sent().last().unwrap().message,
        Message::RequestAccepted { .. }
    ));
    let (_, mine) = page(&f, "/me/requests", &format!("{csrf_cookie}; {session}")).await;
    assert!(
        mine.contains(&number),
        "the member sees the request proven by their address"
    );

    let (console, console_csrf) = console_session(&f, "chief@example.jp", Role::Admin).await;
    let (_, list) = page(&f, "/admin/requests", &console).await;
    assert!(
        list.contains(&number) && list.contains("残り 14日"),
        "{list}"
    );
    let id = f.harness.requests.list(true).await.unwrap()[0].id;
    let answered = post_form(
        &f,
        &format!("/admin/requests/{id}/answer"),
        &console,
        format!(
            "csrf={console_csrf}&answer=%E5%81%9C%E6%AD%A2%E3%81%97%E3%81%BE%E3%81%97%E3%81%9F"
        ),
    )
    .await;
    answered.assert_status(StatusCode::SEE_OTHER);
    assert!(matches!(
        f.harness.mail().await.sent().last().unwrap().message,
        Message::RequestAnswered { .. }
    ));
    let refused = disclose().await;
    let problem = assert_problem(refused, StatusCode::FORBIDDEN, "disclosure_denied").await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("stop"),
        "{problem}"
    );
    let (_, detail) = page(&f, &format!("/admin/requests/{id}"), &console).await;
    assert!(detail.contains("回答済み") && detail.contains("停止しました"));
    let (_, stopped) = page(&f, "/me/requests", &format!("{csrf_cookie}; {session}")).await;
    assert!(
        stopped.contains("提供先「Kikeru Label K.K.」") || stopped.contains("kikeru-label"),
        "{stopped}"
    );
    let again = post_form(
        &f,
        &format!("/admin/requests/{id}/refuse"),
        &console,
        format!("csrf={console_csrf}&ground=harm&reasons=x"),
    )
    .await;
    again.assert_status(StatusCode::CONFLICT);
}

#[tokio::test]
async fn processors_are_supervised_from_the_console_and_their_country_is_published() {
    let f = fixture();
    let (console, csrf) = console_session(&f, "chief@example.jp", Role::Admin).await;
    let (_, home) = page(&f, "/admin", &console).await;
    assert!(
        home.contains("点検が必要な委託先: 2"),
        "no review recorded yet: {home}"
    );
    let today = f
        .harness
        .requests
        .now()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string();
    let body = |environment: &str| {
        format!(
            "csrf={csrf}&processor=test&contract_date=2025-01-10&country=United+States&sub_processors=AWS&foreign_environment={environment}&reviewed_on={today}&outcome=OK"
        )
    };
    let unchecked = post_form(&f, "/admin/supervision", &console, body("")).await;
    unchecked.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        text_of(unchecked)
            .await
            .contains("その国の制度について確認したこと")
    );
    let recorded = post_form(&f, "/admin/supervision", &console, body("CBPR+participant")).await;
    recorded.assert_status(StatusCode::SEE_OTHER);
    let (_, home) = page(&f, "/admin", &console).await;
    assert!(home.contains("点検が必要な委託先: 1"), "{home}");
    for lang in ["ja", "en"] {
        let (_, privacy) = page(&f, "/privacy", &format!("kikeru_lang={lang}")).await;
        assert!(
            privacy.contains("<td>United States</td><td>CBPR participant</td>"),
            "{privacy}"
        );
        assert!(privacy.contains("href=\"/requests\"") && privacy.contains("id=\"business\""));
        assert!(!privacy.contains(crate::site::i18n::MISSING), "{lang}");
    }
}

#[tokio::test]
async fn a_new_policy_version_is_published_from_the_console_and_shown_to_members() {
    let f = fixture();
    let office = f.operator("office@example.jp", Role::Admin).await;
    f.partner(&office).await;
    let purpose = |notice: &str| {
        json!({"title_ja": "レーベルのお知らせ", "title_en": "Label offers", "notice_ja": notice,
               "notice_en": "We give the label your address", "recipient": "kikeru-label", "categories": ["email_address"]})
    };
    let save = |notice: &str| {
        f.client
            .put("/api/v1/admin/purposes/label-offers")
            .header("origin", ORIGIN)
            .header("cookie", &office)
            .body_json(&purpose(notice))
            .send()
    };
    save("メールアドレスを提供します")
        .await
        .assert_status_is_ok();
    f.register_and_verify("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    f.client
        .put("/api/v1/me/consents/label-offers")
        .header("origin", ORIGIN)
        .header("cookie", &session)
        .body_json(&json!({"granted": true}))
        .send()
        .await
        .assert_status_is_ok();

    let (console, csrf) = console_session(&f, "chief@example.jp", Role::Admin).await;
    let (status, listed) = page(&f, "/admin/policy", &console).await;
    assert_eq!(status, StatusCode::OK);
    assert!(listed.contains("value=\"2\""), "the next number is offered");
    let today = f
        .harness
        .requests
        .now()
        .to_offset(time::macros::offset!(+9))
        .date()
        .to_string();
    let wrong = post_form(
        &f,
        "/admin/policy",
        &console,
        format!("csrf={csrf}&number=3&effective={today}&changes_ja=x&changes_en=x"),
    )
    .await;
    wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let published = post_form(
        &f,
        "/admin/policy",
        &console,
        format!(
            "csrf={csrf}&number=2&effective={today}&changes_ja=%E5%A7%94%E8%A8%97%E5%85%88%E3%82%92%E8%BF%BD%E5%8A%A0&changes_en=Processor+added"
        ),
    )
    .await;
    published.assert_status(StatusCode::SEE_OTHER);
    let mail = f.harness.mail().await.sent();
    let told = mail
        .iter()
        .find(|m| matches!(m.message, Message::PolicyChanged { .. }));
    assert_eq!(
        told.map(|m| m.to.as_str()),
        Some("hanako@example.jp"),
        "the member is told by mail"
    );
    // The purpose's notice changes with the new version: the member is asked again.
    save("メールアドレスと購入履歴を提供します")
        .await
        .assert_status_is_ok();
    let (_, my_page) = page(&f, "/me", &session).await;
    assert!(my_page.contains("id=\"policy-changes\"") && my_page.contains("委託先を追加"));
    assert!(
        my_page.contains("同意をいただいた後に内容が変わりました"),
        "{my_page}"
    );
    let (_, privacy) = page(&f, "/privacy", "kikeru_lang=ja").await;
    assert!(
        privacy.contains(&format!("第2版（{today} 施行）")),
        "{privacy}"
    );
    assert!(privacy.contains("id=\"history\""));
}

#[tokio::test]
async fn the_disclosure_as_a_document_shows_everything_held_readably_and_safely() {
    let f = fixture();
    f.register_and_verify("hanako@example.jp").await;
    let session = f.sign_in("hanako@example.jp").await;
    f.post(
        "/api/v1/inquiries",
        json!({"email": "hanako@example.jp", "subject": "<b>再生</b>について", "message": "質問です"}),
        Some(&session),
    )
    .await
    .assert_status(StatusCode::ACCEPTED);
    let (status, _) = page(&f, "/me/document", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed-in members only");
    for lang in ["ja", "en"] {
        let (status, html) = page(
            &f,
            "/me/document",
            &format!("{session}; kikeru_lang={lang}"),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert!(html.contains("hanako@example.jp"));
        assert!(html.contains("&lt;b&gt;再生&lt;/b&gt;について") && !html.contains("<b>再生"));
        assert!(!html.contains(crate::site::i18n::MISSING), "{lang}");
    }
    let (_, html) = page(&f, "/me/document", &format!("{session}; kikeru_lang=ja")).await;
    assert!(
        html.contains("保有個人データの開示（文書）") && html.contains("<dt>メールアドレス</dt>")
    );
}
