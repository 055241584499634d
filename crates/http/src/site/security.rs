//! Sign-in protection on the site, without JavaScript: the second step of signing in, the
//! "confirm it is you" page that sensitive changes send members to, and turning the
//! authenticator app and recovery codes on and off from My Page.

use crate::site::confirm_first;
use askama::Template;
use kikeru_domain::membership::second_factor::{RecoveryCode, StepUp};
use kikeru_domain::membership::{Authenticated, FactorError};
use poem::Route;
use poem::http::StatusCode;
use poem::web::{Data, Query};
use poem::{Request, Response, handler};
use serde::Deserialize;

use super::encode;
use super::extract::{MemberForm, PublicForm, SignedIn};
use super::{Chrome, CsrfOnly, chrome, current, html, local_path, see_other};
use crate::AppState;
super::extract::csrf_field!(CodeForm, PasswordForm, RenameForm);

/// Where to go after a step, when `back` is one of our own paths; My Page otherwise.
fn back_or_my_page(back: &str) -> &str {
    if local_path(back) { back } else { "/me" }
}

/// The session of the request, even one still waiting for its second factor.
async fn pending(state: &AppState, req: &Request) -> Option<Authenticated> {
    let token = state.config.cookie().token(req)?;
    state
        .services
        .membership
        .authenticate_pending(&token)
        .await
        .ok()
}

/// The message for a refused code or step.
fn factor_problem(e: &FactorError) -> (StatusCode, &'static str) {
    match e {
        FactorError::WrongCode => (StatusCode::FORBIDDEN, "security.wrong_code"),
        FactorError::LockedOut => (StatusCode::FORBIDDEN, "security.locked_out"),
        FactorError::Unverified => (StatusCode::FORBIDDEN, "security.verify_first"),
        FactorError::CodeUsed => (StatusCode::FORBIDDEN, "security.code_used"),
        FactorError::MalformedCode => (StatusCode::UNPROCESSABLE_ENTITY, "security.malformed_code"),
        FactorError::WrongPassword => (StatusCode::FORBIDDEN, "mypage.wrong_password"),
        FactorError::AlreadyEnrolled => (StatusCode::CONFLICT, "security.already_on"),
        FactorError::StepUp(_) => (StatusCode::FORBIDDEN, "mypage.reauth_needed"),
        FactorError::NotEnrolled | FactorError::NoSuchMember | FactorError::NoSuchPasskey => {
            (StatusCode::CONFLICT, "error.not_found")
        }
        FactorError::TooManyPasskeys => (StatusCode::CONFLICT, "security.too_many_passkeys"),
        FactorError::PasskeyRegistered => (StatusCode::CONFLICT, "security.passkey_registered"),
        FactorError::CeremonyInvalid | FactorError::Passkey(_) => {
            (StatusCode::FORBIDDEN, "security.passkey_refused")
        }
        FactorError::BadName => (
            StatusCode::UNPROCESSABLE_ENTITY,
            "security.passkey_name_bad",
        ),
        FactorError::Throttled(_) => (StatusCode::TOO_MANY_REQUESTS, "error.throttled"),
        FactorError::Backend(e) => (
            crate::problem::failure(e, "a second-factor step failed"),
            "error.server",
        ),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BackQuery {
    back: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CodeForm {
    csrf: String,
    code: String,
    back: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct PasswordForm {
    csrf: String,
    password: String,
    back: String,
}

#[derive(Template)]
#[template(path = "second_factor.html")]
struct SecondFactorPage<'a> {
    c: &'a Chrome,
    back: &'a str,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "reauthenticate.html")]
struct ReauthPage<'a> {
    c: &'a Chrome,
    back: &'a str,
    error: Option<&'a str>,
    totp: bool,
}

#[derive(Template)]
#[template(path = "totp_setup.html")]
struct SetupPage<'a> {
    c: &'a Chrome,
    qr: String,
    secret: String,
    error: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct CodesPage<'a> {
    c: &'a Chrome,
    flash: Option<&'a str>,
    codes: Vec<String>,
}

/// `GET /login/second-factor`: the code form.
#[handler]
pub(crate) async fn second_factor_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<BackQuery>,
) -> Response {
    let back = back_or_my_page(&query.back);
    let Some(who) = pending(&state, req).await else {
        return see_other("/login", &[]);
    };
    if who.session.access() == kikeru_domain::membership::second_factor::Access::SignedIn {
        return see_other(back, &[]);
    }
    let c = chrome(&state, req, None);
    let page = SecondFactorPage {
        c: &c,
        back,
        error: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

/// `POST /login/second-factor`: passes the second factor and goes on.
#[handler]
pub(crate) async fn second_factor_submit(
    state: Data<&AppState>,
    req: &Request,
    PublicForm { c, form }: PublicForm<CodeForm>,
) -> Response {
    let back = back_or_my_page(&form.back);
    let Some(who) = pending(&state, req).await else {
        return see_other("/login", &[]);
    };
    match state
        .services
        .membership
        .pass_second_factor(&who, &form.code)
        .await
    {
        // Signed in now, under a new session token and a new form token.
        Ok(passed) => match passed.session {
            Some(new) => {
                let cookie = state.config.cookie().set(
                    &new.token,
                    new.session.created_at,
                    new.session.expires_at,
                );
                let (_, csrf) = super::fresh_csrf(&state);
                see_other(back, &[cookie, csrf])
            }
            None => see_other(back, &[]),
        },
        Err(e) => {
            let (status, key) = factor_problem(&e);
            let page = SecondFactorPage {
                c: &c,
                back,
                error: Some(c.t(key)),
            };
            html(status, &c, page.render(), &[])
        }
    }
}

async fn reauth_page(
    state: &AppState,
    c: &Chrome,
    who: &Authenticated,
    back: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let totp = state
        .services
        .membership
        .second_factor_status(who)
        .await
        .is_ok_and(|s| s.enrolled());
    let page = ReauthPage {
        c,
        back,
        error,
        totp,
    };
    html(status, c, page.render(), &[])
}

/// `GET /me/reauthenticate`: confirm it is you, then back to where you were.
#[handler]
pub(crate) async fn reauthenticate_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<BackQuery>,
) -> Response {
    let back = back_or_my_page(&query.back);
    let Some(who) = current(&state, req).await else {
        return see_other(&format!("/login?back={}", encode(back)), &[]);
    };
    let c = chrome(&state, req, Some(&who));
    reauth_page(&state, &c, &who, back, StatusCode::OK, None).await
}

/// `POST /me/reauthenticate`: with the password.
#[handler]
pub(crate) async fn reauthenticate_password(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<PasswordForm>,
) -> Response {
    let back = back_or_my_page(&form.back);
    match state
        .services
        .membership
        .reauthenticate_session(&who, &form.password)
        .await
    {
        Ok(()) => see_other(back, &[]),
        Err(e) => {
            let (status, key) = factor_problem(&e);
            reauth_page(&state, &c, &who, back, status, Some(c.t(key))).await
        }
    }
}

/// `POST /me/reauthenticate/code`: with a code from the authenticator app (or a recovery
/// code).
#[handler]
pub(crate) async fn reauthenticate_code(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<CodeForm>,
) -> Response {
    let back = back_or_my_page(&form.back);
    match state
        .services
        .membership
        .pass_second_factor(&who, &form.code)
        .await
    {
        Ok(_) => see_other(back, &[]),
        Err(e) => {
            let (status, key) = factor_problem(&e);
            reauth_page(&state, &c, &who, back, status, Some(c.t(key))).await
        }
    }
}

/// A refused My Page security action: to the confirmation page when it needs one, back to
/// My Page with the message otherwise.
fn refused(c: &Chrome, e: &FactorError) -> Response {
    if let FactorError::StepUp(StepUp::ReauthenticationRequired) = e {
        return confirm_first("/me#security");
    }
    let (status, key) = factor_problem(e);
    let page = crate::site::MessagePage {
        c,
        title: c.t("security.title"),
        text: c.t(key),
        link: Some(("/me#security", c.t("mypage.title"))),
    };
    html(status, c, page.render(), &[])
}

/// `POST /me/totp/begin`: a new secret, then the setup page.
#[handler]
pub(crate) async fn totp_begin(
    state: Data<&AppState>,
    MemberForm { who, c, form: _ }: MemberForm<CsrfOnly>,
) -> Response {
    match state.services.membership.begin_totp(&who).await {
        Ok(_) => see_other("/me/totp", &[]),
        Err(e) => refused(&c, &e),
    }
}

async fn setup_page(
    state: &AppState,
    c: &Chrome,
    who: &Authenticated,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    match state.services.membership.pending_totp(who).await {
        Ok(setup) => {
            let page = SetupPage {
                c,
                qr: crate::qr::svg(&setup.uri, c.t("security.setup_qr")).unwrap_or_default(),
                secret: setup.secret.base32(),
                error,
            };
            html(status, c, page.render(), &[])
        }
        Err(FactorError::NotEnrolled) => see_other("/me#security", &[]),
        // The secret is shown again only to a session that authenticated recently.
        Err(FactorError::StepUp(StepUp::ReauthenticationRequired)) => confirm_first("/me/totp"),
        Err(e) => refused(c, &e),
    }
}

/// `GET /me/totp`: the pending secret as a QR code and as text, and the code form.
#[handler]
pub(crate) async fn totp_page(state: Data<&AppState>, SignedIn { who, c }: SignedIn) -> Response {
    setup_page(&state, &c, &who, StatusCode::OK, None).await
}

fn codes_page(c: &Chrome, flash: Option<&str>, codes: &[RecoveryCode]) -> Response {
    let page = CodesPage {
        c,
        flash,
        codes: codes.iter().map(RecoveryCode::expose).collect(),
    };
    // Shown once: never stored by a cache.
    html(
        StatusCode::OK,
        c,
        page.render(),
        &[("cache-control", "no-store".to_owned())],
    )
}

/// `POST /me/totp/confirm`: completes setup with a code; shows the recovery codes once.
#[handler]
pub(crate) async fn totp_confirm(
    state: Data<&AppState>,
    MemberForm { who, c, form }: MemberForm<CodeForm>,
) -> Response {
    match state
        .services
        .membership
        .confirm_totp(&who, &form.code)
        .await
    {
        Ok(codes) if codes.is_empty() => see_other("/me?done=totp_on#security", &[]),
        Ok(codes) => codes_page(&c, Some(c.t("security.totp_on_done")), &codes),
        Err(
            e @ (FactorError::WrongCode
            | FactorError::CodeUsed
            | FactorError::MalformedCode
            | FactorError::Throttled(_)),
        ) => {
            let (status, key) = factor_problem(&e);
            setup_page(&state, &c, &who, status, Some(c.t(key))).await
        }
        Err(e) => refused(&c, &e),
    }
}

/// `POST /me/totp/remove`: turns the app off (or cancels setup).
#[handler]
pub(crate) async fn totp_remove(
    state: Data<&AppState>,
    MemberForm { who, c, form: _ }: MemberForm<CsrfOnly>,
) -> Response {
    match state.services.membership.remove_totp(&who).await {
        Ok(()) | Err(FactorError::NotEnrolled) => see_other("/me?done=totp_off#security", &[]),
        Err(e) => refused(&c, &e),
    }
}

/// `POST /me/recovery-codes`: a new set, shown once.
#[handler]
pub(crate) async fn recovery_codes(
    state: Data<&AppState>,
    MemberForm { who, c, form: _ }: MemberForm<CsrfOnly>,
) -> Response {
    match state
        .services
        .membership
        .regenerate_recovery_codes(&who)
        .await
    {
        Ok(codes) => codes_page(&c, None, &codes),
        Err(e) => refused(&c, &e),
    }
}

/// Stronger sign-in: the second step, re-authentication, the authenticator app, recovery codes, passkeys.
pub(crate) fn routes(route: Route) -> Route {
    use poem::{get, post};
    route
        .at(
            "/login/second-factor",
            get(second_factor_page).post(second_factor_submit),
        )
        .at(
            "/me/reauthenticate",
            get(reauthenticate_page).post(reauthenticate_password),
        )
        .at("/me/reauthenticate/code", post(reauthenticate_code))
        .at("/me/totp", get(totp_page))
        .at("/me/totp/begin", post(totp_begin))
        .at("/me/totp/confirm", post(totp_confirm))
        .at("/me/totp/remove", post(totp_remove))
        .at("/me/recovery-codes", post(recovery_codes))
        .at("/me/passkeys/:id/rename", post(passkey_rename))
        .at("/me/passkeys/:id/remove", post(passkey_remove))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_paths_survive_the_query_string() {
        assert_eq!(encode("/me#profile"), "/me%23profile");
        assert_eq!(encode("/me?done=x&y=1"), "/me%3Fdone%3Dx%26y%3D1");
        assert_eq!(back_or_my_page("https://evil.example/"), "/me");
        assert_eq!(back_or_my_page("//evil.example/"), "/me");
        assert_eq!(back_or_my_page("/products/1"), "/products/1");
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RenameForm {
    csrf: String,
    name: String,
}

/// `POST /me/passkeys/{id}/rename`.
#[handler]
pub(crate) async fn passkey_rename(
    state: Data<&AppState>,
    poem::web::Path(id): poem::web::Path<String>,
    MemberForm { who, c, form }: MemberForm<RenameForm>,
) -> Response {
    let Ok(id) = id
        .parse()
        .map(kikeru_domain::membership::passkey::PasskeyId::from_uuid)
    else {
        return refused(&c, &FactorError::NoSuchPasskey);
    };
    match state
        .services
        .membership
        .rename_passkey(&who, id, &form.name)
        .await
    {
        Ok(()) => see_other("/me?done=profile#passkeys", &[]),
        Err(e) => refused(&c, &e),
    }
}

/// `POST /me/passkeys/{id}/remove`.
#[handler]
pub(crate) async fn passkey_remove(
    state: Data<&AppState>,
    poem::web::Path(id): poem::web::Path<String>,
    MemberForm { who, c, form: _ }: MemberForm<CsrfOnly>,
) -> Response {
    let Ok(id) = id
        .parse()
        .map(kikeru_domain::membership::passkey::PasskeyId::from_uuid)
    else {
        return refused(&c, &FactorError::NoSuchPasskey);
    };
    match state.services.membership.remove_passkey(&who, id).await {
        Ok(()) => see_other("/me?done=passkey_removed#passkeys", &[]),
        Err(FactorError::StepUp(StepUp::ReauthenticationRequired)) => confirm_first("/me#passkeys"),
        Err(e) => refused(&c, &e),
    }
}
