//! A local stand-in for Stripe's API that checks each request the way Stripe's API reference
//! documents it (bearer key, API version, form encoding, idempotency keys, every parameter of
//! Checkout Sessions and Refunds against Stripe's own request schemas in [`schema`], and the
//! rules the schema cannot say) and answers like Stripe. Anything off is a 400 with Stripe's
//! error shape, which fails the adapter's call and so the test.

#![allow(
    dead_code,
    reason = "shared by the payment contract and the black-box journey; each uses part of it"
)]

pub(crate) mod schema;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use poem::http::StatusCode;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::web::{Data, Path};
use poem::{EndpointExt, Request, Response, Route, Server, get, handler, post};
use serde_json::{Value, json};

pub(crate) const SECRET_KEY: &str = "sk_test_contract";

/// The API version the adapter was written against (and the webhook endpoint must be created
/// with): `API_VERSION` in `src/stripe.rs`.
const PINNED_VERSION: &str = "2024-10-28.acacia";

/// What a request with an idempotency key was, and what it was answered.
type Kept = (Vec<(String, String)>, StatusCode, Value);

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Value>,
    /// The payment method each paid PaymentIntent was paid with.
    methods: HashMap<String, String>,
    /// Idempotency key → (request parameters, status, response).
    idempotency: HashMap<String, Kept>,
    /// Every refund's parameters, in order.
    refunds: Vec<Vec<(String, String)>>,
    /// What the next refunds answer as their status (`succeeded` when unset).
    refund_status: Option<String>,
    /// The status the next POST answers instead of its own work (a test's fault).
    fault: Option<StatusCode>,
    /// Every idempotency key received, in order.
    pub(crate) keys: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Shared(Arc<Mutex<State>>);

#[derive(Debug)]
pub(crate) struct FakeStripe {
    pub(crate) base: String,
    state: Shared,
}

impl FakeStripe {
    pub(crate) async fn start() -> Self {
        let state = Shared::default();
        let app = Route::new()
            .at("/v1/checkout/sessions", post(create_session))
            .at("/v1/checkout/sessions/:id", get(retrieve_session))
            .at("/v1/refunds", post(create_refund))
            .at("/v1/payment_intents/:id", get(retrieve_intent))
            .data(state.clone());
        let acceptor = TcpListener::bind("127.0.0.1:0")
            .into_acceptor()
            .await
            .unwrap();
        let addr = acceptor.local_addr()[0].as_socket_addr().copied().unwrap();
        tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
        Self {
            base: format!("http://{addr}"),
            state,
        }
    }

    /// The next POST answers `status` as Stripe does: a 500 is kept under its idempotency key
    /// and replayed to every later request with that key; a 409 (the key in flight) is not.
    pub(crate) fn fail_next(&self, status: StatusCode) {
        self.state.0.lock().unwrap().fault = Some(status);
    }

    /// Refunds created from now on answer `status` (`pending`, `requires_action`, …), as
    /// Stripe does for payment methods whose refunds settle later.
    pub(crate) fn answer_refunds(&self, status: &str) {
        self.state.0.lock().unwrap().refund_status = Some(status.to_owned());
    }

    /// The parameters of every refund asked so far.
    pub(crate) fn refunds(&self) -> Vec<Vec<(String, String)>> {
        self.state.0.lock().unwrap().refunds.clone()
    }

    /// The idempotency keys received so far.
    pub(crate) fn keys(&self) -> Vec<String> {
        self.state.0.lock().unwrap().keys.clone()
    }

    pub(crate) fn pay(&self, id: &str) {
        self.pay_with(id, "card");
    }

    /// The member pays the session `id` with `method` (`card`, `konbini`, …).
    pub(crate) fn pay_with(&self, id: &str, method: &str) {
        let mut state = self.state.0.lock().unwrap();
        state.methods.insert(Self::intent_of(id), method.to_owned());
        let session = state
            .sessions
            .get_mut(id)
            .expect("a session the adapter created");
        session["status"] = json!("complete");
        session["payment_status"] = json!("paid");
        session["payment_intent"] = json!(Self::intent_of(id));
    }

    /// The PaymentIntent behind a paid session.
    pub(crate) fn payment_intent(&self, id: &str) -> String {
        Self::intent_of(id)
    }

    fn intent_of(id: &str) -> String {
        format!("pi_{}", &id[3..])
    }
}

fn error(message: &str) -> Response {
    Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .content_type("application/json")
        .body(json!({"error": {"type": "invalid_request_error", "message": message}}).to_string())
}

fn ok(body: &Value) -> Response {
    answer(StatusCode::OK, body)
}

fn answer(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .content_type("application/json")
        .body(body.to_string())
}

#[allow(
    clippy::result_large_err,
    reason = "a test server: the refusal is the response"
)]
fn check_headers(req: &Request, post: bool) -> Result<(), Response> {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    };
    if header("authorization") != format!("Bearer {SECRET_KEY}") {
        return Err(Response::builder()
            .status(StatusCode::UNAUTHORIZED)
            .body("{\"error\":{\"message\":\"Invalid API Key provided\"}}"));
    }
    if header("stripe-version") != PINNED_VERSION {
        return Err(error(
            "the adapter must pin Stripe-Version to the version it was written against",
        ));
    }
    if post {
        if !header("content-type").starts_with("application/x-www-form-urlencoded") {
            return Err(error("POST bodies must be form-encoded"));
        }
        if header("idempotency-key").is_empty() || header("idempotency-key").len() > 255 {
            return Err(error(
                "every POST must carry an Idempotency-Key of at most 255 characters",
            ));
        }
    }
    Ok(())
}

fn parse_form(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

/// Replays an idempotent response, or refuses a key reused with other parameters; else answers
/// a fault a test asked for (a 500 kept under the key, as Stripe keeps it).
fn replay(state: &mut State, key: &str, form: &[(String, String)]) -> Option<Response> {
    state.keys.push(key.to_owned());
    if let Some((params, status, response)) = state.idempotency.get(key) {
        return Some(if params == form {
            answer(*status, response)
        } else {
            error(
                "Keys for idempotent requests can only be used with the same parameters they were first used with",
            )
        });
    }
    let status = state.fault.take()?;
    let body = json!({"error": {"type": "api_error", "message": "fault"}});
    if status.is_server_error() {
        state
            .idempotency
            .insert(key.to_owned(), (form.to_vec(), status, body.clone()));
    }
    Some(answer(status, &body))
}

fn validate_session(sent: &[(String, String)], form: &HashMap<&str, &str>) -> Result<(), String> {
    schema::check("POST /v1/checkout/sessions", sent)?;
    if form.get("mode") != Some(&"payment") {
        return Err("mode must be payment".into());
    }
    for required in [
        "success_url",
        "cancel_url",
        "client_reference_id",
        "line_items[0][quantity]",
    ] {
        if form.get(required).is_none_or(|v| v.is_empty()) {
            return Err(format!("Missing required param: {required}"));
        }
    }
    if form
        .get("client_reference_id")
        .is_some_and(|v| v.len() > 200)
    {
        return Err("client_reference_id must be at most 200 characters".into());
    }
    let mut i = 0;
    while let Some(quantity) = form.get(format!("line_items[{i}][quantity]").as_str()) {
        let currency = form
            .get(format!("line_items[{i}][price_data][currency]").as_str())
            .copied()
            .unwrap_or("");
        let amount = form
            .get(format!("line_items[{i}][price_data][unit_amount]").as_str())
            .copied()
            .unwrap_or("");
        let name = form
            .get(format!("line_items[{i}][price_data][product_data][name]").as_str())
            .copied()
            .unwrap_or("");
        if quantity.parse::<u32>().map_or(true, |q| q == 0) {
            return Err(format!(
                "line_items[{i}][quantity] must be a positive integer"
            ));
        }
        if currency.len() != 3 || currency != currency.to_ascii_lowercase() {
            return Err(format!(
                "line_items[{i}][price_data][currency] must be a lowercase ISO code"
            ));
        }
        if amount.parse::<u64>().is_err() {
            return Err(format!(
                "line_items[{i}][price_data][unit_amount] must be a non-negative integer"
            ));
        }
        if name.is_empty() {
            return Err(format!(
                "line_items[{i}][price_data][product_data][name] is required"
            ));
        }
        i += 1;
    }
    Ok(())
}

/// A refund as Stripe's API reference documents its parameters (those the adapter may send).
fn validate_refund(sent: &[(String, String)], form: &HashMap<&str, &str>) -> Result<(), String> {
    schema::check("POST /v1/refunds", sent)?;
    if !form
        .get("payment_intent")
        .is_some_and(|v| v.starts_with("pi_"))
    {
        return Err("Missing required param: payment_intent".into());
    }
    if let Some(amount) = form.get("amount")
        && amount.parse::<u64>().map_or(true, |a| a == 0)
    {
        return Err("amount must be a positive integer".into());
    }
    Ok(())
}

#[handler]
async fn create_session(req: &Request, body: String, state: Data<&Shared>) -> Response {
    if let Err(refusal) = check_headers(req, true) {
        return refusal;
    }
    let form = parse_form(&body);
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut state = state.0.0.lock().unwrap();
    if let Some(response) = replay(&mut state, &key, &form) {
        return response;
    }
    let map: HashMap<&str, &str> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if let Err(message) = validate_session(&form, &map) {
        return error(&message);
    }
    let id = format!("cs_test_{}", state.sessions.len() + 1);
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "url": format!("https://checkout.stripe.com/c/pay/{id}"),
        "status": "open",
        "payment_status": "unpaid",
        "payment_intent": null,
        "client_reference_id": map["client_reference_id"],
    });
    state.sessions.insert(id, session.clone());
    state
        .idempotency
        .insert(key, (form, StatusCode::OK, session.clone()));
    ok(&session)
}

#[handler]
async fn retrieve_session(req: &Request, Path(id): Path<String>, state: Data<&Shared>) -> Response {
    if let Err(refusal) = check_headers(req, false) {
        return refusal;
    }
    match state.0.0.lock().unwrap().sessions.get(&id) {
        Some(session) => ok(session),
        None => Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("{\"error\":{\"message\":\"No such checkout.session\"}}"),
    }
}

/// A PaymentIntent; its latest charge is an ID unless expanded (`expand[]=latest_charge`),
/// as Stripe answers.
#[handler]
async fn retrieve_intent(req: &Request, Path(id): Path<String>, state: Data<&Shared>) -> Response {
    if let Err(refusal) = check_headers(req, false) {
        return refusal;
    }
    let expanded = parse_form(req.uri().query().unwrap_or(""))
        .iter()
        .any(|(k, v)| k == "expand[]" && v == "latest_charge");
    let state = state.0.0.lock().unwrap();
    let Some(method) = state.methods.get(&id) else {
        return Response::builder()
            .status(StatusCode::NOT_FOUND)
            .body("{\"error\":{\"message\":\"No such payment_intent\"}}");
    };
    let charge = format!("ch_{}", &id[3..]);
    let latest_charge = if expanded {
        json!({"id": charge, "object": "charge", "payment_method_details": {"type": method}})
    } else {
        json!(charge)
    };
    ok(
        &json!({"id": id, "object": "payment_intent", "status": "succeeded",
               "latest_charge": latest_charge}),
    )
}

#[handler]
async fn create_refund(req: &Request, body: String, state: Data<&Shared>) -> Response {
    if let Err(refusal) = check_headers(req, true) {
        return refusal;
    }
    let form = parse_form(&body);
    let key = req
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let mut state = state.0.0.lock().unwrap();
    if let Some(response) = replay(&mut state, &key, &form) {
        return response;
    }
    let map: HashMap<&str, &str> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    if let Err(message) = validate_refund(&form, &map) {
        return error(&message);
    }
    let intent = map["payment_intent"].to_owned();
    let refund = json!({
        "id": format!("re_{}", state.refunds.len() + 1),
        "object": "refund",
        "payment_intent": intent,
        "amount": map.get("amount").and_then(|a| a.parse::<u64>().ok()),
        "reason": map.get("reason"),
        "currency": "jpy",
        "metadata": {"order_id": map.get("metadata[order_id]")},
        "status": state.refund_status.clone().unwrap_or_else(|| "succeeded".to_owned()),
    });
    state.refunds.push(form.clone());
    state
        .idempotency
        .insert(key, (form, StatusCode::OK, refund.clone()));
    ok(&refund)
}
