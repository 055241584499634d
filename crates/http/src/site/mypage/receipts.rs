//! Receipts and return invoices on My Page: the documents as printed, and the recipient name a member may have a receipt reissued to.

use super::*;
use crate::site::extract::SignedIn;
use crate::site::when_in;

/// The kind of document a printable page shows.
pub(crate) enum Document {
    /// A receipt, and the number of its return invoice when the order was refunded.
    Receipt(kikeru_domain::shop::receipt::Receipt, Option<u64>),
    /// A return invoice (適格返還請求書).
    Return(kikeru_domain::shop::receipt::ReturnInvoice),
}

#[derive(Template)]
#[template(path = "receipt.html")]
pub(crate) struct ReceiptPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) error: Option<&'a str>,
    /// For a return invoice: its receipt's number and the date of the refund.
    pub(crate) returned: Option<(u64, String)>,
    /// For a receipt of a refunded order: its return invoice's number.
    pub(crate) return_number: Option<u64>,
    pub(crate) recipient: Option<String>,
    pub(crate) reissues: u32,
    pub(crate) number: u64,
    pub(crate) issuer: String,
    pub(crate) registration: Option<String>,
    pub(crate) paid: String,
    pub(crate) issued: String,
    pub(crate) lines: Vec<(String, u32, String, u32)>,
    pub(crate) rates: Vec<(String, String)>,
    pub(crate) total: String,
}

/// `GET /me/receipts/{number}`: one of the member's receipts, printable (a print stylesheet
/// leaves only the receipt).
#[handler]
pub(crate) async fn receipt(
    state: Data<&AppState>,
    SignedIn { who, c }: SignedIn,
    Path(number): Path<String>,
) -> Response {
    receipt_page(&state, &c, &who, &number, StatusCode::OK, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RecipientForm {
    pub(crate) csrf: String,
    pub(crate) recipient: String,
}

/// `POST /me/receipts/{number}/recipient`: reissues the receipt addressed to a name (a full
/// qualified invoice, marked 再発行).
#[handler]
pub(crate) async fn reissue(
    state: Data<&AppState>,
    Path(number): Path<String>,
    MemberForm { who, c, form }: MemberForm<RecipientForm>,
) -> Response {
    let Ok(n) = number.parse::<u64>() else {
        return receipt_page(&state, &c, &who, &number, StatusCode::NOT_FOUND, None).await;
    };
    match state
        .services
        .receipts
        .reissue_to(who.member.id, n, &form.recipient)
        .await
    {
        Ok(_) => see_other(&format!("/me/receipts/{n}"), &[]),
        Err(kikeru_domain::shop::receipt::RecipientError::BadName) => {
            let error = c.t("receipt.recipient_bad");
            receipt_page(
                &state,
                &c,
                &who,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(error),
            )
            .await
        }
        Err(kikeru_domain::shop::receipt::RecipientError::NotFound) => {
            receipt_page(&state, &c, &who, &number, StatusCode::NOT_FOUND, None).await
        }
        Err(kikeru_domain::shop::receipt::RecipientError::Store(e)) => {
            receipt_page(
                &state,
                &c,
                &who,
                &number,
                crate::problem::failure(&e, "a receipt could not be reissued"),
                Some(c.t("error.server")),
            )
            .await
        }
    }
}

pub(crate) async fn receipt_page(
    state: &AppState,
    c: &Chrome,
    who: &Authenticated,
    number: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let found = async {
        let Ok(n) = number.parse::<u64>() else {
            return Ok(None);
        };
        let Some(sale) = state
            .services
            .receipts
            .of_member_numbered(who.member.id, n)
            .await?
        else {
            return Ok(None);
        };
        let returned = state
            .services
            .receipts
            .returns_of_member(who.member.id)
            .await?
            .into_iter()
            .find(|r| r.content.receipt_number == n)
            .map(|r| r.number);
        Ok(Some(Document::Receipt(sale, returned)))
    };
    document_page(c, found.await, status, error)
}

/// `GET /me/returns/{number}`: one of the member's return invoices, printable.
#[handler]
pub(crate) async fn return_invoice(
    state: Data<&AppState>,
    SignedIn { who, c }: SignedIn,
    Path(number): Path<String>,
) -> Response {
    let found = match number.parse::<u64>() {
        Ok(n) => state
            .services
            .receipts
            .member_return_numbered(who.member.id, n)
            .await
            .map(|r| r.map(Document::Return)),
        Err(_) => Ok(None),
    };
    document_page(&c, found, StatusCode::OK, None)
}

/// A receipt or return invoice as a printable page; the not-found or unavailable page when
/// there is none or it could not be read.
pub(crate) fn document_page(
    c: &Chrome,
    found: Result<Option<Document>, kikeru_domain::StoreError>,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let document = match found {
        Ok(Some(document)) => document,
        Ok(None) => {
            let page = crate::site::MessagePage {
                c,
                title: c.t("error.not_found_title"),
                text: c.t("error.not_found"),
                link: Some(("/me#receipts", c.t("mypage.title"))),
            };
            return html(StatusCode::NOT_FOUND, c, page.render(), &[]);
        }
        Err(e) => {
            let status = crate::problem::failure(&e, "a receipt could not be read");
            let page = crate::site::MessagePage {
                c,
                title: c.t("error.server_title"),
                text: c.t("error.server"),
                link: None,
            };
            return html(status, c, page.render(), &[]);
        }
    };
    let lang = c.lang;
    let (number, issued_at, paid_at, currency, lines, per_rate, total, issuer, registration) =
        match &document {
            Document::Receipt(r, _) => {
                let d = &r.content;
                (
                    r.number,
                    d.issued_at,
                    d.paid_at,
                    d.currency,
                    &d.lines,
                    &d.per_rate,
                    d.total,
                    &d.issuer,
                    &d.registration_number,
                )
            }
            Document::Return(r) => {
                let d = &r.content;
                (
                    r.number,
                    d.issued_at,
                    d.paid_at,
                    d.currency,
                    &d.lines,
                    &d.per_rate,
                    d.total,
                    &d.issuer,
                    &d.registration_number,
                )
            }
        };
    let money = |minor: i64| {
        kikeru_domain::Money::new(minor, currency)
            .map(|m| m.in_language(lang))
            .unwrap_or_default()
    };
    let (recipient, reissues, return_number, returned) = match &document {
        Document::Receipt(r, return_number) => (
            r.content
                .recipient
                .as_deref()
                .map(|name| addressed(name, lang)),
            r.content.reissues,
            *return_number,
            None,
        ),
        Document::Return(r) => (
            None,
            0,
            None,
            Some((
                r.content.receipt_number,
                when_in(r.content.refunded_at, lang),
            )),
        ),
    };
    let page = ReceiptPage {
        c,
        error,
        returned,
        return_number,
        recipient,
        reissues,
        number,
        issuer: issuer.clone(),
        registration: registration.clone(),
        paid: when_in(paid_at, lang),
        issued: when_in(issued_at, lang),
        lines: lines
            .iter()
            .map(|l| {
                let title = match lang {
                    Language::Ja => l.title_ja.clone(),
                    Language::En => l.title_en.clone(),
                };
                (title, l.quantity, money(l.unit_price), l.rate)
            })
            .collect(),
        rates: per_rate
            .iter()
            .map(|r| {
                (
                    format!("{}{}", r.rate, c.t("receipt.per_rate")),
                    format!(
                        "{}（{} {}）",
                        money(r.inclusive),
                        c.t("receipt.tax_in"),
                        money(r.tax)
                    ),
                )
            })
            .collect(),
        total: money(total),
    };
    html(status, c, page.render(), &[])
}

/// The 宛名 as a Japanese document writes it: with 様, unless it already ends with 様 or 御中
/// (a company is 御中). In English, the name as given.
fn addressed(name: &str, lang: Language) -> String {
    let name = name.trim();
    match lang {
        Language::Ja if !(name.ends_with('様') || name.ends_with("御中")) => {
            format!("{name} 様")
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recipient_is_addressed_as_japanese_documents_do() {
        assert_eq!(addressed("山田 花子", Language::Ja), "山田 花子 様");
        assert_eq!(
            addressed("株式会社みんな 御中", Language::Ja),
            "株式会社みんな 御中"
        );
        assert_eq!(addressed("山田様", Language::Ja), "山田様");
        assert_eq!(addressed("Hanako Yamada", Language::En), "Hanako Yamada");
    }
}
