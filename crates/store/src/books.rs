//! The books on sea-orm: the receipts and return invoices of a period with what the books need
//! of their orders (SKU and creator of each line), and the records they are reconciled with.
//!
//! A document's date (payment, return) is inside its stored content; documents are issued
//! after that date, so `issued_at >= from` narrows the rows in SQL and the date itself decides.

use std::collections::HashMap;

use async_trait::async_trait;
use kikeru_domain::office::books::check::{Numbers, PaidOrder, Records, SettledReturn};
use kikeru_domain::office::books::ports::Books;
use kikeru_domain::office::books::{Item, Return, ReturnKind, Sale};
use kikeru_domain::{Creator, StoreError, Timestamp};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::entity::{order_line, product, receipt, receipt_sequence, return_invoice};
use crate::receipts::{RECEIPTS, RETURNS, to_receipt, to_return};
use crate::{Result, SqlStore, corrupt, from_millis, millis};

/// A product's ID and its creator's key and names.
type CreatorRow = (Uuid, Option<String>, Option<String>, Option<String>);

/// How many IDs go in one `IN (…)` list.
const CHUNK: usize = 500;

impl SqlStore {
    /// The SKU and creator of each line of each order, by order.
    async fn items(&self, orders: &[Uuid]) -> Result<HashMap<Uuid, Vec<Item>>> {
        let mut lines = Vec::new();
        for chunk in orders.chunks(CHUNK) {
            lines.extend(
                order_line::Entity::find()
                    .filter(order_line::Column::OrderId.is_in(chunk.iter().copied()))
                    .order_by_asc(order_line::Column::OrderId)
                    .order_by_asc(order_line::Column::Line)
                    .all(&self.db)
                    .await?,
            );
        }
        let mut products: Vec<Uuid> = lines.iter().map(|l| l.product_id).collect();
        products.sort_unstable();
        products.dedup();
        let mut creators: HashMap<Uuid, Creator> = HashMap::new();
        for chunk in products.chunks(CHUNK) {
            let rows: Vec<CreatorRow> = product::Entity::find()
                .select_only()
                .column(product::Column::Id)
                .column(product::Column::CreatorKey)
                .column(product::Column::CreatorJa)
                .column(product::Column::CreatorEn)
                .filter(product::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(&self.db)
                .await?;
            for (id, key, ja, en) in rows {
                if let (Some(key), Some(ja), Some(en)) = (key, ja, en) {
                    let creator =
                        Creator::new(&key, &ja, &en).map_err(|_| corrupt("a product's creator"))?;
                    creators.insert(id, creator);
                }
            }
        }
        let mut items: HashMap<Uuid, Vec<Item>> = HashMap::new();
        for line in lines {
            items.entry(line.order_id).or_default().push(Item {
                sku: line.sku,
                creator: creators.get(&line.product_id).cloned(),
            });
        }
        Ok(items)
    }

    /// The numbers `sequence` gave and those the table's rows hold.
    async fn numbers(&self, sequence: i32, held: Vec<i64>) -> Result<Numbers> {
        let last = receipt_sequence::Entity::find_by_id(sequence)
            .one(&self.db)
            .await?
            .map_or(0, |row| row.last_number);
        let number = |n: i64| u64::try_from(n).map_err(|_| corrupt("a document number"));
        Ok(Numbers {
            last: number(last)?,
            held: held.into_iter().map(number).collect::<Result<_>>()?,
        })
    }
}

/// Orders paid in `[$1, $2)` with their receipts. The total of a receipt is in its content.
const PAID_SQL: &str = "\
    SELECT o.id AS order_id, o.paid_at AS paid_at, o.total_minor AS total, \
        r.number AS number, r.content AS content \
    FROM orders o LEFT JOIN receipts r ON r.order_id = o.id \
    WHERE o.paid_at >= $1 AND o.paid_at < $2 \
    ORDER BY o.paid_at, o.id";

/// Settled cases (succeeded refunds, lost disputes) updated in `[$1, $2)`, then whole returns
/// reported without a case (their time is the status change's, filtered by the caller), each
/// with its return invoice.
const RETURNED_SQL: &str = "\
    SELECT p.order_id AS order_id, c.reference AS case_ref, c.kind AS kind, \
        c.amount_minor AS amount, c.updated_at AS at, x.number AS number, x.content AS content \
    FROM payment_cases c \
    JOIN payments p ON p.id = c.payment_id \
    LEFT JOIN return_invoices x ON x.order_id = p.order_id AND x.case_ref = c.reference \
    WHERE ((c.kind = 'refund' AND c.state = 'succeeded') \
        OR (c.kind = 'dispute' AND c.state = 'lost')) \
    AND c.updated_at >= $1 AND c.updated_at < $2 \
    UNION ALL \
    SELECT o.id, '', CASE WHEN o.status = 'charged_back' THEN 'dispute' ELSE 'refund' END, \
        o.total_minor, \
        (SELECT MAX(h.at) FROM payment_status_changes h \
         WHERE h.payment_id = p.id AND h.status IN ('refunded', 'charged_back')), \
        x.number, x.content \
    FROM orders o \
    JOIN payments p ON p.order_id = o.id \
    LEFT JOIN return_invoices x ON x.order_id = o.id AND x.case_ref = '' \
    WHERE o.status IN ('refunded', 'charged_back') \
    AND NOT EXISTS (SELECT 1 FROM payment_cases c WHERE c.payment_id = p.id)";

/// The total written in a document's stored content.
fn total_in(content: &str) -> Result<i64> {
    #[derive(serde::Deserialize)]
    struct Total {
        total: i64,
    }
    serde_json::from_str::<Total>(content)
        .map(|t| t.total)
        .map_err(|_| corrupt("a document's content"))
}

fn kind_of(kind: &str) -> ReturnKind {
    if kind == "dispute" {
        ReturnKind::Chargeback
    } else {
        ReturnKind::Refund
    }
}

#[async_trait]
impl Books for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn sales(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Sale>, StoreError> {
        self.read(async {
            let rows = receipt::Entity::find()
                .filter(receipt::Column::IssuedAt.gte(millis(from)))
                .all(&self.db)
                .await?;
            let mut receipts = Vec::with_capacity(rows.len());
            for row in rows {
                let receipt = to_receipt(row)?;
                let paid = receipt.content.paid_at;
                if paid >= from && paid < to {
                    receipts.push(receipt);
                }
            }
            receipts.sort_by_key(|r| (r.content.paid_at, r.number));
            let ids: Vec<Uuid> = receipts
                .iter()
                .map(|r| *r.content.order_id.as_uuid())
                .collect();
            let mut items = self.items(&ids).await?;
            Ok(receipts
                .into_iter()
                .map(|receipt| Sale {
                    items: items
                        .remove(receipt.content.order_id.as_uuid())
                        .unwrap_or_default(),
                    receipt,
                })
                .collect())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn returns(&self, from: Timestamp, to: Timestamp) -> Result<Vec<Return>, StoreError> {
        self.read(async {
            let rows = return_invoice::Entity::find()
                .filter(return_invoice::Column::IssuedAt.gte(millis(from)))
                .all(&self.db)
                .await?;
            let mut invoices = Vec::with_capacity(rows.len());
            for row in rows {
                let invoice = to_return(row)?;
                let at = invoice.content.refunded_at;
                if at >= from && at < to {
                    invoices.push(invoice);
                }
            }
            invoices.sort_by_key(|r| (r.content.refunded_at, r.number));
            let ids: Vec<Uuid> = invoices
                .iter()
                .map(|r| *r.content.order_id.as_uuid())
                .collect();
            let items = self.items(&ids).await?;
            // The kind: the case's, or for a whole return without one, the order's status.
            let kinds: Vec<(String, String)> = self
                .db
                .query_all_raw(Statement::from_string(
                    self.db.get_database_backend(),
                    "SELECT reference, kind FROM payment_cases",
                ))
                .await?
                .into_iter()
                .map(|row| Ok((row.try_get("", "reference")?, row.try_get("", "kind")?)))
                .collect::<Result<_>>()?;
            let kinds: HashMap<String, String> = kinds.into_iter().collect();
            let mut returns = Vec::with_capacity(invoices.len());
            for invoice in invoices {
                let kind = match &invoice.content.case {
                    Some(case) => kind_of(kinds.get(case).map_or("refund", String::as_str)),
                    None => {
                        let status: Option<String> = crate::entity::order::Entity::find_by_id(
                            *invoice.content.order_id.as_uuid(),
                        )
                        .select_only()
                        .column(crate::entity::order::Column::Status)
                        .into_tuple()
                        .one(&self.db)
                        .await?;
                        if status.as_deref() == Some("charged_back") {
                            ReturnKind::Chargeback
                        } else {
                            ReturnKind::Refund
                        }
                    }
                };
                returns.push(Return {
                    items: items
                        .get(invoice.content.order_id.as_uuid())
                        .cloned()
                        .unwrap_or_default(),
                    invoice,
                    kind,
                });
            }
            Ok(returns)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn records(&self, from: Timestamp, to: Timestamp) -> Result<Records, StoreError> {
        self.read(async {
            let backend = self.db.get_database_backend();
            let range = [millis(from).into(), millis(to).into()];
            let document = |number: Option<i64>, content: Option<String>| -> Result<_> {
                match (number, content) {
                    (Some(n), Some(c)) => Ok(Some((
                        u64::try_from(n).map_err(|_| corrupt("a document number"))?,
                        total_in(&c)?,
                    ))),
                    _ => Ok(None),
                }
            };
            let mut paid = Vec::new();
            for row in self
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    PAID_SQL,
                    range.clone(),
                ))
                .await?
            {
                paid.push(PaidOrder {
                    order_id: kikeru_domain::OrderId::from_uuid(row.try_get("", "order_id")?),
                    paid_at: from_millis(row.try_get("", "paid_at")?)?,
                    total: row.try_get("", "total")?,
                    receipt: document(row.try_get("", "number")?, row.try_get("", "content")?)?,
                });
            }
            let mut returned = Vec::new();
            for row in self
                .db
                .query_all_raw(Statement::from_sql_and_values(backend, RETURNED_SQL, range))
                .await?
            {
                let Some(at) = row.try_get::<Option<i64>>("", "at")? else {
                    continue;
                };
                let at = from_millis(at)?;
                if at < from || at >= to {
                    continue;
                }
                let case: String = row.try_get("", "case_ref")?;
                let kind: String = row.try_get("", "kind")?;
                returned.push(SettledReturn {
                    order_id: kikeru_domain::OrderId::from_uuid(row.try_get("", "order_id")?),
                    case: (!case.is_empty()).then_some(case),
                    kind: kind_of(&kind),
                    amount: row.try_get("", "amount")?,
                    at,
                    invoice: document(row.try_get("", "number")?, row.try_get("", "content")?)?,
                });
            }
            returned.sort_by_key(|r| r.at);
            let receipts: Vec<i64> = receipt::Entity::find()
                .select_only()
                .column(receipt::Column::Number)
                .order_by_asc(receipt::Column::Number)
                .into_tuple()
                .all(&self.db)
                .await?;
            let returns: Vec<i64> = return_invoice::Entity::find()
                .select_only()
                .column(return_invoice::Column::Number)
                .order_by_asc(return_invoice::Column::Number)
                .into_tuple()
                .all(&self.db)
                .await?;
            Ok(Records {
                paid,
                returned,
                receipts: self.numbers(RECEIPTS, receipts).await?,
                returns: self.numbers(RETURNS, returns).await?,
            })
        })
        .await
    }
}
