//! `cargo xtask bench`: the release binary on SQLite and on PostgreSQL under a real HTTP load
//! generator (Debian's `wrk`) and the xtask's own client threads for orders and webhooks, every
//! figure beside its baseline measured in the same run, as a ratio — the machine is shared and
//! noisy, so absolute numbers mean little and ratios a lot. Writes `docs/benchmarks.md` and
//! `docs/benchmarks.svg`, and fails when a target does not hold.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where the server under test keeps its data.
#[derive(Debug, Clone)]
enum Backend {
    Sqlite,
    /// A PostgreSQL server's URL with the database part left for the run's own database.
    Postgres(String),
}

impl Backend {
    fn name(&self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

const WEBHOOK_SECRET: &str = "whsec_bench";
const EMAIL: &str = "bench@example.jp";
const PASSWORD: &str = "correct horse battery staple";

/// One server under test.
pub(crate) struct Running {
    child: Child,
    pub(crate) base: String,
    pub(crate) env: Vec<(String, String)>,
    data: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// A fresh, empty database for one server: a temporary SQLite file, or a PostgreSQL database
/// dropped and made anew.
fn fresh_database(backend: &Backend, data: &Path, name: &str) -> Result<String, String> {
    match backend {
        Backend::Sqlite => Ok(format!(
            "sqlite://{}?mode=rwc",
            data.join("kikeru.db").display()
        )),
        Backend::Postgres(server) => {
            let admin = format!("{server}/postgres");
            for sql in [
                format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                format!("CREATE DATABASE {name}"),
            ] {
                let status = Command::new("psql")
                    .args(["-q", "-v", "ON_ERROR_STOP=1", &admin, "-c", &sql])
                    .stdout(Stdio::null())
                    .status()
                    .map_err(|e| format!("psql (apt-get install postgresql-client): {e}"))?;
                if !status.success() {
                    return Err(format!("psql failed: {sql}"));
                }
            }
            Ok(format!("{server}/{name}"))
        }
    }
}

fn start(binary: &Path, backend: &Backend, stats: bool) -> Result<Running, String> {
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let url = fresh_database(
        backend,
        data.path(),
        if stats {
            "kikeru_bench"
        } else {
            "kikeru_bench_off"
        },
    )?;
    serve(
        binary,
        data,
        &[
            ("KIKERU_DATABASE_URL", url),
            ("KIKERU_LOG", "warn".to_owned()),
            ("KIKERU_STATS_ENABLED", stats.to_string()),
            // The sign-in load comes from many made-up client addresses, as from many people.
            ("KIKERU_TRUST_FORWARDED_FOR", "true".to_owned()),
        ],
    )
}

/// Starts `binary serve` on a free port with its data in `data`, the sandbox's webhook secret
/// and `settings`; waits until it is ready.
pub(crate) fn serve(
    binary: &Path,
    data: tempfile::TempDir,
    settings: &[(&str, String)],
) -> Result<Running, String> {
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let env: Vec<(String, String)> = [
        ("KIKERU_LISTEN", format!("127.0.0.1:{port}")),
        ("KIKERU_DATA_DIR", data.path().display().to_string()),
        ("KIKERU_SANDBOX_WEBHOOK_SECRET", WEBHOOK_SECRET.to_owned()),
    ]
    .into_iter()
    .chain(settings.iter().cloned())
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let child = Command::new(binary)
        .arg("serve")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting {}: {e}", binary.display()))?;
    let running = Running {
        child,
        base,
        env,
        data,
    };
    let agent = agent();
    let deadline = Instant::now() + Duration::from_secs(30);
    while agent
        .get(format!("{}/readyz", running.base))
        .call()
        .map(|r| r.status().as_u16())
        .ok()
        != Some(200)
    {
        if Instant::now() > deadline {
            return Err("the server did not start".to_owned());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(running)
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// A request's status and JSON body.
pub(crate) fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Result<(u16, serde_json::Value), String> {
    let mut request = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = if let Some(body) = body {
        let request = request
            .header("content-type", "application/json")
            .body(body.to_owned())
            .map_err(|e| e.to_string())?;
        agent.run(request)
    } else {
        let request = request.body(()).map_err(|e| e.to_string())?;
        agent.run(request)
    }
    .map_err(|e| format!("{method} {url}: {e}"))?;
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or_default()))
}

/// Registers the bench member, verifies the address from the outbox, signs in: the session's
/// `Cookie` header value.
fn session(server: &Running) -> Result<String, String> {
    member_session(server, EMAIL, PASSWORD)
}

/// Registers a member, verifies the address from the outbox, signs in: the session's `Cookie`
/// header value.
pub(crate) fn member_session(
    server: &Running,
    email: &str,
    password: &str,
) -> Result<String, String> {
    let agent = agent();
    let base = &server.base;
    register(server, &agent, email, password, None)?;
    let credentials = serde_json::json!({"email": email, "password": password}).to_string();
    sign_in(
        &agent,
        &format!("{base}/api/v1/sessions"),
        base,
        &credentials,
    )
}

/// Registers a member and verifies the address from the outbox, from the client address
/// `from` when the server trusts `X-Forwarded-For` (registrations are limited per client).
fn register(
    server: &Running,
    agent: &ureq::Agent,
    email: &str,
    password: &str,
    from: Option<&str>,
) -> Result<(), String> {
    let base = &server.base;
    let credentials = serde_json::json!({"email": email, "password": password}).to_string();
    let mut headers = vec![("origin", base.as_str())];
    if let Some(from) = from {
        headers.push(("x-forwarded-for", from));
    }
    let (status, body) = call(
        agent,
        "POST",
        &format!("{base}/api/v1/members"),
        &headers,
        Some(&credentials),
    )?;
    if status != 202 {
        return Err(format!("registering {email}: {status} {body}"));
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let token = loop {
        if let Some(token) = verification_token(&server.data.path().join("outbox"), email) {
            break token;
        }
        if Instant::now() > deadline {
            return Err("no verification mail in the outbox".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let verify = serde_json::json!({ "token": token }).to_string();
    call(
        agent,
        "POST",
        &format!("{base}/api/v1/members/verify"),
        &headers,
        Some(&verify),
    )?;
    Ok(())
}

/// How many members the sign-in load signs in as. Sign-in attempts are counted per address
/// before the password is checked, so one address takes at most a handful at once: the load
/// comes from many people, as it does from many client addresses. Each of wrk's threads seeds
/// its own random numbers: with one seed, both threads pick the same member at the same step.
const SIGN_IN_PEOPLE: u32 = 64;

/// The members the sign-in load uses: `sign-in-N@example.jp` for N in 1..=[`SIGN_IN_PEOPLE`].
fn sign_in_people(server: &Running) -> Result<(), String> {
    let agent = agent();
    for n in 1..=SIGN_IN_PEOPLE {
        let from = format!("10.99.{}.{}", n / 250, n % 250 + 1);
        register(
            server,
            &agent,
            &format!("sign-in-{n}@example.jp"),
            PASSWORD,
            Some(&from),
        )?;
    }
    Ok(())
}

/// Posts `credentials` to a sign-in endpoint: the session cookie as `name=value`.
pub(crate) fn sign_in(
    agent: &ureq::Agent,
    url: &str,
    origin: &str,
    credentials: &str,
) -> Result<String, String> {
    let response = agent
        .post(url)
        .header("origin", origin)
        .header("content-type", "application/json")
        .send(credentials)
        .map_err(|e| e.to_string())?;
    response
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| format!("{url}: no session cookie ({})", response.status()))
}

/// The token of the verification link in the outbox's mail to `email`: its parts are base64.
fn verification_token(outbox: &Path, email: &str) -> Option<String> {
    std::fs::read_dir(outbox).ok()?.flatten().find_map(|entry| {
        let raw = std::fs::read_to_string(entry.path()).ok()?;
        if !raw
            .lines()
            .any(|l| l.starts_with("To:") && l.contains(email))
        {
            return None;
        }
        let mut lines = raw.lines();
        while let Some(line) = lines.next() {
            if !line.eq_ignore_ascii_case("Content-Transfer-Encoding: base64") {
                continue;
            }
            let encoded: String = lines
                .by_ref()
                .skip_while(|l| !l.is_empty())
                .skip(1)
                .take_while(|l| !l.is_empty() && !l.starts_with("--"))
                .collect();
            let text = data_encoding::BASE64.decode(encoded.as_bytes()).ok()?;
            let text = String::from_utf8(text).ok()?;
            if let Some(at) = text.find("token=") {
                let token: String = text[at + "token=".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
                    .collect();
                return (!token.is_empty()).then_some(token);
            }
        }
        None
    })
}

/// One `wrk` run's figures.
#[derive(Debug, Clone, Copy)]
struct Load {
    rps: f64,
    p50: f64,
    p99: f64,
    mean: f64,
}

/// `wrk` for `seconds` with `connections`; every answer must be a success.
fn wrk(url: &str, connections: u32, seconds: u32, cookie: Option<&str>) -> Result<Load, String> {
    wrk_with(url, connections, seconds, cookie, None, false)
}

/// `wrk`, optionally driven by a Lua script, optionally accepting error answers.
fn wrk_with(
    url: &str,
    connections: u32,
    seconds: u32,
    cookie: Option<&str>,
    script: Option<&Path>,
    errors_expected: bool,
) -> Result<Load, String> {
    let mut command = Command::new("wrk");
    let threads = if connections == 1 { "-t1" } else { "-t2" };
    command.args([
        threads,
        &format!("-c{connections}"),
        &format!("-d{seconds}s"),
        "--latency",
    ]);
    if let Some(cookie) = cookie {
        command.args(["-H", &format!("Cookie: {cookie}")]);
    }
    if let Some(script) = script {
        command.arg("-s").arg(script);
    }
    let output = command
        .arg(url)
        .output()
        .map_err(|e| format!("wrk (apt-get install wrk): {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| format!("no throughput in wrk's output:\n{text}"))?;
    let percentile = |name: &str| {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(str::trim)
            .and_then(millis)
    };
    let p50 = percentile("50%").ok_or_else(|| format!("no p50 in wrk's output:\n{text}"))?;
    let p99 = percentile("99%").ok_or_else(|| format!("no p99 in wrk's output:\n{text}"))?;
    if text.contains("Non-2xx") && !errors_expected {
        return Err(format!("{url} answered errors under load:\n{text}"));
    }
    let mean = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Latency"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(millis)
        .ok_or_else(|| format!("no mean latency in wrk's output:\n{text}"))?;
    Ok(Load {
        rps,
        p50,
        p99,
        mean,
    })
}

fn script(dir: &Path, name: &str, text: &str) -> Result<std::path::PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Sign-ins as fast as they go, from many made-up client addresses (the per-client limit
/// stays on), against the argon2 ceiling — cores ÷ one sign-in's time alone; then, while
/// sign-ins saturate the CPU again, `/healthz` at a steady 400 requests per second (a probe's
/// load, not a second saturating load competing for the same cores): its p99.
fn sign_ins(server: &Running, cores: usize, seconds: u32) -> Result<(f64, f64, f64), String> {
    sign_in_people(server)?;
    let base = server.base.as_str();
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let sign_in = script(
        dir.path(),
        "sign-in.lua",
        &format!(
            "wrk.method = \"POST\"\n\
             wrk.headers[\"Content-Type\"] = \"application/json\"\n\
             wrk.headers[\"Origin\"] = \"{base}\"\n\
             local threads = 0\n\
             setup = function(thread)\n\
               threads = threads + 1\n\
               thread:set(\"id\", threads)\n\
             end\n\
             init = function(args)\n\
               math.randomseed(os.time() * 1000 + id)\n\
             end\n\
             request = function()\n\
               wrk.headers[\"X-Forwarded-For\"] = \"10.\" .. math.random(0, 255) .. \".\" .. math.random(0, 255) .. \".\" .. math.random(1, 254)\n\
               wrk.body = '{{\"email\":\"sign-in-' .. math.random(1, {SIGN_IN_PEOPLE}) .. '@example.jp\",\"password\":\"{PASSWORD}\"}}'\n\
               return wrk.format()\n\
             end\n"
        ),
    )?;
    let paced = script(
        dir.path(),
        "paced.lua",
        "delay = function() return 10 end\n",
    )?;
    let url = format!("{base}/api/v1/sessions");
    let alone = wrk_with(&url, 1, 5, None, Some(&sign_in), false)?;
    let ceiling = cores as f64 * 1000.0 / alone.mean;
    let loaded = wrk_with(&url, 16, seconds, None, Some(&sign_in), false)?;
    let health_url = format!("{base}/healthz");
    let probe_seconds = seconds.saturating_sub(2).max(2);
    let health = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(1));
        wrk_with(&health_url, 4, probe_seconds, None, Some(&paced), false)
    });
    wrk_with(&url, 16, seconds, None, Some(&sign_in), false)?;
    let health = health
        .join()
        .map_err(|_| "the /healthz load failed".to_owned())??;
    Ok((loaded.rps, ceiling, health.p99))
}

fn millis(text: &str) -> Option<f64> {
    let (number, factor) = if let Some(v) = text.strip_suffix("us") {
        (v, 0.001)
    } else if let Some(v) = text.strip_suffix("ms") {
        (v, 1.0)
    } else if let Some(v) = text.strip_suffix('s') {
        (v, 1000.0)
    } else {
        return None;
    };
    number.parse::<f64>().ok().map(|n| n * factor)
}

/// The process's resident memory now and at its peak, in MiB.
fn memory(pid: u32) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kib| kib / 1024.0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// One row of the results.
struct Row {
    backend: &'static str,
    what: String,
    figure: String,
    target: String,
    holds: bool,
}

/// Throughputs for the plot: (backend, endpoint, requests per second).
type Bar = (&'static str, String, f64);

/// How many purchases the history benchmark's member has (one webhook event each).
const PURCHASES: usize = 10_000;

/// Runs `work(i)` for every `i < count` on `threads` threads; how long it took.
fn fan_out(
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

/// Imports [`PURCHASES`] products with the binary's own catalogue import; their IDs.
fn seed_products(binary: &Path, server: &Running) -> Result<Vec<String>, String> {
    let file = server.data.path().join("bench-catalogue.csv");
    let mut csv = String::from("sku,title_ja,title_en,price,audio\n");
    for n in 0..PURCHASES {
        let _ = writeln!(csv, "BENCH-{n:05},作品 {n},Piece {n},330,demo/demo-001.wav");
    }
    std::fs::write(&file, csv).map_err(|e| e.to_string())?;
    let status = Command::new(binary)
        .args(["catalog", "import"])
        .arg(&file)
        .env_clear()
        .envs(server.env.iter().map(|(k, v)| (k, v)))
        .stdout(Stdio::null())
        .status()
        .map_err(|e| e.to_string())?;
    if !status.success() {
        return Err("the catalogue import failed".to_owned());
    }
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
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Delivers `checkout.paid` for every reference; how long it took.
fn deliver(base: &str, references: &[String]) -> Result<Duration, String> {
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
fn applied_once(base: &str, cookie: &str) -> Result<(), String> {
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
fn history(base: &str, cookie: &str) -> Result<(usize, String), String> {
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

fn database_url(server: &Running) -> String {
    server
        .env
        .iter()
        .find(|(k, _)| k == "KIKERU_DATABASE_URL")
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// `ANALYZE` on the server's PostgreSQL database.
fn analyze(server: &Running) -> Result<(), String> {
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
fn settle_outbox(outbox: &Path) {
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
fn million_sessions(server: &Running, backend: &Backend) -> Result<Duration, String> {
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
fn webhooks(
    name: &'static str,
    binary: &Path,
    server: &Running,
    cookie: &str,
    row: &mut impl FnMut(&str, String, &str, bool),
    bars: &mut Vec<Bar>,
) -> Result<(), String> {
    let base = server.base.clone();
    let products = seed_products(binary, server)?;
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

/// Every benchmark on one backend.
#[allow(clippy::too_many_lines, reason = "one run, step by step")]
fn run(
    binary: &Path,
    backend: &Backend,
    seconds: u32,
    webhooks_only: bool,
    rows: &mut Vec<Row>,
    bars: &mut Vec<Bar>,
) -> Result<(), String> {
    let name = backend.name();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let mut row = |what: &str, figure: String, target: &str, holds: bool| {
        rows.push(Row {
            backend: name,
            what: what.to_owned(),
            figure,
            target: target.to_owned(),
            holds,
        });
    };
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;

    let server = start(binary, backend, true)?;
    let pid = server.child.id();
    std::thread::sleep(Duration::from_secs(1));
    let (idle, _) = memory(pid);
    let cookie = session(&server)?;
    let base = server.base.clone();
    if webhooks_only {
        return webhooks(name, binary, &server, &cookie, &mut row, bars);
    }

    // Statistics on (this server) and off (a second one), measured first, while both servers
    // are equally fresh: once the session-lookup load below has run, the first server's hit
    // table holds hundreds of thousands of rows the second one never saw. One unrecorded
    // warm-up each, then alternating, three rounds each: the machine's drift falls on both alike.
    let without_stats = start(binary, backend, false)?;
    let products = format!("{base}/api/v1/products");
    let products_off = format!("{}/api/v1/products", without_stats.base);
    wrk(&products, 64, 1, None)?;
    wrk(&products_off, 64, 1, None)?;
    let (mut on, mut off) = (0.0, 0.0);
    for _ in 0..3 {
        on += wrk(&products, 64, seconds, None)?.rps / 3.0;
        off += wrk(&products_off, 64, seconds, None)?.rps / 3.0;
    }
    drop(without_stats);
    let stats_ratio = on / off;
    row(
        "`GET /api/v1/products`, statistics on vs off, alternating 3 × 2 runs (`/healthz` is never recorded)",
        format!(
            "{on:.0} vs {off:.0} req/s = {:.1}% (loss {:.1}%)",
            stats_ratio * 100.0,
            (1.0 - stats_ratio) * 100.0
        ),
        "loss < 5%",
        stats_ratio >= 0.95,
    );
    bars.push((name, "GET /api/v1/products".to_owned(), on));
    let health = wrk(&format!("{base}/healthz"), 64, seconds, None)?;
    let me = wrk(&format!("{base}/api/v1/me"), 64, seconds, Some(&cookie))?;
    let ratio = me.rps / health.rps;
    row(
        "`GET /api/v1/me` (session lookup) vs `GET /healthz`",
        format!(
            "{:.0} vs {:.0} req/s = {:.0}% (p50/p99 {:.1}/{:.1} vs {:.1}/{:.1} ms)",
            me.rps,
            health.rps,
            ratio * 100.0,
            me.p50,
            me.p99,
            health.p50,
            health.p99
        ),
        "≥ 50%",
        ratio >= 0.5,
    );
    bars.push((name, "GET /healthz".to_owned(), health.rps));
    bars.push((name, "GET /api/v1/me".to_owned(), me.rps));

    let wide = wrk(&format!("{base}/healthz"), 256, seconds, None)?;

    let (signins, ceiling, health_under_hashing) = sign_ins(&server, cores, seconds)?;
    let share = signins / ceiling;
    row(
        "sign-ins vs the argon2 ceiling (cores ÷ one sign-in alone)",
        format!("{signins:.1} vs {ceiling:.1} per s = {:.0}%", share * 100.0),
        "≥ 80%",
        share >= 0.8,
    );
    row(
        "`GET /healthz` p99 (400 req/s) while sign-ins saturate the CPU",
        format!("{health_under_hashing:.1} ms"),
        "< 20 ms",
        health_under_hashing < 20.0,
    );
    bars.push((name, "POST /api/v1/sessions".to_owned(), signins));

    // 10,000 products, 10,000 orders, 10,000 webhook events: the history and the webhook rate.
    webhooks(name, binary, &server, &cookie, &mut row, bars)?;

    // The postman sends the 10,000 receipts after their events: let it finish first, so the
    // history is measured on its own.
    settle_outbox(&server.data.path().join("outbox"));
    if let Backend::Postgres(_) = backend {
        // 10,000 orders arrived in seconds; autovacuum refreshes the planner's statistics
        // within a minute of such a change, and this does it now.
        analyze(&server)?;
    }
    let (count, deep) = history(&base, &cookie)?;
    if count != PURCHASES {
        return Err(format!(
            "the history holds {count} purchases, not {PURCHASES}"
        ));
    }
    let first = wrk(
        &format!("{base}/api/v1/me/purchases?limit=20"),
        4,
        seconds,
        Some(&cookie),
    )?;
    let deep_page = wrk(
        &format!("{base}/api/v1/me/purchases?limit=20&after={deep}"),
        4,
        seconds,
        Some(&cookie),
    )?;
    row(
        "purchase history of 10,000: first page vs a deep page (≈ 9,900th), 4 connections",
        format!(
            "p99 {:.1} vs {:.1} ms (p50 {:.1} vs {:.1} ms; {:.0} vs {:.0} req/s)",
            first.p99, deep_page.p99, first.p50, deep_page.p50, first.rps, deep_page.rps
        ),
        "both p99 < 5 ms",
        first.p99 < 5.0 && deep_page.p99 < 5.0,
    );
    bars.push((name, "purchases, first page".to_owned(), first.rps));
    bars.push((name, "purchases, deep page".to_owned(), deep_page.rps));

    // A million stored sessions: lookups stay index-bound, the process does not grow.
    let (before, _) = memory(pid);
    let inserted = million_sessions(&server, backend)?;
    let unknown = script(
        dir.path(),
        "unknown.lua",
        "request = function()\n\
           wrk.headers[\"Cookie\"] = \"kikeru_session=\" .. math.random(1, 2147483647) .. \"x\" .. math.random(1, 2147483647)\n\
           return wrk.format()\n\
         end\n",
    )?;
    let misses = wrk_with(
        &format!("{base}/api/v1/me"),
        64,
        seconds,
        None,
        Some(&unknown),
        true,
    )?;
    let me_after = wrk(&format!("{base}/api/v1/me"), 64, seconds, Some(&cookie))?;
    let (after, peak) = memory(pid);
    let growth = after - before;
    row(
        "one million stored sessions: resident memory before vs after (and lookups of unknown tokens)",
        format!(
            "{before:.1} → {after:.1} MiB (+{growth:.1}); inserted in {:.1} s; unknown tokens {:.0} req/s; `/api/v1/me` {:.0} req/s",
            inserted.as_secs_f64(),
            misses.rps,
            me_after.rps
        ),
        "growth < 16 MiB",
        growth < 16.0,
    );
    row(
        "resident memory, idle",
        format!("{idle:.1} MiB"),
        "< 64 MiB",
        idle < 64.0,
    );
    row(
        "peak resident memory over every run (256 connections, the sign-in burst, 10,000 orders)",
        format!(
            "{peak:.1} MiB (p50/p99 at 256 connections {:.1}/{:.1} ms)",
            wide.p50, wide.p99
        ),
        "< 256 MiB",
        peak < 256.0,
    );
    drop(server);
    Ok(())
}

/// A horizontal bar chart of throughput per endpoint and backend, on a log scale.
fn plot(bars: &[Bar]) -> String {
    let height = 28 * bars.len() + 60;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"760\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>Throughput per endpoint (requests or events per second, log scale)</title>\n\
         <rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n\
         <text x=\"10\" y=\"20\" font-size=\"14\">Throughput per endpoint — requests (or events) per second, log scale</text>\n"
    );
    let scale = |v: f64| (v.max(1.0).log10() / 6.0 * 420.0).round();
    for decade in 0..=6 {
        let x = 300.0 + f64::from(decade) / 6.0 * 420.0;
        let _ = writeln!(
            svg,
            "<line x1=\"{x}\" y1=\"32\" x2=\"{x}\" y2=\"{}\" stroke=\"#ddd\"/><text x=\"{x}\" y=\"{}\" text-anchor=\"middle\" fill=\"#666\">1e{decade}</text>",
            height - 24,
            height - 10
        );
    }
    for (i, (backend, endpoint, value)) in bars.iter().enumerate() {
        let y = 40 + 28 * i;
        let colour = if *backend == "SQLite" {
            "#3b6ea5"
        } else {
            "#c0733a"
        };
        let _ = writeln!(
            svg,
            "<text x=\"290\" y=\"{}\" text-anchor=\"end\">{endpoint} ({backend})</text>\
             <rect x=\"300\" y=\"{y}\" width=\"{}\" height=\"18\" fill=\"{colour}\"/>\
             <text x=\"{}\" y=\"{}\">{value:.0}</text>",
            y + 13,
            scale(*value),
            305.0 + scale(*value),
            y + 13
        );
    }
    svg.push_str("</svg>\n");
    svg
}

/// Runs the benchmarks and writes `docs/benchmarks.md` and `docs/benchmarks.svg`.
pub(crate) fn bench(root: &Path, cargo: &mut Command, args: &[String]) -> Result<(), String> {
    let mut seconds = 8;
    let mut postgres = std::env::var("KIKERU_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_owned());
    let mut sqlite_only = false;
    let mut postgres_only = false;
    let mut webhooks_only = false;
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|s| *s >= 3)
                    .ok_or("--seconds needs a number of at least 3")?;
            }
            "--postgres" => {
                args.next()
                    .ok_or(
                        "--postgres needs a server URL, e.g. postgres://postgres@127.0.0.1:5432",
                    )?
                    .clone_into(&mut postgres);
            }
            "--sqlite-only" => sqlite_only = true,
            "--postgres-only" => postgres_only = true,
            "--webhooks-only" => webhooks_only = true,
            other => {
                return Err(format!(
                    "unknown option {other}; usage: cargo xtask bench [--seconds N] [--postgres URL] [--sqlite-only | --postgres-only] [--webhooks-only]"
                ));
            }
        }
    }
    let binary = crate::kikeru_binary(root, cargo, true)?;
    if sqlite_only && postgres_only {
        return Err("--sqlite-only and --postgres-only exclude each other".to_owned());
    }
    let mut backends = Vec::new();
    if !postgres_only {
        backends.push(Backend::Sqlite);
    }
    if !sqlite_only {
        backends.push(Backend::Postgres(postgres.trim_end_matches('/').to_owned()));
    }
    let mut rows = Vec::new();
    let mut bars = Vec::new();
    for backend in &backends {
        run(
            &binary,
            backend,
            seconds,
            webhooks_only,
            &mut rows,
            &mut bars,
        )?;
    }
    if webhooks_only || postgres_only {
        // A partial run reports its rows and leaves the whole run's report alone.
        for row in &rows {
            #[allow(clippy::print_stdout, reason = "the command's report")]
            {
                println!(
                    "{}: {}: {} (target {})",
                    row.backend, row.what, row.figure, row.target
                );
            }
        }
        return if rows.iter().all(|r| r.holds) {
            Ok(())
        } else {
            Err("a benchmark target does not hold".to_owned())
        };
    }
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    let mut report = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench`: the release binary on SQLite (embedded \
         defaults) and on PostgreSQL, logs at `warn`, loaded with Debian's `wrk` (2 threads, 64 \
         connections, {seconds} s each, unless a row says otherwise) and, for orders and webhooks, \
         8 client threads of the xtask itself, all on the same machine. Figures are ratios against \
         a baseline measured in the same run, because the machine is shared and noisy.\n\n"
    );
    let _ = writeln!(
        report,
        "Run on {} — machine: {cores} cores; `{}`. Command: `cargo xtask bench`.\n",
        today(),
        uname()
    );
    report.push_str(
        "| backend | measure | figure | target | holds |\n| --- | --- | --- | --- | --- |\n",
    );
    for row in &rows {
        let _ = writeln!(
            report,
            "| {} | {} | {} | {} | {} |",
            row.backend,
            row.what,
            row.figure,
            row.target,
            if row.holds { "yes" } else { "**no**" }
        );
    }
    report.push_str(
        "\nThroughput per endpoint: ![throughput per endpoint](benchmarks.svg)\n\n\
         How the figures are made: statistics on and off are measured first, on two servers \
         started alike and given one unrecorded warm-up each, alternating; the session lookup \
         is compared with `/healthz` of the same binary; sign-ins are compared with the argon2 ceiling, the number of cores divided by \
         the mean time of one sign-in alone; `/healthz` is probed at a steady 400 requests per \
         second while sign-ins saturate the CPU; the purchase history belongs to a member with \
         10,000 paid orders, placed through the API and paid by 10,000 signed webhook events, \
         all delivered a second time to prove each applies once; the million sessions are \
         inserted straight into the database while the server runs. On PostgreSQL the planner's \
         statistics are refreshed (`ANALYZE`) after the 10,000 orders, as autovacuum does within \
         a minute of such a change.\n",
    );
    std::fs::write(root.join("docs/benchmarks.md"), &report).map_err(|e| e.to_string())?;
    std::fs::write(root.join("docs/benchmarks.svg"), plot(&bars)).map_err(|e| e.to_string())?;
    #[allow(clippy::print_stdout, reason = "the command's report")]
    {
        println!("{report}");
    }
    if rows.iter().all(|r| r.holds) {
        Ok(())
    } else {
        Err("a benchmark target does not hold (see docs/benchmarks.md)".to_owned())
    }
}

fn today() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn uname() -> String {
    Command::new("uname")
        .arg("-srm")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}
