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
}
