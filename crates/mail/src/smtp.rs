//! Sending through an SMTP server (the mail provider): STARTTLS, implicit TLS or, for a relay
//! on the same host only, plain; authentication; timeouts. A 5xx answer is a permanent failure,
//! anything else (4xx, a timeout, a lost connection) a temporary one the postman retries.

use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::ports::{Mail, MailError, Mailer};
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::compose::compose;
use crate::templates::Links;

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same host (port 25 on loopback).
    None,
}

impl Security {
    /// Reads `starttls`, `tls` or `none`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "starttls" => Some(Self::StartTls),
            "tls" => Some(Self::Tls),
            "none" => Some(Self::None),
            _ => None,
        }
    }
}

/// Where and how to send.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// The server's host name (also the name its certificate must carry).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// How the connection is protected.
    pub security: Security,
    /// The user name and password, when the server wants them.
    pub credentials: Option<(String, String)>,
    /// How long one command may take.
    pub timeout: Duration,
    /// A PEM file of certificate authorities to trust besides the system's (a private CA).
    pub ca_file: Option<PathBuf>,
    /// The sender.
    pub from: Mailbox,
    /// Where links in mail point.
    pub links: Links,
}

/// The SMTP sender could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The CA file cannot be read.
    #[error("cannot read the CA file {0}: {1}")]
    CaFile(PathBuf, std::io::Error),
    /// TLS could not be configured (a malformed certificate, say).
    #[error("TLS setup failed: {0}")]
    Tls(#[source] lettre::transport::smtp::Error),
}

/// The [`Mailer`] that hands mail to an SMTP server.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    links: Links,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpMailer")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

impl SmtpMailer {
    /// A sender for `config`. Nothing is connected yet.
    ///
    /// # Errors
    /// [`SmtpError`] when the CA file or TLS setup is wrong.
    pub fn new(config: SmtpConfig) -> Result<Self, SmtpError> {
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host)
            .port(config.port)
            .timeout(Some(config.timeout));
        if config.security != Security::None {
            let mut tls = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).map_err(|e| SmtpError::CaFile(path.clone(), e))?;
                tls =
                    tls.add_root_certificate(Certificate::from_pem(&pem).map_err(SmtpError::Tls)?);
            }
            let parameters = tls.build_rustls().map_err(SmtpError::Tls)?;
            builder = builder.tls(match config.security {
                Security::Tls => Tls::Wrapper(parameters),
                _ => Tls::Required(parameters),
            });
        }
        if let Some((user, password)) = config.credentials {
            builder = builder.credentials(Credentials::new(user, password));
        }
        Ok(Self {
            transport: builder.build(),
            from: config.from,
            links: config.links,
        })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    #[tracing::instrument(skip_all, fields(kind = mail.message.kind()))]
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message =
            compose(mail, &self.from, &self.links).map_err(|e| MailError::Permanent(e.into()))?;
        match self.transport.send(message).await {
            Ok(response) => {
                tracing::info!(code = %response.code(), "mail handed to the SMTP server");
                Ok(())
            }
            Err(e) if e.is_permanent() => Err(MailError::Permanent(Box::new(e))),
            Err(e) => Err(MailError::Temporary(Box::new(e))),
        }
    }
}
