//! `kikeru policy publish` and `kikeru policy list`: versions of the privacy policy, and the
//! notice of a new one to every member by mail.

use anyhow::{Context, bail};

use crate::config::Config;
use crate::wiring::prepare;

/// Publishes the next version and tells the members (or resumes the notice of that version
/// when it was published already).
///
/// # Errors
/// A date that is not `YYYY-MM-DD`, a refused version (with the reason), or a failure.
pub(crate) async fn publish(
    config: &Config,
    number: u32,
    effective: &str,
    changes_ja: &str,
    changes_en: &str,
) -> anyhow::Result<()> {
    let Ok(day) = time::Date::parse(
        effective.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    ) else {
        bail!("--effective: {effective:?} is not a date as YYYY-MM-DD");
    };
    let (_, state) = prepare(config).await?;
    let policy = &state.services.policy;
    let published = policy
        .versions()
        .await
        .context("reading the published versions")?
        .into_iter()
        .any(|v| v.number == number);
    let version = if published {
        policy.notify(number).await
    } else {
        policy
            .publish(None, number, day, changes_ja, changes_en)
            .await
    }
    .map_err(|e| anyhow::anyhow!("version {number} was not published: {e}"))?;
    if let Err(e) = state
        .services
        .office
        .audit(
            None,
            "policy.published",
            &format!("privacy policy version {number} (command line)"),
        )
        .await
    {
        tracing::error!(error = %e, "the publication could not be audited");
    }
    crate::emit(&format!(
        "version {} takes effect on {}; {} members told by mail\n",
        version.number, version.effective, version.notice_sent
    ))
}

/// Lists the published versions.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn list(config: &Config) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let versions = state
        .services
        .policy
        .versions()
        .await
        .context("reading the published versions")?;
    let mut text = String::from("version 1: the first, in force since 2026-12-05\n");
    for v in versions {
        text.push_str(&format!(
            "version {}: takes effect {}; {} members told{}\n",
            v.number,
            v.effective,
            v.notice_sent,
            if v.notice_done {
                ""
            } else {
                " (notice unfinished: publish again to resume)"
            }
        ));
    }
    crate::emit(&text)
}
