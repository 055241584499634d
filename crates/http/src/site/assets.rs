//! The site's stylesheet and script, compiled into the binary and cached by browsers for a day.

use poem::Route;
use poem::http::header;
use poem::{Response, handler};

const CSS: &str = include_str!("../../assets/site.css");
const JS: &str = include_str!("../../assets/site.js");

fn asset(content_type: &str, body: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header(header::CACHE_CONTROL, "public, max-age=86400")
        .body(body)
}

#[handler]
pub(crate) fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

#[handler]
pub(crate) fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}

/// The site's stylesheet and script.
pub(crate) fn routes(route: Route) -> Route {
    use poem::get;
    route
        .at("/assets/site.css", get(css))
        .at("/assets/site.js", get(js))
}
