//! `GET /api/v1/me/export`: everything held about the member, as one JSON document streamed a
//! section at a time. The domain decides the sections ([`kikeru_domain::privacy::export`]); this only
//! writes each as JSON.

use crate::pages::escape;
use futures_util::stream;
use kikeru_domain::privacy::export::{Export, ExportError, Section};
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::ApiError;

impl From<ExportError> for ApiError {
    fn from(e: ExportError) -> Self {
        match e {
            ExportError::Auth(e) => e.into(),
            ExportError::Factor(e) => e.into(),
            ExportError::Store(e) => e.into(),
        }
    }
}

fn time(t: kikeru_domain::Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// The document's text for one section: the sections in order make one JSON object.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per section, each a field list"
)]
fn text(section: &Section) -> String {
    match section {
        Section::Member(member) => {
            let profile = json!({
                "id": member.id.to_string(),
                "email": member.email.as_str(),
                "email_verified_at": member.email_verified_at.map(time),
                "display_name": member.display_name.as_str(),
                "language": member.language.tag(),
                "created_at": time(member.created_at),
            });
            format!("{{\"format\":\"kikeru-export/1\",\"member\":{profile}")
        }
        Section::Sessions(sessions) => {
            let list: Vec<Value> = sessions
                .iter()
                .map(|s| json!({"id": s.id.to_string(), "created_at": time(s.created_at), "last_seen_at": time(s.last_seen_at), "expires_at": time(s.expires_at), "browser": s.browser,
                                "first_factor": s.assurance.first.as_str(), "second_factor": s.assurance.second.map(|f| f.as_str()), "authenticated_at": time(s.assurance.authenticated_at)}))
                .collect();
            format!(",\"sessions\":{}", Value::Array(list))
        }
        Section::SecondFactors { status, passkeys } => {
            let passkeys: Vec<Value> = passkeys
                .iter()
                .map(|p| json!({"id": p.id.to_string(), "name": p.name, "created_at": time(p.created_at), "last_used_at": p.last_used_at.map(time)}))
                .collect();
            let factors = json!({
                "totp": {"on": status.totp_since.is_some(), "since": status.totp_since.map(time), "pending": status.totp_pending},
                "passkeys": passkeys,
                "recovery_codes_left": status.recovery_codes_left,
            });
            format!(",\"second_factors\":{factors}")
        }
        Section::SecurityEvents(events) => {
            let list: Vec<Value> = events
                .iter()
                .map(|e| json!({"at": time(e.at), "kind": e.kind.as_str()}))
                .collect();
            format!(",\"security_events\":{}", Value::Array(list))
        }
        Section::Consents { current, history } => {
            let current: Vec<Value> = current
                .iter()
                .map(|s| json!({"purpose": s.purpose.key, "notice_version": s.purpose.notice_version, "granted": s.granted}))
                .collect();
            let history: Vec<Value> = history
                .iter()
                .map(|r| json!({"purpose": r.purpose, "granted": r.granted, "notice_version": r.notice_version, "at": time(r.at), "channel": r.channel}))
                .collect();
            format!(
                ",\"consents\":{{\"current\":{},\"history\":{}}}",
                Value::Array(current),
                Value::Array(history)
            )
        }
        Section::Disclosures(entries) => {
            let list: Vec<Value> = entries
                .iter()
                .map(|e| {
                    let categories: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
                    json!({"at": time(e.at), "recipient": e.recipient.to_string(), "recipient_name": e.recipient_details.name,
                           "recipient_address": e.recipient_details.address, "categories": categories, "basis": e.basis.to_text()})
                })
                .collect();
            format!(",\"disclosures\":{}", Value::Array(list))
        }
        Section::Inquiries(inquiries) => {
            let list: Vec<Value> = inquiries
                .iter()
                .map(|i| {
                    let answers: Vec<Value> = i
                        .answers
                        .iter()
                        .map(|a| json!({"at": time(a.at), "body": a.body}))
                        .collect();
                    let attachments: Vec<Value> = i
                        .attachments
                        .iter()
                        .map(|a| json!({"name": a.name, "content_type": a.content_type, "size": a.size}))
                        .collect();
                    json!({"reference": i.reference, "received_at": time(i.received_at), "channel": i.channel.as_str(),
                           "email": i.email.as_str(), "name": i.name, "subject": i.subject, "body": i.body,
                           "attachments": attachments, "answers": answers})
                })
                .collect();
            format!(",\"inquiries\":{}", Value::Array(list))
        }
        Section::Purchases { page, first } => {
            let items: Vec<String> = page
                .iter()
                .map(|p| {
                    json!({"order_id": p.order_id.to_string(), "product_id": p.item.product_id.to_string(), "sku": p.item.sku.as_str(),
                        "title": {"ja": p.item.title.ja(), "en": p.item.title.en()}, "unit_price": p.item.unit_price.minor(),
                        "currency": p.item.unit_price.currency().code(), "quantity": p.item.quantity, "tax_rate": p.item.tax_rate,
                        "paid_at": time(p.paid_at), "status": p.status.as_str()})
                    .to_string()
                })
                .collect();
            continued(*first, ",\"purchases\":[", &items)
        }
        Section::Payments { page, first } => {
            let items: Vec<String> = page
                .iter()
                .map(|p| {
                    let history: Vec<Value> = p
                        .history
                        .iter()
                        .map(|h| json!({"status": h.status.as_str(), "at": time(h.at)}))
                        .collect();
                    json!({"id": p.id.to_string(), "order_id": p.order_id.to_string(), "provider": p.provider, "amount": p.amount.minor(),
                        "currency": p.amount.currency().code(), "status": p.status.as_str(), "created_at": time(p.created_at), "history": history})
                    .to_string()
                })
                .collect();
            // The purchases' array ends where the payments' begins.
            continued(*first, "],\"payments\":[", &items)
        }
        Section::Receipts {
            receipts,
            returns,
            kept_after_deletion,
        } => {
            let lines = |lines: &[kikeru_domain::shop::receipt::ReceiptLine]| -> Vec<Value> {
                lines.iter().map(|l| json!({"title_ja": l.title_ja, "title_en": l.title_en, "unit_price": l.unit_price, "quantity": l.quantity, "rate": l.rate})).collect()
            };
            let rates = |rates: &[kikeru_domain::shop::tax::RateTotal]| -> Vec<Value> {
                rates
                    .iter()
                    .map(|t| json!({"rate": t.rate, "inclusive": t.inclusive, "tax": t.tax}))
                    .collect()
            };
            let receipts: Vec<Value> = receipts
                .iter()
                .map(|r| {
                    let c = &r.content;
                    json!({"number": r.number, "order_id": c.order_id.to_string(), "issued_at": time(c.issued_at), "paid_at": time(c.paid_at),
                           "currency": c.currency.code(), "issuer": c.issuer, "registration_number": c.registration_number,
                           "recipient": c.recipient, "reissues": c.reissues,
                           "lines": lines(&c.lines), "per_rate": rates(&c.per_rate), "total": c.total})
                })
                .collect();
            let returns: Vec<Value> = returns
                .iter()
                .map(|r| {
                    let c = &r.content;
                    json!({"number": r.number, "receipt_number": c.receipt_number, "order_id": c.order_id.to_string(),
                           "issued_at": time(c.issued_at), "refunded_at": time(c.refunded_at), "paid_at": time(c.paid_at),
                           "currency": c.currency.code(), "issuer": c.issuer, "registration_number": c.registration_number,
                           "lines": lines(&c.lines), "per_rate": rates(&c.per_rate), "total": c.total})
                })
                .collect();
            // The payments' array ends here.
            let kept: Vec<Value> = kept_after_deletion
                .iter()
                .map(|k| json!({"record": k.kept.key(), "title_ja": k.kept.title_ja(), "keeping": k.keeping}))
                .collect();
            format!(
                "],\"receipts\":{},\"return_invoices\":{},\"kept_after_deletion\":{}}}\n",
                Value::Array(receipts),
                Value::Array(returns),
                Value::Array(kept)
            )
        }
    }
}

/// A page of an array that spans several sections: `opening` before the first page, a comma
/// between pages.
fn continued(first: bool, opening: &str, items: &[String]) -> String {
    let mut text = String::new();
    if first {
        text.push_str(opening);
    } else if !items.is_empty() {
        text.push(',');
    }
    text.push_str(&items.join(","));
    text
}

/// Everything held about the member, as one JSON document.
#[handler]
pub(crate) async fn export(state: Data<&AppState>, req: &Request) -> Response {
    let Some(token) = state.config.cookie().token(req) else {
        return ApiError::unauthorized("unauthenticated", "Sign in first").into_response();
    };
    let who = match state.services.membership.authenticate(&token).await {
        Ok(who) => who,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Everything about the member leaves in one file: it needs a recent authentication. A
    // browser following My Page's link is sent to confirm it and comes back.
    if let Err(step_up) = state.services.membership.require_recent(&who) {
        let browser = req
            .headers()
            .get(poem::http::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|accept| accept.contains("text/html"));
        if browser {
            return crate::site::see_other("/me/reauthenticate?back=/api/v1/me/export", &[]);
        }
        return ApiError::from(step_up).into_response();
    }
    let name = format!(
        "attachment; filename=\"kikeru-export-{}.json\"",
        who.member.id
    );
    let mut export = Export::new(&state.services, who);
    // The first section is produced before answering, so a failure is still a clean error.
    let head = match export.next().await {
        Ok(Some(first)) => text(&first),
        Ok(None) => String::new(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let rest = stream::unfold(Some(export), |export| async move {
        let mut export = export?;
        match export.next().await {
            Ok(Some(section)) => Some((
                Ok::<_, std::io::Error>(text(&section).into_bytes()),
                Some(export),
            )),
            Ok(None) => None,
            Err(_) => Some((
                Err(std::io::Error::other("the export could not be completed")),
                None,
            )),
        }
    });
    let body = stream::once(async move { Ok::<_, std::io::Error>(head.into_bytes()) });
    Response::builder()
        .content_type("application/json")
        .header("content-disposition", name)
        .body(Body::from_bytes_stream(futures_util::StreamExt::chain(
            body, rest,
        )))
}

/// The name of a field of the export as a reader reads it (the field's own name when the
/// catalogue has none).
fn label(lang: kikeru_domain::Language, key: &str) -> String {
    kikeru_i18n::lookup(lang, &format!("document.{key}")).map_or_else(|| escape(key), str::to_owned)
}

/// One value of the export as HTML: objects as lists of names and values, lists of objects as
/// tables, everything else as text.
fn readable(lang: kikeru_domain::Language, value: &Value, out: &mut String) {
    let none = kikeru_i18n::t(lang, "document.none");
    match value {
        Value::Null => out.push_str(none),
        Value::Bool(b) => out.push_str(kikeru_i18n::t(
            lang,
            if *b { "document.yes" } else { "document.no" },
        )),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&escape(s)),
        Value::Array(items) if items.is_empty() => out.push_str(none),
        Value::Array(items) if items.iter().all(Value::is_object) => {
            let mut columns: Vec<&String> = Vec::new();
            for item in items.iter().filter_map(Value::as_object) {
                for key in item.keys() {
                    if !columns.contains(&key) {
                        columns.push(key);
                    }
                }
            }
            out.push_str("<table><thead><tr>");
            for column in &columns {
                out.push_str(&format!("<th scope=\"col\">{}</th>", label(lang, column)));
            }
            out.push_str("</tr></thead><tbody>");
            for item in items.iter().filter_map(Value::as_object) {
                out.push_str("<tr>");
                for column in &columns {
                    out.push_str("<td>");
                    readable(lang, item.get(*column).unwrap_or(&Value::Null), out);
                    out.push_str("</td>");
                }
                out.push_str("</tr>");
            }
            out.push_str("</tbody></table>");
        }
        Value::Array(items) => {
            out.push_str("<ul>");
            for item in items {
                out.push_str("<li>");
                readable(lang, item, out);
                out.push_str("</li>");
            }
            out.push_str("</ul>");
        }
        Value::Object(fields) => {
            out.push_str("<dl>");
            for (key, field) in fields {
                out.push_str(&format!("<dt>{}</dt><dd>", label(lang, key)));
                readable(lang, field, out);
                out.push_str("</dd>");
            }
            out.push_str("</dl>");
        }
    }
}

#[derive(askama::Template)]
#[template(path = "document.html")]
struct DocumentPage<'a> {
    c: &'a crate::site::Chrome,
    /// The sections, each a heading's id and name and the HTML of its content (escaped here).
    sections: Vec<(String, String, String)>,
    made: String,
}

/// `GET /me/document`: everything held about the member as a readable, printable document —
/// the disclosure (開示) in the form of a document, from the same sections as the export.
#[handler]
pub(crate) async fn document(state: Data<&AppState>, req: &Request) -> Response {
    use askama::Template as _;
    let Some(who) = crate::site::current(&state, req).await else {
        return crate::site::see_other("/login?back=/me/document", &[]);
    };
    let c = crate::site::chrome(&state, req, Some(&who));
    if state.services.membership.require_recent(&who).is_err() {
        return crate::site::see_other("/me/reauthenticate?back=/me/document", &[]);
    }
    let mut held_sections = Export::new(&state.services, who);
    let mut json = String::new();
    loop {
        match held_sections.next().await {
            Ok(Some(section)) => json.push_str(&text(&section)),
            Ok(None) => break,
            Err(e) => {
                let status = crate::problem::failure(&e, "the document could not be made");
                return crate::site::message(
                    status,
                    &c,
                    c.t("error.server_title"),
                    c.t("error.server"),
                );
            }
        }
    }
    let Ok(Value::Object(held)) = serde_json::from_str::<Value>(&json) else {
        tracing::error!("the export did not read back as one JSON object");
        return crate::site::message(
            poem::http::StatusCode::INTERNAL_SERVER_ERROR,
            &c,
            c.t("error.server_title"),
            c.t("error.server"),
        );
    };
    let sections = held
        .iter()
        .filter(|(key, _)| key.as_str() != "format")
        .map(|(key, value)| {
            let mut body = String::new();
            readable(c.lang, value, &mut body);
            (key.clone(), label(c.lang, key), body)
        })
        .collect();
    let page = DocumentPage {
        c: &c,
        sections,
        made: crate::site::when_in(state.services.requests.now(), c.lang),
    };
    crate::site::html(poem::http::StatusCode::OK, &c, page.render(), &[])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_escapes_what_members_typed_and_tables_lists_of_records() {
        let value = json!({"subject": "<script>alert(1)</script>", "lines": [{"title": "朝", "quantity": 1}, {"title": "夜"}], "none": null});
        let mut out = String::new();
        readable(kikeru_domain::Language::Ja, &value, &mut out);
        assert!(out.contains("&lt;script&gt;") && !out.contains("<script>"));
        // A missing field of a row reads なし, whichever order the fields come in.
        assert!(
            out.contains("<table>")
                && (out.contains("<td>なし</td><td>夜</td>")
                    || out.contains("<td>夜</td><td>なし</td>")),
            "{out}"
        );
    }
}
