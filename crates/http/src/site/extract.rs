//! Extractors for the site's handlers: a posted form whose CSRF token is checked against the
//! browser's cookie, with the signed-in member or operator it comes from. A refusal (sign in
//! first, an expired or forged form) is the extractor's error and its response is sent as is,
//! so a handler begins with what it needs and nothing else.

use kikeru_domain::membership::Authenticated;
use kikeru_domain::office::service::OperatorAuth;
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
        let c = super::pages::posted_form(app(req)?, req, None, form.csrf())
            .map_err(poem::Error::from_response)?;
        Ok(Self { c, form })
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
        let (who, c) = super::mypage::posted(app(req)?, req, form.csrf())
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
        let (who, c) = super::console::posted(app(req)?, req, form.csrf())
            .await
            .map_err(poem::Error::from_response)?;
        Ok(Self { who, c, form })
    }
}
