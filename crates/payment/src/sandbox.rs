//! The sandbox: a test-mode payment provider inside our own binary. Its checkout page (served
//! by the HTTP adapter at `/sandbox/checkout/{reference}`) has Pay, Decline and Cancel buttons
//! and no card fields; a choice becomes a webhook signed like Stripe's and is verified through
//! the same path as a real provider's.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::shop::ports::{
    AmountLimits, Checkout, CheckoutRequest, CheckoutState, GatewayError, InboundWebhook,
    PaymentGateway, RefundRequest, SandboxOutcome, SimulatedCheckout, WebhookError,
};
use kikeru_domain::{
    Case, CaseState, OrderId, PaymentEvent, PaymentSignal, RefundState, Timestamp,
};
use serde::{Deserialize, Serialize};

use crate::signature;

/// The signature header of sandbox webhooks.
pub const SIGNATURE_HEADER: &str = "kikeru-sandbox-signature";

/// The test-mode provider. Checkouts it opened are remembered in memory (for reconciliation);
/// its webhooks carry everything else.
#[derive(Debug)]
pub struct SandboxGateway {
    secret: Vec<u8>,
    public_url: String,
    checkouts: Mutex<Checkouts>,
}

#[derive(Debug, Default)]
struct Checkouts {
    by_order: HashMap<OrderId, String>,
    outcome: HashMap<String, PaymentSignal>,
    /// Each refund asked, by checkout and attempt.
    refunds: HashMap<(String, u32), Case>,
}

#[derive(Debug, Serialize, Deserialize)]
struct SandboxEvent {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    reference: String,
    created: i64,
}

fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0u8; bytes];
    #[allow(
        clippy::expect_used,
        reason = "no safe way on without the OS random source"
    )]
    getrandom::fill(&mut buffer).expect("the operating system's random source failed");
    data_encoding::HEXLOWER.encode(&buffer)
}

impl SandboxGateway {
    /// A sandbox whose checkout pages live under `public_url`, signing with `secret`.
    pub fn new(public_url: &str, secret: Vec<u8>) -> Self {
        Self {
            secret,
            public_url: public_url.trim_end_matches('/').to_owned(),
            checkouts: Mutex::default(),
        }
    }

    /// A sandbox with a fresh random secret.
    pub fn with_random_secret(public_url: &str) -> Self {
        Self::new(public_url, random_hex(32).into_bytes())
    }

    fn checkouts(&self) -> MutexGuard<'_, Checkouts> {
        self.checkouts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A signed webhook about `reference` (also used by tests to play the provider).
    pub fn signed_webhook(
        &self,
        reference: &str,
        signal: PaymentSignal,
        now: Timestamp,
    ) -> InboundWebhook {
        let kind = match signal {
            PaymentSignal::Succeeded => "checkout.paid",
            PaymentSignal::Processing => "checkout.processing",
            PaymentSignal::Failed => "checkout.declined",
            PaymentSignal::Expired => "checkout.expired",
            PaymentSignal::Canceled => "checkout.canceled",
            PaymentSignal::Refunded => "payment.refunded",
        };
        let event = SandboxEvent {
            id: format!("evt_sbx_{}", random_hex(12)),
            kind: kind.to_owned(),
            reference: reference.to_owned(),
            created: now.unix_timestamp(),
        };
        let body = serde_json::to_vec(&event).unwrap_or_default();
        let header = signature::sign_header(&self.secret, now.unix_timestamp(), &body);
        InboundWebhook {
            body,
            headers: vec![(SIGNATURE_HEADER.to_owned(), header)],
        }
    }
}

#[async_trait]
impl PaymentGateway for SandboxGateway {
    fn provider(&self) -> &'static str {
        "sandbox"
    }

    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, GatewayError> {
        let mut checkouts = self.checkouts();
        let reference = checkouts
            .by_order
            .entry(request.order_id)
            .or_insert_with(|| format!("sbx_{}", random_hex(16)))
            .clone();
        let url = format!("{}/sandbox/checkout/{reference}", self.public_url);
        Ok(Checkout { reference, url })
    }

    fn verify_webhook(
        &self,
        webhook: &InboundWebhook,
        now: Timestamp,
    ) -> Result<Option<PaymentEvent>, WebhookError> {
        signature::verify(
            webhook.header(SIGNATURE_HEADER),
            &webhook.body,
            std::slice::from_ref(&self.secret),
            now.unix_timestamp(),
        )?;
        let event: SandboxEvent = serde_json::from_slice(&webhook.body)
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let signal = match event.kind.as_str() {
            "checkout.paid" => PaymentSignal::Succeeded,
            "checkout.processing" => PaymentSignal::Processing,
            "checkout.declined" => PaymentSignal::Failed,
            "checkout.expired" => PaymentSignal::Expired,
            "checkout.canceled" => PaymentSignal::Canceled,
            "payment.refunded" => PaymentSignal::Refunded,
            _ => return Ok(None),
        };
        Ok(Some(PaymentEvent {
            event_id: event.id,
            provider: self.provider().to_owned(),
            reference: event.reference,
            payment_ref: None,
            news: signal.into(),
        }))
    }

    fn amount_limits(&self, currency: kikeru_domain::Currency) -> Option<AmountLimits> {
        Some(crate::stripe_limits(currency))
    }

    async fn checkout_status(
        &self,
        reference: &str,
    ) -> Result<Option<CheckoutState>, GatewayError> {
        // The sandbox's events name the checkout itself: it has no payment reference apart.
        Ok(self
            .checkouts()
            .outcome
            .get(reference)
            .map(|&signal| CheckoutState {
                signal,
                payment_ref: None,
            }))
    }

    async fn refund(&self, request: &RefundRequest) -> Result<Case, GatewayError> {
        let mut checkouts = self.checkouts();
        let attempt = (request.reference.clone(), request.attempt);
        if let Some(refund) = checkouts.refunds.get(&attempt) {
            // The same attempt again: the same refund.
            return Ok(refund.clone());
        }
        match checkouts.outcome.get(&request.reference) {
            Some(PaymentSignal::Succeeded) => {
                // The sandbox's refunds settle at once.
                let refund = Case {
                    reference: format!("re_sbx_{}", random_hex(12)),
                    state: CaseState::Refund(RefundState::Succeeded),
                    amount: request.amount,
                    reason: None,
                    respond_by: None,
                };
                checkouts
                    .outcome
                    .insert(request.reference.clone(), PaymentSignal::Refunded);
                checkouts.refunds.insert(attempt, refund.clone());
                Ok(refund)
            }
            _ => Err(GatewayError::Rejected(
                "the sandbox has no payment to refund for this checkout".to_owned(),
            )),
        }
    }
}

impl SimulatedCheckout for SandboxGateway {
    fn simulate(&self, reference: &str, outcome: SandboxOutcome, now: Timestamp) -> InboundWebhook {
        let signal = match outcome {
            SandboxOutcome::Pay => PaymentSignal::Succeeded,
            SandboxOutcome::Decline => PaymentSignal::Failed,
            SandboxOutcome::Cancel => PaymentSignal::Canceled,
        };
        self.checkouts()
            .outcome
            .insert(reference.to_owned(), signal);
        self.signed_webhook(reference, signal, now)
    }
}
