//! `kikeru backup FILE`: a consistent copy of the SQLite database.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use crate::wiring::open_store;

/// Writes the backup to `file`.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn run(config: &Config, file: &Path) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let progress = crate::progress::Progress::spinner("copying the database");
    let copied = store.backup_to(file).await;
    progress.finish();
    copied.with_context(|| format!("backing up to {}", file.display()))?;
    tracing::info!(file = %file.display(), "backup written");
    Ok(())
}
