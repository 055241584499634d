//! Privacy rules, pure: the categories of personal data, the register of entrusted processors,
//! consent as an append-only history, legal orders, the disclosure engine that decides every
//! provision of personal data to a third party, and the tamper-evident ledger that records each
//! one (APPI: date, recipient, person, items, basis).
//!
//! The policy's promise in one function: [`decide`] allows a disclosure only on a valid basis —
//! entrustment to a registered processor for its own categories, the member's explicit,
//! unwithdrawn consent covering the recipient, purpose and every category, or a legal order
//! approved by two operators — and denies everything else with a reason. Sale, rental or
//! exchange is never allowed on any basis but consent given for exactly that.

use std::collections::BTreeSet;
use std::fmt;

use sha2::{Digest, Sha256};

use crate::office::operators::OperatorId;
use crate::{Localized, MemberId, Timestamp};

/// A category of personal data the service holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataCategory {
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
    /// An order's reference, amounts and item titles (what a payment provider needs).
    OrderDetails,
    /// The text of a message to or from the member (mail, inquiries).
    MessageContent,
}

impl DataCategory {
    /// Every category.
    pub const ALL: [Self; 7] = [
        Self::EmailAddress,
        Self::DisplayName,
        Self::MemberId,
        Self::PurchaseHistory,
        Self::PaymentHistory,
        Self::OrderDetails,
        Self::MessageContent,
    ];

    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::EmailAddress => "email_address",
            Self::DisplayName => "display_name",
            Self::MemberId => "member_id",
            Self::PurchaseHistory => "purchase_history",
            Self::PaymentHistory => "payment_history",
            Self::OrderDetails => "order_details",
            Self::MessageContent => "message_content",
        }
    }

    /// The category with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// A set of categories.
pub type Categories = BTreeSet<DataCategory>;

/// A third party the service entrusts with personal data to provide the service (a payment
/// provider, a mail provider, hosting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processor {
    /// Its stable key (`stripe`, `mail`).
    pub key: String,
    /// Its name.
    pub name: String,
    /// What it does for the service.
    pub purpose: String,
    /// The only categories it may receive.
    pub categories: Categories,
}

/// A change to the register waiting for a second administrator: a new processor, or more
/// categories for one. Until it is approved the engine knows only the entry in force (none,
/// for a new processor).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessorProposal {
    /// The processor as it would be.
    pub processor: Processor,
    /// The administrator who proposed it (an operator ID); another must approve it.
    pub proposed_by: OperatorId,
    /// When.
    pub proposed_at: Timestamp,
}

/// A third party (not a processor) that may receive personal data with the member's consent:
/// what APPI's records of provision name — who the recipient is and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partner {
    /// Its stable key, as purposes and disclosures name it (`kikeru-label`).
    pub key: String,
    /// Its name (for a company, the registered name).
    pub name: String,
    /// Its address.
    pub address: String,
    /// For a company, its representative's name.
    pub representative: Option<String>,
    /// How to reach it about the data (an address, a telephone number, a URL).
    pub contact: String,
}

/// Who a ledger entry says received the data, as known at that moment: the register may
/// change later, the record does not.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecipientDetails {
    /// The recipient's name.
    pub name: String,
    /// Its address (empty when the register has none, e.g. for an authority).
    pub address: String,
    /// For a company, its representative's name (empty when none).
    pub representative: String,
}

/// A purpose beyond providing the service, which needs the member's explicit consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Purpose {
    /// Its stable key (`newsletter`, `partner-recommendations`).
    pub key: String,
    /// Its name, as members see it.
    pub title: Localized,
    /// The notice members read before consenting.
    pub notice: Localized,
    /// The version of the notice members consent to; a new version needs new consent.
    pub notice_version: u32,
    /// The key of the partner (in the partner register) who receives the data, if the
    /// purpose provides data to one.
    pub recipient: Option<String>,
    /// The categories it covers.
    pub categories: Categories,
    /// What kind of transfer it is.
    pub transfer: Transfer,
}

/// How data changes hands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transfer {
    /// Provided (disclosed) for the recipient's stated use.
    Provision,
    /// Sold.
    Sale,
    /// Rented (lent).
    Rental,
    /// Exchanged for something.
    Exchange,
}

impl Purpose {
    /// The version a changed purpose gets: a new notice, recipient, set of categories or kind
    /// of transfer is something new to consent to, so earlier consent no longer covers it.
    pub fn next_version(&self, previous: Option<&Purpose>) -> u32 {
        match previous {
            None => 1,
            Some(p)
                if p.notice == self.notice
                    && p.recipient == self.recipient
                    && p.categories == self.categories
                    && p.transfer == self.transfer =>
            {
                p.notice_version
            }
            Some(p) => p.notice_version + 1,
        }
    }
}

impl Transfer {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Provision => "provision",
            Self::Sale => "sale",
            Self::Rental => "rental",
            Self::Exchange => "exchange",
        }
    }

    /// The transfer with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Provision, Self::Sale, Self::Rental, Self::Exchange]
            .into_iter()
            .find(|t| t.as_str() == name)
    }
}

/// One entry of a member's consent history. Append-only; the current state is derived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentRecord {
    /// Whose.
    pub member_id: MemberId,
    /// For which purpose.
    pub purpose: String,
    /// Granted (`true`) or withdrawn (`false`).
    pub granted: bool,
    /// The notice version the member saw.
    pub notice_version: u32,
    /// When.
    pub at: Timestamp,
    /// Where (`web`, `api`).
    pub channel: String,
}

/// The member's consent to `purpose` at `at`: the latest record at or before `at`, if any.
pub fn consent_at<'a>(
    history: &'a [ConsentRecord],
    member: MemberId,
    purpose: &str,
    at: Timestamp,
) -> Option<&'a ConsentRecord> {
    history
        .iter()
        .filter(|r| r.member_id == member && r.purpose == purpose && r.at <= at)
        .max_by_key(|r| r.at)
}

/// A legal order to disclose data (a court order, a request under a statute).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegalOrder {
    /// Its ID.
    pub id: String,
    /// The authority that issued it.
    pub authority: String,
    /// The authority's reference.
    pub reference: String,
    /// The legal basis cited.
    pub legal_basis: String,
    /// When it was issued.
    pub issued_at: Timestamp,
    /// The members it concerns.
    pub members: BTreeSet<MemberId>,
    /// The categories it orders disclosed.
    pub categories: Categories,
    /// The operators who approved it; it takes two distinct ones.
    pub approved_by: BTreeSet<OperatorId>,
    /// The member is shown the ledger entry only from this date (when the order says so).
    pub notice_withheld_until: Option<Timestamp>,
}

/// Who receives data.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Recipient {
    /// A registered processor, by key.
    Processor(String),
    /// A registered partner (a third party that is not a processor), by key.
    Partner(String),
    /// An authority, by name.
    Authority(String),
}

/// The basis a disclosure claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClaimedBasis {
    /// Entrustment to a processor, to provide the service.
    Entrustment,
    /// The member's explicit consent to a purpose (by key).
    Consent(String),
    /// A legal order (by ID).
    LegalOrder(String),
}

/// A proposed disclosure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisclosureRequest {
    /// Whose data.
    pub member_id: MemberId,
    /// To whom.
    pub recipient: Recipient,
    /// What.
    pub categories: Categories,
    /// How it changes hands.
    pub transfer: Transfer,
    /// On what basis.
    pub basis: ClaimedBasis,
    /// When.
    pub at: Timestamp,
}

/// The basis a disclosure was allowed on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Basis {
    /// Entrusted to this processor.
    Entrustment(String),
    /// Consent to this purpose, at this notice version.
    Consent {
        /// The purpose.
        purpose: String,
        /// The notice version consented to.
        notice_version: u32,
    },
    /// This legal order.
    LegalOrder(String),
}

/// Why a disclosure was denied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Denial {
    /// Nothing to disclose.
    #[error("no data categories were requested")]
    NothingRequested,
    /// Sale, rental or exchange without consent given for exactly that.
    #[error("personal data is never sold, rented or exchanged without consent for exactly that")]
    TransferNotConsented,
    /// Entrustment claimed for a recipient that is not a registered processor.
    #[error("the recipient is not a registered processor")]
    NotAProcessor,
    /// A processor asked for a category it is not entrusted with.
    #[error("the processor is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// No such purpose.
    #[error("there is no such purpose")]
    UnknownPurpose,
    /// The purpose names another recipient.
    #[error("the purpose does not provide data to this recipient")]
    WrongRecipient,
    /// The partner is not in the partner register, so the record APPI asks for could not
    /// name who received the data.
    #[error("the recipient is not a registered partner")]
    UnknownPartner,
    /// The purpose does not cover a category.
    #[error("the purpose does not cover {0}")]
    CategoryNotCovered(&'static str),
    /// The member never consented, or withdrew.
    #[error("the member has not consented (or withdrew)")]
    NoConsent,
    /// The member consented to an older notice.
    #[error("the member consented to an older notice; ask again")]
    OutdatedConsent,
    /// The member asked for this use or provision to stop (APPI 第35条), and it was stopped.
    #[error("the member asked for this to stop (a cessation is in force)")]
    Stopped,
    /// No such legal order.
    #[error("there is no such legal order")]
    UnknownOrder,
    /// The order lacks two distinct approvals.
    #[error("the legal order needs the approval of two operators")]
    NotApproved,
    /// The order does not concern this member or category, or is not yet issued.
    #[error("the legal order does not cover this disclosure")]
    OutOfScope,
}

/// What the rules decided.
pub type Decision = Result<Basis, Denial>;

/// What the engine knows.
#[derive(Debug, Clone, Copy)]
pub struct Registers<'a> {
    /// Entrusted processors.
    pub processors: &'a [Processor],
    /// Registered partners.
    pub partners: &'a [Partner],
    /// Purposes needing consent.
    pub purposes: &'a [Purpose],
    /// Consent histories.
    pub consents: &'a [ConsentRecord],
    /// Recorded legal orders.
    pub legal_orders: &'a [LegalOrder],
    /// Cessations in force (APPI 第35条).
    pub stops: &'a [requests::Stop],
}

fn first_missing(wanted: &Categories, allowed: &Categories) -> Option<&'static str> {
    wanted
        .iter()
        .find(|c| !allowed.contains(c))
        .map(|c| c.as_str())
}

/// Decides a disclosure. Pure: the same inputs always give the same answer.
pub fn decide(request: &DisclosureRequest, registers: &Registers<'_>) -> Decision {
    if request.categories.is_empty() {
        return Err(Denial::NothingRequested);
    }
    match &request.basis {
        ClaimedBasis::Entrustment => {
            if request.transfer != Transfer::Provision {
                return Err(Denial::TransferNotConsented);
            }
            let Recipient::Processor(key) = &request.recipient else {
                return Err(Denial::NotAProcessor);
            };
            let processor = registers
                .processors
                .iter()
                .find(|p| p.key == *key)
                .ok_or(Denial::NotAProcessor)?;
            if let Some(category) = first_missing(&request.categories, &processor.categories) {
                return Err(Denial::NotEntrusted(category));
            }
            Ok(Basis::Entrustment(key.clone()))
        }
        ClaimedBasis::Consent(purpose_key) => {
            let purpose = registers
                .purposes
                .iter()
                .find(|p| p.key == *purpose_key)
                .ok_or(Denial::UnknownPurpose)?;
            if request.transfer != purpose.transfer {
                return Err(Denial::TransferNotConsented);
            }
            let recipient_name = match &request.recipient {
                Recipient::Partner(name)
                | Recipient::Processor(name)
                | Recipient::Authority(name) => name,
            };
            if purpose.recipient.as_deref() != Some(recipient_name.as_str()) {
                return Err(Denial::WrongRecipient);
            }
            if let Recipient::Partner(key) = &request.recipient
                && !registers.partners.iter().any(|p| p.key == *key)
            {
                return Err(Denial::UnknownPartner);
            }
            if let Some(category) = first_missing(&request.categories, &purpose.categories) {
                return Err(Denial::CategoryNotCovered(category));
            }
            if requests::stopped(
                registers.stops,
                request.member_id,
                purpose_key,
                recipient_name,
                request.at,
            ) {
                return Err(Denial::Stopped);
            }
            let consent = consent_at(
                registers.consents,
                request.member_id,
                purpose_key,
                request.at,
            )
            .filter(|r| r.granted)
            .ok_or(Denial::NoConsent)?;
            if consent.notice_version != purpose.notice_version {
                return Err(Denial::OutdatedConsent);
            }
            Ok(Basis::Consent {
                purpose: purpose_key.clone(),
                notice_version: consent.notice_version,
            })
        }
        ClaimedBasis::LegalOrder(id) => {
            if request.transfer != Transfer::Provision {
                return Err(Denial::TransferNotConsented);
            }
            let order = registers
                .legal_orders
                .iter()
                .find(|o| o.id == *id)
                .ok_or(Denial::UnknownOrder)?;
            if order.approved_by.len() < 2 {
                return Err(Denial::NotApproved);
            }
            let recipient_ok = matches!(&request.recipient, Recipient::Authority(name) if *name == order.authority);
            let covered = first_missing(&request.categories, &order.categories).is_none();
            if !recipient_ok
                || !covered
                || !order.members.contains(&request.member_id)
                || request.at < order.issued_at
            {
                return Err(Denial::OutOfScope);
            }
            Ok(Basis::LegalOrder(id.clone()))
        }
    }
}

/// One entry of the disclosure ledger: a record of a provision of personal data to a third
/// party (APPI Art. 29), chained to the previous entry by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerEntry {
    /// Its position, from 1.
    pub seq: u64,
    /// When the data was provided.
    pub at: Timestamp,
    /// Whose data.
    pub member_id: MemberId,
    /// To whom.
    pub recipient: Recipient,
    /// The recipient's name and address at that moment.
    pub recipient_details: RecipientDetails,
    /// What.
    pub categories: Categories,
    /// On what basis.
    pub basis: Basis,
    /// The member sees the entry from this time on (later than `at` only under a legal order
    /// that withholds notice).
    pub visible_from: Timestamp,
    /// The previous entry's hash (zeros for the first).
    pub prev_hash: [u8; 32],
    /// The SHA-256 of this entry's content and `prev_hash`.
    pub hash: [u8; 32],
}

fn recipient_text(r: &Recipient) -> String {
    match r {
        Recipient::Processor(k) => format!("processor:{k}"),
        Recipient::Partner(k) => format!("partner:{k}"),
        Recipient::Authority(k) => format!("authority:{k}"),
    }
}

fn basis_text(b: &Basis) -> String {
    match b {
        Basis::Entrustment(k) => format!("entrustment:{k}"),
        Basis::Consent {
            purpose,
            notice_version,
        } => format!("consent:{purpose}:v{notice_version}"),
        Basis::LegalOrder(id) => format!("legal_order:{id}"),
    }
}

impl LedgerEntry {
    /// The hash of the entry's content and its predecessor's hash.
    pub fn content_hash(&self) -> [u8; 32] {
        let categories: Vec<&str> = self.categories.iter().map(|c| c.as_str()).collect();
        let details = &self.recipient_details;
        let text = format!(
            "{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n",
            self.seq,
            self.at.unix_timestamp_nanos() / 1_000_000,
            self.member_id,
            recipient_text(&self.recipient),
            details.name.escape_default(),
            details.address.escape_default(),
            details.representative.escape_default(),
            categories.join(","),
            basis_text(&self.basis),
            self.visible_from.unix_timestamp_nanos() / 1_000_000,
        );
        let mut hasher = Sha256::new();
        hasher.update(self.prev_hash);
        hasher.update(text.as_bytes());
        hasher.finalize().into()
    }
}

/// The first ledger entry (by position) that breaks the chain: a wrong position, a
/// predecessor hash that is not the previous entry's, or a hash that does not match its
/// content. `None` when the whole chain holds.
///
/// Entries past their retention period are removed from the start of the chain, so the first
/// entry present anchors the chain: its own hash must match, and only the very first entry
/// (position 1) must follow zeros.
pub fn first_broken(entries: &[LedgerEntry]) -> Option<u64> {
    let mut previous: Option<&LedgerEntry> = None;
    for entry in entries {
        let (seq, prev_hash) = match previous {
            Some(p) => (p.seq + 1, p.hash),
            None if entry.seq == 1 => (1, [0u8; 32]),
            None => (entry.seq, entry.prev_hash),
        };
        if entry.seq != seq || entry.prev_hash != prev_hash || entry.hash != entry.content_hash() {
            return Some(entry.seq);
        }
        previous = Some(entry);
    }
    None
}

impl Recipient {
    /// Reads the text form (`processor:stripe`, `partner:…`, `authority:…`).
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, name) = text.split_once(':')?;
        let name = name.to_owned();
        match kind {
            "processor" => Some(Self::Processor(name)),
            "partner" => Some(Self::Partner(name)),
            "authority" => Some(Self::Authority(name)),
            _ => None,
        }
    }
}

impl ClaimedBasis {
    /// Reads the claimed basis an operator names: `entrustment`, `consent:PURPOSE` or
    /// `legal_order:ID`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.split_once(':') {
            None if text == "entrustment" => Some(Self::Entrustment),
            Some(("consent", purpose)) if !purpose.is_empty() => {
                Some(Self::Consent(purpose.to_owned()))
            }
            Some(("legal_order", id)) if !id.is_empty() => Some(Self::LegalOrder(id.to_owned())),
            _ => None,
        }
    }
}

impl Basis {
    /// The text form (`entrustment:stripe`, `consent:newsletter:v2`, `legal_order:LO-1`).
    pub fn to_text(&self) -> String {
        basis_text(self)
    }

    /// Reads the text form.
    pub fn parse(text: &str) -> Option<Self> {
        let (kind, rest) = text.split_once(':')?;
        match kind {
            "entrustment" => Some(Self::Entrustment(rest.to_owned())),
            "legal_order" => Some(Self::LegalOrder(rest.to_owned())),
            "consent" => {
                let (purpose, version) = rest.rsplit_once(":v")?;
                Some(Self::Consent {
                    purpose: purpose.to_owned(),
                    notice_version: version.parse().ok()?,
                })
            }
            _ => None,
        }
    }
}

/// A ledger entry before it takes its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LedgerDraft {
    /// When the data was provided.
    pub at: Timestamp,
    /// Whose data.
    pub member_id: MemberId,
    /// To whom.
    pub recipient: Recipient,
    /// The recipient's name and address, from the registers.
    pub recipient_details: RecipientDetails,
    /// What.
    pub categories: Categories,
    /// On what basis.
    pub basis: Basis,
    /// From when the member sees it.
    pub visible_from: Timestamp,
}

impl LedgerDraft {
    /// The entry this draft becomes after `previous`.
    pub fn chain(self, previous: Option<&LedgerEntry>) -> LedgerEntry {
        let (seq, prev_hash) = previous.map_or((1, [0u8; 32]), |p| (p.seq + 1, p.hash));
        self.chain_at(seq, prev_hash)
    }

    /// The entry this draft becomes at position `seq`, after an entry whose hash is
    /// `prev_hash` (zeros when `seq` is 1).
    pub fn chain_at(self, seq: u64, prev_hash: [u8; 32]) -> LedgerEntry {
        let mut entry = LedgerEntry {
            seq,
            at: self.at,
            member_id: self.member_id,
            recipient: self.recipient,
            recipient_details: self.recipient_details,
            categories: self.categories,
            basis: self.basis,
            visible_from: self.visible_from,
            prev_hash,
            hash: [0; 32],
        };
        entry.hash = entry.content_hash();
        entry
    }
}

impl fmt::Display for Recipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&recipient_text(self))
    }
}

/// What the registers say about a recipient, for the ledger: a processor's or partner's
/// registered name and address, an authority's name.
pub fn recipient_details(recipient: &Recipient, registers: &Registers<'_>) -> RecipientDetails {
    match recipient {
        Recipient::Processor(key) => registers
            .processors
            .iter()
            .find(|p| p.key == *key)
            .map(|p| RecipientDetails {
                name: p.name.clone(),
                ..RecipientDetails::default()
            })
            .unwrap_or_default(),
        Recipient::Partner(key) => registers
            .partners
            .iter()
            .find(|p| p.key == *key)
            .map(|p| RecipientDetails {
                name: p.name.clone(),
                address: p.address.clone(),
                representative: p.representative.clone().unwrap_or_default(),
            })
            .unwrap_or_default(),
        Recipient::Authority(name) => RecipientDetails {
            name: name.clone(),
            ..RecipientDetails::default()
        },
    }
}

/// Whether `sent` may go to the processor `key` of `register`: the first category it is not
/// entrusted with (every category, when it is not registered at all).
pub fn not_entrusted(register: &[Processor], key: &str, sent: &Categories) -> Option<DataCategory> {
    let entrusted = register
        .iter()
        .find(|p| p.key == key)
        .map(|p| &p.categories);
    sent.iter()
        .copied()
        .find(|c| entrusted.is_none_or(|e| !e.contains(c)))
}

pub mod consent;
pub mod disclosure;
pub mod export;
pub mod kept;
pub mod mailing;
pub mod policy;
pub mod ports;
pub mod requests;
pub mod retention;
pub mod stats;
pub mod supervision;

#[cfg(test)]
mod tests;
