//! RFC 9457 problem documents, and the one place where domain errors become status codes.

use std::time::Duration;

use kikeru_domain::membership::second_factor::StepUp;
use kikeru_domain::membership::{
    AuthError, BackendError, ChangeError, FactorError, RegisterError, ResetRequestError,
    SignInError, Throttled, TokenError,
};
use kikeru_domain::privacy::disclosure::LegalOrderError;
use kikeru_domain::shop::ports::GatewayError;
use kikeru_domain::shop::{LookupError, OrderError, WebhookFailure};
use kikeru_domain::{DisplayNameError, EmailError, PasswordRejection, StoreError};
use poem::http::StatusCode;
use poem_openapi::{ApiResponse, Object, payload::Json};

/// A problem document.
#[derive(Debug, Clone, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct Problem {
    /// A URI reference naming the problem type: `/problems/{code}`.
    #[oai(rename = "type")]
    kind: String,
    /// A short, human-readable summary.
    title: String,
    /// The HTTP status.
    status: u16,
    /// A stable, machine-readable code (e.g. `invalid_credentials`, `password_too_short`).
    code: String,
    /// What exactly went wrong, when there is more to say.
    #[oai(skip_serializing_if_is_none)]
    detail: Option<String>,
}

impl Problem {
    pub(crate) fn new(status: StatusCode, code: &str, title: &str) -> Self {
        Self {
            kind: format!("/problems/{code}"),
            title: title.to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            detail: None,
        }
    }

    pub(crate) fn detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// The generic problem for a status, for errors raised outside the API's handlers.
    pub(crate) fn for_status(status: StatusCode) -> Self {
        let (code, title) = match status.as_u16() {
            400 => ("bad_request", "The request is malformed"),
            401 => ("unauthenticated", "Sign in first"),
            403 => ("forbidden", "This request is not allowed"),
            404 => ("not_found", "There is nothing here"),
            405 => ("method_not_allowed", "This method is not allowed here"),
            406 => ("not_acceptable", "No acceptable representation"),
            411 => ("length_required", "The request needs a Content-Length"),
            413 => ("payload_too_large", "The request body is too large"),
            415 => (
                "unsupported_media_type",
                "Send the body as application/json",
            ),
            422 => ("unprocessable", "The request cannot be processed"),
            429 => ("too_many_requests", "Too many requests; try again later"),
            503 => ("unavailable", "The service is temporarily unavailable"),
            500..=599 => ("internal_error", "Something went wrong on our side"),
            _ => ("error", "The request failed"),
        };
        Self::new(status, code, title)
    }

    pub(crate) fn to_json(&self) -> String {
        poem_openapi::types::ToJSON::to_json_string(self)
    }
}

/// Every error the API answers with. Each carries a problem document.
#[derive(Debug, ApiResponse)]
#[allow(
    dead_code,
    reason = "413 and 415 are raised by the edge and poem-openapi; declared here for the spec"
)]
pub(crate) enum ApiError {
    /// The request is malformed (bad JSON, wrong types, missing fields) or a token is invalid.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Problem>),
    /// Not signed in, or wrong credentials.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(Json<Problem>),
    /// Signed in, but not allowed (e.g. the current password is wrong, or a cross-site request).
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Problem>),
    /// No such resource (or not the member's).
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Problem>),
    /// The request conflicts with the current state.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Problem>),
    /// The body exceeds the size limit.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Problem>),
    /// The body is not JSON.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Problem>),
    /// Well-formed, but a value breaks a rule (e.g. the password policy).
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Problem>),
    /// Too many attempts; retry after the given number of seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(Json<Problem>, #[oai(header = "Retry-After")] u64),
    /// The payment provider refused the request.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<Problem>),
    /// Something failed on the server; the cause is logged, never shown.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Problem>),
    /// A backing service is down; retry later.
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(Json<Problem>, #[oai(header = "Retry-After")] u64),
}

impl ApiError {
    pub(crate) fn bad_request(code: &str, title: &str) -> Self {
        Self::BadRequest(Json(Problem::new(StatusCode::BAD_REQUEST, code, title)))
    }

    pub(crate) fn unauthorized(code: &str, title: &str) -> Self {
        Self::Unauthorized(Json(Problem::new(StatusCode::UNAUTHORIZED, code, title)))
    }

    pub(crate) fn forbidden(code: &str, title: &str) -> Self {
        Self::Forbidden(Json(Problem::new(StatusCode::FORBIDDEN, code, title)))
    }

    pub(crate) fn not_found(code: &str, title: &str) -> Self {
        Self::NotFound(Json(Problem::new(StatusCode::NOT_FOUND, code, title)))
    }

    pub(crate) fn conflict(code: &str, title: &str) -> Self {
        Self::Conflict(Json(Problem::new(StatusCode::CONFLICT, code, title)))
    }

    pub(crate) fn unprocessable(code: &str, title: &str, detail: String) -> Self {
        Self::Unprocessable(Json(
            Problem::new(StatusCode::UNPROCESSABLE_ENTITY, code, title).detail(detail),
        ))
    }

    /// Too many attempts.
    pub(crate) fn from_throttled(t: Throttled) -> Self {
        Self::throttled(t)
    }

    /// The register does not let a processor receive what the request would send: the
    /// service's configuration is at fault, not the client.
    pub(crate) fn not_entrusted(category: &str) -> Self {
        tracing::error!(
            category,
            "the processor register does not entrust this category; nothing was sent"
        );
        Self::Internal(Json(Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR)))
    }

    fn throttled(t: Throttled) -> Self {
        let secs = t.retry_after.as_secs().max(1);
        Self::TooManyRequests(
            Json(
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "too_many_attempts",
                    "Too many attempts",
                )
                .detail(format!("Try again in {secs} seconds.")),
            ),
            secs,
        )
    }

    /// Storage failed: 503 when it is unavailable, otherwise an opaque 500.
    pub(crate) fn store(e: StoreError) -> Self {
        Self::backend(&BackendError::Store(e))
    }

    /// The payment provider failed: 503 when it is down, 502 when it refused.
    pub(crate) fn gateway(e: &GatewayError) -> Self {
        match e {
            GatewayError::Unavailable(_) => {
                tracing::warn!(error = %error_chain(e), "payment provider unavailable");
                Self::Unavailable(
                    Json(Problem::new(
                        StatusCode::SERVICE_UNAVAILABLE,
                        "payment_provider_unavailable",
                        "The payment service is unavailable; try again shortly",
                    )),
                    RETRY_UNAVAILABLE.as_secs(),
                )
            }
            GatewayError::Rejected(reason) => {
                tracing::error!(%reason, "payment provider refused a request");
                Self::BadGateway(Json(Problem::new(
                    StatusCode::BAD_GATEWAY,
                    "payment_provider_refused",
                    "The payment service refused the request",
                )))
            }
        }
    }

    /// A backing service failed: 503 when it is unavailable, otherwise an opaque 500 (the
    /// cause goes to the log, never to the client), as [`failure`] decides.
    pub(crate) fn backend(e: &BackendError) -> Self {
        if failure(e, "a request failed") == StatusCode::SERVICE_UNAVAILABLE {
            return Self::Unavailable(
                Json(Problem::for_status(StatusCode::SERVICE_UNAVAILABLE)),
                RETRY_UNAVAILABLE.as_secs(),
            );
        }
        Self::Internal(Json(Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR)))
    }
}

/// How the failure of a backing service is answered, decided once for the API (a problem
/// document) and the site (a page in the reader's language): 503 when storage or the payment
/// provider is unavailable (trying again later may work), otherwise 500. The cause chain is
/// logged here, once, with `what` was being done; never shown to the client.
pub(crate) fn failure(e: &(dyn std::error::Error + 'static), what: &str) -> StatusCode {
    let unavailable = std::iter::successors(Some(e), |e| e.source()).any(|e| {
        matches!(
            e.downcast_ref::<BackendError>(),
            Some(BackendError::Store(StoreError::Unavailable(_)))
        ) || matches!(
            e.downcast_ref::<StoreError>(),
            Some(StoreError::Unavailable(_))
        ) || matches!(
            e.downcast_ref::<GatewayError>(),
            Some(GatewayError::Unavailable(_))
        )
    });
    if unavailable {
        tracing::warn!(error = %error_chain(e), "{what}: a backing service is unavailable");
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        tracing::error!(error = %error_chain(e), "{what}");
        StatusCode::INTERNAL_SERVER_ERROR
    }
}

/// What a 503 tells clients to wait.
const RETRY_UNAVAILABLE: Duration = Duration::from_secs(5);

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub(crate) fn invalid_email(e: EmailError) -> ApiError {
    ApiError::unprocessable(
        "invalid_email",
        "The e-mail address is not valid",
        e.to_string(),
    )
}

pub(crate) fn invalid_display_name(e: DisplayNameError) -> ApiError {
    ApiError::unprocessable(
        "invalid_display_name",
        "The display name is not valid",
        e.to_string(),
    )
}

fn rejected_password(r: &PasswordRejection) -> ApiError {
    ApiError::unprocessable(
        r.code(),
        "The password does not meet the policy",
        r.to_string(),
    )
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::Password(r) => rejected_password(&r),
            RegisterError::Throttled(t) => Self::throttled(t),
            RegisterError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::Invalid => {
                Self::bad_request("invalid_token", "The link is invalid or has expired")
            }
            TokenError::EmailTaken => {
                Self::conflict("email_taken", "The new address is already in use")
            }
            TokenError::Password(r) => rejected_password(&r),
            TokenError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<SignInError> for ApiError {
    fn from(e: SignInError) -> Self {
        match e {
            SignInError::InvalidCredentials => Self::unauthorized(
                "invalid_credentials",
                "The e-mail address or password is wrong",
            ),
            SignInError::Throttled(t) => Self::throttled(t),
            SignInError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unauthenticated => Self::unauthorized("unauthenticated", "Sign in first"),
            AuthError::SecondFactorRequired => StepUp::SecondFactorRequired.into(),
            AuthError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<ChangeError> for ApiError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::WrongPassword => {
                Self::forbidden("wrong_password", "The current password is wrong")
            }
            ChangeError::Throttled(t) => Self::throttled(t),
            ChangeError::Password(r) => rejected_password(&r),
            ChangeError::SameEmail => Self::unprocessable(
                "same_email",
                "The new address is the current address",
                "Choose a different address.".to_owned(),
            ),
            ChangeError::NotFound => Self::not_found("session_not_found", "No such session"),
            ChangeError::StepUp(s) => s.into(),
            ChangeError::Backend(b) => Self::backend(&b),
        }
    }
}

/// A step-up is a 403 whose `code` tells the client what to ask for:
/// `second_factor_required` (pass `POST /sessions/current/second-factor`) or
/// `reauthentication_required` (pass `POST /sessions/current/reauthentication`, or the second
/// factor again).
impl From<StepUp> for ApiError {
    fn from(s: StepUp) -> Self {
        let detail = match s {
            StepUp::SecondFactorRequired => {
                "Send a code from your authenticator app, or a recovery code, to POST /api/v1/sessions/current/second-factor."
            }
            StepUp::ReauthenticationRequired => {
                "This change needs a sign-in within the last few minutes: confirm your password with POST /api/v1/sessions/current/reauthentication (or pass your second factor again), then retry."
            }
        };
        Self::Forbidden(Json(
            Problem::new(StatusCode::FORBIDDEN, s.code(), &s.to_string()).detail(detail),
        ))
    }
}

impl From<FactorError> for ApiError {
    fn from(e: FactorError) -> Self {
        match e {
            FactorError::StepUp(s) => s.into(),
            FactorError::WrongCode => Self::forbidden("wrong_code", "The code is not correct"),
            FactorError::LockedOut => Self::Forbidden(Json(
                Problem::new(
                    StatusCode::FORBIDDEN,
                    "second_factor_locked",
                    "Too many wrong codes in a row",
                )
                .detail("This session was ended and codes are refused until the password is reset (POST /api/v1/password-resets); signing in with a passkey still works."),
            )),
            FactorError::Unverified => Self::forbidden(
                "email_unverified",
                "Verify your e-mail address before adding a second factor",
            ),
            FactorError::CodeUsed => Self::forbidden(
                "code_used",
                "The code was used already; wait for the next one",
            ),
            FactorError::MalformedCode => Self::unprocessable(
                "malformed_code",
                "The code is malformed",
                "Enter the six digits of your authenticator app, or a recovery code (16 letters and digits).".to_owned(),
            ),
            FactorError::WrongPassword => {
                Self::forbidden("wrong_password", "The current password is wrong")
            }
            FactorError::AlreadyEnrolled => Self::conflict(
                "already_enrolled",
                "The authenticator app is already on",
            ),
            FactorError::NotEnrolled => {
                Self::conflict("not_enrolled", "No authenticator app is on or pending")
            }
            FactorError::NoSuchMember => Self::not_found("member_not_found", "No such member"),
            FactorError::NoSuchPasskey => Self::not_found("passkey_not_found", "No such passkey"),
            FactorError::TooManyPasskeys => Self::conflict(
                "too_many_passkeys",
                "You have the most passkeys allowed (10); remove one first",
            ),
            FactorError::PasskeyRegistered => Self::conflict(
                "passkey_registered",
                "This passkey is registered already",
            ),
            FactorError::CeremonyInvalid => Self::forbidden(
                "ceremony_invalid",
                "The passkey request expired or was used; start again",
            ),
            FactorError::Passkey(p) => Self::Forbidden(Json(
                Problem::new(
                    StatusCode::FORBIDDEN,
                    "passkey_refused",
                    "The passkey's answer was not accepted",
                )
                .detail(p.to_string()),
            )),
            FactorError::BadName => Self::unprocessable(
                "invalid_passkey_name",
                "The passkey name is not valid",
                "A name is 1 to 64 characters without control characters.".to_owned(),
            ),
            FactorError::Throttled(t) => Self::throttled(t),
            FactorError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<ResetRequestError> for ApiError {
    fn from(e: ResetRequestError) -> Self {
        match e {
            ResetRequestError::Throttled(t) => Self::throttled(t),
            ResetRequestError::Backend(b) => Self::backend(&b),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        Self::store(e)
    }
}

impl From<LegalOrderError> for ApiError {
    fn from(e: LegalOrderError) -> Self {
        match e {
            LegalOrderError::Invalid(problem) => Self::unprocessable(
                "legal_order_invalid",
                "The legal order is not complete",
                problem.to_string(),
            ),
            LegalOrderError::Store(e) => Self::store(e),
        }
    }
}

impl From<OrderError> for ApiError {
    fn from(e: OrderError) -> Self {
        match e {
            OrderError::NotVerified => Self::forbidden(
                "email_not_verified",
                "Verify your e-mail address before buying",
            ),
            OrderError::BadItems => Self::unprocessable(
                "invalid_items",
                "The order's items are not valid",
                e.to_string(),
            ),
            OrderError::BadIdempotencyKey => Self::bad_request(
                "invalid_idempotency_key",
                "The Idempotency-Key header is not valid",
            ),
            OrderError::NotOnSale(_) => {
                Self::unprocessable("not_on_sale", "A product is not on sale", e.to_string())
            }
            OrderError::AlreadyOwned(_) => Self::Conflict(Json(
                Problem::new(
                    StatusCode::CONFLICT,
                    "already_owned",
                    "You already own a product of this order",
                )
                .detail(e.to_string()),
            )),
            OrderError::MixedCurrencies => Self::unprocessable(
                "mixed_currencies",
                "The products are priced in different currencies",
                e.to_string(),
            ),
            OrderError::NotEntrusted(_) => {
                tracing::error!(error = %e, "the payment processor's register does not allow this checkout");
                Self::Internal(Json(Problem::for_status(StatusCode::INTERNAL_SERVER_ERROR)))
            }
            OrderError::KeyReused => Self::conflict(
                "idempotency_key_reused",
                "This Idempotency-Key was used for a different order",
            ),
            OrderError::AmountOutOfRange { .. } => Self::unprocessable(
                "amount_out_of_range",
                "The total is outside what the payment provider takes in one payment",
                e.to_string(),
            ),
            OrderError::Gateway(g) => Self::gateway(&g),
            OrderError::Store(s) => Self::store(s),
        }
    }
}

impl From<LookupError> for ApiError {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::NotFound => Self::not_found("not_found", "There is no such item"),
            LookupError::NotOwned => {
                Self::forbidden("not_owned", "You have not bought this product")
            }
            LookupError::Disputed => Self::forbidden(
                "payment_disputed",
                "This purchase is withheld while its payment is disputed",
            ),
            LookupError::Gateway(g) => Self::gateway(&g),
            LookupError::Store(s) => Self::store(s),
        }
    }
}

impl From<WebhookFailure> for ApiError {
    fn from(e: WebhookFailure) -> Self {
        match e {
            WebhookFailure::Refused(reason) => Self::BadRequest(Json(
                Problem::new(
                    StatusCode::BAD_REQUEST,
                    "invalid_webhook",
                    "The webhook was refused",
                )
                .detail(reason.to_string()),
            )),
            WebhookFailure::Store(s) => Self::store(s),
        }
    }
}

impl From<kikeru_domain::office::service::OfficeError> for ApiError {
    fn from(e: kikeru_domain::office::service::OfficeError) -> Self {
        use kikeru_domain::office::service::OfficeError as E;
        match e {
            E::InvalidCredentials => Self::unauthorized(
                "invalid_credentials",
                "The e-mail address or password is wrong",
            ),
            E::Unauthenticated => {
                Self::unauthorized("unauthenticated", "Sign in as an operator first")
            }
            E::Forbidden(_) => Self::forbidden("role_required", "Your role does not allow this"),
            E::Throttled(t) => Self::throttled(t),
            E::Password(r) => rejected_password(&r),
            E::EmailTaken => Self::conflict("email_taken", "An operator already has this address"),
            E::Store(s) => Self::store(s),
            E::Hasher(h) => Self::backend(&BackendError::Hasher(h)),
        }
    }
}
