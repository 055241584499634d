//! The [`Outbox`] contract.

use std::time::Duration;

use futures_util::future::join_all;
use kikeru_domain::changes::{Change, UnitOfWork};
use kikeru_domain::mail::outbox::Settlement;
use kikeru_domain::mail::ports::Outbox;

use crate::fixtures::{NOW, uuid};
use crate::unit::envelope;

const LEASE: Duration = Duration::from_secs(300);

async fn given_mails<S: UnitOfWork>(store: &S, ns: &[u128]) {
    for n in ns {
        store
            .apply(vec![Change::Send(envelope(*n, "hanako@example.jp", None))].into())
            .await
            .expect("enqueue");
    }
}

/// Mails are claimed oldest first with their attempts counted; a sent mail is not claimed
/// again and keeps no content.
pub async fn mails_are_claimed_oldest_first_and_sent_once<S: UnitOfWork + Outbox>(store: &S) {
    given_mails(store, &[2, 1, 3]).await;
    let later = NOW + time::Duration::minutes(1);
    let claimed = store.claim(uuid(90), later, LEASE, 2).await.expect("claim");
    let ids: Vec<_> = claimed.iter().map(|c| c.id).collect();
    assert_eq!(ids, [uuid(1001), uuid(1002)]);
    assert!(claimed.iter().all(|c| c.attempts == 1));
    assert_eq!(claimed[0].mail, envelope(1, "hanako@example.jp", None).mail);
    assert!(
        store
            .settle(uuid(1001), uuid(90), Settlement::Sent, later)
            .await
            .expect("settle")
    );
    assert!(
        !store
            .settle(uuid(1001), uuid(90), Settlement::Sent, later)
            .await
            .expect("settle twice"),
        "a mail is settled once"
    );
    let rest = store
        .claim(uuid(91), later, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(
        rest.iter().map(|c| c.id).collect::<Vec<_>>(),
        [uuid(1003)],
        "held and sent mails are not claimed"
    );
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.pending, counts.sent, counts.failed), (2, 1, 0));
    assert!(counts.oldest_due.is_some(), "a mail waits: {counts:?}");
}

/// MUST hand each mail to one claim only, however many claim at once.
pub async fn concurrent_claims_never_share_a_mail<S: UnitOfWork + Outbox>(store: &S) {
    given_mails(store, &(1..=12).collect::<Vec<_>>()).await;
    let later = NOW + time::Duration::minutes(1);
    let rounds = join_all((0..6).map(|n| store.claim(uuid(200 + n), later, LEASE, 3))).await;
    let mut ids: Vec<_> = rounds
        .into_iter()
        .flat_map(|r| r.expect("claim"))
        .map(|c| c.id)
        .collect();
    let total = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), total, "no mail claimed twice");
    assert_eq!(total, 12);
}

/// A retry waits for its time; a claim whose lease ran out goes to the next claimer, and the
/// first claimer can no longer settle it.
pub async fn retries_wait_and_expired_leases_pass_on<S: UnitOfWork + Outbox>(store: &S) {
    given_mails(store, &[1]).await;
    let t1 = NOW + time::Duration::minutes(1);
    store.claim(uuid(90), t1, LEASE, 5).await.expect("claim");
    let retry_at = t1 + time::Duration::minutes(10);
    let retry = Settlement::Retry {
        at: retry_at,
        error: "451 try later".into(),
    };
    assert!(
        store
            .settle(uuid(1001), uuid(90), retry, t1)
            .await
            .expect("settle")
    );
    let early = store
        .claim(uuid(91), retry_at - time::Duration::seconds(1), LEASE, 5)
        .await
        .expect("claim");
    assert!(early.is_empty(), "not due yet");
    let second = store
        .claim(uuid(92), retry_at, LEASE, 5)
        .await
        .expect("claim");
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].attempts, 2);
    let after_lease = retry_at + time::Duration::minutes(6);
    let third = store
        .claim(uuid(93), after_lease, LEASE, 5)
        .await
        .expect("claim");
    assert_eq!(third.len(), 1, "an expired lease passes the mail on");
    assert!(
        !store
            .settle(uuid(1001), uuid(92), Settlement::Sent, after_lease)
            .await
            .expect("settle"),
        "the old claim cannot settle"
    );
    let failed = Settlement::Failed {
        error: "550 no such user".into(),
    };
    assert!(
        store
            .settle(uuid(1001), uuid(93), failed, after_lease)
            .await
            .expect("settle")
    );
    assert_eq!(store.counts().await.expect("counts").failed, 1);
    assert!(
        store
            .claim(uuid(94), after_lease + time::Duration::days(1), LEASE, 5)
            .await
            .expect("claim")
            .is_empty(),
        "a failed mail is not retried"
    );
}

/// `settle_sent` settles together only the mails still held by the claim, once, and says
/// which; they count as sent and are not claimed again.
pub async fn sent_mails_are_settled_together_only_when_held<S: UnitOfWork + Outbox>(store: &S) {
    given_mails(store, &[1, 2, 3]).await;
    let later = NOW + time::Duration::minutes(1);
    let claimed = store.claim(uuid(90), later, LEASE, 2).await.expect("claim");
    assert_eq!(claimed.len(), 2);
    let all = [uuid(1001), uuid(1002), uuid(1003)];
    let stranger = store
        .settle_sent(&all, uuid(99), later)
        .await
        .expect("settle");
    assert!(stranger.is_empty(), "another claim settles nothing");
    let mut settled = store
        .settle_sent(&all, uuid(90), later)
        .await
        .expect("settle");
    settled.sort();
    assert_eq!(settled, [uuid(1001), uuid(1002)], "not the unclaimed third");
    assert!(
        store
            .settle_sent(&all, uuid(90), later)
            .await
            .expect("again")
            .is_empty(),
        "settled once"
    );
    assert!(
        store
            .settle_sent(&[], uuid(90), later)
            .await
            .expect("none")
            .is_empty()
    );
    let counts = store.counts().await.expect("counts");
    assert_eq!((counts.pending, counts.sent, counts.failed), (1, 2, 0));
    assert!(counts.oldest_due.is_some(), "a mail waits: {counts:?}");
    let rest = store
        .claim(uuid(91), later, LEASE, 10)
        .await
        .expect("claim");
    assert_eq!(rest.iter().map(|c| c.id).collect::<Vec<_>>(), [uuid(1003)]);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `outbox`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! outbox_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, outbox: [
            mails_are_claimed_oldest_first_and_sent_once,
            concurrent_claims_never_share_a_mail,
            sent_mails_are_settled_together_only_when_held,
            retries_wait_and_expired_leases_pass_on,
        ]);
    };
}
