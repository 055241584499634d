//! `kikeru mail ingest | lmtp | deliver | status`: mail to the service, and the outbox.

use anyhow::Context;

use crate::config::Config;
use crate::mail;
use crate::wiring::prepare;

/// Takes one message from standard input as an inquiry (sysexits codes for the MTA).
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn ingest(config: &Config) -> anyhow::Result<()> {
    let state = match prepare(config).await {
        Ok((_, state)) => state,
        Err(e) => {
            return Err(mail::Exit {
                code: mail::EX_TEMPFAIL,
                message: format!("{e:#}"),
            }
            .into());
        }
    };
    let outcome = mail::ingest(&state.services.contact, config.mail_max_inbound_bytes).await?;
    tracing::info!("{outcome}");
    Ok(())
}

/// Serves LMTP on `listen` until a shutdown signal.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn lmtp(config: &Config, listen: std::net::SocketAddr) -> anyhow::Result<()> {
    let shutdown = super::serve::shutdown_signal()?;
    let (_, state) = prepare(config).await?;
    mail::serve_lmtp(
        listen,
        state.services.contact.clone(),
        mail::LmtpLimits::new(config.mail_max_inbound_bytes),
        shutdown,
    )
    .await
}

/// Delivers every mail due, then returns.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn deliver(config: &Config) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let postman = state.services.postman.clone();
    loop {
        let round = postman.deliver_due().await.context("delivering mail")?;
        tracing::info!(
            sent = round.sent,
            retrying = round.retrying,
            failed = round.failed,
            "mail delivered"
        );
        if round.claimed() == 0 {
            return Ok(());
        }
    }
}

/// Prints the outbox's counts.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn status(config: &Config) -> anyhow::Result<()> {
    use kikeru_domain::mail::ports::Outbox;
    let (store, _) = prepare(config).await?;
    let counts = store.counts().await.context("counting the outbox")?;
    crate::emit(&format!(
        "waiting: {}\nsent: {}\ngiven up: {}\n",
        counts.pending, counts.sent, counts.failed
    ))
}
