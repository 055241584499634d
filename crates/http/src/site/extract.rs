//! Extractors for the site's handlers: the signed-in member or operator of a page, and a posted
//! form whose CSRF token is checked against the browser's cookie, with who posted it. A refusal
//! (sign in first, an expired or forged form) is the extractor's error and its response is sent
//! as is, so a handler begins with what it needs and nothing else.

use super::{current, posted_form, see_other};
use kikeru_domain::membership::Authenticated;
use kikeru_domain::office::service::OperatorAuth;
use poem::Response;
use poem::web::Form;
use poem::{FromRequest, Request, RequestBody};
use serde::de::DeserializeOwned;

use super::Chrome;
use crate::AppState;

/// A form that carries the site's CSRF token.
pub(crate) trait CsrfField {
    /// The token as posted.
    fn csrf(&self) -> &str;
}

/// Implements [`CsrfField`] for forms with a `csrf` field.
macro_rules! csrf_field {
    ($($form:ty),+ $(,)?) => {$(
        impl $crate::site::extract::CsrfField for $form {
            fn csrf(&self) -> &str {
                &self.csrf
            }
        }
    )+};
}
pub(crate) use csrf_field;

/// The console's forms are read as name/value pairs.
impl CsrfField for Vec<(String, String)> {
    fn csrf(&self) -> &str {
        self.iter()
            .find(|(name, _)| name == "csrf")
            .map_or("", |(_, value)| value.as_str())
    }
}

fn app(req: &Request) -> poem::Result<&AppState> {
    req.data::<AppState>()
        .ok_or_else(|| poem::Error::from_status(poem::http::StatusCode::INTERNAL_SERVER_ERROR))
}

async fn form<F: DeserializeOwned>(req: &Request, body: &mut RequestBody) -> poem::Result<F> {
    let Form(form) = Form::<F>::from_request(req, body).await?;
    Ok(form)
}

/// The way to the sign-in form and back to this page.
fn sign_in_first(req: &Request) -> poem::Error {
    let back = super::encode(req.uri().path());
    poem::Error::from_response(super::see_other(&format!("/login?back={back}"), &[]))
}

/// A page for the signed-in member; without one, the way to the sign-in form and back.
pub(crate) struct SignedIn {
    /// The member and their session.
    pub(crate) who: Authenticated,
    /// The page context.
    pub(crate) c: Chrome,
}

impl<'a> FromRequest<'a> for SignedIn {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = app(req)?;
        let who = super::current(state, req)
            .await
            .ok_or_else(|| sign_in_first(req))?;
        let c = super::chrome(state, req, Some(&who));
        Ok(Self { who, c })
    }
}

/// A console page for a signed-in operator; without one, the console's sign-in form.
pub(crate) struct ConsoleUser {
    /// The operator and their session.
    pub(crate) who: OperatorAuth,
    /// The page context.
    pub(crate) c: Chrome,
}

impl<'a> FromRequest<'a> for ConsoleUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let (who, c) = console_user(app(req)?, req)
            .await
            .map_err(poem::Error::from_response)?;
        Ok(Self { who, c })
    }
}

/// A form posted by anyone (sign-in, registration), its token checked.
pub(crate) struct PublicForm<F> {
    /// The page context.
    pub(crate) c: Chrome,
    /// The form.
    pub(crate) form: F,
}

impl<'a, F: DeserializeOwned + CsrfField + Send> FromRequest<'a> for PublicForm<F> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let form: F = form(req, body).await?;
        let c = crate::site::posted_form(app(req)?, req, None, form.csrf())
            .map_err(poem::Error::from_response)?;
        Ok(Self { c, form })
    }
}

/// A form posted by a visitor who may be signed in (contact, buying), its token checked, with
/// the member if there is one.
pub(crate) struct VisitorForm<F> {
    /// The signed-in member, if any.
    pub(crate) who: Option<Authenticated>,
    /// The page context.
    pub(crate) c: Chrome,
    /// The form.
    pub(crate) form: F,
}

impl<'a, F: DeserializeOwned + CsrfField + Send> FromRequest<'a> for VisitorForm<F> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let form: F = form(req, body).await?;
        let state = app(req)?;
        let who = super::current(state, req).await;
        let c = crate::site::posted_form(state, req, who.as_ref(), form.csrf())
            .map_err(poem::Error::from_response)?;
        Ok(Self { who, c, form })
    }
}

/// A form posted by the signed-in member (My Page), its token checked; without a member, the
/// way to the sign-in form.
pub(crate) struct MemberForm<F> {
    /// The member and their session.
    pub(crate) who: Authenticated,
    /// The page context.
    pub(crate) c: Chrome,
    /// The form.
    pub(crate) form: F,
}

impl<'a, F: DeserializeOwned + CsrfField + Send> FromRequest<'a> for MemberForm<F> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let form: F = form(req, body).await?;
        let (who, c) = member_posted(app(req)?, req, form.csrf())
            .await
            .map_err(poem::Error::from_response)?;
        Ok(Self { who, c, form })
    }
}

/// A form posted by a signed-in operator (the console), its token checked; without one, the
/// way to the console's sign-in form.
pub(crate) struct OperatorForm<F> {
    /// The operator and their session.
    pub(crate) who: OperatorAuth,
    /// The page context.
    pub(crate) c: Chrome,
    /// The form.
    pub(crate) form: F,
}

impl<'a, F: DeserializeOwned + CsrfField + Send> FromRequest<'a> for OperatorForm<F> {
    async fn from_request(req: &'a Request, body: &mut RequestBody) -> poem::Result<Self> {
        let form: F = form(req, body).await?;
        let (who, c) = operator_posted(app(req)?, req, form.csrf())
            .await
            .map_err(poem::Error::from_response)?;
        Ok(Self { who, c, form })
    }
}

/// The signed-in operator, if the request carries a live operator session.
pub(crate) async fn console_operator(state: &AppState, req: &Request) -> Option<OperatorAuth> {
    let token = state.config.operator_cookie().token(req)?;
    state.services.office.authenticate(&token).await.ok()
}

/// The console's page context (`signed_in` means an operator).
pub(crate) fn console_chrome(state: &AppState, req: &Request, signed_in: bool) -> Chrome {
    let mut c = super::chrome(state, req, None);
    c.signed_in = signed_in;
    c
}

/// The operator of a console request, or the way to the sign-in form.
async fn console_user(state: &AppState, req: &Request) -> Result<(OperatorAuth, Chrome), Response> {
    match console_operator(state, req).await {
        Some(who) => Ok((who, console_chrome(state, req, true))),
        None => Err(see_other("/admin", &[])),
    }
}

/// The operator of a posted console form, or the response refusing it.
async fn operator_posted(
    state: &AppState,
    req: &Request,
    csrf: &str,
) -> Result<(OperatorAuth, Chrome), Response> {
    let (who, _) = console_user(state, req).await?;
    let mut c = posted_form(state, req, None, csrf)?;
    c.signed_in = true;
    Ok((who, c))
}

/// The signed-in member and the page context of a posted My Page form, or the response that
/// refuses it.
async fn member_posted(
    state: &AppState,
    req: &Request,
    csrf: &str,
) -> Result<(Authenticated, Chrome), Response> {
    let Some(who) = current(state, req).await else {
        return Err(see_other("/login?back=/me", &[]));
    };
    let c = crate::site::posted_form(state, req, Some(&who), csrf)?;
    Ok((who, c))
}
