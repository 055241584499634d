//! Mail sent to the service: any bytes are parsed into an inquiry or refused with a reason,
//! never a panic, and an accepted message has a sender and a text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|raw: &[u8]| {
    if let Ok(mail) = kikeru_mail::inbound::parse(raw, 1024 * 1024) {
        assert!(!mail.body.is_empty());
        assert!(mail.from.as_str().contains('@'));
    }
});
