//! Disposable databases for tests: a temporary SQLite file, or a fresh PostgreSQL schema.
//!
//! PostgreSQL runs when `KIKERU_TEST_POSTGRES_URL` is set (e.g.
//! `postgres://postgres@127.0.0.1:5432/test`). When it is not, [`postgres`] says so on standard
//! error and returns `None` — except under `CI`, where a missing URL fails the test: CI must
//! never skip PostgreSQL. Each fixture gets its own schema, dropped after a passing test; set
//! `KIKERU_TEST_KEEP=1` to keep it.

use std::ops::Deref;
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};

use crate::{SqlStore, StoreConfig};

/// A migrated, empty store that cleans up after itself via [`Fixture::teardown`].
#[derive(Debug)]
pub struct Fixture {
    store: SqlStore,
    url: String,
    schema: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

impl Deref for Fixture {
    type Target = SqlStore;
    fn deref(&self) -> &SqlStore {
        &self.store
    }
}

impl Fixture {
    /// The database URL (for starting a binary on the same database).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The PostgreSQL schema, if any.
    pub fn schema(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// Drops the PostgreSQL schema (unless `KIKERU_TEST_KEEP` is set); the SQLite file goes
    /// with its temporary directory.
    ///
    /// # Panics
    /// When the schema cannot be dropped.
    #[allow(clippy::expect_used, reason = "test fixture")]
    pub async fn teardown(self) {
        if let Some(schema) = &self.schema
            && std::env::var_os("KIKERU_TEST_KEEP").is_none()
        {
            let sql = format!("DROP SCHEMA \"{schema}\" CASCADE");
            self.store
                .connection()
                .execute_unprepared(&sql)
                .await
                .expect("drop schema");
        }
        let _ = self.store.close().await;
    }
}

/// A fresh SQLite database in a temporary directory, migrated.
///
/// # Panics
/// When the file cannot be created or migrated.
#[allow(clippy::expect_used, reason = "test fixture")]
pub async fn sqlite() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temporary directory");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("kikeru.db").display()
    );
    let store = SqlStore::connect(&StoreConfig::new(url.clone()))
        .await
        .expect("open SQLite");
    store.migrate().await.expect("migrate SQLite");
    Some(Fixture {
        store,
        url,
        schema: None,
        _dir: Some(dir),
    })
}

/// A fresh schema on the PostgreSQL server named by `KIKERU_TEST_POSTGRES_URL`, migrated.
///
/// # Panics
/// When the URL is missing under `CI`, or the server refuses.
#[allow(clippy::expect_used, clippy::panic, reason = "test fixture")]
pub async fn postgres() -> Option<Fixture> {
    let url = postgres_url()?;
    let schema = unique_schema();
    let admin = Database::connect(url.as_str())
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create schema");
    admin.close().await.expect("close");
    let mut config = StoreConfig::new(url.clone());
    config.schema = Some(schema.clone());
    config.max_connections = 4;
    let store = SqlStore::connect(&config).await.expect("open PostgreSQL");
    store.migrate().await.expect("migrate PostgreSQL");
    Some(Fixture {
        store,
        url,
        schema: Some(schema),
        _dir: None,
    })
}

/// The server's URL, or `None` after saying loudly that the test is skipped.
#[allow(
    clippy::panic,
    clippy::print_stderr,
    reason = "a skipped backend must be visible"
)]
fn postgres_url() -> Option<String> {
    if let Ok(url) = std::env::var("KIKERU_TEST_POSTGRES_URL") {
        return Some(url);
    }
    if std::env::var_os("CI").is_some() {
        panic!("KIKERU_TEST_POSTGRES_URL is not set: CI must run the PostgreSQL suites");
    }
    // The test harness names each test's thread after the test.
    let test = std::thread::current().name().unwrap_or("a test").to_owned();
    eprintln!("SKIPPED {test} (PostgreSQL): set KIKERU_TEST_POSTGRES_URL to run it on PostgreSQL");
    None
}

#[allow(
    clippy::disallowed_methods,
    reason = "a unique name, not a domain time"
)]
fn unique_schema() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "kikeru_test_{}_{}_{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A throwaway PostgreSQL database for a test that starts the binary; [`TestDatabase::drop`]
/// removes it.
#[derive(Debug)]
pub struct TestDatabase {
    /// The URL of the new database.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// Drops the database (unless `KIKERU_TEST_KEEP` is set).
    ///
    /// # Panics
    /// When the server refuses.
    #[allow(clippy::expect_used, reason = "test fixture")]
    pub async fn drop(self) {
        if std::env::var_os("KIKERU_TEST_KEEP").is_some() {
            return;
        }
        let admin = Database::connect(self.admin_url.as_str())
            .await
            .expect("connect to PostgreSQL");
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        admin.execute_unprepared(&sql).await.expect("drop database");
        let _ = admin.close().await;
    }
}

/// A fresh, empty database on the server named by `KIKERU_TEST_POSTGRES_URL` (same skip rules
/// as [`postgres`]).
///
/// # Panics
/// When the URL is missing under `CI`, or the server refuses.
#[allow(clippy::expect_used, clippy::panic, reason = "test fixture")]
pub async fn postgres_database() -> Option<TestDatabase> {
    let admin_url = postgres_url()?;
    let name = unique_schema();
    let admin = Database::connect(admin_url.as_str())
        .await
        .expect("connect to PostgreSQL");
    admin
        .execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
        .await
        .expect("create database");
    let _ = admin.close().await;
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url.as_str(), None), |(b, q)| (b, Some(q)));
    let prefix = base.rsplit_once('/').map_or(base, |(prefix, _)| prefix);
    let url = match query {
        Some(q) => format!("{prefix}/{name}?{q}"),
        None => format!("{prefix}/{name}"),
    };
    Some(TestDatabase {
        url,
        name,
        admin_url,
    })
}

/// Every value of `columns` in every row of `table`, one per line (black-box tests look for
/// values that must not be stored).
///
/// # Panics
/// When the table or a column does not exist.
#[allow(clippy::expect_used, clippy::missing_panics_doc)]
pub async fn text_of(store: &SqlStore, table: &str, columns: &[&str]) -> String {
    use sea_orm::{ConnectionTrait, Statement};
    let db = store.connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT {} FROM {table}", columns.join(", ")),
        ))
        .await
        .expect("the table");
    let mut text = String::new();
    for row in rows {
        for column in columns {
            if let Ok(value) = row.try_get::<String>("", column) {
                text.push_str(&value);
                text.push('\n');
            }
        }
    }
    text
}

/// Every row of every table of the store, as `(table, the row's values as text)` — what a test
/// searches for values that must be gone. UUIDs and bytes appear as the database prints them:
/// PostgreSQL's row text, SQLite's `quote()` (blobs as `X'…'` in upper-case hexadecimal).
///
/// # Panics
/// When the database refuses a query.
#[allow(clippy::expect_used, clippy::missing_panics_doc)]
pub async fn every_row(store: &SqlStore) -> Vec<(String, String)> {
    use sea_orm::{DbBackend, Statement};
    let db = store.connection();
    let backend = db.get_database_backend();
    let query = |sql: String| Statement::from_string(backend, sql);
    let listing = match backend {
        DbBackend::Sqlite => {
            "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        }
        _ => {
            "SELECT table_name::text AS t FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    }
    .to_owned();
    let tables: Vec<String> = db
        .query_all_raw(query(listing))
        .await
        .expect("the tables")
        .iter()
        .map(|row| row.try_get::<String>("", "t").expect("a table name"))
        .collect();
    let mut rows = Vec::new();
    for table in tables {
        let sql = match backend {
            DbBackend::Sqlite => {
                let columns = db
                    .query_all_raw(query(format!(
                        "SELECT name FROM pragma_table_info('{table}')"
                    )))
                    .await
                    .expect("the columns");
                let quoted: Vec<String> = columns
                    .iter()
                    .map(|c| {
                        let name = c.try_get::<String>("", "name").expect("a column name");
                        format!("quote(\"{name}\")")
                    })
                    .collect();
                format!(
                    "SELECT {} AS r FROM \"{table}\"",
                    quoted.join(" || ' | ' || ")
                )
            }
            _ => format!("SELECT t::text AS r FROM \"{table}\" AS t"),
        };
        for row in db.query_all_raw(query(sql)).await.expect("the rows") {
            rows.push((
                table.clone(),
                row.try_get::<String>("", "r").unwrap_or_default(),
            ));
        }
    }
    rows
}

/// Runs one SQL statement as it is written (black-box tests change rows by hand, the way an
/// operator at a database prompt would) and answers how many rows it touched.
///
/// # Panics
/// When the database refuses it.
#[allow(clippy::expect_used, clippy::missing_panics_doc)]
pub async fn execute(store: &SqlStore, sql: &str) -> u64 {
    use sea_orm::{ConnectionTrait, Statement};
    let db = store.connection();
    db.execute_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("the statement")
    .rows_affected()
}
