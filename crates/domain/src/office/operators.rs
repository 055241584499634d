//! The service's office (事務局): operator accounts, their separate sessions, and the audit of
//! every operator action. Operators are created from the command line, sign in like members
//! but with their own cookie and shorter sessions, and never share a session with a member.

use std::fmt;

use uuid::Uuid;

use crate::{Email, PasswordHashString, Timestamp, TokenHash};

/// An operator's unique ID.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
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
