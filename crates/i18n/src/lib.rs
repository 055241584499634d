//! Minna Kikeru's words: one message catalogue, in Japanese (the default) and English, for
//! everything the service says to people — the web site, the sandbox's checkout page and the
//! mail — read from `locales/ja.toml` and `locales/en.toml` and compiled into the binary; and
//! the one reading of a browser's `Accept-Language`.
//!
//! A message is found by its dotted key (`home.title`, `mail.verify_email.body`); a message with
//! `{name}` placeholders is filled by [`fill`], which never reads a placeholder inside a value.

use std::collections::HashMap;
use std::sync::LazyLock;

use kikeru_domain::Language;

type Catalogue = HashMap<String, String>;

/// Every string of `table`, under its dotted path.
fn flatten(prefix: &str, table: toml::Table, into: &mut Catalogue) {
    for (key, value) in table {
        let path = if prefix.is_empty() {
            key
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            toml::Value::String(text) => {
                into.insert(path, text);
            }
            toml::Value::Table(inner) => flatten(&path, inner, into),
            _ => {}
        }
    }
}

fn load(text: &str) -> Catalogue {
    let mut flat = Catalogue::new();
    flatten("", toml::from_str(text).unwrap_or_default(), &mut flat);
    flat
}

static JA: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../locales/ja.toml")));
static EN: LazyLock<Catalogue> = LazyLock::new(|| load(include_str!("../locales/en.toml")));

/// The message `key` in `language`; [`MISSING`] when the catalogue lacks it (tests render every
/// page and every mail in both languages and fail on that mark).
pub fn t(language: Language, key: &str) -> &'static str {
    lookup(language, key).unwrap_or_else(|| {
        tracing::error!(key, "missing message");
        MISSING
    })
}

/// The message `key` in `language`, if the catalogue has it (for keys made from data, such as
/// a category's name, that may have no message).
pub fn lookup(language: Language, key: &str) -> Option<&'static str> {
    let catalogue = match language {
        Language::Ja => &*JA,
        Language::En => &*EN,
    };
    catalogue.get(key).map(String::as_str)
}

/// What a missing message shows.
pub const MISSING: &str = "⟦missing message⟧";

/// `template` with each `{name}` among `values` replaced by its value, in one pass: a value is
/// never read for placeholders (a member's own words may hold braces), and braces that name
/// nothing given stay as they are.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v, close))
        });
        match value {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A record kept after deletion, as the privacy page, My Page and the deletion notice name it:
/// its title, why it is kept (and what it holds), and for how long.
pub fn kept_record(
    language: Language,
    record: &kikeru_domain::privacy::kept::KeptRecord,
) -> (&'static str, &'static str, String) {
    use kikeru_domain::privacy::kept::Keeping;
    let key = record.kept.key();
    let period = match record.keeping {
        Keeping::FilingDeadline { .. } => "kept.from_filing_deadline",
        Keeping::Made { .. } => "kept.from_made",
        Keeping::Delivered { .. } => "kept.from_delivered",
    };
    (
        t(language, &format!("kept.{key}.title")),
        t(language, &format!("kept.{key}.why")),
        fill(
            t(language, period),
            &[("days", &record.keeping.days().to_string())],
        ),
    )
}

/// The names of the `{name}` placeholders in `template`, in order.
pub fn placeholders(template: &str) -> Vec<&str> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close)
                if close > 0
                    && after[..close]
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b == b'_') =>
            {
                names.push(&after[..close]);
                rest = &after[close + 1..];
            }
            _ => rest = after,
        }
    }
    names
}

/// The language a browser prefers among those we speak, by `Accept-Language` (RFC 9110
/// §12.5.4): the highest weight wins, the earlier of equal weights, `q=0` means "not this",
/// `*` stands for any language not named; Japanese when nothing we speak is acceptable.
pub fn negotiate(accept_language: &str) -> Language {
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
    fn both_catalogues_are_well_formed_toml() {
        for (name, text) in [
            ("ja", include_str!("../locales/ja.toml")),
            ("en", include_str!("../locales/en.toml")),
        ] {
            if let Err(e) = toml::from_str::<toml::Table>(text) {
                panic!("locales/{name}.toml: {e}");
            }
        }
    }

    #[test]
    fn each_kept_record_is_named_in_both_languages_and_in_japanese_as_the_domain_names_it() {
        use kikeru_domain::privacy::kept::{Kept, kept_after_deletion};
        for record in kept_after_deletion(&Default::default()) {
            for language in [Language::Ja, Language::En] {
                let (title, why, period) = kept_record(language, &record);
                assert!(
                    ![title, why, period.as_str()].contains(&MISSING),
                    "{record:?}"
                );
                assert!(period.contains(&record.keeping.days().to_string()));
            }
            let (title, _, _) = kept_record(Language::Ja, &record);
            assert_eq!(title, record.kept.title_ja());
        }
        assert_eq!(
            Kept::ALL.len(),
            kept_after_deletion(&Default::default()).len()
        );
    }

    #[test]
    fn a_value_is_never_read_for_placeholders() {
        let text = fill(
            "Re: {subject} ({reference}) {unknown}",
            &[("subject", "{reference} {{x}}"), ("reference", "R-1")],
        );
        assert_eq!(text, "Re: {reference} {{x}} (R-1) {unknown}");
        assert_eq!(fill("{a}{b}", &[("a", "1"), ("b", "2")]), "12");
        assert_eq!(fill("open { never closed", &[]), "open { never closed");
        assert_eq!(placeholders("{a} {b_c} {Nope} {} {"), ["a", "b_c"]);
    }

    #[test]
    fn both_languages_fill_the_same_placeholders() {
        for (key, ja) in JA.iter() {
            let mut ja = placeholders(ja);
            let mut en = placeholders(&EN[key]);
            ja.sort_unstable();
            en.sort_unstable();
            assert_eq!(ja, en, "{key}");
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
