//! The catalogue as visitors browse it: pages of about two dozen pieces with numbered links
//! (`rel="next"` / `rel="prev"`), sorting, the count, search results with the matched words
//! marked, a creator's pieces and the pieces with a tag. Everything is read from the shelf in
//! memory ([`kikeru_domain::shop::shelf`]); pages carry an `ETag` and answer `304` to a
//! browser that already has them.

use askama::Template;
use kikeru_domain::shop::search::{SearchError, SearchQuery};
use kikeru_domain::shop::shelf::{Filter, Shelf, Sort};
use kikeru_domain::{CreatorKey, Language, Product, Tag};
use poem::http::StatusCode;
use poem::web::{Data, Path, Query};
use poem::{Request, Response, handler};

use crate::AppState;
use crate::site::{Chrome, catalogue_page, chrome, current, kept_page, message};

/// Pieces on one page.
pub(crate) const PER_PAGE: usize = 24;

/// A cover as a card or a product page shows it.
pub(crate) struct CoverImage {
    pub(crate) url: String,
    pub(crate) width: u32,
    pub(crate) height: u32,
}

/// A product as pages show it.
pub(crate) struct ProductCard {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: String,
    pub(crate) price: String,
    pub(crate) has_sample: bool,
    /// The title in runs, those matching a search marked (one unmarked run otherwise).
    pub(crate) title_marks: Vec<(String, bool)>,
    /// The description likewise (a search's results show it whole, a browsing page its start).
    pub(crate) description_marks: Vec<(String, bool)>,
    /// The creator's key and name.
    pub(crate) creator: Option<(String, String)>,
    /// The cover, or `None` for the placeholder.
    pub(crate) cover: Option<CoverImage>,
    /// The placeholder's letter: the title's first.
    pub(crate) initial: String,
}

/// How much of a description a browsing card shows.
const EXCERPT_CHARS: usize = 80;

impl ProductCard {
    pub(crate) fn of(p: &Product, lang: Language) -> Self {
        Self::found(p, lang, None)
    }

    /// A card whose words matching `query` are marked.
    pub(crate) fn found(p: &Product, lang: Language, query: Option<&SearchQuery>) -> Self {
        let title = p.draft.title.get(lang).to_owned();
        let description = p.draft.description.get(lang).to_owned();
        let runs = |text: &str| match query {
            Some(query) => kikeru_domain::shop::search::marks(text, query),
            None => vec![(text.to_owned(), false)],
        };
        Self {
            id: p.id.to_string(),
            title_marks: runs(&title),
            description_marks: runs(&description),
            initial: title.chars().next().map(String::from).unwrap_or_default(),
            title,
            description,
            price: p.draft.price.tax_inclusive(lang),
            has_sample: p.draft.sample.is_some(),
            creator: p
                .draft
                .creator
                .as_ref()
                .map(|c| (c.key.as_str().to_owned(), c.name.get(lang).to_owned())),
            cover: p.draft.cover.as_ref().and_then(|c| {
                Some(CoverImage {
                    url: crate::media::cover_url(p)?,
                    width: c.width,
                    height: c.height,
                })
            }),
        }
    }

    /// A browsing card: the description cut to its start.
    fn browsed(p: &Product, lang: Language) -> Self {
        let mut card = Self::of(p, lang);
        if card.description.chars().count() > EXCERPT_CHARS {
            let cut: String = card.description.chars().take(EXCERPT_CHARS).collect();
            card.description_marks = vec![(format!("{}…", cut.trim_end()), false)];
        }
        card
    }
}

/// A link of the page list.
pub(crate) struct PageLink {
    /// The page's number, or `None` for a gap (…).
    pub(crate) number: Option<usize>,
    pub(crate) href: String,
    pub(crate) current: bool,
}

/// A sort the visitor may choose.
pub(crate) struct SortLink {
    pub(crate) label: &'static str,
    pub(crate) href: String,
    pub(crate) current: bool,
}

#[derive(Template)]
#[template(path = "catalogue.html")]
struct CataloguePage<'a> {
    c: &'a Chrome,
    heading: String,
    intro: Option<&'a str>,
    /// A search's words, when this is one.
    searched: bool,
    /// Why the words could not be searched for.
    refused: Option<&'a str>,
    products: Vec<ProductCard>,
    /// How many pieces the list holds, and that said as a sentence.
    total: usize,
    count: String,
    page_of: Option<String>,
    sorts: Vec<SortLink>,
    pages: Vec<PageLink>,
    prev: Option<String>,
    next: Option<String>,
}

/// `?q=…&sort=…&page=…`, as every catalogue page reads it.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ListQuery {
    q: Option<String>,
    sort: Option<String>,
    page: Option<String>,
}

/// The address of a list's page.
fn href(path: &str, q: Option<&str>, sort: Option<Sort>, page: usize) -> String {
    let mut query = form_urlencoded::Serializer::new(String::new());
    if let Some(q) = q {
        query.append_pair("q", q);
    }
    if let Some(sort) = sort {
        query.append_pair("sort", sort.name());
    }
    if page > 1 {
        query.append_pair("page", &page.to_string());
    }
    let query = query.finish();
    if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    }
}

/// The page numbers to link: the first, the last, and two either side of the current one, with
/// gaps between.
fn numbers(current: usize, pages: usize) -> Vec<Option<usize>> {
    let mut shown: Vec<Option<usize>> = Vec::new();
    for n in 1..=pages {
        if n == 1 || n == pages || n.abs_diff(current) <= 2 {
            if let Some(Some(last)) = shown.last()
                && n > last + 1
            {
                shown.push(None);
            }
            shown.push(Some(n));
        }
    }
    shown
}

/// The address of a tag's page.
pub(crate) fn tag_href(tag: &Tag) -> String {
    let encoded: String = form_urlencoded::byte_serialize(tag.as_str().as_bytes()).collect();
    format!("/tags/{}", encoded.replace('+', "%20"))
}

/// What a list shows: its address, heading and which pieces.
struct List<'a> {
    path: &'a str,
    heading: String,
    intro: Option<&'a str>,
    creator: Option<&'a CreatorKey>,
    tag: Option<&'a Tag>,
}

/// Renders a page of `list`, or the error the query earns.
fn listing(
    state: &AppState,
    req: &Request,
    c: &Chrome,
    shelf: &Shelf,
    list: List<'_>,
    query: &ListQuery,
) -> Response {
    if let Some(kept) = kept_page(state, req, c, shelf.version()) {
        return kept;
    }
    let words = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let parsed = words.map(SearchQuery::parse);
    let refused = match &parsed {
        Some(Err(SearchError::TooLong)) => Some(c.t("search.too_long")),
        Some(Err(SearchError::Empty)) => Some(c.t("search.empty")),
        _ => None,
    };
    let search = parsed.as_ref().and_then(|p| p.as_ref().ok());
    let sort = match query.sort.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(name) => match Sort::parse(name, c.lang).filter(|s| *s != Sort::Sku) {
            Some(sort) => Some(sort),
            None => {
                return message(
                    StatusCode::BAD_REQUEST,
                    c,
                    c.t("error.not_found_title"),
                    c.t("browse.bad_sort"),
                );
            }
        },
    };
    let page = match query.page.as_deref().filter(|p| !p.is_empty()) {
        None => 1,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if n >= 1 => n,
            _ => return no_page(c),
        },
    };
    let filter = Filter {
        creator: list.creator,
        tag: list.tag,
        query: search,
    };
    let chosen = if refused.is_some() {
        std::borrow::Cow::Owned(Vec::new())
    } else {
        shelf.select(&filter, sort)
    };
    let total = chosen.len();
    let pages = total.div_ceil(PER_PAGE).max(1);
    if page > pages {
        return no_page(c);
    }
    let start = (page - 1) * PER_PAGE;
    let shown = &chosen[start..(start + PER_PAGE).min(total)];
    let products = shown
        .iter()
        .map(|&i| match search {
            Some(query) => ProductCard::found(shelf.at(i), c.lang, Some(query)),
            None => ProductCard::browsed(shelf.at(i), c.lang),
        })
        .collect();
    let link = |n: usize| href(list.path, words, sort, n);
    let sorts = if search.is_none() && total > 1 {
        [
            Sort::New,
            Sort::PriceLow,
            Sort::PriceHigh,
            Sort::Title(c.lang),
        ]
        .into_iter()
        .map(|s| SortLink {
            label: c.t(match s {
                Sort::New | Sort::Sku => "browse.sort_new",
                Sort::PriceLow => "browse.sort_price",
                Sort::PriceHigh => "browse.sort_price_desc",
                Sort::Title(_) => "browse.sort_title",
            }),
            href: href(list.path, None, (s != Sort::New).then_some(s), 1),
            current: sort.unwrap_or(Sort::New) == s,
        })
        .collect()
    } else {
        Vec::new()
    };
    let count = total.to_string();
    let page_text = page.to_string();
    let pages_text = pages.to_string();
    let body = CataloguePage {
        c,
        heading: list.heading,
        intro: list.intro,
        searched: words.is_some(),
        refused,
        products,
        total,
        count: kikeru_i18n::fill(c.t("browse.count"), &[("count", &count)]),
        page_of: (pages > 1).then(|| {
            kikeru_i18n::fill(
                c.t("browse.page_of"),
                &[("page", &page_text), ("pages", &pages_text)],
            )
        }),
        sorts,
        pages: if pages > 1 {
            numbers(page, pages)
                .into_iter()
                .map(|n| PageLink {
                    number: n,
                    href: n.map(link).unwrap_or_default(),
                    current: n == Some(page),
                })
                .collect()
        } else {
            Vec::new()
        },
        prev: (page > 1).then(|| link(page - 1)),
        next: (page < pages).then(|| link(page + 1)),
    }
    .render();
    catalogue_page(state, req, StatusCode::OK, c, shelf.version(), body)
}

fn no_page(c: &Chrome) -> Response {
    message(
        StatusCode::NOT_FOUND,
        c,
        c.t("error.not_found_title"),
        c.t("browse.no_page"),
    )
}

/// `GET /`: the catalogue, newest first unless `sort` says otherwise, a page at a time; with
/// `q`, the pieces matching it, best first, the matching words marked (or a note that nothing
/// matched and a way back to the catalogue).
#[handler]
pub(crate) async fn home(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<ListQuery>,
) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let shelf = state.services.storefront.shelf();
    let words = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
    let (heading, intro) = match words {
        Some(w) => (
            kikeru_i18n::fill(c.t("search.results_for"), &[("words", w)]),
            None,
        ),
        None => (c.t("home.title").to_owned(), Some(c.t("home.intro"))),
    };
    let list = List {
        path: "/",
        heading,
        intro,
        creator: None,
        tag: None,
    };
    listing(&state, req, &c, &shelf, list, &query)
}

/// `GET /creators/{key}`: a creator's pieces.
#[handler]
pub(crate) async fn by_creator(
    state: Data<&AppState>,
    req: &Request,
    Path(key): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let shelf = state.services.storefront.shelf();
    let key = CreatorKey::parse(&key).ok();
    let Some((key, creator)) = key.and_then(|k| shelf.creator(&k).cloned().map(|c| (k, c))) else {
        return no_page(&c);
    };
    let path = format!("/creators/{}", key.as_str());
    let list = List {
        path: &path,
        heading: kikeru_i18n::fill(
            c.t("browse.creator_title"),
            &[("name", creator.name.get(c.lang))],
        ),
        intro: None,
        creator: Some(&key),
        tag: None,
    };
    listing(&state, req, &c, &shelf, list, &query)
}

/// `GET /tags/{tag}`: the pieces with a tag.
#[handler]
pub(crate) async fn tagged(
    state: Data<&AppState>,
    req: &Request,
    Path(tag): Path<String>,
    Query(query): Query<ListQuery>,
) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let shelf = state.services.storefront.shelf();
    let Some(tag) = Tag::parse(&tag).ok().filter(|t| shelf.has_tag(t)) else {
        return no_page(&c);
    };
    let path = tag_href(&tag);
    let list = List {
        path: &path,
        heading: kikeru_i18n::fill(c.t("browse.tag_title"), &[("tag", tag.as_str())]),
        intro: None,
        creator: None,
        tag: Some(&tag),
    };
    listing(&state, req, &c, &shelf, list, &query)
}

#[derive(Template)]
#[template(path = "creators.html")]
struct CreatorsPage<'a> {
    c: &'a Chrome,
    /// Key, name and the count of pieces.
    creators: Vec<(String, String, String)>,
    /// Tag, its address and the count of pieces.
    tags: Vec<(String, String, String)>,
}

/// `GET /creators`: every creator and every tag with pieces on sale.
#[handler]
pub(crate) async fn creators(state: Data<&AppState>, req: &Request) -> Response {
    let member = current(&state, req).await;
    let c = chrome(&state, req, member.as_ref());
    let shelf = state.services.storefront.shelf();
    let pieces =
        |n: usize| kikeru_i18n::fill(c.t("browse.creator_pieces"), &[("count", &n.to_string())]);
    let body = CreatorsPage {
        c: &c,
        creators: shelf
            .creators()
            .into_iter()
            .map(|e| {
                (
                    e.creator.key.as_str().to_owned(),
                    e.creator.name.get(c.lang).to_owned(),
                    pieces(e.pieces),
                )
            })
            .collect(),
        tags: shelf
            .tags()
            .into_iter()
            .map(|(tag, n)| (tag.as_str().to_owned(), tag_href(&tag), pieces(n)))
            .collect(),
    }
    .render();
    catalogue_page(&state, req, StatusCode::OK, &c, shelf.version(), body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_links_show_the_ends_and_the_neighbourhood() {
        assert_eq!(numbers(1, 1), [Some(1)]);
        assert_eq!(
            numbers(5, 10),
            [
                Some(1),
                None,
                Some(3),
                Some(4),
                Some(5),
                Some(6),
                Some(7),
                None,
                Some(10)
            ]
        );
        assert_eq!(numbers(2, 4), [Some(1), Some(2), Some(3), Some(4)]);
    }

    #[test]
    fn links_keep_the_words_and_the_sort() {
        assert_eq!(href("/", None, None, 1), "/");
        assert_eq!(
            href("/", Some("子守唄 2"), Some(Sort::PriceLow), 3),
            "/?q=%E5%AD%90%E5%AE%88%E5%94%84+2&sort=price&page=3"
        );
    }
}
