//! The books in memory: the same documents and records as the SQL store, from the shop's state.

use async_trait::async_trait;
use kikeru_domain::office::books::check::{Numbers, PaidOrder, Records, SettledReturn};
use kikeru_domain::office::books::ports::Books;
use kikeru_domain::office::books::{Item, Return, ReturnKind, Sale};
use kikeru_domain::{
    CaseState, DisputeState, OrderId, PaymentStatus, RefundState, StoreError, Timestamp,
};

use crate::MemoryStore;
use crate::shop::State;

impl State {
    fn items(&self, order: OrderId) -> Vec<Item> {
        self.orders.get(&order).map_or_else(Vec::new, |o| {
            o.lines
                .iter()
                .map(|l| Item {
                    sku: l.sku.as_str().to_owned(),
                    creator: self
                        .products
                        .get(&l.product_id)
                        .and_then(|p| p.draft.creator.clone()),
                })
                .collect()
        })
    }

    fn kind(&self, order: OrderId, case: Option<&str>) -> ReturnKind {
        let payment = self.payments.values().find(|p| p.order_id == order);
        let disputed = match case {
            Some(reference) => payment
                .and_then(|p| p.cases.iter().find(|c| c.reference == reference))
                .is_some_and(|c| matches!(c.state, CaseState::Dispute(_))),
            None => payment.is_some_and(|p| p.status == PaymentStatus::ChargedBack),
        };
        if disputed {
            ReturnKind::Chargeback
        } else {
            ReturnKind::Refund
        }
    }
}

fn numbers(last: u64, mut held: Vec<u64>) -> Numbers {
    held.sort_unstable();
    Numbers { last, held }
}

#[async_trait]
impl Books for MemoryStore {
    async fn sales(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Sale>, StoreError> {
        let state = self.shop_state();
        let mut sales: Vec<Sale> = state
            .receipts
            .iter()
            .filter(|r| r.content.paid_at >= from && r.content.paid_at < to)
            .map(|r| Sale {
                receipt: r.clone(),
                items: state.items(r.content.order_id),
            })
            .collect();
        sales.sort_by_key(|s| (s.receipt.content.paid_at, s.receipt.number));
        Ok(sales)
    }

    async fn returns(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Return>, StoreError> {
        let state = self.shop_state();
        let mut returns: Vec<Return> = state
            .returns
            .iter()
            .filter(|r| r.content.refunded_at >= from && r.content.refunded_at < to)
            .map(|r| Return {
                invoice: r.clone(),
                kind: state.kind(r.content.order_id, r.content.case.as_deref()),
                items: state.items(r.content.order_id),
            })
            .collect();
        returns.sort_by_key(|r| (r.invoice.content.refunded_at, r.invoice.number));
        Ok(returns)
    }

    async fn records(&self, from: Timestamp, to: Timestamp) -> Result<Records, StoreError> {
        let state = self.shop_state();
        let within = |at: Timestamp| at >= from && at < to;
        let mut paid: Vec<PaidOrder> = state
            .orders
            .values()
            .filter_map(|o| Some((o, o.paid_at?)))
            .filter(|(_, at)| within(*at))
            .map(|(o, paid_at)| PaidOrder {
                order_id: o.id,
                paid_at,
                total: o.total.minor(),
                receipt: state
                    .receipts
                    .iter()
                    .find(|r| r.content.order_id == o.id)
                    .map(|r| (r.number, r.content.total)),
            })
            .collect();
        paid.sort_by_key(|p| (p.paid_at, p.order_id));
        let invoice = |order: OrderId, case: Option<&str>| {
            state
                .returns
                .iter()
                .find(|x| x.content.order_id == order && x.content.case.as_deref() == case)
                .map(|x| (x.number, x.content.total))
        };
        let mut returned = Vec::new();
        for payment in state.payments.values() {
            for case in &payment.cases {
                let settled = matches!(
                    case.state,
                    CaseState::Refund(RefundState::Succeeded)
                        | CaseState::Dispute(DisputeState::Lost)
                );
                let at = state
                    .case_times
                    .get(&(payment.provider.clone(), case.reference.clone()))
                    .copied()
                    .unwrap_or(payment.created_at);
                if settled && within(at) {
                    returned.push(SettledReturn {
                        order_id: payment.order_id,
                        case: Some(case.reference.clone()),
                        kind: state.kind(payment.order_id, Some(&case.reference)),
                        amount: case.amount.minor(),
                        at,
                        invoice: invoice(payment.order_id, Some(&case.reference)),
                    });
                }
            }
            let whole = payment.history.iter().rev().find(|c| c.status.returned());
            if let (true, true, Some(change)) =
                (payment.cases.is_empty(), payment.status.returned(), whole)
                && within(change.at)
            {
                returned.push(SettledReturn {
                    order_id: payment.order_id,
                    case: None,
                    kind: state.kind(payment.order_id, None),
                    amount: payment.amount.minor(),
                    at: change.at,
                    invoice: invoice(payment.order_id, None),
                });
            }
        }
        returned.sort_by_key(|r| r.at);
        Ok(Records {
            paid,
            returned,
            receipts: numbers(
                state.last_receipt,
                state.receipts.iter().map(|r| r.number).collect(),
            ),
            returns: numbers(
                state.last_return,
                state.returns.iter().map(|r| r.number).collect(),
            ),
        })
    }
}
