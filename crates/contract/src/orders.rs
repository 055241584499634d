//! The [`Orders`] contract.

use futures_util::future::join_all;
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{
    EventOutcome, MemberId, PaymentSignal as Sig, PaymentStatus as P, Product, PurchaseCursor,
    StoreError,
};

use crate::fixtures::{NOW, given_members, order, payment_event, product, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

async fn given_products<S: Catalog + ?Sized>(port: &S) -> Vec<Product> {
    let products: Vec<_> = (1..=4).map(|n| product(n, 1100 * n as i64, true)).collect();
    port.save_all(&products).await.expect("save products");
    products
}

async fn placed<S: Orders + ?Sized>(
    port: &S,
    n: u128,
    member_n: u128,
    items: &[&Product],
    key: Option<&str>,
) -> (kikeru_domain::Order, kikeru_domain::Payment) {
    let (o, mut p) = order(n, member(member_n), items, key);
    port.create(&o, &p).await.expect("create");
    let reference = format!("ref-{n}");
    port.attach_checkout(
        p.id,
        &reference,
        &format!("https://pay.example/{reference}"),
    )
    .await
    .expect("attach");
    p.reference = Some(reference.clone());
    p.checkout_url = Some(format!("https://pay.example/{reference}"));
    (o, p)
}

/// A created order reads back equal with its payment, by ID, key and reference.
pub async fn created_orders_read_back_with_their_payment<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    let (o, p) = placed(store, 1, 1, &[&products[0], &products[1]], Some("key-1")).await;
    let port: &dyn Orders = store;
    assert_eq!(
        port.by_id(o.id).await.expect("by_id"),
        Some((o.clone(), p.clone()))
    );
    assert_eq!(
        port.by_idempotency_key(member(1), "key-1")
            .await
            .expect("by key"),
        Some((o.clone(), p.clone()))
    );
    assert_eq!(
        port.by_idempotency_key(member(2), "key-1")
            .await
            .expect("by key"),
        None,
        "keys are per member"
    );
    assert_eq!(
        port.by_reference("sandbox", "ref-1").await.expect("by ref"),
        Some((o, p))
    );
    assert_eq!(
        port.by_reference("stripe", "ref-1").await.expect("by ref"),
        None
    );
}

/// MUST store exactly one of several orders with one member's key sent at once.
pub async fn a_repeated_idempotency_key_stores_one_order_even_at_once<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    let port: &dyn Orders = store;
    let candidates: Vec<_> = (1..=6)
        .map(|n| order(n, member(1), &[&products[0]], Some("same")))
        .collect();
    let results = join_all(candidates.iter().map(|(o, p)| port.create(o, p))).await;
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    assert!(
        results
            .iter()
            .all(|r| matches!(r, Ok(()) | Err(StoreError::Conflict)))
    );
    let (other, payment) = order(7, member(2), &[&products[0]], Some("same"));
    port.create(&other, &payment)
        .await
        .expect("another member may use the same key");
}

/// `attach_checkout` of an unknown payment is `NotFound`.
pub async fn attaching_a_checkout_to_an_unknown_payment_is_not_found(port: &dyn Orders) {
    let result = port
        .attach_checkout(
            kikeru_domain::PaymentId::from_uuid(uuid(9)),
            "ref",
            "https://x",
        )
        .await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");
}

/// An event applies once; its duplicate changes nothing; the first payment sets the paid time
/// and every change is in the history.
pub async fn an_event_applies_once_and_records_history_and_paid_time<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    let paid = payment_event("evt-1", "ref-1", Sig::Succeeded);
    let at = NOW + time::Duration::minutes(5);
    assert_eq!(
        port.apply_event(&paid, at).await.expect("apply"),
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Paid
        }
    );
    assert_eq!(
        port.apply_event(&paid, at).await.expect("apply"),
        EventOutcome::Duplicate
    );
    let (order, payment) = port.by_id(o.id).await.expect("by_id").expect("present");
    assert_eq!((order.status, order.paid_at), (P::Paid, Some(at)));
    let history: Vec<_> = payment
        .history
        .iter()
        .map(|h| (h.status, h.event_id.clone()))
        .collect();
    assert_eq!(
        history,
        [(P::Open, None), (P::Paid, Some("evt-1".to_owned()))]
    );
    assert_eq!(payment.history[1].at, at);
}

/// MUST put the receipt in the outbox, in the same transaction, the first time the order is
/// paid — once, however often and however concurrently the payment is reported.
pub async fn the_first_payment_puts_one_receipt_in_the_outbox<
    S: kikeru_domain::ports::Members + Catalog + Orders + kikeru_domain::mail::ports::Outbox,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    let events: Vec<_> = (0..6)
        .map(|n| payment_event(&format!("evt-{}", n % 2), "ref-1", Sig::Succeeded))
        .collect();
    let at = NOW + time::Duration::minutes(5);
    join_all(events.iter().map(|e| Orders::apply_event(store, e, at))).await;
    let refunded = payment_event("evt-refund", "ref-1", Sig::Refunded);
    Orders::apply_event(store, &refunded, at)
        .await
        .expect("refund");
    let claimed = store
        .claim(uuid(99), at, std::time::Duration::from_secs(60), 10)
        .await
        .expect("claim");
    assert_eq!(claimed.len(), 1, "one receipt: {claimed:?}");
    let receipt = &claimed[0];
    assert_eq!(receipt.id, *o.id.as_uuid());
    assert_eq!(receipt.member_id, Some(o.member_id));
    assert_eq!(receipt.mail.to.as_str(), "member1@example.jp");
    let kikeru_domain::ports::Message::Receipt(details) = &receipt.mail.message else {
        panic!("not a receipt: {:?}", receipt.mail.message);
    };
    assert_eq!(
        (
            details.total_minor,
            details.currency.as_str(),
            details.paid_at
        ),
        (o.total.minor(), "JPY", at)
    );
    assert_eq!(details.lines.len(), o.lines.len());
    assert_eq!(
        details.lines[0].title,
        o.lines[0].title.get(kikeru_domain::Language::Ja)
    );
}

/// MUST apply a payment that arrives after its member's account was erased without sending a
/// receipt: there is nobody left to address it to.
pub async fn a_payment_after_erasure_sends_no_receipt<
    S: kikeru_domain::ports::Members
        + kikeru_domain::ports::Erasure
        + Catalog
        + Orders
        + kikeru_domain::mail::ports::Outbox,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    store.erase(member(1)).await.expect("erase");
    let at = NOW + time::Duration::minutes(5);
    let outcome = Orders::apply_event(store, &payment_event("evt-1", "ref-1", Sig::Succeeded), at)
        .await
        .expect("apply");
    assert_eq!(
        outcome,
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Paid
        }
    );
    let claimed = store
        .claim(uuid(99), at, std::time::Duration::from_secs(60), 10)
        .await
        .expect("claim");
    assert!(
        claimed
            .iter()
            .all(|m| !matches!(m.mail.message, kikeru_domain::ports::Message::Receipt(_))),
        "no receipt: {claimed:?}"
    );
}

/// MUST apply an event delivered many times at once exactly once.
pub async fn concurrent_deliveries_of_one_event_apply_once<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    let paid = payment_event("evt-race", "ref-1", Sig::Succeeded);
    let results = join_all((0..20).map(|_| port.apply_event(&paid, NOW))).await;
    let applied = results
        .iter()
        .filter(|r| matches!(r, Ok(EventOutcome::Applied { .. })))
        .count();
    let duplicates = results
        .iter()
        .filter(|r| matches!(r, Ok(EventOutcome::Duplicate)))
        .count();
    assert_eq!((applied, duplicates), (1, 19), "{results:?}");
    let (_, payment) = port.by_id(o.id).await.expect("by_id").expect("present");
    assert_eq!(payment.history.len(), 2);
}

/// MUST give each of many events delivered at once its own outcome, as if they came one by
/// one: every order paid once, duplicates and unknown checkouts changing nothing, and one failing
/// event never undoing another (stores that commit events together must keep them apart).
pub async fn concurrent_events_of_many_orders_each_get_their_own_outcome<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    let mut orders = Vec::new();
    for n in 1..=12 {
        let item = &products[usize::try_from(n % 4).expect("small")];
        orders.push(placed(store, n, 1 + n % 2, &[item], None).await.0);
    }
    let port: &dyn Orders = store;
    // Each order paid by its own event, each event twice, and events for no known checkout.
    let mut events: Vec<_> = (1..=12)
        .flat_map(|n| {
            let paid = payment_event(&format!("evt-{n}"), &format!("ref-{n}"), Sig::Succeeded);
            [paid.clone(), paid]
        })
        .collect();
    events.extend(
        (1..=4).map(|n| payment_event(&format!("evt-x{n}"), &format!("ref-x{n}"), Sig::Succeeded)),
    );
    let results = join_all(events.iter().map(|e| port.apply_event(e, NOW))).await;
    for (n, o) in (1..=12).zip(&orders) {
        let pair = &results[2 * (n - 1)..2 * n];
        let applied = EventOutcome::Applied {
            order_id: o.id,
            status: P::Paid,
        };
        assert!(
            matches!(
                pair,
                [Ok(a), Ok(EventOutcome::Duplicate)] | [Ok(EventOutcome::Duplicate), Ok(a)]
                    if *a == applied
            ),
            "order {n}: {pair:?}"
        );
        let (order, payment) = port.by_id(o.id).await.expect("by_id").expect("present");
        assert_eq!((order.status, order.paid_at), (P::Paid, Some(NOW)));
        assert_eq!(payment.history.len(), 2, "order {n} paid once");
    }
    for result in &results[24..] {
        assert!(
            matches!(result, Ok(EventOutcome::UnknownReference)),
            "{result:?}"
        );
    }
}

/// Events about no known checkout change nothing; late and stale events follow the state
/// machine.
pub async fn late_stale_and_unknown_events_follow_the_state_machine<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    let unknown = port
        .apply_event(&payment_event("e0", "ref-unknown", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    assert_eq!(unknown, EventOutcome::UnknownReference);
    let expired = port
        .apply_event(&payment_event("e1", "ref-1", Sig::Expired), NOW)
        .await
        .expect("apply");
    assert_eq!(
        expired,
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Expired
        }
    );
    let late_payment = port
        .apply_event(&payment_event("e2", "ref-1", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    assert_eq!(
        late_payment,
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Paid
        }
    );
    let stale = port
        .apply_event(&payment_event("e3", "ref-1", Sig::Canceled), NOW)
        .await
        .expect("apply");
    assert_eq!(
        stale,
        EventOutcome::Unchanged {
            order_id: o.id,
            status: P::Paid
        }
    );
    let refund = port
        .apply_event(&payment_event("e4", "ref-1", Sig::Refunded), NOW)
        .await
        .expect("apply");
    assert_eq!(
        refund,
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Refunded
        }
    );
    let after = port
        .apply_event(&payment_event("e5", "ref-1", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    assert_eq!(
        after,
        EventOutcome::Unchanged {
            order_id: o.id,
            status: P::Refunded
        }
    );
}

/// Purchases list paid and refunded items, newest first, page by page, only the member's.
pub async fn purchases_are_the_members_paid_items_newest_first_page_by_page<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    placed(store, 1, 1, &[&products[0], &products[1]], None).await;
    placed(store, 2, 1, &[&products[2]], None).await;
    placed(store, 3, 1, &[&products[3]], None).await;
    placed(store, 4, 2, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    for (n, minutes) in [(1, 1), (2, 2), (4, 3)] {
        let event = payment_event(&format!("paid-{n}"), &format!("ref-{n}"), Sig::Succeeded);
        port.apply_event(&event, NOW + time::Duration::minutes(minutes))
            .await
            .expect("apply");
    }
    let first = port.purchases(member(1), None, 2).await.expect("page");
    let skus: Vec<_> = first
        .iter()
        .map(|p| p.item.sku.as_str().to_owned())
        .collect();
    assert_eq!(
        skus,
        ["KK-003", "KK-002"],
        "newest order first, then its lines in reverse"
    );
    let last = &first[1];
    let cursor = PurchaseCursor {
        paid_at: last.paid_at,
        order_id: last.order_id,
        line: last.line,
    };
    let rest = port
        .purchases(member(1), Some(cursor), 10)
        .await
        .expect("page");
    let skus: Vec<_> = rest
        .iter()
        .map(|p| p.item.sku.as_str().to_owned())
        .collect();
    assert_eq!(skus, ["KK-001"]);
    assert_eq!(rest[0].item.unit_price.minor(), 1100);
    assert!(first.iter().chain(&rest).all(|p| p.status == P::Paid));
}

/// Payments list every attempt with its history, newest first, only the member's.
pub async fn payments_are_the_members_attempts_newest_first_with_history<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    let (_, first) = placed(store, 1, 1, &[&products[0]], None).await;
    let (_, second) = placed(store, 2, 1, &[&products[1]], None).await;
    placed(store, 3, 2, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    port.apply_event(&payment_event("declined", "ref-1", Sig::Failed), NOW)
        .await
        .expect("apply");
    let listed = port.payments(member(1), None, 10).await.expect("list");
    let ids: Vec<_> = listed.iter().map(|p| p.id).collect();
    assert_eq!(ids, [second.id, first.id]);
    assert_eq!(listed[1].status, P::Failed);
    assert_eq!(listed[1].history.len(), 2);
    let older = port
        .payments(member(1), Some(second.id), 10)
        .await
        .expect("list");
    assert_eq!(older.len(), 1);
}

/// The member owns products of paid orders only: not pending, failed or refunded ones.
pub async fn owned_products_are_those_of_paid_orders<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1, 2]).await;
    let products = given_products(store).await;
    placed(store, 1, 1, &[&products[0]], None).await;
    placed(store, 2, 1, &[&products[1]], None).await;
    placed(store, 3, 1, &[&products[2]], None).await;
    placed(store, 4, 2, &[&products[3]], None).await;
    let port: &dyn Orders = store;
    port.apply_event(&payment_event("a", "ref-1", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    port.apply_event(&payment_event("b", "ref-2", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    port.apply_event(&payment_event("c", "ref-2", Sig::Refunded), NOW)
        .await
        .expect("apply");
    port.apply_event(&payment_event("d", "ref-4", Sig::Succeeded), NOW)
        .await
        .expect("apply");
    assert_eq!(
        port.owned(member(1)).await.expect("owned"),
        vec![products[0].id]
    );
}

/// A payment is found by the payment reference an earlier event revealed.
pub async fn later_events_may_name_the_payment_instead_of_the_checkout<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    let port: &dyn Orders = store;
    let mut paid = payment_event("completed", "ref-1", Sig::Succeeded);
    paid.payment_ref = Some("pi_123".to_owned());
    port.apply_event(&paid, NOW).await.expect("apply");
    let refunded = port
        .apply_event(&payment_event("refunded", "pi_123", Sig::Refunded), NOW)
        .await
        .expect("apply");
    assert_eq!(
        refunded,
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Refunded
        }
    );
}

/// An event naming a checkout not known yet is not recorded: once the checkout is known, its
/// redelivery applies.
pub async fn an_event_for_a_checkout_not_yet_known_applies_when_redelivered<
    S: kikeru_domain::ports::Members + Catalog + Orders,
>(
    store: &S,
) {
    given_members(store, &[1]).await;
    let products = given_products(store).await;
    let port: &dyn Orders = store;
    let early = payment_event("evt-early", "ref-1", Sig::Succeeded);
    assert_eq!(
        port.apply_event(&early, NOW).await.expect("apply"),
        EventOutcome::UnknownReference
    );
    let (o, _) = placed(store, 1, 1, &[&products[0]], None).await;
    assert_eq!(
        port.apply_event(&early, NOW).await.expect("apply"),
        EventOutcome::Applied {
            order_id: o.id,
            status: P::Paid
        }
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `orders`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! orders_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, orders: [
            created_orders_read_back_with_their_payment,
            a_repeated_idempotency_key_stores_one_order_even_at_once,
            attaching_a_checkout_to_an_unknown_payment_is_not_found,
            an_event_applies_once_and_records_history_and_paid_time,
            the_first_payment_puts_one_receipt_in_the_outbox,
            a_payment_after_erasure_sends_no_receipt,
            concurrent_deliveries_of_one_event_apply_once,
            concurrent_events_of_many_orders_each_get_their_own_outcome,
            late_stale_and_unknown_events_follow_the_state_machine,
            purchases_are_the_members_paid_items_newest_first_page_by_page,
            payments_are_the_members_attempts_newest_first_with_history,
            owned_products_are_those_of_paid_orders,
            later_events_may_name_the_payment_instead_of_the_checkout,
            an_event_for_a_checkout_not_yet_known_applies_when_redelivered,
        ]);
    };
}
