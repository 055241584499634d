//! The environment over the file: each `KIKERU_*` variable overrides the file key of the same
//! name.

use std::path::PathBuf;

use super::{FileConfig, Secret};

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

pub(crate) fn overlay_env(
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
