//! The audit log of security events. Entries name the member by ID, never by address.

use uuid::Uuid;

use crate::{MemberId, SessionId, Timestamp};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SecurityEventKind {
    /// A new member registered.
    Registered,
    /// Someone tried to register an address that already belongs to this member.
    RegistrationAttemptForExistingAddress,
    /// The member proved their address.
    EmailVerified,
    /// A successful sign-in.
    SignedIn,
    /// A sign-in with a wrong password (or, without a member, an unknown address).
    SignInFailed,
    /// A sign-in refused because of too many failures.
    SignInThrottled,
    /// The member signed out.
    SignedOut,
    /// The member signed out every other session.
    SignedOutOtherSessions,
    /// The member revoked one of their sessions.
    SessionRevoked,
    /// The member changed their password.
    PasswordChanged,
    /// A password reset was requested for the member's address.
    PasswordResetRequested,
    /// The member set a new password with a reset token.
    PasswordReset,
    /// The member asked to move to a new address.
    EmailChangeRequested,
    /// The new address was proven and replaced the old one.
    EmailChanged,
    /// The member changed their display name or language.
    ProfileUpdated,
    /// A mail to the member could not be delivered and was given up.
    MailUndeliverable,
    /// The member turned on an authenticator app (TOTP).
    TotpEnrolled,
    /// The member turned off their authenticator app.
    TotpRemoved,
    /// The member got a new set of recovery codes (the old set stopped working).
    RecoveryCodesGenerated,
    /// The member passed their second factor with the authenticator app.
    SecondFactorPassed,
    /// The member passed their second factor with a recovery code (one fewer is left).
    RecoveryCodeUsed,
    /// A wrong second-factor code.
    SecondFactorFailed,
    /// Second-factor attempts refused because of too many failures.
    SecondFactorThrottled,
    /// The member proved who they are again, for a sensitive change.
    Reauthenticated,
    /// An operator removed every second factor at the member's request (lost device).
    SecondFactorReset,
    /// The member added a passkey.
    PasskeyAdded,
    /// The member removed a passkey.
    PasskeyRemoved,
    /// The member signed in (or confirmed it is them) with a passkey.
    PasskeyUsed,
    /// The password was right, and the sign-in waits for the member's second factor (a
    /// `signed_in` follows when it is passed).
    PasswordVerified,
}

impl SecurityEventKind {
    /// Every kind, for storage round trips and exhaustive tests.
    pub const ALL: [Self; 29] = [
        Self::Registered,
        Self::RegistrationAttemptForExistingAddress,
        Self::EmailVerified,
        Self::SignedIn,
        Self::SignInFailed,
        Self::SignInThrottled,
        Self::SignedOut,
        Self::SignedOutOtherSessions,
        Self::SessionRevoked,
        Self::PasswordChanged,
        Self::PasswordResetRequested,
        Self::PasswordReset,
        Self::EmailChangeRequested,
        Self::EmailChanged,
        Self::ProfileUpdated,
        Self::MailUndeliverable,
        Self::TotpEnrolled,
        Self::TotpRemoved,
        Self::RecoveryCodesGenerated,
        Self::SecondFactorPassed,
        Self::RecoveryCodeUsed,
        Self::SecondFactorFailed,
        Self::SecondFactorThrottled,
        Self::Reauthenticated,
        Self::SecondFactorReset,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
        Self::PasskeyUsed,
        Self::PasswordVerified,
    ];

    /// The stable name used in storage and logs.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::RegistrationAttemptForExistingAddress => "registration_attempt_existing",
            Self::EmailVerified => "email_verified",
            Self::SignedIn => "signed_in",
            Self::SignInFailed => "sign_in_failed",
            Self::SignInThrottled => "sign_in_throttled",
            Self::SignedOut => "signed_out",
            Self::SignedOutOtherSessions => "signed_out_others",
            Self::SessionRevoked => "session_revoked",
            Self::PasswordChanged => "password_changed",
            Self::PasswordResetRequested => "password_reset_requested",
            Self::PasswordReset => "password_reset",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::ProfileUpdated => "profile_updated",
            Self::MailUndeliverable => "mail_undeliverable",
            Self::TotpEnrolled => "totp_enrolled",
            Self::TotpRemoved => "totp_removed",
            Self::RecoveryCodesGenerated => "recovery_codes_generated",
            Self::SecondFactorPassed => "second_factor_passed",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::SecondFactorFailed => "second_factor_failed",
            Self::SecondFactorThrottled => "second_factor_throttled",
            Self::Reauthenticated => "reauthenticated",
            Self::SecondFactorReset => "second_factor_reset",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeyUsed => "passkey_used",
            Self::PasswordVerified => "password_verified",
        }
    }

    /// The kind with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == name)
    }
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityEvent {
    /// A unique ID for the entry.
    pub id: Uuid,
    /// When it happened.
    pub at: Timestamp,
    /// The member concerned, when there is one (a failed sign-in for an unknown address has
    /// none).
    pub member_id: Option<MemberId>,
    /// The session concerned, when there is one.
    pub session_id: Option<SessionId>,
    /// What happened.
    pub kind: SecurityEventKind,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_distinct_stable_name() {
        let names: std::collections::HashSet<_> =
            SecurityEventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), SecurityEventKind::ALL.len());
        for kind in SecurityEventKind::ALL {
            assert_eq!(SecurityEventKind::from_name(kind.as_str()), Some(kind));
        }
    }
}
