//! The sea-orm storage adapter: every storage port of the domain on SQLite (the embedded
//! default) or PostgreSQL, chosen by the database URL.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::membership::second_factor::{Assurance, Factor};
use kikeru_domain::ports::{AuditLog, Erasure, Hits, Members, RateLimits, Sessions, Tokens};
use kikeru_domain::{
    DisplayName, Email, Member, MemberId, OneTimeToken, PasswordHashString, SecurityEvent,
    SecurityEventKind, Session, SessionId, StoreError, Timestamp, TokenHash, TokenPurpose,
};
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use sea_orm_migration::MigratorTrait;

mod books;
mod cache;
mod entity;
mod error;
mod factors;
#[cfg(feature = "test-fixtures")]
pub mod fixtures;
mod incidents;
mod membership;
mod migration;
mod office;
mod privacy;
mod receipts;
mod requests;
mod retention;
mod shop;
mod stats;
mod unit;
mod write;

use cache::ReadCache;
use entity::{member, rate_limit, security_event, session, token};
pub(crate) use error::{Error, Result, corrupt};
pub use migration::Migrator;
pub(crate) use write::Stale;

/// The tables that may still hold a deleted member's values, each with the record of the
/// written list of what deletion keeps ([`kikeru_domain::privacy::kept`]) it belongs to. Every
/// other table holds nothing of them once [`Erasure::erase`] has run; the black-box deletion
/// test searches every row of every table to hold this true.
pub const KEPT_AFTER_DELETION: &[(&str, kikeru_domain::privacy::kept::Kept)] = {
    use kikeru_domain::privacy::kept::Kept;
    &[
        ("orders", Kept::Accounting),
        ("order_lines", Kept::Accounting),
        ("payments", Kept::Accounting),
        ("payment_status_changes", Kept::Accounting),
        ("payment_events", Kept::Accounting),
        ("payment_cases", Kept::Accounting),
        ("receipts", Kept::Receipts),
        ("return_invoices", Kept::Receipts),
        ("ledger_entries", Kept::ProvisionRecords),
        ("legal_orders", Kept::LegalOrders),
        ("legal_order_approvals", Kept::LegalOrders),
        ("operator_events", Kept::OperatorLog),
        ("outbox", Kept::DeletionNotice),
    ]
};

/// The record of the list of what deletion keeps that `table` belongs to, if any.
pub fn kept_in(table: &str) -> Option<kikeru_domain::privacy::kept::Kept> {
    KEPT_AFTER_DELETION
        .iter()
        .find(|(name, _)| *name == table)
        .map(|(_, kept)| *kept)
}

/// How to reach the database.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// `sqlite://path?mode=rwc` or `postgres://…`.
    pub url: String,
    /// The most connections in the pool.
    pub max_connections: u32,
    /// How long a query may wait for a connection before the store reports itself unavailable.
    pub acquire_timeout: Duration,
    /// For PostgreSQL: the schema to use (tests use one per case).
    pub schema: Option<String>,
    /// How long a session and its member read from the database are served from memory.
    /// Writes through this store are seen at once; writes by another process (a second node,
    /// the command line) within this time. Zero reads the database every time.
    pub cache_ttl: Duration,
}

impl StoreConfig {
    /// Defaults for `url`: 8 connections (4 on SQLite, which has one writer), 5 s to acquire,
    /// sessions cached for one second.
    pub fn new(url: impl Into<String>) -> Self {
        let url = url.into();
        let max_connections = if url.starts_with("sqlite:") { 4 } else { 8 };
        Self {
            url,
            max_connections,
            acquire_timeout: Duration::from_secs(5),
            schema: None,
            cache_ttl: Duration::from_secs(1),
        }
    }
}

/// The connection pool's connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PoolStatus {
    /// Open and lent out.
    pub in_use: u32,
    /// Open and free.
    pub idle: u32,
    /// The most the pool opens.
    pub max: u32,
}

/// All storage ports on one sea-orm connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: DatabaseConnection,
    pub(crate) cache: Arc<ReadCache>,
    /// SQLite has one writer: writes take turns here, in order, instead of colliding in the
    /// database, where a loser sleeps in SQLite's busy handler (1 ms, 2 ms, 5 ms, …) while
    /// others get ahead. `None` on PostgreSQL, whose writers lock rows, not the database.
    pub(crate) writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: payment events waiting for the writer's turn, applied together in one
    /// transaction by whichever of their callers gets the turn first (group commit).
    pub(crate) waiting_events: Arc<std::sync::Mutex<Vec<shop::WaitingEvent>>>,
}

/// A backup was not made.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The database is PostgreSQL, whose own tools make consistent copies.
    #[error("the database is PostgreSQL: use pg_dump (or a replica) for its backups")]
    NotSqlite,
    /// The target file exists; nothing was overwritten.
    #[error("{0} exists already; choose a new file")]
    Exists(std::path::PathBuf),
    /// The target path is not valid UTF-8.
    #[error("the backup path must be valid UTF-8")]
    Path,
    /// Copying failed.
    #[error("the copy failed")]
    Store(#[source] StoreError),
}

/// The database could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("cannot open the database: {0}")]
pub struct ConnectError(#[from] DbErr);

impl SqlStore {
    /// Opens the pool. SQLite gets WAL, foreign keys, a busy timeout and full durability.
    ///
    /// # Errors
    /// [`ConnectError`] when the URL is invalid or the database unreachable.
    pub async fn connect(config: &StoreConfig) -> Result<Self, ConnectError> {
        let mut options = ConnectOptions::new(config.url.clone());
        options
            .max_connections(config.max_connections)
            .acquire_timeout(config.acquire_timeout)
            .connect_timeout(config.acquire_timeout)
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(|o| {
                o.create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .synchronous(SqliteSynchronous::Full)
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        if let Some(schema) = &config.schema {
            options.set_schema_search_path(schema.clone());
        }
        let db = Database::connect(options).await?;
        let writer = (db.get_database_backend() == sea_orm::DbBackend::Sqlite)
            .then(|| Arc::new(tokio::sync::Mutex::new(())));
        Ok(Self {
            db,
            cache: Arc::new(ReadCache::new(config.cache_ttl)),
            writer,
            waiting_events: Arc::default(),
        })
    }

    /// Applies every pending migration.
    ///
    /// # Errors
    /// When a migration fails; nothing of that migration is kept on PostgreSQL.
    pub async fn migrate(&self) -> Result<(), DbErr> {
        Migrator::up(&self.db, None).await
    }

    /// Checks that the database answers.
    ///
    /// # Errors
    /// [`StoreError::Unavailable`] when it does not.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db
            .ping()
            .await
            .map_err(|e| StoreError::Unavailable(Box::new(e)))
    }

    /// Writes a consistent copy of a SQLite database to `path` while the service keeps running
    /// (`VACUUM INTO`): one read transaction, so the copy is a single moment's state.
    ///
    /// # Errors
    /// [`BackupError::NotSqlite`] on PostgreSQL (use `pg_dump`), [`BackupError::Exists`] when
    /// `path` exists (nothing is overwritten), [`BackupError::Store`] when copying fails.
    pub async fn backup_to(&self, path: &std::path::Path) -> Result<(), BackupError> {
        if self.db.get_database_backend() != sea_orm::DbBackend::Sqlite {
            return Err(BackupError::NotSqlite);
        }
        if path.exists() {
            return Err(BackupError::Exists(path.to_owned()));
        }
        let target = path.to_str().ok_or(BackupError::Path)?;
        self.db
            .execute_raw(Statement::from_sql_and_values(
                sea_orm::DbBackend::Sqlite,
                "VACUUM INTO $1",
                [target.into()],
            ))
            .await
            .map_err(|e| BackupError::Store(Error::from(e).into()))?;
        Ok(())
    }

    /// The connection pool's state now, for the operators' metrics.
    pub fn pool_status(&self) -> PoolStatus {
        fn of<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>) -> PoolStatus {
            let open = pool.size();
            let idle = u32::try_from(pool.num_idle()).unwrap_or(open).min(open);
            PoolStatus {
                in_use: open - idle,
                idle,
                max: pool.options().get_max_connections(),
            }
        }
        match self.db.get_database_backend() {
            sea_orm::DbBackend::Sqlite => of(self.db.get_sqlite_connection_pool()),
            sea_orm::DbBackend::Postgres => of(self.db.get_postgres_connection_pool()),
            _ => PoolStatus::default(),
        }
    }

    /// The pool, for maintenance commands and tests.
    pub fn connection(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Closes the pool.
    ///
    /// # Errors
    /// When closing fails.
    pub async fn close(self) -> Result<(), DbErr> {
        self.db.close().await
    }
}

pub(crate) fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(ms: i64) -> Result<Timestamp> {
    Timestamp::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| corrupt("time"))
}

/// An operator's ID as stored (the UUID's text).
pub(crate) fn operator_id(text: &str) -> Result<kikeru_domain::office::operators::OperatorId> {
    text.parse()
        .map(kikeru_domain::office::operators::OperatorId::from_uuid)
        .map_err(|_| corrupt("operator ID"))
}

pub(crate) fn hash_bytes(bytes: &[u8]) -> Result<TokenHash> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash::from_bytes)
        .map_err(|_| corrupt("token hash"))
}

pub(crate) fn to_member(row: member::Model) -> Result<Member> {
    Ok(Member {
        id: MemberId::from_uuid(row.id),
        email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
        email_verified_at: row.email_verified_at.map(from_millis).transpose()?,
        password_hash: PasswordHashString::parse(&row.password_hash)
            .map_err(|_| corrupt("password hash"))?,
        display_name: DisplayName::parse(&row.display_name).map_err(|_| corrupt("display name"))?,
        language: row.language.parse().map_err(|_| corrupt("language"))?,
        created_at: from_millis(row.created_at)?,
    })
}
