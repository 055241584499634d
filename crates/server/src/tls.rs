//! HTTPS with rustls, configured here rather than by poem's `RustlsConfig` so the server's own
//! preference decides the cipher suite (TLS 1.3 and 1.2 only, the provider's modern AEAD suites,
//! forward secrecy throughout) and a client cannot talk it down to a weaker one it lists first.

use std::sync::Arc;

use poem::http::uri::Scheme;
use poem::listener::Acceptor;
use poem::web::{LocalAddr, RemoteAddr};
use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// The TLS settings for a certificate chain and its key, both PEM.
///
/// # Errors
/// When the PEM does not hold a certificate chain and a private key that belong together.
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<ServerConfig> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow::anyhow!("the certificate file: {e}"))?;
    if chain.is_empty() {
        anyhow::bail!("the certificate file holds no certificate");
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| anyhow::anyhow!("the key file: {e}"))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| anyhow::anyhow!("the certificate and key: {e}"))?;
    config.ignore_client_order = true;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// How long a client may take over its handshake.
const HANDSHAKE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

type Handshaken<Io> = std::io::Result<(tokio_rustls::server::TlsStream<Io>, LocalAddr, RemoteAddr)>;

/// Wraps an acceptor (TCP) in TLS. Each handshake runs in a task of its own (with a time
/// limit), so a slow or silent client never holds up the next accept; finished connections
/// are handed over in the order they complete.
#[derive(Debug)]
pub struct TlsAcceptor<Io> {
    local: Vec<LocalAddr>,
    ready: tokio::sync::mpsc::Receiver<Handshaken<Io>>,
}

impl<Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> TlsAcceptor<Io> {
    /// TLS with `config` over `inner`.
    pub fn new<A: Acceptor<Io = Io> + 'static>(mut inner: A, config: ServerConfig) -> Self {
        let local = inner.local_addr();
        let tls = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let (done, ready) = tokio::sync::mpsc::channel(64);
        tokio::spawn(async move {
            loop {
                match inner.accept().await {
                    Ok((stream, local, remote, _)) => {
                        let (tls, done) = (tls.clone(), done.clone());
                        tokio::spawn(async move {
                            match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await
                            {
                                Ok(Ok(stream)) => {
                                    let _ = done.send(Ok((stream, local, remote))).await;
                                }
                                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                                Err(_) => tracing::debug!("TLS handshake timed out"),
                            }
                        });
                    }
                    Err(e) => {
                        if done.send(Err(e)).await.is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Self { local, ready }
    }
}

impl<Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static> Acceptor
    for TlsAcceptor<Io>
{
    type Io = tokio_rustls::server::TlsStream<Io>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.local.clone()
    }

    async fn accept(&mut self) -> std::io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        match self.ready.recv().await {
            Some(Ok((stream, local, remote))) => Ok((stream, local, remote, Scheme::HTTPS)),
            Some(Err(e)) => Err(e),
            None => Err(std::io::Error::other("the listener stopped")),
        }
    }
}
