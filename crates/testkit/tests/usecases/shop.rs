//! Service tests: the shop's use cases on the in-memory adapters.

use kikeru_domain::membership::{Client, Registration};
use kikeru_domain::shop::ports::{InboundWebhook, SandboxOutcome};
use kikeru_domain::shop::{ImportError, LookupError, OrderError, RefundError, WebhookFailure};
use kikeru_domain::{
    AssetKey, Currency, Language, Localized, Member, Money, PaymentStatus, ProductDraft, ProductId,
    Sku,
};
use kikeru_testkit::{Harness, TestGateway};
use time::macros::datetime;

const PASSWORD: &str = "correct horse battery staple";

fn harness() -> Harness {
    Harness::new(datetime!(2026-04-01 09:00 UTC))
}

fn draft(sku: &str, yen: i64) -> ProductDraft {
    ProductDraft {
        sku: Sku::parse(sku).unwrap(),
        title: Localized::title(&format!("{sku} の音"), &format!("Sound {sku}")).unwrap(),
        description: Localized::description("", "").unwrap(),
        price: Money::new(yen, Currency::Jpy).unwrap(),
        active: true,
        audio: AssetKey::parse(&format!("audio/{sku}.wav")).unwrap(),
        sample: None,
        reading: None,
        creator: None,
        tags: Vec::new(),
        cover: None,
    }
}

async fn catalogue(h: &Harness) -> Vec<ProductId> {
    h.shop
        .import(vec![draft("A", 330), draft("B", 1100), draft("C", 550)])
        .await
        .unwrap();
    h.shop
        .products(None, 10)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect()
}

async fn member(h: &Harness, email: &str, verified: bool) -> Member {
    let client = Client {
        key: email.into(),
        browser: String::new(),
    };
    let request = Registration {
        email: Harness::email(email),
        password: PASSWORD.into(),
        language: Language::Ja,
    };
    h.membership.register(request, &client).await.unwrap();
    if verified {
        let token = h.mail().await.last_token_to(email).unwrap();
        h.membership.verify_email(&token).await.unwrap();
    }
    let session = h
        .membership
        .sign_in(email, PASSWORD, &client, None)
        .await
        .unwrap();
    h.membership
        .authenticate(&session.token)
        .await
        .unwrap()
        .member
}

fn paid(reference: &str) -> InboundWebhook {
    TestGateway::webhook(&format!("evt-{reference}"), reference, "paid")
}

#[tokio::test]
async fn an_unverified_member_cannot_buy() {
    let h = harness();
    let products = catalogue(&h).await;
    let taro = member(&h, "taro@example.jp", false).await;
    let result = h.shop.place_order(&taro, &products[..1], None).await;
    assert!(matches!(result, Err(OrderError::NotVerified)), "{result:?}");
}

#[tokio::test]
async fn a_paid_order_puts_its_products_in_the_library_with_history_at_the_price_then() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..2], None)
        .await
        .unwrap();
    assert_eq!(placed.order.status, PaymentStatus::Open);
    assert_eq!(placed.order.total.minor(), 1430);
    assert!(placed.checkout_url.starts_with("https://pay.test/"));
    assert!(
        h.shop.library(hanako.id).await.unwrap().is_empty(),
        "nothing is owned before payment"
    );

    let reference = placed.payment.reference.clone().unwrap();
    h.shop.receive_webhook(&paid(&reference)).await.unwrap();
    // The operator changes the price afterwards; the purchase keeps the price paid.
    h.shop.import(vec![draft("A", 9999)]).await.unwrap();

    let library: Vec<_> = h
        .shop
        .library(hanako.id)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(library, products[..2].to_vec());
    let purchases = h.shop.purchases(hanako.id, None, 10).await.unwrap();
    let prices: Vec<_> = purchases
        .iter()
        .map(|p| (p.item.sku.as_str().to_owned(), p.item.unit_price.minor()))
        .collect();
    assert_eq!(prices, [("B".to_owned(), 1100), ("A".to_owned(), 330)]);
    let payments = h.shop.payments(hanako.id, None, 10).await.unwrap();
    let history: Vec<_> = payments[0].history.iter().map(|c| c.status).collect();
    assert_eq!(history, [PaymentStatus::Open, PaymentStatus::Paid]);
    assert!(h.shop.audio(hanako.id, products[0]).await.is_ok());
}

#[tokio::test]
async fn the_same_idempotency_key_answers_with_the_same_order() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let first = h
        .shop
        .place_order(&hanako, &products[..1], Some("key-1"))
        .await
        .unwrap();
    let retry = h
        .shop
        .place_order(&hanako, &products[..1], Some("key-1"))
        .await
        .unwrap();
    assert_eq!(first, retry);
    let reused = h
        .shop
        .place_order(&hanako, &products[1..2], Some("key-1"))
        .await;
    assert!(matches!(reused, Err(OrderError::KeyReused)), "{reused:?}");
    assert_eq!(h.shop.payments(hanako.id, None, 10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn owned_inactive_unknown_and_repeated_products_are_refused() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    h.shop
        .receive_webhook(&paid(placed.payment.reference.as_deref().unwrap()))
        .await
        .unwrap();
    let again = h.shop.place_order(&hanako, &products[..1], None).await;
    assert!(matches!(again, Err(OrderError::AlreadyOwned(id)) if id == products[0]));

    let mut retired = draft("C", 550);
    retired.active = false;
    h.shop.import(vec![retired]).await.unwrap();
    let inactive = h.shop.place_order(&hanako, &[products[2]], None).await;
    assert!(
        matches!(inactive, Err(OrderError::NotOnSale(_))),
        "{inactive:?}"
    );
    let unknown = h
        .shop
        .place_order(&hanako, &[ProductId::from_uuid(uuid::Uuid::nil())], None)
        .await;
    assert!(matches!(unknown, Err(OrderError::NotOnSale(_))));
    let twice = h
        .shop
        .place_order(&hanako, &[products[1], products[1]], None)
        .await;
    assert!(matches!(twice, Err(OrderError::BadItems)));
    let none = h.shop.place_order(&hanako, &[], None).await;
    assert!(matches!(none, Err(OrderError::BadItems)));
}

#[tokio::test]
async fn a_badly_signed_webhook_changes_nothing() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    let mut forged = paid(placed.payment.reference.as_deref().unwrap());
    forged.headers.clear();
    assert!(matches!(
        h.shop.receive_webhook(&forged).await,
        Err(WebhookFailure::Refused(_))
    ));
    assert!(h.shop.library(hanako.id).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_amount_the_provider_cannot_take_is_refused_before_anything_is_stored_or_sent() {
    let h = harness();
    catalogue(&h).await;
    let all = h.shop.products(None, 10).await.unwrap();
    let priced = |yen: i64| {
        all.iter()
            .find(|p| p.draft.price.minor() == yen)
            .unwrap()
            .id
    };
    let hanako = member(&h, "hanako@example.jp", true).await;
    h.gateway
        .limit_amounts(kikeru_domain::shop::ports::AmountLimits {
            min: 400,
            max: 1_000,
        });
    let refused = |e: &OrderError| {
        matches!(
            e,
            OrderError::AmountOutOfRange {
                min: 400,
                max: 1_000,
                ..
            }
        )
    };
    // ¥330 is under the least, ¥1,100 over the most; ¥550 is within.
    for product in [priced(330), priced(1_100)] {
        let quoted = h.shop.quote(&hanako, &[product]).await.unwrap_err();
        assert!(refused(&quoted), "{quoted:?}");
        let placed = h
            .shop
            .place_order(&hanako, &[product], None)
            .await
            .unwrap_err();
        assert!(refused(&placed), "{placed:?}");
    }
    assert_eq!(
        h.gateway.checkouts_opened(),
        0,
        "the provider was never called"
    );
    assert!(
        h.shop
            .purchases(hanako.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        h.shop
            .payments(hanako.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    h.shop
        .place_order(&hanako, &[priced(550)], None)
        .await
        .unwrap();
    assert_eq!(h.gateway.checkouts_opened(), 1);
}

#[tokio::test]
async fn the_return_from_checkout_asks_the_provider_instead_of_trusting_the_browser() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    let (order, _) = h
        .shop
        .reconciled_order(hanako.id, placed.order.id)
        .await
        .unwrap();
    assert_eq!(
        order.status,
        PaymentStatus::Open,
        "the provider has not seen a payment yet"
    );
    // The member paid at the provider, but its webhook has not arrived yet.
    let reference = placed.payment.reference.clone().unwrap();
    let _ = kikeru_domain::shop::ports::SimulatedCheckout::simulate(
        &*h.gateway,
        &reference,
        SandboxOutcome::Pay,
        datetime!(2026-04-01 09:00 UTC),
    );
    let (order, payment) = h
        .shop
        .reconciled_order(hanako.id, placed.order.id)
        .await
        .unwrap();
    assert_eq!(order.status, PaymentStatus::Paid);
    assert!(
        payment
            .history
            .last()
            .unwrap()
            .event_id
            .as_deref()
            .unwrap()
            .starts_with("reconcile:")
    );
    assert_eq!(
        payment.payment_ref.as_deref(),
        Some(format!("pay-{reference}").as_str()),
        "reconciliation learned the payment behind the checkout"
    );
    // The late webhook then changes nothing more.
    let late = h.shop.receive_webhook(&paid(&reference)).await.unwrap();
    assert!(matches!(
        late,
        Some(kikeru_domain::EventOutcome::Unchanged { .. })
    ));
    // A refund the provider reports by the payment alone finds it, though no completion event
    // ever told the shop that payment's reference.
    let refunded = TestGateway::webhook("evt-refund", &format!("pay-{reference}"), "refunded");
    let outcome = h.shop.receive_webhook(&refunded).await.unwrap();
    assert!(
        matches!(
            outcome,
            Some(kikeru_domain::EventOutcome::Applied {
                status: PaymentStatus::Refunded,
                ..
            })
        ),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn members_never_see_each_others_orders_or_audio() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let taro = member(&h, "taro@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    h.shop
        .receive_webhook(&paid(placed.payment.reference.as_deref().unwrap()))
        .await
        .unwrap();
    assert!(matches!(
        h.shop.own_order(taro.id, placed.order.id).await,
        Err(LookupError::NotFound)
    ));
    assert!(matches!(
        h.shop.reconciled_order(taro.id, placed.order.id).await,
        Err(LookupError::NotFound)
    ));
    assert!(matches!(
        h.shop.audio(taro.id, products[0]).await,
        Err(LookupError::NotOwned)
    ));
    assert!(
        h.shop
            .purchases(taro.id, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(h.shop.payments(taro.id, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_refund_takes_the_product_out_of_the_library() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let pending = h
        .shop
        .place_order(&hanako, &products[1..2], None)
        .await
        .unwrap();
    assert!(matches!(
        h.shop.refund(pending.order.id).await,
        Err(RefundError::NotRefundable(_))
    ));
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    let reference = placed.payment.reference.clone().unwrap();
    h.shop.receive_webhook(&paid(&reference)).await.unwrap();
    h.shop.refund(placed.order.id).await.unwrap();
    assert_eq!(h.gateway.refunds(), [reference]);
    assert!(h.shop.library(hanako.id).await.unwrap().is_empty());
    let purchases = h.shop.purchases(hanako.id, None, 10).await.unwrap();
    assert_eq!(
        purchases[0].status,
        PaymentStatus::Refunded,
        "the purchase stays in the history"
    );
}

#[tokio::test]
async fn an_import_adds_updates_and_refuses_repeated_skus_whole() {
    let h = harness();
    let first = h
        .shop
        .import(vec![draft("A", 330), draft("B", 1100)])
        .await
        .unwrap();
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    let second = h
        .shop
        .import(vec![draft("A", 330), draft("B", 990), draft("C", 100)])
        .await
        .unwrap();
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (1, 1, 1)
    );
    let repeated = h.shop.import(vec![draft("D", 1), draft("D", 2)]).await;
    assert!(matches!(repeated, Err(ImportError::DuplicateSku(sku)) if sku == "D"));
    assert!(
        h.shop
            .products(None, 10)
            .await
            .unwrap()
            .iter()
            .all(|p| p.draft.sku.as_str() != "D")
    );
}

#[tokio::test]
async fn a_deleted_members_purchases_stay_for_accounting_linked_to_no_address() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..1], None)
        .await
        .unwrap();
    h.shop
        .receive_webhook(&paid(placed.payment.reference.as_deref().unwrap()))
        .await
        .unwrap();
    let client = Client {
        key: "x".into(),
        browser: String::new(),
    };
    let session = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client, None)
        .await
        .unwrap();
    let current = h.membership.authenticate(&session.token).await.unwrap();
    h.membership
        .delete_account(&current, PASSWORD)
        .await
        .unwrap();

    use kikeru_domain::ports::Members;
    assert_eq!(
        h.store.by_id(hanako.id).await.unwrap(),
        None,
        "the account is gone"
    );
    assert_eq!(
        h.shop.purchases(hanako.id, None, 10).await.unwrap().len(),
        1,
        "the purchase record stays"
    );
    assert!(
        h.shop.payments(hanako.id, None, 10).await.unwrap()[0]
            .history
            .len()
            == 2
    );
}

#[tokio::test]
async fn a_checkout_never_sends_the_processor_a_category_it_is_not_entrusted_with() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    // The shop is told to share the address, but the register entrusts order details only.
    let ports = kikeru_domain::ShopPorts {
        catalog: h.store.clone(),
        orders: h.store.clone(),
        gateway: h.gateway.clone(),
        simulator: Some(h.gateway.clone()),
        processors: h.store.clone(),
        members: h.store.clone(),
        clock: h.clock.clone(),
        random: std::sync::Arc::new(kikeru_testkit::CountingRandom::default()),
    };
    let config = kikeru_domain::ShopConfig {
        success_url: "http://x/{order_id}".into(),
        cancel_url: "http://x/{order_id}".into(),
        share_email_with_provider: true,
        tax: kikeru_domain::shop::tax::TaxRules::japan(),
    };
    let shop = kikeru_domain::Shop::new(ports, config);
    let result = shop.place_order(&hanako, &products[..1], None).await;
    assert!(
        matches!(result, Err(OrderError::NotEntrusted("email_address"))),
        "{result:?}"
    );
    assert!(
        h.shop
            .payments(hanako.id, None, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was stored or sent"
    );
}

#[tokio::test]
async fn no_mail_goes_to_a_mail_provider_not_entrusted_with_its_content() {
    use kikeru_domain::privacy::ports::Processors;
    use kikeru_domain::privacy::{DataCategory, Processor};
    let h = harness();
    let narrowed = Processor {
        key: "mail".into(),
        name: "mail".into(),
        purpose: "mail".into(),
        categories: [DataCategory::EmailAddress].into_iter().collect(),
    };
    h.store.save(&narrowed).await.unwrap();
    let client = Client {
        key: "x".into(),
        browser: String::new(),
    };
    let request = Registration {
        email: Harness::email("hanako@example.jp"),
        password: PASSWORD.into(),
        language: Language::Ja,
    };
    let result = h.membership.register(request, &client).await;
    assert!(result.is_err(), "the mail is refused");
    assert!(
        h.mail().await.sent().is_empty(),
        "nothing was handed to the mail provider"
    );
}

#[tokio::test]
async fn a_paid_order_mails_one_receipt_at_the_price_paid() {
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let placed = h
        .shop
        .place_order(&hanako, &products[..2], None)
        .await
        .unwrap();
    let reference = placed.payment.reference.clone().unwrap();
    assert!(
        !h.mail()
            .await
            .kinds_to("hanako@example.jp")
            .contains(&"receipt"),
        "no receipt before payment"
    );
    h.shop.receive_webhook(&paid(&reference)).await.unwrap();
    h.shop.receive_webhook(&paid(&reference)).await.unwrap();
    let again = TestGateway::webhook("evt-other-delivery", &reference, "paid");
    h.shop.receive_webhook(&again).await.unwrap();
    let receipts: Vec<_> = h
        .mail()
        .await
        .sent()
        .into_iter()
        .filter_map(|m| match m.message {
            kikeru_domain::ports::Message::Receipt(r) => Some(r),
            _ => None,
        })
        .collect();
    assert_eq!(receipts.len(), 1, "one receipt per order");
    assert_eq!(receipts[0].total_minor, 1430);
    assert_eq!(receipts[0].order_id, *placed.order.id.as_uuid());
    let titles: Vec<_> = receipts[0].lines.iter().map(|l| l.title.as_str()).collect();
    assert_eq!(titles, ["A の音", "B の音"], "in the member's language");
}

#[tokio::test]
async fn a_refund_carries_the_members_address_only_where_the_register_entrusts_it() {
    use kikeru_domain::privacy::ports::Processors;
    use kikeru_domain::privacy::{DataCategory, Processor};
    let h = harness();
    let products = catalogue(&h).await;
    let hanako = member(&h, "hanako@example.jp", true).await;
    let shop = |share: bool| {
        let ports = kikeru_domain::ShopPorts {
            catalog: h.store.clone(),
            orders: h.store.clone(),
            gateway: h.gateway.clone(),
            simulator: Some(h.gateway.clone()),
            processors: h.store.clone(),
            members: h.store.clone(),
            clock: h.clock.clone(),
            random: std::sync::Arc::new(kikeru_testkit::CountingRandom::default()),
        };
        kikeru_domain::Shop::new(
            ports,
            kikeru_domain::ShopConfig {
                success_url: "http://x/{order_id}".into(),
                cancel_url: "http://x/{order_id}".into(),
                share_email_with_provider: share,
                tax: kikeru_domain::shop::tax::TaxRules::japan(),
            },
        )
    };
    let widened = Processor {
        key: "test".into(),
        name: "Test payments".into(),
        purpose: "payment".into(),
        categories: [DataCategory::OrderDetails, DataCategory::EmailAddress]
            .into_iter()
            .collect(),
    };
    // Shared, but the register entrusts order details only; then entrusted, but not shared;
    // then shared and entrusted.
    for (n, share, widen) in [(0, true, false), (1, false, true), (2, true, false)] {
        if widen {
            h.store.save(&widened).await.unwrap();
        }
        let placed = h
            .shop
            .place_order(&hanako, &products[n..=n], None)
            .await
            .unwrap();
        let reference = placed.payment.reference.clone().unwrap();
        h.shop.receive_webhook(&paid(&reference)).await.unwrap();
        shop(share).refund(placed.order.id).await.unwrap();
    }
    assert_eq!(
        h.gateway.refund_emails(),
        [None, None, Some(Harness::email("hanako@example.jp"))]
    );
}
