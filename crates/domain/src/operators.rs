//! The service's office (事務局): operator accounts, their separate sessions, and the audit of
//! every operator action. Operators are created from the command line, sign in like members
//! but with their own cookie and shorter sessions, and never share a session with a member.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use uuid::Uuid;

use crate::kernel::ids::uuid_v7;
use crate::kernel::throttle::{Client, Throttled, throttle_key};
use crate::ports::{Clock, HasherError, PasswordHasher, Random, RateLimits, Verification};
use crate::{
    Email, Password, PasswordAttempt, PasswordHashString, PasswordRejection, SessionToken,
    StoreError, ThrottleRule, Timestamp, TokenHash,
};

/// An operator's unique ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OperatorId(Uuid);

impl OperatorId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Debug for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OperatorId({})", self.0)
    }
}

impl fmt::Display for OperatorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// What an operator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Day-to-day work: the catalogue, inquiries, orders.
    Operator,
    /// Everything an operator may, and reading the operators' audit log.
    Admin,
}

impl Role {
    /// The stable name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Operator => "operator",
            Self::Admin => "admin",
        }
    }

    /// The role with this stable name.
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Operator, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// An operator account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// The ID.
    pub id: OperatorId,
    /// The sign-in address; unique among operators.
    pub email: Email,
    /// The PHC hash of the password.
    pub password_hash: PasswordHashString,
    /// What they may do.
    pub role: Role,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// An operator's session. Stored apart from members' sessions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorSession {
    /// The session's ID.
    pub id: Uuid,
    /// Whose.
    pub operator_id: OperatorId,
    /// The hash of the cookie's token.
    pub token_hash: TokenHash,
    /// When the operator signed in.
    pub created_at: Timestamp,
    /// When it ends at the latest.
    pub expires_at: Timestamp,
}

/// One audited operator action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorEvent {
    /// The entry's ID.
    pub id: Uuid,
    /// When.
    pub at: Timestamp,
    /// Who (`None` for a failed sign-in with an unknown address).
    pub operator_id: Option<OperatorId>,
    /// What, e.g. `signed_in`, `catalog.imported`, `order.refunded`.
    pub action: String,
    /// On what, with no personal data (IDs and counts only).
    pub detail: String,
}

/// Operator accounts, their sessions and their audit log.
#[cfg_attr(any(test, feature = "mocks"), mockall::automock)]
#[async_trait]
pub trait Operators: Send + Sync + 'static {
    /// Stores a new operator. MUST refuse an address another operator has.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the address or ID is taken.
    async fn insert(&self, operator: &Operator) -> Result<(), StoreError>;

    /// The operator with this address.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_email(&self, email: &Email) -> Result<Option<Operator>, StoreError>;

    /// The operator with this ID.
    ///
    /// # Errors
    /// When storage fails.
    async fn by_id(&self, id: OperatorId) -> Result<Option<Operator>, StoreError>;

    /// Stores an operator session.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] for a repeated token hash.
    async fn insert_session(&self, session: &OperatorSession) -> Result<(), StoreError>;

    /// The operator session with this token hash. MUST NOT find members' sessions.
    ///
    /// # Errors
    /// When storage fails.
    async fn session(&self, hash: &TokenHash) -> Result<Option<OperatorSession>, StoreError>;

    /// Deletes an operator session.
    ///
    /// # Errors
    /// When storage fails.
    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError>;

    /// Appends to the operators' audit log.
    ///
    /// # Errors
    /// When storage fails.
    async fn record(&self, event: &OperatorEvent) -> Result<(), StoreError>;

    /// The most recent audit entries, newest first, at most `limit`.
    ///
    /// # Errors
    /// When storage fails.
    async fn events(&self, limit: u32) -> Result<Vec<OperatorEvent>, StoreError>;
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admins_may_do_what_operators_may_and_more() {
        assert!(Role::Admin > Role::Operator);
        for role in [Role::Operator, Role::Admin] {
            assert_eq!(Role::from_name(role.as_str()), Some(role));
        }
    }
}
