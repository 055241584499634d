//! Endpoints that move raw bytes: audio streamed from the media folder (with HTTP Range, never
//! loaded whole into memory) and payment webhooks (verified against the exact bytes received).

use kikeru_domain::shop::ports::InboundWebhook;
use kikeru_domain::{AssetKey, ProductId};
use poem::http::StatusCode;
use poem::web::{Data, Path, StaticFileRequest};
use poem::{Body, IntoResponse, Request, Response, handler};
use poem_openapi::payload::Json;
use serde_json::json;
use uuid::Uuid;

use crate::AppState;
use crate::problem::{ApiError, Problem};

fn problem(e: ApiError) -> Response {
    e.into_response()
}

fn product_id(text: &str) -> Option<ProductId> {
    text.parse::<Uuid>().ok().map(ProductId::from_uuid)
}

fn no_such_product() -> Response {
    problem(ApiError::not_found(
        "product_not_found",
        "There is no such product",
    ))
}

/// Streams an asset from the media folder, cached as `cache` says. The key was validated to
/// stay inside it.
fn stream_cached(
    state: &AppState,
    file: StaticFileRequest,
    asset: &AssetKey,
    cache: &'static str,
) -> Response {
    let path = state.config.media_dir.join(asset.as_str());
    match file.create_response(&path, false, false) {
        Ok(response) => {
            let mut response = response.into_response();
            response
                .headers_mut()
                .insert("cache-control", poem::http::HeaderValue::from_static(cache));
            response
        }
        Err(e) => {
            let status = poem::error::ResponseError::status(&e);
            if status == poem::http::StatusCode::NOT_FOUND {
                tracing::error!(
                    asset = asset.as_str(),
                    "a media file of the catalogue is missing"
                );
            }
            poem::Error::from(e).into_response()
        }
    }
}

/// Streams audio: never kept by any cache.
fn stream(state: &AppState, file: StaticFileRequest, asset: &AssetKey) -> Response {
    stream_cached(state, file, asset, "private, no-store")
}

/// The address of a product's cover: it names the product's last change, so that a changed
/// cover is a new address and the old one may be cached for a year.
pub(crate) fn cover_url(product: &kikeru_domain::Product) -> Option<String> {
    product.draft.cover.as_ref().map(|_| {
        format!(
            "/covers/{}?v={}",
            product.id,
            product.updated_at.unix_timestamp()
        )
    })
}

/// `GET /covers/{id}`: a product's cover art, for anyone, cached for a year (its address
/// changes with the product, see [`cover_url`]).
#[handler]
pub(crate) async fn cover(
    state: Data<&AppState>,
    Path(id): Path<String>,
    file: StaticFileRequest,
) -> Response {
    let shelf = state.services.storefront.shelf();
    let cover = product_id(&id)
        .and_then(|id| shelf.by_id(id))
        .and_then(|p| p.draft.cover.as_ref());
    match cover {
        Some(cover) => {
            let mut response = stream_cached(
                &state,
                file,
                &cover.image,
                "public, max-age=31536000, immutable",
            );
            if response.status().is_success()
                && let Ok(value) = poem::http::HeaderValue::from_str(cover.media_type())
            {
                response.headers_mut().insert("content-type", value);
            }
            response
        }
        None => no_such_product(),
    }
}

/// `GET /api/v1/products/{id}/sample`: anyone may play a product's public sample.
#[handler]
pub(crate) async fn sample(
    state: Data<&AppState>,
    Path(id): Path<String>,
    file: StaticFileRequest,
) -> Response {
    let Some(id) = product_id(&id) else {
        return no_such_product();
    };
    match state.services.shop.sample(id).await {
        Ok(asset) => stream(&state, file, &asset),
        Err(e) => problem(e.into()),
    }
}

/// `GET /api/v1/me/library/{id}/audio`: the full audio, to the member who bought it only.
#[handler]
pub(crate) async fn audio(
    state: Data<&AppState>,
    req: &Request,
    Path(id): Path<String>,
    file: StaticFileRequest,
) -> Response {
    let Some(token) = state.config.cookie().token(req) else {
        return problem(ApiError::unauthorized("unauthenticated", "Sign in first"));
    };
    let current = match state.services.membership.authenticate(&token).await {
        Ok(current) => current,
        Err(e) => return problem(e.into()),
    };
    let Some(id) = product_id(&id) else {
        return no_such_product();
    };
    match state.services.shop.audio(current.member.id, id).await {
        Ok(asset) => stream(&state, file, &asset),
        Err(e) => problem(e.into()),
    }
}

/// `POST /api/v1/payments/webhooks/{provider}`: verified against the raw body, then applied
/// exactly once. `2xx` only once the event is stored; a bad signature is `400` and changes
/// nothing; a storage failure is `503`, so the provider retries.
#[handler]
pub(crate) async fn webhook(
    state: Data<&AppState>,
    req: &Request,
    Path(provider): Path<String>,
    body: Body,
) -> Response {
    if provider != state.services.shop.provider() {
        return problem(ApiError::not_found(
            "unknown_provider",
            "No such payment provider is configured",
        ));
    }
    let body = match body.into_vec().await {
        Ok(body) => body,
        Err(_) => {
            return problem(ApiError::bad_request(
                "bad_request",
                "The body could not be read",
            ));
        }
    };
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| {
            v.to_str()
                .ok()
                .map(|v| (k.as_str().to_ascii_lowercase(), v.to_owned()))
        })
        .collect();
    let received = state
        .services
        .shop
        .receive_webhook(&InboundWebhook { body, headers })
        .await;
    let provider = state.services.shop.provider();
    match received {
        // An event about a payment the shop does not know yet (its checkout's own event is
        // still on its way, or the provider reports the payment by a reference reconciliation
        // has not learned) is not recorded: a 409 makes the provider deliver it again (Stripe
        // retries for three days), by when the payment is known. A 2xx would lose it.
        Ok(Some(kikeru_domain::EventOutcome::UnknownReference)) => {
            state.metrics.webhook(provider, "unknown_reference");
            problem(ApiError::Conflict(Json(
                Problem::new(
                    StatusCode::CONFLICT,
                    "unknown_payment",
                    "No payment has this reference yet",
                )
                .detail("The event was not recorded; deliver it again once its payment is known"),
            )))
        }
        Ok(outcome) => {
            let outcome = match outcome {
                None => "ignored",
                Some(kikeru_domain::EventOutcome::Duplicate) => "duplicate",
                Some(kikeru_domain::EventOutcome::UnknownReference) => "unknown_reference",
                Some(kikeru_domain::EventOutcome::Applied { .. }) => "applied",
                Some(kikeru_domain::EventOutcome::Unchanged { .. }) => "unchanged",
            };
            state.metrics.webhook(provider, outcome);
            Response::builder()
                .content_type("application/json")
                .body(json!({"received": true, "outcome": outcome}).to_string())
        }
        Err(e) => {
            state.metrics.webhook(provider, "rejected");
            problem(e.into())
        }
    }
}
