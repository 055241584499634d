//! The payment-gateway contract against the sandbox and against Stripe (talking to a local
//! server that checks every request as Stripe's API reference documents it).

mod fake_stripe;

use kikeru_contract::gateway::ProviderDouble;
use kikeru_domain::shop::ports::{
    InboundWebhook, PaymentGateway, SandboxOutcome, SimulatedCheckout,
};
use kikeru_domain::{Case, CaseState, DisputeState, PaymentSignal, RefundState, Timestamp};
use kikeru_payment::{SandboxGateway, StripeConfig, StripeGateway, sign_header};

struct Sandbox(SandboxGateway);

impl ProviderDouble for Sandbox {
    fn gateway(&self) -> &dyn PaymentGateway {
        &self.0
    }

    fn webhook(&self, reference: &str, signal: PaymentSignal, at: Timestamp) -> InboundWebhook {
        self.0.signed_webhook(reference, signal, at)
    }

    fn pay(&self, reference: &str) {
        let _ = self.0.simulate(
            reference,
            SandboxOutcome::Pay,
            kikeru_contract::fixtures::NOW,
        );
    }

    fn payment_ref(&self, _reference: &str) -> Option<String> {
        None
    }

    fn case_webhook(&self, _payment: &str, _case: &Case, _at: Timestamp) -> Option<InboundWebhook> {
        // The sandbox's refunds settle in its answer; it has no disputes.
        None
    }
}

mod sandbox {
    use super::*;
    async fn setup() -> Box<dyn ProviderDouble> {
        Box::new(Sandbox(SandboxGateway::new(
            "http://127.0.0.1:8080",
            b"sandbox-secret".to_vec(),
        )))
    }
    kikeru_contract::gateway_contract_tests!(setup);
}

const WEBHOOK_SECRET: &str = "whsec_contract";

struct Stripe {
    gateway: StripeGateway,
    server: fake_stripe::FakeStripe,
}

impl ProviderDouble for Stripe {
    fn gateway(&self) -> &dyn PaymentGateway {
        &self.gateway
    }

    fn webhook(&self, reference: &str, signal: PaymentSignal, at: Timestamp) -> InboundWebhook {
        let (kind, object) = match signal {
            PaymentSignal::Succeeded => (
                "checkout.session.completed",
                serde_json::json!({"id": reference, "object": "checkout.session", "payment_status": "paid", "payment_intent": "pi_1"}),
            ),
            PaymentSignal::Processing => (
                "checkout.session.completed",
                serde_json::json!({"id": reference, "object": "checkout.session", "payment_status": "unpaid"}),
            ),
            PaymentSignal::Failed => (
                "checkout.session.async_payment_failed",
                serde_json::json!({"id": reference, "object": "checkout.session"}),
            ),
            PaymentSignal::Expired => (
                "checkout.session.expired",
                serde_json::json!({"id": reference, "object": "checkout.session", "status": "expired"}),
            ),
            PaymentSignal::Canceled => (
                "checkout.session.expired",
                serde_json::json!({"id": reference, "object": "checkout.session"}),
            ),
            PaymentSignal::Refunded => (
                "charge.refunded",
                serde_json::json!({"id": "ch_1", "object": "charge", "payment_intent": reference, "refunded": true}),
            ),
        };
        signed_event(kind, &object, at)
    }

    fn case_webhook(&self, payment: &str, case: &Case, at: Timestamp) -> Option<InboundWebhook> {
        let amount = case.amount.minor();
        let (kind, object) = match case.state {
            CaseState::Refund(state) => {
                let (kind, status) = match state {
                    RefundState::Pending => ("refund.created", "pending"),
                    RefundState::RequiresAction => ("refund.created", "requires_action"),
                    RefundState::Succeeded => ("refund.updated", "succeeded"),
                    RefundState::Failed => ("refund.failed", "failed"),
                    RefundState::Canceled => ("charge.refund.updated", "canceled"),
                };
                let object = serde_json::json!({
                    "id": case.reference, "object": "refund", "amount": amount,
                    "currency": "jpy", "payment_intent": payment, "status": status,
                    "charge": "ch_1", "reason": "requested_by_customer",
                    "failure_reason": (state == RefundState::Failed).then_some("expired_or_canceled_card"),
                });
                (kind, object)
            }
            CaseState::Dispute(state) => {
                let (kind, status) = match state {
                    DisputeState::Open => ("charge.dispute.created", "needs_response"),
                    DisputeState::Won => ("charge.dispute.closed", "won"),
                    DisputeState::Lost => ("charge.dispute.closed", "lost"),
                };
                let object = serde_json::json!({
                    "id": case.reference, "object": "dispute", "amount": amount,
                    "currency": "jpy", "payment_intent": payment, "charge": "ch_1",
                    "status": status, "reason": case.reason,
                    "evidence_details": {
                        "due_by": case.respond_by.map(|t| t.unix_timestamp()),
                        "has_evidence": false, "past_due": false, "submission_count": 0,
                    },
                });
                (kind, object)
            }
        };
        Some(signed_event(kind, &object, at))
    }

    fn pay(&self, reference: &str) {
        self.server.pay(reference);
    }

    fn payment_ref(&self, reference: &str) -> Option<String> {
        Some(self.server.payment_intent(reference))
    }
}

/// A Stripe event of `kind` about `object`, signed at `at` as Stripe signs it.
fn signed_event(kind: &str, object: &serde_json::Value, at: Timestamp) -> InboundWebhook {
    let body = serde_json::json!({
        "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
        "object": "event",
        "api_version": "2024-10-28.acacia",
        "created": at.unix_timestamp(),
        "type": kind,
        "data": {"object": object},
    })
    .to_string()
    .into_bytes();
    let header = sign_header(WEBHOOK_SECRET.as_bytes(), at.unix_timestamp(), &body);
    InboundWebhook {
        body,
        headers: vec![("stripe-signature".to_owned(), header)],
    }
}

mod stripe {
    use super::*;
    async fn setup() -> Box<dyn ProviderDouble> {
        let server = fake_stripe::FakeStripe::start().await;
        let gateway = StripeGateway::new(StripeConfig {
            api_base: server.base.clone(),
            secret_key: fake_stripe::SECRET_KEY.to_owned(),
            webhook_secrets: vec!["whsec_old".to_owned(), WEBHOOK_SECRET.to_owned()],
            timeout: std::time::Duration::from_secs(10),
        });
        Box::new(Stripe { gateway, server })
    }
    kikeru_contract::gateway_contract_tests!(setup);

    use kikeru_domain::shop::ports::{CheckoutLine, CheckoutRequest, GatewayError};
    use kikeru_domain::{Currency, Language, Money, OrderId};
    use poem::http::StatusCode;

    async fn started() -> (StripeGateway, fake_stripe::FakeStripe) {
        let server = fake_stripe::FakeStripe::start().await;
        let gateway = StripeGateway::new(StripeConfig {
            api_base: server.base.clone(),
            secret_key: fake_stripe::SECRET_KEY.to_owned(),
            webhook_secrets: vec![WEBHOOK_SECRET.to_owned()],
            timeout: std::time::Duration::from_secs(10),
        });
        (gateway, server)
    }

    fn request(language: Language) -> CheckoutRequest {
        CheckoutRequest {
            order_id: OrderId::from_uuid(uuid::Uuid::from_u128(7)),
            lines: vec![CheckoutLine {
                title: "朝の音".into(),
                unit_price: Money::new(1100, Currency::Jpy).unwrap(),
                quantity: 1,
            }],
            total: Money::new(1100, Currency::Jpy).unwrap(),
            customer_email: None,
            language,
            success_url: "https://kikeru.example/checkout/done".into(),
            cancel_url: "https://kikeru.example/checkout/canceled".into(),
        }
    }

    #[tokio::test]
    async fn the_same_attempt_is_one_session_and_a_changed_one_is_a_new_attempt() {
        let (gateway, server) = started().await;
        let first = gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        let again = gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        assert_eq!(first, again, "a retry of the same request is replayed");
        // With one key per order, Stripe refuses the changed language (idempotency_error).
        let english = gateway
            .create_checkout(&request(Language::En))
            .await
            .unwrap();
        assert_ne!(english.reference, first.reference);
        let keys = server.keys();
        assert_eq!(keys[0], keys[1]);
        assert_ne!(keys[0], keys[2]);
        assert!(
            keys.iter()
                .all(|k| k.len() <= 255 && k.starts_with("kikeru-checkout-"))
        );
    }

    #[tokio::test]
    async fn a_refund_names_its_order_and_why_and_is_asked_once() {
        use kikeru_domain::shop::ports::RefundRequest;
        let (gateway, server) = started().await;
        let checkout = gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        server.pay(&checkout.reference);
        let refund = RefundRequest {
            order_id: request(Language::Ja).order_id,
            reference: checkout.reference.clone(),
            amount: Money::new(1100, Currency::Jpy).unwrap(),
            attempt: 0,
            email: None,
        };
        gateway.refund(&refund).await.unwrap();
        // A retry (the answer was lost) is the same refund, not a second one.
        gateway.refund(&refund).await.unwrap();
        let asked = server.refunds();
        assert_eq!(asked.len(), 1, "{asked:?}");
        // The attempt after a failed refund is a new refund, under a new key.
        let next = RefundRequest {
            attempt: 1,
            ..refund.clone()
        };
        gateway.refund(&next).await.unwrap();
        assert_eq!(server.refunds().len(), 2);
        let field = |key: &str| {
            asked[0]
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(
            field("payment_intent"),
            Some(server.payment_intent(&checkout.reference))
        );
        assert_eq!(field("amount").as_deref(), Some("1100"));
        assert_eq!(field("reason").as_deref(), Some("requested_by_customer"));
        assert_eq!(
            field("metadata[order_id]"),
            Some(refund.order_id.to_string())
        );
    }

    #[tokio::test]
    async fn a_409_is_worth_retrying_and_the_retry_goes_through() {
        let (gateway, server) = started().await;
        server.fail_next(StatusCode::CONFLICT);
        let busy = gateway.create_checkout(&request(Language::Ja)).await;
        assert!(
            matches!(busy, Err(GatewayError::Unavailable(_))),
            "{busy:?}"
        );
        gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        let keys = server.keys();
        assert_eq!(
            keys[0], keys[1],
            "a 409 is not kept: the same key may retry"
        );
    }

    #[tokio::test]
    async fn a_500_is_not_replayed_to_the_next_attempt() {
        let (gateway, server) = started().await;
        server.fail_next(StatusCode::INTERNAL_SERVER_ERROR);
        let failed = gateway.create_checkout(&request(Language::Ja)).await;
        assert!(
            matches!(failed, Err(GatewayError::Unavailable(_))),
            "{failed:?}"
        );
        // Stripe keeps the 500 under its key for 24 hours: the next attempt takes a new key.
        gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        let keys = server.keys();
        assert_ne!(keys[0], keys[1]);
        // And that attempt, retried, is the same session again.
        gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        assert_eq!(server.keys()[2], keys[1]);
    }

    #[tokio::test]
    async fn a_refund_answered_pending_or_requiring_action_is_reported_so() {
        use kikeru_domain::shop::ports::RefundRequest;
        let (gateway, server) = started().await;
        let checkout = gateway
            .create_checkout(&request(Language::Ja))
            .await
            .unwrap();
        server.pay(&checkout.reference);
        for (attempt, (answered, state)) in [
            ("pending", RefundState::Pending),
            ("requires_action", RefundState::RequiresAction),
        ]
        .into_iter()
        .enumerate()
        {
            server.answer_refunds(answered);
            let refund = gateway
                .refund(&RefundRequest {
                    order_id: request(Language::Ja).order_id,
                    reference: checkout.reference.clone(),
                    amount: Money::new(1100, Currency::Jpy).unwrap(),
                    attempt: u32::try_from(attempt).unwrap(),
                    email: None,
                })
                .await
                .unwrap();
            assert_eq!(refund.state, CaseState::Refund(state));
            assert_eq!(refund.amount.minor(), 1100);
            assert!(refund.reference.starts_with("re_"));
        }
    }

    #[tokio::test]
    async fn konbini_refund_instructions_go_to_the_entrusted_address_only() {
        use kikeru_domain::shop::ports::RefundRequest;
        let (gateway, server) = started().await;
        let email = kikeru_domain::Email::parse("hanako@example.jp").unwrap();
        let mut sent = Vec::new();
        for (n, method, address) in [
            (1, "konbini", Some(email.clone())),
            (2, "card", Some(email.clone())),
            (3, "konbini", None),
        ] {
            let mut order = request(Language::Ja);
            order.order_id = OrderId::from_uuid(uuid::Uuid::from_u128(100 + n));
            let checkout = gateway.create_checkout(&order).await.unwrap();
            server.pay_with(&checkout.reference, method);
            gateway
                .refund(&RefundRequest {
                    order_id: order.order_id,
                    reference: checkout.reference,
                    amount: order.total,
                    attempt: 0,
                    email: address,
                })
                .await
                .unwrap();
            let asked = server.refunds();
            sent.push(
                asked
                    .last()
                    .unwrap()
                    .iter()
                    .find(|(k, _)| k == "instructions_email")
                    .map(|(_, v)| v.clone()),
            );
        }
        assert_eq!(sent, [Some("hanako@example.jp".to_owned()), None, None]);
    }

    #[tokio::test]
    async fn charge_refunded_is_acknowledged_and_left_to_the_refund_events() {
        let (gateway, _server) = started().await;
        for refunded in [true, false] {
            let object = serde_json::json!({
                "id": "ch_1", "object": "charge", "payment_intent": "pi_1",
                "amount": 1100, "amount_refunded": if refunded { 1100 } else { 100 },
                "refunded": refunded,
            });
            let webhook = signed_event("charge.refunded", &object, kikeru_contract::fixtures::NOW);
            assert_eq!(
                gateway
                    .verify_webhook(&webhook, kikeru_contract::fixtures::NOW)
                    .unwrap(),
                None,
                "full or partial, the refund events carry each refund"
            );
        }
    }

    #[tokio::test]
    async fn a_report_without_a_payment_intent_is_acknowledged_not_refused() {
        let (gateway, _server) = started().await;
        let object = serde_json::json!({
            "id": "re_9", "object": "refund", "amount": 100, "currency": "jpy",
            "payment_intent": null, "status": "succeeded",
        });
        let webhook = signed_event("refund.created", &object, kikeru_contract::fixtures::NOW);
        assert_eq!(
            gateway
                .verify_webhook(&webhook, kikeru_contract::fixtures::NOW)
                .unwrap(),
            None
        );
    }
}

/// The checked-in extract of Stripe's schemas refuses what Stripe refuses.
#[test]
fn the_extract_refuses_what_stripe_refuses() {
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    };
    let session = "POST /v1/checkout/sessions";
    let good = [
        ("mode", "payment"),
        ("success_url", "https://x.example/"),
        ("line_items[0][quantity]", "1"),
        ("line_items[0][price_data][currency]", "jpy"),
        ("line_items[0][price_data][unit_amount]", "1100"),
        ("line_items[0][price_data][product_data][name]", "朝の音"),
        ("metadata[order_id]", "anything"),
        ("locale", "ja"),
    ];
    assert_eq!(fake_stripe::schema::check(session, &form(&good)), Ok(()));
    for (bad, why) in [
        (
            ("line_items[0][price_data][unit_amount_yen]", "1100"),
            "unknown",
        ),
        (("line_items[0][quantity]", "one"), "Invalid integer"),
        (("locale", "jp"), "one of"),
        (("mode", "free"), "one of"),
        (("line_items[x][quantity]", "1"), "index"),
    ] {
        let mut sent = form(&good);
        sent.retain(|(k, _)| k != bad.0);
        sent.push((bad.0.to_owned(), bad.1.to_owned()));
        let refused = fake_stripe::schema::check(session, &sent).expect_err(bad.0);
        assert!(refused.contains(why), "{refused}");
    }
    let no_name: Vec<_> = form(&good)
        .into_iter()
        .map(|(k, v)| (k.replace("[name]", "[description]"), v))
        .collect();
    assert!(
        fake_stripe::schema::check(session, &no_name)
            .unwrap_err()
            .contains("Missing required param")
    );
    let refunds = "POST /v1/refunds";
    assert_eq!(
        fake_stripe::schema::check(
            refunds,
            &form(&[
                ("payment_intent", "pi_1"),
                ("reason", "requested_by_customer")
            ])
        ),
        Ok(())
    );
    assert!(fake_stripe::schema::check(refunds, &form(&[("reason", "because")])).is_err());
}
