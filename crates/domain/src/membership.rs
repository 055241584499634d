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
use crate::kernel::ports::{Clock, Random, RateLimits, Sealer};
use crate::kernel::throttle::throttle_key;
use crate::mail::message::{Mail, Message};
use crate::mail::outbox::Envelope;
use crate::mail::outbox::{MAIL_PROCESSOR, mail_categories};
use crate::mail::ports::MailError;
use crate::membership::ports::{
    AuditLog, HasherError, Members, PasswordHasher, SecondFactors, Sessions, Tokens, Verification,
};
use crate::membership::second_factor::{Access, Assurance, Factor, RECENT_AUTHENTICATION, StepUp};
use crate::membership::session::SessionState;
use crate::{
    DisplayName, Email, Language, Member, MemberId, OneTimeToken, Password, PasswordAttempt,
    PasswordRejection, SecurityEvent, SecurityEventKind, Session, SessionId, SessionPolicy,
    SessionToken, StoreError, ThrottlePolicy, ThrottleRule, Timestamp, TokenPurpose,
};

/// The adapters the use cases run on.
#[derive(Clone)]
pub struct MembershipPorts {
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
    pub passkeys: Arc<dyn crate::membership::ports::PasskeyVerifier>,
    /// The register of entrusted processors (mail goes through the processor `mail`).
    pub processors: Arc<dyn crate::privacy::ports::Processors>,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub random: Arc<dyn Random>,
}

impl std::fmt::Debug for MembershipPorts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MembershipPorts { .. }")
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
    /// The retention periods, which the deletion notice states.
    pub retention: crate::privacy::retention::RetentionPolicy,
}

impl Default for MembershipConfig {
    fn default() -> Self {
        Self {
            sessions: SessionPolicy::default(),
            throttle: ThrottlePolicy::default(),
            recent_authentication: RECENT_AUTHENTICATION,
            totp_issuer: "Minna Kikeru".to_owned(),
            retention: crate::privacy::retention::RetentionPolicy::default(),
        }
    }
}

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
    ports: MembershipPorts,
    config: MembershipConfig,
}

impl Membership {
    /// Builds the use cases on their adapters.
    pub fn new(ports: MembershipPorts, config: MembershipConfig) -> Self {
        Self { ports, config }
    }

    /// The configured rules.
    pub fn config(&self) -> &MembershipConfig {
        &self.config
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

pub mod audit;
pub mod email;
pub mod member;
pub mod passkey;
pub mod password;
pub mod ports;
pub mod second_factor;
pub mod session;
pub mod token;

mod account;
mod errors;
mod factors;
mod passkeys;
mod reseal;
mod sessions;

pub use errors::*;
#[cfg(test)]
mod tests;
