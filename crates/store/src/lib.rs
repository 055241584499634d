//! The sea-orm storage adapter: every storage port of the domain on SQLite (the embedded
//! default) or PostgreSQL, chosen by the database URL.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::ports::{AuditLog, Erasure, Hits, Members, RateLimits, Sessions, Tokens};
use kikeru_domain::second_factor::{Assurance, Factor};
use kikeru_domain::{
    DisplayName, Email, Member, MemberId, OneTimeToken, PasswordHashString, SecurityEvent,
    SecurityEventKind, Session, SessionId, StoreError, Timestamp, TokenHash, TokenPurpose,
};
use sea_orm::sea_query::Expr;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, RuntimeErr, SqlErr, Statement,
};
use sea_orm_migration::MigratorTrait;

mod cache;
mod entity;
mod factors;
#[cfg(feature = "test-fixtures")]
pub mod fixtures;
mod incidents;
mod migration;
mod office;
mod privacy;
mod receipts;
mod shop;
mod stats;
mod unit;

use cache::ReadCache;
use entity::{member, rate_limit, security_event, session, token};
pub use migration::Migrator;

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

/// All storage ports on one sea-orm connection pool.
#[derive(Debug, Clone)]
pub struct SqlStore {
    pub(crate) db: DatabaseConnection,
    pub(crate) cache: Arc<ReadCache>,
    /// SQLite has one writer: writes take turns here, in order, instead of colliding in the
    /// database, where a loser sleeps in SQLite's busy handler (1 ms, 2 ms, 5 ms, …) while
    /// others get ahead. `None` on PostgreSQL, whose writers lock rows, not the database.
    writer: Option<Arc<tokio::sync::Mutex<()>>>,
    /// SQLite: payment events waiting for the writer's turn, applied together in one
    /// transaction by whichever of their callers gets the turn first (group commit).
    pub(crate) waiting_events: Arc<std::sync::Mutex<Vec<shop::WaitingEvent>>>,
}

/// A writer's turn on SQLite (nothing on PostgreSQL); the write is over when it is dropped.
pub(crate) type Turn = Option<tokio::sync::OwnedMutexGuard<()>>;

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

    /// Waits for this writer's turn (see [`SqlStore`]); hold it until the write is committed.
    pub(crate) async fn turn(&self) -> Turn {
        match &self.writer {
            Some(writer) => Some(Arc::clone(writer).lock_owned().await),
            None => None,
        }
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
            .map_err(|e| BackupError::Store(store_error(e)))?;
        Ok(())
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

/// Translates driver errors portably: unique and foreign-key violations become conflicts,
/// connection trouble becomes unavailability.
pub(crate) fn store_error(e: DbErr) -> StoreError {
    if let Some(SqlErr::UniqueConstraintViolation(_) | SqlErr::ForeignKeyConstraintViolation(_)) =
        e.sql_err()
    {
        return StoreError::Conflict;
    }
    match e {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => StoreError::Unavailable(Box::new(e)),
        DbErr::Exec(RuntimeErr::SqlxError(ref s)) | DbErr::Query(RuntimeErr::SqlxError(ref s))
            if is_transient(s) =>
        {
            StoreError::Unavailable(Box::new(e))
        }
        other => StoreError::Other(Box::new(other)),
    }
}

fn is_transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error as E;
    matches!(
        e,
        E::Io(_) | E::PoolTimedOut | E::PoolClosed | E::WorkerCrashed | E::Tls(_)
    )
}

#[derive(Debug, thiserror::Error)]
#[error("corrupt {0} in storage")]
struct Corrupt(&'static str);

pub(crate) fn corrupt(what: &'static str) -> StoreError {
    StoreError::Other(Box::new(Corrupt(what)))
}

pub(crate) fn millis(t: Timestamp) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

pub(crate) fn from_millis(ms: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(|_| corrupt("time"))
}

pub(crate) fn hash_bytes(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes)
        .map(TokenHash::from_bytes)
        .map_err(|_| corrupt("token hash"))
}

pub(crate) fn to_member(row: member::Model) -> Result<Member, StoreError> {
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

fn member_row(m: &Member) -> member::ActiveModel {
    member::ActiveModel {
        id: Set(*m.id.as_uuid()),
        email: Set(m.email.as_str().to_owned()),
        email_verified_at: Set(m.email_verified_at.map(millis)),
        password_hash: Set(m.password_hash.as_str().to_owned()),
        display_name: Set(m.display_name.as_str().to_owned()),
        language: Set(m.language.tag().to_owned()),
        created_at: Set(millis(m.created_at)),
    }
}

/// The writes the ports and units of work share, on a pool or inside a transaction.
pub(crate) async fn insert_member(db: &impl ConnectionTrait, m: &Member) -> Result<(), StoreError> {
    member::Entity::insert(member_row(m))
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn update_member(db: &impl ConnectionTrait, m: &Member) -> Result<(), StoreError> {
    let result = member::Entity::update_many()
        .set(member_row(m))
        .filter(member::Column::Id.eq(*m.id.as_uuid()))
        .exec(db)
        .await
        .map_err(store_error)?;
    if result.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub(crate) async fn insert_session(
    db: &impl ConnectionTrait,
    s: &Session,
) -> Result<(), StoreError> {
    let row = session::ActiveModel {
        id: Set(*s.id.as_uuid()),
        member_id: Set(*s.member_id.as_uuid()),
        token_hash: Set(s.token_hash.as_bytes().to_vec()),
        created_at: Set(millis(s.created_at)),
        last_seen_at: Set(millis(s.last_seen_at)),
        expires_at: Set(millis(s.expires_at)),
        browser: Set(s.browser.clone()),
        first_factor: Set(s.assurance.first.as_str().to_owned()),
        second_factor: Set(s.assurance.second.map(|f| f.as_str().to_owned())),
        authenticated_at: Set(millis(s.assurance.authenticated_at)),
        second_factor_enrolled: Set(s.second_factor_enrolled),
    };
    session::Entity::insert(row)
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(())
}

pub(crate) async fn delete_session(
    db: &impl ConnectionTrait,
    id: SessionId,
) -> Result<bool, StoreError> {
    let result = session::Entity::delete_by_id(*id.as_uuid())
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(result.rows_affected > 0)
}

pub(crate) async fn delete_sessions(
    db: &impl ConnectionTrait,
    member: MemberId,
    keep: Option<SessionId>,
) -> Result<u64, StoreError> {
    let mut query =
        session::Entity::delete_many().filter(session::Column::MemberId.eq(*member.as_uuid()));
    if let Some(keep) = keep {
        query = query.filter(session::Column::Id.ne(*keep.as_uuid()));
    }
    Ok(query.exec(db).await.map_err(store_error)?.rows_affected)
}

pub(crate) async fn insert_token(
    db: &impl ConnectionTrait,
    t: &OneTimeToken,
) -> Result<(), StoreError> {
    let row = token::ActiveModel {
        hash: Set(t.hash.as_bytes().to_vec()),
        member_id: Set(*t.member_id.as_uuid()),
        purpose: Set(t.purpose.as_str().to_owned()),
        new_email: Set(t.new_email.as_ref().map(|e| e.as_str().to_owned())),
        created_at: Set(millis(t.created_at)),
        expires_at: Set(millis(t.expires_at)),
    };
    token::Entity::insert(row)
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Deletes the token; whether this call removed it (only one caller does).
pub(crate) async fn take_token(
    db: &impl ConnectionTrait,
    hash: &TokenHash,
) -> Result<bool, StoreError> {
    let deleted = token::Entity::delete_by_id(hash.as_bytes().to_vec())
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(deleted.rows_affected == 1)
}

pub(crate) async fn delete_tokens(
    db: &impl ConnectionTrait,
    member: MemberId,
    purpose: TokenPurpose,
) -> Result<u64, StoreError> {
    let result = token::Entity::delete_many()
        .filter(token::Column::MemberId.eq(*member.as_uuid()))
        .filter(token::Column::Purpose.eq(purpose.as_str()))
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(result.rows_affected)
}

pub(crate) async fn record_event(
    db: &impl ConnectionTrait,
    e: &SecurityEvent,
) -> Result<(), StoreError> {
    let row = security_event::ActiveModel {
        id: Set(e.id),
        at: Set(millis(e.at)),
        member_id: Set(e.member_id.map(|m| *m.as_uuid())),
        session_id: Set(e.session_id.map(|s| *s.as_uuid())),
        kind: Set(e.kind.as_str().to_owned()),
    };
    security_event::Entity::insert(row)
        .exec(db)
        .await
        .map_err(store_error)?;
    Ok(())
}

/// Erases the member's personal data inside `txn` (see [`Erasure::erase`]).
pub(crate) async fn erase_member(
    txn: &sea_orm::DatabaseTransaction,
    member: MemberId,
) -> Result<(), StoreError> {
    let id = *member.as_uuid();
    // A write first: on SQLite it takes the write lock before anything is read.
    entity::consent_record::Entity::delete_many()
        .filter(entity::consent_record::Column::MemberId.eq(id))
        .exec(txn)
        .await
        .map_err(store_error)?;
    let Some(row) = member::Entity::find_by_id(id)
        .one(txn)
        .await
        .map_err(store_error)?
    else {
        return Err(StoreError::NotFound);
    };
    security_event::Entity::delete_many()
        .filter(security_event::Column::MemberId.eq(id))
        .exec(txn)
        .await
        .map_err(store_error)?;
    session::Entity::delete_many()
        .filter(session::Column::MemberId.eq(id))
        .exec(txn)
        .await
        .map_err(store_error)?;
    token::Entity::delete_many()
        .filter(token::Column::MemberId.eq(id))
        .exec(txn)
        .await
        .map_err(store_error)?;
    factors::erase(txn, member).await?;
    unit::erase_inquiries(txn, member, &row.email).await?;
    let removed = member::Entity::delete_by_id(id)
        .exec(txn)
        .await
        .map_err(store_error)?;
    if removed.rows_affected == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

#[async_trait]
impl Members for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, m: &Member) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        insert_member(&self.db, m).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: MemberId) -> Result<Option<Member>, StoreError> {
        if let Some(member) = self.cache.member(id) {
            return Ok(Some(member));
        }
        let ticket = self.cache.ticket();
        let row = member::Entity::find_by_id(*id.as_uuid())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        let member = row.map(to_member).transpose()?;
        if let Some(member) = &member {
            self.cache.keep_member(ticket, member);
        }
        Ok(member)
    }

    #[tracing::instrument(skip_all)]
    async fn by_email(&self, email: &Email) -> Result<Option<Member>, StoreError> {
        let row = member::Entity::find()
            .filter(member::Column::Email.eq(email.as_str()))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(to_member).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn update(&self, m: &Member) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let result = update_member(&self.db, m).await;
        self.cache.forget_member(m.id);
        result
    }
}

fn to_session(row: session::Model) -> Result<Session, StoreError> {
    Ok(Session {
        id: SessionId::from_uuid(row.id),
        member_id: MemberId::from_uuid(row.member_id),
        token_hash: hash_bytes(&row.token_hash)?,
        created_at: from_millis(row.created_at)?,
        last_seen_at: from_millis(row.last_seen_at)?,
        expires_at: from_millis(row.expires_at)?,
        browser: row.browser,
        assurance: Assurance {
            first: Factor::from_name(&row.first_factor).ok_or_else(|| corrupt("first factor"))?,
            second: row
                .second_factor
                .map(|name| Factor::from_name(&name).ok_or_else(|| corrupt("second factor")))
                .transpose()?,
            authenticated_at: from_millis(row.authenticated_at)?,
        },
        second_factor_enrolled: row.second_factor_enrolled,
    })
}

#[async_trait]
impl Sessions for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, s: &Session) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        insert_session(&self.db, s).await
    }

    #[tracing::instrument(skip_all)]
    async fn by_token_hash(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        if let Some(session) = self.cache.session(hash) {
            return Ok(Some(session));
        }
        let ticket = self.cache.ticket();
        let row = session::Entity::find()
            .filter(session::Column::TokenHash.eq(hash.as_bytes().to_vec()))
            .one(&self.db)
            .await
            .map_err(store_error)?;
        let session = row.map(to_session).transpose()?;
        if let Some(session) = &session {
            self.cache.keep_session(ticket, session);
        }
        Ok(session)
    }

    #[tracing::instrument(skip_all)]
    async fn touch(&self, id: SessionId, at: Timestamp) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        let result = session::Entity::update_many()
            .col_expr(session::Column::LastSeenAt, Expr::value(millis(at)))
            .filter(session::Column::Id.eq(*id.as_uuid()))
            .exec(&self.db)
            .await;
        self.cache.forget_session(id);
        let result = result.map_err(store_error)?;
        if result.rows_affected == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(&self, member: MemberId) -> Result<Vec<Session>, StoreError> {
        session::Entity::find()
            .filter(session::Column::MemberId.eq(*member.as_uuid()))
            .order_by_desc(session::Column::CreatedAt)
            .order_by_desc(session::Column::Id)
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(to_session)
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn delete(&self, id: SessionId) -> Result<bool, StoreError> {
        let _turn = self.turn().await;
        let result = delete_session(&self.db, id).await;
        self.cache.forget_session(id);
        result
    }

    #[tracing::instrument(skip_all)]
    async fn delete_for_member(
        &self,
        member: MemberId,
        keep: Option<SessionId>,
    ) -> Result<u64, StoreError> {
        let _turn = self.turn().await;
        let result = delete_sessions(&self.db, member, keep).await;
        self.cache.forget_member(member);
        result
    }
}

fn to_token(row: token::Model) -> Result<OneTimeToken, StoreError> {
    Ok(OneTimeToken {
        hash: hash_bytes(&row.hash)?,
        member_id: MemberId::from_uuid(row.member_id),
        purpose: TokenPurpose::from_name(&row.purpose).ok_or_else(|| corrupt("token purpose"))?,
        new_email: row
            .new_email
            .as_deref()
            .map(Email::parse)
            .transpose()
            .map_err(|_| corrupt("email"))?,
        created_at: from_millis(row.created_at)?,
        expires_at: from_millis(row.expires_at)?,
    })
}

#[async_trait]
impl Tokens for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, t: &OneTimeToken) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        insert_token(&self.db, t).await
    }

    #[tracing::instrument(skip_all)]
    async fn find(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        let row = token::Entity::find_by_id(hash.as_bytes().to_vec())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        row.map(to_token).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn take(&self, hash: &TokenHash) -> Result<Option<OneTimeToken>, StoreError> {
        let _turn = self.turn().await;
        let Some(found) = self.find(hash).await? else {
            return Ok(None);
        };
        Ok(take_token(&self.db, hash).await?.then_some(found))
    }

    #[tracing::instrument(skip_all)]
    async fn delete_for_member(
        &self,
        member: MemberId,
        purpose: TokenPurpose,
    ) -> Result<u64, StoreError> {
        let _turn = self.turn().await;
        delete_tokens(&self.db, member, purpose).await
    }
}

#[async_trait]
impl AuditLog for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn record(&self, e: &SecurityEvent) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        record_event(&self.db, e).await
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(
        &self,
        member: MemberId,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, StoreError> {
        security_event::Entity::find()
            .filter(security_event::Column::MemberId.eq(*member.as_uuid()))
            .order_by_desc(security_event::Column::At)
            .order_by_desc(security_event::Column::Id)
            .limit(u64::from(limit))
            .all(&self.db)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|row| {
                Ok(SecurityEvent {
                    id: row.id,
                    at: from_millis(row.at)?,
                    member_id: row.member_id.map(MemberId::from_uuid),
                    session_id: row.session_id.map(SessionId::from_uuid),
                    kind: SecurityEventKind::from_name(&row.kind)
                        .ok_or_else(|| corrupt("event kind"))?,
                })
            })
            .collect()
    }
}

/// One statement that starts or extends a window, so concurrent hits never lose a count.
/// Placeholders first appear in the order `$1, $2, $3`, which both backends bind by position.
const HIT_SQL: &str = "INSERT INTO rate_limits (bucket, hits, window_ends_at) VALUES ($1, 1, $2) \
     ON CONFLICT (bucket) DO UPDATE SET \
     hits = CASE WHEN rate_limits.window_ends_at > $3 THEN rate_limits.hits + 1 ELSE 1 END, \
     window_ends_at = CASE WHEN rate_limits.window_ends_at > $3 THEN rate_limits.window_ends_at ELSE $2 END \
     RETURNING hits, window_ends_at";

fn to_hits(hits: i64, window_ends_at: i64) -> Result<Hits, StoreError> {
    Ok(Hits {
        count: u32::try_from(hits).map_err(|_| corrupt("hit count"))?,
        window_ends_at: from_millis(window_ends_at)?,
    })
}

#[async_trait]
impl RateLimits for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn hit(&self, key: &str, window: Duration, now: Timestamp) -> Result<Hits, StoreError> {
        let _turn = self.turn().await;
        let backend = self.db.get_database_backend();
        let ends = millis(now + window);
        let statement = Statement::from_sql_and_values(
            backend,
            HIT_SQL,
            [key.into(), ends.into(), millis(now).into()],
        );
        let row = self
            .db
            .query_one_raw(statement)
            .await
            .map_err(store_error)?
            .ok_or_else(|| corrupt("hit"))?;
        let hits: i64 = row.try_get_by_index(0).map_err(store_error)?;
        let window_ends_at: i64 = row.try_get_by_index(1).map_err(store_error)?;
        to_hits(hits, window_ends_at)
    }

    #[tracing::instrument(skip_all)]
    async fn peek(&self, key: &str, now: Timestamp) -> Result<Hits, StoreError> {
        let row = rate_limit::Entity::find_by_id(key.to_owned())
            .one(&self.db)
            .await
            .map_err(store_error)?;
        match row {
            Some(row) if row.window_ends_at > millis(now) => to_hits(row.hits, row.window_ends_at),
            _ => Ok(Hits {
                count: 0,
                window_ends_at: now,
            }),
        }
    }

    #[tracing::instrument(skip_all)]
    async fn reset(&self, key: &str) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        rate_limit::Entity::delete_by_id(key.to_owned())
            .exec(&self.db)
            .await
            .map_err(store_error)?;
        Ok(())
    }
}

#[async_trait]
impl Erasure for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn erase(&self, member: MemberId) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(store_error)?;
        let result = match erase_member(&txn, member).await {
            Ok(()) => txn.commit().await.map_err(store_error),
            Err(e) => Err(e),
        };
        self.cache.forget_member(member);
        result
    }
}

#[async_trait]
impl kikeru_domain::retention::Retention for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn purge(
        &self,
        c: &kikeru_domain::retention::Cutoffs,
    ) -> Result<kikeru_domain::retention::Purged, StoreError> {
        use sea_orm::{ConnectionTrait, QuerySelect, Statement};
        let mut purged = kikeru_domain::retention::Purged::default();
        let stale: Vec<uuid::Uuid> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .filter(member::Column::EmailVerifiedAt.is_null())
            .filter(member::Column::CreatedAt.lt(millis(c.unverified_created_before)))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(store_error)?;
        for id in stale {
            // Another node may have erased it first; that is the same outcome.
            match self.erase(MemberId::from_uuid(id)).await {
                Ok(()) => purged.unverified_accounts += 1,
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let sessions = session::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(session::Column::ExpiresAt.lte(millis(c.now)))
                    .add(session::Column::LastSeenAt.lt(millis(c.sessions_seen_before))),
            )
            .exec(&self.db)
            .await;
        self.cache.forget_all();
        purged.sessions = sessions.map_err(store_error)?.rows_affected;
        purged.tokens = token::Entity::delete_many()
            .filter(token::Column::ExpiresAt.lte(millis(c.now)))
            .exec(&self.db)
            .await
            .map_err(store_error)?
            .rows_affected;
        let backend = self.db.get_database_backend();
        // The orders go with their payments (by foreign key) and, in the same transaction,
        // their receipts and return invoices: accounting records leave together.
        let accounting = Statement::from_sql_and_values(
            backend,
            "DELETE FROM orders WHERE created_at < $1 AND member_id NOT IN (SELECT id FROM members)",
            [millis(c.accounting_before).into()],
        );
        {
            use sea_orm::TransactionTrait;
            let _turn = self.turn().await;
            let txn = self.db.begin().await.map_err(store_error)?;
            purged.accounting_orders = txn
                .execute_raw(accounting)
                .await
                .map_err(store_error)?
                .rows_affected();
            for table in ["receipts", "return_invoices"] {
                txn.execute_unprepared(&format!(
                    "DELETE FROM {table} WHERE order_id NOT IN (SELECT id FROM orders)"
                ))
                .await
                .map_err(store_error)?;
            }
            txn.commit().await.map_err(store_error)?;
        }
        let ledger = Statement::from_sql_and_values(
            backend,
            "DELETE FROM ledger_entries WHERE at < $1",
            [millis(c.ledger_before).into()],
        );
        purged.ledger_entries = self
            .db
            .execute_raw(ledger)
            .await
            .map_err(store_error)?
            .rows_affected();
        (purged.settled_mail, purged.inquiries) = unit::purge(&self.db, c).await?;
        Ok(purged)
    }
}
