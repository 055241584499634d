//! Configuration: embedded defaults, then a TOML file, then `KIKERU_*` environment variables;
//! validated once at start, with every problem listed.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// The cost of argon2id password hashing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Argon2Cost {
    /// OWASP's minimum for argon2id: 19 MiB, 2 iterations, 1 lane.
    pub const OWASP: Self = Self {
        memory_kib: 19 * 1024,
        iterations: 2,
        parallelism: 1,
    };

    /// Whether these parameters are at least OWASP's minimum.
    pub fn meets_owasp(&self) -> bool {
        self.memory_kib >= Self::OWASP.memory_kib
            && self.iterations >= Self::OWASP.iterations
            && self.parallelism >= 1
    }
}

/// A value that must not appear in logs; `Debug` shows only that it is set.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// The value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The key that encrypts second-factor secrets at rest (AES-256-GCM): 32 bytes. `Debug`
/// shows only that it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct SealKey([u8; 32]);

impl SealKey {
    /// Reads the configured form: 32 bytes in base64 (padded or not); `None` for anything
    /// else.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let bytes = data_encoding::BASE64
            .decode(text.as_bytes())
            .or_else(|_| data_encoding::BASE64_NOPAD.decode(text.as_bytes()))
            .ok()?;
        bytes.try_into().map(Self).ok()
    }

    /// Wraps 32 bytes (a key generated for a sandbox data folder).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The key.
    pub const fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SealKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SealKey(<redacted>)")
    }
}

/// Tax rules from `tax_rates` (`FROM:STANDARD:REDUCED` periods separated by `;`, e.g.
/// `2019-10-01:10:8`) and `tax_rounding` (`down`, `half_up`, `up`); Japan's rules by default.
fn tax_rules(
    rates: Option<&str>,
    rounding: Option<&str>,
) -> Result<kikeru_domain::tax::TaxRules, Vec<String>> {
    use kikeru_domain::tax::{Rounding, TaxRules};
    let mut problems = Vec::new();
    let rounding = match rounding.map(str::trim) {
        None => Rounding::Down,
        Some(name) => Rounding::from_name(name).unwrap_or_else(|| {
            problems.push(
                "tax_rounding: use down (切り捨て), half_up (四捨五入) or up (切り上げ)".to_owned(),
            );
            Rounding::Down
        }),
    };
    let rules = match rates {
        None => Ok(TaxRules::japan().periods().to_vec()),
        Some(rates) => rate_periods(rates),
    }
    .and_then(|periods| TaxRules::new(periods, rounding).map_err(|e| format!("tax_rates: {e}")));
    match rules {
        Ok(rules) if problems.is_empty() => Ok(rules),
        Ok(_) => Err(problems),
        Err(problem) => {
            problems.insert(0, problem);
            Err(problems)
        }
    }
}

/// `FROM:STANDARD:REDUCED` periods separated by `;`.
fn rate_periods(rates: &str) -> Result<Vec<kikeru_domain::tax::RatePeriod>, String> {
    let problem = || {
        "tax_rates: periods FROM:STANDARD:REDUCED separated by ';', e.g. 2019-10-01:10:8".to_owned()
    };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let mut periods = Vec::new();
    for period in rates.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = period.split(':');
        let (Some(from), Some(standard), Some(reduced), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(problem());
        };
        periods.push(kikeru_domain::tax::RatePeriod {
            from: time::Date::parse(from.trim(), &format).map_err(|_| problem())?,
            standard: standard.trim().parse().map_err(|_| problem())?,
            reduced: reduced.trim().parse().map_err(|_| problem())?,
        });
    }
    Ok(periods)
}

/// The host of an origin (`https://kikeru.example.jp:8443` → `kikeru.example.jp`).
pub fn origin_host(origin: &str) -> &str {
    let rest = origin.split_once("://").map_or(origin, |(_, rest)| rest);
    let authority = rest.split('/').next().unwrap_or(rest);
    if authority.starts_with('[') {
        return authority
            .split(']')
            .next()
            .map_or(authority, |h| &authority[..=h.len()]);
    }
    authority.split(':').next().unwrap_or(authority)
}

/// The file's shape. Every field is optional; unknown keys are errors.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    public_url: Option<String>,
    passkey_rp_id: Option<String>,
    passkey_origin: Option<String>,
    seller_name: Option<String>,
    seller_representative: Option<String>,
    seller_address: Option<String>,
    seller_phone: Option<String>,
    seller_email: Option<String>,
    seller_registration_number: Option<String>,
    tax_rates: Option<String>,
    tax_rounding: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<Secret>,
    database_max_connections: Option<u32>,
    session_cache_ms: Option<u64>,
    migrate_on_start: Option<bool>,
    log_format: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    mail_from: Option<String>,
    mail_outbox_dir: Option<PathBuf>,
    mail_transport: Option<String>,
    smtp_host: Option<String>,
    smtp_port: Option<u16>,
    smtp_security: Option<String>,
    smtp_username: Option<String>,
    smtp_password: Option<Secret>,
    smtp_timeout_secs: Option<u64>,
    smtp_ca_file: Option<PathBuf>,
    mail_max_attempts: Option<u32>,
    mail_first_retry_secs: Option<u64>,
    mail_longest_retry_secs: Option<u64>,
    mail_max_inbound_bytes: Option<usize>,
    session_idle_timeout_secs: Option<u64>,
    session_absolute_lifetime_secs: Option<u64>,
    recent_authentication_secs: Option<u64>,
    max_body_bytes: Option<usize>,
    trust_forwarded_for: Option<bool>,
    argon2_memory_kib: Option<u32>,
    argon2_iterations: Option<u32>,
    argon2_parallelism: Option<u32>,
    media_dir: Option<PathBuf>,
    demo_catalog: Option<bool>,
    payment_provider: Option<String>,
    sandbox_webhook_secret: Option<Secret>,
    stripe_secret_key: Option<Secret>,
    stripe_webhook_secrets: Option<Secret>,
    stripe_api_base: Option<String>,
    second_factor_key: Option<Secret>,
    second_factor_previous_keys: Option<Secret>,
    share_email_with_payment_provider: Option<bool>,
    retention_unverified_days: Option<u64>,
    retention_accounting_days: Option<u64>,
    retention_ledger_days: Option<u64>,
    retention_inquiry_days: Option<u64>,
    retention_mail_days: Option<u64>,
    stats_enabled: Option<bool>,
    redirect_http_listen: Option<String>,
    stats_retention_days: Option<u64>,
    stats_min_count: Option<u64>,
}

/// The log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// TLS served by the binary itself (rustls).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tls {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// The payment provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentProvider {
    /// The built-in test mode (the embedded default).
    Sandbox {
        /// The webhook signing secret; random per process when not configured.
        webhook_secret: Option<Secret>,
    },
    /// Stripe Checkout.
    Stripe {
        /// The secret API key.
        secret_key: Secret,
        /// Webhook signing secrets, comma-separated in configuration (several during rotation).
        webhook_secrets: Vec<Secret>,
        /// The API's base URL.
        api_base: String,
    },
}

/// Where outgoing mail goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailTransport {
    /// One `.eml` file per message in `mail_outbox_dir` (the embedded default).
    Outbox,
    /// An SMTP server.
    Smtp(Smtp),
}

/// The SMTP server to send through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Smtp {
    /// Its host name.
    pub host: String,
    /// Its port (587 for STARTTLS, 465 for TLS, 25 for none, by default).
    pub port: u16,
    /// `starttls`, `tls` or `none`.
    pub security: kikeru_mail::Security,
    /// The user name, when the server wants one.
    pub username: Option<String>,
    /// Its password.
    pub password: Option<Secret>,
    /// How long one SMTP command may take.
    pub timeout: Duration,
    /// Extra certificate authorities to trust (PEM).
    pub ca_file: Option<PathBuf>,
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The origin members reach the service at.
    pub public_url: String,
    /// Whether `public_url` was configured (otherwise it follows the bound address).
    pub public_url_configured: bool,
    /// The passkeys' relying-party ID, when it is not the host of `public_url` (e.g. the
    /// registrable domain `example.jp` for `https://kikeru.example.jp`).
    pub passkey_rp_id: Option<String>,
    /// The origin passkey ceremonies come from, when it is not `public_url`.
    pub passkey_origin: Option<String>,
    /// The seller's particulars for the 特定商取引法 page and receipts: all required with a
    /// real payment provider; `None` in a sandbox that configured none (sample values shown).
    pub seller: Option<kikeru_domain::legal::Seller>,
    /// Consumption tax: rate periods and rounding.
    pub tax: kikeru_domain::tax::TaxRules,
    /// The database URL (SQLite or PostgreSQL).
    pub database_url: Secret,
    /// The pool size.
    pub database_max_connections: Option<u32>,
    /// How long a session read from the database is served from memory (milliseconds).
    pub session_cache_ms: u64,
    /// Apply migrations at start.
    pub migrate_on_start: bool,
    /// Log format.
    pub log_format: LogFormat,
    /// Built-in TLS, when configured.
    pub tls: Option<Tls>,
    /// The sender of mail.
    pub mail_from: String,
    /// Where the file outbox writes mail.
    pub mail_outbox_dir: PathBuf,
    /// Where outgoing mail goes.
    pub mail_transport: MailTransport,
    /// How the postman retries.
    pub postman: kikeru_domain::outbox::PostmanConfig,
    /// The largest inbound message accepted by `kikeru mail ingest` and the LMTP listener.
    pub mail_max_inbound_bytes: usize,
    /// Session idle timeout.
    pub session_idle_timeout: Duration,
    /// Session absolute lifetime.
    pub session_absolute_lifetime: Duration,
    /// How recent an authentication must be for a sensitive change.
    pub recent_authentication: Duration,
    /// Request body limit.
    pub max_body_bytes: usize,
    /// Trust `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
    /// Password hashing cost.
    pub argon2: Argon2Cost,
    /// The data folder: the SQLite file, media, the mail outbox and (in the sandbox) the
    /// generated second-factor key live under it unless configured elsewhere.
    pub data_dir: PathBuf,
    /// Where the catalogue's audio files live.
    pub media_dir: PathBuf,
    /// Load the demo catalogue (with generated audio) into an empty catalogue at start.
    pub demo_catalog: bool,
    /// The payment provider.
    pub payment: PaymentProvider,
    /// Whether the member's address is entrusted to the payment provider.
    pub share_email_with_payment_provider: bool,
    /// The key that encrypts second-factor secrets at rest: required in production, optional
    /// in the sandbox.
    pub second_factor_key: Option<SealKey>,
    /// Keys used before `second_factor_key` during a rotation: what they sealed still opens
    /// (and `kikeru member reseal` seals it again under the current key).
    pub second_factor_previous_keys: Vec<SealKey>,
    /// How long things are kept.
    pub retention: kikeru_domain::retention::RetentionPolicy,
    /// A plain-HTTP address whose every request is redirected to the HTTPS public URL.
    pub redirect_http_listen: Option<SocketAddr>,
    /// Whether anonymous access statistics are recorded.
    pub stats_enabled: bool,
    /// How long raw access records are kept (daily counts stay).
    pub stats_retention: Duration,
    /// Reports leave out cells counting fewer requests than this.
    pub stats_min_count: u64,
}

/// The configuration is unusable; every problem found is listed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
pub struct ConfigError(pub Vec<String>);

/// The environment variables read, each overriding the file key of the same name.
pub const ENV_KEYS: &[&str] = &[
    "listen",
    "public_url",
    "passkey_rp_id",
    "passkey_origin",
    "seller_name",
    "seller_representative",
    "seller_address",
    "seller_phone",
    "seller_email",
    "seller_registration_number",
    "tax_rates",
    "tax_rounding",
    "data_dir",
    "database_url",
    "database_max_connections",
    "session_cache_ms",
    "migrate_on_start",
    "log_format",
    "tls_cert",
    "tls_key",
    "mail_from",
    "mail_outbox_dir",
    "mail_transport",
    "smtp_host",
    "smtp_port",
    "smtp_security",
    "smtp_username",
    "smtp_password",
    "smtp_timeout_secs",
    "smtp_ca_file",
    "mail_max_attempts",
    "mail_first_retry_secs",
    "mail_longest_retry_secs",
    "mail_max_inbound_bytes",
    "session_idle_timeout_secs",
    "session_absolute_lifetime_secs",
    "recent_authentication_secs",
    "max_body_bytes",
    "trust_forwarded_for",
    "argon2_memory_kib",
    "argon2_iterations",
    "argon2_parallelism",
    "media_dir",
    "demo_catalog",
    "payment_provider",
    "sandbox_webhook_secret",
    "stripe_secret_key",
    "stripe_webhook_secrets",
    "stripe_api_base",
    "second_factor_key",
    "second_factor_previous_keys",
    "share_email_with_payment_provider",
    "retention_unverified_days",
    "retention_accounting_days",
    "retention_ledger_days",
    "retention_inquiry_days",
    "retention_mail_days",
    "stats_enabled",
    "redirect_http_listen",
    "stats_retention_days",
    "stats_min_count",
];

impl Config {
    /// Loads `file` (when given; it must exist) and the environment, then validates.
    ///
    /// # Errors
    /// [`ConfigError`] listing unreadable files, bad TOML, unknown keys, bad values.
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        match file {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => Self::parse(Some((&path.display().to_string(), &text)), env),
                Err(e) => {
                    // The environment's problems are listed too, as always.
                    let mut errors = vec![format!("cannot read {}: {e}", path.display())];
                    if let Err(ConfigError(more)) = Self::parse(None, env) {
                        errors.extend(more);
                    }
                    Err(ConfigError(errors))
                }
            },
            None => Self::parse(None, env),
        }
    }

    /// As [`Config::load`], with the file's `(name, text)` already read: the parser that the
    /// fuzz target `config` drives.
    ///
    /// # Errors
    /// [`ConfigError`] listing bad TOML, unknown keys, bad values.
    pub fn parse(
        file: Option<(&str, &str)>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let mut errors = Vec::new();
        let mut raw = match file {
            Some((name, text)) => toml::from_str::<FileConfig>(text).unwrap_or_else(|e| {
                errors.push(format!("{name}: {}", e.message()));
                FileConfig::default()
            }),
            None => FileConfig::default(),
        };
        overlay_env(&mut raw, env, &mut errors);
        let config = resolve(raw, &mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError(errors))
        }
    }
}

fn overlay_env(
    raw: &mut FileConfig,
    env: &dyn Fn(&str) -> Option<String>,
    errors: &mut Vec<String>,
) {
    let var = |key: &str| env(&format!("KIKERU_{}", key.to_ascii_uppercase()));
    fn parsed<T: std::str::FromStr>(
        key: &str,
        value: String,
        errors: &mut Vec<String>,
    ) -> Option<T> {
        match value.trim().parse() {
            Ok(v) => Some(v),
            Err(_) => {
                errors.push(format!(
                    "KIKERU_{}: cannot parse {value:?}",
                    key.to_ascii_uppercase()
                ));
                None
            }
        }
    }
    macro_rules! text {
        ($field:ident) => {
            if let Some(v) = var(stringify!($field)) {
                raw.$field = Some(v.into());
            }
        };
    }
    macro_rules! number {
        ($field:ident) => {
            if let Some(v) = var(stringify!($field)) {
                if let Some(n) = parsed(stringify!($field), v, errors) {
                    raw.$field = Some(n);
                }
            }
        };
    }
    text!(listen);
    text!(public_url);
    text!(passkey_rp_id);
    text!(passkey_origin);
    text!(seller_name);
    text!(seller_representative);
    text!(seller_address);
    text!(seller_phone);
    text!(seller_email);
    text!(seller_registration_number);
    text!(tax_rates);
    text!(tax_rounding);
    text!(log_format);
    text!(mail_from);
    text!(payment_provider);
    text!(stripe_api_base);
    text!(mail_transport);
    text!(redirect_http_listen);
    text!(smtp_host);
    text!(smtp_security);
    text!(smtp_username);
    for (key, slot) in [
        ("smtp_password", &mut raw.smtp_password),
        ("sandbox_webhook_secret", &mut raw.sandbox_webhook_secret),
        ("stripe_secret_key", &mut raw.stripe_secret_key),
        ("stripe_webhook_secrets", &mut raw.stripe_webhook_secrets),
        ("second_factor_key", &mut raw.second_factor_key),
        (
            "second_factor_previous_keys",
            &mut raw.second_factor_previous_keys,
        ),
    ] {
        if let Some(v) = var(key) {
            *slot = Some(Secret(v));
        }
    }
    if let Some(v) = var("database_url") {
        raw.database_url = Some(Secret(v));
    }
    for (key, slot) in [
        ("data_dir", &mut raw.data_dir),
        ("tls_cert", &mut raw.tls_cert),
        ("tls_key", &mut raw.tls_key),
        ("mail_outbox_dir", &mut raw.mail_outbox_dir),
        ("media_dir", &mut raw.media_dir),
        ("smtp_ca_file", &mut raw.smtp_ca_file),
    ] {
        if let Some(v) = var(key) {
            *slot = Some(PathBuf::from(v));
        }
    }
    number!(database_max_connections);
    number!(session_cache_ms);
    number!(migrate_on_start);
    number!(session_idle_timeout_secs);
    number!(session_absolute_lifetime_secs);
    number!(recent_authentication_secs);
    number!(max_body_bytes);
    number!(trust_forwarded_for);
    number!(argon2_memory_kib);
    number!(argon2_iterations);
    number!(argon2_parallelism);
    number!(demo_catalog);
    number!(share_email_with_payment_provider);
    number!(retention_unverified_days);
    number!(retention_accounting_days);
    number!(retention_ledger_days);
    number!(retention_inquiry_days);
    number!(retention_mail_days);
    number!(stats_enabled);
    number!(stats_retention_days);
    number!(stats_min_count);
    number!(smtp_port);
    number!(smtp_timeout_secs);
    number!(mail_max_attempts);
    number!(mail_first_retry_secs);
    number!(mail_longest_retry_secs);
    number!(mail_max_inbound_bytes);
}

fn resolve(raw: FileConfig, errors: &mut Vec<String>) -> Config {
    let mail_transport = mail_transport(&raw, errors);
    let postman = postman(&raw, errors);
    let listen_text = raw.listen.unwrap_or_else(|| "127.0.0.1:8080".to_owned());
    let listen = listen_text.parse().unwrap_or_else(|_| {
        errors.push(format!(
            "listen: {listen_text:?} is not an address like 127.0.0.1:8080"
        ));
        SocketAddr::from(([127, 0, 0, 1], 8080))
    });
    let tls = match (raw.tls_cert, raw.tls_key) {
        (Some(cert), Some(key)) => Some(Tls { cert, key }),
        (None, None) => None,
        _ => {
            errors.push("tls_cert and tls_key must be set together".to_owned());
            None
        }
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let public_url_configured = raw.public_url.is_some();
    let public_url = raw
        .public_url
        .unwrap_or_else(|| format!("{scheme}://{listen}"))
        .trim_end_matches('/')
        .to_owned();
    if let Err(problem) = check_origin(&public_url) {
        errors.push(format!("public_url: {problem}"));
    }
    if let Some(rp_id) = &raw.passkey_rp_id {
        let valid = !rp_id.is_empty()
            && rp_id.len() <= 253
            && rp_id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-');
        let origin = raw.passkey_origin.as_deref().unwrap_or(&public_url);
        let host = origin_host(origin);
        if !valid {
            errors.push("passkey_rp_id: a domain name in lowercase (e.g. example.jp)".to_owned());
        } else if host != rp_id && !host.ends_with(&format!(".{rp_id}")) {
            errors.push(format!(
                "passkey_rp_id: must be the host of the passkey origin ({host}) or a domain it is under"
            ));
        }
    }
    if let Some(origin) = &raw.passkey_origin
        && let Err(problem) = check_origin(origin)
    {
        errors.push(format!("passkey_origin: {problem}"));
    }
    let data_dir = raw.data_dir.unwrap_or_else(|| PathBuf::from("data"));
    let database_url = raw.database_url.unwrap_or_else(|| {
        Secret(format!(
            "sqlite://{}?mode=rwc",
            data_dir.join("kikeru.db").display()
        ))
    });
    let url = database_url.expose();
    if !(url.starts_with("sqlite:")
        || url.starts_with("postgres://")
        || url.starts_with("postgresql://"))
    {
        errors
            .push("database_url: use sqlite://FILE?mode=rwc or postgres://USER@HOST/DB".to_owned());
    }
    let log_format = match raw.log_format.as_deref().unwrap_or("text") {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            errors.push(format!(
                "log_format: {other:?} is neither \"text\" nor \"json\""
            ));
            LogFormat::Text
        }
    };
    let idle = raw.session_idle_timeout_secs.unwrap_or(7 * 86_400);
    let absolute = raw.session_absolute_lifetime_secs.unwrap_or(30 * 86_400);
    if idle == 0 || absolute == 0 || idle > absolute {
        errors.push("session timeouts: need 0 < session_idle_timeout_secs <= session_absolute_lifetime_secs".to_owned());
    }
    let recent = raw.recent_authentication_secs.unwrap_or(600);
    if !(1..=86_400).contains(&recent) {
        errors.push(
            "recent_authentication_secs: must be between 1 and 86400 (sensitive changes need a sign-in this recent)"
                .to_owned(),
        );
    }
    let max_body_bytes = raw.max_body_bytes.unwrap_or(64 * 1024);
    if !(1024..=16 * 1024 * 1024).contains(&max_body_bytes) {
        errors.push("max_body_bytes: must be between 1024 and 16777216".to_owned());
    }
    let argon2 = Argon2Cost {
        memory_kib: raw
            .argon2_memory_kib
            .unwrap_or(Argon2Cost::OWASP.memory_kib),
        iterations: raw
            .argon2_iterations
            .unwrap_or(Argon2Cost::OWASP.iterations),
        parallelism: raw
            .argon2_parallelism
            .unwrap_or(Argon2Cost::OWASP.parallelism),
    };
    if !argon2.meets_owasp() {
        errors.push("argon2: below OWASP's minimum (19456 KiB, 2 iterations, 1 lane)".to_owned());
    }
    if raw.database_max_connections == Some(0) {
        errors.push("database_max_connections: must be at least 1".to_owned());
    }
    let payment = match raw.payment_provider.as_deref().unwrap_or("sandbox") {
        "sandbox" => PaymentProvider::Sandbox {
            webhook_secret: raw.sandbox_webhook_secret,
        },
        "stripe" => {
            let secret_key = raw.stripe_secret_key.unwrap_or_else(|| {
                errors.push(
                    "stripe_secret_key: required with payment_provider = \"stripe\"".to_owned(),
                );
                Secret(String::new())
            });
            let webhook_secrets: Vec<Secret> = raw
                .stripe_webhook_secrets
                .map(|s| {
                    s.0.split(',')
                        .map(|p| Secret(p.trim().to_owned()))
                        .filter(|p| !p.0.is_empty())
                        .collect()
                })
                .unwrap_or_default();
            if webhook_secrets.is_empty() {
                errors.push("stripe_webhook_secrets: required with payment_provider = \"stripe\" (comma-separated whsec_… values)".to_owned());
            }
            PaymentProvider::Stripe {
                secret_key,
                webhook_secrets,
                api_base: raw
                    .stripe_api_base
                    .unwrap_or_else(|| "https://api.stripe.com".to_owned()),
            }
        }
        other => {
            errors.push(format!(
                "payment_provider: {other:?} is neither \"sandbox\" nor \"stripe\""
            ));
            PaymentProvider::Sandbox {
                webhook_secret: None,
            }
        }
    };
    let sandbox = matches!(payment, PaymentProvider::Sandbox { .. });
    if !sandbox && !public_url.starts_with("https://") && !is_loopback(origin_host(&public_url)) {
        errors.push(format!(
            "public_url: real payments (payment_provider = \"stripe\") are served over HTTPS only: {public_url:?} must start with https:// (TLS here with tls_cert and tls_key, or at a proxy in front); plain http is allowed on loopback hosts (localhost, 127.0.0.1, [::1]) for local tests"
        ));
    }
    let second_factor_key = match raw
        .second_factor_key
        .as_ref()
        .map(|k| SealKey::parse(k.expose()))
    {
        Some(Some(key)) => Some(key),
        Some(None) => {
            errors.push("second_factor_key: must be 32 random bytes in base64 (e.g. the output of `openssl rand -base64 32`)".to_owned());
            None
        }
        None if !sandbox => {
            errors.push("second_factor_key: required in production (payment_provider = \"stripe\"): authenticator-app secrets are encrypted with it (`openssl rand -base64 32`)".to_owned());
            None
        }
        None => None,
    };
    let second_factor_previous_keys: Vec<SealKey> = match &raw.second_factor_previous_keys {
        None => Vec::new(),
        Some(keys) => {
            let parsed: Option<Vec<SealKey>> = keys
                .expose()
                .split(',')
                .filter(|k| !k.trim().is_empty())
                .map(SealKey::parse)
                .collect();
            match parsed {
                Some(keys) if second_factor_key.is_some() || keys.is_empty() => keys,
                Some(_) => {
                    errors.push("second_factor_previous_keys: set second_factor_key too (the key sealing from now on)".to_owned());
                    Vec::new()
                }
                None => {
                    errors.push("second_factor_previous_keys: comma-separated keys of 32 bytes in base64, each like second_factor_key".to_owned());
                    Vec::new()
                }
            }
        }
    };
    let registration_number = match raw.seller_registration_number.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => match kikeru_domain::tax::RegistrationNumber::parse(text) {
            Ok(number) => Some(number),
            Err(e) => {
                errors.push(format!("seller_registration_number: {e}"));
                None
            }
        },
    };
    let seller_fields = [
        &raw.seller_name,
        &raw.seller_representative,
        &raw.seller_address,
        &raw.seller_phone,
        &raw.seller_email,
    ];
    let seller = if seller_fields.iter().all(|f| f.is_none()) && registration_number.is_none() {
        None
    } else {
        let text = |f: &Option<String>| f.as_deref().unwrap_or_default().trim().to_owned();
        Some(kikeru_domain::legal::Seller {
            name: text(&raw.seller_name),
            representative: text(&raw.seller_representative),
            address: text(&raw.seller_address),
            phone: text(&raw.seller_phone),
            email: text(&raw.seller_email),
            registration_number,
        })
    };
    if !sandbox {
        let missing = seller.as_ref().map_or_else(
            || kikeru_domain::legal::Seller::default().missing(),
            |s| s.missing(),
        );
        if !missing.is_empty() {
            errors.push(format!(
                "the seller's particulars required by the Act on Specified Commercial Transactions (特定商取引法) are missing in production (payment_provider = \"stripe\"): {}",
                missing.join(", ")
            ));
        }
    }
    let tax = match tax_rules(raw.tax_rates.as_deref(), raw.tax_rounding.as_deref()) {
        Ok(rules) => rules,
        Err(problems) => {
            errors.extend(problems);
            kikeru_domain::tax::TaxRules::japan()
        }
    };
    let defaults = kikeru_domain::retention::RetentionPolicy::default();
    let retention = kikeru_domain::retention::RetentionPolicy {
        unverified_accounts: days(
            "retention_unverified_days",
            raw.retention_unverified_days,
            defaults.unverified_accounts,
            errors,
        ),
        idle_sessions: Duration::from_secs(idle),
        accounting_records: days(
            "retention_accounting_days",
            raw.retention_accounting_days,
            defaults.accounting_records,
            errors,
        ),
        ledger: days(
            "retention_ledger_days",
            raw.retention_ledger_days,
            defaults.ledger,
            errors,
        ),
        inquiries: days(
            "retention_inquiry_days",
            raw.retention_inquiry_days,
            defaults.inquiries,
            errors,
        ),
        settled_mail: days(
            "retention_mail_days",
            raw.retention_mail_days,
            defaults.settled_mail,
            errors,
        ),
    };
    if retention.validate().is_err() {
        errors.push("retention_ledger_days: the disclosure ledger must be kept at least 1095 days (three years)".to_owned());
    }
    let mail_from = raw
        .mail_from
        .unwrap_or_else(|| "Minna Kikeru <no-reply@localhost>".to_owned());
    if let Err(problem) = kikeru_mail::parse_sender(&mail_from) {
        errors.push(format!("mail_from: {mail_from:?} is {problem}"));
    }
    let mail_max_inbound_bytes = raw
        .mail_max_inbound_bytes
        .unwrap_or(kikeru_mail::inbound::DEFAULT_MAX_BYTES);
    if !(1024..=100 * 1024 * 1024).contains(&mail_max_inbound_bytes) {
        errors.push("mail_max_inbound_bytes: must be between 1024 and 104857600".to_owned());
    }
    let stats_min_count = raw.stats_min_count.unwrap_or(5);
    if stats_min_count == 0 {
        errors.push("stats_min_count: must be at least 1".to_owned());
    }
    if raw.stats_retention_days == Some(0) {
        errors.push("stats_retention_days: must be at least 1".to_owned());
    }
    let stats_retention = days(
        "stats_retention_days",
        raw.stats_retention_days,
        Duration::from_secs(90 * 86_400),
        errors,
    );
    let redirect_http_listen = raw.redirect_http_listen.as_deref().and_then(|text| {
        text.parse()
            .map_err(|_| {
                errors.push(format!(
                    "redirect_http_listen: {text:?} is not an address like 0.0.0.0:80"
                ));
            })
            .ok()
    });
    Config {
        redirect_http_listen,
        stats_enabled: raw.stats_enabled.unwrap_or(true),
        stats_retention,
        stats_min_count,
        mail_transport,
        postman,
        mail_max_inbound_bytes,
        media_dir: raw.media_dir.unwrap_or_else(|| data_dir.join("media")),
        data_dir: data_dir.clone(),
        demo_catalog: raw.demo_catalog.unwrap_or(sandbox),
        payment,
        share_email_with_payment_provider: raw.share_email_with_payment_provider.unwrap_or(false),
        second_factor_key,
        second_factor_previous_keys,
        retention,
        listen,
        public_url,
        public_url_configured,
        passkey_rp_id: raw.passkey_rp_id,
        seller,
        tax,
        passkey_origin: raw
            .passkey_origin
            .map(|o| o.trim_end_matches('/').to_owned()),
        database_url,
        database_max_connections: raw.database_max_connections,
        session_cache_ms: raw.session_cache_ms.unwrap_or(1000),
        migrate_on_start: raw.migrate_on_start.unwrap_or(true),
        log_format,
        tls,
        mail_from,
        mail_outbox_dir: raw
            .mail_outbox_dir
            .unwrap_or_else(|| data_dir.join("outbox")),
        session_idle_timeout: Duration::from_secs(idle),
        session_absolute_lifetime: Duration::from_secs(absolute),
        recent_authentication: Duration::from_secs(recent),
        max_body_bytes,
        trust_forwarded_for: raw.trust_forwarded_for.unwrap_or(false),
        argon2,
    }
}

fn mail_transport(raw: &FileConfig, errors: &mut Vec<String>) -> MailTransport {
    match raw.mail_transport.as_deref().unwrap_or("outbox") {
        "outbox" => MailTransport::Outbox,
        "smtp" => {
            let security_text = raw.smtp_security.as_deref().unwrap_or("starttls");
            let security = kikeru_mail::Security::parse(security_text).unwrap_or_else(|| {
                errors.push(format!(
                    "smtp_security: {security_text:?} is none of \"starttls\", \"tls\", \"none\""
                ));
                kikeru_mail::Security::StartTls
            });
            let host = raw.smtp_host.clone().unwrap_or_else(|| {
                errors.push("smtp_host: required with mail_transport = \"smtp\"".to_owned());
                String::new()
            });
            let default_port = match security {
                kikeru_mail::Security::StartTls => 587,
                kikeru_mail::Security::Tls => 465,
                kikeru_mail::Security::None => 25,
            };
            if raw.smtp_password.is_some() != raw.smtp_username.is_some() {
                errors.push("smtp_username and smtp_password must be set together".to_owned());
            }
            let timeout = raw.smtp_timeout_secs.unwrap_or(30);
            if !(1..=600).contains(&timeout) {
                errors.push("smtp_timeout_secs: must be between 1 and 600".to_owned());
            }
            MailTransport::Smtp(Smtp {
                host,
                port: raw.smtp_port.unwrap_or(default_port),
                security,
                username: raw.smtp_username.clone(),
                password: raw.smtp_password.clone(),
                timeout: Duration::from_secs(timeout),
                ca_file: raw.smtp_ca_file.clone(),
            })
        }
        other => {
            errors.push(format!(
                "mail_transport: {other:?} is neither \"outbox\" nor \"smtp\""
            ));
            MailTransport::Outbox
        }
    }
}

fn postman(raw: &FileConfig, errors: &mut Vec<String>) -> kikeru_domain::outbox::PostmanConfig {
    let defaults = kikeru_domain::outbox::PostmanConfig::default();
    let config = kikeru_domain::outbox::PostmanConfig {
        max_attempts: raw.mail_max_attempts.unwrap_or(defaults.max_attempts),
        first_retry: raw
            .mail_first_retry_secs
            .map_or(defaults.first_retry, Duration::from_secs),
        longest_retry: raw
            .mail_longest_retry_secs
            .map_or(defaults.longest_retry, Duration::from_secs),
        ..defaults
    };
    if !(1..=100).contains(&config.max_attempts) {
        errors.push("mail_max_attempts: must be between 1 and 100".to_owned());
    }
    if config.first_retry.is_zero() || config.first_retry > config.longest_retry {
        errors.push(
            "mail retries: need 0 < mail_first_retry_secs <= mail_longest_retry_secs".to_owned(),
        );
    }
    config
}

/// The longest period a `*_days` setting may name: a hundred years.
const MOST_DAYS: u64 = 36_500;

/// A period given in days, or `default`; more than [`MOST_DAYS`] is a mistake, not forever.
fn days(key: &str, value: Option<u64>, default: Duration, errors: &mut Vec<String>) -> Duration {
    match value {
        None => default,
        Some(n) if n > MOST_DAYS => {
            errors.push(format!("{key}: at most {MOST_DAYS} days (a hundred years)"));
            default
        }
        Some(n) => Duration::from_secs(n * 86_400),
    }
}

/// An origin: `http(s)://host[:port]`, nothing after.
/// Whether a host names this machine: `localhost`, `127.0.0.0/8` or `[::1]`.
fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn check_origin(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| format!("{url:?} must start with http:// or https://"))?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
        return Err(format!(
            "{url:?} must be an origin like https://kikeru.example (no path)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn load(file: Option<&str>, vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kikeru.toml");
        if let Some(text) = file {
            std::fs::write(&path, text).unwrap();
        }
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::load(file.map(|_| path.as_path()), &|k| vars.get(k).cloned())
    }

    #[test]
    fn the_embedded_defaults_need_no_setup() {
        let config = load(None, &[]).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(config.public_url, "http://127.0.0.1:8080");
        assert_eq!(
            config.database_url.expose(),
            "sqlite://data/kikeru.db?mode=rwc"
        );
        assert_eq!(config.mail_outbox_dir, PathBuf::from("data/outbox"));
        assert_eq!(config.session_idle_timeout, Duration::from_secs(7 * 86_400));
        assert_eq!(config.argon2, Argon2Cost::OWASP);
    }

    #[test]
    fn the_second_factor_key_is_32_bytes_and_required_in_production() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let config = load(None, &[("KIKERU_SECOND_FACTOR_KEY", key)]).unwrap();
        let expected: Vec<u8> = (0..32).collect();
        assert_eq!(
            config
                .second_factor_key
                .as_ref()
                .map(|k| k.expose().to_vec()),
            Some(expected)
        );
        assert!(!format!("{config:?}").contains(key));
        assert!(
            load(None, &[]).unwrap().second_factor_key.is_none(),
            "optional in the sandbox"
        );
        for bad in [
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==",
            "not base64!",
            "",
        ] {
            let problems = load(None, &[("KIKERU_SECOND_FACTOR_KEY", bad)])
                .unwrap_err()
                .0;
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("second_factor_key: must be 32 random bytes")),
                "{bad:?}: {problems:?}"
            );
        }
        let stripe = [
            ("KIKERU_PAYMENT_PROVIDER", "stripe"),
            ("KIKERU_STRIPE_SECRET_KEY", "sk_test_x"),
            ("KIKERU_STRIPE_WEBHOOK_SECRETS", "whsec_x"),
        ];
        let problems = load(None, &stripe).unwrap_err().0;
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("second_factor_key: required in production")),
            "{problems:?}"
        );
        let mut with_key = stripe.to_vec();
        with_key.push(("KIKERU_SECOND_FACTOR_KEY", key));
        with_key.extend(SELLER);
        assert!(load(None, &with_key).is_ok());
    }

    const SELLER: [(&str, &str); 5] = [
        ("KIKERU_SELLER_NAME", "株式会社キケル"),
        ("KIKERU_SELLER_REPRESENTATIVE", "山田 花子"),
        ("KIKERU_SELLER_ADDRESS", "東京都千代田区千代田1-1"),
        ("KIKERU_SELLER_PHONE", "03-1234-5678"),
        ("KIKERU_SELLER_EMAIL", "support@kikeru.example"),
    ];

    #[test]
    fn tax_and_passkey_settings_are_checked_and_every_problem_named() {
        let problems = load(
            None,
            &[
                ("KIKERU_TAX_RATES", "2019-10-01:10"),
                ("KIKERU_TAX_ROUNDING", "sideways"),
                ("KIKERU_PUBLIC_URL", "https://kikeru.example.jp"),
                ("KIKERU_PASSKEY_RP_ID", "evil.example"),
            ],
        )
        .unwrap_err()
        .0;
        for key in ["tax_rates:", "tax_rounding:", "passkey_rp_id:"] {
            assert!(
                problems.iter().any(|p| p.starts_with(key)),
                "{key} {problems:?}"
            );
        }
        let twice = load(
            None,
            &[("KIKERU_TAX_RATES", "2019-10-01:10:8;2019-10-01:12:8")],
        )
        .unwrap_err()
        .0;
        assert!(
            twice.iter().any(|p| p.starts_with("tax_rates:")),
            "{twice:?}"
        );
        let config = load(
            None,
            &[
                ("KIKERU_TAX_RATES", "2014-04-01:8:8; 2019-10-01:10:8"),
                ("KIKERU_TAX_ROUNDING", "half_up"),
                ("KIKERU_PUBLIC_URL", "https://kikeru.example.jp"),
                ("KIKERU_PASSKEY_RP_ID", "example.jp"),
            ],
        )
        .unwrap();
        assert_eq!(config.tax.periods().len(), 2);
        assert_eq!(config.tax.rounding, kikeru_domain::tax::Rounding::HalfUp);
        assert_eq!(config.passkey_rp_id.as_deref(), Some("example.jp"));
    }

    /// The privacy page promises encrypted communication: real payments never start on a
    /// plain-http public URL, except on loopback for local tests with test keys.
    #[test]
    fn real_payments_need_an_https_public_url_except_on_loopback() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let mut production = vec![
            ("KIKERU_PAYMENT_PROVIDER", "stripe"),
            ("KIKERU_STRIPE_SECRET_KEY", "sk_test_x"),
            ("KIKERU_STRIPE_WEBHOOK_SECRETS", "whsec_x"),
            ("KIKERU_SECOND_FACTOR_KEY", key),
        ];
        production.extend(SELLER);
        let at = |url: &'static str| {
            let mut vars = production.clone();
            vars.push(("KIKERU_PUBLIC_URL", url));
            load(None, &vars)
        };
        for plain in [
            "http://kikeru.example",
            "http://192.0.2.10:8080",
            "http://[2001:db8::1]",
        ] {
            let problems = at(plain).unwrap_err().0;
            assert!(
                problems
                    .iter()
                    .any(|p| p.starts_with("public_url:") && p.contains("https://")),
                "{plain}: {problems:?}"
            );
        }
        for fine in [
            "https://kikeru.example",
            "http://localhost:8080",
            "http://127.0.0.1:8080",
            "http://[::1]:8080",
        ] {
            assert!(at(fine).is_ok(), "{fine}: {:?}", at(fine).err());
        }
        // Unset, the public URL follows the bound address: loopback by default.
        assert!(load(None, &production).is_ok());
        // The sandbox takes no money and may run anywhere.
        assert!(load(None, &[("KIKERU_PUBLIC_URL", "http://kikeru.example")]).is_ok());
    }

    #[test]
    fn production_refuses_to_start_without_the_sellers_particulars() {
        let key = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
        let stripe = [
            ("KIKERU_PAYMENT_PROVIDER", "stripe"),
            ("KIKERU_STRIPE_SECRET_KEY", "sk_test_x"),
            ("KIKERU_STRIPE_WEBHOOK_SECRETS", "whsec_x"),
            ("KIKERU_SECOND_FACTOR_KEY", key),
        ];
        let problems = load(None, &stripe).unwrap_err().0;
        let problem = problems
            .iter()
            .find(|p| p.contains("特定商取引法"))
            .expect("the particulars are named");
        for key in [
            "seller_name",
            "seller_representative",
            "seller_address",
            "seller_phone",
            "seller_email",
        ] {
            assert!(problem.contains(key), "{problem}");
        }
        let mut partial = stripe.to_vec();
        partial.extend(&SELLER[..4]);
        let problems = load(None, &partial).unwrap_err().0;
        assert!(
            problems.iter().any(|p| p.ends_with(": seller_email")),
            "{problems:?}"
        );
        let mut complete = stripe.to_vec();
        complete.extend(SELLER);
        complete.push(("KIKERU_SELLER_REGISTRATION_NUMBER", "T7000012050003"));
        let problems = load(None, &complete).unwrap_err().0;
        assert_eq!(
            problems,
            vec!["seller_registration_number: the registration number's check digit is wrong"]
        );
        complete.pop();
        complete.push(("KIKERU_SELLER_REGISTRATION_NUMBER", "T7000012050002"));
        let config = load(None, &complete).unwrap();
        let seller = config.seller.unwrap();
        assert_eq!(seller.name, "株式会社キケル");
        assert_eq!(
            seller.registration_number.unwrap().as_str(),
            "T7000012050002"
        );
        // The sandbox opens without them (the page shows labelled samples).
        assert!(load(None, &[]).unwrap().seller.is_none());
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let file = "listen = \"127.0.0.1:9000\"\npublic_url = \"https://kikeru.example\"\n";
        let config = load(
            Some(file),
            &[
                ("KIKERU_LISTEN", "0.0.0.0:8443"),
                ("KIKERU_DATABASE_URL", "postgres://u@h/db"),
            ],
        )
        .unwrap();
        assert_eq!(config.listen.to_string(), "0.0.0.0:8443");
        assert_eq!(config.public_url, "https://kikeru.example");
        assert_eq!(config.database_url.expose(), "postgres://u@h/db");
    }

    #[test]
    fn every_problem_is_listed_at_once() {
        let file = "listen = \"nowhere\"\nsession_idle_timeout_secs = 0\n";
        let errors = load(
            Some(file),
            &[
                ("KIKERU_MAX_BODY_BYTES", "lots"),
                ("KIKERU_PUBLIC_URL", "kikeru.example/path"),
            ],
        )
        .unwrap_err()
        .0;
        assert_eq!(errors.len(), 4, "{errors:?}");
        assert!(errors.iter().any(|e| e.contains("KIKERU_MAX_BODY_BYTES")));
        assert!(errors.iter().any(|e| e.starts_with("listen")));
        assert!(errors.iter().any(|e| e.starts_with("public_url")));
        assert!(errors.iter().any(|e| e.starts_with("session timeouts")));
    }

    #[test]
    fn unknown_keys_and_bad_toml_are_errors() {
        let errors = load(Some("lisen = \"x\"\n"), &[]).unwrap_err().0;
        assert!(errors[0].contains("unknown field"), "{errors:?}");
        assert!(load(Some("listen = \n"), &[]).is_err());
        assert!(load(Some("argon2_memory_kib = 1024\n"), &[]).is_err());
    }

    #[test]
    fn the_ledger_cannot_be_configured_to_be_kept_less_than_three_years() {
        let errors = load(None, &[("KIKERU_RETENTION_LEDGER_DAYS", "30")])
            .unwrap_err()
            .0;
        assert!(errors[0].starts_with("retention_ledger_days"), "{errors:?}");
        let config = load(None, &[("KIKERU_RETENTION_UNVERIFIED_DAYS", "2")]).unwrap();
        assert_eq!(
            config.retention.unverified_accounts,
            Duration::from_secs(2 * 86_400)
        );
    }

    #[test]
    fn smtp_needs_a_host_and_says_what_is_wrong() {
        let config = load(
            Some("mail_transport = \"smtp\"\nsmtp_host = \"mail.example.jp\"\nsmtp_security = \"tls\"\n"),
            &[("KIKERU_SMTP_USERNAME", "kikeru"), ("KIKERU_SMTP_PASSWORD", "pw")],
        )
        .unwrap();
        let MailTransport::Smtp(smtp) = config.mail_transport else {
            panic!("not smtp");
        };
        assert_eq!((smtp.host.as_str(), smtp.port), ("mail.example.jp", 465));
        assert!(!format!("{smtp:?}").contains("\"pw\""));
        let errors = load(
            Some("mail_transport = \"smtp\"\nsmtp_security = \"ssl\"\nsmtp_username = \"x\"\n"),
            &[
                ("KIKERU_MAIL_MAX_ATTEMPTS", "0"),
                ("KIKERU_MAIL_FROM", "not an address"),
            ],
        )
        .unwrap_err()
        .0;
        for key in [
            "smtp_security",
            "smtp_host",
            "smtp_username",
            "mail_max_attempts",
            "mail_from",
        ] {
            assert!(
                errors.iter().any(|e| e.starts_with(key)),
                "{key}: {errors:?}"
            );
        }
        assert!(load(Some("mail_transport = \"pigeon\"\n"), &[]).is_err());
    }

    proptest::proptest! {
        /// Any file, made of known keys with arbitrary values or of arbitrary text, and any
        /// environment value give a configuration or a list of problems — never a panic.
        #[test]
        fn no_file_or_environment_makes_loading_panic(
            lines in proptest::collection::vec(
                (proptest::sample::select(ENV_KEYS.to_vec()), "[ -~]{0,40}"),
                0..8,
            ),
            text in "\\PC{0,200}",
            env_value in "\\PC{0,40}",
            key in proptest::sample::select(ENV_KEYS.to_vec()),
        ) {
            let file: String = lines
                .iter()
                .map(|(k, v)| format!("{k} = {v}\n"))
                .collect();
            let variable = format!("KIKERU_{}", key.to_ascii_uppercase());
            let _ = load(Some(&file), &[(variable.as_str(), env_value.as_str())]);
            let _ = load(Some(&text), &[]);
        }
    }

    #[test]
    fn an_unreadable_file_is_listed_with_the_environments_problems() {
        let missing = Path::new("/nonexistent/kikeru.toml");
        let errors = Config::load(Some(missing), &|k| {
            (k == "KIKERU_MAX_BODY_BYTES").then(|| "lots".to_owned())
        })
        .unwrap_err()
        .0;
        assert!(
            errors[0].starts_with("cannot read /nonexistent/kikeru.toml"),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.contains("KIKERU_MAX_BODY_BYTES")),
            "{errors:?}"
        );
    }

    #[test]
    fn a_period_of_more_than_a_hundred_years_is_refused_not_wrapped() {
        // Found by the fuzz target: days × 86,400 overflowed.
        let error = load(Some("retention_mail_days = 213503982334601\n"), &[]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("retention_mail_days: at most 36500 days")
        );
        let error = load(
            None,
            &[("KIKERU_STATS_RETENTION_DAYS", "18446744073709551615")],
        )
        .unwrap_err();
        assert!(error.to_string().contains("stats_retention_days"));
    }

    #[test]
    fn secrets_do_not_show_in_debug_output() {
        let config = load(
            None,
            &[("KIKERU_DATABASE_URL", "postgres://user:hunter2@db/kikeru")],
        )
        .unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
