//! Tests of the shop's storage that need its private parts.

use kikeru_contract::fixtures::{NOW, given_members, order, payment_event, product, uuid};
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{EventOutcome, MemberId, PaymentSignal, PaymentStatus};
use sea_orm::{ConnectionTrait, DbBackend, Statement};

/// Events that share one SQLite transaction (group commit) keep their own fates: when one
/// fails — here its payment's stored status cannot be read — the others are applied on
/// their own, and the failed one is not taken as seen, so a redelivery applies it.
#[tokio::test]
async fn a_failing_event_fails_alone_in_its_batch() {
    let store = crate::fixtures::sqlite().await.expect("SQLite");
    given_members(&*store, &[1]).await;
    let item = product(1, 1100, true);
    store
        .save_all(std::slice::from_ref(&item))
        .await
        .expect("product");
    let mut orders = Vec::new();
    for n in 1..=3 {
        let (o, p) = order(n, MemberId::from_uuid(uuid(1)), &[&item], None);
        store.create(&o, &p).await.expect("order");
        store
            .attach_checkout(p.id, &format!("ref-{n}"), "https://pay.example/")
            .await
            .expect("checkout");
        orders.push(o.id);
    }
    let set_status = |status: &str| {
        Statement::from_string(
            DbBackend::Sqlite,
            format!("UPDATE payments SET status = '{status}' WHERE reference = 'ref-2'"),
        )
    };
    store
        .db
        .execute_raw(set_status("unreadable"))
        .await
        .expect("corrupt");
    let events: Vec<_> = (1..=3)
        .map(|n| {
            payment_event(
                &format!("evt-{n}"),
                &format!("ref-{n}"),
                PaymentSignal::Succeeded,
            )
        })
        .collect();
    let port: &dyn Orders = &*store;

    // The writer's turn is held until all three wait, so they are applied together.
    let turn = store.turn().await;
    let queue = &*store;
    let release = async move {
        while queue.waiting().expect("queue").len() < 3 {
            tokio::task::yield_now().await;
        }
        drop(turn);
    };
    let (first, second, third, ()) = tokio::join!(
        port.apply_event(&events[0], NOW),
        port.apply_event(&events[1], NOW),
        port.apply_event(&events[2], NOW),
        release
    );
    for (result, id) in [(first, orders[0]), (third, orders[2])] {
        assert_eq!(
            result.expect("applied"),
            EventOutcome::Applied {
                order_id: id,
                status: PaymentStatus::Paid
            }
        );
    }
    assert!(second.is_err(), "{second:?}");

    store
        .db
        .execute_raw(set_status("pending"))
        .await
        .expect("repair");
    assert_eq!(
        port.apply_event(&events[1], NOW)
            .await
            .expect("redelivered"),
        EventOutcome::Applied {
            order_id: orders[1],
            status: PaymentStatus::Paid
        }
    );
    for id in orders {
        let (_, payment) = port.by_id(id).await.expect("read").expect("present");
        assert_eq!(payment.history.len(), 2, "pending, then paid once");
    }
}
