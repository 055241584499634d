//! `GET /api/v1/me/export`: everything held about the member, as one JSON document streamed a
//! section at a time (purchases and payments a page at a time), so a long history never sits
//! whole in memory.

use futures_util::stream;
use kikeru_domain::membership::Authenticated;
use kikeru_domain::{PaymentId, PurchaseCursor};
use poem::web::Data;
use poem::{Body, IntoResponse, Request, Response, handler};
use serde_json::{Value, json};

use crate::AppState;
use crate::problem::ApiError;

const PAGE: u32 = 200;

/// Where the stream is.
enum Step {
    Start,
    Sessions,
    SecondFactors,
    SecurityEvents,
    Consents,
    Disclosures,
    Inquiries,
    Purchases(Option<PurchaseCursor>, bool),
    Payments(Option<PaymentId>, bool),
    Receipts,
    End,
    Done,
}

struct Export {
    state: AppState,
    who: Authenticated,
}

fn time(t: kikeru_domain::Timestamp) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

impl Export {
    /// The next piece of the document, and the step after it.
    async fn next(&self, step: Step) -> Result<(String, Step), ApiError> {
        let member = &self.who.member;
        Ok(match step {
            Step::Start => {
                let profile = json!({
                    "id": member.id.to_string(),
                    "email": member.email.as_str(),
                    "email_verified_at": member.email_verified_at.map(time),
                    "display_name": member.display_name.as_str(),
                    "language": member.language.tag(),
                    "created_at": time(member.created_at),
                });
                (
                    format!("{{\"format\":\"kikeru-export/1\",\"member\":{profile}"),
                    Step::Sessions,
                )
            }
            Step::Sessions => {
                let sessions = self.state.membership.sessions(&self.who).await?;
                let list: Vec<Value> = sessions
                    .iter()
                    .map(|s| json!({"id": s.id.to_string(), "created_at": time(s.created_at), "last_seen_at": time(s.last_seen_at), "expires_at": time(s.expires_at), "browser": s.browser,
                                    "first_factor": s.assurance.first.as_str(), "second_factor": s.assurance.second.map(|f| f.as_str()), "authenticated_at": time(s.assurance.authenticated_at)}))
                    .collect();
                (
                    format!(",\"sessions\":{}", Value::Array(list)),
                    Step::SecondFactors,
                )
            }
            Step::SecondFactors => {
                let status = self
                    .state
                    .membership
                    .second_factor_status(&self.who)
                    .await?;
                let passkeys: Vec<Value> = self
                    .state
                    .membership
                    .passkeys(&self.who)
                    .await?
                    .iter()
                    .map(|p| json!({"id": p.id.to_string(), "name": p.name, "created_at": time(p.created_at), "last_used_at": p.last_used_at.map(time)}))
                    .collect();
                let factors = json!({
                    "totp": {"on": status.totp_since.is_some(), "since": status.totp_since.map(time), "pending": status.totp_pending},
                    "passkeys": passkeys,
                    "recovery_codes_left": status.recovery_codes_left,
                });
                (
                    format!(",\"second_factors\":{factors}"),
                    Step::SecurityEvents,
                )
            }
            Step::SecurityEvents => {
                let events = self
                    .state
                    .membership
                    .security_events(&self.who, 10_000)
                    .await?;
                let list: Vec<Value> = events
                    .iter()
                    .map(|e| json!({"at": time(e.at), "kind": e.kind.as_str()}))
                    .collect();
                (
                    format!(",\"security_events\":{}", Value::Array(list)),
                    Step::Consents,
                )
            }
            Step::Consents => {
                let (states, history) = self.state.consents.states(member.id).await?;
                let current: Vec<Value> = states
                    .iter()
                    .map(|s| json!({"purpose": s.purpose.key, "notice_version": s.purpose.notice_version, "granted": s.granted}))
                    .collect();
                let history: Vec<Value> = history
                    .iter()
                    .map(|r| json!({"purpose": r.purpose, "granted": r.granted, "notice_version": r.notice_version, "at": time(r.at), "channel": r.channel}))
                    .collect();
                (
                    format!(
                        ",\"consents\":{{\"current\":{},\"history\":{}}}",
                        Value::Array(current),
                        Value::Array(history)
                    ),
                    Step::Disclosures,
                )
            }
            Step::Disclosures => {
                let entries = self.state.disclosures.about(member.id).await?;
                let list: Vec<Value> = entries
                    .iter()
                    .map(|e| {
                        let categories: Vec<&str> = e.categories.iter().map(|c| c.as_str()).collect();
                        json!({"at": time(e.at), "recipient": e.recipient.to_string(), "recipient_name": e.recipient_details.name,
                               "recipient_address": e.recipient_details.address, "categories": categories, "basis": e.basis.to_text()})
                    })
                    .collect();
                (
                    format!(",\"disclosures\":{}", Value::Array(list)),
                    Step::Inquiries,
                )
            }
            Step::Inquiries => {
                let inquiries = self.state.contact.of_member(member.id).await?;
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
                (
                    format!(",\"inquiries\":{},\"purchases\":[", Value::Array(list)),
                    Step::Purchases(None, true),
                )
            }
            Step::Purchases(after, first) => {
                let page = self.state.shop.purchases(member.id, after, PAGE).await?;
                let mut text = String::new();
                for (i, p) in page.iter().enumerate() {
                    if !(first && i == 0) {
                        text.push(',');
                    }
                    let item = json!({"order_id": p.order_id.to_string(), "product_id": p.item.product_id.to_string(), "sku": p.item.sku.as_str(),
                        "title": {"ja": p.item.title.ja(), "en": p.item.title.en()}, "unit_price": p.item.unit_price.minor(),
                        "currency": p.item.unit_price.currency().code(), "quantity": p.item.quantity, "tax_rate": p.item.tax_rate, "paid_at": time(p.paid_at), "status": p.status.as_str()});
                    text.push_str(&item.to_string());
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => {
                        let cursor = PurchaseCursor {
                            paid_at: last.paid_at,
                            order_id: last.order_id,
                            line: last.line,
                        };
                        (text, Step::Purchases(Some(cursor), false))
                    }
                    _ => (text + "],\"payments\":[", Step::Payments(None, true)),
                }
            }
            Step::Payments(before, first) => {
                let page = self.state.shop.payments(member.id, before, PAGE).await?;
                let mut text = String::new();
                for (i, p) in page.iter().enumerate() {
                    if !(first && i == 0) {
                        text.push(',');
                    }
                    let history: Vec<Value> = p
                        .history
                        .iter()
                        .map(|h| json!({"status": h.status.as_str(), "at": time(h.at)}))
                        .collect();
                    let item = json!({"id": p.id.to_string(), "order_id": p.order_id.to_string(), "provider": p.provider, "amount": p.amount.minor(),
                        "currency": p.amount.currency().code(), "status": p.status.as_str(), "created_at": time(p.created_at), "history": history});
                    text.push_str(&item.to_string());
                }
                match page.last() {
                    Some(last) if page.len() == PAGE as usize => {
                        (text, Step::Payments(Some(last.id), false))
                    }
                    _ => (text + "]", Step::Receipts),
                }
            }
            Step::Receipts => {
                let receipts = self.state.receipts.of_member(member.id).await?;
                let returns = self.state.receipts.returns_of_member(member.id).await?;
                let lines = |lines: &[kikeru_domain::receipt::ReceiptLine]| -> Vec<Value> {
                    lines.iter().map(|l| json!({"title_ja": l.title_ja, "title_en": l.title_en, "unit_price": l.unit_price, "quantity": l.quantity, "rate": l.rate})).collect()
                };
                let rates = |rates: &[kikeru_domain::tax::RateTotal]| -> Vec<Value> {
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
                (
                    format!(
                        ",\"receipts\":{},\"return_invoices\":{}",
                        Value::Array(receipts),
                        Value::Array(returns)
                    ),
                    Step::End,
                )
            }
            Step::End => ("}\n".to_owned(), Step::Done),
            Step::Done => (String::new(), Step::Done),
        })
    }
}

/// Everything held about the member, as one JSON document.
#[handler]
pub(crate) async fn export(state: Data<&AppState>, req: &Request) -> Response {
    let Some(token) = state.config.cookie().token(req) else {
        return ApiError::unauthorized("unauthenticated", "Sign in first").into_response();
    };
    let who = match state.membership.authenticate(&token).await {
        Ok(who) => who,
        Err(e) => return ApiError::from(e).into_response(),
    };
    // Everything about the member leaves in one file: it needs a recent authentication. A
    // browser following My Page's link is sent to confirm it and comes back.
    if let Err(step_up) = state.membership.require_recent(&who) {
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
    let export = std::sync::Arc::new(Export {
        state: state.clone(),
        who,
    });
    // The first section is produced before answering, so a failure is still a clean error.
    let (head, step) = match export.next(Step::Start).await {
        Ok(first) => first,
        Err(e) => return e.into_response(),
    };
    let rest = stream::unfold(Some(step), move |step| {
        let export = export.clone();
        async move {
            let step = step?;
            if matches!(step, Step::Done) {
                return None;
            }
            match export.next(step).await {
                Ok((text, next)) => Some((Ok::<_, std::io::Error>(text.into_bytes()), Some(next))),
                Err(_) => Some((
                    Err(std::io::Error::other("the export could not be completed")),
                    None,
                )),
            }
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
