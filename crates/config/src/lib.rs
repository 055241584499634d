//! Configuration: embedded defaults, then a TOML file, then `KIKERU_*` environment variables;
//! validated once at start, with every problem listed.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

mod env;
mod resolve;

pub use env::env_keys;
use env::env_table;
use resolve::resolve;

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
    retention_operator_log_days: Option<u64>,
    request_due_days: Option<u64>,
    fiscal_year_end: Option<String>,
    stats_enabled: Option<bool>,
    redirect_http_listen: Option<String>,
    metrics_listen: Option<String>,
    stats_retention_days: Option<u64>,
    stats_min_count: Option<u64>,
}

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host (port 25 on loopback).
    None,
}

impl SmtpSecurity {
    /// Reads `starttls`, `tls` or `none`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// The largest inbound mail read by default (10 MiB).
pub const DEFAULT_MAX_INBOUND_BYTES: usize = 10 * 1024 * 1024;

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
    pub security: SmtpSecurity,
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
    pub seller: Option<kikeru_domain::shop::legal::Seller>,
    /// Consumption tax: rate periods and rounding.
    pub tax: kikeru_domain::shop::tax::TaxRules,
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
    pub postman: kikeru_domain::mail::postman::PostmanConfig,
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
    pub retention: kikeru_domain::privacy::retention::RetentionPolicy,
    /// How soon a request under APPI (開示・訂正・利用停止) is due after the requester is
    /// verified: the operators' target for "遅滞なく".
    pub request_due: Duration,
    /// A plain-HTTP address whose every request is redirected to the HTTPS public URL.
    pub redirect_http_listen: Option<SocketAddr>,
    /// Where the operators' metrics (`/metrics`, Prometheus) are served; off when `None`.
    pub metrics_listen: Option<SocketAddr>,
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
        let mut table = match file {
            Some((name, text)) => text.parse::<toml::Table>().unwrap_or_else(|e| {
                errors.push(file_problem(name, text, &e));
                toml::Table::new()
            }),
            None => toml::Table::new(),
        };
        let env = env_table(env, &mut errors);
        table.extend(env.clone());
        let raw = match toml::Value::Table(table).try_into::<FileConfig>() {
            Ok(raw) => raw,
            Err(merged) => {
                // Each environment value was checked alone, so the file is at fault: reading
                // it alone names the problem and its line. The environment still counts.
                let problem = file
                    .and_then(|(name, text)| {
                        let e = toml::from_str::<FileConfig>(text).err()?;
                        Some(file_problem(name, text, &e))
                    })
                    .unwrap_or_else(|| merged.message().to_owned());
                errors.push(problem);
                toml::Value::Table(env).try_into().unwrap_or_default()
            }
        };
        let config = resolve(raw, &mut errors);
        if errors.is_empty() {
            Ok(config)
        } else {
            Err(ConfigError(errors))
        }
    }
}

/// A problem of the file, with the line it is on and the key it names.
fn file_problem(name: &str, text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return format!("{name}: {}", e.message());
    };
    let before = text.get(..span.start).unwrap_or_default();
    let number = before.matches('\n').count() + 1;
    let start = before.rfind('\n').map_or(0, |at| at + 1);
    let line = text.get(start..).unwrap_or_default();
    let line = line.split('\n').next().unwrap_or_default();
    match line.split_once('=') {
        Some((key, _)) if !key.trim().is_empty() && key.trim().chars().count() <= 64 => {
            format!("{name} line {number} ({}): {}", key.trim(), e.message())
        }
        _ => format!("{name} line {number}: {}", e.message()),
    }
}

#[cfg(test)]
mod tests;
