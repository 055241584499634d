//! What each message says, in the member's language.

use kikeru_domain::ports::{Mail, Message, ReceiptMail};
use kikeru_domain::{Currency, Language, Money};

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

const SIGNATURE_JA: &str = "\n--\nMinna Kikeru（みんな聞ける）事務局\nこのメールに心当たりがない場合は、破棄してください。\n";
const SIGNATURE_EN: &str =
    "\n--\nThe Minna Kikeru office\nIf you did not expect this mail, you can ignore it.\n";

/// Renders a mail in its recipient's language.
pub fn render(mail: &Mail, links: &Links) -> Rendered {
    let ja = mail.language == Language::Ja;
    let (subject, body) = match &mail.message {
        Message::VerifyEmail { token } => {
            let link = links.page("verify-email", &token.expose());
            if ja {
                (
                    "メールアドレスの確認".to_owned(),
                    format!(
                        "みんな聞けるへのご登録ありがとうございます。\n\n次のリンクを開いて、メールアドレスを確認してください（24時間有効）。\n{link}\n"
                    ),
                )
            } else {
                (
                    "Verify your e-mail address".to_owned(),
                    format!(
                        "Thank you for registering with Minna Kikeru.\n\nOpen this link to verify your e-mail address (valid for 24 hours):\n{link}\n"
                    ),
                )
            }
        }
        Message::AlreadyRegistered { verify } => {
            let extra = verify
                .as_ref()
                .map(|t| links.page("verify-email", &t.expose()));
            match (ja, extra) {
                (true, Some(link)) => ("会員登録のお申し込みについて".to_owned(), format!("このメールアドレスは既に登録されていますが、まだ確認されていません。\n次のリンクを開いて確認してください（24時間有効）。\n{link}\n")),
                (true, None) => ("会員登録のお申し込みについて".to_owned(), "このメールアドレスで会員登録のお申し込みがありましたが、既に登録済みです。\nパスワードをお忘れの場合は、ログイン画面から再設定できます。\n".to_owned()),
                (false, Some(link)) => ("About your registration".to_owned(), format!("This address is already registered but not yet verified.\nOpen this link to verify it (valid for 24 hours):\n{link}\n")),
                (false, None) => ("About your registration".to_owned(), "Someone tried to register with this address, which already has an account.\nIf you forgot your password, you can reset it from the sign-in page.\n".to_owned()),
            }
        }
        Message::ConfirmEmailChange { token } => {
            let link = links.page("verify-email", &token.expose());
            if ja {
                (
                    "新しいメールアドレスの確認".to_owned(),
                    format!(
                        "メールアドレスの変更を受け付けました。\n次のリンクを開くと、このアドレスへの変更が完了します（24時間有効）。\n{link}\n"
                    ),
                )
            } else {
                (
                    "Confirm your new e-mail address".to_owned(),
                    format!(
                        "We received a request to change your address to this one.\nOpen this link to complete the change (valid for 24 hours):\n{link}\n"
                    ),
                )
            }
        }
        Message::EmailChangeRequested => {
            if ja {
                ("メールアドレス変更のお知らせ".to_owned(), "あなたのアカウントのメールアドレスを別のアドレスに変更する手続きが始まりました。\nお心当たりがない場合は、すぐにパスワードを変更し、事務局にご連絡ください。\n".to_owned())
            } else {
                ("Your e-mail address is being changed".to_owned(), "A change of your account's address to another address was requested.\nIf this was not you, change your password now and contact us.\n".to_owned())
            }
        }
        Message::EmailChanged => {
            if ja {
                ("メールアドレスが変更されました".to_owned(), "あなたのアカウントのメールアドレスが変更されました。今後のお知らせは新しいアドレスに届きます。\nお心当たりがない場合は、事務局にご連絡ください。\n".to_owned())
            } else {
                ("Your e-mail address was changed".to_owned(), "Your account's e-mail address was changed; from now on we write to the new one.\nIf this was not you, contact us.\n".to_owned())
            }
        }
        Message::PasswordReset { token } => {
            let link = links.page("reset-password", &token.expose());
            if ja {
                (
                    "パスワードの再設定".to_owned(),
                    format!(
                        "パスワード再設定のお申し込みを受け付けました。\n次のリンクから新しいパスワードを設定してください（30分間有効）。\n{link}\n"
                    ),
                )
            } else {
                (
                    "Reset your password".to_owned(),
                    format!(
                        "We received a request to reset your password.\nSet a new one with this link (valid for 30 minutes):\n{link}\n"
                    ),
                )
            }
        }
        Message::AccountDeleted => {
            if ja {
                ("退会手続きが完了しました".to_owned(), "アカウントを削除し、メールアドレス・パスワード・ログイン情報・同意の履歴を消去しました。\n法令により保存が必要な購入・決済の記録は、お名前やメールアドレスと結び付かない形で保存期間の間だけ保管し、その後消去します。\nご利用ありがとうございました。\n".to_owned())
            } else {
                ("Your account was deleted".to_owned(), "We deleted your account and erased your address, password, sessions and consent history.\nPurchase and payment records that the law requires us to keep stay, linked to no name or address, until their retention period ends, and are then erased.\nThank you for listening with us.\n".to_owned())
            }
        }
        Message::NewSignIn { browser, at } => {
            let when = japan_time(*at);
            if ja {
                (
                    "新しいログインのお知らせ".to_owned(),
                    format!(
                        "{when}（日本時間）に、次のブラウザからあなたのアカウントにログインがありました。\n{browser}\nお心当たりがない場合は、すぐにパスワードを変更してください。マイページの「ログイン中の端末」から、そのログインを終了できます。\n"
                    ),
                )
            } else {
                (
                    "New sign-in to your account".to_owned(),
                    format!(
                        "Someone signed in to your account at {when} (Japan time) from this browser:\n{browser}\nIf this was not you, change your password now. You can end that session from the sessions list on My Page.\n"
                    ),
                )
            }
        }
        Message::Receipt(receipt) => render_receipt(receipt, ja, links),
        Message::IncidentNotice {
            reference,
            discovered_at,
            categories,
            credentials_or_payment,
            malicious_suspected,
        } => incident_notice(
            &IncidentNotice {
                reference,
                discovered_at: *discovered_at,
                categories,
                credentials_or_payment: *credentials_or_payment,
                malicious_suspected: *malicious_suspected,
            },
            ja,
            links,
        ),
        Message::InquiryReceived { reference } => {
            if ja {
                (
                    format!("お問い合わせを受け付けました（{reference}）"),
                    format!(
                        "お問い合わせありがとうございます。受付番号 {reference} で受け付けました。\n\n担当者より、このアドレスにご返信します。返信の際は受付番号をお書き添えください。\nお問い合わせをされた覚えがない場合は、このメールは破棄してください。第三者があなたのアドレスを入力した可能性があります。\n"
                    ),
                )
            } else {
                (
                    format!("We received your inquiry ({reference})"),
                    format!(
                        "Thank you for contacting us. We received your inquiry as reference {reference}.\n\nWe will answer at this address. Please quote the reference when you write to us about it.\nIf you did not write to us, you can delete this mail: someone else may have typed your address.\n"
                    ),
                )
            }
        }
        Message::InquiryAnswered {
            reference,
            subject,
            answer,
        } => {
            if ja {
                (
                    format!("Re: {subject}（{reference}）"),
                    format!("お問い合わせ（受付番号 {reference}）への回答です。\n\n{answer}\n"),
                )
            } else {
                (
                    format!("Re: {subject} ({reference})"),
                    format!(
                        "Here is our answer to your inquiry (reference {reference}).\n\n{answer}\n"
                    ),
                )
            }
        }
        Message::SecondFactorAdded {
            factor,
            others_signed_out,
        } => second_factor_added(factor, *others_signed_out, ja),
        Message::AccountSecured {
            sessions_ended,
            factors_removed,
        } => account_secured(*sessions_ended, *factors_removed, ja),
        Message::SecondFactorFailures => {
            if ja {
                ("二段階認証のコードが何度も間違えられました".to_owned(), "正しいパスワードでのログインの後、二段階認証のコードが何度も間違えられたため、そのログインを終了しました。
あなたのパスワードを第三者が知っている可能性があります。すぐにパスワードを再設定してください。再設定が済むまで、コードによる二段階認証は受け付けません（パスキーでのログインはご利用いただけます）。
お心当たりがない場合は、事務局にご連絡ください。\n".to_owned())
            } else {
                ("Many wrong second-factor codes were entered".to_owned(), "After a sign-in with your correct password, many wrong second-factor codes were entered, so that sign-in was ended.\nSomeone else may know your password. Reset it now; until you do, codes are not accepted (signing in with a passkey still works).\nIf this was not you, contact us.\n".to_owned())
            }
        }
        Message::SecondFactorRemoved { factor } => second_factor_removed(factor, ja),
        Message::PasswordChanged => {
            if ja {
                ("パスワードが変更されました".to_owned(), "あなたのアカウントのパスワードが変更され、すべての端末でログアウトしました。\nお心当たりがない場合は、パスワードを再設定し、事務局にご連絡ください。\n".to_owned())
            } else {
                ("Your password was changed".to_owned(), "Your password was changed and every session was signed out.\nIf this was not you, reset your password and contact us.\n".to_owned())
            }
        }
    };
    let signature = if ja { SIGNATURE_JA } else { SIGNATURE_EN };
    let prefix = if ja {
        "【みんな聞ける】"
    } else {
        "[Minna Kikeru] "
    };
    let body = format!("{body}{signature}");
    Rendered {
        subject: format!("{prefix}{subject}"),
        html: html_of(&body, mail.language),
        body,
    }
}

/// A factor's name as members read it.
fn factor_name(factor: &str, ja: bool) -> &'static str {
    match (factor, ja) {
        ("totp", true) => "認証アプリ（ワンタイムコード）",
        ("totp", false) => "an authenticator app (one-time codes)",
        ("passkey", true) => "パスキー",
        ("passkey", false) => "a passkey",
        ("recovery_code", true) => "リカバリーコード",
        ("recovery_code", false) => "recovery codes",
        (_, true) => "すべての二段階認証",
        (_, false) => "every second factor",
    }
}

fn second_factor_added(factor: &str, others_signed_out: bool, ja: bool) -> (String, String) {
    let name = factor_name(factor, ja);
    let (subject, body) = match (factor, ja) {
        ("recovery_code", true) => (
            "リカバリーコードを作り直しました".to_owned(),
            "新しいリカバリーコードを発行しました。以前のコードは使えません。
お心当たりがない場合は、すぐにパスワードを再設定し、事務局にご連絡ください。
"
            .to_owned(),
        ),
        ("recovery_code", false) => (
            "Your recovery codes were replaced".to_owned(),
            "A new set of recovery codes was made; the old codes no longer work.
If this was not you, reset your password at once and contact us.
"
            .to_owned(),
        ),
        (_, true) => (
            "二段階認証を追加しました".to_owned(),
            format!(
                "あなたのアカウントに{name}を追加しました。次回からログイン時に必要です。
お心当たりがない場合は、すぐにパスワードを再設定し、事務局にご連絡ください。
"
            ),
        ),
        (_, false) => (
            "A second factor was added".to_owned(),
            format!(
                "You added {name} to your account; signing in will ask for it from now on.
If this was not you, reset your password at once and contact us.
"
            ),
        ),
    };
    if !others_signed_out {
        return (subject, body);
    }
    let note = if ja {
        "ほかの端末のログインはすべて終了しました。引き続きご利用になる端末では、もう一度ログインしてください。\n"
    } else {
        "Every other session was signed out; sign in again on the devices you use.\n"
    };
    (subject, format!("{note}{body}"))
}

fn account_secured(sessions_ended: u32, factors_removed: bool, ja: bool) -> (String, String) {
    let mut body = String::new();
    if ja {
        body.push_str("メールアドレスの確認が完了しました。\n");
        if sessions_ended > 0 {
            body.push_str(&format!(
                "確認より前に始まったログイン（{sessions_ended}件）を終了しました。\n"
            ));
        }
        if factors_removed {
            body.push_str("確認より前に追加された二段階認証（認証アプリ・パスキー）は、第三者が追加した可能性があるため解除しました。必要であれば、ログインしてマイページで設定し直してください。\n");
        }
        body.push_str("お心当たりがない場合は、パスワードを再設定し、事務局にご連絡ください。\n");
        ("アカウントを保護しました".to_owned(), body)
    } else {
        body.push_str("Your e-mail address is now confirmed.\n");
        if sessions_ended > 0 {
            body.push_str(&format!(
                "The {sessions_ended} sign-in(s) begun before the confirmation were ended.\n"
            ));
        }
        if factors_removed {
            body.push_str("Second factors (authenticator app, passkeys) added before the confirmation were removed, since someone else may have added them. Sign in and set them up again on My Page if you need them.\n");
        }
        body.push_str("If this was not you, reset your password and contact us.\n");
        ("Your account was secured".to_owned(), body)
    }
}

fn second_factor_removed(factor: &str, ja: bool) -> (String, String) {
    let name = factor_name(factor, ja);
    match (factor, ja) {
        ("all", true) => (
            "二段階認証を解除しました".to_owned(),
            "ご依頼により、事務局があなたのアカウントの二段階認証をすべて解除し、すべての端末でログアウトしました。パスワードでログインし、マイページで設定し直してください。
お心当たりがない場合は、すぐに事務局にご連絡ください。
".to_owned(),
        ),
        ("all", false) => (
            "Your second factors were removed".to_owned(),
            "At your request, we removed every second factor from your account and signed out every session. Sign in with your password and set one up again on My Page.
If you did not ask for this, contact us at once.
".to_owned(),
        ),
        (_, true) => (
            "二段階認証を解除しました".to_owned(),
            format!("あなたのアカウントから{name}を解除しました。
お心当たりがない場合は、すぐにパスワードを再設定し、事務局にご連絡ください。
"),
        ),
        (_, false) => (
            "A second factor was removed".to_owned(),
            format!("You removed {name} from your account.
If this was not you, reset your password at once and contact us.
"),
        ),
    }
}

/// What an incident notice says.
struct IncidentNotice<'a> {
    reference: &'a str,
    discovered_at: time::OffsetDateTime,
    categories: &'a [String],
    credentials_or_payment: bool,
    malicious_suspected: bool,
}

/// A category of data as members read it.
fn category_name(category: &str, ja: bool) -> &str {
    match (category, ja) {
        ("email_address", true) => "メールアドレス",
        ("email_address", false) => "your e-mail address",
        ("display_name", true) => "表示名",
        ("display_name", false) => "your display name",
        ("member_id", true) => "会員ID",
        ("member_id", false) => "your member ID",
        ("purchase_history", true) => "購入履歴（品名・日時・価格）",
        ("purchase_history", false) => "your purchase history (items, dates, prices)",
        ("payment_history", true) => "決済の履歴（カード情報は当社では保持していません）",
        ("payment_history", false) => "your payment history (we never hold card details)",
        ("order_details", true) => "注文内容（注文番号・金額・品名）",
        ("order_details", false) => "order details (reference, amounts, items)",
        ("message_content", true) => "お問い合わせ等のメッセージ本文",
        ("message_content", false) => "the text of your messages to us",
        (other, _) => other,
    }
}

/// The notice to a member whose data may have leaked (個人情報保護法 第26条第2項): what
/// happened, which of their data, what may follow, what to do, whom to ask.
fn incident_notice(n: &IncidentNotice<'_>, ja: bool, links: &Links) -> (String, String) {
    let when = japan_time(n.discovered_at);
    let items = n
        .categories
        .iter()
        .map(|c| format!("・{}", category_name(c, ja)))
        .collect::<Vec<_>>()
        .join("\n");
    let contact = links.url("contact");
    let reference = n.reference;
    if ja {
        let cause = if n.malicious_suspected {
            "第三者による不正アクセス等のおそれがあり、調査を進めています。"
        } else {
            "原因を調査しています。"
        };
        let advice = if n.credentials_or_payment {
            "パスワード等の認証情報が含まれるおそれがあります。お手数ですが、すぐにパスワードを変更し、同じパスワードを他のサービスでお使いの場合はそちらも変更してください。二段階認証の設定もおすすめします。\n"
        } else {
            "パスワードやカード情報は含まれていません。\n"
        };
        (
            "【重要】個人情報の漏えい等のおそれに関するお知らせ".to_owned(),
            format!(
                "みんな聞けるをご利用いただきありがとうございます。\n\n{when}（日本時間）、あなたの個人情報が漏えいした、またはそのおそれがあることが判明しました。深くお詫び申し上げます。{cause}個人情報保護委員会への報告を行います。\n\n対象となるおそれのある情報:\n{items}\n\n{advice}当社を名乗る不審なメールや電話にご注意ください。当社からパスワードをお尋ねすることはありません。\n\nこの件についてのお問い合わせは、このメールへのご返信、または {contact} からお願いします（事案番号: {reference}）。\n"
            ),
        )
    } else {
        let cause = if n.malicious_suspected {
            "We suspect unauthorised access and are investigating."
        } else {
            "We are investigating the cause."
        };
        let advice = if n.credentials_or_payment {
            "Credentials such as passwords may be concerned. Please change your password now, and anywhere else you use the same password. We also recommend setting up a second factor.\n"
        } else {
            "No passwords or card details are concerned.\n"
        };
        (
            "Important: your personal data may have leaked".to_owned(),
            format!(
                "On {when} (Japan time) we found that some of your personal data has leaked or may have leaked. We are deeply sorry. {cause} We are reporting it to the Personal Information Protection Commission.\n\nWhat may be concerned:\n{items}\n\n{advice}Beware of mails or calls claiming to be from us: we never ask for your password.\n\nFor questions about this, reply to this mail or write to us at {contact} (reference {reference}).\n"
            ),
        )
    }
}

fn render_receipt(receipt: &ReceiptMail, ja: bool, links: &Links) -> (String, String) {
    let language = if ja { Language::Ja } else { Language::En };
    let money = |minor: i64| format_money(minor, &receipt.currency, language);
    let when = japan_time(receipt.paid_at);
    let mut lines = String::new();
    for line in &receipt.lines {
        let each = money(line.unit_price_minor);
        let count = if line.quantity == 1 {
            String::new()
        } else {
            format!(" × {}", line.quantity)
        };
        lines.push_str(&format!("・{}  {each}{count}\n", line.title));
    }
    let total = money(receipt.total_minor);
    let order = format!(
        "{}/checkout/complete?order_id={}",
        links.base, receipt.order_id
    );
    // The numbered receipt (a qualified invoice) is issued seconds after payment, on My Page.
    let receipts = links.url("me#receipts");
    if ja {
        (
            "ご購入ありがとうございます（領収書）".to_owned(),
            format!(
                "お支払いを確認しました。ご注文の内容は次のページでご確認いただけます。\n{order}\n\n注文番号: {}\nお支払い日時: {when}（日本時間）\n\n{lines}\n合計: {total}\n\n番号付きの領収書（適格簡易請求書）は、マイページでご覧・印刷いただけます。宛名を入れた再発行もできます。\n{receipts}\n\nカード情報は決済代行会社が管理し、当サービスには保存されません。\n",
                receipt.order_id
            ),
        )
    } else {
        (
            "Thank you for your purchase (receipt)".to_owned(),
            format!(
                "We received your payment. Your order is here:\n{order}\n\nOrder: {}\nPaid: {when} (Japan time)\n\n{lines}\nTotal: {total}\n\nYour numbered receipt (a qualified invoice) is on My Page, to see and print, and to reissue addressed to a name:\n{receipts}\n\nYour card details stay with the payment provider; we never store them.\n",
                receipt.order_id
            ),
        )
    }
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
            lines: vec![kikeru_domain::ports::ReceiptMailLine {
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
