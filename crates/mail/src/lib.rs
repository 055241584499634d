//! Mail adapters: message templates in Japanese and English (plain text and HTML), the file
//! outbox (the embedded default, one `.eml` file per message), the SMTP sender, and the
//! parser of mail sent to the service.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kikeru_domain::ports::{Mail, MailError, Mailer};
use lettre::message::Mailbox;

mod compose;
pub mod inbound;
mod smtp;
mod templates;

pub use compose::{ComposeError, compose};
pub use smtp::{Security, SmtpConfig, SmtpError, SmtpMailer};
pub use templates::{Links, Rendered, render};

/// Reads a sender like `Minna Kikeru <no-reply@example.jp>`.
///
/// # Errors
/// A message naming what is wrong.
pub fn parse_sender(text: &str) -> Result<Mailbox, String> {
    text.parse()
        .map_err(|e: lettre::address::AddressError| format!("not a mail address ({e})"))
}

/// Writes every mail as an RFC 5322 file into a folder. Files appear atomically (written to a
/// temporary name, then renamed), so a reader never sees half a message.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: PathBuf,
    from: Mailbox,
    links: Links,
}

impl FileOutbox {
    /// An outbox writing into `dir` (created if missing), sending as `from`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(dir: impl Into<PathBuf>, from: Mailbox, links: Links) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, from, links })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[async_trait]
impl Mailer for FileOutbox {
    #[tracing::instrument(skip_all, fields(kind = mail.message.kind()))]
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message =
            compose(mail, &self.from, &self.links).map_err(|e| MailError::Permanent(e.into()))?;
        #[allow(
            clippy::disallowed_methods,
            reason = "the file name's order, not a domain time"
        )]
        let now = time::OffsetDateTime::now_utc();
        let name = format!(
            "{}-{}.eml",
            now.unix_timestamp_nanos(),
            uuid::Uuid::now_v7()
        );
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let wrap = |e: std::io::Error| MailError::Temporary(Box::new(e));
        tokio::fs::write(&temporary, message.formatted())
            .await
            .map_err(wrap)?;
        tokio::fs::rename(&temporary, self.dir.join(&name))
            .await
            .map_err(wrap)?;
        tracing::info!("mail written to the outbox");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kikeru_domain::ports::Message;
    use kikeru_domain::{Email, Language, SessionToken};

    #[tokio::test]
    async fn each_mail_becomes_one_complete_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let links = Links::new("http://127.0.0.1:8080");
        let from = parse_sender("Minna Kikeru <no-reply@example.jp>").unwrap();
        let outbox = FileOutbox::new(dir.path().join("outbox"), from, links).unwrap();
        let token = SessionToken::from_bytes([1; 32]);
        let mail = Mail {
            to: Email::parse("hanako@example.jp").unwrap(),
            language: Language::Ja,
            message: Message::VerifyEmail {
                token: token.clone(),
            },
        };
        outbox.send(&mail).await.unwrap();
        let files: Vec<_> = std::fs::read_dir(outbox.dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].extension().unwrap(), "eml");
        let raw = std::fs::read(&files[0]).unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address(),
            Some("hanako@example.jp")
        );
        assert_eq!(
            parsed.header_raw("X-Kikeru-Kind").map(str::trim),
            Some("verify_email")
        );
        assert_eq!(
            parsed.subject(),
            Some("【みんな聞ける】メールアドレスの確認")
        );
        let text = parsed.body_text(0).unwrap();
        let link = format!(
            "http://127.0.0.1:8080/verify-email?token={}",
            token.expose()
        );
        assert!(text.contains(&link), "{text}");
        assert!(text.contains("メールアドレス"));
        let html = parsed.body_html(0).unwrap();
        assert!(html.contains(&format!("<a href=\"{link}\">")), "{html}");
        assert!(
            !String::from_utf8_lossy(&raw).lines().any(|l| l.len() > 998),
            "no line longer than RFC 5322 allows"
        );
    }
}
