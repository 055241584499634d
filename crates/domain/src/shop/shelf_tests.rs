//! Tests of the shelf: sorts, search, creators and tags, cursors.

use time::macros::datetime;
use uuid::Uuid;

use super::*;
use crate::shop::catalog::{AssetKey, Localized, ProductDraft};
use crate::shop::collection::Reading;
use crate::{Currency, Money};

const T0: Timestamp = datetime!(2026-04-01 09:00 UTC);

fn piece(n: u8, sku: &str, ja: &str, en: &str, price: i64) -> Product {
    Product {
        id: crate::ProductId::from_uuid(Uuid::from_u128(u128::from(n))),
        draft: ProductDraft {
            sku: Sku::parse(sku).unwrap(),
            title: Localized::title(ja, en).unwrap(),
            description: Localized::description("", "").unwrap(),
            price: Money::new(price, Currency::Jpy).unwrap(),
            active: true,
            audio: AssetKey::parse("a.wav").unwrap(),
            sample: None,
            reading: None,
            creator: None,
            tags: Vec::new(),
            cover: None,
        },
        created_at: T0 + time::Duration::days(i64::from(n)),
        updated_at: T0,
    }
}

fn skus(shelf: &Shelf, ids: &[u32]) -> Vec<String> {
    ids.iter()
        .map(|&i| shelf.at(i).draft.sku.as_str().to_owned())
        .collect()
}

fn shelf() -> Shelf {
    let mut lullaby = piece(1, "C", "夕凪の子守唄", "Yuunagi Lullaby", 1100);
    lullaby.draft.reading = Some(Reading::parse("ゆうなぎのこもりうた").unwrap());
    lullaby.draft.creator = Some(Creator::new("nagi", "凪", "Nagi").unwrap());
    lullaby.draft.tags = vec![Tag::parse("sleep").unwrap()];
    let mut rain = piece(2, "A", "あめのうた", "Rain song", 550);
    rain.draft.tags = vec![Tag::parse("sleep").unwrap()];
    let mut hidden = piece(3, "D", "ララバイ", "Hidden", 10);
    hidden.draft.active = false;
    let bell = piece(4, "B", "かねのおと", "Bells", 1100);
    Shelf::new(7, T0, vec![lullaby, rain, hidden, bell])
}

#[test]
fn every_sort_orders_the_pieces_on_sale() {
    let shelf = shelf();
    assert_eq!(shelf.len(), 3, "the inactive piece is not on the shelf");
    let list = |sort| skus(&shelf, &shelf.select(&Filter::default(), Some(sort)));
    assert_eq!(list(Sort::Sku), ["A", "B", "C"]);
    assert_eq!(list(Sort::New), ["B", "A", "C"]);
    assert_eq!(list(Sort::PriceLow), ["A", "B", "C"], "ties by SKU");
    assert_eq!(list(Sort::PriceHigh), ["B", "C", "A"], "ties by SKU");
    // あめ < かね < ゆうなぎ (by its reading, not by the kanji 夕).
    assert_eq!(list(Sort::Title(Language::Ja)), ["A", "B", "C"]);
    assert_eq!(list(Sort::Title(Language::En)), ["B", "A", "C"]);
    assert_eq!(
        Sort::parse("title", Language::En),
        Some(Sort::Title(Language::En))
    );
    assert_eq!(Sort::parse("cheap", Language::En), None);
}

#[test]
fn search_finds_japanese_as_written_and_ranks_titles_first() {
    let shelf = shelf();
    let find = |q: &str| {
        let query = SearchQuery::parse(q).unwrap();
        let filter = Filter {
            query: Some(&query),
            ..Filter::default()
        };
        skus(&shelf, &shelf.select(&filter, None))
    };
    assert_eq!(find("子守唄"), ["C"]);
    assert_eq!(find("ＹＵＵＮＡＧＩ"), ["C"]);
    assert_eq!(
        find("ゆうなぎ"),
        Vec::<String>::new(),
        "the reading is not searched"
    );
    assert_eq!(find("ララバイ"), Vec::<String>::new(), "not on sale");
    // All three at the same place: the shorter title first.
    assert_eq!(find("の"), ["B", "A", "C"], "one character works");
    assert_eq!(find("うた"), ["A"], "two characters work");
    assert_eq!(find("song"), ["A"]);
}

#[test]
fn creators_and_tags_group_the_pieces() {
    let shelf = shelf();
    let nagi = CreatorKey::parse("nagi").unwrap();
    let sleep = Tag::parse("sleep").unwrap();
    let by = |filter: Filter<'_>, sort| skus(&shelf, &shelf.select(&filter, sort));
    let of_nagi = Filter {
        creator: Some(&nagi),
        ..Filter::default()
    };
    assert_eq!(by(of_nagi, None), ["C"]);
    let tagged = Filter {
        tag: Some(&sleep),
        ..Filter::default()
    };
    assert_eq!(by(tagged, Some(Sort::PriceLow)), ["A", "C"]);
    assert_eq!(shelf.creators()[0].pieces, 1);
    assert_eq!(shelf.tags(), vec![(sleep, 2)]);
    let query = SearchQuery::parse("の").unwrap();
    let both = Filter {
        query: Some(&query),
        creator: Some(&nagi),
        ..Filter::default()
    };
    assert_eq!(by(both, None), ["C"]);
}

#[test]
fn cursors_resume_after_their_piece_or_at_their_offset() {
    let shelf = shelf();
    let list = shelf.select(&Filter::default(), Some(Sort::New));
    let first = shelf.cursor(&list, 1).unwrap();
    assert_eq!(first.to_string(), "1~B");
    assert_eq!(Cursor::parse("1~B"), Some(first.clone()));
    assert_eq!(shelf.resume(&list, Some(Sort::New), &first), 1);
    assert_eq!(shelf.cursor(&list, 3), None, "the last page has no next");
    let gone = Cursor::parse("2~Z").unwrap();
    assert_eq!(shelf.resume(&list, Some(Sort::New), &gone), 2);
    let by_sku = shelf.select(&Filter::default(), Some(Sort::Sku));
    let gone = Cursor::parse("0~AB").unwrap();
    assert_eq!(
        shelf.resume(&by_sku, Some(Sort::Sku), &gone),
        1,
        "after A, before B"
    );
    for bad in ["", "B", "~B", "x~B", "1~", "1~a b", "1234567890~B"] {
        assert_eq!(Cursor::parse(bad), None, "{bad:?}");
    }
}
