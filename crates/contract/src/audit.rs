//! The [`AuditLog`] contract.

use kikeru_domain::ports::AuditLog;
use kikeru_domain::{MemberId, SecurityEventKind};

use crate::fixtures::{event, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

/// Events read back equal, newest first, at most `limit`; every kind round-trips.
pub async fn recorded_events_read_back_newest_first_within_the_limit(port: &dyn AuditLog) {
    let events: Vec<_> = SecurityEventKind::ALL
        .iter()
        .enumerate()
        .map(|(i, kind)| event(i as u128, Some(member(1)), i as i64, *kind))
        .collect();
    for e in &events {
        port.record(e).await.expect("record");
    }
    let mut expected = events.clone();
    expected.reverse();
    let all = port.for_member(member(1), 100).await.expect("list");
    assert_eq!(all, expected);
    let recent = port.for_member(member(1), 3).await.expect("list");
    assert_eq!(recent, expected[..3].to_vec());
}

/// `for_member` MUST NOT include other members' events (or events without a member).
pub async fn events_of_other_members_are_not_listed(port: &dyn AuditLog) {
    port.record(&event(1, Some(member(1)), 0, SecurityEventKind::SignedIn))
        .await
        .expect("record");
    port.record(&event(2, Some(member(2)), 1, SecurityEventKind::SignedIn))
        .await
        .expect("record");
    port.record(&event(3, None, 2, SecurityEventKind::SignInFailed))
        .await
        .expect("record");
    let listed = port.for_member(member(1), 10).await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].member_id, Some(member(1)));
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `audit`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! audit_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, audit: [
            recorded_events_read_back_newest_first_within_the_limit,
            events_of_other_members_are_not_listed,
        ]);
    };
}
