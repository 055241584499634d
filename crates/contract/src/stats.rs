//! The [`Statistics`] contract.

use futures_util::future::join_all;
use kikeru_domain::privacy::ports::Statistics;
use kikeru_domain::privacy::stats::{BrowserClass, Hit};
use time::macros::{date, datetime};

fn hit(at: kikeru_domain::Timestamp, path: &str, status: u16, family: &str) -> Hit {
    Hit::new(
        at,
        "GET",
        path,
        status,
        BrowserClass {
            family: family.into(),
            major: "128".into(),
            os: "Linux".into(),
            device: "pc".into(),
        },
    )
}

/// Completed days are rolled up once, however often or concurrently; today waits.
pub async fn completed_days_are_rolled_up_once<S: Statistics>(store: &S) {
    let day1 = datetime!(2026-04-01 09:00 UTC);
    let day2 = datetime!(2026-04-02 23:59 UTC);
    let today = datetime!(2026-04-03 08:00 UTC);
    let mut hits = vec![
        hit(day1, "/", 200, "Chrome"),
        hit(day1, "/", 200, "Chrome"),
        hit(
            day1,
            "/products/0190b1c2-7d3e-7000-8000-000000000001",
            200,
            "Safari",
        ),
        hit(day2, "/", 404, "Chrome"),
        hit(today, "/", 200, "Chrome"),
    ];
    hits.extend((0..300).map(|_| hit(day2, "/me", 200, "Firefox")));
    store.record(&hits).await.expect("record");
    let rounds = join_all((0..4).map(|_| store.roll_up(date!(2026 - 04 - 03)))).await;
    let rolled: u64 = rounds.into_iter().map(|r| r.expect("roll up")).sum();
    assert_eq!(rolled, 2, "two completed days, rolled once");
    assert_eq!(
        store.roll_up(date!(2026 - 04 - 03)).await.expect("again"),
        0
    );
    let daily = store
        .daily(date!(2026 - 04 - 01), date!(2026 - 04 - 30))
        .await
        .expect("daily");
    let total: u64 = daily.iter().map(|c| c.count).sum();
    assert_eq!(total, 304, "today is not counted yet");
    let home = daily
        .iter()
        .find(|c| c.day == date!(2026 - 04 - 01) && c.path == "/" && c.family == "Chrome")
        .expect("a count");
    assert_eq!(home.count, 2);
    assert!(daily.iter().any(|c| c.path == "/products/{id}"));
    assert_eq!(
        store
            .daily(date!(2026 - 04 - 02), date!(2026 - 04 - 02))
            .await
            .expect("one day")
            .iter()
            .map(|c| c.count)
            .sum::<u64>(),
        301
    );
    assert_eq!(
        store
            .roll_up(date!(2026 - 04 - 04))
            .await
            .expect("next day"),
        1
    );
}

/// Raw hits go after their period; the daily counts stay.
pub async fn raw_hits_are_purged_and_counts_stay<S: Statistics>(store: &S) {
    let old = datetime!(2026-01-01 09:00 UTC);
    let recent = datetime!(2026-04-01 09:00 UTC);
    store
        .record(&[
            hit(old, "/", 200, "Chrome"),
            hit(recent, "/", 200, "Chrome"),
        ])
        .await
        .expect("record");
    store.roll_up(date!(2026 - 04 - 02)).await.expect("roll up");
    assert_eq!(
        store
            .purge_hits(datetime!(2026-03-01 00:00 UTC))
            .await
            .expect("purge"),
        1
    );
    let counts = store
        .daily(date!(2026 - 01 - 01), date!(2026 - 04 - 02))
        .await
        .expect("daily");
    assert_eq!(counts.iter().map(|c| c.count).sum::<u64>(), 2);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `stats`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! stats_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, stats: [
            completed_days_are_rolled_up_once,
            raw_hits_are_purged_and_counts_stay,
        ]);
    };
}
