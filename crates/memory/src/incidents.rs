//! Incidents in memory, beside the members (a notice's progress is applied in their units).

use async_trait::async_trait;
use kikeru_domain::office::incident::ports::Incidents;
use kikeru_domain::office::incident::{Incident, IncidentId, Notice, Stage};
use kikeru_domain::office::operators::OperatorId;
use kikeru_domain::{MemberId, StoreError, Timestamp};

use crate::MemoryStore;

#[async_trait]
impl Incidents for MemoryStore {
    async fn insert(&self, incident: &Incident) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.incidents.contains_key(&incident.id) {
            return Err(StoreError::Conflict);
        }
        state.incidents.insert(incident.id, incident.clone());
        Ok(())
    }

    async fn all(&self) -> Result<Vec<Incident>, StoreError> {
        let mut all: Vec<Incident> = self.state().incidents.values().cloned().collect();
        all.sort_by_key(|i| std::cmp::Reverse((i.facts.discovered_at, i.id)));
        Ok(all)
    }

    async fn by_id(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        Ok(self.state().incidents.get(&id).cloned())
    }

    async fn mark_reported(
        &self,
        id: IncidentId,
        stage: Stage,
        at: Timestamp,
    ) -> Result<Incident, StoreError> {
        let mut state = self.state();
        let incident = state.incidents.get_mut(&id).ok_or(StoreError::NotFound)?;
        let field = match stage {
            Stage::Preliminary => &mut incident.preliminary_reported_at,
            Stage::Final => &mut incident.final_reported_at,
        };
        field.get_or_insert(at);
        Ok(incident.clone())
    }

    async fn approve_notice(
        &self,
        id: IncidentId,
        by: OperatorId,
        at: Timestamp,
    ) -> Result<Incident, StoreError> {
        let mut state = self.state();
        let incident = state.incidents.get_mut(&id).ok_or(StoreError::NotFound)?;
        incident.notice.get_or_insert(Notice {
            approved_by: by,
            approved_at: at,
            cursor: None,
            sent: 0,
            done: false,
        });
        Ok(incident.clone())
    }

    async fn members_after(
        &self,
        after: Option<MemberId>,
        registered_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError> {
        let mut ids: Vec<MemberId> = self
            .state()
            .members
            .values()
            .filter(|m| after.is_none_or(|a| m.id > a) && m.created_at < registered_before)
            .map(|m| m.id)
            .collect();
        ids.sort_unstable();
        ids.truncate(limit as usize);
        Ok(ids)
    }
}
