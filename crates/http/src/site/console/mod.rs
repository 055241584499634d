//! The office console under `/admin`: operators sign in with their own cookie, read and answer
//! inquiries, approve legal orders, keep the partner register and see the processors and the
//! catalogue. Every step goes to the operators' audit log, as through the office API.

use crate::site::extract::{console_chrome, console_operator as operator};
use askama::Template;
use kikeru_domain::office::inquiry::{AnswerError, InquiryId};
use kikeru_domain::office::service::{OfficeError, OperatorAuth};
use kikeru_domain::privacy::Partner;
use kikeru_domain::privacy::disclosure::{LegalOrderDraft, LegalOrderError};
use poem::Route;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::extract::{ConsoleUser, OperatorForm, PublicForm};
use super::{Chrome, CsrfOnly, OrPage, Page, PageError, html, see_other};
use crate::AppState;
use crate::client::client;
use crate::site::posted_form;
use crate::site::when;
super::extract::csrf_field!(
    AnswerForm,
    LoginForm,
    PartnerForm,
    privacy::SupervisionForm,
    policy::PublishForm
);

mod books;
mod policy;
mod privacy;

pub(crate) use privacy::*;

pub(super) async fn audit(state: &AppState, who: &OperatorAuth, action: &str, detail: &str) {
    if let Err(e) = state
        .services
        .office
        .audit(Some(who.operator.id), action, detail)
        .await
    {
        tracing::error!(error = %e, action, "an operator action could not be audited");
    }
}

#[derive(Template)]
#[template(path = "console_login.html")]
struct LoginPage<'a> {
    c: &'a Chrome,
    email: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "console_home.html")]
struct HomePage<'a> {
    c: &'a Chrome,
    operator: String,
    role: &'a str,
    open_inquiries: usize,
    awaiting: usize,
    processors: usize,
    partners: usize,
    products: usize,
    payment_cases: usize,
    open_requests: usize,
    overdue_requests: usize,
    reviews_due: usize,
}

#[handler]
pub(crate) async fn home(state: Data<&AppState>, req: &Request) -> Page {
    let Some(who) = operator(&state, req).await else {
        let c = console_chrome(&state, req, false);
        let page = LoginPage {
            c: &c,
            email: "",
            error: None,
        };
        return Ok(html(StatusCode::OK, &c, page.render(), &[]));
    };
    let c = console_chrome(&state, req, true);
    let counts = async {
        Ok::<_, kikeru_domain::StoreError>((
            state.services.contact.list(true, 1000).await?.len(),
            state
                .services
                .disclosures
                .legal_orders()
                .await?
                .iter()
                .filter(|o| o.approved_by.len() < 2)
                .count(),
            state.services.disclosures.processors().await?.len(),
            state.services.disclosures.partners().await?.len(),
            state.services.shop.all_products(None, 1000).await?.len(),
            state
                .services
                .shop
                .cases_needing_attention(500)
                .await?
                .len(),
        ))
    };
    let (open_inquiries, awaiting, processors, partners, products, payment_cases) = counts
        .await
        .or_page(c.lang, "a console page could not be read")?;
    let duties = async {
        let requests = state.services.requests.list(true).await?;
        let reviews = state.services.disclosures.supervision().await?;
        Ok::<_, kikeru_domain::StoreError>((requests, reviews))
    };
    let (requests, reviews) = duties
        .await
        .or_page(c.lang, "a console page could not be read")?;
    let now = state.services.requests.now();
    let overdue_requests = requests
        .iter()
        .filter(|r| r.time_left(now).is_some_and(|left| left.is_negative()))
        .count();
    let page = HomePage {
        c: &c,
        operator: who.operator.email.as_str().to_owned(),
        role: who.operator.role.as_str(),
        open_inquiries,
        awaiting,
        processors,
        partners,
        products,
        payment_cases,
        open_requests: requests.len(),
        overdue_requests,
        reviews_due: reviews.iter().filter(|(_, _, due)| *due).count(),
    };
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    csrf: String,
    email: String,
    password: String,
}

#[handler]
pub(crate) async fn login(
    state: Data<&AppState>,
    req: &Request,
    PublicForm { c, form }: PublicForm<LoginForm>,
) -> Response {
    match state
        .services
        .office
        .sign_in(&form.email, &form.password, &client(req, &state.config))
        .await
    {
        Ok((auth, token)) => {
            let cookie = state.config.operator_cookie().set(
                &token,
                auth.session.created_at,
                auth.session.expires_at,
            );
            see_other("/admin", &[cookie])
        }
        Err(e) => {
            let (status, key) = match e {
                OfficeError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "error.throttled"),
                OfficeError::InvalidCredentials => (StatusCode::UNAUTHORIZED, "login.failed"),
                other => (
                    crate::problem::failure(&other, "an operator sign-in failed"),
                    "error.server",
                ),
            };
            let page = LoginPage {
                c: &c,
                email: &form.email,
                error: Some(c.t(key)),
            };
            html(status, &c, page.render(), &[])
        }
    }
}

#[handler]
pub(crate) async fn logout(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let who = operator(&state, req).await;
    if let Err(refusal) = posted_form(&state, req, None, &form.csrf) {
        return refusal;
    }
    if let Some(who) = who
        && let Err(e) = state.services.office.sign_out(&who).await
    {
        tracing::warn!(error = %e, "an operator sign-out failed");
    }
    see_other("/admin", &[state.config.operator_cookie().clear()])
}

struct InquiryRow {
    id: String,
    reference: String,
    subject: String,
    from: String,
    received: String,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "console_inquiries.html")]
struct InquiriesPage<'a> {
    c: &'a Chrome,
    open_only: bool,
    rows: Vec<InquiryRow>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ListQuery {
    all: String,
}

#[handler]
pub(crate) async fn inquiries(
    state: Data<&AppState>,
    Query(query): Query<ListQuery>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let open_only = query.all.is_empty();
    let found = state
        .services
        .contact
        .list(open_only, 200)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    audit(
        &state,
        &who,
        "inquiry.listed",
        &format!(
            "{} inquiries (open only: {open_only}, console)",
            found.len()
        ),
    )
    .await;
    let rows = found
        .iter()
        .map(|i| InquiryRow {
            id: i.id.to_string(),
            reference: i.reference.clone(),
            subject: i.subject.clone(),
            from: i.email.as_str().to_owned(),
            received: when(i.received_at),
            state: if i.is_open() {
                c.t("mypage.waiting")
            } else {
                c.t("mypage.answered")
            },
        })
        .collect();
    let page = InquiriesPage {
        c: &c,
        open_only,
        rows,
    };
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

#[derive(Template)]
#[template(path = "console_inquiry.html")]
struct InquiryPage<'a> {
    c: &'a Chrome,
    id: String,
    reference: String,
    subject: String,
    from: String,
    received: String,
    channel: &'a str,
    attachments: String,
    body: String,
    answers: Vec<(String, String, String)>,
    error: Option<&'a str>,
}

async fn inquiry_page(
    state: &AppState,
    c: &Chrome,
    id: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let uuid = id
        .parse::<uuid::Uuid>()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, c.lang))?;
    let found = state
        .services
        .contact
        .inquiry(InquiryId::from_uuid(uuid))
        .await
        .or_page(c.lang, "an inquiry could not be read")?
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, c.lang))?;
    let from = match &found.name {
        Some(name) => format!("{name} <{}>", found.email),
        None => found.email.as_str().to_owned(),
    };
    let attachments: Vec<String> = found
        .attachments
        .iter()
        .map(|a| format!("{} ({}, {} bytes)", a.name, a.content_type, a.size))
        .collect();
    let page = InquiryPage {
        c,
        id: found.id.to_string(),
        reference: found.reference.clone(),
        subject: found.subject.clone(),
        from,
        received: when(found.received_at),
        channel: found.channel.as_str(),
        attachments: attachments.join(", "),
        body: found.body.clone(),
        answers: found
            .answers
            .iter()
            .map(|a| (when(a.at), a.operator.clone(), a.body.clone()))
            .collect(),
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

#[handler]
pub(crate) async fn inquiry(
    state: Data<&AppState>,
    Path(id): Path<String>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let page = inquiry_page(&state, &c, &id, StatusCode::OK, None).await?;
    audit(
        &state,
        &who,
        "inquiry.read",
        &format!("inquiry {id} (console)"),
    )
    .await;
    Ok(page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AnswerForm {
    csrf: String,
    answer: String,
}

#[handler]
pub(crate) async fn answer(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form }: OperatorForm<AnswerForm>,
) -> Page {
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return Err(PageError::new(StatusCode::NOT_FOUND, c.lang));
    };
    match state
        .services
        .contact
        .answer(
            InquiryId::from_uuid(uuid),
            who.operator.email.as_str(),
            &form.answer,
        )
        .await
    {
        Ok(answered) => {
            audit(
                &state,
                &who,
                "inquiry.answered",
                &format!("inquiry {} (console)", answered.reference),
            )
            .await;
            Ok(see_other(&format!("/admin/inquiries/{id}"), &[]))
        }
        Err(AnswerError::NotFound) => Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(AnswerError::Invalid) => {
            let again = Some(c.t("contact.bad_message"));
            inquiry_page(&state, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, again).await
        }
        Err(e) => Err(PageError::failed(c.lang, &e, "an answer could not be sent")),
    }
}

#[derive(Template)]
#[template(path = "console_payments.html")]
struct PaymentsPage<'a> {
    c: &'a Chrome,
    /// Order, what (kind and state), amount, reason, deadline to respond.
    cases: Vec<(String, String, String, String, String)>,
}

/// Refunds and disputes that need the operators: open disputes with the deadline to answer
/// them, refunds that failed or were canceled (the member's money is not back: refund again),
/// refunds waiting for the member's action.
#[handler]
pub(crate) async fn payments(state: Data<&AppState>, ConsoleUser { c, .. }: ConsoleUser) -> Page {
    let cases = state
        .services
        .shop
        .cases_needing_attention(500)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    let rows = cases
        .iter()
        .map(|(order, case)| {
            (
                order.to_string(),
                format!(
                    "{}: {}",
                    c.t(&format!("console.case_{}", case.state.kind())),
                    c.t(&format!(
                        "console.case_{}_{}",
                        case.state.kind(),
                        case.state.state()
                    ))
                ),
                case.amount.to_string(),
                case.reason.clone().unwrap_or_default(),
                case.respond_by.map(crate::site::when).unwrap_or_default(),
            )
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &c,
        PaymentsPage { c: &c, cases: rows }.render(),
        &[],
    ))
}

#[derive(Template)]
#[template(path = "console_catalogue.html")]
struct CataloguePage<'a> {
    c: &'a Chrome,
    products: Vec<(String, String, String, &'a str)>,
}

#[handler]
pub(crate) async fn catalogue(state: Data<&AppState>, ConsoleUser { c, .. }: ConsoleUser) -> Page {
    let products = state
        .services
        .shop
        .all_products(None, 1000)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    let rows = products
        .iter()
        .map(|p| {
            (
                p.draft.sku.as_str().to_owned(),
                p.draft.title.get(c.lang).to_owned(),
                p.draft.price.to_string(),
                if p.draft.active {
                    c.t("console.yes")
                } else {
                    c.t("console.no")
                },
            )
        })
        .collect();
    Ok(html(
        StatusCode::OK,
        &c,
        CataloguePage {
            c: &c,
            products: rows,
        }
        .render(),
        &[],
    ))
}

/// The report of the last 30 completed days (UTC), after rolling up what is new.
async fn report_of(
    state: &AppState,
) -> Result<
    (
        kikeru_domain::privacy::stats::Report,
        time::Date,
        time::Date,
    ),
    kikeru_domain::StoreError,
> {
    #[allow(
        clippy::disallowed_methods,
        reason = "which days are complete is a question about now"
    )]
    let today = time::OffsetDateTime::now_utc().date();
    state.statistics.roll_up(today).await?;
    let to = today.previous_day().unwrap_or(today);
    let from = to - time::Duration::days(29);
    let counts = state.statistics.daily(from, to).await?;
    Ok((
        kikeru_domain::privacy::stats::report(&counts, state.config.stats_min_count),
        from,
        to,
    ))
}

#[derive(Template)]
#[template(path = "console_statistics.html")]
struct StatisticsPage<'a> {
    c: &'a Chrome,
    views_chart: String,
    browsers_chart: String,
    statuses_chart: String,
    per_day: Vec<(String, i64)>,
    from: String,
    to: String,
    k: u64,
    suppressed: u64,
    views: Vec<(String, String, String, u64)>,
    browsers: Vec<(String, String, String, u64)>,
    statuses: Vec<(u16, u64)>,
}

#[handler]
pub(crate) async fn statistics(
    state: Data<&AppState>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let (report, from, to) = report_of(&state)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    audit(
        &state,
        &who,
        "statistics.viewed",
        "statistics report (console)",
    )
    .await;
    // Page views per day over every day of the period (days without any count as zero).
    let mut per_day: std::collections::BTreeMap<time::Date, u64> =
        std::collections::BTreeMap::new();
    let mut day = from;
    while day <= to {
        per_day.insert(day, 0);
        day = day.next_day().unwrap_or(to + time::Duration::days(1));
    }
    for (d, _, _, n) in &report.page_views {
        *per_day.entry(*d).or_default() += n;
    }
    let per_day: Vec<(String, i64)> = per_day
        .into_iter()
        .map(|(d, n)| (d.to_string(), i64::try_from(n).unwrap_or(i64::MAX)))
        .collect();
    let views_chart = crate::site::chart::line(
        &crate::site::chart::Caption {
            id: "views-chart",
            title: c.t("console.page_views_per_day"),
            desc: c.t("console.page_views_chart_desc"),
        },
        &per_day,
    );
    let count = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let browsers_chart = crate::site::chart::bars(
        &crate::site::chart::Caption {
            id: "browsers-chart",
            title: c.t("console.browsers"),
            desc: c.t("console.browsers_chart_desc"),
        },
        &report
            .browsers
            .iter()
            .map(|(b, o, d, n)| (format!("{b} / {o} / {d}"), count(*n)))
            .collect::<Vec<_>>(),
    );
    let statuses_chart = crate::site::chart::bars(
        &crate::site::chart::Caption {
            id: "statuses-chart",
            title: c.t("console.statuses"),
            desc: c.t("console.statuses_chart_desc"),
        },
        &report
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), count(*n)))
            .collect::<Vec<_>>(),
    );
    let page = StatisticsPage {
        c: &c,
        views_chart,
        browsers_chart,
        statuses_chart,
        per_day,
        from: from.to_string(),
        to: to.to_string(),
        k: report.k,
        suppressed: report.suppressed,
        views: report
            .page_views
            .iter()
            .map(|(d, m, p, n)| (d.to_string(), m.clone(), p.clone(), *n))
            .collect(),
        browsers: report.browsers.clone(),
        statuses: report.statuses.clone(),
    };
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ExportQuery {
    format: String,
}

#[handler]
pub(crate) async fn statistics_export(
    state: Data<&AppState>,
    Query(query): Query<ExportQuery>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let (report, from, to) = report_of(&state)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    audit(
        &state,
        &who,
        "statistics.exported",
        &format!("{} report {from}..{to} (console)", query.format),
    )
    .await;
    let (content_type, extension, body) = if query.format == "json" {
        (
            "application/json",
            "json",
            format!("{:#}", crate::report_json(&report)),
        )
    } else {
        ("text/csv; charset=utf-8", "csv", crate::report_csv(&report))
    };
    Ok(Response::builder()
        .content_type(content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"kikeru-statistics-{from}-{to}.{extension}\""),
        )
        .header("cache-control", "no-store")
        .body(body))
}

/// The office console: sign-in, inquiries, legal orders, disclosures, the registers, the catalogue, statistics.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at("/admin", get(home))
        .at("/admin/login", post(login))
        .at("/admin/logout", post(logout))
        .at("/admin/inquiries", get(inquiries))
        .at("/admin/inquiries/:id", get(inquiry))
        .at("/admin/inquiries/:id/answer", post(answer))
        .at(
            "/admin/legal-orders",
            get(legal_orders).post(record_legal_order),
        )
        .at("/admin/disclosures", get(disclosures).post(disclose))
        .at("/admin/legal-orders/:id/approve", post(approve))
        .at("/admin/register", get(register))
        .at("/admin/processors/:key/approve", post(approve_processor))
        .at("/admin/supervision", post(privacy::record_supervision))
        .at(
            "/admin/policy",
            get(policy::policy_versions).post(policy::publish),
        )
        .at("/admin/partners", post(save_partner))
        .at("/admin/catalogue", get(catalogue))
        .at("/admin/payments", get(payments))
        .at("/admin/books", get(books::books_page))
        .at("/admin/books/export", get(books::books_export))
        .at("/admin/statistics", get(statistics))
        .at("/admin/statistics/export", get(statistics_export))
}
