//! Consent: members see every purpose with its notice and grant or withdraw their consent
//! (`/me/consents`); operators keep the register of purposes (`/admin/purposes`).

use crate::text::JsonString;
use kikeru_domain::consent::{ConsentError, ConsentState};
use kikeru_domain::disclosure::{
    DisclosureError, LegalOrderDraft, Package, RegisterChange, RegisterError,
};
use kikeru_domain::privacy::{
    ClaimedBasis, ConsentRecord, DataCategory, DisclosureRequest, LedgerEntry, Partner, Purpose,
    Recipient, Transfer,
};
use kikeru_domain::{Localized, MemberId};
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

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

/// A category of personal data, by its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum Category {
    /// The member's e-mail address.
    EmailAddress,
    /// The display name.
    DisplayName,
    /// The unique member ID.
    MemberId,
    /// What was bought, when, at what price.
    PurchaseHistory,
    /// Payment attempts and their statuses.
    PaymentHistory,
    /// An order's reference, amounts and item titles.
    OrderDetails,
    /// The text of a message to or from the member.
    MessageContent,
}

impl From<Category> for DataCategory {
    fn from(category: Category) -> Self {
        match category {
            Category::EmailAddress => Self::EmailAddress,
            Category::DisplayName => Self::DisplayName,
            Category::MemberId => Self::MemberId,
            Category::PurchaseHistory => Self::PurchaseHistory,
            Category::PaymentHistory => Self::PaymentHistory,
            Category::OrderDetails => Self::OrderDetails,
            Category::MessageContent => Self::MessageContent,
        }
    }
}

/// How data passes to a recipient: provided, sold, rented or exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
enum TransferKind {
    /// Provided.
    Provision,
    /// Sold.
    Sale,
    /// Rented.
    Rental,
    /// Exchanged.
    Exchange,
}

impl From<TransferKind> for Transfer {
    fn from(kind: TransferKind) -> Self {
        match kind {
            TransferKind::Provision => Self::Provision,
            TransferKind::Sale => Self::Sale,
            TransferKind::Rental => Self::Rental,
            TransferKind::Exchange => Self::Exchange,
        }
    }
}

/// Categories named in a request, as a set.
fn categories_of(names: &[Category]) -> kikeru_domain::privacy::Categories {
    names.iter().map(|&c| c.into()).collect()
}

/// A purpose beyond providing the service.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
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
#[oai(skip_serializing_if_is_none)]
struct Consents {
    /// Every purpose, by key.
    purposes: Vec<ConsentView>,
    /// Every grant and withdrawal, oldest first.
    history: Vec<ConsentRecordView>,
}

/// Grant or withdraw.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ConsentChange {
    /// `true` to consent, `false` to withdraw.
    granted: bool,
}

/// A purpose as an operator defines it. A change to the notice, recipient, categories or
/// transfer gives it a new notice version, which members must consent to anew.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PurposeInput {
    /// Japanese name: 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    ))]
    title_ja: JsonString,
    /// English name: 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    ))]
    title_en: JsonString,
    /// Japanese notice, at most 5,000 characters.
    #[oai(validator(max_length = 5000))]
    notice_ja: JsonString,
    /// English notice, at most 5,000 characters.
    #[oai(validator(max_length = 5000))]
    notice_en: JsonString,
    /// Who receives the data, if anyone.
    #[oai(nullable, validator(max_length = 200))]
    recipient: Option<JsonString>,
    /// The categories of personal data concerned.
    #[oai(validator(min_items = 1, max_items = 20))]
    categories: Vec<Category>,
    /// How the data passes (default `provision`).
    #[oai(nullable)]
    transfer: Option<TransferKind>,
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
    let title = Localized::title(&input.title_ja, &input.title_en)
        .map_err(|e| problems.push(format!("title: {e}")))
        .ok();
    let notice = Localized::description(&input.notice_ja, &input.notice_en)
        .map_err(|e| problems.push(format!("notice: {e}")))
        .ok();
    let categories = categories_of(&input.categories);
    let transfer = input.transfer.map_or(Transfer::Provision, Transfer::from);
    match (title, notice) {
        (Some(title), Some(notice)) if problems.is_empty() => Ok(Purpose {
            key: key.to_owned(),
            title,
            notice,
            notice_version: 0,
            recipient: input
                .recipient
                .clone()
                .map(String::from)
                .filter(|r| !r.trim().is_empty()),
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

/// A provision of the member's data to a third party, as the ledger records it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct DisclosureView {
    /// The ledger position.
    seq: u64,
    /// When the data was provided.
    at: OffsetDateTime,
    /// To whom (`partner:…`, `processor:…`, `authority:…`).
    recipient: String,
    /// The recipient's name when the data was provided.
    recipient_name: String,
    /// Its address (empty when none is registered, e.g. for an authority).
    recipient_address: String,
    /// For a company, its representative (empty when none).
    recipient_representative: String,
    /// What.
    categories: Vec<String>,
    /// On what basis (`consent:purpose:vN`, `entrustment:…`, `legal_order:…`).
    basis: String,
    /// The entry's hash, chained to the previous entry's (hex).
    hash: String,
}

impl From<&LedgerEntry> for DisclosureView {
    fn from(e: &LedgerEntry) -> Self {
        Self {
            seq: e.seq,
            at: e.at,
            recipient: e.recipient.to_string(),
            recipient_name: e.recipient_details.name.clone(),
            recipient_address: e.recipient_details.address.clone(),
            recipient_representative: e.recipient_details.representative.clone(),
            categories: e.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            basis: e.basis.to_text(),
            hash: e.hash.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// A disclosure an operator asks for.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct DisclosureInput {
    /// Whose data.
    member_id: Uuid,
    /// To whom: `partner:KEY`, `processor:KEY` or `authority:NAME`.
    #[oai(validator(
        max_length = 300,
        pattern = r"^(partner|processor|authority):[^\x00]*$"
    ))]
    recipient: JsonString,
    /// Which categories.
    #[oai(validator(min_items = 1, max_items = 20))]
    categories: Vec<Category>,
    /// How the data passes (default `provision`).
    #[oai(nullable)]
    transfer: Option<TransferKind>,
    /// `entrustment`, `consent:PURPOSE` or `legal_order:ID`.
    #[oai(validator(
        max_length = 300,
        pattern = r"^(entrustment|(consent|legal_order):[^\x00]+)$"
    ))]
    basis: JsonString,
}

/// A disclosure made: the ledger entry and the package for the recipient.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct DisclosureMade {
    /// The ledger entry.
    entry: DisclosureView,
    /// Exactly the allowed categories of the member's data.
    package: Value,
}

#[derive(Debug, ApiResponse)]
enum Disclosed {
    /// Allowed, recorded in the ledger, and packaged.
    #[oai(status = 201)]
    Created(Json<DisclosureMade>),
}

/// A partner as an operator registers it: who receives data with members' consent.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PartnerInput {
    /// Its name (for a company, the registered name); not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    name: JsonString,
    /// Its address; not blank.
    #[oai(validator(max_length = 500, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    address: JsonString,
    /// For a company, its representative's name.
    #[oai(nullable, validator(max_length = 300))]
    representative: Option<JsonString>,
    /// How to reach it about the data; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    contact: JsonString,
}

/// A registered partner.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PartnerView {
    /// Its key, as purposes and disclosures name it.
    key: String,
    /// Its name.
    name: String,
    /// Its address.
    address: String,
    /// Its representative, for a company.
    representative: Option<String>,
    /// How to reach it.
    contact: String,
}

impl From<&Partner> for PartnerView {
    fn from(p: &Partner) -> Self {
        Self {
            key: p.key.clone(),
            name: p.name.clone(),
            address: p.address.clone(),
            representative: p.representative.clone(),
            contact: p.contact.clone(),
        }
    }
}

/// A processor as an operator registers it.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ProcessorInput {
    /// Its name; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    name: JsonString,
    /// What it does for the service; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    purpose: JsonString,
    /// The only categories it may receive.
    #[oai(validator(max_items = 20))]
    categories: Vec<Category>,
}

impl From<&kikeru_domain::privacy::Processor> for ProcessorView {
    fn from(p: &kikeru_domain::privacy::Processor) -> Self {
        Self {
            key: p.key.clone(),
            name: p.name.clone(),
            purpose: p.purpose.clone(),
            categories: p.categories.iter().map(|c| c.as_str().to_owned()).collect(),
        }
    }
}

/// An entrusted processor.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ProcessorView {
    /// Its key.
    key: String,
    /// Its name.
    name: String,
    /// What it does for the service.
    purpose: String,
    /// The only categories it receives.
    categories: Vec<String>,
}

#[derive(Debug, ApiResponse)]
enum ProcessorSaved {
    /// In force now.
    #[oai(status = 200)]
    InForce(Json<ProcessorView>),
    /// Recorded as a proposal: a second administrator must approve it
    /// (`POST /admin/processors/{key}/approval`).
    #[oai(status = 202)]
    AwaitingApproval(Json<ProcessorView>),
}

/// A change to the register waiting for a second administrator.
#[derive(Debug, Object)]
struct ProposalView {
    /// The processor as it would be.
    processor: ProcessorView,
    /// The proposing administrator's operator ID.
    proposed_by: String,
    /// When.
    proposed_at: OffsetDateTime,
}

impl From<&kikeru_domain::privacy::ProcessorProposal> for ProposalView {
    fn from(p: &kikeru_domain::privacy::ProcessorProposal) -> Self {
        Self {
            processor: ProcessorView::from(&p.processor),
            proposed_by: p.proposed_by.clone(),
            proposed_at: p.proposed_at,
        }
    }
}

fn admin_required() -> ApiError {
    ApiError::forbidden("role_required", "Only an administrator may do this")
}

fn register_error(e: RegisterError) -> ApiError {
    match e {
        RegisterError::NotAdministrator => admin_required(),
        RegisterError::SameAdministrator => ApiError::conflict(
            "second_administrator_required",
            "Another administrator must approve this change",
        ),
        RegisterError::NoProposal => ApiError::not_found(
            "proposal_not_found",
            "No change is waiting for approval for this processor",
        ),
        RegisterError::Store(e) => ApiError::store(e),
    }
}

/// The recipient's export file: exactly the package's categories, as JSON.
pub fn package_json(p: &Package) -> Value {
    let mut out = serde_json::Map::new();
    if let Some(id) = p.member_id {
        out.insert("member_id".into(), json!(id.to_string()));
    }
    if let Some(email) = &p.email {
        out.insert("email".into(), json!(email));
    }
    if let Some(name) = &p.display_name {
        out.insert("display_name".into(), json!(name));
    }
    if let Some(purchases) = &p.purchases {
        let items: Vec<Value> = purchases
            .iter()
            .map(|x| json!({"order_id": x.order_id.to_string(), "sku": x.item.sku.as_str(), "title": x.item.title.ja(), "price": x.item.unit_price.minor(), "currency": x.item.unit_price.currency().code(), "paid_at": x.paid_at.unix_timestamp(), "status": x.status.as_str()}))
            .collect();
        out.insert("purchases".into(), Value::Array(items));
    }
    if let Some(payments) = &p.payments {
        let items: Vec<Value> = payments
            .iter()
            .map(|x| json!({"payment_id": x.id.to_string(), "amount": x.amount.minor(), "currency": x.amount.currency().code(), "status": x.status.as_str(), "created_at": x.created_at.unix_timestamp()}))
            .collect();
        out.insert("payments".into(), Value::Array(items));
    }
    Value::Object(out)
}

fn disclosure_request(input: &DisclosureInput) -> ApiResult<DisclosureRequest> {
    let invalid = |detail: String| {
        ApiError::unprocessable(
            "invalid_disclosure",
            "The disclosure request is not valid",
            detail,
        )
    };
    let recipient = Recipient::parse(&input.recipient).ok_or_else(|| {
        invalid("recipient: use partner:KEY, processor:KEY or authority:NAME".to_owned())
    })?;
    let categories = categories_of(&input.categories);
    let transfer = input.transfer.map_or(Transfer::Provision, Transfer::from);
    let basis = ClaimedBasis::parse(&input.basis).ok_or_else(|| {
        invalid("basis: use entrustment, consent:PURPOSE or legal_order:ID".to_owned())
    })?;
    Ok(DisclosureRequest {
        member_id: MemberId::from_uuid(input.member_id),
        recipient,
        categories,
        transfer,
        basis,
        at: time::OffsetDateTime::UNIX_EPOCH,
    })
}

/// A legal order to record.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct LegalOrderInput {
    /// The authority that issued it.
    #[oai(validator(max_length = 300))]
    authority: JsonString,
    /// The authority's reference.
    #[oai(validator(max_length = 300))]
    reference: JsonString,
    /// The legal basis cited.
    #[oai(validator(max_length = 300))]
    legal_basis: JsonString,
    /// When it was issued.
    issued_at: OffsetDateTime,
    /// The members it concerns.
    #[oai(validator(min_items = 1, max_items = 1000))]
    member_ids: Vec<Uuid>,
    /// The categories it orders disclosed.
    #[oai(validator(min_items = 1, max_items = 20))]
    categories: Vec<Category>,
    /// The members are shown the disclosure only from this time (when the order says so).
    #[oai(nullable)]
    notice_withheld_until: Option<OffsetDateTime>,
}

/// A recorded legal order.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct LegalOrderView {
    /// Its ID (the basis `legal_order:ID`).
    id: String,
    /// The authority.
    authority: String,
    /// The authority's reference.
    reference: String,
    /// The legal basis.
    legal_basis: String,
    /// When it was issued.
    issued_at: OffsetDateTime,
    /// The members it concerns.
    member_ids: Vec<Uuid>,
    /// The categories.
    categories: Vec<String>,
    /// The operators who approved it; it takes effect with two.
    approved_by: Vec<String>,
    /// Whether two distinct operators approved it.
    effective: bool,
    /// Notice withheld until.
    notice_withheld_until: Option<OffsetDateTime>,
}

impl From<&kikeru_domain::privacy::LegalOrder> for LegalOrderView {
    fn from(o: &kikeru_domain::privacy::LegalOrder) -> Self {
        Self {
            id: o.id.clone(),
            authority: o.authority.clone(),
            reference: o.reference.clone(),
            legal_basis: o.legal_basis.clone(),
            issued_at: o.issued_at,
            member_ids: o.members.iter().map(|m| *m.as_uuid()).collect(),
            categories: o.categories.iter().map(|c| c.as_str().to_owned()).collect(),
            approved_by: o.approved_by.iter().cloned().collect(),
            effective: o.approved_by.len() >= 2,
            notice_withheld_until: o.notice_withheld_until,
        }
    }
}

#[derive(Debug, ApiResponse)]
enum LegalOrderRecorded {
    /// Recorded, with the recording operator as its first approver.
    #[oai(status = 201)]
    Created(Json<LegalOrderView>),
}

pub(crate) struct PrivacyApi;

#[OpenApi]
impl PrivacyApi {
    /// Every purpose beyond providing the service, with its notice and the member's consent,
    /// and the member's whole consent history.
    #[oai(path = "/me/consents", method = "get", tag = "Tag::Me")]
    async fn consents(&self, state: Data<&AppState>, auth: Session) -> ApiResult<Json<Consents>> {
        let (states, history) = state.services.consents.states(auth.0.member.id).await?;
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
            .services
            .consents
            .set(auth.0.member.id, &purpose.0, body.granted, "api")
            .await
            .map_err(consent_error)?;
        Ok(Json(ConsentView::from(&changed)))
    }

    /// The provisions of the member's data to third parties: date, recipient, items and basis
    /// (APPI), from the tamper-evident ledger.
    #[oai(path = "/me/disclosures", method = "get", tag = "Tag::Me")]
    async fn disclosures(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<DisclosureView>>> {
        let entries = state.services.disclosures.about(auth.0.member.id).await?;
        Ok(Json(entries.iter().map(DisclosureView::from).collect()))
    }

    /// Disclose a member's data to a third party (operators). The rules engine decides: when
    /// allowed, the package holds exactly the allowed categories and the ledger records it;
    /// when denied (`403` with the reason), nothing is produced. Both are audited.
    #[oai(path = "/admin/disclosures", method = "post", tag = "Tag::Admin")]
    async fn disclose(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        body: Json<DisclosureInput>,
    ) -> ApiResult<Disclosed> {
        let request = disclosure_request(&body.0)?;
        let operator = Some(auth.0.operator.id);
        match state
            .services
            .disclosures
            .disclose(&auth.0.operator, request)
            .await
        {
            Ok((entry, package)) => {
                let detail = format!("ledger entry {} for member {}", entry.seq, entry.member_id);
                state
                    .services
                    .office
                    .audit(operator, "disclosure.made", &detail)
                    .await?;
                Ok(Disclosed::Created(Json(DisclosureMade {
                    entry: (&entry).into(),
                    package: package_json(&package),
                })))
            }
            Err(DisclosureError::Denied(reason)) => {
                state
                    .services
                    .office
                    .audit(
                        operator,
                        "disclosure.refused",
                        &format!("member {}: {reason}", body.member_id),
                    )
                    .await?;
                Err(ApiError::Forbidden(Json(
                    crate::problem::Problem::new(
                        poem::http::StatusCode::FORBIDDEN,
                        "disclosure_denied",
                        "The disclosure is not allowed",
                    )
                    .detail(reason.to_string()),
                )))
            }
            Err(DisclosureError::UnknownMember) => Err(ApiError::not_found(
                "member_not_found",
                "There is no such member",
            )),
            Err(DisclosureError::NotAdministrator) => Err(admin_required()),
            Err(e @ DisclosureError::NotExportable(_)) => Err(ApiError::unprocessable(
                "invalid_disclosure",
                "The disclosure request is not valid",
                e.to_string(),
            )),
            Err(DisclosureError::Store(e)) => Err(ApiError::store(e)),
        }
    }

    /// The register of entrusted processors and the only categories each receives (operators).
    #[oai(path = "/admin/processors", method = "get", tag = "Tag::Admin")]
    async fn processors(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<ProcessorView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .processors()
                .await?
                .iter()
                .map(ProcessorView::from)
                .collect(),
        ))
    }

    /// Add a processor to the register, or change what one is entrusted with (administrators);
    /// audited. A change that lets nothing more leave (fewer categories, another name or
    /// purpose) is in force at once (`200`); a new processor, or more categories for one,
    /// waits for a second administrator's approval (`202`), and until then adapters and the
    /// rules engine know only the entry in force.
    #[oai(path = "/admin/processors/:key", method = "put", tag = "Tag::Admin")]
    async fn save_processor(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<ProcessorInput>,
    ) -> ApiResult<ProcessorSaved> {
        let processor = kikeru_domain::privacy::Processor {
            key: key.0,
            name: body.name.trim().to_owned(),
            purpose: body.purpose.trim().to_owned(),
            categories: categories_of(&body.categories),
        };
        let change = state
            .services
            .disclosures
            .save_processor(&auth.0.operator, processor)
            .await
            .map_err(register_error)?;
        let (action, view, saved) = match &change {
            RegisterChange::Saved(p) => ("processor.saved", ProcessorView::from(p), true),
            RegisterChange::Proposed(p) => (
                "processor.proposed",
                ProcessorView::from(&p.processor),
                false,
            ),
        };
        let detail = format!(
            "processor {} entrusted with {}",
            view.key,
            view.categories.join(",")
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), action, &detail)
            .await?;
        Ok(if saved {
            ProcessorSaved::InForce(Json(view))
        } else {
            ProcessorSaved::AwaitingApproval(Json(view))
        })
    }

    /// The changes to the processor register waiting for a second administrator.
    #[oai(
        path = "/admin/processor-proposals",
        method = "get",
        tag = "Tag::Admin"
    )]
    async fn processor_proposals(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<ProposalView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .processor_proposals()
                .await?
                .iter()
                .map(ProposalView::from)
                .collect(),
        ))
    }

    /// Approve the change waiting for a processor (a second administrator, not the one who
    /// proposed it): from now adapters send it what it lists. Audited.
    #[oai(
        path = "/admin/processors/:key/approval",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn approve_processor(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
    ) -> ApiResult<Json<ProcessorView>> {
        let approved = state
            .services
            .disclosures
            .approve_processor(&auth.0.operator, &key.0)
            .await
            .map_err(register_error)?;
        let view = ProcessorView::from(&approved);
        let detail = format!(
            "processor {} entrusted with {}",
            view.key,
            view.categories.join(",")
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "processor.approved", &detail)
            .await?;
        Ok(Json(view))
    }

    /// The register of partners: third parties that may receive members' data with their
    /// consent, with the name and address the ledger records (operators).
    #[oai(path = "/admin/partners", method = "get", tag = "Tag::Admin")]
    async fn partners(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<PartnerView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .partners()
                .await?
                .iter()
                .map(PartnerView::from)
                .collect(),
        ))
    }

    /// Add a partner to the register or change its details (operators); audited. Entries
    /// already in the ledger keep the details they were recorded with.
    #[oai(path = "/admin/partners/:key", method = "put", tag = "Tag::Admin")]
    async fn save_partner(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<PartnerInput>,
    ) -> ApiResult<Json<PartnerView>> {
        let input = body.0;
        let partner = Partner {
            key: key.0,
            name: input.name.trim().to_owned(),
            address: input.address.trim().to_owned(),
            representative: input
                .representative
                .map(|r| r.trim().to_owned())
                .filter(|r| !r.is_empty()),
            contact: input.contact.trim().to_owned(),
        };
        state.services.disclosures.save_partner(&partner).await?;
        state
            .services
            .office
            .audit(
                Some(auth.0.operator.id),
                "partner.saved",
                &format!("partner {} ({})", partner.key, partner.name),
            )
            .await?;
        Ok(Json(PartnerView::from(&partner)))
    }

    /// Record a legal order (operators). It takes effect once a second, different operator
    /// approves it; audited.
    #[oai(path = "/admin/legal-orders", method = "post", tag = "Tag::Admin")]
    async fn record_legal_order(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        body: Json<LegalOrderInput>,
    ) -> ApiResult<LegalOrderRecorded> {
        let input = body.0;
        let draft = LegalOrderDraft {
            authority: input.authority.into(),
            reference: input.reference.into(),
            legal_basis: input.legal_basis.into(),
            issued_at: input.issued_at,
            members: input
                .member_ids
                .into_iter()
                .map(MemberId::from_uuid)
                .collect(),
            categories: categories_of(&input.categories),
            notice_withheld_until: input.notice_withheld_until,
        };
        let operator = auth.0.operator.id;
        let recorded = state
            .services
            .disclosures
            .record_legal_order(draft, operator)
            .await?;
        state
            .services
            .office
            .audit(
                Some(operator),
                "legal_order.recorded",
                &format!("legal order {}", recorded.id),
            )
            .await?;
        Ok(LegalOrderRecorded::Created(Json(LegalOrderView::from(
            &recorded,
        ))))
    }

    /// Approve a legal order (operators); audited.
    #[oai(
        path = "/admin/legal-orders/:id/approve",
        method = "post",
        tag = "Tag::Admin"
    )]
    async fn approve_legal_order(
        &self,
        state: Data<&AppState>,
        auth: OperatorSession,
        id: Path<String>,
    ) -> ApiResult<Json<LegalOrderView>> {
        let operator = auth.0.operator.id;
        let approved = match state
            .services
            .disclosures
            .approve_legal_order(&id.0, operator)
            .await
        {
            Err(kikeru_domain::StoreError::NotFound) => {
                return Err(ApiError::not_found(
                    "legal_order_not_found",
                    "There is no such legal order",
                ));
            }
            other => other?,
        };
        state
            .services
            .office
            .audit(
                Some(operator),
                "legal_order.approved",
                &format!("legal order {}", approved.id),
            )
            .await?;
        Ok(Json(LegalOrderView::from(&approved)))
    }

    /// Every recorded legal order (operators).
    #[oai(path = "/admin/legal-orders", method = "get", tag = "Tag::Admin")]
    async fn legal_orders(
        &self,
        state: Data<&AppState>,
        _auth: OperatorSession,
    ) -> ApiResult<Json<Vec<LegalOrderView>>> {
        Ok(Json(
            state
                .services
                .disclosures
                .legal_orders()
                .await?
                .iter()
                .map(LegalOrderView::from)
                .collect(),
        ))
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
                .services
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
        /// The register key: 1–64 lower-case letters, digits and `-`.
        #[oai(validator(pattern = "^[a-z0-9-]{1,64}$"))]
        key: Path<String>,
        body: Json<PurposeInput>,
    ) -> ApiResult<Json<PurposeView>> {
        let purpose = purpose_from(&key.0, &body.0)?;
        if let Some(recipient) = &purpose.recipient {
            let partners = state.services.disclosures.partners().await?;
            if !partners.iter().any(|p| p.key == *recipient) {
                return Err(ApiError::unprocessable(
                    "unknown_partner",
                    "The purpose names a partner that is not registered",
                    format!(
                        "register the partner {recipient} at /admin/partners/{recipient} first"
                    ),
                ));
            }
        }
        let saved = state.services.consents.save_purpose(purpose).await?;
        let detail = format!(
            "purpose {} at notice version {}",
            saved.key, saved.notice_version
        );
        state
            .services
            .office
            .audit(Some(auth.0.operator.id), "purpose.saved", &detail)
            .await?;
        Ok(Json(PurposeView::from(&saved)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use poem_openapi::types::ParseFromJSON;

    /// The API's names are the domain's: every category and transfer kind the domain has is
    /// one the API accepts, under its stable name (a new domain variant fails to compile here).
    #[test]
    fn the_api_names_every_category_and_transfer_as_the_domain_does() {
        for category in DataCategory::ALL {
            let named = match category {
                DataCategory::EmailAddress => Category::EmailAddress,
                DataCategory::DisplayName => Category::DisplayName,
                DataCategory::MemberId => Category::MemberId,
                DataCategory::PurchaseHistory => Category::PurchaseHistory,
                DataCategory::PaymentHistory => Category::PaymentHistory,
                DataCategory::OrderDetails => Category::OrderDetails,
                DataCategory::MessageContent => Category::MessageContent,
            };
            let parsed = Category::parse_from_json(Some(Value::String(category.as_str().into())));
            assert_eq!(parsed.ok(), Some(named));
            assert_eq!(DataCategory::from(named), category);
        }
        for transfer in [
            Transfer::Provision,
            Transfer::Sale,
            Transfer::Rental,
            Transfer::Exchange,
        ] {
            let named = match transfer {
                Transfer::Provision => TransferKind::Provision,
                Transfer::Sale => TransferKind::Sale,
                Transfer::Rental => TransferKind::Rental,
                Transfer::Exchange => TransferKind::Exchange,
            };
            let parsed =
                TransferKind::parse_from_json(Some(Value::String(transfer.as_str().into())));
            assert_eq!(parsed.ok(), Some(named));
            assert_eq!(Transfer::from(named), transfer);
        }
    }
}
