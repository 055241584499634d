//! A rendered mail as an RFC 5322 / MIME message: `multipart/alternative` with a plain-text
//! and an HTML part, UTF-8, headers encoded by RFC 2047 where they are not ASCII (lettre
//! chooses quoted-printable or base64 for each part).

use std::error::Error;

use kikeru_domain::ports::Mail;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};

use crate::templates::{Links, render};

/// A header naming the kind of message (`X-Kikeru-Kind: verify_email`), for tests and mail
/// filters.
#[derive(Debug, Clone)]
struct Kind(String);

impl Header for Kind {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("X-Kikeru-Kind")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
    }
}

/// `Auto-Submitted: auto-generated` (RFC 3834): vacation responders and our own mailbox
/// ingest do not answer it, so no mail loop starts.
#[derive(Debug, Clone)]
struct AutoSubmitted;

impl Header for AutoSubmitted {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Auto-Submitted")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "auto-generated".to_owned())
    }
}

/// The message could not be built (an address lettre does not accept).
#[derive(Debug, thiserror::Error)]
#[error("the message could not be built: {0}")]
pub struct ComposeError(String);

/// Builds the message for `mail` from `from`, with a fresh `Message-ID` in the sender's domain.
///
/// # Errors
/// [`ComposeError`] when an address cannot be written in a header.
pub fn compose(
    mail: &Mail,
    from: &Mailbox,
    links: &Links,
) -> Result<lettre::Message, ComposeError> {
    let rendered = render(mail, links);
    let to: Mailbox = mail
        .to
        .as_str()
        .parse()
        .map_err(|e: lettre::address::AddressError| ComposeError(e.to_string()))?;
    let id = format!("<{}@{}>", uuid::Uuid::now_v7(), from.email.domain());
    lettre::Message::builder()
        .from(from.clone())
        .to(to)
        .subject(rendered.subject)
        .message_id(Some(id))
        .header(Kind(mail.message.kind().to_owned()))
        .header(AutoSubmitted)
        .multipart(MultiPart::alternative_plain_html(
            rendered.body,
            rendered.html,
        ))
        .map_err(|e| ComposeError(e.to_string()))
}
