//! The configuration's tests: defaults, the file, the environment over it, and every refusal.

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
    assert_eq!(
        config.tax.rounding,
        kikeru_domain::shop::tax::Rounding::HalfUp
    );
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
        Some(
            "mail_transport = \"smtp\"\nsmtp_host = \"mail.example.jp\"\nsmtp_security = \"tls\"\n",
        ),
        &[
            ("KIKERU_SMTP_USERNAME", "kikeru"),
            ("KIKERU_SMTP_PASSWORD", "pw"),
        ],
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
            (proptest::sample::select(env_keys().to_vec()), "[ -~]{0,40}"),
            0..8,
        ),
        text in "\\PC{0,200}",
        env_value in "\\PC{0,40}",
        key in proptest::sample::select(env_keys().to_vec()),
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
    // Larger than any TOML integer, so the variable cannot be read at all.
    assert!(
        error.to_string().contains("KIKERU_STATS_RETENTION_DAYS"),
        "{error}"
    );
}

#[test]
fn the_environments_keys_are_the_files_keys_and_take_their_types() {
    let keys = env_keys();
    assert!(keys.len() > 60, "{keys:?}");
    for key in [
        "listen",
        "smtp_port",
        "second_factor_key",
        "stats_min_count",
    ] {
        assert!(keys.contains(&key), "{key}");
    }
    // A text key takes digits as text; a number or truth key refuses words.
    let config = load(
        None,
        &[
            ("KIKERU_SELLER_PHONE", "0312345678"),
            ("KIKERU_SMTP_PASSWORD", "123456"),
            ("KIKERU_SESSION_CACHE_MS", " 250 "),
            ("KIKERU_STATS_ENABLED", "false"),
        ],
    )
    .unwrap();
    assert_eq!(config.session_cache_ms, 250);
    assert!(!config.stats_enabled);
    let problems = load(
        None,
        &[
            ("KIKERU_SMTP_PORT", "70000"),
            ("KIKERU_STATS_ENABLED", "yes"),
            ("KIKERU_MAX_BODY_BYTES", "-1"),
        ],
    )
    .unwrap_err()
    .0;
    for variable in [
        "KIKERU_SMTP_PORT",
        "KIKERU_STATS_ENABLED",
        "KIKERU_MAX_BODY_BYTES",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(variable)),
            "{problems:?}"
        );
    }
}

#[test]
fn the_environment_still_counts_when_the_file_is_wrong() {
    let problems = load(
        Some("listen = 5\n"),
        &[("KIKERU_RETENTION_LEDGER_DAYS", "30")],
    )
    .unwrap_err()
    .0;
    assert!(
        problems.iter().any(|p| p.contains("listen")),
        "{problems:?}"
    );
    assert!(
        problems
            .iter()
            .any(|p| p.starts_with("retention_ledger_days")),
        "{problems:?}"
    );
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

#[test]
fn the_operators_log_is_kept_three_years_at_least() {
    let error = load(Some("retention_operator_log_days = 365\n"), &[]).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("retention_operator_log_days: the operators' log"),
        "{error}"
    );
    let config = load(Some("retention_operator_log_days = 2000\n"), &[]).unwrap();
    assert_eq!(
        config.retention.operator_log,
        std::time::Duration::from_secs(2000 * 86_400)
    );
}

#[test]
fn the_fiscal_year_ends_on_the_last_day_of_a_month() {
    let config = load(Some("fiscal_year_end = \"12-31\"\n"), &[]).unwrap();
    assert_eq!(config.retention.fiscal_year_end, (12, 31));
    assert_eq!(load(None, &[]).unwrap().retention.fiscal_year_end, (3, 31));
    for bad in ["03-30", "13-31", "March", "02-30", ""] {
        let error = load(Some(&format!("fiscal_year_end = \"{bad}\"\n")), &[]).unwrap_err();
        assert!(
            error.to_string().contains("fiscal_year_end"),
            "{bad}: {error}"
        );
    }
}
