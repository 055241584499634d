//! In-memory purposes and consent histories.

use std::collections::BTreeMap;
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::consent::Consents;
use kikeru_domain::privacy::{ConsentRecord, Ledger, LedgerDraft, LedgerEntry, Purpose};
use kikeru_domain::{MemberId, StoreError, Timestamp};

use crate::MemoryStore;

/// The consents' share of [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct State {
    purposes: BTreeMap<String, Purpose>,
    records: Vec<ConsentRecord>,
    ledger: Vec<LedgerEntry>,
}

impl MemoryStore {
    pub(crate) fn erase_consents(&self, member: MemberId) {
        self.privacy().records.retain(|r| r.member_id != member);
    }

    fn privacy(&self) -> MutexGuard<'_, State> {
        self.privacy.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Consents for MemoryStore {
    async fn save_purpose(&self, purpose: &Purpose) -> Result<(), StoreError> {
        self.privacy()
            .purposes
            .insert(purpose.key.clone(), purpose.clone());
        Ok(())
    }

    async fn purposes(&self) -> Result<Vec<Purpose>, StoreError> {
        Ok(self.privacy().purposes.values().cloned().collect())
    }

    async fn append(&self, record: &ConsentRecord) -> Result<(), StoreError> {
        self.privacy().records.push(record.clone());
        Ok(())
    }

    async fn history(&self, member: MemberId) -> Result<Vec<ConsentRecord>, StoreError> {
        Ok(self
            .privacy()
            .records
            .iter()
            .filter(|r| r.member_id == member)
            .cloned()
            .collect())
    }
}

#[async_trait]
impl Ledger for MemoryStore {
    async fn append(&self, draft: LedgerDraft) -> Result<LedgerEntry, StoreError> {
        let mut state = self.privacy();
        let entry = draft.chain(state.ledger.last());
        state.ledger.push(entry.clone());
        Ok(entry)
    }

    async fn for_member(
        &self,
        member: MemberId,
        at: Timestamp,
    ) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self
            .privacy()
            .ledger
            .iter()
            .filter(|e| e.member_id == member && e.visible_from <= at)
            .cloned()
            .collect())
    }

    async fn all(&self) -> Result<Vec<LedgerEntry>, StoreError> {
        Ok(self.privacy().ledger.clone())
    }
}
