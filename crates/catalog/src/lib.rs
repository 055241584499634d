//! Reading a catalogue file (TOML or CSV) into product drafts, with line-numbered errors. Every
//! row is checked, and every problem reported, before anything is imported.

use std::path::Path;

use kikeru_domain::{ProductDraft, ProductFields};
use serde::Deserialize;

/// One product as written in a catalogue file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    sku: String,
    title_ja: String,
    title_en: String,
    #[serde(default)]
    description_ja: String,
    #[serde(default)]
    description_en: String,
    /// In minor units, tax included.
    price: i64,
    #[serde(default = "default_currency")]
    currency: String,
    #[serde(default = "default_active")]
    active: bool,
    audio: String,
    #[serde(default)]
    sample: Option<String>,
    /// The Japanese title's reading, in kana.
    #[serde(default)]
    reading: Option<String>,
    #[serde(default)]
    creator_key: Option<String>,
    #[serde(default)]
    creator_ja: Option<String>,
    #[serde(default)]
    creator_en: Option<String>,
    /// A list in TOML; in CSV one cell, the tags separated by `|`.
    #[serde(default)]
    tags: TagList,
    /// A PNG, JPEG or WebP image under the media folder.
    #[serde(default)]
    cover: Option<String>,
}

/// Tags as a TOML array or as one CSV cell (`a|b|c`).
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum TagList {
    #[default]
    None,
    Many(Vec<String>),
    Cell(String),
}

impl TagList {
    fn words(&self) -> Vec<String> {
        match self {
            Self::None => Vec::new(),
            Self::Many(words) => words.clone(),
            Self::Cell(cell) => cell
                .split('|')
                .map(str::trim)
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// The size in pixels of the image at `key` under `media_dir`, when it is a PNG, JPEG or WebP
/// image whose header can be read.
pub fn image_size(media_dir: &Path, key: &str) -> Option<(u32, u32)> {
    let key = kikeru_domain::AssetKey::parse(key).ok()?;
    let size = imagesize::size(media_dir.join(key.as_str())).ok()?;
    Some((
        u32::try_from(size.width).ok()?,
        u32::try_from(size.height).ok()?,
    ))
}

/// Empty cells of an optional CSV column read as absent.
fn given(cell: Option<&String>) -> Option<&str> {
    cell.map(|c| c.trim()).filter(|c| !c.is_empty())
}

fn default_currency() -> String {
    "JPY".to_owned()
}

const fn default_active() -> bool {
    true
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlFile {
    #[serde(default)]
    product: Vec<toml::Spanned<Row>>,
}

/// The file cannot be imported; every problem found, with its line.
#[derive(Debug, thiserror::Error)]
#[error("the catalogue cannot be imported:\n  - {}", .0.join("\n  - "))]
pub struct CatalogFileError(pub Vec<String>);

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// Reads `path` (`.toml` or `.csv`), checking every row and that its audio files exist under
/// `media_dir`.
///
/// # Errors
/// [`CatalogFileError`] listing every problem with its line.
pub fn read(path: &Path, media_dir: &Path) -> Result<Vec<ProductDraft>, CatalogFileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| CatalogFileError(vec![format!("cannot read {}: {e}", path.display())]))?;
    match path.extension().and_then(|e| e.to_str()) {
        Some("toml") => parse_toml(&text, media_dir),
        Some("csv") => parse_csv(&text, media_dir),
        _ => Err(CatalogFileError(vec![format!(
            "{}: use a .toml or .csv file",
            path.display()
        )])),
    }
}

/// Parses the TOML form: an array of `[[product]]` tables.
///
/// # Errors
/// [`CatalogFileError`].
pub fn parse_toml(text: &str, media_dir: &Path) -> Result<Vec<ProductDraft>, CatalogFileError> {
    let file: TomlFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| line_of(text, s.start));
        CatalogFileError(vec![format!("line {line}: {}", e.message())])
    })?;
    let rows = file
        .product
        .into_iter()
        .map(|row| (line_of(text, row.span().start), row.into_inner()));
    validate(rows, media_dir)
}

/// Parses the CSV form: a header row naming the columns, then one product per row.
///
/// # Errors
/// [`CatalogFileError`].
pub fn parse_csv(text: &str, media_dir: &Path) -> Result<Vec<ProductDraft>, CatalogFileError> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    for record in reader.deserialize::<Row>() {
        match record {
            Ok(row) => rows.push(row),
            Err(e) => {
                let line = e.position().map_or(0, csv::Position::line);
                errors.push(format!("line {line}: {e}"));
            }
        }
    }
    if !errors.is_empty() {
        return Err(CatalogFileError(errors));
    }
    let lines = rows.into_iter().enumerate().map(|(i, row)| (i + 2, row));
    validate(lines, media_dir)
}

fn validate(
    rows: impl Iterator<Item = (usize, Row)>,
    media_dir: &Path,
) -> Result<Vec<ProductDraft>, CatalogFileError> {
    let mut drafts = Vec::new();
    let mut errors = Vec::new();
    for (line, row) in rows {
        match draft(row, media_dir) {
            Ok(draft) => drafts.push(draft),
            Err(problems) => {
                errors.extend(problems.into_iter().map(|p| format!("line {line}: {p}")))
            }
        }
    }
    if drafts.is_empty() && errors.is_empty() {
        errors.push("the file holds no products".to_owned());
    }
    if errors.is_empty() {
        Ok(drafts)
    } else {
        Err(CatalogFileError(errors))
    }
}

fn draft(row: Row, media_dir: &Path) -> Result<ProductDraft, Vec<String>> {
    let tags = row.tags.words();
    let cover = given(row.cover.as_ref());
    let fields = ProductFields {
        sku: &row.sku,
        title_ja: &row.title_ja,
        title_en: &row.title_en,
        description_ja: &row.description_ja,
        description_en: &row.description_en,
        price: row.price,
        currency: &row.currency,
        active: row.active,
        audio: &row.audio,
        sample: given(row.sample.as_ref()),
        reading: given(row.reading.as_ref()),
        creator_key: given(row.creator_key.as_ref()),
        creator_ja: given(row.creator_ja.as_ref()),
        creator_en: given(row.creator_en.as_ref()),
        tags: &tags,
        cover,
        cover_size: cover.and_then(|key| image_size(media_dir, key)),
    };
    let missing = fields.missing_media(|key| media_dir.join(key.as_str()).is_file());
    match ProductDraft::from_fields(&fields) {
        Ok(draft) if missing.is_empty() => Ok(draft),
        Ok(_) => Err(missing),
        Err(mut problems) => {
            problems.extend(missing);
            Err(problems)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::{Currency, Money};

    fn media() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("audio")).unwrap();
        for name in ["a.wav", "a-sample.wav", "b.wav"] {
            std::fs::write(dir.path().join("audio").join(name), b"RIFF").unwrap();
        }
        dir
    }

    #[test]
    fn a_valid_toml_catalogue_becomes_drafts() {
        let dir = media();
        let text = "[[product]]\nsku = \"A-1\"\ntitle_ja = \"朝\"\ntitle_en = \"Morning\"\nprice = 1100\naudio = \"audio/a.wav\"\nsample = \"audio/a-sample.wav\"\n";
        let drafts = parse_toml(text, dir.path()).unwrap();
        assert_eq!(drafts.len(), 1);
        assert_eq!(drafts[0].price, Money::new(1100, Currency::Jpy).unwrap());
        assert!(drafts[0].active);
    }

    #[test]
    fn every_bad_row_is_reported_with_its_line() {
        let dir = media();
        let text = "[[product]]\nsku = \"A 1\"\ntitle_ja = \"朝\"\ntitle_en = \"\"\nprice = -5\naudio = \"audio/a.wav\"\n\n[[product]]\nsku = \"B-1\"\ntitle_ja = \"昼\"\ntitle_en = \"Noon\"\nprice = 100\naudio = \"../etc/passwd\"\n\n[[product]]\nsku = \"C-1\"\ntitle_ja = \"夜\"\ntitle_en = \"Night\"\nprice = 100\naudio = \"audio/missing.wav\"\n";
        let errors = parse_toml(text, dir.path()).unwrap_err().0;
        assert!(
            errors.iter().any(|e| e.starts_with("line 1: sku")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.starts_with("line 1: title")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.starts_with("line 1: price")),
            "{errors:?}"
        );
        assert!(
            errors.iter().any(|e| e.starts_with("line 8: audio")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("line 15: audio") && e.contains("missing.wav")),
            "{errors:?}"
        );
    }

    #[test]
    fn toml_syntax_errors_and_unknown_keys_name_their_line() {
        let dir = media();
        let errors = parse_toml("[[product]]\nsku = \"A\"\ncolour = \"red\"\n", dir.path())
            .unwrap_err()
            .0;
        assert!(errors[0].starts_with("line "), "{errors:?}");
        assert!(parse_toml("[[product]\n", dir.path()).is_err());
        assert!(parse_toml("", dir.path()).is_err());
    }

    #[test]
    fn creators_tags_readings_and_covers_are_read_from_both_forms() {
        let dir = media();
        std::fs::create_dir_all(dir.path().join("covers")).unwrap();
        let mut png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
        png.extend(300_u32.to_be_bytes());
        png.extend(200_u32.to_be_bytes());
        png.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(dir.path().join("covers/a.png"), png).unwrap();
        let toml = "[[product]]\nsku = \"A-1\"\ntitle_ja = \"夕凪\"\ntitle_en = \"Yuunagi\"\nprice = 1100\naudio = \"audio/a.wav\"\nreading = \"ゆうなぎ\"\ncreator_key = \"nagi\"\ncreator_ja = \"凪\"\ncreator_en = \"Nagi\"\ntags = [\"夜\", \"Sleep\"]\ncover = \"covers/a.png\"\n";
        let drafts = parse_toml(toml, dir.path()).unwrap();
        let d = &drafts[0];
        assert_eq!(d.reading.as_ref().unwrap().as_str(), "ゆうなぎ");
        assert_eq!(d.creator.as_ref().unwrap().name.en(), "Nagi");
        let tags: Vec<&str> = d.tags.iter().map(|t| t.as_str()).collect();
        assert_eq!(tags, ["夜", "sleep"]);
        let cover = d.cover.as_ref().unwrap();
        assert_eq!((cover.width, cover.height), (300, 200));

        let csv = "sku,title_ja,title_en,price,audio,creator_key,creator_ja,creator_en,tags,cover\nA-1,夕凪,Yuunagi,1100,audio/a.wav,nagi,凪,Nagi,夜|Sleep,covers/a.png\nB-1,昼,Noon,550,audio/b.wav,,,,,\n";
        let drafts = parse_csv(csv, dir.path()).unwrap();
        assert_eq!(drafts[0].tags.len(), 2);
        assert!(drafts[0].cover.is_some());
        assert!(
            drafts[1].creator.is_none() && drafts[1].tags.is_empty() && drafts[1].cover.is_none()
        );

        std::fs::write(dir.path().join("covers/b.png"), b"not an image").unwrap();
        let bad = "sku,title_ja,title_en,price,audio,creator_key,tags,cover\nA-1,夕凪,Yuunagi,1100,audio/a.wav,nagi,a/b,covers/b.png\n";
        let errors = parse_csv(bad, dir.path()).unwrap_err().0;
        for field in ["creator", "tags", "cover"] {
            assert!(
                errors
                    .iter()
                    .any(|e| e.starts_with(&format!("line 2: {field}"))),
                "{field}: {errors:?}"
            );
        }
    }

    #[test]
    fn a_csv_catalogue_reports_bad_rows_with_their_line() {
        let dir = media();
        let good = "sku,title_ja,title_en,price,currency,active,audio,sample\nA-1,朝,Morning,1100,JPY,true,audio/a.wav,audio/a-sample.wav\nB-1,昼,Noon,550,JPY,false,audio/b.wav,\n";
        let drafts = parse_csv(good, dir.path()).unwrap();
        assert_eq!(drafts.len(), 2);
        assert!(!drafts[1].active && drafts[1].sample.is_none());
        let bad = "sku,title_ja,title_en,price,audio\nA-1,朝,Morning,lots,audio/a.wav\nB-1,昼,Noon,5,audio/nope.wav\n";
        let errors = parse_csv(bad, dir.path()).unwrap_err().0;
        assert!(errors[0].starts_with("line 2"), "{errors:?}");
    }
}
