//! The wiring: the configuration turned into adapters and settings, `Services::new`, the
//! application state every command and the server run on.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use kikeru_domain::membership::session::SessionPolicy;
use kikeru_domain::office::inquiry::ContactLimits;
use kikeru_domain::privacy::{DataCategory, Processor};
use kikeru_domain::shop::ports::{PaymentGateway, SimulatedCheckout};
use kikeru_domain::{Adapters, MembershipConfig, Services, Settings, ShopConfig};
use kikeru_http::{AppState, HttpConfig};
use kikeru_payment::{SandboxGateway, StripeConfig, StripeGateway};
use kikeru_store::{SqlStore, StoreConfig};

use crate::adapters::{Argon2Hasher, OsRandom, StoreReadiness, SystemClock};
use crate::config::{Config, LogFormat, PaymentProvider};
use crate::{catalog, demo, mail, seal};

/// Opens and migrates the store and builds the application, for commands that act on it.
pub(crate) async fn prepare(config: &Config) -> anyhow::Result<(SqlStore, AppState)> {
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

/// Registers the configured processors that the register does not hold yet; what operators
/// changed since stays as they left it.
pub(crate) async fn seed_register(store: &SqlStore, config: &Config) -> anyhow::Result<()> {
    use kikeru_domain::privacy::ports::Processors;
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
pub(crate) async fn seed_demo(config: &Config, state: &AppState) -> anyhow::Result<()> {
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
pub(crate) fn processors(config: &Config) -> Vec<Processor> {
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
pub(crate) fn gateway(
    config: &Config,
) -> (Arc<dyn PaymentGateway>, Option<Arc<dyn SimulatedCheckout>>) {
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

pub(crate) fn init_tracing(format: LogFormat) {
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

pub(crate) async fn open_store(config: &Config) -> anyhow::Result<SqlStore> {
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
pub(crate) fn passkey_verifier(config: &Config) -> kikeru_webauthn::Verifier {
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
        books: kikeru_domain::office::books::BookPolicy::after_year_ending(
            config.retention.fiscal_year_end.0,
        ),
        requests: kikeru_domain::privacy::requests::desk::RequestPolicy {
            due: config.request_due,
            ..Default::default()
        },
        membership: MembershipConfig {
            sessions: SessionPolicy {
                idle_timeout: config.session_idle_timeout,
                absolute_lifetime: config.session_absolute_lifetime,
                ..SessionPolicy::default()
            },
            recent_authentication: config.recent_authentication,
            retention: config.retention,
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
            .unwrap_or_else(kikeru_domain::shop::legal::Seller::sample),
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
            retention: config.retention,
            stats_retention: config.stats_retention,
        }),
        pages: Arc::default(),
        metrics: Arc::default(),
        readiness: Arc::new(StoreReadiness((*store).clone())),
    })
}
