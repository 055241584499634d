//! Session and mail tokens from cookies and links: parsing never panics, and a parsed token
//! shows itself unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(token) = kikeru_domain::SessionToken::parse(text) {
        assert_eq!(token.expose(), text);
    }
});
