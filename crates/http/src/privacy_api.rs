//! Consent: members see every purpose with its notice and grant or withdraw their consent
//! (`/me/consents`); operators keep the register of purposes (`/admin/purposes`).

use kikeru_domain::Localized;
use kikeru_domain::consent::{ConsentError, ConsentState};
use kikeru_domain::privacy::{ConsentRecord, DataCategory, Purpose, Transfer};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{Object, OpenApi, Tags};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{OperatorSession, Session};
use crate::problem::ApiError;
use crate::shop_api::Text;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// マイページ: consent to purposes beyond providing the service.
    Me,
    /// The office (事務局): operators only.
    Admin,
}

/// A purpose beyond providing the service.
#[derive(Debug, Object)]
struct PurposeView {
    /// Its key.
    key: String,
    /// Its name.
    title: Text,
    /// The notice the member consents to.
    notice: Text,
    /// The notice's version; consent to an older version does not count.
    notice_version: u32,
    /// Who receives the data, if anyone does.
    recipient: Option<String>,
    /// The categories of personal data concerned.
    categories: Vec<String>,
    /// `provision`, `sale`, `rental` or `exchange`.
    transfer: String,
}

impl From<&Purpose> for PurposeView {
    fn from(p: &Purpose) -> Self {
        Self {
            key: p.key.clone(),
            title: (&p.title).into(),
            notice: (&p.notice).into(),
            notice_version: p.notice_version,
            recipient: p.recipient.clone(),
            categories: p.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            transfer: p.transfer.as_str().to_owned(),
        }
    }
}

/// One entry of the member's consent history.
#[derive(Debug, Object)]
struct ConsentRecordView {
    /// The purpose.
    purpose: String,
    /// Granted or withdrawn.
    granted: bool,
    /// The notice version the member saw.
    notice_version: u32,
    /// When.
    at: OffsetDateTime,
    /// Where (`api`, `web`).
    channel: String,
}

impl From<&ConsentRecord> for ConsentRecordView {
    fn from(r: &ConsentRecord) -> Self {
        Self {
            purpose: r.purpose.clone(),
            granted: r.granted,
            notice_version: r.notice_version,
            at: r.at,
            channel: r.channel.clone(),
        }
    }
}

/// A purpose and the member's consent to it.
#[derive(Debug, Object)]
struct ConsentView {
    /// The purpose.
    purpose: PurposeView,
    /// Whether the member's consent covers the current notice.
    granted: bool,
    /// The latest change, if any.
    latest: Option<ConsentRecordView>,
}

impl From<&ConsentState> for ConsentView {
    fn from(s: &ConsentState) -> Self {
        Self {
            purpose: (&s.purpose).into(),
            granted: s.granted,
            latest: s.latest.as_ref().map(ConsentRecordView::from),
        }
    }
}

/// Every purpose with the member's consent, and the whole history.
#[derive(Debug, Object)]
struct Consents {
    /// Every purpose, by key.
    purposes: Vec<ConsentView>,
    /// Every grant and withdrawal, oldest first.
    history: Vec<ConsentRecordView>,
}

/// Grant or withdraw.
#[derive(Debug, Object)]
struct ConsentChange {
    /// `true` to consent, `false` to withdraw.
    granted: bool,
}

/// A purpose as an operator defines it. A change to the notice, recipient, categories or
/// transfer gives it a new notice version, which members must consent to anew.
#[derive(Debug, Object)]
struct PurposeInput {
    /// Japanese name.
    #[oai(validator(max_length = 800))]
    title_ja: String,
    /// English name.
    #[oai(validator(max_length = 800))]
    title_en: String,
    /// Japanese notice.
    #[oai(validator(max_length = 20000))]
    notice_ja: String,
    /// English notice.
    #[oai(validator(max_length = 20000))]
    notice_en: String,
    /// Who receives the data, if anyone.
    #[oai(validator(max_length = 200))]
    recipient: Option<String>,
    /// Category names (`email_address`, `purchase_history`, …).
    #[oai(validator(max_items = 20))]
    categories: Vec<String>,
    /// `provision` (default), `sale`, `rental` or `exchange`.
    #[oai(validator(max_length = 16))]
    transfer: Option<String>,
}

fn consent_error(e: ConsentError) -> ApiError {
    match e {
        ConsentError::UnknownPurpose => {
            ApiError::not_found("purpose_not_found", "There is no such purpose")
        }
        ConsentError::Store(s) => ApiError::store(s),
    }
}

fn purpose_from(key: &str, input: &PurposeInput) -> ApiResult<Purpose> {
    let mut problems = Vec::new();
    let key_ok = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !key_ok {
        problems.push("key: 1-64 lower-case letters, digits and '-'".to_owned());
    }
    let title = Localized::title(&input.title_ja, &input.title_en)
        .map_err(|e| problems.push(format!("title: {e}")))
        .ok();
    let notice = Localized::description(&input.notice_ja, &input.notice_en)
        .map_err(|e| problems.push(format!("notice: {e}")))
        .ok();
    let mut categories = std::collections::BTreeSet::new();
    for name in &input.categories {
        match DataCategory::from_name(name) {
            Some(c) => {
                categories.insert(c);
            }
            None => problems.push(format!("categories: unknown category {name:?}")),
        }
    }
    if categories.is_empty() && input.categories.is_empty() {
        problems.push("categories: name at least one category".to_owned());
    }
    let transfer = Transfer::from_name(input.transfer.as_deref().unwrap_or("provision"));
    if transfer.is_none() {
        problems.push("transfer: use provision, sale, rental or exchange".to_owned());
    }
    match (title, notice, transfer) {
        (Some(title), Some(notice), Some(transfer)) if problems.is_empty() => Ok(Purpose {
            key: key.to_owned(),
            title,
            notice,
            notice_version: 0,
            recipient: input.recipient.clone().filter(|r| !r.trim().is_empty()),
            categories,
            transfer,
        }),
        _ => Err(ApiError::unprocessable(
            "invalid_purpose",
            "The purpose is not valid",
            problems.join("\n"),
        )),
    }
}

pub(crate) struct PrivacyApi;

#[OpenApi]
impl PrivacyApi {
    /// Every purpose beyond providing the service, with its notice and the member's consent,
    /// and the member's whole consent history.
    #[oai(path = "/me/consents", method = "get", tag = "Tag::Me")]
    async fn consents(&self, state: Data<&AppState>, auth: Session) -> ApiResult<Json<Consents>> {
        let (states, history) = state.consents.states(auth.0.member.id).await?;
        Ok(Json(Consents {
            purposes: states.iter().map(ConsentView::from).collect(),
            history: history.iter().map(ConsentRecordView::from).collect(),
        }))
    }

    /// Grant or withdraw consent to a purpose (at its current notice). A withdrawal takes
    /// effect for every later decision.
    #[oai(path = "/me/consents/:purpose", method = "put", tag = "Tag::Me")]
    async fn set_consent(
        &self,
        state: Data<&AppState>,
        auth: Session,
        purpose: Path<String>,
        body: Json<ConsentChange>,
    ) -> ApiResult<Json<ConsentView>> {
        let changed = state
            .consents
            .set(auth.0.member.id, &purpose.0, body.granted, "api")
            .await
            .map_err(consent_error)?;
        Ok(Json(ConsentView::from(&changed)))
    }

    /// Every purpose (operators).
    #[oai(path = "/admin/purposes", method = "get", tag = "Tag::Admin")]
    async fn purposes(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<PurposeView>>> {
        Ok(Json(
            state
                .consents
                .purposes()
                .await?
                .iter()
                .map(PurposeView::from)
                .collect(),
        ))
    }

    /// Add or change a purpose (operators); audited.
    #[oai(path = "/admin/purposes/:key", method = "put", tag = "Tag::Admin")]
    async fn save_purpose(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        key: Path<String>,
        body: Json<PurposeInput>,
    ) -> ApiResult<Json<PurposeView>> {
        let saved = state
            .consents
            .save_purpose(purpose_from(&key.0, &body.0)?)
            .await?;
        let detail = format!(
            "purpose {} at notice version {}",
            saved.key, saved.notice_version
        );
        state
            .office
            .audit(Some(auth.0.operator.id), "purpose.saved", &detail)
            .await?;
        Ok(Json(PurposeView::from(&saved)))
    }
}
