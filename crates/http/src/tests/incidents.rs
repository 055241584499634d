//! A leak handled in the console: recorded, judged reportable with its deadlines counting
//! down, the report printed, the reports marked submitted, and — by an administrator — the
//! notice mailed to each member concerned in their language. Every step is audited.

use kikeru_domain::office::operators::Role;
use poem::http::StatusCode;
use serde_json::json;

use super::post_form as post;
use super::{Fixture, ORIGIN, console_session, fixture, header, json_of, text_of};

async fn page(f: &Fixture, path: &str, cookie: &str) -> String {
    let response = f.client.get(path).header("cookie", cookie).send().await;
    response.assert_status_is_ok();
    text_of(response).await
}

/// Registers a member in `language` and answers their ID.
async fn member(f: &Fixture, email: &str, language: &str) -> String {
    f.register_and_verify(email).await;
    let cookie = f.sign_in(email).await;
    f.client
        .patch("/api/v1/me")
        .header("origin", ORIGIN)
        .header("cookie", &cookie)
        .body_json(&json!({"language": language}))
        .send()
        .await
        .assert_status_is_ok();
    let me = json_of(
        f.client
            .get("/api/v1/me")
            .header("cookie", &cookie)
            .send()
            .await,
    )
    .await;
    me["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_leak_is_recorded_reported_and_each_member_concerned_is_told_once_in_their_language() {
    let f = fixture();
    let hanako = member(&f, "hanako@example.jp", "ja").await;
    let john = member(&f, "john@example.jp", "en").await;
    member(&f, "bystander@example.jp", "ja").await;
    let (office, csrf) = console_session(&f, "office@example.jp", Role::Operator).await;
    let (chief, chief_csrf) = console_session(&f, "chief@example.jp", Role::Admin).await;

    // Nonsense is refused with the form again, and nothing is recorded.
    for bad in [
        "discovered_at=yesterday&categories=email_address&people=2&cause=x&members=",
        "discovered_at=2099-01-01T10:00&categories=email_address&people=2&cause=x&everyone=1",
        "discovered_at=2026-03-30T10:00&categories=email_address&people=2&cause=+&everyone=1",
        "discovered_at=2026-03-30T10:00&categories=passwords&people=2&cause=x&everyone=1",
        "discovered_at=2026-03-30T10:00&categories=email_address&people=1&cause=x&members=not-an-id",
    ] {
        let refused = post(
            &f,
            "/admin/incidents",
            &office,
            format!("csrf={csrf}&{bad}"),
        )
        .await;
        refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert!(f.harness.incidents.all().await.unwrap().is_empty());

    // The fixture's clock shows 2026-04-01 09:00 UTC (18:00 in Japan): discovered two days ago.
    let recorded = post(
        &f,
        "/admin/incidents",
        &office,
        format!(
            "csrf={csrf}&discovered_at=2026-03-30T18%3A00&categories=email_address\
             &categories=purchase_history&credentials_or_payment=1&malicious_suspected=1\
             &people=2&cause=%E4%B8%8D%E6%AD%A3%E3%82%A2%E3%82%AF%E3%82%BB%E3%82%B9\
             &members={hanako}+{john}"
        ),
    )
    .await;
    recorded.assert_status(StatusCode::SEE_OTHER);
    let location = header(&recorded, "location");
    let id = location.rsplit('/').next().unwrap().to_owned();

    let list = page(&f, "/admin/incidents", &office).await;
    assert!(list.contains(&format!("href=\"/admin/incidents/{id}\"")));
    assert!(list.contains("速報の期限"), "the next deadline");
    assert!(
        list.contains("残り 3日 0時間"),
        "counting down: five days from discovery"
    );
    let detail = page(&f, &location, &office).await;
    for needle in [
        "財産的被害のおそれがある",
        "不正の目的によるおそれがある",
        "確報の期限",
        "2026-05-29",
        "管理者だけ",
    ] {
        assert!(detail.contains(needle), "{needle} on the incident page");
    }

    let report = page(&f, &format!("{location}/report"), &office).await;
    for needle in [
        "速報",
        "みんな聞ける株式会社（サンプル）",
        "2026年3月30日 18時00分",
        "メールアドレス、購入履歴",
        "2人",
        "不正アクセス",
        "不正利用による財産的被害のおそれ",
        "未実施",
        "事務局が記入",
    ] {
        assert!(report.contains(needle), "{needle} in the report");
    }

    // Only an administrator approves the notice.
    let refused = post(
        &f,
        &format!("{location}/notice"),
        &office,
        format!("csrf={csrf}"),
    )
    .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    assert!(
        f.harness
            .mail()
            .await
            .kinds_to("hanako@example.jp")
            .iter()
            .all(|k| *k != "incident_notice")
    );
    post(
        &f,
        &format!("{location}/notice"),
        &chief,
        format!("csrf={chief_csrf}"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    // Approving again tells nobody twice.
    post(
        &f,
        &format!("{location}/notice"),
        &chief,
        format!("csrf={chief_csrf}"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    let mail = f.harness.mail().await;
    let notices: Vec<_> = mail
        .sent()
        .into_iter()
        .filter(|m| m.message.kind() == "incident_notice")
        .collect();
    assert_eq!(notices.len(), 2, "one each, nobody else");
    for (to, language) in [
        ("hanako@example.jp", kikeru_domain::Language::Ja),
        ("john@example.jp", kikeru_domain::Language::En),
    ] {
        assert!(
            notices
                .iter()
                .any(|m| m.to.as_str() == to && m.language == language),
            "{to} told in their language"
        );
    }
    let detail = page(&f, &location, &chief).await;
    assert!(
        detail.contains("2 通を送信キューに登録"),
        "the notice's state"
    );

    // The preliminary report submitted: the countdown moves to the final report.
    post(
        &f,
        &format!("{location}/reported"),
        &office,
        format!("csrf={csrf}&stage=preliminary"),
    )
    .await
    .assert_status(StatusCode::SEE_OTHER);
    post(
        &f,
        &format!("{location}/reported"),
        &office,
        format!("csrf={csrf}&stage=never"),
    )
    .await
    .assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    let list = page(&f, "/admin/incidents", &office).await;
    assert!(list.contains("確報の期限"));
    let report = page(&f, &format!("{location}/report"), &office).await;
    assert!(report.contains("確報"));
    assert!(report.contains("2人に電子メールで通知した"));

    for missing in [
        "/admin/incidents/not-an-id",
        "/admin/incidents/0192f0e0-0000-7000-8000-000000000000",
    ] {
        f.client
            .get(missing)
            .header("cookie", &office)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    // Members and visitors never see the console's incidents.
    let away = f.client.get("/admin/incidents").send().await;
    away.assert_status(StatusCode::SEE_OTHER);

    let audit: Vec<String> =
        kikeru_domain::office::ports::Operators::events(&*f.harness.store, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
    for step in [
        "incident.recorded",
        "incident.report_produced",
        "incident.notice_refused",
        "incident.notice_approved",
        "incident.reported",
    ] {
        assert!(audit.iter().any(|a| a == step), "{step} audited");
    }
}
