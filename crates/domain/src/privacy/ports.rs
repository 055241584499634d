//! The storage ports of privacy: the registers of processors and partners, legal orders and
//! the ledger.

use super::{Partner, Processor, ProcessorProposal};

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
