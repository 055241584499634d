//! Passkeys (WebAuthn), pure: the stored credential, the ceremony a browser completes, and
//! the rules the service applies around the signature check — a challenge is used once and
//! expires, the credential's signature counter only grows, user verification is required.
//!
//! The signature checks themselves (CBOR, COSE keys, ECDSA/EdDSA/RSA) are behind the
//! [`PasskeyVerifier`](crate::membership::ports::PasskeyVerifier) port; the shipped adapter is `kikeru-webauthn`.

use std::fmt;
use std::time::Duration;

use uuid::Uuid;

use crate::{MemberId, Timestamp};

/// How long a browser has to complete a ceremony.
pub const CEREMONY_LIFETIME: Duration = Duration::from_secs(5 * 60);

/// At most this many passkeys per member.
pub const MAX_PASSKEYS: usize = 10;

/// The COSE algorithms a passkey may use, preferred first: ES256 (-7), EdDSA (-8), RS256
/// (-257). A [`PasskeyVerifier`](crate::membership::ports::PasskeyVerifier) must check each.
pub const ALGORITHMS: [i64; 3] = [-7, -8, -257];

/// The longest passkey name.
pub const MAX_NAME_CHARS: usize = 64;

/// The ID of a stored passkey (shown to the member, not a secret).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PasskeyId(Uuid);

impl PasskeyId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Display for PasskeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A member's passkey, as stored: the credential's ID and public key (a COSE key), its
/// signature counter, and the name the member gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    /// The ID.
    pub id: PasskeyId,
    /// Whose.
    pub member_id: MemberId,
    /// The credential ID the authenticator chose (unique across the service).
    pub credential_id: Vec<u8>,
    /// The public key, as the COSE key the authenticator sent.
    pub public_key: Vec<u8>,
    /// The last signature counter seen (0 for authenticators that keep none).
    pub sign_count: u32,
    /// The member's name for it.
    pub name: String,
    /// When it was added.
    pub created_at: Timestamp,
    /// When it was last used.
    pub last_used_at: Option<Timestamp>,
    /// Whether the credential may be backed up (synced) — the authenticator's BE flag, fixed
    /// for a credential's life; `None` for a passkey stored before it was recorded (the next
    /// use records it).
    pub backup_eligible: Option<bool>,
    /// Whether it was backed up at its last use (the BS flag, which may change).
    pub backed_up: bool,
}

/// What a registration ceremony proved: a new credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCredential {
    /// Its ID.
    pub credential_id: Vec<u8>,
    /// Its public key (COSE).
    pub public_key: Vec<u8>,
    /// Its signature counter.
    pub sign_count: u32,
    /// The BE flag: whether it may be backed up.
    pub backup_eligible: bool,
    /// The BS flag: whether it is backed up.
    pub backed_up: bool,
}

/// What a verified assertion reported: the signature counter and the backup flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedAssertion {
    /// The signature counter.
    pub sign_count: u32,
    /// The BE flag: must equal the one recorded at registration.
    pub backup_eligible: bool,
    /// The BS flag.
    pub backed_up: bool,
}

impl VerifiedAssertion {
    /// Whether the flags fit the stored passkey: BE never changes over a credential's life
    /// (WebAuthn §6.1.3), so a difference means another credential or a forged answer. A
    /// passkey stored before BE was recorded accepts either, once.
    pub fn fits(&self, stored: &Passkey) -> bool {
        stored
            .backup_eligible
            .is_none_or(|eligible| eligible == self.backup_eligible)
    }
}

/// A browser's answer to `navigator.credentials.create()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationResponse {
    /// `response.clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// `response.attestationObject`.
    pub attestation_object: Vec<u8>,
}

/// A browser's answer to `navigator.credentials.get()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssertionResponse {
    /// `rawId`.
    pub credential_id: Vec<u8>,
    /// `response.clientDataJSON`.
    pub client_data_json: Vec<u8>,
    /// `response.authenticatorData`.
    pub authenticator_data: Vec<u8>,
    /// `response.signature`.
    pub signature: Vec<u8>,
    /// `response.userHandle` (a discoverable credential returns it).
    pub user_handle: Option<Vec<u8>>,
}

/// A ceremony's answer was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasskeyError {
    /// Not the structure WebAuthn defines (bad CBOR, JSON, lengths).
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// Another ceremony's answer (wrong type or challenge).
    #[error("the answer is for another ceremony")]
    WrongCeremony,
    /// Made for another site (origin or relying-party ID).
    #[error("the answer was made for another site")]
    WrongSite,
    /// The authenticator did not verify the user (PIN or biometrics) or their presence.
    #[error("the authenticator did not verify the user")]
    NotVerified,
    /// A key type or algorithm this service does not accept.
    #[error("unsupported key algorithm")]
    Unsupported,
    /// A key of a supported type that could never verify a signature (a point off its
    /// curve, an RSA modulus under 2048 bits).
    #[error("the public key is not usable")]
    InvalidKey,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
}

/// What a ceremony is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyPurpose {
    /// Adding a passkey to this member's account.
    Register(MemberId),
    /// Signing in (or re-authenticating) with a discoverable passkey.
    SignIn,
}

/// A ceremony the service started: its purpose, random challenge and end. It travels to the
/// browser sealed (see [`Ceremony::to_bytes`]) and comes back with the answer, so that no
/// state is kept for visitors who never finish; each challenge is accepted once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ceremony {
    /// What it is for.
    pub purpose: CeremonyPurpose,
    /// The challenge the authenticator signs.
    pub challenge: [u8; 32],
    /// When it stops being accepted.
    pub expires_at: Timestamp,
}

/// The byte form of a [`Ceremony`] is not one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a ceremony")]
pub struct MalformedCeremony;

impl Ceremony {
    /// The sealing context of ceremonies: a sealed ceremony opens only as one.
    pub const SEAL_CONTEXT: &'static [u8] = b"webauthn-ceremony:v1";

    /// The plain bytes to seal: purpose (1), member (16), challenge (32), end (8).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(57);
        match self.purpose {
            CeremonyPurpose::Register(member) => {
                bytes.push(1);
                bytes.extend_from_slice(member.as_uuid().as_bytes());
            }
            CeremonyPurpose::SignIn => {
                bytes.push(2);
                bytes.extend_from_slice(&[0; 16]);
            }
        }
        bytes.extend_from_slice(&self.challenge);
        bytes.extend_from_slice(&self.expires_at.unix_timestamp().to_be_bytes());
        bytes
    }

    /// Reads what [`Ceremony::to_bytes`] wrote.
    ///
    /// # Errors
    /// [`MalformedCeremony`] for anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MalformedCeremony> {
        if bytes.len() != 57 {
            return Err(MalformedCeremony);
        }
        let member: [u8; 16] = bytes[1..17].try_into().map_err(|_| MalformedCeremony)?;
        let purpose = match bytes[0] {
            1 => CeremonyPurpose::Register(MemberId::from_uuid(Uuid::from_bytes(member))),
            // A sign-in names no member: only zeros there (one byte form per ceremony).
            2 if member == [0; 16] => CeremonyPurpose::SignIn,
            _ => return Err(MalformedCeremony),
        };
        let challenge: [u8; 32] = bytes[17..49].try_into().map_err(|_| MalformedCeremony)?;
        let end: [u8; 8] = bytes[49..57].try_into().map_err(|_| MalformedCeremony)?;
        let expires_at = Timestamp::from_unix_timestamp(i64::from_be_bytes(end))
            .map_err(|_| MalformedCeremony)?;
        Ok(Self {
            purpose,
            challenge,
            expires_at,
        })
    }
}

/// Whether a reported signature counter is acceptable after `stored`: counters only grow,
/// except for authenticators that keep none (both zero). A counter that did not grow means
/// the credential may have been cloned.
pub const fn counter_is_plausible(stored: u32, reported: u32) -> bool {
    (stored == 0 && reported == 0) || reported > stored
}

/// The user handle of a member's passkeys: the member's ID, 16 opaque bytes (no address, no
/// name).
pub fn user_handle(member: MemberId) -> [u8; 16] {
    *member.as_uuid().as_bytes()
}

/// A passkey name the member typed, trimmed; `None` when empty, too long or with control
/// characters.
pub fn passkey_name(text: &str) -> Option<String> {
    let name = text.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn counters_only_grow_unless_the_authenticator_keeps_none() {
        assert!(counter_is_plausible(0, 0));
        assert!(counter_is_plausible(0, 1));
        assert!(counter_is_plausible(5, 6));
        assert!(!counter_is_plausible(5, 5), "a repeated counter: a clone?");
        assert!(!counter_is_plausible(5, 0));
        assert!(!counter_is_plausible(5, 4));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(passkey_name("  MacBook  ").as_deref(), Some("MacBook"));
        assert_eq!(passkey_name("   "), None);
        assert_eq!(passkey_name(&"鍵".repeat(65)), None);
        assert_eq!(passkey_name("a\u{7}b"), None);
    }

    proptest! {
        #[test]
        fn ceremonies_round_trip_and_nothing_else_reads_as_one(
            member: [u8; 16],
            challenge: [u8; 32],
            end in 0i64..4_000_000_000,
            register: bool,
            noise in proptest::collection::vec(any::<u8>(), 0..80),
        ) {
            let purpose = if register {
                CeremonyPurpose::Register(MemberId::from_uuid(Uuid::from_bytes(member)))
            } else {
                CeremonyPurpose::SignIn
            };
            let ceremony = Ceremony {
                purpose,
                challenge,
                expires_at: Timestamp::from_unix_timestamp(end).unwrap(),
            };
            prop_assert_eq!(Ceremony::from_bytes(&ceremony.to_bytes()), Ok(ceremony));
            if noise.len() != 57 {
                prop_assert_eq!(Ceremony::from_bytes(&noise), Err(MalformedCeremony));
            }
            // Whatever reads as a ceremony is that ceremony's one byte form.
            let mut bytes = ceremony.to_bytes();
            bytes[1..17].copy_from_slice(&member);
            if let Ok(read) = Ceremony::from_bytes(&bytes) {
                prop_assert_eq!(read.to_bytes(), bytes);
            }
        }
    }
}
