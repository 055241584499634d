//! In-memory operators, their sessions and their audit log.

use std::collections::HashMap;
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::office::operators::{Operator, OperatorEvent, OperatorId, OperatorSession};
use kikeru_domain::office::ports::Operators;
use kikeru_domain::{Email, StoreError, TokenHash};
use uuid::Uuid;

use crate::MemoryStore;

/// The operators' share of [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct State {
    operators: HashMap<OperatorId, Operator>,
    sessions: HashMap<Uuid, OperatorSession>,
    events: Vec<OperatorEvent>,
}

impl MemoryStore {
    fn office(&self) -> MutexGuard<'_, State> {
        self.office.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Removes the operators' log entries made before `before`; how many.
    pub(crate) fn purge_operator_log(&self, before: kikeru_domain::Timestamp) -> u64 {
        let mut state = self.office();
        let count = state.events.len();
        state.events.retain(|e| e.at >= before);
        (count - state.events.len()) as u64
    }
}

#[async_trait]
impl Operators for MemoryStore {
    async fn insert(&self, operator: &Operator) -> Result<(), StoreError> {
        let mut state = self.office();
        if state.operators.contains_key(&operator.id)
            || state.operators.values().any(|o| o.email == operator.email)
        {
            return Err(StoreError::Conflict);
        }
        state.operators.insert(operator.id, operator.clone());
        Ok(())
    }

    async fn by_email(&self, email: &Email) -> Result<Option<Operator>, StoreError> {
        Ok(self
            .office()
            .operators
            .values()
            .find(|o| o.email == *email)
            .cloned())
    }

    async fn by_id(&self, id: OperatorId) -> Result<Option<Operator>, StoreError> {
        Ok(self.office().operators.get(&id).cloned())
    }

    async fn insert_session(&self, session: &OperatorSession) -> Result<(), StoreError> {
        let mut state = self.office();
        if state
            .sessions
            .values()
            .any(|s| s.token_hash == session.token_hash)
        {
            return Err(StoreError::Conflict);
        }
        state.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<OperatorSession>, StoreError> {
        Ok(self
            .office()
            .sessions
            .values()
            .find(|s| s.token_hash == *hash)
            .cloned())
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        self.office().sessions.remove(&id);
        Ok(())
    }

    async fn record(&self, event: &OperatorEvent) -> Result<(), StoreError> {
        self.office().events.push(event.clone());
        Ok(())
    }

    async fn events(&self, limit: u32) -> Result<Vec<OperatorEvent>, StoreError> {
        let mut events = self.office().events.clone();
        events.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
        events.truncate(limit as usize);
        Ok(events)
    }
}
