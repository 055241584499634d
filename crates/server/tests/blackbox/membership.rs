//! The whole membership journey against the real binary, on SQLite and on PostgreSQL.

use crate::support::http::Client;
use crate::support::{Server, outbox};
use serde_json::json;

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "violet lantern over quiet harbour";

fn journey(server: &Server) {
    let mut member = Client::new(&server.base);
    let email = "hanako@example.jp";

    let registered = member.post(
        "/api/v1/members",
        json!({"email": "Hanako@Example.jp", "password": PASSWORD, "language": "en"}),
    );
    assert_eq!(registered.status, 202, "{registered:?}");

    let mail = outbox::last(&server.outbox(), email, "verify_email").expect("a verification mail");
    assert!(mail.body.contains("/verify-email?token="), "{}", mail.body);
    let verified = member.post(
        "/api/v1/members/verify",
        json!({"token": mail.token().unwrap()}),
    );
    assert_eq!(verified.status, 204, "{verified:?}");

    let signed_in = member.post(
        "/api/v1/sessions",
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(signed_in.status, 201, "{signed_in:?}");
    assert!(
        signed_in
            .set_cookie
            .as_deref()
            .unwrap()
            .contains("HttpOnly")
    );
    let first_cookie = member.cookie.clone().unwrap();

    let me = member.get("/api/v1/me");
    assert_eq!(me.status, 200);
    assert_eq!(me.json["email"], email);
    assert_eq!(me.json["email_verified"], true);
    assert_eq!(me.json["language"], "en");
    assert_eq!(me.json["id"], signed_in.json["member_id"]);

    let mut laptop = Client::new(&server.base);
    assert_eq!(
        laptop
            .post(
                "/api/v1/sessions",
                json!({"email": email, "password": PASSWORD})
            )
            .status,
        201
    );
    assert_eq!(
        member
            .get("/api/v1/me/sessions")
            .json
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let changed = member.put(
        "/api/v1/me/password",
        json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}),
    );
    assert_eq!(changed.status, 200, "{changed:?}");
    assert_ne!(
        member.cookie.as_deref(),
        Some(first_cookie.as_str()),
        "the session rotates"
    );
    assert_eq!(laptop.get("/api/v1/me").status, 401, "other sessions end");
    let mut stale = Client::new(&server.base);
    stale.cookie = Some(first_cookie);
    assert_eq!(stale.get("/api/v1/me").status, 401, "the old session ends");
    assert!(outbox::last(&server.outbox(), email, "password_changed").is_some());

    assert_eq!(member.delete("/api/v1/sessions/current").status, 204);
    assert!(member.cookie.is_none());
    let old = member.post(
        "/api/v1/sessions",
        json!({"email": email, "password": PASSWORD}),
    );
    assert_eq!(old.status, 401);
    assert_eq!(old.content_type, "application/problem+json");
    assert_eq!(
        member
            .post(
                "/api/v1/sessions",
                json!({"email": email, "password": NEW_PASSWORD})
            )
            .status,
        201
    );
}

#[test]
fn the_membership_journey_works_on_sqlite() {
    let server = Server::start(None);
    journey(&server);
}

#[test]
fn the_membership_journey_works_on_postgres() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let Some(database) = runtime.block_on(kikeru_store::fixtures::postgres_database()) else {
        return;
    };
    let server = Server::start(Some(&database.url));
    journey(&server);
    drop(server);
    runtime.block_on(database.drop());
}
