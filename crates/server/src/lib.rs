//! The `kikeru` binary's library: command line, configuration, wiring of every adapter, and the
//! server's lifecycle. This is the one crate that knows every adapter. Each subcommand lives in
//! a file of its own under `commands/`; `wiring.rs` builds the application they run on.

pub mod adapters;
pub use kikeru_catalog as catalog;
pub use kikeru_config as config;
mod cli;
mod commands;
pub mod demo;
pub mod mail;
mod metrics;
mod progress;
pub mod seal;
pub mod stats;
pub mod tls;
mod wiring;

pub use cli::{
    BooksCommand, CatalogCommand, Cli, Command, DiscloseArgs, LedgerCommand, MailCommand,
    MemberCommand, OperatorCommand, OrderCommand, PolicyCommand, RetentionCommand, StatsCommand,
};
pub use wiring::build;

use config::Config;

/// Writes a command's output to standard output. A reader that stopped reading (`| head`)
/// is not an error; any other failure to write is.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("writing to standard output"))
        }
        _ => Ok(()),
    }
}

/// Runs a parsed command line.
///
/// # Errors
/// Any failure, with context, for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::Openapi)) {
        return emit(&format!("{}\n", kikeru_http::openapi_json()));
    }
    let config = Config::load(cli.config.as_deref(), &|key| std::env::var(key).ok())?;
    wiring::init_tracing(config.log_format);
    // rustls serves TLS and carries the Stripe client's requests: one process-wide provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let config = &config;
    match cli.command.unwrap_or(Command::Serve { self_signed: false }) {
        Command::Serve { self_signed } => commands::serve::serve(config.clone(), self_signed).await,
        Command::Migrate => commands::migrate::run(config).await,
        Command::Openapi => Ok(()),
        Command::Catalog(CatalogCommand::Import { file }) => {
            commands::catalog::import(config, &file).await
        }
        Command::Operator(OperatorCommand::Add { email, role }) => {
            commands::operator::add(config, &email, &role).await
        }
        Command::Member(MemberCommand::Reseal) => commands::member::reseal(config).await,
        Command::Member(MemberCommand::ResetSecondFactor { member, email }) => {
            commands::member::reset_second_factor(config, member, email).await
        }
        Command::Disclose(args) => commands::disclose::run(config, args).await,
        Command::Mail(MailCommand::Ingest) => commands::mail::ingest(config).await,
        Command::Mail(MailCommand::Lmtp { listen }) => commands::mail::lmtp(config, listen).await,
        Command::Mail(MailCommand::Deliver) => commands::mail::deliver(config).await,
        Command::Mail(MailCommand::Status) => commands::mail::status(config).await,
        Command::Backup { file } => commands::backup::run(config, &file).await,
        Command::Stats(StatsCommand::Export { format, days }) => {
            commands::stats::export(config, &format, days).await
        }
        Command::Retention(RetentionCommand::Run) => commands::retention::run(config).await,
        Command::Ledger(LedgerCommand::Verify) => commands::ledger::verify(config).await,
        Command::Books(BooksCommand::Export {
            period,
            format,
            table,
            by,
            output,
        }) => {
            commands::books::export(config, &period, &format, &table, &by, output.as_deref()).await
        }
        Command::Books(BooksCommand::Verify { period }) => {
            commands::books::verify(config, &period).await
        }
        Command::Policy(PolicyCommand::Publish {
            number,
            effective,
            changes_ja,
            changes_en,
        }) => commands::policy::publish(config, number, &effective, &changes_ja, &changes_en).await,
        Command::Policy(PolicyCommand::List) => commands::policy::list(config).await,
        Command::Order(OrderCommand::Refund { order_id }) => {
            commands::order::refund(config, order_id).await
        }
    }
}
