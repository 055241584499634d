//! The [`RateLimits`] contract.

use std::time::Duration;

use futures_util::future::join_all;
use kikeru_domain::ports::RateLimits;

use crate::fixtures::NOW;

const WINDOW: Duration = Duration::from_secs(60);

/// Hits count up within a window; a hit at or after its end starts a new window at 1.
pub async fn hits_count_up_within_a_window_and_restart_after_it(port: &dyn RateLimits) {
    let first = port.hit("k", WINDOW, NOW).await.expect("hit");
    assert_eq!((first.count, first.window_ends_at), (1, NOW + WINDOW));
    let second = port
        .hit("k", WINDOW, NOW + Duration::from_secs(59))
        .await
        .expect("hit");
    assert_eq!((second.count, second.window_ends_at), (2, NOW + WINDOW));
    let later = NOW + WINDOW;
    let fresh = port.hit("k", WINDOW, later).await.expect("hit");
    assert_eq!((fresh.count, fresh.window_ends_at), (1, later + WINDOW));
}

/// `peek` reports the window without counting; 0 when there is none or it ended.
pub async fn peek_does_not_count(port: &dyn RateLimits) {
    assert_eq!(port.peek("k", NOW).await.expect("peek").count, 0);
    port.hit("k", WINDOW, NOW).await.expect("hit");
    let seen = port.peek("k", NOW).await.expect("peek");
    assert_eq!((seen.count, seen.window_ends_at), (1, NOW + WINDOW));
    assert_eq!(port.peek("k", NOW).await.expect("peek").count, 1);
    assert_eq!(port.peek("k", NOW + WINDOW).await.expect("peek").count, 0);
}

/// `reset` forgets the window.
pub async fn reset_forgets_the_window(port: &dyn RateLimits) {
    port.hit("k", WINDOW, NOW).await.expect("hit");
    port.reset("k").await.expect("reset");
    assert_eq!(port.peek("k", NOW).await.expect("peek").count, 0);
    assert_eq!(port.hit("k", WINDOW, NOW).await.expect("hit").count, 1);
    port.reset("never-hit")
        .await
        .expect("reset of an unknown key");
}

/// MUST be atomic: `n` concurrent hits return the counts `1..=n`.
pub async fn concurrent_hits_return_distinct_counts(port: &dyn RateLimits) {
    let results = join_all((0..20).map(|_| port.hit("busy", WINDOW, NOW))).await;
    let mut counts: Vec<u32> = results.into_iter().map(|r| r.expect("hit").count).collect();
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>());
}

/// Keys count separately.
pub async fn keys_are_independent(port: &dyn RateLimits) {
    port.hit("a", WINDOW, NOW).await.expect("hit");
    port.hit("a", WINDOW, NOW).await.expect("hit");
    assert_eq!(port.hit("b", WINDOW, NOW).await.expect("hit").count, 1);
    assert_eq!(port.peek("a", NOW).await.expect("peek").count, 2);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `rate_limits`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! rate_limits_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, rate_limits: [
            hits_count_up_within_a_window_and_restart_after_it,
            peek_does_not_count,
            reset_forgets_the_window,
            concurrent_hits_return_distinct_counts,
            keys_are_independent,
        ]);
    };
}
