//! The [`UnitOfWork`] contract: all of a unit or nothing of it, mail included.

use futures_util::future::join_all;
use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::Envelope;
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::office::inquiry::{Answer, InquiryId};
use kikeru_domain::ports::{AuditLog, Mail, Members, Message, Sessions, Tokens};
use kikeru_domain::{Language, MemberId, SecurityEventKind, StoreError, TokenPurpose};

use crate::fixtures::{NOW, event, member, session, token, uuid};
use crate::inquiries::inquiry;

/// A mail to `to`.
pub fn envelope(n: u128, to: &str, member: Option<MemberId>) -> Envelope {
    Envelope {
        id: uuid(1000 + n),
        member_id: member,
        mail: Mail {
            to: kikeru_domain::Email::parse(to).expect("a test address"),
            language: Language::Ja,
            message: Message::PasswordChanged,
        },
        created_at: NOW + time::Duration::seconds(i64::try_from(n).unwrap_or(0)),
    }
}

/// Every change of a unit is applied: the member, token, session, event, inquiry and mail.
pub async fn a_unit_applies_every_change<S>(store: &S)
where
    S: UnitOfWork + Members + Sessions + Tokens + AuditLog + Outbox,
{
    let hanako = member(1, "hanako@example.jp");
    let (s, _) = session(1, hanako.id, 0);
    let t = token(1, hanako.id, TokenPurpose::VerifyEmail);
    let mut changes = Changes::new();
    changes
        .push(Change::InsertMember(hanako.clone()))
        .push(Change::InsertToken(t.clone()))
        .push(Change::InsertSession(s.clone()))
        .push(Change::Record(event(
            1,
            Some(hanako.id),
            0,
            SecurityEventKind::Registered,
        )))
        .push(Change::InsertInquiry(inquiry(1, Some(hanako.id), None)))
        .push(Change::Send(envelope(
            1,
            "hanako@example.jp",
            Some(hanako.id),
        )));
    store.apply(changes).await.expect("apply");
    assert_eq!(
        Members::by_id(store, hanako.id).await.expect("member"),
        Some(hanako.clone())
    );
    assert!(Tokens::find(store, &t.hash).await.expect("token").is_some());
    assert_eq!(
        Sessions::for_member(store, hanako.id)
            .await
            .expect("sessions"),
        vec![s]
    );
    assert_eq!(
        AuditLog::for_member(store, hanako.id, 10)
            .await
            .expect("events")
            .len(),
        1
    );
    assert_eq!(store.counts().await.expect("counts").pending, 1);
}

/// MUST apply none of a unit when one change fails: no mail of it enters the outbox.
pub async fn a_failing_change_leaves_nothing_of_its_unit<S>(store: &S)
where
    S: UnitOfWork + Members + Tokens + AuditLog + Outbox,
{
    let hanako = member(1, "hanako@example.jp");
    Members::insert(store, &hanako).await.expect("member");
    let t = token(1, hanako.id, TokenPurpose::VerifyEmail);
    let twin = member(2, "hanako@example.jp");
    let mut changes = Changes::new();
    changes
        .push(Change::InsertToken(t.clone()))
        .push(Change::Record(event(
            1,
            Some(hanako.id),
            0,
            SecurityEventKind::Registered,
        )))
        .push(Change::Send(envelope(1, "hanako@example.jp", None)))
        .push(Change::InsertMember(twin.clone()));
    let result = store.apply(changes).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert!(Tokens::find(store, &t.hash).await.expect("token").is_none());
    assert!(
        AuditLog::for_member(store, hanako.id, 10)
            .await
            .expect("events")
            .is_empty()
    );
    assert_eq!(store.counts().await.expect("counts").pending, 0);
    assert_eq!(Members::by_id(store, twin.id).await.expect("member"), None);
}

/// A token is taken by one unit only: the others fail with `NotFound` and apply nothing.
pub async fn a_token_is_taken_by_one_unit_only<S>(store: &S)
where
    S: UnitOfWork + Members + Tokens + Outbox,
{
    let hanako = member(1, "hanako@example.jp");
    Members::insert(store, &hanako).await.expect("member");
    let t = token(1, hanako.id, TokenPurpose::ResetPassword);
    Tokens::insert(store, &t).await.expect("token");
    let unit = |n: u128| {
        let mut changes = Changes::new();
        changes
            .push(Change::TakeToken(t.hash))
            .push(Change::Send(envelope(n, "hanako@example.jp", None)));
        store.apply(changes)
    };
    let results = join_all((0..8).map(unit)).await;
    let applied = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(applied, 1, "{results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::NotFound))),
        "{results:?}"
    );
    assert_eq!(store.counts().await.expect("counts").pending, 1);
}

/// Erasing in a unit removes the member's data like [`kikeru_domain::ports::Erasure`]; an
/// unknown member or inquiry is `NotFound`.
pub async fn erasure_and_answers_in_a_unit_follow_their_rules<S>(store: &S)
where
    S: UnitOfWork + Members + Sessions,
{
    let hanako = member(1, "hanako@example.jp");
    Members::insert(store, &hanako).await.expect("member");
    let (s, _) = session(1, hanako.id, 0);
    Sessions::insert(store, &s).await.expect("session");
    store
        .apply(vec![Change::Erase(hanako.id)].into())
        .await
        .expect("erase");
    assert_eq!(
        Members::by_id(store, hanako.id).await.expect("member"),
        None
    );
    assert!(
        Sessions::for_member(store, hanako.id)
            .await
            .expect("sessions")
            .is_empty()
    );
    let again = store.apply(vec![Change::Erase(hanako.id)].into()).await;
    assert!(matches!(again, Err(StoreError::NotFound)), "{again:?}");
    let answer = Change::AnswerInquiry {
        inquiry: InquiryId::from_uuid(uuid(404)),
        answer: Answer {
            operator: "office@example.jp".into(),
            body: "Hello".into(),
            at: NOW,
        },
    };
    let unknown = store.apply(vec![answer].into()).await;
    assert!(matches!(unknown, Err(StoreError::NotFound)), "{unknown:?}");
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `unit`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! unit_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, unit: [
            a_unit_applies_every_change,
            a_failing_change_leaves_nothing_of_its_unit,
            a_token_is_taken_by_one_unit_only,
            erasure_and_answers_in_a_unit_follow_their_rules,
        ]);
    };
}
