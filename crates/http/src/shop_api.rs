//! The shop's JSON API: catalogue, orders, purchase and payment history, library.

use kikeru_domain::{
    Localized, Money, Order, OrderId, OrderLine, Payment, PaymentId, Product, ProductId,
    PurchaseCursor, Sku, Timestamp,
};
use poem::web::Data;
use poem_openapi::param::{Header, Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::auth::Session;
use crate::problem::ApiError;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// Products on sale.
    Catalog,
    /// Buying through the payment provider's hosted checkout.
    Orders,
    /// マイページ: what the member bought and paid, and their library.
    Me,
}

/// A text in Japanese and English.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct Text {
    /// 日本語.
    ja: String,
    /// English.
    en: String,
}

impl From<&Localized> for Text {
    fn from(l: &Localized) -> Self {
        Self {
            ja: l.ja().to_owned(),
            en: l.en().to_owned(),
        }
    }
}

/// An amount of money. Prices include consumption tax.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct Price {
    /// In minor units (yen for JPY, cents for USD).
    amount: i64,
    /// ISO 4217 code.
    currency: String,
    /// For display, e.g. `¥1,100`.
    display: String,
}

impl From<Money> for Price {
    fn from(m: Money) -> Self {
        Self {
            amount: m.minor(),
            currency: m.currency().code().to_owned(),
            display: m.to_string(),
        }
    }
}

/// A product on sale.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct ProductView {
    /// The product's ID.
    id: Uuid,
    /// The operator's SKU.
    sku: String,
    /// Titles.
    title: Text,
    /// Descriptions.
    description: Text,
    /// The price, tax included.
    price: Price,
    /// Where anyone can play the public sample, if there is one.
    sample_url: Option<String>,
    /// How the Japanese title is read, in kana, when the operator gave it.
    reading: Option<String>,
    /// Who made it.
    creator: Option<CreatorView>,
    /// What it is grouped by.
    tags: Vec<String>,
    /// The cover art, if there is one.
    cover: Option<CoverView>,
}

/// Who made a product.
#[derive(Debug, Object)]
pub(crate) struct CreatorView {
    /// The key of the creator's page (`/creators/{key}` on the site).
    key: String,
    /// The name in both languages.
    name: Text,
}

/// A product's cover art.
#[derive(Debug, Object)]
pub(crate) struct CoverView {
    /// Where the image is (cached for a year; the address changes with the product).
    url: String,
    /// Width in pixels.
    width: u32,
    /// Height in pixels.
    height: u32,
}

impl From<&Product> for ProductView {
    fn from(p: &Product) -> Self {
        Self {
            id: *p.id.as_uuid(),
            sku: p.draft.sku.as_str().to_owned(),
            title: (&p.draft.title).into(),
            description: (&p.draft.description).into(),
            price: p.draft.price.into(),
            sample_url: p
                .draft
                .sample
                .as_ref()
                .map(|_| format!("/api/v1/products/{}/sample", p.id)),
            reading: p.draft.reading.as_ref().map(|r| r.as_str().to_owned()),
            creator: p.draft.creator.as_ref().map(|c| CreatorView {
                key: c.key.as_str().to_owned(),
                name: (&c.name).into(),
            }),
            tags: p.draft.tags.iter().map(|t| t.as_str().to_owned()).collect(),
            cover: p.draft.cover.as_ref().and_then(|c| {
                Some(CoverView {
                    url: crate::media::cover_url(p)?,
                    width: c.width,
                    height: c.height,
                })
            }),
        }
    }
}

/// A page of products.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct ProductPage {
    /// The products.
    pub(crate) items: Vec<ProductView>,
    /// How many products the whole list holds.
    pub(crate) total: usize,
    /// Pass as `after` for the next page; absent on the last.
    pub(crate) next: Option<String>,
}

/// The order of a list of products.
#[derive(Debug, Clone, Copy, poem_openapi::Enum)]
#[oai(rename_all = "snake_case")]
pub(crate) enum ProductSort {
    /// By SKU.
    Sku,
    /// Newest first.
    New,
    /// Cheapest first.
    Price,
    /// Dearest first.
    PriceDesc,
    /// Japanese titles in 五十音 order (by their reading when they have one).
    TitleJa,
    /// English titles, alphabetically.
    TitleEn,
}

impl ProductSort {
    fn sort(self) -> kikeru_domain::shop::shelf::Sort {
        use kikeru_domain::Language;
        use kikeru_domain::shop::shelf::Sort;
        match self {
            Self::Sku => Sort::Sku,
            Self::New => Sort::New,
            Self::Price => Sort::PriceLow,
            Self::PriceDesc => Sort::PriceHigh,
            Self::TitleJa => Sort::Title(Language::Ja),
            Self::TitleEn => Sort::Title(Language::En),
        }
    }
}

/// An order to place.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OrderBody {
    /// The products to buy (each once).
    #[oai(validator(min_items = 1, max_items = 20, unique_items = true))]
    product_ids: Vec<Uuid>,
}

/// An item of an order, as it was when ordered.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OrderLineView {
    /// The product.
    product_id: Uuid,
    /// Its SKU then.
    sku: String,
    /// Its titles then.
    title: Text,
    /// Its price then, tax included.
    unit_price: Price,
    /// How many.
    quantity: u32,
    /// The consumption tax rate it is sold at, in percent.
    tax_rate: u32,
}

impl From<&OrderLine> for OrderLineView {
    fn from(l: &OrderLine) -> Self {
        Self {
            product_id: *l.product_id.as_uuid(),
            sku: l.sku.as_str().to_owned(),
            title: (&l.title).into(),
            unit_price: l.unit_price.into(),
            quantity: l.quantity,
            tax_rate: l.tax_rate,
        }
    }
}

/// The tax at one rate.
#[derive(Debug, Object)]
struct TaxView {
    /// The rate, in percent.
    rate: u32,
    /// The tax-inclusive total of the items at this rate.
    inclusive: Price,
    /// The consumption tax it contains (rounded once per rate).
    tax: Price,
}

/// What the final confirmation must show before the member commits (特定商取引法 第12条の6).
#[derive(Debug, Object)]
struct TermsView {
    /// How payment is made and when it is taken.
    payment: String,
    /// When the audio is available.
    delivery: String,
    /// Cancellation and refunds of digital content.
    cancellation: String,
    /// The legal notice (特定商取引法に基づく表記).
    legal_notice_url: String,
    /// The privacy policy.
    privacy_policy_url: String,
}

/// The facts of an order before it is placed: show them, and place the order
/// (`POST /orders`) only when the member confirms.
#[derive(Debug, Object)]
struct QuoteView {
    /// What would be bought, at today's tax-inclusive prices.
    lines: Vec<OrderLineView>,
    /// The total, tax included.
    total: Price,
    /// The consumption tax in it, per rate.
    taxes: Vec<TaxView>,
    /// Payment, delivery and cancellation terms, in the member's language.
    terms: TermsView,
}

/// An order.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OrderView {
    /// The order's ID.
    id: Uuid,
    /// `pending`, `paid`, `failed`, `expired`, `canceled`, `refund_pending` (a refund asked,
    /// not settled), `refunded`, `disputed` (the purchase withheld while the cardholder's
    /// dispute is open) or `charged_back` (a dispute lost).
    status: String,
    /// What it buys.
    lines: Vec<OrderLineView>,
    /// The total, tax included.
    total: Price,
    /// The consumption tax in it, per rate, as placed (rounded once per rate; empty for orders
    /// placed before orders recorded it).
    taxes: Vec<TaxView>,
    /// When it was placed.
    created_at: OffsetDateTime,
    /// When it was paid.
    paid_at: Option<OffsetDateTime>,
    /// Where to pay (the provider's hosted checkout) while it is pending.
    checkout_url: Option<String>,
}

/// Per-rate totals as the API shows them.
fn tax_views(
    per_rate: &[kikeru_domain::shop::tax::RateTotal],
    currency: kikeru_domain::Currency,
) -> Vec<TaxView> {
    let money = |minor: i64| -> Price {
        Money::new(minor, currency)
            .unwrap_or_else(|_| Money::zero(currency))
            .into()
    };
    per_rate
        .iter()
        .map(|r| TaxView {
            rate: r.rate,
            inclusive: money(r.inclusive),
            tax: money(r.tax),
        })
        .collect()
}

fn order_view(order: &Order, payment: &Payment) -> OrderView {
    OrderView {
        id: *order.id.as_uuid(),
        status: order.status.as_str().to_owned(),
        lines: order.lines.iter().map(OrderLineView::from).collect(),
        total: order.total.into(),
        taxes: tax_views(&order.taxes, order.total.currency()),
        created_at: order.created_at,
        paid_at: order.paid_at,
        checkout_url: (order.status == kikeru_domain::PaymentStatus::Open)
            .then(|| payment.checkout_url.clone())
            .flatten(),
    }
}

/// A purchased item.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PurchaseView {
    /// The order.
    order_id: Uuid,
    /// What was bought, and at what price.
    item: OrderLineView,
    /// When it was paid.
    paid_at: OffsetDateTime,
    /// `paid`, `refund_pending`, `refunded`, `disputed` or `charged_back`.
    status: String,
}

/// A page of purchases, newest first.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PurchasePage {
    /// The purchases.
    items: Vec<PurchaseView>,
    /// Pass as `after` for the next page; absent on the last.
    pub(crate) next: Option<String>,
}

/// A change of a payment's status.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct StatusChangeView {
    /// The new status.
    status: String,
    /// When.
    at: OffsetDateTime,
}

/// A payment attempt. No card data: the provider holds it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PaymentView {
    /// The payment's ID.
    id: Uuid,
    /// The order it pays.
    order_id: Uuid,
    /// The provider (`sandbox`, `stripe`).
    provider: String,
    /// The amount.
    amount: Price,
    /// The current status.
    status: String,
    /// When it started.
    created_at: OffsetDateTime,
    /// Every status change, oldest first.
    history: Vec<StatusChangeView>,
    /// Its refunds and disputes, as the provider last reported each.
    cases: Vec<CaseView>,
}

/// A refund or a dispute of a payment.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct CaseView {
    /// `refund` or `dispute`.
    kind: String,
    /// A refund: `requires_action`, `pending`, `succeeded`, `failed` or `canceled`; a
    /// dispute: `open`, `won` or `lost`.
    state: String,
    /// The amount refunded or disputed.
    amount: Price,
}

/// A page of payments, newest first.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PaymentPage {
    /// The payments.
    items: Vec<PaymentView>,
    /// Pass as `before` for the next page; absent on the last.
    next: Option<Uuid>,
}

/// A product in the member's library.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct LibraryItem {
    /// The product.
    product: ProductView,
    /// Where the full audio streams (HTTP Range supported).
    audio_url: String,
}

#[derive(Debug, ApiResponse)]
enum OrderPlaced {
    /// The order is pending; send the member to `checkout_url`. A retry with the same
    /// `Idempotency-Key` answers with the same order.
    #[oai(status = 201)]
    Created(Json<OrderView>),
}

fn encode_cursor(c: &PurchaseCursor) -> String {
    let text = format!(
        "{}.{}.{}",
        c.paid_at.unix_timestamp_nanos() / 1_000_000,
        c.order_id,
        c.line
    );
    data_encoding::BASE64URL_NOPAD.encode(text.as_bytes())
}

fn decode_cursor(text: &str) -> ApiResult<PurchaseCursor> {
    let invalid = || ApiError::bad_request("invalid_cursor", "The cursor is not valid");
    let bytes = data_encoding::BASE64URL_NOPAD
        .decode(text.as_bytes())
        .map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let mut parts = text.split('.');
    let millis: i128 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let order: Uuid = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let line: u32 = parts
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(invalid)?;
    let paid_at =
        Timestamp::from_unix_timestamp_nanos(millis * 1_000_000).map_err(|_| invalid())?;
    Ok(PurchaseCursor {
        paid_at,
        order_id: OrderId::from_uuid(order),
        line,
    })
}

const DEFAULT_PAGE: u32 = 20;

pub(crate) struct ShopApi;

#[OpenApi]
impl ShopApi {
    /// Products on sale, a page at a time: by SKU unless `sort` says otherwise; with `q`, those
    /// matching it, best first unless `sort` is given; with `creator` or `tag`, only theirs.
    ///
    /// A search matches titles and descriptions in both languages, a word inside a Japanese
    /// title too; query and text are folded alike (NFKC, case, katakana as hiragana). Title
    /// matches come first, then the earlier match, then the shorter title. Pages are answered
    /// from the catalogue held in memory; a change of the catalogue shows within seconds.
    #[oai(path = "/products", method = "get", tag = "Tag::Catalog")]
    #[allow(clippy::too_many_arguments)]
    async fn products(
        &self,
        state: Data<&AppState>,
        /// The `next` of the previous page.
        #[oai(validator(pattern = r"^[A-Za-z0-9._~-]{1,80}$"))]
        after: Query<Option<String>>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
        /// Words to search for (1–100 characters).
        #[oai(validator(min_length = 1, max_length = 100))]
        q: Query<Option<String>>,
        /// The order.
        sort: Query<Option<ProductSort>>,
        /// Only this creator's pieces (a creator's key).
        #[oai(validator(max_length = 64))]
        creator: Query<Option<String>>,
        /// Only pieces with this tag.
        #[oai(validator(max_length = 100))]
        tag: Query<Option<String>>,
    ) -> ApiResult<Json<ProductPage>> {
        use kikeru_domain::shop::search::{SearchError, SearchQuery};
        use kikeru_domain::shop::shelf::{Cursor, Filter};
        use kikeru_domain::{CreatorKey, Tag};
        let shelf = state.services.storefront.shelf();
        let nothing = || {
            Ok(Json(ProductPage {
                items: Vec::new(),
                total: 0,
                next: None,
            }))
        };
        let query = match q.0.as_deref().map(SearchQuery::parse) {
            None => None,
            Some(Ok(query)) => Some(query),
            // Only spaces or control characters: no words, so nothing is found.
            Some(Err(SearchError::Empty)) => return nothing(),
            Some(Err(e @ SearchError::TooLong)) => {
                return Err(ApiError::unprocessable(
                    "invalid_query",
                    "The search words are not valid",
                    e.to_string(),
                ));
            }
        };
        // An unknown creator or tag has no pieces: an empty page, as for any filter.
        let creator = match creator.0.as_deref().map(CreatorKey::parse) {
            Some(Err(_)) => return nothing(),
            other => other.and_then(Result::ok),
        };
        let tag = match tag.0.as_deref().map(Tag::parse) {
            Some(Err(_)) => return nothing(),
            other => other.and_then(Result::ok),
        };
        let sort = sort.0.map(ProductSort::sort);
        // Browsing is by SKU unless a sort is asked for; a search is best first.
        let sort = sort.or_else(|| {
            query
                .is_none()
                .then_some(kikeru_domain::shop::shelf::Sort::Sku)
        });
        let filter = Filter {
            creator: creator.as_ref(),
            tag: tag.as_ref(),
            query: query.as_ref(),
        };
        let list = shelf.select(&filter, sort);
        let start = match after.0.as_deref() {
            None => 0,
            Some(text) => {
                let cursor = Cursor::parse(text)
                    .or_else(|| Sku::parse(text).ok().map(|sku| Cursor { offset: 0, sku }));
                let cursor = cursor.ok_or_else(|| {
                    ApiError::bad_request("invalid_cursor", "The cursor is not valid")
                })?;
                shelf.resume(&list, sort, &cursor)
            }
        };
        let limit = limit.0.unwrap_or(DEFAULT_PAGE) as usize;
        let end = (start + limit).min(list.len());
        let plain = sort == Some(kikeru_domain::shop::shelf::Sort::Sku) && query.is_none();
        let next = shelf.cursor(&list, end).map(|cursor| {
            // By SKU the cursor is the SKU, as it always was.
            if plain {
                cursor.sku.as_str().to_owned()
            } else {
                cursor.to_string()
            }
        });
        Ok(Json(ProductPage {
            items: list[start..end]
                .iter()
                .map(|&i| ProductView::from(shelf.at(i)))
                .collect(),
            total: list.len(),
            next,
        }))
    }

    /// A product on sale.
    #[oai(path = "/products/:id", method = "get", tag = "Tag::Catalog")]
    async fn product(
        &self,
        state: Data<&AppState>,
        id: Path<Uuid>,
    ) -> ApiResult<Json<ProductView>> {
        let shelf = state.services.storefront.shelf();
        let product = shelf.by_id(ProductId::from_uuid(id.0));
        product.map(|p| Json(ProductView::from(p))).ok_or_else(|| {
            ApiError::not_found("product_not_found", "There is no such product on sale")
        })
    }

    /// Place an order and get the hosted checkout to send the member to. Only members with a
    /// verified address can buy; products already owned are refused. Nothing about cards ever
    /// passes through this API: the member pays on the provider's page.
    #[oai(path = "/orders", method = "post", tag = "Tag::Orders")]
    async fn place_order(
        &self,
        state: Data<&AppState>,
        auth: Session,
        /// Makes retries safe: the same key answers with the same order.
        #[oai(name = "Idempotency-Key", validator(max_length = 255))]
        idempotency_key: Header<Option<String>>,
        body: Json<OrderBody>,
    ) -> ApiResult<OrderPlaced> {
        let products: Vec<ProductId> = body
            .0
            .product_ids
            .into_iter()
            .map(ProductId::from_uuid)
            .collect();
        let placed = state
            .services
            .shop
            .place_order(&auth.0.member, &products, idempotency_key.0.as_deref())
            .await?;
        Ok(OrderPlaced::Created(Json(order_view(
            &placed.order,
            &placed.payment,
        ))))
    }

    /// The final confirmation's facts for `product_ids`, without placing anything: the items
    /// at their tax-inclusive prices, the total and the tax in it per rate, and the payment,
    /// delivery and cancellation terms. A client shows them and places the order
    /// (`POST /orders`) only on the member's explicit confirmation.
    #[oai(path = "/orders/quote", method = "post", tag = "Tag::Orders")]
    async fn quote(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<OrderBody>,
    ) -> ApiResult<Json<QuoteView>> {
        let products: Vec<ProductId> = body
            .0
            .product_ids
            .into_iter()
            .map(ProductId::from_uuid)
            .collect();
        let quote = state.services.shop.quote(&auth.0.member, &products).await?;
        let currency = quote.total.currency();
        let lang = auth.0.member.language;
        let t = |key: &str| crate::site::i18n::t(lang, key).to_owned();
        Ok(Json(QuoteView {
            lines: quote.lines.iter().map(OrderLineView::from).collect(),
            total: quote.total.into(),
            taxes: tax_views(&quote.tax.per_rate, currency),
            terms: TermsView {
                payment: crate::site::payment_terms(state.services.shop.provider(), lang),
                delivery: t("confirm.delivery"),
                cancellation: t("confirm.cancel"),
                legal_notice_url: format!("{}/tokushoho", state.config.public_origin),
                privacy_policy_url: format!("{}/privacy", state.config.public_origin),
            },
        }))
    }

    /// One of the member's orders. A pending order is first reconciled with the payment
    /// provider, so its status is the provider's word, not the browser's.
    #[oai(path = "/orders/:id", method = "get", tag = "Tag::Orders")]
    async fn order(
        &self,
        state: Data<&AppState>,
        auth: Session,
        id: Path<Uuid>,
    ) -> ApiResult<Json<OrderView>> {
        let (order, payment) = state
            .services
            .shop
            .reconciled_order(auth.0.member.id, OrderId::from_uuid(id.0))
            .await?;
        Ok(Json(order_view(&order, &payment)))
    }

    /// What the member bought, when, and at what price, newest first.
    #[oai(path = "/me/purchases", method = "get", tag = "Tag::Me")]
    async fn purchases(
        &self,
        state: Data<&AppState>,
        auth: Session,
        /// The `next` of the previous page.
        #[oai(validator(max_length = 200))]
        after: Query<Option<String>>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<PurchasePage>> {
        let after = after.0.as_deref().map(decode_cursor).transpose()?;
        let limit = limit.0.unwrap_or(DEFAULT_PAGE);
        let purchases = state
            .services
            .shop
            .purchases(auth.0.member.id, after, limit)
            .await?;
        let next = (purchases.len() == limit as usize)
            .then(|| {
                purchases.last().map(|p| {
                    encode_cursor(&PurchaseCursor {
                        paid_at: p.paid_at,
                        order_id: p.order_id,
                        line: p.line,
                    })
                })
            })
            .flatten();
        let items = purchases
            .iter()
            .map(|p| PurchaseView {
                order_id: *p.order_id.as_uuid(),
                item: (&p.item).into(),
                paid_at: p.paid_at,
                status: p.status.as_str().to_owned(),
            })
            .collect();
        Ok(Json(PurchasePage { items, next }))
    }

    /// Every payment attempt with its amount, provider, status and the time of each status
    /// change, newest first.
    #[oai(path = "/me/payments", method = "get", tag = "Tag::Me")]
    async fn payments(
        &self,
        state: Data<&AppState>,
        auth: Session,
        /// The `next` of the previous page.
        before: Query<Option<Uuid>>,
        /// Page size (1–100, default 20).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<PaymentPage>> {
        let limit = limit.0.unwrap_or(DEFAULT_PAGE);
        let payments = state
            .services
            .shop
            .payments(auth.0.member.id, before.0.map(PaymentId::from_uuid), limit)
            .await?;
        let next = (payments.len() == limit as usize)
            .then(|| payments.last().map(|p| *p.id.as_uuid()))
            .flatten();
        let items = payments
            .iter()
            .map(|p| PaymentView {
                id: *p.id.as_uuid(),
                order_id: *p.order_id.as_uuid(),
                provider: p.provider.clone(),
                amount: p.amount.into(),
                status: p.status.as_str().to_owned(),
                created_at: p.created_at,
                history: p
                    .history
                    .iter()
                    .map(|h| StatusChangeView {
                        status: h.status.as_str().to_owned(),
                        at: h.at,
                    })
                    .collect(),
                cases: p
                    .cases
                    .iter()
                    .map(|c| CaseView {
                        kind: c.state.kind().to_owned(),
                        state: c.state.state().to_owned(),
                        amount: c.amount.into(),
                    })
                    .collect(),
            })
            .collect();
        Ok(Json(PaymentPage { items, next }))
    }

    /// The products the member owns, with where their audio streams.
    #[oai(path = "/me/library", method = "get", tag = "Tag::Me")]
    async fn library(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<LibraryItem>>> {
        let products = state.services.shop.library(auth.0.member.id).await?;
        Ok(Json(
            products
                .iter()
                .map(|p| LibraryItem {
                    product: p.into(),
                    audio_url: format!("/api/v1/me/library/{}/audio", p.id),
                })
                .collect(),
        ))
    }
}
