//! The [`Tokens`] contract.

use futures_util::future::join_all;
use kikeru_domain::ports::{Members, Tokens};
use kikeru_domain::{MemberId, TokenPurpose};

use crate::fixtures::{given_members, token, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

/// `find` returns the stored token, every field equal, without using it up.
pub async fn inserted_token_is_found_without_being_used_up<S: Members + Tokens>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Tokens = store;
    let stored = token(1, member(1), TokenPurpose::ChangeEmail);
    port.insert(&stored).await.expect("insert");
    assert_eq!(
        port.find(&stored.hash).await.expect("find"),
        Some(stored.clone())
    );
    assert_eq!(port.find(&stored.hash).await.expect("find"), Some(stored));
}

/// `take` returns the token, then never again.
pub async fn take_returns_the_token_once<S: Members + Tokens>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Tokens = store;
    let stored = token(1, member(1), TokenPurpose::VerifyEmail);
    port.insert(&stored).await.expect("insert");
    assert_eq!(
        port.take(&stored.hash).await.expect("take"),
        Some(stored.clone())
    );
    assert_eq!(port.take(&stored.hash).await.expect("take"), None);
    assert_eq!(port.find(&stored.hash).await.expect("find"), None);
}

/// `take` MUST return the token to one caller only, even when many take it at once.
pub async fn concurrent_takes_return_the_token_to_one_caller<S: Members + Tokens>(store: &S) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Tokens = store;
    let stored = token(1, member(1), TokenPurpose::ResetPassword);
    port.insert(&stored).await.expect("insert");
    let results = join_all((0..10).map(|_| port.take(&stored.hash))).await;
    let winners = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(winners, 1, "{results:?}");
}

/// `delete_for_member` removes one purpose of one member, nothing else.
pub async fn delete_for_member_removes_only_that_purpose_of_that_member<S: Members + Tokens>(
    store: &S,
) {
    given_members(store, &[1, 2, 3]).await;
    let port: &dyn Tokens = store;
    let verify = token(1, member(1), TokenPurpose::VerifyEmail);
    let reset = token(2, member(1), TokenPurpose::ResetPassword);
    let others = token(3, member(2), TokenPurpose::VerifyEmail);
    for t in [&verify, &reset, &others] {
        port.insert(t).await.expect("insert");
    }
    assert_eq!(
        port.delete_for_member(member(1), TokenPurpose::VerifyEmail)
            .await
            .expect("delete"),
        1
    );
    assert_eq!(port.find(&verify.hash).await.expect("find"), None);
    assert_eq!(port.find(&reset.hash).await.expect("find"), Some(reset));
    assert_eq!(port.find(&others.hash).await.expect("find"), Some(others));
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `tokens`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! tokens_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, tokens: [
            inserted_token_is_found_without_being_used_up,
            take_returns_the_token_once,
            concurrent_takes_return_the_token_to_one_caller,
            delete_for_member_removes_only_that_purpose_of_that_member,
        ]);
    };
}
