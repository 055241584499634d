//! What can go wrong in each membership use case: one error type per use case, and the
//! conversions that let `?` carry backend failures and throttling into them.

use super::{
    FactorError, HasherError, MailError, PasswordRejection, StepUp, StoreError, Throttled,
};

/// A backing service failed; the request may succeed later. Never the member's fault.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hasher(#[from] HasherError),
    /// Mail may not be sent (the register does not entrust the mail provider with it).
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Implements `From` for each backend error, so `?` works in the use cases.
macro_rules! backend_errors {
    ($($error:ident),+) => {$(
        impl From<StoreError> for $error {
            fn from(e: StoreError) -> Self { Self::Backend(e.into()) }
        }
        impl From<HasherError> for $error {
            fn from(e: HasherError) -> Self { Self::Backend(e.into()) }
        }
        impl From<MailError> for $error {
            fn from(e: MailError) -> Self { Self::Backend(e.into()) }
        }
    )+};
}

/// Registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The new password breaks the policy.
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// Too many registrations from this client.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A mailed token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, used, expired, or for another purpose.
    #[error("the link is invalid or has expired")]
    Invalid,
    /// The proven new address was taken by another member in the meantime.
    #[error("the address is already in use")]
    EmailTaken,
    /// The new password breaks the policy (password reset).
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// Sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown address or wrong password; the two are indistinguishable.
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    /// Too many attempts from this client or for this address.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// The presented session is not (or no longer) valid.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No such session, or it expired.
    #[error("not signed in")]
    Unauthenticated,
    /// The password was right, but the member's second factor has not been passed yet.
    #[error("pass your second factor first")]
    SecondFactorRequired,
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A change on My Page failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The current password typed to confirm the change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many wrong current passwords.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The new password breaks the policy.
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// The new address is the current one.
    #[error("the new address is the current address")]
    SameEmail,
    /// No such session of this member.
    #[error("no such session")]
    NotFound,
    /// The session must authenticate again (or pass its second factor) first.
    #[error(transparent)]
    StepUp(#[from] StepUp),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A password-reset request failed (never because the address is unknown).
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestError {
    /// Too many requests from this client.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

backend_errors!(
    RegisterError,
    TokenError,
    SignInError,
    AuthError,
    ChangeError,
    ResetRequestError,
    FactorError
);

/// The private result of [`Membership::throttle`], converted into each use case's error.
pub(super) enum ThrottleFailure {
    Throttled(Throttled),
    Store(StoreError),
}

impl From<StoreError> for ThrottleFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

macro_rules! from_throttle_failure {
    ($($error:ident),+) => {$(
        impl From<ThrottleFailure> for $error {
            fn from(f: ThrottleFailure) -> Self {
                match f {
                    ThrottleFailure::Throttled(t) => t.into(),
                    ThrottleFailure::Store(e) => e.into(),
                }
            }
        }
    )+};
}
from_throttle_failure!(RegisterError, SignInError, ResetRequestError, ChangeError);
