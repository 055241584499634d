//! Reading mail from the file outbox, as a member reads their mailbox. The server's postman
//! delivers mail a moment after the request that caused it, so the readers wait for it.

use std::path::Path;
use std::time::{Duration, Instant};

/// One mail in the outbox.
#[derive(Debug, Clone)]
pub(crate) struct Mail {
    /// The recipient.
    pub(crate) to: String,
    /// The `X-Kikeru-Kind` header (`verify_email`, …).
    pub(crate) kind: String,
    /// The subject, decoded.
    pub(crate) subject: String,
    /// The decoded text body.
    pub(crate) body: String,
    /// The decoded HTML body.
    pub(crate) html: String,
}

impl Mail {
    /// The token in the first link of the body (`…?token=…`).
    pub(crate) fn token(&self) -> Option<String> {
        let at = self.body.find("token=")? + "token=".len();
        Some(
            self.body[at..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                .collect(),
        )
    }
}

/// Every mail in `dir`, oldest first.
///
/// # Panics
/// When a file is not a well-formed MIME message.
#[allow(clippy::expect_used, reason = "test helper")]
pub(crate) fn read(dir: &Path) -> Vec<Mail> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut paths: Vec<_> = entries
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let raw = std::fs::read(path).expect("readable mail");
            let message = mail_parser::MessageParser::default()
                .parse(&raw)
                .expect("a MIME message");
            Mail {
                to: message
                    .to()
                    .and_then(|to| to.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_owned(),
                kind: message
                    .header_raw("X-Kikeru-Kind")
                    .unwrap_or_default()
                    .trim()
                    .to_owned(),
                subject: message.subject().unwrap_or_default().to_owned(),
                body: message.body_text(0).unwrap_or_default().into_owned(),
                html: message.body_html(0).unwrap_or_default().into_owned(),
            }
        })
        .collect()
}

/// The mails of `kind` to `to`, oldest first.
pub(crate) fn all(dir: &Path, to: &str, kind: &str) -> Vec<Mail> {
    read(dir)
        .into_iter()
        .filter(|m| m.to == to && m.kind == kind)
        .collect()
}

/// The `n`-th mail (from 1) of `kind` to `to`, waiting up to 10 seconds for it to arrive.
pub(crate) fn nth(dir: &Path, to: &str, kind: &str, n: usize) -> Option<Mail> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = all(dir, to, kind);
        if found.len() >= n {
            return Some(found.swap_remove(n - 1));
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(25));
    }
}

/// The newest mail of `kind` to `to`, waiting up to 10 seconds for a first one.
pub(crate) fn last(dir: &Path, to: &str, kind: &str) -> Option<Mail> {
    nth(dir, to, kind, 1)?;
    all(dir, to, kind).pop()
}
