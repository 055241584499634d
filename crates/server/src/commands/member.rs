//! `kikeru member reseal` and `kikeru member reset-second-factor`.

use anyhow::Context;

use crate::config::Config;
use crate::wiring::prepare;

/// Seals every authenticator-app secret again under the current key.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn reseal(config: &Config) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let report = state
        .services
        .membership
        .reseal_secrets()
        .await
        .context("sealing the secrets again")?;
    state
        .services
        .office
        .audit(None, "secrets.resealed", &format!("{report:?}"))
        .await
        .context("auditing the re-seal")?;
    tracing::info!(
        resealed = report.resealed,
        current = report.current,
        changed = report.changed,
        unreadable = report.unreadable,
        "authenticator-app secrets sealed under the current key"
    );
    if report.unreadable > 0 {
        anyhow::bail!(
            "{} secret(s) opened with no configured key: those members must set up their authenticator app again (or kikeru member reset-second-factor)",
            report.unreadable
        );
    }
    Ok(())
}

/// Removes every second factor of the member named by ID or address.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn reset_second_factor(
    config: &Config,
    member: Option<uuid::Uuid>,
    email: Option<String>,
) -> anyhow::Result<()> {
    let email = email
        .map(|e| kikeru_domain::Email::parse(&e))
        .transpose()
        .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let (store, state) = prepare(config).await?;
    let id = match (member, email) {
        (Some(id), _) => kikeru_domain::MemberId::from_uuid(id),
        (None, Some(email)) => {
            kikeru_domain::ports::Members::by_email(&store, &email)
                .await
                .context("finding the member")?
                .ok_or_else(|| anyhow::anyhow!("no member has this address"))?
                .id
        }
        (None, None) => anyhow::bail!("name the member with --member or --email"),
    };
    state
        .services
        .membership
        .reset_second_factor(id)
        .await
        .map_err(|e| anyhow::anyhow!("resetting the second factor: {e}"))?;
    state
        .services
        .office
        .audit(None, "member.second_factor_reset", &format!("member {id}"))
        .await
        .context("auditing the reset")?;
    tracing::info!(member = %id, "every second factor removed; the member was told by mail");
    Ok(())
}
