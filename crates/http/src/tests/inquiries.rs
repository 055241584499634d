//! Inquiries: the contact form and its acknowledgement, bots and floods turned away, operators' answers audited.

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
