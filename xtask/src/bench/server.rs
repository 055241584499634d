//! The servers under test: a free port, a fresh database, the binary started and ready, and
//! the API calls that set up members and their sessions.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::Backend;

pub(super) const WEBHOOK_SECRET: &str = "whsec_bench";
pub(super) const EMAIL: &str = "bench@example.jp";
pub(super) const PASSWORD: &str = "correct horse battery staple";

/// One server under test.
pub(crate) struct Running {
    pub(super) child: Child,
    pub(crate) base: String,
    pub(crate) env: Vec<(String, String)>,
    pub(super) data: tempfile::TempDir,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(super) fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| e.to_string())
}

/// A fresh, empty database for one server: a temporary SQLite file, or a PostgreSQL database
/// dropped and made anew.
pub(super) fn fresh_database(backend: &Backend, data: &Path, name: &str) -> Result<String, String> {
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

pub(super) fn start(binary: &Path, backend: &Backend, stats: bool) -> Result<Running, String> {
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
pub(super) fn session(server: &Running) -> Result<String, String> {
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
pub(super) fn register(
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
pub(super) const SIGN_IN_PEOPLE: u32 = 64;

/// The members the sign-in load uses: `sign-in-N@example.jp` for N in 1..=[`SIGN_IN_PEOPLE`].
pub(super) fn sign_in_people(server: &Running) -> Result<(), String> {
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
pub(super) fn verification_token(outbox: &Path, email: &str) -> Option<String> {
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
