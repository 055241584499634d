//! The console's page of privacy-policy versions: those published, how far each notice to the
//! members has gone, and the form with which an administrator publishes the next one (every
//! member is then told by mail). Audited.

use askama::Template;
use kikeru_domain::privacy::policy::desk::PolicyError;
use poem::handler;
use poem::http::StatusCode;
use poem::web::Data;
use serde::Deserialize;

use super::audit;
use crate::AppState;
use crate::site::extract::{ConsoleUser, OperatorForm};
use crate::site::{Chrome, OrPage, Page, html, see_other, when};

#[derive(Template)]
#[template(path = "console_policy.html")]
struct PolicyPage<'a> {
    c: &'a Chrome,
    /// Number, effective day, published, members told, finished, what changed (Japanese).
    versions: Vec<(u32, String, String, u64, bool, String)>,
    next: u32,
    error: Option<&'a str>,
}

async fn page(state: &AppState, c: &Chrome, status: StatusCode, error: Option<&str>) -> Page {
    let versions = state
        .services
        .policy
        .versions()
        .await
        .or_page(c.lang, "the policy versions could not be read")?;
    let next = versions
        .last()
        .map_or(kikeru_domain::privacy::policy::FIRST.0, |v| v.number)
        + 1;
    let page = PolicyPage {
        c,
        versions: versions
            .iter()
            .rev()
            .map(|v| {
                (
                    v.number,
                    v.effective.to_string(),
                    when(v.published_at),
                    v.notice_sent,
                    v.notice_done,
                    v.changes_ja.clone(),
                )
            })
            .collect(),
        next,
        error,
    };
    Ok(html(status, c, page.render(), &[]))
}

/// `GET /admin/policy`.
#[handler]
pub(crate) async fn policy_versions(
    state: Data<&AppState>,
    ConsoleUser { c, .. }: ConsoleUser,
) -> Page {
    page(&state, &c, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PublishForm {
    pub(crate) csrf: String,
    number: String,
    effective: String,
    changes_ja: String,
    changes_en: String,
}

/// `POST /admin/policy`: publishes the next version and tells every member by mail.
#[handler]
pub(crate) async fn publish(
    state: Data<&AppState>,
    OperatorForm { who, c, form }: OperatorForm<PublishForm>,
) -> Page {
    let effective = time::Date::parse(
        form.effective.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    );
    let (Ok(number), Ok(effective)) = (form.number.trim().parse::<u32>(), effective) else {
        let error = Some(c.t("console.policy_invalid"));
        return page(&state, &c, StatusCode::UNPROCESSABLE_ENTITY, error).await;
    };
    let published = state
        .services
        .policy
        .publish(
            Some(&who.operator),
            number,
            effective,
            &form.changes_ja,
            &form.changes_en,
        )
        .await;
    let key = match published {
        Ok(version) => {
            let detail = format!(
                "privacy policy version {number}, {} members told (console)",
                version.notice_sent
            );
            audit(&state, &who, "policy.published", &detail).await;
            return Ok(see_other("/admin/policy", &[]));
        }
        Err(PolicyError::NotAdministrator) => "console.admin_required",
        Err(PolicyError::NotNext(_)) => "console.policy_not_next",
        Err(PolicyError::Changes) => "console.policy_changes",
        Err(PolicyError::Backdated) => "console.policy_backdated",
        Err(e @ (PolicyError::NotFound | PolicyError::Store(_))) => {
            return Err(crate::site::PageError::failed(
                c.lang,
                &e,
                "a policy version could not be published",
            ));
        }
    };
    let status = if key == "console.admin_required" {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    page(&state, &c, status, Some(c.t(key))).await
}
