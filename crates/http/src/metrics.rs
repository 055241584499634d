//! The operators' metrics, in Prometheus' exposition format (OpenMetrics text, by
//! `prometheus-client`), served on a listener of their own (`metrics_listen`), never on the
//! public port.
//!
//! No label can carry personal data: requests are labelled by their route template (the
//! pattern that matched, `/api/v1/orders/:id`, never the path asked for), their method from a
//! closed list and their status class; everything else by a word from a closed list (a
//! provider, an outcome, a job). Every metric is documented in the README.

use std::sync::atomic::AtomicU64;
use std::time::Duration;

use poem::http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// A request's labels.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: &'static str,
}

/// A route template alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

/// A word from a closed list.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: &'static str,
}

/// A webhook's provider and what became of it.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookLabels {
    provider: &'static str,
    outcome: &'static str,
}

/// A mail delivery's outcome.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// A background job and how its run ended.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    outcome: &'static str,
}

/// A job alone.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobName {
    job: &'static str,
}

/// The connection pool's connections by state.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    state: &'static str,
}

/// The build.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
}

type Timings<L> = Family<L, Histogram, fn() -> Histogram>;

fn request_buckets() -> Histogram {
    // 1 ms to about 16 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn job_buckets() -> Histogram {
    // 10 ms to about 20 min.
    Histogram::new(exponential_buckets(0.01, 4.0, 9))
}

/// The routes where members and operators sign in: a 401 there is a failed sign-in.
const SIGN_INS: [(&str, &str); 5] = [
    ("/api/v1/sessions", "member"),
    ("/login", "member"),
    ("/api/v1/sessions/second-factor", "second_factor"),
    ("/admin/login", "operator"),
    ("/api/v1/admin/sessions", "operator"),
];

/// The webhook outcomes the JSON reply names (`unknown_reference`: answered 409 for the
/// provider to deliver again), and `rejected` for one refused.
const WEBHOOK_OUTCOMES: [&str; 5] = [
    "applied",
    "duplicate",
    "unchanged",
    "ignored",
    "unknown_reference",
];

/// Every metric of the service, and the registry that exposes them.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Timings<RequestLabels>,
    sign_in_failures: Family<KindLabels, Counter>,
    throttled: Family<RouteLabels, Counter>,
    webhooks: Family<WebhookLabels, Counter>,
    deliveries: Family<OutcomeLabels, Counter>,
    outbox_waiting: Gauge,
    outbox_given_up: Gauge,
    outbox_oldest_due_age: Gauge<f64, AtomicU64>,
    receipts_pending: Gauge,
    job_runs: Family<JobLabels, Counter>,
    job_seconds: Timings<JobName>,
    pool: Family<PoolLabels, Gauge>,
    pool_max: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics { .. }")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn method_name(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}

impl Metrics {
    /// Every metric at zero, registered under `kikeru_`.
    #[must_use]
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("kikeru");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status class",
            requests.clone(),
        );
        let latency = Timings::<RequestLabels>::new_with_constructor(request_buckets);
        registry.register(
            "http_request_duration_seconds",
            "Time from a request's arrival to its answer, by method, route template and status class",
            latency.clone(),
        );
        let sign_in_failures = Family::<KindLabels, Counter>::default();
        registry.register(
            "sign_in_failures",
            "Failed sign-ins (wrong password or code) by kind: member, second_factor, operator",
            sign_in_failures.clone(),
        );
        let throttled = Family::<RouteLabels, Counter>::default();
        registry.register(
            "throttled_requests",
            "Requests refused for their rate (429), by route template",
            throttled.clone(),
        );
        let webhooks = Family::<WebhookLabels, Counter>::default();
        registry.register(
            "webhook_events",
            "Payment webhooks by provider and outcome: applied, duplicate, unchanged, ignored, unknown_reference (to be delivered again), rejected (bad signature or body)",
            webhooks.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "mail_deliveries",
            "Mail delivery attempts by outcome: sent, retrying, failed (given up), lost_claim",
            deliveries.clone(),
        );
        let outbox_waiting = Gauge::default();
        registry.register(
            "outbox_waiting",
            "Mail waiting in the outbox for a first attempt or a retry",
            outbox_waiting.clone(),
        );
        let outbox_given_up = Gauge::default();
        registry.register(
            "outbox_given_up",
            "Mail the postman gave up on, kept until the mail retention removes it",
            outbox_given_up.clone(),
        );
        let outbox_oldest_due_age = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "outbox_oldest_due_age_seconds",
            "How long the longest-waiting mail has been due (0 when none is late)",
            outbox_oldest_due_age.clone(),
        );
        let receipts_pending = Gauge::default();
        registry.register(
            "receipts_pending",
            "Paid orders whose receipt is not issued yet (counted up to 1000)",
            receipts_pending.clone(),
        );
        let job_runs = Family::<JobLabels, Counter>::default();
        registry.register(
            "job_runs",
            "Background job runs by job (retention, statistics, receipts) and outcome (ok, failed)",
            job_runs.clone(),
        );
        let job_seconds = Timings::<JobName>::new_with_constructor(job_buckets);
        registry.register(
            "job_duration_seconds",
            "How long each background job run took",
            job_seconds.clone(),
        );
        let pool = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database connections by state: in_use, idle",
            pool.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "db_pool_max_connections",
            "The most database connections the pool opens",
            pool_max.clone(),
        );
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
            })
            .set(1);
        registry.register("build_info", "The running build (always 1)", build);
        Self {
            registry,
            requests,
            latency,
            sign_in_failures,
            throttled,
            webhooks,
            deliveries,
            outbox_waiting,
            outbox_given_up,
            outbox_oldest_due_age,
            receipts_pending,
            job_runs,
            job_seconds,
            pool,
            pool_max,
        }
    }

    /// Counts an answered request: `route` is the template that matched (`None` when none did).
    pub fn request(&self, method: &Method, route: Option<&str>, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched");
        let labels = RequestLabels {
            method: method_name(method),
            route: route.to_owned(),
            status: status_class(status),
        };
        self.requests.get_or_create(&labels).inc();
        self.latency
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
        if status == 429 {
            self.throttled
                .get_or_create(&RouteLabels {
                    route: route.to_owned(),
                })
                .inc();
        }
        if status == 401
            && *method == Method::POST
            && let Some((_, kind)) = SIGN_INS.iter().find(|(r, _)| *r == route)
        {
            self.sign_in_failures
                .get_or_create(&KindLabels { kind })
                .inc();
        }
    }

    /// Counts a webhook from `provider` (a configured provider's name) with `outcome` (as the
    /// reply names it; anything else counts as `rejected`).
    pub fn webhook(&self, provider: &'static str, outcome: &str) {
        let outcome = WEBHOOK_OUTCOMES
            .iter()
            .find(|o| **o == outcome)
            .copied()
            .unwrap_or("rejected");
        self.webhooks
            .get_or_create(&WebhookLabels { provider, outcome })
            .inc();
    }

    /// Counts a postman's round.
    pub fn mail_round(&self, round: &kikeru_domain::mail::postman::Round) {
        for (outcome, n) in [
            ("sent", round.sent),
            ("retrying", round.retrying),
            ("failed", round.failed),
            ("lost_claim", round.lost_claims),
        ] {
            if n > 0 {
                self.deliveries
                    .get_or_create(&OutcomeLabels { outcome })
                    .inc_by(u64::from(n));
            }
        }
    }

    /// Counts a run of a background `job` that took `took`.
    pub fn job(&self, job: &'static str, ok: bool, took: Duration) {
        let outcome = if ok { "ok" } else { "failed" };
        self.job_runs
            .get_or_create(&JobLabels { job, outcome })
            .inc();
        self.job_seconds
            .get_or_create(&JobName { job })
            .observe(took.as_secs_f64());
    }

    /// Sets the outbox's gauges from its counts at `now`.
    pub fn outbox(
        &self,
        counts: &kikeru_domain::mail::outbox::OutboxCounts,
        now: kikeru_domain::Timestamp,
    ) {
        self.outbox_waiting
            .set(i64::try_from(counts.pending).unwrap_or(i64::MAX));
        self.outbox_given_up
            .set(i64::try_from(counts.failed).unwrap_or(i64::MAX));
        let late = counts
            .oldest_due
            .map_or(0.0, |due| (now - due).as_seconds_f64().max(0.0));
        self.outbox_oldest_due_age.set(late);
    }

    /// Sets how many paid orders wait for their receipt.
    pub fn receipts_pending(&self, n: usize) {
        self.receipts_pending
            .set(i64::try_from(n).unwrap_or(i64::MAX));
    }

    /// Sets the connection pool's gauges.
    pub fn pool(&self, in_use: u32, idle: u32, max: u32) {
        self.pool
            .get_or_create(&PoolLabels { state: "in_use" })
            .set(i64::from(in_use));
        self.pool
            .get_or_create(&PoolLabels { state: "idle" })
            .set(i64::from(idle));
        self.pool_max.set(i64::from(max));
    }

    /// The exposition (OpenMetrics text).
    #[must_use]
    pub fn exposition(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            tracing::error!("the metrics could not be encoded");
        }
        text
    }
}

/// The content type of [`Metrics::exposition`].
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Reads what a scrape reports of storage (the outbox, pending receipts) into `metrics`.
///
/// # Errors
/// When storage fails.
pub async fn refresh(
    metrics: &Metrics,
    services: &kikeru_domain::Services,
    now: kikeru_domain::Timestamp,
) -> Result<(), kikeru_domain::StoreError> {
    metrics.outbox(&services.postman.counts().await?, now);
    metrics.receipts_pending(services.receipts.pending(1000).await?);
    Ok(())
}
