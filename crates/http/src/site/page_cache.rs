//! Rendered catalogue pages kept for visitors: a page of the public catalogue shown to a visitor
//! who is not signed in depends only on its address, its language and the shelf it was rendered
//! from, so it is rendered once per shelf version and then served as it is, with its `ETag`.
//! A new shelf empties the cache; a full cache is emptied too (it refills with what is asked).
//! Only pages answered `200` are kept, so a page found here is served without any of the work
//! (a search, a sort) that made it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use kikeru_domain::Language;

/// The most pages kept (each some tens of kilobytes).
const CAPACITY: usize = 512;

/// A page rendered once: its body and entity tag.
#[derive(Debug)]
pub(crate) struct Rendered {
    pub(crate) body: String,
    pub(crate) etag: String,
}

#[derive(Debug, Default)]
struct Pages {
    version: Option<u64>,
    pages: HashMap<(Language, String), Arc<Rendered>>,
}

/// The cache (one per site).
#[derive(Debug, Default)]
pub struct PageCache {
    inner: Mutex<Pages>,
}

impl PageCache {
    /// The page at `address` in `language` rendered from shelf `version`, when it is kept.
    pub(crate) fn get(
        &self,
        version: Option<u64>,
        language: Language,
        address: &str,
    ) -> Option<Arc<Rendered>> {
        let pages = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.version != version {
            return None;
        }
        pages.pages.get(&(language, address.to_owned())).cloned()
    }

    /// Keeps `body`, the page at `address` in `language` rendered from shelf `version`.
    pub(crate) fn put(
        &self,
        version: Option<u64>,
        language: Language,
        address: &str,
        body: String,
    ) -> Arc<Rendered> {
        let rendered = Arc::new(Rendered {
            etag: super::etag(body.as_bytes()),
            body,
        });
        let mut pages = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        if pages.version != version || pages.pages.len() >= CAPACITY {
            pages.pages.clear();
            pages.version = version;
        }
        pages
            .pages
            .insert((language, address.to_owned()), rendered.clone());
        rendered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_kept_per_shelf_version_and_language() {
        let cache = PageCache::default();
        assert!(cache.get(Some(1), Language::Ja, "/").is_none());
        let kept = cache.put(Some(1), Language::Ja, "/", "v1".to_owned());
        assert_eq!(
            cache.get(Some(1), Language::Ja, "/").unwrap().etag,
            kept.etag
        );
        assert!(
            cache.get(Some(1), Language::En, "/").is_none(),
            "each language apart"
        );
        assert!(
            cache.get(Some(2), Language::Ja, "/").is_none(),
            "a new shelf"
        );
        cache.put(Some(2), Language::Ja, "/x", "v2".to_owned());
        assert!(
            cache.get(Some(1), Language::Ja, "/").is_none(),
            "the old shelf's pages are gone"
        );
        assert_eq!(cache.get(Some(2), Language::Ja, "/x").unwrap().body, "v2");
    }
}
