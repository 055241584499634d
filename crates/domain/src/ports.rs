//! Ports: what the domain needs from the outside world, as object-safe `async_trait` traits.
//!
//! Each method states its contract as MUST / MUST NOT sentences; `kikeru-contract` has a
//! conformance case for each, and every adapter runs those cases.

use std::time::Duration;

use async_trait::async_trait;

use crate::passkey::Passkey;
use crate::second_factor::{RecoveryCodeHash, TotpEnrolment};
use crate::{
    Email, Language, Member, MemberId, OneTimeToken, Password, PasswordAttempt, PasswordHashString,
    SecurityEvent, Session, SessionId, SessionToken, Timestamp, TokenHash, TokenPurpose,
};

/// A storage port failed. Few, backend-neutral variants.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record to change does not exist.
    #[error("not found")]
    NotFound,
    /// The change would break a uniqueness rule (e.g. an e-mail address already taken).
    #[error("conflict with an existing record")]
    Conflict,
    /// The backend cannot be reached or is overloaded; retrying later may succeed.
    #[error("storage unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else; a bug or a corrupt record.
    #[error("storage failed")]
    Other(#[source] Box<dyn std::error::Error + Send + Sync>),
}

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

/// A hit counted by [`RateLimits::hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hits {
    /// Hits in the current window, including this one.
    pub count: u32,
    /// When the current window ends.
    pub window_ends_at: Timestamp,
}

/// Fixed-window counters shared by every node.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait RateLimits: Send + Sync + 'static {
    /// Counts a hit on `key` at `now`. When the key has no window, or its window ended at or
    /// before `now`, a new window of length `window` starts at `now` with a count of 1;
    /// otherwise the count grows by one.
    ///
    /// MUST be atomic: `n` concurrent hits in one window return the counts `1..=n` in some
    /// order.
    ///
    /// # Errors
    /// When storage fails.
    async fn hit(&self, key: &str, window: Duration, now: Timestamp) -> Result<Hits, StoreError>;

    /// The hits in the key's current window at `now` (a count of 0 when there is none),
    /// without counting one.
    ///
    /// # Errors
    /// When storage fails.
    async fn peek(&self, key: &str, now: Timestamp) -> Result<Hits, StoreError>;

    /// Forgets the key's window.
    ///
    /// # Errors
    /// When storage fails.
    async fn reset(&self, key: &str) -> Result<(), StoreError>;
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

/// What a mail says. Adapters render it in the recipient's language.
///
/// A message waits in the outbox until it is delivered, so it serializes (the outbox keeps
/// it as JSON, tagged by [`Message::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Prove your address (after registration).
    VerifyEmail {
        /// The token for the link.
        token: SessionToken,
    },
    /// Someone tried to register your address again. Carries a fresh verification token when
    /// the address is not yet verified.
    AlreadyRegistered {
        /// A verification token, for an unverified member.
        verify: Option<SessionToken>,
    },
    /// Prove your new address (after an e-mail change request).
    ConfirmEmailChange {
        /// The token for the link.
        token: SessionToken,
    },
    /// A change of address to another address was requested (sent to the old address).
    EmailChangeRequested,
    /// Your address was changed (sent to the old address).
    EmailChanged,
    /// Set a new password.
    PasswordReset {
        /// The token for the link.
        token: SessionToken,
    },
    /// Your password was changed or reset.
    PasswordChanged,
    /// Your account was deleted (sent to the address it had).
    AccountDeleted,
    /// Someone signed in to your account from a browser it had no session in.
    NewSignIn {
        /// The browser, as its user agent described itself (family and OS).
        browser: String,
        /// When.
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        at: Timestamp,
    },
    /// A second factor was added to your account (or your recovery codes were replaced).
    SecondFactorAdded {
        /// Which: `totp`, `passkey` or `recovery_code` (a new set of recovery codes).
        factor: String,
        /// Whether it was the first, so that every other session was signed out.
        #[serde(default)]
        others_signed_out: bool,
    },
    /// Your address was proven for the first time, and what was done in the account before
    /// (perhaps by someone who registered the address first) was undone.
    AccountSecured {
        /// How many sessions begun before it were ended.
        sessions_ended: u32,
        /// Whether second factors enrolled before it were removed.
        factors_removed: bool,
    },
    /// Many wrong second-factor codes followed your right password: someone may know it. The
    /// session that sent them was ended.
    SecondFactorFailures,
    /// A second factor was removed from your account (`all`: an operator removed every one
    /// at your request).
    SecondFactorRemoved {
        /// Which: `totp`, `passkey`, or `all`.
        factor: String,
    },
    /// Your order is paid: the receipt.
    Receipt(Receipt),
    /// Your personal data may have leaked (個人情報保護法 第26条第2項).
    IncidentNotice {
        /// The incident's reference, to quote when asking about it.
        reference: String,
        /// When it was discovered.
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        discovered_at: Timestamp,
        /// The categories of data concerned (stable names).
        categories: Vec<String>,
        /// Whether passwords, second-factor secrets or payment data are concerned.
        credentials_or_payment: bool,
        /// Whether a malicious act is suspected.
        malicious_suspected: bool,
    },
    /// We received your inquiry. It quotes nothing the sender typed: the form can name any
    /// address, and the acknowledgement must not carry a stranger's words to it.
    InquiryReceived {
        /// The inquiry's reference, to quote in a reply.
        reference: String,
    },
    /// An operator answered your inquiry.
    InquiryAnswered {
        /// The inquiry's reference.
        reference: String,
        /// Its subject.
        subject: String,
        /// The answer.
        answer: String,
    },
}

/// What a receipt lists, in the recipient's language, as the order was paid.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The order.
    pub order_id: uuid::Uuid,
    /// When it was paid.
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub paid_at: Timestamp,
    /// What was bought.
    pub lines: Vec<ReceiptLine>,
    /// The tax-inclusive total, in minor units.
    pub total_minor: i64,
    /// The currency (ISO 4217).
    pub currency: String,
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptLine {
    /// The title, in the recipient's language.
    pub title: String,
    /// The tax-inclusive unit price, in minor units.
    pub unit_price_minor: i64,
    /// How many.
    pub quantity: u32,
}

impl Message {
    /// A stable name for the kind of message (templates, logs, tests).
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::VerifyEmail { .. } => "verify_email",
            Self::AlreadyRegistered { .. } => "already_registered",
            Self::ConfirmEmailChange { .. } => "confirm_email_change",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::PasswordReset { .. } => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted => "account_deleted",
            Self::NewSignIn { .. } => "new_sign_in",
            Self::SecondFactorAdded { .. } => "second_factor_added",
            Self::AccountSecured { .. } => "account_secured",
            Self::SecondFactorFailures => "second_factor_failures",
            Self::SecondFactorRemoved { .. } => "second_factor_removed",
            Self::Receipt(_) => "receipt",
            Self::IncidentNotice { .. } => "incident_notice",
            Self::InquiryReceived { .. } => "inquiry_received",
            Self::InquiryAnswered { .. } => "inquiry_answered",
        }
    }
}

/// A mail to one person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    /// The recipient.
    pub to: Email,
    /// The language to write it in.
    pub language: Language,
    /// What it says.
    pub message: Message,
}

/// Handing a mail over failed.
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// It may succeed later (the server is down, busy, or answered 4xx): retry.
    #[error("mail could not be sent now")]
    Temporary(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// It never will (the server refused the message or the recipient with 5xx): give up.
    #[error("mail was refused")]
    Permanent(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl MailError {
    /// Whether retrying cannot help.
    pub const fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Outgoing mail (the mail provider is an entrusted processor: it receives the address and
/// the message, nothing else). Use cases never call it: they put mail in the outbox with
/// their state change, and the [`crate::outbox::Postman`] hands it over.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Sends one mail. MUST either hand it over durably or fail; MUST say whether a failure
    /// is [`MailError::Permanent`].
    ///
    /// # Errors
    /// [`MailError`] when it could not be handed over.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// The time.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> Timestamp;
}

/// Randomness from a cryptographically secure source.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
pub trait Random: Send + Sync + 'static {
    /// 32 unpredictable bytes.
    fn bytes32(&self) -> [u8; 32];
}

/// What a sealed value is for. Each purpose seals under a key of its own (derived from the
/// configured one), so that a value sealed for one never opens as the other: a token handed to
/// a visitor can never be read as a stored secret, nor the reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SealPurpose {
    /// A secret kept in storage (an authenticator app's shared secret).
    StoredSecret,
    /// A value handed to a visitor and brought back (a passkey ceremony).
    VisitorToken,
}

/// Encrypts small secrets (an authenticator app's shared secret, a passkey ceremony handed to
/// the browser), each bound to what it belongs to (`context`, e.g. the member's ID), with keys
/// the domain never sees; and makes keyed digests of secrets that are only ever compared.
/// Keys can be rotated: what a previous key sealed still opens, and is then stale.
pub trait Sealer: Send + Sync + 'static {
    /// `plain`, encrypted and authenticated under the current key for `purpose`, bound to
    /// `context`.
    ///
    /// # Errors
    /// [`SealError`] when the cipher fails (it does not for a valid key).
    fn seal(
        &self,
        purpose: SealPurpose,
        plain: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    /// What [`Sealer::seal`] encrypted for `purpose` and `context` under any key the sealer
    /// still holds (the current one, or one being rotated out).
    ///
    /// # Errors
    /// [`SealError`] when it was changed, made with a key no longer held, for another purpose
    /// or for another context.
    fn open(
        &self,
        purpose: SealPurpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, SealError>;

    /// Whether `sealed` was sealed under a key other than the current one (or in an older
    /// form): it opens, but should be sealed again.
    fn is_stale(&self, sealed: &[u8]) -> bool;

    /// Keyed digests of `data`, for secrets that are only ever compared, never read back
    /// (recovery codes): the current key's first — what to store — then one per key being
    /// rotated out. A stored digest matches when it equals any of them.
    fn digests(&self, data: &[u8]) -> Vec<[u8; 32]>;
}

/// A sealed secret cannot be opened (or a secret cannot be sealed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sealed secret cannot be opened with this key")]
pub struct SealError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_the_outbox_as_json() {
        let token = SessionToken::from_bytes([7; 32]);
        let at = time::macros::datetime!(2026-04-01 09:00:00.123 UTC);
        let messages = [
            Message::VerifyEmail {
                token: token.clone(),
            },
            Message::AlreadyRegistered { verify: None },
            Message::AlreadyRegistered {
                verify: Some(token.clone()),
            },
            Message::ConfirmEmailChange {
                token: token.clone(),
            },
            Message::EmailChangeRequested,
            Message::EmailChanged,
            Message::PasswordReset { token },
            Message::PasswordChanged,
            Message::AccountDeleted,
            Message::NewSignIn {
                browser: "Firefox 128 / Linux".into(),
                at,
            },
            Message::SecondFactorAdded {
                factor: "totp".into(),
                others_signed_out: true,
            },
            Message::AccountSecured {
                sessions_ended: 2,
                factors_removed: true,
            },
            Message::SecondFactorFailures,
            Message::SecondFactorRemoved {
                factor: "all".into(),
            },
            Message::Receipt(Receipt {
                order_id: uuid::Uuid::from_u128(5),
                paid_at: at,
                lines: vec![ReceiptLine {
                    title: "朝の鳥の声".into(),
                    unit_price_minor: 1100,
                    quantity: 1,
                }],
                total_minor: 1100,
                currency: "JPY".into(),
            }),
            Message::InquiryReceived {
                reference: "Q-1".into(),
            },
            Message::InquiryAnswered {
                reference: "Q-1".into(),
                subject: "返金".into(),
                answer: "承知しました".into(),
            },
        ];
        for message in messages {
            let json = serde_json::to_string(&message).unwrap();
            assert!(json.contains(message.kind()), "{json}");
            let back: Message = serde_json::from_str(&json).unwrap();
            assert_eq!(back, message, "{json}");
        }
    }
}
