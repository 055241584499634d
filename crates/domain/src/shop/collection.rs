//! What groups and presents the pieces of the catalogue: the creator (named in both languages),
//! tags, the reading of a Japanese title (for 五十音 order) and the cover art.

use unicode_normalization::UnicodeNormalization;

use crate::shop::values::{AssetKey, CatalogError, Localized};

/// The most tags one piece may carry.
pub const MAX_TAGS: usize = 10;
/// The longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 30;
/// The largest side of a cover, in pixels.
pub const MAX_COVER_SIDE: u32 = 10_000;

/// A creator's stable name in addresses (`/creators/{key}`): 1–64 lower-case letters, digits
/// and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CreatorKey(String);

impl CreatorKey {
    /// Validates a key.
    ///
    /// # Errors
    /// [`CatalogError::CreatorKey`].
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let ok = (1..=64).contains(&text.len())
            && text
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(Self(text.to_owned()))
        } else {
            Err(CatalogError::CreatorKey)
        }
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Who made a piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Creator {
    /// The key of the creator's page.
    pub key: CreatorKey,
    /// The name in both languages (1–100 characters each).
    pub name: Localized,
}

impl Creator {
    /// A creator from its key and names.
    ///
    /// # Errors
    /// [`CatalogError::CreatorKey`] or [`CatalogError::CreatorName`].
    pub fn new(key: &str, ja: &str, en: &str) -> Result<Self, CatalogError> {
        let key = CreatorKey::parse(key)?;
        let short = |t: &str| (1..=100).contains(&t.trim().chars().count());
        if !short(ja) || !short(en) {
            return Err(CatalogError::CreatorName);
        }
        let name = Localized::title(ja, en).map_err(|_| CatalogError::CreatorName)?;
        Ok(Self { key, name })
    }
}

/// A tag: a word pieces are grouped by (`/tags/{tag}`), in any script, kept in NFKC and lower
/// case so that `ＡＳＭＲ` and `asmr` are one tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(String);

impl Tag {
    /// Validates and normalises a tag: 1–30 characters after trimming, no control characters
    /// and none of `/ ? # % & \`.
    ///
    /// # Errors
    /// [`CatalogError::Tag`].
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let normal: String = text.nfkc().flat_map(char::to_lowercase).collect();
        let normal = normal.trim();
        let ok = (1..=MAX_TAG_CHARS).contains(&normal.chars().count())
            && !normal
                .chars()
                .any(|c| c.is_control() || "/?#%&\\".contains(c));
        if ok {
            Ok(Self(normal.to_owned()))
        } else {
            Err(CatalogError::Tag)
        }
    }

    /// The tag.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Tags from the operator's words: each validated, duplicates dropped, at most [`MAX_TAGS`].
///
/// # Errors
/// [`CatalogError::Tag`] or [`CatalogError::TooManyTags`].
pub fn tags<S: AsRef<str>>(words: &[S]) -> Result<Vec<Tag>, CatalogError> {
    let mut found: Vec<Tag> = Vec::new();
    for word in words {
        let tag = Tag::parse(word.as_ref())?;
        if !found.contains(&tag) {
            found.push(tag);
        }
    }
    if found.len() > MAX_TAGS {
        return Err(CatalogError::TooManyTags);
    }
    Ok(found)
}

/// How a Japanese title is read, in kana (「ゆうなぎのこもりうた」 for 「夕凪の子守唄」): what
/// orders titles in 五十音 order when the title itself is written in kanji.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading(String);

impl Reading {
    /// Validates a reading: 1–200 characters of hiragana, katakana, the long-vowel mark,
    /// spaces, Latin letters and digits (after NFKC, so half-width kana are accepted).
    ///
    /// # Errors
    /// [`CatalogError::Reading`].
    pub fn parse(text: &str) -> Result<Self, CatalogError> {
        let normal: String = text.nfkc().collect();
        let normal = normal.trim();
        let kana = |c: char| {
            matches!(c, '\u{3041}'..='\u{3096}' | '\u{309D}'..='\u{309F}' | '\u{30A1}'..='\u{30FF}')
                || c == ' '
                || c.is_ascii_alphanumeric()
        };
        if (1..=200).contains(&normal.chars().count()) && normal.chars().all(kana) {
            Ok(Self(normal.to_owned()))
        } else {
            Err(CatalogError::Reading)
        }
    }

    /// The reading.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A piece's cover art: an image under the media folder, with its size in pixels (so that pages
/// reserve its place and do not shift when it arrives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cover {
    /// Where the image lives.
    pub image: AssetKey,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

impl Cover {
    /// A cover of `width` × `height` pixels (each 1–10,000).
    ///
    /// # Errors
    /// [`CatalogError::Cover`].
    pub fn new(image: AssetKey, width: u32, height: u32) -> Result<Self, CatalogError> {
        let side = 1..=MAX_COVER_SIDE;
        if side.contains(&width) && side.contains(&height) {
            Ok(Self {
                image,
                width,
                height,
            })
        } else {
            Err(CatalogError::Cover)
        }
    }

    /// The image's media type, from its name (`.png`, `.jpg`/`.jpeg`, `.webp`).
    pub fn media_type(&self) -> &'static str {
        media_type(&self.image).unwrap_or("application/octet-stream")
    }
}

/// The media type of an image, from its name; `None` for anything but PNG, JPEG and WebP.
pub fn media_type(key: &AssetKey) -> Option<&'static str> {
    let name = key.as_str().to_ascii_lowercase();
    let (_, extension) = name.rsplit_once('.')?;
    match extension {
        "png" => Some("image/png"),
        "jpg" | "jpeg" => Some("image/jpeg"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creators_need_a_key_and_both_names() {
        let c = Creator::new("yuunagi-ensemble", "夕凪アンサンブル", "Yuunagi Ensemble").unwrap();
        assert_eq!(c.key.as_str(), "yuunagi-ensemble");
        assert_eq!(
            Creator::new("Upper", "a", "b"),
            Err(CatalogError::CreatorKey)
        );
        assert_eq!(Creator::new("a", "", "b"), Err(CatalogError::CreatorName));
        assert_eq!(
            Creator::new("a", &"x".repeat(101), "b"),
            Err(CatalogError::CreatorName)
        );
    }

    #[test]
    fn tags_are_normalised_and_checked() {
        assert_eq!(Tag::parse(" ＡＳＭＲ ").unwrap().as_str(), "asmr");
        assert_eq!(Tag::parse("子守唄").unwrap().as_str(), "子守唄");
        for bad in ["", "  ", "a/b", "50%", "a\nb", &"x".repeat(31)] {
            assert_eq!(Tag::parse(bad), Err(CatalogError::Tag), "{bad:?}");
        }
        let found = tags(&["Sleep", "sleep", "夜"]).unwrap();
        assert_eq!(found.len(), 2);
        let many: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert_eq!(tags(&many), Err(CatalogError::TooManyTags));
    }

    #[test]
    fn readings_are_kana() {
        assert_eq!(
            Reading::parse("ﾕｳﾅｷﾞ の こもりうた").unwrap().as_str(),
            "ユウナギ の こもりうた"
        );
        assert!(Reading::parse("ゆうなぎ2").is_ok());
        assert_eq!(Reading::parse("夕凪"), Err(CatalogError::Reading));
        assert_eq!(Reading::parse(""), Err(CatalogError::Reading));
    }

    #[test]
    fn covers_have_a_size_and_an_image_type() {
        let key = AssetKey::parse("covers/a.PNG").unwrap();
        let cover = Cover::new(key.clone(), 600, 600).unwrap();
        assert_eq!(cover.media_type(), "image/png");
        assert_eq!(Cover::new(key.clone(), 0, 10), Err(CatalogError::Cover));
        assert_eq!(Cover::new(key, 10, 10_001), Err(CatalogError::Cover));
        assert_eq!(media_type(&AssetKey::parse("a.gif").unwrap()), None);
    }
}
