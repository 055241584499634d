//! The public pages: the catalogue and products (buying starts here), registration, mailed
//! links (verification, password reset), sign-in and out, the contact form, the privacy policy
//! and the language switch.

use crate::site::MessagePage;
use crate::site::message;
use askama::Template;
use kikeru_domain::membership::{RegisterError, Registration, SignInError, TokenError};
use kikeru_domain::office::inquiry::{ContactError, ContactForm, InquiryProblem};
use kikeru_domain::shop::OrderError;
use kikeru_domain::{Email, Language, ProductId, SessionToken};
use poem::Route;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::extract::{PublicForm, VisitorForm};
use super::{Chrome, CsrfOnly, chrome, current, html, local_path, see_other};
use crate::AppState;
use crate::client::client;
super::extract::csrf_field!(
    BuyForm,
    ContactFields,
    EmailForm,
    LoginForm,
    RegisterForm,
    TokenForm
);

mod account;
mod catalogue;

pub(crate) use account::*;
pub(crate) use catalogue::*;

#[derive(Template)]
#[template(path = "product.html")]
struct ProductPage<'a> {
    c: &'a Chrome,
    p: ProductCard,
    notice: Option<&'a str>,
    order_key: String,
    /// The tags with their pages' addresses.
    tag_links: Vec<(String, String)>,
}

/// A product on sale, from the shelf in memory.
fn product_page(
    state: &AppState,
    req: &Request,
    c: &Chrome,
    id: &str,
    status: StatusCode,
    notice: Option<&str>,
) -> Response {
    let shelf = state.services.storefront.shelf();
    if status == StatusCode::OK
        && notice.is_none()
        && let Some(kept) = super::kept_page(state, req, c, shelf.version())
    {
        return kept;
    }
    let found = id
        .parse::<uuid::Uuid>()
        .ok()
        .and_then(|uuid| shelf.by_id(ProductId::from_uuid(uuid)));
    match found {
        Some(shown) => {
            let page = ProductPage {
                c,
                p: ProductCard::of(shown, c.lang),
                notice,
                // One key per page view of a member: pressing Buy twice makes one order.
                order_key: if c.signed_in {
                    uuid::Uuid::new_v4().simple().to_string()
                } else {
                    String::new()
                },
                tag_links: shown
                    .draft
                    .tags
                    .iter()
                    .map(|t| (t.as_str().to_owned(), tag_href(t)))
                    .collect(),
            };
            if status == StatusCode::OK && notice.is_none() {
                super::catalogue_page(state, req, status, c, shelf.version(), page.render())
            } else {
                html(status, c, page.render(), &[])
            }
        }
        None => message(
            StatusCode::NOT_FOUND,
            c,
            c.t("error.not_found_title"),
            c.t("product.not_found"),
        ),
    }
}

#[handler]
pub(crate) async fn product(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    product_page(&state, req, &c, &id, StatusCode::OK, None)
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage<'a> {
    c: &'a Chrome,
    /// How it is paid, naming the provider.
    payment: String,
    product_id: &'a str,
    key: &'a str,
    lines: Vec<(String, u32, String)>,
    total: String,
    taxes: Vec<(u32, String)>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ConfirmQuery {
    key: String,
}

/// The order refused, as a notice on the product page.
fn order_notice(e: OrderError) -> (StatusCode, &'static str) {
    match e {
        OrderError::NotVerified => (StatusCode::FORBIDDEN, "product.not_verified"),
        OrderError::AlreadyOwned(_) => (StatusCode::CONFLICT, "product.owned"),
        OrderError::NotOnSale(_) | OrderError::BadItems => {
            (StatusCode::UNPROCESSABLE_ENTITY, "product.unavailable")
        }
        OrderError::AmountOutOfRange { .. } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "product.amount_out_of_range",
        ),
        other => (
            crate::problem::failure(&other, "an order could not be placed"),
            "error.server",
        ),
    }
}

/// `GET /products/{id}/confirm`: the final confirmation (特定商取引法 第12条の6) — what is
/// bought, the tax-inclusive price and total with the tax in it, how and when payment is
/// taken, when the audio is available, and the cancellation terms. Nothing is stored; only
/// its button places the order.
#[handler]
pub(crate) async fn confirm(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Query(query): Query<ConfirmQuery>,
) -> Response {
    let Some(member) = current(&state, req).await else {
        return see_other(&format!("/login?back=/products/{id}"), &[]);
    };
    let c = chrome(&state, req, Some(&member));
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return product_page(&state, req, &c, &id, StatusCode::NOT_FOUND, None);
    };
    let quote = match state
        .services
        .shop
        .quote(&member.member, &[ProductId::from_uuid(uuid)])
        .await
    {
        Ok(quote) => quote,
        Err(e) => {
            let (status, notice) = order_notice(e);
            return product_page(&state, req, &c, &id, status, Some(c.t(notice)));
        }
    };
    let lang = c.lang;
    let currency = quote.total.currency();
    let money = |minor: i64| {
        kikeru_domain::Money::new(minor, currency)
            .map(|m| m.in_language(lang))
            .unwrap_or_default()
    };
    let key = if query.key.len() <= 64 && !query.key.is_empty() {
        query.key.clone()
    } else {
        uuid::Uuid::new_v4().simple().to_string()
    };
    let page = ConfirmPage {
        payment: super::payment_terms(state.services.shop.provider(), lang),
        c: &c,
        product_id: &id,
        key: &key,
        lines: quote
            .lines
            .iter()
            .map(|l| {
                (
                    l.title.get(lang).to_owned(),
                    l.quantity,
                    l.unit_price.tax_inclusive(lang),
                )
            })
            .collect(),
        total: quote.total.tax_inclusive(lang),
        taxes: quote
            .tax
            .per_rate
            .iter()
            .map(|t| (t.rate, money(t.tax)))
            .collect(),
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BuyForm {
    csrf: String,
    key: String,
}

#[handler]
pub(crate) async fn buy(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    VisitorForm {
        who: member,
        c,
        form,
    }: VisitorForm<BuyForm>,
) -> Response {
    let Some(member) = member else {
        return see_other(&format!("/login?back=/products/{id}"), &[]);
    };
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return product_page(&state, req, &c, &id, StatusCode::NOT_FOUND, None);
    };
    let key = Some(form.key.as_str()).filter(|k| !k.is_empty());
    match state
        .services
        .shop
        .place_order(&member.member, &[ProductId::from_uuid(uuid)], key)
        .await
    {
        Ok(placed) => see_other(&placed.checkout_url, &[]),
        Err(e) => {
            let (status, notice) = order_notice(e);
            product_page(&state, req, &c, &id, status, Some(c.t(notice)))
        }
    }
}

/// The contact form's fields, as typed.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ContactFields {
    csrf: String,
    pub(crate) email: String,
    pub(crate) name: String,
    pub(crate) subject: String,
    pub(crate) message: String,
    website: String,
}

#[derive(Template)]
#[template(path = "contact.html")]
struct ContactPage<'a> {
    c: &'a Chrome,
    form: &'a ContactFields,
    error: Option<&'a str>,
}

#[handler]
pub(crate) async fn contact_page(state: Data<&AppState>, req: &Request) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let form = ContactFields {
        email: member
            .map(|m| m.member.email.as_str().to_owned())
            .unwrap_or_default(),
        ..ContactFields::default()
    };
    let page = ContactPage {
        c: &c,
        form: &form,
        error: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[handler]
pub(crate) async fn contact_submit(
    state: Data<&AppState>,
    req: &Request,
    VisitorForm {
        who: member,
        c,
        form,
    }: VisitorForm<ContactFields>,
) -> Response {
    let again = |status: StatusCode, error: &str| {
        let page = ContactPage {
            c: &c,
            form: &form,
            error: Some(error),
        };
        html(status, &c, page.render(), &[])
    };
    let Ok(email) = Email::parse(&form.email) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, c.t("error.invalid_email"));
    };
    let inquiry = ContactForm {
        email,
        name: Some(form.name.clone()),
        subject: form.subject.clone(),
        body: form.message.clone(),
        language: c.lang,
        honeypot: Some(form.website.clone()),
    };
    match state
        .services
        .contact
        .submit(
            inquiry,
            &client(req, &state.config),
            member.map(|m| m.member.id),
        )
        .await
    {
        Ok(()) => message(
            StatusCode::OK,
            &c,
            c.t("contact.done_title"),
            c.t("contact.done"),
        ),
        Err(ContactError::Invalid(problem)) => {
            let key = match problem {
                InquiryProblem::Subject => "contact.bad_subject",
                InquiryProblem::Body => "contact.bad_message",
                InquiryProblem::Name => "contact.bad_name",
                InquiryProblem::Header | InquiryProblem::Nul => "contact.bad_text",
            };
            again(StatusCode::UNPROCESSABLE_ENTITY, c.t(key))
        }
        Err(ContactError::Throttled(_)) => {
            again(StatusCode::TOO_MANY_REQUESTS, c.t("error.throttled"))
        }
        Err(e) => again(
            crate::problem::failure(&e, "an inquiry could not be stored"),
            c.t("error.server"),
        ),
    }
}

/// The privacy policy as its owner wrote it (`../shared/seed/privacy-policy.txt`, both
/// languages in one file), shown word for word before the service's own additions.
const POLICY_AS_WRITTEN: &str = include_str!("../../../policy/privacy-policy.txt");
/// Where the owner's Japanese text begins.
const POLICY_JAPANESE_BEGINS: &str = "Minna Kikeruで収集するあなたの情報と利用方法";

/// The owner's text in `language`: its lines, blank ones left out.
fn policy_lines(language: Language) -> Vec<&'static str> {
    let (english, japanese) = POLICY_AS_WRITTEN
        .split_once(POLICY_JAPANESE_BEGINS)
        .map_or((POLICY_AS_WRITTEN, ""), |(en, ja)| (en, ja));
    let japanese_lines = std::iter::once(POLICY_JAPANESE_BEGINS).chain(japanese.lines());
    let lines: Vec<&str> = match language {
        Language::En => english.lines().collect(),
        Language::Ja => japanese_lines.collect(),
    };
    lines
        .into_iter()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect()
}

/// A record kept after deletion, as the privacy page and My Page list it.
pub(crate) struct KeptRow {
    pub(crate) key: &'static str,
    pub(crate) title: &'static str,
    pub(crate) why: &'static str,
    pub(crate) period: String,
}

/// The written list of what deletion keeps, with the configured periods.
pub(crate) fn kept_rows(state: &AppState, lang: Language) -> Vec<KeptRow> {
    kikeru_domain::privacy::kept::kept_after_deletion(&state.config.retention)
        .iter()
        .map(|record| {
            let (title, why, period) = kikeru_i18n::kept_record(lang, record);
            KeptRow {
                key: record.kept.key(),
                title,
                why,
                period,
            }
        })
        .collect()
}

/// A cookie the service sets, as the privacy page lists it.
pub(crate) struct CookieRow {
    name: &'static str,
    purpose: &'static str,
    lifetime: String,
}

#[derive(Template)]
#[template(path = "privacy.html")]
struct PrivacyPage<'a> {
    c: &'a Chrome,
    /// The owner's text: in the page's language first, then in the other.
    as_written: [(&'static str, Vec<&'static str>); 2],
    version: String,
    /// Periods from the configuration, as sentences' values.
    inquiries: String,
    ledger: String,
    statistics: String,
    operator_log: String,
    cookies: Vec<CookieRow>,
    kept: Vec<KeptRow>,
    /// Published versions, newest first: the version's line and what changed.
    history: Vec<(String, String)>,
    /// The business (APPI 第32条): name, address, representative; whether it is the sandbox's
    /// sample.
    seller: kikeru_domain::shop::legal::Seller,
    sample_seller: bool,
    /// Purposes that need consent: title, notice.
    purposes: Vec<(String, String)>,
    /// Processors: name, what they do, country (empty: not recorded), the country's rules.
    processors: Vec<(String, String, String, String)>,
    due_days: u64,
}

#[handler]
pub(crate) async fn privacy(state: Data<&AppState>, req: &Request) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let days = |d: std::time::Duration| {
        let n = (d.as_secs() / 86_400).to_string();
        kikeru_i18n::fill(c.t("privacy.days"), &[("days", &n)])
    };
    let retention = &state.config.retention;
    let other = match c.lang {
        Language::Ja => Language::En,
        Language::En => Language::Ja,
    };
    let session = state.config.cookie();
    let session_days = (kikeru_domain::SessionPolicy::default()
        .absolute_lifetime
        .as_secs()
        / 86_400)
        .to_string();
    let cookies = vec![
        CookieRow {
            name: session.name(),
            purpose: c.t("privacy.cookie_session"),
            lifetime: kikeru_i18n::fill(
                c.t("privacy.cookie_session_life"),
                &[("days", &session_days)],
            ),
        },
        CookieRow {
            name: super::csrf_cookie_name(&state),
            purpose: c.t("privacy.cookie_csrf"),
            lifetime: c.t("privacy.cookie_browser_session").to_owned(),
        },
        CookieRow {
            name: super::LANG_COOKIE,
            purpose: c.t("privacy.cookie_lang"),
            lifetime: kikeru_i18n::fill(c.t("privacy.days"), &[("days", "365")]),
        },
        CookieRow {
            name: state.config.operator_cookie().name(),
            purpose: c.t("privacy.cookie_operator"),
            lifetime: c.t("privacy.cookie_operator_life").to_owned(),
        },
    ];
    let versions = state.services.policy.versions().await.unwrap_or_default();
    let ((number, effective), _) = state
        .services
        .policy
        .current()
        .await
        .unwrap_or((kikeru_domain::privacy::policy::FIRST, None));
    let effective = effective.to_string();
    let page = PrivacyPage {
        history: versions
            .iter()
            .rev()
            .map(|v| {
                (
                    kikeru_i18n::fill(
                        c.t("privacy.version"),
                        &[
                            ("number", &v.number.to_string()),
                            ("date", &v.effective.to_string()),
                        ],
                    ),
                    v.changes(c.lang).to_owned(),
                )
            })
            .collect(),
        c: &c,
        as_written: [
            (c.lang.tag(), policy_lines(c.lang)),
            (other.tag(), policy_lines(other)),
        ],
        version: kikeru_i18n::fill(
            c.t("privacy.version"),
            &[("number", &number.to_string()), ("date", &effective)],
        ),
        inquiries: days(retention.inquiries),
        ledger: days(
            retention
                .ledger
                .max(kikeru_domain::privacy::retention::LEDGER_MINIMUM),
        ),
        statistics: days(state.config.stats_retention),
        operator_log: days(
            retention
                .operator_log
                .max(kikeru_domain::privacy::retention::LEDGER_MINIMUM),
        ),
        cookies,
        kept: kept_rows(&state, c.lang),
        sample_seller: state.config.seller.is_none(),
        seller: state
            .config
            .seller
            .clone()
            .unwrap_or_else(kikeru_domain::shop::legal::Seller::sample),
        purposes: state
            .services
            .consents
            .purposes()
            .await
            .unwrap_or_default()
            .iter()
            .map(|p| {
                (
                    p.title.get(c.lang).to_owned(),
                    p.notice.get(c.lang).to_owned(),
                )
            })
            .collect(),
        processors: state
            .services
            .disclosures
            .supervision()
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|(p, last, _)| {
                let (country, environment) = last
                    .map(|s| (s.country, s.foreign_environment))
                    .unwrap_or_default();
                (p.name, p.purpose, country, environment)
            })
            .collect(),
        due_days: state.services.requests.policy().due.as_secs() / 86_400,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Template)]
#[template(path = "tokushoho.html")]
struct CommercePage<'a> {
    c: &'a Chrome,
    seller: &'a kikeru_domain::shop::legal::Seller,
    registration: Option<&'a str>,
    sample: bool,
}

/// The 特定商取引法に基づく表記 page, from the configured seller (labelled samples in the
/// sandbox).
#[handler]
pub(crate) async fn commerce(state: Data<&AppState>, req: &Request) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let sample = kikeru_domain::shop::legal::Seller::sample();
    let (seller, is_sample) = match &state.config.seller {
        Some(seller) => (seller, false),
        None => (&sample, true),
    };
    let page = CommercePage {
        c: &c,
        seller,
        registration: seller
            .registration_number
            .as_ref()
            .map(kikeru_domain::shop::tax::RegistrationNumber::as_str),
        sample: is_sample,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

/// Switches the language and goes back where the member was.
#[handler]
pub(crate) async fn switch_language(
    state: Data<&AppState>,
    Path(tag): Path<String>,
    Query(query): Query<BackQuery>,
) -> Response {
    let back = if local_path(&query.back) {
        query.back.as_str()
    } else {
        "/"
    };
    match tag.parse::<Language>() {
        Ok(lang) => see_other(back, &[super::language_cookie(&state, lang)]),
        Err(_) => see_other(back, &[]),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct OrderQuery {
    order_id: String,
}

/// Where the provider sends the member back. It never marks anything paid by itself: it asks
/// the provider (reconciliation) and shows what the provider says.
#[handler]
pub(crate) async fn checkout_complete(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<OrderQuery>,
) -> Response {
    use kikeru_domain::PaymentStatus as P;
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let Some(member) = member else {
        let back = format!(
            "/login?back=/checkout/complete%3Forder_id%3D{}",
            query.order_id
        );
        return see_other(&back, &[]);
    };
    let Ok(id) = query.order_id.parse::<uuid::Uuid>() else {
        return super::error_page(StatusCode::NOT_FOUND, c.lang);
    };
    let order = match state
        .services
        .shop
        .reconciled_order(member.member.id, kikeru_domain::OrderId::from_uuid(id))
        .await
    {
        Ok((order, _)) => order,
        Err(kikeru_domain::shop::LookupError::NotFound) => {
            return super::error_page(StatusCode::NOT_FOUND, c.lang);
        }
        Err(e) => {
            let status = crate::problem::failure(&e, "an order could not be read");
            return super::error_page(status, c.lang);
        }
    };
    let (title, text, link) = match order.status {
        P::Paid => (
            "checkout.paid_title",
            "checkout.paid",
            ("/me#library", "checkout.to_library"),
        ),
        P::Open => (
            "checkout.open_title",
            "checkout.open",
            ("/me#payments", "mypage.payments"),
        ),
        P::Refunded => (
            "checkout.refunded_title",
            "checkout.refunded",
            ("/me#payments", "mypage.payments"),
        ),
        P::RefundPending => (
            "checkout.refund_pending_title",
            "checkout.refund_pending",
            ("/me#payments", "mypage.payments"),
        ),
        P::Disputed => (
            "checkout.disputed_title",
            "checkout.disputed",
            ("/me#payments", "mypage.payments"),
        ),
        P::ChargedBack => (
            "checkout.charged_back_title",
            "checkout.charged_back",
            ("/me#payments", "mypage.payments"),
        ),
        P::Failed | P::Expired | P::Canceled => (
            "checkout.failed_title",
            "checkout.failed",
            ("/", "error.back_home"),
        ),
    };
    let page = MessagePage {
        c: &c,
        title: c.t(title),
        text: c.t(text),
        link: Some((link.0, c.t(link.1))),
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[handler]
pub(crate) async fn checkout_canceled(state: Data<&AppState>, req: &Request) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    message(
        StatusCode::OK,
        &c,
        c.t("checkout.canceled_title"),
        c.t("checkout.canceled"),
    )
}

/// The public pages: the catalogue, buying, registration, signing in, contact, the legal pages.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at("/checkout/complete", get(checkout_complete))
        .at("/checkout/canceled", get(checkout_canceled))
        .at("/verify-email", get(verify_page).post(verify_submit))
        .at("/reset-password", get(reset_page).post(reset_submit))
        .at("/", get(home))
        .at("/creators", get(creators))
        .at("/creators/:key", get(by_creator))
        .at("/tags/:tag", get(tagged))
        .at("/products/:id", get(product))
        .at("/products/:id/confirm", get(confirm))
        .at("/products/:id/buy", post(buy))
        .at("/register", get(register_page).post(register_submit))
        .at("/login", get(login_page).post(login_submit))
        .at("/logout", post(logout))
        .at("/forgot-password", get(forgot_page).post(forgot_submit))
        .at("/contact", get(contact_page).post(contact_submit))
        .at("/privacy", get(privacy))
        .at("/tokushoho", get(commerce))
        .at("/lang/:tag", get(switch_language))
}
