//! From what was read to a [`Config`]: every value checked, every problem listed, defaults
//! filled in.

use super::*;

pub(crate) fn resolve(raw: FileConfig, errors: &mut Vec<String>) -> Config {
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
        Some(text) => match kikeru_domain::shop::tax::RegistrationNumber::parse(text) {
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
        Some(kikeru_domain::shop::legal::Seller {
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
            || kikeru_domain::shop::legal::Seller::default().missing(),
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
            kikeru_domain::shop::tax::TaxRules::japan()
        }
    };
    let defaults = kikeru_domain::privacy::retention::RetentionPolicy::default();
    let retention = kikeru_domain::privacy::retention::RetentionPolicy {
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
        operator_log: days(
            "retention_operator_log_days",
            raw.retention_operator_log_days,
            defaults.operator_log,
            errors,
        ),
        fiscal_year_end: match raw.fiscal_year_end.as_deref().map(str::trim) {
            None => defaults.fiscal_year_end,
            Some(text) => match fiscal_year_end(text) {
                Some(end) => end,
                None => {
                    errors.push(format!(
                        "fiscal_year_end: {text:?} is not the last day of a month as MM-DD (e.g. 03-31)"
                    ));
                    defaults.fiscal_year_end
                }
            },
        },
    };
    use kikeru_domain::privacy::retention::LEDGER_MINIMUM;
    if retention.ledger < LEDGER_MINIMUM {
        errors.push("retention_ledger_days: the disclosure ledger must be kept at least 1095 days (three years)".to_owned());
    }
    if retention.operator_log < LEDGER_MINIMUM {
        errors.push("retention_operator_log_days: the operators' log records disclosures and legal orders and must be kept at least 1095 days (three years)".to_owned());
    }
    let request_due = match raw.request_due_days {
        None => kikeru_domain::privacy::requests::desk::RequestPolicy::default().due,
        Some(n @ 1..=90) => Duration::from_secs(n * 86_400),
        Some(n) => {
            errors.push(format!(
                "request_due_days: {n} is not from 1 to 90 days (the law asks for an answer without delay)"
            ));
            kikeru_domain::privacy::requests::desk::RequestPolicy::default().due
        }
    };
    let mail_from = raw
        .mail_from
        .unwrap_or_else(|| "Minna Kikeru <no-reply@localhost>".to_owned());
    // The mail adapter reads the address in full when the binary starts (and refuses to start
    // on what it cannot read); here, what no reading could take is listed with the rest.
    if !mail_from.contains('@') || mail_from.chars().any(char::is_control) {
        errors.push(format!("mail_from: {mail_from:?} is not a mail address"));
    }
    let mail_max_inbound_bytes = raw
        .mail_max_inbound_bytes
        .unwrap_or(DEFAULT_MAX_INBOUND_BYTES);
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
    let metrics_listen = raw.metrics_listen.as_deref().and_then(|text| {
        let address: Option<SocketAddr> = text.parse().ok();
        match address {
            None => errors.push(format!(
                "metrics_listen: {text:?} is not an address like 127.0.0.1:9464"
            )),
            Some(a) if a.port() != 0 && a.port() == listen.port() => errors.push(format!(
                "metrics_listen: {text:?} is the public port; metrics have a listener of their own"
            )),
            Some(_) => {}
        }
        address
    });
    Config {
        metrics_listen,
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
        request_due,
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

pub(crate) fn mail_transport(raw: &FileConfig, errors: &mut Vec<String>) -> MailTransport {
    match raw.mail_transport.as_deref().unwrap_or("outbox") {
        "outbox" => MailTransport::Outbox,
        "smtp" => {
            let security_text = raw.smtp_security.as_deref().unwrap_or("starttls");
            let security = SmtpSecurity::parse(security_text).unwrap_or_else(|| {
                errors.push(format!(
                    "smtp_security: {security_text:?} is none of \"starttls\", \"tls\", \"none\""
                ));
                SmtpSecurity::StartTls
            });
            let host = raw.smtp_host.clone().unwrap_or_else(|| {
                errors.push("smtp_host: required with mail_transport = \"smtp\"".to_owned());
                String::new()
            });
            let default_port = match security {
                SmtpSecurity::StartTls => 587,
                SmtpSecurity::Tls => 465,
                SmtpSecurity::None => 25,
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

pub(crate) fn postman(
    raw: &FileConfig,
    errors: &mut Vec<String>,
) -> kikeru_domain::mail::postman::PostmanConfig {
    let defaults = kikeru_domain::mail::postman::PostmanConfig::default();
    let config = kikeru_domain::mail::postman::PostmanConfig {
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
pub(crate) fn days(
    key: &str,
    value: Option<u64>,
    default: Duration,
    errors: &mut Vec<String>,
) -> Duration {
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
pub(crate) fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

pub(crate) fn check_origin(url: &str) -> Result<(), String> {
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

/// Tax rules from `tax_rates` (`FROM:STANDARD:REDUCED` periods separated by `;`, e.g.
/// `2019-10-01:10:8`) and `tax_rounding` (`down`, `half_up`, `up`); Japan's rules by default.
pub(crate) fn tax_rules(
    rates: Option<&str>,
    rounding: Option<&str>,
) -> Result<kikeru_domain::shop::tax::TaxRules, Vec<String>> {
    use kikeru_domain::shop::tax::{Rounding, TaxRules};
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
pub(crate) fn rate_periods(
    rates: &str,
) -> Result<Vec<kikeru_domain::shop::tax::RatePeriod>, String> {
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
        periods.push(kikeru_domain::shop::tax::RatePeriod {
            from: time::Date::parse(from.trim(), &format).map_err(|_| problem())?,
            standard: standard.trim().parse().map_err(|_| problem())?,
            reduced: reduced.trim().parse().map_err(|_| problem())?,
        });
    }
    Ok(periods)
}

/// A fiscal year's last day as `MM-DD`: it must be the last day of its month (a leap day counts
/// as the end of February; 02-28 does too).
fn fiscal_year_end(text: &str) -> Option<(u8, u8)> {
    let (month, day) = text.split_once('-')?;
    let (month, day): (u8, u8) = (month.parse().ok()?, day.parse().ok()?);
    let last = time::Month::try_from(month).ok()?.length(2023);
    (day == last || (month == 2 && day == 29)).then_some((month, day.min(last)))
}
