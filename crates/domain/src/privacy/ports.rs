//! The storage ports of privacy: the registers of processors and partners, consents, legal
//! orders and the ledger, the retention job and the anonymous statistics.

use async_trait::async_trait;
use time::Date;

use super::retention::{Cutoffs, Purged};
use super::stats::{DailyCount, Hit};
use super::{
    ConsentRecord, LedgerDraft, LedgerEntry, LegalOrder, Partner, Processor, ProcessorProposal,
    Purpose,
};
use crate::{MemberId, StoreError, Timestamp};

/// The register of entrusted processors.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Processors: Send + Sync + 'static {
    /// Adds a processor, or replaces the one with its key.
    ///
    /// # Errors
    /// When storage fails.
    async fn save(&self, processor: &Processor) -> Result<(), crate::StoreError>;

    /// Every processor, by key.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<Processor>, crate::StoreError>;

    /// Records a proposed change, replacing any earlier proposal for its key. The register
    /// itself does not change.
    ///
    /// # Errors
    /// When storage fails.
    async fn propose(&self, proposal: &ProcessorProposal) -> Result<(), crate::StoreError>;

    /// Every pending proposal, by key.
    ///
    /// # Errors
    /// When storage fails.
    async fn proposals(&self) -> Result<Vec<ProcessorProposal>, crate::StoreError>;

    /// Puts `proposal`'s processor into the register and forgets the proposal, as one change,
    /// only while it is still the pending proposal for its key (same processor, proposer and
    /// time). MUST be atomic: of two adoptions of one proposal one wins.
    ///
    /// # Errors
    /// [`crate::StoreError::NotFound`] when it was replaced or adopted meanwhile.
    async fn adopt(&self, proposal: &ProcessorProposal) -> Result<(), crate::StoreError>;

    /// Appends a supervision record (委託先の監督); records are never changed.
    ///
    /// # Errors
    /// When storage fails.
    async fn record_supervision(
        &self,
        record: &super::supervision::Supervision,
    ) -> Result<(), crate::StoreError>;

    /// Every supervision record, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    async fn supervisions(&self)
    -> Result<Vec<super::supervision::Supervision>, crate::StoreError>;
}

/// The register of partners: third parties that may receive data with consent.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Partners: Send + Sync + 'static {
    /// Adds a partner, or replaces the one with its key.
    ///
    /// # Errors
    /// When storage fails.
    async fn save(&self, partner: &Partner) -> Result<(), crate::StoreError>;

    /// Every partner, by key.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<Partner>, crate::StoreError>;
}

/// Purposes and consent histories.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Consents: Send + Sync + 'static {
    /// Adds a purpose, or replaces the one with its key.
    ///
    /// # Errors
    /// When storage fails.
    async fn save_purpose(&self, purpose: &Purpose) -> Result<(), StoreError>;

    /// Every purpose, by key.
    ///
    /// # Errors
    /// When storage fails.
    async fn purposes(&self) -> Result<Vec<Purpose>, StoreError>;

    /// The members who ever granted consent to `purpose`, in ID order after `after`, at most
    /// `limit` (whom a mailing for the purpose may concern; their current consent is read from
    /// their history).
    ///
    /// # Errors
    /// When storage fails.
    async fn consenters(
        &self,
        purpose: &str,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError>;

    /// Appends a record to a member's history. MUST NOT change or remove earlier records.
    ///
    /// # Errors
    /// When storage fails.
    async fn append(&self, record: &ConsentRecord) -> Result<(), StoreError>;

    /// The member's history, oldest first. MUST NOT include other members' records.
    ///
    /// # Errors
    /// When storage fails.
    async fn history(&self, member: MemberId) -> Result<Vec<ConsentRecord>, StoreError>;
}

/// Recorded legal orders and their approvals.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait LegalOrders: Send + Sync + 'static {
    /// Records an order with its first approvals.
    ///
    /// # Errors
    /// [`crate::StoreError::Conflict`] when the ID exists.
    async fn record(&self, order: &LegalOrder) -> Result<(), crate::StoreError>;

    /// Adds an operator's approval (approving twice counts once) and returns the order.
    ///
    /// # Errors
    /// [`crate::StoreError::NotFound`] for an unknown order.
    async fn approve(
        &self,
        id: &str,
        operator: crate::office::operators::OperatorId,
    ) -> Result<LegalOrder, crate::StoreError>;

    /// Every recorded order.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<LegalOrder>, crate::StoreError>;
}

/// The disclosure ledger: append-only, each entry chained to the one before.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait::async_trait]
pub trait Ledger: Send + Sync + 'static {
    /// Appends the draft after the current last entry (see [`LedgerDraft::chain`]) and returns
    /// the stored entry. MUST give every append its own position, even when several run at once:
    /// the chain never forks.
    ///
    /// # Errors
    /// When storage fails; nothing is appended then.
    async fn append(&self, draft: LedgerDraft) -> Result<LedgerEntry, crate::StoreError>;

    /// The member's entries visible at `at`, oldest first. MUST NOT include other members'
    /// entries or entries whose notice is withheld until later.
    ///
    /// # Errors
    /// When storage fails.
    async fn for_member(
        &self,
        member: MemberId,
        at: Timestamp,
    ) -> Result<Vec<LedgerEntry>, crate::StoreError>;

    /// Every entry, by position (for verification).
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<LedgerEntry>, crate::StoreError>;
}

/// Requests under APPI and the cessations in force. New requests and their changes are
/// written through [`crate::changes::UnitOfWork`] with their mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PrivacyRequests: Send + Sync + 'static {
    /// The request with this ID.
    ///
    /// # Errors
    /// When storage fails.
    async fn request(
        &self,
        id: uuid::Uuid,
    ) -> Result<Option<super::requests::PrivacyRequest>, StoreError>;

    /// The request with this number.
    ///
    /// # Errors
    /// When storage fails.
    async fn request_numbered(
        &self,
        number: &str,
    ) -> Result<Option<super::requests::PrivacyRequest>, StoreError>;

    /// Requests newest first, only those not yet answered or refused when `open_only`, at
    /// most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn requests(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<super::requests::PrivacyRequest>, StoreError>;

    /// The requests concerning the member, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    async fn requests_of(
        &self,
        member: MemberId,
    ) -> Result<Vec<super::requests::PrivacyRequest>, StoreError>;

    /// The cessations in force for the member, oldest first.
    ///
    /// # Errors
    /// When storage fails.
    async fn stops_of(&self, member: MemberId) -> Result<Vec<super::requests::Stop>, StoreError>;
}

/// Removes what is past its period.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Retention: Send + Sync + 'static {
    /// Removes: accounts never verified and created before the cutoff (with everything
    /// personal, as [`crate::membership::ports::Erasure`]); sessions expired or last seen before the cutoff;
    /// tokens expired by `now`; orders (and their payments) of members that no longer exist,
    /// placed before the accounting cutoff; ledger entries made before the ledger cutoff;
    /// inquiries and requests under APPI that arrived before the inquiry cutoff; outbox
    /// records of mail settled (sent
    /// or given up) before the mail cutoff — never a mail still waiting.
    ///
    /// MUST NOT remove anything else — in particular no verified member, no order of an
    /// existing member, and no ledger entry newer than the cutoff. MUST be safe to run on
    /// several nodes at once.
    ///
    /// # Errors
    /// When storage fails.
    async fn purge(&self, cutoffs: &Cutoffs) -> Result<Purged, StoreError>;
}

/// The access statistics.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Statistics: Send + Sync + 'static {
    /// Stores hits (a batch).
    ///
    /// # Errors
    /// When storage fails; the batch is then dropped, never retried into duplicates.
    async fn record(&self, hits: &[Hit]) -> Result<(), StoreError>;

    /// Adds the hits of every completed day before `today` not yet rolled up to the daily
    /// counts; returns how many days it rolled up.
    ///
    /// MUST count each day once, even when run again or on several nodes at once.
    ///
    /// # Errors
    /// When storage fails.
    async fn roll_up(&self, today: Date) -> Result<u64, StoreError>;

    /// The daily counts from `from` to `to`, both included.
    ///
    /// # Errors
    /// When storage fails.
    async fn daily(&self, from: Date, to: Date) -> Result<Vec<DailyCount>, StoreError>;

    /// Removes raw hits recorded before `before`; returns how many.
    ///
    /// # Errors
    /// When storage fails.
    async fn purge_hits(&self, before: Timestamp) -> Result<u64, StoreError>;
}
