//! The office console under `/admin`: operators sign in with their own cookie, read and answer
//! inquiries, approve legal orders, keep the partner register and see the processors and the
//! catalogue. Every step goes to the operators' audit log, as through the office API.

use askama::Template;
use kikeru_domain::disclosure::{LegalOrderDraft, LegalOrderError};
use kikeru_domain::inquiry::{AnswerError, InquiryId};
use kikeru_domain::operators::{OfficeError, OperatorAuth};
use kikeru_domain::privacy::Partner;
use poem::http::StatusCode;
use poem::web::{Data, Form, Path, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::mypage::when;
use super::pages::posted_form;
use super::{Chrome, CsrfOnly, html, see_other};
use crate::AppState;
use crate::client::client;

/// The signed-in operator, if the request carries a live operator session.
async fn operator(state: &AppState, req: &Request) -> Option<OperatorAuth> {
    let token = state.config.operator_cookie().token(req)?;
    state.services.office.authenticate(&token).await.ok()
}

/// The console's page context (`signed_in` means an operator).
fn chrome(state: &AppState, req: &Request, signed_in: bool) -> Chrome {
    let mut c = super::chrome(state, req, None);
    c.signed_in = signed_in;
    c
}

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

pub(super) fn unavailable(c: &Chrome) -> Response {
    super::error_page(StatusCode::SERVICE_UNAVAILABLE, c.lang)
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
}

#[handler]
pub(crate) async fn home(state: Data<&AppState>, req: &Request) -> Response {
    let Some(who) = operator(&state, req).await else {
        let c = chrome(&state, req, false);
        let page = LoginPage {
            c: &c,
            email: "",
            error: None,
        };
        return html(StatusCode::OK, &c, page.render(), &[]);
    };
    let c = chrome(&state, req, true);
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
        ))
    };
    let Ok((open_inquiries, awaiting, processors, partners, products)) = counts.await else {
        return unavailable(&c);
    };
    let page = HomePage {
        c: &c,
        operator: who.operator.email.as_str().to_owned(),
        role: who.operator.role.as_str(),
        open_inquiries,
        awaiting,
        processors,
        partners,
        products,
    };
    html(StatusCode::OK, &c, page.render(), &[])
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
    Form(form): Form<LoginForm>,
) -> Response {
    let c = match posted_form(&state, req, None, &form.csrf) {
        Ok(c) => c,
        Err(refusal) => return refusal,
    };
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
                other => {
                    tracing::error!(error = %other, "an operator sign-in failed");
                    (StatusCode::SERVICE_UNAVAILABLE, "error.server")
                }
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

/// The operator of a console request, or the way to the sign-in form.
pub(super) async fn signed_in(
    state: &AppState,
    req: &Request,
) -> Result<(OperatorAuth, Chrome), Response> {
    match operator(state, req).await {
        Some(who) => Ok((who, chrome(state, req, true))),
        None => Err(see_other("/admin", &[])),
    }
}

/// The operator of a posted console form, or the response refusing it.
pub(super) async fn posted(
    state: &AppState,
    req: &Request,
    csrf: &str,
) -> Result<(OperatorAuth, Chrome), Response> {
    let (who, _) = signed_in(state, req).await?;
    let mut c = posted_form(state, req, None, csrf)?;
    c.signed_in = true;
    Ok((who, c))
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
    req: &Request,
    Query(query): Query<ListQuery>,
) -> Response {
    let (who, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    let open_only = query.all.is_empty();
    let Ok(found) = state.services.contact.list(open_only, 200).await else {
        return unavailable(&c);
    };
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
    html(StatusCode::OK, &c, page.render(), &[])
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
) -> Result<Response, Response> {
    let uuid = id
        .parse::<uuid::Uuid>()
        .map_err(|_| super::error_page(StatusCode::NOT_FOUND, c.lang))?;
    let found = state
        .services
        .contact
        .inquiry(InquiryId::from_uuid(uuid))
        .await
        .map_err(|_| unavailable(c))?
        .ok_or_else(|| super::error_page(StatusCode::NOT_FOUND, c.lang))?;
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
    req: &Request,
    Path(id): Path<String>,
) -> Response {
    let (who, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    match inquiry_page(&state, &c, &id, StatusCode::OK, None).await {
        Ok(page) => {
            audit(
                &state,
                &who,
                "inquiry.read",
                &format!("inquiry {id} (console)"),
            )
            .await;
            page
        }
        Err(refusal) => refusal,
    }
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
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<AnswerForm>,
) -> Response {
    let (who, c) = match posted(&state, req, &form.csrf).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    let Ok(uuid) = id.parse::<uuid::Uuid>() else {
        return super::error_page(StatusCode::NOT_FOUND, c.lang);
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
            see_other(&format!("/admin/inquiries/{id}"), &[])
        }
        Err(AnswerError::NotFound) => super::error_page(StatusCode::NOT_FOUND, c.lang),
        Err(AnswerError::Invalid) => inquiry_page(
            &state,
            &c,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(c.t("contact.bad_message")),
        )
        .await
        .unwrap_or_else(|refusal| refusal),
        Err(e) => {
            tracing::error!(error = %e, "an answer could not be sent");
            unavailable(&c)
        }
    }
}

struct OrderRow {
    id: String,
    authority: String,
    reference: String,
    approvals: String,
    can_approve: bool,
    state: &'static str,
}

#[derive(Template)]
#[template(path = "console_legal_orders.html")]
struct LegalOrdersPage<'a> {
    c: &'a Chrome,
    rows: Vec<OrderRow>,
    categories: Vec<&'static str>,
    error: Option<&'a str>,
}

/// Every data category's name, for the forms' checkboxes.
pub(super) fn category_names() -> Vec<&'static str> {
    kikeru_domain::privacy::DataCategory::ALL
        .iter()
        .map(|c| c.as_str())
        .collect()
}

/// A posted form's fields, repeated ones (check boxes) included.
pub(super) struct Fields(pub(super) Vec<(String, String)>);

impl Fields {
    pub(super) fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    pub(super) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// The member IDs typed into `name`, separated by white space; `None` when one is not an
    /// ID.
    pub(super) fn member_ids(
        &self,
        name: &str,
    ) -> Option<std::collections::BTreeSet<kikeru_domain::MemberId>> {
        self.one(name)
            .split_whitespace()
            .map(|id| id.parse().ok().map(kikeru_domain::MemberId::from_uuid))
            .collect()
    }

    /// The data categories ticked (`categories`); `None` when one is unknown.
    pub(super) fn categories(&self) -> Option<kikeru_domain::privacy::Categories> {
        self.all("categories")
            .iter()
            .map(|c| kikeru_domain::privacy::DataCategory::from_name(c))
            .collect()
    }
}

fn date(text: &str) -> Option<kikeru_domain::Timestamp> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text.trim(), &format)
        .ok()
        .map(|d| d.midnight().assume_utc())
}

#[handler]
pub(crate) async fn legal_orders(state: Data<&AppState>, req: &Request) -> Response {
    let (who, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    legal_orders_page(&state, &c, &who, StatusCode::OK, None).await
}

async fn legal_orders_page(
    state: &AppState,
    c: &Chrome,
    who: &OperatorAuth,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let Ok(orders) = state.services.disclosures.legal_orders().await else {
        return unavailable(c);
    };
    // Approvals are recorded by operator ID, as through the office API, so that one operator
    // can never count twice.
    let me = who.operator.id.to_string();
    let rows = orders
        .iter()
        .map(|o| {
            let approved = o.approved_by.len() >= 2;
            let mine = o.approved_by.contains(&me);
            OrderRow {
                id: o.id.clone(),
                authority: o.authority.clone(),
                reference: o.reference.clone(),
                approvals: o.approved_by.iter().cloned().collect::<Vec<_>>().join(", "),
                can_approve: !approved && !mine,
                state: if approved {
                    c.t("console.effective")
                } else {
                    c.t("console.approved_by_you")
                },
            }
        })
        .collect();
    let page = LegalOrdersPage {
        c,
        rows,
        categories: category_names(),
        error,
    };
    html(status, c, page.render(), &[])
}

#[handler]
pub(crate) async fn record_legal_order(
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let fields = Fields(fields);
    let (who, c) = match posted(&state, req, fields.one("csrf")).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    let withheld = fields.one("withheld_until");
    let (Some(members), Some(categories), Some(issued_at)) = (
        fields.member_ids("members"),
        fields.categories(),
        date(fields.one("issued_on")),
    ) else {
        return invalid_legal_order(&state, &c, &who).await;
    };
    if !withheld.is_empty() && date(withheld).is_none() {
        return invalid_legal_order(&state, &c, &who).await;
    }
    let draft = LegalOrderDraft {
        authority: fields.one("authority").to_owned(),
        reference: fields.one("reference").to_owned(),
        legal_basis: fields.one("legal_basis").to_owned(),
        issued_at,
        members,
        categories,
        notice_withheld_until: date(withheld),
    };
    match state
        .services
        .disclosures
        .record_legal_order(draft, who.operator.id)
        .await
    {
        Ok(recorded) => {
            audit(
                &state,
                &who,
                "legal_order.recorded",
                &format!("legal order {} (console)", recorded.id),
            )
            .await;
            see_other("/admin/legal-orders", &[])
        }
        Err(LegalOrderError::Invalid(_)) => invalid_legal_order(&state, &c, &who).await,
        Err(_) => unavailable(&c),
    }
}

/// The legal-order form again, saying the order is not complete.
async fn invalid_legal_order(state: &AppState, c: &Chrome, who: &OperatorAuth) -> Response {
    let error = c.t("console.order_invalid");
    legal_orders_page(state, c, who, StatusCode::UNPROCESSABLE_ENTITY, Some(error)).await
}

/// The disclosure form as typed.
#[derive(Debug, Default)]
struct DisclosureFields {
    member: String,
    recipient: String,
    basis: String,
}

#[derive(Template)]
#[template(path = "console_disclose.html")]
struct DisclosePage<'a> {
    c: &'a Chrome,
    form: DisclosureFields,
    categories: Vec<&'static str>,
    error: Option<String>,
    entry: String,
    package: Option<String>,
}

#[handler]
pub(crate) async fn disclosures(state: Data<&AppState>, req: &Request) -> Response {
    let (_, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    let page = DisclosePage {
        c: &c,
        form: DisclosureFields::default(),
        categories: category_names(),
        error: None,
        entry: String::new(),
        package: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

/// Decides a disclosure with the rules and, when allowed, shows the recipient's package.
#[handler]
pub(crate) async fn disclose(
    state: Data<&AppState>,
    req: &Request,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    use kikeru_domain::privacy::{ClaimedBasis, DisclosureRequest, Recipient, Transfer};
    let fields = Fields(fields);
    let (who, c) = match posted(&state, req, fields.one("csrf")).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    let form = DisclosureFields {
        member: fields.one("member").trim().to_owned(),
        recipient: fields.one("recipient").trim().to_owned(),
        basis: fields.one("basis").trim().to_owned(),
    };
    let categories = fields.categories();
    let page = |status: StatusCode,
                form: DisclosureFields,
                error: Option<String>,
                entry: String,
                package: Option<String>| {
        let page = DisclosePage {
            c: &c,
            form,
            categories: category_names(),
            error,
            entry,
            package,
        };
        html(status, &c, page.render(), &[])
    };
    let parsed = (
        form.member.parse::<uuid::Uuid>().ok(),
        Recipient::parse(&form.recipient),
        ClaimedBasis::parse(&form.basis),
        categories.filter(|c| !c.is_empty()),
    );
    let (Some(member), Some(recipient), Some(basis), Some(categories)) = parsed else {
        let error = Some(c.t("console.disclosure_invalid").to_owned());
        return page(
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            error,
            String::new(),
            None,
        );
    };
    let member = kikeru_domain::MemberId::from_uuid(member);
    let request = DisclosureRequest {
        member_id: member,
        recipient,
        categories,
        transfer: Transfer::Provision,
        basis,
        at: state.services.disclosures.now(),
    };
    match state
        .services
        .disclosures
        .disclose(&who.operator, request)
        .await
    {
        Ok((entry, package)) => {
            audit(
                &state,
                &who,
                "disclosure.made",
                &format!("ledger entry {} for member {member} (console)", entry.seq),
            )
            .await;
            let json = crate::privacy_api::package_json(&package);
            let summary = format!(
                "#{} {} → {} ({})",
                entry.seq,
                super::mypage::when(entry.at),
                entry.recipient_details.name,
                entry.basis.to_text()
            );
            page(
                StatusCode::CREATED,
                form,
                None,
                summary,
                Some(format!("{json:#}")),
            )
        }
        Err(e) => {
            audit(
                &state,
                &who,
                "disclosure.refused",
                &format!("member {member}: {e} (console)"),
            )
            .await;
            let error = Some(match e {
                kikeru_domain::disclosure::DisclosureError::NotAdministrator => {
                    c.t("console.admin_required").to_owned()
                }
                e => format!("{}: {e}", c.t("console.refused")),
            });
            page(StatusCode::FORBIDDEN, form, error, String::new(), None)
        }
    }
}

#[handler]
pub(crate) async fn approve(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    let (who, c) = match posted(&state, req, &form.csrf).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    match state
        .services
        .disclosures
        .approve_legal_order(&id, who.operator.id)
        .await
    {
        Ok(order) => {
            audit(
                &state,
                &who,
                "legal_order.approved",
                &format!(
                    "legal order {} now has {} approvals (console)",
                    order.id,
                    order.approved_by.len()
                ),
            )
            .await;
            see_other("/admin/legal-orders", &[])
        }
        Err(kikeru_domain::StoreError::NotFound) => {
            super::error_page(StatusCode::NOT_FOUND, c.lang)
        }
        Err(_) => unavailable(&c),
    }
}

#[derive(Template)]
#[template(path = "console_register.html")]
struct RegisterPage<'a> {
    c: &'a Chrome,
    processors: Vec<(String, String, String, String)>,
    /// Waiting for a second administrator: key, name, categories, proposer, when.
    proposals: Vec<(String, String, String, String, String)>,
    partners: Vec<(String, String, String, String)>,
    error: Option<&'a str>,
}

fn items(categories: &kikeru_domain::privacy::Categories) -> String {
    categories
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

async fn register_page(
    state: &AppState,
    c: &Chrome,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let (Ok(processors), Ok(proposals), Ok(partners)) = (
        state.services.disclosures.processors().await,
        state.services.disclosures.processor_proposals().await,
        state.services.disclosures.partners().await,
    ) else {
        return unavailable(c);
    };
    let page = RegisterPage {
        c,
        processors: processors
            .iter()
            .map(|p| {
                (
                    p.key.clone(),
                    p.name.clone(),
                    p.purpose.clone(),
                    items(&p.categories),
                )
            })
            .collect(),
        proposals: proposals
            .iter()
            .map(|p| {
                (
                    p.processor.key.clone(),
                    p.processor.name.clone(),
                    items(&p.processor.categories),
                    p.proposed_by.clone(),
                    super::mypage::when(p.proposed_at),
                )
            })
            .collect(),
        partners: partners
            .iter()
            .map(|p| {
                (
                    p.key.clone(),
                    p.name.clone(),
                    p.address.clone(),
                    p.contact.clone(),
                )
            })
            .collect(),
        error,
    };
    html(status, c, page.render(), &[])
}

#[handler]
pub(crate) async fn register(state: Data<&AppState>, req: &Request) -> Response {
    match signed_in(&state, req).await {
        Ok((_, c)) => register_page(&state, &c, StatusCode::OK, None).await,
        Err(away) => away,
    }
}

/// `POST /admin/processors/{key}/approve`: a second administrator puts a proposed change to
/// the processor register in force.
#[handler]
pub(crate) async fn approve_processor(
    state: Data<&AppState>,
    req: &Request,
    Path(key): Path<String>,
    Form(form): Form<CsrfOnly>,
) -> Response {
    use kikeru_domain::disclosure::RegisterError;
    let (who, c) = match posted(&state, req, &form.csrf).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    let (status, message) = match state
        .services
        .disclosures
        .approve_processor(&who.operator, &key)
        .await
    {
        Ok(processor) => {
            audit(
                &state,
                &who,
                "processor.approved",
                &format!(
                    "processor {} entrusted with {} (console)",
                    processor.key,
                    items(&processor.categories)
                ),
            )
            .await;
            return see_other("/admin/register", &[]);
        }
        Err(RegisterError::NotAdministrator) => (StatusCode::FORBIDDEN, "console.admin_required"),
        Err(RegisterError::SameAdministrator) => (StatusCode::CONFLICT, "console.second_admin"),
        Err(RegisterError::NoProposal) => (StatusCode::NOT_FOUND, "console.no_proposal"),
        Err(RegisterError::Store(_)) => return unavailable(&c),
    };
    register_page(&state, &c, status, Some(c.t(message))).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PartnerForm {
    csrf: String,
    key: String,
    name: String,
    address: String,
    representative: String,
    contact: String,
}

#[handler]
pub(crate) async fn save_partner(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<PartnerForm>,
) -> Response {
    let (who, c) = match posted(&state, req, &form.csrf).await {
        Ok(pair) => pair,
        Err(refusal) => return refusal,
    };
    let key_ok = !form.key.is_empty()
        && form.key.len() <= 64
        && form
            .key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let required = [&form.name, &form.address, &form.contact];
    if !key_ok || required.iter().any(|f| f.trim().is_empty()) {
        return register_page(
            &state,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(c.t("console.partner_invalid")),
        )
        .await;
    }
    let partner = Partner {
        key: form.key.clone(),
        name: form.name.trim().to_owned(),
        address: form.address.trim().to_owned(),
        representative: Some(form.representative.trim().to_owned()).filter(|r| !r.is_empty()),
        contact: form.contact.trim().to_owned(),
    };
    if state
        .services
        .disclosures
        .save_partner(&partner)
        .await
        .is_err()
    {
        return unavailable(&c);
    }
    audit(
        &state,
        &who,
        "partner.saved",
        &format!("partner {} ({}) (console)", partner.key, partner.name),
    )
    .await;
    see_other("/admin/register", &[])
}

#[derive(Template)]
#[template(path = "console_catalogue.html")]
struct CataloguePage<'a> {
    c: &'a Chrome,
    products: Vec<(String, String, String, &'a str)>,
}

#[handler]
pub(crate) async fn catalogue(state: Data<&AppState>, req: &Request) -> Response {
    let (_, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    let Ok(products) = state.services.shop.all_products(None, 1000).await else {
        return unavailable(&c);
    };
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
    html(
        StatusCode::OK,
        &c,
        CataloguePage {
            c: &c,
            products: rows,
        }
        .render(),
        &[],
    )
}

/// The report of the last 30 completed days (UTC), after rolling up what is new.
async fn report_of(
    state: &AppState,
) -> Result<(kikeru_domain::stats::Report, time::Date, time::Date), kikeru_domain::StoreError> {
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
        kikeru_domain::stats::report(&counts, state.config.stats_min_count),
        from,
        to,
    ))
}

#[derive(Template)]
#[template(path = "console_statistics.html")]
struct StatisticsPage<'a> {
    c: &'a Chrome,
    from: String,
    to: String,
    k: u64,
    suppressed: u64,
    views: Vec<(String, String, String, u64)>,
    browsers: Vec<(String, String, String, u64)>,
    statuses: Vec<(u16, u64)>,
}

#[handler]
pub(crate) async fn statistics(state: Data<&AppState>, req: &Request) -> Response {
    let (who, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    let Ok((report, from, to)) = report_of(&state).await else {
        return unavailable(&c);
    };
    audit(
        &state,
        &who,
        "statistics.viewed",
        "statistics report (console)",
    )
    .await;
    let page = StatisticsPage {
        c: &c,
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
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ExportQuery {
    format: String,
}

#[handler]
pub(crate) async fn statistics_export(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<ExportQuery>,
) -> Response {
    let (who, c) = match signed_in(&state, req).await {
        Ok(pair) => pair,
        Err(away) => return away,
    };
    let Ok((report, from, to)) = report_of(&state).await else {
        return unavailable(&c);
    };
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
    Response::builder()
        .content_type(content_type)
        .header(
            "content-disposition",
            format!("attachment; filename=\"kikeru-statistics-{from}-{to}.{extension}\""),
        )
        .header("cache-control", "no-store")
        .body(body)
}
