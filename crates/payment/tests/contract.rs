//! The payment-gateway contract against the sandbox and against Stripe (talking to a local
//! server that checks every request as Stripe's API reference documents it).

mod fake_stripe;

use kikeru_contract::gateway::ProviderDouble;
use kikeru_domain::shop::ports::{
    InboundWebhook, PaymentGateway, SandboxOutcome, SimulatedCheckout,
};
use kikeru_domain::{PaymentSignal, Timestamp};
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
        let body = serde_json::json!({
            "id": format!("evt_{}", uuid::Uuid::new_v4().simple()),
            "object": "event",
            "api_version": "2024-06-20",
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

    fn pay(&self, reference: &str) {
        self.server.pay(reference);
    }

    fn payment_ref(&self, reference: &str) -> Option<String> {
        Some(self.server.payment_intent(reference))
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
        };
        gateway.refund(&refund).await.unwrap();
        // A retry (the answer was lost) is the same refund, not a second one.
        gateway.refund(&refund).await.unwrap();
        let asked = server.refunds();
        assert_eq!(asked.len(), 1, "{asked:?}");
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
}
