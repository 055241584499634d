//! What each message says, in the member's language.

use kikeru_domain::Language;
use kikeru_domain::ports::{Mail, Message};

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
}

/// A message's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    /// The subject line.
    pub subject: String,
    /// The body, lines separated by `\n`.
    pub body: String,
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
    Rendered {
        subject: format!("{prefix}{subject}"),
        body: format!("{body}{signature}"),
    }
}
