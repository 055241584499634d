//! In-memory purposes and consent histories.

use std::collections::BTreeMap;
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::office::operators::OperatorId;
use kikeru_domain::privacy::ports::Consents;
use kikeru_domain::privacy::ports::{Ledger, LegalOrders, Partners, Processors};
use kikeru_domain::privacy::{
    ConsentRecord, LedgerDraft, LedgerEntry, LegalOrder, Partner, Processor, ProcessorProposal,
    Purpose,
};
use kikeru_domain::{MemberId, StoreError, Timestamp};

use crate::MemoryStore;

/// The consents' share of [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct State {
    purposes: BTreeMap<String, Purpose>,
    records: Vec<ConsentRecord>,
    ledger: Vec<LedgerEntry>,
    legal_orders: BTreeMap<String, LegalOrder>,
    processors: BTreeMap<String, Processor>,
    proposals: BTreeMap<String, ProcessorProposal>,
    supervisions: Vec<kikeru_domain::privacy::supervision::Supervision>,
    partners: BTreeMap<String, Partner>,
}

impl MemoryStore {
    /// Adds a processor to the register (setting up tests and fixtures).
    pub fn register_processor(&self, processor: Processor) {
        self.privacy()
            .processors
            .insert(processor.key.clone(), processor);
    }

    pub(crate) fn purge_ledger(&self, before: Timestamp) -> u64 {
        let mut state = self.privacy();
        let count = state.ledger.len();
        state.ledger.retain(|e| e.at >= before);
        (count - state.ledger.len()) as u64
    }

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

    async fn consenters(
        &self,
        purpose: &str,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError> {
        let found: std::collections::BTreeSet<MemberId> = self
            .privacy()
            .records
            .iter()
            .filter(|r| r.purpose == purpose && r.granted && after.is_none_or(|a| r.member_id > a))
            .map(|r| r.member_id)
            .collect();
        Ok(found.into_iter().take(limit as usize).collect())
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

#[async_trait]
impl LegalOrders for MemoryStore {
    async fn record(&self, order: &LegalOrder) -> Result<(), StoreError> {
        let mut state = self.privacy();
        if state.legal_orders.contains_key(&order.id) {
            return Err(StoreError::Conflict);
        }
        state.legal_orders.insert(order.id.clone(), order.clone());
        Ok(())
    }

    async fn approve(&self, id: &str, operator: OperatorId) -> Result<LegalOrder, StoreError> {
        let mut state = self.privacy();
        let order = state.legal_orders.get_mut(id).ok_or(StoreError::NotFound)?;
        order.approved_by.insert(operator);
        Ok(order.clone())
    }

    async fn all(&self) -> Result<Vec<LegalOrder>, StoreError> {
        Ok(self.privacy().legal_orders.values().cloned().collect())
    }
}

#[async_trait]
impl Processors for MemoryStore {
    async fn save(&self, processor: &Processor) -> Result<(), StoreError> {
        self.privacy()
            .processors
            .insert(processor.key.clone(), processor.clone());
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Processor>, StoreError> {
        Ok(self.privacy().processors.values().cloned().collect())
    }

    async fn propose(&self, proposal: &ProcessorProposal) -> Result<(), StoreError> {
        self.privacy()
            .proposals
            .insert(proposal.processor.key.clone(), proposal.clone());
        Ok(())
    }

    async fn proposals(&self) -> Result<Vec<ProcessorProposal>, StoreError> {
        Ok(self.privacy().proposals.values().cloned().collect())
    }

    async fn record_supervision(
        &self,
        record: &kikeru_domain::privacy::supervision::Supervision,
    ) -> Result<(), StoreError> {
        self.privacy().supervisions.push(record.clone());
        Ok(())
    }

    async fn supervisions(
        &self,
    ) -> Result<Vec<kikeru_domain::privacy::supervision::Supervision>, StoreError> {
        Ok(self.privacy().supervisions.clone())
    }

    async fn adopt(&self, proposal: &ProcessorProposal) -> Result<(), StoreError> {
        let mut state = self.privacy();
        let key = &proposal.processor.key;
        if state.proposals.get(key) != Some(proposal) {
            return Err(StoreError::NotFound);
        }
        state.proposals.remove(key);
        state
            .processors
            .insert(key.clone(), proposal.processor.clone());
        Ok(())
    }
}

#[async_trait]
impl Partners for MemoryStore {
    async fn save(&self, partner: &Partner) -> Result<(), StoreError> {
        self.privacy()
            .partners
            .insert(partner.key.clone(), partner.clone());
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Partner>, StoreError> {
        Ok(self.privacy().partners.values().cloned().collect())
    }
}
