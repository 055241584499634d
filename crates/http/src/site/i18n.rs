//! The message catalogue: every string the site shows, in Japanese (the default) and English,
//! from `locales/ja.toml` and `locales/en.toml`, compiled into the binary.

use std::collections::HashMap;
use std::sync::LazyLock;

use kikeru_domain::Language;

type Catalogue = HashMap<String, String>;

fn load(text: &str) -> Catalogue {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    let mut flat = Catalogue::new();
    for (section, entries) in table {
        if let toml::Value::Table(entries) = entries {
            for (key, value) in entries {
                if let toml::Value::String(text) = value {
                    flat.insert(format!("{section}.{key}"), text);
                }
            }
        }
    }
    flat
}

static JA: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../locales/ja.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../../locales/en.toml")));

/// The message `key` in `language`; `⟦key⟧` when the catalogue lacks it (a test renders every
/// page in both languages and fails on that mark).
pub(crate) fn t(language: Language, key: &str) -> &'static str {
    let catalogue = match language {
        Language::Ja => &*JA,
        Language::En => &*EN,
    };
    match catalogue.get(key) {
        Some(text) => text.as_str(),
        None => {
            tracing::error!(key, "missing message");
            MISSING
        }
    }
}

/// What a missing message shows.
pub(crate) const MISSING: &str = "⟦missing message⟧";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_exactly_the_same_keys_and_no_empty_message() {
        let mut ja: Vec<_> = JA.keys().collect();
        let mut en: Vec<_> = EN.keys().collect();
        ja.sort();
        en.sort();
        assert!(ja.len() > 100, "the catalogue parsed: {}", ja.len());
        assert_eq!(ja, en, "ja.toml and en.toml must have the same keys");
        for (key, text) in JA.iter().chain(EN.iter()) {
            assert!(!text.trim().is_empty(), "{key} is empty");
        }
    }
}
