//! The [`PaymentGateway`] contract. A provider double plays the provider: it signs webhooks
//! the way the provider does and can make a checkout paid.

use kikeru_domain::shop::ports::{
    CheckoutLine, CheckoutRequest, GatewayError, InboundWebhook, PaymentGateway, RefundRequest,
    WebhookError,
};
use kikeru_domain::{
    Case, CaseState, Currency, DisputeState, Language, Money, News, OrderId, PaymentSignal,
    RefundState, Timestamp,
};

use crate::fixtures::{NOW, uuid};

/// An adapter under test, with the provider it talks to.
pub trait ProviderDouble: Send + Sync {
    /// The adapter.
    fn gateway(&self) -> &dyn PaymentGateway;
    /// The webhook the provider would send about `reference` reporting `signal`, signed at `at`.
    fn webhook(&self, reference: &str, signal: PaymentSignal, at: Timestamp) -> InboundWebhook;
    /// Makes the provider consider the checkout paid, as if the member had paid.
    fn pay(&self, reference: &str);
    /// The provider's reference of the payment behind a paid checkout, when it names one apart
    /// (Stripe's PaymentIntent); `None` for a provider whose events name the checkout alone.
    fn payment_ref(&self, reference: &str) -> Option<String>;
    /// The webhook the provider would send reporting `case` of the payment `payment`, signed
    /// at `at`; `None` for a provider that reports no such case by webhook.
    fn case_webhook(&self, payment: &str, case: &Case, at: Timestamp) -> Option<InboundWebhook>;
}

/// A checkout request for order `n`.
///
/// # Panics
/// Never.
#[allow(clippy::unwrap_used, clippy::missing_panics_doc)]
pub fn request(n: u128) -> CheckoutRequest {
    let price = Money::new(1100, Currency::Jpy).unwrap();
    CheckoutRequest {
        order_id: OrderId::from_uuid(uuid(50_000 + n)),
        lines: vec![CheckoutLine {
            title: "朝の音 / Morning sounds".into(),
            unit_price: price,
            quantity: 1,
        }],
        total: price,
        customer_email: None,
        language: Language::Ja,
        success_url: "http://127.0.0.1:8080/checkout/done".into(),
        cancel_url: "http://127.0.0.1:8080/checkout/canceled".into(),
    }
}

/// Opening a checkout twice for one order MUST NOT open a second one.
pub async fn opening_a_checkout_twice_for_one_order_gives_one_checkout(
    double: &dyn ProviderDouble,
) {
    let gateway = double.gateway();
    let first = gateway
        .create_checkout(&request(1))
        .await
        .expect("checkout");
    let again = gateway
        .create_checkout(&request(1))
        .await
        .expect("checkout again");
    let other = gateway
        .create_checkout(&request(2))
        .await
        .expect("another checkout");
    assert_eq!(first, again);
    assert_ne!(first.reference, other.reference);
    assert!(first.url.starts_with("http"), "{}", first.url);
}

/// A genuine webhook verifies into the event about its checkout.
pub async fn a_genuine_webhook_verifies_into_its_event(double: &dyn ProviderDouble) {
    let gateway = double.gateway();
    let checkout = gateway
        .create_checkout(&request(1))
        .await
        .expect("checkout");
    // Paid at once; an asynchronous payment (completed unpaid, then settled or failed); expired.
    for signal in [
        PaymentSignal::Succeeded,
        PaymentSignal::Processing,
        PaymentSignal::Failed,
        PaymentSignal::Expired,
    ] {
        let webhook = double.webhook(&checkout.reference, signal, NOW);
        let event = gateway
            .verify_webhook(&webhook, NOW)
            .expect("verified")
            .expect("an event the shop acts on");
        assert_eq!(
            (event.reference.as_str(), &event.news),
            (checkout.reference.as_str(), &signal.into())
        );
        assert_eq!(event.provider, gateway.provider());
        assert!(!event.event_id.is_empty());
    }
}

/// MUST refuse a tampered body or a missing signature.
pub async fn a_tampered_or_unsigned_webhook_is_refused(double: &dyn ProviderDouble) {
    let gateway = double.gateway();
    let mut webhook = double.webhook("ref", PaymentSignal::Succeeded, NOW);
    let genuine = webhook.clone();
    if let Some(byte) = webhook.body.iter_mut().find(|b| b.is_ascii_digit()) {
        *byte = if *byte == b'9' { b'8' } else { b'9' };
    } else {
        webhook.body.push(b' ');
    }
    assert_eq!(
        gateway.verify_webhook(&webhook, NOW),
        Err(WebhookError::BadSignature)
    );
    let unsigned = InboundWebhook {
        body: genuine.body,
        headers: Vec::new(),
    };
    assert_eq!(
        gateway.verify_webhook(&unsigned, NOW),
        Err(WebhookError::BadSignature)
    );
}

/// MUST refuse a webhook signed more than five minutes ago (a replay).
pub async fn a_replayed_webhook_is_refused_as_stale(double: &dyn ProviderDouble) {
    let then = NOW - time::Duration::minutes(10);
    let webhook = double.webhook("ref", PaymentSignal::Succeeded, then);
    assert_eq!(
        double.gateway().verify_webhook(&webhook, NOW),
        Err(WebhookError::Stale)
    );
}

/// Reconciliation says "still open" until the member pays, then "paid".
pub async fn reconciliation_reports_open_then_paid(double: &dyn ProviderDouble) {
    let gateway = double.gateway();
    let checkout = gateway
        .create_checkout(&request(1))
        .await
        .expect("checkout");
    assert_eq!(
        gateway
            .checkout_status(&checkout.reference)
            .await
            .expect("status"),
        None
    );
    double.pay(&checkout.reference);
    let state = gateway
        .checkout_status(&checkout.reference)
        .await
        .expect("status")
        .expect("no longer open");
    assert_eq!(state.signal, PaymentSignal::Succeeded);
    assert_eq!(
        state.payment_ref,
        double.payment_ref(&checkout.reference),
        "reconciliation names the payment as the completion event does"
    );
}

/// Only a paid checkout is refunded; the provider refuses to refund one never paid.
pub async fn only_a_paid_checkout_is_refunded(double: &dyn ProviderDouble) {
    let gateway = double.gateway();
    let order = request(2);
    let checkout = gateway.create_checkout(&order).await.expect("checkout");
    let refund = RefundRequest {
        order_id: order.order_id,
        reference: checkout.reference.clone(),
        amount: order.total,
        attempt: 0,
        email: None,
    };
    assert!(
        matches!(
            gateway.refund(&refund).await,
            Err(GatewayError::Rejected(_))
        ),
        "nothing was paid yet"
    );
    double.pay(&checkout.reference);
    let answered = gateway.refund(&refund).await.expect("refund");
    assert!(!answered.reference.is_empty());
    assert_eq!(answered.amount, order.total);
    assert!(
        matches!(answered.state, CaseState::Refund(_)),
        "{answered:?}"
    );
    assert_eq!(
        gateway.refund(&refund).await.expect("retried"),
        answered,
        "a retried request is the same refund"
    );
}

/// The provider's reports of refunds and disputes verify into their cases, whatever state
/// they report, naming the payment.
pub async fn refund_and_dispute_reports_verify_into_their_cases(double: &dyn ProviderDouble) {
    let gateway = double.gateway();
    let checkout = gateway
        .create_checkout(&request(3))
        .await
        .expect("checkout");
    double.pay(&checkout.reference);
    let payment = double
        .payment_ref(&checkout.reference)
        .unwrap_or_else(|| checkout.reference.clone());
    let yen = |n| Money::new(n, Currency::Jpy).expect("yen");
    // Providers state deadlines to the second.
    let deadline =
        Timestamp::from_unix_timestamp(NOW.unix_timestamp() + 10 * 86_400).expect("a deadline");
    let mut reports: Vec<Case> = [
        RefundState::Pending,
        RefundState::RequiresAction,
        RefundState::Succeeded,
        RefundState::Failed,
        RefundState::Canceled,
    ]
    .into_iter()
    .map(|state| Case {
        reference: "re_1".to_owned(),
        state: CaseState::Refund(state),
        amount: yen(500),
        reason: None,
        respond_by: None,
    })
    .collect();
    reports.extend(
        [DisputeState::Open, DisputeState::Won, DisputeState::Lost]
            .into_iter()
            .map(|state| Case {
                reference: "du_1".to_owned(),
                state: CaseState::Dispute(state),
                amount: yen(1100),
                reason: Some("fraudulent".to_owned()),
                respond_by: (state == DisputeState::Open).then_some(deadline),
            }),
    );
    for case in reports {
        let Some(webhook) = double.case_webhook(&payment, &case, NOW) else {
            continue;
        };
        let event = gateway
            .verify_webhook(&webhook, NOW)
            .expect("verified")
            .expect("an event the shop acts on");
        assert_eq!(event.reference, payment);
        let News::Case(reported) = event.news else {
            panic!("not a case: {:?}", event.news);
        };
        assert_eq!(
            (reported.reference.as_str(), reported.state, reported.amount),
            (case.reference.as_str(), case.state, case.amount)
        );
        if case.state == CaseState::Dispute(DisputeState::Open) {
            assert_eq!(reported.reason, case.reason);
            assert_eq!(reported.respond_by, case.respond_by);
        }
    }
}

/// The amounts a provider names, if any, make a range that holds an ordinary price (¥1,100).
pub async fn amount_limits_hold_an_ordinary_price(double: &dyn ProviderDouble) {
    if let Some(limits) = double.gateway().amount_limits(Currency::Jpy) {
        assert!(0 < limits.min && limits.min <= limits.max, "{limits:?}");
        assert!((limits.min..=limits.max).contains(&request(1).total.minor()));
    }
}

/// Expands every gateway case into a `#[tokio::test]` for the double `$setup` returns.
#[macro_export]
macro_rules! gateway_contract_tests {
    ($setup:path) => {
        $crate::gateway_contract_tests!(@cases $setup, [
            opening_a_checkout_twice_for_one_order_gives_one_checkout,
            a_genuine_webhook_verifies_into_its_event,
            a_tampered_or_unsigned_webhook_is_refused,
            a_replayed_webhook_is_refused_as_stale,
            reconciliation_reports_open_then_paid,
            only_a_paid_checkout_is_refunded,
            refund_and_dispute_reports_verify_into_their_cases,
            amount_limits_hold_an_ordinary_price,
        ]);
    };
    (@cases $setup:path, [$($case:ident),+ $(,)?]) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let double = $setup().await;
                $crate::gateway::$case(&*double).await;
            }
        )+
    };
}
