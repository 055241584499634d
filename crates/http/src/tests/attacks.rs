//! The security review's findings (issue 20) over HTTP on the in-memory adapters: sessions
//! from before a second factor, accounts taken over before their owner proves the address, and
//! links that outlive a password reset. Each test failed on the code before its fix. Attempts
//! sent together are raced against the real binary in the black-box suite.

use kikeru_domain::changes::{Change, Changes, UnitOfWork as _};
use kikeru_domain::membership::second_factor::{Assurance, Factor, TotpEnrolment};
use kikeru_domain::ports::{Members as _, Message, SecondFactors as _};
use kikeru_domain::{Session, SessionId, SessionToken};
use kikeru_testkit::Harness;
use poem::http::StatusCode;
use serde_json::json;

use super::{Fixture, PASSWORD, assert_problem, fixture, header};

const HANAKO: &str = "hanako@example.jp";
const MALLORY: &str = "mallory@example.net";
const NEW_PASSWORD: &str = "violet lantern over quiet harbour";

impl Fixture {
    fn now(&self) -> kikeru_domain::Timestamp {
        kikeru_domain::ports::Clock::now(&*self.harness.clock)
    }

    async fn member_id(&self, email: &str) -> kikeru_domain::MemberId {
        self.harness
            .store
            .by_email(&Harness::email(email))
            .await
            .unwrap()
            .unwrap()
            .id
    }

    /// Registers `email` without following the verification link.
    async fn register_only(&self, email: &str) {
        self.post(
            "/api/v1/members",
            json!({"email": email, "password": PASSWORD}),
            None,
        )
        .await
        .assert_status(StatusCode::ACCEPTED);
    }

    async fn follow(&self, token: &SessionToken) -> poem::test::TestResponse {
        self.post(
            "/api/v1/members/verify",
            json!({"token": token.expose()}),
            None,
        )
        .await
    }

    async fn mail_to(&self, email: &str) -> Vec<Message> {
        self.harness
            .mail()
            .await
            .sent()
            .into_iter()
            .filter(|m| m.to.as_str() == email)
            .map(|m| m.message)
            .collect()
    }

    /// Asks, in the session `cookie`, to move the account to `new`; the link mailed there.
    async fn ask_to_move(&self, cookie: &str, new: &str) -> SessionToken {
        self.client
            .put("/api/v1/me/email")
            .header("origin", super::ORIGIN)
            .header("cookie", cookie)
            .body_json(&json!({"password": PASSWORD, "new_email": new}))
            .send()
            .await
            .assert_status(StatusCode::ACCEPTED);
        self.harness.mail().await.last_token_to(new).unwrap()
    }

    /// Asks for a password reset for `email`; the link mailed there.
    async fn ask_for_reset(&self, email: &str) -> SessionToken {
        self.post("/api/v1/password-resets", json!({"email": email}), None)
            .await
            .assert_status(StatusCode::ACCEPTED);
        self.harness.mail().await.last_token_to(email).unwrap()
    }

    /// A session stored as it would be had it begun with the password alone when the member
    /// had no second factor, and slipped past the enrolment that ends such sessions.
    async fn stale_session(&self, email: &str) -> String {
        let token = SessionToken::from_bytes([42; 32]);
        let now = self.now();
        let session = Session {
            id: SessionId::from_uuid(uuid::Uuid::from_u128(4242)),
            member_id: self.member_id(email).await,
            token_hash: token.hash(),
            created_at: now,
            last_seen_at: now,
            expires_at: now + std::time::Duration::from_secs(3600),
            browser: "Firefox 128 / Linux".to_owned(),
            assurance: Assurance::signed_in(Factor::Password, now),
            second_factor_enrolled: false,
        };
        let mut changes = Changes::new();
        changes.push(Change::InsertSession(session));
        self.harness.store.apply(changes).await.unwrap();
        format!("kikeru_session={}", token.expose())
    }
}

#[tokio::test]
async fn adding_a_first_second_factor_ends_every_other_session() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (older, _) = f.sign_in_pending(HANAKO).await;
    let (enrolling, _) = f.sign_in_pending(HANAKO).await;
    f.enrol(&enrolling).await;

    // The older session never passed the factor: it can neither confirm with the password
    // alone nor remove the factor.
    let reauth = f
        .call(
            "POST",
            "/api/v1/sessions/current/reauthentication",
            &older,
            Some(json!({"password": PASSWORD})),
        )
        .await;
    assert_problem(reauth, StatusCode::UNAUTHORIZED, "unauthenticated").await;
    f.call("DELETE", "/api/v1/me/totp", &older, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    f.call("POST", "/api/v1/me/passkeys/options", &older, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    f.call("GET", "/api/v1/me", &enrolling, None)
        .await
        .assert_status_is_ok();
    let second = f.harness.store.totp(f.member_id(HANAKO).await).await;
    assert!(second.unwrap().is_some_and(|t| t.is_confirmed()));
    assert!(
        f.mail_to(HANAKO)
            .await
            .contains(&Message::SecondFactorAdded {
                factor: "totp".to_owned(),
                others_signed_out: true,
            })
    );
}

#[tokio::test]
async fn a_password_change_reads_the_members_factors_not_the_sessions_copy() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (enrolling, _) = f.sign_in_pending(HANAKO).await;
    f.enrol(&enrolling).await;
    let stale = f.stale_session(HANAKO).await;
    let changed = f
        .client
        .put("/api/v1/me/password")
        .header("origin", super::ORIGIN)
        .header("cookie", &stale)
        .body_json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await;
    changed.assert_status_is_ok();
    let rotated = header(&changed, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // The new session must still pass the factor the member has.
    let me = f.call("GET", "/api/v1/me", &rotated, None).await;
    assert_problem(me, StatusCode::FORBIDDEN, "second_factor_required").await;
}

#[tokio::test]
async fn an_unverified_account_cannot_enrol_a_second_factor() {
    let f = fixture();
    f.register_only(HANAKO).await;
    let (squatter, _) = f.sign_in_pending(HANAKO).await;
    for (method, path) in [
        ("POST", "/api/v1/me/totp"),
        ("POST", "/api/v1/me/passkeys/options"),
        ("POST", "/api/v1/me/recovery-codes"),
    ] {
        let refused = f.call(method, path, &squatter, None).await;
        assert_problem(refused, StatusCode::FORBIDDEN, "email_unverified").await;
    }
}

#[tokio::test]
async fn the_first_verification_ends_what_came_before_it() {
    let f = fixture();
    // Someone registers Hanako's address first, signs in, asks to move the account to their
    // own address, and (on code from before this rule) had enrolled an authenticator app.
    f.register_only(HANAKO).await;
    let verify = f.harness.mail().await.last_token_to(HANAKO).unwrap();
    let (squatter, _) = f.sign_in_pending(HANAKO).await;
    let move_away = f.ask_to_move(&squatter, MALLORY).await;
    let member = f.member_id(HANAKO).await;
    let mut changes = Changes::new();
    changes.push(Change::PutTotp(TotpEnrolment {
        member_id: member,
        sealed_secret: b"sealed".to_vec(),
        created_at: f.now(),
        confirmed_at: Some(f.now()),
        last_used_step: None,
    }));
    f.harness.store.apply(changes).await.unwrap();

    // Hanako proves the address.
    f.follow(&verify)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    f.call("GET", "/api/v1/me", &squatter, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    assert_problem(
        f.follow(&move_away).await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    assert!(f.harness.store.totp(member).await.unwrap().is_none());
    assert!(f.mail_to(HANAKO).await.contains(&Message::AccountSecured {
        sessions_ended: 1,
        factors_removed: true,
    }));
    // Hanako signs in with the password alone: no one else's factor stands in the way.
    let (mine, pending) = f.sign_in_pending(HANAKO).await;
    assert!(!pending);
    f.call("GET", "/api/v1/me", &mine, None)
        .await
        .assert_status_is_ok();
}

#[tokio::test]
async fn a_verified_members_reset_keeps_their_factors_but_ends_pending_changes() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (mine, _) = f.sign_in_pending(HANAKO).await;
    f.enrol(&mine).await;
    let member = f.member_id(HANAKO).await;
    // Someone with the password (and the code) asks to move the account to their address.
    let move_away = f.ask_to_move(&mine, MALLORY).await;

    let reset = f.ask_for_reset(HANAKO).await;
    f.post(
        "/api/v1/password-resets/confirm",
        json!({"token": reset.expose(), "new_password": NEW_PASSWORD}),
        None,
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);

    assert_problem(
        f.follow(&move_away).await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    let stored = f.harness.store.by_id(member).await.unwrap().unwrap();
    assert_eq!(stored.email.as_str(), HANAKO);
    // A stolen mailbox must not remove the factors.
    assert!(f.harness.store.totp(member).await.unwrap().is_some());
}

#[tokio::test]
async fn a_password_change_ends_pending_address_changes_and_reset_links() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let mine = f.sign_in(HANAKO).await;
    let move_away = f.ask_to_move(&mine, MALLORY).await;
    let reset = f.ask_for_reset(HANAKO).await;

    f.client
        .put("/api/v1/me/password")
        .header("origin", super::ORIGIN)
        .header("cookie", &mine)
        .body_json(&json!({"current_password": PASSWORD, "new_password": NEW_PASSWORD}))
        .send()
        .await
        .assert_status_is_ok();

    assert_problem(
        f.follow(&move_away).await,
        StatusCode::BAD_REQUEST,
        "invalid_token",
    )
    .await;
    let stale_reset = f
        .post(
            "/api/v1/password-resets/confirm",
            json!({"token": reset.expose(), "new_password": "another quiet lantern harbour"}),
            None,
        )
        .await;
    assert_problem(stale_reset, StatusCode::BAD_REQUEST, "invalid_token").await;
}

#[tokio::test]
async fn reset_links_die_when_the_address_changes() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let reset = f.ask_for_reset(HANAKO).await;
    let mine = f.sign_in(HANAKO).await;
    let confirm = f.ask_to_move(&mine, "hanako@example.com").await;
    f.follow(&confirm)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let old_link = f
        .post(
            "/api/v1/password-resets/confirm",
            json!({"token": reset.expose(), "new_password": NEW_PASSWORD}),
            None,
        )
        .await;
    assert_problem(old_link, StatusCode::BAD_REQUEST, "invalid_token").await;
}

#[tokio::test]
async fn the_pending_authenticator_secret_is_shown_again_only_after_a_recent_sign_in() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (mine, _) = f.sign_in_pending(HANAKO).await;
    f.call("POST", "/api/v1/me/totp", &mine, None)
        .await
        .assert_status(StatusCode::CREATED);
    let shown = f
        .client
        .get("/me/totp")
        .header("cookie", &mine)
        .send()
        .await;
    shown.assert_status_is_ok();
    f.advance(std::time::Duration::from_secs(3600));
    let later = f
        .client
        .get("/me/totp")
        .header("cookie", &mine)
        .send()
        .await;
    later.assert_status(StatusCode::SEE_OTHER);
    assert!(
        header(&later, "location").starts_with("/me/reauthenticate?back=/me/totp"),
        "{}",
        header(&later, "location")
    );
}

/// What a browser would read as another site once it drops TAB, CR and LF and reads `\` as
/// `/`, or what is no path of ours at all.
const HOSTILE_BACKS: [&str; 11] = [
    "/\t/evil.example",
    "\t//evil.example",
    "/\r\n/evil.example",
    "//evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\\/evil.example",
    "https://evil.example",
    "evil.example",
    "/\u{0}/evil.example",
    "",
];

fn encoded(value: &str) -> String {
    value
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect::<String>()
}

#[test]
fn only_plain_local_paths_are_followed_back() {
    for hostile in HOSTILE_BACKS {
        assert!(!crate::site::local_path(hostile), "{hostile:?}");
    }
    // `%09` that arrives as these three characters stays a path segment on this host.
    for fine in [
        "/",
        "/me",
        "/products/1?x=//y",
        "/me/totp#security",
        "/%09/evil.example",
    ] {
        assert!(crate::site::local_path(fine), "{fine:?}");
    }
}

#[tokio::test]
async fn every_back_parameter_refuses_a_path_a_browser_reads_as_another_site() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    for hostile in HOSTILE_BACKS {
        let back = encoded(hostile);
        let lang = f.client.get(format!("/lang/en?back={back}")).send().await;
        lang.assert_status(StatusCode::SEE_OTHER);
        let location = header(&lang, "location");
        assert!(
            crate::site::local_path(&location),
            "/lang/en with {hostile:?} went to {location:?}"
        );
        if hostile.contains('\0') {
            // A posted NUL is refused at the edge before any handler reads `back`.
            let (csrf_cookie, csrf) = super::form_session(&f, "/login").await;
            let refused = super::post_form(
                &f,
                "/login",
                &csrf_cookie,
                format!("csrf={csrf}&email=hanako%40example.jp&password=x&back={back}"),
            )
            .await;
            refused.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
            continue;
        }

        let (csrf_cookie, csrf) = super::form_session(&f, "/login").await;
        let signed_in = super::post_form(
            &f,
            "/login",
            &csrf_cookie,
            format!(
                "csrf={csrf}&email=hanako%40example.jp&password={}&back={back}",
                encoded(PASSWORD)
            ),
        )
        .await;
        signed_in.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(header(&signed_in, "location"), "/me", "{hostile:?}");
        let session = header(&signed_in, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let again = super::post_form(
            &f,
            "/me/reauthenticate",
            &format!("{csrf_cookie}; {session}"),
            format!("csrf={csrf}&password={}&back={back}", encoded(PASSWORD)),
        )
        .await;
        again.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(header(&again, "location"), "/me", "{hostile:?}");
    }
}

/// A form token planted in the browser before sign-in (say, by a neighbouring site's cookie)
/// is worth nothing after it: signing in sets a new one.
#[tokio::test]
async fn signing_in_on_the_site_sets_a_new_form_token() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (csrf_cookie, csrf) = super::form_session(&f, "/login").await;
    let signed_in = super::post_form(
        &f,
        "/login",
        &csrf_cookie,
        format!(
            "csrf={csrf}&email=hanako%40example.jp&password={}",
            encoded(PASSWORD)
        ),
    )
    .await;
    signed_in.assert_status(StatusCode::SEE_OTHER);
    let set: Vec<String> = signed_in
        .0
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let rotated = set
        .iter()
        .find(|c| c.starts_with("kikeru_csrf="))
        .expect("a new form token");
    assert!(!rotated.starts_with(&csrf_cookie), "{rotated}");
    assert!(rotated.contains("HttpOnly") && rotated.contains("SameSite=Strict"));
}

/// Anyone can type a member's address into the contact form: such an inquiry is not the
/// member's, and must not appear on their My Page or in their data export. One they send
/// signed in is theirs.
#[tokio::test]
async fn an_inquiry_that_only_names_a_members_address_is_not_shown_as_theirs() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let inquiry = |subject: &str| {
        json!({"email": HANAKO, "name": "山田 花子", "subject": subject,
               "message": "ご確認ください。", "language": "ja"})
    };
    f.post("/api/v1/inquiries", inquiry("見知らぬ人の件名"), None)
        .await
        .assert_status(StatusCode::ACCEPTED);
    let mine = f.sign_in(HANAKO).await;
    f.post("/api/v1/inquiries", inquiry("本人の件名"), Some(&mine))
        .await
        .assert_status(StatusCode::ACCEPTED);
    f.advance(std::time::Duration::from_secs(1));
    let my_page = super::text_of(f.client.get("/me").header("cookie", &mine).send().await).await;
    let export = super::text_of(
        f.client
            .get("/api/v1/me/export")
            .header("cookie", &mine)
            .send()
            .await,
    )
    .await;
    for shown in [&my_page, &export] {
        assert!(shown.contains("本人の件名"));
        assert!(!shown.contains("見知らぬ人の件名"));
    }
}

/// PostgreSQL cannot store a NUL, SQLite can: refused before any rule runs, a NUL is the
/// sender's mistake on both, never a 500 — in the API's text (its schema, `PlainText`, says so: 400)
/// and in the site's forms (422), in the contact form and in the office's fields alike.
#[tokio::test]
async fn a_nul_in_any_field_is_the_senders_mistake() {
    let f = fixture();
    let contact = f
        .post(
            "/api/v1/inquiries",
            json!({"email": HANAKO, "subject": "件名", "message": "本文\u{0}です", "language": "ja"}),
            None,
        )
        .await;
    let problem = assert_problem(contact, StatusCode::BAD_REQUEST, "bad_request").await;
    assert!(
        problem["detail"].as_str().unwrap().contains("NUL"),
        "{problem}"
    );
    let office = f
        .operator(
            "admin@kikeru.example",
            kikeru_domain::office::operators::Role::Admin,
        )
        .await;
    let partner = f
        .client
        .put("/api/v1/admin/partners/nul-label")
        .header("origin", super::ORIGIN)
        .header("cookie", &office)
        .body_json(
            &json!({"name": "Label\u{0}", "address": "東京都", "representative": "山田",
                           "contact": "privacy@label.example.jp"}),
        )
        .send()
        .await;
    assert_problem(partner, StatusCode::BAD_REQUEST, "bad_request").await;
    let (csrf_cookie, csrf) = super::form_session(&f, "/contact").await;
    let form = super::post_form(
        &f,
        "/contact",
        &csrf_cookie,
        format!("csrf={csrf}&email=hanako%40example.jp&subject=x&message=a%00b"),
    )
    .await;
    form.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
    assert!(f.harness.contact.list(false, 10).await.unwrap().is_empty());
}

/// Found attacking a running instance: one plain operator could widen a processor's
/// categories and then disclose any member's data as "entrustment". Now the register widens
/// only when a second administrator approves, in the console as over the API.
#[tokio::test]
async fn the_console_shows_a_proposed_processor_and_only_a_second_administrator_approves_it() {
    use kikeru_domain::office::operators::Role;
    let f = fixture();
    let first = f.operator("first@kikeru.example", Role::Admin).await;
    let proposed = f
        .client
        .put("/api/v1/admin/processors/courier")
        .header("origin", super::ORIGIN)
        .header("cookie", &first)
        .body_json(&json!({"name": "Courier K.K.", "purpose": "delivery",
                           "categories": ["email_address"]}))
        .send()
        .await;
    proposed.assert_status(StatusCode::ACCEPTED);

    let (second, csrf) = super::console_session(&f, "second@kikeru.example", Role::Admin).await;
    let register = super::text_of(
        f.client
            .get("/admin/register")
            .header("cookie", &second)
            .send()
            .await,
    )
    .await;
    assert!(
        register.contains("/admin/processors/courier/approve"),
        "{register}"
    );
    let (clerk, clerk_csrf) =
        super::console_session(&f, "clerk@kikeru.example", Role::Operator).await;
    let refused = super::post_form(
        &f,
        "/admin/processors/courier/approve",
        &clerk,
        format!("csrf={clerk_csrf}"),
    )
    .await;
    refused.assert_status(StatusCode::FORBIDDEN);
    let approved = super::post_form(
        &f,
        "/admin/processors/courier/approve",
        &second,
        format!("csrf={csrf}"),
    )
    .await;
    approved.assert_status(StatusCode::SEE_OTHER);
    let register = f.harness.disclosures.processors().await.unwrap();
    assert!(register.iter().any(|p| p.key == "courier"));
    assert!(
        f.harness
            .disclosures
            .processor_proposals()
            .await
            .unwrap()
            .is_empty()
    );
}

/// Every string a request body may carry is documented as refusing NUL: each has a pattern,
/// anchored at both ends, with no `.`, and every negated class in it names `\x00` — so no
/// pattern a field sets in place of the default lets a NUL through (the contract schemathesis
/// holds the API to).
#[test]
fn every_request_string_pattern_excludes_nul() {
    fn walk(value: &serde_json::Value, path: &str, found: &mut Vec<(String, String)>) {
        match value {
            serde_json::Value::Object(map) => {
                if map.get("type").and_then(|t| t.as_str()) == Some("string")
                    && !map.contains_key("enum")
                    && !map.contains_key("format")
                {
                    let pattern = map.get("pattern").and_then(|p| p.as_str()).unwrap_or("");
                    found.push((path.to_owned(), pattern.to_owned()));
                }
                for (key, inner) in map {
                    walk(inner, &format!("{path}/{key}"), found);
                }
            }
            serde_json::Value::Array(items) => {
                for (i, inner) in items.iter().enumerate() {
                    walk(inner, &format!("{path}/{i}"), found);
                }
            }
            _ => {}
        }
    }
    let spec: serde_json::Value = serde_json::from_str(&crate::openapi_json()).unwrap();
    let schemas = &spec["components"]["schemas"];
    // The schemas a request body names (responses reuse few of them).
    let mut requested = std::collections::BTreeSet::new();
    for operation in spec["paths"].as_object().unwrap().values() {
        for op in operation.as_object().unwrap().values() {
            let body = &op["requestBody"]["content"]["application/json; charset=utf-8"]["schema"];
            if let Some(name) = body["$ref"].as_str() {
                requested.insert(name.rsplit('/').next().unwrap().to_owned());
            }
        }
    }
    // And every schema those name, however deep.
    let mut queue: Vec<String> = requested.iter().cloned().collect();
    while let Some(name) = queue.pop() {
        let text = schemas[name.as_str()].to_string();
        for (at, _) in text.match_indices("#/components/schemas/") {
            let rest = &text[at + "#/components/schemas/".len()..];
            let inner = rest.split('"').next().unwrap_or("").to_owned();
            if requested.insert(inner.clone()) {
                queue.push(inner);
            }
        }
    }
    assert!(requested.contains("NewPasskey"), "{requested:?}");
    let mut strings = Vec::new();
    for name in &requested {
        walk(&schemas[name.as_str()], name, &mut strings);
    }
    assert!(strings.len() > 20, "{strings:?}");
    for (path, pattern) in strings {
        let negated_classes_name_nul = pattern.match_indices("[^").all(|(at, _)| {
            pattern[at..]
                .split(']')
                .next()
                .unwrap_or("")
                .contains(r"\x00")
        });
        assert!(
            pattern.starts_with('^')
                && pattern.ends_with('$')
                && !pattern.contains('.')
                && negated_classes_name_nul,
            "{path}: {pattern:?} may let a NUL through"
        );
    }
}
