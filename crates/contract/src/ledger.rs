//! The [`Ledger`] contract.

use futures_util::future::join_all;
use kikeru_domain::MemberId;
use kikeru_domain::privacy::ports::Ledger;
use kikeru_domain::privacy::{Basis, DataCategory, LedgerDraft, Recipient, first_broken};

use crate::fixtures::{NOW, uuid};

fn draft(member: u128, minutes: i64, withheld_days: i64) -> LedgerDraft {
    let at = NOW + time::Duration::minutes(minutes);
    LedgerDraft {
        at,
        member_id: MemberId::from_uuid(uuid(member)),
        recipient: Recipient::Partner("Kikeru Label".to_owned()),
        recipient_details: kikeru_domain::privacy::RecipientDetails {
            name: "Kikeru Label K.K.".to_owned(),
            address: "東京都港区1-2-3".to_owned(),
            representative: "山田花子".to_owned(),
        },
        categories: [DataCategory::EmailAddress, DataCategory::PurchaseHistory]
            .into_iter()
            .collect(),
        basis: Basis::Consent {
            purpose: "label-offers".to_owned(),
            notice_version: 2,
        },
        visible_from: at + time::Duration::days(withheld_days),
    }
}

/// Entries read back equal, in order, forming an unbroken chain.
pub async fn appended_entries_form_an_unbroken_chain(port: &dyn Ledger) {
    let first = port.append(draft(1, 0, 0)).await.expect("append");
    let second = port.append(draft(2, 1, 0)).await.expect("append");
    assert_eq!((first.seq, second.seq), (1, 2));
    assert_eq!(second.prev_hash, first.hash);
    let all = port.all().await.expect("all");
    assert_eq!(all, vec![first, second]);
    assert_eq!(first_broken(&all), None);
}

/// MUST give concurrent appends distinct positions: the chain never forks.
pub async fn concurrent_appends_never_fork_the_chain(port: &dyn Ledger) {
    let results = join_all((0..10).map(|n| port.append(draft(1, n, 0)))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let all = port.all().await.expect("all");
    assert_eq!(
        all.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (1..=10).collect::<Vec<_>>()
    );
    assert_eq!(first_broken(&all), None);
}

/// A member sees only their own entries, and a withheld one only once its notice date comes.
pub async fn members_see_their_own_entries_once_visible(port: &dyn Ledger) {
    port.append(draft(1, 0, 0)).await.expect("append");
    port.append(draft(2, 1, 0)).await.expect("append");
    port.append(draft(1, 2, 30)).await.expect("append");
    let member = MemberId::from_uuid(uuid(1));
    assert_eq!(
        port.for_member(member, NOW + time::Duration::days(1))
            .await
            .expect("entries")
            .len(),
        1
    );
    let later = port
        .for_member(member, NOW + time::Duration::days(31))
        .await
        .expect("entries");
    assert_eq!(later.iter().map(|e| e.seq).collect::<Vec<_>>(), [1, 3]);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `ledger`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! ledger_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, ledger: [
            appended_entries_form_an_unbroken_chain,
            concurrent_appends_never_fork_the_chain,
            members_see_their_own_entries_once_visible,
        ]);
    };
}
