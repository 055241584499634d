//! Inquiries: the contact form and e-mail sent to the service — two of the three ways the
//! policy says personal information is collected. Operators read and answer them; members
//! find theirs in their data export; the retention job purges them after their period.

pub(crate) mod model;
pub mod ports;

pub use model::*;

use std::fmt;
use std::sync::Arc;

use uuid::Uuid;

use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ids::uuid_v7;
use crate::kernel::ports::{Clock, Random, RateLimits};
use crate::kernel::throttle::{Client, Throttled, count};
use crate::mail::message::{Mail, Message};
use crate::mail::outbox::{Envelope, MAIL_PROCESSOR, mail_categories};
use crate::office::inquiry::ports::Inquiries;
use crate::privacy::not_entrusted;
use crate::privacy::ports::Processors;
use crate::{Email, Language, MemberId, StoreError, ThrottleRule, Timestamp};

/// The longest subject, in characters.
pub const MAX_SUBJECT: usize = 200;
/// The longest text, in characters.
pub const MAX_BODY: usize = 10_000;
/// The longest name, in characters.
pub const MAX_NAME: usize = 100;

/// What the contact form sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactForm {
    /// Where to answer.
    pub email: Email,
    /// The sender's name.
    pub name: Option<String>,
    /// The subject.
    pub subject: String,
    /// The text.
    pub body: String,
    /// The language to answer in.
    pub language: Language,
    /// A field people never see and bots fill in.
    pub honeypot: Option<String>,
}

/// What is wrong with an inquiry's fields.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InquiryProblem {
    /// The subject is empty or longer than [`MAX_SUBJECT`].
    #[error("the subject must have 1 to {MAX_SUBJECT} characters")]
    Subject,
    /// The text is empty or longer than [`MAX_BODY`].
    #[error("the message must have 1 to {MAX_BODY} characters")]
    Body,
    /// The name is longer than [`MAX_NAME`].
    #[error("the name must have at most {MAX_NAME} characters")]
    Name,
    /// A mail's `Message-ID` is longer than a header line may be ([`MAX_MESSAGE_ID`]), or an
    /// attachment's name or type is too long.
    #[error("a header of the message is longer than a mail header may be")]
    Header,
    /// The text holds a NUL character, which no mail or form of a person carries and which
    /// not every database can store.
    #[error("the text holds a NUL character")]
    Nul,
}

/// The longest `Message-ID` kept: a header line's limit (RFC 5322 §2.1.1).
pub const MAX_MESSAGE_ID: usize = 998;

/// An inquiry was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ContactError {
    /// A field is not acceptable.
    #[error(transparent)]
    Invalid(#[from] InquiryProblem),
    /// Too many inquiries from this client or address.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The register does not entrust the mail provider with what the acknowledgement holds.
    #[error("the mail provider is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// An inquiry by mail, as parsed from the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMail {
    /// The sender.
    pub from: Email,
    /// The sender's display name, if any.
    pub name: Option<String>,
    /// The subject (may be empty).
    pub subject: String,
    /// The text.
    pub body: String,
    /// The `Message-ID`, if the message has one.
    pub message_id: Option<String>,
    /// What was attached.
    pub attachments: Vec<AttachmentNote>,
}

/// What became of an inquiry by mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Stored as a new inquiry with this reference.
    Stored(String),
    /// A redelivery of a message stored before (same `Message-ID`): nothing changed.
    Duplicate(String),
}

/// An answer was not sent.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    /// No such inquiry.
    #[error("there is no such inquiry")]
    NotFound,
    /// The answer is empty or longer than [`MAX_BODY`].
    #[error("the answer must have 1 to {MAX_BODY} characters")]
    Invalid,
    /// The register does not entrust the mail provider with what the answer holds.
    #[error("the mail provider is not entrusted with {0}")]
    NotEntrusted(&'static str),
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How often one may write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContactLimits {
    /// Inquiries per client (5 an hour).
    pub per_client: ThrottleRule,
    /// Inquiries per address (5 an hour).
    pub per_address: ThrottleRule,
}

impl Default for ContactLimits {
    fn default() -> Self {
        let hourly = ThrottleRule {
            max: 5,
            window: std::time::Duration::from_secs(3600),
        };
        Self {
            per_client: hourly,
            per_address: hourly,
        }
    }
}

/// The adapters the contact desk runs on.
#[derive(Clone)]
pub struct ContactPorts {
    /// Stored inquiries.
    pub inquiries: Arc<dyn Inquiries>,
    /// Atomic writes (an inquiry with its mail).
    pub unit: Arc<dyn UnitOfWork>,
    /// Shared rate-limit counters.
    pub rate_limits: Arc<dyn RateLimits>,
    /// The register of entrusted processors.
    pub processors: Arc<dyn Processors>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl fmt::Debug for ContactPorts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ContactPorts { .. }")
    }
}

/// The inquiry use cases.
#[derive(Debug, Clone)]
pub struct ContactDesk {
    ports: ContactPorts,
    limits: ContactLimits,
}

impl ContactDesk {
    /// The use cases on their adapters.
    pub fn new(ports: ContactPorts, limits: ContactLimits) -> Self {
        Self { ports, limits }
    }

    /// Takes an inquiry from the contact form and mails an acknowledgement with its reference.
    /// A form whose hidden field is filled in (a bot) gets the same answer and stores nothing.
    ///
    /// # Errors
    /// [`ContactError::Invalid`], [`ContactError::Throttled`] (by client, then by address).
    pub async fn submit(
        &self,
        form: ContactForm,
        client: &Client,
        member: Option<MemberId>,
    ) -> Result<(), ContactError> {
        let subject = one_line(&form.subject);
        let body = form.body.trim().to_owned();
        let name = form.name.as_deref().map(one_line).filter(|n| !n.is_empty());
        check_fields(&subject, &body, name.as_deref())?;
        self.throttle("inquiry", &client.key, self.limits.per_client)
            .await?;
        self.throttle(
            "inquiry-address",
            form.email.as_str(),
            self.limits.per_address,
        )
        .await?;
        if form.honeypot.is_some_and(|h| !h.trim().is_empty()) {
            return Ok(());
        }
        self.check_mail_entrusted()
            .await?
            .map_or(Ok(()), |c| Err(ContactError::NotEntrusted(c)))?;
        let now = self.ports.clock.now();
        let inquiry = Inquiry {
            id: InquiryId(self.new_uuid(now)),
            reference: self.new_reference(),
            member_id: member,
            email: form.email,
            name,
            subject,
            body,
            language: form.language,
            channel: Channel::Web,
            message_id: None,
            attachments: Vec::new(),
            received_at: now,
            answers: Vec::new(),
        };
        let ack = Envelope {
            id: self.new_uuid(now),
            member_id: member,
            mail: Mail {
                to: inquiry.email.clone(),
                language: inquiry.language,
                message: Message::InquiryReceived {
                    reference: inquiry.reference.clone(),
                },
            },
            created_at: now,
        };
        let mut changes = Changes::new();
        changes
            .push(Change::InsertInquiry(inquiry))
            .push(Change::Send(ack));
        self.ports.unit.apply(changes).await?;
        Ok(())
    }

    /// Stores an inquiry that arrived by mail. A message seen before (same `Message-ID`) is
    /// recognised and not stored twice. No acknowledgement is mailed: answering mail
    /// automatically would send mail to forged sender addresses (backscatter).
    ///
    /// # Errors
    /// [`ContactError::Invalid`] when the text is empty or too long;
    /// [`ContactError::Store`] when storage fails (the MTA should retry).
    pub async fn receive_mail(&self, mail: InboundMail) -> Result<Received, ContactError> {
        if let Some(id) = &mail.message_id
            && let Some(known) = self.ports.inquiries.by_message_id(id).await?
        {
            return Ok(Received::Duplicate(known.reference));
        }
        let mut subject = one_line(&mail.subject);
        if subject.is_empty() {
            subject = "(no subject)".to_owned();
        }
        let subject: String = subject.chars().take(MAX_SUBJECT).collect();
        let body = mail.body.trim().to_owned();
        let name = mail
            .name
            .as_deref()
            .map(one_line)
            .filter(|n| !n.is_empty())
            .map(|n| n.chars().take(MAX_NAME).collect());
        check_fields(&subject, &body, None)?;
        check_headers(&mail)?;
        let now = self.ports.clock.now();
        let language = if is_japanese(&body) || is_japanese(&subject) {
            Language::Ja
        } else {
            Language::En
        };
        let inquiry = Inquiry {
            id: InquiryId(self.new_uuid(now)),
            reference: self.new_reference(),
            member_id: None,
            email: mail.from,
            name,
            subject,
            body,
            language,
            channel: Channel::Mail,
            message_id: mail.message_id.clone(),
            attachments: mail.attachments,
            received_at: now,
            answers: Vec::new(),
        };
        let reference = inquiry.reference.clone();
        match self
            .ports
            .unit
            .apply(vec![Change::InsertInquiry(inquiry)].into())
            .await
        {
            Ok(()) => Ok(Received::Stored(reference)),
            Err(StoreError::Conflict) => {
                // The same message delivered twice at the same moment.
                let known = match &mail.message_id {
                    Some(id) => self.ports.inquiries.by_message_id(id).await?,
                    None => None,
                };
                known
                    .map(|k| Received::Duplicate(k.reference))
                    .ok_or(ContactError::Store(StoreError::Conflict))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Inquiries newest first (operators).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn list(&self, open_only: bool, limit: u32) -> Result<Vec<Inquiry>, StoreError> {
        self.ports.inquiries.list(open_only, limit).await
    }

    /// One inquiry (operators).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn inquiry(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        self.ports.inquiries.by_id(id).await
    }

    /// The inquiries a member sent (their data export).
    ///
    /// # Errors
    /// When storage fails.
    pub async fn of_member(&self, member: MemberId) -> Result<Vec<Inquiry>, StoreError> {
        self.ports.inquiries.for_member(member).await
    }

    /// Answers an inquiry: the answer is kept with it and mailed to the sender, in their
    /// language, in one unit.
    ///
    /// # Errors
    /// [`AnswerError::NotFound`], [`AnswerError::Invalid`].
    pub async fn answer(
        &self,
        id: InquiryId,
        operator: &str,
        text: &str,
    ) -> Result<Inquiry, AnswerError> {
        let text = text.trim();
        if text.is_empty() || text.chars().count() > MAX_BODY {
            return Err(AnswerError::Invalid);
        }
        let Some(mut inquiry) = self.ports.inquiries.by_id(id).await? else {
            return Err(AnswerError::NotFound);
        };
        if let Some(category) = self.check_mail_entrusted().await? {
            return Err(AnswerError::NotEntrusted(category));
        }
        let now = self.ports.clock.now();
        let answer = Answer {
            operator: operator.to_owned(),
            body: text.to_owned(),
            at: now,
        };
        let mail = Envelope {
            id: self.new_uuid(now),
            member_id: inquiry.member_id,
            mail: Mail {
                to: inquiry.email.clone(),
                language: inquiry.language,
                message: Message::InquiryAnswered {
                    reference: inquiry.reference.clone(),
                    subject: inquiry.subject.clone(),
                    answer: answer.body.clone(),
                },
            },
            created_at: now,
        };
        let mut changes = Changes::new();
        changes
            .push(Change::AnswerInquiry {
                inquiry: id,
                answer: answer.clone(),
            })
            .push(Change::Send(mail));
        match self.ports.unit.apply(changes).await {
            Err(StoreError::NotFound) => return Err(AnswerError::NotFound),
            other => other?,
        }
        inquiry.answers.push(answer);
        Ok(inquiry)
    }

    async fn check_mail_entrusted(&self) -> Result<Option<&'static str>, StoreError> {
        let register = self.ports.processors.all().await?;
        Ok(not_entrusted(&register, MAIL_PROCESSOR, &mail_categories()).map(|c| c.as_str()))
    }

    async fn throttle(
        &self,
        scope: &str,
        value: &str,
        rule: ThrottleRule,
    ) -> Result<(), ContactError> {
        let now = self.ports.clock.now();
        match count(&*self.ports.rate_limits, now, scope, value, rule).await? {
            Some(throttled) => Err(throttled.into()),
            None => Ok(()),
        }
    }

    fn new_uuid(&self, now: Timestamp) -> Uuid {
        uuid_v7(now, &self.ports.random.bytes32())
    }

    /// `Q-` and 8 characters of Crockford-like base32 (no I, L, O, U): 40 random bits.
    fn new_reference(&self) -> String {
        const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
        let bytes = self.ports.random.bytes32();
        let mut bits =
            u64::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], 0, 0, 0]);
        let mut reference = String::from("Q-");
        for _ in 0..8 {
            reference.push(char::from(ALPHABET[(bits & 31) as usize]));
            bits >>= 5;
        }
        reference
    }
}

fn check_fields(subject: &str, body: &str, name: Option<&str>) -> Result<(), InquiryProblem> {
    if [subject, body, name.unwrap_or_default()]
        .iter()
        .any(|text| text.contains('\0'))
    {
        return Err(InquiryProblem::Nul);
    }
    let subject_len = subject.chars().count();
    if subject_len == 0 || subject_len > MAX_SUBJECT {
        return Err(InquiryProblem::Subject);
    }
    let body_len = body.chars().count();
    if body_len == 0 || body_len > MAX_BODY {
        return Err(InquiryProblem::Body);
    }
    if name.is_some_and(|n| n.chars().count() > MAX_NAME) {
        return Err(InquiryProblem::Name);
    }
    Ok(())
}

/// A mail's other headers: a `Message-ID` within a header line, attachment names and types
/// within [`MAX_NAME`], none with a NUL.
fn check_headers(mail: &InboundMail) -> Result<(), InquiryProblem> {
    let mut texts = mail
        .message_id
        .iter()
        .chain(mail.name.iter())
        .chain(mail.attachments.iter().map(|a| &a.name))
        .chain(mail.attachments.iter().map(|a| &a.content_type));
    if texts.any(|text| text.contains('\0')) {
        return Err(InquiryProblem::Nul);
    }
    let too_long = mail
        .message_id
        .as_ref()
        .is_some_and(|id| id.len() > MAX_MESSAGE_ID)
        || mail
            .attachments
            .iter()
            .any(|a| a.name.chars().count() > MAX_NAME || a.content_type.len() > MAX_NAME);
    if too_long {
        return Err(InquiryProblem::Header);
    }
    Ok(())
}

/// The text on one line: control characters (line breaks included) become spaces, runs of
/// white space one space, the ends trimmed. Subjects and names go into mail headers.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether the text has kana or kanji.
fn is_japanese(text: &str) -> bool {
    text.chars().any(|c| {
        matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{ff66}'..='\u{ff9f}')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_and_names_lose_their_line_breaks() {
        assert_eq!(
            one_line("  Hello\r\nBcc: victim@example.com\t x "),
            "Hello Bcc: victim@example.com x"
        );
    }

    #[test]
    fn fields_have_limits() {
        assert_eq!(check_fields("", "x", None), Err(InquiryProblem::Subject));
        assert_eq!(
            check_fields(&"あ".repeat(MAX_SUBJECT + 1), "x", None),
            Err(InquiryProblem::Subject)
        );
        assert_eq!(check_fields("s", "", None), Err(InquiryProblem::Body));
        assert_eq!(
            check_fields("s", &"x".repeat(MAX_BODY + 1), None),
            Err(InquiryProblem::Body)
        );
        assert_eq!(
            check_fields("s", "x", Some(&"n".repeat(MAX_NAME + 1))),
            Err(InquiryProblem::Name)
        );
        assert_eq!(
            check_fields(&"あ".repeat(MAX_SUBJECT), "x", Some("山田")),
            Ok(())
        );
    }

    #[test]
    fn japanese_text_is_recognised() {
        assert!(is_japanese("返金について"));
        assert!(is_japanese("ｱｲｳ"));
        assert!(!is_japanese("Refund please"));
    }
}
