//! The site's languages: the message catalogue — every string the site and the sandbox's
//! checkout page show, in Japanese (the default) and English, from `locales/ja.toml` and
//! `locales/en.toml`, compiled into the binary — and the one reading of `Accept-Language`.

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

/// The language a browser prefers among those we speak, by `Accept-Language` (RFC 9110
/// §12.5.4): the highest weight wins, the earlier of equal weights, `q=0` means "not this",
/// `*` stands for any language not named; Japanese when nothing we speak is acceptable.
pub(crate) fn negotiate(accept_language: &str) -> Language {
    let mut best: Option<(u16, Language)> = None;
    let mut named = Vec::new();
    let mut wildcard = None;
    for range in accept_language.split(',').take(32) {
        let mut parts = range.split(';');
        let tag = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
        let weight = match parts.find_map(|p| {
            let p = p.trim();
            p.strip_prefix("q=").or_else(|| p.strip_prefix("Q="))
        }) {
            None => 1000,
            Some(text) => match quality(text.trim()) {
                Some(weight) => weight,
                // A range with a malformed weight is not a preference.
                None => continue,
            },
        };
        let language = match tag.split('-').next() {
            Some("ja") => Language::Ja,
            Some("en") => Language::En,
            Some("*") => {
                wildcard = wildcard.or(Some(weight));
                continue;
            }
            _ => continue,
        };
        named.push(language);
        if weight > 0 && best.is_none_or(|(w, _)| weight > w) {
            best = Some((weight, language));
        }
    }
    // A wildcard speaks for the languages the header does not name.
    if let Some(weight) = wildcard.filter(|w| *w > 0) {
        for language in [Language::Ja, Language::En] {
            if !named.contains(&language) && best.is_none_or(|(w, _)| weight > w) {
                best = Some((weight, language));
            }
        }
    }
    best.map_or(Language::Ja, |(_, language)| language)
}

/// A weight (`0`, `0.5`, `1.000`) in thousandths; `None` when it is not one.
fn quality(text: &str) -> Option<u16> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{fraction:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_preference_is_read_by_weight_not_by_position() {
        use Language::{En, Ja};
        for (header, expected) in [
            ("", Ja),
            ("en", En),
            ("en-GB,en;q=0.9", En),
            ("fr, en", En),
            ("fr;q=1, en;q=0.5, ja;q=0.8", Ja),
            ("en;q=0.1, ja;q=0.9", Ja),
            ("ja;q=0.5, en;q=0.5", Ja),
            ("en;q=0.5, ja;q=0.5", En),
            ("en;q=0", Ja),
            ("ja;q=0, en;q=0.001", En),
            ("ja;q=0, *;q=0.2", En),
            ("*", Ja),
            ("en;q=0.3, *;q=0.5", Ja),
            ("EN-us", En),
            ("en;q=2", Ja),
            ("en;q=0.1234", Ja),
            ("de, fr-CH", Ja),
        ] {
            assert_eq!(negotiate(header), expected, "{header:?}");
        }
    }

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
