//! The [`LegalOrders`] contract.

use kikeru_domain::privacy::ports::LegalOrders;
use kikeru_domain::privacy::{DataCategory, LegalOrder};
use kikeru_domain::{MemberId, StoreError};

use crate::fixtures::{NOW, operator, uuid};

fn order(id: &str) -> LegalOrder {
    LegalOrder {
        id: id.to_owned(),
        authority: "Tokyo District Court".to_owned(),
        reference: "令和8年(モ)第123号".to_owned(),
        legal_basis: "Code of Civil Procedure Art. 223".to_owned(),
        issued_at: NOW,
        members: [MemberId::from_uuid(uuid(1)), MemberId::from_uuid(uuid(2))]
            .into_iter()
            .collect(),
        categories: [DataCategory::EmailAddress, DataCategory::PurchaseHistory]
            .into_iter()
            .collect(),
        approved_by: [operator(1)].into_iter().collect(),
        notice_withheld_until: Some(NOW + time::Duration::days(90)),
    }
}

/// Orders read back equal; approving adds an approver once; unknown orders are `NotFound`;
/// an ID is recorded once.
pub async fn legal_orders_record_and_collect_distinct_approvals(port: &dyn LegalOrders) {
    port.record(&order("LO-1")).await.expect("record");
    assert_eq!(port.all().await.expect("all"), vec![order("LO-1")]);
    assert!(matches!(
        port.record(&order("LO-1")).await,
        Err(StoreError::Conflict)
    ));
    let again = port.approve("LO-1", operator(1)).await.expect("approve");
    assert_eq!(again.approved_by.len(), 1, "approving twice counts once");
    let approved = port.approve("LO-1", operator(2)).await.expect("approve");
    assert_eq!(approved.approved_by.len(), 2);
    assert_eq!(port.all().await.expect("all")[0].approved_by.len(), 2);
    assert!(matches!(
        port.approve("LO-9", operator(2)).await,
        Err(StoreError::NotFound)
    ));
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `legal_orders`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! legal_orders_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, legal_orders: [
            legal_orders_record_and_collect_distinct_approvals,
        ]);
    };
}
