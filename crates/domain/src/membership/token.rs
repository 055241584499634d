//! Single-use tokens sent by mail: e-mail verification, e-mail change, password reset.

use std::time::Duration;

use crate::{Email, MemberId, Timestamp, TokenHash};

/// What a mailed token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenPurpose {
    /// Prove the address given at registration.
    VerifyEmail,
    /// Prove a new address before it replaces the old one.
    ChangeEmail,
    /// Set a new password without the old one.
    ResetPassword,
}

impl TokenPurpose {
    /// How long a token of this purpose stays valid: 24 hours for address proofs, 30 minutes
    /// for password resets.
    pub const fn lifetime(self) -> Duration {
        match self {
            Self::VerifyEmail | Self::ChangeEmail => Duration::from_secs(24 * 3600),
            Self::ResetPassword => Duration::from_secs(30 * 60),
        }
    }

    /// The stable name used in storage.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::VerifyEmail => "verify_email",
            Self::ChangeEmail => "change_email",
            Self::ResetPassword => "reset_password",
        }
    }

    /// The purpose with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::VerifyEmail, Self::ChangeEmail, Self::ResetPassword]
            .into_iter()
            .find(|purpose| purpose.as_str() == name)
    }
}

/// A stored single-use token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneTimeToken {
    /// The hash of the mailed secret.
    pub hash: TokenHash,
    /// Whose token it is.
    pub member_id: MemberId,
    /// What it is for.
    pub purpose: TokenPurpose,
    /// For [`TokenPurpose::ChangeEmail`], the address being proven.
    pub new_email: Option<Email>,
    /// When it was issued.
    pub created_at: Timestamp,
    /// When it stops working.
    pub expires_at: Timestamp,
}

impl OneTimeToken {
    /// Whether the token still works at `now`.
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_round_trip_through_their_names() {
        for purpose in [
            TokenPurpose::VerifyEmail,
            TokenPurpose::ChangeEmail,
            TokenPurpose::ResetPassword,
        ] {
            assert_eq!(TokenPurpose::from_name(purpose.as_str()), Some(purpose));
        }
        assert_eq!(TokenPurpose::from_name("other"), None);
    }

    #[test]
    fn reset_tokens_live_thirty_minutes_and_verification_tokens_a_day() {
        assert_eq!(
            TokenPurpose::ResetPassword.lifetime(),
            Duration::from_secs(1800)
        );
        assert_eq!(
            TokenPurpose::VerifyEmail.lifetime(),
            Duration::from_secs(86_400)
        );
    }
}
