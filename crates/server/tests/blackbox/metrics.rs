//! The operators' metrics against the real binary, on SQLite and PostgreSQL: with
//! `KIKERU_METRICS_LISTEN` set, `/metrics` answers on its own port (and not on the public
//! one); after a journey — a member registers (mail), buys in the sandbox (a receipt), the
//! provider redelivers and someone forges a webhook, a sign-in fails — the counters moved as
//! expected, and no label carries anything personal.

use serde_json::json;

use crate::shop::{SECRET, bought_in_sandbox, member_in, signed};
use crate::support::Server;
use crate::support::http::Client;

/// The address of the metrics listener, from the server's log.
fn metrics_base(server: &Server) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        for line in server.log_lines() {
            if let Some(at) = line.find("metrics on http://") {
                let rest = &line[at + "metrics on ".len()..];
                let url = rest.split_whitespace().next().unwrap_or_default();
                return url
                    .trim_end_matches(|c: char| !c.is_ascii_digit())
                    .to_owned();
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no metrics listener in the log"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// The sum of the samples of `name` whose labels include every one of `labels`.
fn sample(text: &str, name: &str, labels: &[&str]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .filter(|l| labels.iter().all(|label| l.contains(label)))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// Whether `text` holds a UUID or any long run of hexadecimal digits (an ID, a token).
fn has_identifier(text: &str) -> bool {
    let mut run = 0;
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run += 1;
            if run >= 12 {
                return true;
            }
        } else if c != '-' {
            run = 0;
        }
    }
    false
}

/// Every label value of the exposition must be free of anything personal: no address, no
/// identifier, and a path only as a template (its variable parts `:name`).
fn assert_no_personal_data(text: &str, secrets: &[&str]) {
    for secret in secrets {
        assert!(!text.contains(secret), "{secret} in the metrics:\n{text}");
    }
    for line in text.lines().filter(|l| !l.starts_with('#')) {
        let Some(labels) = line
            .split_once('{')
            .and_then(|(_, rest)| rest.rsplit_once('}'))
        else {
            continue;
        };
        for pair in labels.0.split("\",") {
            let Some((name, value)) = pair.split_once("=\"") else {
                panic!("unreadable labels in {line}");
            };
            let value = value.trim_end_matches('"');
            assert!(!value.contains('@'), "an address in {line}");
            assert!(!has_identifier(value), "an identifier in {line}");
            assert!(
                !value.contains('?') && !value.contains('='),
                "a query in {line}"
            );
            if name == "route" && value != "unmatched" {
                for segment in value.split('/').filter(|s| !s.is_empty()) {
                    let variable = segment.starts_with(':') || segment.starts_with('*');
                    let version = segment.starts_with('v')
                        && segment[1..].chars().all(|c| c.is_ascii_digit());
                    assert!(
                        variable || version || !segment.chars().any(|c| c.is_ascii_digit()),
                        "a path with a value in {line}"
                    );
                }
            }
        }
    }
}

fn journey(database: Option<&str>) {
    let server = Server::start_with(
        database,
        &[
            ("KIKERU_METRICS_LISTEN", "127.0.0.1:0"),
            ("KIKERU_SANDBOX_WEBHOOK_SECRET", SECRET),
        ],
    );
    let base = metrics_base(&server);
    let mut scraper = Client::new(&base);
    let mut public = Client::new(&server.base);
    assert_eq!(
        public.get("/metrics").status,
        404,
        "never on the public port"
    );

    let mut hanako = member_in(&server, &server.outbox(), "hanako@example.jp");
    let products = hanako.get("/api/v1/products");
    let product = products.json["items"][0]["id"].as_str().unwrap().to_owned();
    let (order, reference) = bought_in_sandbox(&server, &mut hanako, &product);
    let placed = hanako.get(&format!("/api/v1/orders/{order}"));
    assert_eq!(placed.json["status"], "paid", "{placed:?}");
    // The provider reports the payment again, twice; someone forges a refund.
    let mut provider = Client::new(&server.base);
    let (body, header) = signed(&reference, "checkout.paid", "evt_metrics_1");
    for _ in 0..2 {
        provider.send_raw(
            "POST",
            "/api/v1/payments/webhooks/sandbox",
            &[
                ("content-type", "application/json"),
                ("kikeru-sandbox-signature", header.as_str()),
            ],
            body.clone(),
        );
    }
    let (forged, _) = signed("anything", "payment.refunded", "evt_metrics_2");
    let refused = provider.send_raw(
        "POST",
        "/api/v1/payments/webhooks/sandbox",
        &[("kikeru-sandbox-signature", "t=1,v1=00")],
        forged,
    );
    assert_eq!(refused.status, 400);
    let wrong = Client::new(&server.base).post(
        "/api/v1/sessions",
        json!({"email": "hanako@example.jp", "password": "not her password at all"}),
    );
    assert_eq!(wrong.status, 401);
    assert_eq!(public.get("/no-such-page/31415926").status, 404);

    // Within seconds the receipt is issued and the mail sent; then the scrape shows it all.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let text = loop {
        let reply = scraper.get("/metrics");
        assert_eq!(reply.status, 200, "{reply:?}");
        assert!(
            reply
                .content_type
                .starts_with("application/openmetrics-text"),
            "{reply:?}"
        );
        let text = reply.text;
        let settled = sample(&text, "kikeru_mail_deliveries_total", &["outcome=\"sent\""]) >= 1.0
            && sample(
                &text,
                "kikeru_job_runs_total",
                &["job=\"receipts\"", "outcome=\"ok\""],
            ) >= 1.0
            && sample(&text, "kikeru_receipts_pending", &[]) == 0.0
            && sample(&text, "kikeru_outbox_waiting", &[]) == 0.0;
        if settled {
            break text;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the metrics never settled:\n{text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(300));
    };
    let requests = |route: &str, method: &str, status: &str| {
        sample(
            &text,
            "kikeru_http_requests_total",
            &[
                &format!("route=\"{route}\""),
                &format!("method=\"{method}\""),
                &format!("status=\"{status}\""),
            ],
        )
    };
    assert!(requests("/api/v1/members", "POST", "2xx") >= 1.0, "{text}");
    assert!(requests("/api/v1/orders", "POST", "2xx") >= 1.0, "{text}");
    assert!(
        requests("/api/v1/orders/:param0", "GET", "2xx") >= 1.0,
        "{text}"
    );
    assert!(requests("unmatched", "GET", "4xx") >= 1.0, "{text}");
    assert!(
        sample(
            &text,
            "kikeru_http_request_duration_seconds_count",
            &["route=\"/api/v1/members\""]
        ) >= 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "kikeru_sign_in_failures_total", &["kind=\"member\""]),
        1.0,
        "{text}"
    );
    let webhooks = |outcome: &str| {
        sample(
            &text,
            "kikeru_webhook_events_total",
            &["provider=\"sandbox\"", &format!("outcome=\"{outcome}\"")],
        )
    };
    assert_eq!(webhooks("rejected"), 1.0, "{text}");
    assert_eq!(
        (webhooks("unchanged"), webhooks("duplicate")),
        (1.0, 1.0),
        "{text}"
    );
    assert!(
        sample(&text, "kikeru_db_pool_max_connections", &[]) >= 1.0,
        "{text}"
    );
    assert_eq!(
        sample(&text, "kikeru_build_info", &["version=\""]),
        1.0,
        "{text}"
    );
    assert_no_personal_data(&text, &["hanako", &order, &product, "31415926"]);
}

#[test]
fn the_metrics_count_a_journey_without_personal_data_on_sqlite() {
    journey(None);
}

#[test]
fn the_metrics_count_a_journey_without_personal_data_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    journey(Some(&database.url));
    runtime.block_on(database.drop());
}

#[test]
fn the_personal_data_check_finds_what_it_must() {
    let leaks = [
        "kikeru_http_requests_total{method=\"GET\",route=\"/api/v1/orders/0190c2a4-7d1e-7a51-9a55-0123456789ab\",status=\"2xx\"} 1",
        "kikeru_http_requests_total{method=\"GET\",route=\"/me/receipts/12\",status=\"2xx\"} 1",
        "kikeru_x_total{kind=\"hanako@example.jp\"} 1",
        "kikeru_x_total{route=\"/search?q=rain\"} 1",
    ];
    for leak in leaks {
        let caught = std::panic::catch_unwind(|| assert_no_personal_data(leak, &[]));
        assert!(caught.is_err(), "not caught: {leak}");
    }
    assert_no_personal_data(
        "kikeru_http_requests_total{method=\"GET\",route=\"/api/v1/orders/:id\",status=\"2xx\"} 1\n\
         kikeru_http_request_duration_seconds_bucket{le=\"0.004\",method=\"GET\",route=\"/\",status=\"2xx\"} 1",
        &[],
    );
}
