//! The shelf: the public catalogue held in memory, as visitors see it — the pieces on sale in
//! every order a page offers, found by ID, by creator and by tag, and searched through an index
//! of the folded text. The catalogue is read far more often than it changes, so it is built once
//! per change of the catalogue ([`crate::shop::ports::Catalog::version`]) and then only read.
//!
//! Searching gives what [`crate::shop::ports::Catalog::search`] gives (the same folding, the
//! same [`rank`]): candidates come from an index of the folded text's three-character runs (one
//! character runs for shorter queries), and each candidate is then checked and ranked.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use crate::shop::catalog::{Product, ProductId, Sku};
use crate::shop::collection::{Creator, CreatorKey, Tag};
use crate::shop::search::{SearchKeys, SearchQuery, fold, keys, rank};
use crate::{Language, Timestamp};

/// How a list of pieces is ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sort {
    /// By SKU (the API's order when none is asked for).
    Sku,
    /// Newest first.
    New,
    /// Cheapest first.
    PriceLow,
    /// Dearest first.
    PriceHigh,
    /// By title: Japanese titles in 五十音 order (by their reading when they have one),
    /// English titles alphabetically.
    Title(Language),
}

impl Sort {
    /// The sort's name in addresses, as [`Sort::parse`] reads it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sku => "sku",
            Self::New => "new",
            Self::PriceLow => "price",
            Self::PriceHigh => "price_desc",
            Self::Title(_) => "title",
        }
    }

    /// A sort by its name; `title` orders by the titles in `language`.
    pub fn parse(name: &str, language: Language) -> Option<Self> {
        Some(match name {
            "sku" => Self::Sku,
            "new" => Self::New,
            "price" => Self::PriceLow,
            "price_desc" => Self::PriceHigh,
            "title" => Self::Title(language),
            _ => return None,
        })
    }
}

/// Which pieces a list holds.
#[derive(Debug, Clone, Copy, Default)]
pub struct Filter<'a> {
    /// Only this creator's.
    pub creator: Option<&'a CreatorKey>,
    /// Only those with this tag.
    pub tag: Option<&'a Tag>,
    /// Only those matching, best first unless a sort is asked for.
    pub query: Option<&'a SearchQuery>,
}

/// Where a page of a list starts: after the piece with `sku`, or at `offset` when that piece
/// has left the list since. Written `{offset}~{sku}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    /// How many pieces came before.
    pub offset: usize,
    /// The last piece of the page before.
    pub sku: Sku,
}

impl Cursor {
    /// Reads a cursor.
    pub fn parse(text: &str) -> Option<Self> {
        let (offset, sku) = text.split_once('~')?;
        if offset.is_empty() || offset.len() > 9 || !offset.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        Some(Self {
            offset: offset.parse().ok()?,
            sku: Sku::parse(sku).ok()?,
        })
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}~{}", self.offset, self.sku.as_str())
    }
}

/// A creator with how many pieces of theirs are on sale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatorEntry {
    /// The creator (as the newest of their pieces names them).
    pub creator: Creator,
    /// Their pieces on sale.
    pub pieces: usize,
}

/// Positions into [`Shelf`]'s pieces.
type Ids = Vec<u32>;

/// The catalogue's pieces on sale, held for reading.
#[derive(Debug, Default)]
pub struct Shelf {
    version: Option<u64>,
    built_at: Option<Timestamp>,
    /// By SKU; every other list holds positions in this one.
    products: Vec<Product>,
    by_id: HashMap<ProductId, u32>,
    sku: Ids,
    new: Ids,
    price: Ids,
    price_desc: Ids,
    title_ja: Ids,
    title_en: Ids,
    keys: Vec<SearchKeys>,
    /// The pieces holding each folded three-character run.
    trigrams: HashMap<u64, Ids>,
    /// The pieces holding each folded character.
    chars: HashMap<char, Ids>,
    creators: BTreeMap<CreatorKey, (Creator, Ids)>,
    tags: BTreeMap<Tag, Ids>,
}

fn trigram(a: char, b: char, c: char) -> u64 {
    (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c)
}

fn sorted_by<K: Ord>(n: usize, key: impl Fn(usize) -> K) -> Ids {
    let mut ids: Vec<u32> = (0..n).filter_map(|i| u32::try_from(i).ok()).collect();
    // Stable, and `ids` starts in SKU order: ties stay by SKU.
    ids.sort_by_cached_key(|&i| key(i as usize));
    ids
}

/// The sorted lists `lists` all hold.
fn intersect(mut lists: Vec<&[u32]>) -> Ids {
    lists.sort_by_key(|l| l.len());
    let Some((first, rest)) = lists.split_first() else {
        return Vec::new();
    };
    first
        .iter()
        .copied()
        .filter(|id| rest.iter().all(|l| l.binary_search(id).is_ok()))
        .collect()
}

impl Shelf {
    /// The shelf of catalogue `version` holding `products` (those not on sale are left off).
    pub fn new(version: u64, built_at: Timestamp, products: Vec<Product>) -> Self {
        let mut products: Vec<Product> = products.into_iter().filter(|p| p.draft.active).collect();
        products.sort_by(|a, b| a.draft.sku.cmp(&b.draft.sku));
        let n = products.len();
        let at = |i: usize| &products[i].draft;
        let new = sorted_by(n, |i| std::cmp::Reverse(products[i].created_at));
        let sku = sorted_by(n, |i| i);
        let price = sorted_by(n, |i| at(i).price.minor());
        let price_desc = sorted_by(n, |i| std::cmp::Reverse(at(i).price.minor()));
        let title_ja = sorted_by(n, |i| {
            fold(
                at(i)
                    .reading
                    .as_ref()
                    .map_or(at(i).title.ja(), |r| r.as_str()),
            )
        });
        let title_en = sorted_by(n, |i| fold(at(i).title.en()));
        let keys: Vec<SearchKeys> = products.iter().map(|p| keys(&p.draft)).collect();
        let mut trigrams: HashMap<u64, Ids> = HashMap::new();
        let mut chars: HashMap<char, Ids> = HashMap::new();
        let mut creators: BTreeMap<CreatorKey, (Creator, Ids)> = BTreeMap::new();
        let mut tags: BTreeMap<Tag, Ids> = BTreeMap::new();
        let mut by_id = HashMap::with_capacity(n);
        let mut seen_grams: Vec<u64> = Vec::new();
        let mut seen_chars: Vec<char> = Vec::new();
        for (i, (p, k)) in products.iter().zip(&keys).enumerate() {
            let Ok(id) = u32::try_from(i) else { break };
            by_id.insert(p.id, id);
            seen_grams.clear();
            seen_chars.clear();
            for text in [&k.title, &k.body] {
                let cs: Vec<char> = text.chars().collect();
                seen_chars.extend(&cs);
                seen_grams.extend(cs.windows(3).map(|w| trigram(w[0], w[1], w[2])));
            }
            seen_grams.sort_unstable();
            seen_grams.dedup();
            seen_chars.sort_unstable();
            seen_chars.dedup();
            for g in &seen_grams {
                trigrams.entry(*g).or_default().push(id);
            }
            for c in &seen_chars {
                chars.entry(*c).or_default().push(id);
            }
            if let Some(creator) = &p.draft.creator {
                let entry = creators
                    .entry(creator.key.clone())
                    .or_insert_with(|| (creator.clone(), Vec::new()));
                entry.1.push(id);
            }
            for tag in &p.draft.tags {
                tags.entry(tag.clone()).or_default().push(id);
            }
        }
        // A creator is named as their newest piece names them.
        for (creator, ids) in creators.values_mut() {
            let newest = ids.iter().max_by_key(|&&i| products[i as usize].updated_at);
            if let Some(named) = newest.and_then(|&i| products[i as usize].draft.creator.as_ref()) {
                *creator = named.clone();
            }
        }
        trigrams.shrink_to_fit();
        Self {
            version: Some(version),
            built_at: Some(built_at),
            products,
            by_id,
            sku,
            new,
            price,
            price_desc,
            title_ja,
            title_en,
            keys,
            trigrams,
            chars,
            creators,
            tags,
        }
    }

    /// The catalogue version it was built from; `None` before the first build.
    pub fn version(&self) -> Option<u64> {
        self.version
    }

    /// When it was built.
    pub fn built_at(&self) -> Option<Timestamp> {
        self.built_at
    }

    /// How many pieces are on sale.
    pub fn len(&self) -> usize {
        self.products.len()
    }

    /// Whether nothing is on sale.
    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }

    /// The piece on sale with this ID.
    pub fn by_id(&self, id: ProductId) -> Option<&Product> {
        self.by_id.get(&id).map(|&i| &self.products[i as usize])
    }

    /// The piece at a position of a list this shelf gave.
    pub fn at(&self, position: u32) -> &Product {
        &self.products[position as usize]
    }

    /// The creators with pieces on sale, by key.
    pub fn creators(&self) -> Vec<CreatorEntry> {
        self.creators
            .values()
            .map(|(creator, ids)| CreatorEntry {
                creator: creator.clone(),
                pieces: ids.len(),
            })
            .collect()
    }

    /// A creator with pieces on sale.
    pub fn creator(&self, key: &CreatorKey) -> Option<&Creator> {
        self.creators.get(key).map(|(c, _)| c)
    }

    /// The tags of pieces on sale, with how many carry each, by tag.
    pub fn tags(&self) -> Vec<(Tag, usize)> {
        self.tags
            .iter()
            .map(|(t, ids)| (t.clone(), ids.len()))
            .collect()
    }

    /// Whether a piece on sale carries `tag`.
    pub fn has_tag(&self, tag: &Tag) -> bool {
        self.tags.contains_key(tag)
    }

    fn order(&self, sort: Sort) -> &[u32] {
        match sort {
            Sort::Sku => &self.sku,
            Sort::New => &self.new,
            Sort::PriceLow => &self.price,
            Sort::PriceHigh => &self.price_desc,
            Sort::Title(Language::Ja) => &self.title_ja,
            Sort::Title(Language::En) => &self.title_en,
        }
    }

    /// The pieces matching `query`, best first (as [`rank`] orders them, then by SKU).
    fn found(&self, query: &SearchQuery) -> Ids {
        let text: Vec<char> = query.folded().chars().collect();
        let candidates = if text.len() >= 3 {
            let mut grams: Vec<u64> = text.windows(3).map(|w| trigram(w[0], w[1], w[2])).collect();
            grams.sort_unstable();
            grams.dedup();
            let lists: Option<Vec<&[u32]>> = grams
                .iter()
                .map(|g| self.trigrams.get(g).map(Vec::as_slice))
                .collect();
            lists.map(intersect).unwrap_or_default()
        } else {
            let lists: Option<Vec<&[u32]>> = text
                .iter()
                .map(|c| self.chars.get(c).map(Vec::as_slice))
                .collect();
            lists.map(intersect).unwrap_or_default()
        };
        let mut ranked: Vec<((u8, usize, usize), u32)> = candidates
            .into_iter()
            .filter_map(|i| rank(&self.keys[i as usize], query).map(|r| (r, i)))
            .collect();
        ranked.sort_unstable();
        ranked.into_iter().map(|(_, i)| i).collect()
    }

    /// The pieces `filter` selects, in `sort` order (a search without a sort: best first).
    pub fn select(&self, filter: &Filter<'_>, sort: Option<Sort>) -> Cow<'_, [u32]> {
        let within = |ids: &[u32]| -> Vec<u32> {
            let mut keep = vec![false; self.len()];
            for &i in ids {
                keep[i as usize] = true;
            }
            let order = self.order(sort.unwrap_or(Sort::New));
            order
                .iter()
                .copied()
                .filter(|&i| keep[i as usize])
                .collect()
        };
        let mut chosen: Option<Ids> = None;
        let mut narrow = |ids: Ids| {
            chosen = Some(match chosen.take() {
                None => ids,
                Some(before) => {
                    let mut sorted = ids;
                    sorted.sort_unstable();
                    before
                        .into_iter()
                        .filter(|i| sorted.binary_search(i).is_ok())
                        .collect()
                }
            });
        };
        if let Some(query) = filter.query {
            narrow(self.found(query));
        }
        if let Some(key) = filter.creator {
            narrow(
                self.creators
                    .get(key)
                    .map(|(_, ids)| ids.clone())
                    .unwrap_or_default(),
            );
        }
        if let Some(tag) = filter.tag {
            narrow(self.tags.get(tag).cloned().unwrap_or_default());
        }
        match chosen {
            None => Cow::Borrowed(self.order(sort.unwrap_or(Sort::New))),
            // A search keeps its ranking unless a sort is asked for.
            Some(ids) if filter.query.is_some() && sort.is_none() => Cow::Owned(ids),
            Some(ids) => Cow::Owned(within(&ids)),
        }
    }

    /// Where a page after `cursor` starts in `list`: after the cursor's piece when it is still
    /// there, else at its offset (or, by SKU, at the first SKU after it).
    pub fn resume(&self, list: &[u32], sort: Option<Sort>, cursor: &Cursor) -> usize {
        let by_sku = self
            .products
            .binary_search_by(|p| p.draft.sku.cmp(&cursor.sku));
        let at = by_sku
            .ok()
            .and_then(|i| list.iter().position(|&id| id as usize == i));
        if let Some(at) = at {
            return at + 1;
        }
        if sort == Some(Sort::Sku) {
            return list.partition_point(|&id| self.products[id as usize].draft.sku <= cursor.sku);
        }
        cursor.offset.min(list.len())
    }

    /// The cursor for a page ending at position `end` (exclusive) of `list`.
    pub fn cursor(&self, list: &[u32], end: usize) -> Option<Cursor> {
        let last = *list.get(end.checked_sub(1)?)?;
        (end < list.len()).then(|| Cursor {
            offset: end,
            sku: self.products[last as usize].draft.sku.clone(),
        })
    }
}

#[cfg(test)]
#[path = "shelf_tests.rs"]
mod tests;
