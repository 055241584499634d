//! The request and response bodies of the privacy API, with their conversions from the domain.

use crate::text::JsonString;
use kikeru_domain::privacy::consent::{ConsentError, ConsentState};
use kikeru_domain::privacy::disclosure::{Package, RegisterError};
use kikeru_domain::privacy::{
    ClaimedBasis, ConsentRecord, DataCategory, DisclosureRequest, LedgerEntry, Partner, Purpose,
    Recipient, Transfer,
};
use kikeru_domain::{Localized, MemberId};
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, Tags};
use serde_json::{Value, json};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::problem::ApiError;
use crate::shop_api::Text;

pub(super) type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
pub(super) enum Tag {
    /// マイページ: consent to purposes beyond providing the service.
    Me,
    /// The office (事務局): operators only.
    Admin,
}

/// A category of personal data, by its stable name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[oai(rename_all = "snake_case")]
pub(super) enum Category {
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
pub(super) enum TransferKind {
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
pub(super) fn categories_of(names: &[Category]) -> kikeru_domain::privacy::Categories {
    names.iter().map(|&c| c.into()).collect()
}

/// A purpose beyond providing the service.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct PurposeView {
    /// Its key.
    pub(super) key: String,
    /// Its name.
    pub(super) title: Text,
    /// The notice the member consents to.
    pub(super) notice: Text,
    /// The notice's version; consent to an older version does not count.
    pub(super) notice_version: u32,
    /// Who receives the data, if anyone does.
    pub(super) recipient: Option<String>,
    /// The categories of personal data concerned.
    pub(super) categories: Vec<String>,
    /// `provision`, `sale`, `rental` or `exchange`.
    pub(super) transfer: String,
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
pub(super) struct ConsentRecordView {
    /// The purpose.
    pub(super) purpose: String,
    /// Granted or withdrawn.
    pub(super) granted: bool,
    /// The notice version the member saw.
    pub(super) notice_version: u32,
    /// When.
    pub(super) at: OffsetDateTime,
    /// Where (`api`, `web`).
    pub(super) channel: String,
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
pub(super) struct ConsentView {
    /// The purpose.
    pub(super) purpose: PurposeView,
    /// Whether the member's consent covers the current notice.
    pub(super) granted: bool,
    /// The latest change, if any.
    pub(super) latest: Option<ConsentRecordView>,
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
pub(super) struct Consents {
    /// Every purpose, by key.
    pub(super) purposes: Vec<ConsentView>,
    /// Every grant and withdrawal, oldest first.
    pub(super) history: Vec<ConsentRecordView>,
}

/// Grant or withdraw.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct ConsentChange {
    /// `true` to consent, `false` to withdraw.
    pub(super) granted: bool,
}

/// A purpose as an operator defines it. A change to the notice, recipient, categories or
/// transfer gives it a new notice version, which members must consent to anew.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct PurposeInput {
    /// Japanese name: 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    ))]
    pub(super) title_ja: JsonString,
    /// English name: 1–200 characters, no control characters.
    #[oai(validator(
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    ))]
    pub(super) title_en: JsonString,
    /// Japanese notice, at most 5,000 characters.
    #[oai(validator(max_length = 5000))]
    pub(super) notice_ja: JsonString,
    /// English notice, at most 5,000 characters.
    #[oai(validator(max_length = 5000))]
    pub(super) notice_en: JsonString,
    /// Who receives the data, if anyone.
    #[oai(nullable, validator(max_length = 200))]
    pub(super) recipient: Option<JsonString>,
    /// The categories of personal data concerned.
    #[oai(validator(min_items = 1, max_items = 20))]
    pub(super) categories: Vec<Category>,
    /// How the data passes (default `provision`).
    #[oai(nullable)]
    pub(super) transfer: Option<TransferKind>,
}

/// Mail for a purpose, in both languages.
#[derive(Debug, Object)]
pub(super) struct LetterInput {
    /// Japanese subject: 1–200 characters.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub(super) subject_ja: JsonString,
    /// Japanese text: 1–10,000 characters.
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub(super) body_ja: JsonString,
    /// English subject: 1–200 characters.
    #[oai(validator(min_length = 1, max_length = 200))]
    pub(super) subject_en: JsonString,
    /// English text: 1–10,000 characters.
    #[oai(validator(min_length = 1, max_length = 10000))]
    pub(super) body_en: JsonString,
}

/// What a mailing for a purpose did.
#[derive(Debug, Object)]
pub(super) struct MailingView {
    /// Mails put in the outbox.
    pub(super) sent: u64,
    /// Members whose consent does not cover the purpose's current notice.
    pub(super) not_consenting: u64,
    /// Members who asked for this use to stop (APPI 第35条): skipped.
    pub(super) stopped: u64,
}

pub(super) fn mailing_error(e: kikeru_domain::privacy::mailing::MailingError) -> ApiError {
    use kikeru_domain::privacy::mailing::MailingError;
    match e {
        MailingError::NotAdministrator => admin_required(),
        MailingError::UnknownPurpose => {
            ApiError::not_found("purpose_not_found", "There is no such purpose")
        }
        MailingError::Invalid => {
            ApiError::unprocessable("invalid_letter", "The mail is not valid", e.to_string())
        }
        MailingError::NotEntrusted(category) => ApiError::not_entrusted(category),
        MailingError::Store(s) => ApiError::store(s),
    }
}

pub(super) fn consent_error(e: ConsentError) -> ApiError {
    match e {
        ConsentError::UnknownPurpose => {
            ApiError::not_found("purpose_not_found", "There is no such purpose")
        }
        ConsentError::Store(s) => ApiError::store(s),
    }
}

pub(super) fn purpose_from(key: &str, input: &PurposeInput) -> ApiResult<Purpose> {
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
pub(super) struct DisclosureView {
    /// The ledger position.
    pub(super) seq: u64,
    /// When the data was provided.
    pub(super) at: OffsetDateTime,
    /// To whom (`partner:…`, `processor:…`, `authority:…`).
    pub(super) recipient: String,
    /// The recipient's name when the data was provided.
    pub(super) recipient_name: String,
    /// Its address (empty when none is registered, e.g. for an authority).
    pub(super) recipient_address: String,
    /// For a company, its representative (empty when none).
    pub(super) recipient_representative: String,
    /// What.
    pub(super) categories: Vec<String>,
    /// On what basis (`consent:purpose:vN`, `entrustment:…`, `legal_order:…`).
    pub(super) basis: String,
    /// The entry's hash, chained to the previous entry's (hex).
    pub(super) hash: String,
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
pub(super) struct DisclosureInput {
    /// Whose data.
    pub(super) member_id: Uuid,
    /// To whom: `partner:KEY`, `processor:KEY` or `authority:NAME`.
    #[oai(validator(
        max_length = 300,
        pattern = r"^(partner|processor|authority):[^\x00]*$"
    ))]
    pub(super) recipient: JsonString,
    /// Which categories.
    #[oai(validator(min_items = 1, max_items = 20))]
    pub(super) categories: Vec<Category>,
    /// How the data passes (default `provision`).
    #[oai(nullable)]
    pub(super) transfer: Option<TransferKind>,
    /// `entrustment`, `consent:PURPOSE` or `legal_order:ID`.
    #[oai(validator(
        max_length = 300,
        pattern = r"^(entrustment|(consent|legal_order):[^\x00]+)$"
    ))]
    pub(super) basis: JsonString,
}

/// A disclosure made: the ledger entry and the package for the recipient.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct DisclosureMade {
    /// The ledger entry.
    pub(super) entry: DisclosureView,
    /// Exactly the allowed categories of the member's data.
    pub(super) package: Value,
}

#[derive(Debug, ApiResponse)]
pub(super) enum Disclosed {
    /// Allowed, recorded in the ledger, and packaged.
    #[oai(status = 201)]
    Created(Json<DisclosureMade>),
}

/// A partner as an operator registers it: who receives data with members' consent.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct PartnerInput {
    /// Its name (for a company, the registered name); not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    pub(super) name: JsonString,
    /// Its address; not blank.
    #[oai(validator(max_length = 500, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    pub(super) address: JsonString,
    /// For a company, its representative's name.
    #[oai(nullable, validator(max_length = 300))]
    pub(super) representative: Option<JsonString>,
    /// How to reach it about the data; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    pub(super) contact: JsonString,
}

/// A registered partner.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct PartnerView {
    /// Its key, as purposes and disclosures name it.
    pub(super) key: String,
    /// Its name.
    pub(super) name: String,
    /// Its address.
    pub(super) address: String,
    /// Its representative, for a company.
    pub(super) representative: Option<String>,
    /// How to reach it.
    pub(super) contact: String,
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
pub(super) struct ProcessorInput {
    /// Its name; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    pub(super) name: JsonString,
    /// What it does for the service; not blank.
    #[oai(validator(max_length = 300, pattern = r"^[^\x00]*\S[^\x00]*$"))]
    pub(super) purpose: JsonString,
    /// The only categories it may receive.
    #[oai(validator(max_items = 20))]
    pub(super) categories: Vec<Category>,
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
pub(super) struct ProcessorView {
    /// Its key.
    pub(super) key: String,
    /// Its name.
    pub(super) name: String,
    /// What it does for the service.
    pub(super) purpose: String,
    /// The only categories it receives.
    pub(super) categories: Vec<String>,
}

#[derive(Debug, ApiResponse)]
pub(super) enum ProcessorSaved {
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
pub(super) struct ProposalView {
    /// The processor as it would be.
    pub(super) processor: ProcessorView,
    /// The proposing administrator's operator ID.
    pub(super) proposed_by: String,
    /// When.
    pub(super) proposed_at: OffsetDateTime,
}

impl From<&kikeru_domain::privacy::ProcessorProposal> for ProposalView {
    fn from(p: &kikeru_domain::privacy::ProcessorProposal) -> Self {
        Self {
            processor: ProcessorView::from(&p.processor),
            proposed_by: p.proposed_by.to_string(),
            proposed_at: p.proposed_at,
        }
    }
}

pub(super) fn admin_required() -> ApiError {
    ApiError::forbidden("role_required", "Only an administrator may do this")
}

pub(super) fn register_error(e: RegisterError) -> ApiError {
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
        RegisterError::UnknownProcessor => {
            ApiError::not_found("processor_not_found", "There is no such processor")
        }
        RegisterError::Supervision(problem) => ApiError::unprocessable(
            "invalid_supervision",
            "The supervision record is not valid",
            problem.to_string(),
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

pub(super) fn disclosure_request(input: &DisclosureInput) -> ApiResult<DisclosureRequest> {
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
pub(super) struct LegalOrderInput {
    /// The authority that issued it.
    #[oai(validator(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    ))]
    pub(super) authority: JsonString,
    /// The authority's reference.
    #[oai(validator(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    ))]
    pub(super) reference: JsonString,
    /// The legal basis cited.
    #[oai(validator(
        min_length = 1,
        max_length = 300,
        pattern = r"^[^\x00]*[^\x00\s][^\x00]*$"
    ))]
    pub(super) legal_basis: JsonString,
    /// When it was issued.
    pub(super) issued_at: OffsetDateTime,
    /// The members it concerns.
    #[oai(validator(min_items = 1, max_items = 1000))]
    pub(super) member_ids: Vec<Uuid>,
    /// The categories it orders disclosed.
    #[oai(validator(min_items = 1, max_items = 20))]
    pub(super) categories: Vec<Category>,
    /// The members are shown the disclosure only from this time (when the order says so).
    #[oai(nullable)]
    pub(super) notice_withheld_until: Option<OffsetDateTime>,
}

/// A recorded legal order.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(super) struct LegalOrderView {
    /// Its ID (the basis `legal_order:ID`).
    pub(super) id: String,
    /// The authority.
    pub(super) authority: String,
    /// The authority's reference.
    pub(super) reference: String,
    /// The legal basis.
    pub(super) legal_basis: String,
    /// When it was issued.
    pub(super) issued_at: OffsetDateTime,
    /// The members it concerns.
    pub(super) member_ids: Vec<Uuid>,
    /// The categories.
    pub(super) categories: Vec<String>,
    /// The operators who approved it; it takes effect with two.
    pub(super) approved_by: Vec<String>,
    /// Whether two distinct operators approved it.
    pub(super) effective: bool,
    /// Notice withheld until.
    pub(super) notice_withheld_until: Option<OffsetDateTime>,
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
            approved_by: o.approved_by.iter().map(ToString::to_string).collect(),
            effective: o.approved_by.len() >= 2,
            notice_withheld_until: o.notice_withheld_until,
        }
    }
}

#[derive(Debug, ApiResponse)]
pub(super) enum LegalOrderRecorded {
    /// Recorded, with the recording operator as its first approver.
    #[oai(status = 201)]
    Created(Json<LegalOrderView>),
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
