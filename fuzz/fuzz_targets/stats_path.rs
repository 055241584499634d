//! Statistics paths and browser classes: whatever a request carries, what is kept is short and
//! plain — no query, no `@`, nothing over the limits.
#![no_main]

use kikeru_domain::privacy::stats::{BrowserClass, Hit};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|parts: (&str, &str, &str, &str)| {
    let (path, method, family, os) = parts;
    let browser = BrowserClass {
        family: family.to_owned(),
        major: String::new(),
        os: os.to_owned(),
        device: "pc".to_owned(),
    };
    let hit = Hit::new(
        time::macros::datetime!(2026-04-01 09:00 UTC),
        method,
        path,
        200,
        browser,
    );
    assert!(hit.path.starts_with('/'));
    assert!(hit.path.chars().count() <= 200);
    assert!(!hit.path.contains(['?', '#', '@']));
    assert!(!hit.browser.family.contains('@') && hit.browser.family.len() <= 24);
});
