//! The catalogue: products with a SKU, titles and descriptions in Japanese and English, a
//! tax-inclusive price, and their audio.

use std::fmt;

use uuid::Uuid;

use crate::{Language, Money, Timestamp};

/// A product's unique ID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProductId(Uuid);

impl ProductId {
    /// Wraps a UUID.
    pub const fn from_uuid(id: Uuid) -> Self {
        Self(id)
    }

    /// The UUID.
    pub const fn as_uuid(&self) -> &Uuid {
        &self.0
    }
}

impl fmt::Debug for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProductId({})", self.0)
    }
}

impl fmt::Display for ProductId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

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

/// A product as the operator describes it (imported or edited); the catalogue gives it an ID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductDraft {
    /// The operator's SKU; importing a draft with a known SKU updates that product.
    pub sku: Sku,
    /// Titles.
    pub title: Localized,
    /// Descriptions.
    pub description: Localized,
    /// The price a consumer pays, tax included (総額表示).
    pub price: Money,
    /// Whether it is on sale.
    pub active: bool,
    /// The full audio, delivered to buyers only.
    pub audio: AssetKey,
    /// A public sample anyone may play.
    pub sample: Option<AssetKey>,
}

/// A product of the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The ID.
    pub id: ProductId,
    /// Everything the operator set.
    pub draft: ProductDraft,
    /// When it entered the catalogue.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
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

/// A product as an operator writes it (a catalogue file row, an API body), before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProductFields<'a> {
    /// The SKU.
    pub sku: &'a str,
    /// The Japanese title.
    pub title_ja: &'a str,
    /// The English title.
    pub title_en: &'a str,
    /// The Japanese description.
    pub description_ja: &'a str,
    /// The English description.
    pub description_en: &'a str,
    /// The tax-inclusive price in minor units.
    pub price: i64,
    /// The ISO 4217 currency code.
    pub currency: &'a str,
    /// Whether it is on sale.
    pub active: bool,
    /// The audio's asset key.
    pub audio: &'a str,
    /// The sample's asset key.
    pub sample: Option<&'a str>,
}

impl ProductFields<'_> {
    /// The audio files named here that `exists` says are missing, as `field: key` problems
    /// (the caller knows where the media live; the domain does no I/O).
    pub fn missing_media(&self, exists: impl Fn(&AssetKey) -> bool) -> Vec<String> {
        [("audio", Some(self.audio)), ("sample", self.sample)]
            .into_iter()
            .filter_map(|(field, key)| Some((field, AssetKey::parse(key?).ok()?)))
            .filter(|(_, key)| !exists(key))
            .map(|(field, key)| format!("{field}: {} is not in the media folder", key.as_str()))
            .collect()
    }
}

impl ProductDraft {
    /// Validates every field, reporting every problem (`field: reason`), not just the first.
    ///
    /// # Errors
    /// The list of problems.
    pub fn from_fields(f: &ProductFields<'_>) -> Result<Self, Vec<String>> {
        let mut problems = Vec::new();
        let mut keep =
            |field: &str, e: &dyn std::fmt::Display| problems.push(format!("{field}: {e}"));
        let sku = Sku::parse(f.sku).map_err(|e| keep("sku", &e)).ok();
        let title = Localized::title(f.title_ja, f.title_en)
            .map_err(|e| keep("title", &e))
            .ok();
        let description = Localized::description(f.description_ja, f.description_en)
            .map_err(|e| keep("description", &e))
            .ok();
        let currency = f
            .currency
            .parse::<crate::Currency>()
            .map_err(|e| keep("currency", &e))
            .ok();
        let price =
            currency.and_then(|c| Money::new(f.price, c).map_err(|e| keep("price", &e)).ok());
        let audio = AssetKey::parse(f.audio).map_err(|e| keep("audio", &e)).ok();
        let sample = match f.sample {
            Some(key) => AssetKey::parse(key)
                .map(Some)
                .map_err(|e| keep("sample", &e))
                .ok(),
            None => Some(None),
        };
        match (sku, title, description, price, audio, sample) {
            (Some(sku), Some(title), Some(description), Some(price), Some(audio), Some(sample)) => {
                Ok(Self {
                    sku,
                    title,
                    description,
                    price,
                    active: f.active,
                    audio,
                    sample,
                })
            }
            _ => Err(problems),
        }
    }
}

#[cfg(test)]
mod field_tests {
    use super::*;

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let fields = ProductFields {
            sku: "bad sku",
            title_ja: "",
            title_en: "Title",
            description_ja: "",
            description_en: "",
            price: -1,
            currency: "JPY",
            active: true,
            audio: "../x.wav",
            sample: Some("/abs.wav"),
        };
        let problems = ProductDraft::from_fields(&fields).unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(fields, ["sku", "title", "price", "audio", "sample"]);
    }
}
