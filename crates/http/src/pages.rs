//! The sandbox's test-mode checkout: the page that stands in for a payment provider's own
//! checkout page. Plain HTML, no script, in the reader's language (Accept-Language; Japanese by
//! default), deliberately unlike the site so nobody mistakes it for a real payment.

use kikeru_domain::shop::LookupError;
use kikeru_domain::shop::ports::SandboxOutcome;
use poem::http::StatusCode;
use poem::web::{Data, Html, Path, Redirect};
use poem::{IntoResponse, Request, handler};

use crate::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Ja,
    En,
}

fn lang(req: &Request) -> Lang {
    let accept = req
        .headers()
        .get("accept-language")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let first = accept
        .split(',')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if first.starts_with("en") {
        Lang::En
    } else {
        Lang::Ja
    }
}

fn language_of(lang: Lang) -> kikeru_domain::Language {
    match lang {
        Lang::Ja => kikeru_domain::Language::Ja,
        Lang::En => kikeru_domain::Language::En,
    }
}

fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// Escapes text for HTML content and attribute values.
fn escape(text: &str) -> String {
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

fn page(lang: Lang, title: &str, body: &str) -> Html<String> {
    let tag = t(lang, "ja", "en");
    Html(format!(
        "<!doctype html>\n<html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title} — Minna Kikeru</title></head>\
         <body><header><p>Minna Kikeru（みんな聞ける）</p></header><main><h1>{title}</h1>{body}</main></body></html>\n",
        title = escape(title),
    ))
}

fn not_found_page(lang: Lang) -> (StatusCode, Html<String>) {
    (
        StatusCode::NOT_FOUND,
        page(
            lang,
            t(lang, "見つかりません", "Not found"),
            t(
                lang,
                "<p>お探しのページはありません。</p>",
                "<p>There is nothing here.</p>",
            ),
        ),
    )
}

fn unavailable_page(lang: Lang) -> (StatusCode, Html<String>) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        page(
            lang,
            t(
                lang,
                "しばらくしてからお試しください",
                "Please try again later",
            ),
            t(
                lang,
                "<p>ただいま処理できません。</p>",
                "<p>We cannot do this right now.</p>",
            ),
        ),
    )
}

fn title_in(lang: Lang, title: &kikeru_domain::Localized) -> String {
    escape(match lang {
        Lang::Ja => title.ja(),
        Lang::En => title.en(),
    })
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
                title_in(lang, &l.title),
                escape(&l.unit_price.tax_inclusive(language_of(lang)))
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
            button("pay", t(lang, "支払う（テスト）", "Pay (test)")),
            button(
                "decline",
                t(
                    lang,
                    "カードが拒否された場合を試す",
                    "Simulate a declined payment"
                )
            ),
            button("cancel", t(lang, "キャンセル", "Cancel")),
        )
    } else {
        format!(
            "<p>{} {}</p>",
            t(
                lang,
                "この決済は終了しています：",
                "This checkout is finished:"
            ),
            payment.status.as_str()
        )
    };
    let body = format!(
        "<p role=\"note\"><strong>{banner}</strong></p><h2>{summary}</h2><ul>{items}</ul><p>{total_label}: {total}</p>{choices}",
        banner = t(
            lang,
            "テストモード：実際の支払いは発生しません。カード情報は入力しません。",
            "TEST MODE: no real payment happens and no card details are asked for."
        ),
        summary = t(lang, "ご注文内容", "Your order"),
        total_label = t(lang, "合計（税込）", "Total (tax included)"),
        total = escape(&order.total.tax_inclusive(language_of(lang))),
    );
    (
        StatusCode::OK,
        page(
            lang,
            t(lang, "サンドボックス決済", "Sandbox checkout"),
            &body,
        ),
    )
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
