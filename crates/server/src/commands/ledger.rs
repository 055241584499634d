//! `kikeru ledger verify`: checks the hash chain of the record of provision to third parties.

use anyhow::Context;

use crate::config::Config;
use crate::wiring::prepare;

/// Verifies the ledger.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn verify(config: &Config) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let entries = state
        .services
        .disclosures
        .verify()
        .await
        .context("verifying the ledger")?;
    crate::emit(&format!("the ledger is intact: {entries} entries\n"))
}
