//! `kikeru migrate`: applies the database migrations.

use anyhow::Context;

use crate::config::Config;
use crate::wiring::open_store;

/// Migrates the database.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn run(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    store.migrate().await.context("migrating the database")?;
    tracing::info!("migrations applied");
    Ok(())
}
