//! In-memory units of work, the outbox and inquiries. A unit is applied to a copy of the
//! state under the lock and swapped in only when every change succeeded.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::{Claimed, Envelope, OutboxCounts, Settlement};
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::office::inquiry::ports::Inquiries;
use kikeru_domain::office::inquiry::{Inquiry, InquiryId};
use kikeru_domain::privacy::requests::{PrivacyRequest, Stop};
use kikeru_domain::{MemberId, StoreError, Timestamp};
use uuid::Uuid;

use crate::{MemoryStore, State, email_taken};

/// Where a mail of the outbox stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Status {
    Pending,
    Sent,
    Failed,
}

/// A mail in the outbox. Settled mails keep no content.
#[derive(Debug, Clone)]
pub(crate) struct OutboxRow {
    /// The order mail entered the outbox in (UUIDs made by test randomness do not sort by it).
    pub(crate) seq: u64,
    pub(crate) created_at: Timestamp,
    pub(crate) envelope: Option<Envelope>,
    pub(crate) member_id: Option<MemberId>,
    pub(crate) status: Status,
    pub(crate) attempts: u32,
    pub(crate) next_attempt_at: Timestamp,
    pub(crate) claim: Option<(Uuid, Timestamp)>,
    pub(crate) settled_at: Option<Timestamp>,
    pub(crate) last_error: Option<String>,
}

/// The outbox and the inquiries, part of the membership state so that a unit covers them.
#[derive(Debug, Clone, Default)]
pub(crate) struct MailState {
    pub(crate) outbox: BTreeMap<Uuid, OutboxRow>,
    pub(crate) inquiries: BTreeMap<InquiryId, Inquiry>,
    /// Requests under APPI, and the cessations in force.
    pub(crate) requests: BTreeMap<Uuid, PrivacyRequest>,
    pub(crate) stops: Vec<Stop>,
    /// Published versions of the privacy policy, by number.
    pub(crate) policies: BTreeMap<u32, kikeru_domain::privacy::policy::PolicyVersion>,
}

impl MailState {
    pub(crate) fn enqueue(&mut self, envelope: Envelope) -> Result<(), StoreError> {
        if self.outbox.contains_key(&envelope.id) {
            return Err(StoreError::Conflict);
        }
        let seq = self.outbox.len() as u64;
        self.outbox.insert(
            envelope.id,
            OutboxRow {
                seq,
                created_at: envelope.created_at,
                member_id: envelope.member_id,
                next_attempt_at: envelope.created_at,
                envelope: Some(envelope),
                status: Status::Pending,
                attempts: 0,
                claim: None,
                settled_at: None,
                last_error: None,
            },
        );
        Ok(())
    }
}

fn apply_one(
    state: &mut State,
    change: Change,
    erased: &mut Vec<MemberId>,
) -> Result<(), StoreError> {
    match change {
        Change::InsertMember(member) => {
            if state.members.contains_key(&member.id)
                || email_taken(state, &member.email, member.id)
            {
                return Err(StoreError::Conflict);
            }
            state.members.insert(member.id, member);
        }
        Change::UpdateMember(member) => {
            if !state.members.contains_key(&member.id) {
                return Err(StoreError::NotFound);
            }
            if email_taken(state, &member.email, member.id) {
                return Err(StoreError::Conflict);
            }
            state.members.insert(member.id, member);
        }
        Change::InsertToken(token) => {
            if state.tokens.contains_key(&token.hash) {
                return Err(StoreError::Conflict);
            }
            state.tokens.insert(token.hash, token);
        }
        Change::DeleteTokens { member, purpose } => state
            .tokens
            .retain(|_, t| t.member_id != member || t.purpose != purpose),
        Change::TakeToken(hash) => {
            state.tokens.remove(&hash).ok_or(StoreError::NotFound)?;
        }
        Change::InsertSession(session) => {
            let clash = state
                .sessions
                .values()
                .any(|s| s.token_hash == session.token_hash);
            if clash || state.sessions.contains_key(&session.id) {
                return Err(StoreError::Conflict);
            }
            state.sessions.insert(session.id, session);
        }
        Change::DeleteSession(id) => {
            state.sessions.remove(&id);
        }
        Change::DeleteSessions { member, keep } => state
            .sessions
            .retain(|id, s| s.member_id != member || Some(*id) == keep),
        Change::Record(event) => state.audit.push(event),
        Change::UpdateAssurance {
            session,
            assurance,
            second_factor_enrolled,
        } => {
            let session = state
                .sessions
                .get_mut(&session)
                .ok_or(StoreError::NotFound)?;
            session.assurance = assurance;
            session.second_factor_enrolled = second_factor_enrolled;
        }
        Change::PutTotp(enrolment) => {
            state.totp.insert(enrolment.member_id, enrolment);
        }
        Change::ConfirmTotp { member, at, step } => {
            let enrolment = state.totp.get_mut(&member).ok_or(StoreError::NotFound)?;
            enrolment.confirmed_at = Some(at);
            enrolment.last_used_step = Some(step);
        }
        Change::UseTotpStep { member, step } => {
            let enrolment = state
                .totp
                .get_mut(&member)
                .filter(|e| e.is_confirmed())
                .ok_or(StoreError::NotFound)?;
            if enrolment.last_used_step.is_some_and(|last| last >= step) {
                return Err(StoreError::Conflict);
            }
            enrolment.last_used_step = Some(step);
        }
        Change::ResealTotp { member, from, to } => {
            let enrolment = state
                .totp
                .get_mut(&member)
                .filter(|e| e.sealed_secret == from)
                .ok_or(StoreError::NotFound)?;
            enrolment.sealed_secret = to;
        }
        Change::DeleteTotp(member) => {
            state.totp.remove(&member);
        }
        Change::ReplaceRecoveryCodes { member, codes, .. } => {
            state.recovery_codes.insert(member, codes);
        }
        Change::UseRecoveryCode { member, code } => {
            let codes = state
                .recovery_codes
                .get_mut(&member)
                .ok_or(StoreError::NotFound)?;
            let position = codes
                .iter()
                .position(|c| *c == code)
                .ok_or(StoreError::NotFound)?;
            codes.remove(position);
        }
        Change::DeleteRecoveryCodes(member) => {
            state.recovery_codes.remove(&member);
        }
        Change::InsertPasskey(passkey) => {
            if state
                .passkeys
                .iter()
                .any(|p| p.id == passkey.id || p.credential_id == passkey.credential_id)
            {
                return Err(StoreError::Conflict);
            }
            state.passkeys.push(passkey);
        }
        Change::RenamePasskey { member, id, name } => {
            state
                .passkeys
                .iter_mut()
                .find(|p| p.id == id && p.member_id == member)
                .ok_or(StoreError::NotFound)?
                .name = name;
        }
        Change::DeletePasskey { member, id } => {
            let before = state.passkeys.len();
            state
                .passkeys
                .retain(|p| p.id != id || p.member_id != member);
            if state.passkeys.len() == before {
                return Err(StoreError::NotFound);
            }
        }
        Change::DeletePasskeys(member) => state.passkeys.retain(|p| p.member_id != member),
        Change::UsePasskey {
            id,
            sign_count,
            at,
            backup_eligible,
            backed_up,
        } => {
            let passkey = state
                .passkeys
                .iter_mut()
                .find(|p| p.id == id)
                .ok_or(StoreError::NotFound)?;
            if !kikeru_domain::membership::passkey::counter_is_plausible(
                passkey.sign_count,
                sign_count,
            ) {
                return Err(StoreError::Conflict);
            }
            passkey.sign_count = sign_count;
            passkey.last_used_at = Some(at);
            passkey.backup_eligible = Some(backup_eligible);
            passkey.backed_up = backed_up;
        }
        Change::Erase(member) => {
            let removed = state.members.remove(&member).ok_or(StoreError::NotFound)?;
            state.totp.remove(&member);
            state.recovery_codes.remove(&member);
            state.passkeys.retain(|p| p.member_id != member);
            state.sessions.retain(|_, s| s.member_id != member);
            state.tokens.retain(|_, t| t.member_id != member);
            state.audit.retain(|e| e.member_id != Some(member));
            state
                .mail
                .inquiries
                .retain(|_, i| i.member_id != Some(member) && i.email != removed.email);
            state
                .mail
                .requests
                .retain(|_, r| r.member != Some(member) && r.email != removed.email);
            state.mail.stops.retain(|s| s.member != member);
            // Settled mail of the member goes; mail still to go out names no member.
            state
                .mail
                .outbox
                .retain(|_, row| row.member_id != Some(member) || row.settled_at.is_none());
            for row in state.mail.outbox.values_mut() {
                if row.member_id == Some(member) {
                    row.member_id = None;
                    if let Some(envelope) = row.envelope.as_mut() {
                        envelope.member_id = None;
                    }
                }
            }
            erased.push(member);
        }
        Change::Send(envelope) => state.mail.enqueue(envelope)?,
        Change::InsertInquiry(inquiry) => {
            let clash = state.mail.inquiries.values().any(|i| {
                i.reference == inquiry.reference
                    || (inquiry.message_id.is_some() && i.message_id == inquiry.message_id)
            });
            if clash || state.mail.inquiries.contains_key(&inquiry.id) {
                return Err(StoreError::Conflict);
            }
            state.mail.inquiries.insert(inquiry.id, inquiry);
        }
        Change::NoticeProgress {
            incident,
            from,
            to,
            sent,
            done,
        } => {
            let notice = state
                .incidents
                .get_mut(&incident)
                .ok_or(StoreError::NotFound)?
                .notice
                .as_mut()
                .ok_or(StoreError::Conflict)?;
            if notice.done || notice.cursor != from {
                return Err(StoreError::Conflict);
            }
            notice.cursor = to;
            notice.sent += sent;
            notice.done = done;
        }
        Change::AnswerInquiry { inquiry, answer } => state
            .mail
            .inquiries
            .get_mut(&inquiry)
            .ok_or(StoreError::NotFound)?
            .answers
            .push(answer),
        Change::PutRequest(request) => {
            let requests = &mut state.mail.requests;
            if request.version <= 1 {
                if requests.contains_key(&request.id)
                    || requests.values().any(|r| r.number == request.number)
                {
                    return Err(StoreError::Conflict);
                }
            } else {
                let stored = requests.get(&request.id).ok_or(StoreError::NotFound)?;
                if stored.version + 1 != request.version {
                    return Err(StoreError::Conflict);
                }
            }
            requests.insert(request.id, request);
        }
        Change::PublishPolicy(version) => {
            if state.mail.policies.contains_key(&version.number) {
                return Err(StoreError::Conflict);
            }
            state.mail.policies.insert(version.number, version);
        }
        Change::PolicyNoticeProgress {
            number,
            from,
            to,
            sent,
            done,
        } => {
            let version = state
                .mail
                .policies
                .get_mut(&number)
                .ok_or(StoreError::NotFound)?;
            if version.notice_done || version.notice_cursor != from {
                return Err(StoreError::Conflict);
            }
            // A finished notice keeps no member's ID as its cursor.
            version.notice_cursor = to.filter(|_| !done);
            version.notice_sent += sent;
            version.notice_done = done;
        }
        Change::InsertStop(stop) => {
            if state.mail.stops.iter().any(|s| s.id == stop.id) {
                return Err(StoreError::Conflict);
            }
            state.mail.stops.push(stop);
        }
        Change::LiftStop { member, id } => {
            let before = state.mail.stops.len();
            state
                .mail
                .stops
                .retain(|s| !(s.id == id && s.member == member));
            if state.mail.stops.len() == before {
                return Err(StoreError::NotFound);
            }
        }
    }
    Ok(())
}

#[async_trait]
impl UnitOfWork for MemoryStore {
    async fn apply(&self, changes: Changes) -> Result<(), StoreError> {
        let mut state = self.state();
        let mut draft = state.clone();
        let mut erased = Vec::new();
        for change in changes.into_vec() {
            apply_one(&mut draft, change, &mut erased)?;
        }
        *state = draft;
        drop(state);
        for member in erased {
            self.erase_consents(member);
        }
        Ok(())
    }
}

impl MemoryStore {
    /// Every mail that entered the outbox and has not been delivered, oldest first (tests).
    pub fn pending_mail(&self) -> Vec<Envelope> {
        self.state()
            .mail
            .outbox
            .values()
            .filter(|row| row.status == Status::Pending)
            .filter_map(|row| row.envelope.clone())
            .collect()
    }

    pub(crate) fn purge_mail(
        &self,
        settled_before: Timestamp,
        inquiries_before: Timestamp,
    ) -> (u64, u64, u64) {
        let mut state = self.state();
        let mail = &mut state.mail;
        let outbox = mail.outbox.len();
        mail.outbox.retain(|_, row| {
            row.status == Status::Pending || row.settled_at.is_none_or(|at| at >= settled_before)
        });
        let inquiries = mail.inquiries.len();
        mail.inquiries
            .retain(|_, i| i.received_at >= inquiries_before);
        let requests = mail.requests.len();
        mail.requests
            .retain(|_, r| r.received_at >= inquiries_before);
        (
            (outbox - mail.outbox.len()) as u64,
            (inquiries - mail.inquiries.len()) as u64,
            (requests - mail.requests.len()) as u64,
        )
    }
}

#[async_trait]
impl Outbox for MemoryStore {
    async fn claim(
        &self,
        claim: Uuid,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut state = self.state();
        let mut claimed = Vec::new();
        let mut order: Vec<(Timestamp, Timestamp, u64, Uuid)> = state
            .mail
            .outbox
            .iter()
            .map(|(id, row)| (row.next_attempt_at, row.created_at, row.seq, *id))
            .collect();
        order.sort();
        for (_, _, _, id) in order {
            if claimed.len() >= limit as usize {
                break;
            }
            let Some(row) = state.mail.outbox.get_mut(&id) else {
                continue;
            };
            let free = row.claim.is_none_or(|(_, until)| until <= now);
            if row.status != Status::Pending || row.next_attempt_at > now || !free {
                continue;
            }
            let Some(envelope) = &row.envelope else {
                continue;
            };
            row.attempts += 1;
            row.claim = Some((claim, now + lease));
            claimed.push(Claimed {
                id,
                member_id: row.member_id,
                mail: envelope.mail.clone(),
                attempts: row.attempts,
            });
        }
        Ok(claimed)
    }

    async fn settle(
        &self,
        id: Uuid,
        claim: Uuid,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(row) = state.mail.outbox.get_mut(&id) else {
            return Ok(false);
        };
        if row.status != Status::Pending || row.claim.map(|(c, _)| c) != Some(claim) {
            return Ok(false);
        }
        row.claim = None;
        match settlement {
            Settlement::Sent => {
                row.status = Status::Sent;
                row.envelope = None;
                row.settled_at = Some(now);
                row.last_error = None;
            }
            Settlement::Retry { at, error } => {
                row.next_attempt_at = at;
                row.last_error = Some(error);
            }
            Settlement::Failed { error } => {
                row.status = Status::Failed;
                // The address stays for operators; the content (tokens, text) goes.
                row.envelope = None;
                row.settled_at = Some(now);
                row.last_error = Some(error);
            }
        }
        Ok(true)
    }

    async fn counts(&self) -> Result<OutboxCounts, StoreError> {
        let state = self.state();
        let mut counts = OutboxCounts::default();
        for row in state.mail.outbox.values() {
            match row.status {
                Status::Pending => {
                    counts.pending += 1;
                    counts.oldest_due = Some(
                        counts
                            .oldest_due
                            .map_or(row.next_attempt_at, |o| o.min(row.next_attempt_at)),
                    );
                }
                Status::Sent => counts.sent += 1,
                Status::Failed => counts.failed += 1,
            }
        }
        Ok(counts)
    }
}

#[async_trait]
impl Inquiries for MemoryStore {
    async fn by_id(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        Ok(self.state().mail.inquiries.get(&id).cloned())
    }

    async fn by_message_id(&self, message_id: &str) -> Result<Option<Inquiry>, StoreError> {
        Ok(self
            .state()
            .mail
            .inquiries
            .values()
            .find(|i| i.message_id.as_deref() == Some(message_id))
            .cloned())
    }

    async fn list(&self, open_only: bool, limit: u32) -> Result<Vec<Inquiry>, StoreError> {
        Ok(self
            .state()
            .mail
            .inquiries
            .values()
            .rev()
            .filter(|i| !open_only || i.is_open())
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn for_member(&self, member: MemberId) -> Result<Vec<Inquiry>, StoreError> {
        Ok(self
            .state()
            .mail
            .inquiries
            .values()
            .filter(|i| i.member_id == Some(member))
            .cloned()
            .collect())
    }
}

#[async_trait]
impl kikeru_domain::privacy::ports::PrivacyRequests for MemoryStore {
    async fn request(&self, id: Uuid) -> Result<Option<PrivacyRequest>, StoreError> {
        Ok(self.state().mail.requests.get(&id).cloned())
    }

    async fn request_numbered(&self, number: &str) -> Result<Option<PrivacyRequest>, StoreError> {
        let state = self.state();
        Ok(state
            .mail
            .requests
            .values()
            .find(|r| r.number == number)
            .cloned())
    }

    async fn requests(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<PrivacyRequest>, StoreError> {
        let state = self.state();
        let mut found: Vec<PrivacyRequest> = state
            .mail
            .requests
            .values()
            .filter(|r| !open_only || !r.status.is_done())
            .cloned()
            .collect();
        found.sort_by_key(|r| std::cmp::Reverse((r.received_at, r.id)));
        found.truncate(limit as usize);
        Ok(found)
    }

    async fn requests_of(&self, member: MemberId) -> Result<Vec<PrivacyRequest>, StoreError> {
        let state = self.state();
        let mut found: Vec<PrivacyRequest> = state
            .mail
            .requests
            .values()
            .filter(|r| r.member == Some(member))
            .cloned()
            .collect();
        found.sort_by_key(|r| (r.received_at, r.id));
        Ok(found)
    }

    async fn stops_of(&self, member: MemberId) -> Result<Vec<Stop>, StoreError> {
        let state = self.state();
        let mut found: Vec<Stop> = state
            .mail
            .stops
            .iter()
            .filter(|s| s.member == member)
            .cloned()
            .collect();
        found.sort_by_key(|s| (s.from, s.id));
        Ok(found)
    }
}

#[async_trait]
impl kikeru_domain::privacy::policy::PolicyVersions for MemoryStore {
    async fn versions(
        &self,
    ) -> Result<Vec<kikeru_domain::privacy::policy::PolicyVersion>, StoreError> {
        Ok(self.state().mail.policies.values().cloned().collect())
    }
}
