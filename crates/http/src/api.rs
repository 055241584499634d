//! The JSON API under `/api/v1`: request and response bodies, parsed into domain requests at
//! the edge, and one handler per operation calling one use case.

use crate::text::JsonString;
use kikeru_domain::membership::{Authenticated, ProfileChange, Registration};
use kikeru_domain::{DisplayName, Email, Language, Member, SessionId, SessionToken};
use poem::Request;
use poem::web::Data;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Enum, Object, OpenApi, Tags};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::AppState;
use crate::auth::{PendingSession, Session};
use crate::client::client;
use crate::problem::{ApiError, invalid_display_name, invalid_email};
use kikeru_domain::membership::second_factor::Access;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Tags)]
enum Tag {
    /// Registration and e-mail verification.
    Members,
    /// Signing in and out.
    Sessions,
    /// マイページ: the signed-in member's own data.
    Me,
    /// Setting a new password without the old one.
    PasswordResets,
}

/// A language of the service.
#[derive(Debug, Clone, Copy, Enum)]
#[oai(rename_all = "lowercase")]
pub(crate) enum LanguageTag {
    /// 日本語 (the default).
    Ja,
    /// English.
    En,
}

impl From<LanguageTag> for Language {
    fn from(tag: LanguageTag) -> Self {
        match tag {
            LanguageTag::Ja => Self::Ja,
            LanguageTag::En => Self::En,
        }
    }
}

impl From<Language> for LanguageTag {
    fn from(language: Language) -> Self {
        match language {
            Language::Ja => Self::Ja,
            Language::En => Self::En,
        }
    }
}

/// A password to check.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PasswordCheckBody {
    /// The password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
    /// The address it is for (a password must not contain it).
    #[oai(nullable, validator(max_length = 320))]
    email: Option<JsonString>,
    /// The language of the message.
    #[oai(nullable)]
    language: Option<LanguageTag>,
}

/// What the policy says of a password.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PasswordCheck {
    /// Whether registration would accept it.
    acceptable: bool,
    /// `ok`, or the reason it is refused (`too_short`, `common`, …).
    code: String,
    /// The answer in words, in the requested language.
    message: String,
}

/// A registration.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct RegisterBody {
    /// The e-mail address; it becomes the sign-in name once verified.
    #[oai(validator(max_length = 320))]
    email: JsonString,
    /// 12 to 128 characters; long passphrases are welcome. Common or easily guessed passwords
    /// are refused with the reason.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
    /// The language for mail and pages (default `ja`).
    #[oai(nullable)]
    language: Option<LanguageTag>,
}

/// The request was accepted; look for a mail.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct Accepted {
    /// Always `accepted`.
    status: String,
    /// What happens next.
    message: String,
}

impl Accepted {
    fn new(message: &str) -> Json<Self> {
        Json(Self {
            status: "accepted".to_owned(),
            message: message.to_owned(),
        })
    }
}

/// A mailed token.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct TokenBody {
    /// The token from the link in the mail.
    #[oai(validator(max_length = 128))]
    token: JsonString,
}

/// Credentials.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct SignInBody {
    /// The e-mail address.
    #[oai(validator(max_length = 320))]
    email: JsonString,
    /// The password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
}

/// A new session. Its secret is only in the `Set-Cookie` header.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
pub(crate) struct SignedIn {
    /// The member's unique ID.
    member_id: Uuid,
    /// The new session's ID (see `GET /me/sessions`).
    session_id: Uuid,
    /// When the session ends at the latest.
    expires_at: OffsetDateTime,
    /// Whether the member has a second factor to pass before the session is signed in
    /// (`POST /sessions/current/second-factor`); until then every other operation answers 403
    /// `second_factor_required`.
    second_factor_required: bool,
}

/// The member's profile.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct Profile {
    /// The unique member ID, assigned at registration and never reused.
    id: Uuid,
    /// The e-mail address.
    email: String,
    /// Whether the address is verified (required to buy).
    email_verified: bool,
    /// When it was verified.
    email_verified_at: Option<OffsetDateTime>,
    /// The name to greet the member by (may be empty).
    display_name: String,
    /// The language for mail and pages.
    language: LanguageTag,
    /// When the member registered.
    created_at: OffsetDateTime,
}

impl From<&Member> for Profile {
    fn from(m: &Member) -> Self {
        Self {
            id: *m.id.as_uuid(),
            email: m.email.as_str().to_owned(),
            email_verified: m.is_verified(),
            email_verified_at: m.email_verified_at,
            display_name: m.display_name.as_str().to_owned(),
            language: m.language.into(),
            created_at: m.created_at,
        }
    }
}

/// Changes to the profile; absent fields stay as they are.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ProfilePatch {
    /// Up to 64 characters, no control characters; empty to remove.
    #[oai(
        nullable,
        validator(max_length = 64, pattern = r"^[^\x00-\x1F\x7F-\x9F]*$")
    )]
    display_name: Option<JsonString>,
    /// The language for mail and pages.
    #[oai(nullable)]
    language: Option<LanguageTag>,
}

/// A password change.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct PasswordChange {
    /// The current password.
    #[oai(validator(max_length = 1024))]
    current_password: JsonString,
    /// The new password (same policy as at registration).
    #[oai(validator(max_length = 1024))]
    new_password: JsonString,
}

/// An address change.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct EmailChange {
    /// The current password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
    /// The new address; it takes effect once the link mailed to it is followed.
    #[oai(validator(max_length = 320))]
    new_email: JsonString,
}

/// Confirms the deletion of the account.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct AccountDeletion {
    /// The current password.
    #[oai(validator(max_length = 1024))]
    password: JsonString,
}

/// One of the member's sessions.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct SessionView {
    /// The session ID (to revoke it).
    id: Uuid,
    /// When it was signed in.
    created_at: OffsetDateTime,
    /// When it was last used (to the minute).
    last_seen_at: OffsetDateTime,
    /// When it ends at the latest.
    expires_at: OffsetDateTime,
    /// The browser, e.g. `Firefox 128 / Linux`.
    browser: String,
    /// Whether this is the session making the request.
    current: bool,
}

/// How many sessions ended.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct Ended {
    /// The number of sessions signed out.
    ended: u64,
}

/// A password-reset request.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ResetRequest {
    /// The member's e-mail address.
    #[oai(validator(max_length = 320))]
    email: JsonString,
}

/// A new password set with a reset token.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct ResetConfirm {
    /// The token from the link in the mail.
    #[oai(validator(max_length = 128))]
    token: JsonString,
    /// The new password.
    #[oai(validator(max_length = 1024))]
    new_password: JsonString,
}

/// A security event concerning the member.
#[derive(Debug, Object)]
#[oai(skip_serializing_if_is_none)]
struct SecurityEventView {
    /// The event's ID.
    id: Uuid,
    /// When it happened.
    at: OffsetDateTime,
    /// What happened, e.g. `signed_in`, `password_changed`.
    kind: String,
}

#[derive(Debug, ApiResponse)]
enum AcceptedResponse {
    /// Accepted; a mail follows when there is something to mail.
    #[oai(status = 202)]
    Accepted(Json<Accepted>),
}

#[derive(Debug, ApiResponse)]
enum Done {
    /// Done.
    #[oai(status = 204)]
    Done,
}

#[derive(Debug, ApiResponse)]
enum SessionCreated {
    /// Signed in; the session cookie is set.
    #[oai(status = 201)]
    Created(Json<SignedIn>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, ApiResponse)]
enum SessionRotated {
    /// Changed; every session ended and a new one is set in the cookie.
    #[oai(status = 200)]
    Ok(Json<SignedIn>, #[oai(header = "Set-Cookie")] String),
}

#[derive(Debug, ApiResponse)]
enum SignedOut {
    /// Signed out; the cookie is cleared.
    #[oai(status = 204)]
    Done(#[oai(header = "Set-Cookie")] String),
}

fn parse_email(raw: &str) -> ApiResult<Email> {
    Email::parse(raw).map_err(invalid_email)
}

fn parse_token(raw: &str) -> ApiResult<SessionToken> {
    SessionToken::parse(raw.trim())
        .map_err(|_| ApiError::bad_request("invalid_token", "The link is invalid or has expired"))
}

pub(crate) fn signed_in(
    state: &AppState,
    new: &kikeru_domain::membership::NewSession,
    now: OffsetDateTime,
) -> (Json<SignedIn>, String) {
    let cookie = state
        .config
        .cookie()
        .set(&new.token, now, new.session.expires_at);
    let body = SignedIn {
        member_id: *new.session.member_id.as_uuid(),
        session_id: *new.session.id.as_uuid(),
        expires_at: new.session.expires_at,
        second_factor_required: new.session.access() == Access::SecondFactorPending,
    };
    (Json(body), cookie)
}

pub(crate) struct Api;

#[OpenApi]
impl Api {
    /// Check a password against the policy without storing anything (the registration page's
    /// live strength hint). The same rules decide at registration.
    #[oai(path = "/password-check", method = "post", tag = "Tag::Members")]
    async fn password_check(
        &self,
        body: Json<PasswordCheckBody>,
    ) -> ApiResult<Json<PasswordCheck>> {
        let body = body.0;
        let email = body.email.unwrap_or_default();
        let local = email.split('@').next().unwrap_or_default().to_owned();
        let language = body.language.map_or(Language::Ja, Language::from);
        let (acceptable, code, key) =
            match kikeru_domain::Password::new(&body.password, &[&email, &local]) {
                Ok(_) => (true, "ok", "password.ok"),
                Err(r) => (false, r.code(), crate::site::password_problem(&r)),
            };
        Ok(Json(PasswordCheck {
            acceptable,
            code: code.to_owned(),
            message: crate::site::i18n::t(language, key).to_owned(),
        }))
    }

    /// Register with an e-mail address and a password.
    ///
    /// Answers `202` whether or not the address is already registered (its owner is mailed
    /// instead), so nobody can find out who is a member. A verification link is mailed;
    /// unverified members can sign in but cannot buy.
    #[oai(path = "/members", method = "post", tag = "Tag::Members")]
    async fn register(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<RegisterBody>,
    ) -> ApiResult<AcceptedResponse> {
        let registration = Registration {
            email: parse_email(&body.email)?,
            password: body.0.password.into(),
            language: body.0.language.map_or(Language::Ja, Language::from),
        };
        state
            .services
            .membership
            .register(registration, &client(req, &state.config))
            .await?;
        Ok(AcceptedResponse::Accepted(Accepted::new(
            "Check your mailbox for a link to verify your address.",
        )))
    }

    /// Verify an e-mail address with the token from the mailed link (after registration or an
    /// address change).
    #[oai(path = "/members/verify", method = "post", tag = "Tag::Members")]
    async fn verify(&self, state: Data<&AppState>, body: Json<TokenBody>) -> ApiResult<Done> {
        state
            .services
            .membership
            .verify_email(&parse_token(&body.token)?)
            .await?;
        Ok(Done::Done)
    }

    /// Sign in. Sets the session cookie; any session the request carried ends (the session
    /// rotates). Unknown addresses and wrong passwords answer alike.
    #[oai(path = "/sessions", method = "post", tag = "Tag::Sessions")]
    async fn sign_in(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<SignInBody>,
    ) -> ApiResult<SessionCreated> {
        let previous = state.config.cookie().token(req);
        let created = state
            .services
            .membership
            .sign_in(
                &body.email,
                &body.password,
                &client(req, &state.config),
                previous.as_ref(),
            )
            .await?;
        let (json, cookie) = signed_in(&state, &created, created.session.created_at);
        Ok(SessionCreated::Created(json, cookie))
    }

    /// Sign out: the session ends on the server and the cookie is cleared.
    #[oai(path = "/sessions/current", method = "delete", tag = "Tag::Sessions")]
    async fn sign_out(&self, state: Data<&AppState>, auth: PendingSession) -> ApiResult<SignedOut> {
        state.services.membership.sign_out(&auth.0).await?;
        Ok(SignedOut::Done(state.config.cookie().clear()))
    }

    /// The signed-in member's profile.
    #[oai(path = "/me", method = "get", tag = "Tag::Me")]
    async fn me(&self, auth: Session) -> ApiResult<Json<Profile>> {
        Ok(Json(Profile::from(&auth.0.member)))
    }

    /// Change the display name or language.
    #[oai(path = "/me", method = "patch", tag = "Tag::Me")]
    async fn update_me(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<ProfilePatch>,
    ) -> ApiResult<Json<Profile>> {
        let change = ProfileChange {
            display_name: body
                .0
                .display_name
                .as_deref()
                .map(DisplayName::parse)
                .transpose()
                .map_err(invalid_display_name)?,
            language: body.0.language.map(Language::from),
        };
        let member = state
            .services
            .membership
            .update_profile(&auth.0, change)
            .await?;
        Ok(Json(Profile::from(&member)))
    }

    /// Change the password (needs the current one). Every session ends, including this one;
    /// a new session is set in the cookie. A notice is mailed.
    #[oai(path = "/me/password", method = "put", tag = "Tag::Me")]
    async fn change_password(
        &self,
        state: Data<&AppState>,
        req: &Request,
        auth: Session,
        body: Json<PasswordChange>,
    ) -> ApiResult<SessionRotated> {
        let created = state
            .services
            .membership
            .change_password(
                &auth.0,
                &body.current_password,
                &body.new_password,
                &client(req, &state.config),
            )
            .await?;
        let (json, cookie) = signed_in(&state, &created, created.session.created_at);
        Ok(SessionRotated::Ok(json, cookie))
    }

    /// Change the e-mail address (needs the password). A link is mailed to the new address and
    /// the change takes effect when it is followed; the old address is told.
    #[oai(path = "/me/email", method = "put", tag = "Tag::Me")]
    async fn change_email(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<EmailChange>,
    ) -> ApiResult<AcceptedResponse> {
        let new_email = parse_email(&body.new_email)?;
        state
            .services
            .membership
            .change_email(&auth.0, &body.password, new_email)
            .await?;
        Ok(AcceptedResponse::Accepted(Accepted::new(
            "Follow the link mailed to the new address to complete the change.",
        )))
    }

    /// Delete the account (needs the password). Personal data — the address, password,
    /// sessions, consents, security events — is erased at once. Purchase and payment records
    /// that accounting law requires are kept, linked to no name or address, until their
    /// retention period ends; the disclosure ledger keeps its entries. A confirmation is mailed.
    /// The address can register again, as a new member.
    #[oai(path = "/me", method = "delete", tag = "Tag::Me")]
    async fn delete_account(
        &self,
        state: Data<&AppState>,
        auth: Session,
        body: Json<AccountDeletion>,
    ) -> ApiResult<SignedOut> {
        state
            .services
            .membership
            .delete_account(&auth.0, &body.password)
            .await?;
        Ok(SignedOut::Done(state.config.cookie().clear()))
    }

    /// The member's active sessions, newest first.
    #[oai(path = "/me/sessions", method = "get", tag = "Tag::Me")]
    async fn sessions(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<SessionView>>> {
        let current: &Authenticated = &auth.0;
        let sessions = state.services.membership.sessions(current).await?;
        Ok(Json(
            sessions
                .into_iter()
                .map(|s| SessionView {
                    id: *s.id.as_uuid(),
                    created_at: s.created_at,
                    last_seen_at: s.last_seen_at,
                    expires_at: s.expires_at,
                    browser: s.browser,
                    current: s.id == current.session.id,
                })
                .collect(),
        ))
    }

    /// Sign out every session except this one.
    #[oai(path = "/me/sessions", method = "delete", tag = "Tag::Me")]
    async fn sign_out_others(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Ended>> {
        let ended = state.services.membership.sign_out_others(&auth.0).await?;
        Ok(Json(Ended { ended }))
    }

    /// End one of the member's sessions.
    #[oai(path = "/me/sessions/:id", method = "delete", tag = "Tag::Me")]
    async fn revoke_session(
        &self,
        state: Data<&AppState>,
        auth: Session,
        id: Path<Uuid>,
    ) -> ApiResult<Done> {
        state
            .services
            .membership
            .revoke_session(&auth.0, SessionId::from_uuid(id.0))
            .await?;
        Ok(Done::Done)
    }

    /// The member's recent security events (sign-ins, changes), newest first.
    #[oai(path = "/me/security-events", method = "get", tag = "Tag::Me")]
    async fn security_events(
        &self,
        state: Data<&AppState>,
        auth: Session,
    ) -> ApiResult<Json<Vec<SecurityEventView>>> {
        let events = state
            .services
            .membership
            .security_events(&auth.0, 100)
            .await?;
        Ok(Json(
            events
                .into_iter()
                .map(|e| SecurityEventView {
                    id: e.id,
                    at: e.at,
                    kind: e.kind.as_str().to_owned(),
                })
                .collect(),
        ))
    }

    /// Ask for a password-reset link. Answers `202` whether or not the address is registered.
    #[oai(
        path = "/password-resets",
        method = "post",
        tag = "Tag::PasswordResets"
    )]
    async fn request_reset(
        &self,
        state: Data<&AppState>,
        req: &Request,
        body: Json<ResetRequest>,
    ) -> ApiResult<AcceptedResponse> {
        let email = parse_email(&body.email)?;
        state
            .services
            .membership
            .request_password_reset(&email, &client(req, &state.config))
            .await?;
        Ok(AcceptedResponse::Accepted(Accepted::new(
            "If the address is registered, a link to set a new password has been mailed. It works for 30 minutes.",
        )))
    }

    /// Set a new password with the token from the reset link. Every session ends.
    #[oai(
        path = "/password-resets/confirm",
        method = "post",
        tag = "Tag::PasswordResets"
    )]
    async fn confirm_reset(
        &self,
        state: Data<&AppState>,
        body: Json<ResetConfirm>,
    ) -> ApiResult<Done> {
        state
            .services
            .membership
            .reset_password(&parse_token(&body.token)?, &body.new_password)
            .await?;
        Ok(Done::Done)
    }
}
