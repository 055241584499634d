//! Browsing the catalogue on the site and the API: every piece reachable by `rel="next"` and by
//! cursors, the sorts, creators and tags, cover art, and pages that answer `304`.

use super::*;
use kikeru_domain::office::operators::Role;

/// A PNG header of `width` × `height` pixels: all a size reader looks at.
fn png(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR".to_vec();
    bytes.extend(width.to_be_bytes());
    bytes.extend(height.to_be_bytes());
    bytes.extend([8, 6, 0, 0, 0, 0, 0, 0, 0]);
    bytes
}

impl Fixture {
    /// `n` pieces put in by an operator: SKU `P-000`…, prices rising with the number, every
    /// third by one creator, every piece tagged 「夜」; the first with a cover.
    async fn shelf_of(&self, n: usize) -> String {
        std::fs::create_dir_all(self.media.path().join("audio")).unwrap();
        std::fs::create_dir_all(self.media.path().join("covers")).unwrap();
        std::fs::write(self.media.path().join("audio/a.wav"), b"RIFF").unwrap();
        std::fs::write(self.media.path().join("covers/p.png"), png(600, 400)).unwrap();
        let operator = self.operator("office@example.jp", Role::Operator).await;
        let pieces: Vec<Value> = (0..n)
            .map(|i| {
                let mut piece = json!({
                    "sku": format!("P-{i:03}"),
                    "title_ja": format!("夜の曲 {i:03}"),
                    "title_en": format!("Night piece {i:03}"),
                    "price": 100 + i64::try_from(i).unwrap() * 10,
                    "audio": "audio/a.wav",
                    "tags": ["夜"],
                });
                if i % 3 == 0 {
                    piece["creator_key"] = json!("nagi");
                    piece["creator_ja"] = json!("凪");
                    piece["creator_en"] = json!("Nagi");
                }
                if i == 0 {
                    piece["cover"] = json!("covers/p.png");
                }
                piece
            })
            .collect();
        // A body holds a few pieces at a time here (the request size limit).
        for batch in pieces.chunks(10) {
            self.put_products(&operator, Value::Array(batch.to_vec()))
                .await
                .assert_status_is_ok();
        }
        operator
    }

    /// Follows `rel="next"` from `start`, answering each page's product IDs in order.
    async fn follow_next(&self, start: &str) -> Vec<String> {
        let mut seen = Vec::new();
        let mut next = Some(start.to_owned());
        while let Some(href) = next.take() {
            let page = text_of(self.client.get(&href).send().await).await;
            for part in page.split("<li class=\"card\">").skip(1) {
                let id = part.split("href=\"/products/").nth(1).unwrap();
                seen.push(id.split('"').next().unwrap().to_owned());
            }
            next = page
                .split("rel=\"next\"")
                .next()
                .filter(|_| page.contains("rel=\"next\""))
                .and_then(|before| before.rsplit("href=\"").next())
                .map(|href| href.split('"').next().unwrap().replace("&#38;", "&"));
            assert!(seen.len() <= 1_000, "the pages end: {next:?}");
        }
        seen
    }
}

#[tokio::test]
async fn every_piece_is_reachable_from_the_home_page_and_through_the_api() {
    let f = fixture();
    f.shelf_of(60).await;
    let home = text_of(f.client.get("/").send().await).await;
    assert!(home.contains("全60作品"), "the count is shown");
    assert!(home.contains("1 / 3 ページ"));
    assert!(
        !home.contains("rel=\"prev\""),
        "the first page has no previous"
    );
    let by_site = f.follow_next("/").await;
    assert_eq!(by_site.len(), 60);
    let mut distinct = by_site.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 60, "no piece twice");
    let last = text_of(f.client.get("/?page=3").send().await).await;
    assert!(last.contains("rel=\"prev\"") && !last.contains("rel=\"next\""));

    // Newest first by default; by price both ways; by title.
    let cheap = f.follow_next("/?sort=price").await;
    let dear = f.follow_next("/?sort=price_desc").await;
    let mut reversed = dear.clone();
    reversed.reverse();
    assert_eq!(cheap, reversed);
    assert_eq!(
        f.follow_next("/?sort=title").await,
        cheap,
        "titles rise with prices here"
    );

    // The API: cursor pages in every sort reach every piece once.
    for sort in ["sku", "new", "price", "price_desc", "title_ja", "title_en"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut url = format!("/api/v1/products?limit=25&sort={sort}");
            if let Some(cursor) = &after {
                url.push_str(&format!("&after={cursor}"));
            }
            let page = json_of(f.client.get(url).send().await).await;
            assert_eq!(page["total"], 60);
            for item in page["items"].as_array().unwrap() {
                seen.push(item["sku"].as_str().unwrap().to_owned());
            }
            match page["next"].as_str() {
                Some(next) => after = Some(next.to_owned()),
                None => break,
            }
        }
        let mut distinct = seen.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!((seen.len(), distinct.len()), (60, 60), "{sort}");
        if sort == "price_desc" {
            assert_eq!(seen[0], "P-059");
        }
    }
    // A search pages too.
    let first = json_of(
        f.client
            .get("/api/v1/products?q=%E6%9B%B2&limit=50")
            .send()
            .await,
    )
    .await;
    assert_eq!(first["total"], 60);
    let next = first["next"].as_str().unwrap();
    let rest = json_of(
        f.client
            .get(format!(
                "/api/v1/products?q=%E6%9B%B2&limit=50&after={next}"
            ))
            .send()
            .await,
    )
    .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 10);
    let searched = f.follow_next("/?q=%E6%9B%B2").await;
    assert_eq!(searched.len(), 60, "search results are paged on the site");

    for (bad, status) in [
        ("/?page=4", StatusCode::NOT_FOUND),
        ("/?page=0", StatusCode::NOT_FOUND),
        ("/?page=x", StatusCode::NOT_FOUND),
        ("/?sort=cheapest", StatusCode::BAD_REQUEST),
    ] {
        f.client.get(bad).send().await.assert_status(status);
    }
    f.client
        .get("/api/v1/products?after=%21%21")
        .send()
        .await
        .assert_status(StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn creators_and_tags_have_their_pages_and_covers_their_sizes() {
    let f = fixture();
    f.shelf_of(6).await;
    let index = text_of(f.client.get("/creators").send().await).await;
    assert!(index.contains("href=\"/creators/nagi\"") && index.contains("2作品"));
    assert!(index.contains("href=\"/tags/%E5%A4%9C\""));
    let nagi = text_of(f.client.get("/creators/nagi").send().await).await;
    assert!(nagi.contains("凪の作品"));
    assert_eq!(nagi.matches("<li class=\"card\">").count(), 2);
    let tagged = text_of(f.client.get("/tags/%E5%A4%9C").send().await).await;
    assert_eq!(tagged.matches("<li class=\"card\">").count(), 6);
    for missing in ["/creators/nobody", "/creators/UPPER", "/tags/none"] {
        f.client
            .get(missing)
            .send()
            .await
            .assert_status(StatusCode::NOT_FOUND);
    }
    let api = json_of(
        f.client
            .get("/api/v1/products?creator=nagi&sort=sku")
            .send()
            .await,
    )
    .await;
    assert_eq!(api["total"], 2);
    let first = &api["items"][0];
    assert_eq!(first["creator"]["name"]["ja"], "凪");
    assert_eq!(first["tags"], json!(["夜"]));
    assert_eq!(first["cover"]["width"], 600);
    assert_eq!(first["cover"]["height"], 400);

    // The cover: its size on the page, a placeholder for the others, a year in caches.
    let url = first["cover"]["url"].as_str().unwrap();
    let page = text_of(
        f.client
            .get(format!("/products/{}", first["id"].as_str().unwrap()))
            .send()
            .await,
    )
    .await;
    assert!(page.contains(&format!(
        "src=\"{}\" width=\"600\" height=\"400\"",
        url.replace('&', "&amp;")
    )));
    let home = text_of(f.client.get("/").send().await).await;
    assert_eq!(home.matches("cover placeholder").count(), 5);
    let image = f.client.get(url).send().await;
    image.assert_status_is_ok();
    image.assert_header("content-type", "image/png");
    image.assert_header("cache-control", "public, max-age=31536000, immutable");
    f.client
        .get(format!(
            "/covers/{}",
            api["items"][1]["id"].as_str().unwrap()
        ))
        .send()
        .await
        .assert_status(StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn operators_creators_tags_and_covers_are_checked_before_anything_changes() {
    let f = fixture();
    let operator = f.shelf_of(1).await;
    std::fs::write(f.media.path().join("covers/not-an-image.png"), b"hello").unwrap();
    let bad = f
        .put_products(&operator, json!([
            {"sku": "Q-1", "title_ja": "朝", "title_en": "Morning", "price": 330, "audio": "audio/a.wav",
             "creator_key": "nagi", "tags": ["a/b"], "cover": "covers/not-an-image.png", "reading": "朝"}
        ]))
        .await;
    let body = assert_problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "invalid_products").await;
    let detail = body["detail"].as_str().unwrap();
    for field in ["creator", "tags", "cover", "reading"] {
        assert!(
            detail.contains(&format!("products[0].{field}")),
            "{field}: {detail}"
        );
    }
    let page = json_of(f.client.get("/api/v1/products").send().await).await;
    assert_eq!(page["total"], 1, "nothing changed");
}

#[tokio::test]
async fn catalogue_pages_answer_304_to_a_browser_that_already_has_them() {
    let f = fixture();
    let operator = f.shelf_of(3).await;
    let first = f.client.get("/").send().await;
    first.assert_status_is_ok();
    first.assert_header("cache-control", "private, no-cache");
    let etag = first
        .0
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let again = f
        .client
        .get("/")
        .header("if-none-match", &etag)
        .send()
        .await;
    again.assert_status(StatusCode::NOT_MODIFIED);
    again.assert_header("etag", etag.as_str());
    assert!(text_of(again).await.is_empty());
    // The API's catalogue answers likewise.
    let api = f.client.get("/api/v1/products?sort=new").send().await;
    api.assert_status_is_ok();
    let api_tag = api
        .0
        .headers()
        .get("etag")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let first_json = json_of(api).await;
    let again = f
        .client
        .get("/api/v1/products?sort=new")
        .header("if-none-match", &api_tag)
        .send()
        .await;
    again.assert_status(StatusCode::NOT_MODIFIED);
    let kept = f.client.get("/api/v1/products?sort=new").send().await;
    kept.assert_header("etag", api_tag.as_str());
    assert_eq!(
        json_of(kept).await,
        first_json,
        "the kept answer is the answer"
    );
    // A change of the catalogue is a new page.
    f.put_products(&operator, json!([{"sku": "P-000", "title_ja": "新しい題", "title_en": "New title", "price": 100, "audio": "audio/a.wav"}]))
        .await
        .assert_status_is_ok();
    let changed = f
        .client
        .get("/")
        .header("if-none-match", &etag)
        .send()
        .await;
    changed.assert_status_is_ok();
    assert!(text_of(changed).await.contains("新しい題"));
    let changed = f
        .client
        .get("/api/v1/products?sort=new")
        .header("if-none-match", &api_tag)
        .send()
        .await;
    changed.assert_status_is_ok();
    assert!(json_of(changed).await.to_string().contains("新しい題"));
}
