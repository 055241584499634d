//! `kikeru operator add`: a new operator, their password read from standard input.

use anyhow::Context;
use kikeru_domain::office::operators::Role;

use crate::config::Config;
use crate::wiring::prepare;

/// Adds an operator with `email` and `role`.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn add(config: &Config, email: &str, role: &str) -> anyhow::Result<()> {
    let email = kikeru_domain::Email::parse(email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
    let role =
        Role::from_name(role).ok_or_else(|| anyhow::anyhow!("--role: use operator or admin"))?;
    let mut password = String::new();
    std::io::stdin()
        .read_line(&mut password)
        .context("reading the password from standard input")?;
    let password = password.trim_end_matches(['\r', '\n']);
    let (_, state) = prepare(config).await?;
    let operator = state
        .services
        .office
        .add_operator(email, password, role)
        .await
        .context("adding the operator")?;
    tracing::info!(operator = %operator.id, role = role.as_str(), "operator added");
    Ok(())
}
