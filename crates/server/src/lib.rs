//! The `kikeru` binary's library: command line, configuration, wiring of every adapter, and the
//! server's lifecycle. This is the one crate that knows every adapter.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use kikeru_domain::session::SessionPolicy;
use kikeru_domain::{Membership, MembershipConfig, Ports};
use kikeru_http::{AppState, HttpConfig};
use kikeru_mail::{FileOutbox, Links};
use kikeru_store::{SqlStore, StoreConfig};
use poem::listener::{
    Acceptor, AcceptorExt, Listener, RustlsCertificate, RustlsConfig, TcpListener,
};

pub mod adapters;
pub mod config;

use adapters::{Argon2Hasher, OsRandom, StoreReadiness, SystemClock};
use config::{Config, LogFormat};

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
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document of the JSON API and exit.
    Openapi,
}

/// Runs a parsed command line.
///
/// # Errors
/// Any failure, with context, for `main` to print.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    if matches!(cli.command, Some(Command::Openapi)) {
        #[allow(clippy::print_stdout, reason = "the command's output")]
        {
            println!("{}", kikeru_http::openapi_json());
        }
        return Ok(());
    }
    let config = Config::load(cli.config.as_deref(), &|key| std::env::var(key).ok())?;
    init_tracing(config.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config).await,
        Command::Migrate => {
            let store = open_store(&config).await?;
            store.migrate().await.context("migrating the database")?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Openapi => Ok(()),
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
    SqlStore::connect(&store_config)
        .await
        .context("opening the database")
}

/// Builds the application on its adapters.
///
/// # Errors
/// When an adapter cannot be set up (the outbox folder, the hasher's parameters).
pub fn build(config: &Config, store: &SqlStore) -> anyhow::Result<AppState> {
    let store = Arc::new(store.clone());
    let outbox = FileOutbox::new(
        &config.mail_outbox_dir,
        config.mail_from.clone(),
        Links::new(&config.public_url),
    )
    .with_context(|| {
        format!(
            "creating the mail outbox {}",
            config.mail_outbox_dir.display()
        )
    })?;
    let hasher = Argon2Hasher::new(config.argon2).map_err(anyhow::Error::msg)?;
    let ports = Ports {
        members: store.clone(),
        sessions: store.clone(),
        tokens: store.clone(),
        audit: store.clone(),
        rate_limits: store.clone(),
        hasher: Arc::new(hasher),
        mailer: Arc::new(outbox),
        clock: Arc::new(SystemClock),
        random: Arc::new(OsRandom),
    };
    let membership_config = MembershipConfig {
        sessions: SessionPolicy {
            idle_timeout: config.session_idle_timeout,
            absolute_lifetime: config.session_absolute_lifetime,
            ..SessionPolicy::default()
        },
        ..MembershipConfig::default()
    };
    Ok(AppState {
        membership: Membership::new(ports, membership_config),
        config: Arc::new(HttpConfig {
            public_origin: config.public_url.clone(),
            max_body_bytes: config.max_body_bytes,
            trust_forwarded_for: config.trust_forwarded_for,
        }),
        readiness: Arc::new(StoreReadiness((*store).clone())),
    })
}

async fn serve(mut config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    if config.migrate_on_start {
        store.migrate().await.context("migrating the database")?;
    }
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(config.listen);
    let acceptor = match &config.tls {
        Some(tls) => {
            let cert = std::fs::read(&tls.cert)
                .with_context(|| format!("reading {}", tls.cert.display()))?;
            let key = std::fs::read(&tls.key)
                .with_context(|| format!("reading {}", tls.key.display()))?;
            let rustls = RustlsConfig::new().fallback(RustlsCertificate::new().cert(cert).key(key));
            listener
                .rustls(rustls)
                .into_acceptor()
                .await
                .context("listening with TLS")?
                .boxed()
        }
        None => listener
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {}", config.listen))?
            .boxed(),
    };
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
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
    let app = kikeru_http::app(build(&config, &store)?);
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(30)))
        .await
        .context("serving")?;
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
