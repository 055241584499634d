//! RFC 5322 / MIME rendering: UTF-8 text, base64-encoded, with an RFC 2047 subject.

use data_encoding::BASE64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc2822;
use uuid::Uuid;

use crate::Rendered;

/// The whole message as it goes on the wire (CRLF line ends).
pub fn render_rfc5322(
    from: &str,
    to: &str,
    rendered: &Rendered,
    kind: &str,
    date: OffsetDateTime,
    id: Uuid,
) -> String {
    let date = date.format(&Rfc2822).unwrap_or_default();
    let subject = format!("=?UTF-8?B?{}?=", BASE64.encode(rendered.subject.as_bytes()));
    let body = rendered.body.replace('\n', "\r\n");
    let encoded = BASE64.encode(body.as_bytes());
    let mut lines = String::new();
    for chunk in encoded.as_bytes().chunks(76) {
        lines.push_str(&String::from_utf8_lossy(chunk));
        lines.push_str("\r\n");
    }
    format!(
        "Date: {date}\r\nFrom: {from}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: <{id}@kikeru>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\
         X-Kikeru-Kind: {kind}\r\n\r\n{lines}"
    )
}

/// The decoded body of a message made by [`render_rfc5322`] (for tests and tools).
pub fn decoded_body(message: &str) -> Option<String> {
    let (_, body) = message.split_once("\r\n\r\n")?;
    let joined: String = body.split_whitespace().collect();
    String::from_utf8(BASE64.decode(joined.as_bytes()).ok()?).ok()
}
