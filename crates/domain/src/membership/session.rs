//! Sign-in sessions: the secret token, its stored hash, and the lifetime rules.

use std::fmt;
use std::time::Duration;

use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::membership::second_factor::{Access, Assurance, StepUp};
use crate::{MemberId, Timestamp};

/// The ID of a session, shown to the member so they can revoke it. Not a secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(Uuid);

impl SessionId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SessionId({})", self.0)
    }
}

impl fmt::Display for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A secret bearer token: 256 random bits, carried by the session cookie or a mail link. Only
/// its [`TokenHash`] is ever stored. Its `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken([u8; 32]);

/// The text is not a token this service issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct MalformedToken;

impl SessionToken {
    /// Wraps 32 random bytes from the [`crate::kernel::ports::Random`] port.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Reads a token from its text form (43 characters of unpadded base64url).
    ///
    /// # Errors
    /// [`MalformedToken`] for any other text.
    pub fn parse(text: &str) -> Result<Self, MalformedToken> {
        if text.len() != 43 {
            return Err(MalformedToken);
        }
        let bytes = data_encoding::BASE64URL_NOPAD
            .decode(text.as_bytes())
            .map_err(|_| MalformedToken)?;
        bytes.try_into().map(Self).map_err(|_| MalformedToken)
    }

    /// The text form, for the cookie or the link.
    pub fn expose(&self) -> String {
        data_encoding::BASE64URL_NOPAD.encode(&self.0)
    }

    /// The SHA-256 of the token: what storage keeps and looks up.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0).into())
    }
}

impl serde::Serialize for SessionToken {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.expose())
    }
}

impl<'de> serde::Deserialize<'de> for SessionToken {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// The SHA-256 hash of a [`SessionToken`]. Knowing it does not let anyone sign in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Wraps a stored hash.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({:02x}{:02x}…)", self.0[0], self.0[1])
    }
}

/// A signed-in session, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The ID shown to the member.
    pub id: SessionId,
    /// Whose session it is.
    pub member_id: MemberId,
    /// The hash of the cookie's token.
    pub token_hash: TokenHash,
    /// When the member signed in.
    pub created_at: Timestamp,
    /// When the session was last used (updated at most once a [`SessionPolicy::touch_every`]).
    pub last_seen_at: Timestamp,
    /// The end of the absolute lifetime.
    pub expires_at: Timestamp,
    /// The browser, as a short label (`Firefox 128 / Linux`); never the raw User-Agent.
    pub browser: String,
    /// How and when the member last proved who they are in this session.
    pub assurance: Assurance,
    /// Whether the member had a second factor when the session began (or enrolled one in it):
    /// then the session is signed in only once it is passed.
    pub second_factor_enrolled: bool,
}

impl Session {
    /// What the session may do.
    pub fn access(&self) -> Access {
        self.assurance.access(self.second_factor_enrolled)
    }

    /// Whether the session may make a sensitive change at `now` (see
    /// [`Assurance::allows_sensitive`]).
    ///
    /// # Errors
    /// The [`StepUp`] the member must take first.
    pub fn allows_sensitive(&self, now: Timestamp, window: Duration) -> Result<(), StepUp> {
        self.assurance
            .allows_sensitive(self.second_factor_enrolled, now, window)
    }
}

/// How long sessions live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session unused for this long ends.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, however much it is used.
    pub absolute_lifetime: Duration,
    /// `last_seen_at` is written at most this often, so that reading a page is not a write.
    pub touch_every: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(7 * 24 * 3600),
            absolute_lifetime: Duration::from_secs(30 * 24 * 3600),
            touch_every: Duration::from_secs(60),
        }
    }
}

/// What to do with a presented session at a given moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionState {
    /// Valid; nothing to write.
    Live,
    /// Valid; record `now` as last seen.
    LiveTouch,
    /// Past its idle timeout or absolute lifetime: delete it and treat the request as
    /// signed out.
    Expired,
}

impl SessionPolicy {
    /// Decides the state of `session` at `now`.
    pub fn state(&self, session: &Session, now: Timestamp) -> SessionState {
        if now >= session.expires_at || now >= session.last_seen_at + self.idle_timeout {
            SessionState::Expired
        } else if now >= session.last_seen_at + self.touch_every {
            SessionState::LiveTouch
        } else {
            SessionState::Live
        }
    }

    /// The absolute end of a session that starts at `now`.
    pub fn expiry_from(&self, now: Timestamp) -> Timestamp {
        now + self.absolute_lifetime
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn session_at(created: Timestamp, last_seen: Timestamp) -> Session {
        let policy = SessionPolicy::default();
        Session {
            id: SessionId::from_uuid(Uuid::nil()),
            member_id: MemberId::from_uuid(Uuid::nil()),
            token_hash: SessionToken::from_bytes([7; 32]).hash(),
            created_at: created,
            last_seen_at: last_seen,
            expires_at: policy.expiry_from(created),
            browser: String::new(),
            assurance: Assurance::signed_in(
                crate::membership::second_factor::Factor::Password,
                created,
            ),
            second_factor_enrolled: false,
        }
    }

    fn check(created: Timestamp, last_seen: Timestamp, now: Timestamp, expected: SessionState) {
        let state = SessionPolicy::default().state(&session_at(created, last_seen), now);
        assert_eq!(
            state, expected,
            "created {created}, seen {last_seen}, now {now}"
        );
    }

    #[test]
    fn sessions_end_after_their_idle_timeout_or_absolute_lifetime() {
        let t0 = datetime!(2026-01-01 00:00 UTC);
        check(t0, t0, t0, SessionState::Live);
        check(
            t0,
            t0,
            datetime!(2026-01-01 00:00:59 UTC),
            SessionState::Live,
        );
        check(
            t0,
            t0,
            datetime!(2026-01-01 00:01 UTC),
            SessionState::LiveTouch,
        );
        check(
            t0,
            t0,
            datetime!(2026-01-07 23:59 UTC),
            SessionState::LiveTouch,
        );
        check(
            t0,
            t0,
            datetime!(2026-01-08 00:00 UTC),
            SessionState::Expired,
        );
        check(
            t0,
            datetime!(2026-01-29 00:00 UTC),
            datetime!(2026-01-30 23:59 UTC),
            SessionState::LiveTouch,
        );
        check(
            t0,
            datetime!(2026-01-30 23:59 UTC),
            datetime!(2026-01-31 00:00 UTC),
            SessionState::Expired,
        );
    }

    #[test]
    fn tokens_round_trip_through_text_and_only_their_hash_is_comparable() {
        let token = SessionToken::from_bytes([42; 32]);
        let text = token.expose();
        assert_eq!(text.len(), 43);
        assert_eq!(SessionToken::parse(&text), Ok(token.clone()));
        assert_eq!(SessionToken::parse("short"), Err(MalformedToken));
        assert_eq!(SessionToken::parse(&"!".repeat(43)), Err(MalformedToken));
        assert_ne!(token.hash().as_bytes(), &[42; 32]);
        assert!(!format!("{token:?}").contains(&text));
    }
}
