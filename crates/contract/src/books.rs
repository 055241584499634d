//! The [`Books`] contract: the documents of a period, each with its kind and its lines' SKUs and
//! creators, and the records they reconcile with.

use kikeru_domain::office::books::ports::Books;
use kikeru_domain::office::books::{Grouping, Period, ReturnKind, reconcile};
use kikeru_domain::shop::ports::{Catalog, Orders, Receipts};
use kikeru_domain::shop::receipt::{ReceiptDraft, ReceiptLine, return_of};
use kikeru_domain::shop::tax::{RateTotal, TaxRules};
use kikeru_domain::{
    Creator, Currency, DisputeState, MemberId, OrderId, PaymentSignal as Sig, RefundState,
};

use crate::fixtures::{
    NOW, case_event, dispute_case, given_members, order, payment_event, product, refund_case, uuid,
};

fn minutes(n: i64) -> kikeru_domain::Timestamp {
    NOW + time::Duration::minutes(n)
}

/// Places order `n` (a product by creator `sato` when `n` is odd), pays it at `minutes(n)` and
/// issues its receipt.
async fn sold<S>(store: &S, n: u128) -> OrderId
where
    S: Catalog + Orders + Receipts,
{
    let mut item = product(n, 1100, true);
    if n % 2 == 1 {
        item.draft.creator = Some(Creator::new("sato", "佐藤", "Sato").expect("creator"));
    }
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("save product");
    let owner = MemberId::from_uuid(uuid(1));
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
    let at = minutes(i64::try_from(n).unwrap_or(0));
    store
        .apply_event(
            &payment_event(&format!("evt-{n}"), &reference, Sig::Succeeded),
            at,
        )
        .await
        .expect("paid");
    store
        .issue(&ReceiptDraft {
            order_id: o.id,
            member_id: owner,
            issued_at: at + time::Duration::seconds(5),
            paid_at: at,
            currency: Currency::Jpy,
            lines: vec![ReceiptLine {
                title_ja: format!("音の風景 {n}"),
                title_en: format!("Soundscape {n}"),
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
            registration_number: None,
            recipient: None,
            reissues: 0,
        })
        .await
        .expect("receipt");
    o.id
}

/// Sales MUST be the receipts of orders paid in the period, in payment order, each line with
/// its SKU and creator; returns the return invoices of the period with their kind (a refund, a
/// lost dispute as a chargeback, a whole refund without a case by the order's status); the
/// records every paid order and settled return with its document, and the numbers given.
pub async fn the_books_read_the_documents_of_a_period_and_what_they_reconcile_with<S>(store: &S)
where
    S: kikeru_domain::ports::Members + Catalog + Orders + Receipts + Books,
{
    given_members(store, &[1]).await;
    let first = sold(store, 1).await;
    let second = sold(store, 2).await;
    let third = sold(store, 3).await;
    let report = |id: &'static str, reference: &'static str, case, at| async move {
        store
            .apply_event(&case_event(id, reference, case), at)
            .await
            .expect("case");
    };
    report(
        "c1",
        "ref-1",
        refund_case("re_a", RefundState::Succeeded, 100),
        minutes(20),
    )
    .await;
    report(
        "c2",
        "ref-2",
        dispute_case("du_1", DisputeState::Lost),
        minutes(30),
    )
    .await;
    store
        .apply_event(
            &payment_event("evt-r3", "ref-3", Sig::Refunded),
            minutes(40),
        )
        .await
        .expect("refunded");
    let rules = TaxRules::japan();
    for due in store.unreturned(10).await.expect("due") {
        store
            .issue_return(&return_of(
                &due,
                &rules,
                due.returned_at + time::Duration::seconds(5),
            ))
            .await
            .expect("return");
    }

    let hour = minutes(60);
    let sales = store.sales(NOW, hour).await.expect("sales");
    let ids: Vec<OrderId> = sales.iter().map(|s| s.receipt.content.order_id).collect();
    assert_eq!(ids, vec![first, second, third], "in payment order");
    let items: Vec<(&str, Option<&str>)> = sales
        .iter()
        .map(|s| {
            assert_eq!(s.items.len(), s.receipt.content.lines.len());
            (
                s.items[0].sku.as_str(),
                s.items[0].creator.as_ref().map(|c| c.key.as_str()),
            )
        })
        .collect();
    assert_eq!(
        items,
        vec![
            ("KK-001", Some("sato")),
            ("KK-002", None),
            ("KK-003", Some("sato"))
        ]
    );
    let later = store.sales(minutes(2), hour).await.expect("sales");
    assert_eq!(later.len(), 2, "the first was paid before the period");
    assert!(
        store
            .sales(minutes(1), minutes(1))
            .await
            .expect("sales")
            .is_empty()
    );

    let returns = store.returns(NOW, hour).await.expect("returns");
    let kinds: Vec<(OrderId, ReturnKind, i64)> = returns
        .iter()
        .map(|r| (r.invoice.content.order_id, r.kind, r.invoice.content.total))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (first, ReturnKind::Refund, 100),
            (second, ReturnKind::Chargeback, 1100),
            (third, ReturnKind::Refund, 1100),
        ]
    );
    assert_eq!(
        store
            .returns(minutes(35), hour)
            .await
            .expect("returns")
            .len(),
        1
    );

    let records = store.records(NOW, hour).await.expect("records");
    assert_eq!(records.paid.len(), 3);
    assert!(
        records
            .paid
            .iter()
            .all(|p| p.total == 1100 && p.receipt.map(|r| r.1) == Some(1100))
    );
    let returned: Vec<(Option<&str>, ReturnKind, i64, bool)> = records
        .returned
        .iter()
        .map(|r| (r.case.as_deref(), r.kind, r.amount, r.invoice.is_some()))
        .collect();
    assert_eq!(
        returned,
        vec![
            (Some("re_a"), ReturnKind::Refund, 100, true),
            (Some("du_1"), ReturnKind::Chargeback, 1100, true),
            (None, ReturnKind::Refund, 1100, true),
        ]
    );
    assert_eq!(
        (records.receipts.last, records.receipts.held.clone()),
        (3, vec![1, 2, 3])
    );
    assert_eq!(
        (records.returns.last, records.returns.held.clone()),
        (3, vec![1, 2, 3])
    );
    assert!(
        store
            .records(minutes(50), hour)
            .await
            .expect("records")
            .paid
            .is_empty()
    );

    // The figures the domain makes of them reconcile.
    let period = Period::parse("2026-04-01", "2026-04-01").expect("period");
    let sales = store
        .sales(period.start(), period.end())
        .await
        .expect("sales");
    let returns = store
        .returns(period.start(), period.end())
        .await
        .expect("returns");
    let books = kikeru_domain::office::books::Books::of(
        period,
        Grouping::Day,
        time::Month::April,
        &sales,
        &returns,
    );
    assert_eq!(
        (
            books.totals.gross,
            books.totals.refunds,
            books.totals.chargebacks
        ),
        (3300, 1200, 1100)
    );
    let records = store
        .records(period.start(), period.end())
        .await
        .expect("records");
    let check = reconcile(&books, &records, minutes(120));
    assert!(check.holds(), "{:?}", check.differences);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `books`, for an adapter of
/// this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
#[macro_export]
macro_rules! books_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, books: [
            the_books_read_the_documents_of_a_period_and_what_they_reconcile_with,
        ]);
    };
}
