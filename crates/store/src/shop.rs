//! The catalogue and orders on sea-orm. Applying a payment event is one transaction (on SQLite,
//! events waiting for the writer share one: group commit).

use async_trait::async_trait;
use kikeru_domain::order::{Transition, decide};
use kikeru_domain::outbox::Envelope;
use kikeru_domain::shop_ports::{Catalog, Orders};
use kikeru_domain::{
    AssetKey, Currency, EventOutcome, Localized, MemberId, Money, Order, OrderId, OrderLine,
    Payment, PaymentEvent, PaymentId, PaymentStatus, Product, ProductDraft, ProductId, Purchase,
    PurchaseCursor, Sku, StatusChange, StoreError, Timestamp,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

use crate::entity::{order, order_line, payment, payment_change, payment_event, product};
use crate::{SqlStore, corrupt, from_millis, millis, store_error};

fn money(minor: i64, currency: &str) -> Result<Money, StoreError> {
    let currency: Currency = currency.parse().map_err(|_| corrupt("currency"))?;
    Money::new(minor, currency).map_err(|_| corrupt("amount"))
}

fn status(name: &str) -> Result<PaymentStatus, StoreError> {
    PaymentStatus::from_name(name).ok_or_else(|| corrupt("payment status"))
}

fn to_product(row: product::Model) -> Result<Product, StoreError> {
    let bad = |_| corrupt("product");
    Ok(Product {
        id: ProductId::from_uuid(row.id),
        draft: ProductDraft {
            sku: Sku::parse(&row.sku).map_err(bad)?,
            title: Localized::title(&row.title_ja, &row.title_en).map_err(bad)?,
            description: Localized::description(&row.description_ja, &row.description_en)
                .map_err(bad)?,
            price: money(row.price_minor, &row.currency)?,
            active: row.active,
            audio: AssetKey::parse(&row.audio).map_err(bad)?,
            sample: row
                .sample
                .as_deref()
                .map(AssetKey::parse)
                .transpose()
                .map_err(bad)?,
        },
        created_at: from_millis(row.created_at)?,
        updated_at: from_millis(row.updated_at)?,
    })
}

fn product_row(p: &Product) -> product::ActiveModel {
    let d = &p.draft;
    product::ActiveModel {
        id: Set(*p.id.as_uuid()),
        sku: Set(d.sku.as_str().to_owned()),
        title_ja: Set(d.title.ja().to_owned()),
        title_en: Set(d.title.en().to_owned()),
        description_ja: Set(d.description.ja().to_owned()),
        description_en: Set(d.description.en().to_owned()),
        price_minor: Set(d.price.minor()),
        currency: Set(d.price.currency().code().to_owned()),
        active: Set(d.active),
        audio: Set(d.audio.as_str().to_owned()),
        sample: Set(d.sample.as_ref().map(|s| s.as_str().to_owned())),
        created_at: Set(millis(p.created_at)),
        updated_at: Set(millis(p.updated_at)),
    }
}

#[async_trait]
impl Catalog for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn save_all(&self, products: &[Product]) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let txn = self.db.begin().await.map_err(store_error)?;
        for p in products {
            let upsert = OnConflict::column(product::Column::Id)
                .update_columns([
                    product::Column::Sku,
                    product::Column::TitleJa,
                    product::Column::TitleEn,
                    product::Column::DescriptionJa,
                    product::Column::DescriptionEn,
                    product::Column::PriceMinor,
                    product::Column::Currency,
                    product::Column::Active,
                    product::Column::Audio,
                    product::Column::Sample,
                    product::Column::UpdatedAt,
                ])
                .to_owned();
            product::Entity::insert(product_row(p))
                .on_conflict(upsert)
                .exec(&txn)
                .await
                .map_err(store_error)?;
        }
        txn.commit().await.map_err(store_error)
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        let row = product::Entity::find_by_id(*id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(to_product).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn by_sku(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        let row = product::Entity::find()
            .filter(product::Column::Sku.eq(sku.as_str()))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(to_product).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn active(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut query = product::Entity::find().filter(product::Column::Active.eq(true));
        if let Some(after) = after {
            query = query.filter(product::Column::Sku.gt(after.as_str()));
        }
        query
            .order_by_asc(product::Column::Sku)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_product)
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn all(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        let mut query = product::Entity::find();
        if let Some(after) = after {
            query = query.filter(product::Column::Sku.gt(after.as_str()));
        }
        query
            .order_by_asc(product::Column::Sku)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_product)
            .collect()
    }
}

impl SqlStore {
    async fn load(&self, row: order::Model) -> Result<(Order, Payment), StoreError> {
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(row.id))
            .order_by_asc(order_line::Column::Line)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        let pay = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(row.id))
            .one(&self.db)
            .await
            .map_err(store_error)?
            .ok_or_else(|| corrupt("order without payment"))?;
        let mut payments = self.with_history(vec![pay]).await?;
        let payment = payments.pop().ok_or_else(|| corrupt("payment"))?;
        Ok((to_order(row, lines)?, payment))
    }

    async fn with_history(&self, rows: Vec<payment::Model>) -> Result<Vec<Payment>, StoreError> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let changes = payment_change::Entity::find()
            .filter(payment_change::Column::PaymentId.is_in(ids))
            .order_by_asc(payment_change::Column::Seq)
            .all(&self.db)
            .await
            .map_err(store_error)?;
        rows.into_iter()
            .map(|row| {
                let history = changes
                    .iter()
                    .filter(|c| c.payment_id == row.id)
                    .map(|c| {
                        Ok(StatusChange {
                            status: status(&c.status)?,
                            at: from_millis(c.at)?,
                            event_id: c.event_id.clone(),
                        })
                    })
                    .collect::<Result<Vec<_>, StoreError>>()?;
                Ok(Payment {
                    id: PaymentId::from_uuid(row.id),
                    order_id: OrderId::from_uuid(row.order_id),
                    member_id: MemberId::from_uuid(row.member_id),
                    provider: row.provider,
                    reference: row.reference,
                    checkout_url: row.checkout_url,
                    payment_ref: row.payment_ref,
                    amount: money(row.amount_minor, &row.currency)?,
                    status: status(&row.status)?,
                    history,
                    created_at: from_millis(row.created_at)?,
                })
            })
            .collect()
    }

    async fn load_one(
        &self,
        row: Option<order::Model>,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        match row {
            Some(row) => Ok(Some(self.load(row).await?)),
            None => Ok(None),
        }
    }
}

fn to_line(row: &order_line::Model) -> Result<OrderLine, StoreError> {
    Ok(OrderLine {
        product_id: ProductId::from_uuid(row.product_id),
        sku: Sku::parse(&row.sku).map_err(|_| corrupt("sku"))?,
        title: Localized::title(&row.title_ja, &row.title_en).map_err(|_| corrupt("title"))?,
        unit_price: money(row.unit_price_minor, &row.currency)?,
        quantity: u32::try_from(row.quantity).map_err(|_| corrupt("quantity"))?,
        tax_rate: u32::try_from(row.tax_rate).map_err(|_| corrupt("tax rate"))?,
    })
}

/// An order's per-rate tax as stored.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredTax {
    rate: u32,
    inclusive: i64,
    tax: i64,
    exclusive: i64,
}

fn taxes_json(taxes: &[kikeru_domain::tax::RateTotal]) -> Result<String, StoreError> {
    let stored: Vec<StoredTax> = taxes
        .iter()
        .map(|t| StoredTax {
            rate: t.rate,
            inclusive: t.inclusive,
            tax: t.tax,
            exclusive: t.exclusive,
        })
        .collect();
    serde_json::to_string(&stored).map_err(|e| StoreError::Other(Box::new(e)))
}

fn taxes_of(json: &str) -> Result<Vec<kikeru_domain::tax::RateTotal>, StoreError> {
    let stored: Vec<StoredTax> = serde_json::from_str(json).map_err(|_| corrupt("order taxes"))?;
    Ok(stored
        .into_iter()
        .map(|t| kikeru_domain::tax::RateTotal {
            rate: t.rate,
            inclusive: t.inclusive,
            tax: t.tax,
            exclusive: t.exclusive,
        })
        .collect())
}

fn to_order(row: order::Model, lines: Vec<order_line::Model>) -> Result<Order, StoreError> {
    Ok(Order {
        id: OrderId::from_uuid(row.id),
        member_id: MemberId::from_uuid(row.member_id),
        lines: lines.iter().map(to_line).collect::<Result<_, _>>()?,
        total: money(row.total_minor, &row.currency)?,
        taxes: taxes_of(&row.taxes)?,
        status: status(&row.status)?,
        idempotency_key: row.idempotency_key,
        created_at: from_millis(row.created_at)?,
        paid_at: row.paid_at.map(from_millis).transpose()?,
    })
}

/// The member's purchased lines, newest first, after a cursor (row-value comparison works on
/// both backends). Placeholders first appear in order, which both backends bind by position:
/// `$1` member, `$2`/`$3` the cursor's order, `$4` the page size, `$5` the cursor's line.
/// The orders are paged first (at most one per line of the page, plus the cursor's own order,
/// whose later lines may follow), so the join only ever sees a page's worth of orders and the
/// `orders_member_paid` index starts at the cursor, however deep the page.
const PURCHASES_SQL: &str = "SELECT o.id AS order_id, l.line, l.product_id, l.sku, l.title_ja, l.title_en, \
     l.unit_price_minor, l.currency, l.quantity, l.tax_rate, o.paid_at, o.status \
     FROM (SELECT id, paid_at, status FROM orders \
           WHERE member_id = $1 AND paid_at IS NOT NULL AND status IN ('paid', 'refunded') \
           AND paid_at <= $2 AND (paid_at, id) <= ($2, $3) \
           ORDER BY paid_at DESC, id DESC LIMIT $4 + 1) o \
     JOIN order_lines l ON l.order_id = o.id \
     WHERE (o.paid_at, o.id, l.line) < ($2, $3, $5) \
     ORDER BY o.paid_at DESC, o.id DESC, l.line DESC LIMIT $4";

#[async_trait]
impl Orders for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn create(&self, o: &Order, p: &Payment) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let txn = self.db.begin().await.map_err(store_error)?;
        let order_row = order::ActiveModel {
            id: Set(*o.id.as_uuid()),
            member_id: Set(*o.member_id.as_uuid()),
            status: Set(o.status.as_str().to_owned()),
            total_minor: Set(o.total.minor()),
            currency: Set(o.total.currency().code().to_owned()),
            idempotency_key: Set(o.idempotency_key.clone()),
            created_at: Set(millis(o.created_at)),
            paid_at: Set(o.paid_at.map(millis)),
            taxes: Set(taxes_json(&o.taxes)?),
        };
        order::Entity::insert(order_row)
            .exec(&txn)
            .await
            .map_err(store_error)?;
        let lines = o
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| order_line::ActiveModel {
                order_id: Set(*o.id.as_uuid()),
                line: Set(i as i32),
                product_id: Set(*l.product_id.as_uuid()),
                sku: Set(l.sku.as_str().to_owned()),
                title_ja: Set(l.title.ja().to_owned()),
                title_en: Set(l.title.en().to_owned()),
                unit_price_minor: Set(l.unit_price.minor()),
                currency: Set(l.unit_price.currency().code().to_owned()),
                quantity: Set(l.quantity as i32),
                tax_rate: Set(i32::try_from(l.tax_rate).unwrap_or(i32::MAX)),
            });
        order_line::Entity::insert_many(lines)
            .exec(&txn)
            .await
            .map_err(store_error)?;
        let payment_row = payment::ActiveModel {
            id: Set(*p.id.as_uuid()),
            order_id: Set(*p.order_id.as_uuid()),
            member_id: Set(*p.member_id.as_uuid()),
            provider: Set(p.provider.clone()),
            reference: Set(p.reference.clone()),
            checkout_url: Set(p.checkout_url.clone()),
            payment_ref: Set(p.payment_ref.clone()),
            amount_minor: Set(p.amount.minor()),
            currency: Set(p.amount.currency().code().to_owned()),
            status: Set(p.status.as_str().to_owned()),
            created_at: Set(millis(p.created_at)),
        };
        payment::Entity::insert(payment_row)
            .exec(&txn)
            .await
            .map_err(store_error)?;
        let changes = p
            .history
            .iter()
            .enumerate()
            .map(|(i, c)| payment_change::ActiveModel {
                payment_id: Set(*p.id.as_uuid()),
                seq: Set(i as i32),
                status: Set(c.status.as_str().to_owned()),
                at: Set(millis(c.at)),
                event_id: Set(c.event_id.clone()),
            });
        payment_change::Entity::insert_many(changes)
            .exec(&txn)
            .await
            .map_err(store_error)?;
        txn.commit().await.map_err(store_error)
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: OrderId) -> Result<Option<(Order, Payment)>, StoreError> {
        let row = order::Entity::find_by_id(*id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        self.load_one(row).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_idempotency_key(
        &self,
        member: MemberId,
        key: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        let row = order::Entity::find()
            .filter(order::Column::MemberId.eq(*member.as_uuid()))
            .filter(order::Column::IdempotencyKey.eq(key))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        self.load_one(row).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        let found = payment::Entity::find()
            .filter(payment::Column::Provider.eq(provider))
            .filter(payment::Column::Reference.eq(reference))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        let Some(found) = found else { return Ok(None) };
        let row = order::Entity::find_by_id(found.order_id)
            .one(&self.db)
            .await
            .map_err(store_error)?;
        self.load_one(row).await
    }

    #[tracing::instrument(skip_all)]
    async fn attach_checkout(
        &self,
        id: PaymentId,
        reference: &str,
        url: &str,
    ) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let result = payment::Entity::update_many()
            .col_expr(payment::Column::Reference, Expr::value(reference))
            .col_expr(payment::Column::CheckoutUrl, Expr::value(url))
            .filter(payment::Column::Id.eq(*id.as_uuid()))
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn apply_event(
        &self,
        event: &PaymentEvent,
        at: Timestamp,
    ) -> Result<EventOutcome, StoreError> {
        if self.db.get_database_backend() == DbBackend::Sqlite {
            return self.apply_event_in_turn(event, at).await;
        }
        apply_on_postgres(&self.db, event, at).await
    }

    #[tracing::instrument(skip_all)]
    async fn purchases(
        &self,
        member: MemberId,
        after: Option<PurchaseCursor>,
        limit: u32,
    ) -> Result<Vec<Purchase>, StoreError> {
        let (paid, order, line) = match after {
            Some(c) => (millis(c.paid_at), *c.order_id.as_uuid(), i64::from(c.line)),
            None => (i64::MAX, Uuid::max(), i64::MAX),
        };
        let values: [Value; 5] = [
            (*member.as_uuid()).into(),
            paid.into(),
            order.into(),
            i64::from(limit).into(),
            line.into(),
        ];
        let statement =
            Statement::from_sql_and_values(self.db.get_database_backend(), PURCHASES_SQL, values);
        let rows = self
            .db
            .query_all_raw(statement)
            .await
            .map_err(store_error)?;
        rows.iter()
            .map(|r| {
                let get_i64 = |c: &str| r.try_get::<i64>("", c).map_err(store_error);
                let get_text = |c: &str| r.try_get::<String>("", c).map_err(store_error);
                let line = order_line::Model {
                    order_id: r.try_get("", "order_id").map_err(store_error)?,
                    line: r.try_get("", "line").map_err(store_error)?,
                    product_id: r.try_get("", "product_id").map_err(store_error)?,
                    sku: get_text("sku")?,
                    title_ja: get_text("title_ja")?,
                    title_en: get_text("title_en")?,
                    unit_price_minor: get_i64("unit_price_minor")?,
                    currency: get_text("currency")?,
                    quantity: r.try_get("", "quantity").map_err(store_error)?,
                    tax_rate: r.try_get("", "tax_rate").map_err(store_error)?,
                };
                Ok(Purchase {
                    order_id: OrderId::from_uuid(line.order_id),
                    line: u32::try_from(line.line).map_err(|_| corrupt("line"))?,
                    item: to_line(&line)?,
                    paid_at: from_millis(get_i64("paid_at")?)?,
                    status: status(&get_text("status")?)?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn payments(
        &self,
        member: MemberId,
        before: Option<PaymentId>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError> {
        let mut query =
            payment::Entity::find().filter(payment::Column::MemberId.eq(*member.as_uuid()));
        if let Some(before) = before {
            query = query.filter(payment::Column::Id.lt(*before.as_uuid()));
        }
        let rows = query
            .order_by_desc(payment::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?;
        self.with_history(rows).await
    }

    #[tracing::instrument(skip_all)]
    async fn owned(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError> {
        let paid = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::MemberId.eq(*member.as_uuid()))
            .filter(order::Column::Status.eq(PaymentStatus::Paid.as_str()))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await
            .map_err(store_error)?;
        let mut products: Vec<Uuid> = order_line::Entity::find()
            .select_only()
            .column(order_line::Column::ProductId)
            .filter(order_line::Column::OrderId.is_in(paid))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await
            .map_err(store_error)?;
        products.sort();
        products.dedup();
        Ok(products.into_iter().map(ProductId::from_uuid).collect())
    }
}

/// Records the event and reads its payment: the first script of [`apply_in`].
/// `fresh` is 0 when the event was seen before; the payment's columns are NULL when no payment
/// has the reference (as checkout or as payment reference: two indexed lookups).
const RECORD_AND_READ_SQL: &str = "\
    INSERT INTO payment_events (provider, event_id, received_at) VALUES ($1, $2, $3) \
        ON CONFLICT DO NOTHING; \
    SELECT changes() AS fresh, \
        COALESCE(a.id, b.id) AS id, COALESCE(a.order_id, b.order_id) AS order_id, \
        COALESCE(a.status, b.status) AS status, \
        CASE WHEN a.id IS NULL THEN b.payment_ref ELSE a.payment_ref END AS payment_ref \
    FROM (SELECT 1) AS one \
    LEFT JOIN payments AS a ON a.provider = $1 AND a.reference = $4 \
    LEFT JOIN payments AS b ON a.id IS NULL AND b.provider = $1 AND b.payment_ref = $4";

/// Writes a payment's new status (and its provider reference when first known), numbers the
/// change, and moves the order: the second script of [`apply_in`]. When this is
/// the first payment, the order comes back (`part = 'order'`) with its lines and member, for
/// the receipt. Parameters: payment, status, time, event, payment reference, order, and the
/// name of the paid status.
const WRITE_SQL: &str = "\
    UPDATE payments SET status = $2, payment_ref = COALESCE(payment_ref, $5) WHERE id = $1; \
    INSERT INTO payment_status_changes (payment_id, seq, status, at, event_id) \
        SELECT $1, COUNT(*), $2, $3, $4 FROM payment_status_changes WHERE payment_id = $1; \
    UPDATE orders SET status = $2, paid_at = $3 \
        WHERE id = $6 AND $2 = $7 AND paid_at IS NULL \
        RETURNING 'order' AS part, id, member_id, status, total_minor, currency, \
            idempotency_key, created_at, paid_at, taxes; \
    UPDATE orders SET status = $2 WHERE id = $6 AND status <> $2; \
    SELECT 'line' AS part, order_id, line, product_id, sku, title_ja, title_en, \
        unit_price_minor, currency, quantity, tax_rate \
        FROM order_lines WHERE order_id = $6 AND $2 = $7 ORDER BY line; \
    SELECT 'member' AS part, members.* FROM members \
        JOIN orders ON orders.member_id = members.id WHERE orders.id = $6 AND $2 = $7";

/// A payment event waiting for SQLite's writer, with the way back to its caller.
#[derive(Debug)]
pub(crate) struct WaitingEvent {
    event: PaymentEvent,
    at: Timestamp,
    reply: tokio::sync::oneshot::Sender<Result<EventOutcome, StoreError>>,
}

/// At most this many events share one transaction.
const MOST_EVENTS_PER_COMMIT: usize = 64;

impl SqlStore {
    /// [`Orders::apply_event`] on SQLite, with group commit: the event joins the queue, and
    /// whichever waiting caller gets the writer's turn first applies every queued event in one
    /// transaction, with one durable commit (`synchronous=FULL`: one `fsync`) for all of them,
    /// and hands each caller its own outcome. Each event is still decided by the domain's
    /// [`decide`], in order, seeing the events before it; a duplicate within one batch is a
    /// duplicate. When the shared transaction fails, each event is applied again on its own,
    /// so one event's failure is never another's.
    async fn apply_event_in_turn(
        &self,
        event: &PaymentEvent,
        at: Timestamp,
    ) -> Result<EventOutcome, StoreError> {
        let (reply, mut outcome) = tokio::sync::oneshot::channel();
        self.waiting()?.push(WaitingEvent {
            event: event.clone(),
            at,
            reply,
        });
        let _turn = self.turn().await;
        loop {
            match outcome.try_recv() {
                // Applied by an earlier turn's holder, or by this one below.
                Ok(result) => return result,
                // Taken by a holder that was cancelled before it answered: apply it alone (an
                // event applied already is recognised as a duplicate).
                Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                    return apply_alone(&self.db, event, at).await;
                }
                // Still queued (only a turn's holder takes from the queue): lead a batch.
                Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
            }
            let batch: Vec<WaitingEvent> = {
                let mut waiting = self.waiting()?;
                let take = waiting.len().min(MOST_EVENTS_PER_COMMIT);
                waiting.drain(..take).collect()
            };
            if batch.is_empty() {
                return Err(StoreError::Other(
                    "a payment event left its queue unanswered".into(),
                ));
            }
            match apply_together(&self.db, &batch).await {
                Ok(outcomes) => {
                    for (waiting, outcome) in batch.into_iter().zip(outcomes) {
                        let _gone = waiting.reply.send(Ok(outcome));
                    }
                }
                Err(_) => {
                    for waiting in batch {
                        let result = apply_alone(&self.db, &waiting.event, waiting.at).await;
                        let _gone = waiting.reply.send(result);
                    }
                }
            }
        }
    }

    fn waiting(&self) -> Result<std::sync::MutexGuard<'_, Vec<WaitingEvent>>, StoreError> {
        self.waiting_events
            .lock()
            .map_err(|_| StoreError::Other("the payment event queue is poisoned".into()))
    }
}

/// Several events in one transaction, in order, their receipts put in the outbox together at
/// the end; fails as a whole.
async fn apply_together(
    db: &sea_orm::DatabaseConnection,
    batch: &[WaitingEvent],
) -> Result<Vec<EventOutcome>, StoreError> {
    let txn = db.begin().await.map_err(store_error)?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut receipts = Vec::new();
    for waiting in batch {
        let (outcome, receipt) = apply_in(&txn, &waiting.event, waiting.at).await?;
        outcomes.push(outcome);
        receipts.extend(receipt);
    }
    crate::unit::enqueue_all(&txn, &receipts).await?;
    txn.commit().await.map_err(store_error)?;
    Ok(outcomes)
}

/// One event in a transaction of its own.
async fn apply_alone(
    db: &sea_orm::DatabaseConnection,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<EventOutcome, StoreError> {
    let txn = db.begin().await.map_err(store_error)?;
    let (outcome, receipt) = apply_in(&txn, event, at).await?;
    crate::unit::enqueue_all(&txn, receipt.as_slice()).await?;
    txn.commit().await.map_err(store_error)?;
    Ok(outcome)
}

/// What the record-and-read statement of either backend answers about an event.
enum Read {
    /// The event was recorded before.
    Duplicate,
    /// No payment has the event's reference.
    Unknown,
    /// The payment it names, now locked.
    Payment(NamedPayment),
}

/// The payment an event names, as read before the domain decides.
struct NamedPayment {
    payment_id: Uuid,
    order_uuid: Uuid,
    current: PaymentStatus,
    /// The event's provider payment reference, when the payment does not know one yet.
    new_ref: Option<String>,
}

/// Reads a record-and-read row (`fresh`, then the payment's `id`, `order_id`, `status` and
/// `payment_ref`, null when none has the reference).
fn named_payment(read: &sea_orm::QueryResult, event: &PaymentEvent) -> Result<Read, StoreError> {
    if read.try_get::<i64>("", "fresh").map_err(store_error)? == 0 {
        return Ok(Read::Duplicate);
    }
    let Some(payment_id) = read
        .try_get::<Option<Uuid>>("", "id")
        .map_err(store_error)?
    else {
        return Ok(Read::Unknown);
    };
    let known_ref: Option<String> = read.try_get("", "payment_ref").map_err(store_error)?;
    Ok(Read::Payment(NamedPayment {
        payment_id,
        order_uuid: read.try_get("", "order_id").map_err(store_error)?,
        current: status(&read.try_get::<String>("", "status").map_err(store_error)?)?,
        new_ref: event.payment_ref.clone().filter(|_| known_ref.is_none()),
    }))
}

/// Keeps the provider's payment reference an event brought, when the payment had none, so
/// later events may name the payment by it.
async fn learn_payment_ref(
    txn: &sea_orm::DatabaseTransaction,
    payment_id: Uuid,
    new_ref: Option<String>,
) -> Result<(), StoreError> {
    if let Some(payment_ref) = new_ref {
        payment::Entity::update_many()
            .col_expr(payment::Column::PaymentRef, Expr::value(payment_ref))
            .filter(payment::Column::Id.eq(payment_id))
            .exec(txn)
            .await
            .map_err(store_error)?;
    }
    Ok(())
}

/// One event's unit of work on SQLite, inside a transaction that may hold others, in two
/// round trips to the connection's thread instead of a dozen: sqlx runs each SQLite statement
/// on the connection's own thread, and each trip costs more than the SQL itself. A script of
/// several statements is one trip (`$N` parameters name the same values in each). The
/// transition itself is still the domain's [`decide`], between the two scripts. The receipt of
/// a first payment comes back for the caller to put in the outbox before it commits, so a batch
/// enqueues all its receipts in one statement.
async fn apply_in(
    txn: &sea_orm::DatabaseTransaction,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<(EventOutcome, Option<Envelope>), StoreError> {
    let read = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            RECORD_AND_READ_SQL,
            [
                event.provider.clone().into(),
                event.event_id.clone().into(),
                millis(at).into(),
                event.reference.clone().into(),
            ],
        ))
        .await
        .map_err(store_error)?
        .ok_or_else(|| corrupt("event lookup"))?;
    let named = match named_payment(&read, event)? {
        Read::Duplicate => return Ok((EventOutcome::Duplicate, None)),
        Read::Unknown => {
            // Not recorded: a redelivery once the checkout is known must still apply, so the
            // event is not kept as seen.
            payment_event::Entity::delete_by_id((event.provider.clone(), event.event_id.clone()))
                .exec(txn)
                .await
                .map_err(store_error)?;
            return Ok((EventOutcome::UnknownReference, None));
        }
        Read::Payment(named) => named,
    };
    let NamedPayment {
        payment_id,
        order_uuid,
        current,
        new_ref,
    } = named;
    let order_id = OrderId::from_uuid(order_uuid);
    let next = match decide(current, event.signal) {
        Transition::Unchanged => {
            learn_payment_ref(txn, payment_id, new_ref).await?;
            let unchanged = EventOutcome::Unchanged {
                order_id,
                status: current,
            };
            return Ok((unchanged, None));
        }
        Transition::To(next) => next,
    };
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            WRITE_SQL,
            [
                payment_id.into(),
                next.as_str().into(),
                millis(at).into(),
                event.event_id.clone().into(),
                new_ref.into(),
                order_uuid.into(),
                PaymentStatus::Paid.as_str().into(),
            ],
        ))
        .await
        .map_err(store_error)?;
    let (mut paid, mut lines, mut member) = (None, Vec::new(), None);
    for row in &rows {
        match row
            .try_get::<String>("", "part")
            .map_err(store_error)?
            .as_str()
        {
            "order" => paid = Some(order::Model::from_query_result(row, "").map_err(store_error)?),
            "line" => {
                lines.push(order_line::Model::from_query_result(row, "").map_err(store_error)?)
            }
            "member" => {
                member = Some(
                    crate::entity::member::Model::from_query_result(row, "")
                        .map_err(store_error)?,
                );
            }
            _ => return Err(corrupt("paid order")),
        }
    }
    // Paid for the first time: the receipt goes out in this transaction (unless the member
    // has gone).
    let receipt = match (paid, member) {
        (Some(placed), Some(member)) => {
            let member = crate::to_member(member)?;
            let paid_at = from_millis(placed.paid_at.ok_or_else(|| corrupt("paid order"))?)?;
            let order = to_order(placed, lines)?;
            Some(Envelope::receipt(&order, &member, paid_at))
        }
        _ => None,
    };
    let applied = EventOutcome::Applied {
        order_id,
        status: next,
    };
    Ok((applied, receipt))
}

/// Records an event and reads the payment it names, locked until the transaction ends: by
/// checkout reference, else by payment reference (two indexed lookups). One row always:
/// `fresh` is 0 for an event recorded before (and then no payment is read), and the payment's
/// columns are null when no payment has the reference. While the payment's order is unpaid,
/// the row also carries what its receipt needs should this event pay it: the order (`o_`
/// columns), its lines (JSON) and its member's address and language. Parameters: provider,
/// reference, event, time.
const PG_RECORD_AND_READ_SQL: &str = "\
    WITH recorded AS ( \
        INSERT INTO payment_events (provider, event_id, received_at) VALUES ($1, $3, $4) \
        ON CONFLICT DO NOTHING RETURNING 1), \
    by_checkout AS ( \
        SELECT id, order_id, status, payment_ref FROM payments \
        WHERE provider = $1 AND reference = $2 AND EXISTS (SELECT 1 FROM recorded) \
        FOR UPDATE), \
    by_payment AS ( \
        SELECT id, order_id, status, payment_ref FROM payments \
        WHERE provider = $1 AND payment_ref = $2 AND EXISTS (SELECT 1 FROM recorded) \
        AND NOT EXISTS (SELECT 1 FROM by_checkout) FOR UPDATE), \
    found AS ( \
        SELECT id, order_id, status, payment_ref FROM by_checkout \
        UNION ALL SELECT id, order_id, status, payment_ref FROM by_payment) \
    SELECT (SELECT COUNT(*) FROM recorded) AS fresh, found.*, \
        o.id AS o_id, o.member_id AS o_member_id, o.status AS o_status, \
        o.total_minor AS o_total_minor, o.currency AS o_currency, \
        o.idempotency_key AS o_idempotency_key, o.created_at AS o_created_at, \
        o.paid_at AS o_paid_at, o.taxes AS o_taxes, \
        (SELECT json_agg(json_build_object( \
            'line', l.line, 'product_id', l.product_id, 'sku', l.sku, \
            'title_ja', l.title_ja, 'title_en', l.title_en, \
            'unit_price_minor', l.unit_price_minor, 'currency', l.currency, \
            'quantity', l.quantity, 'tax_rate', l.tax_rate) ORDER BY l.line) \
         FROM order_lines l WHERE l.order_id = o.id)::text AS lines_json, \
        m.email AS member_email, m.language AS member_language \
    FROM (SELECT 1) AS one LEFT JOIN found ON true \
    LEFT JOIN orders o ON o.id = found.order_id AND o.paid_at IS NULL \
    LEFT JOIN members m ON m.id = o.member_id";

/// Moves a payment and its order in one statement: the payment's status (and its provider
/// reference when first known), the numbered change, and the order's status — stamping
/// `paid_at` when this is the first payment, and then putting the receipt given in `$8`…`$17`
/// in the outbox, provided its member still has that address. Answers the order's ID; no row
/// when the order is missing. Parameters: payment, status, time, event, payment reference,
/// order, the name of the paid status, and the receipt's outbox row (all null when there is
/// none).
const PG_WRITE_SQL: &str = concat!(
    "WITH moved AS ( \
        UPDATE payments SET status = $2, payment_ref = COALESCE(payment_ref, $5) WHERE id = $1), \
    numbered AS ( \
        INSERT INTO payment_status_changes (payment_id, seq, status, at, event_id) \
        SELECT $1, COUNT(*), $2, $3, $4 FROM payment_status_changes WHERE payment_id = $1), \
    before AS (SELECT paid_at IS NULL AND $2 = $7 AS first FROM orders WHERE id = $6), \
    placed AS ( \
        UPDATE orders SET status = $2, \
            paid_at = CASE WHEN paid_at IS NULL AND $2 = $7 THEN $3 ELSE paid_at END \
        WHERE id = $6 RETURNING id), \
    receipt AS ( \
        INSERT INTO outbox (",
    crate::unit::outbox_columns!(),
    ") \
        SELECT $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 FROM before \
        WHERE before.first AND $8::uuid IS NOT NULL \
        AND EXISTS (SELECT 1 FROM members WHERE id = $9 AND email = $11)) \
    SELECT id FROM placed"
);

/// One order line as [`PG_RECORD_AND_READ_SQL`] hands it back.
#[derive(serde::Deserialize)]
struct JsonLine {
    line: i32,
    product_id: Uuid,
    sku: String,
    title_ja: String,
    title_en: String,
    unit_price_minor: i64,
    currency: String,
    quantity: i32,
    tax_rate: i32,
}

/// The receipt of the order [`PG_RECORD_AND_READ_SQL`] read unpaid, as it would be sent if this
/// event, at `at`, pays it; `None` when the order was paid already or its member is gone.
fn receipt_of_unpaid(
    read: &sea_orm::QueryResult,
    at: Timestamp,
) -> Result<Option<Envelope>, StoreError> {
    let unpaid: Option<Uuid> = read.try_get("", "o_id").map_err(store_error)?;
    let email: Option<String> = read.try_get("", "member_email").map_err(store_error)?;
    let language: Option<String> = read.try_get("", "member_language").map_err(store_error)?;
    let (Some(order_uuid), Some(email), Some(language)) = (unpaid, email, language) else {
        return Ok(None);
    };
    let placed = order::Model::from_query_result(read, "o_").map_err(store_error)?;
    let json: Option<String> = read.try_get("", "lines_json").map_err(store_error)?;
    let lines: Vec<JsonLine> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
        .map_err(|_| corrupt("order lines"))?;
    let lines: Vec<order_line::Model> = lines
        .into_iter()
        .map(|l| order_line::Model {
            order_id: order_uuid,
            line: l.line,
            product_id: l.product_id,
            sku: l.sku,
            title_ja: l.title_ja,
            title_en: l.title_en,
            unit_price_minor: l.unit_price_minor,
            currency: l.currency,
            quantity: l.quantity,
            tax_rate: l.tax_rate,
        })
        .collect();
    let member_id = MemberId::from_uuid(placed.member_id);
    // Paid at `at` as stored: to the millisecond.
    let paid_at = from_millis(millis(at))?;
    let order = to_order(placed, lines)?;
    let to = kikeru_domain::Email::parse(&email).map_err(|_| corrupt("email"))?;
    let language = language.parse().map_err(|_| corrupt("language"))?;
    Ok(Some(Envelope::receipt_to(
        &order, member_id, &to, language, paid_at,
    )))
}

/// [`Orders::apply_event`] on PostgreSQL in four round trips: one statement records the event
/// (a duplicate stops here), reads and locks its payment and, while the order is unpaid, reads
/// what its receipt needs; the domain decides; one statement moves payment and order and, on
/// the first payment, puts the receipt in the outbox; then the commit.
async fn apply_on_postgres(
    db: &sea_orm::DatabaseConnection,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<EventOutcome, StoreError> {
    let txn = db.begin().await.map_err(store_error)?;
    let read = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            PG_RECORD_AND_READ_SQL,
            [
                event.provider.clone().into(),
                event.reference.clone().into(),
                event.event_id.clone().into(),
                millis(at).into(),
            ],
        ))
        .await
        .map_err(store_error)?
        .ok_or_else(|| corrupt("event lookup"))?;
    let named = match named_payment(&read, event)? {
        Read::Duplicate => {
            txn.rollback().await.map_err(store_error)?;
            return Ok(EventOutcome::Duplicate);
        }
        Read::Unknown => {
            // Not recorded: a redelivery once the checkout is known must still apply.
            txn.rollback().await.map_err(store_error)?;
            return Ok(EventOutcome::UnknownReference);
        }
        Read::Payment(named) => named,
    };
    let NamedPayment {
        payment_id,
        order_uuid,
        current,
        new_ref,
    } = named;
    let order_id = OrderId::from_uuid(order_uuid);
    let next = match decide(current, event.signal) {
        Transition::Unchanged => {
            learn_payment_ref(&txn, payment_id, new_ref).await?;
            txn.commit().await.map_err(store_error)?;
            return Ok(EventOutcome::Unchanged {
                order_id,
                status: current,
            });
        }
        Transition::To(next) => next,
    };
    // Should this event pay the order for the first time, its receipt goes out in the same
    // statement (none when the member is gone).
    let receipt = match next {
        PaymentStatus::Paid => receipt_of_unpaid(&read, at)?,
        _ => None,
    };
    let mut values = vec![
        payment_id.into(),
        next.as_str().into(),
        millis(at).into(),
        event.event_id.clone().into(),
        new_ref.into(),
        order_uuid.into(),
        PaymentStatus::Paid.as_str().into(),
    ];
    match &receipt {
        Some(envelope) => values.extend(crate::unit::outbox_values(envelope)?),
        None => values.extend([
            sea_orm::Value::Uuid(None),
            sea_orm::Value::Uuid(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::BigInt(None),
            sea_orm::Value::String(None),
            sea_orm::Value::Int(None),
            sea_orm::Value::BigInt(None),
        ]),
    }
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        PG_WRITE_SQL,
        values,
    ))
    .await
    .map_err(store_error)?
    .ok_or_else(|| corrupt("the paid order"))?;
    txn.commit().await.map_err(store_error)?;
    Ok(EventOutcome::Applied {
        order_id,
        status: next,
    })
}

#[cfg(test)]
mod tests {
    use kikeru_contract::fixtures::{NOW, given_members, order, payment_event, product, uuid};
    use kikeru_domain::shop_ports::{Catalog, Orders};
    use kikeru_domain::{EventOutcome, MemberId, PaymentSignal, PaymentStatus};
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    /// Events that share one SQLite transaction (group commit) keep their own fates: when one
    /// fails — here its payment's stored status cannot be read — the others are applied on
    /// their own, and the failed one is not taken as seen, so a redelivery applies it.
    #[tokio::test]
    async fn a_failing_event_fails_alone_in_its_batch() {
        let store = crate::fixtures::sqlite().await.expect("SQLite");
        given_members(&*store, &[1]).await;
        let item = product(1, 1100, true);
        store
            .save_all(std::slice::from_ref(&item))
            .await
            .expect("product");
        let mut orders = Vec::new();
        for n in 1..=3 {
            let (o, p) = order(n, MemberId::from_uuid(uuid(1)), &[&item], None);
            store.create(&o, &p).await.expect("order");
            store
                .attach_checkout(p.id, &format!("ref-{n}"), "https://pay.example/")
                .await
                .expect("checkout");
            orders.push(o.id);
        }
        let set_status = |status: &str| {
            Statement::from_string(
                DbBackend::Sqlite,
                format!("UPDATE payments SET status = '{status}' WHERE reference = 'ref-2'"),
            )
        };
        store
            .db
            .execute_raw(set_status("unreadable"))
            .await
            .expect("corrupt");
        let events: Vec<_> = (1..=3)
            .map(|n| {
                payment_event(
                    &format!("evt-{n}"),
                    &format!("ref-{n}"),
                    PaymentSignal::Succeeded,
                )
            })
            .collect();
        let port: &dyn Orders = &*store;

        // The writer's turn is held until all three wait, so they are applied together.
        let turn = store.turn().await;
        let queue = &*store;
        let release = async move {
            while queue.waiting().expect("queue").len() < 3 {
                tokio::task::yield_now().await;
            }
            drop(turn);
        };
        let (first, second, third, ()) = tokio::join!(
            port.apply_event(&events[0], NOW),
            port.apply_event(&events[1], NOW),
            port.apply_event(&events[2], NOW),
            release
        );
        for (result, id) in [(first, orders[0]), (third, orders[2])] {
            assert_eq!(
                result.expect("applied"),
                EventOutcome::Applied {
                    order_id: id,
                    status: PaymentStatus::Paid
                }
            );
        }
        assert!(second.is_err(), "{second:?}");

        store
            .db
            .execute_raw(set_status("pending"))
            .await
            .expect("repair");
        assert_eq!(
            port.apply_event(&events[1], NOW)
                .await
                .expect("redelivered"),
            EventOutcome::Applied {
                order_id: orders[1],
                status: PaymentStatus::Paid
            }
        );
        for id in orders {
            let (_, payment) = port.by_id(id).await.expect("read").expect("present");
            assert_eq!(payment.history.len(), 2, "pending, then paid once");
        }
    }
}
