//! Ports of the shop: the catalogue, orders with their payments, and the payment gateway.

use async_trait::async_trait;

use crate::shop::receipt::{DueReturn, Receipt, ReceiptDraft, ReturnDraft, ReturnInvoice};

use crate::{
    Email, EventOutcome, Language, MemberId, Money, Order, OrderId, Payment, PaymentEvent,
    PaymentId, PaymentSignal, Product, ProductId, Purchase, PurchaseCursor, Sku, StoreError,
    Timestamp,
};

/// The catalogue.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Catalog: Send + Sync + 'static {
    /// Stores new products and replaces existing ones (matched by ID), all or none.
    ///
    /// MUST store every product or none (one transaction). MUST refuse two products with one
    /// SKU.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when a SKU belongs to another product.
    async fn save_all(&self, products: &[Product]) -> Result<(), StoreError>;

    /// The product with this ID, active or not.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: ProductId) -> Result<Option<Product>, StoreError>;

    /// The product with this SKU, active or not.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_sku(&self, sku: &Sku) -> Result<Option<Product>, StoreError>;

    /// Active products ordered by SKU, starting after `after`, at most `limit`. MUST NOT list
    /// inactive products.
    ///
    /// # Errors
    /// When storage fails.
    async fn active(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError>;

    /// Every product, on sale or not, ordered by SKU, starting after `after`, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError>;

    /// Active products whose titles or descriptions, folded ([`crate::shop::search::keys`]),
    /// contain the folded `query`, ranked by [`crate::shop::search::rank`] (title matches first,
    /// then the earlier match, then the shorter title) and then by SKU, at most `limit`. MUST
    /// find a query of one or two characters too. MUST NOT list inactive products.
    ///
    /// # Errors
    /// When storage fails.
    async fn search(
        &self,
        query: &crate::shop::search::SearchQuery,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError>;
    /// A number that changes with every change of the catalogue, made by any process sharing
    /// the storage (so that a [`crate::shop::storefront::Storefront`] notices it). MUST change
    /// in the same transaction as the change ([`Catalog::save_all`]) and MUST never go back.
    ///
    /// # Errors
    /// When storage fails.
    async fn version(&self) -> Result<u64, StoreError>;
}

/// Orders and their payment attempts.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Orders: Send + Sync + 'static {
    /// Stores a new order with its payment attempt, both or neither.
    ///
    /// MUST refuse a second order of one member with the same idempotency key, even when both
    /// arrive at once: exactly one is stored.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a repeated idempotency key or ID.
    async fn create(&self, order: &Order, payment: &Payment) -> Result<(), StoreError>;

    /// The order with this ID and its payment.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: OrderId) -> Result<Option<(Order, Payment)>, StoreError>;

    /// The member's order placed with this idempotency key.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_idempotency_key(
        &self,
        member: MemberId,
        key: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError>;

    /// The order whose payment has this provider reference.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError>;

    /// Records the provider's checkout for a payment.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown payment; [`StoreError::Conflict`] when another
    /// payment has the reference.
    async fn attach_checkout(
        &self,
        payment: PaymentId,
        reference: &str,
        url: &str,
    ) -> Result<(), StoreError>;

    /// Applies a provider event exactly once, atomically: records its ID (a known ID is a
    /// [`EventOutcome::Duplicate`] and changes nothing), finds the payment whose checkout
    /// reference or payment reference is the event's reference (and records the event's
    /// payment reference on it when it has none yet), asks [`crate::shop::order::step`] what the
    /// event does — given the payment's status and whether its order was paid before — and
    /// persists exactly that: the new status of the payment and the order with a history entry
    /// and, when the step says it is the first payment, the order's paid time and its receipt
    /// in the outbox ([`crate::mail::outbox::Envelope::receipt`], to the member as stored then;
    /// none when the member no longer exists) — all in one transaction. The store decides
    /// nothing itself.
    ///
    /// An event whose news is a refund or a dispute ([`crate::News::Case`]) is decided by
    /// [`crate::shop::standing::step_case`] instead, given the payment's cases kept before: the
    /// store keeps the case it answers (one per provider reference of the case, replaced as a
    /// whole) and persists its step the same way.
    ///
    /// MUST apply an event delivered many times at once exactly once. MUST NOT record an event
    /// that names no known payment, so that its redelivery applies once the checkout is known.
    ///
    /// # Errors
    /// When storage fails; then nothing of the event is kept, so a redelivery applies it.
    async fn apply_event(
        &self,
        event: &PaymentEvent,
        at: Timestamp,
    ) -> Result<EventOutcome, StoreError>;

    /// The member's purchased items (of paid or refunded orders), newest first, after
    /// `after`, at most `limit`. MUST NOT include other members' purchases.
    ///
    /// # Errors
    /// When storage fails.
    async fn purchases(
        &self,
        member: MemberId,
        after: Option<PurchaseCursor>,
        limit: u32,
    ) -> Result<Vec<Purchase>, StoreError>;

    /// The member's payments, newest first (by ID), before `before`, at most `limit`, each
    /// with its history. MUST NOT include other members' payments.
    ///
    /// # Errors
    /// When storage fails.
    async fn payments(
        &self,
        member: MemberId,
        before: Option<PaymentId>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError>;

    /// The products the member owns (in a paid order), each once.
    ///
    /// # Errors
    /// When storage fails.
    async fn owned(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError>;

    /// The products of the member's disputed orders, each once: bought, but withheld until the
    /// dispute closes.
    ///
    /// # Errors
    /// When storage fails.
    async fn withheld(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError>;

    /// Refunds and disputes the operators must look at ([`crate::CaseState::needs_attention`]),
    /// with their orders, the most recently reported first, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn cases_needing_attention(
        &self,
        limit: u32,
    ) -> Result<Vec<(OrderId, crate::Case)>, StoreError>;
}

/// One line of a hosted checkout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutLine {
    /// The title the member sees at the provider.
    pub title: String,
    /// The tax-inclusive unit price.
    pub unit_price: Money,
    /// How many.
    pub quantity: u32,
}

/// What the gateway needs to open a hosted checkout. These are the only data the payment
/// processor is entrusted with: the order reference, amounts, item titles, and the member's
/// address only when the operator configured it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutRequest {
    /// Our order (sent as the client reference; also the idempotency key).
    pub order_id: OrderId,
    /// The items.
    pub lines: Vec<CheckoutLine>,
    /// The total.
    pub total: Money,
    /// The member's address, only when configured to share it.
    pub customer_email: Option<Email>,
    /// The language of the checkout page.
    pub language: Language,
    /// Where the provider sends the member after paying.
    pub success_url: String,
    /// Where the provider sends the member after canceling.
    pub cancel_url: String,
}

/// The smallest and the largest amount a provider takes in one payment, in the currency's
/// minor unit (Stripe: ¥50 to ¥99,999,999, eight digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AmountLimits {
    /// The least.
    pub min: i64,
    /// The most.
    pub max: i64,
}

/// A refund the shop asks of the provider: an operator's decision, for the member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefundRequest {
    /// The order refunded (sent along, so the provider's records name it).
    pub order_id: OrderId,
    /// The checkout whose payment is refunded.
    pub reference: String,
    /// How much.
    pub amount: Money,
    /// How many refunds of this payment were asked before (each failed or was canceled, or the
    /// payment would not be refundable): a retry of the same attempt is the same refund at the
    /// provider, a new attempt is a new one.
    pub attempt: u32,
    /// The member's address, only when it may be entrusted to the provider: where a provider
    /// sends the instructions of a refund the member must act on (Stripe: konbini payments,
    /// refunded to a bank account the member gives). `None` otherwise.
    pub email: Option<Email>,
}

/// What a provider says about a checkout that is no longer open (see
/// [`PaymentGateway::checkout_status`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckoutState {
    /// What happened to it.
    pub signal: PaymentSignal,
    /// The provider's reference of the payment behind it, when it names one (Stripe's
    /// PaymentIntent): later events about the payment (a refund, a dispute) name it alone, so
    /// reconciliation must learn it as the completion event would have.
    pub payment_ref: Option<String>,
}

/// A hosted checkout the member is sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkout {
    /// The provider's reference.
    pub reference: String,
    /// The page where the member pays.
    pub url: String,
}

/// A webhook as received: the raw body and the headers (names in lower case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundWebhook {
    /// The body, byte for byte.
    pub body: Vec<u8>,
    /// The headers, names in lower case.
    pub headers: Vec<(String, String)>,
}

impl InboundWebhook {
    /// The first header with this (lower-case) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A webhook was refused. Nothing is changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    /// No signature, or none that matches any configured secret.
    #[error("the webhook signature is missing or wrong")]
    BadSignature,
    /// The signed timestamp is outside the tolerance (a replay).
    #[error("the webhook is too old or from the future")]
    Stale,
    /// Signed, but not a well-formed event.
    #[error("the webhook body is malformed: {0}")]
    Malformed(String),
}

/// The payment provider failed.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// It could not be reached or is down; retrying later may work.
    #[error("the payment provider is unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// It refused the request.
    #[error("the payment provider refused the request: {0}")]
    Rejected(String),
}

/// What a tester chooses on the sandbox's checkout page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxOutcome {
    /// Pay.
    Pay,
    /// Decline (the payment fails).
    Decline,
    /// Cancel.
    Cancel,
}

/// A payment provider with a hosted checkout.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PaymentGateway: Send + Sync + 'static {
    /// The provider's name (`sandbox`, `stripe`), as stored with payments.
    fn provider(&self) -> &'static str;

    /// Opens a hosted checkout. Retrying with the same order MUST NOT open a second one at the
    /// provider (the order ID is the idempotency key). MUST NOT send anything but the request's
    /// fields.
    ///
    /// # Errors
    /// [`GatewayError`].
    async fn create_checkout(&self, request: &CheckoutRequest) -> Result<Checkout, GatewayError>;

    /// What the provider takes in one payment in `currency`: an order outside it is refused
    /// before anything is stored or sent. `None` when the provider sets no limit.
    fn amount_limits(&self, currency: crate::Currency) -> Option<AmountLimits> {
        let _ = currency;
        None
    }

    /// Verifies a webhook's signature against the raw body and parses it. `Ok(None)` is a
    /// genuine event of a kind the shop does not act on.
    ///
    /// # Errors
    /// [`WebhookError`]; MUST refuse a wrong or missing signature and a stale timestamp.
    fn verify_webhook(
        &self,
        webhook: &InboundWebhook,
        now: Timestamp,
    ) -> Result<Option<PaymentEvent>, WebhookError>;

    /// What the provider says now about a checkout (reconciliation): `None` while it is still
    /// open.
    ///
    /// # Errors
    /// [`GatewayError`].
    async fn checkout_status(&self, reference: &str)
    -> Result<Option<CheckoutState>, GatewayError>;

    /// Refunds a checkout's payment (the shop asks for the full amount) and answers the refund
    /// as the provider reports it: its reference and state (often `Pending` at first; it
    /// settles or fails later, reported by events).
    ///
    /// # Errors
    /// [`GatewayError`].
    async fn refund(&self, request: &RefundRequest) -> Result<crate::Case, GatewayError>;
}

/// A test provider's own checkout page, where a tester chooses what the member does. Only test
/// providers (the sandbox) offer it; a real provider implements [`PaymentGateway`] alone.
pub trait SimulatedCheckout: Send + Sync + 'static {
    /// The signed webhook the provider sends when the member chooses `outcome` at the checkout
    /// `reference`.
    fn simulate(&self, reference: &str, outcome: SandboxOutcome, now: Timestamp) -> InboundWebhook;
}

/// Receipts in storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Receipts: Send + Sync + 'static {
    /// Paid orders that have no receipt yet, the earliest paid first, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn unreceipted(&self, limit: u32) -> Result<Vec<Order>, StoreError>;

    /// Stores a receipt with the next number of the sequence. The number MUST be taken in
    /// the same transaction as the receipt is stored: numbers are 1, 2, 3, … with no gap and no
    /// repeat, however many nodes issue at once.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the order has a receipt already (nothing is numbered).
    async fn issue(&self, draft: &ReceiptDraft) -> Result<Receipt, StoreError>;

    /// The member's receipts, newest first. MUST NOT include other members'.
    ///
    /// # Errors
    /// When storage fails.
    async fn for_member(&self, member: MemberId) -> Result<Vec<Receipt>, StoreError>;

    /// The receipt with this number.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_number(&self, number: u64) -> Result<Option<Receipt>, StoreError>;

    /// Reissues the member's receipt `number` addressed to `recipient`: sets the name and
    /// counts one more reissue, nothing else (the number, items and amounts stay as issued).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the member has no receipt with this number.
    async fn reissue(
        &self,
        number: u64,
        member: MemberId,
        recipient: &str,
    ) -> Result<Receipt, StoreError>;

    /// Returns due a return invoice, whose sale has a receipt and that have no return invoice
    /// yet, the earliest receipt first, at most `limit`: each refund settled and each dispute
    /// lost (by the case's reference, its amount, and when it reached that state), and each
    /// order refunded or charged back whose payment has no case (the whole sale, `case: None`,
    /// returned when the payment last became so).
    ///
    /// # Errors
    /// When storage fails.
    async fn unreturned(&self, limit: u32) -> Result<Vec<DueReturn>, StoreError>;

    /// Stores a return invoice with the next number of the return invoices' sequence, taken
    /// in the same transaction (no gap, no repeat, as for receipts).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the order has a return invoice for this case (or, for
    /// `case: None`, one without a case) already (nothing is numbered).
    async fn issue_return(&self, draft: &ReturnDraft) -> Result<ReturnInvoice, StoreError>;

    /// The member's return invoices, newest first. MUST NOT include other members'.
    ///
    /// # Errors
    /// When storage fails.
    async fn returns_for_member(&self, member: MemberId) -> Result<Vec<ReturnInvoice>, StoreError>;

    /// The return invoice with this number.
    ///
    /// # Errors
    /// When storage fails.
    async fn return_by_number(&self, number: u64) -> Result<Option<ReturnInvoice>, StoreError>;
}
