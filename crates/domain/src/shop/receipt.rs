//! Receipts for paid orders, as Japan's invoice system wants them: a simplified qualified
//! invoice (適格簡易請求書) — the issuer and its registration number, the date, the items, and
//! per tax rate the total and the tax — numbered from one gap-free sequence.
//!
//! Receipts are issued after payment by [`crate::shop::receipt_desk::ReceiptDesk::issue_due`] (the server runs it every few
//! seconds), in the order orders were paid: the number is taken in the same transaction that
//! stores the receipt, so a failed issue leaves no gap and two nodes never give one order two
//! receipts.
//!
//! A refund gets a return invoice (適格返還請求書) the same way, from its own gap-free sequence:
//! the issuer and its registration number, the date of the refund and of the original sale,
//! the items the return relates to, and per tax rate the amount returned and the tax in it. A
//! return invoice is due for each settled refund and each lost dispute (the provider's case,
//! by its reference), and for a whole refund a provider reports without a case: a whole return
//! repeats what the receipt sold; a partial one apportions its amount over the receipt's rates.
//!
//! Receipts and return invoices are accounting records: they name the member only by ID,
//! survive the member's account deletion, and go with the order's payment records when the
//! accounting retention period ends (see [`crate::privacy::retention`]).

use crate::kernel::errors::StoreError;
use crate::shop::order::{Order, OrderId};
use crate::shop::tax::{RateClass, RateTotal, TaxLine, TaxRules};
use crate::{Currency, MemberId, Timestamp};

/// One item of a receipt, as it was sold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptLine {
    /// The title in Japanese.
    pub title_ja: String,
    /// The title in English.
    pub title_en: String,
    /// The tax-inclusive unit price, in minor units.
    pub unit_price: i64,
    /// How many.
    pub quantity: u32,
    /// The tax rate, in percent.
    pub rate: u32,
}

/// A receipt's content, before it has a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptDraft {
    /// The order it is for.
    pub order_id: OrderId,
    /// Whose order (an ID that no longer names anyone once the member deleted the account).
    pub member_id: MemberId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When the order was paid (the transaction date).
    pub paid_at: Timestamp,
    /// The currency.
    pub currency: Currency,
    /// The items.
    pub lines: Vec<ReceiptLine>,
    /// Per rate: the tax-inclusive total and the tax in it.
    pub per_rate: Vec<RateTotal>,
    /// The tax-inclusive total.
    pub total: i64,
    /// The issuer's name.
    pub issuer: String,
    /// The issuer's registration number (`T` + 13 digits), when registered.
    pub registration_number: Option<String>,
    /// The recipient's name (宛名), which makes it a full qualified invoice (適格請求書).
    pub recipient: Option<String>,
    /// How many times it was issued again (each reissue is marked 再発行).
    pub reissues: u32,
}

/// An issued receipt: its draft and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The number, from the gap-free sequence (1, 2, 3, …).
    pub number: u64,
    /// The content.
    pub content: ReceiptDraft,
}

/// A return invoice's content (適格返還請求書), before it has a number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnDraft {
    /// The receipt of the sale that was refunded.
    pub receipt_number: u64,
    /// The order.
    pub order_id: OrderId,
    /// Whose order.
    pub member_id: MemberId,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// When the payment was refunded (the date of the return).
    pub refunded_at: Timestamp,
    /// When the order was paid (the date of the original sale).
    pub paid_at: Timestamp,
    /// The currency.
    pub currency: Currency,
    /// The items returned.
    pub lines: Vec<ReceiptLine>,
    /// Per rate: the tax-inclusive amount returned and the tax in it.
    pub per_rate: Vec<RateTotal>,
    /// The tax-inclusive amount returned.
    pub total: i64,
    /// The issuer's name.
    pub issuer: String,
    /// The issuer's registration number, when registered.
    pub registration_number: Option<String>,
    /// The provider's case it returns (a settled refund, a lost dispute), `None` for a whole
    /// refund reported without one. One return invoice per order and case.
    pub case: Option<String>,
}

/// A return due a return invoice: what was returned of the sale `receipt` records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReturn {
    /// The receipt of the sale.
    pub receipt: Receipt,
    /// The provider's case (a settled refund, a lost dispute); `None` for a whole refund
    /// reported without one.
    pub case: Option<String>,
    /// The tax-inclusive amount returned, in minor units.
    pub amount: i64,
    /// When it was returned.
    pub returned_at: Timestamp,
}

/// An issued return invoice: its draft and its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReturnInvoice {
    /// The number, from the return invoices' own gap-free sequence.
    pub number: u64,
    /// The content.
    pub content: ReturnDraft,
}

/// The return invoice of `due`, issued at `now`: the receipt's items (the goods the return
/// relates to) and, per rate, the amount returned and the tax in it. A return of the whole sale
/// repeats the receipt's per-rate amounts; a partial one apportions its amount over the rates
/// in proportion to what each sold (the last rate takes the remainder), with the tax in each
/// part rounded once under `rules`.
pub fn return_of(due: &DueReturn, rules: &TaxRules, now: Timestamp) -> ReturnDraft {
    let sale = &due.receipt.content;
    let amount = due.amount.clamp(0, sale.total);
    let per_rate = if amount == sale.total {
        sale.per_rate.clone()
    } else {
        apportion(&sale.per_rate, sale.total, amount, rules)
    };
    ReturnDraft {
        receipt_number: due.receipt.number,
        order_id: sale.order_id,
        member_id: sale.member_id,
        issued_at: now,
        refunded_at: due.returned_at,
        paid_at: sale.paid_at,
        currency: sale.currency,
        lines: sale.lines.clone(),
        per_rate,
        total: amount,
        issuer: sale.issuer.clone(),
        registration_number: sale.registration_number.clone(),
        case: due.case.clone(),
    }
}

/// `amount` of a sale of `total` spread over its rates in proportion to what each sold.
fn apportion(per_rate: &[RateTotal], total: i64, amount: i64, rules: &TaxRules) -> Vec<RateTotal> {
    let mut left = amount;
    let last = per_rate.len().saturating_sub(1);
    per_rate
        .iter()
        .enumerate()
        .map(|(i, sold)| {
            let share = if i == last {
                left
            } else {
                let part =
                    i128::from(amount) * i128::from(sold.inclusive) / i128::from(total.max(1));
                i64::try_from(part).unwrap_or(0).min(left)
            };
            left -= share;
            let tax = rules.tax_in(share, sold.rate);
            RateTotal {
                rate: sold.rate,
                inclusive: share,
                tax,
                exclusive: share - tax,
            }
        })
        .filter(|r| r.inclusive > 0)
        .collect()
}

/// The longest recipient name.
pub const MAX_RECIPIENT_CHARS: usize = 100;

/// A recipient name the member typed, trimmed; `None` when empty, too long or with control
/// characters.
pub fn recipient_name(text: &str) -> Option<String> {
    let name = text.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_RECIPIENT_CHARS
        && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

/// Reissuing a receipt with a recipient failed.
#[derive(Debug, thiserror::Error)]
pub enum RecipientError {
    /// The name is empty, longer than 100 characters, or has control characters.
    #[error("a recipient name is 1 to 100 characters")]
    BadName,
    /// The member has no receipt with this number.
    #[error("no such receipt")]
    NotFound,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The paid order's tax cannot be computed (no rate covers the day it was paid).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("no tax rate covers the day the order was paid")]
pub struct NotReceiptable;

/// The content of the receipt of a paid `order`, issued at `now` by `issuer`: the rates of the
/// day it was paid (Japan time), rounded once per rate.
///
/// # Errors
/// [`NotReceiptable`] when the order is unpaid or no rate covers its day.
pub fn draft(
    order: &Order,
    rules: &TaxRules,
    issuer: &crate::shop::legal::Seller,
    now: Timestamp,
) -> Result<ReceiptDraft, NotReceiptable> {
    let paid_at = order.paid_at.ok_or(NotReceiptable)?;
    let day = paid_at.to_offset(time::macros::offset!(+9)).date();
    let taxed: Vec<TaxLine> = order
        .lines
        .iter()
        .map(|l| TaxLine {
            unit_price: l.unit_price.minor(),
            quantity: l.quantity,
            // Audio content is standard-rated.
            class: RateClass::Standard,
        })
        .collect();
    let breakdown = rules.breakdown(day, &taxed).map_err(|_| NotReceiptable)?;
    let lines = order
        .lines
        .iter()
        .zip(&breakdown.line_rates)
        .map(|(l, rate)| ReceiptLine {
            title_ja: l.title.ja().to_owned(),
            title_en: l.title.en().to_owned(),
            unit_price: l.unit_price.minor(),
            quantity: l.quantity,
            rate: *rate,
        })
        .collect();
    Ok(ReceiptDraft {
        order_id: order.id,
        member_id: order.member_id,
        issued_at: now,
        paid_at,
        currency: order.total.currency(),
        lines,
        total: breakdown.total(),
        per_rate: breakdown.per_rate,
        issuer: issuer.name.clone(),
        registration_number: issuer
            .registration_number
            .as_ref()
            .map(|n| n.as_str().to_owned()),
        recipient: None,
        reissues: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sold(per_rate: Vec<RateTotal>) -> DueReturn {
        let total = per_rate.iter().map(|r| r.inclusive).sum();
        DueReturn {
            receipt: Receipt {
                number: 7,
                content: ReceiptDraft {
                    order_id: OrderId::from_uuid(uuid::Uuid::nil()),
                    member_id: MemberId::from_uuid(uuid::Uuid::nil()),
                    issued_at: time::macros::datetime!(2026-04-01 09:00 UTC),
                    paid_at: time::macros::datetime!(2026-04-01 09:00 UTC),
                    currency: Currency::Jpy,
                    lines: Vec::new(),
                    per_rate,
                    total,
                    issuer: "キケル".to_owned(),
                    registration_number: None,
                    recipient: None,
                    reissues: 0,
                },
            },
            case: Some("re_1".to_owned()),
            amount: total,
            returned_at: time::macros::datetime!(2026-04-02 09:00 UTC),
        }
    }

    fn rate(rate: u32, inclusive: i64, tax: i64) -> RateTotal {
        RateTotal {
            rate,
            inclusive,
            tax,
            exclusive: inclusive - tax,
        }
    }

    #[test]
    fn a_whole_return_repeats_the_sale_and_a_partial_one_is_spread_over_its_rates() {
        let rules = TaxRules::japan();
        let now = time::macros::datetime!(2026-04-03 09:00 UTC);
        let mut due = sold(vec![rate(8, 1080, 80), rate(10, 2200, 200)]);
        let whole = return_of(&due, &rules, now);
        assert_eq!(whole.per_rate, due.receipt.content.per_rate);
        assert_eq!((whole.total, whole.case.as_deref()), (3280, Some("re_1")));

        due.amount = 1640;
        let half = return_of(&due, &rules, now);
        assert_eq!(half.total, 1640);
        assert_eq!(
            half.per_rate,
            [rate(8, 540, 40), rate(10, 1100, 100)],
            "in proportion, the tax in each part rounded once"
        );
        assert_eq!(half.per_rate.iter().map(|r| r.inclusive).sum::<i64>(), 1640);

        // Never more than was sold.
        due.amount = 99_999;
        assert_eq!(return_of(&due, &rules, now).total, 3280);
    }
}
