//! The [`Sessions`] contract.

use kikeru_domain::StoreError;
use kikeru_domain::ports::{Members, Sessions};
use kikeru_domain::{MemberId, SessionId, SessionToken};

use crate::fixtures::{NOW, given_members, session, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

/// A stored session is found by its token's hash, and MUST NOT match any other hash.
pub async fn inserted_session_is_found_by_its_token_hash_only<S: Members + Sessions>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (stored, token) = session(1, member(1), 0);
    port.insert(&stored).await.expect("insert");
    assert_eq!(
        port.by_token_hash(&token.hash()).await.expect("find"),
        Some(stored)
    );
    let other = SessionToken::from_bytes([200; 32]);
    assert_eq!(port.by_token_hash(&other.hash()).await.expect("find"), None);
}

/// `touch` records the time of last use.
pub async fn touch_records_last_use<S: Members + Sessions>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (stored, token) = session(1, member(1), 600);
    port.insert(&stored).await.expect("insert");
    port.touch(stored.id, NOW).await.expect("touch");
    let found = port
        .by_token_hash(&token.hash())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.last_seen_at, NOW);
    assert_eq!(found.created_at, stored.created_at);
}

/// `touch` of a session that is gone is `NotFound`.
pub async fn touch_of_a_missing_session_is_not_found<S: Members + Sessions>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let result = port.touch(SessionId::from_uuid(uuid(77)), NOW).await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "got {result:?}"
    );
}

/// `for_member` lists the member's sessions newest first and MUST NOT include others'.
pub async fn for_member_lists_only_that_members_sessions_newest_first<S: Members + Sessions>(
    store: &S,
) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (old, _) = session(1, member(1), 3600);
    let (new, _) = session(2, member(1), 60);
    let (other, _) = session(3, member(2), 0);
    for s in [&old, &other, &new] {
        port.insert(s).await.expect("insert");
    }
    assert_eq!(
        port.for_member(member(1)).await.expect("list"),
        vec![new, old]
    );
    assert_eq!(port.for_member(member(3)).await.expect("list"), vec![]);
}

/// `delete` MUST make the token unusable at once, and says whether the session existed.
pub async fn delete_makes_the_token_unusable_at_once<S: Members + Sessions>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (stored, token) = session(1, member(1), 0);
    port.insert(&stored).await.expect("insert");
    assert!(port.delete(stored.id).await.expect("delete"));
    assert_eq!(port.by_token_hash(&token.hash()).await.expect("find"), None);
    assert!(!port.delete(stored.id).await.expect("delete again"));
}

/// `delete_for_member` keeps the named session and MUST NOT touch other members' sessions.
pub async fn delete_for_member_keeps_the_named_session_and_other_members<S: Members + Sessions>(
    store: &S,
) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (a, _) = session(1, member(1), 30);
    let (b, _) = session(2, member(1), 20);
    let (c, _) = session(3, member(1), 10);
    let (other, _) = session(4, member(2), 0);
    for s in [&a, &b, &c, &other] {
        port.insert(s).await.expect("insert");
    }
    assert_eq!(
        port.delete_for_member(member(1), Some(b.id))
            .await
            .expect("delete"),
        2
    );
    assert_eq!(port.for_member(member(1)).await.expect("list"), vec![b]);
    assert_eq!(port.for_member(member(2)).await.expect("list"), vec![other]);
    assert_eq!(
        port.delete_for_member(member(1), None)
            .await
            .expect("delete"),
        1
    );
    assert_eq!(port.for_member(member(1)).await.expect("list"), vec![]);
}

/// A second session with the same token hash is a `Conflict`.
pub async fn duplicate_token_hash_is_a_conflict<S: Members + Sessions>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Sessions = store;
    let (first, _) = session(1, member(1), 0);
    port.insert(&first).await.expect("insert");
    let mut second = first.clone();
    second.id = SessionId::from_uuid(uuid(999));
    let result = port.insert(&second).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "got {result:?}"
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `sessions`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! sessions_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, sessions: [
            inserted_session_is_found_by_its_token_hash_only,
            touch_records_last_use,
            touch_of_a_missing_session_is_not_found,
            for_member_lists_only_that_members_sessions_newest_first,
            delete_makes_the_token_unusable_at_once,
            delete_for_member_keeps_the_named_session_and_other_members,
            duplicate_token_hash_is_a_conflict,
        ]);
    };
}
