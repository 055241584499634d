//! The [`Catalog`] contract.

use kikeru_domain::shop::ports::Catalog;
use kikeru_domain::{Sku, StoreError};

use crate::fixtures::{NOW, product};

/// Saved products read back equal, by ID and by SKU.
pub async fn saved_products_read_back_by_id_and_sku(port: &dyn Catalog) {
    let (a, b) = (product(1, 1100, true), product(2, 550, false));
    port.save_all(&[a.clone(), b.clone()]).await.expect("save");
    assert_eq!(port.by_id(a.id).await.expect("by_id"), Some(a.clone()));
    assert_eq!(port.by_sku(&b.draft.sku).await.expect("by_sku"), Some(b));
    assert_eq!(
        port.by_sku(&Sku::parse("NONE").expect("valid"))
            .await
            .expect("by_sku"),
        None
    );
}

/// Saving a product with a known ID replaces it.
pub async fn save_all_replaces_products_by_id(port: &dyn Catalog) {
    let mut a = product(1, 1100, true);
    port.save_all(&[a.clone()]).await.expect("save");
    a.draft.price = kikeru_domain::Money::new(990, kikeru_domain::Currency::Jpy).expect("valid");
    a.draft.active = false;
    a.updated_at = NOW + time::Duration::hours(1);
    port.save_all(&[a.clone()]).await.expect("save again");
    assert_eq!(port.by_id(a.id).await.expect("by_id"), Some(a));
}

/// MUST refuse a SKU of another product, and then save nothing of the batch.
pub async fn a_sku_of_another_product_is_a_conflict_and_nothing_is_saved(port: &dyn Catalog) {
    port.save_all(&[product(1, 1100, true)])
        .await
        .expect("save");
    let fresh = product(2, 500, true);
    let mut clash = product(3, 500, true);
    clash.draft.sku = product(1, 0, true).draft.sku;
    let result = port.save_all(&[fresh.clone(), clash]).await;
    assert!(matches!(result, Err(StoreError::Conflict)), "{result:?}");
    assert_eq!(
        port.by_id(fresh.id).await.expect("by_id"),
        None,
        "the batch is all or none"
    );
}

/// MUST NOT list inactive products; lists by SKU, page by page.
pub async fn active_lists_only_products_on_sale_by_sku_page_by_page(port: &dyn Catalog) {
    let products: Vec<_> = (1..=5)
        .map(|n| product(n, 100 * n as i64, n != 3))
        .collect();
    port.save_all(&products).await.expect("save");
    let first = port.active(None, 2).await.expect("page");
    let skus: Vec<_> = first
        .iter()
        .map(|p| p.draft.sku.as_str().to_owned())
        .collect();
    assert_eq!(skus, ["KK-001", "KK-002"]);
    let rest = port
        .active(Some(first[1].draft.sku.clone()), 10)
        .await
        .expect("page");
    let skus: Vec<_> = rest
        .iter()
        .map(|p| p.draft.sku.as_str().to_owned())
        .collect();
    assert_eq!(skus, ["KK-004", "KK-005"]);
}

/// `all` lists every product, on sale or not, by SKU.
pub async fn all_lists_every_product_by_sku(port: &dyn Catalog) {
    let products: Vec<_> = (1..=3).map(|n| product(n, 100, n != 2)).collect();
    port.save_all(&products).await.expect("save");
    let skus: Vec<_> = port
        .all(None, 10)
        .await
        .expect("all")
        .iter()
        .map(|p| p.draft.sku.as_str().to_owned())
        .collect();
    assert_eq!(skus, ["KK-001", "KK-002", "KK-003"]);
    let rest = port
        .all(Some(products[0].draft.sku.clone()), 1)
        .await
        .expect("all");
    assert_eq!(rest[0].draft.sku.as_str(), "KK-002");
}

/// A product numbered `n` with these titles and descriptions.
fn titled(n: u128, ja: &str, en: &str, about: &str, active: bool) -> kikeru_domain::Product {
    let mut p = product(n, 1100, active);
    p.draft.title = kikeru_domain::Localized::title(ja, en).expect("a title");
    p.draft.description =
        kikeru_domain::Localized::description(about, "About").expect("a description");
    p
}

fn query(text: &str) -> kikeru_domain::shop::search::SearchQuery {
    kikeru_domain::shop::search::SearchQuery::parse(text).expect("a query")
}

async fn skus(port: &dyn Catalog, text: &str) -> Vec<String> {
    port.search(&query(text), 20)
        .await
        .expect("search")
        .iter()
        .map(|p| p.draft.sku.as_str().to_owned())
        .collect()
}

/// A product's creator, tags, reading and cover read back as saved, and a save without them
/// clears them.
pub async fn creators_tags_readings_and_covers_read_back(port: &dyn Catalog) {
    use kikeru_domain::{AssetKey, Cover, Creator, Reading, Tag};
    let mut a = product(1, 1100, true);
    a.draft.creator = Some(Creator::new("nagi", "凪", "Nagi").expect("valid"));
    a.draft.tags = vec![
        Tag::parse("夜").expect("valid"),
        Tag::parse("sleep").expect("valid"),
    ];
    a.draft.reading = Some(Reading::parse("おとのふうけい").expect("valid"));
    a.draft.cover =
        Some(Cover::new(AssetKey::parse("covers/a.png").expect("valid"), 600, 400).expect("valid"));
    port.save_all(&[a.clone()]).await.expect("save");
    assert_eq!(port.by_id(a.id).await.expect("by_id"), Some(a.clone()));
    a.draft.creator = None;
    a.draft.tags.clear();
    a.draft.reading = None;
    a.draft.cover = None;
    port.save_all(&[a.clone()]).await.expect("save again");
    assert_eq!(port.by_id(a.id).await.expect("by_id"), Some(a));
}

/// The catalogue's version moves with every save and never goes back; a refused save leaves it.
pub async fn the_version_moves_with_every_save(port: &dyn Catalog) {
    let before = port.version().await.expect("version");
    assert_eq!(
        port.version().await.expect("version"),
        before,
        "reading moves nothing"
    );
    port.save_all(&[product(1, 1100, true)])
        .await
        .expect("save");
    let after = port.version().await.expect("version");
    assert!(after > before, "{after} after {before}");
    let mut clash = product(2, 550, true);
    clash.draft.sku = product(1, 1100, true).draft.sku;
    assert!(port.save_all(&[clash]).await.is_err());
    assert_eq!(
        port.version().await.expect("version"),
        after,
        "a refused save moves nothing"
    );
    port.save_all(&[product(3, 550, true)]).await.expect("save");
    assert!(port.version().await.expect("version") > after);
}

/// Search finds a word inside a Japanese title, full-width Latin letters, the other kana, a
/// query of one or two characters; titles rank before descriptions, the earlier match first;
/// products off sale are never found; a product saved again is found by its new words only.
pub async fn search_finds_japanese_as_it_is_written(port: &dyn Catalog) {
    port.save_all(&[
        titled(1, "夕凪の子守唄", "Yuunagi Lullaby", "波の音", true),
        titled(2, "ララバイ", "Lullaby", "やさしい歌", true),
        titled(3, "朝の鐘", "Morning Bell", "子守唄のように静かな鐘", true),
        titled(4, "子守唄", "Cradle Song", "古い歌", true),
        titled(5, "夜の子守唄", "Night Lullaby", "売り切れ", false),
        titled(6, "50%の雨", "Rain_50", "割引ではない", true),
    ])
    .await
    .expect("save");
    assert_eq!(
        skus(port, "子守唄").await,
        ["KK-004", "KK-001", "KK-003"],
        "at the start of a title, then inside one, then in a description; never off sale"
    );
    assert_eq!(skus(port, "ＹＵＵＮＡＧＩ").await, ["KK-001"]);
    assert_eq!(skus(port, "ららばい").await, ["KK-002"]);
    assert_eq!(skus(port, "lullaby").await, ["KK-002", "KK-001"]);
    assert_eq!(skus(port, "鐘").await, ["KK-003"], "one character");
    assert_eq!(skus(port, "夕凪").await, ["KK-001"], "two characters");
    assert_eq!(
        skus(port, "50%").await,
        ["KK-006"],
        "LIKE's characters match as they are"
    );
    assert_eq!(skus(port, "n_5").await, ["KK-006"]);
    assert!(skus(port, "存在しない言葉").await.is_empty());
    port.save_all(&[titled(1, "夕暮れ", "Dusk", "風", true)])
        .await
        .expect("save again");
    assert_eq!(skus(port, "子守唄").await, ["KK-004", "KK-003"]);
    assert_eq!(skus(port, "夕暮").await, ["KK-001"]);
    assert_eq!(
        port.search(&query("子守唄"), 1)
            .await
            .expect("search")
            .len(),
        1
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `catalog`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! catalog_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, catalog: [
            saved_products_read_back_by_id_and_sku,
            save_all_replaces_products_by_id,
            a_sku_of_another_product_is_a_conflict_and_nothing_is_saved,
            active_lists_only_products_on_sale_by_sku_page_by_page,
            all_lists_every_product_by_sku,
            search_finds_japanese_as_it_is_written,
            creators_tags_readings_and_covers_read_back,
            the_version_moves_with_every_save,
        ]);
    };
}
