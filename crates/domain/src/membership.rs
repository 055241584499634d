//! The membership use cases: register, verify, sign in and out, My Page profile, password and
//! address changes, sessions, password reset.
//!
//! Every method takes what the edge parsed and returns a typed error per use case. Nothing
//! here reveals whether an address is registered: registration, reset and sign-in answer alike
//! for known and unknown addresses.

use std::sync::Arc;
use std::time::Duration;

use uuid::Uuid;

use crate::changes::{Change, Changes, UnitOfWork};
use crate::kernel::ids::uuid_v7;
use crate::kernel::throttle::throttle_key;
use crate::outbox::Envelope;
use crate::outbox::{MAIL_PROCESSOR, mail_categories};
use crate::ports::{
    AuditLog, Clock, HasherError, Mail, MailError, Members, Message, PasswordHasher, Random,
    RateLimits, Sealer, SecondFactors, Sessions, Tokens, Verification,
};
use crate::second_factor::{Access, Assurance, Factor, RECENT_AUTHENTICATION, StepUp};
use crate::session::SessionState;
use crate::{
    DisplayName, Email, Language, Member, MemberId, OneTimeToken, Password, PasswordAttempt,
    PasswordRejection, SecurityEvent, SecurityEventKind, Session, SessionId, SessionPolicy,
    SessionToken, StoreError, ThrottlePolicy, ThrottleRule, Timestamp, TokenPurpose,
};

/// The adapters the use cases run on.
#[derive(Clone)]
pub struct Ports {
    /// Member storage.
    pub members: Arc<dyn Members>,
    /// Atomic writes: every use case's changes, with the mail that tells about them.
    pub unit: Arc<dyn UnitOfWork>,
    /// Session storage.
    pub sessions: Arc<dyn Sessions>,
    /// Mailed single-use tokens.
    pub tokens: Arc<dyn Tokens>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// Shared rate-limit counters.
    pub rate_limits: Arc<dyn RateLimits>,
    /// Password hashing.
    pub hasher: Arc<dyn PasswordHasher>,
    /// Enrolled second factors.
    pub factors: Arc<dyn SecondFactors>,
    /// Encryption of second-factor secrets at rest (and of passkey ceremonies in flight).
    pub sealer: Arc<dyn Sealer>,
    /// Passkey (WebAuthn) signature checks for the configured relying party.
    pub passkeys: Arc<dyn crate::passkey::PasskeyVerifier>,
    /// The register of entrusted processors (mail goes through the processor `mail`).
    pub processors: Arc<dyn crate::privacy::Processors>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for Ports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ports { .. }")
    }
}

/// Tunable rules of membership.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipConfig {
    /// Session lifetimes.
    pub sessions: SessionPolicy,
    /// Rate limits.
    pub throttle: ThrottlePolicy,
    /// How recent an authentication must be for a sensitive change.
    pub recent_authentication: Duration,
    /// The name authenticator apps show beside the member's address.
    pub totp_issuer: String,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        Self {
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            recent_authentication: RECENT_AUTHENTICATION,
            totp_issuer: "Minna Kikeru".to_owned(),
        }
    }
}

/// A backing service failed; the request may succeed later. Never the member's fault.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Hashing failed.
    #[error(transparent)]
    Hasher(#[from] HasherError),
    /// Mail may not be sent (the register does not entrust the mail provider with it).
    #[error(transparent)]
    Mail(#[from] MailError),
}

/// Implements `From` for each backend error, so `?` works in the use cases.
macro_rules! backend_errors {
    ($($error:ident),+) => {$(
        impl From<StoreError> for $error {
            fn from(e: StoreError) -> Self { Self::Backend(e.into()) }
        }
        impl From<HasherError> for $error {
            fn from(e: HasherError) -> Self { Self::Backend(e.into()) }
        }
        impl From<MailError> for $error {
            fn from(e: MailError) -> Self { Self::Backend(e.into()) }
        }
    )+};
}

/// Registration failed.
#[derive(Debug, thiserror::Error)]
pub enum RegisterError {
    /// The new password breaks the policy.
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// Too many registrations from this client.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A mailed token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    /// Unknown, used, expired, or for another purpose.
    #[error("the link is invalid or has expired")]
    Invalid,
    /// The proven new address was taken by another member in the meantime.
    #[error("the address is already in use")]
    EmailTaken,
    /// The new password breaks the policy (password reset).
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// Sign-in failed.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Unknown address or wrong password; the two are indistinguishable.
    #[error("the e-mail address or password is wrong")]
    InvalidCredentials,
    /// Too many attempts from this client or for this address.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// The presented session is not (or no longer) valid.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No such session, or it expired.
    #[error("not signed in")]
    Unauthenticated,
    /// The password was right, but the member's second factor has not been passed yet.
    #[error("pass your second factor first")]
    SecondFactorRequired,
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A change on My Page failed.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    /// The current password typed to confirm the change is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// Too many wrong current passwords.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// The new password breaks the policy.
    #[error(transparent)]
    Password(#[from] PasswordRejection),
    /// The new address is the current one.
    #[error("the new address is the current address")]
    SameEmail,
    /// No such session of this member.
    #[error("no such session")]
    NotFound,
    /// The session must authenticate again (or pass its second factor) first.
    #[error(transparent)]
    StepUp(#[from] StepUp),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

/// A password-reset request failed (never because the address is unknown).
#[derive(Debug, thiserror::Error)]
pub enum ResetRequestError {
    /// Too many requests from this client.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

backend_errors!(
    RegisterError,
    TokenError,
    SignInError,
    AuthError,
    ChangeError,
    ResetRequestError,
    FactorError
);

pub use crate::kernel::throttle::{Client, Throttled};
pub use factors::{FactorError, PassedFactor, SecondFactorStatus, TotpSetup};
pub use passkeys::PasskeyOptions;
pub use reseal::ResealReport;

/// A request to register.
#[derive(Debug, Clone)]
pub struct Registration {
    /// The address.
    pub email: Email,
    /// The password, unchecked (the policy needs the address as context).
    pub password: String,
    /// The language for mail and pages.
    pub language: Language,
}

/// A signed-in member with their session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authenticated {
    /// The member.
    pub member: Member,
    /// The session the request presented.
    pub session: Session,
}

/// A session just created: the stored record and the secret for the cookie.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// The stored session.
    pub session: Session,
    /// The secret for the cookie; shown once, never stored.
    pub token: SessionToken,
}

/// Changes to the profile; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileChange {
    /// A new display name.
    pub display_name: Option<DisplayName>,
    /// A new language.
    pub language: Option<Language>,
}

/// The membership use cases.
#[derive(Debug, Clone)]
pub struct Membership {
    ports: Ports,
    config: MembershipConfig,
}

impl Membership {
    /// Builds the use cases on their adapters.
    pub fn new(ports: Ports, config: MembershipConfig) -> Self {
        Self { ports, config }
    }

    /// The configured rules.
    pub fn config(&self) -> &MembershipConfig {
        &self.config
    }

    /// Registers a member, or — when the address is taken — mails its owner instead, and
    /// answers the same either way. The password is hashed in both cases so that timing does
    /// not tell them apart.
    ///
    /// # Errors
    /// [`RegisterError::Password`] when the password breaks the policy (checked before the
    /// address is looked up); [`RegisterError::Throttled`]; [`RegisterError::Backend`].
    pub async fn register(
        &self,
        request: Registration,
        client: &Client,
    ) -> Result<(), RegisterError> {
        let password = Password::new(
            &request.password,
            &[request.email.as_str(), request.email.local_part()],
        )?;
        self.throttle(
            "register",
            &client.key,
            self.config.throttle.register_per_client,
        )
        .await?;
        let hash = self.ports.hasher.hash(&password).await?;
        let now = self.now();
        if let Some(existing) = self.ports.members.by_email(&request.email).await? {
            return self.mail_existing_owner(&existing).await;
        }
        let member = Member {
            id: MemberId::from_uuid(self.new_uuid(now)),
            email: request.email,
            email_verified_at: None,
            password_hash: hash,
            display_name: DisplayName::default(),
            language: request.language,
            created_at: now,
        };
        let mut changes = Changes::new();
        changes.push(Change::InsertMember(member.clone()));
        self.record(
            &mut changes,
            SecurityEventKind::Registered,
            Some(member.id),
            None,
        );
        let token = self.issue_token(&mut changes, &member, TokenPurpose::VerifyEmail, None);
        self.mail(&mut changes, &member, Message::VerifyEmail { token });
        match self.commit(changes).await {
            Ok(()) => Ok(()),
            Err(BackendError::Store(StoreError::Conflict)) => {
                // Someone registered the same address at the same moment.
                match self.ports.members.by_email(&member.email).await? {
                    Some(existing) => self.mail_existing_owner(&existing).await,
                    None => Err(StoreError::Conflict.into()),
                }
            }
            Err(e) => Err(RegisterError::Backend(e)),
        }
    }

    async fn mail_existing_owner(&self, existing: &Member) -> Result<(), RegisterError> {
        let mut changes = Changes::new();
        let verify = (!existing.is_verified())
            .then(|| self.issue_token(&mut changes, existing, TokenPurpose::VerifyEmail, None));
        self.record(
            &mut changes,
            SecurityEventKind::RegistrationAttemptForExistingAddress,
            Some(existing.id),
            None,
        );
        self.mail(
            &mut changes,
            existing,
            Message::AlreadyRegistered { verify },
        );
        self.commit(changes).await.map_err(RegisterError::Backend)
    }

    /// Completes a mailed address proof: a registration's verification, or an address change.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for an unknown, used, expired or password-reset token;
    /// [`TokenError::EmailTaken`] when a changed address was taken meanwhile.
    pub async fn verify_email(&self, token: &SessionToken) -> Result<(), TokenError> {
        let now = self.now();
        let hash = token.hash();
        let Some(found) = self.ports.tokens.find(&hash).await? else {
            return Err(TokenError::Invalid);
        };
        if found.purpose == TokenPurpose::ResetPassword || !found.is_valid_at(now) {
            return Err(TokenError::Invalid);
        }
        let Some(mut member) = self.ports.members.by_id(found.member_id).await? else {
            return Err(TokenError::Invalid);
        };
        let mut changes = Changes::new();
        changes.push(Change::TakeToken(hash));
        match (found.purpose, found.new_email) {
            (TokenPurpose::ChangeEmail, Some(new_email)) => {
                let old = member.clone();
                member.email = new_email;
                member.email_verified_at = Some(now);
                changes.push(Change::UpdateMember(member.clone()));
                // A reset link mailed to the old address must not outlive it.
                changes.push(Change::DeleteTokens {
                    member: member.id,
                    purpose: TokenPurpose::ResetPassword,
                });
                self.record(
                    &mut changes,
                    SecurityEventKind::EmailChanged,
                    Some(member.id),
                    None,
                );
                self.mail(&mut changes, &old, Message::EmailChanged);
            }
            _ => {
                if member.email_verified_at.is_none() {
                    member.email_verified_at = Some(now);
                    changes.push(Change::UpdateMember(member.clone()));
                    self.secure_first_proof(&mut changes, &member).await?;
                }
                self.record(
                    &mut changes,
                    SecurityEventKind::EmailVerified,
                    Some(member.id),
                    None,
                );
            }
        }
        match self.commit(changes).await {
            Ok(()) => Ok(()),
            // Another request used the token first.
            Err(BackendError::Store(StoreError::NotFound)) => Err(TokenError::Invalid),
            Err(BackendError::Store(StoreError::Conflict)) => Err(TokenError::EmailTaken),
            Err(e) => Err(TokenError::Backend(e)),
        }
    }

    /// Signs a member in and creates a new session (never reusing `previous`, which is
    /// deleted: the session ID rotates at sign-in).
    ///
    /// `email` is the raw input: a malformed address fails exactly like an unknown one.
    ///
    /// # Errors
    /// [`SignInError::InvalidCredentials`] for an unknown address or a wrong password, after
    /// the same work; [`SignInError::Throttled`] when the client made too many attempts or the
    /// address had too many failures.
    pub async fn sign_in(
        &self,
        email: &str,
        password: &str,
        client: &Client,
        previous: Option<&SessionToken>,
    ) -> Result<NewSession, SignInError> {
        let rules = self.config.throttle;
        self.throttle("sign-in", &client.key, rules.sign_in_per_client)
            .await?;
        let normalised = Email::parse(email)
            .map(|e| e.as_str().to_owned())
            .unwrap_or_else(|_| email.trim().to_lowercase());
        let account_key = throttle_key("sign-in-failures", &normalised);
        // The attempt is counted before the password is checked (and forgiven when it is
        // right), so that attempts sent together cannot all slip under the limit.
        if let Err(throttled) = self
            .throttle(
                "sign-in-failures",
                &normalised,
                rules.sign_in_failures_per_account,
            )
            .await
        {
            let member = self.find_member(email).await?;
            self.audit(
                SecurityEventKind::SignInThrottled,
                member.map(|m| m.id),
                None,
            )
            .await?;
            return Err(throttled.into());
        }
        let member = self.find_member(email).await?;
        let attempt = PasswordAttempt::new(password);
        let verification = match &attempt {
            Some(attempt) => {
                self.ports
                    .hasher
                    .verify(attempt, member.as_ref().map(|m| m.password_hash.clone()))
                    .await?
            }
            None => Verification::Mismatch,
        };
        let (Some(mut member), Verification::Match { needs_rehash }, Some(attempt)) =
            (member.clone(), verification, attempt)
        else {
            self.audit(SecurityEventKind::SignInFailed, member.map(|m| m.id), None)
                .await?;
            return Err(SignInError::InvalidCredentials);
        };
        self.ports.rate_limits.reset(&account_key).await?;
        let now = self.now();
        if needs_rehash {
            let password = Password::verified_for_rehash(attempt);
            member.password_hash = self.ports.hasher.hash(&password).await?;
            self.ports.members.update(&member).await?;
        }
        let mut changes = Changes::new();
        if let Some(previous) = previous
            && let Some(old) = self.ports.sessions.by_token_hash(&previous.hash()).await?
        {
            changes.push(Change::DeleteSession(old.id));
        }
        if self.is_new_browser(&member, &client.browser).await? {
            let message = Message::NewSignIn {
                browser: browser_label(&client.browser),
                at: now,
            };
            self.mail(&mut changes, &member, message);
        }
        let enrolled = self.has_second_factor(member.id).await?;
        let created = self.create_session(
            &mut changes,
            &member,
            &client.browser,
            Assurance::signed_in(Factor::Password, now),
            enrolled,
        );
        // With a second factor, the member is signed in only once it is passed.
        let kind = if enrolled {
            SecurityEventKind::PasswordVerified
        } else {
            SecurityEventKind::SignedIn
        };
        self.record(
            &mut changes,
            kind,
            Some(member.id),
            Some(created.session.id),
        );
        self.commit(changes).await.map_err(SignInError::Backend)?;
        Ok(created)
    }

    /// Whether a sign-in from `browser` deserves a notice: the member signed in before, and
    /// none of their current sessions is in this browser.
    async fn is_new_browser(&self, member: &Member, browser: &str) -> Result<bool, StoreError> {
        let label = browser_label(browser);
        let sessions = self.ports.sessions.for_member(member.id).await?;
        if sessions.iter().any(|s| s.browser == label) {
            return Ok(false);
        }
        let events = self.ports.audit.for_member(member.id, 100).await?;
        Ok(events.iter().any(|e| e.kind == SecurityEventKind::SignedIn))
    }

    async fn find_member(&self, email: &str) -> Result<Option<Member>, StoreError> {
        match Email::parse(email) {
            Ok(email) => self.ports.members.by_email(&email).await,
            Err(_) => Ok(None),
        }
    }

    /// Finds the member behind a session token, ending the session when it expired and
    /// recording its use at most once a [`SessionPolicy::touch_every`].
    ///
    /// # Errors
    /// [`AuthError::Unauthenticated`] for an unknown or expired session;
    /// [`AuthError::SecondFactorRequired`] for a session that has not passed the member's
    /// second factor yet.
    pub async fn authenticate(&self, token: &SessionToken) -> Result<Authenticated, AuthError> {
        let current = self.authenticate_pending(token).await?;
        match current.session.access() {
            Access::SignedIn => Ok(current),
            Access::SecondFactorPending => Err(AuthError::SecondFactorRequired),
        }
    }

    /// As [`Membership::authenticate`], but also accepts a session that still has to pass
    /// the member's second factor: for passing it, and for signing out.
    ///
    /// # Errors
    /// [`AuthError::Unauthenticated`] for an unknown or expired session.
    pub async fn authenticate_pending(
        &self,
        token: &SessionToken,
    ) -> Result<Authenticated, AuthError> {
        let now = self.now();
        let Some(mut session) = self.ports.sessions.by_token_hash(&token.hash()).await? else {
            return Err(AuthError::Unauthenticated);
        };
        match self.config.sessions.state(&session, now) {
            SessionState::Expired => {
                self.ports.sessions.delete(session.id).await?;
                return Err(AuthError::Unauthenticated);
            }
            SessionState::LiveTouch => {
                match self.ports.sessions.touch(session.id, now).await {
                    Err(StoreError::NotFound) => return Err(AuthError::Unauthenticated),
                    other => other?,
                }
                session.last_seen_at = now;
            }
            SessionState::Live => {}
        }
        let Some(member) = self.ports.members.by_id(session.member_id).await? else {
            return Err(AuthError::Unauthenticated);
        };
        Ok(Authenticated { member, session })
    }

    /// Signs out: deletes the session server-side.
    ///
    /// # Errors
    /// [`AuthError::Backend`] when storage fails.
    pub async fn sign_out(&self, current: &Authenticated) -> Result<(), AuthError> {
        let mut changes = Changes::new();
        changes.push(Change::DeleteSession(current.session.id));
        self.record(
            &mut changes,
            SecurityEventKind::SignedOut,
            Some(current.member.id),
            Some(current.session.id),
        );
        self.commit(changes).await.map_err(AuthError::Backend)
    }

    /// Signs out every other session of the member; returns how many ended.
    ///
    /// # Errors
    /// [`AuthError::Backend`] when storage fails.
    pub async fn sign_out_others(&self, current: &Authenticated) -> Result<u64, AuthError> {
        let ended = self
            .ports
            .sessions
            .delete_for_member(current.member.id, Some(current.session.id))
            .await?;
        self.audit(
            SecurityEventKind::SignedOutOtherSessions,
            Some(current.member.id),
            Some(current.session.id),
        )
        .await?;
        Ok(ended)
    }

    /// Changes the display name and/or language.
    ///
    /// # Errors
    /// [`ChangeError::Backend`] when storage fails.
    pub async fn update_profile(
        &self,
        current: &Authenticated,
        change: ProfileChange,
    ) -> Result<Member, ChangeError> {
        let mut member = current.member.clone();
        if let Some(name) = change.display_name {
            member.display_name = name;
        }
        if let Some(language) = change.language {
            member.language = language;
        }
        if member != current.member {
            let mut changes = Changes::new();
            changes.push(Change::UpdateMember(member.clone()));
            self.record(
                &mut changes,
                SecurityEventKind::ProfileUpdated,
                Some(member.id),
                Some(current.session.id),
            );
            self.commit(changes).await.map_err(ChangeError::Backend)?;
        }
        Ok(member)
    }

    /// Changes the password after checking the current one. Every session of the member ends
    /// and a new one is returned (the session ID rotates); a notice is mailed.
    ///
    /// # Errors
    /// [`ChangeError::WrongPassword`], [`ChangeError::Throttled`] after too many wrong current
    /// passwords, [`ChangeError::Password`] when the new one breaks the policy.
    pub async fn change_password(
        &self,
        current: &Authenticated,
        current_password: &str,
        new_password: &str,
        client: &Client,
    ) -> Result<NewSession, ChangeError> {
        let member = &current.member;
        let new = Password::new(
            new_password,
            &[
                member.email.as_str(),
                member.email.local_part(),
                member.display_name.as_str(),
            ],
        )?;
        self.require_recent(current)?;
        self.reauthenticate(current, current_password).await?;
        let mut updated = member.clone();
        updated.password_hash = self.ports.hasher.hash(&new).await?;
        let mut changes = Changes::new();
        changes
            .push(Change::UpdateMember(updated.clone()))
            .push(Change::DeleteSessions {
                member: member.id,
                keep: None,
            });
        let now = self.now();
        Self::cancel_pending_links(&mut changes, member.id);
        // The member's factors as they are now, not as this session saw them when it began.
        let enrolled = self.has_second_factor(member.id).await?;
        let created = self.create_session(
            &mut changes,
            &updated,
            &client.browser,
            current.session.assurance.reauthenticated(now),
            enrolled,
        );
        self.record(
            &mut changes,
            SecurityEventKind::PasswordChanged,
            Some(member.id),
            Some(created.session.id),
        );
        self.mail(&mut changes, &updated, Message::PasswordChanged);
        self.commit(changes).await.map_err(ChangeError::Backend)?;
        Ok(created)
    }

    /// Starts a change of address: checks the password, mails a proof link to the new address
    /// and a notice to the old one. The address changes only when the link is followed (see
    /// [`Membership::verify_email`]).
    ///
    /// # Errors
    /// [`ChangeError::WrongPassword`], [`ChangeError::Throttled`], [`ChangeError::SameEmail`].
    pub async fn change_email(
        &self,
        current: &Authenticated,
        password: &str,
        new_email: Email,
    ) -> Result<(), ChangeError> {
        if new_email == current.member.email {
            return Err(ChangeError::SameEmail);
        }
        self.require_recent(current)?;
        self.reauthenticate(current, password).await?;
        let member = &current.member;
        let mut changes = Changes::new();
        let token = self.issue_token(
            &mut changes,
            member,
            TokenPurpose::ChangeEmail,
            Some(new_email.clone()),
        );
        self.record(
            &mut changes,
            SecurityEventKind::EmailChangeRequested,
            Some(member.id),
            Some(current.session.id),
        );
        let confirm = Mail {
            to: new_email,
            language: member.language,
            message: Message::ConfirmEmailChange { token },
        };
        self.send(&mut changes, Some(member.id), confirm);
        self.mail(&mut changes, member, Message::EmailChangeRequested);
        self.commit(changes).await.map_err(ChangeError::Backend)
    }

    async fn reauthenticate(
        &self,
        current: &Authenticated,
        password: &str,
    ) -> Result<(), ChangeError> {
        let rule = self.config.throttle.reauth_failures_per_member;
        let member = current.member.id.to_string();
        // Counted before the check, forgiven when right: concurrent guesses each count.
        self.throttle("reauth-failures", &member, rule)
            .await
            .map_err(ChangeError::from)?;
        let key = throttle_key("reauth-failures", &member);
        let verification = match PasswordAttempt::new(password) {
            Some(attempt) => {
                self.ports
                    .hasher
                    .verify(&attempt, Some(current.member.password_hash.clone()))
                    .await?
            }
            None => Verification::Mismatch,
        };
        if verification == Verification::Mismatch {
            return Err(ChangeError::WrongPassword);
        }
        self.ports.rate_limits.reset(&key).await?;
        Ok(())
    }

    /// Deletes the member's account after checking the password: personal data is erased at
    /// once; purchase and payment records that accounting law requires stay, pseudonymous; the
    /// disclosure ledger keeps its entries. A confirmation is mailed to the address the account
    /// had. The address may register again, as a new member.
    ///
    /// # Errors
    /// [`ChangeError::WrongPassword`], [`ChangeError::Throttled`].
    pub async fn delete_account(
        &self,
        current: &Authenticated,
        password: &str,
    ) -> Result<(), ChangeError> {
        self.require_recent(current)?;
        self.reauthenticate(current, password).await?;
        let member = &current.member;
        let mut changes = Changes::new();
        changes.push(Change::Erase(member.id));
        self.mail(&mut changes, member, Message::AccountDeleted);
        self.commit(changes).await.map_err(ChangeError::Backend)
    }

    /// The member's sessions, newest first.
    ///
    /// # Errors
    /// [`AuthError::Backend`] when storage fails.
    pub async fn sessions(&self, current: &Authenticated) -> Result<Vec<Session>, AuthError> {
        Ok(self.ports.sessions.for_member(current.member.id).await?)
    }

    /// Ends one of the member's own sessions.
    ///
    /// # Errors
    /// [`ChangeError::NotFound`] when the session does not exist or is another member's (the
    /// two are indistinguishable).
    pub async fn revoke_session(
        &self,
        current: &Authenticated,
        id: SessionId,
    ) -> Result<(), ChangeError> {
        let owned = self
            .ports
            .sessions
            .for_member(current.member.id)
            .await?
            .into_iter()
            .any(|s| s.id == id);
        if !owned || !self.ports.sessions.delete(id).await? {
            return Err(ChangeError::NotFound);
        }
        self.audit(
            SecurityEventKind::SessionRevoked,
            Some(current.member.id),
            Some(id),
        )
        .await?;
        Ok(())
    }

    /// The member's recent security events, newest first.
    ///
    /// # Errors
    /// [`AuthError::Backend`] when storage fails.
    pub async fn security_events(
        &self,
        current: &Authenticated,
        limit: u32,
    ) -> Result<Vec<SecurityEvent>, AuthError> {
        Ok(self
            .ports
            .audit
            .for_member(current.member.id, limit)
            .await?)
    }

    /// Mails a password-reset link when the address belongs to a member; answers the same
    /// when it does not. Requests past the per-address limit are answered alike but send no
    /// mail.
    ///
    /// # Errors
    /// [`ResetRequestError::Throttled`] when this client asked too often.
    pub async fn request_password_reset(
        &self,
        email: &Email,
        client: &Client,
    ) -> Result<(), ResetRequestError> {
        let rules = self.config.throttle;
        self.throttle("reset", &client.key, rules.reset_per_client)
            .await?;
        let member = self.ports.members.by_email(email).await?;
        let now = self.now();
        // Counted for unknown addresses too: the same work either way, so that timing does
        // not tell members from strangers.
        let mails = self
            .ports
            .rate_limits
            .hit(
                &throttle_key("reset-mails", email.as_str()),
                rules.reset_mails_per_account.window,
                now,
            )
            .await?;
        let mut changes = Changes::new();
        match member {
            Some(member) if !rules.reset_mails_per_account.exceeded_by(mails.count) => {
                let token =
                    self.issue_token(&mut changes, &member, TokenPurpose::ResetPassword, None);
                self.record(
                    &mut changes,
                    SecurityEventKind::PasswordResetRequested,
                    Some(member.id),
                    None,
                );
                self.mail(&mut changes, &member, Message::PasswordReset { token });
                self.commit(changes)
                    .await
                    .map_err(ResetRequestError::Backend)
            }
            // No mail: an unknown address, or one past its limit. The unit written and the
            // register read stand in for the token, the mail and the mail's entrustment check.
            found => {
                self.ports.processors.all().await?;
                self.record(
                    &mut changes,
                    SecurityEventKind::PasswordResetRequested,
                    found.map(|m| m.id),
                    None,
                );
                self.commit(changes)
                    .await
                    .map_err(ResetRequestError::Backend)
            }
        }
    }

    /// Sets a new password with a reset token. The token is used up only when the password is
    /// accepted. Every session ends; the address counts as verified (the member proved they
    /// read its mail) and its sign-in lock is lifted.
    ///
    /// # Errors
    /// [`TokenError::Invalid`] for an unknown, used, expired or other-purpose token;
    /// [`TokenError::Password`] when the new password breaks the policy.
    pub async fn reset_password(
        &self,
        token: &SessionToken,
        new_password: &str,
    ) -> Result<(), TokenError> {
        let now = self.now();
        let hash = token.hash();
        let Some(found) = self.ports.tokens.find(&hash).await? else {
            return Err(TokenError::Invalid);
        };
        if found.purpose != TokenPurpose::ResetPassword || !found.is_valid_at(now) {
            return Err(TokenError::Invalid);
        }
        let Some(mut member) = self.ports.members.by_id(found.member_id).await? else {
            return Err(TokenError::Invalid);
        };
        let password = Password::new(
            new_password,
            &[
                member.email.as_str(),
                member.email.local_part(),
                member.display_name.as_str(),
            ],
        )?;
        member.password_hash = self.ports.hasher.hash(&password).await?;
        let first_proof = member.email_verified_at.is_none();
        member.email_verified_at = member.email_verified_at.or(Some(now));
        let mut changes = Changes::new();
        changes
            .push(Change::TakeToken(hash))
            .push(Change::UpdateMember(member.clone()))
            .push(Change::DeleteSessions {
                member: member.id,
                keep: None,
            });
        // Whoever had the old password may have asked for a new address: that ends here. A
        // verified member keeps their second factors (a stolen mailbox must not remove them);
        // an unverified one's may have been enrolled by whoever registered the address first.
        if first_proof {
            self.secure_first_proof(&mut changes, &member).await?;
        } else {
            Self::cancel_pending_links(&mut changes, member.id);
        }
        self.record(
            &mut changes,
            SecurityEventKind::PasswordReset,
            Some(member.id),
            None,
        );
        self.mail(&mut changes, &member, Message::PasswordChanged);
        match self.commit(changes).await {
            Ok(()) => {}
            Err(BackendError::Store(StoreError::NotFound)) => return Err(TokenError::Invalid),
            Err(e) => return Err(TokenError::Backend(e)),
        }
        self.ports
            .rate_limits
            .reset(&throttle_key("sign-in-failures", member.email.as_str()))
            .await?;
        // Whoever guessed at the codes no longer has the password.
        self.forgive_codes(member.id).await?;
        Ok(())
    }

    /// Ends the links that would change the account later without the current password: a
    /// pending change of address, and password-reset links not yet used.
    fn cancel_pending_links(changes: &mut Changes, member: MemberId) {
        for purpose in [TokenPurpose::ChangeEmail, TokenPurpose::ResetPassword] {
            changes.push(Change::DeleteTokens { member, purpose });
        }
    }

    /// The first proof that the member reads the mail of their address (verification, or a
    /// reset that counts as one). Until then the account may have been someone else's, who
    /// registered the address first: every session and pending change made before it ends,
    /// any second factor enrolled before it is removed, and the member is told when there
    /// was any.
    async fn secure_first_proof(
        &self,
        changes: &mut Changes,
        member: &Member,
    ) -> Result<(), StoreError> {
        let sessions = self.ports.sessions.for_member(member.id).await?;
        let totp = self.ports.factors.totp(member.id).await?;
        let passkeys = self.ports.factors.passkeys(member.id).await?;
        let factors_removed = totp.is_some() || !passkeys.is_empty();
        changes.push(Change::DeleteSessions {
            member: member.id,
            keep: None,
        });
        Self::cancel_pending_links(changes, member.id);
        if factors_removed {
            changes
                .push(Change::DeleteTotp(member.id))
                .push(Change::DeletePasskeys(member.id))
                .push(Change::DeleteRecoveryCodes(member.id));
            self.record(
                changes,
                SecurityEventKind::SecondFactorReset,
                Some(member.id),
                None,
            );
        }
        if factors_removed || !sessions.is_empty() {
            self.mail(
                changes,
                member,
                Message::AccountSecured {
                    sessions_ended: sessions.len().try_into().unwrap_or(u32::MAX),
                    factors_removed,
                },
            );
        }
        Ok(())
    }

    /// Whether a sensitive change (e-mail, password, second factors, data export, account
    /// deletion) may be made in this session now.
    ///
    /// # Errors
    /// The [`StepUp`] the member must take first.
    pub fn require_recent(&self, current: &Authenticated) -> Result<(), StepUp> {
        current
            .session
            .allows_sensitive(self.now(), self.config.recent_authentication)
    }

    fn create_session(
        &self,
        changes: &mut Changes,
        member: &Member,
        browser: &str,
        assurance: Assurance,
        second_factor_enrolled: bool,
    ) -> NewSession {
        let now = self.now();
        let token = SessionToken::from_bytes(self.ports.random.bytes32());
        let session = Session {
            id: SessionId::from_uuid(self.new_uuid(now)),
            member_id: member.id,
            token_hash: token.hash(),
            created_at: now,
            last_seen_at: now,
            expires_at: self.config.sessions.expiry_from(now),
            browser: browser_label(browser),
            assurance,
            second_factor_enrolled,
        };
        changes.push(Change::InsertSession(session.clone()));
        NewSession { session, token }
    }

    /// A fresh token for a mail link; it replaces the member's earlier ones of that purpose.
    fn issue_token(
        &self,
        changes: &mut Changes,
        member: &Member,
        purpose: TokenPurpose,
        new_email: Option<Email>,
    ) -> SessionToken {
        let now = self.now();
        let token = SessionToken::from_bytes(self.ports.random.bytes32());
        changes
            .push(Change::DeleteTokens {
                member: member.id,
                purpose,
            })
            .push(Change::InsertToken(OneTimeToken {
                hash: token.hash(),
                member_id: member.id,
                purpose,
                new_email,
                created_at: now,
                expires_at: now + purpose.lifetime(),
            }));
        token
    }

    async fn throttle(
        &self,
        scope: &str,
        client_key: &str,
        rule: ThrottleRule,
    ) -> Result<(), ThrottleFailure> {
        let now = self.now();
        let hits = self
            .ports
            .rate_limits
            .hit(&throttle_key(scope, client_key), rule.window, now)
            .await?;
        if rule.exceeded_by(hits.count) {
            return Err(ThrottleFailure::Throttled(Throttled {
                retry_after: until(now, hits.window_ends_at),
            }));
        }
        Ok(())
    }

    async fn audit(
        &self,
        kind: SecurityEventKind,
        member_id: Option<MemberId>,
        session_id: Option<SessionId>,
    ) -> Result<(), StoreError> {
        let event = self.event(kind, member_id, session_id);
        self.ports.audit.record(&event).await
    }

    fn record(
        &self,
        changes: &mut Changes,
        kind: SecurityEventKind,
        member_id: Option<MemberId>,
        session_id: Option<SessionId>,
    ) {
        changes.push(Change::Record(self.event(kind, member_id, session_id)));
    }

    fn event(
        &self,
        kind: SecurityEventKind,
        member_id: Option<MemberId>,
        session_id: Option<SessionId>,
    ) -> SecurityEvent {
        let at = self.now();
        SecurityEvent {
            id: self.new_uuid(at),
            at,
            member_id,
            session_id,
            kind,
        }
    }

    fn mail(&self, changes: &mut Changes, member: &Member, message: Message) {
        let mail = Mail {
            to: member.email.clone(),
            language: member.language,
            message,
        };
        self.send(changes, Some(member.id), mail);
    }

    fn send(&self, changes: &mut Changes, member: Option<MemberId>, mail: Mail) {
        let now = self.now();
        changes.push(Change::Send(Envelope {
            id: self.new_uuid(now),
            member_id: member,
            mail,
            created_at: now,
        }));
    }

    /// Applies the changes as one unit. Mail goes through the mail processor, which receives
    /// the address and the message — so a unit with mail is refused, before anything is
    /// stored, unless the register entrusts both to it.
    async fn commit(&self, changes: Changes) -> Result<(), BackendError> {
        if changes.mails().next().is_some() {
            let register = self.ports.processors.all().await?;
            if let Some(category) =
                crate::privacy::not_entrusted(&register, MAIL_PROCESSOR, &mail_categories())
            {
                return Err(MailError::Permanent(Box::new(NotEntrusted(category.as_str()))).into());
            }
        }
        Ok(self.ports.unit.apply(changes).await?)
    }

    fn now(&self) -> Timestamp {
        self.ports.clock.now()
    }

    fn new_uuid(&self, now: Timestamp) -> Uuid {
        uuid_v7(now, &self.ports.random.bytes32())
    }
}

/// The private result of [`Membership::throttle`], converted into each use case's error.
enum ThrottleFailure {
    Throttled(Throttled),
    Store(StoreError),
}

impl From<StoreError> for ThrottleFailure {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

macro_rules! from_throttle_failure {
    ($($error:ident),+) => {$(
        impl From<ThrottleFailure> for $error {
            fn from(f: ThrottleFailure) -> Self {
                match f {
                    ThrottleFailure::Throttled(t) => t.into(),
                    ThrottleFailure::Store(e) => e.into(),
                }
            }
        }
    )+};
}
from_throttle_failure!(RegisterError, SignInError, ResetRequestError, ChangeError);

/// The register does not entrust a category to the mail provider.
#[derive(Debug, thiserror::Error)]
#[error("the mail provider is not entrusted with {0}")]
struct NotEntrusted(&'static str);

/// The browser label kept on a session: at most 64 characters.
fn browser_label(browser: &str) -> String {
    browser.chars().take(64).collect()
}

fn until(now: Timestamp, end: Timestamp) -> Duration {
    Duration::try_from(end - now)
        .unwrap_or(Duration::ZERO)
        .max(Duration::from_secs(1))
}

mod factors;
mod passkeys;
mod reseal;
#[cfg(test)]
mod tests;
