//! The poem adapter: the JSON API under `/api/v1` with its OpenAPI spec (`/api/openapi.json`,
//! browsable at `/api/docs`), health checks, and the edge rules every response passes through
//! (problem+json errors, security headers, CSRF origin checks, body limits, access logs).

use std::sync::Arc;

use async_trait::async_trait;
use std::path::PathBuf;

use poem::{Endpoint, EndpointExt, IntoEndpoint, Route, get, handler, http::StatusCode, web::Data};
use poem_openapi::OpenApiService;

mod admin_api;
mod api;
mod auth;
mod catalogue_cache;
mod client;
mod contact_api;
mod edge;
mod export;
mod factors_api;
mod media;
mod pages;
mod passkeys_api;
pub mod privacy_api;
mod problem;
mod qr;
mod shop_api;
mod site;

pub use site::PageCache;
pub mod metrics;
mod stats_report;
mod text;

pub use auth::SessionCookie;
pub use privacy_api::package_json;

/// What the edge needs to know about how it is reached.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// The public origin, e.g. `https://kikeru.example` (no path, no trailing slash). Browsers'
    /// state-changing requests must come from it.
    pub public_origin: String,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Take the client address from the last `X-Forwarded-For` entry (only behind a proxy that
    /// sets it).
    pub trust_forwarded_for: bool,
    /// Where the catalogue's audio files are (asset keys are relative to it).
    pub media_dir: PathBuf,
    /// Statistics reports leave out cells counting fewer requests than this.
    pub stats_min_count: u64,
    /// The seller's particulars (特定商取引法に基づく表記); `None` shows labelled samples (the
    /// sandbox: production refuses to start without them).
    pub seller: Option<kikeru_domain::shop::legal::Seller>,
    /// How long each kind of record is kept (the privacy page states the periods from it).
    pub retention: kikeru_domain::privacy::retention::RetentionPolicy,
    /// How long raw access records are kept before only daily counts remain.
    pub stats_retention: std::time::Duration,
}

impl HttpConfig {
    /// Whether the service is reached over HTTPS (secure cookies, HSTS).
    pub fn is_https(&self) -> bool {
        self.public_origin.starts_with("https://")
    }

    /// The members' session cookie for this origin.
    pub fn cookie(&self) -> SessionCookie {
        SessionCookie::new(self.is_https())
    }

    /// The operators' session cookie for this origin.
    pub fn operator_cookie(&self) -> SessionCookie {
        SessionCookie::operator(self.is_https())
    }
}

/// Takes one request's anonymous record. MUST NOT block or fail the request: a sink that cannot
/// keep up drops the record and counts it.
pub trait HitSink: Send + Sync + 'static {
    /// Offers a record.
    fn offer(&self, hit: kikeru_domain::privacy::stats::Hit);
}

/// A sink that keeps nothing (statistics off, and tests that do not look at them).
#[derive(Debug, Default)]
pub struct NoHits;

impl HitSink for NoHits {
    fn offer(&self, _hit: kikeru_domain::privacy::stats::Hit) {}
}

/// Whether the service's dependencies answer (`/readyz`).
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// `true` when the database (and anything else needed) is reachable.
    async fn is_ready(&self) -> bool;
}

/// Everything a request handler may use.
#[derive(Clone)]
pub struct AppState {
    /// Where anonymous access statistics go (buffered off the request path).
    pub hits: Arc<dyn HitSink>,
    /// Operators' statistics reports (daily counts).
    pub statistics: Arc<dyn kikeru_domain::privacy::ports::Statistics>,
    /// Every use case (built by [`kikeru_domain::Services::new`]).
    pub services: kikeru_domain::Services,
    /// The edge settings.
    pub config: Arc<HttpConfig>,
    /// The readiness probe.
    pub readiness: Arc<dyn Readiness>,
    /// Catalogue pages rendered for visitors, per shelf version.
    pub pages: Arc<site::PageCache>,
    /// The operators' metrics (exposed on their own listener).
    pub metrics: Arc<metrics::Metrics>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Every part of the JSON API.
type Apis = (
    api::Api,
    factors_api::FactorsApi,
    passkeys_api::PasskeysApi,
    shop_api::ShopApi,
    admin_api::AdminApi,
    privacy_api::PrivacyApi,
    contact_api::ContactApi,
);

/// The OpenAPI service of the JSON API, served at `/api/v1`.
fn api_service() -> OpenApiService<Apis, ()> {
    OpenApiService::new(
        (
            api::Api,
            factors_api::FactorsApi,
            passkeys_api::PasskeysApi,
            shop_api::ShopApi,
            admin_api::AdminApi,
            privacy_api::PrivacyApi,
            contact_api::ContactApi,
        ),
        "Minna Kikeru API",
        env!("CARGO_PKG_VERSION"),
    )
    .server("/api/v1")
    .description(
        "みんな聞ける — the membership store's JSON API. Errors are RFC 9457 problem \
             documents (`application/problem+json`) with a stable `code`. State-changing \
             requests from a browser must carry an `Origin` (or `Referer`) of the service. \
             A session signed in with a password by a member who has a second factor answers \
             403 `second_factor_required` until it passes it (`POST /sessions/current/second-factor`, \
             or a passkey); sensitive changes answer 403 `reauthentication_required` without a \
             recent authentication (`POST /sessions/current/reauthentication`). \
             Besides the operations below, raw-byte endpoints serve audio with HTTP Range \
             (`GET /products/{id}/sample`, `GET /me/library/{id}/audio`), stream the member's data \
             export (`GET /me/export`: everything held about them, one JSON document), and receive the payment \
             provider's signed webhooks (`POST /payments/webhooks/{provider}`).",
    )
}

pub use stats_report::{report_csv, report_json};

/// The books as pretty-printed JSON (what `kikeru books export --format json` prints and the
/// console's JSON download holds).
pub fn books_json(books: &kikeru_domain::office::books::Books) -> String {
    serde_json::to_string_pretty(books).unwrap_or_default()
}

/// The OpenAPI document as JSON (for `cargo xtask openapi` and tests).
pub fn openapi_json() -> String {
    api_service().spec()
}

/// The whole HTTP application.
pub fn app(state: AppState) -> impl Endpoint<Output = poem::Response> {
    let service = api_service();
    let spec = service.spec_endpoint();
    let docs = service.rapidoc();
    let route = Route::new()
        .at("/api/v1/products/:id/sample", get(media::sample))
        .at("/covers/:id", get(media::cover))
        .at("/api/v1/me/library/:id/audio", get(media::audio))
        .at("/api/v1/me/export", get(export::export))
        .at("/me/document", get(export::document))
        .at(
            "/api/v1/payments/webhooks/:provider",
            poem::post(media::webhook),
        )
        .at("/sandbox/checkout/:reference", get(pages::sandbox_checkout))
        .at(
            "/sandbox/checkout/:reference/:action",
            poem::post(pages::sandbox_choose),
        )
        .nest("/api/v1", service.around(catalogue_cache::around))
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz));
    let route = site::pages::routes(route);
    let route = site::mypage::routes(route);
    let route = site::security::routes(route);
    let route = site::console::routes(route);
    let route = site::incidents::routes(route);
    let route = site::requests::routes(route);
    site::assets::routes(route)
        .into_endpoint()
        .around(edge::edge)
        .data(state)
        .map_to_response()
}

#[handler]
fn healthz() -> &'static str {
    "ok"
}

#[handler]
async fn readyz(state: Data<&AppState>) -> poem::Result<&'static str> {
    if state.readiness.is_ready().await {
        Ok("ready")
    } else {
        Err(poem::Error::from_status(StatusCode::SERVICE_UNAVAILABLE))
    }
}

#[cfg(test)]
mod tests;
