//! `kikeru books export` and `kikeru books verify`: the books of a period, and their
//! reconciliation with the orders and payments.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context;
use kikeru_domain::office::books::render::{Table, csv, journal};
use kikeru_domain::office::books::{BookKeeper, Difference, Grouping, Period};

use crate::cli::PeriodArgs;
use crate::config::Config;
use crate::wiring::prepare;

/// The period the flags name, or this fiscal year.
fn period_of(books: &BookKeeper, args: &PeriodArgs) -> anyhow::Result<Period> {
    match (&args.from, &args.to) {
        (Some(from), Some(to)) => Period::parse(from, to).context("--from/--to"),
        _ => Ok(books.this_fiscal_year()),
    }
}

/// Prints (or writes to `output`) the books of the period in `format`.
///
/// # Errors
/// A bad flag, an existing output file, or a storage failure.
pub(crate) async fn export(
    config: &Config,
    period: &PeriodArgs,
    format: &str,
    table: &str,
    by: &str,
    output: Option<&Path>,
) -> anyhow::Result<()> {
    let grouping = Grouping::from_name(by)
        .with_context(|| format!("--by {by:?}: use day, month or fiscal-year"))?;
    let table = Table::from_name(table)
        .with_context(|| format!("--table {table:?}: use periods, rates, products or creators"))?;
    if !matches!(format, "csv" | "json" | "journal") {
        anyhow::bail!("--format {format:?}: use csv, json or journal");
    }
    // Refuse an existing file before any work, so nothing is overwritten.
    let file = output
        .map(|path| {
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
                .with_context(|| format!("creating {}", path.display()))
        })
        .transpose()?;
    let (_, state) = prepare(config).await?;
    let keeper = &state.services.books;
    let period = period_of(keeper, period)?;
    let progress = crate::progress::Progress::spinner("reading the receipts and return invoices");
    let books = keeper
        .books(period, grouping)
        .await
        .context("reading the books");
    progress.finish();
    let books = books?;
    let text = match format {
        "json" => format!("{}\n", kikeru_http::books_json(&books)),
        "journal" => journal(&books),
        _ => csv(&books, table),
    };
    match (file, output) {
        (Some(mut file), Some(path)) => {
            file.write_all(text.as_bytes())
                .and_then(|()| file.sync_all())
                .with_context(|| format!("writing {}", path.display()))?;
            crate::emit(&format!(
                "wrote {} ({} receipts, {} return invoices)\n",
                path.display(),
                books.totals.receipts,
                books.totals.returns
            ))
        }
        _ => crate::emit(&text),
    }
}

/// One difference, for a person.
fn describe(difference: &Difference) -> String {
    match difference {
        Difference::NoReceipt { order } => format!("order {order} was paid but has no receipt"),
        Difference::NoReturnInvoice { order, case } => format!(
            "order {order}: the return {} was settled but has no return invoice",
            case.as_deref().unwrap_or("(whole order)")
        ),
        Difference::MissingNumber { series, number } => {
            format!(
                "{} number {number} was given but no document holds it",
                series_name(*series)
            )
        }
        Difference::Total {
            series,
            number,
            recorded,
            documented,
        } => format!(
            "{} {number} says {documented} but the records say {recorded}",
            series_name(*series)
        ),
        Difference::Books {
            series,
            books,
            documents,
        } => format!(
            "the books sum {books} of {}s but the documents sum {documents}",
            series_name(*series)
        ),
    }
}

fn series_name(series: kikeru_domain::office::books::Series) -> &'static str {
    match series {
        kikeru_domain::office::books::Series::Receipt => "receipt",
        kikeru_domain::office::books::Series::ReturnInvoice => "return invoice",
    }
}

/// Reconciles the period; the differences are printed and make the command fail.
///
/// # Errors
/// When the books do not reconcile (exit 1), or storage fails.
pub(crate) async fn verify(config: &Config, period: &PeriodArgs) -> anyhow::Result<()> {
    let (_, state) = prepare(config).await?;
    let keeper = &state.services.books;
    let period = period_of(keeper, period)?;
    let check = keeper
        .verify(period)
        .await
        .context("reconciling the books")?;
    let mut report = format!(
        "{} to {}: {} paid orders, {} settled returns, {} receipts pending issue\n",
        kikeru_domain::office::books::iso(period.from),
        kikeru_domain::office::books::iso(period.to),
        check.orders,
        check.returns,
        check.pending
    );
    for difference in &check.differences {
        report.push_str(&format!("difference: {}\n", describe(difference)));
    }
    crate::emit(&report)?;
    if check.holds() {
        crate::emit("the books reconcile with the receipts and return invoices\n")
    } else {
        anyhow::bail!(
            "the books do not reconcile: {} differences",
            check.differences.len()
        )
    }
}
