//! The shop's use cases: the catalogue, placing an order and sending the member to the hosted
//! checkout, applying the provider's webhooks exactly once, reconciling with the provider, and
//! what the member sees of their purchases, payments and library.
//!
//! Nothing here ever holds card data: the member pays on the provider's page, and the shop only
//! ever knows the provider's checkout reference and what the provider reports.

use std::collections::HashSet;
use std::sync::Arc;

use uuid::Uuid;

use crate::kernel::ports::{Clock, Random};
use crate::shop::order::{NotRefundable, check_refundable};
use crate::shop::ports::{
    Catalog, CheckoutLine, CheckoutRequest, InboundWebhook, Orders, PaymentGateway, SandboxOutcome,
    SimulatedCheckout,
};
use crate::{
    AssetKey, EventOutcome, Member, MemberId, Order, OrderId, OrderLine, Payment, PaymentEvent,
    PaymentId, PaymentStatus, Product, ProductDraft, ProductId, Purchase, PurchaseCursor, Sku,
    StatusChange, StoreError, Timestamp,
};

/// The most items one order may hold.
pub const MAX_ITEMS: usize = 20;
/// The longest idempotency key accepted.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// The most products one import may hold.
pub const MAX_IMPORT: usize = 10_000;

pub use errors::{ImportError, LookupError, OrderError, RefundError, WebhookFailure};

mod errors;

/// The adapters the shop runs on.
#[derive(Clone)]
pub struct ShopPorts {
    /// The catalogue.
    pub catalog: Arc<dyn Catalog>,
    /// Orders and payments.
    pub orders: Arc<dyn Orders>,
    /// The payment provider.
    pub gateway: Arc<dyn PaymentGateway>,
    /// The test provider's checkout page, when the provider is one (the sandbox); `None` for a
    /// real provider.
    pub simulator: Option<Arc<dyn SimulatedCheckout>>,
    /// The register of entrusted processors (the provider is registered by its name).
    pub processors: Arc<dyn crate::privacy::ports::Processors>,
    /// The members (a refund's instructions go to the member's address, where entrusted).
    pub members: Arc<dyn crate::membership::ports::Members>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for ShopPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopPorts")
            .field("provider", &self.gateway.provider())
            .finish_non_exhaustive()
    }
}

/// The shop's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShopConfig {
    /// Where the provider sends a member after paying; `{order_id}` is replaced.
    pub success_url: String,
    /// Where the provider sends a member who canceled; `{order_id}` is replaced.
    pub cancel_url: String,
    /// Whether the member's address is sent to the payment provider (for its receipts). A
    /// checkout that would send a category the register does not entrust to the provider is
    /// refused before anything is stored or sent.
    pub share_email_with_provider: bool,
    /// Consumption tax: the rates by date and the rounding rule.
    pub tax: crate::shop::tax::TaxRules,
}

/// The facts of an order before it is placed (the final confirmation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    /// What would be bought, at today's tax-inclusive prices.
    pub lines: Vec<OrderLine>,
    /// The tax-inclusive total.
    pub total: crate::Money,
    /// The tax in it, per rate.
    pub tax: crate::shop::tax::TaxBreakdown,
}

/// An order placed (or found again by its idempotency key).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacedOrder {
    /// The order.
    pub order: Order,
    /// Its payment attempt.
    pub payment: Payment,
    /// Where to send the member to pay.
    pub checkout_url: String,
}

/// What an import changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Products added.
    pub created: usize,
    /// Products changed.
    pub updated: usize,
    /// Products already as described.
    pub unchanged: usize,
}

/// The shop's use cases.
#[derive(Debug, Clone)]
pub struct Shop {
    ports: ShopPorts,
    config: ShopConfig,
    storefront: Arc<storefront::Storefront>,
}

impl Shop {
    /// Builds the use cases on their adapters.
    pub fn new(ports: ShopPorts, config: ShopConfig) -> Self {
        let storefront = Arc::new(storefront::Storefront::new(
            ports.catalog.clone(),
            ports.clock.clone(),
        ));
        Self {
            ports,
            config,
            storefront,
        }
    }

    /// The public catalogue in memory, refreshed after every import made here.
    pub fn storefront(&self) -> Arc<storefront::Storefront> {
        self.storefront.clone()
    }

    /// The payment provider's name.
    pub fn provider(&self) -> &'static str {
        self.ports.gateway.provider()
    }

    /// Products on sale, by SKU, after `after`, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn products(
        &self,
        after: Option<Sku>,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError> {
        self.ports.catalog.active(after, limit).await
    }

    /// Every product, on sale or not (for operators), by SKU.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn all_products(
        &self,
        after: Option<Sku>,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError> {
        self.ports.catalog.all(after, limit).await
    }

    /// A product on sale.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn product(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self
            .ports
            .catalog
            .by_id(id)
            .await?
            .filter(|p| p.draft.active))
    }

    /// A product's public sample.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] when the product is not on sale or has no sample.
    pub async fn sample(&self, id: ProductId) -> Result<AssetKey, LookupError> {
        self.product(id)
            .await?
            .and_then(|p| p.draft.sample)
            .ok_or(LookupError::NotFound)
    }

    /// Adds and updates products by SKU, all or none.
    ///
    /// # Errors
    /// [`ImportError`]; nothing is changed then.
    pub async fn import(&self, drafts: Vec<ProductDraft>) -> Result<ImportSummary, ImportError> {
        if drafts.is_empty() || drafts.len() > MAX_IMPORT {
            return Err(ImportError::Size);
        }
        let mut seen = HashSet::new();
        for draft in &drafts {
            if !seen.insert(draft.sku.clone()) {
                return Err(ImportError::DuplicateSku(draft.sku.as_str().to_owned()));
            }
        }
        let now = self.ports.clock.now();
        let mut summary = ImportSummary::default();
        let mut changed = Vec::new();
        for draft in drafts {
            match self.ports.catalog.by_sku(&draft.sku).await? {
                Some(existing) if existing.draft == draft => summary.unchanged += 1,
                Some(existing) => {
                    summary.updated += 1;
                    changed.push(Product {
                        draft,
                        updated_at: now,
                        ..existing
                    });
                }
                None => {
                    summary.created += 1;
                    let id = ProductId::from_uuid(self.new_uuid(now));
                    changed.push(Product {
                        id,
                        draft,
                        created_at: now,
                        updated_at: now,
                    });
                }
            }
        }
        if !changed.is_empty() {
            self.ports.catalog.save_all(&changed).await?;
            // Shown here at once; should this refresh fail, the next timed one catches up.
            self.storefront.refresh().await.ok();
        }
        Ok(summary)
    }

    /// Places an order for `products` and opens the hosted checkout. With an idempotency key,
    /// a retry returns the same order (and resumes its checkout if opening it failed before).
    ///
    /// # Errors
    /// [`OrderError`] saying what is wrong; nothing is stored unless the order is valid.
    pub async fn place_order(
        &self,
        member: &Member,
        products: &[ProductId],
        key: Option<&str>,
    ) -> Result<PlacedOrder, OrderError> {
        if !member.is_verified() {
            return Err(OrderError::NotVerified);
        }
        if let Some(key) = key
            && (key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY)
        {
            return Err(OrderError::BadIdempotencyKey);
        }
        self.check_entrusted().await?;
        let unique: HashSet<_> = products.iter().collect();
        if products.is_empty() || products.len() > MAX_ITEMS || unique.len() != products.len() {
            return Err(OrderError::BadItems);
        }
        if let Some(key) = key
            && let Some((order, payment)) =
                self.ports.orders.by_idempotency_key(member.id, key).await?
        {
            return self.resume(member, order, payment, products).await;
        }
        let (lines, total, tax) = self.lines_for(member, products).await?;
        self.check_amount(total)?;
        let now = self.ports.clock.now();
        let order = Order {
            id: OrderId::from_uuid(self.new_uuid(now)),
            member_id: member.id,
            lines,
            total,
            taxes: tax.per_rate,
            status: PaymentStatus::Open,
            idempotency_key: key.map(str::to_owned),
            created_at: now,
            paid_at: None,
        };
        let payment = Payment {
            id: PaymentId::from_uuid(self.new_uuid(now)),
            order_id: order.id,
            member_id: member.id,
            provider: self.provider().to_owned(),
            reference: None,
            checkout_url: None,
            payment_ref: None,
            amount: total,
            status: PaymentStatus::Open,
            cases: Vec::new(),
            history: vec![StatusChange {
                status: PaymentStatus::Open,
                at: now,
                event_id: None,
            }],
            created_at: now,
        };
        match self.ports.orders.create(&order, &payment).await {
            Ok(()) => self.open_checkout(member, order, payment).await,
            Err(StoreError::Conflict) if key.is_some() => {
                // The same key raced in from another request: answer with that order.
                let existing = self
                    .ports
                    .orders
                    .by_idempotency_key(member.id, key.unwrap_or_default())
                    .await?;
                let (order, payment) = existing.ok_or(StoreError::Conflict)?;
                self.resume(member, order, payment, products).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The lines and total of an order for `products` now: each on sale, not owned yet, at
    /// its current tax-inclusive price.
    async fn lines_for(
        &self,
        member: &Member,
        products: &[ProductId],
    ) -> Result<(Vec<OrderLine>, crate::Money, crate::shop::tax::TaxBreakdown), OrderError> {
        let owned: HashSet<ProductId> = self
            .ports
            .orders
            .owned(member.id)
            .await?
            .into_iter()
            .collect();
        let mut lines = Vec::with_capacity(products.len());
        for id in products {
            let product = self
                .ports
                .catalog
                .by_id(*id)
                .await?
                .filter(|p| p.draft.active)
                .ok_or(OrderError::NotOnSale(*id))?;
            if owned.contains(id) {
                return Err(OrderError::AlreadyOwned(*id));
            }
            lines.push(OrderLine {
                product_id: product.id,
                sku: product.draft.sku.clone(),
                title: product.draft.title.clone(),
                unit_price: product.draft.price,
                quantity: 1,
                // Set from today's rates below.
                tax_rate: 0,
            });
        }
        let currency = lines
            .first()
            .map(|l| l.unit_price.currency())
            .ok_or(OrderError::BadItems)?;
        let mut total = crate::Money::zero(currency);
        for line in &lines {
            let amount = line
                .unit_price
                .times(line.quantity)
                .map_err(|_| OrderError::MixedCurrencies)?;
            total = total
                .checked_add(amount)
                .map_err(|_| OrderError::MixedCurrencies)?;
        }
        // Today's rates (Japan time), rounded once per rate; each line keeps its rate.
        let today = self
            .ports
            .clock
            .now()
            .to_offset(time::macros::offset!(+9))
            .date();
        let taxed: Vec<crate::shop::tax::TaxLine> = lines
            .iter()
            .map(|l| crate::shop::tax::TaxLine {
                unit_price: l.unit_price.minor(),
                quantity: l.quantity,
                // Audio content is standard-rated.
                class: crate::shop::tax::RateClass::Standard,
            })
            .collect();
        let tax = self
            .config
            .tax
            .breakdown(today, &taxed)
            .map_err(|e| OrderError::Store(StoreError::Other(Box::new(e))))?;
        for (line, rate) in lines.iter_mut().zip(&tax.line_rates) {
            line.tax_rate = *rate;
        }
        Ok((lines, total, tax))
    }

    /// What the member is about to buy, before anything is stored or sent: the final
    /// confirmation (特定商取引法 第12条の6) shows these facts, and only an explicit
    /// confirmation then places the order. The tax is today's, per rate, rounded once.
    ///
    /// # Errors
    /// As [`Shop::place_order`] would refuse the same products (not verified, not on sale,
    /// owned, bad items).
    pub async fn quote(
        &self,
        member: &Member,
        products: &[ProductId],
    ) -> Result<Quote, OrderError> {
        if !member.is_verified() {
            return Err(OrderError::NotVerified);
        }
        let unique: HashSet<_> = products.iter().collect();
        if products.is_empty() || products.len() > MAX_ITEMS || unique.len() != products.len() {
            return Err(OrderError::BadItems);
        }
        let (lines, total, tax) = self.lines_for(member, products).await?;
        self.check_amount(total)?;
        Ok(Quote { lines, total, tax })
    }

    /// The total must be within what the provider takes in one payment (checked before the
    /// order is stored or the provider called, so the member hears it at once).
    fn check_amount(&self, total: crate::Money) -> Result<(), OrderError> {
        match self.ports.gateway.amount_limits(total.currency()) {
            Some(limits) if total.minor() < limits.min || total.minor() > limits.max => {
                Err(OrderError::AmountOutOfRange {
                    total: total.minor(),
                    min: limits.min,
                    max: limits.max,
                    currency: total.currency(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The address a refund's instructions may go to: the member's, only when the shop shares
    /// addresses with the provider and the register entrusts them to it (as for a checkout);
    /// none when the member is gone.
    async fn refund_email(&self, member: MemberId) -> Result<Option<crate::Email>, StoreError> {
        if !self.config.share_email_with_provider {
            return Ok(None);
        }
        let sent: crate::privacy::Categories = [crate::privacy::DataCategory::EmailAddress]
            .into_iter()
            .collect();
        let register = self.ports.processors.all().await?;
        if crate::privacy::not_entrusted(&register, self.provider(), &sent).is_some() {
            return Ok(None);
        }
        Ok(self.ports.members.by_id(member).await?.map(|m| m.email))
    }

    /// What a checkout sends the payment processor must be within what the register entrusts
    /// to it.
    async fn check_entrusted(&self) -> Result<(), OrderError> {
        let mut sent: crate::privacy::Categories = [crate::privacy::DataCategory::OrderDetails]
            .into_iter()
            .collect();
        if self.config.share_email_with_provider {
            sent.insert(crate::privacy::DataCategory::EmailAddress);
        }
        let register = self.ports.processors.all().await?;
        match crate::privacy::not_entrusted(&register, self.provider(), &sent) {
            Some(category) => Err(OrderError::NotEntrusted(category.as_str())),
            None => Ok(()),
        }
    }

    async fn resume(
        &self,
        member: &Member,
        order: Order,
        payment: Payment,
        products: &[ProductId],
    ) -> Result<PlacedOrder, OrderError> {
        let same: HashSet<_> = order.lines.iter().map(|l| l.product_id).collect();
        if same != products.iter().copied().collect() {
            return Err(OrderError::KeyReused);
        }
        match payment.checkout_url.clone() {
            Some(checkout_url) => Ok(PlacedOrder {
                order,
                payment,
                checkout_url,
            }),
            None => self.open_checkout(member, order, payment).await,
        }
    }

    async fn open_checkout(
        &self,
        member: &Member,
        order: Order,
        mut payment: Payment,
    ) -> Result<PlacedOrder, OrderError> {
        let fill = |url: &str| url.replace("{order_id}", &order.id.to_string());
        let request = CheckoutRequest {
            order_id: order.id,
            lines: order
                .lines
                .iter()
                .map(|l| CheckoutLine {
                    title: l.title.get(member.language).to_owned(),
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                })
                .collect(),
            total: order.total,
            customer_email: self
                .config
                .share_email_with_provider
                .then(|| member.email.clone()),
            language: member.language,
            success_url: fill(&self.config.success_url),
            cancel_url: fill(&self.config.cancel_url),
        };
        let checkout = self.ports.gateway.create_checkout(&request).await?;
        self.ports
            .orders
            .attach_checkout(payment.id, &checkout.reference, &checkout.url)
            .await?;
        payment.reference = Some(checkout.reference);
        payment.checkout_url = Some(checkout.url.clone());
        Ok(PlacedOrder {
            order,
            payment,
            checkout_url: checkout.url,
        })
    }

    /// Verifies a provider's webhook and applies it exactly once.
    ///
    /// `Ok(None)` is a genuine event the shop does not act on.
    ///
    /// # Errors
    /// [`WebhookFailure::Refused`] (nothing changed) or [`WebhookFailure::Store`] (nothing kept;
    /// the provider retries).
    pub async fn receive_webhook(
        &self,
        webhook: &InboundWebhook,
    ) -> Result<Option<EventOutcome>, WebhookFailure> {
        let now = self.ports.clock.now();
        let Some(event) = self.ports.gateway.verify_webhook(webhook, now)? else {
            return Ok(None);
        };
        Ok(Some(self.ports.orders.apply_event(&event, now).await?))
    }

    /// The member's order, reconciled with the provider first when it is still pending: the
    /// browser's return from the checkout proves nothing, the provider's answer does.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] for another member's order or none.
    pub async fn reconciled_order(
        &self,
        member: MemberId,
        id: OrderId,
    ) -> Result<(Order, Payment), LookupError> {
        let (order, payment) = self.own_order(member, id).await?;
        if payment.status != PaymentStatus::Open {
            return Ok((order, payment));
        }
        let Some(reference) = payment.reference.clone() else {
            return Ok((order, payment));
        };
        let Some(state) = self.ports.gateway.checkout_status(&reference).await? else {
            return Ok((order, payment));
        };
        let event = PaymentEvent {
            event_id: format!("reconcile:{reference}:{}", state.signal.as_str()),
            provider: payment.provider.clone(),
            reference,
            payment_ref: state.payment_ref,
            news: state.signal.into(),
        };
        self.ports
            .orders
            .apply_event(&event, self.ports.clock.now())
            .await?;
        self.own_order(member, id).await
    }

    /// The member's order, as stored.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] for another member's order or none.
    pub async fn own_order(
        &self,
        member: MemberId,
        id: OrderId,
    ) -> Result<(Order, Payment), LookupError> {
        match self.ports.orders.by_id(id).await? {
            Some((order, payment)) if order.member_id == member => Ok((order, payment)),
            _ => Err(LookupError::NotFound),
        }
    }

    /// The member's purchases, newest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn purchases(
        &self,
        member: MemberId,
        after: Option<PurchaseCursor>,
        limit: u32,
    ) -> Result<Vec<Purchase>, StoreError> {
        self.ports.orders.purchases(member, after, limit).await
    }

    /// The member's payment attempts with their history, newest first.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn payments(
        &self,
        member: MemberId,
        before: Option<PaymentId>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError> {
        self.ports.orders.payments(member, before, limit).await
    }

    /// The products the member owns (their library), by SKU.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn library(&self, member: MemberId) -> Result<Vec<Product>, StoreError> {
        let mut products = Vec::new();
        for id in self.ports.orders.owned(member).await? {
            if let Some(product) = self.ports.catalog.by_id(id).await? {
                products.push(product);
            }
        }
        products.sort_by(|a, b| a.draft.sku.cmp(&b.draft.sku));
        Ok(products)
    }

    /// The full audio of a product the member owns.
    ///
    /// # Errors
    /// [`LookupError::NotFound`] for an unknown product; [`LookupError::NotOwned`] when the
    /// member has not bought it (or it was refunded or charged back);
    /// [`LookupError::Disputed`] while its payment is disputed.
    pub async fn audio(
        &self,
        member: MemberId,
        product: ProductId,
    ) -> Result<AssetKey, LookupError> {
        let found = self
            .ports
            .catalog
            .by_id(product)
            .await?
            .ok_or(LookupError::NotFound)?;
        if !self.ports.orders.owned(member).await?.contains(&product) {
            if self.ports.orders.withheld(member).await?.contains(&product) {
                return Err(LookupError::Disputed);
            }
            return Err(LookupError::NotOwned);
        }
        Ok(found.draft.audio)
    }

    /// Refunds a paid order in full at the provider (an operator's action), records the refund
    /// as the provider answered it, and answers the order's status then: a refund that settled at once makes the order
    /// refunded; one still pending makes it `RefundPending` until the provider's events settle
    /// it (refunded) or report its failure (paid again, and refundable again).
    ///
    /// # Errors
    /// [`RefundError`].
    pub async fn refund(&self, id: OrderId) -> Result<PaymentStatus, RefundError> {
        let (_, payment) = self
            .ports
            .orders
            .by_id(id)
            .await?
            .ok_or(RefundError::NotFound)?;
        check_refundable(payment.status)?;
        let reference = payment
            .reference
            .clone()
            .ok_or(RefundError::NotRefundable(NotRefundable(payment.status)))?;
        let attempt = payment
            .cases
            .iter()
            .filter(|c| c.state.kind() == "refund")
            .count();
        let email = self.refund_email(payment.member_id).await?;
        let refund = self
            .ports
            .gateway
            .refund(&crate::shop::ports::RefundRequest {
                order_id: id,
                reference: reference.clone(),
                amount: payment.amount,
                attempt: u32::try_from(attempt).unwrap_or(u32::MAX),
                email,
            })
            .await?;
        let event = PaymentEvent {
            // The answer is the provider's report of the refund as it was created: the same
            // refund answered twice (a retried request) is one report.
            event_id: format!("refund:{}:{}", refund.reference, refund.state.state()),
            provider: payment.provider,
            reference,
            payment_ref: None,
            news: crate::News::Case(refund),
        };
        match self
            .ports
            .orders
            .apply_event(&event, self.ports.clock.now())
            .await?
        {
            EventOutcome::Applied { status, .. } | EventOutcome::Unchanged { status, .. } => {
                Ok(status)
            }
            // The provider's answer was applied before (a retried request): as it stands now.
            EventOutcome::Duplicate | EventOutcome::UnknownReference => Ok(self
                .ports
                .orders
                .by_id(id)
                .await?
                .map_or(payment.status, |(_, p)| p.status)),
        }
    }

    /// Refunds and disputes the operators must look at (open disputes with their deadlines,
    /// failed or canceled refunds, refunds waiting for the member), with their orders, the most
    /// recently reported first, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn cases_needing_attention(
        &self,
        limit: u32,
    ) -> Result<Vec<(OrderId, crate::Case)>, StoreError> {
        self.ports.orders.cases_needing_attention(limit).await
    }

    /// The sandbox's checkout: the order behind a checkout reference (for the test-mode page).
    ///
    /// # Errors
    /// [`LookupError::NotFound`].
    pub async fn checkout(&self, reference: &str) -> Result<(Order, Payment), LookupError> {
        self.ports
            .orders
            .by_reference(self.provider(), reference)
            .await?
            .ok_or(LookupError::NotFound)
    }

    /// Whether the provider is a test one with its own checkout page (the sandbox).
    pub fn has_test_checkout(&self) -> bool {
        self.ports.simulator.is_some()
    }

    /// Test mode only: acts out the member's choice at the sandbox checkout by delivering the
    /// provider's signed webhook through [`Shop::receive_webhook`] — the same verification path
    /// as a real provider. `None` when the provider is a real one.
    ///
    /// # Errors
    /// As [`Shop::receive_webhook`].
    pub async fn simulate(
        &self,
        reference: &str,
        outcome: SandboxOutcome,
    ) -> Result<Option<EventOutcome>, WebhookFailure> {
        let now = self.ports.clock.now();
        match &self.ports.simulator {
            Some(simulator) => {
                let webhook = simulator.simulate(reference, outcome, now);
                self.receive_webhook(&webhook).await
            }
            None => Ok(None),
        }
    }

    fn new_uuid(&self, now: Timestamp) -> Uuid {
        crate::kernel::ids::uuid_v7(now, &self.ports.random.bytes32())
    }
}

pub mod case;
pub mod catalog;
pub mod collection;
pub mod legal;
pub mod order;
pub mod ports;
pub mod receipt;
pub mod receipt_desk;
pub mod search;
pub mod shelf;
pub mod standing;
pub mod storefront;
pub mod tax;
pub mod values;
