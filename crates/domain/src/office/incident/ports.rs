//! The storage port of incidents.

use async_trait::async_trait;

use super::model::{Incident, IncidentId, Stage};
use crate::office::operators::OperatorId;
use crate::{MemberId, StoreError, Timestamp};

/// Incidents in storage.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Incidents: Send + Sync + 'static {
    /// Stores a new incident.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when its ID is known.
    async fn insert(&self, incident: &Incident) -> Result<(), StoreError>;

    /// Every incident, the most recently discovered first.
    ///
    /// # Errors
    /// When storage fails.
    async fn all(&self) -> Result<Vec<Incident>, StoreError>;

    /// The incident with this ID.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: IncidentId) -> Result<Option<Incident>, StoreError>;

    /// Records that the `stage` report was submitted at `at`; a second call keeps the first
    /// time. Answers the incident as it is now.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown incident.
    async fn mark_reported(
        &self,
        id: IncidentId,
        stage: Stage,
        at: Timestamp,
    ) -> Result<Incident, StoreError>;

    /// Approves the members' notice (by `by`, at `at`) unless it was approved already (the
    /// first approval stays). Answers the incident as it is now.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown incident.
    async fn approve_notice(
        &self,
        id: IncidentId,
        by: OperatorId,
        at: Timestamp,
    ) -> Result<Incident, StoreError>;

    /// The IDs of the members who registered before `registered_before`, after `after`, in
    /// ID order, at most `limit` (whom an incident concerning everyone notifies: the members
    /// there were when it was recorded).
    ///
    /// # Errors
    /// When storage fails.
    async fn members_after(
        &self,
        after: Option<MemberId>,
        registered_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError>;
}
