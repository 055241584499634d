//! The [`Receipts`] contract: one gap-free sequence, one receipt per order, the member's own.

use futures_util::future::join_all;
use kikeru_domain::shop::ports::Receipts;
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::shop::receipt::{ReceiptDraft, ReceiptLine};
use kikeru_domain::shop::tax::{RateTotal, TaxRules};
use kikeru_domain::{Currency, MemberId, OrderId, PaymentSignal as Sig, StoreError};

use crate::fixtures::{NOW, given_members, order, payment_event, product, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

fn draft(n: u128, owner: u128) -> ReceiptDraft {
    ReceiptDraft {
        order_id: OrderId::from_uuid(uuid(40_000 + n)),
        member_id: member(owner),
        issued_at: NOW + time::Duration::seconds(i64::try_from(n).unwrap_or(0)),
        paid_at: NOW,
        currency: Currency::Jpy,
        lines: vec![ReceiptLine {
            title_ja: format!("朝の鳥 {n}"),
            title_en: format!("Morning birds {n}"),
            unit_price: 1100,
            quantity: 1,
            rate: 10,
        }],
        per_rate: vec![RateTotal {
            rate: 10,
            inclusive: 1100,
            tax: 100,
            exclusive: 1000,
        }],
        total: 1100,
        issuer: "株式会社キケル".to_owned(),
        registration_number: Some("T7123456789012".to_owned()),
        recipient: None,
        reissues: 0,
    }
}

/// Numbers MUST be 1, 2, 3, … with no gap and no repeat, also when many are issued at once;
/// a second receipt for an order is `Conflict` and takes no number; receipts read back as
/// issued, by number and per member (newest first, never another member's).
pub async fn receipts_are_numbered_without_gaps_or_repeats_even_at_once<S>(store: &S)
where
    S: kikeru_domain::ports::Members + Receipts,
{
    given_members(store, &[1, 2]).await;
    let port: &dyn Receipts = store;
    let drafts: Vec<ReceiptDraft> = (1..=12).map(|n| draft(n, 1 + n % 2)).collect();
    let issued = join_all(drafts.iter().map(|d| port.issue(d))).await;
    let mut numbers: Vec<u64> = issued
        .iter()
        .map(|r| r.as_ref().expect("issued").number)
        .collect();
    numbers.sort_unstable();
    assert_eq!(numbers, (1..=12).collect::<Vec<u64>>());
    let again = port.issue(&drafts[3]).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    let next = port.issue(&draft(13, 1)).await.expect("the next");
    assert_eq!(next.number, 13, "a refused issue leaves no gap");
    let five = port.by_number(5).await.expect("read").expect("present");
    let issued_five = issued
        .iter()
        .flatten()
        .find(|r| r.number == 5)
        .expect("five");
    assert_eq!(five, *issued_five);
    assert_eq!(port.by_number(99).await.expect("read"), None);
    let mine = port.for_member(member(2)).await.expect("list");
    assert_eq!(mine.len(), 6);
    assert!(mine.iter().all(|r| r.content.member_id == member(2)));
    assert!(mine.windows(2).all(|w| w[0].number > w[1].number));

    // A reissue to a recipient changes the name and the count only, for the member's own.
    let owner = five.content.member_id;
    let reissued = port
        .reissue(5, owner, "株式会社サンプル 御中")
        .await
        .expect("reissue");
    assert_eq!(
        reissued.content.recipient.as_deref(),
        Some("株式会社サンプル 御中")
    );
    assert_eq!(reissued.content.reissues, 1);
    assert_eq!(reissued.content.lines, five.content.lines);
    let twice = port.reissue(5, owner, "山田 花子 様").await.expect("again");
    assert_eq!(twice.content.reissues, 2);
    assert_eq!(
        port.by_number(5).await.expect("read").expect("present"),
        twice
    );
    let stranger = if owner == member(1) {
        member(2)
    } else {
        member(1)
    };
    let refused = port.reissue(5, stranger, "x").await;
    assert!(
        matches!(refused, Err(StoreError::NotFound)),
        "got {refused:?}"
    );
    let missing = port.reissue(99, owner, "x").await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "got {missing:?}"
    );
}

/// `unreceipted` lists paid orders without a receipt, the earliest paid first; unpaid orders
/// and orders with a receipt are not listed.
pub async fn unreceipted_lists_paid_orders_without_a_receipt<S>(store: &S)
where
    S: kikeru_domain::ports::Members + Catalog + Orders + Receipts,
{
    given_members(store, &[1]).await;
    let products: Vec<_> = (1..=3).map(|n| product(n, 1100, true)).collect();
    store.save_all(&products).await.expect("save products");
    let mut placed = Vec::new();
    for n in 1..=3u128 {
        let (o, p) = order(
            n,
            member(1),
            &[&products[usize::try_from(n - 1).unwrap_or(0)]],
            None,
        );
        store.create(&o, &p).await.expect("create");
        let reference = format!("ref-{n}");
        store
            .attach_checkout(
                p.id,
                &reference,
                &format!("https://pay.example/{reference}"),
            )
            .await
            .expect("attach");
        placed.push(o);
    }
    // Paid in the order 3, 1; order 2 stays unpaid.
    for (n, minutes) in [(3, 1), (1, 2)] {
        store
            .apply_event(
                &payment_event(&format!("evt-{n}"), &format!("ref-{n}"), Sig::Succeeded),
                NOW + time::Duration::minutes(minutes),
            )
            .await
            .expect("paid");
    }
    let due: Vec<OrderId> = store
        .unreceipted(10)
        .await
        .expect("list")
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(due, vec![placed[2].id, placed[0].id]);
    let mut first = draft(1, 1);
    first.order_id = placed[2].id;
    store.issue(&first).await.expect("issue");
    let due: Vec<OrderId> = store
        .unreceipted(10)
        .await
        .expect("list")
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(due, vec![placed[0].id]);
    assert_eq!(store.unreceipted(0).await.expect("list").len(), 0);
}

/// Places order `n` for `owner` and pays it at `NOW + minutes`.
async fn paid_order<S>(store: &S, n: u128, owner: MemberId, minutes: i64) -> OrderId
where
    S: Catalog + Orders,
{
    let item = product(n, 1100, true);
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("save product");
    let (o, p) = order(n, owner, &[&item], None);
    store.create(&o, &p).await.expect("create");
    let reference = format!("ref-{n}");
    store
        .attach_checkout(
            p.id,
            &reference,
            &format!("https://pay.example/{reference}"),
        )
        .await
        .expect("attach");
    store
        .apply_event(
            &payment_event(&format!("evt-{n}"), &reference, Sig::Succeeded),
            NOW + time::Duration::minutes(minutes),
        )
        .await
        .expect("paid");
    o.id
}

/// Refunds order `n` at `NOW + minutes`.
async fn refund<S: Orders>(store: &S, n: u128, minutes: i64) {
    store
        .apply_event(
            &payment_event(
                &format!("evt-refund-{n}"),
                &format!("ref-{n}"),
                Sig::Refunded,
            ),
            NOW + time::Duration::minutes(minutes),
        )
        .await
        .expect("refunded");
}

/// `unreturned` lists receipts of refunded orders without a return invoice, with the refund's
/// time; return invoices are numbered 1, 2, … apart from receipts, one per order, and read
/// back as issued by number and per member.
pub async fn refunds_get_one_return_invoice_from_their_own_sequence<S>(store: &S)
where
    S: kikeru_domain::ports::Members + Catalog + Orders + Receipts,
{
    given_members(store, &[1, 2]).await;
    let kept = paid_order(store, 1, member(1), 1).await;
    let refunded = paid_order(store, 2, member(2), 2).await;
    for (n, id) in [(1, kept), (2, refunded)] {
        let mut d = draft(n, if n == 1 { 1 } else { 2 });
        d.order_id = id;
        store.issue(&d).await.expect("receipt");
    }
    assert!(store.unreturned(10).await.expect("list").is_empty());
    refund(store, 2, 30).await;
    let due = store.unreturned(10).await.expect("list");
    assert_eq!(due.len(), 1);
    let whole = &due[0];
    assert_eq!(whole.receipt.content.order_id, refunded);
    assert_eq!(whole.returned_at, NOW + time::Duration::minutes(30));
    assert_eq!(
        (whole.case.as_deref(), whole.amount),
        (None, whole.receipt.content.total)
    );
    let content = kikeru_domain::shop::receipt::return_of(whole, &TaxRules::japan(), NOW);
    let invoice = store.issue_return(&content).await.expect("return");
    assert_eq!(invoice.number, 1, "return invoices have their own sequence");
    assert_eq!(invoice.content, content);
    let again = store.issue_return(&content).await;
    assert!(matches!(again, Err(StoreError::Conflict)), "got {again:?}");
    assert!(store.unreturned(10).await.expect("list").is_empty());
    assert_eq!(
        store.return_by_number(1).await.expect("read"),
        Some(invoice.clone())
    );
    assert_eq!(store.return_by_number(2).await.expect("read"), None);
    assert_eq!(
        store.returns_for_member(member(2)).await.expect("list"),
        vec![invoice]
    );
    assert!(
        store
            .returns_for_member(member(1))
            .await
            .expect("list")
            .is_empty()
    );
    assert_eq!(store.unreturned(0).await.expect("list").len(), 0);
}

/// Receipts and return invoices survive the member's erasure, and the retention purge removes
/// them with their orders; numbers given before are never given again.
pub async fn receipts_survive_erasure_and_leave_with_their_orders<S>(store: &S)
where
    S: kikeru_domain::ports::Members
        + kikeru_domain::ports::Erasure
        + kikeru_domain::privacy::ports::Retention
        + Catalog
        + Orders
        + Receipts,
{
    // The first member proved their address: the purge keeps their account and its records.
    let mut verified = crate::fixtures::member(1, "member1@example.jp");
    verified.email_verified_at = Some(NOW);
    kikeru_domain::ports::Members::insert(store, &verified)
        .await
        .expect("member");
    given_members(store, &[2]).await;
    let stays = paid_order(store, 1, member(1), 1).await;
    let goes = paid_order(store, 2, member(2), 2).await;
    for (n, id, owner) in [(1, stays, 1), (2, goes, 2)] {
        let mut d = draft(n, owner);
        d.order_id = id;
        store.issue(&d).await.expect("receipt");
    }
    refund(store, 2, 30).await;
    let due = store.unreturned(1).await.expect("list").remove(0);
    store
        .issue_return(&kikeru_domain::shop::receipt::return_of(
            &due,
            &TaxRules::japan(),
            NOW,
        ))
        .await
        .expect("return");
    store.erase(member(2)).await.expect("erase");
    assert_eq!(
        store.for_member(member(2)).await.expect("list").len(),
        1,
        "an accounting record outlives the account"
    );
    assert!(store.return_by_number(1).await.expect("read").is_some());

    let later = NOW + time::Duration::days(365 * 10);
    let cutoffs = kikeru_domain::privacy::retention::RetentionPolicy::default().cutoffs(later);
    let purged = store.purge(&cutoffs).await.expect("purge");
    assert_eq!(purged.accounting_orders, 1);
    assert_eq!(store.by_number(2).await.expect("read"), None);
    assert_eq!(store.return_by_number(1).await.expect("read"), None);
    assert!(
        store.by_number(1).await.expect("read").is_some(),
        "an existing member's receipt stays"
    );
    let next = store.issue(&draft(3, 1)).await.expect("issue");
    assert_eq!(next.number, 3, "a purged number is not given again");
}

/// Each settled refund and each lost dispute gets its own return invoice for its amount: a
/// partial refund, then the refund of the rest (no whole-order return besides), a lost
/// dispute of another order; each once.
pub async fn each_settled_refund_and_lost_dispute_gets_its_own_return_invoice<S>(store: &S)
where
    S: kikeru_domain::ports::Members + Catalog + Orders + Receipts,
{
    use crate::fixtures::{case_event, dispute_case, refund_case};
    use kikeru_domain::{DisputeState, RefundState};
    given_members(store, &[1]).await;
    let partly = paid_order(store, 1, member(1), 1).await;
    let disputed = paid_order(store, 2, member(1), 2).await;
    for (n, id) in [(1, partly), (2, disputed)] {
        let mut d = draft(n, 1);
        d.order_id = id;
        store.issue(&d).await.expect("receipt");
    }
    let at = |minutes| NOW + time::Duration::minutes(minutes);
    let report = |id: &'static str, reference: &'static str, case, minutes| async move {
        store
            .apply_event(&case_event(id, reference, case), at(minutes))
            .await
            .expect("case")
    };
    report(
        "c1",
        "ref-1",
        refund_case("re_a", RefundState::Pending, 100),
        10,
    )
    .await;
    assert!(
        store.unreturned(10).await.expect("list").is_empty(),
        "not settled yet"
    );
    report(
        "c2",
        "ref-1",
        refund_case("re_a", RefundState::Succeeded, 100),
        20,
    )
    .await;
    let due = store.unreturned(10).await.expect("list");
    assert_eq!(due.len(), 1);
    assert_eq!(
        (due[0].case.as_deref(), due[0].amount, due[0].returned_at),
        (Some("re_a"), 100, at(20))
    );
    let rules = TaxRules::japan();
    let first = kikeru_domain::shop::receipt::return_of(&due[0], &rules, NOW);
    assert_eq!((first.total, first.per_rate[0].tax), (100, 9));
    store.issue_return(&first).await.expect("return");
    assert!(matches!(
        store.issue_return(&first).await,
        Err(StoreError::Conflict)
    ));
    // The rest refunded: its own return invoice, and none for the whole order.
    report(
        "c3",
        "ref-1",
        refund_case("re_b", RefundState::Succeeded, 1000),
        30,
    )
    .await;
    report("c4", "ref-2", dispute_case("du_1", DisputeState::Open), 40).await;
    report("c5", "ref-2", dispute_case("du_1", DisputeState::Lost), 50).await;
    let due = store.unreturned(10).await.expect("list");
    let seen: Vec<_> = due
        .iter()
        .map(|d| (d.receipt.content.order_id, d.case.as_deref(), d.amount))
        .collect();
    assert_eq!(
        seen,
        [(partly, Some("re_b"), 1000), (disputed, Some("du_1"), 1100)]
    );
    for d in &due {
        store
            .issue_return(&kikeru_domain::shop::receipt::return_of(d, &rules, NOW))
            .await
            .expect("return");
    }
    assert!(store.unreturned(10).await.expect("list").is_empty());
    let returned: i64 = store
        .returns_for_member(member(1))
        .await
        .expect("list")
        .iter()
        .map(|r| r.content.total)
        .sum();
    assert_eq!(returned, 100 + 1000 + 1100, "no more than was refunded");
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `receipts`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! receipts_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, receipts: [
            receipts_are_numbered_without_gaps_or_repeats_even_at_once,
            unreceipted_lists_paid_orders_without_a_receipt,
            refunds_get_one_return_invoice_from_their_own_sequence,
            receipts_survive_erasure_and_leave_with_their_orders,
            each_settled_refund_and_lost_dispute_gets_its_own_return_invoice,
        ]);
    };
}
