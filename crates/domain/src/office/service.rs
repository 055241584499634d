//! The office's use cases: creating operators, signing them in with their own throttles and
//! sessions, checking a session's role, and the audit of every operator action.

use crate::kernel::ids::uuid_v7;
use crate::kernel::ports::{Clock, Random, RateLimits};
use crate::kernel::throttle::{Client, Throttled, throttle_key};
use crate::membership::ports::{HasherError, PasswordHasher, Verification};
use crate::office::operators::{Operator, OperatorEvent, OperatorId, OperatorSession, Role};
use crate::office::ports::Operators;
use crate::{
    Email, Password, PasswordAttempt, PasswordRejection, SessionToken, StoreError, ThrottleRule,
    Timestamp,
};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;
use uuid::Uuid;

/// The adapters operator work runs on.
#[derive(Clone)]
pub struct OfficePorts {
    /// Operators, sessions, audit.
    pub operators: Arc<dyn Operators>,
    /// Shared rate limits.
    pub rate_limits: Arc<dyn RateLimits>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl fmt::Debug for OfficePorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OfficePorts { .. }")
    }
}

/// Operator sessions end this long after sign-in, however much they are used.
pub const OPERATOR_SESSION: Duration = Duration::from_secs(12 * 3600);

const SIGN_IN_FAILURES: ThrottleRule = ThrottleRule {
    max: 5,
    window: Duration::from_secs(15 * 60),
};
const SIGN_IN_PER_CLIENT: ThrottleRule = ThrottleRule {
    max: 30,
    window: Duration::from_secs(15 * 60),
};

/// Operator work failed.
#[derive(Debug, thiserror::Error)]
pub enum OfficeError {
    /// Unknown address or wrong password (indistinguishable).
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    /// Not signed in as an operator, or the session ended.
    #[error("not signed in as an operator")]
    Unauthenticated,
    /// Signed in, but the role does not allow it.
    #[error("this needs the {0:?} role")]
    Forbidden(Role),
    /// Too many failed sign-ins.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The new password breaks the policy.
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// An operator already has this address.
    #[error("an operator already has this address")]
    EmailTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hasher(#[from] HasherError),
}

/// A signed-in operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorAuth {
    /// The operator.
    pub operator: Operator,
    /// Their session.
    pub session: OperatorSession,
}

impl OperatorAuth {
    /// Checks the operator has at least `role`.
    ///
    /// # Errors
    /// [`OfficeError::Forbidden`].
    pub fn require(&self, role: Role) -> Result<(), OfficeError> {
        if self.operator.role >= role {
            Ok(())
        } else {
            Err(OfficeError::Forbidden(role))
        }
    }
}

/// Operator accounts and the audit of their actions.
#[derive(Debug, Clone)]
pub struct Office {
    ports: OfficePorts,
}

impl Office {
    /// Builds the use cases on their adapters.
    pub fn new(ports: OfficePorts) -> Self {
        Self { ports }
    }

    /// The operator with this address, for the command line, where whoever runs it names the
    /// operator they act as.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn operator_by_email(&self, email: &Email) -> Result<Option<Operator>, StoreError> {
        self.ports.operators.by_email(email).await
    }

    /// Creates an operator (from the command line). The password follows the members' policy.
    ///
    /// # Errors
    /// [`OfficeError::Password`], [`OfficeError::EmailTaken`].
    pub async fn add_operator(
        &self,
        email: Email,
        password: &str,
        role: Role,
    ) -> Result<Operator, OfficeError> {
        let password = Password::new(password, &[email.as_str(), email.local_part()])?;
        let now = self.ports.clock.now();
        let operator = Operator {
            id: OperatorId::from_uuid(self.uuid(now)),
            email,
            password_hash: self.ports.hasher.hash(&password).await?,
            role,
            created_at: now,
        };
        match self.ports.operators.insert(&operator).await {
            Err(StoreError::Conflict) => return Err(OfficeError::EmailTaken),
            other => other?,
        }
        self.audit(
            None,
            "operator.added",
            &format!("operator {} as {}", operator.id, role.as_str()),
        )
        .await?;
        Ok(operator)
    }

    /// Signs an operator in, with the same protections as members: unknown addresses and wrong
    /// passwords answer alike, and failures lock the address for a while.
    ///
    /// # Errors
    /// [`OfficeError::InvalidCredentials`], [`OfficeError::Throttled`].
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &Client,
    ) -> Result<(OperatorAuth, SessionToken), OfficeError> {
        let now = self.ports.clock.now();
        let wait = |end: Timestamp| {
            Duration::try_from(end - now)
                .unwrap_or(Duration::ZERO)
                .max(Duration::from_secs(1))
        };
        let per_client = throttle_key("operator-sign-in-client", &client.key);
        let hits = self
            .ports
            .rate_limits
            .hit(&per_client, SIGN_IN_PER_CLIENT.window, now)
            .await?;
        if SIGN_IN_PER_CLIENT.exceeded_by(hits.count) {
            return Err(Throttled {
                retry_after: wait(hits.window_ends_at),
            }
            .into());
        }
        let key = throttle_key("operator-sign-in-failures", &email.trim().to_lowercase());
        // Counted before the password is checked (forgiven when it is right), so that guesses
        // sent together each count.
        let attempts = self
            .ports
            .rate_limits
            .hit(&key, SIGN_IN_FAILURES.window, now)
            .await?;
        if SIGN_IN_FAILURES.exceeded_by(attempts.count) {
            return Err(Throttled {
                retry_after: wait(attempts.window_ends_at),
            }
            .into());
        }
        let operator = match Email::parse(email) {
            Ok(email) => self.ports.operators.by_email(&email).await?,
            Err(_) => None,
        };
        let verification = match PasswordAttempt::new(password) {
            Some(attempt) => {
                self.ports
                    .hasher
                    .verify(&attempt, operator.as_ref().map(|o| o.password_hash.clone()))
                    .await?
            }
            None => Verification::Mismatch,
        };
        let Some(operator) =
            operator.filter(|_| matches!(verification, Verification::Match { .. }))
        else {
            self.audit(None, "sign_in_failed", "").await?;
            return Err(OfficeError::InvalidCredentials);
        };
        self.ports.rate_limits.reset(&key).await?;
        let token = SessionToken::from_bytes(self.ports.random.bytes32());
        let session = OperatorSession {
            id: self.uuid(now),
            operator_id: operator.id,
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + OPERATOR_SESSION,
        };
        self.ports.operators.insert_session(&session).await?;
        self.audit(Some(operator.id), "signed_in", "").await?;
        Ok((OperatorAuth { operator, session }, token))
    }

    /// The operator behind a session token; ends expired sessions.
    ///
    /// # Errors
    /// [`OfficeError::Unauthenticated`].
    pub async fn authenticate(&self, token: &SessionToken) -> Result<OperatorAuth, OfficeError> {
        let session = self
            .ports
            .operators
            .session(&token.hash())
            .await?
            .ok_or(OfficeError::Unauthenticated)?;
        if self.ports.clock.now() >= session.expires_at {
            self.ports.operators.delete_session(session.id).await?;
            return Err(OfficeError::Unauthenticated);
        }
        let operator = self
            .ports
            .operators
            .by_id(session.operator_id)
            .await?
            .ok_or(OfficeError::Unauthenticated)?;
        Ok(OperatorAuth { operator, session })
    }

    /// Signs the operator out.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn sign_out(&self, auth: &OperatorAuth) -> Result<(), OfficeError> {
        self.ports.operators.delete_session(auth.session.id).await?;
        self.audit(Some(auth.operator.id), "signed_out", "").await
    }

    /// Records an operator's action in the audit log.
    ///
    /// # Errors
    /// When storage fails.
    pub async fn audit(
        &self,
        operator: Option<OperatorId>,
        action: &str,
        detail: &str,
    ) -> Result<(), OfficeError> {
        let at = self.ports.clock.now();
        let event = OperatorEvent {
            id: self.uuid(at),
            at,
            operator_id: operator,
            action: action.to_owned(),
            detail: detail.to_owned(),
        };
        Ok(self.ports.operators.record(&event).await?)
    }

    /// The most recent audit entries (admins only).
    ///
    /// # Errors
    /// [`OfficeError::Forbidden`] for a plain operator.
    pub async fn events(
        &self,
        auth: &OperatorAuth,
        limit: u32,
    ) -> Result<Vec<OperatorEvent>, OfficeError> {
        auth.require(Role::Admin)?;
        Ok(self.ports.operators.events(limit).await?)
    }

    fn uuid(&self, now: Timestamp) -> Uuid {
        uuid_v7(now, &self.ports.random.bytes32())
    }
}
