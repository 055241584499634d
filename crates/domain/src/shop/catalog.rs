//! The catalogue: products with a SKU, titles and descriptions in Japanese and English, a
//! tax-inclusive price, and their audio.

use std::fmt;

use uuid::Uuid;

use crate::shop::collection::{Cover, Creator, Reading, Tag};
pub use crate::shop::values::{AssetKey, CatalogError, Localized, Sku};
use crate::{Money, Timestamp};

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
    /// How the Japanese title is read (for 五十音 order), when it is not written in kana.
    pub reading: Option<Reading>,
    /// Who made it.
    pub creator: Option<Creator>,
    /// What it is grouped by.
    pub tags: Vec<Tag>,
    /// Its cover art.
    pub cover: Option<Cover>,
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

/// A product as an operator writes it (a catalogue file row, an API body), before validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
    /// The reading of the Japanese title, in kana.
    pub reading: Option<&'a str>,
    /// The creator's key.
    pub creator_key: Option<&'a str>,
    /// The creator's Japanese name.
    pub creator_ja: Option<&'a str>,
    /// The creator's English name.
    pub creator_en: Option<&'a str>,
    /// The tags.
    pub tags: &'a [String],
    /// The cover image's asset key.
    pub cover: Option<&'a str>,
    /// The cover image's size in pixels, as the adapter that read the file found it (`None`
    /// when it is not an image it could read).
    pub cover_size: Option<(u32, u32)>,
}

impl ProductFields<'_> {
    /// The audio files named here that `exists` says are missing, as `field: key` problems
    /// (the caller knows where the media live; the domain does no I/O).
    pub fn missing_media(&self, exists: impl Fn(&AssetKey) -> bool) -> Vec<String> {
        [
            ("audio", Some(self.audio)),
            ("sample", self.sample),
            ("cover", self.cover),
        ]
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
        let reading = f
            .reading
            .filter(|r| !r.trim().is_empty())
            .map(Reading::parse)
            .transpose()
            .map_err(|e| keep("reading", &e))
            .ok();
        let creator = match (f.creator_key, f.creator_ja, f.creator_en) {
            (None, None, None) => Some(None),
            (Some(key), Some(ja), Some(en)) => Creator::new(key, ja, en)
                .map(Some)
                .map_err(|e| keep("creator", &e))
                .ok(),
            _ => {
                keep(
                    "creator",
                    &"give the creator's key with both names, or none of them",
                );
                None
            }
        };
        let tags = crate::shop::collection::tags(f.tags)
            .map_err(|e| keep("tags", &e))
            .ok();
        let cover = match f.cover {
            None => Some(None),
            Some(key) => AssetKey::parse(key)
                .and_then(|image| {
                    crate::shop::collection::media_type(&image).ok_or(CatalogError::Cover)?;
                    let (width, height) = f.cover_size.ok_or(CatalogError::Cover)?;
                    Cover::new(image, width, height)
                })
                .map(Some)
                .map_err(|e| keep("cover", &e))
                .ok(),
        };
        match (
            (sku, title, description, price),
            (audio, sample, reading, creator),
            (tags, cover),
        ) {
            (
                (Some(sku), Some(title), Some(description), Some(price)),
                (Some(audio), Some(sample), Some(reading), Some(creator)),
                (Some(tags), Some(cover)),
            ) => Ok(Self {
                sku,
                title,
                description,
                price,
                active: f.active,
                audio,
                sample,
                reading,
                creator,
                tags,
                cover,
            }),
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
            creator_key: Some("only-a-key"),
            cover: Some("covers/a.png"),
            ..ProductFields::default()
        };
        let problems = ProductDraft::from_fields(&fields).unwrap_err();
        let fields: Vec<_> = problems
            .iter()
            .map(|p| p.split(':').next().unwrap())
            .collect();
        assert_eq!(
            fields,
            [
                "sku", "title", "price", "audio", "sample", "creator", "cover"
            ]
        );
    }
}
