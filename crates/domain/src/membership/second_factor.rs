//! Stronger sign-in, pure: authenticator-app codes (TOTP, RFC 6238), single-use recovery codes,
//! and the assurance a session carries — how it was authenticated and when — with the rules
//! that decide whether it is signed in at all and whether it may make a sensitive change.
//!
//! Nothing here reads a clock or a random source: the time and the random bytes come from the
//! caller (the [`crate::kernel::ports::Clock`] and [`crate::kernel::ports::Random`] ports), so every rule is
//! tested with an injected clock.

use std::fmt;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::Timestamp;

/// The length of a TOTP time step (RFC 6238's default).
pub const TOTP_STEP: Duration = Duration::from_secs(30);

/// The digits of a TOTP code, as authenticator apps show them.
pub const TOTP_DIGITS: u32 = 6;

/// Codes are accepted from this many steps before or after the current one (clock drift and
/// the time it takes to type).
pub const TOTP_SKEW_STEPS: i64 = 1;

/// How recent an authentication must be for a sensitive change, unless configured otherwise.
pub const RECENT_AUTHENTICATION: Duration = Duration::from_secs(10 * 60);

/// How many recovery codes a member gets at a time.
pub const RECOVERY_CODES: usize = 10;

/// The shared secret of an authenticator app: 20 random bytes (160 bits, RFC 4226's
/// recommendation for HMAC-SHA-1). Stored encrypted by the adapter; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret([u8; 20]);

impl TotpSecret {
    /// Wraps 20 random bytes (from the [`crate::kernel::ports::Random`] port, or decrypted storage).
    pub const fn from_bytes(bytes: [u8; 20]) -> Self {
        Self(bytes)
    }

    /// A secret from the first 20 of 32 random bytes.
    pub fn from_random(bytes: [u8; 32]) -> Self {
        let mut secret = [0; 20];
        secret.copy_from_slice(&bytes[..20]);
        Self(secret)
    }

    /// The bytes, for encryption at rest.
    pub const fn as_bytes(&self) -> &[u8; 20] {
        &self.0
    }

    /// The secret as unpadded base32 (RFC 4648), the form authenticator apps accept when it is
    /// typed in: 32 characters.
    pub fn base32(&self) -> String {
        data_encoding::BASE32_NOPAD.encode(&self.0)
    }

    /// The `otpauth://` URI an authenticator app reads from a QR code. `issuer` and `account`
    /// (the member's address) label the entry in the app.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let issuer = percent_encode(issuer);
        format!(
            "otpauth://totp/{issuer}:{}?secret={}&issuer={issuer}&algorithm=SHA1&digits={TOTP_DIGITS}&period={}",
            percent_encode(account),
            self.base32(),
            TOTP_STEP.as_secs()
        )
    }

    /// The code for `at`.
    pub fn code_at(&self, at: Timestamp) -> String {
        let code = hotp(&self.0, step_of(at).cast_unsigned(), TOTP_DIGITS);
        format!("{code:0width$}", width = TOTP_DIGITS as usize)
    }

    /// Checks a code typed at `now`. `last_used_step` is the step of the last code accepted
    /// for this secret: that code, and any older one, is refused (RFC 6238 §5.2: a code is
    /// good once). On success, the step to remember as the last used.
    ///
    /// # Errors
    /// [`TotpError::Malformed`] when the text is not six digits (spaces are ignored),
    /// [`TotpError::Wrong`] when no step in the window has this code,
    /// [`TotpError::Replayed`] when the code was good but is used up.
    pub fn verify(
        &self,
        code: &str,
        now: Timestamp,
        last_used_step: Option<i64>,
    ) -> Result<i64, TotpError> {
        let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if digits.len() != TOTP_DIGITS as usize || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TotpError::Malformed);
        }
        let typed: u32 = digits.parse().map_err(|_| TotpError::Malformed)?;
        let current = step_of(now);
        // Every step of the window is computed and compared, so the time taken does not tell
        // which one matched.
        let mut matched = None;
        for step in current - TOTP_SKEW_STEPS..=current + TOTP_SKEW_STEPS {
            let expected = hotp(&self.0, step.cast_unsigned(), TOTP_DIGITS);
            if constant_time_eq(expected, typed) && matched.is_none() {
                matched = Some(step);
            }
        }
        match (matched, last_used_step) {
            (None, _) => Err(TotpError::Wrong),
            (Some(step), Some(last)) if step <= last => Err(TotpError::Replayed),
            (Some(step), _) => Ok(step),
        }
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

/// A TOTP code was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// Not six digits.
    #[error("a code is six digits")]
    Malformed,
    /// Not the code of this moment.
    #[error("the code is not correct")]
    Wrong,
    /// The code was accepted before; a code is good once.
    #[error("the code was used already; wait for the next one")]
    Replayed,
}

/// The number of the time step `at` falls in (seconds since the Unix epoch ÷ 30).
pub fn step_of(at: Timestamp) -> i64 {
    at.unix_timestamp()
        .div_euclid(TOTP_STEP.as_secs().cast_signed())
}

/// HOTP (RFC 4226 §5.3): HMAC-SHA-1 of the counter, dynamically truncated to `digits` digits.
fn hotp(key: &[u8], counter: u64, digits: u32) -> u32 {
    let Ok(mut mac) = Hmac::<sha1::Sha1>::new_from_slice(key) else {
        // HMAC takes keys of any length; this arm is never taken.
        return u32::MAX;
    };
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

fn constant_time_eq(a: u32, b: u32) -> bool {
    std::hint::black_box(a ^ b) == 0
}

/// Percent-encodes everything but unreserved characters (RFC 3986), for the `otpauth` URI.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A single-use recovery code: 80 random bits, shown once as four groups of four base32
/// characters (`ABCD-EFGH-IJKL-MNOP`). Only its hash is stored; its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct RecoveryCode([u8; 10]);

/// The text is not a recovery code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a recovery code is 16 letters and digits, as shown when it was made")]
pub struct MalformedRecoveryCode;

impl RecoveryCode {
    /// Wraps 10 random bytes.
    pub const fn from_bytes(bytes: [u8; 10]) -> Self {
        Self(bytes)
    }

    /// A fresh set of [`RECOVERY_CODES`] codes from a random source (32 bytes a call; the
    /// first 10 of each call make one code).
    pub fn new_set(mut random: impl FnMut() -> [u8; 32]) -> Vec<Self> {
        (0..RECOVERY_CODES)
            .map(|_| {
                let bytes = random();
                let mut code = [0; 10];
                code.copy_from_slice(&bytes[..10]);
                Self(code)
            })
            .collect()
    }

    /// Reads a code as a member types it: case, spaces and dashes do not matter.
    ///
    /// # Errors
    /// [`MalformedRecoveryCode`].
    pub fn parse(text: &str) -> Result<Self, MalformedRecoveryCode> {
        let compact: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if compact.len() != 16 {
            return Err(MalformedRecoveryCode);
        }
        let bytes = data_encoding::BASE32_NOPAD
            .decode(compact.as_bytes())
            .map_err(|_| MalformedRecoveryCode)?;
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| MalformedRecoveryCode)
    }

    /// The code as shown to the member, once.
    pub fn expose(&self) -> String {
        let text = data_encoding::BASE32_NOPAD.encode(&self.0);
        let groups: Vec<&str> = (0..4).map(|i| &text[i * 4..i * 4 + 4]).collect();
        groups.join("-")
    }

    /// The code's 10 bytes, for a keyed digest ([`crate::kernel::ports::Sealer::digests`]): what
    /// storage keeps. 80 random bits need no slow hash, but a keyed one: a copy of the
    /// database alone cannot test a guess.
    pub const fn as_bytes(&self) -> &[u8; 10] {
        &self.0
    }

    /// The unsalted SHA-256 that codes made before keyed digests were stored as: still
    /// accepted, until used or replaced by a new set.
    pub fn legacy_hash(&self) -> RecoveryCodeHash {
        RecoveryCodeHash(Sha256::digest(self.0).into())
    }
}

impl fmt::Debug for RecoveryCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RecoveryCode(<redacted>)")
    }
}

/// The stored hash of a [`RecoveryCode`].
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct RecoveryCodeHash([u8; 32]);

impl RecoveryCodeHash {
    /// Wraps a stored hash.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for RecoveryCodeHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecoveryCodeHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// How a member proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Factor {
    /// The account's password.
    Password,
    /// A passkey with user verification (something held and a PIN or biometric: two factors
    /// in one).
    Passkey,
    /// A code from the authenticator app.
    Totp,
    /// A single-use recovery code.
    RecoveryCode,
}

impl Factor {
    /// The stable name (storage, audit, API).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Password => "password",
            Self::Passkey => "passkey",
            Self::Totp => "totp",
            Self::RecoveryCode => "recovery_code",
        }
    }

    /// The factor with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [
            Self::Password,
            Self::Passkey,
            Self::Totp,
            Self::RecoveryCode,
        ]
        .into_iter()
        .find(|f| f.as_str() == name)
    }

    /// Whether this factor can complete a sign-in begun with a password.
    pub const fn is_second(self) -> bool {
        matches!(self, Self::Passkey | Self::Totp | Self::RecoveryCode)
    }
}

/// How a session was authenticated, as it records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assurance {
    /// The factor the sign-in began with.
    pub first: Factor,
    /// The second factor passed, if any.
    pub second: Option<Factor>,
    /// When the member last proved who they are in this session (sign-in, second factor or
    /// re-authentication).
    pub authenticated_at: Timestamp,
}

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Signed in.
    SignedIn,
    /// The password was right, but the member enrolled a second factor and has not passed it
    /// yet: the session may only pass it (or sign out).
    SecondFactorPending,
}

/// Why a sensitive change needs the member to authenticate again: a machine-readable reason
/// for the API's 403, so a client knows what to ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StepUp {
    /// The session has not passed the member's second factor.
    #[error("pass your second factor first")]
    SecondFactorRequired,
    /// The last authentication is older than the recent-authentication window.
    #[error("confirm it is you: sign in again to make this change")]
    ReauthenticationRequired,
}

impl StepUp {
    /// The stable code (`second_factor_required`, `reauthentication_required`).
    pub const fn code(self) -> &'static str {
        match self {
            Self::SecondFactorRequired => "second_factor_required",
            Self::ReauthenticationRequired => "reauthentication_required",
        }
    }
}

impl Assurance {
    /// A sign-in that began with `first` at `at`.
    pub const fn signed_in(first: Factor, at: Timestamp) -> Self {
        Self {
            first,
            second: None,
            authenticated_at: at,
        }
    }

    /// The session after passing `second` at `at`.
    #[must_use]
    pub const fn with_second(self, second: Factor, at: Timestamp) -> Self {
        Self {
            first: self.first,
            second: Some(second),
            authenticated_at: at,
        }
    }

    /// The session after the member proved who they are again at `at` (a password or a
    /// passkey, plus the second factor when they have one).
    #[must_use]
    pub const fn reauthenticated(self, at: Timestamp) -> Self {
        Self {
            authenticated_at: at,
            ..self
        }
    }

    /// What the session may do, for a member who has (`enrolled`) or has not a second factor.
    /// A passkey with user verification is two factors in one.
    pub fn access(&self, enrolled: bool) -> Access {
        if !enrolled || self.first == Factor::Passkey || self.second.is_some_and(Factor::is_second)
        {
            Access::SignedIn
        } else {
            Access::SecondFactorPending
        }
    }

    /// Whether the session may make a sensitive change (e-mail, password, second factors and
    /// passkeys, data export, account deletion) at `now`: signed in, and authenticated within
    /// `window`.
    ///
    /// # Errors
    /// The [`StepUp`] the member must take first.
    pub fn allows_sensitive(
        &self,
        enrolled: bool,
        now: Timestamp,
        window: Duration,
    ) -> Result<(), StepUp> {
        if self.access(enrolled) == Access::SecondFactorPending {
            return Err(StepUp::SecondFactorRequired);
        }
        // A time after `now` (another node's clock a little ahead) counts as recent.
        if now - self.authenticated_at > window {
            return Err(StepUp::ReauthenticationRequired);
        }
        Ok(())
    }
}

/// A member's authenticator app, as stored: the secret sealed by the [`crate::kernel::ports::Sealer`]
/// (bound to the member's ID), whether enrolment was completed, and the step of the last code
/// accepted (so that no code is accepted twice).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpEnrolment {
    /// Whose.
    pub member_id: crate::MemberId,
    /// The sealed [`TotpSecret`].
    pub sealed_secret: Vec<u8>,
    /// When enrolment began.
    pub created_at: Timestamp,
    /// When a correct code completed it; until then the app is not a factor.
    pub confirmed_at: Option<Timestamp>,
    /// The step of the last accepted code.
    pub last_used_step: Option<i64>,
}

impl TotpEnrolment {
    /// Whether enrolment was completed.
    pub const fn is_confirmed(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

impl fmt::Debug for TotpEnrolment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TotpEnrolment")
            .field("member_id", &self.member_id)
            .field(
                "sealed_secret",
                &format_args!("<{} bytes>", self.sealed_secret.len()),
            )
            .field("created_at", &self.created_at)
            .field("confirmed_at", &self.confirmed_at)
            .field("last_used_step", &self.last_used_step)
            .finish()
    }
}

/// The context a member's TOTP secret is sealed to: it opens only for that member.
pub fn seal_context(member: crate::MemberId) -> Vec<u8> {
    let mut context = b"totp:".to_vec();
    context.extend_from_slice(member.as_uuid().as_bytes());
    context
}

#[cfg(test)]
mod tests;
