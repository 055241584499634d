//! Mail adapters: message templates in Japanese and English, and the file outbox (the embedded
//! default), which writes each message as one `.eml` file.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use kikeru_domain::ports::{Mail, MailError, Mailer};

mod message;
mod templates;

pub use message::{decoded_body, render_rfc5322};
pub use templates::{Links, Rendered, render};

/// Writes every mail as an RFC 5322 file into a folder. Files appear atomically (written to a
/// temporary name, then renamed), so a reader never sees half a message.
#[derive(Debug, Clone)]
pub struct FileOutbox {
    dir: PathBuf,
    from: String,
    links: Links,
}

impl FileOutbox {
    /// An outbox writing into `dir` (created if missing), sending as `from`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(
        dir: impl Into<PathBuf>,
        from: impl Into<String>,
        links: Links,
    ) -> std::io::Result<Self> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(Self {
            dir,
            from: from.into(),
            links,
        })
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
        let rendered = render(mail, &self.links);
        #[allow(
            clippy::disallowed_methods,
            reason = "the Date header and file name, not a domain time"
        )]
        let now = time::OffsetDateTime::now_utc();
        let id = uuid::Uuid::now_v7();
        let text = render_rfc5322(
            &self.from,
            mail.to.as_str(),
            &rendered,
            mail.message.kind(),
            now,
            id,
        );
        let name = format!("{}-{id}.eml", now.unix_timestamp());
        let temporary = self.dir.join(format!(".{name}.tmp"));
        let wrap = |e: std::io::Error| MailError(Box::new(e));
        tokio::fs::write(&temporary, text).await.map_err(wrap)?;
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
        let outbox = FileOutbox::new(
            dir.path().join("outbox"),
            "Minna Kikeru <no-reply@example.jp>",
            links,
        )
        .unwrap();
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
        let text = std::fs::read_to_string(&files[0]).unwrap();
        assert!(text.contains("To: hanako@example.jp\r\n"));
        assert!(text.contains("X-Kikeru-Kind: verify_email\r\n"));
        assert!(text.contains("Subject: =?UTF-8?B?"));
        let body = decoded_body(&text).unwrap();
        assert!(body.contains(&format!(
            "http://127.0.0.1:8080/verify-email?token={}",
            token.expose()
        )));
        assert!(body.contains("メールアドレス"));
    }
}
