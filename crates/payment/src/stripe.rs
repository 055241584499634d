//! Stripe Checkout. Sessions are created with form-encoded requests carrying line items built
//! from the order, `client_reference_id`, metadata and an `Idempotency-Key`; webhooks are
//! verified from `Stripe-Signature`; reconciliation retrieves the session.
//!
//! Idempotency follows Stripe's rules: a key may only be reused with the very same parameters,
//! and Stripe keeps (and replays for 24 hours) whatever a request with that key answered once
//! it began, a 500 included. So each attempt's key is derived from what it asks (the order or
//! payment and a digest of the parameters: a changed language or address is a new attempt, a
//! retry of the same request is the same one), and after a 5xx the next attempt of the same
//! request takes a fresh key. A 409 (the same key still in flight) and a 429 or 5xx are worth
//! retrying; any other 4xx is final.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::shop::ports::{
    AmountLimits, Checkout, CheckoutRequest, CheckoutState, GatewayError, InboundWebhook,
    PaymentGateway, RefundRequest, WebhookError,
};
use kikeru_domain::{
    Case, CaseState, Currency, DisputeState, Language, Money, News, PaymentEvent, PaymentSignal,
    RefundState, Timestamp,
};
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::signature;

/// The most requests whose 5xx answers are remembered (see [`StripeGateway::spoil`]).
const MOST_SPOILED: usize = 10_000;

/// The API version the adapter was written against: `2024-10-28.acacia`, the first in which
/// Stripe sends `refund.created`, `refund.updated` and `refund.failed` for refunds of charges
/// (before it, a refund made in the Dashboard was only announced by `charge.refunded`, whose
/// charge object names no refund). The fields the adapter sends and reads did not change
/// between `2024-06-20` and this version.
pub(crate) const API_VERSION: &str = "2024-10-28.acacia";

/// How to reach Stripe.
#[derive(Clone)]
pub struct StripeConfig {
    /// `https://api.stripe.com` (tests point it at a local server).
    pub api_base: String,
    /// The secret API key (`sk_live_…`, `sk_test_…`).
    pub secret_key: String,
    /// Webhook signing secrets (`whsec_…`); several during a rotation.
    pub webhook_secrets: Vec<String>,
    /// How long one API call may take.
    pub timeout: Duration,
}

impl std::fmt::Debug for StripeConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeConfig")
            .field("api_base", &self.api_base)
            .field("secret_key", &"<redacted>")
            .field("webhook_secrets", &self.webhook_secrets.len())
            .finish()
    }
}

/// The Stripe adapter.
#[derive(Debug)]
pub struct StripeGateway {
    config: StripeConfig,
    secrets: Vec<Vec<u8>>,
    agent: ureq::Agent,
    /// Keys whose request Stripe answered with a 5xx, and how many times: the next attempt of
    /// that request takes a fresh key, since Stripe would replay the failure for 24 hours.
    spoiled: Mutex<HashMap<String, u32>>,
}

#[derive(Debug, Deserialize)]
struct Session {
    id: String,
    url: Option<String>,
    status: Option<String>,
    payment_status: Option<String>,
    payment_intent: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Event {
    id: String,
    #[serde(rename = "type")]
    kind: String,
    data: EventData,
}

#[derive(Debug, Deserialize)]
struct EventData {
    object: Value,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Transport(String);

impl StripeGateway {
    /// An adapter for `config`.
    pub fn new(config: StripeConfig) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(config.timeout))
            .build()
            .into();
        let secrets = config
            .webhook_secrets
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .collect();
        Self {
            config,
            secrets,
            agent,
            spoiled: Mutex::default(),
        }
    }

    /// The `Idempotency-Key` of an attempt: what it is for (`checkout-<order>`), a digest of its
    /// parameters, and a generation that moves on after each 5xx answered to that request.
    /// Answers the request's own name (without the generation) and the key.
    fn idempotency_key(&self, purpose: &str, form: &[(String, String)]) -> (String, String) {
        let mut digest = Sha256::new();
        for (key, value) in form {
            digest.update(key.as_bytes());
            digest.update([0]);
            digest.update(value.as_bytes());
            digest.update([0]);
        }
        let digest = data_encoding::HEXLOWER.encode(&digest.finalize()[..12]);
        let request = format!("kikeru-{purpose}-{digest}");
        let key = match self.spoiled().get(&request) {
            Some(generation) => format!("{request}-{generation}"),
            None => request.clone(),
        };
        (request, key)
    }

    /// Notes that Stripe answered `request` with a 5xx, so its next attempt takes a new key.
    /// The notes are bounded: past [`MOST_SPOILED`] they start afresh (an attempt may then meet
    /// a replayed 5xx once more, and moves on again).
    fn spoil(&self, request: &str) {
        let mut spoiled = self.spoiled();
        if spoiled.len() >= MOST_SPOILED {
            spoiled.clear();
        }
        *spoiled.entry(request.to_owned()).or_default() += 1;
    }

    fn spoiled(&self) -> std::sync::MutexGuard<'_, HashMap<String, u32>> {
        // A map of counters stays whole even if a holder panicked.
        self.spoiled
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A POST whose key is derived from `purpose` and `form` (see the module's documentation).
    async fn post(
        &self,
        path: &str,
        purpose: &str,
        form: Vec<(String, String)>,
    ) -> Result<Value, GatewayError> {
        let (request, key) = self.idempotency_key(purpose, &form);
        let (status, json) = self.send(path, Some(form), Some(key)).await?;
        if status >= 500 {
            self.spoil(&request);
        }
        answer(status, json)
    }

    /// Calls the API and reads its answer (see [`answer`]).
    async fn call(
        &self,
        path: &str,
        form: Option<Vec<(String, String)>>,
        idempotency_key: Option<String>,
    ) -> Result<Value, GatewayError> {
        let (status, json) = self.send(path, form, idempotency_key).await?;
        answer(status, json)
    }

    /// Sends a request on the blocking pool: `form` form-encoded (POST), or a GET when it is
    /// `None`. Answers Stripe's status and body; only a failure to talk to Stripe is an error.
    async fn send(
        &self,
        path: &str,
        form: Option<Vec<(String, String)>>,
        idempotency_key: Option<String>,
    ) -> Result<(u16, Value), GatewayError> {
        let url = format!("{}{path}", self.config.api_base.trim_end_matches('/'));
        let agent = self.agent.clone();
        let auth = format!("Bearer {}", self.config.secret_key);
        let task = tokio::task::spawn_blocking(move || -> Result<(u16, String), String> {
            let mut response = match form {
                Some(form) => {
                    let mut request = agent
                        .post(&url)
                        .header("authorization", &auth)
                        .header("stripe-version", API_VERSION);
                    if let Some(key) = &idempotency_key {
                        request = request.header("idempotency-key", key);
                    }
                    request.send_form(form.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                }
                None => agent
                    .get(&url)
                    .header("authorization", &auth)
                    .header("stripe-version", API_VERSION)
                    .call(),
            }
            .map_err(|e| e.to_string())?;
            let status = response.status().as_u16();
            let body = response
                .body_mut()
                .read_to_string()
                .map_err(|e| e.to_string())?;
            Ok((status, body))
        });
        let (status, body) = task
            .await
            .map_err(|e| GatewayError::Unavailable(Box::new(e)))?
            .map_err(|e| GatewayError::Unavailable(Box::new(Transport(e))))?;
        Ok((status, serde_json::from_str(&body).unwrap_or(Value::Null)))
    }

    /// The payment method a PaymentIntent was paid with (`card`, `konbini`, …), from its latest
    /// charge.
    async fn paid_with(&self, intent: &str) -> Result<Option<String>, GatewayError> {
        let json = self
            .call(
                &format!("/v1/payment_intents/{intent}?expand%5B%5D=latest_charge"),
                None,
                None,
            )
            .await?;
        Ok(json["latest_charge"]["payment_method_details"]["type"]
            .as_str()
            .map(str::to_owned))
    }

    async fn session(&self, id: &str) -> Result<Session, GatewayError> {
        let json = self
            .call(&format!("/v1/checkout/sessions/{id}"), None, None)
            .await?;
        serde_json::from_value(json)
            .map_err(|e| GatewayError::Rejected(format!("unexpected session: {e}")))
    }
}

/// What Stripe's answer means: 2xx is the object; 409 (a request with this key is still being
/// handled), 429 (too many requests) and 5xx are worth retrying; any other 4xx is final.
fn answer(status: u16, json: Value) -> Result<Value, GatewayError> {
    match status {
        200..=299 => Ok(json),
        400..=499 if status != 409 && status != 429 => {
            let message = json["error"]["message"]
                .as_str()
                .unwrap_or("request refused")
                .to_owned();
            Err(GatewayError::Rejected(message))
        }
        _ => Err(GatewayError::Unavailable(Box::new(Transport(format!(
            "Stripe answered {status}"
        ))))),
    }
}

impl StripeGateway {
    /// The event of a refund or dispute report: about the PaymentIntent it names. A genuine
    /// report that cannot be read (no PaymentIntent, a state this adapter does not know) is
    /// acknowledged and logged: a 400 would only make Stripe deliver it again for days.
    fn case_event(&self, event: &Event, case: Option<Case>) -> Option<PaymentEvent> {
        let intent = event
            .data
            .object
            .get("payment_intent")
            .and_then(Value::as_str);
        let (Some(case), Some(intent)) = (case, intent) else {
            tracing::warn!(event = %event.id, kind = %event.kind, "a refund or dispute report this adapter cannot read was ignored");
            return None;
        };
        Some(PaymentEvent {
            event_id: event.id.clone(),
            provider: self.provider().to_owned(),
            reference: intent.to_owned(),
            payment_ref: None,
            news: News::Case(case),
        })
    }
}

/// An amount as Stripe writes it: minor units and a lower-case currency code.
fn amount_of(object: &Value) -> Option<Money> {
    let currency: Currency = object
        .get("currency")?
        .as_str()?
        .to_ascii_uppercase()
        .parse()
        .ok()?;
    Money::new(object.get("amount")?.as_i64()?, currency).ok()
}

/// A Refund object as a case.
fn refund_case(object: &Value) -> Option<Case> {
    let state = match object.get("status")?.as_str()? {
        "pending" => RefundState::Pending,
        "requires_action" => RefundState::RequiresAction,
        "succeeded" => RefundState::Succeeded,
        "failed" => RefundState::Failed,
        "canceled" => RefundState::Canceled,
        _ => return None,
    };
    Some(Case {
        reference: object.get("id")?.as_str()?.to_owned(),
        state: CaseState::Refund(state),
        amount: amount_of(object)?,
        reason: object
            .get("failure_reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
        respond_by: None,
    })
}

/// A Dispute object as a case: `won`, and an inquiry closed without a chargeback
/// (`warning_closed`), give the purchase back; `lost` ends it; every other status is open.
fn dispute_case(object: &Value) -> Option<Case> {
    let state = match object.get("status")?.as_str()? {
        "won" | "warning_closed" => DisputeState::Won,
        "lost" => DisputeState::Lost,
        "needs_response" | "under_review" | "warning_needs_response" | "warning_under_review" => {
            DisputeState::Open
        }
        _ => return None,
    };
    let respond_by = object
        .get("evidence_details")
        .and_then(|d| d.get("due_by"))
        .and_then(Value::as_i64)
        .and_then(|s| Timestamp::from_unix_timestamp(s).ok());
    Some(Case {
        reference: object.get("id")?.as_str()?.to_owned(),
        state: CaseState::Dispute(state),
        amount: amount_of(object)?,
        reason: object
            .get("reason")
            .and_then(Value::as_str)
            .map(str::to_owned),
        respond_by,
    })
}

/// The form Stripe's API reference documents for a refund: the PaymentIntent, the amount, why
/// (an operator refunds at the member's request) and our order in the metadata.
pub(crate) fn refund_form(request: &RefundRequest, intent: &str) -> Vec<(String, String)> {
    vec![
        ("payment_intent".to_owned(), intent.to_owned()),
        ("amount".to_owned(), request.amount.minor().to_string()),
        ("reason".to_owned(), "requested_by_customer".to_owned()),
        (
            "metadata[order_id]".to_owned(),
            request.order_id.to_string(),
        ),
    ]
}

/// The form Stripe's API reference documents for a payment-mode Checkout Session.
pub(crate) fn checkout_form(request: &CheckoutRequest) -> Vec<(String, String)> {
    let order = request.order_id.to_string();
    let mut form = vec![
        ("mode".to_owned(), "payment".to_owned()),
        ("success_url".to_owned(), request.success_url.clone()),
        ("cancel_url".to_owned(), request.cancel_url.clone()),
        ("client_reference_id".to_owned(), order.clone()),
        ("metadata[order_id]".to_owned(), order.clone()),
        ("payment_intent_data[metadata][order_id]".to_owned(), order),
        (
            "locale".to_owned(),
            match request.language {
                Language::Ja => "ja",
                Language::En => "en",
            }
            .to_owned(),
        ),
    ];
    for (i, line) in request.lines.iter().enumerate() {
        let prefix = format!("line_items[{i}]");
        form.push((format!("{prefix}[quantity]"), line.quantity.to_string()));
        form.push((
            format!("{prefix}[price_data][currency]"),
            line.unit_price.currency().code().to_ascii_lowercase(),
        ));
        form.push((
            format!("{prefix}[price_data][unit_amount]"),
            line.unit_price.minor().to_string(),
        ));
        form.push((
            format!("{prefix}[price_data][product_data][name]"),
            line.title.clone(),
        ));
    }
    if let Some(email) = &request.customer_email {
        form.push(("customer_email".to_owned(), email.as_str().to_owned()));
    }
    form
}

fn signal_of(session: &Session) -> Option<PaymentSignal> {
    match (session.status.as_deref(), session.payment_status.as_deref()) {
        (Some("complete"), Some("paid" | "no_payment_required")) => Some(PaymentSignal::Succeeded),
        (Some("complete"), _) => Some(PaymentSignal::Processing),
        (Some("expired"), _) => Some(PaymentSignal::Expired),
        _ => None,
    }
}

#[async_trait]
impl PaymentGateway for StripeGateway {
    fn provider(&self) -> &'static str {
        "stripe"
    }

    #[tracing::instrument(skip_all)]
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, GatewayError> {
        let purpose = format!("checkout-{}", request.order_id);
        let json = self
            .post("/v1/checkout/sessions", &purpose, checkout_form(request))
            .await?;
        let session: Session = serde_json::from_value(json)
            .map_err(|e| GatewayError::Rejected(format!("unexpected session: {e}")))?;
        let url = session
            .url
            .ok_or_else(|| GatewayError::Rejected("the session has no URL".to_owned()))?;
        Ok(Checkout {
            reference: session.id,
            url,
        })
    }

    fn verify_webhook(
        &self,
        webhook: &InboundWebhook,
        now: Timestamp,
    ) -> Result<Option<PaymentEvent>, WebhookError> {
        signature::verify(
            webhook.header("stripe-signature"),
            &webhook.body,
            &self.secrets,
            now.unix_timestamp(),
        )?;
        let event: Event = serde_json::from_slice(&webhook.body)
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let object = &event.data.object;
        let text = |key: &str| object.get(key).and_then(Value::as_str).map(str::to_owned);
        let (reference, signal) = match event.kind.as_str() {
            "checkout.session.completed" => {
                let paid = matches!(
                    text("payment_status").as_deref(),
                    Some("paid" | "no_payment_required")
                );
                (
                    text("id"),
                    if paid {
                        PaymentSignal::Succeeded
                    } else {
                        PaymentSignal::Processing
                    },
                )
            }
            "checkout.session.async_payment_succeeded" => (text("id"), PaymentSignal::Succeeded),
            "checkout.session.async_payment_failed" => (text("id"), PaymentSignal::Failed),
            "checkout.session.expired" => (text("id"), PaymentSignal::Expired),
            "refund.created" | "refund.updated" | "refund.failed" | "charge.refund.updated" => {
                return Ok(self.case_event(&event, refund_case(object)));
            }
            "charge.dispute.created" | "charge.dispute.updated" | "charge.dispute.closed" => {
                return Ok(self.case_event(&event, dispute_case(object)));
            }
            _ => return Ok(None),
        };
        let Some(reference) = reference else {
            // Genuine (the signature holds) but naming nothing the shop keeps, such as a refund
            // of a charge made without a PaymentIntent: acknowledged and logged, since a 400
            // would only make Stripe deliver it again for days.
            tracing::warn!(event = %event.id, kind = %event.kind, "a payment event without the reference it needs was ignored");
            return Ok(None);
        };
        Ok(Some(PaymentEvent {
            event_id: event.id,
            provider: self.provider().to_owned(),
            reference,
            payment_ref: text("payment_intent"),
            news: signal.into(),
        }))
    }

    fn amount_limits(&self, currency: kikeru_domain::Currency) -> Option<AmountLimits> {
        Some(crate::stripe_limits(currency))
    }

    #[tracing::instrument(skip_all)]
    async fn checkout_status(
        &self,
        reference: &str,
    ) -> Result<Option<CheckoutState>, GatewayError> {
        let session = self.session(reference).await?;
        Ok(signal_of(&session).map(|signal| CheckoutState {
            signal,
            payment_ref: session.payment_intent,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn refund(&self, request: &RefundRequest) -> Result<Case, GatewayError> {
        let session = self.session(&request.reference).await?;
        let intent = session.payment_intent.ok_or_else(|| {
            GatewayError::Rejected("the session has no payment to refund".to_owned())
        })?;
        // One key per attempt: a retry of this attempt is the same refund, the attempt after a
        // failed refund is a new one (Stripe would otherwise replay the failed one for 24 h).
        let purpose = format!("refund-{}-{}", request.order_id, request.attempt);
        let mut form = refund_form(request, &intent);
        // A konbini payment is refunded to a bank account the member gives Stripe, asked by
        // mail: only then, and only when the address is entrusted, is it sent.
        if let Some(email) = &request.email
            && self.paid_with(&intent).await?.as_deref() == Some("konbini")
        {
            form.push(("instructions_email".to_owned(), email.as_str().to_owned()));
        }
        let answered = self.post("/v1/refunds", &purpose, form).await?;
        refund_case(&answered).ok_or_else(|| {
            GatewayError::Rejected("Stripe answered a refund this adapter cannot read".to_owned())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::shop::ports::CheckoutLine;
    use kikeru_domain::{Currency, Email, Money, OrderId};

    fn request(email: Option<&str>) -> CheckoutRequest {
        CheckoutRequest {
            order_id: OrderId::from_uuid(uuid::Uuid::from_u128(7)),
            lines: vec![CheckoutLine {
                title: "朝の音".into(),
                unit_price: Money::new(1100, Currency::Jpy).unwrap(),
                quantity: 1,
            }],
            total: Money::new(1100, Currency::Jpy).unwrap(),
            customer_email: email.map(|e| Email::parse(e).unwrap()),
            language: Language::Ja,
            success_url: "https://kikeru.example/checkout/done".into(),
            cancel_url: "https://kikeru.example/checkout/canceled".into(),
        }
    }

    #[test]
    fn yen_are_sent_as_they_are_since_the_yen_has_no_minor_unit() {
        let form = checkout_form(&request(None));
        let field = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        // ¥1,100 is `unit_amount=1100` in `jpy`: Stripe reads JPY amounts in whole yen.
        assert_eq!(
            field("line_items[0][price_data][unit_amount]"),
            Some("1100")
        );
        assert_eq!(field("line_items[0][price_data][currency]"), Some("jpy"));
        assert_eq!(field("line_items[0][quantity]"), Some("1"));
    }

    #[test]
    fn only_the_entrusted_categories_are_sent_to_stripe() {
        let form = checkout_form(&request(None));
        let keys: Vec<&str> = form.iter().map(|(k, _)| k.as_str()).collect();
        for key in &keys {
            let allowed = key.starts_with("line_items[")
                || key.starts_with("metadata[order_id]")
                || key.starts_with("payment_intent_data[metadata][order_id]")
                || [
                    "mode",
                    "success_url",
                    "cancel_url",
                    "client_reference_id",
                    "locale",
                ]
                .contains(key);
            assert!(allowed, "unexpected field {key}");
        }
        assert!(!keys.contains(&"customer_email"));
        let with_email = checkout_form(&request(Some("hanako@example.jp")));
        assert!(
            with_email.contains(&("customer_email".to_owned(), "hanako@example.jp".to_owned()))
        );
    }
}
