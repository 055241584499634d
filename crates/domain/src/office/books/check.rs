//! Reconciliation (pure): every paid order has its receipt and every settled return its return
//! invoice, the documents' numbers have no gap, each document's total is what the order or the
//! payment recorded, and the books' totals are the receipts less the return invoices.

use serde::Serialize;

use super::model::{Books, Period, ReturnKind};
use crate::{OrderId, Timestamp};

/// An order paid in the period, as the order records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaidOrder {
    /// The order.
    pub order_id: OrderId,
    /// When it was paid.
    pub paid_at: Timestamp,
    /// Its tax-inclusive total.
    pub total: i64,
    /// Its receipt: the number and the total, when one was issued.
    pub receipt: Option<(u64, i64)>,
}

/// A return the payment records as settled in the period (a refund that succeeded, a dispute
/// that was lost, or a whole refund reported without a case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettledReturn {
    /// The order.
    pub order_id: OrderId,
    /// The provider's case, `None` for a whole refund reported without one.
    pub case: Option<String>,
    /// Refund or chargeback.
    pub kind: ReturnKind,
    /// The amount returned.
    pub amount: i64,
    /// When it was settled.
    pub at: Timestamp,
    /// Its return invoice: the number and the total, when one was issued.
    pub invoice: Option<(u64, i64)>,
}

/// The numbers a sequence gave and the documents that still hold them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Numbers {
    /// The last number taken.
    pub last: u64,
    /// The numbers of the documents in storage, ascending.
    pub held: Vec<u64>,
}

impl Numbers {
    /// The numbers missing between the oldest document held and the last number taken (the
    /// oldest go when the accounting retention ends, so a missing start is no gap).
    #[must_use]
    pub fn missing(&self) -> Vec<u64> {
        let Some(&first) = self.held.first() else {
            return Vec::new();
        };
        let mut missing = Vec::new();
        let mut held = self.held.iter().peekable();
        for n in first..=self.last.max(first) {
            if held.peek() == Some(&&n) {
                held.next();
            } else {
                missing.push(n);
            }
        }
        missing
    }
}

/// What storage records, to check the documents against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Records {
    /// The orders paid in the period.
    pub paid: Vec<PaidOrder>,
    /// The returns settled in the period.
    pub returned: Vec<SettledReturn>,
    /// The receipts' numbers.
    pub receipts: Numbers,
    /// The return invoices' numbers.
    pub returns: Numbers,
}

/// Which sequence of documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Series {
    /// Receipts (適格簡易請求書).
    Receipt,
    /// Return invoices (適格返還請求書).
    ReturnInvoice,
}

/// One disagreement between the documents and the records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// A paid order without a receipt.
    NoReceipt {
        /// The order.
        #[serde(serialize_with = "order_id")]
        order: OrderId,
    },
    /// A settled return without a return invoice.
    NoReturnInvoice {
        /// The order.
        #[serde(serialize_with = "order_id")]
        order: OrderId,
        /// The provider's case, if any.
        case: Option<String>,
    },
    /// A number the sequence gave that no document holds.
    MissingNumber {
        /// Which sequence.
        series: Series,
        /// The number.
        number: u64,
    },
    /// A document whose total is not what the order or payment recorded.
    Total {
        /// Which sequence.
        series: Series,
        /// The document's number.
        number: u64,
        /// What the order or payment recorded.
        recorded: i64,
        /// What the document says.
        documented: i64,
    },
    /// The books' total is not the documents' total.
    Books {
        /// Which documents.
        series: Series,
        /// What the books sum.
        books: i64,
        /// What the documents sum.
        documents: i64,
    },
}

fn order_id<S: serde::Serializer>(id: &OrderId, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id.as_uuid())
}

/// The outcome of a reconciliation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    /// The period checked.
    pub period: Period,
    /// Paid orders checked.
    pub orders: u32,
    /// Settled returns checked.
    pub returns: u32,
    /// Orders paid so recently that their receipt may not be issued yet (not differences).
    pub pending: u32,
    /// Everything that disagrees; empty when the books reconcile.
    pub differences: Vec<Difference>,
}

impl Reconciliation {
    /// Whether the books reconcile.
    #[must_use]
    pub fn holds(&self) -> bool {
        self.differences.is_empty()
    }
}

/// How long after payment a missing receipt is still only pending (the receipt desk issues
/// them every few seconds; a node down for a while catches up when it starts).
pub const RECEIPT_GRACE: time::Duration = time::Duration::minutes(10);

/// Checks `books` and `records` of its period at `now`.
#[must_use]
pub fn reconcile(books: &Books, records: &Records, now: Timestamp) -> Reconciliation {
    let mut differences = Vec::new();
    let mut pending = 0;
    let mut receipted = 0;
    // Receipts are issued in the order orders were paid: a missing one paid before the last
    // receipted order is missing, however recent.
    let last_receipted = records
        .paid
        .iter()
        .filter(|o| o.receipt.is_some())
        .map(|o| o.paid_at)
        .max();
    for order in &records.paid {
        let awaited = now - order.paid_at < RECEIPT_GRACE
            && last_receipted.is_none_or(|last| order.paid_at > last);
        match order.receipt {
            None if awaited => pending += 1,
            None => differences.push(Difference::NoReceipt {
                order: order.order_id,
            }),
            Some((number, total)) => {
                receipted += total;
                if total != order.total {
                    differences.push(Difference::Total {
                        series: Series::Receipt,
                        number,
                        recorded: order.total,
                        documented: total,
                    });
                }
            }
        }
    }
    let mut invoiced = 0;
    for returned in &records.returned {
        match returned.invoice {
            None if now - returned.at < RECEIPT_GRACE => {}
            None => differences.push(Difference::NoReturnInvoice {
                order: returned.order_id,
                case: returned.case.clone(),
            }),
            Some((number, total)) => {
                invoiced += total;
                if total != returned.amount {
                    differences.push(Difference::Total {
                        series: Series::ReturnInvoice,
                        number,
                        recorded: returned.amount,
                        documented: total,
                    });
                }
            }
        }
    }
    for (series, numbers) in [
        (Series::Receipt, &records.receipts),
        (Series::ReturnInvoice, &records.returns),
    ] {
        differences.extend(
            numbers
                .missing()
                .into_iter()
                .map(|number| Difference::MissingNumber { series, number }),
        );
    }
    if books.totals.gross != receipted {
        differences.push(Difference::Books {
            series: Series::Receipt,
            books: books.totals.gross,
            documents: receipted,
        });
    }
    let returned = books.totals.refunds + books.totals.chargebacks;
    if returned != invoiced {
        differences.push(Difference::Books {
            series: Series::ReturnInvoice,
            books: returned,
            documents: invoiced,
        });
    }
    Reconciliation {
        period: books.period,
        orders: u32::try_from(records.paid.len()).unwrap_or(u32::MAX),
        returns: u32::try_from(records.returned.len()).unwrap_or(u32::MAX),
        pending,
        differences,
    }
}
