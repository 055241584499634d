//! The configuration: any file text and any value of any `KIKERU_*` variable give a
//! configuration or a list of problems, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: (&str, &str, u8)| {
    let (file, value, key) = input;
    let keys = kikeru_config::env_keys();
    let variable = format!(
        "KIKERU_{}",
        keys[usize::from(key) % keys.len()].to_ascii_uppercase()
    );
    let env = |name: &str| (name == variable).then(|| value.to_owned());
    let _ = kikeru_config::Config::parse(Some(("fuzz.toml", file)), &env);
    let _ = kikeru_config::Config::parse(None, &env);
});
