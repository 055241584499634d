//! The catalogue's plain values: SKUs, texts in both languages, where a media file lives, and
//! why one of them was refused.

use crate::Language;

/// Why a catalogue value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogError {
    /// A SKU must be 1–64 letters, digits, `.`, `_` or `-`.
    #[error("a SKU must be 1-64 letters, digits, '.', '_' or '-'")]
    Sku,
    /// A title must be 1–200 characters without control characters.
    #[error("the {0} title must be 1-200 characters without line breaks")]
    Title(&'static str),
    /// A description may have at most 5,000 characters.
    #[error("the {0} description must be at most 5000 characters")]
    Description(&'static str),
    /// An asset key must be a relative path of safe characters, without `..`.
    #[error(
        "an audio file must be a relative path of letters, digits, '.', '_', '-' and '/', without '..'"
    )]
    Asset,
    /// A creator key must be a slug.
    #[error("a creator key must be 1-64 lower-case letters, digits or '-'")]
    CreatorKey,
    /// A creator needs a name in both languages.
    #[error("a creator needs a name of 1-100 characters in Japanese and in English")]
    CreatorName,
    /// A tag must be short and plain.
    #[error("a tag must be 1-30 characters without control characters or / ? # % & \\")]
    Tag,
    /// Too many tags.
    #[error("a piece may carry at most 10 tags")]
    TooManyTags,
    /// A reading must be kana.
    #[error("a reading must be 1-200 characters of kana, spaces, Latin letters and digits")]
    Reading,
    /// A cover must be an image of a sensible size.
    #[error("a cover must be a PNG, JPEG or WebP image of 1-10000 pixels each side")]
    Cover,
}

/// A stock-keeping unit: the operator's stable name for a product.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sku(String);

impl Sku {
    /// Validates a SKU.
    ///
    /// # Errors
    /// [`CatalogError::Sku`].
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(CatalogError::Sku)
        }
    }

    /// The SKU.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A text in both languages of the service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Localized {
    ja: String,
    en: String,
}

impl Localized {
    /// A title: both texts 1–200 characters, no control characters.
    ///
    /// # Errors
    /// [`CatalogError::Title`] naming the language.
    pub fn title(ja: &str, en: &str) -> Result<Self, CatalogError> {
        let ok = |t: &str| {
            (1..=200).contains(&t.trim().chars().count()) && !t.chars().any(char::is_control)
        };
        if !ok(ja) {
            return Err(CatalogError::Title("Japanese"));
        }
        if !ok(en) {
            return Err(CatalogError::Title("English"));
        }
        Ok(Self {
            ja: ja.trim().to_owned(),
            en: en.trim().to_owned(),
        })
    }

    /// A description: at most 5,000 characters each (line breaks allowed).
    ///
    /// # Errors
    /// [`CatalogError::Description`] naming the language.
    pub fn description(ja: &str, en: &str) -> Result<Self, CatalogError> {
        if ja.chars().count() > 5000 {
            return Err(CatalogError::Description("Japanese"));
        }
        if en.chars().count() > 5000 {
            return Err(CatalogError::Description("English"));
        }
        Ok(Self {
            ja: ja.trim().to_owned(),
            en: en.trim().to_owned(),
        })
    }

    /// The text in `language`.
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::Ja => &self.ja,
            Language::En => &self.en,
        }
    }

    /// The Japanese text.
    pub fn ja(&self) -> &str {
        &self.ja
    }

    /// The English text.
    pub fn en(&self) -> &str {
        &self.en
    }
}

/// Where an audio file lives: a relative path under the media folder, or an object key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssetKey(String);

impl AssetKey {
    /// Validates a key: 1–512 bytes of letters, digits, `.`, `_`, `-` and `/`; not absolute,
    /// no empty, `.` or `..` segments (so it can never leave the media folder).
    ///
    /// # Errors
    /// [`CatalogError::Asset`].
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let charset = text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
        let segments = text
            .split('/')
            .all(|s| !s.is_empty() && s != "." && s != "..");
        if (1..=512).contains(&text.len()) && charset && segments {
            Ok(Self(text.to_owned()))
        } else {
            Err(CatalogError::Asset)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_titles_and_asset_keys_are_validated() {
        assert!(Sku::parse("KK-001_a.v2").is_ok());
        for bad in ["", "has space", "スラッシュ", &"x".repeat(65)] {
            assert_eq!(Sku::parse(bad), Err(CatalogError::Sku), "{bad:?}");
        }
        assert!(Localized::title("朝の音", "Morning sounds").is_ok());
        assert_eq!(
            Localized::title("", "x"),
            Err(CatalogError::Title("Japanese"))
        );
        assert_eq!(
            Localized::title("x", "a\nb"),
            Err(CatalogError::Title("English"))
        );
        assert!(AssetKey::parse("audio/kk-001.wav").is_ok());
        for bad in [
            "",
            "/etc/passwd",
            "../secret.wav",
            "a/../b",
            "a//b",
            "a/./b",
            "a b.wav",
            "a\\b",
        ] {
            assert_eq!(AssetKey::parse(bad), Err(CatalogError::Asset), "{bad:?}");
        }
    }
}
