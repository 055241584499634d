//! The operators' metrics listener: `GET /metrics` in Prometheus' exposition format on an
//! address of its own (`metrics_listen`, e.g. `127.0.0.1:9464`), never the public port. Each
//! scrape first reads what only storage knows (the outbox, the receipts pending issue, the
//! connection pool) into the gauges.

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use kikeru_http::metrics::{CONTENT_TYPE, Metrics, refresh};
use kikeru_store::SqlStore;
use poem::listener::{Acceptor, Listener, TcpListener};
use poem::{EndpointExt, Response, Route, get, handler, http::StatusCode, web::Data};

use crate::adapters::SystemClock;

/// What a scrape reads.
#[derive(Clone)]
struct Scrape {
    metrics: Arc<Metrics>,
    services: kikeru_domain::Services,
    store: SqlStore,
}

#[handler]
async fn scrape(scrape: Data<&Scrape>) -> Response {
    use kikeru_domain::ports::Clock;
    let pool = scrape.store.pool_status();
    scrape.metrics.pool(pool.in_use, pool.idle, pool.max);
    if let Err(e) = refresh(&scrape.metrics, &scrape.services, SystemClock.now()).await {
        // The counters are still worth having; the gauges keep their last reading.
        tracing::warn!(error = %e, "the metrics could not read storage");
    }
    Response::builder()
        .status(StatusCode::OK)
        .content_type(CONTENT_TYPE)
        .header("cache-control", "no-store")
        .body(scrape.metrics.exposition())
}

/// Binds `listen` and serves `/metrics` there until aborted.
///
/// # Errors
/// When the address cannot be bound.
pub(crate) async fn listen(
    listen: SocketAddr,
    metrics: Arc<Metrics>,
    services: kikeru_domain::Services,
    store: SqlStore,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let acceptor = TcpListener::bind(listen)
        .into_acceptor()
        .await
        .with_context(|| format!("listening for metrics on {listen}"))?;
    if let Some(addr) = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
    {
        tracing::info!("metrics on http://{addr} (GET /metrics)");
    }
    let app = Route::new().at("/metrics", get(scrape)).data(Scrape {
        metrics,
        services,
        store,
    });
    Ok(tokio::spawn(async move {
        if let Err(e) = poem::Server::new_with_acceptor(acceptor).run(app).await {
            tracing::error!(error = %e, "the metrics listener stopped");
        }
    }))
}
