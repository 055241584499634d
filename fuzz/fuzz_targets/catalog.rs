//! Catalogue files: any text, as TOML or as CSV, becomes product drafts or a list of problems
//! with their lines — never a panic. The media folder holds one audio file, so rows naming it
//! reach the whole check.
#![no_main]

use std::path::PathBuf;
use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;

static MEDIA: LazyLock<PathBuf> = LazyLock::new(|| {
    let dir = std::env::temp_dir().join("kikeru-fuzz-media");
    let _ = std::fs::create_dir_all(dir.join("audio"));
    let _ = std::fs::write(dir.join("audio/a.wav"), b"RIFF");
    dir
});

fuzz_target!(|text: &str| {
    if let Err(e) = kikeru_catalog::parse_toml(text, &MEDIA) {
        assert!(!e.0.is_empty());
    }
    if let Err(e) = kikeru_catalog::parse_csv(text, &MEDIA) {
        assert!(!e.0.is_empty());
    }
});
