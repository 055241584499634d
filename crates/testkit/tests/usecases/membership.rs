//! Service tests: the membership use cases on the in-memory adapters, journey by journey.

use std::time::Duration;

use kikeru_domain::membership::second_factor::TotpSecret;
use kikeru_domain::membership::{
    AuthError, ChangeError, Client, FactorError, ProfileChange, Registration, SignInError,
    TokenError,
};
use kikeru_domain::ports::{Clock, Members};
use kikeru_domain::{DisplayName, Language, SecurityEventKind, SessionToken};
use kikeru_testkit::Harness;
use time::macros::datetime;

const PASSWORD: &str = "correct horse battery staple";
const NEW_PASSWORD: &str = "violet lantern over quiet harbour";

fn harness() -> Harness {
    Harness::new(datetime!(2026-04-01 09:00 UTC))
}

fn client() -> Client {
    Client {
        key: "198.51.100.7".into(),
        browser: "Firefox 128 / Linux".into(),
    }
}

async fn register(h: &Harness, email: &str) {
    let request = Registration {
        email: Harness::email(email),
        password: PASSWORD.into(),
        language: Language::Ja,
    };
    h.membership
        .register(request, &client())
        .await
        .expect("registered");
}

async fn verified_member(h: &Harness, email: &str) -> SessionToken {
    register(h, email).await;
    let token = h
        .mail()
        .await
        .last_token_to(email)
        .expect("verification mail");
    h.membership.verify_email(&token).await.expect("verified");
    h.membership
        .sign_in(email, PASSWORD, &client(), None)
        .await
        .expect("signed in")
        .token
}

#[tokio::test]
async fn a_member_registers_verifies_and_signs_in() {
    let h = harness();
    register(&h, "hanako@example.jp").await;
    assert_eq!(
        h.mail().await.kinds_to("hanako@example.jp"),
        ["verify_email"]
    );
    let member = h
        .store
        .by_email(&Harness::email("hanako@example.jp"))
        .await
        .unwrap()
        .unwrap();
    assert!(!member.is_verified());

    let token = h.mail().await.last_token_to("hanako@example.jp").unwrap();
    h.membership.verify_email(&token).await.unwrap();
    let signed_in = h
        .membership
        .sign_in("HANAKO@example.jp ", PASSWORD, &client(), None)
        .await
        .unwrap();
    let current = h.membership.authenticate(&signed_in.token).await.unwrap();
    assert_eq!(current.member.id, member.id);
    assert!(current.member.is_verified());
    assert_eq!(current.session.browser, "Firefox 128 / Linux");
}

#[tokio::test]
async fn registering_an_existing_email_answers_like_a_new_one_and_mails_the_owner() {
    let h = harness();
    verified_member(&h, "hanako@example.jp").await;
    let again = Registration {
        email: Harness::email("Hanako@Example.JP"),
        password: NEW_PASSWORD.into(),
        language: Language::En,
    };
    h.membership.register(again, &client()).await.unwrap();
    assert_eq!(
        h.mail().await.kinds_to("hanako@example.jp"),
        ["verify_email", "already_registered"]
    );
    // The original password still works; the attempt changed nothing.
    assert!(
        h.membership
            .sign_in("hanako@example.jp", PASSWORD, &client(), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn two_registrations_of_the_same_address_at_once_give_exactly_one_member() {
    let h = harness();
    let request = || Registration {
        email: Harness::email("race@example.jp"),
        password: PASSWORD.into(),
        language: Language::Ja,
    };
    let c = client();
    let (a, b) = tokio::join!(
        h.membership.register(request(), &c),
        h.membership.register(request(), &c)
    );
    assert!(a.is_ok() && b.is_ok());
    let mut kinds = h.mail().await.kinds_to("race@example.jp");
    kinds.sort_unstable();
    assert_eq!(kinds, ["already_registered", "verify_email"]);
}

#[tokio::test]
async fn a_verification_link_works_once_and_not_after_a_day() {
    let h = harness();
    register(&h, "hanako@example.jp").await;
    let token = h.mail().await.last_token_to("hanako@example.jp").unwrap();
    h.membership.verify_email(&token).await.unwrap();
    assert!(matches!(
        h.membership.verify_email(&token).await,
        Err(TokenError::Invalid)
    ));

    register(&h, "late@example.jp").await;
    let late = h.mail().await.last_token_to("late@example.jp").unwrap();
    h.clock.advance(Duration::from_secs(24 * 3600));
    assert!(matches!(
        h.membership.verify_email(&late).await,
        Err(TokenError::Invalid)
    ));
}

#[tokio::test]
async fn an_unknown_address_and_a_wrong_password_fail_alike() {
    let h = harness();
    verified_member(&h, "hanako@example.jp").await;
    let unknown = h
        .membership
        .sign_in("nobody@example.jp", PASSWORD, &client(), None)
        .await;
    let wrong = h
        .membership
        .sign_in(
            "hanako@example.jp",
            "not the password at all",
            &client(),
            None,
        )
        .await;
    let malformed = h
        .membership
        .sign_in("not an address", PASSWORD, &client(), None)
        .await;
    for result in [unknown, wrong, malformed] {
        assert!(
            matches!(result, Err(SignInError::InvalidCredentials)),
            "{result:?}"
        );
    }
}

#[tokio::test]
async fn five_failures_lock_the_address_until_the_window_ends() {
    let h = harness();
    verified_member(&h, "hanako@example.jp").await;
    for _ in 0..5 {
        let result = h
            .membership
            .sign_in("hanako@example.jp", "wrong password here", &client(), None)
            .await;
        assert!(matches!(result, Err(SignInError::InvalidCredentials)));
    }
    let locked = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await;
    assert!(
        matches!(locked, Err(SignInError::Throttled(_))),
        "{locked:?}"
    );
    // An unknown address locks the same way, so a lock tells nothing about membership.
    for _ in 0..5 {
        let _ = h
            .membership
            .sign_in("nobody@example.jp", "wrong password here", &client(), None)
            .await;
    }
    let unknown = h
        .membership
        .sign_in("nobody@example.jp", PASSWORD, &client(), None)
        .await;
    assert!(matches!(unknown, Err(SignInError::Throttled(_))));

    h.clock.advance(Duration::from_secs(15 * 60));
    assert!(
        h.membership
            .sign_in("hanako@example.jp", PASSWORD, &client(), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn one_client_is_limited_across_addresses() {
    let h = harness();
    for n in 0..30 {
        let result = h
            .membership
            .sign_in(
                &format!("guess{n}@example.jp"),
                "a wrong password",
                &client(),
                None,
            )
            .await;
        assert!(matches!(result, Err(SignInError::InvalidCredentials)));
    }
    let result = h
        .membership
        .sign_in("guess99@example.jp", "a wrong password", &client(), None)
        .await;
    assert!(matches!(result, Err(SignInError::Throttled(_))));
    let other = Client {
        key: "203.0.113.9".into(),
        browser: String::new(),
    };
    let result = h
        .membership
        .sign_in("guess99@example.jp", "a wrong password", &other, None)
        .await;
    assert!(matches!(result, Err(SignInError::InvalidCredentials)));
}

#[tokio::test]
async fn sessions_end_after_a_week_idle_or_thirty_days_in_all() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    h.clock.advance(Duration::from_secs(6 * 86_400));
    h.membership.authenticate(&token).await.unwrap();
    h.clock.advance(Duration::from_secs(7 * 86_400 - 1));
    h.membership.authenticate(&token).await.unwrap();
    h.clock.advance(Duration::from_secs(7 * 86_400));
    assert!(matches!(
        h.membership.authenticate(&token).await,
        Err(AuthError::Unauthenticated)
    ));

    let busy = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    for _ in 0..30 {
        h.clock.advance(Duration::from_secs(86_400));
        let _ = h.membership.authenticate(&busy).await;
    }
    assert!(matches!(
        h.membership.authenticate(&busy).await,
        Err(AuthError::Unauthenticated)
    ));
}

#[tokio::test]
async fn signing_in_again_replaces_the_presented_session() {
    let h = harness();
    let first = verified_member(&h, "hanako@example.jp").await;
    let second = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), Some(&first))
        .await
        .unwrap();
    assert_ne!(second.token, first);
    assert!(matches!(
        h.membership.authenticate(&first).await,
        Err(AuthError::Unauthenticated)
    ));
    assert!(h.membership.authenticate(&second.token).await.is_ok());
}

#[tokio::test]
async fn changing_the_password_ends_every_session_and_starts_a_new_one() {
    let h = harness();
    let here = verified_member(&h, "hanako@example.jp").await;
    let elsewhere = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    let current = h.membership.authenticate(&here).await.unwrap();

    let wrong = h
        .membership
        .change_password(&current, "not my password", NEW_PASSWORD, &client())
        .await;
    assert!(matches!(wrong, Err(ChangeError::WrongPassword)));
    let weak = h
        .membership
        .change_password(&current, PASSWORD, "password", &client())
        .await;
    assert!(matches!(weak, Err(ChangeError::Password(_))));

    let rotated = h
        .membership
        .change_password(&current, PASSWORD, NEW_PASSWORD, &client())
        .await
        .unwrap();
    for old in [&here, &elsewhere] {
        assert!(matches!(
            h.membership.authenticate(old).await,
            Err(AuthError::Unauthenticated)
        ));
    }
    assert!(h.membership.authenticate(&rotated.token).await.is_ok());
    assert!(
        h.membership
            .sign_in("hanako@example.jp", NEW_PASSWORD, &client(), None)
            .await
            .is_ok()
    );
    assert!(
        h.mail()
            .await
            .kinds_to("hanako@example.jp")
            .contains(&"password_changed")
    );
}

#[tokio::test]
async fn a_new_address_takes_effect_only_once_verified_and_the_old_one_is_told() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let current = h.membership.authenticate(&token).await.unwrap();
    let wrong = h
        .membership
        .change_email(&current, "bad password", Harness::email("new@example.jp"))
        .await;
    assert!(matches!(wrong, Err(ChangeError::WrongPassword)));
    let same = h
        .membership
        .change_email(&current, PASSWORD, Harness::email("hanako@example.jp"))
        .await;
    assert!(matches!(same, Err(ChangeError::SameEmail)));

    h.membership
        .change_email(&current, PASSWORD, Harness::email("new@example.jp"))
        .await
        .unwrap();
    assert_eq!(
        h.membership
            .authenticate(&token)
            .await
            .unwrap()
            .member
            .email
            .as_str(),
        "hanako@example.jp"
    );
    assert_eq!(
        h.mail().await.kinds_to("new@example.jp"),
        ["confirm_email_change"]
    );

    let proof = h.mail().await.last_token_to("new@example.jp").unwrap();
    h.membership.verify_email(&proof).await.unwrap();
    assert_eq!(
        h.membership
            .authenticate(&token)
            .await
            .unwrap()
            .member
            .email
            .as_str(),
        "new@example.jp"
    );
    assert_eq!(
        h.mail().await.kinds_to("hanako@example.jp"),
        ["verify_email", "email_change_requested", "email_changed"]
    );
    assert!(
        h.membership
            .sign_in("new@example.jp", PASSWORD, &client(), None)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_new_address_taken_in_the_meantime_is_refused_at_confirmation() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let current = h.membership.authenticate(&token).await.unwrap();
    h.membership
        .change_email(&current, PASSWORD, Harness::email("wanted@example.jp"))
        .await
        .unwrap();
    let proof = h.mail().await.last_token_to("wanted@example.jp").unwrap();
    register(&h, "wanted@example.jp").await;
    assert!(matches!(
        h.membership.verify_email(&proof).await,
        Err(TokenError::EmailTaken)
    ));
}

#[tokio::test]
async fn a_password_reset_answers_alike_works_once_within_thirty_minutes_and_ends_every_session() {
    let h = harness();
    let session = verified_member(&h, "hanako@example.jp").await;
    h.membership
        .request_password_reset(&Harness::email("nobody@example.jp"), &client())
        .await
        .unwrap();
    assert!(h.mail().await.kinds_to("nobody@example.jp").is_empty());

    h.membership
        .request_password_reset(&Harness::email("hanako@example.jp"), &client())
        .await
        .unwrap();
    let reset = h.mail().await.last_token_to("hanako@example.jp").unwrap();
    let weak = h.membership.reset_password(&reset, "short").await;
    assert!(matches!(weak, Err(TokenError::Password(_))));
    h.membership
        .reset_password(&reset, NEW_PASSWORD)
        .await
        .unwrap();
    assert!(matches!(
        h.membership.reset_password(&reset, NEW_PASSWORD).await,
        Err(TokenError::Invalid)
    ));
    assert!(matches!(
        h.membership.authenticate(&session).await,
        Err(AuthError::Unauthenticated)
    ));
    assert!(
        h.membership
            .sign_in("hanako@example.jp", NEW_PASSWORD, &client(), None)
            .await
            .is_ok()
    );

    h.membership
        .request_password_reset(&Harness::email("hanako@example.jp"), &client())
        .await
        .unwrap();
    let late = h.mail().await.last_token_to("hanako@example.jp").unwrap();
    h.clock.advance(Duration::from_secs(30 * 60));
    assert!(matches!(
        h.membership.reset_password(&late, PASSWORD).await,
        Err(TokenError::Invalid)
    ));
}

#[tokio::test]
async fn a_member_sees_and_revokes_only_their_own_sessions() {
    let h = harness();
    let mine = verified_member(&h, "hanako@example.jp").await;
    let my_other = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap();
    let theirs = verified_member(&h, "taro@example.jp").await;
    let me = h.membership.authenticate(&mine).await.unwrap();
    let them = h.membership.authenticate(&theirs).await.unwrap();

    assert_eq!(h.membership.sessions(&me).await.unwrap().len(), 2);
    let refused = h.membership.revoke_session(&me, them.session.id).await;
    assert!(matches!(refused, Err(ChangeError::NotFound)));
    assert!(h.membership.authenticate(&theirs).await.is_ok());

    h.membership
        .revoke_session(&me, my_other.session.id)
        .await
        .unwrap();
    assert!(matches!(
        h.membership.authenticate(&my_other.token).await,
        Err(AuthError::Unauthenticated)
    ));
    assert_eq!(h.membership.sessions(&me).await.unwrap().len(), 1);
}

#[tokio::test]
async fn signing_out_everywhere_else_keeps_this_session() {
    let h = harness();
    let here = verified_member(&h, "hanako@example.jp").await;
    let there = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    let current = h.membership.authenticate(&here).await.unwrap();
    assert_eq!(h.membership.sign_out_others(&current).await.unwrap(), 1);
    assert!(h.membership.authenticate(&here).await.is_ok());
    assert!(h.membership.authenticate(&there).await.is_err());
    h.membership.sign_out(&current).await.unwrap();
    assert!(h.membership.authenticate(&here).await.is_err());
}

#[tokio::test]
async fn profile_changes_are_kept_and_security_events_are_recorded() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let current = h.membership.authenticate(&token).await.unwrap();
    let change = ProfileChange {
        display_name: Some(DisplayName::parse("花子").unwrap()),
        language: Some(Language::En),
    };
    let updated = h.membership.update_profile(&current, change).await.unwrap();
    assert_eq!(
        (updated.display_name.as_str(), updated.language),
        ("花子", Language::En)
    );
    let current = h.membership.authenticate(&token).await.unwrap();
    assert_eq!(current.member, updated);

    let kinds: Vec<_> = h
        .membership
        .security_events(&current, 10)
        .await
        .unwrap()
        .iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&SecurityEventKind::Registered));
    assert!(kinds.contains(&SecurityEventKind::EmailVerified));
    assert!(kinds.contains(&SecurityEventKind::SignedIn));
    assert!(kinds.contains(&SecurityEventKind::ProfileUpdated));
}

#[tokio::test]
async fn reset_requests_are_limited_per_client_and_mails_per_address() {
    let h = harness();
    verified_member(&h, "hanako@example.jp").await;
    let email = Harness::email("hanako@example.jp");
    for _ in 0..10 {
        h.membership
            .request_password_reset(&email, &client())
            .await
            .unwrap();
    }
    let kinds = h.mail().await.kinds_to("hanako@example.jp");
    assert_eq!(
        kinds.iter().filter(|k| **k == "password_reset").count(),
        3,
        "{kinds:?}"
    );
    let throttled = h.membership.request_password_reset(&email, &client()).await;
    assert!(matches!(
        throttled,
        Err(kikeru_domain::membership::ResetRequestError::Throttled(_))
    ));
}

#[tokio::test]
async fn registrations_are_limited_per_client() {
    let h = harness();
    for n in 0..10 {
        register(&h, &format!("member{n}@example.jp")).await;
    }
    let request = Registration {
        email: Harness::email("one-more@example.jp"),
        password: PASSWORD.into(),
        language: Language::Ja,
    };
    let result = h.membership.register(request, &client()).await;
    assert!(matches!(
        result,
        Err(kikeru_domain::membership::RegisterError::Throttled(_))
    ));
}

#[tokio::test]
async fn a_sign_in_from_a_new_browser_is_announced_to_the_member() {
    let h = harness();
    let phone = Client {
        key: "203.0.113.9".into(),
        browser: "Safari 18 / iOS".into(),
    };
    verified_member(&h, "hanako@example.jp").await;
    assert!(
        !h.mail()
            .await
            .kinds_to("hanako@example.jp")
            .contains(&"new_sign_in"),
        "the first sign-in is not news"
    );
    h.membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap();
    h.membership
        .sign_in("hanako@example.jp", PASSWORD, &phone, None)
        .await
        .unwrap();
    let notices: Vec<_> = h
        .mail()
        .await
        .sent()
        .into_iter()
        .filter(|m| m.message.kind() == "new_sign_in")
        .collect();
    assert_eq!(notices.len(), 1, "only the browser without a session");
    assert!(matches!(
        &notices[0].message,
        kikeru_domain::ports::Message::NewSignIn { browser, .. } if browser == "Safari 18 / iOS"
    ));
}

/// Attempts sent together: each is counted before its password is checked, so no more than
/// the limit are ever checked, however many arrive at once (issue 20: 17 got through).
#[tokio::test]
async fn wrong_passwords_sent_together_each_count_against_the_limit() {
    let h = harness();
    verified_member(&h, "hanako@example.jp").await;
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..20 {
        let h = h.clone();
        burst.spawn(async move {
            let client = Client {
                key: format!("198.51.100.{i}"),
                browser: "Firefox 128 / Linux".into(),
            };
            h.membership
                .sign_in("hanako@example.jp", "wrong password here", &client, None)
                .await
        });
    }
    let mut checked = 0;
    while let Some(result) = burst.join_next().await {
        match result.expect("joined") {
            Err(SignInError::InvalidCredentials) => checked += 1,
            Err(SignInError::Throttled(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        checked, 5,
        "only the limit's worth of passwords are checked"
    );
    let locked = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await;
    assert!(
        matches!(locked, Err(SignInError::Throttled(_))),
        "{locked:?}"
    );
}

#[tokio::test]
async fn wrong_current_passwords_sent_together_each_count_against_the_limit() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let current = h.membership.authenticate(&token).await.unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (h, current) = (h.clone(), current.clone());
        burst.spawn(async move {
            h.membership
                .reauthenticate_session(&current, "wrong password here")
                .await
        });
    }
    let mut checked = 0;
    while let Some(result) = burst.join_next().await {
        match result.expect("joined") {
            Err(FactorError::WrongPassword) => checked += 1,
            Err(FactorError::Throttled(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, 5);
}

/// An operator's sign-in has the same limit, counted the same way.
#[tokio::test]
async fn operator_passwords_sent_together_each_count_against_the_limit() {
    let h = harness();
    h.office
        .add_operator(
            Harness::email("office@example.jp"),
            NEW_PASSWORD,
            kikeru_domain::office::operators::Role::Operator,
        )
        .await
        .unwrap();
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..30 {
        let h = h.clone();
        burst.spawn(async move {
            let client = Client {
                key: format!("198.51.100.{i}"),
                browser: "Firefox 128 / Linux".into(),
            };
            h.office
                .sign_in("office@example.jp", "wrong password here", &client)
                .await
                .map(|_| ())
        });
    }
    let mut checked = 0;
    while let Some(result) = burst.join_next().await {
        match result.expect("joined") {
            Err(kikeru_domain::office::service::OfficeError::InvalidCredentials) => checked += 1,
            Err(kikeru_domain::office::service::OfficeError::Throttled(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(checked <= 5, "{checked} passwords checked");
}

/// Turns the authenticator app on for the signed-in `token`; returns its secret.
async fn enrol_totp(h: &Harness, token: &SessionToken) -> TotpSecret {
    let current = h.membership.authenticate(token).await.unwrap();
    let setup = h.membership.begin_totp(&current).await.unwrap();
    let code = setup.secret.code_at(Clock::now(&*h.clock));
    h.membership.confirm_totp(&current, &code).await.unwrap();
    setup.secret
}

/// NIST SP 800-63B §5.2.2: no more than 100 wrong codes in a row. At the cap the session that
/// sent them ends, the member is told someone has their password, and codes stay refused —
/// from any new session — until the password is reset.
#[tokio::test]
async fn a_hundred_wrong_codes_in_a_row_end_the_session_and_tell_the_member() {
    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let secret = enrol_totp(&h, &token).await;
    let pending = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    let current = h.membership.authenticate_pending(&pending).await.unwrap();
    // A code from an hour ahead: well formed, never right now.
    let wrong = |h: &Harness| secret.code_at(Clock::now(&*h.clock) + Duration::from_secs(3600));
    for attempt in 0..100 {
        if attempt % 5 == 0 {
            h.clock.advance(Duration::from_secs(15 * 60 + 1));
        }
        let result = h.membership.pass_second_factor(&current, &wrong(&h)).await;
        assert!(
            matches!(result, Err(FactorError::WrongCode)),
            "attempt {attempt}: {result:?}"
        );
    }
    h.clock.advance(Duration::from_secs(15 * 60 + 1));
    let right = secret.code_at(Clock::now(&*h.clock));
    let capped = h.membership.pass_second_factor(&current, &right).await;
    assert!(matches!(capped, Err(FactorError::LockedOut)), "{capped:?}");
    assert!(matches!(
        h.membership.authenticate_pending(&pending).await,
        Err(AuthError::Unauthenticated)
    ));
    assert_eq!(
        h.mail()
            .await
            .kinds_to("hanako@example.jp")
            .iter()
            .filter(|k| **k == "second_factor_failures")
            .count(),
        1
    );
    // A new session with the password gets no more guesses.
    let again = h
        .membership
        .sign_in("hanako@example.jp", PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    let again = h.membership.authenticate_pending(&again).await.unwrap();
    h.clock.advance(Duration::from_secs(31));
    let right = secret.code_at(Clock::now(&*h.clock));
    assert!(matches!(
        h.membership.pass_second_factor(&again, &right).await,
        Err(FactorError::LockedOut)
    ));

    // The owner resets the password: codes work again.
    h.membership
        .request_password_reset(&Harness::email("hanako@example.jp"), &client())
        .await
        .unwrap();
    let reset = h.mail().await.last_token_to("hanako@example.jp").unwrap();
    h.membership
        .reset_password(&reset, NEW_PASSWORD)
        .await
        .unwrap();
    let fresh = h
        .membership
        .sign_in("hanako@example.jp", NEW_PASSWORD, &client(), None)
        .await
        .unwrap()
        .token;
    let fresh = h.membership.authenticate_pending(&fresh).await.unwrap();
    h.clock.advance(Duration::from_secs(31));
    let right = secret.code_at(Clock::now(&*h.clock));
    assert!(
        h.membership
            .pass_second_factor(&fresh, &right)
            .await
            .is_ok()
    );
}

/// A key rotation loses nothing: the authenticator app and recovery codes made under the
/// previous key keep working, `reseal_secrets` moves every stored secret to the new key, and
/// codes stored as the old unsalted hashes are still accepted until used or replaced.
#[tokio::test]
async fn a_key_rotation_keeps_every_factor_working_and_reseals_the_secrets() {
    use kikeru_domain::changes::{Change, Changes, UnitOfWork as _};
    use kikeru_domain::membership::second_factor::RecoveryCode;
    use kikeru_domain::ports::{Sealer as _, SecondFactors as _};

    let h = harness();
    let token = verified_member(&h, "hanako@example.jp").await;
    let current = h.membership.authenticate(&token).await.unwrap();
    let setup = h.membership.begin_totp(&current).await.unwrap();
    let code = setup.secret.code_at(Clock::now(&*h.clock));
    let codes = h.membership.confirm_totp(&current, &code).await.unwrap();
    let member = current.member.id;

    h.sealer.rotate();
    let before = h.store.totp(member).await.unwrap().unwrap();
    assert!(h.sealer.is_stale(&before.sealed_secret));
    let sign_in = |h: &Harness| {
        let h = h.clone();
        async move {
            let pending = h
                .membership
                .sign_in("hanako@example.jp", PASSWORD, &client(), None)
                .await
                .unwrap()
                .token;
            h.membership.authenticate_pending(&pending).await.unwrap()
        }
    };
    h.clock.advance(Duration::from_secs(31));
    let app = setup.secret.code_at(Clock::now(&*h.clock));
    assert!(
        h.membership
            .pass_second_factor(&sign_in(&h).await, &app)
            .await
            .is_ok()
    );
    assert!(
        h.membership
            .pass_second_factor(&sign_in(&h).await, &codes[0].expose())
            .await
            .is_ok(),
        "a code digested under the previous key"
    );

    let report = h.membership.reseal_secrets().await.unwrap();
    assert_eq!((report.resealed, report.unreadable), (1, 0));
    let after = h.store.totp(member).await.unwrap().unwrap();
    assert!(!h.sealer.is_stale(&after.sealed_secret));
    assert_eq!(h.membership.reseal_secrets().await.unwrap().current, 1);
    h.clock.advance(Duration::from_secs(31));
    let app = setup.secret.code_at(Clock::now(&*h.clock));
    assert!(
        h.membership
            .pass_second_factor(&sign_in(&h).await, &app)
            .await
            .is_ok()
    );

    // A set stored before keyed digests, as unsalted hashes: still accepted, once.
    let legacy = RecoveryCode::from_bytes([7; 10]);
    let mut changes = Changes::new();
    changes.push(Change::ReplaceRecoveryCodes {
        member,
        codes: vec![legacy.legacy_hash()],
        at: Clock::now(&*h.clock),
    });
    h.store.apply(changes).await.unwrap();
    assert!(
        h.membership
            .pass_second_factor(&sign_in(&h).await, &legacy.expose())
            .await
            .is_ok()
    );
    assert!(
        h.membership
            .pass_second_factor(&sign_in(&h).await, &legacy.expose())
            .await
            .is_err()
    );
}
