//! Stripe Checkout. Sessions are created with form-encoded requests carrying line items built
//! from the order, `client_reference_id`, metadata and an `Idempotency-Key`; webhooks are
//! verified from `Stripe-Signature`; reconciliation retrieves the session.

use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::shop::ports::{
    Checkout, CheckoutRequest, GatewayError, InboundWebhook, PaymentGateway, WebhookError,
};
use kikeru_domain::{Language, Money, PaymentEvent, PaymentSignal, Timestamp};
use serde::Deserialize;
use serde_json::Value;

use crate::signature;

/// The API version the adapter was written against.
pub(crate) const API_VERSION: &str = "2024-06-20";

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
        }
    }

    /// Calls the API on the blocking pool: `form` is sent form-encoded (POST), or the request
    /// is a GET when it is `None`.
    async fn call(
        &self,
        path: &str,
        form: Option<Vec<(String, String)>>,
        idempotency_key: Option<String>,
    ) -> Result<Value, GatewayError> {
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
        let json: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        match status {
            200..=299 => Ok(json),
            400..=499 if status != 429 => {
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

    async fn session(&self, id: &str) -> Result<Session, GatewayError> {
        let json = self
            .call(&format!("/v1/checkout/sessions/{id}"), None, None)
            .await?;
        serde_json::from_value(json)
            .map_err(|e| GatewayError::Rejected(format!("unexpected session: {e}")))
    }
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
        let key = format!("kikeru-checkout-{}", request.order_id);
        let json = self
            .call(
                "/v1/checkout/sessions",
                Some(checkout_form(request)),
                Some(key),
            )
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
            "charge.refunded" => {
                let full = object
                    .get("refunded")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                if !full {
                    return Ok(None);
                }
                (text("payment_intent"), PaymentSignal::Refunded)
            }
            _ => return Ok(None),
        };
        let reference = reference.ok_or_else(|| {
            WebhookError::Malformed(format!("{} without an object reference", event.kind))
        })?;
        let payment_ref = if event.kind.starts_with("checkout.session.") {
            text("payment_intent")
        } else {
            None
        };
        Ok(Some(PaymentEvent {
            event_id: event.id,
            provider: self.provider().to_owned(),
            reference,
            payment_ref,
            signal,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn checkout_status(
        &self,
        reference: &str,
    ) -> Result<Option<PaymentSignal>, GatewayError> {
        Ok(signal_of(&self.session(reference).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn refund(&self, reference: &str, amount: Money) -> Result<(), GatewayError> {
        let session = self.session(reference).await?;
        let intent = session.payment_intent.ok_or_else(|| {
            GatewayError::Rejected("the session has no payment to refund".to_owned())
        })?;
        let form = vec![
            ("payment_intent".to_owned(), intent),
            ("amount".to_owned(), amount.minor().to_string()),
        ];
        self.call(
            "/v1/refunds",
            Some(form),
            Some(format!("kikeru-refund-{reference}")),
        )
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::shop::ports::CheckoutLine;
    use kikeru_domain::{Currency, Email, OrderId};

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
