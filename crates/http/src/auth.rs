//! The session cookie, and the security scheme that turns it into a signed-in member.

use kikeru_domain::membership::Authenticated;
use kikeru_domain::{SessionToken, Timestamp};
use poem::{Request, RequestBody, http::StatusCode};
use poem_openapi::registry::{MetaSecurityScheme, Registry};
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};

use crate::AppState;
use crate::problem::ApiError;

/// The name of the session cookie over plain HTTP (local development).
pub(crate) const PLAIN_NAME: &str = "kikeru_session";
/// The name over HTTPS: the `__Host-` prefix pins it to this host, path `/`, and `Secure`.
pub(crate) const HOST_NAME: &str = "__Host-kikeru_session";
/// The operators' session cookie over plain HTTP: a separate scope from members'.
pub(crate) const OPERATOR_PLAIN_NAME: &str = "kikeru_operator";
/// The operators' session cookie over HTTPS.
pub(crate) const OPERATOR_HOST_NAME: &str = "__Host-kikeru_operator";

/// How the session cookie is written: one cookie, `HttpOnly`, `SameSite=Lax`, `Path=/`, and
/// `Secure` with the `__Host-` prefix whenever the service is served over HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCookie {
    secure: bool,
    operator: bool,
}

impl SessionCookie {
    /// The members' cookie for a service reached over HTTPS (`secure`) or plain HTTP.
    pub const fn new(secure: bool) -> Self {
        Self {
            secure,
            operator: false,
        }
    }

    /// The operators' cookie: the same rules, another name.
    pub const fn operator(secure: bool) -> Self {
        Self {
            secure,
            operator: true,
        }
    }

    /// The cookie's name.
    pub const fn name(&self) -> &'static str {
        match (self.operator, self.secure) {
            (false, true) => HOST_NAME,
            (false, false) => PLAIN_NAME,
            (true, true) => OPERATOR_HOST_NAME,
            (true, false) => OPERATOR_PLAIN_NAME,
        }
    }

    /// A `Set-Cookie` value carrying `token` until `expires_at`.
    pub fn set(&self, token: &SessionToken, now: Timestamp, expires_at: Timestamp) -> String {
        let max_age = (expires_at - now).whole_seconds().max(0);
        self.header(&token.expose(), max_age)
    }

    /// A `Set-Cookie` value that deletes the cookie.
    pub fn clear(&self) -> String {
        self.header("", 0)
    }

    fn header(&self, value: &str, max_age: i64) -> String {
        let secure = if self.secure { "; Secure" } else { "" };
        format!(
            "{}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            self.name()
        )
    }

    /// The raw value of the session cookie in a request's `Cookie` headers, if present.
    pub fn value<'r>(&self, req: &'r Request) -> Option<&'r str> {
        let name = self.name();
        req.headers()
            .get_all(poem::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.trim())
    }

    /// The token presented in a request's `Cookie` headers, if any and well-formed.
    pub fn token(&self, req: &Request) -> Option<SessionToken> {
        self.value(req).and_then(|v| SessionToken::parse(v).ok())
    }
}

/// A signed-in member, from the session cookie. Operations that take it require sign-in and
/// answer 401 without it, and 403 `second_factor_required` while the session has not passed
/// the member's second factor.
#[derive(Debug)]
pub(crate) struct Session(pub(crate) Authenticated);

/// A member's session that may still have to pass its second factor: only for passing it and
/// for signing out. 401 without a session.
#[derive(Debug)]
pub(crate) struct PendingSession(pub(crate) Authenticated);

fn register_session_scheme(registry: &mut Registry) {
    registry.create_security_scheme(
        "session",
        MetaSecurityScheme {
            ty: "apiKey",
            description: Some(
                "The session cookie set by `POST /sessions`: `kikeru_session` over HTTP, \
                 `__Host-kikeru_session` over HTTPS.",
            ),
            name: Some(PLAIN_NAME),
            key_in: Some("cookie"),
            scheme: None,
            bearer_format: None,
            flows: None,
            openid_connect_url: None,
        },
    );
}

async fn member_session(req: &Request, pending: bool) -> poem::Result<Authenticated> {
    let state = req
        .data::<AppState>()
        .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
    let Some(token) = state.config.cookie().token(req) else {
        return Err(poem::Error::from_status(StatusCode::UNAUTHORIZED));
    };
    let found = if pending {
        state.services.membership.authenticate_pending(&token).await
    } else {
        state.services.membership.authenticate(&token).await
    };
    found.map_err(|e| {
        poem::Error::from_response(poem::IntoResponse::into_response(ApiError::from(e)))
    })
}

impl<'a> ApiExtractor<'a> for Session {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_session_scheme(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["session"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        member_session(req, false).await.map(Self)
    }
}

impl<'a> ApiExtractor<'a> for PendingSession {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        register_session_scheme(registry);
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["session"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        member_session(req, true).await.map(Self)
    }
}

/// A signed-in operator, from the operators' cookie. Operations that take it answer 401
/// without it and 403 when the role is not enough.
#[derive(Debug)]
pub(crate) struct OperatorSession(pub(crate) kikeru_domain::office::service::OperatorAuth);

impl<'a> ApiExtractor<'a> for OperatorSession {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::SecurityScheme];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        registry.create_security_scheme(
            "operator_session",
            MetaSecurityScheme {
                ty: "apiKey",
                description: Some(
                    "The operators' session cookie set by `POST /admin/sessions`: `kikeru_operator` \
                     over HTTP, `__Host-kikeru_operator` over HTTPS.",
                ),
                name: Some(OPERATOR_PLAIN_NAME),
                key_in: Some("cookie"),
                scheme: None,
                bearer_format: None,
                flows: None,
                openid_connect_url: None,
            },
        );
    }

    fn security_schemes() -> Vec<&'static str> {
        vec!["operator_session"]
    }

    async fn from_request(
        req: &'a Request,
        _body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        let state = req
            .data::<AppState>()
            .ok_or_else(|| poem::Error::from_status(StatusCode::INTERNAL_SERVER_ERROR))?;
        let Some(token) = state.config.operator_cookie().token(req) else {
            return Err(poem::Error::from_status(StatusCode::UNAUTHORIZED));
        };
        match state.services.office.authenticate(&token).await {
            Ok(current) => Ok(Self(current)),
            Err(e) => Err(poem::Error::from_response(
                poem::IntoResponse::into_response(ApiError::from(e)),
            )),
        }
    }
}
