//! What a mail says: the messages the service sends, each rendered by the mailer in the
//! recipient's language, and the mail the outbox keeps until it is delivered.

use crate::{Email, Language, SessionToken, Timestamp};

/// What a mail says. Adapters render it in the recipient's language.
///
/// A message waits in the outbox until it is delivered, so it serializes (the outbox keeps
/// it as JSON, tagged by [`Message::kind`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Message {
    /// Prove your address (after registration).
    VerifyEmail {
        /// The token for the link.
        token: SessionToken,
    },
    /// Someone tried to register your address again. Carries a fresh verification token when
    /// the address is not yet verified.
    AlreadyRegistered {
        /// A verification token, for an unverified member.
        verify: Option<SessionToken>,
    },
    /// Prove your new address (after an e-mail change request).
    ConfirmEmailChange {
        /// The token for the link.
        token: SessionToken,
    },
    /// A change of address to another address was requested (sent to the old address).
    EmailChangeRequested,
    /// Your address was changed (sent to the old address).
    EmailChanged,
    /// Set a new password.
    PasswordReset {
        /// The token for the link.
        token: SessionToken,
    },
    /// Your password was changed or reset.
    PasswordChanged,
    /// Your account was deleted (sent to the address it had), and what is kept, for how long.
    AccountDeleted {
        /// What deletion keeps (empty in a notice queued before the list existed).
        #[serde(default)]
        kept: Vec<crate::privacy::kept::KeptRecord>,
    },
    /// Someone signed in to your account from a browser it had no session in.
    NewSignIn {
        /// The browser, as its user agent described itself (family and OS).
        browser: String,
        /// When.
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        at: Timestamp,
    },
    /// A second factor was added to your account (or your recovery codes were replaced).
    SecondFactorAdded {
        /// Which: `totp`, `passkey` or `recovery_code` (a new set of recovery codes).
        factor: String,
        /// Whether it was the first, so that every other session was signed out.
        #[serde(default)]
        others_signed_out: bool,
    },
    /// Your address was proven for the first time, and what was done in the account before
    /// (perhaps by someone who registered the address first) was undone.
    AccountSecured {
        /// How many sessions begun before it were ended.
        sessions_ended: u32,
        /// Whether second factors enrolled before it were removed.
        factors_removed: bool,
    },
    /// Many wrong second-factor codes followed your right password: someone may know it. The
    /// session that sent them was ended.
    SecondFactorFailures,
    /// A second factor was removed from your account (`all`: an operator removed every one
    /// at your request).
    SecondFactorRemoved {
        /// Which: `totp`, `passkey`, or `all`.
        factor: String,
    },
    /// Your order is paid: the receipt.
    Receipt(ReceiptMail),
    /// Your personal data may have leaked (個人情報保護法 第26条第2項).
    IncidentNotice {
        /// The incident's reference, to quote when asking about it.
        reference: String,
        /// When it was discovered.
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        discovered_at: Timestamp,
        /// The categories of data concerned (stable names).
        categories: Vec<String>,
        /// Whether passwords, second-factor secrets or payment data are concerned.
        credentials_or_payment: bool,
        /// Whether a malicious act is suspected.
        malicious_suspected: bool,
    },
    /// We received your inquiry. It quotes nothing the sender typed: the form can name any
    /// address, and the acknowledgement must not carry a stranger's words to it.
    InquiryReceived {
        /// The inquiry's reference, to quote in a reply.
        reference: String,
    },
    /// An operator answered your inquiry.
    InquiryAnswered {
        /// The inquiry's reference.
        reference: String,
        /// Its subject.
        subject: String,
        /// The answer.
        answer: String,
    },
    /// Mail for a purpose the member consented to (a newsletter, a partner's offers), with a
    /// reminder of the consent and how to withdraw it.
    PurposeMail {
        /// The purpose's name, in the member's language.
        purpose: String,
        /// The subject.
        subject: String,
        /// The text.
        body: String,
    },
    /// A new version of the privacy policy was published: its number, the day it takes effect
    /// (`YYYY-MM-DD`) and what changed, in the member's language.
    PolicyChanged {
        /// The version's number.
        number: u32,
        /// The day it takes effect.
        effective: String,
        /// What changed.
        changes: String,
    },
    /// The code that proves the address of a request under APPI made without signing in. It
    /// quotes nothing the requester typed.
    RequestCode {
        /// The request's number.
        number: String,
        /// The code to enter.
        code: String,
    },
    /// Your request under APPI is accepted (the requester is verified), and when it is due.
    RequestAccepted {
        /// The request's number.
        number: String,
        /// What was asked for (a [`crate::privacy::requests::RequestKind`] name).
        what: String,
        /// When the answer is due.
        #[serde(with = "time::serde::timestamp::milliseconds_i64")]
        due_at: Timestamp,
    },
    /// Your request under APPI was answered.
    RequestAnswered {
        /// The request's number.
        number: String,
        /// What was asked for.
        what: String,
        /// The answer.
        answer: String,
    },
    /// Your request under APPI was refused, with the ground and the reasons (第33条3項).
    RequestRefused {
        /// The request's number.
        number: String,
        /// What was asked for.
        what: String,
        /// The ground (a [`crate::privacy::requests::RefusalGround`] name).
        ground: String,
        /// The reasons.
        answer: String,
    },
}

/// What the receipt mail lists, in the recipient's language, as the order was paid (the
/// issued 適格請求書 itself is [`crate::shop::receipt::Receipt`]).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptMail {
    /// The order.
    pub order_id: uuid::Uuid,
    /// When it was paid.
    #[serde(with = "time::serde::timestamp::milliseconds_i64")]
    pub paid_at: Timestamp,
    /// What was bought.
    pub lines: Vec<ReceiptMailLine>,
    /// The tax-inclusive total, in minor units.
    pub total_minor: i64,
    /// The currency (ISO 4217).
    pub currency: String,
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReceiptMailLine {
    /// The title, in the recipient's language.
    pub title: String,
    /// The tax-inclusive unit price, in minor units.
    pub unit_price_minor: i64,
    /// How many.
    pub quantity: u32,
}

impl Message {
    /// A stable name for the kind of message (templates, logs, tests).
    pub const fn kind(&self) -> &'static str {
        match self {
            Self::VerifyEmail { .. } => "verify_email",
            Self::AlreadyRegistered { .. } => "already_registered",
            Self::ConfirmEmailChange { .. } => "confirm_email_change",
            Self::EmailChangeRequested => "email_change_requested",
            Self::EmailChanged => "email_changed",
            Self::PasswordReset { .. } => "password_reset",
            Self::PasswordChanged => "password_changed",
            Self::AccountDeleted { .. } => "account_deleted",
            Self::NewSignIn { .. } => "new_sign_in",
            Self::SecondFactorAdded { .. } => "second_factor_added",
            Self::AccountSecured { .. } => "account_secured",
            Self::SecondFactorFailures => "second_factor_failures",
            Self::SecondFactorRemoved { .. } => "second_factor_removed",
            Self::Receipt(_) => "receipt",
            Self::IncidentNotice { .. } => "incident_notice",
            Self::InquiryReceived { .. } => "inquiry_received",
            Self::InquiryAnswered { .. } => "inquiry_answered",
            Self::PolicyChanged { .. } => "policy_changed",
            Self::PurposeMail { .. } => "purpose_mail",
            Self::RequestCode { .. } => "request_code",
            Self::RequestAccepted { .. } => "request_accepted",
            Self::RequestAnswered { .. } => "request_answered",
            Self::RequestRefused { .. } => "request_refused",
        }
    }
}

/// A mail to one person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Mail {
    /// The recipient.
    pub to: Email,
    /// The language to write it in.
    pub language: Language,
    /// What it says.
    pub message: Message,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_survives_the_outbox_as_json() {
        let token = SessionToken::from_bytes([7; 32]);
        let at = time::macros::datetime!(2026-04-01 09:00:00.123 UTC);
        let messages = [
            Message::VerifyEmail {
                token: token.clone(),
            },
            Message::AlreadyRegistered { verify: None },
            Message::AlreadyRegistered {
                verify: Some(token.clone()),
            },
            Message::ConfirmEmailChange {
                token: token.clone(),
            },
            Message::EmailChangeRequested,
            Message::EmailChanged,
            Message::PasswordReset { token },
            Message::PasswordChanged,
            Message::AccountDeleted {
                kept: crate::privacy::kept::kept_after_deletion(&Default::default()),
            },
            Message::NewSignIn {
                browser: "Firefox 128 / Linux".into(),
                at,
            },
            Message::SecondFactorAdded {
                factor: "totp".into(),
                others_signed_out: true,
            },
            Message::AccountSecured {
                sessions_ended: 2,
                factors_removed: true,
            },
            Message::SecondFactorFailures,
            Message::SecondFactorRemoved {
                factor: "all".into(),
            },
            Message::Receipt(ReceiptMail {
                order_id: uuid::Uuid::from_u128(5),
                paid_at: at,
                lines: vec![ReceiptMailLine {
                    title: "朝の鳥の声".into(),
                    unit_price_minor: 1100,
                    quantity: 1,
                }],
                total_minor: 1100,
                currency: "JPY".into(),
            }),
            Message::InquiryReceived {
                reference: "Q-1".into(),
            },
            Message::InquiryAnswered {
                reference: "Q-1".into(),
                subject: "返金".into(),
                answer: "承知しました".into(),
            },
            Message::PurposeMail {
                purpose: "レーベルのお知らせ".into(),
                subject: "新作のお知らせ".into(),
                body: "今月の新作です".into(),
            },
            Message::PolicyChanged {
                number: 2,
                effective: "2027-01-01".into(),
                changes: "委託先を追加しました".into(),
            },
            Message::RequestCode {
                number: "R-1".into(),
                code: "ABCD-2345".into(),
            },
            Message::RequestAccepted {
                number: "R-1".into(),
                what: "disclosure".into(),
                due_at: at,
            },
            Message::RequestAnswered {
                number: "R-1".into(),
                what: "cessation".into(),
                answer: "停止しました".into(),
            },
            Message::RequestRefused {
                number: "R-1".into(),
                what: "correction".into(),
                ground: "not_applicable".into(),
                answer: "該当する情報がありません".into(),
            },
        ];
        for message in messages {
            let json = serde_json::to_string(&message).unwrap();
            assert!(json.contains(message.kind()), "{json}");
            let back: Message = serde_json::from_str(&json).unwrap();
            assert_eq!(back, message, "{json}");
        }
    }
}
