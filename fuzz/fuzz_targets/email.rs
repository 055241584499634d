//! E-mail addresses: parsing never panics, and a parsed address parses again to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(email) = kikeru_domain::Email::parse(text) {
        let again =
            kikeru_domain::Email::parse(email.as_str()).expect("a normalised address parses");
        assert_eq!(again, email);
        assert!(email.as_str().len() <= 254);
    }
});
