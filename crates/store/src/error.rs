//! The store's own error: what the database said, already told in the domain's terms. Queries
//! use `?` on the driver's errors and on the domain's; the ports hand it back as a
//! [`StoreError`] (see [`SqlStore::read`](crate::SqlStore::read) and the write helpers).

use kikeru_domain::StoreError;
use sea_orm::{DbErr, RuntimeErr, SqlErr};

/// A failed query or a record that does not read back (see the module's documentation).
#[derive(Debug)]
pub(crate) struct Error(StoreError);

/// The store's results: [`Error`] unless another error is named.
pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        Self(e)
    }
}

impl From<Error> for StoreError {
    fn from(e: Error) -> Self {
        e.0
    }
}

/// Driver errors, translated portably: unique and foreign-key violations become conflicts,
/// connection trouble becomes unavailability.
impl From<DbErr> for Error {
    fn from(e: DbErr) -> Self {
        if let Some(
            SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_),
        ) = e.sql_err()
        {
            return Self(StoreError::Conflict);
        }
        Self(match e {
            DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => StoreError::Unavailable(Box::new(e)),
            DbErr::Exec(RuntimeErr::SqlxError(ref s))
            | DbErr::Query(RuntimeErr::SqlxError(ref s))
                if is_transient(s) =>
            {
                StoreError::Unavailable(Box::new(e))
            }
            other => StoreError::Other(Box::new(other)),
        })
    }
}

fn is_transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    matches!(
        e,
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_)
    )
}

impl Error {
    /// Anything else that failed on the way to or from the database (e.g. encoding a value).
    pub(crate) fn other(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(StoreError::Other(Box::new(e)))
    }

    /// Whether the write broke a rule of the data: a duplicate, or a reference to nothing.
    pub(crate) fn is_conflict(&self) -> bool {
        matches!(self.0, StoreError::Conflict)
    }
}

#[derive(Debug, thiserror::Error)]
#[error("corrupt {0} in storage")]
struct Corrupt(&'static str);

/// A stored value that does not read back as what it should be.
pub(crate) fn corrupt(what: &'static str) -> Error {
    Error(StoreError::Other(Box::new(Corrupt(what))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_trouble_is_unavailability_and_the_rest_is_kept_as_its_cause() {
        let lost: Error = DbErr::Conn(RuntimeErr::Internal("gone".into())).into();
        assert!(matches!(StoreError::from(lost), StoreError::Unavailable(_)));
        let other: StoreError = Error::from(DbErr::Custom("odd".into())).into();
        assert!(matches!(other, StoreError::Other(_)));
        assert!(matches!(
            StoreError::from(corrupt("time")),
            StoreError::Other(e) if e.to_string() == "corrupt time in storage"
        ));
    }
}
