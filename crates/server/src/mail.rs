//! Mail in both directions: the configured mail provider and the postman that delivers the
//! outbox, and mail sent to the service — `kikeru mail ingest` (one message on standard input,
//! as an MTA delivers to a program) and an LMTP listener.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use kikeru_domain::StoreError;
use kikeru_domain::changes::{Changes, UnitOfWork};
use kikeru_domain::mail::postman::Postman;
use kikeru_domain::office::inquiry::{ContactDesk, ContactError, Received};
use kikeru_domain::ports::Mailer;
use kikeru_mail::inbound::{self, Refusal};
use kikeru_mail::{FileOutbox, Links, Security, SmtpConfig, SmtpMailer, parse_sender};
use kikeru_store::SqlStore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;

use crate::config::{Config, ConfigError, MailTransport, SmtpSecurity};

/// sysexits: the input data was incorrect (the MTA bounces the message).
pub const EX_DATAERR: u8 = 65;
/// sysexits: a temporary failure (the MTA keeps the message and tries again).
pub const EX_TEMPFAIL: u8 = 75;

/// A command's failure with the exit code it calls for.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    /// The process's exit code.
    pub code: u8,
    /// What went wrong.
    pub message: String,
}

/// The configured mail provider.
///
/// # Errors
/// When the outbox folder cannot be created or SMTP's TLS setup fails.
pub fn mailer(config: &Config) -> anyhow::Result<Arc<dyn Mailer>> {
    let from = parse_sender(&config.mail_from).map_err(|problem| {
        ConfigError(vec![format!(
            "mail_from: {:?} is {problem}",
            config.mail_from
        )])
    })?;
    let links = Links::new(&config.public_url);
    Ok(match &config.mail_transport {
        MailTransport::Outbox => Arc::new(
            FileOutbox::new(&config.mail_outbox_dir, from, links).with_context(|| {
                format!(
                    "creating the mail outbox {}",
                    config.mail_outbox_dir.display()
                )
            })?,
        ),
        MailTransport::Smtp(smtp) => Arc::new(
            SmtpMailer::new(SmtpConfig {
                host: smtp.host.clone(),
                port: smtp.port,
                security: match smtp.security {
                    SmtpSecurity::StartTls => Security::StartTls,
                    SmtpSecurity::Tls => Security::Tls,
                    SmtpSecurity::None => Security::None,
                },
                credentials: smtp
                    .username
                    .clone()
                    .zip(smtp.password.as_ref().map(|p| p.expose().to_owned())),
                timeout: smtp.timeout,
                ca_file: smtp.ca_file.clone(),
                from,
                links,
            })
            .context("setting up SMTP")?,
        ),
    })
}

/// Wakes the postman when a unit of work put mail in the outbox, so mail leaves at once rather
/// than at the next poll.
#[derive(Debug, Clone)]
pub struct WakingUnit {
    store: Arc<SqlStore>,
    wake: Arc<Notify>,
}

impl WakingUnit {
    /// Units on `store` that ring `wake`.
    pub fn new(store: Arc<SqlStore>, wake: Arc<Notify>) -> Self {
        Self { store, wake }
    }
}

#[async_trait]
impl UnitOfWork for WakingUnit {
    async fn apply(&self, changes: Changes) -> Result<(), StoreError> {
        let mails = changes.mails().next().is_some();
        self.store.apply(changes).await?;
        if mails {
            self.wake.notify_one();
        }
        Ok(())
    }
}

/// How long the postman lets mail gather after a round that was not full: a burst of units
/// then costs one claim per batch rather than one per mail, for a few milliseconds of delay.
const GATHER: Duration = Duration::from_millis(20);

/// The postman's loop: a round whenever woken, and at least every second; mail that fails
/// waits for its retry time in the outbox. Stops between rounds once `stop` is set.
pub async fn deliver_until_stopped(
    postman: Postman,
    wake: Arc<Notify>,
    stop: Arc<AtomicBool>,
    metrics: Arc<kikeru_http::metrics::Metrics>,
) {
    while !stop.load(Ordering::Acquire) {
        match postman.deliver_due().await {
            Ok(round) if round.claimed() > 0 => {
                metrics.mail_round(&round);
                tracing::info!(
                    sent = round.sent,
                    retrying = round.retrying,
                    failed = round.failed,
                    "mail delivered"
                );
                // A full batch may have left more behind; otherwise let the next gather.
                if round.claimed() < postman.batch() {
                    tokio::time::sleep(GATHER).await;
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "the outbox could not be read; retrying"),
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), wake.notified()).await;
    }
}

/// Reads one message from standard input and stores it as an inquiry.
///
/// # Errors
/// [`Exit`] with 65 for a message that can never be stored (the MTA bounces it with the
/// reason) and 75 when storage is unavailable (the MTA retries).
pub async fn ingest(contact: &ContactDesk, max_bytes: usize) -> Result<String, Exit> {
    let read = tokio::task::spawn_blocking(move || {
        use std::io::Read;
        let mut raw = Vec::new();
        std::io::stdin()
            .take(max_bytes as u64 + 1)
            .read_to_end(&mut raw)
            .map(|_| raw)
    })
    .await;
    let raw = match read {
        Ok(Ok(raw)) => raw,
        Ok(Err(e)) => {
            return Err(Exit {
                code: EX_TEMPFAIL,
                message: format!("cannot read the message: {e}"),
            });
        }
        Err(e) => {
            return Err(Exit {
                code: EX_TEMPFAIL,
                message: format!("cannot read the message: {e}"),
            });
        }
    };
    receive(contact, &raw, max_bytes).await
}

/// Stores one raw message as an inquiry; the answer for the log, or the [`Exit`] to give.
async fn receive(contact: &ContactDesk, raw: &[u8], max_bytes: usize) -> Result<String, Exit> {
    let mail = match inbound::parse(raw, max_bytes) {
        Ok(mail) => mail,
        Err(Refusal::AutoSubmitted) => {
            return Ok("an automatic reply: ignored".to_owned());
        }
        Err(refusal) => {
            return Err(Exit {
                code: EX_DATAERR,
                message: format!("message refused: {refusal}"),
            });
        }
    };
    match contact.receive_mail(mail).await {
        Ok(Received::Stored(reference)) => Ok(format!("stored as inquiry {reference}")),
        Ok(Received::Duplicate(reference)) => Ok(format!("already stored as inquiry {reference}")),
        Err(ContactError::Invalid(problem)) => Err(Exit {
            code: EX_DATAERR,
            message: format!("message refused: {problem}"),
        }),
        Err(e) => Err(Exit {
            code: EX_TEMPFAIL,
            message: format!("cannot store the message now: {e}"),
        }),
    }
}

/// What an LMTP listener allows a peer.
#[derive(Debug, Clone, Copy)]
pub struct LmtpLimits {
    /// The largest message, in bytes.
    pub max_bytes: usize,
    /// How long a peer may stay silent (RFC 5321 §4.5.3.2 suggests 5 minutes).
    pub idle: std::time::Duration,
    /// Connections served at once; more are told to come back later (421).
    pub connections: usize,
}

impl LmtpLimits {
    /// The limits for messages up to `max_bytes`.
    pub const fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            idle: std::time::Duration::from_secs(300),
            connections: 32,
        }
    }
}

/// Serves LMTP (RFC 2033) on `listen` until `shutdown` resolves: each message becomes an
/// inquiry, with one reply per accepted recipient. Every read is bounded (a line, a message,
/// a silence) and so is the number of peers served at once.
///
/// # Errors
/// When the address cannot be bound.
pub async fn serve_lmtp(
    listen: SocketAddr,
    contact: ContactDesk,
    limits: LmtpLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("listening for LMTP on {listen}"))?;
    tracing::info!("LMTP listening on {}", listener.local_addr()?);
    serve_lmtp_on(listener, contact, limits, shutdown).await;
    Ok(())
}

async fn serve_lmtp_on(
    listener: tokio::net::TcpListener,
    contact: ContactDesk,
    limits: LmtpLimits,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let slots = std::sync::Arc::new(tokio::sync::Semaphore::new(limits.connections));
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => {
                let (mut socket, peer) = match accepted {
                    Ok(pair) => pair,
                    Err(e) => {
                        tracing::warn!(error = %e, "accepting an LMTP connection failed");
                        continue;
                    }
                };
                let Ok(slot) = std::sync::Arc::clone(&slots).try_acquire_owned() else {
                    tracing::warn!(%peer, "LMTP: too many connections; told to come back");
                    tokio::spawn(async move {
                        let _ = tokio::time::timeout(
                            std::time::Duration::from_secs(5),
                            socket.write_all(b"421 4.3.2 too busy, try again later\r\n"),
                        )
                        .await;
                    });
                    continue;
                };
                let contact = contact.clone();
                tokio::spawn(async move {
                    if let Err(e) = lmtp_session(socket, &contact, limits).await {
                        tracing::info!(%peer, error = %e, "LMTP session ended");
                    }
                    drop(slot);
                });
            }
        }
    }
}

/// The longest command line accepted (RFC 5321 allows 512 octets; extensions add a little).
const MAX_LINE: usize = 2048;

async fn lmtp_session(
    socket: tokio::net::TcpStream,
    contact: &ContactDesk,
    limits: LmtpLimits,
) -> std::io::Result<()> {
    let max_bytes = limits.max_bytes;
    let (read, mut write) = socket.into_split();
    let mut reader = BufReader::new(read);
    write.write_all(b"220 kikeru LMTP ready\r\n").await?;
    let mut sender = false;
    let mut recipients = 0usize;
    loop {
        let line = match tokio::time::timeout(limits.idle, read_line(&mut reader, MAX_LINE)).await {
            Ok(line) => line?,
            Err(_) => {
                write
                    .write_all(b"421 4.4.2 idle for too long, closing\r\n")
                    .await?;
                return Ok(());
            }
        };
        let Some(line) = line else {
            return Ok(());
        };
        let upper = line.to_ascii_uppercase();
        let verb = upper.split_whitespace().next().unwrap_or_default();
        let reply: &[u8] = match verb {
            "LHLO" => {
                b"250-kikeru\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
            }
            "MAIL" if upper.starts_with("MAIL FROM:") => {
                sender = true;
                recipients = 0;
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" if !sender => b"503 5.5.1 MAIL first\r\n",
            "RCPT" if upper.starts_with("RCPT TO:") => {
                recipients += 1;
                b"250 2.1.5 OK\r\n"
            }
            "DATA" if recipients == 0 => b"503 5.5.1 RCPT first\r\n",
            "DATA" => {
                write
                    .write_all(b"354 Start mail input; end with <CRLF>.<CRLF>\r\n")
                    .await?;
                let data = tokio::time::timeout(limits.idle, read_data(&mut reader, max_bytes));
                let Ok(data) = data.await else {
                    write
                        .write_all(b"421 4.4.2 idle for too long, closing\r\n")
                        .await?;
                    return Ok(());
                };
                let reply = match data? {
                    Some(raw) => match receive(contact, &raw, max_bytes).await {
                        Ok(outcome) => {
                            tracing::info!("{outcome}");
                            "250 2.0.0 OK\r\n".to_owned()
                        }
                        Err(exit) if exit.code == EX_DATAERR => {
                            format!("550 5.6.0 {}\r\n", exit.message)
                        }
                        Err(exit) => format!("451 4.3.0 {}\r\n", exit.message),
                    },
                    None => format!("552 5.3.4 the message is larger than {max_bytes} bytes\r\n"),
                };
                // LMTP answers once per accepted recipient.
                for _ in 0..recipients {
                    write.write_all(reply.as_bytes()).await?;
                }
                sender = false;
                recipients = 0;
                continue;
            }
            "RSET" => {
                sender = false;
                recipients = 0;
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                write.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            _ => b"500 5.5.2 command not recognised\r\n",
        };
        write.write_all(reply).await?;
    }
}

/// One line without its line end; `None` at the end of the stream.
async fn read_line(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    max: usize,
) -> std::io::Result<Option<String>> {
    let mut line = Vec::new();
    let read = (&mut *reader)
        .take(max as u64)
        .read_until(b'\n', &mut line)
        .await?;
    if read == 0 {
        return Ok(None);
    }
    if !line.ends_with(b"\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "line too long",
        ));
    }
    Ok(Some(
        String::from_utf8_lossy(&line)
            .trim_end_matches(['\r', '\n'])
            .to_owned(),
    ))
}

/// How much of a line is read at once while receiving a message: a longer line is read in
/// pieces, so that a peer that never ends its line costs no more memory than this.
const DATA_CHUNK: u64 = 64 * 1024;

/// The message after DATA up to the lone dot, dot-unstuffed; `None` when it grew past
/// `max_bytes` (the rest is read and dropped, so the session can go on). Memory stays within
/// `max_bytes` plus one chunk, however the peer breaks its lines.
async fn read_data(
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    max_bytes: usize,
) -> std::io::Result<Option<Vec<u8>>> {
    let mut message = Vec::new();
    let mut too_large = false;
    let mut line_start = true;
    loop {
        let mut chunk = Vec::new();
        if (&mut *reader)
            .take(DATA_CHUNK)
            .read_until(b'\n', &mut chunk)
            .await?
            == 0
        {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if line_start && (chunk == b".\r\n" || chunk == b".\n") {
            return Ok((!too_large).then_some(message));
        }
        let piece = if line_start {
            chunk.strip_prefix(b".").unwrap_or(&chunk)
        } else {
            &chunk
        };
        if !too_large && message.len() + piece.len() > max_bytes {
            too_large = true;
            message = Vec::new();
        }
        if !too_large {
            message.extend_from_slice(piece);
        }
        line_start = chunk.ends_with(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn data_is_dot_unstuffed_and_bounded() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            socket
                .write_all(
                    b"Subject: x\r\n\r\n..leading dot\r\nbody\r\n.\r\nbig\r\nbigger\r\n.\r\n",
                )
                .await
                .unwrap();
        });
        let (socket, _) = listener.accept().await.unwrap();
        let (read, _write) = socket.into_split();
        let mut reader = BufReader::new(read);
        let first = read_data(&mut reader, 1000).await.unwrap().unwrap();
        assert_eq!(first, b"Subject: x\r\n\r\n.leading dot\r\nbody\r\n");
        assert_eq!(read_data(&mut reader, 8).await.unwrap(), None);
        client.await.unwrap();
    }

    /// A peer that never ends its line is read in bounded pieces and refused as too large;
    /// the session goes on.
    #[tokio::test]
    async fn a_line_without_an_end_costs_no_more_than_the_limit() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let client = tokio::spawn(async move {
            let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
            let endless = vec![b'x'; 1024 * 1024];
            socket.write_all(&endless).await.unwrap();
            socket.write_all(b"\r\n.\r\nsmall\r\n.\r\n").await.unwrap();
        });
        let (socket, _) = listener.accept().await.unwrap();
        let (read, _write) = socket.into_split();
        let mut reader = BufReader::new(read);
        assert_eq!(read_data(&mut reader, 1000).await.unwrap(), None);
        assert_eq!(
            read_data(&mut reader, 1000).await.unwrap().unwrap(),
            b"small\r\n"
        );
        client.await.unwrap();
    }

    fn contact() -> ContactDesk {
        kikeru_testkit::Harness::new(time::macros::datetime!(2026-04-01 09:00 UTC)).contact
    }

    async fn reply(socket: &mut tokio::net::TcpStream) -> String {
        use tokio::io::AsyncReadExt as _;
        let mut buffer = vec![0; 512];
        let n = tokio::time::timeout(std::time::Duration::from_secs(5), socket.read(&mut buffer))
            .await
            .expect("an answer in time")
            .unwrap();
        String::from_utf8_lossy(&buffer[..n]).into_owned()
    }

    /// A silent peer is told so and let go; past the cap of peers at once, a new one is told
    /// to come back later.
    #[tokio::test]
    async fn silent_peers_are_let_go_and_peers_are_capped() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let limits = LmtpLimits {
            max_bytes: 1000,
            idle: std::time::Duration::from_millis(300),
            connections: 1,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve_lmtp_on(listener, contact(), limits, async {
            let _ = stopped.await;
        }));
        let mut first = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(reply(&mut first).await.starts_with("220"));
        let mut second = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(reply(&mut second).await.starts_with("421 4.3.2"));
        // The first says nothing: it is let go, and its slot is free again.
        assert!(reply(&mut first).await.starts_with("421 4.4.2"));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut third = tokio::net::TcpStream::connect(addr).await.unwrap();
        assert!(reply(&mut third).await.starts_with("220"));
        stop.send(()).unwrap();
        server.await.unwrap();
    }
}
