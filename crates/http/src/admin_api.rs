//! The operators' API under `/api/v1/admin`: signing in with the operators' own cookie, the
//! catalogue (every product, and all-or-none updates), refunds and the operators' audit log.
//! Every change is recorded in that log.

use crate::text::JsonString;
use kikeru_domain::ProductFields;
use kikeru_domain::membership::Client;
use kikeru_domain::office::operators::Role;
use kikeru_domain::shop::{ImportError, RefundError};
use kikeru_domain::{OrderId, Sku};
use poem::Request;
use poem::http::StatusCode;
use poem::web::Data;
use poem_openapi::param::{Path, Query};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::auth::OperatorSession;
use crate::client::client;
use crate::problem::{ApiError, Problem};
use crate::shop_api::ProductView;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// The office (事務局): operators only.
    Admin,
}

/// Operator credentials.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OperatorSignIn {
    /// The operator's address.
    #[oai(validator(max_length = 320))]
    email: JsonString,
    /// The password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
}

/// A signed-in operator.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OperatorSignedIn {
    /// The operator's ID.
    operator_id: Uuid,
    /// `operator` or `admin`.
    role: String,
    /// When the session ends (12 hours after sign-in).
    expires_at: OffsetDateTime,
}

#[derive(Debug, ApiResponse)]
enum OperatorCreated {
    /// Signed in; the operators' cookie is set.
    #[oai(status = 201)]
    Created(Json<OperatorSignedIn>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, ApiResponse)]
enum OperatorSignedOut {
    /// Signed out; the cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

/// A product as operators see it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AdminProduct {
    /// What members see.
    product: ProductView,
    /// Whether it is on sale.
    active: bool,
    /// The audio file, relative to the media folder.
    audio: String,
    /// The public sample, relative to the media folder.
    sample: Option<String>,
    /// The cover image, relative to the media folder.
    cover_image: Option<String>,
}

/// A page of products, on sale or not.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AdminProductPage {
    /// By SKU.
    items: Vec<AdminProduct>,
    /// Pass as `after` for the next page; absent on the last.
    next: Option<String>,
}

/// A product to add or update (matched by SKU).
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ProductInput {
    /// The SKU: 1–64 letters, digits, `.`, `_`, `-`.
    #[oai(validator(max_length = 64))]
    sku: JsonString,
    /// Japanese title.
    #[oai(validator(max_length = 800))]
    title_ja: JsonString,
    /// English title.
    #[oai(validator(max_length = 800))]
    title_en: JsonString,
    /// Japanese description.
    #[oai(default, validator(max_length = 20000))]
    description_ja: JsonString,
    /// English description.
    #[oai(default, validator(max_length = 20000))]
    description_en: JsonString,
    /// The price in minor units, consumption tax included.
    price: i64,
    /// ISO 4217 (default `JPY`).
    #[oai(nullable, validator(max_length = 3))]
    currency: Option<JsonString>,
    /// On sale (default `true`).
    #[oai(nullable)]
    active: Option<bool>,
    /// The audio file, relative to the media folder; it must exist.
    #[oai(validator(max_length = 512))]
    audio: JsonString,
    /// The public sample, relative to the media folder; it must exist.
    #[oai(nullable, validator(max_length = 512))]
    sample: Option<JsonString>,
    /// How the Japanese title is read, in kana (orders titles in 五十音 order).
    #[oai(nullable, validator(max_length = 800))]
    reading: Option<JsonString>,
    /// The creator's key in addresses: 1–64 lower-case letters, digits and `-`. Give it with
    /// both names, or none of the three.
    #[oai(nullable, validator(max_length = 64))]
    creator_key: Option<JsonString>,
    /// The creator's Japanese name.
    #[oai(nullable, validator(max_length = 400))]
    creator_ja: Option<JsonString>,
    /// The creator's English name.
    #[oai(nullable, validator(max_length = 400))]
    creator_en: Option<JsonString>,
    /// Tags (at most 10, each 1–30 characters).
    #[oai(default, validator(max_items = 10))]
    tags: Vec<JsonString>,
    /// The cover art: a PNG, JPEG or WebP image relative to the media folder; it must exist.
    #[oai(nullable, validator(max_length = 512))]
    cover: Option<JsonString>,
}

/// Products to add or update, all or none.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct CatalogUpdate {
    /// The products.
    #[oai(validator(min_items = 1, max_items = 1000))]
    products: Vec<ProductInput>,
}

/// What an update changed.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ImportSummaryView {
    /// Products added.
    created: u64,
    /// Products changed.
    updated: u64,
    /// Products already as described.
    unchanged: u64,
}

/// An order after a refund.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct RefundView {
    /// The order.
    order_id: Uuid,
    /// Its status: `refunded` when the provider settled the refund at once, `refund_pending`
    /// while it has not (the provider's events settle it, or return the order to `paid` when
    /// it fails).
    status: String,
}

/// An entry of the operators' audit log.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct OperatorEventView {
    /// The entry's ID.
    id: Uuid,
    /// When.
    at: OffsetDateTime,
    /// Who (absent for a failed sign-in).
    operator_id: Option<Uuid>,
    /// What.
    action: String,
    /// On what.
    detail: String,
}

/// An item of a receipt.
#[derive(Debug, Object)]
struct ReceiptLineView {
    /// The title in Japanese.
    title_ja: String,
    /// The title in English.
    title_en: String,
    /// The tax-inclusive unit price, in minor units.
    unit_price: i64,
    /// How many.
    quantity: u32,
    /// The tax rate, in percent.
    rate: u32,
}

/// A receipt's totals at one rate.
#[derive(Debug, Object)]
struct ReceiptRateView {
    /// The rate, in percent.
    rate: u32,
    /// The tax-inclusive total at this rate, in minor units.
    inclusive: i64,
    /// The consumption tax in it.
    tax: i64,
}

/// A receipt (適格簡易請求書), as issued.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ReceiptView {
    /// Its number in the gap-free sequence.
    number: u64,
    /// The order.
    order_id: Uuid,
    /// The member, by ID only.
    member_id: Uuid,
    /// When it was issued.
    issued_at: OffsetDateTime,
    /// When the order was paid (the transaction date).
    paid_at: OffsetDateTime,
    /// The currency (ISO 4217).
    currency: String,
    /// The issuer.
    issuer: String,
    /// The issuer's registration number.
    registration_number: Option<String>,
    /// The recipient's name (宛名), when the member asked for a full qualified invoice.
    recipient: Option<String>,
    /// How many times it was reissued (再発行).
    reissues: u32,
    /// The items.
    lines: Vec<ReceiptLineView>,
    /// Per rate, the total and the tax.
    per_rate: Vec<ReceiptRateView>,
    /// The tax-inclusive total, in minor units.
    total: i64,
}

/// A return invoice (適格返還請求書) for a refund, as issued.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ReturnInvoiceView {
    /// Its number in the return invoices' gap-free sequence.
    number: u64,
    /// The receipt of the sale that was refunded.
    receipt_number: u64,
    /// The order.
    order_id: Uuid,
    /// The member, by ID only.
    member_id: Uuid,
    /// When it was issued.
    issued_at: OffsetDateTime,
    /// When the payment was refunded (the date of the return).
    refunded_at: OffsetDateTime,
    /// When the order was paid (the date of the original sale).
    paid_at: OffsetDateTime,
    /// The currency (ISO 4217).
    currency: String,
    /// The issuer.
    issuer: String,
    /// The issuer's registration number.
    registration_number: Option<String>,
    /// The items returned.
    lines: Vec<ReceiptLineView>,
    /// Per rate, the amount returned and the tax in it.
    per_rate: Vec<ReceiptRateView>,
    /// The tax-inclusive amount returned, in minor units.
    total: i64,
}

fn line_views(lines: Vec<kikeru_domain::shop::receipt::ReceiptLine>) -> Vec<ReceiptLineView> {
    lines
        .into_iter()
        .map(|l| ReceiptLineView {
            title_ja: l.title_ja,
            title_en: l.title_en,
            unit_price: l.unit_price,
            quantity: l.quantity,
            rate: l.rate,
        })
        .collect()
}

fn rate_views(rates: Vec<kikeru_domain::shop::tax::RateTotal>) -> Vec<ReceiptRateView> {
    rates
        .into_iter()
        .map(|r| ReceiptRateView {
            rate: r.rate,
            inclusive: r.inclusive,
            tax: r.tax,
        })
        .collect()
}

pub(crate) struct AdminApi;

#[OpenApi(prefix_path = "/admin", tag = "Tag::Admin")]
impl AdminApi {
    /// Sign in as an operator (a separate cookie from members').
    #[oai(path = "/sessions", method = "post")]
    async fn sign_in(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<OperatorSignIn>,
    ) -> ApiResult<OperatorCreated> {
        let caller: Client = client(req, &state.config);
        let (auth, token) = state
            .services
            .office
            .sign_in(&body.email, &body.password, &caller)
            .await?;
        let cookie = state.config.operator_cookie().set(
            &token,
            auth.session.created_at,
            auth.session.expires_at,
        );
        let body = OperatorSignedIn {
            operator_id: *auth.operator.id.as_uuid(),
            role: auth.operator.role.as_str().to_owned(),
            expires_at: auth.session.expires_at,
        };
        Ok(OperatorCreated::Created(Json(body), cookie))
    }

    /// Sign the operator out.
    #[oai(path = "/sessions/current", method = "delete")]
    async fn sign_out(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
    ) -> ApiResult<OperatorSignedOut> {
        state.services.office.sign_out(&auth.0).await?;
        Ok(OperatorSignedOut::Done(
            state.config.operator_cookie().clear(),
        ))
    }

    /// Every product, on sale or not, by SKU.
    #[oai(path = "/products", method = "get")]
    async fn products(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
        /// The `next` of the previous page.
        #[oai(validator(max_length = 64))]
        after: Query<Option<String>>,
        /// Page size (1–100, default 50).
        #[oai(validator(minimum(value = "1"), maximum(value = "100")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<AdminProductPage>> {
        let after = after
            .0
            .as_deref()
            .map(Sku::parse)
            .transpose()
            .map_err(|_| ApiError::bad_request("invalid_cursor", "The cursor is not valid"))?;
        let limit = limit.0.unwrap_or(50);
        let products = state.services.shop.all_products(after, limit).await?;
        let next = (products.len() == limit as usize)
            .then(|| products.last().map(|p| p.draft.sku.as_str().to_owned()))
            .flatten();
        let items = products
            .iter()
            .map(|p| AdminProduct {
                product: p.into(),
                active: p.draft.active,
                audio: p.draft.audio.as_str().to_owned(),
                sample: p.draft.sample.as_ref().map(|s| s.as_str().to_owned()),
                cover_image: p.draft.cover.as_ref().map(|c| c.image.as_str().to_owned()),
            })
            .collect();
        Ok(Json(AdminProductPage { items, next }))
    }

    /// Add and update products by SKU, all or none. Every problem of every product is
    /// reported at once (`422`, one line per problem); nothing is changed then.
    #[oai(path = "/products", method = "put")]
    async fn update_products(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        body: Json<CatalogUpdate>,
    ) -> ApiResult<Json<ImportSummaryView>> {
        let mut drafts = Vec::new();
        let mut problems = Vec::new();
        for (i, input) in body.0.products.iter().enumerate() {
            let tags: Vec<String> = input.tags.iter().map(|t| t.0.clone()).collect();
            let fields = ProductFields {
                sku: &input.sku,
                title_ja: &input.title_ja,
                title_en: &input.title_en,
                description_ja: &input.description_ja,
                description_en: &input.description_en,
                price: input.price,
                currency: input.currency.as_deref().unwrap_or("JPY"),
                active: input.active.unwrap_or(true),
                audio: &input.audio,
                sample: input.sample.as_deref(),
                reading: input.reading.as_deref(),
                creator_key: input.creator_key.as_deref(),
                creator_ja: input.creator_ja.as_deref(),
                creator_en: input.creator_en.as_deref(),
                tags: &tags,
                cover: input.cover.as_deref(),
                cover_size: input
                    .cover
                    .as_deref()
                    .and_then(|key| kikeru_catalog::image_size(&state.config.media_dir, key)),
            };
            let mut missing =
                fields.missing_media(|key| state.config.media_dir.join(key.as_str()).is_file());
            match kikeru_domain::ProductDraft::from_fields(&fields) {
                Ok(draft) if missing.is_empty() => drafts.push(draft),
                Ok(_) => problems.extend(missing.drain(..).map(|p| format!("products[{i}].{p}"))),
                Err(found) => problems.extend(
                    found
                        .into_iter()
                        .chain(missing)
                        .map(|p| format!("products[{i}].{p}")),
                ),
            }
        }
        if !problems.is_empty() {
            return Err(ApiError::unprocessable(
                "invalid_products",
                "Some products are not valid; nothing was changed",
                problems.join("\n"),
            ));
        }
        let summary = match state.services.shop.import(drafts).await {
            Ok(summary) => summary,
            Err(ImportError::DuplicateSku(sku)) => {
                return Err(ApiError::unprocessable(
                    "duplicate_sku",
                    "A SKU appears twice; nothing was changed",
                    sku,
                ));
            }
            Err(ImportError::Size) => {
                return Err(ApiError::unprocessable(
                    "invalid_products",
                    "Too many products",
                    String::new(),
                ));
            }
            Err(ImportError::Store(e)) => return Err(ApiError::store(e)),
        };
        let detail = format!(
            "created={} updated={} unchanged={}",
            summary.created, summary.updated, summary.unchanged
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "catalog.updated", &detail)
            .await?;
        Ok(Json(ImportSummaryView {
            created: summary.created as u64,
            updated: summary.updated as u64,
            unchanged: summary.unchanged as u64,
        }))
    }

    /// Refund a paid order in full at the payment provider.
    #[oai(path = "/orders/:id/refund", method = "post")]
    async fn refund(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        id: Path<Uuid>,
    ) -> ApiResult<Json<RefundView>> {
        let order = OrderId::from_uuid(id.0);
        let status = match state.services.shop.refund(order).await {
            Ok(status) => status,
            Err(RefundError::NotFound) => {
                return Err(ApiError::not_found(
                    "order_not_found",
                    "There is no such order",
                ));
            }
            Err(RefundError::NotRefundable(e)) => {
                return Err(ApiError::Conflict(Json(
                    Problem::new(
                        StatusCode::CONFLICT,
                        "not_refundable",
                        "Only a paid order can be refunded",
                    )
                    .detail(e.to_string()),
                )));
            }
            Err(RefundError::Gateway(g)) => return Err(ApiError::gateway(&g)),
            Err(RefundError::Store(s)) => return Err(ApiError::store(s)),
        };
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "order.refunded",
                &format!("order {order}"),
            )
            .await?;
        Ok(Json(RefundView {
            order_id: id.0,
            status: status.as_str().to_owned(),
        }))
    }

    /// A receipt by its number (an accounting record: it names the member only by ID). Every
    /// look-up is in the operators' audit log.
    #[oai(path = "/receipts/:number", method = "get")]
    async fn receipt(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The receipt number.
        #[oai(validator(minimum(value = "1"), maximum(value = "9007199254740991")))]
        number: Path<u64>,
    ) -> ApiResult<Json<ReceiptView>> {
        let Some(receipt) = state.services.receipts.by_number(number.0).await? else {
            return Err(ApiError::not_found(
                "receipt_not_found",
                "There is no receipt with this number",
            ));
        };
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "receipt.viewed",
                &format!("receipt {}", receipt.number),
            )
            .await?;
        let c = receipt.content;
        Ok(Json(ReceiptView {
            number: receipt.number,
            order_id: *c.order_id.as_uuid(),
            member_id: *c.member_id.as_uuid(),
            issued_at: c.issued_at,
            paid_at: c.paid_at,
            currency: c.currency.code().to_owned(),
            issuer: c.issuer,
            registration_number: c.registration_number,
            recipient: c.recipient,
            reissues: c.reissues,
            lines: line_views(c.lines),
            per_rate: rate_views(c.per_rate),
            total: c.total,
        }))
    }

    /// A return invoice by its number (an accounting record: it names the member only by
    /// ID). Every look-up is in the operators' audit log.
    #[oai(path = "/return-invoices/:number", method = "get")]
    async fn return_invoice(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The return invoice number.
        #[oai(validator(minimum(value = "1"), maximum(value = "9007199254740991")))]
        number: Path<u64>,
    ) -> ApiResult<Json<ReturnInvoiceView>> {
        let Some(invoice) = state.services.receipts.return_by_number(number.0).await? else {
            return Err(ApiError::not_found(
                "return_invoice_not_found",
                "There is no return invoice with this number",
            ));
        };
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "return_invoice.viewed",
                &format!("return invoice {}", invoice.number),
            )
            .await?;
        let c = invoice.content;
        Ok(Json(ReturnInvoiceView {
            number: invoice.number,
            receipt_number: c.receipt_number,
            order_id: *c.order_id.as_uuid(),
            member_id: *c.member_id.as_uuid(),
            issued_at: c.issued_at,
            refunded_at: c.refunded_at,
            paid_at: c.paid_at,
            currency: c.currency.code().to_owned(),
            issuer: c.issuer,
            registration_number: c.registration_number,
            lines: line_views(c.lines),
            per_rate: rate_views(c.per_rate),
            total: c.total,
        }))
    }

    /// The operators' audit log, newest first (admins only).
    #[oai(path = "/audit", method = "get")]
    async fn audit(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// How many entries (1–500, default 100).
        #[oai(validator(minimum(value = "1"), maximum(value = "500")))]
        limit: Query<Option<u32>>,
    ) -> ApiResult<Json<Vec<OperatorEventView>>> {
        auth.0.require(Role::Admin)?;
        let events = state
            .services
            .office
            .events(&auth.0, limit.0.unwrap_or(100))
            .await?;
        Ok(Json(
            events
                .into_iter()
                .map(|e| OperatorEventView {
                    id: e.id,
                    at: e.at,
                    operator_id: e.operator_id.map(|o| *o.as_uuid()),
                    action: e.action,
                    detail: e.detail,
                })
                .collect(),
        ))
    }
}
