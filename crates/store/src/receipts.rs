//! Receipts and return invoices on sea-orm. A document's number is taken from its
//! `receipt_sequence` row (1: receipts, 2: return invoices) in the transaction that stores the
//! document: on PostgreSQL the row's lock makes concurrent issues wait their turn, on SQLite
//! the single writer does; a failed issue rolls its number back, so the numbers have no gap and
//! no repeat.

use async_trait::async_trait;
use kikeru_domain::shop::ports::Receipts;
use kikeru_domain::shop::receipt::{
    DueReturn, Receipt, ReceiptDraft, ReceiptLine, ReturnDraft, ReturnInvoice,
};
use kikeru_domain::shop::tax::RateTotal;
use kikeru_domain::{Currency, MemberId, Order, OrderId, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Statement,
};
use serde::{Deserialize, Serialize};

use crate::entity::{order, receipt, receipt_sequence, return_invoice};
use crate::{Error, Result, SqlStore, Stale, corrupt, from_millis, millis};

#[derive(Serialize, Deserialize)]
struct StoredLine {
    title_ja: String,
    title_en: String,
    unit_price: i64,
    quantity: u32,
    rate: u32,
}

#[derive(Serialize, Deserialize)]
struct StoredRate {
    rate: u32,
    inclusive: i64,
    tax: i64,
    exclusive: i64,
}

/// A receipt's content as stored: as it was issued.
#[derive(Serialize, Deserialize)]
struct Stored {
    paid_at: i64,
    currency: String,
    lines: Vec<StoredLine>,
    per_rate: Vec<StoredRate>,
    total: i64,
    issuer: String,
    registration_number: Option<String>,
    #[serde(default)]
    recipient: Option<String>,
    #[serde(default)]
    reissues: u32,
}

/// A return invoice's content as stored: as it was issued.
#[derive(Serialize, Deserialize)]
struct StoredReturn {
    refunded_at: i64,
    paid_at: i64,
    currency: String,
    lines: Vec<StoredLine>,
    per_rate: Vec<StoredRate>,
    total: i64,
    issuer: String,
    registration_number: Option<String>,
}

fn stored_lines(lines: &[ReceiptLine]) -> Vec<StoredLine> {
    lines
        .iter()
        .map(|l| StoredLine {
            title_ja: l.title_ja.clone(),
            title_en: l.title_en.clone(),
            unit_price: l.unit_price,
            quantity: l.quantity,
            rate: l.rate,
        })
        .collect()
}

fn stored_rates(rates: &[RateTotal]) -> Vec<StoredRate> {
    rates
        .iter()
        .map(|r| StoredRate {
            rate: r.rate,
            inclusive: r.inclusive,
            tax: r.tax,
            exclusive: r.exclusive,
        })
        .collect()
}

fn lines_of(stored: Vec<StoredLine>) -> Vec<ReceiptLine> {
    stored
        .into_iter()
        .map(|l| ReceiptLine {
            title_ja: l.title_ja,
            title_en: l.title_en,
            unit_price: l.unit_price,
            quantity: l.quantity,
            rate: l.rate,
        })
        .collect()
}

fn rates_of(stored: Vec<StoredRate>) -> Vec<RateTotal> {
    stored
        .into_iter()
        .map(|r| RateTotal {
            rate: r.rate,
            inclusive: r.inclusive,
            tax: r.tax,
            exclusive: r.exclusive,
        })
        .collect()
}

fn currency_of(code: &str) -> Result<Currency> {
    code.parse::<Currency>()
        .map_err(|_| corrupt("receipt currency"))
}

fn to_stored(d: &ReceiptDraft) -> Stored {
    Stored {
        paid_at: millis(d.paid_at),
        currency: d.currency.code().to_owned(),
        lines: stored_lines(&d.lines),
        per_rate: stored_rates(&d.per_rate),
        total: d.total,
        issuer: d.issuer.clone(),
        registration_number: d.registration_number.clone(),
        recipient: d.recipient.clone(),
        reissues: d.reissues,
    }
}

pub(crate) fn to_receipt(row: receipt::Model) -> Result<Receipt> {
    let stored: Stored =
        serde_json::from_str(&row.content).map_err(|_| corrupt("receipt content"))?;
    Ok(Receipt {
        number: u64::try_from(row.number).map_err(|_| corrupt("receipt number"))?,
        content: ReceiptDraft {
            order_id: OrderId::from_uuid(row.order_id),
            member_id: MemberId::from_uuid(row.member_id),
            issued_at: from_millis(row.issued_at)?,
            paid_at: from_millis(stored.paid_at)?,
            currency: currency_of(&stored.currency)?,
            lines: lines_of(stored.lines),
            per_rate: rates_of(stored.per_rate),
            total: stored.total,
            issuer: stored.issuer,
            registration_number: stored.registration_number,
            recipient: stored.recipient,
            reissues: stored.reissues,
        },
    })
}

pub(crate) fn to_return(row: return_invoice::Model) -> Result<ReturnInvoice> {
    let stored: StoredReturn =
        serde_json::from_str(&row.content).map_err(|_| corrupt("return invoice content"))?;
    let number = |n: i64| u64::try_from(n).map_err(|_| corrupt("return invoice number"));
    Ok(ReturnInvoice {
        number: number(row.number)?,
        content: ReturnDraft {
            receipt_number: number(row.receipt_number)?,
            order_id: OrderId::from_uuid(row.order_id),
            member_id: MemberId::from_uuid(row.member_id),
            issued_at: from_millis(row.issued_at)?,
            refunded_at: from_millis(stored.refunded_at)?,
            paid_at: from_millis(stored.paid_at)?,
            currency: currency_of(&stored.currency)?,
            lines: lines_of(stored.lines),
            per_rate: rates_of(stored.per_rate),
            total: stored.total,
            issuer: stored.issuer,
            registration_number: stored.registration_number,
            case: (!row.case_ref.is_empty()).then_some(row.case_ref),
        },
    })
}

/// Returns due a return invoice, by their receipt: settled refunds and lost disputes without
/// one (`case_ref` the case), then orders refunded or charged back without a case and without
/// one (`case_ref` null). Parameter: how many.
const UNRETURNED_SQL: &str = "\
    SELECT * FROM ( \
        SELECT r.number AS receipt_number, c.reference AS case_ref, c.amount_minor AS amount, \
            c.updated_at AS returned_at, c.reported_at AS reported_at \
        FROM payment_cases c \
        JOIN payments p ON p.id = c.payment_id \
        JOIN receipts r ON r.order_id = p.order_id \
        WHERE ((c.kind = 'refund' AND c.state = 'succeeded') \
            OR (c.kind = 'dispute' AND c.state = 'lost')) \
        AND NOT EXISTS (SELECT 1 FROM return_invoices x \
            WHERE x.order_id = p.order_id AND x.case_ref = c.reference) \
        UNION ALL \
        SELECT r.number, NULL, o.total_minor, \
            (SELECT MAX(h.at) FROM payment_status_changes h \
             WHERE h.payment_id = p.id AND h.status IN ('refunded', 'charged_back')), 0 \
        FROM receipts r \
        JOIN orders o ON o.id = r.order_id \
        JOIN payments p ON p.order_id = o.id \
        WHERE o.status IN ('refunded', 'charged_back') \
        AND NOT EXISTS (SELECT 1 FROM payment_cases c WHERE c.payment_id = p.id) \
        AND NOT EXISTS (SELECT 1 FROM return_invoices x \
            WHERE x.order_id = o.id AND x.case_ref = '') \
    ) due ORDER BY receipt_number, reported_at, case_ref LIMIT $1";

/// Which `receipt_sequence` row numbers receipts.
pub(crate) const RECEIPTS: i32 = 1;
/// Which numbers return invoices.
pub(crate) const RETURNS: i32 = 2;

/// Takes the next number of `sequence` in `txn`.
async fn next_number(txn: &sea_orm::DatabaseTransaction, sequence: i32) -> Result<i64> {
    receipt_sequence::Entity::update_many()
        .col_expr(
            receipt_sequence::Column::LastNumber,
            Expr::col(receipt_sequence::Column::LastNumber).add(1),
        )
        .filter(receipt_sequence::Column::Id.eq(sequence))
        .exec(txn)
        .await?;
    Ok(receipt_sequence::Entity::find_by_id(sequence)
        .one(txn)
        .await?
        .ok_or_else(|| corrupt("receipt sequence"))?
        .last_number)
}

#[async_trait]
impl Receipts for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn unreceipted(&self, limit: u32) -> Result<Vec<Order>, StoreError> {
        self.read(async {
            let issued = receipt::Entity::find()
                .select_only()
                .column(receipt::Column::OrderId)
                .into_query();
            let ids: Vec<uuid::Uuid> = order::Entity::find()
                .select_only()
                .column(order::Column::Id)
                .filter(order::Column::PaidAt.is_not_null())
                .filter(order::Column::Id.not_in_subquery(issued))
                .order_by_asc(order::Column::PaidAt)
                .order_by_asc(order::Column::Id)
                .limit(u64::from(limit))
                .into_tuple()
                .all(&self.db)
                .await?;
            let mut orders = Vec::with_capacity(ids.len());
            for id in ids {
                if let Some((order, _)) =
                    kikeru_domain::shop::ports::Orders::by_id(self, OrderId::from_uuid(id)).await?
                {
                    orders.push(order);
                }
            }
            Ok(orders)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn issue(&self, draft: &ReceiptDraft) -> Result<Receipt, StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let content = serde_json::to_string(&to_stored(draft)).map_err(Error::other)?;
            let number = next_number(txn, RECEIPTS).await?;
            let row = receipt::ActiveModel {
                number: Set(number),
                order_id: Set(*draft.order_id.as_uuid()),
                member_id: Set(*draft.member_id.as_uuid()),
                issued_at: Set(millis(draft.issued_at)),
                content: Set(content),
            };
            // A second receipt for the order is a conflict; dropping the transaction rolls the
            // number back with it.
            receipt::Entity::insert(row).exec(txn).await?;
            Ok(Receipt {
                number: u64::try_from(number).map_err(|_| corrupt("receipt number"))?,
                content: draft.clone(),
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(&self, member: MemberId) -> Result<Vec<Receipt>, StoreError> {
        self.read(async {
            receipt::Entity::find()
                .filter(receipt::Column::MemberId.eq(*member.as_uuid()))
                .order_by_desc(receipt::Column::Number)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_receipt)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn reissue(
        &self,
        number: u64,
        member: MemberId,
        recipient: &str,
    ) -> Result<Receipt, StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let Ok(key) = i64::try_from(number) else {
                return Err(StoreError::NotFound.into());
            };
            // Locks the row on PostgreSQL, so two reissues at once count two.
            let row = receipt::Entity::find_by_id(key)
                .filter(receipt::Column::MemberId.eq(*member.as_uuid()))
                .lock_exclusive()
                .one(txn)
                .await?
                .ok_or(StoreError::NotFound)?;
            let mut receipt = to_receipt(row)?;
            receipt.content.recipient = Some(recipient.to_owned());
            receipt.content.reissues += 1;
            let content =
                serde_json::to_string(&to_stored(&receipt.content)).map_err(Error::other)?;
            receipt::Entity::update_many()
                .col_expr(receipt::Column::Content, Expr::value(content))
                .filter(receipt::Column::Number.eq(key))
                .exec(txn)
                .await?;
            Ok(receipt)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_number(&self, number: u64) -> Result<Option<Receipt>, StoreError> {
        self.read(async {
            let Ok(number) = i64::try_from(number) else {
                return Ok(None);
            };
            receipt::Entity::find_by_id(number)
                .one(&self.db)
                .await?
                .map(to_receipt)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn unreturned(&self, limit: u32) -> Result<Vec<DueReturn>, StoreError> {
        self.read(async {
            let rows = self
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    self.db.get_database_backend(),
                    UNRETURNED_SQL,
                    [i64::from(limit).into()],
                ))
                .await?;
            let mut due = Vec::with_capacity(rows.len());
            for row in rows {
                let number: i64 = row.try_get("", "receipt_number")?;
                let receipt = receipt::Entity::find_by_id(number)
                    .one(&self.db)
                    .await?
                    .ok_or_else(|| corrupt("a due return's receipt"))?;
                let returned_at: Option<i64> = row.try_get("", "returned_at")?;
                due.push(DueReturn {
                    receipt: to_receipt(receipt)?,
                    case: row.try_get("", "case_ref")?,
                    amount: row.try_get("", "amount")?,
                    returned_at: from_millis(returned_at.ok_or_else(|| corrupt("return time"))?)?,
                });
            }
            Ok(due)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn issue_return(&self, draft: &ReturnDraft) -> Result<ReturnInvoice, StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let stored = StoredReturn {
                refunded_at: millis(draft.refunded_at),
                paid_at: millis(draft.paid_at),
                currency: draft.currency.code().to_owned(),
                lines: stored_lines(&draft.lines),
                per_rate: stored_rates(&draft.per_rate),
                total: draft.total,
                issuer: draft.issuer.clone(),
                registration_number: draft.registration_number.clone(),
            };
            let content = serde_json::to_string(&stored).map_err(Error::other)?;
            let receipt_number =
                i64::try_from(draft.receipt_number).map_err(|_| StoreError::NotFound)?;
            let number = next_number(txn, RETURNS).await?;
            let row = return_invoice::ActiveModel {
                number: Set(number),
                order_id: Set(*draft.order_id.as_uuid()),
                case_ref: Set(draft.case.clone().unwrap_or_default()),
                receipt_number: Set(receipt_number),
                member_id: Set(*draft.member_id.as_uuid()),
                issued_at: Set(millis(draft.issued_at)),
                content: Set(content),
            };
            return_invoice::Entity::insert(row).exec(txn).await?;
            Ok(ReturnInvoice {
                number: u64::try_from(number).map_err(|_| corrupt("return invoice number"))?,
                content: draft.clone(),
            })
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn returns_for_member(&self, member: MemberId) -> Result<Vec<ReturnInvoice>, StoreError> {
        self.read(async {
            return_invoice::Entity::find()
                .filter(return_invoice::Column::MemberId.eq(*member.as_uuid()))
                .order_by_desc(return_invoice::Column::Number)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_return)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn return_by_number(&self, number: u64) -> Result<Option<ReturnInvoice>, StoreError> {
        self.read(async {
            let Ok(number) = i64::try_from(number) else {
                return Ok(None);
            };
            return_invoice::Entity::find_by_id(number)
                .one(&self.db)
                .await?
                .map(to_return)
                .transpose()
        })
        .await
    }
}
