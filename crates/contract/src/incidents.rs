//! The [`Incidents`] contract, and the notice run on the adapter: every member concerned is
//! told once, even when two approvals run at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::office::incident::ports::Incidents;
use kikeru_domain::office::incident::{
    Concerned, Incident, IncidentDesk, IncidentFacts, IncidentId, IncidentPorts, NOTICE_BATCH,
    Stage,
};
use kikeru_domain::ports::{Clock, Members, Random};
use kikeru_domain::privacy::DataCategory;
use kikeru_domain::{MemberId, StoreError, Timestamp};

use crate::fixtures::{NOW, given_members, operator, uuid};

fn incident(n: u128, concerned: Concerned, days_ago: i64) -> Incident {
    Incident {
        id: IncidentId::from_uuid(uuid(70_000 + n)),
        facts: IncidentFacts {
            discovered_at: NOW - time::Duration::days(days_ago),
            categories: [DataCategory::EmailAddress, DataCategory::PurchaseHistory]
                .into_iter()
                .collect(),
            credentials_or_payment: false,
            sensitive: false,
            people: 1_200,
            people_estimated: true,
            cause: "設定の誤りで会員一覧が公開されていた".to_owned(),
            malicious_suspected: n.is_multiple_of(2),
        },
        concerned,
        recorded_at: NOW + time::Duration::minutes(1),
        recorded_by: operator(9),
        preliminary_reported_at: None,
        final_reported_at: None,
        notice: None,
    }
}

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

/// Incidents read back as recorded, newest discovery first; a report's first submission time
/// and the first approval stay; a notice's progress moves only from where it stands.
pub async fn incidents_read_back_and_keep_their_first_times<S>(store: &S)
where
    S: Incidents + UnitOfWork,
{
    let older = incident(1, Concerned::Everyone, 10);
    let newer = incident(
        2,
        Concerned::Members([member(1), member(2)].into_iter().collect()),
        1,
    );
    store.insert(&older).await.expect("insert");
    store.insert(&newer).await.expect("insert");
    let again = store.insert(&older).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    assert_eq!(
        store.all().await.expect("all"),
        vec![newer.clone(), older.clone()]
    );
    assert_eq!(
        store.by_id(newer.id).await.expect("read"),
        Some(newer.clone())
    );
    let unknown = IncidentId::from_uuid(uuid(79_999));
    assert_eq!(store.by_id(unknown).await.expect("read"), None);

    let first = NOW + time::Duration::hours(1);
    let reported = store
        .mark_reported(older.id, Stage::Preliminary, first)
        .await
        .expect("reported");
    assert_eq!(reported.preliminary_reported_at, Some(first));
    let twice = store
        .mark_reported(
            older.id,
            Stage::Preliminary,
            first + time::Duration::hours(1),
        )
        .await
        .expect("again");
    assert_eq!(
        twice.preliminary_reported_at,
        Some(first),
        "the first time stays"
    );
    assert_eq!(twice.final_reported_at, None);
    let missing = store.mark_reported(unknown, Stage::Final, first).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "got {missing:?}"
    );

    // Progress before approval is refused.
    let early = store
        .apply(Changes::from(vec![Change::NoticeProgress {
            incident: older.id,
            from: None,
            to: Some(member(1)),
            sent: 1,
            done: false,
        }]))
        .await;
    assert!(matches!(early, Err(StoreError::Conflict)), "got {early:?}");
    let approved = store
        .approve_notice(older.id, operator(1), first)
        .await
        .expect("approve");
    let notice = approved.notice.expect("approved");
    assert_eq!(
        (notice.approved_by, notice.approved_at),
        (operator(1), first)
    );
    assert_eq!((notice.cursor, notice.sent, notice.done), (None, 0, false));
    let later = store
        .approve_notice(older.id, operator(2), first + time::Duration::hours(1))
        .await
        .expect("approve again");
    assert_eq!(later.notice.expect("approved").approved_by, operator(1));

    let step = |from: Option<MemberId>, to: Option<MemberId>, sent: u64, done: bool| {
        Changes::from(vec![Change::NoticeProgress {
            incident: older.id,
            from,
            to,
            sent,
            done,
        }])
    };
    store
        .apply(step(None, Some(member(5)), 3, false))
        .await
        .expect("first batch");
    let stale = store.apply(step(None, Some(member(5)), 3, false)).await;
    assert!(matches!(stale, Err(StoreError::Conflict)), "got {stale:?}");
    store
        .apply(step(Some(member(5)), Some(member(9)), 2, true))
        .await
        .expect("last batch");
    let done = store.by_id(older.id).await.expect("read").expect("present");
    let notice = done.notice.expect("approved");
    assert_eq!(
        (notice.cursor, notice.sent, notice.done),
        (Some(member(9)), 5, true)
    );
    let after = store.apply(step(Some(member(9)), None, 1, true)).await;
    assert!(matches!(after, Err(StoreError::Conflict)), "got {after:?}");
    let gone = store
        .apply(Changes::from(vec![Change::NoticeProgress {
            incident: unknown,
            from: None,
            to: None,
            sent: 0,
            done: true,
        }]))
        .await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "got {gone:?}");
}

struct At(Timestamp);

impl Clock for At {
    fn now(&self) -> Timestamp {
        self.0
    }
}

struct Counting(AtomicU64);

impl Random for Counting {
    fn bytes32(&self) -> [u8; 32] {
        let n = self.0.fetch_add(1, Ordering::Relaxed);
        let mut bytes = [7u8; 32];
        bytes[..8].copy_from_slice(&n.to_be_bytes());
        bytes
    }
}

/// Two approvals of an incident concerning everyone, at once, put exactly one notice per
/// member in the outbox, over more than one batch; `members_after` pages through every
/// member in ID order.
pub async fn two_approvals_at_once_tell_every_member_once<S>(store: Arc<S>)
where
    S: Incidents + Members + UnitOfWork + Outbox,
{
    let count = u128::from(NOTICE_BATCH) + 50;
    let ns: Vec<u128> = (1..=count).collect();
    given_members(&*store, &ns).await;
    let later = NOW + time::Duration::seconds(1);
    let first_page = store.members_after(None, later, 3).await.expect("page");
    assert_eq!(first_page, vec![member(1), member(2), member(3)]);
    let next_page = store
        .members_after(Some(member(3)), later, 2)
        .await
        .expect("page");
    assert_eq!(next_page, vec![member(4), member(5)]);
    assert!(
        store
            .members_after(None, NOW, 3)
            .await
            .expect("page")
            .is_empty(),
        "members who registered after the incident was recorded are not concerned"
    );

    let desk = IncidentDesk::new(IncidentPorts {
        incidents: store.clone(),
        members: store.clone(),
        unit: store.clone(),
        clock: Arc::new(At(NOW)),
        random: Arc::new(Counting(AtomicU64::new(1))),
    });
    let leak = incident(3, Concerned::Everyone, 2);
    Incidents::insert(&*store, &leak).await.expect("insert");
    let runs = futures_util::future::join_all([
        desk.approve_notice(leak.id, operator(1), u32::MAX),
        desk.approve_notice(leak.id, operator(2), u32::MAX),
    ])
    .await;
    for outcome in runs {
        let outcome = outcome.expect("a run");
        let notice = outcome.notice.expect("approved");
        assert!(notice.done);
        assert_eq!(u128::from(notice.sent), count);
    }
    let pending = store.counts().await.expect("counts").pending;
    assert_eq!(u128::from(pending), count, "one notice per member");

    // A list of members: only those, and a member whose account is gone is skipped.
    let few = incident(
        4,
        Concerned::Members([member(1), member(2), member(99_999)].into_iter().collect()),
        1,
    );
    Incidents::insert(&*store, &few).await.expect("insert");
    // Approved with no batch sent at once: the background run finishes it.
    let approved = desk
        .approve_notice(few.id, operator(1), 0)
        .await
        .expect("approve");
    assert_eq!(
        approved.notice.as_ref().map(|n| (n.sent, n.done)),
        Some((0, false))
    );
    assert_eq!(desk.continue_notices(10).await.expect("continue"), 2);
    assert_eq!(
        desk.continue_notices(10).await.expect("again"),
        0,
        "nothing left"
    );
    let told = Incidents::by_id(&*store, few.id)
        .await
        .expect("read")
        .expect("present");
    assert_eq!(told.notice.expect("approved").sent, 2);
    let pending = store.counts().await.expect("counts").pending;
    assert_eq!(u128::from(pending), count + 2);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `incidents`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! incidents_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, incidents: [
            incidents_read_back_and_keep_their_first_times,
        ]);
    };
}
