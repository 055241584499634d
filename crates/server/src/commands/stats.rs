//! `kikeru stats export`: the anonymous access statistics, as CSV or JSON.

use anyhow::Context;

use crate::adapters::SystemClock;
use crate::config::Config;
use crate::wiring::prepare;

/// Prints the last `days` days in `format`.
///
/// # Errors
/// Any failure, with context.
pub(crate) async fn export(config: &Config, format: &str, days: u16) -> anyhow::Result<()> {
    use kikeru_domain::ports::Clock;
    use kikeru_domain::privacy::ports::Statistics;
    if format != "csv" && format != "json" {
        anyhow::bail!("--format: use csv or json");
    }
    if days == 0 {
        anyhow::bail!("--days: at least 1");
    }
    let (store, _) = prepare(config).await?;
    let today = SystemClock.now().date();
    store
        .roll_up(today)
        .await
        .context("rolling up the statistics")?;
    let to = today.previous_day().unwrap_or(today);
    let from = to - time::Duration::days(i64::from(days) - 1);
    let counts = store
        .daily(from, to)
        .await
        .context("reading the statistics")?;
    let report = kikeru_domain::privacy::stats::report(&counts, config.stats_min_count);
    if format == "json" {
        crate::emit(&format!("{:#}\n", kikeru_http::report_json(&report)))
    } else {
        crate::emit(&kikeru_http::report_csv(&report))
    }
}
