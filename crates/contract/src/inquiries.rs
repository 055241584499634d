//! The [`Inquiries`] contract.

use kikeru_domain::changes::{Change, UnitOfWork};
use kikeru_domain::office::inquiry::ports::Inquiries;
use kikeru_domain::office::inquiry::{Answer, AttachmentNote, Channel, Inquiry, InquiryId};
use kikeru_domain::{Email, Language, MemberId, StoreError};

use crate::fixtures::{NOW, uuid};

/// An inquiry `n` from `member` (or from `q{n}@example.jp`), by mail when it has a message ID.
pub fn inquiry(n: u128, member: Option<MemberId>, message_id: Option<&str>) -> Inquiry {
    Inquiry {
        id: InquiryId::from_uuid(uuid(500 + n)),
        reference: format!("Q-TEST{n:04}"),
        member_id: member,
        email: Email::parse(&format!("q{n}@example.jp")).expect("a test address"),
        name: Some("山田 花子".into()),
        subject: format!("返金について {n}"),
        body: "注文した曲が再生できません。\nよろしくお願いします。".into(),
        language: Language::Ja,
        channel: if message_id.is_some() {
            Channel::Mail
        } else {
            Channel::Web
        },
        message_id: message_id.map(str::to_owned),
        attachments: message_id
            .map(|_| {
                vec![AttachmentNote {
                    name: "スクリーンショット.png".into(),
                    content_type: "image/png".into(),
                    size: 20_480,
                }]
            })
            .unwrap_or_default(),
        received_at: NOW + time::Duration::minutes(i64::try_from(n).unwrap_or(0)),
        answers: Vec::new(),
    }
}

async fn insert<S: UnitOfWork>(store: &S, inquiry: &Inquiry) -> Result<(), StoreError> {
    store
        .apply(vec![Change::InsertInquiry(inquiry.clone())].into())
        .await
}

/// Inquiries read back equal with their answers, by ID and by message ID; the list is newest
/// first and can hold only the unanswered ones.
pub async fn inquiries_read_back_with_their_answers<S: UnitOfWork + Inquiries>(store: &S) {
    let web = inquiry(1, None, None);
    let mail = inquiry(2, None, Some("<abc@mail.example.jp>"));
    insert(store, &web).await.expect("insert");
    insert(store, &mail).await.expect("insert");
    assert_eq!(store.by_id(web.id).await.expect("by_id"), Some(web.clone()));
    assert_eq!(
        store
            .by_message_id("<abc@mail.example.jp>")
            .await
            .expect("by message id"),
        Some(mail.clone())
    );
    let answer = Answer {
        operator: "office@example.jp".into(),
        body: "再ダウンロードをお試しください。".into(),
        at: NOW + time::Duration::hours(1),
    };
    store
        .apply(
            vec![Change::AnswerInquiry {
                inquiry: web.id,
                answer: answer.clone(),
            }]
            .into(),
        )
        .await
        .expect("answer");
    let answered = store.by_id(web.id).await.expect("by_id").expect("present");
    assert_eq!(answered.answers, vec![answer]);
    assert_eq!(
        store.list(false, 10).await.expect("list"),
        vec![mail.clone(), answered]
    );
    assert_eq!(store.list(true, 10).await.expect("open"), vec![mail]);
    assert_eq!(store.list(false, 1).await.expect("list").len(), 1);
}

/// A second message with a known message ID (a redelivery) is a conflict.
pub async fn a_known_message_id_is_a_conflict<S: UnitOfWork + Inquiries>(store: &S) {
    insert(store, &inquiry(1, None, Some("<same@example.jp>")))
        .await
        .expect("insert");
    let again = insert(store, &inquiry(2, None, Some("<same@example.jp>"))).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "{again:?}");
    assert_eq!(store.list(false, 10).await.expect("list").len(), 1);
}

/// A member's inquiries are those linked to them; one that merely carries their address (anyone
/// can type it) is not theirs to see.
pub async fn a_members_inquiries_are_those_they_sent_signed_in<S: UnitOfWork + Inquiries>(
    store: &S,
) {
    let me = MemberId::from_uuid(uuid(1));
    let linked = inquiry(1, Some(me), None);
    let mut from_my_address = inquiry(2, None, Some("<m@example.jp>"));
    from_my_address.email = Email::parse("hanako@example.jp").expect("address");
    let someone_else = inquiry(3, Some(MemberId::from_uuid(uuid(2))), None);
    for i in [&linked, &from_my_address, &someone_else] {
        insert(store, i).await.expect("insert");
    }
    let mine = store.for_member(me).await.expect("for member");
    assert_eq!(mine, vec![linked]);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `inquiries`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! inquiries_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, inquiries: [
            inquiries_read_back_with_their_answers,
            a_known_message_id_is_a_conflict,
            a_members_inquiries_are_those_they_sent_signed_in,
        ]);
    };
}
