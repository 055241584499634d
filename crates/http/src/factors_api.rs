//! The JSON API of stronger sign-in: the authenticator app (TOTP) and recovery codes under
//! `/me`, passing the second factor and re-authenticating under `/sessions/current`.
//!
//! Changes to factors are sensitive: without an authentication in the last few minutes they
//! answer 403 `reauthentication_required` (or `second_factor_required`), which the client
//! resolves with `POST /sessions/current/reauthentication` and retries.

use kikeru_domain::membership::second_factor::RecoveryCode;
use poem::web::Data;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi, Tags};
use time::OffsetDateTime;

use crate::AppState;
use crate::auth::{PendingSession, Session};
use crate::problem::ApiError;
use crate::text::JsonString;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// Second factors: the authenticator app, recovery codes, and the step-ups that sensitive
    /// changes need.
    SecondFactors,
}

/// What the member has turned on.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct SecondFactorsView {
    /// Whether the authenticator app is on (sign-in asks for a code).
    totp: bool,
    /// When it was turned on.
    totp_since: Option<OffsetDateTime>,
    /// Whether an enrolment was begun (`POST /me/totp`) and awaits its code.
    totp_pending: bool,
    /// Unused recovery codes left.
    recovery_codes_left: u32,
    /// How many passkeys the member has (`GET /me/passkeys` lists them).
    passkeys: u32,
}

/// A new authenticator-app secret, to scan or type into the app. Shown until confirmed.
#[derive(Debug, Object)]
struct TotpSetupView {
    /// The secret in base32, to type in.
    secret: String,
    /// The `otpauth://` URI the QR code carries.
    otpauth_uri: String,
    /// The QR code as an SVG image.
    qr_svg: String,
}

/// A code to check.
#[derive(Debug, Object)]
struct CodeBody {
    /// Six digits from the authenticator app, or a recovery code (16 letters and digits as
    /// shown, `ABCD-EFGH-IJKL-MNOP`; case, spaces and dashes do not matter).
    #[oai(validator(
        max_length = 64,
        pattern = r"^\s*([0-9]\s*){6}$|^[\s-]*([A-Za-z2-7][\s-]*){16}$"
    ))]
    code: JsonString,
}

/// A code from the authenticator app.
#[derive(Debug, Object)]
struct AppCodeBody {
    /// The six digits the app shows (spaces do not matter).
    #[oai(validator(max_length = 32, pattern = r"^\s*([0-9]\s*){6}$"))]
    code: JsonString,
}

/// Recovery codes, shown this once: each works one time when the app is not at hand.
#[derive(Debug, Object)]
struct RecoveryCodesView {
    /// The codes (`ABCD-EFGH-IJKL-MNOP`). Empty when the member already had a set, which
    /// stays valid.
    codes: Vec<String>,
}

#[derive(Debug, ApiResponse)]
enum FactorPassed {
    /// The session was waiting for the factor: it is signed in now, under a new token set in
    /// the cookie (the old one no longer works).
    #[oai(status = 200)]
    SignedIn(
        Json<SecondFactorPassed>,
        #[oai(header = "Set-Cookie")] String,
    ),
    /// The session was signed in already: it counts as freshly authenticated.
    #[oai(status = 200)]
    Confirmed(Json<SecondFactorPassed>),
}

/// The session after passing its second factor.
#[derive(Debug, Object)]
struct SecondFactorPassed {
    /// `totp` or `recovery_code`.
    factor: String,
    /// Unused recovery codes left.
    recovery_codes_left: u32,
}

/// The account's password, to confirm it is the member.
#[derive(Debug, Object)]
struct PasswordBody {
    /// The current password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
}

#[derive(Debug, ApiResponse)]
enum SetupCreated {
    /// Enrolment begun: confirm with a code from the app (`POST /me/totp/confirmation`).
    #[oai(status = 201)]
    Created(Json<TotpSetupView>),
}

#[derive(Debug, ApiResponse)]
enum CodesCreated {
    /// The new recovery codes, shown once.
    #[oai(status = 201)]
    Created(Json<RecoveryCodesView>),
}

#[derive(Debug, ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

fn codes(list: &[RecoveryCode]) -> Vec<String> {
    list.iter().map(RecoveryCode::expose).collect()
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

pub(crate) struct FactorsApi;

#[OpenApi]
impl FactorsApi {
    /// What the member has turned on: the authenticator app and how many recovery codes are
    /// left.
    #[oai(
        path = "/me/second-factors",
        method = "get",
        tag = "Tag::SecondFactors"
    )]
    async fn status(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<SecondFactorsView>> {
        let status = state
            .services
            .membership
            .second_factor_status(&auth.0)
            .await?;
        Ok(Json(SecondFactorsView {
            totp: status.totp_since.is_some(),
            passkeys: count(status.passkeys),
            totp_since: status.totp_since,
            totp_pending: status.totp_pending,
            recovery_codes_left: count(status.recovery_codes_left),
        }))
    }

    /// Begin turning on the authenticator app: a new secret, as text and as a QR code. It
    /// takes effect only when confirmed with a code. Needs a recent authentication.
    #[oai(path = "/me/totp", method = "post", tag = "Tag::SecondFactors")]
    async fn begin_totp(&self, state: Data<&AppState>, auth: Session) -> ApiResult<SetupCreated> {
        let setup = state.services.membership.begin_totp(&auth.0).await?;
        let qr_svg = crate::qr::svg(&setup.uri, "QR code").unwrap_or_default();
        Ok(SetupCreated::Created(Json(TotpSetupView {
            secret: setup.secret.base32(),
            otpauth_uri: setup.uri,
            qr_svg,
        })))
    }

    /// Confirm the authenticator app with a code from it: from now on sign-in asks for a
    /// code. The first time, the answer carries ten recovery codes — shown only now.
    #[oai(
        path = "/me/totp/confirmation",
        method = "post",
        tag = "Tag::SecondFactors"
    )]
    async fn confirm_totp(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<AppCodeBody>,
    ) -> ApiResult<Json<RecoveryCodesView>> {
        let made = state
            .services
            .membership
            .confirm_totp(&auth.0, &body.code)
            .await?;
        Ok(Json(RecoveryCodesView {
            codes: codes(&made),
        }))
    }

    /// Turn the authenticator app off (or cancel an enrolment); with no second factor left,
    /// the recovery codes go too. Needs a recent authentication.
    #[oai(path = "/me/totp", method = "delete", tag = "Tag::SecondFactors")]
    async fn remove_totp(&self, state: Data<&AppState>, auth: Session) -> ApiResult<Done> {
        state.services.membership.remove_totp(&auth.0).await?;
        Ok(Done::Done)
    }

    /// Replace the recovery codes with ten new ones, shown once; the old ones stop working.
    /// Needs a second factor and a recent authentication.
    #[oai(
        path = "/me/recovery-codes",
        method = "post",
        tag = "Tag::SecondFactors"
    )]
    async fn regenerate(&self, state: Data<&AppState>, auth: Session) -> ApiResult<CodesCreated> {
        let made = state
            .services
            .membership
            .regenerate_recovery_codes(&auth.0)
            .await?;
        Ok(CodesCreated::Created(Json(RecoveryCodesView {
            codes: codes(&made),
        })))
    }

    /// Pass the second factor with a code from the authenticator app or a recovery code
    /// (used up). A session signed in with the password alone becomes signed in; an already
    /// signed-in session counts as freshly authenticated for sensitive changes. Wrong codes
    /// are limited like wrong passwords.
    #[oai(
        path = "/sessions/current/second-factor",
        method = "post",
        tag = "Tag::SecondFactors"
    )]
    async fn pass(
        &self,
        state: Data<&AppState>,
        auth: PendingSession,
        body: Json<CodeBody>,
    ) -> ApiResult<FactorPassed> {
        let passed = state
            .services
            .membership
            .pass_second_factor(&auth.0, &body.code)
            .await?;
        let left = state
            .services
            .membership
            .second_factor_status(&auth.0)
            .await?
            .recovery_codes_left;
        let body = Json(SecondFactorPassed {
            factor: passed.factor.as_str().to_owned(),
            recovery_codes_left: count(left),
        });
        Ok(match passed.session {
            Some(new) => {
                let (_, cookie) = crate::api::signed_in(&state, &new, new.session.created_at);
                FactorPassed::SignedIn(body, cookie)
            }
            None => FactorPassed::Confirmed(body),
        })
    }

    /// Confirm it is the member with the account's password, so that sensitive changes
    /// (address, password, second factors, data export, account deletion) are allowed for the
    /// next few minutes.
    #[oai(
        path = "/sessions/current/reauthentication",
        method = "post",
        tag = "Tag::SecondFactors"
    )]
    async fn reauthenticate(
        &self,
        state: Data<&AppState>,
        auth: PendingSession,
        body: Json<PasswordBody>,
    ) -> ApiResult<Done> {
        state
            .services
            .membership
            .reauthenticate_session(&auth.0, &body.password)
            .await?;
        Ok(Done::Done)
    }
}
