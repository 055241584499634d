//! Service tests: consent, disclosure and the ledger on the in-memory adapters.

use kikeru_domain::membership::{Client, Registration};
use kikeru_domain::office::operators::{Operator, Role};
use kikeru_domain::privacy::disclosure::{DisclosureError, RegisterChange, RegisterError};
use kikeru_domain::privacy::{
    ClaimedBasis, DataCategory, Denial, DisclosureRequest, Partner, Processor, Purpose, Recipient,
    Transfer,
};
use kikeru_domain::{Language, Localized, Member};
use kikeru_testkit::Harness;
use time::macros::datetime;

async fn member(h: &Harness, email: &str) -> Member {
    let client = Client {
        key: email.into(),
        browser: String::new(),
    };
    let request = Registration {
        email: Harness::email(email),
        password: "correct horse battery staple".into(),
        language: Language::Ja,
    };
    h.membership.register(request, &client).await.unwrap();
    let session = h
        .membership
        .sign_in(email, "correct horse battery staple", &client, None)
        .await
        .unwrap();
    h.membership
        .authenticate(&session.token)
        .await
        .unwrap()
        .member
}

async fn label_offers(h: &Harness) {
    let purpose = Purpose {
        key: "label-offers".into(),
        title: Localized::title("レーベルのお知らせ", "Label offers").unwrap(),
        notice: Localized::description(
            "Kikeru Label にメールアドレスと購入履歴を提供します",
            "We give Kikeru Label your address and purchases",
        )
        .unwrap(),
        notice_version: 0,
        recipient: Some("Kikeru Label".into()),
        categories: [DataCategory::EmailAddress, DataCategory::PurchaseHistory]
            .into_iter()
            .collect(),
        transfer: Transfer::Provision,
    };
    h.consents.save_purpose(purpose).await.unwrap();
    h.disclosures
        .save_partner(&Partner {
            key: "Kikeru Label".into(),
            name: "Kikeru Label K.K.".into(),
            address: "東京都港区1-2-3".into(),
            representative: Some("山田花子".into()),
            contact: "privacy@label.example.jp".into(),
        })
        .await
        .unwrap();
}

/// An operator with `role`, added the first time it is asked for.
async fn operator(h: &Harness, email: &str, role: Role) -> Operator {
    if let Some(existing) = h
        .office
        .operator_by_email(&Harness::email(email))
        .await
        .unwrap()
    {
        return existing;
    }
    h.office
        .add_operator(Harness::email(email), "quiet office lantern harbour", role)
        .await
        .unwrap();
    h.office
        .operator_by_email(&Harness::email(email))
        .await
        .unwrap()
        .unwrap()
}

async fn admin(h: &Harness, email: &str) -> Operator {
    operator(h, email, Role::Admin).await
}

fn request(member: &Member, categories: &[DataCategory]) -> DisclosureRequest {
    DisclosureRequest {
        member_id: member.id,
        recipient: Recipient::Partner("Kikeru Label".into()),
        categories: categories.iter().copied().collect(),
        transfer: Transfer::Provision,
        basis: ClaimedBasis::Consent("label-offers".into()),
        at: datetime!(2000-01-01 00:00 UTC),
    }
}

#[tokio::test]
async fn consent_allows_a_disclosure_of_only_its_categories_and_the_member_sees_it() {
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    let denied = h
        .disclosures
        .disclose(
            &admin(&h, "admin@kikeru.example").await,
            request(&hanako, &[DataCategory::EmailAddress]),
        )
        .await;
    assert!(
        matches!(denied, Err(DisclosureError::Denied(Denial::NoConsent))),
        "{denied:?}"
    );
    assert!(
        h.disclosures.about(hanako.id).await.unwrap().is_empty(),
        "a refusal records nothing"
    );

    h.consents
        .set(hanako.id, "label-offers", true, "web")
        .await
        .unwrap();
    let (entry, package) = h
        .disclosures
        .disclose(
            &admin(&h, "admin@kikeru.example").await,
            request(&hanako, &[DataCategory::EmailAddress]),
        )
        .await
        .unwrap();
    assert_eq!(package.email.as_deref(), Some("hanako@example.jp"));
    assert_eq!(entry.recipient_details.name, "Kikeru Label K.K.");
    assert_eq!(entry.recipient_details.address, "東京都港区1-2-3");
    assert!(
        package.purchases.is_none() && package.display_name.is_none(),
        "only the allowed categories"
    );
    assert_eq!(h.disclosures.about(hanako.id).await.unwrap(), vec![entry]);

    let too_much = h
        .disclosures
        .disclose(
            &admin(&h, "admin@kikeru.example").await,
            request(&hanako, &[DataCategory::DisplayName]),
        )
        .await;
    assert!(matches!(
        too_much,
        Err(DisclosureError::Denied(Denial::CategoryNotCovered(
            "display_name"
        )))
    ));
    let taro = member(&h, "taro@example.jp").await;
    assert!(h.disclosures.about(taro.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_withdrawal_stops_every_later_disclosure() {
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    h.consents
        .set(hanako.id, "label-offers", true, "web")
        .await
        .unwrap();
    h.clock.advance(std::time::Duration::from_secs(60));
    h.consents
        .set(hanako.id, "label-offers", false, "web")
        .await
        .unwrap();
    h.clock.advance(std::time::Duration::from_secs(60));
    let result = h
        .disclosures
        .disclose(
            &admin(&h, "admin@kikeru.example").await,
            request(&hanako, &[DataCategory::EmailAddress]),
        )
        .await;
    assert!(
        matches!(result, Err(DisclosureError::Denied(Denial::NoConsent))),
        "{result:?}"
    );
}

#[tokio::test]
async fn the_ledger_verifies_and_names_nothing_broken_when_intact() {
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    h.consents
        .set(hanako.id, "label-offers", true, "web")
        .await
        .unwrap();
    for _ in 0..3 {
        h.disclosures
            .disclose(
                &admin(&h, "admin@kikeru.example").await,
                request(
                    &hanako,
                    &[DataCategory::EmailAddress, DataCategory::PurchaseHistory],
                ),
            )
            .await
            .unwrap();
    }
    assert!(matches!(h.disclosures.verify().await, Ok(3)));
}

#[tokio::test]
async fn mail_to_the_service_is_stored_once_and_never_acknowledged() {
    use kikeru_domain::office::inquiry::{InboundMail, Received};
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    let mail = InboundMail {
        from: Harness::email("taro@example.ne.jp"),
        name: Some("鈴木太郎".into()),
        subject: "領収書\r\nBcc: someone@example.jp".into(),
        body: "再発行をお願いします。".into(),
        message_id: Some("<once@example.ne.jp>".into()),
        attachments: Vec::new(),
    };
    let Received::Stored(reference) = h.contact.receive_mail(mail.clone()).await.unwrap() else {
        panic!("not stored");
    };
    assert_eq!(
        h.contact.receive_mail(mail).await.unwrap(),
        Received::Duplicate(reference)
    );
    let stored = h.contact.list(false, 10).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0].subject, "領収書 Bcc: someone@example.jp",
        "one line"
    );
    assert_eq!(stored[0].language, Language::Ja, "answered in Japanese");
    assert!(
        h.mail().await.sent().is_empty(),
        "no automatic answer to a sender who may be forged"
    );
}

/// Only an administrator discloses: a plain operator gets nothing and the ledger stays empty.
#[tokio::test]
async fn a_plain_operator_cannot_disclose() {
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    let clerk = operator(&h, "clerk@kikeru.example", Role::Operator).await;
    let refused = h
        .disclosures
        .disclose(&clerk, request(&hanako, &[DataCategory::EmailAddress]))
        .await;
    assert!(
        matches!(refused, Err(DisclosureError::NotAdministrator)),
        "{refused:?}"
    );
    assert!(h.disclosures.about(hanako.id).await.unwrap().is_empty());
}

/// A new processor, or more categories for one, is a proposal until a second administrator
/// approves it: meanwhile the engine entrusts it with nothing new. A narrowing is in force at
/// once. A plain operator changes nothing.
#[tokio::test]
async fn the_processor_register_widens_only_with_a_second_administrator() {
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    let hanako = member(&h, "hanako@example.jp").await;
    let first = admin(&h, "first@kikeru.example").await;
    let second = admin(&h, "second@kikeru.example").await;
    let clerk = operator(&h, "clerk@kikeru.example", Role::Operator).await;
    let courier = |categories: &[DataCategory]| Processor {
        key: "courier".into(),
        name: "Courier K.K.".into(),
        purpose: "delivery".into(),
        categories: categories.iter().copied().collect(),
    };
    let entrusted = |categories: &[DataCategory]| DisclosureRequest {
        member_id: hanako.id,
        recipient: Recipient::Processor("courier".into()),
        categories: categories.iter().copied().collect(),
        transfer: Transfer::Provision,
        basis: ClaimedBasis::Entrustment,
        at: datetime!(2000-01-01 00:00 UTC),
    };
    assert!(matches!(
        h.disclosures
            .save_processor(&clerk, courier(&[DataCategory::EmailAddress]))
            .await,
        Err(RegisterError::NotAdministrator)
    ));
    let proposed = h
        .disclosures
        .save_processor(&first, courier(&[DataCategory::EmailAddress]))
        .await
        .unwrap();
    assert!(matches!(proposed, RegisterChange::Proposed(_)));
    assert!(
        h.disclosures
            .processors()
            .await
            .unwrap()
            .iter()
            .all(|p| p.key != "courier")
    );
    let early = h
        .disclosures
        .disclose(&second, entrusted(&[DataCategory::EmailAddress]))
        .await;
    assert!(
        matches!(early, Err(DisclosureError::Denied(_))),
        "{early:?}"
    );

    assert!(matches!(
        h.disclosures.approve_processor(&first, "courier").await,
        Err(RegisterError::SameAdministrator)
    ));
    assert!(matches!(
        h.disclosures.approve_processor(&clerk, "courier").await,
        Err(RegisterError::NotAdministrator)
    ));
    h.disclosures
        .approve_processor(&second, "courier")
        .await
        .unwrap();
    assert!(
        h.disclosures
            .processor_proposals()
            .await
            .unwrap()
            .is_empty()
    );
    h.disclosures
        .disclose(&first, entrusted(&[DataCategory::EmailAddress]))
        .await
        .unwrap();

    // More categories: a proposal again; the engine still entrusts only the address.
    let wider = h
        .disclosures
        .save_processor(
            &first,
            courier(&[DataCategory::EmailAddress, DataCategory::DisplayName]),
        )
        .await
        .unwrap();
    assert!(matches!(wider, RegisterChange::Proposed(_)));
    let refused = h
        .disclosures
        .disclose(&second, entrusted(&[DataCategory::DisplayName]))
        .await;
    assert!(
        matches!(refused, Err(DisclosureError::Denied(_))),
        "{refused:?}"
    );
    // Fewer categories: in force at once (and the pending wider change stays pending).
    let narrower = h
        .disclosures
        .save_processor(&first, courier(&[]))
        .await
        .unwrap();
    assert!(matches!(narrower, RegisterChange::Saved(_)));
    let gone = h
        .disclosures
        .disclose(&second, entrusted(&[DataCategory::EmailAddress]))
        .await;
    assert!(matches!(gone, Err(DisclosureError::Denied(_))), "{gone:?}");
}

fn code_in(mail: &kikeru_domain::ports::Mail) -> Option<String> {
    match &mail.message {
        kikeru_domain::ports::Message::RequestCode { code, .. } => Some(code.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn a_cessation_asked_by_mailed_code_and_answered_stops_the_engine_for_that_partner() {
    use kikeru_domain::privacy::requests::desk::{RequestError, RequestForm};
    use kikeru_domain::privacy::requests::{RequestKind, RequestStatus, StopScope};
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    h.consents
        .set(hanako.id, "label-offers", true, "web")
        .await
        .unwrap();
    let admin = admin(&h, "admin@kikeru.example").await;
    let form = RequestForm {
        kind: RequestKind::Cessation {
            scope: StopScope::Partner("Kikeru Label".into()),
        },
        details: "レーベルへの提供をやめてください".into(),
        language: Language::Ja,
    };
    let number = h
        .requests
        .submit_public(Harness::email("hanako@example.jp"), form, "client")
        .await
        .unwrap();
    let code = h
        .mail()
        .await
        .sent()
        .iter()
        .rev()
        .find_map(code_in)
        .expect("a code by mail");
    let waiting = h.requests.list(true).await.unwrap();
    assert_eq!(waiting[0].status, RequestStatus::Received);
    assert!(
        matches!(
            h.requests.answer(&admin, waiting[0].id, "まだ").await,
            Err(RequestError::WrongStatus("received"))
        ),
        "nothing is answered before the requester is verified"
    );
    assert!(matches!(
        h.requests.verify(&number, "WRNG-CODE").await,
        Err(RequestError::WrongCode)
    ));
    let verified = h.requests.verify(&number, &code).await.unwrap();
    assert_eq!(
        verified.member,
        Some(hanako.id),
        "linked by the proven address"
    );
    assert_eq!(
        verified.due_at,
        Some(datetime!(2026-04-15 09:00 UTC)),
        "due fourteen days after verification"
    );
    assert!(matches!(
        h.requests.verify(&number, &code).await,
        Err(RequestError::WrongCode)
    ));

    // Still allowed until the answer puts the cessation in force.
    h.disclosures
        .disclose(&admin, request(&hanako, &[DataCategory::EmailAddress]))
        .await
        .unwrap();
    let answered = h
        .requests
        .answer(&admin, verified.id, "Kikeru Label への提供を停止しました。")
        .await
        .unwrap();
    assert_eq!(answered.status, RequestStatus::Answered);
    assert_eq!(h.requests.stops_of(hanako.id).await.unwrap().len(), 1);
    let refused = h
        .disclosures
        .disclose(&admin, request(&hanako, &[DataCategory::EmailAddress]))
        .await;
    assert!(
        matches!(refused, Err(DisclosureError::Denied(Denial::Stopped))),
        "{refused:?}"
    );
    let sent = h.mail().await.sent();
    assert!(sent.iter().any(|m| matches!(
        &m.message,
        kikeru_domain::ports::Message::RequestAnswered { number: n, .. } if *n == number
    )));
    assert_eq!(
        h.requests.of_member(hanako.id).await.unwrap(),
        vec![answered]
    );

    let stop = h.requests.stops_of(hanako.id).await.unwrap()[0].id;
    h.requests.lift_stop(hanako.id, stop).await.unwrap();
    h.disclosures
        .disclose(&admin, request(&hanako, &[DataCategory::EmailAddress]))
        .await
        .expect("allowed again once the member lifts the cessation");
}

#[tokio::test]
async fn a_new_policy_version_tells_every_member_once_in_their_language() {
    use kikeru_domain::privacy::policy::desk::PolicyError;
    let h = Harness::new(datetime!(2026-12-10 01:00 UTC));
    let hanako = member(&h, "hanako@example.jp").await;
    let _taro = member(&h, "taro@example.jp").await;
    let plain = operator(&h, "staff@kikeru.example", Role::Operator).await;
    let effective = time::macros::date!(2027 - 01 - 01);
    assert!(matches!(
        h.policy
            .publish(Some(&plain), 2, effective, "変更", "Changed")
            .await,
        Err(PolicyError::NotAdministrator)
    ));
    let admin = admin(&h, "admin@kikeru.example").await;
    assert!(matches!(
        h.policy
            .publish(Some(&admin), 3, effective, "変更", "Changed")
            .await,
        Err(PolicyError::NotNext(2))
    ));
    assert!(matches!(
        h.policy
            .publish(
                Some(&admin),
                2,
                time::macros::date!(2026 - 12 - 01),
                "変更",
                "Changed"
            )
            .await,
        Err(PolicyError::Backdated)
    ));
    assert!(matches!(
        h.policy
            .publish(Some(&admin), 2, effective, " ", "Changed")
            .await,
        Err(PolicyError::Changes)
    ));
    let version = h
        .policy
        .publish(
            Some(&admin),
            2,
            effective,
            "委託先を追加しました。",
            "We added a processor.",
        )
        .await
        .unwrap();
    assert_eq!((version.notice_sent, version.notice_done), (2, true));
    assert_eq!(
        version.notice_cursor, None,
        "a finished notice names no member"
    );
    let again = h.policy.notify(2).await.unwrap();
    assert_eq!(again.notice_sent, 2, "a second run tells nobody twice");
    let told: Vec<_> = h
        .mail()
        .await
        .sent()
        .into_iter()
        .filter_map(|m| match m.message {
            kikeru_domain::ports::Message::PolicyChanged {
                number, changes, ..
            } => Some((m.to.as_str().to_owned(), number, changes)),
            _ => None,
        })
        .collect();
    assert_eq!(told.len(), 2);
    assert!(told.contains(&(
        hanako.email.as_str().to_owned(),
        2,
        "委託先を追加しました。".to_owned()
    )));
    let ((in_force, _), latest) = h.policy.current().await.unwrap();
    assert_eq!(in_force, 1, "version 2 takes effect only on its day");
    assert_eq!(latest.map(|v| v.number), Some(2));
    h.clock.advance(std::time::Duration::from_secs(30 * 86_400));
    assert_eq!(h.policy.current().await.unwrap().0.0, 2);
}

#[tokio::test]
async fn mail_for_a_purpose_skips_members_who_asked_it_to_stop_and_those_not_consenting() {
    use kikeru_domain::privacy::mailing::{Letter, MailingError};
    use kikeru_domain::privacy::requests::desk::RequestForm;
    use kikeru_domain::privacy::requests::{RequestKind, StopScope};
    let h = Harness::new(datetime!(2026-04-01 09:00 UTC));
    label_offers(&h).await;
    let hanako = member(&h, "hanako@example.jp").await;
    let taro = member(&h, "taro@example.jp").await;
    let jiro = member(&h, "jiro@example.jp").await;
    for who in [&hanako, &taro, &jiro] {
        h.consents
            .set(who.id, "label-offers", true, "web")
            .await
            .unwrap();
    }
    h.consents
        .set(jiro.id, "label-offers", false, "web")
        .await
        .unwrap();
    let admin = admin(&h, "admin@kikeru.example").await;
    let asked = h
        .requests
        .submit_member(
            &taro,
            RequestForm {
                kind: RequestKind::Cessation {
                    scope: StopScope::Purpose("label-offers".into()),
                },
                details: String::new(),
                language: Language::Ja,
            },
        )
        .await
        .unwrap();
    h.requests
        .answer(&admin, asked.id, "停止しました")
        .await
        .unwrap();
    let letter = Letter {
        subject_ja: "新作のお知らせ".into(),
        body_ja: "今月の新作です。".into(),
        subject_en: "New works".into(),
        body_en: "This month's works.".into(),
    };
    let plain = operator(&h, "staff@kikeru.example", Role::Operator).await;
    assert!(matches!(
        h.mailing.send(&plain, "label-offers", &letter).await,
        Err(MailingError::NotAdministrator)
    ));
    let sent = h
        .mailing
        .send(&admin, "label-offers", &letter)
        .await
        .unwrap();
    assert_eq!((sent.sent, sent.stopped, sent.not_consenting), (1, 1, 1));
    let mailed: Vec<String> = h
        .mail()
        .await
        .sent()
        .into_iter()
        .filter(|m| matches!(m.message, kikeru_domain::ports::Message::PurposeMail { .. }))
        .map(|m| m.to.as_str().to_owned())
        .collect();
    assert_eq!(
        mailed,
        ["hanako@example.jp"],
        "the stopped member is skipped in code"
    );
}
