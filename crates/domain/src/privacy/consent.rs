//! Consent to purposes beyond providing the service: the register of purposes (kept by the
//! office) and each member's append-only consent history, from which the current state is
//! derived. A withdrawal takes effect for every later decision.

use std::sync::Arc;

use crate::privacy::ports::Consents;

use crate::kernel::ports::Clock;
use crate::privacy::{ConsentRecord, Purpose, consent_at};
use crate::{MemberId, StoreError};

/// A purpose and where the member stands on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentState {
    /// The purpose, with its current notice.
    pub purpose: Purpose,
    /// Whether the member's consent covers the current notice now.
    pub granted: bool,
    /// The member's latest record for it, if any.
    pub latest: Option<ConsentRecord>,
}

/// Giving or withdrawing consent failed.
#[derive(Debug, thiserror::Error)]
pub enum ConsentError {
    /// No purpose has this key.
    #[error("there is no such purpose")]
    UnknownPurpose,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The consent use cases.
#[derive(Clone)]
pub struct ConsentDesk {
    consents: Arc<dyn Consents>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for ConsentDesk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ConsentDesk { .. }")
    }
}

impl ConsentDesk {
    /// Builds the use cases on their adapters.
    pub fn new(consents: Arc<dyn Consents>, clock: Arc<dyn Clock>) -> Self {
        Self { consents, clock }
    }

    /// Where the member stands on every purpose, and their whole history (oldest first).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn states(
        &self,
        member: MemberId,
    ) -> Result<(Vec<ConsentState>, Vec<ConsentRecord>), StoreError> {
        let now = self.clock.now();
        let history = self.consents.history(member).await?;
        let states = self
            .consents
            .purposes()
            .await?
            .into_iter()
            .map(|purpose| {
                let latest = consent_at(&history, member, &purpose.key, now).cloned();
                let granted = latest
                    .as_ref()
                    .is_some_and(|r| r.granted && r.notice_version == purpose.notice_version);
                ConsentState {
                    purpose,
                    granted,
                    latest,
                }
            })
            .collect();
        Ok((states, history))
    }

    /// Grants or withdraws consent to a purpose, at its current notice version, by appending
    /// to the member's history.
    ///
    /// # Errors
    /// [`ConsentError::UnknownPurpose`].
    pub async fn set(
        &self,
        member: MemberId,
        purpose: &str,
        granted: bool,
        channel: &str,
    ) -> Result<ConsentState, ConsentError> {
        let declared = self
            .consents
            .purposes()
            .await?
            .into_iter()
            .find(|p| p.key == purpose)
            .ok_or(ConsentError::UnknownPurpose)?;
        let record = ConsentRecord {
            member_id: member,
            purpose: declared.key.clone(),
            granted,
            notice_version: declared.notice_version,
            at: self.clock.now(),
            channel: channel.to_owned(),
        };
        self.consents.append(&record).await?;
        Ok(ConsentState {
            purpose: declared,
            granted,
            latest: Some(record),
        })
    }

    /// Adds or changes a purpose (an operator's action); the notice version moves on when what
    /// members consent to changes.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn save_purpose(&self, mut purpose: Purpose) -> Result<Purpose, StoreError> {
        let previous = self
            .consents
            .purposes()
            .await?
            .into_iter()
            .find(|p| p.key == purpose.key);
        purpose.notice_version = purpose.next_version(previous.as_ref());
        self.consents.save_purpose(&purpose).await?;
        Ok(purpose)
    }

    /// Every purpose.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn purposes(&self) -> Result<Vec<Purpose>, StoreError> {
        self.consents.purposes().await
    }
}
