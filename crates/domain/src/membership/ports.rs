//! Ports of membership: members, sessions, one-time tokens, second factors, the security
//! history, password hashing and passkey ceremonies.
//!
//! Each method states its contract as MUST / MUST NOT sentences; `kikeru-contract` has a
//! conformance case for each, and every adapter runs those cases.

use async_trait::async_trait;

use crate::membership::passkey::{
    AssertionResponse, NewCredential, Passkey, PasskeyError, RegistrationResponse,
    VerifiedAssertion,
};
use crate::membership::second_factor::{RecoveryCodeHash, TotpEnrolment};
use crate::{
    Email, Member, MemberId, OneTimeToken, Password, PasswordAttempt, PasswordHashString,
    SecurityEvent, Session, SessionId, StoreError, Timestamp, TokenHash, TokenPurpose,
};

/// The members, by ID and by address.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Members: Send + Sync + 'static {
    /// Stores a new member.
    ///
    /// MUST store every field so that [`Members::by_id`] returns an equal member.
    /// MUST refuse a member whose address another member has, even when both are inserted at
    /// the same moment from different nodes: exactly one succeeds.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the ID or the address is taken.
    async fn insert(&self, member: &Member) -> Result<(), StoreError>;

    /// The member with this ID, if any.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] or [`StoreError::Other`] when storage fails.
    async fn by_id(&self, id: MemberId) -> Result<Option<Member>, StoreError>;

    /// The member with this (normalised) address, if any.
    ///
    /// # Errors
    /// As [`Members::by_id`].
    async fn by_email(&self, email: &Email) -> Result<Option<Member>, StoreError>;

    /// Replaces every field of the stored member with the same ID.
    ///
    /// MUST refuse an address another member has.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when there is no such member; [`StoreError::Conflict`] when the
    /// new address is taken.
    async fn update(&self, member: &Member) -> Result<(), StoreError>;
}

/// Erasing a member who deletes their account.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Erasure: Send + Sync + 'static {
    /// Erases the member's personal data in one transaction: the account (address, password
    /// hash, name), sessions, mailed tokens, consent history and security events.
    ///
    /// MUST keep orders, payments and the disclosure ledger, which then name only the member
    /// ID — an identifier nothing links to a person any more. MUST free the address for a new
    /// registration.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown member; nothing is erased on any error.
    async fn erase(&self, member: MemberId) -> Result<(), StoreError>;
}

/// Server-side sessions, found by the hash of their token.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the ID or token hash exists already.
    async fn insert(&self, session: &Session) -> Result<(), StoreError>;

    /// The session whose token has this hash, if any. MUST NOT match any other hash.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_token_hash(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError>;

    /// Records that the session was used at `at`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the session is gone.
    async fn touch(&self, id: SessionId, at: Timestamp) -> Result<(), StoreError>;

    /// The member's sessions, newest first. MUST NOT include other members' sessions.
    ///
    /// # Errors
    /// When storage fails.
    async fn for_member(&self, member: MemberId) -> Result<Vec<Session>, StoreError>;

    /// Deletes one session; returns whether it existed. MUST make the token unusable at once.
    ///
    /// # Errors
    /// When storage fails.
    async fn delete(&self, id: SessionId) -> Result<bool, StoreError>;

    /// Deletes all of the member's sessions except `keep`; returns how many were deleted.
    /// MUST NOT touch other members' sessions.
    ///
    /// # Errors
    /// When storage fails.
    async fn delete_for_member(
        &self,
        member: MemberId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError>;
}

/// Single-use tokens sent by mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Tokens: Send + Sync + 'static {
    /// Stores a new token.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the hash exists already.
    async fn insert(&self, token: &OneTimeToken) -> Result<(), StoreError>;

    /// The token with this hash, if any, without using it up.
    ///
    /// # Errors
    /// When storage fails.
    async fn find(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError>;

    /// Removes the token with this hash and returns it. MUST return it to one caller only,
    /// even when many take it at the same moment.
    ///
    /// # Errors
    /// When storage fails.
    async fn take(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError>;

    /// Deletes the member's tokens of one purpose (a new one replaces them); returns how many.
    ///
    /// # Errors
    /// When storage fails.
    async fn delete_for_member(
        &self,
        member: MemberId,
        purpose: TokenPurpose,
    ) -> Result<u64, StoreError>;
}

/// The audit log of security events. Append-only.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait AuditLog: Send + Sync + 'static {
    /// Appends an event.
    ///
    /// # Errors
    /// When storage fails.
    async fn record(&self, event: &SecurityEvent) -> Result<(), StoreError>;

    /// The member's most recent events, newest first, at most `limit`. MUST NOT include other
    /// members' events.
    ///
    /// # Errors
    /// When storage fails.
    async fn for_member(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, StoreError>;
}

/// The second factors members enrolled. Writes go through the unit of work
/// ([`crate::changes::Change`]), so that each is atomic with its audit event and notice mail.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait SecondFactors: Send + Sync + 'static {
    /// The member's authenticator app, enrolled or pending, if any. MUST NOT return another
    /// member's.
    ///
    /// # Errors
    /// When storage fails.
    async fn totp(&self, member: MemberId) -> Result<Option<TotpEnrolment>, StoreError>;

    /// Authenticator apps of every member, enrolled or pending, in the order of the members'
    /// IDs: at most `limit` after the member `after` (from the first when `None`). For sealing
    /// their secrets again under a new key.
    ///
    /// # Errors
    /// When storage fails.
    async fn totp_enrolments(
        &self,
        after: Option<MemberId>,
        limit: u32,
    ) -> Result<Vec<TotpEnrolment>, StoreError>;

    /// The hashes of the member's unused recovery codes. MUST NOT include used codes, codes of
    /// a replaced set, or other members' codes.
    ///
    /// # Errors
    /// When storage fails.
    async fn recovery_codes(&self, member: MemberId) -> Result<Vec<RecoveryCodeHash>, StoreError>;

    /// The member's passkeys, oldest first. MUST NOT include other members'.
    ///
    /// # Errors
    /// When storage fails.
    async fn passkeys(&self, member: MemberId) -> Result<Vec<Passkey>, StoreError>;

    /// The passkey with this credential ID, whoever's it is.
    ///
    /// # Errors
    /// When storage fails.
    async fn passkey_by_credential(
        &self,
        credential_id: &[u8],
    ) -> Result<Option<Passkey>, StoreError>;
}

/// The outcome of [`PasswordHasher::verify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    /// The password is right; `needs_rehash` when the hash uses weaker parameters than the
    /// hasher's current ones.
    Match {
        /// Whether to store a fresh hash.
        needs_rehash: bool,
    },
    /// The password is wrong (or there was no hash to check it against).
    Mismatch,
}

/// Hashing failed (not a wrong password: a bug, a corrupt hash or an exhausted pool).
#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct HasherError(#[source] pub Box<dyn std::error::Error + Send + Sync>);

/// A slow, salted password hash (argon2id in the shipped adapter).
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait PasswordHasher: Send + Sync + 'static {
    /// Hashes a new password into a PHC string with a fresh random salt. MUST NOT block the
    /// async executor.
    ///
    /// # Errors
    /// [`HasherError`] when hashing fails.
    async fn hash(&self, password: &Password) -> Result<PasswordHashString, HasherError>;

    /// Checks an attempt against a stored hash. With no hash (an unknown member) it MUST spend
    /// about the time of a real check and answer [`Verification::Mismatch`], so that timing
    /// does not tell whether an account exists. MUST NOT block the async executor.
    ///
    /// # Errors
    /// [`HasherError`] when the check cannot be made.
    async fn verify(
        &self,
        attempt: &PasswordAttempt,
        hash: Option<PasswordHashString>,
    ) -> Result<Verification, HasherError>;
}

/// Verifies WebAuthn ceremonies for the configured relying party (its ID and origin).
pub trait PasskeyVerifier: Send + Sync + 'static {
    /// The relying-party ID (a domain, e.g. `kikeru.example.jp`).
    fn rp_id(&self) -> &str;

    /// Checks a registration answer against `challenge`: the client data (type, challenge,
    /// origin), the authenticator data (relying-party ID hash, user present and verified,
    /// attested credential data) and the credential's public key (a supported COSE key).
    ///
    /// # Errors
    /// [`PasskeyError`] naming the first problem.
    fn verify_registration(
        &self,
        challenge: &[u8],
        response: &RegistrationResponse,
    ) -> Result<NewCredential, PasskeyError>;

    /// Checks an assertion against `challenge` and the stored `public_key`; on success, the
    /// signature counter and backup flags the authenticator reported (a backed-up credential
    /// must also be eligible for backup).
    ///
    /// # Errors
    /// [`PasskeyError`] naming the first problem.
    fn verify_assertion(
        &self,
        challenge: &[u8],
        public_key: &[u8],
        response: &AssertionResponse,
    ) -> Result<VerifiedAssertion, PasskeyError>;
}
