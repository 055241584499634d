//! The [`PrivacyRequests`] contract: requests under APPI kept whole and changed only over
//! the version they were read at, cessations in force until their member lifts them, and both
//! gone with the member's erasure or the inquiries' retention period.

use kikeru_domain::changes::{Change, UnitOfWork};
use kikeru_domain::ports::{Erasure, Members};
use kikeru_domain::privacy::ports::{PrivacyRequests, Retention};
use kikeru_domain::privacy::requests::{
    PrivacyRequest, RequestKind, RequestStatus, RequestStep, Stop, StopScope, code_hash,
};
use kikeru_domain::privacy::retention::RetentionPolicy;
use kikeru_domain::{Email, Language, MemberId, StoreError};

use crate::fixtures::{NOW, given_members, uuid};

/// A request numbered `n`, received `days` days before [`NOW`], from `email`.
pub fn request(n: u128, member: Option<MemberId>, email: &str, days: i64) -> PrivacyRequest {
    let at = NOW - time::Duration::days(days);
    PrivacyRequest {
        id: uuid(0x7e9_0000 + n),
        number: format!("R-{n:08}"),
        email: Email::parse(email).expect("address"),
        member,
        language: Language::Ja,
        kind: RequestKind::Cessation {
            scope: StopScope::Partner("kikeru-label".into()),
        },
        details: "レーベルへの提供を止めてください".into(),
        status: RequestStatus::Received,
        received_at: at,
        verified_at: None,
        due_at: None,
        answer: None,
        refusal: None,
        code_hash: Some(code_hash("ABCD-2345")),
        code_expires_at: Some(at + time::Duration::days(1)),
        code_failures: 0,
        history: vec![RequestStep {
            at,
            status: RequestStatus::Received,
            by: None,
        }],
        version: 1,
    }
}

async fn put<S: UnitOfWork + ?Sized>(store: &S, r: &PrivacyRequest) -> Result<(), StoreError> {
    store
        .apply(vec![Change::PutRequest(r.clone())].into())
        .await
}

/// A request reads back whole by ID and by number; a second insert of its ID or number is a
/// conflict; a change is stored over the version before it only; open-only lists leave out the
/// answered; a member's list holds only requests linked to them.
pub async fn requests_are_stored_whole_and_change_only_over_their_version<S>(store: &S)
where
    S: PrivacyRequests + UnitOfWork + Members,
{
    given_members(store, &[1]).await;
    let member = MemberId::from_uuid(uuid(1));
    let first = request(1, Some(member), "member1@example.jp", 2);
    let other = request(2, None, "someone@example.jp", 1);
    put(store, &first).await.expect("first");
    put(store, &other).await.expect("other");
    assert_eq!(
        store.request(first.id).await.expect("read"),
        Some(first.clone())
    );
    assert_eq!(
        store.request_numbered(&first.number).await.expect("read"),
        Some(first.clone())
    );
    let mut same_number = request(3, None, "x@example.jp", 0);
    same_number.number = first.number.clone();
    assert!(matches!(
        put(store, &same_number).await,
        Err(StoreError::Conflict)
    ));
    assert!(matches!(
        put(store, &first).await,
        Err(StoreError::Conflict)
    ));

    let mut answered = first.clone();
    answered.status = RequestStatus::Answered;
    answered.answer = Some("停止しました".into());
    answered.version = 3;
    assert!(
        matches!(put(store, &answered).await, Err(StoreError::Conflict)),
        "a change must be made over the version before it"
    );
    answered.version = 2;
    put(store, &answered).await.expect("answered");
    assert!(
        matches!(put(store, &answered).await, Err(StoreError::Conflict)),
        "one answer"
    );
    let mut unknown = request(4, None, "y@example.jp", 0);
    unknown.version = 2;
    assert!(matches!(
        put(store, &unknown).await,
        Err(StoreError::NotFound)
    ));

    assert_eq!(
        store.requests(false, 10).await.expect("all"),
        vec![other.clone(), answered.clone()]
    );
    assert_eq!(store.requests(true, 10).await.expect("open"), vec![other]);
    assert_eq!(
        store.requests_of(member).await.expect("of member"),
        vec![answered]
    );
}

/// A cessation is in force until its own member lifts it; another member cannot.
pub async fn cessations_are_in_force_until_their_member_lifts_them<S>(store: &S)
where
    S: PrivacyRequests + UnitOfWork + Members,
{
    given_members(store, &[1, 2]).await;
    let (one, two) = (MemberId::from_uuid(uuid(1)), MemberId::from_uuid(uuid(2)));
    let stop = Stop {
        id: uuid(0x5709),
        member: one,
        scope: StopScope::Purpose("label-offers".into()),
        request: Some(uuid(0x7e9_0001)),
        from: NOW,
    };
    store
        .apply(vec![Change::InsertStop(stop.clone())].into())
        .await
        .expect("stop");
    assert!(matches!(
        store
            .apply(vec![Change::InsertStop(stop.clone())].into())
            .await,
        Err(StoreError::Conflict)
    ));
    assert_eq!(
        store.stops_of(one).await.expect("stops"),
        vec![stop.clone()]
    );
    assert_eq!(store.stops_of(two).await.expect("stops"), vec![]);
    let lift = |member| Change::LiftStop {
        member,
        id: stop.id,
    };
    assert!(matches!(
        store.apply(vec![lift(two)].into()).await,
        Err(StoreError::NotFound)
    ));
    store.apply(vec![lift(one)].into()).await.expect("lift");
    assert_eq!(store.stops_of(one).await.expect("stops"), vec![]);
}

/// Erasing a member removes their requests (linked, or made from their address) and their
/// cessations; the retention job removes requests older than the inquiries' period.
pub async fn erasure_and_retention_remove_requests<S>(store: &S)
where
    S: PrivacyRequests + UnitOfWork + Members + Erasure + Retention,
{
    given_members(store, &[1]).await;
    let member = MemberId::from_uuid(uuid(1));
    let linked = request(1, Some(member), "member1@example.jp", 1);
    let by_address = request(2, None, "member1@example.jp", 1);
    let recent = request(3, None, "other@example.jp", 1);
    let old = request(4, None, "old@example.jp", 3 * 365);
    for r in [&linked, &by_address, &recent, &old] {
        put(store, r).await.expect("request");
    }
    let stop = Stop {
        id: uuid(0x5709),
        member,
        scope: StopScope::AllProvision,
        request: None,
        from: NOW,
    };
    store
        .apply(vec![Change::InsertStop(stop)].into())
        .await
        .expect("stop");
    store.erase(member).await.expect("erase");
    assert_eq!(store.stops_of(member).await.expect("stops"), vec![]);
    assert_eq!(
        store.requests(false, 10).await.expect("left"),
        vec![recent.clone(), old]
    );
    let purged = store
        .purge(&RetentionPolicy::default().cutoffs(NOW))
        .await
        .expect("purge");
    assert_eq!(purged.requests, 1);
    assert_eq!(store.requests(false, 10).await.expect("left"), vec![recent]);
}

/// Expands the cases into `#[tokio::test]`s (see [`crate::storage_contract_tests`]).
#[macro_export]
macro_rules! requests_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, requests: [
            requests_are_stored_whole_and_change_only_over_their_version,
            cessations_are_in_force_until_their_member_lifts_them,
            erasure_and_retention_remove_requests,
            policy_versions_publish_once_and_their_notice_moves_from_its_cursor,
        ]);
    };
}

/// A policy version is published once per number; its notice moves only from where it stands,
/// and a finished notice keeps no member's ID.
pub async fn policy_versions_publish_once_and_their_notice_moves_from_its_cursor<S>(store: &S)
where
    S: kikeru_domain::privacy::policy::PolicyVersions + UnitOfWork + Members,
{
    use kikeru_domain::privacy::policy::PolicyVersion;
    given_members(store, &[1, 2]).await;
    let version = PolicyVersion {
        number: 2,
        effective: time::macros::date!(2027 - 01 - 01),
        changes_ja: "委託先を追加".into(),
        changes_en: "A processor added".into(),
        published_at: NOW,
        published_by: Some(crate::fixtures::operator(1)),
        notice_cursor: None,
        notice_sent: 0,
        notice_done: false,
    };
    let publish = || store.apply(vec![Change::PublishPolicy(version.clone())].into());
    publish().await.expect("publish");
    assert!(matches!(publish().await, Err(StoreError::Conflict)));
    assert_eq!(
        store.versions().await.expect("versions"),
        vec![version.clone()]
    );
    let one = MemberId::from_uuid(uuid(1));
    let progress = |from, to, done| Change::PolicyNoticeProgress {
        number: 2,
        from,
        to,
        sent: 1,
        done,
    };
    store
        .apply(vec![progress(None, Some(one), false)].into())
        .await
        .expect("first batch");
    assert!(matches!(
        store
            .apply(vec![progress(None, Some(one), false)].into())
            .await,
        Err(StoreError::Conflict)
    ));
    let stored = store.versions().await.expect("versions");
    assert_eq!(
        (stored[0].notice_cursor, stored[0].notice_sent),
        (Some(one), 1)
    );
    store
        .apply(
            vec![progress(
                Some(one),
                Some(MemberId::from_uuid(uuid(2))),
                true,
            )]
            .into(),
        )
        .await
        .expect("last batch");
    let stored = store.versions().await.expect("versions");
    assert_eq!(
        (
            stored[0].notice_cursor,
            stored[0].notice_sent,
            stored[0].notice_done
        ),
        (None, 2, true)
    );
    assert!(matches!(
        store
            .apply(
                vec![Change::PolicyNoticeProgress {
                    number: 9,
                    from: None,
                    to: None,
                    sent: 0,
                    done: true
                }]
                .into()
            )
            .await,
        Err(StoreError::NotFound)
    ));
}
