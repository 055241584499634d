//! In-memory catalogue and orders.

use std::collections::{HashMap, HashSet};
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::shop::order::{Step, step};
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::shop::standing::{CaseStep, step_case};
use kikeru_domain::{
    Case, EventOutcome, MemberId, News, Order, OrderId, Payment, PaymentEvent, PaymentId,
    PaymentStatus, Product, ProductId, Purchase, PurchaseCursor, Sku, StatusChange, StoreError,
    Timestamp,
};

use kikeru_domain::mail::outbox::Envelope;

use crate::MemoryStore;

/// The catalogue's and the orders' share of [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) products: HashMap<ProductId, Product>,
    /// Moves with every save of the catalogue.
    catalog_version: u64,
    pub(crate) orders: HashMap<OrderId, Order>,
    pub(crate) payments: HashMap<PaymentId, Payment>,
    events: HashSet<(String, String)>,
    /// When each case (by provider and reference) was last reported.
    pub(crate) case_times: HashMap<(String, String), Timestamp>,
    pub(crate) receipts: Vec<kikeru_domain::shop::receipt::Receipt>,
    /// The last receipt number given (numbers are never reused, even after a purge).
    pub(crate) last_receipt: u64,
    pub(crate) returns: Vec<kikeru_domain::shop::receipt::ReturnInvoice>,
    pub(crate) last_return: u64,
}

impl MemoryStore {
    /// The products of the member's orders in `status`, each once.
    fn products_in(&self, member: MemberId, status: PaymentStatus) -> Vec<ProductId> {
        let state = self.shop_state();
        let mut products: Vec<ProductId> = state
            .orders
            .values()
            .filter(|o| o.member_id == member && o.status == status)
            .flat_map(|o| o.lines.iter().map(|l| l.product_id))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        products.sort();
        products
    }

    /// Removes orders (with their payments) of members not in `existing`, placed before `before`.
    pub(crate) fn purge_accounting(&self, existing: &HashSet<MemberId>, before: Timestamp) -> u64 {
        let mut state = self.shop_state();
        let gone: Vec<OrderId> = state
            .orders
            .values()
            .filter(|o| !existing.contains(&o.member_id) && o.created_at < before)
            .map(|o| o.id)
            .collect();
        for id in &gone {
            state.orders.remove(id);
            state.payments.retain(|_, p| p.order_id != *id);
            state.receipts.retain(|r| r.content.order_id != *id);
            state.returns.retain(|r| r.content.order_id != *id);
        }
        gone.len() as u64
    }

    pub(crate) fn shop_state(&self) -> MutexGuard<'_, State> {
        self.shop.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn with_payment(&self, order: &Order) -> Option<(Order, Payment)> {
        let payment = self.payments.values().find(|p| p.order_id == order.id)?;
        Some((order.clone(), payment.clone()))
    }
}

#[async_trait]
impl Catalog for MemoryStore {
    async fn save_all(&self, products: &[Product]) -> Result<(), StoreError> {
        let mut state = self.shop_state();
        let mut after = state.products.clone();
        for product in products {
            after.insert(product.id, product.clone());
        }
        let skus: HashSet<&Sku> = after.values().map(|p| &p.draft.sku).collect();
        if skus.len() != after.len() {
            return Err(StoreError::Conflict);
        }
        state.products = after;
        state.catalog_version += 1;
        Ok(())
    }

    async fn version(&self) -> Result<u64, StoreError> {
        Ok(self.shop_state().catalog_version)
    }

    async fn by_id(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        Ok(self.shop_state().products.get(&id).cloned())
    }

    async fn by_sku(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        Ok(self
            .shop_state()
            .products
            .values()
            .find(|p| p.draft.sku == *sku)
            .cloned())
    }

    async fn active(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut found: Vec<Product> = self
            .shop_state()
            .products
            .values()
            .filter(|p| p.draft.active && after.as_ref().is_none_or(|a| p.draft.sku > *a))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.draft.sku.cmp(&b.draft.sku));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn all(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut found: Vec<Product> = self
            .shop_state()
            .products
            .values()
            .filter(|p| after.as_ref().is_none_or(|a| p.draft.sku > *a))
            .cloned()
            .collect();
        found.sort_by(|a, b| a.draft.sku.cmp(&b.draft.sku));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn search(
        &self,
        query: &kikeru_domain::shop::search::SearchQuery,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError> {
        use kikeru_domain::shop::search::{keys, rank};
        let state = self.shop_state();
        let mut found: Vec<_> = state
            .products
            .values()
            .filter(|p| p.draft.active)
            .filter_map(|p| rank(&keys(&p.draft), query).map(|r| (r, p)))
            .collect();
        found.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| a.1.draft.sku.cmp(&b.1.draft.sku))
        });
        found.truncate(limit as usize);
        Ok(found.into_iter().map(|(_, p)| p.clone()).collect())
    }
}

#[async_trait]
impl Orders for MemoryStore {
    async fn create(&self, order: &Order, payment: &Payment) -> Result<(), StoreError> {
        let mut state = self.shop_state();
        let key_taken = order.idempotency_key.is_some()
            && state.orders.values().any(|o| {
                o.member_id == order.member_id && o.idempotency_key == order.idempotency_key
            });
        if key_taken
            || state.orders.contains_key(&order.id)
            || state.payments.contains_key(&payment.id)
        {
            return Err(StoreError::Conflict);
        }
        state.orders.insert(order.id, order.clone());
        state.payments.insert(payment.id, payment.clone());
        Ok(())
    }

    async fn by_id(&self, id: OrderId) -> Result<Option<(Order, Payment)>, StoreError> {
        let state = self.shop_state();
        Ok(state.orders.get(&id).and_then(|o| state.with_payment(o)))
    }

    async fn by_idempotency_key(
        &self,
        member: MemberId,
        key: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        let state = self.shop_state();
        let order = state
            .orders
            .values()
            .find(|o| o.member_id == member && o.idempotency_key.as_deref() == Some(key));
        Ok(order.and_then(|o| state.with_payment(o)))
    }

    async fn by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        let state = self.shop_state();
        let payment = state
            .payments
            .values()
            .find(|p| p.provider == provider && p.reference.as_deref() == Some(reference));
        Ok(payment
            .and_then(|p| state.orders.get(&p.order_id))
            .and_then(|o| state.with_payment(o)))
    }

    async fn attach_checkout(
        &self,
        payment: PaymentId,
        reference: &str,
        url: &str,
    ) -> Result<(), StoreError> {
        let mut state = self.shop_state();
        let provider = state
            .payments
            .get(&payment)
            .ok_or(StoreError::NotFound)?
            .provider
            .clone();
        let taken = state.payments.values().any(|p| {
            p.id != payment && p.provider == provider && p.reference.as_deref() == Some(reference)
        });
        if taken {
            return Err(StoreError::Conflict);
        }
        let stored = state
            .payments
            .get_mut(&payment)
            .ok_or(StoreError::NotFound)?;
        stored.reference = Some(reference.to_owned());
        stored.checkout_url = Some(url.to_owned());
        Ok(())
    }

    async fn apply_event(
        &self,
        event: &PaymentEvent,
        at: Timestamp,
    ) -> Result<EventOutcome, StoreError> {
        let mut guard = self.shop_state();
        let state = &mut *guard;
        let seen = (event.provider.clone(), event.event_id.clone());
        if state.events.contains(&seen) {
            return Ok(EventOutcome::Duplicate);
        }
        let Some(payment) = state.payments.values_mut().find(|p| {
            let named = Some(event.reference.as_str());
            p.provider == event.provider
                && (p.reference.as_deref() == named || p.payment_ref.as_deref() == named)
        }) else {
            return Ok(EventOutcome::UnknownReference);
        };
        state.events.insert(seen);
        let order_id = payment.order_id;
        if payment.payment_ref.is_none() {
            payment.payment_ref.clone_from(&event.payment_ref);
        }
        let order_paid = state
            .orders
            .get(&order_id)
            .is_some_and(|o| o.paid_at.is_some());
        let moved = match &event.news {
            News::Checkout(signal) => step(payment.status, order_paid, *signal, at),
            News::Case(report) => {
                let CaseStep { case, step } = step_case(
                    payment.status,
                    order_paid,
                    payment.amount,
                    &payment.cases,
                    report,
                    at,
                );
                state
                    .case_times
                    .insert((event.provider.clone(), case.reference.clone()), at);
                match payment
                    .cases
                    .iter_mut()
                    .find(|c| c.reference == case.reference)
                {
                    Some(kept) => *kept = case,
                    None => payment.cases.push(case),
                }
                step
            }
        };
        let Step::Moved {
            status,
            first_paid_at,
        } = moved
        else {
            return Ok(EventOutcome::Unchanged {
                order_id,
                status: payment.status,
            });
        };
        payment.status = status;
        payment.history.push(StatusChange {
            status,
            at,
            event_id: Some(event.event_id.clone()),
        });
        if let Some(order) = state.orders.get_mut(&order_id) {
            order.status = status;
            if let Some(paid_at) = first_paid_at {
                order.paid_at = Some(paid_at);
                let mut members = self.state();
                if let Some(member) = members.members.get(&order.member_id) {
                    let receipt = Envelope::receipt(order, member, paid_at);
                    members.mail.enqueue(receipt)?;
                }
            }
        }
        Ok(EventOutcome::Applied { order_id, status })
    }

    async fn purchases(
        &self,
        member: MemberId,
        after: Option<PurchaseCursor>,
        limit: u32,
    ) -> Result<Vec<Purchase>, StoreError> {
        let state = self.shop_state();
        let mut found: Vec<Purchase> = state
            .orders
            .values()
            .filter(|o| o.member_id == member && o.status.was_paid())
            .filter_map(|o| o.paid_at.map(|paid_at| (o, paid_at)))
            .flat_map(|(o, paid_at)| {
                o.lines.iter().enumerate().map(move |(i, line)| Purchase {
                    order_id: o.id,
                    line: i as u32,
                    item: line.clone(),
                    paid_at,
                    status: o.status,
                })
            })
            .collect();
        let key = |p: &Purchase| (p.paid_at, p.order_id, p.line);
        found.sort_by_key(|p| std::cmp::Reverse(key(p)));
        if let Some(cursor) = after {
            let bound = (cursor.paid_at, cursor.order_id, cursor.line);
            found.retain(|p| key(p) < bound);
        }
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn payments(
        &self,
        member: MemberId,
        before: Option<PaymentId>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError> {
        let state = self.shop_state();
        let mut found: Vec<Payment> = state
            .payments
            .values()
            .filter(|p| p.member_id == member && before.is_none_or(|b| p.id < b))
            .cloned()
            .collect();
        found.sort_by_key(|p| std::cmp::Reverse(p.id));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn owned(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError> {
        Ok(self.products_in(member, PaymentStatus::Paid))
    }

    async fn withheld(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError> {
        Ok(self.products_in(member, PaymentStatus::Disputed))
    }

    async fn cases_needing_attention(
        &self,
        limit: u32,
    ) -> Result<Vec<(OrderId, Case)>, StoreError> {
        let state = self.shop_state();
        let mut found: Vec<(Timestamp, OrderId, Case)> = state
            .payments
            .values()
            .flat_map(|p| p.cases.iter().map(move |c| (p, c)))
            .filter(|(_, c)| c.state.needs_attention())
            .map(|(p, c)| {
                let at = state
                    .case_times
                    .get(&(p.provider.clone(), c.reference.clone()))
                    .copied()
                    .unwrap_or(p.created_at);
                (at, p.order_id, c.clone())
            })
            .collect();
        found.sort_by(|a, b| {
            b.0.cmp(&a.0)
                .then_with(|| a.2.reference.cmp(&b.2.reference))
        });
        found.truncate(limit as usize);
        Ok(found
            .into_iter()
            .map(|(_, order, case)| (order, case))
            .collect())
    }
}

#[async_trait]
impl kikeru_domain::shop::ports::Receipts for MemoryStore {
    async fn unreceipted(&self, limit: u32) -> Result<Vec<Order>, StoreError> {
        let state = self.shop_state();
        let mut due: Vec<&Order> = state
            .orders
            .values()
            .filter(|o| o.paid_at.is_some())
            .filter(|o| !state.receipts.iter().any(|r| r.content.order_id == o.id))
            .collect();
        due.sort_by_key(|o| (o.paid_at, o.id));
        Ok(due.into_iter().take(limit as usize).cloned().collect())
    }

    async fn issue(
        &self,
        draft: &kikeru_domain::shop::receipt::ReceiptDraft,
    ) -> Result<kikeru_domain::shop::receipt::Receipt, StoreError> {
        let mut state = self.shop_state();
        if state
            .receipts
            .iter()
            .any(|r| r.content.order_id == draft.order_id)
        {
            return Err(StoreError::Conflict);
        }
        state.last_receipt += 1;
        let receipt = kikeru_domain::shop::receipt::Receipt {
            number: state.last_receipt,
            content: draft.clone(),
        };
        state.receipts.push(receipt.clone());
        Ok(receipt)
    }

    async fn for_member(
        &self,
        member: MemberId,
    ) -> Result<Vec<kikeru_domain::shop::receipt::Receipt>, StoreError> {
        let mut found: Vec<_> = self
            .shop_state()
            .receipts
            .iter()
            .filter(|r| r.content.member_id == member)
            .cloned()
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.number));
        Ok(found)
    }

    async fn by_number(
        &self,
        number: u64,
    ) -> Result<Option<kikeru_domain::shop::receipt::Receipt>, StoreError> {
        Ok(self
            .shop_state()
            .receipts
            .iter()
            .find(|r| r.number == number)
            .cloned())
    }

    async fn reissue(
        &self,
        number: u64,
        member: MemberId,
        recipient: &str,
    ) -> Result<kikeru_domain::shop::receipt::Receipt, StoreError> {
        let mut state = self.shop_state();
        let receipt = state
            .receipts
            .iter_mut()
            .find(|r| r.number == number && r.content.member_id == member)
            .ok_or(StoreError::NotFound)?;
        receipt.content.recipient = Some(recipient.to_owned());
        receipt.content.reissues += 1;
        Ok(receipt.clone())
    }

    async fn unreturned(
        &self,
        limit: u32,
    ) -> Result<Vec<kikeru_domain::shop::receipt::DueReturn>, StoreError> {
        use kikeru_domain::shop::receipt::DueReturn;
        use kikeru_domain::{CaseState, DisputeState, RefundState};
        let state = self.shop_state();
        let returned = |order: OrderId, case: Option<&str>| {
            state
                .returns
                .iter()
                .any(|x| x.content.order_id == order && x.content.case.as_deref() == case)
        };
        let mut due: Vec<(u64, usize, DueReturn)> = Vec::new();
        for r in &state.receipts {
            let order = r.content.order_id;
            let Some(payment) = state.payments.values().find(|p| p.order_id == order) else {
                continue;
            };
            for (position, case) in payment.cases.iter().enumerate() {
                let returning = matches!(
                    case.state,
                    CaseState::Refund(RefundState::Succeeded)
                        | CaseState::Dispute(DisputeState::Lost)
                );
                if returning && !returned(order, Some(&case.reference)) {
                    let at = state
                        .case_times
                        .get(&(payment.provider.clone(), case.reference.clone()))
                        .copied()
                        .unwrap_or(payment.created_at);
                    due.push((
                        r.number,
                        position,
                        DueReturn {
                            receipt: r.clone(),
                            case: Some(case.reference.clone()),
                            amount: case.amount.minor(),
                            returned_at: at,
                        },
                    ));
                }
            }
            if payment.cases.is_empty() && payment.status.returned() && !returned(order, None) {
                let Some(change) = payment.history.iter().rev().find(|c| c.status.returned())
                else {
                    continue;
                };
                due.push((
                    r.number,
                    0,
                    DueReturn {
                        receipt: r.clone(),
                        case: None,
                        amount: r.content.total,
                        returned_at: change.at,
                    },
                ));
            }
        }
        due.sort_by_key(|(number, position, _)| (*number, *position));
        due.truncate(limit as usize);
        Ok(due.into_iter().map(|(_, _, d)| d).collect())
    }

    async fn issue_return(
        &self,
        draft: &kikeru_domain::shop::receipt::ReturnDraft,
    ) -> Result<kikeru_domain::shop::receipt::ReturnInvoice, StoreError> {
        let mut state = self.shop_state();
        if state
            .returns
            .iter()
            .any(|r| r.content.order_id == draft.order_id && r.content.case == draft.case)
        {
            return Err(StoreError::Conflict);
        }
        state.last_return += 1;
        let invoice = kikeru_domain::shop::receipt::ReturnInvoice {
            number: state.last_return,
            content: draft.clone(),
        };
        state.returns.push(invoice.clone());
        Ok(invoice)
    }

    async fn returns_for_member(
        &self,
        member: MemberId,
    ) -> Result<Vec<kikeru_domain::shop::receipt::ReturnInvoice>, StoreError> {
        let mut found: Vec<_> = self
            .shop_state()
            .returns
            .iter()
            .filter(|r| r.content.member_id == member)
            .cloned()
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse(r.number));
        Ok(found)
    }

    async fn return_by_number(
        &self,
        number: u64,
    ) -> Result<Option<kikeru_domain::shop::receipt::ReturnInvoice>, StoreError> {
        Ok(self
            .shop_state()
            .returns
            .iter()
            .find(|r| r.number == number)
            .cloned())
    }
}
