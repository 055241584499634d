//! Mail sent to the service, turned into an inquiry: RFC 5322 with MIME (multipart,
//! quoted-printable, base64), HTML-only messages converted to text, and Japanese encodings
//! (ISO-2022-JP, Shift_JIS, EUC-JP, UTF-8) in headers and bodies. Attachments are not kept: the
//! inquiry notes their names, types and sizes.

use kikeru_domain::Email;
use kikeru_domain::office::inquiry::{AttachmentNote, InboundMail};
use mail_parser::{MessageParser, MimeHeaders};

/// The largest message accepted by default (10 MiB, attachments included).
pub const DEFAULT_MAX_BYTES: usize = 10 * 1024 * 1024;

/// Why a message is not turned into an inquiry. Each is permanent: delivering the same bytes
/// again gives the same answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Larger than the limit.
    #[error("the message is larger than {limit} bytes")]
    TooLarge {
        /// The limit.
        limit: usize,
    },
    /// Not an RFC 5322 message.
    #[error("the message cannot be parsed as RFC 5322")]
    Unparseable,
    /// No `From` address, or one that is not a valid address.
    #[error("the message has no valid sender address")]
    NoSender,
    /// Neither text nor attachments.
    #[error("the message has no text")]
    Empty,
    /// An automatic reply (RFC 3834 `Auto-Submitted`, or a bounce): answering or storing it
    /// could start a mail loop.
    #[error("the message is an automatic reply")]
    AutoSubmitted,
}

/// Whether the first line is a header field: printable ASCII other than `:` naming the
/// field, then `:` (RFC 5322 section 2.2). The parser accepts nearly anything; this refuses
/// what is not a mail at all.
fn starts_with_a_header(raw: &[u8]) -> bool {
    let line = raw.split(|b| *b == b'\n').next().unwrap_or_default();
    match line.iter().position(|b| *b == b':') {
        Some(0) | None => false,
        Some(colon) => line[..colon].iter().all(|b| (33..=126).contains(b)),
    }
}

/// Reads one message.
///
/// # Errors
/// A [`Refusal`] naming what is wrong.
pub fn parse(raw: &[u8], max_bytes: usize) -> Result<InboundMail, Refusal> {
    if raw.len() > max_bytes {
        return Err(Refusal::TooLarge { limit: max_bytes });
    }
    // An MTA delivering in mbox style puts an envelope line (`From sender date`) first.
    let raw = match raw.strip_prefix(b"From ") {
        Some(rest) => rest
            .iter()
            .position(|b| *b == b'\n')
            .map_or(&[][..], |end| &rest[end + 1..]),
        None => raw,
    };
    if !starts_with_a_header(raw) {
        return Err(Refusal::Unparseable);
    }
    let message = MessageParser::default()
        .parse(raw)
        .filter(|m| !m.headers().is_empty())
        .ok_or(Refusal::Unparseable)?;
    let auto = message
        .header_raw("Auto-Submitted")
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| !v.starts_with("no"));
    let bounce = message
        .return_path()
        .as_text()
        .is_some_and(|p| p.trim().trim_matches(['<', '>']).is_empty());
    if auto || bounce {
        return Err(Refusal::AutoSubmitted);
    }
    let sender = message
        .from()
        .and_then(|from| from.first())
        .ok_or(Refusal::NoSender)?;
    let from = sender
        .address()
        .and_then(|a| Email::parse(a).ok())
        .ok_or(Refusal::NoSender)?;
    let name = sender.name().map(str::to_owned);
    let attachments: Vec<AttachmentNote> = message
        .attachments()
        .map(|part| AttachmentNote {
            name: part.attachment_name().unwrap_or_default().to_owned(),
            content_type: part
                .content_type()
                .map(|ct| match ct.subtype() {
                    Some(sub) => format!("{}/{sub}", ct.ctype()),
                    None => ct.ctype().to_owned(),
                })
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: part.contents().len() as u64,
        })
        .collect();
    let text = message
        .body_text(0)
        .map(|t| t.replace("\r\n", "\n").trim().to_owned())
        .unwrap_or_default();
    let body = match (text.is_empty(), attachments.is_empty()) {
        (false, _) => text,
        (true, false) => "（本文なし / no text: see the attachments）".to_owned(),
        (true, true) => return Err(Refusal::Empty),
    };
    Ok(InboundMail {
        from,
        name,
        subject: message.subject().unwrap_or_default().to_owned(),
        body,
        message_id: message.message_id().map(|id| format!("<{id}>")),
        attachments,
    })
}
