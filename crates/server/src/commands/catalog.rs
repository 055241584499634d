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
    let progress = crate::progress::Progress::bar(3, "reading the catalogue");
    let drafts = crate::catalog::read(file, &config.media_dir);
    progress.advance(1);
    let drafts = match drafts {
        Ok(drafts) => drafts,
        Err(e) => {
            progress.finish();
            return Err(e.into());
        }
    };
    progress.step("saving the products");
    let summary = state.services.shop.import(drafts).await;
    progress.advance(1);
    progress.step("auditing the import");
    let summary = match summary.context("importing the catalogue") {
        Ok(summary) => summary,
        Err(e) => {
            progress.finish();
            return Err(e);
        }
    };
    let detail = format!(
        "created={} updated={} unchanged={} (command line)",
        summary.created, summary.updated, summary.unchanged
    );
    let audited = state
        .services
        .office
        .audit(None, "catalog.updated", &detail)
        .await
        .context("auditing the import");
    progress.advance(1);
    progress.finish();
    audited?;
    tracing::info!(
        created = summary.created,
        updated = summary.updated,
        unchanged = summary.unchanged,
        "catalogue imported"
    );
    Ok(())
}
