//! The domain is pure: no runtime, database, web framework, HTTP client or mailer may enter its
//! dependency tree (normal dependencies, with every feature). `deny.toml` says the same with
//! `wrappers`; this test fails first, with a clearer message, in every `cargo test`.

use std::process::Command;

const BANNED: &[&str] = &[
    "tokio",
    "sea-orm",
    "sqlx",
    "poem",
    "hyper",
    "reqwest",
    "lettre",
    "async-std",
];

#[test]
fn the_domain_depends_on_no_runtime_database_or_web_framework() {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let output = Command::new(cargo)
        .args([
            "tree",
            "--package",
            "kikeru-domain",
            "--edges",
            "normal",
            "--all-features",
            "--prefix",
            "none",
            "--format",
            "{p}",
        ])
        .output()
        .expect("cargo tree runs");
    assert!(
        output.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).expect("UTF-8");
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .collect();
    assert!(
        names.contains(&"kikeru-domain"),
        "unexpected cargo tree output:\n{tree}"
    );
    let found: Vec<&&str> = BANNED
        .iter()
        .filter(|banned| names.contains(banned))
        .collect();
    assert!(
        found.is_empty(),
        "kikeru-domain must stay pure, but depends on {found:?}:\n{tree}"
    );
}
