//! Searching the catalogue the way Japanese is written: no spaces between words, full-width and
//! half-width forms of the same letters, and the same word in hiragana or katakana.
//!
//! Text and queries are folded alike ([`fold`]): Unicode NFKC (full-width `ＹＵＵＮＡＧＩ` is
//! `yuunagi`, half-width `ﾗﾗﾊﾞｲ` is `ララバイ`), lower case, and katakana as hiragana (`ララバイ`
//! is `ららばい`). A product matches when its folded titles or descriptions contain the folded
//! query anywhere — a word inside a title matches (「子守唄」 finds 「夕凪の子守唄」), and a query
//! of one or two characters works too. Title matches rank before description matches, an
//! earlier match before a later one, a shorter title before a longer one.
//!
//! Folding is done one cluster at a time (a character with the voiced-sound or other combining
//! marks that follow it, so that `ﾊﾞ` folds like `ば`), so that a match in the folded text can be
//! mapped back to the characters the member sees ([`marks`]).

use unicode_normalization::UnicodeNormalization;

use crate::shop::catalog::ProductDraft;

/// The longest query, in characters.
pub const MAX_QUERY_CHARS: usize = 100;

/// One cluster folded: NFKC, lower case, katakana as hiragana, composed again (NFC).
fn fold_cluster(cluster: &str, out: &mut String) {
    let folded: String = cluster
        .nfkc()
        .flat_map(char::to_lowercase)
        .map(hiragana)
        .collect();
    out.extend(folded.nfc());
}

/// Whether `c` belongs to the character before it: a combining mark, or the half-width
/// voiced-sound marks ﾞ and ﾟ.
fn joins(c: char) -> bool {
    unicode_normalization::char::is_combining_mark(c) || matches!(c, '\u{FF9E}' | '\u{FF9F}')
}

/// `text` cut into clusters: a character with the marks that join it.
fn clusters(text: &str) -> Vec<&str> {
    let mut found: Vec<&str> = Vec::new();
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if i > 0 && !joins(c) {
            found.push(&text[start..i]);
            start = i;
        }
    }
    if start < text.len() {
        found.push(&text[start..]);
    }
    found
}

/// A katakana letter as its hiragana (ァ U+30A1 … ヶ U+30F6 lie 0x60 above ぁ … ゖ); anything
/// else as it is.
fn hiragana(c: char) -> char {
    match c {
        '\u{30A1}'..='\u{30F6}' => char::from_u32(u32::from(c) - 0x60).unwrap_or(c),
        _ => c,
    }
}

/// `text` folded for matching.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for cluster in clusters(text) {
        fold_cluster(cluster, &mut out);
    }
    out
}

/// A member's query, folded and checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SearchQuery {
    folded: String,
}

/// A query was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// Nothing to search for (empty, or only spaces).
    #[error("the query is empty")]
    Empty,
    /// Longer than [`MAX_QUERY_CHARS`].
    #[error("the query is longer than 100 characters")]
    TooLong,
}

impl SearchQuery {
    /// The query `text` (trimmed, folded).
    ///
    /// # Errors
    /// [`SearchError`].
    pub fn parse(text: &str) -> Result<Self, SearchError> {
        let trimmed = text.trim();
        if trimmed.chars().count() > MAX_QUERY_CHARS {
            return Err(SearchError::TooLong);
        }
        // Control characters are no one's words: they are dropped, not searched for.
        let folded: String = fold(trimmed).chars().filter(|c| !c.is_control()).collect();
        let folded = folded.trim();
        if folded.is_empty() {
            return Err(SearchError::Empty);
        }
        Ok(Self {
            folded: folded.to_owned(),
        })
    }

    /// The folded query, as stores match it against [`SearchKeys`].
    pub fn folded(&self) -> &str {
        &self.folded
    }
}

/// What a product is found by: its titles and its descriptions, each pair folded and joined by
/// a line break (which no query contains, so a match never spans two of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchKeys {
    /// Both titles, folded.
    pub title: String,
    /// Both descriptions, folded.
    pub body: String,
}

/// The keys of a product.
pub fn keys(draft: &ProductDraft) -> SearchKeys {
    SearchKeys {
        title: format!("{}\n{}", fold(draft.title.ja()), fold(draft.title.en())),
        body: format!(
            "{}\n{}",
            fold(draft.description.ja()),
            fold(draft.description.en())
        ),
    }
}

/// Where a product ranks for a query: `None` when it does not match. Lower ranks first: title
/// matches before description matches, then the earlier match (in characters), then the
/// shorter title. Stores that rank in SQL order by the same three.
pub fn rank(keys: &SearchKeys, query: &SearchQuery) -> Option<(u8, usize, usize)> {
    let at = |text: &str| {
        text.find(query.folded())
            .map(|byte| text[..byte].chars().count())
    };
    let length = keys.title.chars().count();
    match (at(&keys.title), at(&keys.body)) {
        (Some(position), _) => Some((0, position, length)),
        (None, Some(position)) => Some((1, position, length)),
        (None, None) => None,
    }
}

/// `text` cut into runs, each marked when it is part of a match of `query` (for highlighting):
/// the runs join back into `text`.
pub fn marks(text: &str, query: &SearchQuery) -> Vec<(String, bool)> {
    // The folded text, and for each of its bytes the cluster it came from.
    let parts = clusters(text);
    let mut folded = String::with_capacity(text.len());
    let mut origin = Vec::with_capacity(text.len());
    for (i, cluster) in parts.iter().enumerate() {
        let before = folded.len();
        fold_cluster(cluster, &mut folded);
        origin.extend(std::iter::repeat_n(i, folded.len() - before));
    }
    let mut marked = vec![false; parts.len()];
    let needle = query.folded();
    let mut from = 0;
    while let Some(found) = folded[from..].find(needle) {
        let start = from + found;
        let end = start + needle.len();
        for &i in &origin[start..end] {
            marked[i] = true;
        }
        from = end;
    }
    let mut runs: Vec<(String, bool)> = Vec::new();
    for (cluster, hit) in parts.into_iter().zip(marked) {
        match runs.last_mut() {
            Some((run, last)) if *last == hit => run.push_str(cluster),
            _ => runs.push((cluster.to_owned(), hit)),
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(text: &str) -> SearchQuery {
        SearchQuery::parse(text).unwrap()
    }

    fn keys_of(title: &str, body: &str) -> SearchKeys {
        SearchKeys {
            title: fold(title),
            body: fold(body),
        }
    }

    #[test]
    fn width_case_and_kana_are_folded_alike() {
        assert_eq!(fold("ＹＵＵＮＡＧＩ"), "yuunagi");
        assert_eq!(fold("Yuunagi"), "yuunagi");
        assert_eq!(fold("ララバイ"), "ららばい");
        assert_eq!(fold("ﾗﾗﾊﾞｲ"), "ららばい");
        assert_eq!(fold("夕凪の子守唄"), "夕凪の子守唄");
    }

    #[test]
    fn a_word_inside_a_title_matches_and_titles_rank_first() {
        let lullaby = keys_of("夕凪の子守唄\nYuunagi Lullaby", "海の音");
        let about = keys_of("朝の鐘\nMorning Bell", "子守唄のように静かな鐘");
        assert_eq!(rank(&lullaby, &q("子守唄")), Some((0, 3, 22)));
        assert_eq!(rank(&about, &q("子守唄")).map(|r| r.0), Some(1));
        assert!(rank(&lullaby, &q("ＹＵＵＮＡＧＩ")).is_some());
        assert!(rank(&keys_of("ララバイ", ""), &q("ららばい")).is_some());
        assert!(rank(&lullaby, &q("唄")).is_some(), "one character");
        assert_eq!(rank(&lullaby, &q("鐘")), None);
    }

    #[test]
    fn queries_are_trimmed_and_bounded() {
        assert_eq!(SearchQuery::parse("  "), Err(SearchError::Empty));
        assert_eq!(SearchQuery::parse("\u{3000}"), Err(SearchError::Empty));
        assert_eq!(
            SearchQuery::parse(&"あ".repeat(101)),
            Err(SearchError::TooLong)
        );
        assert_eq!(q(" 子守唄 ").folded(), "子守唄");
        assert_eq!(q("&\u{8C}").folded(), "&", "control characters are dropped");
        assert_eq!(SearchQuery::parse("\u{8C}"), Err(SearchError::Empty));
    }

    #[test]
    fn marks_fall_on_the_characters_shown() {
        assert_eq!(
            marks("夕凪の子守唄", &q("子守唄")),
            [("夕凪の".to_owned(), false), ("子守唄".to_owned(), true)]
        );
        assert_eq!(
            marks("Yuunagi ＬＵＬＬＡＢＹ", &q("lullaby")),
            [
                ("Yuunagi ".to_owned(), false),
                ("ＬＵＬＬＡＢＹ".to_owned(), true)
            ]
        );
        assert_eq!(
            marks("ララバイとららばい", &q("ららばい")),
            [
                ("ララバイ".to_owned(), true),
                ("と".to_owned(), false),
                ("ららばい".to_owned(), true)
            ]
        );
        assert_eq!(marks("朝", &q("夜")), [("朝".to_owned(), false)]);
    }
}
