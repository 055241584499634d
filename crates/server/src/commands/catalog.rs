//! `kikeru catalog import FILE`: a catalogue file (TOML or CSV) into the shop, audited.

use std::path::Path;

use anyhow::Context;

use crate::config::Config;
use crate::wiring::prepare;

/// Imports the catalogue `file`.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn import(config: &Config, file: &Path) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let drafts = crate::catalog::read(file, &config.media_dir)?;
    let summary = state
        .services
        .shop
        .import(drafts)
        .await
        .context("importing the catalogue")?;
    let detail = format!(
        "created={} updated={} unchanged={} (command line)",
        summary.created, summary.updated, summary.unchanged
    );
    state
        .services
        .office
        .audit(None, "catalog.updated", &detail)
        .await
        .context("auditing the import")?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "catalogue imported"
    );
    Ok(())
}
