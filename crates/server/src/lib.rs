//! The `kikeru` binary's library: command line, configuration, wiring of every adapter, and the
//! server's lifecycle. This is the one crate that knows every adapter.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kikeru_domain::inquiry::ContactLimits;
use kikeru_domain::operators::Role;
use kikeru_domain::privacy::{DataCategory, Processor};
use kikeru_domain::session::SessionPolicy;
use kikeru_domain::shop_ports::{PaymentGateway, SimulatedCheckout};
use kikeru_domain::{Adapters, MembershipConfig, OrderId, Services, Settings, ShopConfig};
use kikeru_http::{AppState, HttpConfig};
use kikeru_payment::{SandboxGateway, StripeConfig, StripeGateway};
use kikeru_store::{SqlStore, StoreConfig};
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpListener};

pub mod adapters;
pub use kikeru_catalog as catalog;
pub use kikeru_config as config;
pub mod demo;
pub mod mail;
pub mod seal;
pub mod stats;
pub mod tls;

use adapters::{Argon2Hasher, OsRandom, StoreReadiness, SystemClock};
use config::{Config, LogFormat, PaymentProvider};

/// Minna Kikeru (みんな聞ける): the membership store for audio content.
#[derive(Debug, Parser)]
#[command(name = "kikeru", version, about)]
pub struct Cli {
    /// A TOML configuration file; `KIKERU_*` environment variables override its keys.
    #[arg(long, global = true, env = "KIKERU_CONFIG")]
    pub config: Option<PathBuf>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web service (the default).
    Serve {
        /// Serve HTTPS with a certificate made at start for `localhost` and 127.0.0.1 (local
        /// HTTPS; browsers will warn: it is signed by nobody).
        #[arg(long)]
        self_signed: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the JSON API and exit.
    Openapi,
    /// Manage the catalogue.
    #[command(subcommand)]
    Catalog(CatalogCommand),
    /// Manage orders.
    #[command(subcommand)]
    Order(OrderCommand),
    /// Mail: sent to the service (ingest, LMTP) and waiting to go out (deliver, status).
    #[command(subcommand)]
    Mail(MailCommand),
    /// Copy the SQLite database to FILE, consistently, while the service runs (restore by
    /// pointing `database_url` at the copy).
    Backup {
        /// The new file to write (it must not exist).
        file: PathBuf,
    },
    /// Anonymous access statistics.
    #[command(subcommand)]
    Stats(StatsCommand),
    /// Manage operator accounts.
    #[command(subcommand)]
    Operator(OperatorCommand),
    /// Act on a member's account at their request.
    #[command(subcommand)]
    Member(MemberCommand),
    /// The disclosure ledger.
    #[command(subcommand)]
    Ledger(LedgerCommand),
    /// Retention of personal data and records.
    #[command(subcommand)]
    Retention(RetentionCommand),
    /// Disclose a member's data to a third party, if the rules allow it: the recipient's file
    /// is written with exactly the allowed categories and the ledger records it; a refusal
    /// writes nothing and exits non-zero with the reason. Audited either way.
    Disclose {
        /// The member's ID.
        #[arg(long)]
        member: uuid::Uuid,
        /// `partner:KEY`, `processor:KEY` or `authority:NAME`.
        #[arg(long)]
        recipient: String,
        /// Comma-separated categories (`email_address,purchase_history`).
        #[arg(long)]
        categories: String,
        /// `entrustment`, `consent:PURPOSE` or `legal_order:ID`.
        #[arg(long)]
        basis: String,
        /// `provision`, `sale`, `rental` or `exchange`.
        #[arg(long, default_value = "provision")]
        transfer: String,
        /// Where to write the recipient's file.
        #[arg(long)]
        out: PathBuf,
        /// The administrator this is done as (their sign-in address): only administrators
        /// disclose, and the audit log names them.
        #[arg(long)]
        operator: String,
    },
}

/// Mail commands.
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// Store one RFC 5322 message from standard input as an inquiry, the way an MTA delivers
    /// to a program (Postfix `pipe`, an alias). Exits 0 when stored (or already stored, or an
    /// automatic reply to ignore), 65 for a message that can never be stored, 75 when the
    /// database is unavailable (the MTA retries).
    Ingest,
    /// Accept mail over LMTP (RFC 2033) and store each message as an inquiry.
    Lmtp {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:2424")]
        listen: std::net::SocketAddr,
    },
    /// Deliver the mail that is due, once (`serve` does it continuously).
    Deliver,
    /// Count the mail waiting, sent and given up.
    Status,
}

/// Statistics commands.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Print the report of the last completed days (for third parties: no personal data, and
    /// cells counting fewer than `stats_min_count` requests left out).
    Export {
        /// `csv` or `json`.
        #[arg(long, default_value = "csv")]
        format: String,
        /// How many completed days, up to yesterday (UTC).
        #[arg(long, default_value_t = 30)]
        days: u16,
    },
}

/// Retention commands.
#[derive(Debug, Subcommand)]
pub enum RetentionCommand {
    /// Remove what is past its retention period, once (`serve` also does it every hour).
    Run,
}

/// Ledger commands.
#[derive(Debug, Subcommand)]
pub enum LedgerCommand {
    /// Check the whole hash chain; exits non-zero naming the first broken entry.
    Verify,
}

/// Operator commands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator account. The password is read from standard input (one line), so it
    /// stays out of the shell's history and the process list.
    Add {
        /// The operator's e-mail address.
        #[arg(long)]
        email: String,
        /// `operator` or `admin`.
        #[arg(long, default_value = "operator")]
        role: String,
    },
}

/// Member commands.
#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Remove every second factor (authenticator app, recovery codes) of a member who lost
    /// them all — only after checking outside the service that the request is theirs. Every
    /// session of the member ends, they are told by mail, and the operators' audit log and
    /// the member's security events record it. Exits 1 when the member has none.
    ResetSecondFactor {
        /// The member's ID.
        #[arg(long, conflicts_with = "email", required_unless_present = "email")]
        member: Option<uuid::Uuid>,
        /// Or the member's e-mail address.
        #[arg(long)]
        email: Option<String>,
    },
    /// Seal every stored authenticator-app secret that a previous key sealed again under
    /// `second_factor_key` (after a rotation: the old key moved to
    /// `second_factor_previous_keys`). Safe while the service runs; prints what it did, and
    /// exits 1 when a secret opened with no configured key.
    Reseal,
}

/// Catalogue commands.
#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Add and update products from a TOML or CSV file, all or none. Audio paths are relative to
    /// the media folder and must exist there.
    Import {
        /// The catalogue file (`.toml` or `.csv`).
        file: PathBuf,
    },
}

/// Order commands.
#[derive(Debug, Subcommand)]
pub enum OrderCommand {
    /// Refund a paid order in full at the payment provider.
    Refund {
        /// The order's ID.
        order_id: uuid::Uuid,
    },
}

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
    init_tracing(config.log_format);
    // rustls serves TLS and carries the Stripe client's requests: one process-wide provider.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    match cli.command.unwrap_or(Command::Serve { self_signed: false }) {
        Command::Serve { self_signed } => serve(config, self_signed).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.migrate().await.context("migrating the database")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Openapi => Ok(()),
        Command::Catalog(CatalogCommand::Import { file }) => {
            let (_, state) = prepare(&config).await?;
            let drafts = catalog::read(&file, &config.media_dir)?;
            let summary = state
                .services
                .shop
                .import(drafts)
                .await
                .context("importing the catalogue")?;
            let detail = format!(
                "created={} updated={} unchanged={} (command line)",
                summary.created, summary.updated, summary.unchanged
            );
            state
                .services
                .office
                .audit(None, "catalog.updated", &detail)
                .await
                .context("auditing the import")?;
            tracing::info!(
                created = summary.created,
                updated = summary.updated,
                unchanged = summary.unchanged,
                "catalogue imported"
            );
            Ok(())
        }
        Command::Operator(OperatorCommand::Add { email, role }) => {
            let email =
                kikeru_domain::Email::parse(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let role = Role::from_name(&role)
                .ok_or_else(|| anyhow::anyhow!("--role: use operator or admin"))?;
            let mut password = String::new();
            std::io::stdin()
                .read_line(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            let (_, state) = prepare(&config).await?;
            let operator = state
                .services
                .office
                .add_operator(email, password, role)
                .await
                .context("adding the operator")?;
            tracing::info!(operator = %operator.id, role = role.as_str(), "operator added");
            Ok(())
        }
        Command::Member(MemberCommand::Reseal) => {
            let (_, state) = prepare(&config).await?;
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
        Command::Member(MemberCommand::ResetSecondFactor { member, email }) => {
            let email = email
                .map(|e| kikeru_domain::Email::parse(&e))
                .transpose()
                .map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let (store, state) = prepare(&config).await?;
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
        Command::Disclose {
            member,
            recipient,
            categories,
            basis,
            transfer,
            out,
            operator,
        } => {
            use kikeru_domain::privacy::{ClaimedBasis, DisclosureRequest, Recipient, Transfer};
            let operator_email = kikeru_domain::Email::parse(&operator)
                .map_err(|e| anyhow::anyhow!("--operator: {e}"))?;
            let recipient = Recipient::parse(&recipient).ok_or_else(|| {
                anyhow::anyhow!("--recipient: use partner:KEY, processor:KEY or authority:NAME")
            })?;
            let categories = categories
                .split(',')
                .map(|c| {
                    DataCategory::from_name(c.trim())
                        .ok_or_else(|| anyhow::anyhow!("--categories: unknown category {c:?}"))
                })
                .collect::<anyhow::Result<_>>()?;
            let transfer = Transfer::from_name(&transfer).ok_or_else(|| {
                anyhow::anyhow!("--transfer: use provision, sale, rental or exchange")
            })?;
            let basis = ClaimedBasis::parse(&basis).ok_or_else(|| {
                anyhow::anyhow!("--basis: use entrustment, consent:PURPOSE or legal_order:ID")
            })?;
            let (_, state) = prepare(&config).await?;
            let operator = state
                .services
                .office
                .operator_by_email(&operator_email)
                .await
                .context("reading the operator")?
                .ok_or_else(|| anyhow::anyhow!("--operator: no operator has this address"))?;
            let member = kikeru_domain::MemberId::from_uuid(member);
            let request = DisclosureRequest {
                member_id: member,
                recipient,
                categories,
                transfer,
                basis,
                at: state.services.disclosures.now(),
            };
            match state
                .services
                .disclosures
                .disclose(&operator, request)
                .await
            {
                Ok((entry, package)) => {
                    let json = kikeru_http::package_json(&package);
                    std::fs::write(&out, format!("{json:#}\n"))
                        .with_context(|| format!("writing {}", out.display()))?;
                    let detail = format!(
                        "ledger entry {} for member {member} (command line)",
                        entry.seq
                    );
                    state
                        .services
                        .office
                        .audit(Some(operator.id), "disclosure.made", &detail)
                        .await
                        .context("auditing the disclosure")?;
                    tracing::info!(seq = entry.seq, file = %out.display(), "disclosed");
                    Ok(())
                }
                Err(e) => {
                    let detail = format!("member {member}: {e} (command line)");
                    state
                        .services
                        .office
                        .audit(Some(operator.id), "disclosure.refused", &detail)
                        .await
                        .context("auditing the refusal")?;
                    Err(anyhow::Error::new(e).context("nothing was disclosed"))
                }
            }
        }
        Command::Mail(MailCommand::Ingest) => {
            let state = match prepare(&config).await {
                Ok((_, state)) => state,
                Err(e) => {
                    return Err(mail::Exit {
                        code: mail::EX_TEMPFAIL,
                        message: format!("{e:#}"),
                    }
                    .into());
                }
            };
            let outcome =
                mail::ingest(&state.services.contact, config.mail_max_inbound_bytes).await?;
            tracing::info!("{outcome}");
            Ok(())
        }
        Command::Mail(MailCommand::Lmtp { listen }) => {
            let shutdown = shutdown_signal()?;
            let (_, state) = prepare(&config).await?;
            mail::serve_lmtp(
                listen,
                state.services.contact.clone(),
                mail::LmtpLimits::new(config.mail_max_inbound_bytes),
                shutdown,
            )
            .await
        }
        Command::Mail(MailCommand::Deliver) => {
            let (_, state) = prepare(&config).await?;
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
        Command::Mail(MailCommand::Status) => {
            use kikeru_domain::outbox::Outbox;
            let (store, _) = prepare(&config).await?;
            let counts = store.counts().await.context("counting the outbox")?;
            emit(&format!(
                "waiting: {}\nsent: {}\ngiven up: {}\n",
                counts.pending, counts.sent, counts.failed
            ))
        }
        Command::Backup { file } => {
            let store = open_store(&config).await?;
            store
                .backup_to(&file)
                .await
                .with_context(|| format!("backing up to {}", file.display()))?;
            tracing::info!(file = %file.display(), "backup written");
            Ok(())
        }
        Command::Stats(StatsCommand::Export { format, days }) => {
            use kikeru_domain::ports::Clock;
            use kikeru_domain::stats::Statistics;
            if format != "csv" && format != "json" {
                anyhow::bail!("--format: use csv or json");
            }
            if days == 0 {
                anyhow::bail!("--days: at least 1");
            }
            let (store, _) = prepare(&config).await?;
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
            let report = kikeru_domain::stats::report(&counts, config.stats_min_count);
            if format == "json" {
                emit(&format!("{:#}\n", kikeru_http::report_json(&report)))
            } else {
                emit(&kikeru_http::report_csv(&report))
            }
        }
        Command::Retention(RetentionCommand::Run) => {
            let (store, _) = prepare(&config).await?;
            purge(&store, &config).await?;
            Ok(())
        }
        Command::Ledger(LedgerCommand::Verify) => {
            let (_, state) = prepare(&config).await?;
            let entries = state
                .services
                .disclosures
                .verify()
                .await
                .context("verifying the ledger")?;
            emit(&format!("the ledger is intact: {entries} entries\n"))
        }
        Command::Order(OrderCommand::Refund { order_id }) => {
            let (_, state) = prepare(&config).await?;
            let outcome = state
                .services
                .shop
                .refund(OrderId::from_uuid(order_id))
                .await
                .context("refunding the order")?;
            state
                .services
                .office
                .audit(
                    None,
                    "order.refunded",
                    &format!("order {order_id} (command line)"),
                )
                .await
                .context("auditing the refund")?;
            tracing::info!(?outcome, "order refunded");
            Ok(())
        }
    }
}

/// Opens and migrates the store and builds the application, for commands that act on it.
async fn prepare(config: &Config) -> anyhow::Result<(SqlStore, AppState)> {
    let store = open_store(config).await?;
    if config.migrate_on_start {
        store.migrate().await.context("migrating the database")?;
    }
    seed_register(&store, config).await?;
    let state = build(
        config,
        &store,
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(kikeru_http::NoHits),
    )?;
    Ok((store, state))
}

/// Removes what is past its retention period. Safe on several nodes at once.
async fn purge(store: &SqlStore, config: &Config) -> anyhow::Result<()> {
    use kikeru_domain::ports::Clock;
    use kikeru_domain::retention::Retention;
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
        "retention run"
    );
    use kikeru_domain::stats::Statistics;
    let now = SystemClock.now();
    let days = store
        .roll_up(now.date())
        .await
        .context("rolling up the access statistics")?;
    let hits = store
        .purge_hits(now - config.stats_retention)
        .await
        .context("purging raw access records")?;
    tracing::info!(
        days_rolled_up = days,
        raw_hits_purged = hits,
        "statistics maintained"
    );
    Ok(())
}

/// Registers the configured processors that the register does not hold yet; what operators
/// changed since stays as they left it.
async fn seed_register(store: &SqlStore, config: &Config) -> anyhow::Result<()> {
    use kikeru_domain::privacy::Processors;
    let held = store
        .all()
        .await
        .context("reading the processor register")?;
    for processor in processors(config) {
        if !held.iter().any(|p| p.key == processor.key) {
            store
                .save(&processor)
                .await
                .context("registering a processor")?;
        }
    }
    Ok(())
}

/// Loads the demo catalogue, with its generated audio, into an empty catalogue.
async fn seed_demo(config: &Config, state: &AppState) -> anyhow::Result<()> {
    if !state
        .services
        .shop
        .products(None, 1)
        .await
        .context("reading the catalogue")?
        .is_empty()
    {
        return Ok(());
    }
    demo::write_audio(&config.media_dir)
        .with_context(|| format!("writing demo audio to {}", config.media_dir.display()))?;
    let drafts = catalog::parse_toml(demo::CATALOG, &config.media_dir)?;
    match state.services.shop.import(drafts).await {
        Ok(summary) => {
            tracing::info!(products = summary.created, "demo catalogue loaded");
            Ok(())
        }
        // Two nodes starting on one empty database both find the catalogue empty; the second
        // import then collides with the first on the SKUs. The catalogue is loaded either way.
        Err(e)
            if !state
                .services
                .shop
                .products(None, 1)
                .await
                .context("reading the catalogue")?
                .is_empty() =>
        {
            tracing::info!(error = %e, "demo catalogue loaded by another node");
            Ok(())
        }
        Err(e) => Err(anyhow::Error::new(e).context("loading the demo catalogue")),
    }
}

/// The register of entrusted processors, from the configured adapters: the payment provider
/// receives order details (and the address only when configured); the mail provider receives
/// the address and the message.
fn processors(config: &Config) -> Vec<Processor> {
    let (key, name) = match config.payment {
        PaymentProvider::Sandbox { .. } => ("sandbox", "Sandbox (test mode, built in)"),
        PaymentProvider::Stripe { .. } => ("stripe", "Stripe, Inc."),
    };
    let mut payment = vec![DataCategory::OrderDetails];
    if config.share_email_with_payment_provider {
        payment.push(DataCategory::EmailAddress);
    }
    vec![
        Processor {
            key: key.to_owned(),
            name: name.to_owned(),
            purpose: "payment".to_owned(),
            categories: payment.into_iter().collect(),
        },
        Processor {
            key: "mail".to_owned(),
            name: "Mail delivery".to_owned(),
            purpose: "sending mail to members".to_owned(),
            categories: [DataCategory::EmailAddress, DataCategory::MessageContent]
                .into_iter()
                .collect(),
        },
    ]
}

/// The configured payment provider, and its test checkout page when it is the sandbox.
fn gateway(config: &Config) -> (Arc<dyn PaymentGateway>, Option<Arc<dyn SimulatedCheckout>>) {
    match &config.payment {
        PaymentProvider::Sandbox { webhook_secret } => {
            let sandbox = Arc::new(match webhook_secret {
                Some(secret) => {
                    SandboxGateway::new(&config.public_url, secret.expose().as_bytes().to_vec())
                }
                None => SandboxGateway::with_random_secret(&config.public_url),
            });
            (sandbox.clone(), Some(sandbox))
        }
        PaymentProvider::Stripe {
            secret_key,
            webhook_secrets,
            api_base,
        } => (
            Arc::new(StripeGateway::new(StripeConfig {
                api_base: api_base.clone(),
                secret_key: secret_key.expose().to_owned(),
                webhook_secrets: webhook_secrets
                    .iter()
                    .map(|s| s.expose().to_owned())
                    .collect(),
                timeout: Duration::from_secs(30),
            })),
            None,
        ),
    }
}

fn init_tracing(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("KIKERU_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
    let url = config.database_url.expose();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = path.split('?').next().unwrap_or(path);
        if let Some(parent) = std::path::Path::new(file)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
    }
    let mut store_config = StoreConfig::new(url);
    if let Some(max) = config.database_max_connections {
        store_config.max_connections = max;
    }
    store_config.cache_ttl = std::time::Duration::from_millis(config.session_cache_ms);
    SqlStore::connect(&store_config)
        .await
        .context("opening the database")
}

/// The passkey verifier for the configured site: the relying-party ID and origin, by
/// default the host and origin of `public_url`.
fn passkey_verifier(config: &Config) -> kikeru_webauthn::Verifier {
    let origin = config
        .passkey_origin
        .clone()
        .unwrap_or_else(|| config.public_url.clone());
    let rp_id = config
        .passkey_rp_id
        .clone()
        .unwrap_or_else(|| kikeru_config::origin_host(&origin).to_owned());
    kikeru_webauthn::Verifier::new(&rp_id, &origin)
}

/// Builds the application on its adapters; units of work that put mail in the outbox ring
/// `wake`.
///
/// # Errors
/// When an adapter cannot be set up (the hasher's parameters).
pub fn build(
    config: &Config,
    store: &SqlStore,
    wake: Arc<tokio::sync::Notify>,
    hits: Arc<dyn kikeru_http::HitSink>,
) -> anyhow::Result<AppState> {
    let store = Arc::new(store.clone());
    let (gateway, simulator) = gateway(config);
    let adapters = Adapters {
        store: store.clone(),
        unit: Arc::new(mail::WakingUnit::new(store.clone(), wake)),
        hasher: Arc::new(Argon2Hasher::new(config.argon2).map_err(anyhow::Error::msg)?),
        sealer: Arc::new(seal::sealer_for(config)?),
        passkeys: Arc::new(passkey_verifier(config)),
        gateway,
        simulator,
        mailer: mail::mailer(config)?,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
    };
    let settings = Settings {
        membership: MembershipConfig {
            sessions: SessionPolicy {
                idle_timeout: config.session_idle_timeout,
                absolute_lifetime: config.session_absolute_lifetime,
                ..SessionPolicy::default()
            },
            recent_authentication: config.recent_authentication,
            ..MembershipConfig::default()
        },
        shop: ShopConfig {
            success_url: format!(
                "{}/checkout/complete?order_id={{order_id}}",
                config.public_url
            ),
            cancel_url: format!(
                "{}/checkout/canceled?order_id={{order_id}}",
                config.public_url
            ),
            share_email_with_provider: config.share_email_with_payment_provider,
            tax: config.tax.clone(),
        },
        contact: ContactLimits::default(),
        postman: config.postman,
        // Production cannot start without the seller; the sandbox issues as the sample.
        seller: config
            .seller
            .clone()
            .unwrap_or_else(kikeru_domain::legal::Seller::sample),
    };
    Ok(AppState {
        hits,
        statistics: store.clone(),
        services: Services::new(&adapters, settings),
        config: Arc::new(HttpConfig {
            public_origin: config.public_url.clone(),
            max_body_bytes: config.max_body_bytes,
            trust_forwarded_for: config.trust_forwarded_for,
            media_dir: config.media_dir.clone(),
            seller: config.seller.clone(),
            stats_min_count: config.stats_min_count,
        }),
        readiness: Arc::new(StoreReadiness((*store).clone())),
    })
}

/// The certificate chain and key to serve HTTPS with (PEM), when HTTPS is on.
fn tls_material(config: &Config, self_signed: bool) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
    if let Some(tls) = &config.tls {
        let cert =
            std::fs::read(&tls.cert).with_context(|| format!("reading {}", tls.cert.display()))?;
        let key =
            std::fs::read(&tls.key).with_context(|| format!("reading {}", tls.key.display()))?;
        return Ok(Some((cert, key)));
    }
    if !self_signed {
        return Ok(None);
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).context("making a certificate")?;
    tracing::warn!("serving HTTPS with a self-signed certificate: for local use only");
    Ok(Some((
        made.cert.pem().into_bytes(),
        made.signing_key.serialize_pem().into_bytes(),
    )))
}

/// Answers every plain-HTTP request with a permanent redirect to the same path at `origin`.
async fn redirect_to_https(listen: std::net::SocketAddr, origin: String) -> anyhow::Result<()> {
    use poem::{EndpointExt, IntoResponse};
    let redirect = poem::endpoint::make_sync(move |req: poem::Request| {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", poem::http::uri::PathAndQuery::as_str)
            .to_owned();
        poem::Response::builder()
            .status(poem::http::StatusCode::MOVED_PERMANENTLY)
            .header(poem::http::header::LOCATION, format!("{origin}{path}"))
            .finish()
            .into_response()
    });
    let listener = TcpListener::bind(listen);
    tracing::info!("redirecting http://{listen} to HTTPS");
    poem::Server::new(listener)
        .run(redirect.map_to_response())
        .await
        .with_context(|| format!("redirecting on {listen}"))
}

async fn serve(mut config: Config, self_signed: bool) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    if config.migrate_on_start {
        store.migrate().await.context("migrating the database")?;
    }
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(config.listen);
    let material = tls_material(&config, self_signed)?;
    let https = material.is_some();
    let acceptor = match material {
        Some((cert, key)) => {
            // rustls speaks TLS 1.2 and 1.3 only, with modern cipher suites, in our order.
            let tls = tls::server_config(&cert, &key).context("the TLS certificate")?;
            let tcp = listener
                .into_acceptor()
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            tls::TlsAcceptor::new(tcp, tls).boxed()
        }
        None => listener
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {}", config.listen))?
            .boxed(),
    };
    let scheme = if https { "https" } else { "http" };
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied());
    if let Some(addr) = local {
        // With port 0 and no public URL, the public origin is wherever the OS put us.
        if !config.public_url_configured {
            config.public_url = format!("{scheme}://{addr}");
        }
        tracing::info!(public_url = %config.public_url, "listening on {scheme}://{addr}");
    }
    let redirect = match (config.redirect_http_listen, https) {
        (Some(listen), true) => Some(tokio::spawn(redirect_to_https(
            listen,
            config.public_url.clone(),
        ))),
        (Some(_), false) => {
            anyhow::bail!(
                "redirect_http_listen needs HTTPS (tls_cert and tls_key, or --self-signed)"
            )
        }
        (None, _) => None,
    };
    seed_register(&store, &config).await?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let (hits, recorded): (Arc<dyn kikeru_http::HitSink>, _) = if config.stats_enabled {
        let (sink, receiver) = stats::BufferedHits::new(stats::BUFFER);
        let writer = tokio::spawn(stats::write_hits(receiver, Arc::new(store.clone())));
        (sink, Some(writer))
    } else {
        (Arc::new(kikeru_http::NoHits), None)
    };
    let state = build(&config, &store, wake.clone(), hits)?;
    if config.demo_catalog {
        seed_demo(&config, &state).await?;
    }
    let state_receipts = state.services.receipts.clone();
    let state_incidents = state.services.incidents.clone();
    let postman = state.services.postman.clone();
    let app = kikeru_http::app(state);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let delivery = tokio::spawn(mail::deliver_until_stopped(
        postman,
        wake.clone(),
        stop.clone(),
    ));
    let retention_store = store.clone();
    let retention_config = config.clone();
    let retention = tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = purge(&retention_store, &retention_config).await {
                tracing::warn!(error = %format!("{e:#}"), "the retention run failed; it runs again in an hour");
            }
        }
    });
    let issuer = state_receipts.clone();
    let receipts = tokio::spawn(async move {
        // Receipts follow payments within seconds; numbers are taken in the order orders were
        // paid, by whichever node runs first.
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            match issuer.issue_due(200).await {
                Ok(0) => {}
                Ok(issued) => tracing::info!(issued, "receipts issued"),
                Err(e) => tracing::warn!(error = %e, "issuing receipts failed; retrying"),
            }
            // Approved incident notices too large to send while the administrator waited.
            match state_incidents.continue_notices(50).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "incident notices put in the outbox"),
                Err(e) => tracing::warn!(error = %e, "sending incident notices failed; retrying"),
            }
        }
    });
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(30)))
        .await
        .context("serving")?;
    retention.abort();
    receipts.abort();
    if let Some(redirect) = redirect {
        redirect.abort();
    }
    // The site is gone with its senders: the writer stores what is left and ends.
    if let Some(writer) = recorded
        && tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .is_err()
    {
        tracing::warn!("the statistics writer did not finish in time");
    }
    // Let the postman finish the mail in hand; what is left waits in the outbox.
    stop.store(true, std::sync::atomic::Ordering::Release);
    wake.notify_one();
    if tokio::time::timeout(Duration::from_secs(30), delivery)
        .await
        .is_err()
    {
        tracing::warn!("the postman did not stop in time; its mail is retried after the lease");
    }
    store.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives right after start-up is not lost.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}
