//! `kikeru retention run`: removes what is past its retention period (the server also runs it
//! every hour).

use anyhow::Context;

use crate::adapters::SystemClock;
use crate::config::Config;
use crate::progress::Progress;
use crate::wiring::prepare;
use kikeru_store::SqlStore;

/// Purges once.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn run(config: &Config) -> anyhow::Result<()> {
    let (store, _) = prepare(config).await?;
    let progress = Progress::bar(3, "removing what is past its retention period");
    let done = purge_showing(&store, config, &progress, None).await;
    progress.finish();
    done
}

/// Removes what is past its retention period, counting each stage's run in `metrics`
/// (`retention`, `statistics`). Safe on several nodes at once.
pub(crate) async fn purge(
    store: &SqlStore,
    config: &Config,
    metrics: &kikeru_http::metrics::Metrics,
) -> anyhow::Result<()> {
    purge_showing(store, config, &Progress::none(), Some(metrics)).await
}

/// [`purge`], advancing `progress` one step per stage (records, statistics, raw hits).
async fn purge_showing(
    store: &SqlStore,
    config: &Config,
    progress: &Progress,
    metrics: Option<&kikeru_http::metrics::Metrics>,
) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let records = purge_records(store, config).await;
    if let Some(metrics) = metrics {
        metrics.job("retention", records.is_ok(), started.elapsed());
    }
    records?;
    progress.advance(1);
    progress.step("rolling up the access statistics");
    let started = std::time::Instant::now();
    let statistics = maintain_statistics(store, config, progress).await;
    if let Some(metrics) = metrics {
        metrics.job("statistics", statistics.is_ok(), started.elapsed());
    }
    statistics
}

/// Removes the records past their periods.
async fn purge_records(store: &SqlStore, config: &Config) -> anyhow::Result<()> {
    use kikeru_domain::ports::Clock;
    use kikeru_domain::privacy::ports::Retention;
    let cutoffs = config.retention.cutoffs(SystemClock.now());
    let purged = store
        .purge(&cutoffs)
        .await
        .context("purging what is past its retention period")?;
    tracing::info!(
        unverified_accounts = purged.unverified_accounts,
        sessions = purged.sessions,
        tokens = purged.tokens,
        accounting_orders = purged.accounting_orders,
        ledger_entries = purged.ledger_entries,
        inquiries = purged.inquiries,
        settled_mail = purged.settled_mail,
        rate_limits = purged.rate_limits,
        operator_events = purged.operator_events,
        "retention run"
    );
    Ok(())
}

/// Rolls the raw access records up into daily counts and removes those past their period.
async fn maintain_statistics(
    store: &SqlStore,
    config: &Config,
    progress: &Progress,
) -> anyhow::Result<()> {
    use kikeru_domain::ports::Clock;
    use kikeru_domain::privacy::ports::Statistics;
    let now = SystemClock.now();
    let days = store
        .roll_up(now.date())
        .await
        .context("rolling up the access statistics")?;
    progress.advance(1);
    progress.step("removing raw access records");
    let hits = store
        .purge_hits(now - config.stats_retention)
        .await
        .context("purging raw access records")?;
    progress.advance(1);
    tracing::info!(
        days_rolled_up = days,
        raw_hits_purged = hits,
        "statistics maintained"
    );
    Ok(())
}
