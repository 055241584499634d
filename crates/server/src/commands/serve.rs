//! `kikeru serve` (the default): the HTTP(S) server, the postman, the retention and statistics
//! jobs, and a graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use poem::listener::{Acceptor, AcceptorExt, Listener, TcpListener};

use super::retention::purge;
use crate::config::Config;
use crate::wiring::{build, open_store, seed_demo, seed_register};
use crate::{mail, stats, tls};

/// How often the catalogue's version is read to notice changes made by other processes or
/// nodes (a change shows everywhere within this and the time a rebuild takes).
const SHELF_POLL: Duration = Duration::from_secs(1);

pub(crate) async fn serve(mut config: Config, self_signed: bool) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    if config.migrate_on_start {
        store.migrate().await.context("migrating the database")?;
    }
    let shutdown = shutdown_signal()?;
    let listener = TcpListener::bind(config.listen);
    let material = tls_material(&config, self_signed)?;
    let https = material.is_some();
    let acceptor = match material {
        Some((cert, key)) => {
            // rustls speaks TLS 1.2 and 1.3 only, with modern cipher suites, in our order.
            let tls = tls::server_config(&cert, &key).context("the TLS certificate")?;
            let tcp = listener
                .into_acceptor()
                .await
                .with_context(|| format!("listening on {}", config.listen))?;
            tls::TlsAcceptor::new(tcp, tls).boxed()
        }
        None => listener
            .into_acceptor()
            .await
            .with_context(|| format!("listening on {}", config.listen))?
            .boxed(),
    };
    let scheme = if https { "https" } else { "http" };
    let local = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied());
    if let Some(addr) = local {
        // With port 0 and no public URL, the public origin is wherever the OS put us.
        if !config.public_url_configured {
            config.public_url = format!("{scheme}://{addr}");
        }
        tracing::info!(public_url = %config.public_url, "listening on {scheme}://{addr}");
    }
    let redirect = match (config.redirect_http_listen, https) {
        (Some(listen), true) => Some(tokio::spawn(redirect_to_https(
            listen,
            config.public_url.clone(),
        ))),
        (Some(_), false) => {
            anyhow::bail!(
                "redirect_http_listen needs HTTPS (tls_cert and tls_key, or --self-signed)"
            )
        }
        (None, _) => None,
    };
    seed_register(&store, &config).await?;
    let wake = Arc::new(tokio::sync::Notify::new());
    let (hits, recorded): (Arc<dyn kikeru_http::HitSink>, _) = if config.stats_enabled {
        let (sink, receiver) = stats::BufferedHits::new(stats::BUFFER);
        let writer = tokio::spawn(stats::write_hits(receiver, Arc::new(store.clone())));
        (sink, Some(writer))
    } else {
        (Arc::new(kikeru_http::NoHits), None)
    };
    let state = build(&config, &store, wake.clone(), hits)?;
    if config.demo_catalog {
        seed_demo(&config, &state).await?;
    }
    // The public catalogue is served from memory: built before the first request, then
    // rebuilt within a second of any change, whichever process or node made it.
    let storefront = state.services.storefront.clone();
    storefront
        .refresh()
        .await
        .context("reading the catalogue")?;
    let shelf = tokio::spawn(async move {
        let mut every = tokio::time::interval(SHELF_POLL);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            match storefront.refresh().await {
                Ok(false) => {}
                Ok(true) => tracing::info!(
                    version = storefront.shelf().version(),
                    pieces = storefront.shelf().len(),
                    "the catalogue changed; its shelf was rebuilt"
                ),
                Err(e) => tracing::warn!(error = %e, "reading the catalogue failed; retrying"),
            }
        }
    });
    let state_receipts = state.services.receipts.clone();
    let state_incidents = state.services.incidents.clone();
    let postman = state.services.postman.clone();
    let metrics = state.metrics.clone();
    let scraped = match config.metrics_listen {
        Some(listen) => Some(
            crate::metrics::listen(
                listen,
                metrics.clone(),
                state.services.clone(),
                store.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let app = kikeru_http::app(state);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let delivery = tokio::spawn(mail::deliver_until_stopped(
        postman,
        wake.clone(),
        stop.clone(),
        metrics.clone(),
    ));
    let retention_store = store.clone();
    let retention_config = config.clone();
    let retention_metrics = metrics.clone();
    let retention = tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            if let Err(e) = purge(&retention_store, &retention_config, &retention_metrics).await {
                tracing::warn!(error = %format!("{e:#}"), "the retention run failed; it runs again in an hour");
            }
        }
    });
    let issuer = state_receipts.clone();
    let receipts = tokio::spawn(async move {
        // Receipts follow payments within seconds; numbers are taken in the order orders were
        // paid, by whichever node runs first.
        let mut every = tokio::time::interval(Duration::from_secs(2));
        loop {
            every.tick().await;
            let started = std::time::Instant::now();
            let issued = issuer.issue_due(200).await;
            metrics.job("receipts", issued.is_ok(), started.elapsed());
            match issued {
                Ok(0) => {}
                Ok(issued) => tracing::info!(issued, "receipts issued"),
                Err(e) => tracing::warn!(error = %e, "issuing receipts failed; retrying"),
            }
            // Approved incident notices too large to send while the administrator waited.
            match state_incidents.continue_notices(50).await {
                Ok(0) => {}
                Ok(sent) => tracing::info!(sent, "incident notices put in the outbox"),
                Err(e) => tracing::warn!(error = %e, "sending incident notices failed; retrying"),
            }
        }
    });
    poem::Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown, Some(Duration::from_secs(30)))
        .await
        .context("serving")?;
    retention.abort();
    receipts.abort();
    if let Some(scraped) = scraped {
        scraped.abort();
    }
    shelf.abort();
    if let Some(redirect) = redirect {
        redirect.abort();
    }
    // The site is gone with its senders: the writer stores what is left and ends.
    if let Some(writer) = recorded
        && tokio::time::timeout(Duration::from_secs(10), writer)
            .await
            .is_err()
    {
        tracing::warn!("the statistics writer did not finish in time");
    }
    // Let the postman finish the mail in hand; what is left waits in the outbox.
    stop.store(true, std::sync::atomic::Ordering::Release);
    wake.notify_one();
    if tokio::time::timeout(Duration::from_secs(30), delivery)
        .await
        .is_err()
    {
        tracing::warn!("the postman did not stop in time; its mail is retried after the lease");
    }
    store.close().await.ok();
    tracing::info!("stopped");
    Ok(())
}

/// The certificate chain and key to serve HTTPS with (PEM), when HTTPS is on.
pub(crate) fn tls_material(
    config: &Config,
    self_signed: bool,
) -> anyhow::Result<Option<(Vec<u8>, Vec<u8>)>> {
    if let Some(tls) = &config.tls {
        let cert =
            std::fs::read(&tls.cert).with_context(|| format!("reading {}", tls.cert.display()))?;
        let key =
            std::fs::read(&tls.key).with_context(|| format!("reading {}", tls.key.display()))?;
        return Ok(Some((cert, key)));
    }
    if !self_signed {
        return Ok(None);
    }
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let made = rcgen::generate_simple_self_signed(names).context("making a certificate")?;
    tracing::warn!("serving HTTPS with a self-signed certificate: for local use only");
    Ok(Some((
        made.cert.pem().into_bytes(),
        made.signing_key.serialize_pem().into_bytes(),
    )))
}

/// Answers every plain-HTTP request with a permanent redirect to the same path at `origin`.
pub(crate) async fn redirect_to_https(
    listen: std::net::SocketAddr,
    origin: String,
) -> anyhow::Result<()> {
    use poem::{EndpointExt, IntoResponse};
    let redirect = poem::endpoint::make_sync(move |req: poem::Request| {
        let path = req
            .uri()
            .path_and_query()
            .map_or("/", poem::http::uri::PathAndQuery::as_str)
            .to_owned();
        poem::Response::builder()
            .status(poem::http::StatusCode::MOVED_PERMANENTLY)
            .header(poem::http::header::LOCATION, format!("{origin}{path}"))
            .finish()
            .into_response()
    });
    let listener = TcpListener::bind(listen);
    tracing::info!("redirecting http://{listen} to HTTPS");
    poem::Server::new(listener)
        .run(redirect.map_to_response())
        .await
        .with_context(|| format!("redirecting on {listen}"))
}

/// Resolves on SIGINT or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled, so a signal that arrives right after start-up is not lost.
pub(crate) fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).context("installing the SIGINT handler")?;
    let mut terminate =
        signal(SignalKind::terminate()).context("installing the SIGTERM handler")?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
        tracing::info!("shutting down: finishing requests in flight");
    })
}
