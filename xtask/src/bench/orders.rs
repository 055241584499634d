//! The commerce side of the benchmark: 10,000 products, orders placed in parallel, their signed
//! webhook events delivered (twice), the purchase history, and a million stored sessions.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Backend;
use super::Bar;
use super::server::{Running, WEBHOOK_SECRET, agent, call};

/// How many purchases the history benchmark's member has (one webhook event each).
pub(super) const PURCHASES: usize = 10_000;

/// Runs `work(i)` for every `i < count` on `threads` threads; how long it took.
pub(super) fn fan_out(
    count: usize,
    threads: usize,
    work: impl Fn(usize) -> Result<(), String> + Sync,
) -> Result<Duration, String> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let began = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= count {
                            return Ok::<(), String>(());
                        }
                        work(i)?;
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .try_for_each(|w| w.join().map_err(|_| "a worker panicked".to_owned())?)
    })?;
    Ok(began.elapsed())
}

/// The IDs of the [`PURCHASES`] bench products (imported by [`super::catalogue::import`]).
pub(super) fn seed_products(server: &Running) -> Result<Vec<String>, String> {
    let agent = agent();
    let mut ids = Vec::new();
    let mut after = String::from("BENCH-");
    loop {
        let (_, page) = call(
            &agent,
            "GET",
            &format!("{}/api/v1/products?limit=100&after={after}", server.base),
            &[],
            None,
        )?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        ids.extend(
            items
                .iter()
                .filter(|p| p["sku"].as_str().is_some_and(|s| s.starts_with("BENCH-")))
                .filter_map(|p| p["id"].as_str().map(str::to_owned)),
        );
        match page["next"].as_str() {
            Some(next) if next.starts_with("BENCH-") => next.clone_into(&mut after),
            _ => break,
        }
    }
    if ids.len() != PURCHASES {
        return Err(format!(
            "{} bench products listed, not {PURCHASES}",
            ids.len()
        ));
    }
    Ok(ids)
}

#[allow(
    clippy::disallowed_methods,
    reason = "webhooks are signed as the provider would, now"
)]
pub(super) fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Delivers `checkout.paid` for every reference; how long it took.
pub(super) fn deliver(base: &str, references: &[String]) -> Result<Duration, String> {
    let url = format!("{base}/api/v1/payments/webhooks/sandbox");
    fan_out(references.len(), 8, |i| {
        thread_local! { static AGENT: ureq::Agent = agent(); }
        let now = unix_now();
        let body = serde_json::json!({
            "id": format!("evt-bench-{i}"),
            "type": "checkout.paid",
            "reference": references[i],
            "created": now,
        })
        .to_string();
        let signature =
            kikeru_payment::sign_header(WEBHOOK_SECRET.as_bytes(), now, body.as_bytes());
        let (status, _) = AGENT.with(|agent| {
            call(
                agent,
                "POST",
                &url,
                &[("kikeru-sandbox-signature", &signature)],
                Some(&body),
            )
        })?;
        if status == 200 {
            Ok(())
        } else {
            Err(format!("a webhook was answered {status}"))
        }
    })
}

/// Every payment of the member has been applied exactly once: `pending` then `paid`, no more.
pub(super) fn applied_once(base: &str, cookie: &str) -> Result<(), String> {
    let agent = agent();
    let mut before: Option<String> = None;
    let mut seen = 0;
    loop {
        let url = match &before {
            Some(b) => format!("{base}/api/v1/me/payments?limit=100&before={b}"),
            None => format!("{base}/api/v1/me/payments?limit=100"),
        };
        let (_, page) = call(&agent, "GET", &url, &[("cookie", cookie)], None)?;
        for payment in page["items"].as_array().cloned().unwrap_or_default() {
            let history: Vec<_> = payment["history"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .iter()
                .map(|h| h["status"].as_str().unwrap_or_default().to_owned())
                .collect();
            if history != ["pending", "paid"] {
                return Err(format!("a payment's history is {history:?}"));
            }
            seen += 1;
        }
        match page["next"].as_str() {
            Some(next) => before = Some(next.to_owned()),
            None => break,
        }
    }
    if seen == PURCHASES {
        Ok(())
    } else {
        Err(format!("{seen} payments, not {PURCHASES}"))
    }
}

/// Walks the purchase history; how many purchases, and the cursor of the last full page
/// before the end (the deep page).
pub(super) fn history(base: &str, cookie: &str) -> Result<(usize, String), String> {
    let agent = agent();
    let mut after: Option<String> = None;
    let mut count = 0;
    let mut deep = String::new();
    loop {
        let url = match &after {
            Some(a) => format!("{base}/api/v1/me/purchases?limit=100&after={a}"),
            None => format!("{base}/api/v1/me/purchases?limit=100"),
        };
        let (_, page) = call(&agent, "GET", &url, &[("cookie", cookie)], None)?;
        count += page["items"].as_array().map_or(0, Vec::len);
        match page["next"].as_str() {
            Some(next) => {
                if count <= PURCHASES - 100 {
                    next.clone_into(&mut deep);
                }
                after = Some(next.to_owned());
            }
            None => break,
        }
    }
    Ok((count, deep))
}

pub(super) fn database_url(server: &Running) -> String {
    server
        .env
        .iter()
        .find(|(k, _)| k == "KIKERU_DATABASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `ANALYZE` on the server's PostgreSQL database.
pub(super) fn analyze(server: &Running) -> Result<(), String> {
    let status = Command::new("psql")
        .args(["-q", &database_url(server), "-c", "ANALYZE"])
        .status()
        .map_err(|e| format!("psql: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err("ANALYZE failed".to_owned())
    }
}

/// Waits until no new mail has appeared in the outbox folder for two seconds (at most 5 min).
pub(super) fn settle_outbox(outbox: &Path) {
    let count = || std::fs::read_dir(outbox).map_or(0, Iterator::count);
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut last = count();
    while Instant::now() < deadline {
        std::thread::sleep(Duration::from_secs(2));
        let now = count();
        if now == last {
            return;
        }
        last = now;
    }
}

/// Adds a million sessions of the bench member straight into the database; how long it took.
pub(super) fn million_sessions(server: &Running, backend: &Backend) -> Result<Duration, String> {
    let url = database_url(server);
    let began = Instant::now();
    let status = match backend {
        Backend::Sqlite => {
            let path = url
                .trim_start_matches("sqlite://")
                .trim_end_matches("?mode=rwc")
                .to_owned();
            Command::new("sqlite3")
                .args(["-bail", "-cmd", ".timeout 10000"])
                .arg(path)
                .arg(
                    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000000)\n\
                     INSERT INTO sessions (id, member_id, token_hash, created_at, last_seen_at, expires_at, browser)\n\
                     SELECT printf('%08x-0000-4000-8000-%012x', x, x), m.id, randomblob(32),\n\
                       m.created_at, m.created_at, m.created_at + 86400000, 'bench'\n\
                     FROM n, (SELECT id, created_at FROM members WHERE email = 'bench@example.jp') m;",
                )
                .status()
        }
        Backend::Postgres(_) => Command::new("psql")
            .args(["-q", "-v", "ON_ERROR_STOP=1", &url, "-c"])
            .arg(
                "INSERT INTO sessions (id, member_id, token_hash, created_at, last_seen_at, expires_at, browser) \
                 SELECT gen_random_uuid(), m.id, decode(md5(x::text) || md5((-x)::text), 'hex'), \
                   m.created_at, m.created_at, m.created_at + 86400000, 'bench' \
                 FROM generate_series(1, 1000000) x, \
                   (SELECT id, created_at FROM members WHERE email = 'bench@example.jp') m",
            )
            .stdout(Stdio::null())
            .status(),
    }
    .map_err(|e| format!("sqlite3 or psql (apt-get install sqlite3 postgresql-client): {e}"))?;
    if status.success() {
        Ok(began.elapsed())
    } else {
        Err("adding a million sessions failed".to_owned())
    }
}

/// Places 10,000 orders of the bench member and pays each with a signed webhook event, then
/// delivers every event again: the webhook rate, each event applied exactly once.
pub(super) fn webhooks(
    name: &'static str,
    server: &Running,
    cookie: &str,
    row: &mut impl FnMut(&str, String, &str, bool),
    bars: &mut Vec<Bar>,
) -> Result<(), String> {
    let base = server.base.clone();
    let products = seed_products(server)?;
    let references = std::sync::Mutex::new(vec![String::new(); PURCHASES]);
    let order_url = format!("{base}/api/v1/orders");
    let placing = fan_out(PURCHASES, 8, |i| {
        thread_local! { static AGENT: ureq::Agent = agent(); }
        let body = serde_json::json!({ "product_ids": [products[i]] }).to_string();
        let (status, placed) = AGENT.with(|agent| {
            call(
                agent,
                "POST",
                &order_url,
                &[("cookie", cookie), ("origin", &base)],
                Some(&body),
            )
        })?;
        let reference = placed["checkout_url"]
            .as_str()
            .and_then(|u| u.rsplit('/').next())
            .ok_or_else(|| format!("no checkout in the answer {status}: {placed}"))?;
        references
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .get_mut(i)
            .map(|slot| reference.clone_into(slot))
            .ok_or_else(|| "no slot".to_owned())
    })?;
    let references = references.into_inner().map_err(|_| "poisoned".to_owned())?;
    let applied = deliver(&base, &references)?;
    let redelivered = deliver(&base, &references)?;
    applied_once(&base, cookie)?;
    let events = PURCHASES as f64 / applied.as_secs_f64();
    let duplicates = PURCHASES as f64 / redelivered.as_secs_f64();
    row(
        "webhook events applied (8 senders), each exactly once after a full redelivery",
        format!(
            "{events:.0} events/s; redelivered duplicates {duplicates:.0}/s; orders placed {:.0}/s",
            PURCHASES as f64 / placing.as_secs_f64()
        ),
        "≥ 1,000/s, once",
        events >= 1000.0,
    );
    bars.push((name, "webhook events".to_owned(), events));
    Ok(())
}
