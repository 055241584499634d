//! Anonymous statistics against the real binary: requests carrying cookies, sign-ins, e-mail
//! addresses in query strings and odd User-Agents leave no personal value in any stored column;
//! `kikeru stats export` gives the report of completed days (small cells left out: see the
//! domain's tests).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::http::Client;
use crate::support::{Server, binary, outbox};
use kikeru_domain::privacy::ports::Statistics;
use kikeru_store::fixtures::text_of;
use kikeru_store::{SqlStore, StoreConfig};
use serde_json::json;

const EMAIL: &str = "canary.person@example.jp";
const PASSWORD: &str = "canary horse battery staple";
const CANARIES: &[&str] = &["canary", "CANARY", "example.jp", "@", "203.0.113", "token"];

#[test]
fn nothing_personal_reaches_the_statistics() {
    let server = Server::start(None);
    let mut client = Client::new(&server.base);
    let registered = client.post(
        "/api/v1/members",
        json!({"email": EMAIL, "password": PASSWORD}),
    );
    assert_eq!(registered.status, 202);
    let mail = outbox::last(&server.outbox(), EMAIL, "verify_email").unwrap();
    let token = mail.token().unwrap();
    client.post("/api/v1/members/verify", json!({"token": token}));
    let signed_in = client.post(
        "/api/v1/sessions",
        json!({"email": EMAIL, "password": PASSWORD}),
    );
    assert_eq!(signed_in.status, 201);
    client.get("/api/v1/me");
    client.get(&format!("/verify-email?token={token}&email={EMAIL}"));
    client.get(&format!("/members/{EMAIL}"));
    client.send_raw(
        "GET",
        "/?ref=CANARY",
        &[
            (
                "user-agent",
                "Mozilla/5.0 (canary.person@example.jp) CanaryBot/1.0 token=abc",
            ),
            ("x-forwarded-for", "203.0.113.7"),
            (
                "referer",
                "https://evil.example/?email=canary.person@example.jp",
            ),
        ],
        Vec::new(),
    );
    client.send_raw(
        "GET",
        "/privacy",
        &[(
            "user-agent",
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        )],
        Vec::new(),
    );

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let url = format!(
        "sqlite://{}?mode=rwc",
        server.data.path().join("kikeru.db").display()
    );
    let store = runtime
        .block_on(SqlStore::connect(&StoreConfig::new(url)))
        .unwrap();
    let columns = ["day", "method", "path", "family", "major", "os", "device"];
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = runtime.block_on(text_of(&store, "access_hits", &columns));
        if text.contains("/privacy") || Instant::now() > deadline {
            break text;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        text.contains("/privacy") && text.contains("/api/v1/me"),
        "{text}"
    );
    assert!(
        text.contains("Safari") && text.contains("iPhone") && text.contains("smartphone"),
        "the browser's class is kept: {text}"
    );
    for canary in CANARIES {
        assert!(
            !text.contains(canary),
            "{canary} reached the statistics:\n{text}"
        );
    }
    #[allow(
        clippy::disallowed_methods,
        reason = "a black-box test rolls up through today, as the real clock has it"
    )]
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    runtime.block_on(store.roll_up(tomorrow)).unwrap();
    let daily_columns = ["day", "method", "path", "family", "os", "device"];
    let daily_text = runtime.block_on(text_of(&store, "access_daily", &daily_columns));
    assert!(daily_text.contains("/privacy"));
    for canary in CANARIES {
        assert!(
            !daily_text.contains(canary),
            "{canary} reached the daily counts"
        );
    }

    let export = Command::new(binary())
        .args(["stats", "export", "--format", "json", "--days", "2"])
        .env_clear()
        .env("KIKERU_DATA_DIR", server.data.path())
        .env("KIKERU_STATS_MIN_COUNT", "2")
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&export.stdout).unwrap();
    assert_eq!(report["k"], 2, "{report}");
    for section in ["page_views", "browsers", "statuses"] {
        assert!(report[section].is_array(), "{report}");
    }
    let bad = Command::new(binary())
        .args(["stats", "export", "--format", "xml"])
        .env_clear()
        .env("KIKERU_DATA_DIR", server.data.path())
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--format"));
}
