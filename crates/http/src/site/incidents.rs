//! Incidents in the office console (個人情報保護法 第26条): record a suspected leak, see whether
//! it must be reported and the deadlines counting down, print the report for the Commission,
//! mark the reports submitted, and — administrators only — approve the notice that goes to each
//! member concerned through the outbox. Every step is in the operators' audit log.

use askama::Template;
use kikeru_domain::Timestamp;
use kikeru_domain::office::incident::{
    Concerned, Incident, IncidentDraft, IncidentError, IncidentFacts, IncidentId, Stage,
};
use kikeru_domain::office::operators::Role;
use poem::Route;
use poem::handler;
use poem::http::StatusCode;
use poem::web::{Data, Path};

use super::console::{Fields, audit, category_names};
use super::extract::{ConsoleUser, OperatorForm};
use super::{Chrome, OrPage, Page, PageError, html, see_other};
use crate::AppState;
use crate::site::when;

/// Batches of notices sent while the administrator waits; the server's background run sends
/// the rest within seconds.
const NOTICE_BATCHES_AT_ONCE: u32 = 5;

/// One deadline as the console shows it.
struct DeadlineView {
    label: &'static str,
    at: String,
    /// "3 days 4 hours left", "overdue", or when it was submitted.
    state: String,
    overdue: bool,
}

struct Row {
    id: String,
    discovered: String,
    people: String,
    reportable: bool,
    next: Option<DeadlineView>,
    notice: String,
}

#[derive(Template)]
#[template(path = "console_incidents.html")]
struct ListPage<'a> {
    c: &'a Chrome,
    rows: Vec<Row>,
    categories: Vec<&'static str>,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "console_incident.html")]
struct DetailPage<'a> {
    c: &'a Chrome,
    id: String,
    discovered: String,
    recorded: String,
    categories: String,
    people: String,
    cause: String,
    flags: Vec<&'static str>,
    concerned: String,
    reasons: Vec<&'static str>,
    deadlines: Vec<DeadlineView>,
    can_mark_preliminary: bool,
    can_mark_final: bool,
    notice: String,
    can_notify: bool,
    admin: bool,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "console_incident_report.html")]
struct ReportPage<'a> {
    c: &'a Chrome,
    id: String,
    sections: Vec<(&'static str, String)>,
}

/// How long is left until `deadline`, or that it passed.
pub(super) fn countdown(c: &Chrome, deadline: Timestamp, now: Timestamp) -> (String, bool) {
    match kikeru_domain::office::incident::time_left(deadline, now) {
        Some(left) => {
            let hours = left.as_secs() / 3600;
            (
                c.t("console.time_left")
                    .replace("{d}", &(hours / 24).to_string())
                    .replace("{h}", &(hours % 24).to_string()),
                false,
            )
        }
        None => (c.t("console.overdue").to_owned(), true),
    }
}

fn deadline_views(c: &Chrome, incident: &Incident, now: Timestamp) -> Vec<DeadlineView> {
    let Some(d) = incident.facts.deadlines() else {
        return Vec::new();
    };
    [
        (
            "console.deadline_preliminary",
            d.preliminary_latest,
            incident.preliminary_reported_at,
        ),
        (
            "console.deadline_final",
            d.final_report,
            incident.final_reported_at,
        ),
    ]
    .into_iter()
    .map(|(label, at, submitted)| {
        let (state, overdue) = match submitted {
            Some(done) => (
                format!("{} {}", c.t("console.submitted"), when(done)),
                false,
            ),
            None => countdown(c, at, now),
        };
        DeadlineView {
            label: c.t(label),
            at: when(at),
            state,
            overdue,
        }
    })
    .collect()
}

fn notice_state(c: &Chrome, incident: &Incident) -> String {
    match &incident.notice {
        None => c.t("console.notice_none").to_owned(),
        Some(n) => format!(
            "{} {} · {} {}{}",
            c.t("console.notice_approved"),
            when(n.approved_at),
            n.sent,
            c.t("console.notices_sent"),
            if n.done {
                String::new()
            } else {
                format!(" · {}", c.t("console.notice_unfinished"))
            }
        ),
    }
}

fn people(c: &Chrome, facts: &IncidentFacts) -> String {
    if facts.people_estimated {
        format!("{} ({})", facts.people, c.t("console.estimated"))
    } else {
        facts.people.to_string()
    }
}

async fn list_page(state: &AppState, c: &Chrome, status: StatusCode, error: Option<&str>) -> Page {
    let incidents = state
        .services
        .incidents
        .all()
        .await
        .or_page(c.lang, "a console page could not be read")?;
    let now = state.services.incidents.now();
    let rows = incidents
        .iter()
        .map(|i| Row {
            id: i.id.to_string(),
            discovered: when(i.facts.discovered_at),
            people: people(c, &i.facts),
            reportable: i.facts.must_report(),
            next: i.next_deadline().map(|(stage, at)| {
                let (state, overdue) = countdown(c, at, now);
                DeadlineView {
                    label: c.t(match stage {
                        Stage::Preliminary => "console.deadline_preliminary",
                        Stage::Final => "console.deadline_final",
                    }),
                    at: when(at),
                    state,
                    overdue,
                }
            }),
            notice: notice_state(c, i),
        })
        .collect();
    let page = ListPage {
        c,
        rows,
        categories: category_names(),
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

/// `GET /admin/incidents`: every incident with its next deadline counting down, and the form
/// to record one.
#[handler]
pub(crate) async fn list(state: Data<&AppState>, ConsoleUser { c, .. }: ConsoleUser) -> Page {
    list_page(&state, &c, StatusCode::OK, None).await
}

/// A `datetime-local` value (`2026-11-20T10:00`), read as Japan time.
fn japan_time(text: &str) -> Option<Timestamp> {
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    time::PrimitiveDateTime::parse(text.trim(), &format)
        .ok()
        .map(|t| {
            t.assume_offset(time::macros::offset!(+9))
                .to_offset(time::UtcOffset::UTC)
        })
}

/// The form as an incident draft; `None` when a field cannot be read.
fn draft(fields: &Fields) -> Option<IncidentDraft> {
    let categories = fields.categories()?;
    let checked = |name: &str| !fields.one(name).is_empty();
    let concerned = if checked("everyone") {
        Concerned::Everyone
    } else {
        Concerned::Members(fields.member_ids("members")?)
    };
    Some(IncidentDraft {
        facts: IncidentFacts {
            discovered_at: japan_time(fields.one("discovered_at"))?,
            categories,
            credentials_or_payment: checked("credentials_or_payment"),
            sensitive: checked("sensitive"),
            people: fields.one("people").trim().parse().ok()?,
            people_estimated: checked("people_estimated"),
            cause: fields.one("cause").to_owned(),
            malicious_suspected: checked("malicious_suspected"),
        },
        concerned,
    })
}

/// `POST /admin/incidents`: records an incident.
#[handler]
pub(crate) async fn record(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<Vec<(String, String)>>,
) -> Page {
    let fields = Fields(form);
    let refused = |c: &Chrome| c.t("console.incident_invalid");
    let Some(draft) = draft(&fields) else {
        return list_page(
            &state,
            &c,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(refused(&c)),
        )
        .await;
    };
    match state
        .services
        .incidents
        .record(draft, who.operator.id)
        .await
    {
        Ok(incident) => {
            audit(
                &state,
                &who,
                "incident.recorded",
                &format!(
                    "incident {} ({}, {} people)",
                    incident.id,
                    if incident.facts.must_report() {
                        "reportable"
                    } else {
                        "not reportable"
                    },
                    incident.facts.people
                ),
            )
            .await;
            Ok(see_other(&format!("/admin/incidents/{}", incident.id), &[]))
        }
        Err(IncidentError::Invalid(_)) => {
            list_page(
                &state,
                &c,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(refused(&c)),
            )
            .await
        }
        Err(e) => Err(PageError::failed(c.lang, &e, "a console request failed")),
    }
}

fn incident_id(text: &str) -> Option<IncidentId> {
    text.parse().ok().map(IncidentId::from_uuid)
}

async fn detail_page(
    state: &AppState,
    c: &Chrome,
    admin: bool,
    id: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Page {
    let found = match incident_id(id) {
        Some(id) => state.services.incidents.get(id).await,
        None => Err(IncidentError::NotFound),
    };
    let incident = match found {
        Ok(incident) => incident,
        Err(IncidentError::NotFound) => return Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(e) => return Err(PageError::failed(c.lang, &e, "a console request failed")),
    };
    let now = state.services.incidents.now();
    let facts = &incident.facts;
    let flags = [
        (
            facts.credentials_or_payment,
            "console.credentials_or_payment",
        ),
        (facts.sensitive, "console.sensitive"),
        (facts.malicious_suspected, "console.malicious_suspected"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, key)| c.t(key))
    .collect();
    let concerned = match &incident.concerned {
        Concerned::Everyone => c.t("console.everyone").to_owned(),
        Concerned::Members(m) => format!("{} {}", m.len(), c.t("console.members_listed")),
    };
    let page = DetailPage {
        c,
        id: incident.id.to_string(),
        discovered: when(facts.discovered_at),
        recorded: when(incident.recorded_at),
        categories: facts
            .categories
            .iter()
            .map(|c| c.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        people: people(c, facts),
        cause: facts.cause.clone(),
        flags,
        concerned,
        reasons: facts
            .reasons()
            .iter()
            .map(|r| c.t(&format!("console.reason_{}", r.as_str())))
            .collect(),
        deadlines: deadline_views(c, &incident, now),
        can_mark_preliminary: incident.preliminary_reported_at.is_none(),
        can_mark_final: incident.final_reported_at.is_none(),
        notice: notice_state(c, &incident),
        can_notify: incident.notice.as_ref().is_none_or(|n| !n.done),
        admin,
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

/// `GET /admin/incidents/{id}`: the incident, its deadlines, and its actions.
#[handler]
pub(crate) async fn show(
    state: Data<&AppState>,
    Path(id): Path<String>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let admin = who.require(Role::Admin).is_ok();
    detail_page(&state, &c, admin, &id, StatusCode::OK, None).await
}

/// `GET /admin/incidents/{id}/report`: the report for the Commission, printable (audited).
#[handler]
pub(crate) async fn print_report(
    state: Data<&AppState>,
    Path(id): Path<String>,
    ConsoleUser { who, c }: ConsoleUser,
) -> Page {
    let found = match incident_id(&id) {
        Some(id) => state.services.incidents.get(id).await,
        None => Err(IncidentError::NotFound),
    };
    let incident = match found {
        Ok(incident) => incident,
        Err(IncidentError::NotFound) => return Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(e) => return Err(PageError::failed(c.lang, &e, "a console request failed")),
    };
    let seller = state
        .config
        .seller
        .clone()
        .unwrap_or_else(kikeru_domain::shop::legal::Seller::sample);
    let sections =
        kikeru_domain::office::incident::report(&incident, &seller, state.services.incidents.now());
    audit(
        &state,
        &who,
        "incident.report_produced",
        &format!("incident {}", incident.id),
    )
    .await;
    let page = ReportPage {
        c: &c,
        id: incident.id.to_string(),
        sections,
    };
    Ok(html(StatusCode::OK, &c, page.render(), &[]))
}

/// `POST /admin/incidents/{id}/reported`: records that a report was submitted now.
#[handler]
pub(crate) async fn mark_reported(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form }: OperatorForm<Vec<(String, String)>>,
) -> Page {
    let fields = Fields(form);
    let admin = who.require(Role::Admin).is_ok();
    let (Some(incident), Some(stage)) = (incident_id(&id), Stage::from_name(fields.one("stage")))
    else {
        let error = c.t("console.incident_invalid");
        return detail_page(
            &state,
            &c,
            admin,
            &id,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(error),
        )
        .await;
    };
    match state.services.incidents.reported(incident, stage).await {
        Ok(_) => {
            audit(
                &state,
                &who,
                "incident.reported",
                &format!("incident {incident}: {} report submitted", stage.as_str()),
            )
            .await;
            Ok(see_other(&format!("/admin/incidents/{incident}"), &[]))
        }
        Err(IncidentError::NotFound) => Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(e) => Err(PageError::failed(c.lang, &e, "a console request failed")),
    }
}

/// `POST /admin/incidents/{id}/notice`: an administrator approves the notice; every member
/// concerned gets it by mail in their language (a run stopped half-way goes on when approved
/// again).
#[handler]
pub(crate) async fn approve_notice(
    state: Data<&AppState>,
    Path(id): Path<String>,
    OperatorForm { who, c, form: _ }: OperatorForm<Vec<(String, String)>>,
) -> Page {
    if who.require(Role::Admin).is_err() {
        audit(
            &state,
            &who,
            "incident.notice_refused",
            &format!("incident {id}: not an administrator"),
        )
        .await;
        let error = c.t("console.admin_only");
        return detail_page(&state, &c, false, &id, StatusCode::FORBIDDEN, Some(error)).await;
    }
    let Some(incident) = incident_id(&id) else {
        return Err(PageError::new(StatusCode::NOT_FOUND, c.lang));
    };
    match state
        .services
        .incidents
        .approve_notice(incident, who.operator.id, NOTICE_BATCHES_AT_ONCE)
        .await
    {
        Ok(done) => {
            let sent = done.notice.as_ref().map_or(0, |n| n.sent);
            audit(
                &state,
                &who,
                "incident.notice_approved",
                &format!("incident {incident}: {sent} notices in the outbox"),
            )
            .await;
            Ok(see_other(&format!("/admin/incidents/{incident}"), &[]))
        }
        Err(IncidentError::NotFound) => Err(PageError::new(StatusCode::NOT_FOUND, c.lang)),
        Err(e) => {
            let what = format!("incident {incident}: a notice stopped; approve again to go on");
            Err(PageError::failed(c.lang, &e, &what))
        }
    }
}

/// The console's incident desk.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at("/admin/incidents", get(list).post(record))
        .at("/admin/incidents/:id", get(show))
        .at("/admin/incidents/:id/report", get(print_report))
        .at("/admin/incidents/:id/reported", post(mark_reported))
        .at("/admin/incidents/:id/notice", post(approve_notice))
}
