//! The account pages anyone can reach: registration, sign-in and out, the forgotten password, and the mailed links that verify an address or reset a password.

use super::*;
use crate::site::{message, password_problem, posted_form};

#[derive(Template)]
#[template(path = "register.html")]
pub(crate) struct RegisterPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) email: &'a str,
    pub(crate) error: Option<&'a str>,
}

#[handler]
pub(crate) async fn register_page(state: Data<&AppState>, req: &Request) -> Response {
    let c = chrome(&state, req, None);
    let page = RegisterPage {
        c: &c,
        email: "",
        error: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct RegisterForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) language: String,
}

#[handler]
pub(crate) async fn register_submit(
    state: Data<&AppState>,
    req: &Request,
    PublicForm { c, form }: PublicForm<RegisterForm>,
) -> Response {
    let again = |status: StatusCode, error: &str| {
        let page = RegisterPage {
            c: &c,
            email: &form.email,
            error: Some(error),
        };
        html(status, &c, page.render(), &[])
    };
    let Ok(email) = Email::parse(&form.email) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, c.t("error.invalid_email"));
    };
    let registration = Registration {
        email,
        password: form.password.clone(),
        language: form.language.parse().unwrap_or(c.lang),
    };
    match state
        .services
        .membership
        .register(registration, &client(req, &state.config))
        .await
    {
        Ok(()) => message(
            StatusCode::OK,
            &c,
            c.t("register.done_title"),
            c.t("register.done"),
        ),
        Err(RegisterError::Password(r)) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, c.t(password_problem(&r)))
        }
        Err(RegisterError::Throttled(_)) => {
            again(StatusCode::TOO_MANY_REQUESTS, c.t("error.throttled"))
        }
        Err(RegisterError::Backend(e)) => again(
            crate::problem::failure(&e, "registration failed"),
            c.t("error.server"),
        ),
    }
}

#[derive(Template)]
#[template(path = "login.html")]
pub(crate) struct LoginPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) email: &'a str,
    pub(crate) back: &'a str,
    pub(crate) error: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct BackQuery {
    pub(crate) back: String,
}

#[handler]
pub(crate) async fn login_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<BackQuery>,
) -> Response {
    let c = chrome(&state, req, None);
    let back = if local_path(&query.back) {
        query.back.as_str()
    } else {
        "/me"
    };
    let page = LoginPage {
        c: &c,
        email: "",
        back,
        error: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LoginForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
    pub(crate) password: String,
    pub(crate) back: String,
}

#[handler]
pub(crate) async fn login_submit(
    state: Data<&AppState>,
    req: &Request,
    PublicForm { c, form }: PublicForm<LoginForm>,
) -> Response {
    let back = if local_path(&form.back) {
        form.back.as_str()
    } else {
        "/me"
    };
    let again = |status: StatusCode, error: &str| {
        let page = LoginPage {
            c: &c,
            email: &form.email,
            back,
            error: Some(error),
        };
        html(status, &c, page.render(), &[])
    };
    let previous = state.config.cookie().token(req);
    match state
        .services
        .membership
        .sign_in(
            &form.email,
            &form.password,
            &client(req, &state.config),
            previous.as_ref(),
        )
        .await
    {
        Ok(created) => {
            let cookie = state.config.cookie().set(
                &created.token,
                created.session.created_at,
                created.session.expires_at,
            );
            let (_, csrf) = crate::site::fresh_csrf(&state);
            if created.session.access()
                == kikeru_domain::membership::second_factor::Access::SecondFactorPending
            {
                return see_other(&crate::site::second_step(back), &[cookie, csrf]);
            }
            see_other(back, &[cookie, csrf])
        }
        Err(SignInError::InvalidCredentials) => {
            again(StatusCode::UNAUTHORIZED, c.t("login.failed"))
        }
        Err(SignInError::Throttled(_)) => {
            again(StatusCode::TOO_MANY_REQUESTS, c.t("error.throttled"))
        }
        Err(SignInError::Backend(e)) => again(
            crate::problem::failure(&e, "sign-in failed"),
            c.t("error.server"),
        ),
    }
}

#[handler]
pub(crate) async fn logout(
    state: Data<&AppState>,
    req: &Request,
    Form(form): Form<CsrfOnly>,
) -> Response {
    // A session still waiting for its second factor signs out too.
    let member = match state.config.cookie().token(req) {
        Some(token) => state
            .services
            .membership
            .authenticate_pending(&token)
            .await
            .ok(),
        None => None,
    };
    if let Err(refusal) = posted_form(&state, req, member.as_ref(), &form.csrf) {
        return refusal;
    }
    if let Some(member) = member
        && let Err(e) = state.services.membership.sign_out(&member).await
    {
        tracing::warn!(error = %e, "sign-out failed");
    }
    see_other("/", &[state.config.cookie().clear()])
}

#[derive(Template)]
#[template(path = "forgot.html")]
pub(crate) struct ForgotPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) email: &'a str,
    pub(crate) error: Option<&'a str>,
}

#[handler]
pub(crate) async fn forgot_page(state: Data<&AppState>, req: &Request) -> Response {
    let c = chrome(&state, req, None);
    let page = ForgotPage {
        c: &c,
        email: "",
        error: None,
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct EmailForm {
    pub(crate) csrf: String,
    pub(crate) email: String,
}

#[handler]
pub(crate) async fn forgot_submit(
    state: Data<&AppState>,
    req: &Request,
    PublicForm { c, form }: PublicForm<EmailForm>,
) -> Response {
    let again = |status: StatusCode, error: &str| {
        let page = ForgotPage {
            c: &c,
            email: &form.email,
            error: Some(error),
        };
        html(status, &c, page.render(), &[])
    };
    let Ok(email) = Email::parse(&form.email) else {
        return again(StatusCode::UNPROCESSABLE_ENTITY, c.t("error.invalid_email"));
    };
    match state
        .services
        .membership
        .request_password_reset(&email, &client(req, &state.config))
        .await
    {
        Ok(()) => message(StatusCode::OK, &c, c.t("forgot.title"), c.t("forgot.done")),
        Err(kikeru_domain::membership::ResetRequestError::Throttled(_)) => {
            again(StatusCode::TOO_MANY_REQUESTS, c.t("error.throttled"))
        }
        Err(e) => again(
            crate::problem::failure(&e, "a reset request failed"),
            c.t("error.server"),
        ),
    }
}

#[derive(Template)]
#[template(path = "token_form.html")]
pub(crate) struct TokenFormPage<'a> {
    pub(crate) c: &'a Chrome,
    pub(crate) title: &'a str,
    pub(crate) intro: Option<&'a str>,
    pub(crate) error: Option<&'a str>,
    pub(crate) action: &'a str,
    pub(crate) token: &'a str,
    pub(crate) with_password: bool,
    pub(crate) submit: &'a str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenQuery {
    pub(crate) token: String,
}

/// The page a verification link opens: a button, so that mail scanners fetching the link do not
/// use the token up.
#[handler]
pub(crate) async fn verify_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<TokenQuery>,
) -> Response {
    let c = chrome(&state, req, None);
    let page = TokenFormPage {
        c: &c,
        title: c.t("verify.title"),
        intro: Some(c.t("verify.intro")),
        error: None,
        action: "/verify-email",
        token: &query.token,
        with_password: false,
        submit: c.t("verify.submit"),
    };
    html(StatusCode::OK, &c, page.render(), &[])
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct TokenForm {
    pub(crate) csrf: String,
    pub(crate) token: String,
    pub(crate) new_password: String,
}

#[handler]
pub(crate) async fn verify_submit(
    state: Data<&AppState>,
    VisitorForm { who, c, form }: VisitorForm<TokenForm>,
) -> Response {
    let result = match SessionToken::parse(form.token.trim()) {
        Ok(token) => state.services.membership.verify_email(&token).await,
        Err(_) => Err(TokenError::Invalid),
    };
    match result {
        Ok(()) => message(
            StatusCode::OK,
            &c,
            c.t("verify.done_title"),
            // A member already signed in is not told to sign in.
            c.t(if who.is_some() {
                "verify.done_signed_in"
            } else {
                "verify.done"
            }),
        ),
        Err(TokenError::EmailTaken) => message(
            StatusCode::CONFLICT,
            &c,
            c.t("verify.title"),
            c.t("verify.taken"),
        ),
        Err(TokenError::Backend(e)) => message(
            crate::problem::failure(&e, "verification failed"),
            &c,
            c.t("error.server_title"),
            c.t("error.server"),
        ),
        Err(_) => message(
            StatusCode::BAD_REQUEST,
            &c,
            c.t("verify.title"),
            c.t("verify.invalid"),
        ),
    }
}

pub(crate) fn reset_form(
    c: &Chrome,
    token: &str,
    status: StatusCode,
    error: Option<&str>,
) -> Response {
    let page = TokenFormPage {
        c,
        title: c.t("reset.title"),
        intro: None,
        error,
        action: "/reset-password",
        token,
        with_password: true,
        submit: c.t("reset.submit"),
    };
    html(status, c, page.render(), &[])
}

#[handler]
pub(crate) async fn reset_page(
    state: Data<&AppState>,
    req: &Request,
    Query(query): Query<TokenQuery>,
) -> Response {
    let c = chrome(&state, req, None);
    reset_form(&c, &query.token, StatusCode::OK, None)
}

#[handler]
pub(crate) async fn reset_submit(
    state: Data<&AppState>,
    PublicForm { c, form }: PublicForm<TokenForm>,
) -> Response {
    let result = match SessionToken::parse(form.token.trim()) {
        Ok(token) => {
            state
                .services
                .membership
                .reset_password(&token, &form.new_password)
                .await
        }
        Err(_) => Err(TokenError::Invalid),
    };
    match result {
        Ok(()) => message(
            StatusCode::OK,
            &c,
            c.t("reset.done_title"),
            c.t("reset.done"),
        ),
        Err(TokenError::Password(r)) => reset_form(
            &c,
            &form.token,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(c.t(password_problem(&r))),
        ),
        Err(TokenError::Backend(e)) => message(
            crate::problem::failure(&e, "a password reset failed"),
            &c,
            c.t("error.server_title"),
            c.t("error.server"),
        ),
        Err(_) => message(
            StatusCode::BAD_REQUEST,
            &c,
            c.t("reset.title"),
            c.t("verify.invalid"),
        ),
    }
}
