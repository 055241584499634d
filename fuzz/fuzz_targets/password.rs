//! Passwords: the policy answers every input without panicking, in bounded time (input is cut
//! at 200 bytes: the policy refuses more than 128 characters before any expensive check).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let text: String = text.chars().take(200).collect();
    let _ = kikeru_domain::Password::new(&text, &["hanako@example.jp", "hanako"]);
});
