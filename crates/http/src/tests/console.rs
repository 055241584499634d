//! The office console's pages: answering inquiries, approving legal orders, keeping partners.

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
        "/admin/payments",
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
