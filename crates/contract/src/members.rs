//! The [`Members`] contract.

use futures_util::future::join_all;
use kikeru_domain::ports::Members;
use kikeru_domain::{DisplayName, Email, Language, MemberId, StoreError};

use crate::fixtures::{NOW, member, uuid};

/// MUST store every field so that `by_id` (and `by_email`) return an equal member.
pub async fn inserted_member_reads_back_equal_by_id_and_by_email(port: &dyn Members) {
    let mut hanako = member(1, "hanako@example.jp");
    hanako.email_verified_at = Some(NOW);
    port.insert(&hanako).await.expect("insert");
    assert_eq!(
        port.by_id(hanako.id).await.expect("by_id"),
        Some(hanako.clone())
    );
    assert_eq!(
        port.by_email(&hanako.email).await.expect("by_email"),
        Some(hanako)
    );
}

/// Unknown IDs and addresses are `None`, not errors.
pub async fn unknown_member_is_none(port: &dyn Members) {
    port.insert(&member(1, "hanako@example.jp"))
        .await
        .expect("insert");
    assert_eq!(
        port.by_id(MemberId::from_uuid(uuid(2)))
            .await
            .expect("by_id"),
        None
    );
    let other = Email::parse("taro@example.jp").expect("valid");
    assert_eq!(port.by_email(&other).await.expect("by_email"), None);
}

/// MUST refuse a member whose address another member has.
pub async fn second_member_with_the_same_email_is_a_conflict(port: &dyn Members) {
    port.insert(&member(1, "hanako@example.jp"))
        .await
        .expect("insert");
    let result = port.insert(&member(2, "hanako@example.jp")).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "got {result:?}"
    );
    let result = port.insert(&member(1, "other@example.jp")).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "same id: got {result:?}"
    );
}

/// MUST let exactly one of several simultaneous inserts of one address succeed.
pub async fn concurrent_inserts_of_one_email_store_exactly_one(port: &dyn Members) {
    let candidates: Vec<_> = (1..=8).map(|n| member(n, "race@example.jp")).collect();
    let results = join_all(candidates.iter().map(|m| port.insert(m))).await;
    let stored = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(stored, 1, "results: {results:?}");
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict))),
        "{results:?}"
    );
    let email = Email::parse("race@example.jp").expect("valid");
    assert!(port.by_email(&email).await.expect("by_email").is_some());
}

/// `update` replaces every field.
pub async fn update_replaces_every_field(port: &dyn Members) {
    let mut hanako = member(1, "hanako@example.jp");
    port.insert(&hanako).await.expect("insert");
    hanako.email = Email::parse("hanako.new@example.jp").expect("valid");
    hanako.email_verified_at = Some(NOW);
    hanako.display_name = DisplayName::parse("Hanako").expect("valid");
    hanako.language = Language::En;
    port.update(&hanako).await.expect("update");
    assert_eq!(
        port.by_id(hanako.id).await.expect("by_id"),
        Some(hanako.clone())
    );
    let old = Email::parse("hanako@example.jp").expect("valid");
    assert_eq!(port.by_email(&old).await.expect("by_email"), None);
}

/// `update` of a member that does not exist is `NotFound`.
pub async fn update_of_a_missing_member_is_not_found(port: &dyn Members) {
    let result = port.update(&member(9, "ghost@example.jp")).await;
    assert!(
        matches!(result, Err(StoreError::NotFound)),
        "got {result:?}"
    );
}

/// `update` MUST refuse an address another member has.
pub async fn update_to_another_members_email_is_a_conflict(port: &dyn Members) {
    port.insert(&member(1, "hanako@example.jp"))
        .await
        .expect("insert");
    let mut taro = member(2, "taro@example.jp");
    port.insert(&taro).await.expect("insert");
    taro.email = Email::parse("hanako@example.jp").expect("valid");
    let result = port.update(&taro).await;
    assert!(
        matches!(result, Err(StoreError::Conflict)),
        "got {result:?}"
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `members`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! members_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, members: [
            inserted_member_reads_back_equal_by_id_and_by_email,
            unknown_member_is_none,
            second_member_with_the_same_email_is_a_conflict,
            concurrent_inserts_of_one_email_store_exactly_one,
            update_replaces_every_field,
            update_of_a_missing_member_is_not_found,
            update_to_another_members_email_is_a_conflict,
        ]);
    };
}
