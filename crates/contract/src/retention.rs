//! The [`Retention`] contract.

use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::Settlement;
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::office::inquiry::ports::Inquiries;
use kikeru_domain::ports::{Erasure, Members, Sessions, Tokens};
use kikeru_domain::privacy::ports::Consents;
use kikeru_domain::privacy::ports::Ledger;
use kikeru_domain::privacy::ports::Retention;
use kikeru_domain::privacy::retention::{Purged, RetentionPolicy};
use kikeru_domain::privacy::{Basis, DataCategory, LedgerDraft, Recipient};
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{MemberId, TokenPurpose};

use crate::fixtures::{NOW, member, order, product, session, token, uuid};

/// Only what is past its period goes, and a second run removes nothing more.
pub async fn retention_removes_only_what_is_past_its_period<S>(store: &S)
where
    S: Members
        + Sessions
        + Tokens
        + Consents
        + Catalog
        + Orders
        + Erasure
        + Ledger
        + Retention
        + UnitOfWork
        + Outbox
        + Inquiries
        + kikeru_domain::ports::RateLimits
        + kikeru_domain::office::ports::Operators,
{
    let year = time::Duration::days(365);
    let later = NOW + year * 10;
    let mut verified = member(1, "verified@example.jp");
    verified.email_verified_at = Some(NOW);
    let stale = member(2, "stale@example.jp");
    let mut fresh = member(3, "fresh@example.jp");
    fresh.created_at = later - time::Duration::days(1);
    let gone = member(4, "gone@example.jp");
    for m in [&verified, &stale, &fresh, &gone] {
        Members::insert(store, m).await.expect("member");
    }
    let (old_session, _) = session(1, verified.id, 0);
    let (mut live, _) = session(2, verified.id, 0);
    live.last_seen_at = later - time::Duration::hours(1);
    live.expires_at = later + time::Duration::days(1);
    Sessions::insert(store, &old_session)
        .await
        .expect("session");
    Sessions::insert(store, &live).await.expect("session");
    let expired = token(1, verified.id, TokenPurpose::ResetPassword);
    let mut valid = token(2, fresh.id, TokenPurpose::VerifyEmail);
    valid.expires_at = later + time::Duration::days(1);
    Tokens::insert(store, &expired).await.expect("token");
    Tokens::insert(store, &valid).await.expect("token");
    let item = product(1, 1100, true);
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("product");
    let (kept, kept_payment) = order(1, verified.id, &[&item], None);
    let (old_of_gone, old_payment) = order(2, gone.id, &[&item], None);
    store.create(&kept, &kept_payment).await.expect("order");
    store
        .create(&old_of_gone, &old_payment)
        .await
        .expect("order");
    store.erase(gone.id).await.expect("erase");
    let entry = |minutes: i64| LedgerDraft {
        at: NOW + time::Duration::minutes(minutes),
        member_id: MemberId::from_uuid(uuid(1)),
        recipient: Recipient::Partner("Kikeru Label".into()),
        recipient_details: kikeru_domain::privacy::RecipientDetails {
            name: "Kikeru Label K.K.".to_owned(),
            address: "東京都港区1-2-3".to_owned(),
            representative: "山田花子".to_owned(),
        },
        categories: [DataCategory::EmailAddress].into_iter().collect(),
        basis: Basis::Consent {
            purpose: "label".into(),
            notice_version: 1,
        },
        visible_from: NOW,
    };
    Ledger::append(store, entry(0)).await.expect("ledger");
    let recent = Ledger::append(
        store,
        LedgerDraft {
            at: later - year,
            ..entry(0)
        },
    )
    .await
    .expect("ledger");

    let old_inquiry = crate::inquiries::inquiry(1, None, None);
    let mut recent_inquiry = crate::inquiries::inquiry(2, None, None);
    recent_inquiry.received_at = later - time::Duration::days(1);
    let mut changes = Changes::new();
    changes
        .push(Change::InsertInquiry(old_inquiry))
        .push(Change::InsertInquiry(recent_inquiry.clone()))
        .push(Change::Send(crate::unit::envelope(1, "a@example.jp", None)))
        .push(Change::Send(crate::unit::envelope(2, "b@example.jp", None)));
    store.apply(changes).await.expect("mail and inquiries");
    let claimed = store
        .claim(uuid(77), NOW + year, std::time::Duration::from_secs(60), 1)
        .await
        .expect("claim");
    store
        .settle(claimed[0].id, uuid(77), Settlement::Sent, NOW + year)
        .await
        .expect("sent");

    // One entry of the operators' log past its three years, one recent.
    use kikeru_domain::office::operators::OperatorEvent;
    let entry = |n: u128, at| OperatorEvent {
        id: uuid(900 + n),
        at,
        operator_id: None,
        action: "disclosure".to_owned(),
        detail: format!("entry {n}"),
    };
    store.record(&entry(1, NOW)).await.expect("log");
    store
        .record(&entry(2, later - time::Duration::days(1)))
        .await
        .expect("log");
    // One counter whose window ended before the run, one still counting.
    let minute = std::time::Duration::from_secs(60);
    store
        .hit("sign-in:ended", minute, later - time::Duration::hours(1))
        .await
        .expect("hit");
    store
        .hit(
            "sign-in:counting",
            minute,
            later - time::Duration::seconds(1),
        )
        .await
        .expect("hit");
    let cutoffs = RetentionPolicy::default().cutoffs(later);
    let purged = store.purge(&cutoffs).await.expect("purge");
    let expected = Purged {
        unverified_accounts: 1,
        sessions: 1,
        tokens: 1,
        accounting_orders: 1,
        ledger_entries: 1,
        inquiries: 1,
        settled_mail: 1,
        rate_limits: 1,
        operator_events: 1,
        requests: 0,
    };
    assert_eq!(purged, expected);
    assert!(
        Members::by_id(store, verified.id)
            .await
            .expect("by_id")
            .is_some()
    );
    assert!(
        Members::by_id(store, fresh.id)
            .await
            .expect("by_id")
            .is_some(),
        "a recent unverified account stays"
    );
    assert!(
        Members::by_id(store, stale.id)
            .await
            .expect("by_id")
            .is_none()
    );
    assert_eq!(
        Sessions::for_member(store, verified.id)
            .await
            .expect("sessions"),
        vec![live]
    );
    assert!(store.find(&valid.hash).await.expect("token").is_some());
    let log = store.events(10).await.expect("log");
    assert_eq!(log.len(), 1, "the recent entry of the operators' log stays");
    assert_eq!(log[0].detail, "entry 2");
    assert_eq!(
        store
            .peek("sign-in:counting", later)
            .await
            .expect("peek")
            .count,
        1,
        "a counter still counting stays"
    );
    assert!(
        Orders::by_id(store, kept.id)
            .await
            .expect("order")
            .is_some(),
        "an existing member's order stays"
    );
    assert!(
        Orders::by_id(store, old_of_gone.id)
            .await
            .expect("order")
            .is_none()
    );
    assert_eq!(Ledger::all(store).await.expect("ledger"), vec![recent]);
    assert_eq!(
        store.list(false, 10).await.expect("inquiries"),
        vec![recent_inquiry]
    );
    assert_eq!(
        store.counts().await.expect("outbox").pending,
        1,
        "a waiting mail is never purged"
    );
    assert_eq!(
        store.purge(&cutoffs).await.expect("purge again"),
        Purged::default()
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `retention`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! retention_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, retention: [
            retention_removes_only_what_is_past_its_period,
        ]);
    };
}
