//! Ports of the office (事務局): operator accounts, their sessions and their log.

use async_trait::async_trait;
use uuid::Uuid;

use crate::office::operators::{Operator, OperatorEvent, OperatorId, OperatorSession};
use crate::{Email, StoreError, TokenHash};

/// Operator accounts, their sessions and their audit log.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Operators: Send + Sync + 'static {
    /// Stores a new operator. MUST refuse an address another operator has.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the address or ID is taken.
    async fn insert(&self, operator: &Operator) -> Result<(), StoreError>;

    /// The operator with this address.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_email(&self, email: &Email) -> Result<Option<Operator>, StoreError>;

    /// The operator with this ID.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: OperatorId) -> Result<Option<Operator>, StoreError>;

    /// Stores an operator session.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a repeated token hash.
    async fn insert_session(&self, session: &OperatorSession) -> Result<(), StoreError>;

    /// The operator session with this token hash. MUST NOT find members' sessions.
    ///
    /// # Errors
    /// When storage fails.
    async fn session(&self, hash: &TokenHash) -> Result<Option<OperatorSession>, StoreError>;

    /// Deletes an operator session.
    ///
    /// # Errors
    /// When storage fails.
    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError>;

    /// Appends to the operators' audit log.
    ///
    /// # Errors
    /// When storage fails.
    async fn record(&self, event: &OperatorEvent) -> Result<(), StoreError>;

    /// The most recent audit entries, newest first, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn events(&self, limit: u32) -> Result<Vec<OperatorEvent>, StoreError>;
}
