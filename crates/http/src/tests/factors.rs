//! Second factors over HTTP on the in-memory adapters: the authenticator app from enrolment to
//! sign-in, recovery codes, replay, throttling, and the step-ups of sensitive changes.

use std::time::Duration;

use kikeru_domain::membership::second_factor::TotpSecret;
use poem::http::StatusCode;
use serde_json::{Value, json};

use super::{Fixture, ORIGIN, PASSWORD, assert_problem, fixture, header, json_of};

const HANAKO: &str = "hanako@example.jp";

impl Fixture {
    pub(super) async fn call(
        &self,
        method: &str,
        path: &str,
        cookie: &str,
        body: Option<Value>,
    ) -> poem::test::TestResponse {
        let request = match method {
            "GET" => self.client.get(path),
            "DELETE" => self.client.delete(path),
            _ => self.client.post(path),
        }
        .header("origin", ORIGIN)
        .header("cookie", cookie);
        match body {
            Some(body) => request.body_json(&body).send().await,
            None => request.send().await,
        }
    }

    /// Signs in with the password; returns the cookie and whether a second factor is due.
    pub(super) async fn sign_in_pending(&self, email: &str) -> (String, bool) {
        let response = self
            .post(
                "/api/v1/sessions",
                json!({"email": email, "password": PASSWORD}),
                None,
            )
            .await;
        response.assert_status(StatusCode::CREATED);
        let cookie = header(&response, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let body = json_of(response).await;
        (cookie, body["second_factor_required"].as_bool().unwrap())
    }

    pub(super) fn code(&self, secret: &TotpSecret) -> String {
        secret.code_at(kikeru_domain::ports::Clock::now(&*self.harness.clock))
    }

    /// Turns the authenticator app on; returns its secret and the recovery codes.
    pub(super) async fn enrol(&self, cookie: &str) -> (TotpSecret, Vec<String>) {
        let begun = self.call("POST", "/api/v1/me/totp", cookie, None).await;
        begun.assert_status(StatusCode::CREATED);
        let setup = json_of(begun).await;
        let base32 = setup["secret"].as_str().unwrap();
        assert!(setup["otpauth_uri"].as_str().unwrap().contains(base32));
        assert!(setup["qr_svg"].as_str().unwrap().starts_with("<svg"));
        let bytes = data_encoding::BASE32_NOPAD
            .decode(base32.as_bytes())
            .unwrap();
        let secret = TotpSecret::from_bytes(bytes.try_into().unwrap());
        let confirmed = self
            .call(
                "POST",
                "/api/v1/me/totp/confirmation",
                cookie,
                Some(json!({"code": self.code(&secret)})),
            )
            .await;
        confirmed.assert_status_is_ok();
        let codes = json_of(confirmed).await["codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect();
        (secret, codes)
    }

    pub(super) fn advance(&self, by: Duration) {
        self.harness.clock.advance(by);
    }
}

#[tokio::test]
async fn the_authenticator_app_guards_sign_in_and_recovery_codes_work_once() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (cookie, pending) = f.sign_in_pending(HANAKO).await;
    assert!(!pending, "no second factor yet");
    let status = json_of(
        f.call("GET", "/api/v1/me/second-factors", &cookie, None)
            .await,
    )
    .await;
    assert_eq!(status["totp"], false);

    // A wrong code does not complete enrolment.
    f.call("POST", "/api/v1/me/totp", &cookie, None)
        .await
        .assert_status(StatusCode::CREATED);
    let wrong = f
        .call(
            "POST",
            "/api/v1/me/totp/confirmation",
            &cookie,
            Some(json!({"code": "12 34"})),
        )
        .await;
    // Not six digits: the schema refuses it before any rule runs.
    assert_problem(wrong, StatusCode::BAD_REQUEST, "bad_request").await;
    let (secret, codes) = f.enrol(&cookie).await;
    assert_eq!(codes.len(), 10);
    let status = json_of(
        f.call("GET", "/api/v1/me/second-factors", &cookie, None)
            .await,
    )
    .await;
    assert_eq!(status["totp"], true);
    assert_eq!(status["recovery_codes_left"], 10);
    assert!(
        f.harness
            .mail()
            .await
            .kinds_to(HANAKO)
            .contains(&"second_factor_added")
    );

    // The password alone no longer signs in.
    f.call("DELETE", "/api/v1/sessions/current", &cookie, None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let (pending_cookie, pending) = f.sign_in_pending(HANAKO).await;
    assert!(pending);
    assert_problem(
        f.call("GET", "/api/v1/me", &pending_cookie, None).await,
        StatusCode::FORBIDDEN,
        "second_factor_required",
    )
    .await;
    // The code that confirmed enrolment is used up for the rest of its window.
    let replay = f
        .call(
            "POST",
            "/api/v1/sessions/current/second-factor",
            &pending_cookie,
            Some(json!({"code": f.code(&secret)})),
        )
        .await;
    assert_problem(replay, StatusCode::FORBIDDEN, "code_used").await;
    f.advance(Duration::from_secs(30));
    let passed = f
        .call(
            "POST",
            "/api/v1/sessions/current/second-factor",
            &pending_cookie,
            Some(json!({"code": f.code(&secret)})),
        )
        .await;
    passed.assert_status_is_ok();
    // Signed in under a new token: the one that travelled with the password alone ends.
    let signed_in = header(&passed, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    assert_ne!(signed_in, pending_cookie);
    assert_eq!(json_of(passed).await["factor"], "totp");
    f.call("GET", "/api/v1/me", &pending_cookie, None)
        .await
        .assert_status(StatusCode::UNAUTHORIZED);
    f.call("GET", "/api/v1/me", &signed_in, None)
        .await
        .assert_status_is_ok();

    // Phone lost: a recovery code gets in, once.
    let (lost, _) = f.sign_in_pending(HANAKO).await;
    let recovered = f
        .call(
            "POST",
            "/api/v1/sessions/current/second-factor",
            &lost,
            Some(json!({"code": codes[3].to_lowercase()})),
        )
        .await;
    recovered.assert_status_is_ok();
    let lost = header(&recovered, "set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let recovered = json_of(recovered).await;
    assert_eq!(recovered["factor"], "recovery_code");
    assert_eq!(recovered["recovery_codes_left"], 9);
    let (again, _) = f.sign_in_pending(HANAKO).await;
    assert_problem(
        f.call(
            "POST",
            "/api/v1/sessions/current/second-factor",
            &again,
            Some(json!({"code": codes[3]})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "wrong_code",
    )
    .await;

    // Both uses are in the audit log the member sees.
    let events = json_of(
        f.call("GET", "/api/v1/me/security-events", &lost, None)
            .await,
    )
    .await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    for kind in [
        "totp_enrolled",
        "recovery_codes_generated",
        "password_verified",
        "second_factor_passed",
        "recovery_code_used",
        "second_factor_failed",
    ] {
        assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
    }
    // The password alone was recorded as verified, not as a sign-in; the sign-in is recorded
    // with the recovery code that completed it (one unit).
    let lost_session = kinds
        .iter()
        .position(|k| *k == "recovery_code_used")
        .unwrap();
    assert_eq!(kinds[lost_session - 1], "signed_in", "{kinds:?}");
    assert_eq!(kinds[lost_session + 1], "password_verified", "{kinds:?}");
}

#[tokio::test]
async fn wrong_codes_are_throttled_like_passwords() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (cookie, _) = f.sign_in_pending(HANAKO).await;
    let (secret, _) = f.enrol(&cookie).await;
    let (pending, _) = f.sign_in_pending(HANAKO).await;
    let now = kikeru_domain::ports::Clock::now(&*f.harness.clock);
    let wrong = secret.code_at(now + Duration::from_secs(600));
    for _ in 0..5 {
        assert_problem(
            f.call(
                "POST",
                "/api/v1/sessions/current/second-factor",
                &pending,
                Some(json!({"code": wrong})),
            )
            .await,
            StatusCode::FORBIDDEN,
            "wrong_code",
        )
        .await;
    }
    f.advance(Duration::from_secs(30));
    let refused = f
        .call(
            "POST",
            "/api/v1/sessions/current/second-factor",
            &pending,
            Some(json!({"code": f.code(&secret)})),
        )
        .await;
    assert!(!header(&refused, "retry-after").is_empty());
    assert_problem(refused, StatusCode::TOO_MANY_REQUESTS, "too_many_attempts").await;
}

#[tokio::test]
async fn sensitive_changes_need_a_recent_authentication() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (cookie, _) = f.sign_in_pending(HANAKO).await;
    let (secret, _) = f.enrol(&cookie).await;
    f.advance(Duration::from_secs(11 * 60));

    for (method, path, body) in [
        ("DELETE", "/api/v1/me/totp", None),
        ("POST", "/api/v1/me/recovery-codes", None),
        ("POST", "/api/v1/me/totp", None),
        ("GET", "/api/v1/me/export", None),
        (
            "PUT",
            "/api/v1/me/password",
            Some(
                json!({"current_password": PASSWORD, "new_password": "another long passphrase here"}),
            ),
        ),
    ] {
        let response = if method == "PUT" {
            f.client
                .put(path)
                .header("origin", ORIGIN)
                .header("cookie", &cookie)
                .body_json(&body.unwrap())
                .send()
                .await
        } else {
            f.call(method, path, &cookie, body).await
        };
        let problem =
            assert_problem(response, StatusCode::FORBIDDEN, "reauthentication_required").await;
        assert!(
            problem["detail"]
                .as_str()
                .unwrap()
                .contains("/sessions/current/reauthentication"),
            "{path}: {problem}"
        );
    }

    assert_problem(
        f.call(
            "POST",
            "/api/v1/sessions/current/reauthentication",
            &cookie,
            Some(json!({"password": "not my password at all"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "wrong_password",
    )
    .await;
    f.call(
        "POST",
        "/api/v1/sessions/current/reauthentication",
        &cookie,
        Some(json!({"password": PASSWORD})),
    )
    .await
    .assert_status(StatusCode::NO_CONTENT);
    let fresh = f
        .call("POST", "/api/v1/me/recovery-codes", &cookie, None)
        .await;
    fresh.assert_status(StatusCode::CREATED);
    assert_eq!(json_of(fresh).await["codes"].as_array().unwrap().len(), 10);

    // A code from the app re-authenticates as well.
    f.advance(Duration::from_secs(11 * 60));
    f.call(
        "POST",
        "/api/v1/sessions/current/second-factor",
        &cookie,
        Some(json!({"code": f.code(&secret)})),
    )
    .await
    .assert_status_is_ok();
    f.call("DELETE", "/api/v1/me/totp", &cookie, None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
    let status = json_of(
        f.call("GET", "/api/v1/me/second-factors", &cookie, None)
            .await,
    )
    .await;
    assert_eq!(status["totp"], false);
    assert_eq!(
        status["recovery_codes_left"], 0,
        "no codes without a factor"
    );
    assert!(
        f.harness
            .mail()
            .await
            .kinds_to(HANAKO)
            .contains(&"second_factor_removed")
    );
    let (_, pending) = f.sign_in_pending(HANAKO).await;
    assert!(!pending, "the password alone signs in again");
}

#[tokio::test]
async fn a_pending_session_can_only_pass_its_factor_or_sign_out() {
    let f = fixture();
    f.register_and_verify(HANAKO).await;
    let (cookie, _) = f.sign_in_pending(HANAKO).await;
    f.enrol(&cookie).await;
    let (pending, _) = f.sign_in_pending(HANAKO).await;
    for (method, path) in [
        ("GET", "/api/v1/me/sessions"),
        ("GET", "/api/v1/me/second-factors"),
        ("POST", "/api/v1/me/totp"),
        ("GET", "/api/v1/me/export"),
    ] {
        assert_problem(
            f.call(method, path, &pending, None).await,
            StatusCode::FORBIDDEN,
            "second_factor_required",
        )
        .await;
    }
    assert_problem(
        f.call(
            "POST",
            "/api/v1/sessions/current/reauthentication",
            &pending,
            Some(json!({"password": PASSWORD})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "second_factor_required",
    )
    .await;
    f.call("DELETE", "/api/v1/sessions/current", &pending, None)
        .await
        .assert_status(StatusCode::NO_CONTENT);
}

mod site {
    use super::*;
    use crate::tests::{form_session, text_of};

    impl Fixture {
        async fn form(&self, path: &str, cookie: &str, body: String) -> poem::test::TestResponse {
            self.client
                .post(path)
                .header("origin", ORIGIN)
                .header("cookie", cookie)
                .content_type("application/x-www-form-urlencoded")
                .body(body)
                .send()
                .await
        }

        async fn page(&self, path: &str, cookie: &str) -> (StatusCode, String) {
            let response = self.client.get(path).header("cookie", cookie).send().await;
            let status = response.0.status();
            let html = text_of(response).await;
            assert!(
                !html.contains(crate::site::i18n::MISSING),
                "{path} lacks a message"
            );
            (status, html)
        }
    }

    fn between<'h>(html: &'h str, start: &str, end: &str) -> &'h str {
        let at = html
            .find(start)
            .unwrap_or_else(|| panic!("{start} in {html}"))
            + start.len();
        let len = html[at..].find(end).unwrap();
        &html[at..at + len]
    }

    #[tokio::test]
    async fn a_member_turns_the_app_on_signs_in_with_it_and_confirms_a_change_through_forms() {
        let f = fixture();
        f.register_and_verify(HANAKO).await;
        let (csrf_cookie, csrf) = form_session(&f, "/login").await;
        let signed_in = f
            .form(
                "/login",
                &csrf_cookie,
                format!(
                    "csrf={csrf}&email=hanako%40example.jp&password={}&back=%2Fme",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await;
        assert_eq!(header(&signed_in, "location"), "/me");
        let session = header(&signed_in, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let cookie = format!("{csrf_cookie}; {session}");

        let begun = f
            .form("/me/totp/begin", &cookie, format!("csrf={csrf}"))
            .await;
        begun.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(header(&begun, "location"), "/me/totp");
        for lang in ["ja", "en"] {
            let (status, html) = f
                .page("/me/totp", &format!("kikeru_lang={lang}; {cookie}"))
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("<svg role=\"img\""), "the QR code is inline");
        }
        let (_, html) = f.page("/me/totp", &cookie).await;
        let base32 = between(&html, "id=\"totp-secret\">", "<").to_owned();
        let secret = TotpSecret::from_bytes(
            data_encoding::BASE32_NOPAD
                .decode(base32.as_bytes())
                .unwrap()
                .try_into()
                .unwrap(),
        );
        let wrong = f
            .form(
                "/me/totp/confirm",
                &cookie,
                format!("csrf={csrf}&code=000000x"),
            )
            .await;
        wrong.assert_status(StatusCode::UNPROCESSABLE_ENTITY);
        let confirmed = f
            .form(
                "/me/totp/confirm",
                &cookie,
                format!("csrf={csrf}&code={}", f.code(&secret)),
            )
            .await;
        confirmed.assert_status_is_ok();
        assert_eq!(header(&confirmed, "cache-control"), "no-store");
        let html = text_of(confirmed).await;
        let codes: Vec<String> = between(&html, "id=\"recovery-codes\">", "</ol>")
            .split("<code>")
            .skip(1)
            .map(|c| c.split('<').next().unwrap().to_owned())
            .collect();
        assert_eq!(codes.len(), 10);
        let (_, my_page) = f.page("/me", &cookie).await;
        assert!(my_page.contains("id=\"recovery-left\">10<"), "{my_page}");

        // Signing in again asks for the code before anything else.
        let again = f
            .form(
                "/login",
                &csrf_cookie,
                format!(
                    "csrf={csrf}&email=hanako%40example.jp&password={}&back=%2Fme%23library",
                    PASSWORD.replace(' ', "+")
                ),
            )
            .await;
        let step = header(&again, "location");
        assert_eq!(step, "/login/second-factor?back=/me%23library");
        let pending = header(&again, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let pending_cookie = format!("{csrf_cookie}; {pending}");
        let (_, me) = f.page("/me", &pending_cookie).await;
        assert!(!me.contains("recovery-left"), "My Page is not shown yet");
        for lang in ["ja", "en"] {
            let (status, html) = f
                .page(&step, &format!("kikeru_lang={lang}; {pending_cookie}"))
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(html.contains("autocomplete=\"one-time-code\""));
        }
        let passed = f
            .form(
                "/login/second-factor",
                &pending_cookie,
                format!("csrf={csrf}&back=%2Fme%23library&code={}", codes[0]),
            )
            .await;
        passed.assert_status(StatusCode::SEE_OTHER);
        assert_eq!(header(&passed, "location"), "/me#library");
        let (_, stale) = f.page("/me", &pending_cookie).await;
        assert!(!stale.contains("recovery-left"), "the pending token ended");
        let signed_in = header(&passed, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned();
        let pending_cookie = format!("{csrf_cookie}; {signed_in}");
        let (_, my_page) = f.page("/me", &pending_cookie).await;
        assert!(my_page.contains("id=\"recovery-left\">9<"));

        // Later, a sensitive change asks to confirm it is you first, then goes through.
        f.advance(Duration::from_secs(11 * 60));
        let refused = f
            .form(
                "/me/recovery-codes",
                &pending_cookie,
                format!("csrf={csrf}"),
            )
            .await;
        refused.assert_status(StatusCode::SEE_OTHER);
        let confirm = header(&refused, "location");
        assert_eq!(confirm, "/me/reauthenticate?back=/me%23security");
        for lang in ["ja", "en"] {
            let (status, html) = f
                .page(&confirm, &format!("kikeru_lang={lang}; {pending_cookie}"))
                .await;
            assert_eq!(status, StatusCode::OK);
            assert!(
                html.contains("action=\"/me/reauthenticate/code\""),
                "the app is offered"
            );
        }
        let wrong = f
            .form(
                "/me/reauthenticate",
                &pending_cookie,
                format!("csrf={csrf}&back=%2Fme%23security&password=nope"),
            )
            .await;
        wrong.assert_status(StatusCode::FORBIDDEN);
        f.advance(Duration::from_secs(30));
        let confirmed = f
            .form(
                "/me/reauthenticate/code",
                &pending_cookie,
                format!("csrf={csrf}&back=%2Fme%23security&code={}", f.code(&secret)),
            )
            .await;
        assert_eq!(header(&confirmed, "location"), "/me#security");
        let fresh = f
            .form(
                "/me/recovery-codes",
                &pending_cookie,
                format!("csrf={csrf}"),
            )
            .await;
        fresh.assert_status_is_ok();
        let removed = f
            .form("/me/totp/remove", &pending_cookie, format!("csrf={csrf}"))
            .await;
        assert_eq!(header(&removed, "location"), "/me?done=totp_off#security");
        // The export link from My Page also asks first, once the window has passed.
        f.advance(Duration::from_secs(11 * 60));
        let export = f
            .client
            .get("/api/v1/me/export")
            .header("accept", "text/html,application/xhtml+xml")
            .header("cookie", &pending_cookie)
            .send()
            .await;
        assert_eq!(
            header(&export, "location"),
            "/me/reauthenticate?back=/api/v1/me/export"
        );
    }
}

mod passkeys {
    use super::*;
    use kikeru_testkit::{TEST_ORIGIN, TEST_RP_ID};
    use kikeru_webauthn::software::SoftwareAuthenticator;

    fn b64(bytes: &[u8]) -> String {
        data_encoding::BASE64URL_NOPAD.encode(bytes)
    }

    fn unb64(text: &Value) -> Vec<u8> {
        data_encoding::BASE64URL_NOPAD
            .decode(text.as_str().unwrap().as_bytes())
            .unwrap()
    }

    impl Fixture {
        /// Adds a passkey made by `authenticator`; returns the answer's JSON.
        async fn add_passkey(
            &self,
            cookie: &str,
            authenticator: &mut SoftwareAuthenticator,
        ) -> Value {
            let options = self
                .call("POST", "/api/v1/me/passkeys/options", cookie, None)
                .await;
            options.assert_status_is_ok();
            let options = json_of(options).await;
            let public = &options["publicKey"];
            assert_eq!(public["rp"]["id"], TEST_RP_ID);
            assert_eq!(
                public["authenticatorSelection"]["userVerification"],
                "required"
            );
            assert_eq!(public["authenticatorSelection"]["residentKey"], "required");
            let made =
                authenticator.register(&unb64(&public["challenge"]), &unb64(&public["user"]["id"]));
            let added = self
                .call(
                    "POST",
                    "/api/v1/me/passkeys",
                    cookie,
                    Some(json!({
                        "ceremony": options["ceremony"],
                        "name": "テストの鍵",
                        "credential": {
                            "id": b64(authenticator.credential_id()),
                            "rawId": b64(authenticator.credential_id()),
                            "type": "public-key",
                            "response": {
                                "clientDataJSON": b64(&made.client_data_json),
                                "attestationObject": b64(&made.attestation_object),
                            },
                        },
                    })),
                )
                .await;
            added.assert_status(StatusCode::CREATED);
            let added = json_of(added).await;
            // The same ceremony cannot be used twice.
            let again = self
                .call(
                    "POST",
                    "/api/v1/me/passkeys",
                    cookie,
                    Some(json!({
                        "ceremony": options["ceremony"],
                        "name": "again",
                        "credential": {"id": b64(authenticator.credential_id()), "response": {
                            "clientDataJSON": b64(&made.client_data_json),
                            "attestationObject": b64(&made.attestation_object)}},
                    })),
                )
                .await;
            assert_problem(again, StatusCode::FORBIDDEN, "ceremony_invalid").await;
            added
        }

        /// Signs in with `authenticator`'s passkey, carrying `cookie` (may be empty).
        async fn passkey_sign_in(
            &self,
            cookie: &str,
            authenticator: &mut SoftwareAuthenticator,
        ) -> poem::test::TestResponse {
            let options = json_of(
                self.call("POST", "/api/v1/sessions/passkey/options", "", None)
                    .await,
            )
            .await;
            assert_eq!(options["publicKey"]["allowCredentials"], json!([]));
            let answer = authenticator.assert(&unb64(&options["publicKey"]["challenge"]));
            let mut response = json!({
                "clientDataJSON": b64(&answer.client_data_json),
                "authenticatorData": b64(&answer.authenticator_data),
                "signature": b64(&answer.signature),
            });
            if let Some(handle) = &answer.user_handle {
                response["userHandle"] = json!(b64(handle));
            }
            self.call(
                "POST",
                "/api/v1/sessions/passkey",
                cookie,
                Some(json!({
                    "ceremony": options["ceremony"],
                    "credential": {"id": b64(&answer.credential_id), "response": response},
                })),
            )
            .await
        }
    }

    fn cookie_of(response: &poem::test::TestResponse) -> String {
        header(response, "set-cookie")
            .split(';')
            .next()
            .unwrap()
            .to_owned()
    }

    #[tokio::test]
    async fn a_passkey_signs_in_without_an_address_and_serves_as_the_second_factor() {
        let f = fixture();
        f.register_and_verify(HANAKO).await;
        let (cookie, _) = f.sign_in_pending(HANAKO).await;
        let mut phone = SoftwareAuthenticator::new(TEST_RP_ID, TEST_ORIGIN);
        let added = f.add_passkey(&cookie, &mut phone).await;
        assert_eq!(added["passkey"]["name"], "テストの鍵");
        assert_eq!(added["recovery_codes"].as_array().unwrap().len(), 10);
        let id = added["passkey"]["id"].as_str().unwrap().to_owned();
        assert!(
            f.harness
                .mail()
                .await
                .kinds_to(HANAKO)
                .contains(&"second_factor_added")
        );

        // No address, no password: the passkey alone signs in, completely.
        let signed_in = f.passkey_sign_in("", &mut phone).await;
        signed_in.assert_status(StatusCode::CREATED);
        let fresh = cookie_of(&signed_in);
        assert_eq!(json_of(signed_in).await["second_factor_required"], false);
        f.call("GET", "/api/v1/me", &fresh, None)
            .await
            .assert_status_is_ok();

        // The password alone now waits for a second factor, which the passkey gives.
        let (pending, waiting) = f.sign_in_pending(HANAKO).await;
        assert!(waiting);
        let completed = f.passkey_sign_in(&pending, &mut phone).await;
        completed.assert_status(StatusCode::CREATED);
        let completed_cookie = cookie_of(&completed);
        assert_problem(
            f.call("GET", "/api/v1/me", &pending, None).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        )
        .await;
        f.call("GET", "/api/v1/me", &completed_cookie, None)
            .await
            .assert_status_is_ok();

        // A passkey from elsewhere, or a stranger's authenticator, gets nowhere.
        let mut stranger = SoftwareAuthenticator::new(TEST_RP_ID, TEST_ORIGIN);
        stranger.register(&[0; 32], b"nobody");
        assert_problem(
            f.passkey_sign_in("", &mut stranger).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        let mut phishing = SoftwareAuthenticator::new(TEST_RP_ID, "http://kikeru.evil.example");
        let options = json_of(
            f.call(
                "POST",
                "/api/v1/me/passkeys/options",
                &completed_cookie,
                None,
            )
            .await,
        )
        .await;
        let made = phishing.register(&unb64(&options["publicKey"]["challenge"]), b"x");
        let refused = f
            .call(
                "POST",
                "/api/v1/me/passkeys",
                &completed_cookie,
                Some(
                    json!({"ceremony": options["ceremony"], "name": "phish", "credential": {
                    "id": b64(phishing.credential_id()), "response": {
                        "clientDataJSON": b64(&made.client_data_json),
                        "attestationObject": b64(&made.attestation_object)}}}),
                ),
            )
            .await;
        assert_problem(refused, StatusCode::FORBIDDEN, "passkey_refused").await;

        // Listed, renamed; removing it needs a recent authentication, which the passkey gives.
        let list = json_of(
            f.call("GET", "/api/v1/me/passkeys", &completed_cookie, None)
                .await,
        )
        .await;
        assert_eq!(list.as_array().unwrap().len(), 1);
        assert!(list[0]["last_used_at"].is_string());
        let renamed = f
            .client
            .patch(format!("/api/v1/me/passkeys/{id}"))
            .header("origin", ORIGIN)
            .header("cookie", &completed_cookie)
            .body_json(&json!({"name": "iPhone"}))
            .send()
            .await;
        renamed.assert_status_is_ok();
        assert_eq!(json_of(renamed).await["name"], "iPhone");
        f.advance(Duration::from_secs(11 * 60));
        assert_problem(
            f.call(
                "DELETE",
                &format!("/api/v1/me/passkeys/{id}"),
                &completed_cookie,
                None,
            )
            .await,
            StatusCode::FORBIDDEN,
            "reauthentication_required",
        )
        .await;
        let again = f.passkey_sign_in(&completed_cookie, &mut phone).await;
        again.assert_status(StatusCode::CREATED);
        let again = cookie_of(&again);
        f.call("DELETE", &format!("/api/v1/me/passkeys/{id}"), &again, None)
            .await
            .assert_status(StatusCode::NO_CONTENT);
        let status = json_of(
            f.call("GET", "/api/v1/me/second-factors", &again, None)
                .await,
        )
        .await;
        assert_eq!(
            status["recovery_codes_left"], 0,
            "no codes without a factor"
        );
        assert_problem(
            f.passkey_sign_in("", &mut phone).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
        let events = json_of(
            f.call("GET", "/api/v1/me/security-events", &again, None)
                .await,
        )
        .await;
        let kinds: Vec<&str> = events
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        for kind in ["passkey_added", "passkey_used", "passkey_removed"] {
            assert!(kinds.contains(&kind), "{kind} in {kinds:?}");
        }
    }

    #[tokio::test]
    async fn an_assertion_is_accepted_once() {
        let f = fixture();
        f.register_and_verify(HANAKO).await;
        let (cookie, _) = f.sign_in_pending(HANAKO).await;
        let mut phone = SoftwareAuthenticator::new(TEST_RP_ID, TEST_ORIGIN);
        f.add_passkey(&cookie, &mut phone).await;
        let options = json_of(
            f.call("POST", "/api/v1/sessions/passkey/options", "", None)
                .await,
        )
        .await;
        let answer = phone.assert(&unb64(&options["publicKey"]["challenge"]));
        let body = json!({
            "ceremony": options["ceremony"],
            "credential": {"id": b64(&answer.credential_id), "response": {
                "clientDataJSON": b64(&answer.client_data_json),
                "authenticatorData": b64(&answer.authenticator_data),
                "signature": b64(&answer.signature),
                "userHandle": b64(answer.user_handle.as_deref().unwrap_or_default())}},
        });
        f.call("POST", "/api/v1/sessions/passkey", "", Some(body.clone()))
            .await
            .assert_status(StatusCode::CREATED);
        assert_problem(
            f.call("POST", "/api/v1/sessions/passkey", "", Some(body))
                .await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        )
        .await;
    }

    /// WebAuthn §7.2 step 6: a discoverable credential returns its user handle, so an answer
    /// without one is refused; and BE, fixed for a credential's life, may not change (BS may).
    #[tokio::test]
    async fn an_assertion_without_its_user_handle_or_with_another_backup_eligibility_is_refused() {
        let f = fixture();
        f.register_and_verify(HANAKO).await;
        let (cookie, _) = f.sign_in_pending(HANAKO).await;
        let mut phone = SoftwareAuthenticator::new(TEST_RP_ID, TEST_ORIGIN);
        phone.backup_eligible = true;
        phone.backed_up = true;
        f.add_passkey(&cookie, &mut phone).await;

        phone.returns_user_handle = false;
        let anonymous = f.passkey_sign_in("", &mut phone).await;
        assert_problem(anonymous, StatusCode::UNAUTHORIZED, "invalid_credentials").await;
        phone.returns_user_handle = true;

        phone.backup_eligible = false;
        phone.backed_up = false;
        let changed = f.passkey_sign_in("", &mut phone).await;
        assert_problem(changed, StatusCode::UNAUTHORIZED, "invalid_credentials").await;

        // Eligible as registered, no longer backed up: BS may change, and is recorded.
        phone.backup_eligible = true;
        f.passkey_sign_in("", &mut phone)
            .await
            .assert_status(StatusCode::CREATED);
        let member = kikeru_domain::ports::Members::by_email(
            &*f.harness.store,
            &kikeru_testkit::Harness::email(HANAKO),
        )
        .await
        .unwrap()
        .unwrap();
        let stored = kikeru_domain::ports::SecondFactors::passkeys(&*f.harness.store, member.id)
            .await
            .unwrap();
        assert_eq!(
            (stored[0].backup_eligible, stored[0].backed_up),
            (Some(true), false)
        );
    }
}
