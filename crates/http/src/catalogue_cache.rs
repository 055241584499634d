//! The catalogue's JSON answers kept per shelf: `GET /api/v1/products` (with any query) and
//! `GET /api/v1/products/{id}` depend only on their address and the shelf they were made from
//! (they carry both languages and no one's data), so each is made once per shelf version and
//! then served as it is, with an `ETag` (and `304` to a client that has it). Only `200` answers
//! are kept; everything else goes through every time.

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Endpoint, IntoResponse, Request, Response};

use crate::AppState;
use kikeru_domain::Language;

/// Whether `path` is one of the catalogue's public reads.
fn is_catalogue(path: &str) -> bool {
    match path.strip_prefix("/api/v1/products") {
        Some("" | "/") => true,
        Some(rest) => rest.strip_prefix('/').is_some_and(|id| {
            id.len() == 36 && id.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        }),
        None => false,
    }
}

/// A kept answer, or `304` when the client holds it already.
fn answer(req: &Request, body: String, etag: &str) -> Response {
    let builder = Response::builder().header(header::ETAG, etag);
    if crate::site::holds(req, etag) {
        builder.status(StatusCode::NOT_MODIFIED).finish()
    } else {
        builder
            .content_type("application/json; charset=utf-8")
            .body(body)
    }
}

/// Serves the catalogue's reads from [`crate::PageCache`] (see the module's documentation);
/// wraps the API nested at `/api/v1`.
pub(crate) async fn around<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    // Nested under `/api/v1`, which the router took off the path: put back.
    let path = format!("/api/v1{}", req.uri().path());
    let address = match req.uri().query() {
        Some(query) => format!("{path}?{query}"),
        None => path.clone(),
    };
    let state = req.data::<AppState>().cloned();
    let Some(state) = state.filter(|_| req.method() == Method::GET && is_catalogue(&path)) else {
        return next.call(req).await.map(IntoResponse::into_response);
    };
    let version = state.services.storefront.shelf().version();
    // The answers hold both languages: they are kept under one.
    if let Some(kept) = state.pages.get(version, Language::Ja, &address) {
        return Ok(answer(&req, kept.body.clone(), &kept.etag));
    }
    let response = next.call(req).await?.into_response();
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if response.status() != StatusCode::OK || !json {
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    let text = body.into_string().await?;
    let kept = state.pages.put(version, Language::Ja, &address, text);
    let mut response = Response::from_parts(parts, kept.body.clone().into());
    if let Ok(value) = HeaderValue::from_str(&kept.etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::is_catalogue;

    #[test]
    fn only_the_catalogues_public_reads_are_kept() {
        assert!(is_catalogue("/api/v1/products"));
        assert!(is_catalogue(
            "/api/v1/products/0192b3c4-0000-7000-8000-000000000001"
        ));
        assert!(!is_catalogue(
            "/api/v1/products/0192b3c4-0000-7000-8000-000000000001/sample"
        ));
        assert!(!is_catalogue("/api/v1/productsx"));
        assert!(!is_catalogue("/api/v1/me/purchases"));
    }
}
