//! The [`Consents`] contract.

use kikeru_domain::privacy::ports::Consents;
use kikeru_domain::privacy::{ConsentRecord, DataCategory, Purpose, Transfer};
use kikeru_domain::{Localized, MemberId};

use crate::fixtures::{NOW, uuid};

#[allow(clippy::unwrap_used)]
fn purpose(key: &str, version: u32) -> Purpose {
    Purpose {
        key: key.to_owned(),
        title: Localized::title("レーベルのお知らせ", "Label offers").unwrap(),
        notice: Localized::description(
            "提供先：Kikeru Label\n目的：新作のお知らせ",
            "To Kikeru Label, for news of releases",
        )
        .unwrap(),
        notice_version: version,
        recipient: Some("Kikeru Label".to_owned()),
        categories: [DataCategory::EmailAddress, DataCategory::PurchaseHistory]
            .into_iter()
            .collect(),
        transfer: Transfer::Provision,
    }
}

fn record(member: u128, purpose: &str, granted: bool, minutes: i64) -> ConsentRecord {
    ConsentRecord {
        member_id: MemberId::from_uuid(uuid(member)),
        purpose: purpose.to_owned(),
        granted,
        notice_version: 1,
        at: NOW + time::Duration::minutes(minutes),
        channel: "web".to_owned(),
    }
}

/// Purposes read back equal, by key; saving a key again replaces it.
pub async fn purposes_are_saved_and_replaced_by_key(port: &dyn Consents) {
    port.save_purpose(&purpose("label", 1)).await.expect("save");
    port.save_purpose(&purpose("another", 1))
        .await
        .expect("save");
    let mut changed = purpose("label", 2);
    changed.recipient = None;
    changed.transfer = Transfer::Sale;
    port.save_purpose(&changed).await.expect("save again");
    let purposes = port.purposes().await.expect("purposes");
    assert_eq!(purposes, vec![purpose("another", 1), changed]);
}

/// MUST keep every record, oldest first, and MUST NOT show other members' records.
pub async fn the_history_is_append_only_oldest_first_and_per_member(port: &dyn Consents) {
    let records = [
        record(1, "label", true, 0),
        record(2, "label", true, 1),
        record(1, "label", false, 2),
        record(1, "label", true, 3),
    ];
    for r in &records {
        port.append(r).await.expect("append");
    }
    let history = port
        .history(MemberId::from_uuid(uuid(1)))
        .await
        .expect("history");
    assert_eq!(
        history,
        vec![records[0].clone(), records[2].clone(), records[3].clone()]
    );
    assert_eq!(
        port.history(MemberId::from_uuid(uuid(3)))
            .await
            .expect("history"),
        vec![]
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `consents`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
/// The members who ever granted a purpose, once each, in ID order after the cursor.
pub async fn consenters_are_listed_once_in_id_order_after_the_cursor<S>(store: &S)
where
    S: Consents + kikeru_domain::ports::Members,
{
    crate::fixtures::given_members(store, &[1, 2, 3]).await;
    let record = |n: u128, purpose: &str, granted: bool, seconds: i64| ConsentRecord {
        member_id: MemberId::from_uuid(uuid(n)),
        purpose: purpose.into(),
        granted,
        notice_version: 1,
        at: NOW + time::Duration::seconds(seconds),
        channel: "web".into(),
    };
    for r in [
        record(2, "news", true, 0),
        record(2, "news", false, 1),
        record(2, "news", true, 2),
        record(1, "news", true, 0),
        record(3, "other", true, 0),
    ] {
        store.append(&r).await.expect("append");
    }
    let (one, two) = (MemberId::from_uuid(uuid(1)), MemberId::from_uuid(uuid(2)));
    assert_eq!(
        store.consenters("news", None, 10).await.expect("list"),
        vec![one, two]
    );
    assert_eq!(
        store.consenters("news", Some(one), 10).await.expect("list"),
        vec![two]
    );
    assert_eq!(
        store.consenters("news", None, 1).await.expect("list"),
        vec![one]
    );
}

#[macro_export]
macro_rules! consents_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, consents: [
            purposes_are_saved_and_replaced_by_key,
            the_history_is_append_only_oldest_first_and_per_member,
            consenters_are_listed_once_in_id_order_after_the_cursor,
        ]);
    };
}
