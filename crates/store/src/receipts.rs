//! Receipts on sea-orm. A receipt's number is taken from the one `receipt_sequence` row in the
//! transaction that stores the receipt: on PostgreSQL the row's lock makes concurrent issues
//! wait their turn, on SQLite the single writer does; a failed issue rolls its number back, so
//! the numbers have no gap and no repeat.

use async_trait::async_trait;
use kikeru_domain::receipt::{Receipt, ReceiptDraft, ReceiptLine, Receipts};
use kikeru_domain::tax::RateTotal;
use kikeru_domain::{Currency, MemberId, Order, OrderId, StoreError};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    TransactionTrait,
};
use serde::{Deserialize, Serialize};

use crate::entity::{order, receipt, receipt_sequence};
use crate::{SqlStore, corrupt, from_millis, millis, store_error};

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

fn to_stored(d: &ReceiptDraft) -> Stored {
    Stored {
        paid_at: millis(d.paid_at),
        currency: d.currency.code().to_owned(),
        lines: d
            .lines
            .iter()
            .map(|l| StoredLine {
                title_ja: l.title_ja.clone(),
                title_en: l.title_en.clone(),
                unit_price: l.unit_price,
                quantity: l.quantity,
                rate: l.rate,
            })
            .collect(),
        per_rate: d
            .per_rate
            .iter()
            .map(|r| StoredRate {
                rate: r.rate,
                inclusive: r.inclusive,
                tax: r.tax,
                exclusive: r.exclusive,
            })
            .collect(),
        total: d.total,
        issuer: d.issuer.clone(),
        registration_number: d.registration_number.clone(),
        recipient: d.recipient.clone(),
        reissues: d.reissues,
    }
}

fn to_receipt(row: receipt::Model) -> Result<Receipt, StoreError> {
    let stored: Stored =
        serde_json::from_str(&row.content).map_err(|_| corrupt("receipt content"))?;
    Ok(Receipt {
        number: u64::try_from(row.number).map_err(|_| corrupt("receipt number"))?,
        content: ReceiptDraft {
            order_id: OrderId::from_uuid(row.order_id),
            member_id: MemberId::from_uuid(row.member_id),
            issued_at: from_millis(row.issued_at)?,
            paid_at: from_millis(stored.paid_at)?,
            currency: stored
                .currency
                .parse::<Currency>()
                .map_err(|_| corrupt("receipt currency"))?,
            lines: stored
                .lines
                .into_iter()
                .map(|l| ReceiptLine {
                    title_ja: l.title_ja,
                    title_en: l.title_en,
                    unit_price: l.unit_price,
                    quantity: l.quantity,
                    rate: l.rate,
                })
                .collect(),
            per_rate: stored
                .per_rate
                .into_iter()
                .map(|r| RateTotal {
                    rate: r.rate,
                    inclusive: r.inclusive,
                    tax: r.tax,
                    exclusive: r.exclusive,
                })
                .collect(),
            total: stored.total,
            issuer: stored.issuer,
            registration_number: stored.registration_number,
            recipient: stored.recipient,
            reissues: stored.reissues,
        },
    })
}

#[async_trait]
impl Receipts for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn unreceipted(&self, limit: u32) -> Result<Vec<Order>, StoreError> {
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
            .await
            .map_err(store_error)?;
        let mut orders = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some((order, _)) =
                kikeru_domain::shop_ports::Orders::by_id(self, OrderId::from_uuid(id)).await?
            {
                orders.push(order);
            }
        }
        Ok(orders)
    }

    #[tracing::instrument(skip_all)]
    async fn issue(&self, draft: &ReceiptDraft) -> Result<Receipt, StoreError> {
        let content =
            serde_json::to_string(&to_stored(draft)).map_err(|e| StoreError::Other(Box::new(e)))?;
        let _turn = self.turn().await;
        let txn = self.db.begin().await.map_err(store_error)?;
        receipt_sequence::Entity::update_many()
            .col_expr(
                receipt_sequence::Column::LastNumber,
                Expr::col(receipt_sequence::Column::LastNumber).add(1),
            )
            .filter(receipt_sequence::Column::Id.eq(1))
            .exec(&txn)
            .await
            .map_err(store_error)?;
        let number = receipt_sequence::Entity::find_by_id(1)
            .one(&txn)
            .await
            .map_err(store_error)?
            .ok_or_else(|| corrupt("receipt sequence"))?
            .last_number;
        let row = receipt::ActiveModel {
            number: Set(number),
            order_id: Set(*draft.order_id.as_uuid()),
            member_id: Set(*draft.member_id.as_uuid()),
            issued_at: Set(millis(draft.issued_at)),
            content: Set(content),
        };
        // A second receipt for the order is a conflict; dropping the transaction rolls the
        // number back with it.
        receipt::Entity::insert(row)
            .exec(&txn)
            .await
            .map_err(store_error)?;
        txn.commit().await.map_err(store_error)?;
        Ok(Receipt {
            number: u64::try_from(number).map_err(|_| corrupt("receipt number"))?,
            content: draft.clone(),
        })
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(&self, member: MemberId) -> Result<Vec<Receipt>, StoreError> {
        receipt::Entity::find()
            .filter(receipt::Column::MemberId.eq(*member.as_uuid()))
            .order_by_desc(receipt::Column::Number)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_receipt)
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn reissue(
        &self,
        number: u64,
        member: MemberId,
        recipient: &str,
    ) -> Result<Receipt, StoreError> {
        let Ok(key) = i64::try_from(number) else {
            return Err(StoreError::NotFound);
        };
        let _turn = self.turn().await;
        let txn = self.db.begin().await.map_err(store_error)?;
        // Locks the row on PostgreSQL, so two reissues at once count two.
        let row = receipt::Entity::find_by_id(key)
            .filter(receipt::Column::MemberId.eq(*member.as_uuid()))
            .lock_exclusive()
            .one(&txn)
            .await
            .map_err(store_error)?
            .ok_or(StoreError::NotFound)?;
        let mut receipt = to_receipt(row)?;
        receipt.content.recipient = Some(recipient.to_owned());
        receipt.content.reissues += 1;
        let content = serde_json::to_string(&to_stored(&receipt.content))
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        receipt::Entity::update_many()
            .col_expr(receipt::Column::Content, Expr::value(content))
            .filter(receipt::Column::Number.eq(key))
            .exec(&txn)
            .await
            .map_err(store_error)?;
        txn.commit().await.map_err(store_error)?;
        Ok(receipt)
    }

    #[tracing::instrument(skip_all)]
    async fn by_number(&self, number: u64) -> Result<Option<Receipt>, StoreError> {
        let Ok(number) = i64::try_from(number) else {
            return Ok(None);
        };
        receipt::Entity::find_by_id(number)
            .one(&self.db)
            .await
            .map_err(store_error)?
            .map(to_receipt)
            .transpose()
    }
}
