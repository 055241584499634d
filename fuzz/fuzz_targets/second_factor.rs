//! Codes members type (authenticator-app codes, recovery codes) and passkey ceremonies sent
//! back by browsers: parsing never panics, and what parses shows itself unchanged.
#![no_main]

use kikeru_domain::membership::passkey::Ceremony;
use kikeru_domain::membership::second_factor::{RecoveryCode, TotpSecret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let secret = TotpSecret::from_bytes([3; 20]);
        let now = time::macros::datetime!(2026-11-26 09:00 UTC);
        let _ = secret.verify(text, now, Some(0));
        if let Ok(code) = RecoveryCode::parse(text) {
            assert_eq!(RecoveryCode::parse(&code.expose()), Ok(code));
        }
    }
    if let Ok(ceremony) = Ceremony::from_bytes(data) {
        assert_eq!(ceremony.to_bytes(), data);
    }
});
