//! A use case's writes as one unit: every change it decided on, applied all together or not at
//! all. Mail travels the same way — a message is put in the outbox in the same transaction as
//! the state change it tells about, so that no change goes unannounced and no mail announces a
//! change that did not happen.

use async_trait::async_trait;

use crate::mail::outbox::Envelope;
use crate::membership::passkey::{Passkey, PasskeyId};
use crate::membership::second_factor::{Assurance, RecoveryCodeHash, TotpEnrolment};
use crate::office::inquiry::model::{Answer, Inquiry, InquiryId};
use crate::{
    Member, MemberId, OneTimeToken, SecurityEvent, Session, SessionId, StoreError, Timestamp,
    TokenHash, TokenPurpose,
};

/// One write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Stores a new member; [`StoreError::Conflict`] when the address or ID is taken.
    InsertMember(Member),
    /// Replaces every field of a member; [`StoreError::NotFound`] for an unknown member,
    /// [`StoreError::Conflict`] when the new address is taken.
    UpdateMember(Member),
    /// Stores a new mailed token.
    InsertToken(OneTimeToken),
    /// Deletes the member's tokens of one purpose.
    DeleteTokens {
        /// Whose.
        member: MemberId,
        /// Which purpose.
        purpose: TokenPurpose,
    },
    /// Uses a token up; [`StoreError::NotFound`] when it is gone (another request used it):
    /// then nothing of the unit is applied.
    TakeToken(TokenHash),
    /// Stores a new session.
    InsertSession(Session),
    /// Deletes one session (nothing when it is gone).
    DeleteSession(SessionId),
    /// Deletes the member's sessions except `keep`.
    DeleteSessions {
        /// Whose.
        member: MemberId,
        /// The one to keep.
        keep: Option<SessionId>,
    },
    /// Records how a session was authenticated; [`StoreError::NotFound`] when it is gone.
    UpdateAssurance {
        /// Which session.
        session: SessionId,
        /// Its new assurance.
        assurance: Assurance,
        /// Whether the member has a second factor the session must pass.
        second_factor_enrolled: bool,
    },
    /// Stores the member's authenticator app, replacing any earlier one (pending or not).
    PutTotp(TotpEnrolment),
    /// Completes the member's enrolment at `at` with the code of `step`;
    /// [`StoreError::NotFound`] when there is no enrolment.
    ConfirmTotp {
        /// Whose.
        member: MemberId,
        /// When.
        at: Timestamp,
        /// The step of the code that confirmed it (used up).
        step: i64,
    },
    /// Uses up the codes up to `step` of the member's confirmed app;
    /// [`StoreError::Conflict`] when a code of that step or later was used already (two
    /// requests with the same code: one wins), [`StoreError::NotFound`] without a confirmed
    /// app.
    UseTotpStep {
        /// Whose.
        member: MemberId,
        /// The step of the accepted code.
        step: i64,
    },
    /// Replaces the sealed secret of the member's authenticator app with the same secret sealed
    /// again (a key rotation), only while it is still `from`: [`StoreError::NotFound`] when it
    /// changed meanwhile (a new enrolment) or is gone. Nothing else of it changes.
    ResealTotp {
        /// Whose.
        member: MemberId,
        /// The sealed secret as read.
        from: Vec<u8>,
        /// The same secret sealed under the current key.
        to: Vec<u8>,
    },
    /// Removes the member's authenticator app (nothing when there is none).
    DeleteTotp(MemberId),
    /// Replaces the member's recovery codes with a new set (the old set stops working).
    ReplaceRecoveryCodes {
        /// Whose.
        member: MemberId,
        /// The hashes of the new codes.
        codes: Vec<RecoveryCodeHash>,
        /// When they were made.
        at: Timestamp,
    },
    /// Uses up one recovery code; [`StoreError::NotFound`] when the member has no such unused
    /// code (another request used it first).
    UseRecoveryCode {
        /// Whose.
        member: MemberId,
        /// The code's hash.
        code: RecoveryCodeHash,
    },
    /// Removes the member's recovery codes.
    DeleteRecoveryCodes(MemberId),
    /// Stores a new passkey; [`StoreError::Conflict`] when its ID or credential ID is known.
    InsertPasskey(Passkey),
    /// Renames one of the member's passkeys; [`StoreError::NotFound`] when the member has no
    /// such passkey.
    RenamePasskey {
        /// Whose.
        member: MemberId,
        /// Which.
        id: PasskeyId,
        /// The new name.
        name: String,
    },
    /// Removes one of the member's passkeys; [`StoreError::NotFound`] when the member has no
    /// such passkey.
    DeletePasskey {
        /// Whose.
        member: MemberId,
        /// Which.
        id: PasskeyId,
    },
    /// Removes every passkey of the member.
    DeletePasskeys(MemberId),
    /// Records a use of a passkey with the counter it reported: [`StoreError::Conflict`]
    /// unless the counter grew (or both are 0, an authenticator without one) — two uses of one
    /// assertion cannot both pass; [`StoreError::NotFound`] when it is gone.
    UsePasskey {
        /// Which.
        id: PasskeyId,
        /// The reported counter.
        sign_count: u32,
        /// When.
        at: Timestamp,
        /// The BE flag reported (recorded when the passkey had none yet).
        backup_eligible: bool,
        /// The BS flag reported.
        backed_up: bool,
    },
    /// Appends a security event.
    Record(SecurityEvent),
    /// Erases the member's personal data (see [`crate::membership::ports::Erasure::erase`]).
    Erase(MemberId),
    /// Puts a mail in the outbox.
    Send(Envelope),
    /// Stores a new inquiry; [`StoreError::Conflict`] when its ID, reference or mail message
    /// ID is known already (a redelivered mail).
    InsertInquiry(Inquiry),
    /// Records how far an incident's notice has gone: the cursor moves from `from` to `to`
    /// and `sent` more notices count; [`StoreError::Conflict`] unless the stored cursor is
    /// `from` (another run went on first) or the notice is not approved, or is done already;
    /// [`StoreError::NotFound`] for an unknown incident.
    NoticeProgress {
        /// Which incident.
        incident: crate::office::incident::model::IncidentId,
        /// Where the batch started.
        from: Option<MemberId>,
        /// The last member of the batch.
        to: Option<MemberId>,
        /// How many notices the batch put in the outbox.
        sent: u64,
        /// Whether this was the last batch.
        done: bool,
    },
    /// Stores a request under APPI: a new one at version 1 ([`StoreError::Conflict`] when its
    /// ID or number is known), otherwise over the version before it ([`StoreError::Conflict`]
    /// when the stored one is not `version - 1`: someone changed it first;
    /// [`StoreError::NotFound`] when it is gone).
    PutRequest(crate::privacy::requests::PrivacyRequest),
    /// Publishes a version of the privacy policy; [`StoreError::Conflict`] when its number is
    /// known.
    PublishPolicy(crate::privacy::policy::PolicyVersion),
    /// Records how far the notice of a policy version has gone: the cursor moves from `from`
    /// to `to` (to none once `done`: a finished notice keeps no member's ID) and `sent` more
    /// notices count; [`StoreError::Conflict`] unless the stored cursor is `from` and the notice
    /// is not done; [`StoreError::NotFound`] for an unknown version.
    PolicyNoticeProgress {
        /// Which version.
        number: u32,
        /// Where the batch started.
        from: Option<MemberId>,
        /// The last member of the batch.
        to: Option<MemberId>,
        /// How many notices the batch put in the outbox.
        sent: u64,
        /// Whether this was the last batch.
        done: bool,
    },
    /// Puts a cessation in force; [`StoreError::Conflict`] when its ID is known.
    InsertStop(crate::privacy::requests::Stop),
    /// Ends one of the member's cessations; [`StoreError::NotFound`] when the member has no
    /// such cessation.
    LiftStop {
        /// Whose.
        member: MemberId,
        /// Which.
        id: uuid::Uuid,
    },
    /// Adds an operator's answer to an inquiry; [`StoreError::NotFound`] for an unknown one.
    AnswerInquiry {
        /// Which inquiry.
        inquiry: InquiryId,
        /// The answer.
        answer: Answer,
    },
}

/// The writes of one use case, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changes(Vec<Change>);

impl Changes {
    /// No changes yet.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Adds a change.
    pub fn push(&mut self, change: Change) -> &mut Self {
        self.0.push(change);
        self
    }

    /// The changes, in order.
    pub fn as_slice(&self) -> &[Change] {
        &self.0
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mails among the changes.
    pub fn mails(&self) -> impl Iterator<Item = &Envelope> {
        self.0.iter().filter_map(|c| match c {
            Change::Send(envelope) => Some(envelope),
            _ => None,
        })
    }

    /// Takes the changes out.
    pub fn into_vec(self) -> Vec<Change> {
        self.0
    }
}

impl From<Vec<Change>> for Changes {
    fn from(changes: Vec<Change>) -> Self {
        Self(changes)
    }
}

/// Applies a use case's changes atomically.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait UnitOfWork: Send + Sync + 'static {
    /// Applies every change, in order, in one transaction.
    ///
    /// MUST apply all of them or none: when one fails (a conflict, a token already used, a
    /// storage failure) nothing of the unit is kept — in particular no mail of it enters the
    /// outbox. MUST apply each change with the same rules as the single-port method it
    /// mirrors.
    ///
    /// # Errors
    /// The first change's error, as documented on [`Change`]; [`StoreError::Unavailable`] or
    /// [`StoreError::Other`] when storage fails.
    async fn apply(&self, changes: Changes) -> Result<(), StoreError>;
}
