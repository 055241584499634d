//! The catalogue and orders on sea-orm. Applying a payment event is one transaction (on SQLite,
//! events waiting for the writer share one: group commit).

use async_trait::async_trait;
use kikeru_domain::mail::outbox::Envelope;
use kikeru_domain::shop::order::{Step, step};
use kikeru_domain::shop::ports::{Catalog, Orders};
use kikeru_domain::{
    AssetKey, Cover, Creator, Currency, EventOutcome, Localized, MemberId, Money, News, Order,
    OrderId, OrderLine, Payment, PaymentEvent, PaymentId, PaymentStatus, Product, ProductDraft,
    ProductId, Purchase, PurchaseCursor, Reading, Sku, StatusChange, StoreError, Tag, Timestamp,
};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, FromQueryResult,
    QueryFilter, QueryOrder, QuerySelect, Statement, TransactionTrait, Value,
};
use uuid::Uuid;

use crate::entity::{order, order_line, payment, payment_change, payment_event, product};
use crate::{Error, Result, SqlStore, Stale, corrupt, from_millis, millis};

mod cases;
mod postgres;
mod search;
mod sqlite;

pub(crate) use sqlite::WaitingEvent;

fn money(minor: i64, currency: &str) -> Result<Money> {
    let currency: Currency = currency.parse().map_err(|_| corrupt("currency"))?;
    Money::new(minor, currency).map_err(|_| corrupt("amount"))
}

fn status(name: &str) -> Result<PaymentStatus> {
    PaymentStatus::from_name(name).ok_or_else(|| corrupt("payment status"))
}

fn to_product(row: product::Model) -> Result<Product> {
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
            reading: row
                .title_reading
                .as_deref()
                .map(Reading::parse)
                .transpose()
                .map_err(bad)?,
            creator: match (&row.creator_key, &row.creator_ja, &row.creator_en) {
                (Some(key), Some(ja), Some(en)) => Some(Creator::new(key, ja, en).map_err(bad)?),
                _ => None,
            },
            tags: row
                .tags
                .lines()
                .map(Tag::parse)
                .collect::<Result<_, _>>()
                .map_err(bad)?,
            cover: match (&row.cover, row.cover_width, row.cover_height) {
                (Some(key), Some(w), Some(h)) => {
                    let side = |n: i32| u32::try_from(n).map_err(|_| corrupt("cover"));
                    let image = AssetKey::parse(key).map_err(bad)?;
                    Some(Cover::new(image, side(w)?, side(h)?).map_err(bad)?)
                }
                _ => None,
            },
        },
        created_at: from_millis(row.created_at)?,
        updated_at: from_millis(row.updated_at)?,
    })
}

fn product_row(p: &Product) -> product::ActiveModel {
    let d = &p.draft;
    let keys = kikeru_domain::shop::search::keys(d);
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
        search_title: Set(keys.title),
        search_body: Set(keys.body),
        title_reading: Set(d.reading.as_ref().map(|r| r.as_str().to_owned())),
        creator_key: Set(d.creator.as_ref().map(|c| c.key.as_str().to_owned())),
        creator_ja: Set(d.creator.as_ref().map(|c| c.name.ja().to_owned())),
        creator_en: Set(d.creator.as_ref().map(|c| c.name.en().to_owned())),
        tags: Set(d
            .tags
            .iter()
            .map(Tag::as_str)
            .collect::<Vec<_>>()
            .join("\n")),
        cover: Set(d.cover.as_ref().map(|c| c.image.as_str().to_owned())),
        cover_width: Set(d.cover.as_ref().and_then(|c| i32::try_from(c.width).ok())),
        cover_height: Set(d.cover.as_ref().and_then(|c| i32::try_from(c.height).ok())),
    }
}

#[async_trait]
impl Catalog for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn save_all(&self, products: &[Product]) -> Result<(), StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
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
                        product::Column::SearchTitle,
                        product::Column::SearchBody,
                        product::Column::TitleReading,
                        product::Column::CreatorKey,
                        product::Column::CreatorJa,
                        product::Column::CreatorEn,
                        product::Column::Tags,
                        product::Column::Cover,
                        product::Column::CoverWidth,
                        product::Column::CoverHeight,
                    ])
                    .to_owned();
                product::Entity::insert(product_row(p))
                    .on_conflict(upsert)
                    .exec(txn)
                    .await?;
            }
            search::index(txn, products).await?;
            // Every storefront sharing this database notices the change by this version.
            txn.execute_unprepared("UPDATE catalog_state SET version = version + 1 WHERE id = 1")
                .await?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn version(&self) -> Result<u64, StoreError> {
        self.read(async {
            let backend = self.db.get_database_backend();
            let row = self
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    backend,
                    "SELECT version FROM catalog_state WHERE id = 1",
                ))
                .await?
                .ok_or_else(|| corrupt("catalogue version"))?;
            let version: i64 = row.try_get("", "version")?;
            u64::try_from(version).map_err(|_| corrupt("catalogue version"))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: ProductId) -> Result<Option<Product>, StoreError> {
        self.read(async {
            let row = product::Entity::find_by_id(*id.as_uuid())
                .one(&self.db)
                .await?;
            row.map(to_product).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_sku(&self, sku: &Sku) -> Result<Option<Product>, StoreError> {
        self.read(async {
            let row = product::Entity::find()
                .filter(product::Column::Sku.eq(sku.as_str()))
                .one(&self.db)
                .await?;
            row.map(to_product).transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn active(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        self.read(async {
            let mut query = product::Entity::find().filter(product::Column::Active.eq(true));
            if let Some(after) = after {
                query = query.filter(product::Column::Sku.gt(after.as_str()));
            }
            query
                .order_by_asc(product::Column::Sku)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_product)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn all(&self, after: Option<Sku>, limit: u32) -> Result<Vec<Product>, StoreError> {
        self.read(async {
            let mut query = product::Entity::find();
            if let Some(after) = after {
                query = query.filter(product::Column::Sku.gt(after.as_str()));
            }
            query
                .order_by_asc(product::Column::Sku)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_product)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn search(
        &self,
        query: &kikeru_domain::shop::search::SearchQuery,
        limit: u32,
    ) -> Result<Vec<Product>, StoreError> {
        self.read(search::find(&self.db, query, limit)).await
    }
}

impl SqlStore {
    async fn load(&self, row: order::Model) -> Result<(Order, Payment)> {
        let lines = order_line::Entity::find()
            .filter(order_line::Column::OrderId.eq(row.id))
            .order_by_asc(order_line::Column::Line)
            .all(&self.db)
            .await?;
        let pay = payment::Entity::find()
            .filter(payment::Column::OrderId.eq(row.id))
            .one(&self.db)
            .await?
            .ok_or_else(|| corrupt("order without payment"))?;
        let mut payments = self.with_history(vec![pay]).await?;
        let payment = payments.pop().ok_or_else(|| corrupt("payment"))?;
        Ok((to_order(row, lines)?, payment))
    }

    /// The products of the member's orders in `status`, each once.
    async fn products_in(&self, member: MemberId, status: PaymentStatus) -> Result<Vec<ProductId>> {
        let orders = order::Entity::find()
            .select_only()
            .column(order::Column::Id)
            .filter(order::Column::MemberId.eq(*member.as_uuid()))
            .filter(order::Column::Status.eq(status.as_str()))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?;
        let mut products: Vec<Uuid> = order_line::Entity::find()
            .select_only()
            .column(order_line::Column::ProductId)
            .filter(order_line::Column::OrderId.is_in(orders))
            .into_tuple::<Uuid>()
            .all(&self.db)
            .await?;
        products.sort();
        products.dedup();
        Ok(products.into_iter().map(ProductId::from_uuid).collect())
    }

    async fn with_history(&self, rows: Vec<payment::Model>) -> Result<Vec<Payment>> {
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let changes = payment_change::Entity::find()
            .filter(payment_change::Column::PaymentId.is_in(ids.clone()))
            .order_by_asc(payment_change::Column::Seq)
            .all(&self.db)
            .await?;
        let cases = cases::cases_of(&self.db, ids).await?;
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
                    .collect::<Result<Vec<_>>>()?;
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
                    cases: cases
                        .iter()
                        .filter(|c| c.payment_id == row.id)
                        .map(cases::to_case)
                        .collect::<Result<Vec<_>>>()?,
                    history,
                    created_at: from_millis(row.created_at)?,
                })
            })
            .collect()
    }

    async fn load_one(&self, row: Option<order::Model>) -> Result<Option<(Order, Payment)>> {
        match row {
            Some(row) => Ok(Some(self.load(row).await?)),
            None => Ok(None),
        }
    }
}

fn to_line(row: &order_line::Model) -> Result<OrderLine> {
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

fn taxes_json(taxes: &[kikeru_domain::shop::tax::RateTotal]) -> Result<String> {
    let stored: Vec<StoredTax> = taxes
        .iter()
        .map(|t| StoredTax {
            rate: t.rate,
            inclusive: t.inclusive,
            tax: t.tax,
            exclusive: t.exclusive,
        })
        .collect();
    serde_json::to_string(&stored).map_err(Error::other)
}

fn taxes_of(json: &str) -> Result<Vec<kikeru_domain::shop::tax::RateTotal>> {
    let stored: Vec<StoredTax> = serde_json::from_str(json).map_err(|_| corrupt("order taxes"))?;
    Ok(stored
        .into_iter()
        .map(|t| kikeru_domain::shop::tax::RateTotal {
            rate: t.rate,
            inclusive: t.inclusive,
            tax: t.tax,
            exclusive: t.exclusive,
        })
        .collect())
}

fn to_order(row: order::Model, lines: Vec<order_line::Model>) -> Result<Order> {
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
           WHERE member_id = $1 AND paid_at IS NOT NULL AND status IN \
               ('paid', 'refunded', 'refund_pending', 'disputed', 'charged_back') \
           AND paid_at <= $2 AND (paid_at, id) <= ($2, $3) \
           ORDER BY paid_at DESC, id DESC LIMIT $4 + 1) o \
     JOIN order_lines l ON l.order_id = o.id \
     WHERE (o.paid_at, o.id, l.line) < ($2, $3, $5) \
     ORDER BY o.paid_at DESC, o.id DESC, l.line DESC LIMIT $4";

#[async_trait]
impl Orders for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn create(&self, o: &Order, p: &Payment) -> Result<(), StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
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
            order::Entity::insert(order_row).exec(txn).await?;
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
            order_line::Entity::insert_many(lines).exec(txn).await?;
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
            payment::Entity::insert(payment_row).exec(txn).await?;
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
                .exec(txn)
                .await?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: OrderId) -> Result<Option<(Order, Payment)>, StoreError> {
        self.read(async {
            let row = order::Entity::find_by_id(*id.as_uuid())
                .one(&self.db)
                .await?;
            self.load_one(row).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_idempotency_key(
        &self,
        member: MemberId,
        key: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        self.read(async {
            let row = order::Entity::find()
                .filter(order::Column::MemberId.eq(*member.as_uuid()))
                .filter(order::Column::IdempotencyKey.eq(key))
                .one(&self.db)
                .await?;
            self.load_one(row).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_reference(
        &self,
        provider: &str,
        reference: &str,
    ) -> Result<Option<(Order, Payment)>, StoreError> {
        self.read(async {
            let found = payment::Entity::find()
                .filter(payment::Column::Provider.eq(provider))
                .filter(payment::Column::Reference.eq(reference))
                .one(&self.db)
                .await?;
            let Some(found) = found else { return Ok(None) };
            let row = order::Entity::find_by_id(found.order_id)
                .one(&self.db)
                .await?;
            self.load_one(row).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn attach_checkout(
        &self,
        id: PaymentId,
        reference: &str,
        url: &str,
    ) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let result = payment::Entity::update_many()
                .col_expr(payment::Column::Reference, Expr::value(reference))
                .col_expr(payment::Column::CheckoutUrl, Expr::value(url))
                .filter(payment::Column::Id.eq(*id.as_uuid()))
                .exec(&self.db)
                .await?;
            if result.rows_affected == 0 {
                return Err(StoreError::NotFound.into());
            }
            Ok(())
        })
        .await
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
        let apply = postgres::apply_on_postgres(&self.db, event, at);
        self.write(Stale::Nothing, apply).await
    }

    #[tracing::instrument(skip_all)]
    async fn purchases(
        &self,
        member: MemberId,
        after: Option<PurchaseCursor>,
        limit: u32,
    ) -> Result<Vec<Purchase>, StoreError> {
        self.read(async {
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
            let statement = Statement::from_sql_and_values(
                self.db.get_database_backend(),
                PURCHASES_SQL,
                values,
            );
            let rows = self.db.query_all_raw(statement).await?;
            rows.iter()
                .map(|r| {
                    let get_i64 = |c: &str| r.try_get::<i64>("", c);
                    let get_text = |c: &str| r.try_get::<String>("", c);
                    let line = order_line::Model {
                        order_id: r.try_get("", "order_id")?,
                        line: r.try_get("", "line")?,
                        product_id: r.try_get("", "product_id")?,
                        sku: get_text("sku")?,
                        title_ja: get_text("title_ja")?,
                        title_en: get_text("title_en")?,
                        unit_price_minor: get_i64("unit_price_minor")?,
                        currency: get_text("currency")?,
                        quantity: r.try_get("", "quantity")?,
                        tax_rate: r.try_get("", "tax_rate")?,
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
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn payments(
        &self,
        member: MemberId,
        before: Option<PaymentId>,
        limit: u32,
    ) -> Result<Vec<Payment>, StoreError> {
        self.read(async {
            let mut query =
                payment::Entity::find().filter(payment::Column::MemberId.eq(*member.as_uuid()));
            if let Some(before) = before {
                query = query.filter(payment::Column::Id.lt(*before.as_uuid()));
            }
            let rows = query
                .order_by_desc(payment::Column::Id)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?;
            self.with_history(rows).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn owned(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError> {
        self.read(self.products_in(member, PaymentStatus::Paid))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn withheld(&self, member: MemberId) -> Result<Vec<ProductId>, StoreError> {
        self.read(self.products_in(member, PaymentStatus::Disputed))
            .await
    }

    #[tracing::instrument(skip_all)]
    async fn cases_needing_attention(
        &self,
        limit: u32,
    ) -> Result<Vec<(OrderId, kikeru_domain::Case)>, StoreError> {
        self.read(cases::needing_attention(&self.db, limit)).await
    }
}

/// What the record-and-read statement of either backend answers about an event.
pub(super) enum Read {
    /// The event was recorded before.
    Duplicate,
    /// No payment has the event's reference.
    Unknown,
    /// The payment it names, now locked.
    Payment(NamedPayment),
}

/// The payment an event names, as read before the domain decides.
pub(super) struct NamedPayment {
    payment_id: Uuid,
    order_uuid: Uuid,
    current: PaymentStatus,
    /// Whether its order was paid before.
    order_paid: bool,
    /// The event's provider payment reference, when the payment does not know one yet.
    new_ref: Option<String>,
}

/// Reads a record-and-read row (`fresh`, then the payment's `id`, `order_id`, `status`,
/// `payment_ref` and whether its order was paid before, `order_paid`; null when none has the
/// reference).
pub(super) fn named_payment(read: &sea_orm::QueryResult, event: &PaymentEvent) -> Result<Read> {
    if read.try_get::<i64>("", "fresh")? == 0 {
        return Ok(Read::Duplicate);
    }
    let Some(payment_id) = read.try_get::<Option<Uuid>>("", "id")? else {
        return Ok(Read::Unknown);
    };
    let known_ref: Option<String> = read.try_get("", "payment_ref")?;
    Ok(Read::Payment(NamedPayment {
        payment_id,
        order_uuid: read.try_get("", "order_id")?,
        current: status(&read.try_get::<String>("", "status")?)?,
        order_paid: read
            .try_get::<Option<bool>>("", "order_paid")?
            .ok_or_else(|| corrupt("the payment's order"))?,
        new_ref: event.payment_ref.clone().filter(|_| known_ref.is_none()),
    }))
}

/// Keeps the provider's payment reference an event brought, when the payment had none, so
/// later events may name the payment by it.
pub(super) async fn learn_payment_ref(
    txn: &sea_orm::DatabaseTransaction,
    payment_id: Uuid,
    new_ref: Option<String>,
) -> Result<()> {
    if let Some(payment_ref) = new_ref {
        payment::Entity::update_many()
            .col_expr(payment::Column::PaymentRef, Expr::value(payment_ref))
            .filter(payment::Column::Id.eq(payment_id))
            .exec(txn)
            .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
