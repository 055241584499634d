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

/// The OpenAPI document as JSON (for `cargo xtask openapi` and tests).
pub fn openapi_json() -> String {
    api_service().spec()
}

/// The whole HTTP application.
pub fn app(state: AppState) -> impl Endpoint<Output = poem::Response> {
    let service = api_service();
    let spec = service.spec_endpoint();
    let docs = service.rapidoc();
    Route::new()
        .at("/api/v1/products/:id/sample", get(media::sample))
        .at("/api/v1/me/library/:id/audio", get(media::audio))
        .at("/api/v1/me/export", get(export::export))
        .at(
            "/api/v1/payments/webhooks/:provider",
            poem::post(media::webhook),
        )
        .at("/sandbox/checkout/:reference", get(pages::sandbox_checkout))
        .at(
            "/sandbox/checkout/:reference/:action",
            poem::post(pages::sandbox_choose),
        )
        .at("/checkout/complete", get(site::pages::checkout_complete))
        .at("/checkout/canceled", get(site::pages::checkout_canceled))
        .nest("/api/v1", service)
        .at("/api/openapi.json", spec)
        .nest("/api/docs", docs)
        .at("/healthz", get(healthz))
        .at("/readyz", get(readyz))
        .at(
            "/verify-email",
            get(site::pages::verify_page).post(site::pages::verify_submit),
        )
        .at(
            "/reset-password",
            get(site::pages::reset_page).post(site::pages::reset_submit),
        )
        .at("/", get(site::pages::home))
        .at("/products/:id", get(site::pages::product))
        .at("/products/:id/confirm", get(site::pages::confirm))
        .at("/products/:id/buy", poem::post(site::pages::buy))
        .at(
            "/register",
            get(site::pages::register_page).post(site::pages::register_submit),
        )
        .at(
            "/login",
            get(site::pages::login_page).post(site::pages::login_submit),
        )
        .at("/logout", poem::post(site::pages::logout))
        .at(
            "/login/second-factor",
            get(site::security::second_factor_page).post(site::security::second_factor_submit),
        )
        .at(
            "/forgot-password",
            get(site::pages::forgot_page).post(site::pages::forgot_submit),
        )
        .at(
            "/contact",
            get(site::pages::contact_page).post(site::pages::contact_submit),
        )
        .at("/privacy", get(site::pages::privacy))
        .at("/tokushoho", get(site::pages::commerce))
        .at("/lang/:tag", get(site::pages::switch_language))
        .at("/me", get(site::mypage::show))
        .at("/me/profile", poem::post(site::mypage::profile))
        .at("/me/email", poem::post(site::mypage::email))
        .at("/me/password", poem::post(site::mypage::password))
        .at("/me/consents/:purpose", poem::post(site::mypage::consent))
        .at("/me/sessions/:id/revoke", poem::post(site::mypage::revoke))
        .at("/me/delete", poem::post(site::mypage::delete))
        .at("/me/receipts/:number", get(site::mypage::receipt))
        .at("/me/returns/:number", get(site::mypage::return_invoice))
        .at(
            "/me/receipts/:number/recipient",
            poem::post(site::mypage::reissue),
        )
        .at(
            "/me/reauthenticate",
            get(site::security::reauthenticate_page).post(site::security::reauthenticate_password),
        )
        .at(
            "/me/reauthenticate/code",
            poem::post(site::security::reauthenticate_code),
        )
        .at("/me/totp", get(site::security::totp_page))
        .at("/me/totp/begin", poem::post(site::security::totp_begin))
        .at("/me/totp/confirm", poem::post(site::security::totp_confirm))
        .at("/me/totp/remove", poem::post(site::security::totp_remove))
        .at(
            "/me/recovery-codes",
            poem::post(site::security::recovery_codes),
        )
        .at(
            "/me/passkeys/:id/rename",
            poem::post(site::security::passkey_rename),
        )
        .at(
            "/me/passkeys/:id/remove",
            poem::post(site::security::passkey_remove),
        )
        .at("/admin", get(site::console::home))
        .at("/admin/login", poem::post(site::console::login))
        .at("/admin/logout", poem::post(site::console::logout))
        .at("/admin/inquiries", get(site::console::inquiries))
        .at("/admin/inquiries/:id", get(site::console::inquiry))
        .at(
            "/admin/inquiries/:id/answer",
            poem::post(site::console::answer),
        )
        .at(
            "/admin/legal-orders",
            get(site::console::legal_orders).post(site::console::record_legal_order),
        )
        .at(
            "/admin/disclosures",
            get(site::console::disclosures).post(site::console::disclose),
        )
        .at(
            "/admin/legal-orders/:id/approve",
            poem::post(site::console::approve),
        )
        .at(
            "/admin/incidents",
            get(site::incidents::list).post(site::incidents::record),
        )
        .at("/admin/incidents/:id", get(site::incidents::show))
        .at(
            "/admin/incidents/:id/report",
            get(site::incidents::print_report),
        )
        .at(
            "/admin/incidents/:id/reported",
            poem::post(site::incidents::mark_reported),
        )
        .at(
            "/admin/incidents/:id/notice",
            poem::post(site::incidents::approve_notice),
        )
        .at("/admin/register", get(site::console::register))
        .at(
            "/admin/processors/:key/approve",
            poem::post(site::console::approve_processor),
        )
        .at("/admin/partners", poem::post(site::console::save_partner))
        .at("/admin/catalogue", get(site::console::catalogue))
        .at("/admin/statistics", get(site::console::statistics))
        .at(
            "/admin/statistics/export",
            get(site::console::statistics_export),
        )
        .at("/assets/site.css", get(site::assets::css))
        .at("/assets/site.js", get(site::assets::js))
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
