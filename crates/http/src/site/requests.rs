//! Requests under APPI on the site: the public form (identity proven by a mailed code), its
//! status page by number, the member's own requests and cessations on My Page, and the
//! console's list with the countdown to each due date and the page where an administrator
//! starts, answers or refuses a request. Every operator step is audited.

use askama::Template;
use kikeru_domain::Email;
use kikeru_domain::privacy::requests::desk::{RequestError, RequestForm};
use kikeru_domain::privacy::requests::{
    DisclosureForm, PrivacyRequest, RefusalGround, RequestKind, RequestStatus, StopScope,
};
use poem::http::StatusCode;
use poem::web::{Data, Path};
use poem::{Request, Route, handler};
use serde::Deserialize;

use super::console::audit;
use super::extract::{ConsoleUser, MemberForm, OperatorForm, SignedIn, VisitorForm};
use super::{Chrome, OrPage, Page, PageError, chrome, current, html, see_other, when, when_in};
use crate::AppState;
use crate::client::client;

super::extract::csrf_field!(AskFields, CodeFields, AnswerFields, RefuseFields);

/// The request form's fields, as typed (the address only on the public form).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AskFields {
    csrf: String,
    email: String,
    /// `disclosure_json`, `disclosure_document`, `provision_records`, `correction`,
    /// `cessation`.
    kind: String,
    /// For a cessation: `all`, `partner:KEY` or `purpose:KEY`.
    stop: String,
    details: String,
}

/// One choice of what a cessation stops.
struct StopChoice {
    value: String,
    label: String,
}

#[derive(Template)]
#[template(path = "requests.html")]
struct AskPage<'a> {
    c: &'a Chrome,
    /// Where the form posts: `/requests` (anyone) or `/me/requests` (the member).
    action: &'static str,
    public: bool,
    form: &'a AskFields,
    /// Each kind: its value, its label, whether it is chosen.
    kinds: Vec<(&'static str, &'static str, bool)>,
    stops: Vec<StopChoice>,
    error: Option<&'a str>,
    due_days: u64,
    mine: Vec<RequestView>,
    in_force: Vec<StopView>,
}

/// A request as its requester sees it.
struct RequestView {
    number: String,
    what: String,
    status: &'static str,
    received: String,
    due: String,
    answer: String,
}

/// A cessation in force, as its member sees it.
struct StopView {
    id: String,
    what: String,
    from: String,
}

const KINDS: [&str; 5] = [
    "disclosure_json",
    "disclosure_document",
    "provision_records",
    "correction",
    "cessation",
];

fn kind_of(form: &AskFields) -> Option<RequestKind> {
    Some(match form.kind.as_str() {
        "disclosure_json" => RequestKind::Disclosure {
            form: DisclosureForm::Json,
        },
        "disclosure_document" => RequestKind::Disclosure {
            form: DisclosureForm::Document,
        },
        "provision_records" => RequestKind::ProvisionRecords,
        "correction" => RequestKind::Correction,
        "cessation" => RequestKind::Cessation {
            scope: match form.stop.split_once(':') {
                Some(("partner", key)) if !key.is_empty() => StopScope::Partner(key.to_owned()),
                Some(("purpose", key)) if !key.is_empty() => StopScope::Purpose(key.to_owned()),
                _ if form.stop == "all" || form.stop.is_empty() => StopScope::AllProvision,
                _ => return None,
            },
        },
        _ => return None,
    })
}

/// What a request asks for, in words.
fn what(c: &Chrome, kind: &RequestKind) -> String {
    let name = c.t(&format!("requests.kind.{}", kind.as_str()));
    match kind {
        RequestKind::Disclosure { form } => {
            let form = match form {
                DisclosureForm::Json => c.t("requests.form_json"),
                DisclosureForm::Document => c.t("requests.form_document"),
            };
            format!("{name}（{form}）")
        }
        RequestKind::Cessation { scope } => format!("{name}（{}）", scope_words(c, scope)),
        _ => name.to_owned(),
    }
}

fn scope_words(c: &Chrome, scope: &StopScope) -> String {
    match scope {
        StopScope::AllProvision => c.t("requests.stop_all").to_owned(),
        StopScope::Partner(key) => kikeru_i18n::fill(c.t("requests.stop_partner"), &[("key", key)]),
        StopScope::Purpose(key) => kikeru_i18n::fill(c.t("requests.stop_purpose"), &[("key", key)]),
    }
}

fn status_words(c: &Chrome, status: RequestStatus) -> &'static str {
    c.t(&format!("requests.status.{}", status.as_str()))
}

fn view(c: &Chrome, r: &PrivacyRequest) -> RequestView {
    RequestView {
        number: r.number.clone(),
        what: what(c, &r.kind),
        status: status_words(c, r.status),
        received: when_in(r.received_at, c.lang),
        due: r.due_at.map(|d| when_in(d, c.lang)).unwrap_or_default(),
        answer: r.answer.clone().unwrap_or_default(),
    }
}

async fn stop_choices(state: &AppState, c: &Chrome) -> Vec<StopChoice> {
    let mut choices = vec![StopChoice {
        value: "all".to_owned(),
        label: c.t("requests.stop_all").to_owned(),
    }];
    if let Ok(partners) = state.services.disclosures.partners().await {
        choices.extend(partners.into_iter().map(|p| StopChoice {
            value: format!("partner:{}", p.key),
            label: kikeru_i18n::fill(c.t("requests.stop_partner"), &[("key", &p.name)]),
        }));
    }
    if let Ok(purposes) = state.services.consents.purposes().await {
        choices.extend(purposes.into_iter().map(|p| StopChoice {
            label: kikeru_i18n::fill(
                c.t("requests.stop_purpose"),
                &[("key", p.title.get(c.lang))],
            ),
            value: format!("purpose:{}", p.key),
        }));
    }
    choices
}

#[allow(clippy::too_many_arguments, reason = "one page, two audiences")]
async fn ask_page(
    state: &AppState,
    c: &Chrome,
    member: Option<kikeru_domain::MemberId>,
    form: &AskFields,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let (mine, in_force) = match member {
        Some(id) => {
            let requests = state
                .services
                .requests
                .of_member(id)
                .await
                .or_page(c.lang, "the requests could not be read")?;
            let stops = state
                .services
                .requests
                .stops_of(id)
                .await
                .or_page(c.lang, "the requests could not be read")?;
            (
                requests.iter().rev().map(|r| view(c, r)).collect(),
                stops
                    .iter()
                    .map(|s| StopView {
                        id: s.id.to_string(),
                        what: scope_words(c, &s.scope),
                        from: when_in(s.from, c.lang),
                    })
                    .collect(),
            )
        }
        None => (Vec::new(), Vec::new()),
    };
    let page = AskPage {
        c,
        action: if member.is_some() {
            "/me/requests"
        } else {
            "/requests"
        },
        public: member.is_none(),
        form,
        kinds: KINDS
            .iter()
            .map(|k| (*k, c.t(&format!("requests.choice.{k}")), form.kind == *k))
            .collect(),
        stops: stop_choices(state, c).await,
        error,
        due_days: state.services.requests.policy().due.as_secs() / 86_400,
        mine,
        in_force,
    };
    Ok(html(status, c, page.render(), &[]))
}

fn problem(c: &Chrome, e: &RequestError) -> (StatusCode, &'static str) {
    match e {
        RequestError::Invalid => (StatusCode::UNPROCESSABLE_ENTITY, c.t("requests.bad_text")),
        RequestError::Empty => (StatusCode::UNPROCESSABLE_ENTITY, c.t("requests.empty")),
        RequestError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, c.t("error.throttled")),
        RequestError::WrongCode => (StatusCode::UNPROCESSABLE_ENTITY, c.t("requests.wrong_code")),
        RequestError::WrongStatus(_) | RequestError::Changed => {
            (StatusCode::CONFLICT, c.t("requests.changed"))
        }
        RequestError::NotFound => (StatusCode::NOT_FOUND, c.t("error.not_found")),
        RequestError::NotAdministrator => (StatusCode::FORBIDDEN, c.t("requests.admin_only")),
        e => (
            crate::problem::failure(e, "a request could not be handled"),
            c.t("error.server"),
        ),
    }
}

/// `GET /requests`: the public form.
#[handler]
async fn public_form(state: Data<&AppState>, req: &Request) -> Page {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    ask_page(
        &state,
        &c,
        None,
        &AskFields::default(),
        StatusCode::OK,
        None,
    )
    .await
}

/// `POST /requests`: takes the request and mails the code.
#[handler]
async fn public_submit(
    state: Data<&AppState>,
    req: &Request,
    VisitorForm { c, form, .. }: VisitorForm<AskFields>,
) -> Page {
    let again = |status, error| ask_page(&state, &c, None, &form, status, Some(error));
    let Ok(email) = Email::parse(&form.email) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, c.t("error.invalid_email")).await;
    };
    let Some(kind) = kind_of(&form) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, c.t("requests.choose")).await;
    };
    let asked = RequestForm {
        kind,
        details: form.details.clone(),
        language: c.lang,
    };
    let key = client(req, &state.config).key;
    match state
        .services
        .requests
        .submit_public(email, asked, &key)
        .await
    {
        Ok(number) => Ok(see_other(&format!("/requests/{number}"), &[])),
        Err(e) => {
            let (status, error) = problem(&c, &e);
            again(status, error).await
        }
    }
}

#[derive(Template)]
#[template(path = "request_status.html")]
struct StatusPage<'a> {
    c: &'a Chrome,
    request: RequestView,
    waiting_for_code: bool,
    error: Option<&'a str>,
}

async fn status_page(
    state: &AppState,
    c: &Chrome,
    number: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let found = state
        .services
        .requests
        .by_number(number)
        .await
        .or_page(c.lang, "a request could not be read")?
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, c.lang))?;
    let mut request = view(c, &found);
    // The public page names no one and shows no words of theirs: the number is all it takes.
    request.answer.clear();
    let page = StatusPage {
        c,
        request,
        waiting_for_code: found.status == RequestStatus::Received,
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

/// `GET /requests/{number}`: where a request stands, and the code form while it waits.
#[handler]
async fn public_status(state: Data<&AppState>, req: &Request, Path(number): Path<String>) -> Page {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    status_page(&state, &c, &number, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeFields {
    csrf: String,
    code: String,
}

/// `POST /requests/{number}/verify`: the mailed code proves the address.
#[handler]
async fn verify(
    state: Data<&AppState>,
    Path(number): Path<String>,
    VisitorForm { c, form, .. }: VisitorForm<CodeFields>,
) -> Page {
    match state.services.requests.verify(&number, &form.code).await {
        Ok(_) => Ok(see_other(&format!("/requests/{number}"), &[])),
        Err(e) => {
            let (status, error) = problem(&c, &e);
            status_page(&state, &c, &number, status, Some(error)).await
        }
    }
}

/// `GET /me/requests`: the member's requests, their cessations, and the form.
#[handler]
async fn member_requests(state: Data<&AppState>, SignedIn { who, c }: SignedIn) -> Page {
    let form = AskFields::default();
    ask_page(&state, &c, Some(who.member.id), &form, StatusCode::OK, None).await
}

/// `POST /me/requests`: a member's request, verified at once.
#[handler]
async fn member_submit(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<AskFields>,
) -> Page {
    let id = Some(who.member.id);
    let Some(kind) = kind_of(&form) else {
        let error = Some(c.t("requests.choose"));
        return ask_page(
            &state,
            &c,
            id,
            &form,
            StatusCode::UNPROCESSABLE_ENTITY,
            error,
        )
        .await;
    };
    let asked = RequestForm {
        kind,
        details: form.details.clone(),
        language: c.lang,
    };
    match state
        .services
        .requests
        .submit_member(&who.member, asked)
        .await
    {
        Ok(r) => Ok(see_other(&format!("/me/requests#{}", r.number), &[])),
        Err(e) => {
            let (status, error) = problem(&c, &e);
            ask_page(&state, &c, id, &form, status, Some(error)).await
        }
    }
}

/// `POST /me/requests/stops/{id}/lift`: the member ends a cessation.
#[handler]
async fn lift(
    state: Data<&AppState>,
    Path(id): Path<String>,
    MemberForm { who, c, .. }: MemberForm<super::CsrfOnly>,
) -> Page {
    let Ok(id) = id.parse::<uuid::Uuid>() else {
        return Err(PageError::new(StatusCode::NOT_FOUND, c.lang));
    };
    match state.services.requests.lift_stop(who.member.id, id).await {
        Ok(()) => Ok(see_other("/me/requests", &[])),
        Err(RequestError::NotFound) => Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(e) => Err(PageError::failed(
            c.lang,
            &e,
            "a cessation could not be lifted",
        )),
    }
}

/// A request in the console's list.
struct Row {
    id: String,
    number: String,
    what: String,
    status: &'static str,
    received: String,
    due: String,
    left: String,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "console_requests.html")]
struct ListPage<'a> {
    c: &'a Chrome,
    open_only: bool,
    rows: Vec<Row>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListQuery {
    all: String,
}

/// `GET /admin/requests`: open requests with the time left to each due date.
#[handler]
async fn console_list(
    state: Data<&AppState>,
    poem::web::Query(query): poem::web::Query<ListQuery>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let open_only = query.all.is_empty();
    let found = state
        .services
        .requests
        .list(open_only)
        .await
        .or_page(c.lang, "a console page could not be read")?;
    audit(
        &state,
        &who,
        "request.listed",
        &format!("{} requests (open only: {open_only}, console)", found.len()),
    )
    .await;
    let now = state.services.requests.now();
    let rows = found
        .iter()
        .map(|r| {
            let (left, overdue) = match r.time_left(now) {
                Some(_) => super::incidents::countdown(&c, r.due_at.unwrap_or(now), now),
                None if r.status == RequestStatus::Received => {
                    (c.t("requests.status.received").to_owned(), false)
                }
                None => (String::new(), false),
            };
            Row {
                id: r.id.to_string(),
                number: r.number.clone(),
                what: what(&c, &r.kind),
                status: status_words(&c, r.status),
                received: when(r.received_at),
                due: r.due_at.map(when).unwrap_or_default(),
                left,
                overdue,
            }
        })
        .collect();
    let page = ListPage {
        c: &c,
        open_only,
        rows,
    };
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

#[derive(Template)]
#[template(path = "console_request.html")]
struct DetailPage<'a> {
    c: &'a Chrome,
    id: String,
    number: String,
    what: String,
    status: &'static str,
    email: String,
    member: String,
    details: String,
    received: String,
    due: String,
    left: String,
    answer: String,
    refusal: String,
    history: Vec<(String, &'static str, String)>,
    can_start: bool,
    can_conclude: bool,
    grounds: Vec<(&'static str, &'static str)>,
    error: Option<&'a str>,
}

async fn detail_page(
    state: &AppState,
    c: &Chrome,
    id: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let uuid = id
        .parse::<uuid::Uuid>()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, c.lang))?;
    let r = state
        .services
        .requests
        .get(uuid)
        .await
        .or_page(c.lang, "a request could not be read")?
        .ok_or_else(|| PageError::new(StatusCode::NOT_FOUND, c.lang))?;
    let now = state.services.requests.now();
    let page = DetailPage {
        c,
        id: r.id.to_string(),
        number: r.number.clone(),
        what: what(c, &r.kind),
        status: status_words(c, r.status),
        email: r.email.as_str().to_owned(),
        member: r.member.map(|m| m.to_string()).unwrap_or_default(),
        details: r.details.clone(),
        received: when(r.received_at),
        due: r.due_at.map(when).unwrap_or_default(),
        left: r
            .time_left(now)
            .map(|_| super::incidents::countdown(c, r.due_at.unwrap_or(now), now).0)
            .unwrap_or_default(),
        answer: r.answer.clone().unwrap_or_default(),
        refusal: r
            .refusal
            .map(|g| c.t(&format!("requests.ground.{}", g.as_str())).to_owned())
            .unwrap_or_default(),
        history: r
            .history
            .iter()
            .map(|s| {
                (
                    when(s.at),
                    status_words(c, s.status),
                    s.by.map(|o| o.to_string()).unwrap_or_default(),
                )
            })
            .collect(),
        can_start: r.status == RequestStatus::Verified,
        can_conclude: matches!(
            r.status,
            RequestStatus::Verified | RequestStatus::InProgress
        ),
        grounds: RefusalGround::ALL
            .iter()
            .map(|g| (g.as_str(), c.t(&format!("requests.ground.{}", g.as_str()))))
            .collect(),
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

/// `GET /admin/requests/{id}`.
#[handler]
async fn console_detail(
    state: Data<&AppState>,
    Path(id): Path<String>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let page = detail_page(&state, &c, &id, StatusCode::OK, None).await?;
    audit(
        &state,
        &who,
        "request.read",
        &format!("request {id} (console)"),
    )
    .await;
    Ok(page)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AnswerFields {
    csrf: String,
    answer: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RefuseFields {
    csrf: String,
    ground: String,
    reasons: String,
}

async fn concluded(
    state: &AppState,
    c: &Chrome,
    who: &kikeru_domain::office::service::OperatorAuth,
    id: &str,
    action: &str,
    result: Result<PrivacyRequest, RequestError>,
) -> Page {
    match result {
        Ok(r) => {
            let detail = format!("request {} (console)", r.number);
            audit(state, who, action, &detail).await;
            Ok(see_other(&format!("/admin/requests/{id}"), &[]))
        }
        Err(e) => {
            let (status, error) = problem(c, &e);
            detail_page(state, c, id, status, Some(error)).await
        }
    }
}

fn request_id(c: &Chrome, id: &str) -> Result<uuid::Uuid, PageError> {
    id.parse()
        .map_err(|_| PageError::new(StatusCode::NOT_FOUND, c.lang))
}

/// `POST /admin/requests/{id}/start`.
#[handler]
async fn console_start(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, .. }: OperatorForm<super::CsrfOnly>,
) -> Page {
    let uuid = request_id(&c, &id)?;
    let result = state.services.requests.start(&who.operator, uuid).await;
    concluded(&state, &c, &who, &id, "request.started", result).await
}

/// `POST /admin/requests/{id}/answer`: answers by mail (a cessation comes into force).
#[handler]
async fn console_answer(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form }: OperatorForm<AnswerFields>,
) -> Page {
    let uuid = request_id(&c, &id)?;
    let result = state
        .services
        .requests
        .answer(&who.operator, uuid, &form.answer)
        .await;
    concluded(&state, &c, &who, &id, "request.answered", result).await
}

/// `POST /admin/requests/{id}/refuse`: refuses with a ground and reasons, by mail.
#[handler]
async fn console_refuse(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form }: OperatorForm<RefuseFields>,
) -> Page {
    let uuid = request_id(&c, &id)?;
    let Some(ground) = RefusalGround::from_name(&form.ground) else {
        let error = Some(c.t("requests.choose_ground"));
        return detail_page(&state, &c, &id, StatusCode::UNPROCESSABLE_ENTITY, error).await;
    };
    let result = state
        .services
        .requests
        .refuse(&who.operator, uuid, ground, &form.reasons)
        .await;
    concluded(&state, &c, &who, &id, "request.refused", result).await
}

/// The routes of requests.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at("/requests", get(public_form).post(public_submit))
        .at("/requests/:number", get(public_status))
        .at("/requests/:number/verify", post(verify))
        .at("/me/requests", get(member_requests).post(member_submit))
        .at("/me/requests/stops/:id/lift", post(lift))
        .at("/admin/requests", get(console_list))
        .at("/admin/requests/:id", get(console_detail))
        .at("/admin/requests/:id/start", post(console_start))
        .at("/admin/requests/:id/answer", post(console_answer))
        .at("/admin/requests/:id/refuse", post(console_refuse))
}
