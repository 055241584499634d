//! The [`Orders`] contract for refunds and disputes: case reports kept once each, at the
//! furthest state reported, and the payment's status computed from all its cases.

use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{
    CaseState, DisputeState as D, EventOutcome, MemberId, PaymentSignal as Sig, PaymentStatus as P,
    Product, RefundState as R,
};

use crate::fixtures::{
    NOW, case_event, dispute_case, given_members, order, payment_event, product, refund_case, uuid,
};

async fn paid_orders<S: kikeru_domain::ports::Members + Catalog + Orders>(
    store: &S,
    count: u128,
) -> (Vec<Product>, Vec<kikeru_domain::OrderId>) {
    given_members(store, &[1]).await;
    let products: Vec<_> = (1..=count).map(|n| product(n, 1100, true)).collect();
    store.save_all(&products).await.expect("save products");
    let mut orders = Vec::new();
    for (n, item) in (1..=count).zip(&products) {
        let (o, p) = order(n, MemberId::from_uuid(uuid(1)), &[item], None);
        store.create(&o, &p).await.expect("create");
        let reference = format!("cs_{n}");
        store
            .attach_checkout(p.id, &reference, "https://pay.example/")
            .await
            .expect("attach");
        let mut paid = payment_event(&format!("evt-paid-{n}"), &reference, Sig::Succeeded);
        paid.payment_ref = Some(format!("pi_{n}"));
        store.apply_event(&paid, NOW).await.expect("paid");
        orders.push(o.id);
    }
    (products, orders)
}

async fn report<S: Orders>(store: &S, id: &str, payment: &str, case: kikeru_domain::Case) -> P {
    let at = NOW + time::Duration::minutes(1);
    match store
        .apply_event(&case_event(id, payment, case), at)
        .await
        .expect("apply")
    {
        EventOutcome::Applied { status, .. } | EventOutcome::Unchanged { status, .. } => status,
        other => panic!("{id}: {other:?}"),
    }
}

/// A refund is pending until it settles; a failed one makes the order paid (and refundable)
/// again; a second refund that settles makes it refunded. Every report delivered twice changes
/// nothing the second time, and the payment reads back with its cases as they stand.
pub async fn a_refund_is_pending_until_it_settles_and_paid_again_when_it_fails<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    let (_, orders) = paid_orders(store, 1).await;
    assert_eq!(
        report(store, "e1", "pi_1", refund_case("re_1", R::Pending, 1100)).await,
        P::RefundPending
    );
    assert_eq!(
        store
            .apply_event(
                &case_event("e1", "pi_1", refund_case("re_1", R::Pending, 1100)),
                NOW
            )
            .await
            .expect("again"),
        EventOutcome::Duplicate
    );
    assert_eq!(
        report(store, "e2", "pi_1", refund_case("re_1", R::Failed, 1100)).await,
        P::Paid
    );
    // A late report of the first refund's pending state changes nothing.
    assert_eq!(
        report(
            store,
            "e2-late",
            "pi_1",
            refund_case("re_1", R::Pending, 1100)
        )
        .await,
        P::Paid
    );
    assert_eq!(
        report(
            store,
            "e3",
            "pi_1",
            refund_case("re_2", R::RequiresAction, 1100)
        )
        .await,
        P::RefundPending
    );
    assert_eq!(
        report(store, "e4", "pi_1", refund_case("re_2", R::Succeeded, 1100)).await,
        P::Refunded
    );
    let (order, payment) = Orders::by_id(store, orders[0])
        .await
        .expect("read")
        .expect("order");
    assert_eq!((order.status, payment.status), (P::Refunded, P::Refunded));
    let cases: Vec<(&str, CaseState)> = payment
        .cases
        .iter()
        .map(|c| (c.reference.as_str(), c.state))
        .collect();
    assert_eq!(
        cases,
        [
            ("re_1", CaseState::Refund(R::Failed)),
            ("re_2", CaseState::Refund(R::Succeeded))
        ]
    );
    let statuses: Vec<P> = payment.history.iter().map(|h| h.status).collect();
    assert_eq!(
        statuses,
        [
            P::Open,
            P::Paid,
            P::RefundPending,
            P::Paid,
            P::RefundPending,
            P::Refunded
        ]
    );
    // Refund failures are for the operators to see.
    let attention = store.cases_needing_attention(10).await.expect("attention");
    assert_eq!(
        attention
            .iter()
            .map(|(o, c)| (*o, c.reference.as_str()))
            .collect::<Vec<_>>(),
        [(orders[0], "re_1")]
    );
}

/// A partial refund is recorded and leaves the order paid; refunds adding up to the price
/// refund it.
pub async fn partial_refunds_are_kept_and_the_order_stays_paid_until_they_add_up<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    let (_, orders) = paid_orders(store, 1).await;
    assert_eq!(
        report(store, "p1", "pi_1", refund_case("re_a", R::Succeeded, 100)).await,
        P::Paid
    );
    let (_, payment) = Orders::by_id(store, orders[0])
        .await
        .expect("read")
        .expect("order");
    assert_eq!(payment.cases.len(), 1);
    assert_eq!(payment.cases[0].amount.minor(), 100);
    assert_eq!(
        report(store, "p2", "pi_1", refund_case("re_b", R::Succeeded, 1000)).await,
        P::Refunded
    );
}

/// A dispute withholds the purchase (not owned, but withheld) and is listed for the operators
/// with its deadline; won, the purchase is back; lost, it ends for good (charged back), and
/// stays in the member's purchase history either way.
pub async fn a_dispute_withholds_the_purchase_until_it_is_won_and_ends_it_when_lost<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    let (products, orders) = paid_orders(store, 2).await;
    let member = MemberId::from_uuid(uuid(1));
    assert_eq!(
        report(store, "d1", "pi_1", dispute_case("du_1", D::Open)).await,
        P::Disputed
    );
    assert_eq!(store.owned(member).await.expect("owned"), [products[1].id]);
    assert_eq!(
        store.withheld(member).await.expect("withheld"),
        [products[0].id]
    );
    let attention = store.cases_needing_attention(10).await.expect("attention");
    assert_eq!(attention.len(), 1);
    let (order, dispute) = &attention[0];
    assert_eq!(*order, orders[0]);
    assert_eq!(dispute.reason.as_deref(), Some("fraudulent"));
    assert_eq!(dispute.respond_by, dispute_case("du_1", D::Open).respond_by);
    assert_eq!(
        report(store, "d2", "pi_1", dispute_case("du_1", D::Won)).await,
        P::Paid
    );
    assert!(store.withheld(member).await.expect("withheld").is_empty());
    assert_eq!(store.owned(member).await.expect("owned").len(), 2);
    assert!(
        store
            .cases_needing_attention(10)
            .await
            .expect("attention")
            .is_empty()
    );

    // The other order's dispute is lost; its close arrives before its opening.
    assert_eq!(
        report(store, "d3", "pi_2", dispute_case("du_2", D::Lost)).await,
        P::ChargedBack
    );
    assert_eq!(
        report(store, "d4", "pi_2", dispute_case("du_2", D::Open)).await,
        P::ChargedBack
    );
    assert_eq!(store.owned(member).await.expect("owned"), [products[0].id]);
    let purchases = store.purchases(member, None, 10).await.expect("purchases");
    let mut statuses: Vec<P> = purchases.iter().map(|p| p.status).collect();
    statuses.sort_by_key(|s| s.as_str());
    assert_eq!(statuses, [P::ChargedBack, P::Paid]);
}

/// A case reported for a payment whose checkout event has not arrived proves the money was
/// taken: once the case no longer holds the purchase back, the order is paid (with its paid
/// time and receipt, as a first payment).
pub async fn a_case_before_the_checkout_event_pays_the_order_once_it_closes<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let item = product(1, 1100, true);
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("save");
    let (o, p) = order(1, MemberId::from_uuid(uuid(1)), &[&item], None);
    store.create(&o, &p).await.expect("create");
    store
        .attach_checkout(p.id, "cs_1", "https://pay.example/")
        .await
        .expect("attach");
    assert_eq!(
        report(store, "x1", "cs_1", dispute_case("du_1", D::Open)).await,
        P::Disputed
    );
    assert_eq!(
        report(store, "x2", "cs_1", dispute_case("du_1", D::Won)).await,
        P::Paid
    );
    let (order, _) = Orders::by_id(store, o.id)
        .await
        .expect("read")
        .expect("order");
    assert!(order.paid_at.is_some());
    // The checkout's own event, arriving last, changes nothing.
    assert_eq!(
        store
            .apply_event(&payment_event("x3", "cs_1", Sig::Succeeded), NOW)
            .await
            .expect("apply"),
        EventOutcome::Unchanged {
            order_id: o.id,
            status: P::Paid
        }
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `cases`.
#[macro_export]
macro_rules! cases_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, cases: [
            a_refund_is_pending_until_it_settles_and_paid_again_when_it_fails,
            partial_refunds_are_kept_and_the_order_stays_paid_until_they_add_up,
            a_dispute_withholds_the_purchase_until_it_is_won_and_ends_it_when_lost,
            a_case_before_the_checkout_event_pays_the_order_once_it_closes,
        ]);
    };
}
