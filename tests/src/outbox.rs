//! Reading mail from the file outbox, as a member reads their mailbox.

use std::path::Path;

use data_encoding::BASE64;

/// One mail in the outbox.
#[derive(Debug, Clone)]
pub struct Mail {
    /// The recipient.
    pub to: String,
    /// The `X-Kikeru-Kind` header (`verify_email`, …).
    pub kind: String,
    /// The decoded text body.
    pub body: String,
}

impl Mail {
    /// The token in the first link of the body (`…?token=…`).
    pub fn token(&self) -> Option<String> {
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
/// When a file is not a well-formed outbox message.
#[allow(clippy::expect_used, reason = "test helper")]
pub fn read(dir: &Path) -> Vec<Mail> {
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
            let text = std::fs::read_to_string(path).expect("readable mail");
            let (head, body) = text.split_once("\r\n\r\n").expect("headers and body");
            let header = |name: &str| {
                head.lines()
                    .find_map(|l| l.strip_prefix(name))
                    .map(|v| v.trim().to_owned())
                    .unwrap_or_default()
            };
            let joined: String = body.split_whitespace().collect();
            let body = String::from_utf8(BASE64.decode(joined.as_bytes()).expect("base64 body"))
                .expect("UTF-8 body");
            Mail {
                to: header("To:"),
                kind: header("X-Kikeru-Kind:"),
                body,
            }
        })
        .collect()
}

/// The newest mail of `kind` to `to`.
pub fn last(dir: &Path, to: &str, kind: &str) -> Option<Mail> {
    read(dir)
        .into_iter()
        .rev()
        .find(|m| m.to == to && m.kind == kind)
}
