//! In-memory adapters for every storage port of the domain. They pass the same conformance
//! suites as the database adapters and back the fast service tests.

mod books;
mod incidents;
mod office;
mod privacy;
mod shop;
mod stats;
mod unit;

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::membership::passkey::Passkey;
use kikeru_domain::membership::second_factor::{RecoveryCodeHash, TotpEnrolment};
use kikeru_domain::ports::{
    AuditLog, Erasure, Hits, Members, RateLimits, SecondFactors, Sessions, Tokens,
};
use kikeru_domain::{
    Email, Member, MemberId, OneTimeToken, SecurityEvent, Session, SessionId, StoreError,
    Timestamp, TokenHash, TokenPurpose,
};

/// All storage ports in process memory. Clone-free: share it in an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    state: Mutex<State>,
    shop: Mutex<shop::State>,
    office: Mutex<office::State>,
    privacy: Mutex<privacy::State>,
    stats: Mutex<stats::State>,
}

#[derive(Debug, Clone, Default)]
struct State {
    members: HashMap<MemberId, Member>,
    sessions: HashMap<SessionId, Session>,
    tokens: HashMap<TokenHash, OneTimeToken>,
    audit: Vec<SecurityEvent>,
    counters: HashMap<String, Hits>,
    mail: unit::MailState,
    totp: HashMap<MemberId, TotpEnrolment>,
    recovery_codes: HashMap<MemberId, Vec<RecoveryCodeHash>>,
    passkeys: Vec<Passkey>,
    incidents: std::collections::BTreeMap<
        kikeru_domain::office::incident::IncidentId,
        kikeru_domain::office::incident::Incident,
    >,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the maps half-updated: every change is
        // a single insert or remove.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn email_taken(state: &State, email: &Email, except: MemberId) -> bool {
    state
        .members
        .values()
        .any(|m| m.email == *email && m.id != except)
}

#[async_trait]
impl Members for MemoryStore {
    async fn insert(&self, member: &Member) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.members.contains_key(&member.id) || email_taken(&state, &member.email, member.id) {
            return Err(StoreError::Conflict);
        }
        state.members.insert(member.id, member.clone());
        Ok(())
    }

    async fn by_id(&self, id: MemberId) -> Result<Option<Member>, StoreError> {
        Ok(self.state().members.get(&id).cloned())
    }

    async fn by_email(&self, email: &Email) -> Result<Option<Member>, StoreError> {
        Ok(self
            .state()
            .members
            .values()
            .find(|m| m.email == *email)
            .cloned())
    }

    async fn update(&self, member: &Member) -> Result<(), StoreError> {
        let mut state = self.state();
        if !state.members.contains_key(&member.id) {
            return Err(StoreError::NotFound);
        }
        if email_taken(&state, &member.email, member.id) {
            return Err(StoreError::Conflict);
        }
        state.members.insert(member.id, member.clone());
        Ok(())
    }
}

#[async_trait]
impl Sessions for MemoryStore {
    async fn insert(&self, session: &Session) -> Result<(), StoreError> {
        let mut state = self.state();
        let clash = state
            .sessions
            .values()
            .any(|s| s.token_hash == session.token_hash);
        if clash || state.sessions.contains_key(&session.id) {
            return Err(StoreError::Conflict);
        }
        state.sessions.insert(session.id, session.clone());
        Ok(())
    }

    async fn by_token_hash(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        Ok(self
            .state()
            .sessions
            .values()
            .find(|s| s.token_hash == *hash)
            .cloned())
    }

    async fn touch(&self, id: SessionId, at: Timestamp) -> Result<(), StoreError> {
        let mut state = self.state();
        let session = state.sessions.get_mut(&id).ok_or(StoreError::NotFound)?;
        session.last_seen_at = at;
        Ok(())
    }

    async fn for_member(&self, member: MemberId) -> Result<Vec<Session>, StoreError> {
        let mut found: Vec<Session> = self
            .state()
            .sessions
            .values()
            .filter(|s| s.member_id == member)
            .cloned()
            .collect();
        found.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(found)
    }

    async fn delete(&self, id: SessionId) -> Result<bool, StoreError> {
        Ok(self.state().sessions.remove(&id).is_some())
    }

    async fn delete_for_member(
        &self,
        member: MemberId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.sessions.len();
        state
            .sessions
            .retain(|id, s| s.member_id != member || Some(*id) == keep);
        Ok((before - state.sessions.len()) as u64)
    }
}

#[async_trait]
impl SecondFactors for MemoryStore {
    async fn totp(&self, member: MemberId) -> Result<Option<TotpEnrolment>, StoreError> {
        Ok(self.state().totp.get(&member).cloned())
    }

    async fn totp_enrolments(
        &self,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<TotpEnrolment>, StoreError> {
        let state = self.state();
        let mut all: Vec<&TotpEnrolment> = state
            .totp
            .values()
            .filter(|e| after.is_none_or(|a| e.member_id.as_uuid() > a.as_uuid()))
            .collect();
        all.sort_by_key(|e| *e.member_id.as_uuid());
        Ok(all.into_iter().take(limit as usize).cloned().collect())
    }

    async fn recovery_codes(&self, member: MemberId) -> Result<Vec<RecoveryCodeHash>, StoreError> {
        Ok(self
            .state()
            .recovery_codes
            .get(&member)
            .cloned()
            .unwrap_or_default())
    }

    async fn passkeys(&self, member: MemberId) -> Result<Vec<Passkey>, StoreError> {
        let mut found: Vec<Passkey> = self
            .state()
            .passkeys
            .iter()
            .filter(|p| p.member_id == member)
            .cloned()
            .collect();
        found.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.id.cmp(&b.id)));
        Ok(found)
    }

    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<Passkey>, StoreError> {
        Ok(self
            .state()
            .passkeys
            .iter()
            .find(|p| p.credential_id == credential_id)
            .cloned())
    }
}

#[async_trait]
impl Tokens for MemoryStore {
    async fn insert(&self, token: &OneTimeToken) -> Result<(), StoreError> {
        let mut state = self.state();
        if state.tokens.contains_key(&token.hash) {
            return Err(StoreError::Conflict);
        }
        state.tokens.insert(token.hash, token.clone());
        Ok(())
    }

    async fn find(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        Ok(self.state().tokens.get(hash).cloned())
    }

    async fn take(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        Ok(self.state().tokens.remove(hash))
    }

    async fn delete_for_member(
        &self,
        member: MemberId,
        purpose: TokenPurpose,
    ) -> Result<u64, StoreError> {
        let mut state = self.state();
        let before = state.tokens.len();
        state
            .tokens
            .retain(|_, t| t.member_id != member || t.purpose != purpose);
        Ok((before - state.tokens.len()) as u64)
    }
}

#[async_trait]
impl AuditLog for MemoryStore {
    async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError> {
        self.state().audit.push(event.clone());
        Ok(())
    }

    async fn for_member(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, StoreError> {
        let state = self.state();
        let mut found: Vec<SecurityEvent> = state
            .audit
            .iter()
            .filter(|e| e.member_id == Some(member))
            .cloned()
            .collect();
        found.sort_by(|a, b| b.at.cmp(&a.at).then(b.id.cmp(&a.id)));
        found.truncate(limit as usize);
        Ok(found)
    }
}

#[async_trait]
impl RateLimits for MemoryStore {
    async fn hit(&self, key: &str, window: Duration, now: Timestamp) -> Result<Hits, StoreError> {
        let mut state = self.state();
        let hits = match state.counters.get(key) {
            Some(h) if now < h.window_ends_at => Hits {
                count: h.count + 1,
                ..*h
            },
            _ => Hits {
                count: 1,
                window_ends_at: now + window,
            },
        };
        state.counters.insert(key.to_owned(), hits);
        Ok(hits)
    }

    async fn peek(&self, key: &str, now: Timestamp) -> Result<Hits, StoreError> {
        Ok(match self.state().counters.get(key) {
            Some(h) if now < h.window_ends_at => *h,
            _ => Hits {
                count: 0,
                window_ends_at: now,
            },
        })
    }

    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        self.state().counters.remove(key);
        Ok(())
    }
}

#[async_trait]
impl Erasure for MemoryStore {
    async fn erase(&self, member: MemberId) -> Result<(), StoreError> {
        kikeru_domain::changes::UnitOfWork::apply(
            self,
            vec![kikeru_domain::changes::Change::Erase(member)].into(),
        )
        .await
    }
}

#[async_trait]
impl kikeru_domain::privacy::ports::Retention for MemoryStore {
    async fn purge(
        &self,
        cutoffs: &kikeru_domain::privacy::retention::Cutoffs,
    ) -> Result<kikeru_domain::privacy::retention::Purged, StoreError> {
        let mut purged = kikeru_domain::privacy::retention::Purged::default();
        let stale: Vec<MemberId> = self
            .state()
            .members
            .values()
            .filter(|m| {
                m.email_verified_at.is_none() && m.created_at < cutoffs.unverified_created_before
            })
            .map(|m| m.id)
            .collect();
        for id in stale {
            if self.erase(id).await.is_ok() {
                purged.unverified_accounts += 1;
            }
        }
        {
            let mut state = self.state();
            let before = state.sessions.len();
            state.sessions.retain(|_, s| {
                s.expires_at > cutoffs.now && s.last_seen_at >= cutoffs.sessions_seen_before
            });
            purged.sessions = (before - state.sessions.len()) as u64;
            let before = state.tokens.len();
            state.tokens.retain(|_, t| t.expires_at > cutoffs.now);
            purged.tokens = (before - state.tokens.len()) as u64;
        }
        let existing: std::collections::HashSet<MemberId> =
            self.state().members.keys().copied().collect();
        purged.accounting_orders = self.purge_accounting(&existing, cutoffs.accounting_before);
        purged.ledger_entries = self.purge_ledger(cutoffs.ledger_before);
        (purged.settled_mail, purged.inquiries, purged.requests) =
            self.purge_mail(cutoffs.mail_settled_before, cutoffs.inquiries_before);
        {
            let mut state = self.state();
            let before = state.counters.len();
            state.counters.retain(|_, h| h.window_ends_at > cutoffs.now);
            purged.rate_limits = (before - state.counters.len()) as u64;
        }
        purged.operator_events = self.purge_operator_log(cutoffs.operator_log_before);
        Ok(purged)
    }
}
