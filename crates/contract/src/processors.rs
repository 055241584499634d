//! The [`Processors`] and [`Partners`] contracts.

use kikeru_domain::StoreError;
use kikeru_domain::privacy::ports::{Partners, Processors};
use kikeru_domain::privacy::{DataCategory, Partner, Processor, ProcessorProposal};

use crate::fixtures::operator;

fn processor(key: &str, categories: &[DataCategory]) -> Processor {
    Processor {
        key: key.to_owned(),
        name: format!("{key} Inc."),
        purpose: "payment".to_owned(),
        categories: categories.iter().copied().collect(),
    }
}

/// Processors read back equal, by key; saving a key again replaces it.
pub async fn processors_are_saved_and_replaced_by_key(port: &dyn Processors) {
    port.save(&processor("stripe", &[DataCategory::OrderDetails]))
        .await
        .expect("save");
    port.save(&processor(
        "mail",
        &[DataCategory::EmailAddress, DataCategory::MessageContent],
    ))
    .await
    .expect("save");
    let wider = processor(
        "stripe",
        &[DataCategory::OrderDetails, DataCategory::EmailAddress],
    );
    port.save(&wider).await.expect("save again");
    let all = port.all().await.expect("all");
    assert_eq!(
        all,
        vec![
            processor(
                "mail",
                &[DataCategory::EmailAddress, DataCategory::MessageContent]
            ),
            wider
        ]
    );
}

/// A proposal changes nothing in the register until it is adopted; adopting puts it there and
/// forgets it; only the pending proposal itself can be adopted, once — not one replaced since.
pub async fn a_proposal_is_in_force_only_once_adopted(port: &dyn Processors) {
    let in_force = processor("stripe", &[DataCategory::OrderDetails]);
    port.save(&in_force).await.expect("save");
    let at = time::macros::datetime!(2026-04-01 09:00 UTC);
    let first = ProcessorProposal {
        processor: processor(
            "stripe",
            &[DataCategory::OrderDetails, DataCategory::EmailAddress],
        ),
        proposed_by: operator(1),
        proposed_at: at,
    };
    port.propose(&first).await.expect("propose");
    assert_eq!(port.all().await.expect("all"), vec![in_force.clone()]);
    assert_eq!(
        port.proposals().await.expect("proposals"),
        vec![first.clone()]
    );

    // Replaced by another proposal: the first can no longer be adopted.
    let second = ProcessorProposal {
        processor: processor(
            "stripe",
            &[DataCategory::OrderDetails, DataCategory::MemberId],
        ),
        proposed_by: operator(2),
        proposed_at: at + time::Duration::minutes(1),
    };
    port.propose(&second).await.expect("propose again");
    assert!(matches!(
        port.adopt(&first).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(port.all().await.expect("all"), vec![in_force]);

    let new = ProcessorProposal {
        processor: processor("courier", &[DataCategory::DisplayName]),
        proposed_by: operator(1),
        proposed_at: at,
    };
    port.propose(&new).await.expect("propose a new processor");
    port.adopt(&second).await.expect("adopt");
    assert!(matches!(
        port.adopt(&second).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        port.all().await.expect("all"),
        vec![second.processor.clone()]
    );
    assert_eq!(port.proposals().await.expect("proposals"), vec![new]);
}

fn partner(key: &str, address: &str) -> Partner {
    Partner {
        key: key.to_owned(),
        name: format!("{key} 株式会社"),
        address: address.to_owned(),
        representative: Some("代表取締役 山田花子".to_owned()),
        contact: "privacy@example.jp".to_owned(),
    }
}

/// Partners read back equal, by key; saving a key again replaces it.
pub async fn partners_are_saved_and_replaced_by_key(port: &dyn Partners) {
    port.save(&partner("label", "東京都港区1-2-3"))
        .await
        .expect("save");
    let mut broker = partner("broker", "大阪府大阪市北区4-5");
    broker.representative = None;
    port.save(&broker).await.expect("save");
    let moved = partner("label", "東京都渋谷区6-7");
    port.save(&moved).await.expect("save again");
    assert_eq!(port.all().await.expect("all"), vec![broker, moved]);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `processors`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! processors_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, processors: [
            processors_are_saved_and_replaced_by_key,
            a_proposal_is_in_force_only_once_adopted,
            partners_are_saved_and_replaced_by_key,
            supervision_records_are_kept_whole_and_in_order,
        ]);
    };
}

/// Supervision records are kept as recorded, every one, oldest first.
pub async fn supervision_records_are_kept_whole_and_in_order<S: Processors>(store: &S) {
    use kikeru_domain::privacy::supervision::Supervision;
    let record = |n: u128, reviewed: time::Date| Supervision {
        id: crate::fixtures::uuid(0x5u128 << 20 | n),
        processor: "stripe".into(),
        contract_date: time::macros::date!(2025 - 01 - 10),
        country: "United States".into(),
        sub_processors: "AWS（米国）".into(),
        foreign_environment: "APEC CBPR 参加国".into(),
        reviewed_on: reviewed,
        outcome: "契約どおり".into(),
        recorded_by: crate::fixtures::operator(1),
        recorded_at: crate::fixtures::NOW + time::Duration::seconds(n as i64),
    };
    let first = record(1, time::macros::date!(2025 - 03 - 01));
    let second = record(2, time::macros::date!(2026 - 03 - 01));
    store.record_supervision(&first).await.expect("first");
    store.record_supervision(&second).await.expect("second");
    assert_eq!(
        store.supervisions().await.expect("records"),
        vec![first, second]
    );
}
