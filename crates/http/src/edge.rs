//! What every request and response passes through: body limits, the CSRF origin check,
//! problem+json for every error, security headers, and an access log line without query
//! strings, cookies or bodies.

use std::sync::Arc;
use std::time::Instant;

use poem::http::{HeaderValue, Method, StatusCode, header};
use poem::{Body, Endpoint, IntoResponse, Request, Response};

use crate::problem::Problem;
use crate::{AppState, HttpConfig};

const PROBLEM_JSON: &str = "application/problem+json";
const API_CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";
/// Server-rendered pages post their forms to themselves.
/// The site's pages: their own stylesheet, script, audio and calls only; no inline code. Forms
/// post to the site; a purchase's form may be redirected on to the payment provider's page.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
     media-src 'self'; connect-src 'self'; form-action 'self' https://checkout.stripe.com; \
     frame-ancestors 'none'; base-uri 'none'";
/// The interactive API docs page ships its script inline; it alone gets this policy.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self' 'unsafe-inline'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

pub(crate) async fn edge<E: Endpoint>(ep: Arc<E>, mut req: Request) -> poem::Result<Response> {
    let started = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let config = match req.data::<AppState>() {
        Some(state) => Arc::clone(&state.config),
        None => return Ok(problem(StatusCode::INTERNAL_SERVER_ERROR, None)),
    };
    let page_language = crate::site::language(&req, None);
    let browser = crate::client::browser_class(&req);
    let hits = req.data::<AppState>().map(|state| Arc::clone(&state.hits));
    let metrics = req
        .data::<AppState>()
        .map(|state| Arc::clone(&state.metrics));
    // The route template that matched, for the metrics (never the path itself).
    let mut route: Option<poem::PathPattern> = None;
    let mut response = match guard(&mut req, &config).await {
        Err(refusal) => refusal,
        Ok(()) => match ep.call(req).await {
            Ok(r) => {
                let r = r.into_response();
                route = r.data::<poem::PathPattern>().cloned();
                r
            }
            Err(e) => {
                route = e.data::<poem::PathPattern>().cloned();
                e.into_response()
            }
        },
    };
    if response.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(allowed) = allowed_methods(&path)
        && let Ok(value) = HeaderValue::from_str(&allowed)
    {
        response.headers_mut().insert(header::ALLOW, value);
    }
    if response.status().is_client_error() || response.status().is_server_error() {
        response = if is_site(&path) && !is_html(&response) {
            // People get a page in their language; programs get problem documents.
            crate::site::error_page(response.status(), page_language)
        } else {
            as_problem(response).await
        };
    }
    secure_headers(&mut response, &config, &path);
    if let Some(hits) = hits
        && counted(&path)
    {
        #[allow(
            clippy::disallowed_methods,
            reason = "the time of an anonymous access record, taken at the edge"
        )]
        let at = time::OffsetDateTime::now_utc();
        hits.offer(kikeru_domain::privacy::stats::Hit::new(
            at,
            method.as_str(),
            &path,
            response.status().as_u16(),
            browser,
        ));
    }
    if let Some(metrics) = metrics {
        metrics.request(
            &method,
            route.as_ref().map(|p| &*p.0),
            response.status().as_u16(),
            started.elapsed(),
        );
    }
    tracing::info!(
        target: "kikeru::access",
        method = %method,
        path = %path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
    );
    Ok(response)
}

/// Refuses what must never reach a handler: cross-site state changes and oversized bodies.
async fn guard(req: &mut Request, config: &HttpConfig) -> Result<(), Response> {
    if is_unsafe(req.method()) && cross_site(req, config) {
        return Err(problem(
            StatusCode::FORBIDDEN,
            Some(
                Problem::new(
                    StatusCode::FORBIDDEN,
                    "cross_site_request",
                    "Cross-site requests are refused",
                )
                .detail(format!(
                    "Send an Origin header of {}.",
                    config.public_origin
                )),
            ),
        ));
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > config.max_body_bytes as u64) {
        return Err(problem(StatusCode::PAYLOAD_TOO_LARGE, None));
    }
    if is_unsafe(req.method()) {
        match req
            .take_body()
            .into_bytes_limit(config.max_body_bytes)
            .await
        {
            Ok(bytes) => {
                // The site's forms (the API's JSON text refuses NUL by its schema, `PlainText`).
                if is_form(req) && carries_nul(&bytes) {
                    return Err(problem(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        Some(
                            Problem::new(
                                StatusCode::UNPROCESSABLE_ENTITY,
                                "invalid_text",
                                "The text holds a NUL character",
                            )
                            .detail("No field may hold U+0000 (NUL): remove it and send again."),
                        ),
                    ));
                }
                req.set_body(Body::from_bytes(bytes));
            }
            Err(poem::error::ReadBodyError::PayloadTooLarge) => {
                return Err(problem(StatusCode::PAYLOAD_TOO_LARGE, None));
            }
            Err(_) => return Err(problem(StatusCode::BAD_REQUEST, None)),
        }
    }
    Ok(())
}

/// Whether the request is a posted HTML form.
fn is_form(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// Whether a form body carries a NUL character: the raw byte, or `%00`. No person's text holds
/// one, and PostgreSQL cannot store it: refused here, it is the sender's mistake (422) on
/// every backend, never a failure of ours.
fn carries_nul(body: &[u8]) -> bool {
    body.contains(&0) || body.windows(3).any(|w| w == b"%00")
}

/// The API's operations by path template (`/api/v1/me/sessions/{id}` → `GET, DELETE`), read
/// once from the OpenAPI document, so that a 405 can say what is allowed.
static OPERATIONS: std::sync::LazyLock<Vec<(Vec<String>, String)>> =
    std::sync::LazyLock::new(|| {
        let spec: serde_json::Value =
            serde_json::from_str(&crate::openapi_json()).unwrap_or_default();
        let Some(paths) = spec["paths"].as_object() else {
            return Vec::new();
        };
        paths
            .iter()
            .map(|(template, operations)| {
                let segments = format!("/api/v1{template}")
                    .split('/')
                    .map(str::to_owned)
                    .collect();
                let mut methods: Vec<String> = operations
                    .as_object()
                    .map(|o| o.keys().map(|m| m.to_ascii_uppercase()).collect())
                    .unwrap_or_default();
                methods.sort();
                (segments, methods.join(", "))
            })
            .collect()
    });

/// The methods the API allows on `path`, when it is an API path.
fn allowed_methods(path: &str) -> Option<String> {
    let segments: Vec<&str> = path.split('/').collect();
    OPERATIONS.iter().find_map(|(template, methods)| {
        let matches = template.len() == segments.len()
            && template
                .iter()
                .zip(&segments)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s);
        matches.then(|| methods.clone())
    })
}

/// Whether a request goes into the access statistics: not the probes, not the stylesheet and
/// script.
fn counted(path: &str) -> bool {
    !(path == "/healthz" || path == "/readyz" || path.starts_with("/assets/"))
}

/// Paths of the web site (as opposed to the API and the probes).
fn is_site(path: &str) -> bool {
    !(path.starts_with("/api/") || path == "/healthz" || path == "/readyz")
}

fn is_html(response: &Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A state-changing request is cross-site when its `Origin` (or, failing that, `Referer`) is
/// not the service's, or the browser says so (`Sec-Fetch-Site: cross-site`). A request with
/// none of these headers is a non-browser client; it is refused only when it carries a
/// session cookie (a member's or an operator's), since a browser always sends `Origin` with such a request.
fn cross_site(req: &Request, config: &HttpConfig) -> bool {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let origin = config.public_origin.as_str();
    if let Some(sent) = header("origin") {
        return sent != origin;
    }
    if let Some(referer) = header("referer") {
        return !(referer == origin || referer.starts_with(&format!("{origin}/")));
    }
    if header("sec-fetch-site") == Some("cross-site") {
        return true;
    }
    config.cookie().value(req).is_some() || config.operator_cookie().value(req).is_some()
}

fn problem(status: StatusCode, body: Option<Problem>) -> Response {
    let body = body.unwrap_or_else(|| Problem::for_status(status));
    Response::builder()
        .status(status)
        .content_type(PROBLEM_JSON)
        .body(body.to_json())
}

/// Gives an error response from outside the API's handlers (routing, parsing, extractors) the
/// problem format, keeping its status and headers.
async fn as_problem(response: Response) -> Response {
    let content_type = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // Problem documents and pages written for people stay as they are.
    if content_type.starts_with(PROBLEM_JSON) || content_type.starts_with("text/html") {
        return response;
    }
    let status = response.status();
    let (mut parts, body) = response.into_parts();
    let mut problem = Problem::for_status(status);
    // A client mistake keeps the framework's explanation (e.g. which field failed to parse);
    // a server error says nothing more.
    if status.is_client_error()
        && let Ok(text) = body.into_string().await
    {
        let text = text.trim();
        if !text.is_empty() && text.len() <= 500 {
            problem = problem.detail(text);
        }
    }
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_string(problem.to_json()))
}

fn secure_headers(response: &mut Response, config: &HttpConfig, path: &str) {
    let headers = response.headers_mut();
    let csp = if path.starts_with("/api/docs") {
        DOCS_CSP
    } else if path.starts_with("/api/") {
        API_CSP
    } else {
        PAGE_CSP
    };
    let mut set = |name: &'static str, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    set("content-security-policy", csp);
    set("x-content-type-options", "nosniff");
    set("x-frame-options", "DENY");
    set("referrer-policy", "same-origin");
    set("cross-origin-opener-policy", "same-origin");
    set("cross-origin-resource-policy", "same-origin");
    set(
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=()",
    );
    if path.starts_with("/api/v1") {
        set("cache-control", "no-store");
    }
    if config.is_https() {
        set(
            "strict-transport-security",
            "max-age=63072000; includeSubDomains",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::carries_nul;

    #[test]
    fn a_nul_is_found_in_every_form_a_form_field_could_take_and_nowhere_else() {
        for body in [&b"subject=a%00b"[..], b"raw\0byte"] {
            assert!(carries_nul(body), "{}", String::from_utf8_lossy(body));
        }
        for body in [&b"subject=%2500&x=%0A"[..], b"", b"a=%C3%A9"] {
            assert!(!carries_nul(body), "{}", String::from_utf8_lossy(body));
        }
    }
}
