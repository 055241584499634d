//! The sandbox's test-mode checkout: the page that stands in for a payment provider's own
//! checkout page. Plain HTML, no script, in the reader's language (the site's catalogue and its
//! reading of Accept-Language; Japanese by default), deliberately unlike the site so nobody
//! mistakes it for a real payment.

use kikeru_domain::shop::LookupError;
use kikeru_domain::shop::ports::SandboxOutcome;
use poem::http::StatusCode;
use poem::web::{Data, Html, Path, Redirect};
use poem::{IntoResponse, Request, handler};

use kikeru_domain::Language;

use crate::AppState;
use crate::site::accept_language as lang;
use crate::site::i18n::t;

/// Escapes text for HTML content and attribute values (the one escaper of hand-built markup:
/// pages, the readable export, the charts).
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

fn page(lang: Language, title: &str, body: &str) -> Html<String> {
    let tag = lang.tag();
    Html(format!(
        "<!doctype html>\n<html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Minna Kikeru</title></head>\
         <body><header><p>Minna Kikeru（みんな聞ける）</p></header><main><h1>{title}</h1>{body}</main></body></html>\n",
        title = escape(title),
    ))
}

/// A page with a title and one paragraph, both from the catalogue.
fn message_page(
    lang: Language,
    status: StatusCode,
    title: &str,
    text: &str,
) -> (StatusCode, Html<String>) {
    let body = format!("<p>{}</p>", escape(t(lang, text)));
    (status, page(lang, t(lang, title), &body))
}

fn not_found_page(lang: Language) -> (StatusCode, Html<String>) {
    message_page(
        lang,
        StatusCode::NOT_FOUND,
        "error.not_found_title",
        "error.not_found",
    )
}

fn unavailable_page(lang: Language) -> (StatusCode, Html<String>) {
    message_page(
        lang,
        StatusCode::SERVICE_UNAVAILABLE,
        "error.server_title",
        "error.server",
    )
}

/// The sandbox's hosted checkout: clearly test mode, no card fields, three choices.
#[handler]
pub(crate) async fn sandbox_checkout(
    state: Data<&AppState>,
    req: &Request,
    Path(reference): Path<String>,
) -> (StatusCode, Html<String>) {
    let lang = lang(req);
    if !state.services.shop.has_test_checkout() {
        return not_found_page(lang);
    }
    let (order, payment) = match state.services.shop.checkout(&reference).await {
        Ok(found) => found,
        Err(LookupError::NotFound) => return not_found_page(lang),
        Err(_) => return unavailable_page(lang),
    };
    let items: String = order
        .lines
        .iter()
        .map(|l| {
            format!(
                "<li>{} — {}</li>",
                escape(l.title.get(lang)),
                escape(&l.unit_price.tax_inclusive(lang))
            )
        })
        .collect();
    let choices = if payment.status == kikeru_domain::PaymentStatus::Open {
        let reference = escape(&reference);
        let button = |action: &str, label: &str| {
            format!(
                "<form method=\"post\" action=\"/sandbox/checkout/{reference}/{action}\"><button type=\"submit\">{label}</button></form>"
            )
        };
        format!(
            "{}{}{}",
            button("pay", t(lang, "sandbox.pay")),
            button("decline", t(lang, "sandbox.decline")),
            button("cancel", t(lang, "sandbox.cancel")),
        )
    } else {
        format!(
            "<p>{} {}</p>",
            t(lang, "sandbox.finished"),
            payment.status.as_str()
        )
    };
    let body = format!(
        "<p role=\"note\"><strong>{banner}</strong></p><h2>{summary}</h2><ul>{items}</ul><p>{total_label}: {total}</p>{choices}",
        banner = t(lang, "sandbox.banner"),
        summary = t(lang, "sandbox.summary"),
        total_label = t(lang, "sandbox.total"),
        total = escape(&order.total.tax_inclusive(lang)),
    );
    (StatusCode::OK, page(lang, t(lang, "sandbox.title"), &body))
}

/// A choice on the sandbox checkout becomes the provider's signed webhook; then the member is
/// sent back to the shop as the provider would send them.
#[handler]
pub(crate) async fn sandbox_choose(
    state: Data<&AppState>,
    req: &Request,
    Path((reference, action)): Path<(String, String)>,
) -> poem::Response {
    let lang = lang(req);
    let outcome = match action.as_str() {
        "pay" => SandboxOutcome::Pay,
        "decline" => SandboxOutcome::Decline,
        "cancel" => SandboxOutcome::Cancel,
        _ => return not_found_page(lang).into_response(),
    };
    if state.services.shop.provider() != "sandbox" {
        return not_found_page(lang).into_response();
    }
    let order_id = match state.services.shop.checkout(&reference).await {
        Ok((order, _)) => order.id,
        Err(LookupError::NotFound) => return not_found_page(lang).into_response(),
        Err(_) => return unavailable_page(lang).into_response(),
    };
    if state
        .services
        .shop
        .simulate(&reference, outcome)
        .await
        .is_err()
    {
        return unavailable_page(lang).into_response();
    }
    let target = match outcome {
        SandboxOutcome::Cancel => format!("/checkout/canceled?order_id={order_id}"),
        _ => format!("/checkout/complete?order_id={order_id}"),
    };
    Redirect::see_other(target).into_response()
}
