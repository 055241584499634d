//! `kikeru-testkit`: what a test of Minna Kikeru needs besides storage — fast, deterministic
//! stand-ins for the non-storage ports (a clock you can move, counting randomness, a mailer that
//! keeps what it sends, a hasher that does no real work, a sealer with a fixed key, a payment
//! gateway that records its calls), sample settings, and a [`Harness`] of every use case built
//! by `Services::new` on the in-memory storage adapter. Never wire these into a running service.
//!
//! `cargo run -p kikeru-testkit --example embed` embeds the domain the same way, with one
//! adapter written in the example itself.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use data_encoding::BASE64_NOPAD;
use kikeru_domain::ports::{
    Clock, HasherError, Mail, MailError, Mailer, Message, PasswordHasher, Random, SealPurpose,
    Verification,
};
use kikeru_domain::{
    Adapters, Email, Membership, MembershipConfig, Password, PasswordAttempt, PasswordHashString,
    Services, SessionToken, Settings, Timestamp,
};

use kikeru_memory::MemoryStore;

/// A clock that stands still until moved.
#[derive(Debug)]
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    /// A clock showing `start`.
    pub fn new(start: Timestamp) -> Self {
        Self(Mutex::new(start))
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Distinct, predictable "random" bytes: a counter.
#[derive(Debug, Default)]
pub struct CountingRandom(AtomicU64);

impl Random for CountingRandom {
    fn bytes32(&self) -> [u8; 32] {
        let n = self.0.fetch_add(1, Ordering::Relaxed) + 1;
        let mut bytes = [0u8; 32];
        for chunk in bytes.chunks_mut(8) {
            chunk.copy_from_slice(&n.to_le_bytes());
        }
        bytes
    }
}

/// Keeps every mail it is given.
#[derive(Debug, Default)]
pub struct RecordingMailer(Mutex<Vec<Mail>>);

impl RecordingMailer {
    /// Every mail sent so far.
    pub fn sent(&self) -> Vec<Mail> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The token in the last mail to `to` that carries one.
    pub fn last_token_to(&self, to: &str) -> Option<SessionToken> {
        self.sent()
            .into_iter()
            .rev()
            .filter(|m| m.to.as_str() == to)
            .find_map(|m| match m.message {
                Message::VerifyEmail { token }
                | Message::ConfirmEmailChange { token }
                | Message::PasswordReset { token }
                | Message::AlreadyRegistered {
                    verify: Some(token),
                } => Some(token),
                _ => None,
            })
    }

    /// The kinds of the mails sent to `to`, oldest first.
    pub fn kinds_to(&self, to: &str) -> Vec<&'static str> {
        self.sent()
            .iter()
            .filter(|m| m.to.as_str() == to)
            .map(|m| m.message.kind())
            .collect()
    }
}

#[async_trait]
impl Mailer for RecordingMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(mail.clone());
        Ok(())
    }
}

/// The relying-party ID the harness's passkey verifier expects.
pub const TEST_RP_ID: &str = "localhost";
/// The origin the harness's passkey verifier expects (the HTTP tests' origin).
pub const TEST_ORIGIN: &str = "http://127.0.0.1:8080";

/// A "sealer" that only prefixes its key generation, the purpose and the context, so that
/// opening with another purpose or context fails; [`InsecureTestSealer::rotate`] starts a new
/// generation, as a key rotation does, and what older ones sealed still opens and is stale.
/// It hides nothing: tests only (the server seals with AES-256-GCM).
#[derive(Debug, Default)]
pub struct InsecureTestSealer(AtomicU8);

impl InsecureTestSealer {
    /// A new key: from now on everything is sealed under it.
    pub fn rotate(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }

    fn generation(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }

    fn prefix(generation: u8, purpose: SealPurpose, context: &[u8]) -> Vec<u8> {
        let purpose = match purpose {
            SealPurpose::StoredSecret => b's',
            SealPurpose::VisitorToken => b'v',
        };
        [&[generation, purpose][..], context].concat()
    }
}

impl kikeru_domain::ports::Sealer for InsecureTestSealer {
    fn seal(
        &self,
        purpose: SealPurpose,
        plain: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, kikeru_domain::ports::SealError> {
        Ok([
            Self::prefix(self.generation(), purpose, context),
            plain.to_vec(),
        ]
        .concat())
    }

    fn open(
        &self,
        purpose: SealPurpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, kikeru_domain::ports::SealError> {
        let generation = *sealed.first().ok_or(kikeru_domain::ports::SealError)?;
        if generation > self.generation() {
            return Err(kikeru_domain::ports::SealError);
        }
        sealed
            .strip_prefix(Self::prefix(generation, purpose, context).as_slice())
            .map(<[u8]>::to_vec)
            .ok_or(kikeru_domain::ports::SealError)
    }

    fn is_stale(&self, sealed: &[u8]) -> bool {
        sealed.first() != Some(&self.generation())
    }

    fn digests(&self, data: &[u8]) -> Vec<[u8; 32]> {
        (0..=self.generation())
            .rev()
            .map(|generation| {
                let mut digest = [0; 32];
                digest[0] = generation;
                for (i, byte) in data.iter().enumerate() {
                    digest[1 + i % 31] ^= byte.wrapping_add(0x5a);
                }
                digest
            })
            .collect()
    }
}

/// A "hasher" that stores the password encoded in a PHC string. Insecure by design: tests only.
#[derive(Debug, Default)]
pub struct InsecureTestHasher;

#[async_trait]
impl PasswordHasher for InsecureTestHasher {
    async fn hash(&self, password: &Password) -> Result<PasswordHashString, HasherError> {
        let phc = format!(
            "$insecure-test$c2FsdHNhbHQ${}",
            BASE64_NOPAD.encode(password.expose().as_bytes())
        );
        PasswordHashString::parse(&phc).map_err(|e| HasherError(Box::new(e)))
    }

    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHashString>,
    ) -> Result<Verification, HasherError> {
        // A real hasher hands the work to another thread and waits: requests sent together
        // interleave there, and so they do here.
        YieldOnce(false).await;
        let expected = hash.map(|h| h.as_str().rsplit('$').next().unwrap_or("").to_owned());
        let given = BASE64_NOPAD.encode(attempt.expose().as_bytes());
        Ok(if expected.as_deref() == Some(given.as_str()) {
            Verification::Match {
                needs_rehash: false,
            }
        } else {
            Verification::Mismatch
        })
    }
}

/// A future that is pending once (waking itself) and then ready: a yield to the executor.
#[derive(Debug)]
struct YieldOnce(bool);

impl std::future::Future for YieldOnce {
    type Output = ();

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// The settings the harness runs with: `membership` as given, the sandbox's sample seller,
/// Japan's tax rates, return addresses on loopback, and defaults elsewhere.
pub fn settings(membership: MembershipConfig) -> Settings {
    Settings {
        membership,
        shop: kikeru_domain::ShopConfig {
            success_url: "http://127.0.0.1:8080/checkout/complete?order_id={order_id}".to_owned(),
            cancel_url: "http://127.0.0.1:8080/checkout/canceled?order_id={order_id}".to_owned(),
            share_email_with_provider: false,
            tax: kikeru_domain::shop::tax::TaxRules::japan(),
        },
        contact: kikeru_domain::office::inquiry::ContactLimits::default(),
        postman: kikeru_domain::mail::postman::PostmanConfig::default(),
        seller: kikeru_domain::shop::legal::Seller::sample(),
        requests: kikeru_domain::privacy::requests::desk::RequestPolicy::default(),
        books: kikeru_domain::office::books::BookPolicy::default(),
    }
}

/// Every use case on in-memory adapters (built by [`Services::new`]), with handles on each
/// test double.
#[derive(Debug, Clone)]
pub struct Harness {
    /// The use cases.
    pub membership: Membership,
    /// The store behind every storage port.
    pub store: Arc<MemoryStore>,
    /// The clock.
    pub clock: Arc<ManualClock>,
    /// The mail delivered so far (see [`Harness::mail`]).
    pub mailer: Arc<RecordingMailer>,
    /// The postman delivering the outbox to `mailer`.
    pub postman: kikeru_domain::mail::postman::Postman,
    /// Inquiries (the contact form and mail to the service), on the same store.
    pub contact: kikeru_domain::office::inquiry::ContactDesk,
    /// The shop's use cases, on the same store.
    pub shop: kikeru_domain::Shop,
    /// The public catalogue in memory, over the same store.
    pub storefront: Arc<kikeru_domain::shop::storefront::Storefront>,
    /// The payment provider double.
    pub gateway: Arc<TestGateway>,
    /// The sealer (rotate its key to test re-sealing).
    pub sealer: Arc<InsecureTestSealer>,
    /// The office's use cases (operators), on the same store.
    pub office: kikeru_domain::office::service::Office,
    /// Consent to purposes, on the same store.
    pub consents: kikeru_domain::privacy::consent::ConsentDesk,
    /// Disclosures and the ledger, on the same store; the test provider is the one processor.
    pub disclosures: kikeru_domain::privacy::disclosure::DisclosureDesk,
    /// Requests under APPI.
    pub requests: kikeru_domain::privacy::requests::desk::RequestDesk,
    /// Versions of the privacy policy.
    pub policy: kikeru_domain::privacy::policy::desk::PolicyDesk,
    /// Mail for purposes.
    pub mailing: kikeru_domain::privacy::mailing::PurposeMailer,
    /// Receipts, issued as the sandbox's sample seller under Japan's rates.
    pub receipts: kikeru_domain::shop::receipt_desk::ReceiptDesk,
    /// Incidents and their notices, on the same store.
    pub incidents: kikeru_domain::office::incident::IncidentDesk,
    /// The books.
    pub books: kikeru_domain::office::books::BookKeeper,
}

impl Harness {
    /// A fresh harness at `now` with the default rules.
    pub fn new(now: Timestamp) -> Self {
        Self::with_config(now, MembershipConfig::default())
    }

    /// A fresh harness at `now` with `config`.
    pub fn with_config(now: Timestamp, config: MembershipConfig) -> Self {
        let store = Arc::new(MemoryStore::new());
        // The register: the test payment provider gets order details; mail gets the address
        // and the message.
        store.register_processor(kikeru_domain::privacy::Processor {
            key: "test".to_owned(),
            name: "Test payments".to_owned(),
            purpose: "payment".to_owned(),
            categories: [kikeru_domain::privacy::DataCategory::OrderDetails]
                .into_iter()
                .collect(),
        });
        store.register_processor(kikeru_domain::privacy::Processor {
            key: kikeru_domain::mail::outbox::MAIL_PROCESSOR.to_owned(),
            name: "Test mail".to_owned(),
            purpose: "mail".to_owned(),
            categories: kikeru_domain::mail::outbox::mail_categories(),
        });
        let clock = Arc::new(ManualClock::new(now));
        let sealer = Arc::new(InsecureTestSealer::default());
        let mailer = Arc::new(RecordingMailer::default());
        let gateway = Arc::new(TestGateway::default());
        let adapters = Adapters {
            store: store.clone(),
            unit: store.clone(),
            hasher: Arc::new(InsecureTestHasher),
            sealer: sealer.clone(),
            passkeys: Arc::new(kikeru_webauthn::Verifier::new(TEST_RP_ID, TEST_ORIGIN)),
            gateway: gateway.clone(),
            simulator: Some(gateway.clone()),
            mailer: mailer.clone(),
            clock: clock.clone(),
            random: Arc::new(CountingRandom::default()),
        };
        let Services {
            membership,
            shop,
            storefront,
            receipts,
            consents,
            disclosures,
            office,
            incidents,
            contact,
            requests,
            policy,
            mailing,
            postman,
            books,
        } = Services::new(&adapters, settings(config));
        Self {
            membership,
            store,
            clock,
            mailer,
            postman,
            contact,
            shop,
            storefront,
            gateway,
            sealer,
            office,
            consents,
            receipts,
            incidents,
            disclosures,
            requests,
            policy,
            mailing,
            books,
        }
    }

    /// The use cases, as one [`Services`] (for adapters that take the front door).
    pub fn services(&self) -> Services {
        Services {
            membership: self.membership.clone(),
            shop: self.shop.clone(),
            storefront: self.storefront.clone(),
            receipts: self.receipts.clone(),
            consents: self.consents.clone(),
            disclosures: self.disclosures.clone(),
            office: self.office.clone(),
            incidents: self.incidents.clone(),
            contact: self.contact.clone(),
            requests: self.requests.clone(),
            policy: self.policy.clone(),
            mailing: self.mailing.clone(),
            postman: self.postman.clone(),
            books: self.books.clone(),
        }
    }

    /// Delivers every mail due in the outbox, then returns the mail delivered so far.
    ///
    /// # Panics
    /// When the outbox fails (it is in memory: a bug).
    #[allow(clippy::expect_used, clippy::missing_panics_doc)]
    pub async fn mail(&self) -> &RecordingMailer {
        while self
            .postman
            .deliver_due()
            .await
            .expect("the in-memory outbox")
            .claimed()
            > 0
        {}
        &self.mailer
    }

    /// Parses an address (tests only).
    ///
    /// # Panics
    /// When `text` is not a valid address.
    #[allow(clippy::expect_used, clippy::missing_panics_doc)]
    pub fn email(text: &str) -> Email {
        Email::parse(text).expect("a valid test address")
    }
}

/// A payment provider double for tests: checkouts at `https://pay.test/{reference}`, webhooks
/// "signed" with the header `x-test-signature: valid` carrying `reference`, `signal` and `id`
/// as a query-like body (`id=…&reference=…&signal=paid`, and `payment_ref=…` when the event
/// names the payment behind the checkout, as Stripe's completion names its PaymentIntent).
/// Insecure by design.
#[derive(Debug, Default)]
pub struct TestGateway {
    outcomes: Mutex<std::collections::HashMap<String, kikeru_domain::PaymentSignal>>,
    refunds: Mutex<Vec<String>>,
    refund_emails: Mutex<Vec<Option<Email>>>,
    refund_state: Mutex<Option<kikeru_domain::RefundState>>,
    limits: Mutex<Option<kikeru_domain::shop::ports::AmountLimits>>,
    checkouts: std::sync::atomic::AtomicU32,
}

impl TestGateway {
    /// A webhook reporting `signal` about `reference`, with event ID `id`.
    pub fn webhook(
        id: &str,
        reference: &str,
        signal: &str,
    ) -> kikeru_domain::shop::ports::InboundWebhook {
        kikeru_domain::shop::ports::InboundWebhook {
            body: format!("id={id}&reference={reference}&signal={signal}").into_bytes(),
            headers: vec![("x-test-signature".to_owned(), "valid".to_owned())],
        }
    }

    /// A webhook reporting `case` of the payment `payment`, with event ID `id`
    /// (`signal=case&case=refund&state=pending&case_ref=…&amount=…`, and `reason` and
    /// `respond_by` in Unix seconds when the case has them).
    pub fn case_webhook(
        id: &str,
        payment: &str,
        case: &kikeru_domain::Case,
    ) -> kikeru_domain::shop::ports::InboundWebhook {
        let mut body = format!(
            "id={id}&reference={payment}&signal=case&case={}&state={}&case_ref={}&amount={}",
            case.state.kind(),
            case.state.state(),
            case.reference,
            case.amount.minor()
        );
        if let Some(reason) = &case.reason {
            body.push_str(&format!("&reason={reason}"));
        }
        if let Some(by) = case.respond_by {
            body.push_str(&format!("&respond_by={}", by.unix_timestamp()));
        }
        kikeru_domain::shop::ports::InboundWebhook {
            body: body.into_bytes(),
            headers: vec![("x-test-signature".to_owned(), "valid".to_owned())],
        }
    }

    /// From now on refunds are answered in `state` (they settle at once, `Succeeded`, until
    /// this is called).
    pub fn answer_refunds(&self, state: kikeru_domain::RefundState) {
        *self
            .refund_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(state);
    }

    /// From now on the provider takes only amounts within `limits` in one payment.
    pub fn limit_amounts(&self, limits: kikeru_domain::shop::ports::AmountLimits) {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner) = Some(limits);
    }

    /// How many checkouts were opened.
    pub fn checkouts_opened(&self) -> u32 {
        self.checkouts.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The address each refund asked so far carried for the refund's instructions.
    pub fn refund_emails(&self) -> Vec<Option<Email>> {
        self.refund_emails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The checkouts refunded so far.
    pub fn refunds(&self) -> Vec<String> {
        self.refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

#[async_trait]
impl kikeru_domain::shop::ports::PaymentGateway for TestGateway {
    fn provider(&self) -> &'static str {
        "test"
    }

    async fn create_checkout(
        &self,
        request: &kikeru_domain::shop::ports::CheckoutRequest,
    ) -> Result<kikeru_domain::shop::ports::Checkout, kikeru_domain::shop::ports::GatewayError>
    {
        self.checkouts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let reference = format!("chk_{}", request.order_id);
        Ok(kikeru_domain::shop::ports::Checkout {
            url: format!("https://pay.test/{reference}"),
            reference,
        })
    }

    fn amount_limits(
        &self,
        _currency: kikeru_domain::Currency,
    ) -> Option<kikeru_domain::shop::ports::AmountLimits> {
        *self.limits.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn verify_webhook(
        &self,
        webhook: &kikeru_domain::shop::ports::InboundWebhook,
        _now: Timestamp,
    ) -> Result<Option<kikeru_domain::PaymentEvent>, kikeru_domain::shop::ports::WebhookError> {
        use kikeru_domain::PaymentSignal as S;
        use kikeru_domain::shop::ports::WebhookError;
        if webhook.header("x-test-signature") != Some("valid") {
            return Err(WebhookError::BadSignature);
        }
        let body = String::from_utf8(webhook.body.clone())
            .map_err(|e| WebhookError::Malformed(e.to_string()))?;
        let field = |name: &str| {
            body.split('&')
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .map(str::to_owned)
        };
        let malformed =
            || WebhookError::Malformed("id, reference and signal are required".to_owned());
        let news = match field("signal").ok_or_else(malformed)?.as_str() {
            "case" => {
                let state = kikeru_domain::CaseState::from_names(
                    &field("case").unwrap_or_default(),
                    &field("state").unwrap_or_default(),
                )
                .ok_or_else(|| WebhookError::Malformed("an unknown case state".to_owned()))?;
                let amount = field("amount")
                    .and_then(|a| a.parse().ok())
                    .and_then(|a| kikeru_domain::Money::new(a, kikeru_domain::Currency::Jpy).ok())
                    .ok_or_else(|| WebhookError::Malformed("a case needs its amount".to_owned()))?;
                kikeru_domain::News::Case(kikeru_domain::Case {
                    reference: field("case_ref").ok_or_else(malformed)?,
                    state,
                    amount,
                    reason: field("reason"),
                    respond_by: field("respond_by")
                        .and_then(|s| s.parse().ok())
                        .and_then(|s| Timestamp::from_unix_timestamp(s).ok()),
                })
            }
            "paid" => S::Succeeded.into(),
            "failed" => S::Failed.into(),
            "expired" => S::Expired.into(),
            "canceled" => S::Canceled.into(),
            "refunded" => S::Refunded.into(),
            _ => return Ok(None),
        };
        Ok(Some(kikeru_domain::PaymentEvent {
            event_id: field("id").ok_or_else(malformed)?,
            provider: "test".to_owned(),
            reference: field("reference").ok_or_else(malformed)?,
            payment_ref: field("payment_ref"),
            news,
        }))
    }

    async fn checkout_status(
        &self,
        reference: &str,
    ) -> Result<
        Option<kikeru_domain::shop::ports::CheckoutState>,
        kikeru_domain::shop::ports::GatewayError,
    > {
        // Like Stripe, a paid checkout names its payment apart (`pay-<reference>`), which later
        // events about the payment alone name.
        Ok(self
            .outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(reference)
            .map(|&signal| kikeru_domain::shop::ports::CheckoutState {
                signal,
                payment_ref: (signal == kikeru_domain::PaymentSignal::Succeeded)
                    .then(|| format!("pay-{reference}")),
            }))
    }

    async fn refund(
        &self,
        request: &kikeru_domain::shop::ports::RefundRequest,
    ) -> Result<kikeru_domain::Case, kikeru_domain::shop::ports::GatewayError> {
        self.refunds
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.reference.clone());
        self.refund_emails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(request.email.clone());
        let state = self
            .refund_state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or(kikeru_domain::RefundState::Succeeded);
        Ok(kikeru_domain::Case {
            reference: format!("re-{}-{}", request.reference, request.attempt),
            state: kikeru_domain::CaseState::Refund(state),
            amount: request.amount,
            reason: None,
            respond_by: None,
        })
    }
}

impl kikeru_domain::shop::ports::SimulatedCheckout for TestGateway {
    fn simulate(
        &self,
        reference: &str,
        outcome: kikeru_domain::shop::ports::SandboxOutcome,
        _now: Timestamp,
    ) -> kikeru_domain::shop::ports::InboundWebhook {
        use kikeru_domain::shop::ports::SandboxOutcome as O;
        let (signal, name) = match outcome {
            O::Pay => (kikeru_domain::PaymentSignal::Succeeded, "paid"),
            O::Decline => (kikeru_domain::PaymentSignal::Failed, "failed"),
            O::Cancel => (kikeru_domain::PaymentSignal::Canceled, "canceled"),
        };
        self.outcomes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(reference.to_owned(), signal);
        Self::webhook(&format!("sim-{reference}-{name}"), reference, name)
    }
}
