//! Each message rendered in the member's language, from the service's one message catalogue
//! (`kikeru-i18n`, keys `mail.*`), as plain text and as HTML.

use kikeru_domain::ports::{Mail, Message};
use kikeru_domain::{Currency, Language, Money};
use kikeru_i18n::fill;

/// Where links in mail point.
#[derive(Debug, Clone)]
pub struct Links {
    base: String,
}

impl Links {
    /// Links under `public_url` (e.g. `https://kikeru.example`).
    pub fn new(public_url: &str) -> Self {
        Self {
            base: public_url.trim_end_matches('/').to_owned(),
        }
    }

    fn page(&self, path: &str, token: &str) -> String {
        format!("{}/{path}?token={token}", self.base)
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }
}

/// A message's subject and body, as plain text and as HTML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The body, lines separated by `\n`.
    pub body: String,
    /// The same body as an HTML document: the text escaped, links made clickable.
    pub html: String,
}

/// Renders a mail in its recipient's language, from the service's message catalogue
/// (`mail.<kind>.*` in `kikeru-i18n`).
pub fn render(mail: &Mail, links: &Links) -> Rendered {
    let lang = mail.language;
    let text = |key: &str| kikeru_i18n::t(lang, key);
    let own = |name: &str| text(&format!("mail.{}.{name}", mail.message.kind()));
    let when =
        |at: time::OffsetDateTime| fill(text("mail.japan_time"), &[("when", &japan_time(at))]);
    let (subject, body) = match &mail.message {
        Message::VerifyEmail { token } | Message::ConfirmEmailChange { token } => {
            let link = links.page("verify-email", &token.expose());
            (
                own("subject").to_owned(),
                fill(own("body"), &[("link", &link)]),
            )
        }
        Message::PasswordReset { token } => {
            let link = links.page("reset-password", &token.expose());
            (
                own("subject").to_owned(),
                fill(own("body"), &[("link", &link)]),
            )
        }
        Message::AlreadyRegistered { verify } => {
            let body = match verify {
                Some(token) => {
                    let link = links.page("verify-email", &token.expose());
                    fill(own("unverified"), &[("link", &link)])
                }
                None => own("verified").to_owned(),
            };
            (own("subject").to_owned(), body)
        }
        Message::EmailChangeRequested
        | Message::EmailChanged
        | Message::SecondFactorFailures
        | Message::PasswordChanged => (own("subject").to_owned(), own("body").to_owned()),
        Message::AccountDeleted { kept } => {
            let list: String = kept
                .iter()
                .map(|record| {
                    let (title, why, period) = kikeru_i18n::kept_record(lang, record);
                    fill(
                        text("kept.line"),
                        &[("title", title), ("period", &period), ("why", why)],
                    )
                })
                .collect();
            (
                own("subject").to_owned(),
                fill(own("body"), &[("kept", list.trim_end())]),
            )
        }
        Message::NewSignIn { browser, at } => (
            own("subject").to_owned(),
            fill(own("body"), &[("when", &when(*at)), ("browser", browser)]),
        ),
        Message::Receipt(receipt) => {
            let money = |minor: i64| format_money(minor, &receipt.currency, lang);
            let lines: String = receipt
                .lines
                .iter()
                .map(|line| {
                    let count = match line.quantity {
                        1 => String::new(),
                        n => fill(text("mail.count"), &[("quantity", &n.to_string())]),
                    };
                    let price = money(line.unit_price_minor);
                    let item = [
                        ("title", line.title.as_str()),
                        ("price", &price),
                        ("count", &count),
                    ];
                    fill(text("mail.item"), &item)
                })
                .collect();
            let order = receipt.order_id.to_string();
            let order_link = links.url(&format!("checkout/complete?order_id={order}"));
            // The numbered receipt (a qualified invoice) is issued seconds after payment, on
            // My Page.
            let receipts = links.url("me#receipts");
            let body = fill(
                own("body"),
                &[
                    ("order_link", &order_link),
                    ("order", &order),
                    ("when", &when(receipt.paid_at)),
                    ("lines", &lines),
                    ("total", &money(receipt.total_minor)),
                    ("receipts", &receipts),
                ],
            );
            (own("subject").to_owned(), body)
        }
        Message::IncidentNotice {
            reference,
            discovered_at,
            categories,
            credentials_or_payment,
            malicious_suspected,
        } => {
            // 個人情報保護法 第26条第2項: what happened, which of their data, what may follow,
            // what to do, whom to ask.
            let items: String = categories
                .iter()
                .map(|c| {
                    let key = format!("mail.incident_notice.category.{c}");
                    // A category the catalogue does not name is shown as it was recorded.
                    let name = kikeru_i18n::lookup(lang, &key).unwrap_or(c);
                    fill(text("mail.category"), &[("name", name)])
                })
                .collect();
            let cause = own(if *malicious_suspected {
                "cause_malicious"
            } else {
                "cause_unknown"
            });
            let advice = own(if *credentials_or_payment {
                "advice_credentials"
            } else {
                "advice_none"
            });
            let body = fill(
                own("body"),
                &[
                    ("when", &when(*discovered_at)),
                    ("cause", cause),
                    ("items", &items),
                    ("advice", advice),
                    ("contact", &links.url("contact")),
                    ("reference", reference),
                ],
            );
            (own("subject").to_owned(), body)
        }
        Message::InquiryReceived { reference } => {
            let values = [("reference", reference.as_str())];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::InquiryAnswered {
            reference,
            subject,
            answer,
        } => {
            let values = [
                ("reference", reference.as_str()),
                ("subject", subject),
                ("answer", answer),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::PurposeMail {
            purpose,
            subject,
            body,
        } => {
            let consents = links.url("me#consents");
            let values = [
                ("purpose", purpose.as_str()),
                ("subject", subject),
                ("body", body),
                ("consents", &consents),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::PolicyChanged {
            number,
            effective,
            changes,
        } => {
            let link = links.url("privacy");
            let number = number.to_string();
            let values = [
                ("number", number.as_str()),
                ("effective", effective),
                ("changes", changes),
                ("link", &link),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::RequestCode { number, code } => {
            let link = links.url(&format!("requests/{number}"));
            let values = [("number", number.as_str()), ("code", code), ("link", &link)];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::RequestAccepted {
            number,
            what,
            due_at,
        } => {
            let link = links.url(&format!("requests/{number}"));
            let what = text(&format!("requests.kind.{what}"));
            let due = when(*due_at);
            let values = [
                ("number", number.as_str()),
                ("what", what),
                ("due", &due),
                ("link", &link),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::RequestAnswered {
            number,
            what,
            answer,
        } => {
            let what = text(&format!("requests.kind.{what}"));
            let values = [
                ("number", number.as_str()),
                ("what", what),
                ("answer", answer),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::RequestRefused {
            number,
            what,
            ground,
            answer,
        } => {
            let what = text(&format!("requests.kind.{what}"));
            let ground = text(&format!("requests.ground.{ground}"));
            let values = [
                ("number", number.as_str()),
                ("what", what),
                ("ground", ground),
                ("answer", answer),
            ];
            (fill(own("subject"), &values), fill(own("body"), &values))
        }
        Message::SecondFactorAdded {
            factor,
            others_signed_out,
        } => {
            let (subject, body) = if factor == "recovery_code" {
                (own("codes_subject"), own("codes_body").to_owned())
            } else {
                let name = factor_name(factor, lang);
                (own("subject"), fill(own("body"), &[("factor", name)]))
            };
            let note = if *others_signed_out {
                own("others_signed_out")
            } else {
                ""
            };
            (subject.to_owned(), format!("{note}{body}"))
        }
        Message::SecondFactorRemoved { factor } => {
            if factor == "all" {
                (own("all_subject").to_owned(), own("all_body").to_owned())
            } else {
                let name = factor_name(factor, lang);
                (
                    own("subject").to_owned(),
                    fill(own("body"), &[("factor", name)]),
                )
            }
        }
        Message::AccountSecured {
            sessions_ended,
            factors_removed,
        } => {
            let mut body = own("confirmed").to_owned();
            if *sessions_ended > 0 {
                let count = sessions_ended.to_string();
                body.push_str(&fill(own("sessions_ended"), &[("count", &count)]));
            }
            if *factors_removed {
                body.push_str(own("factors_removed"));
            }
            body.push_str(own("closing"));
            (own("subject").to_owned(), body)
        }
    };
    // Every mail ends with the office and where to reach it (a mail the member did not expect
    // may be a sign of someone else's doing: they are asked to tell us, not to ignore it).
    let signature = fill(
        text("mail.signature"),
        &[("contact", &links.url("contact"))],
    );
    let body = format!("{body}{signature}");
    Rendered {
        subject: format!("{}{subject}", text("mail.prefix")),
        html: html_of(&body, lang),
        body,
    }
}

/// A factor's name as members read it; one the catalogue does not name reads as every
/// second factor.
fn factor_name(factor: &str, lang: Language) -> &'static str {
    kikeru_i18n::lookup(lang, &format!("mail.factor.{factor}"))
        .unwrap_or_else(|| kikeru_i18n::t(lang, "mail.factor.all"))
}

/// A time as members read it: Japan time, to the minute.
fn japan_time(at: time::OffsetDateTime) -> String {
    at.to_offset(time::macros::offset!(+9))
        .format(time::macros::format_description!(
            "[year]-[month]-[day] [hour]:[minute]"
        ))
        .unwrap_or_default()
}

/// An amount from a receipt as people in Japan must read every price: tax included, said so
/// (`1,100円（税込）`, `¥1,100 (tax incl.)`); an unknown currency as it came.
fn format_money(minor: i64, currency: &str, language: Language) -> String {
    currency
        .parse::<Currency>()
        .ok()
        .and_then(|c| Money::new(minor, c).ok())
        .map_or_else(
            || format!("{minor} {currency}"),
            |m| m.tax_inclusive(language),
        )
}

/// The text as a small HTML document: every character escaped, each `http(s)://` link made an
/// anchor, line breaks kept.
fn html_of(text: &str, language: Language) -> String {
    let mut body = String::new();
    for line in text.lines() {
        for (i, word) in line.split(' ').enumerate() {
            if i > 0 {
                body.push(' ');
            }
            let escaped = escape(word);
            if word.starts_with("https://") || word.starts_with("http://") {
                body.push_str(&format!("<a href=\"{escaped}\">{escaped}</a>"));
            } else {
                body.push_str(&escaped);
            }
        }
        body.push_str("<br>\n");
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family: sans-serif; line-height: 1.6\">\n{body}</body></html>\n",
        language.tag()
    )
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::SessionToken;
    use kikeru_domain::ports::{ReceiptMail, ReceiptMailLine};

    /// Every kind of message, with each of its branches.
    fn every_message() -> Vec<Message> {
        let token = || SessionToken::from_bytes([7; 32]);
        let at = time::macros::datetime!(2026-11-20 01:00 UTC);
        let mut all = vec![
            Message::VerifyEmail { token: token() },
            Message::AlreadyRegistered { verify: None },
            Message::AlreadyRegistered {
                verify: Some(token()),
            },
            Message::ConfirmEmailChange { token: token() },
            Message::EmailChangeRequested,
            Message::EmailChanged,
            Message::PasswordReset { token: token() },
            Message::PasswordChanged,
            Message::AccountDeleted {
                kept: kikeru_domain::privacy::kept::kept_after_deletion(&Default::default()),
            },
            Message::NewSignIn {
                browser: "Firefox on Linux".to_owned(),
                at,
            },
            Message::SecondFactorFailures,
            Message::Receipt(ReceiptMail {
                order_id: uuid::Uuid::from_u128(1),
                paid_at: at,
                lines: vec![
                    ReceiptMailLine {
                        title: "朝の鳥".to_owned(),
                        unit_price_minor: 1_100,
                        quantity: 1,
                    },
                    ReceiptMailLine {
                        title: "夜の雨".to_owned(),
                        unit_price_minor: 550,
                        quantity: 2,
                    },
                ],
                total_minor: 2_200,
                currency: "JPY".to_owned(),
            }),
            Message::InquiryReceived {
                reference: "Q-1".to_owned(),
            },
            Message::InquiryAnswered {
                reference: "Q-1".to_owned(),
                subject: "Hello".to_owned(),
                answer: "Thanks".to_owned(),
            },
            Message::PurposeMail {
                purpose: "Label offers".to_owned(),
                subject: "New works".to_owned(),
                body: "This month".to_owned(),
            },
            Message::PolicyChanged {
                number: 2,
                effective: "2027-01-01".to_owned(),
                changes: "Added a processor".to_owned(),
            },
            Message::RequestCode {
                number: "R-1".to_owned(),
                code: "ABCD-2345".to_owned(),
            },
            Message::RequestAccepted {
                number: "R-1".to_owned(),
                what: "cessation".to_owned(),
                due_at: time::OffsetDateTime::UNIX_EPOCH,
            },
            Message::RequestAnswered {
                number: "R-1".to_owned(),
                what: "disclosure".to_owned(),
                answer: "Here".to_owned(),
            },
            Message::RequestRefused {
                number: "R-1".to_owned(),
                what: "correction".to_owned(),
                ground: "harm".to_owned(),
                answer: "Because".to_owned(),
            },
        ];
        for factor in ["totp", "passkey", "recovery_code", "unknown"] {
            for others_signed_out in [false, true] {
                all.push(Message::SecondFactorAdded {
                    factor: factor.to_owned(),
                    others_signed_out,
                });
            }
        }
        for factor in ["totp", "passkey", "all"] {
            all.push(Message::SecondFactorRemoved {
                factor: factor.to_owned(),
            });
        }
        for (sessions_ended, factors_removed) in [(0, false), (2, true)] {
            all.push(Message::AccountSecured {
                sessions_ended,
                factors_removed,
            });
        }
        for (credentials_or_payment, malicious_suspected) in [(false, false), (true, true)] {
            all.push(Message::IncidentNotice {
                reference: "I-1".to_owned(),
                discovered_at: at,
                categories: vec!["email_address".to_owned(), "something_new".to_owned()],
                credentials_or_payment,
                malicious_suspected,
            });
        }
        all
    }

    #[test]
    fn every_message_reads_whole_in_both_languages() {
        let links = Links::new("https://kikeru.example");
        let to = kikeru_domain::Email::parse("hanako@example.jp").unwrap();
        for message in every_message() {
            for language in [Language::Ja, Language::En] {
                let mail = Mail {
                    to: to.clone(),
                    language,
                    message: message.clone(),
                };
                let rendered = render(&mail, &links);
                for text in [&rendered.subject, &rendered.body] {
                    assert!(!text.contains(kikeru_i18n::MISSING), "{message:?}: {text}");
                    assert_eq!(
                        kikeru_i18n::placeholders(text),
                        Vec::<&str>::new(),
                        "{message:?} left a placeholder: {text}"
                    );
                }
                let signature = kikeru_i18n::t(language, "mail.signature");
                let (_, tail) = signature.split_once("{contact}").unwrap();
                assert!(rendered.body.ends_with(tail), "{message:?}");
                assert!(rendered.body.contains("/contact"), "{message:?}");
                assert!(!rendered.body.contains("破棄してください"), "{message:?}");
                if language == Language::Ja {
                    assert!(!rendered.body.contains("Minna Kikeru"), "{message:?}");
                }
            }
        }
    }

    #[test]
    fn a_members_words_are_never_read_as_placeholders() {
        let mail = Mail {
            to: kikeru_domain::Email::parse("hanako@example.jp").unwrap(),
            language: Language::En,
            message: Message::InquiryAnswered {
                reference: "Q-1".to_owned(),
                subject: "{reference} {answer}".to_owned(),
                answer: "{subject}".to_owned(),
            },
        };
        let rendered = render(&mail, &Links::new("https://kikeru.example"));
        assert_eq!(
            rendered.subject,
            "[Minna Kikeru] Re: {reference} {answer} (Q-1)"
        );
        assert!(
            rendered.body.contains("\n\n{subject}\n"),
            "{}",
            rendered.body
        );
    }

    #[test]
    fn an_incident_notice_says_what_which_data_and_what_to_do_in_each_language() {
        let message = Message::IncidentNotice {
            reference: "0192-incident".to_owned(),
            discovered_at: time::macros::datetime!(2026-11-20 01:00 UTC),
            categories: vec!["email_address".to_owned(), "purchase_history".to_owned()],
            credentials_or_payment: true,
            malicious_suspected: true,
        };
        let links = Links::new("https://kikeru.example/");
        let to = kikeru_domain::Email::parse("hanako@example.jp").unwrap();
        let ja = render(
            &Mail {
                to: to.clone(),
                language: Language::Ja,
                message: message.clone(),
            },
            &links,
        );
        assert!(ja.subject.contains("個人情報の漏えい等"));
        for needle in [
            "2026-11-20 10:00",
            "・メールアドレス",
            "・購入履歴",
            "不正アクセス",
            "パスワードを変更",
            "https://kikeru.example/contact",
            "0192-incident",
        ] {
            assert!(ja.body.contains(needle), "{needle} in {}", ja.body);
        }
        let en = render(
            &Mail {
                to,
                language: Language::En,
                message,
            },
            &links,
        );
        for needle in [
            "your e-mail address",
            "change your password",
            "unauthorised access",
        ] {
            assert!(en.body.contains(needle), "{needle} in {}", en.body);
        }
    }

    #[test]
    fn the_payment_mail_points_to_the_numbered_receipt_on_my_page() {
        let message = Message::Receipt(ReceiptMail {
            order_id: uuid::Uuid::from_u128(1),
            paid_at: time::macros::datetime!(2026-11-20 01:00 UTC),
            lines: vec![ReceiptMailLine {
                title: "朝の鳥".to_owned(),
                unit_price_minor: 1_100,
                quantity: 1,
            }],
            total_minor: 1_100,
            currency: "JPY".to_owned(),
        });
        let mail = Mail {
            to: kikeru_domain::Email::parse("hanako@example.jp").unwrap(),
            language: Language::Ja,
            message,
        };
        let body = render(&mail, &Links::new("https://kikeru.example")).body;
        assert!(body.contains("適格簡易請求書"), "{body}");
        assert!(
            body.contains("https://kikeru.example/me#receipts"),
            "{body}"
        );
        assert!(body.contains("1,100円（税込）"), "{body}");
    }

    #[test]
    fn receipt_amounts_read_as_people_write_them() {
        assert_eq!(format_money(1_100, "JPY", Language::Ja), "1,100円（税込）");
        assert_eq!(
            format_money(1_100, "JPY", Language::En),
            "¥1,100 (tax incl.)"
        );
        assert_eq!(
            format_money(1_250, "USD", Language::En),
            "$12.50 (tax incl.)"
        );
        assert_eq!(format_money(7, "XYZ", Language::Ja), "7 XYZ");
    }

    #[test]
    fn html_escapes_everything_and_links_only_links() {
        let html = html_of(
            "<script>alert('x')</script> & see https://example.jp/a?b=1&c=2",
            Language::En,
        );
        assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; see"));
        assert!(html.contains(r#"<a href="https://example.jp/a?b=1&amp;c=2">"#));
        assert!(!html.contains("<script>"));
        assert!(html.contains(r#"<html lang="en">"#));
    }
}
