//! The [`Erasure`] contract.

use kikeru_domain::ports::{AuditLog, Erasure, Members, Sessions, Tokens};
use kikeru_domain::privacy::ConsentRecord;
use kikeru_domain::privacy::ports::Consents;
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{MemberId, SecurityEventKind, StoreError, TokenPurpose};

use crate::fixtures::{NOW, event, given_members, member, order, product, session, token, uuid};

/// Erasing removes the account, sessions, tokens, consent history, security events and
/// inquiries, keeps
/// orders and payments, and frees the address; an unknown member is `NotFound`.
pub async fn erasure_removes_personal_data_and_keeps_accounting_records<S>(store: &S)
where
    S: Members
        + Sessions
        + Tokens
        + AuditLog
        + Consents
        + Catalog
        + Orders
        + Erasure
        + kikeru_domain::changes::UnitOfWork
        + kikeru_domain::office::inquiry::ports::Inquiries,
{
    given_members(store, &[1, 2]).await;
    let id = MemberId::from_uuid(uuid(1));
    let (s, session_token) = session(1, id, 0);
    Sessions::insert(store, &s).await.expect("session");
    let reset = token(1, id, TokenPurpose::ResetPassword);
    Tokens::insert(store, &reset).await.expect("token");
    store
        .record(&event(1, Some(id), 0, SecurityEventKind::SignedIn))
        .await
        .expect("event");
    let consent = ConsentRecord {
        member_id: id,
        purpose: "label".into(),
        granted: true,
        notice_version: 1,
        at: NOW,
        channel: "web".into(),
    };
    store.append(&consent).await.expect("consent");
    let item = product(1, 1100, true);
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("product");
    let (o, p) = order(1, id, &[&item], None);
    store.create(&o, &p).await.expect("order");
    let linked = crate::inquiries::inquiry(1, Some(id), None);
    let mut by_address = crate::inquiries::inquiry(2, None, Some("<m@example.jp>"));
    by_address.email = kikeru_domain::Email::parse("member1@example.jp").expect("address");
    let others = crate::inquiries::inquiry(3, None, None);
    for i in [&linked, &by_address, &others] {
        store
            .apply(vec![kikeru_domain::changes::Change::InsertInquiry(i.clone())].into())
            .await
            .expect("inquiry");
    }

    store.erase(id).await.expect("erase");
    assert_eq!(
        kikeru_domain::office::inquiry::ports::Inquiries::list(store, false, 10)
            .await
            .expect("inquiries"),
        vec![others],
        "the member's inquiries go, by link and by address"
    );

    assert_eq!(Members::by_id(store, id).await.expect("by_id"), None);
    assert_eq!(
        store
            .by_token_hash(&session_token.hash())
            .await
            .expect("session"),
        None
    );
    assert_eq!(store.find(&reset.hash).await.expect("token"), None);
    assert_eq!(
        AuditLog::for_member(store, id, 10).await.expect("events"),
        vec![]
    );
    assert_eq!(store.history(id).await.expect("consents"), vec![]);
    assert!(
        Orders::by_id(store, o.id).await.expect("order").is_some(),
        "accounting records stay"
    );
    let again = member(3, "member1@example.jp");
    Members::insert(store, &again)
        .await
        .expect("the address is free again");
    assert!(
        Members::by_id(store, MemberId::from_uuid(uuid(2)))
            .await
            .expect("by_id")
            .is_some(),
        "others stay"
    );
    let result = store.erase(MemberId::from_uuid(uuid(99))).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// Erasing a member removes the records of their settled mail, and mail still to be delivered
/// goes out naming no member: nothing in the outbox ties the erased ID to its mail.
pub async fn erasure_leaves_no_mail_naming_the_member<S>(store: &S)
where
    S: Members + Erasure + kikeru_domain::changes::UnitOfWork + kikeru_domain::mail::ports::Outbox,
{
    use kikeru_domain::changes::Change;
    use kikeru_domain::mail::outbox::Settlement;
    given_members(store, &[1, 2]).await;
    let id = MemberId::from_uuid(uuid(1));
    let other = MemberId::from_uuid(uuid(2));
    for (n, member) in [(1, id), (2, id), (3, other)] {
        let envelope = crate::unit::envelope(n, "member1@example.jp", Some(member));
        store
            .apply(vec![Change::Send(envelope)].into())
            .await
            .expect("mail");
    }
    // The first is delivered (settled); the others wait.
    let lease = std::time::Duration::from_secs(60);
    let due = NOW + time::Duration::minutes(1);
    let first = store.claim(uuid(70), due, lease, 1).await.expect("claim");
    assert_eq!(first.len(), 1);
    assert!(
        store
            .settle(first[0].id, uuid(70), Settlement::Sent, due)
            .await
            .expect("settle")
    );
    let before = store.counts().await.expect("counts");
    store.erase(id).await.expect("erase");
    let after = store.counts().await.expect("counts");
    assert_eq!(after.sent, before.sent - 1, "the settled record is gone");
    assert_eq!(after.pending, before.pending, "waiting mail still goes out");
    let waiting = store
        .claim(uuid(71), NOW + time::Duration::hours(1), lease, 10)
        .await
        .expect("claim");
    assert_eq!(waiting.len(), 2);
    assert!(
        waiting.iter().all(|m| m.member_id != Some(id)),
        "no waiting mail names the erased member"
    );
    assert!(
        waiting.iter().any(|m| m.member_id == Some(other)),
        "others keep theirs"
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `erasure`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! erasure_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, erasure: [
            erasure_removes_personal_data_and_keeps_accounting_records,
            erasure_leaves_no_mail_naming_the_member,
        ]);
    };
}
