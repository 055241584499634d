//! Second factors: turning the authenticator app (TOTP) on and off, recovery codes, passing
//! the second factor after the password, re-authenticating for a sensitive change, and an
//! operator's reset for a member who lost every factor.
//!
//! Every change is one unit with its security event and, when a factor is added or removed,
//! the notice mail. Wrong codes are counted per member like wrong passwords.

use super::{
    Authenticated, BackendError, Change, ChangeError, Changes, Membership, SecurityEventKind,
    StoreError, Throttled, throttle_key,
};
use crate::MemberId;
use crate::kernel::ports::SealPurpose;
use crate::mail::message::Message;
use crate::membership::second_factor::{
    Access, Factor, RecoveryCode, RecoveryCodeHash, StepUp, TotpEnrolment, TotpError, TotpSecret,
    seal_context,
};
use crate::{Member, Timestamp};

/// The counter of wrong codes in the rate-limit window.
const WINDOW: &str = "second-factor-failures";
/// The counter of code checks since the last right code, capped in total.
const IN_A_ROW: &str = "second-factor-failures-in-a-row";

/// A second-factor change or check failed.
#[derive(Debug, thiserror::Error)]
pub enum FactorError {
    /// The session must authenticate again (or pass its second factor) first.
    #[error(transparent)]
    StepUp(#[from] StepUp),
    /// The code is not the code of this moment, or not one of the member's recovery codes.
    #[error("the code is not correct")]
    WrongCode,
    /// The authenticator code was accepted once already.
    #[error("the code was used already; wait for the next one")]
    CodeUsed,
    /// Neither six digits nor a recovery code.
    #[error("enter the six digits of your authenticator app, or a recovery code")]
    MalformedCode,
    /// The current password typed to re-authenticate is wrong.
    #[error("the current password is wrong")]
    WrongPassword,
    /// The authenticator app is on already.
    #[error("the authenticator app is already on")]
    AlreadyEnrolled,
    /// There is nothing to confirm, remove or pass: no (pending) authenticator app.
    #[error("no second factor is on")]
    NotEnrolled,
    /// No member with this ID (operator's reset).
    #[error("no such member")]
    NoSuchMember,
    /// The member has no passkey with this ID.
    #[error("no such passkey")]
    NoSuchPasskey,
    /// The member has the most passkeys allowed.
    #[error("too many passkeys; remove one first")]
    TooManyPasskeys,
    /// This passkey is registered already.
    #[error("this passkey is registered already")]
    PasskeyRegistered,
    /// The passkey ceremony is unknown, used, expired or for something else: start again.
    #[error("the passkey request expired or was used; start again")]
    CeremonyInvalid,
    /// The authenticator's answer was not accepted.
    #[error(transparent)]
    Passkey(#[from] crate::membership::passkey::PasskeyError),
    /// A passkey name must be 1–64 characters without control characters.
    #[error("a passkey name is 1 to 64 characters")]
    BadName,
    /// Too many wrong codes (or passwords) for this member.
    #[error(transparent)]
    Throttled(#[from] Throttled),
    /// So many wrong codes in a row that codes are refused until the password is reset.
    #[error("too many wrong codes: reset your password to use codes again")]
    LockedOut,
    /// Second factors are enrolled only once the member's address is verified.
    #[error("verify your e-mail address first")]
    Unverified,
    /// A backing service failed.
    #[error(transparent)]
    Backend(BackendError),
}

impl From<ChangeError> for FactorError {
    fn from(e: ChangeError) -> Self {
        match e {
            ChangeError::WrongPassword => Self::WrongPassword,
            ChangeError::Throttled(t) => Self::Throttled(t),
            ChangeError::StepUp(s) => Self::StepUp(s),
            ChangeError::Backend(b) => Self::Backend(b),
            ChangeError::Password(_) | ChangeError::SameEmail | ChangeError::NotFound => {
                Self::Backend(StoreError::Other(format!("unexpected: {e}").into()).into())
            }
        }
    }
}

/// A pending enrolment of the authenticator app: the secret to show (as a QR code and as
/// text) until a correct code confirms it.
#[derive(Debug, Clone)]
pub struct TotpSetup {
    /// The secret.
    pub secret: TotpSecret,
    /// The `otpauth://` URI for the QR code.
    pub uri: String,
}

/// A second factor passed: which, and — when the session was waiting for it — the new
/// session that replaces it (its token must replace the old one in the browser).
#[derive(Debug, Clone)]
pub struct PassedFactor {
    /// The factor.
    pub factor: Factor,
    /// The session now signed in, under a new token; `None` when the session was signed in
    /// already (it keeps its token and counts as freshly authenticated).
    pub session: Option<super::NewSession>,
}

/// What a member has turned on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SecondFactorStatus {
    /// When the authenticator app was turned on, if it is.
    pub totp_since: Option<Timestamp>,
    /// Whether an enrolment was begun and not confirmed.
    pub totp_pending: bool,
    /// How many unused recovery codes are left.
    pub recovery_codes_left: usize,
    /// How many passkeys the member has.
    pub passkeys: usize,
}

impl SecondFactorStatus {
    /// Whether a second factor is on (the authenticator app or a passkey).
    pub const fn enrolled(&self) -> bool {
        self.totp_since.is_some() || self.passkeys > 0
    }
}

impl Membership {
    /// Whether the member has a second factor a sign-in must pass: the authenticator app or
    /// a passkey.
    pub(super) async fn has_second_factor(&self, member: MemberId) -> Result<bool, StoreError> {
        let totp = self
            .ports
            .factors
            .totp(member)
            .await?
            .is_some_and(|t| t.is_confirmed());
        Ok(totp || !self.ports.factors.passkeys(member).await?.is_empty())
    }

    /// What the member has turned on.
    ///
    /// # Errors
    /// [`FactorError::Backend`] when storage fails.
    pub async fn second_factor_status(
        &self,
        current: &Authenticated,
    ) -> Result<SecondFactorStatus, FactorError> {
        let member = current.member.id;
        let totp = self.ports.factors.totp(member).await?;
        let codes = self.ports.factors.recovery_codes(member).await?;
        let passkeys = self.ports.factors.passkeys(member).await?;
        Ok(SecondFactorStatus {
            totp_since: totp.as_ref().and_then(|t| t.confirmed_at),
            totp_pending: totp.is_some_and(|t| !t.is_confirmed()),
            recovery_codes_left: codes.len(),
            passkeys: passkeys.len(),
        })
    }

    /// Begins turning on the authenticator app: a new secret, stored sealed and pending until
    /// [`Membership::confirm_totp`]. Beginning again replaces a pending secret.
    ///
    /// # Errors
    /// [`FactorError::StepUp`] without a recent authentication; [`FactorError::AlreadyEnrolled`].
    pub async fn begin_totp(&self, current: &Authenticated) -> Result<TotpSetup, FactorError> {
        self.may_enrol(current)?;
        let member = &current.member;
        if self
            .ports
            .factors
            .totp(member.id)
            .await?
            .is_some_and(|t| t.is_confirmed())
        {
            return Err(FactorError::AlreadyEnrolled);
        }
        let secret = TotpSecret::from_random(self.ports.random.bytes32());
        let sealed = self
            .ports
            .sealer
            .seal(
                SealPurpose::StoredSecret,
                secret.as_bytes(),
                &seal_context(member.id),
            )
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        let mut changes = Changes::new();
        changes.push(Change::PutTotp(TotpEnrolment {
            member_id: member.id,
            sealed_secret: sealed,
            created_at: self.now(),
            confirmed_at: None,
            last_used_step: None,
        }));
        self.commit(changes).await.map_err(FactorError::Backend)?;
        Ok(self.setup(member, secret))
    }

    /// The pending enrolment begun by [`Membership::begin_totp`], to show again: the secret,
    /// so only to a session that authenticated recently.
    ///
    /// # Errors
    /// [`FactorError::StepUp`] without a recent authentication; [`FactorError::NotEnrolled`]
    /// when none is pending.
    pub async fn pending_totp(&self, current: &Authenticated) -> Result<TotpSetup, FactorError> {
        self.require_recent(current)?;
        let member = &current.member;
        match self.ports.factors.totp(member.id).await? {
            Some(enrolment) if !enrolment.is_confirmed() => {
                let secret = self.open(&enrolment)?;
                Ok(self.setup(member, secret))
            }
            _ => Err(FactorError::NotEnrolled),
        }
    }

    /// What storage keeps of a new recovery code: its digest under the current key.
    fn recovery_hash(&self, code: &RecoveryCode) -> RecoveryCodeHash {
        let digests = self.ports.sealer.digests(code.as_bytes());
        digests
            .first()
            .copied()
            .map_or_else(|| code.legacy_hash(), RecoveryCodeHash::from_bytes)
    }

    /// Every form a stored recovery code may have: its digest under each key the sealer
    /// holds, and the unsalted hash codes made before keyed digests were stored as.
    fn recovery_hashes(&self, code: &RecoveryCode) -> Vec<RecoveryCodeHash> {
        let mut hashes: Vec<RecoveryCodeHash> = self
            .ports
            .sealer
            .digests(code.as_bytes())
            .into_iter()
            .map(RecoveryCodeHash::from_bytes)
            .collect();
        hashes.push(code.legacy_hash());
        hashes
    }

    fn setup(&self, member: &Member, secret: TotpSecret) -> TotpSetup {
        let uri = secret.otpauth_uri(&self.config.totp_issuer, member.email.as_str());
        TotpSetup { secret, uri }
    }

    fn open(&self, enrolment: &TotpEnrolment) -> Result<TotpSecret, FactorError> {
        let plain = self
            .ports
            .sealer
            .open(
                SealPurpose::StoredSecret,
                &enrolment.sealed_secret,
                &seal_context(enrolment.member_id),
            )
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        let bytes: [u8; 20] = plain
            .try_into()
            .map_err(|_| StoreError::Other("a sealed TOTP secret is not 20 bytes".into()))?;
        Ok(TotpSecret::from_bytes(bytes))
    }

    /// Completes turning on the authenticator app with a code from it. The session counts as
    /// having passed it. The first time, a set of recovery codes is made and returned — the
    /// only time they are shown.
    ///
    /// # Errors
    /// [`FactorError::StepUp`], [`FactorError::NotEnrolled`] (nothing pending),
    /// [`FactorError::AlreadyEnrolled`], [`FactorError::WrongCode`],
    /// [`FactorError::MalformedCode`], [`FactorError::Throttled`].
    pub async fn confirm_totp(
        &self,
        current: &Authenticated,
        code: &str,
    ) -> Result<Vec<RecoveryCode>, FactorError> {
        self.may_enrol(current)?;
        let member = &current.member;
        let enrolment = match self.ports.factors.totp(member.id).await? {
            Some(e) if e.is_confirmed() => return Err(FactorError::AlreadyEnrolled),
            Some(e) => e,
            None => return Err(FactorError::NotEnrolled),
        };
        self.check_code_throttle(current).await?;
        let now = self.now();
        let secret = self.open(&enrolment)?;
        let step = match secret.verify(code, now, None) {
            Ok(step) => step,
            Err(TotpError::Malformed) => return Err(FactorError::MalformedCode),
            Err(TotpError::Wrong | TotpError::Replayed) => {
                return Err(self.code_failure(current, FactorError::WrongCode).await);
            }
        };
        let mut changes = Changes::new();
        changes.push(Change::ConfirmTotp {
            member: member.id,
            at: now,
            step,
        });
        let codes = self
            .factor_added(
                &mut changes,
                current,
                Factor::Totp,
                SecurityEventKind::TotpEnrolled,
                now,
            )
            .await?;
        match self.commit(changes).await {
            Ok(()) => {}
            Err(BackendError::Store(StoreError::NotFound)) => return Err(FactorError::NotEnrolled),
            Err(e) => return Err(FactorError::Backend(e)),
        }
        self.forgive_codes(member.id).await?;
        Ok(codes)
    }

    /// Turns the authenticator app off (or cancels a pending enrolment). With no second
    /// factor left, the recovery codes go too.
    ///
    /// # Errors
    /// [`FactorError::StepUp`], [`FactorError::NotEnrolled`].
    pub async fn remove_totp(&self, current: &Authenticated) -> Result<(), FactorError> {
        self.require_recent(current)?;
        let member = &current.member;
        let Some(enrolment) = self.ports.factors.totp(member.id).await? else {
            return Err(FactorError::NotEnrolled);
        };
        let mut changes = Changes::new();
        changes.push(Change::DeleteTotp(member.id));
        if enrolment.is_confirmed() {
            if self.ports.factors.passkeys(member.id).await?.is_empty() {
                changes.push(Change::DeleteRecoveryCodes(member.id));
            }
            self.record(
                &mut changes,
                SecurityEventKind::TotpRemoved,
                Some(member.id),
                Some(current.session.id),
            );
            self.mail(
                &mut changes,
                member,
                Message::SecondFactorRemoved {
                    factor: Factor::Totp.as_str().to_owned(),
                },
            );
        }
        self.commit(changes).await.map_err(FactorError::Backend)
    }

    /// Replaces the member's recovery codes with a new set, returned once; the old set stops
    /// working.
    ///
    /// # Errors
    /// [`FactorError::StepUp`], [`FactorError::NotEnrolled`] without a second factor.
    pub async fn regenerate_recovery_codes(
        &self,
        current: &Authenticated,
    ) -> Result<Vec<RecoveryCode>, FactorError> {
        self.may_enrol(current)?;
        let member = &current.member;
        if !self.has_second_factor(member.id).await? {
            return Err(FactorError::NotEnrolled);
        }
        let codes = RecoveryCode::new_set(|| self.ports.random.bytes32());
        let mut changes = Changes::new();
        changes.push(Change::ReplaceRecoveryCodes {
            member: member.id,
            codes: codes.iter().map(|c| self.recovery_hash(c)).collect(),
            at: self.now(),
        });
        self.record(
            &mut changes,
            SecurityEventKind::RecoveryCodesGenerated,
            Some(member.id),
            Some(current.session.id),
        );
        self.mail(
            &mut changes,
            member,
            Message::SecondFactorAdded {
                factor: Factor::RecoveryCode.as_str().to_owned(),
                others_signed_out: false,
            },
        );
        self.commit(changes).await.map_err(FactorError::Backend)?;
        Ok(codes)
    }

    /// Passes the second factor with a code: six digits from the authenticator app, or a
    /// recovery code (used up). A session that was waiting for it is signed in; a signed-in
    /// session counts as freshly authenticated (for a sensitive change).
    ///
    /// # Errors
    /// [`FactorError::WrongCode`], [`FactorError::CodeUsed`] (an app code used before),
    /// [`FactorError::MalformedCode`], [`FactorError::Throttled`] after too many wrong codes,
    /// [`FactorError::LockedOut`] past the cap of wrong codes in a row.
    pub async fn pass_second_factor(
        &self,
        current: &Authenticated,
        code: &str,
    ) -> Result<PassedFactor, FactorError> {
        let member = current.member.id;
        self.check_code_throttle(current).await?;
        let now = self.now();
        let compact: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        let (factor, used, kind) = if compact.len() == 6 {
            let Some(enrolment) = self
                .ports
                .factors
                .totp(member)
                .await?
                .filter(TotpEnrolment::is_confirmed)
            else {
                return Err(self.code_failure(current, FactorError::WrongCode).await);
            };
            let secret = self.open(&enrolment)?;
            match secret.verify(&compact, now, enrolment.last_used_step) {
                Ok(step) => (
                    Factor::Totp,
                    Change::UseTotpStep { member, step },
                    SecurityEventKind::SecondFactorPassed,
                ),
                Err(TotpError::Malformed) => return Err(FactorError::MalformedCode),
                Err(TotpError::Replayed) => {
                    return Err(self.code_failure(current, FactorError::CodeUsed).await);
                }
                Err(TotpError::Wrong) => {
                    return Err(self.code_failure(current, FactorError::WrongCode).await);
                }
            }
        } else {
            let Ok(recovery) = RecoveryCode::parse(&compact) else {
                return Err(FactorError::MalformedCode);
            };
            let stored = self.ports.factors.recovery_codes(member).await?;
            let Some(hash) = self
                .recovery_hashes(&recovery)
                .into_iter()
                .find(|h| stored.contains(h))
            else {
                return Err(self.code_failure(current, FactorError::WrongCode).await);
            };
            (
                Factor::RecoveryCode,
                Change::UseRecoveryCode { member, code: hash },
                SecurityEventKind::RecoveryCodeUsed,
            )
        };
        let mut changes = Changes::new();
        changes.push(used);
        let assurance = current.session.assurance.with_second(factor, now);
        // A session that was waiting for the factor becomes signed in under a new token (the
        // one that travelled with the password alone ends); a signed-in one keeps its token.
        let (session, rotated) = if current.session.access() == Access::SecondFactorPending {
            // Still there (not signed out or ended meanwhile: then the unit fails NotFound),
            // then replaced.
            changes
                .push(Change::UpdateAssurance {
                    session: current.session.id,
                    assurance,
                    second_factor_enrolled: true,
                })
                .push(Change::DeleteSession(current.session.id));
            let created = self.create_session(
                &mut changes,
                &current.member,
                &current.session.browser,
                assurance,
                true,
            );
            (created.session.id, Some(created))
        } else {
            changes.push(Change::UpdateAssurance {
                session: current.session.id,
                assurance,
                second_factor_enrolled: current.session.second_factor_enrolled,
            });
            (current.session.id, None)
        };
        self.record(&mut changes, kind, Some(member), Some(session));
        if rotated.is_some() {
            self.record(
                &mut changes,
                SecurityEventKind::SignedIn,
                Some(member),
                Some(session),
            );
        }
        match self.commit(changes).await {
            Ok(()) => {}
            // Another request used the same code first.
            Err(BackendError::Store(StoreError::Conflict)) => return Err(FactorError::CodeUsed),
            Err(BackendError::Store(StoreError::NotFound)) => return Err(FactorError::WrongCode),
            Err(e) => return Err(FactorError::Backend(e)),
        }
        self.forgive_codes(member).await?;
        Ok(PassedFactor {
            factor,
            session: rotated,
        })
    }

    /// Re-authenticates a signed-in session with the account's password, for a sensitive
    /// change (the second factor, when the member has one, was passed at sign-in; passing it
    /// again with [`Membership::pass_second_factor`] re-authenticates as well).
    ///
    /// # Errors
    /// [`FactorError::WrongPassword`], [`FactorError::Throttled`], and
    /// [`FactorError::StepUp`] for a session still waiting for its second factor.
    pub async fn reauthenticate_session(
        &self,
        current: &Authenticated,
        password: &str,
    ) -> Result<(), FactorError> {
        if current.session.access() == Access::SecondFactorPending {
            return Err(StepUp::SecondFactorRequired.into());
        }
        self.reauthenticate(current, password).await?;
        let now = self.now();
        let mut changes = Changes::new();
        changes.push(Change::UpdateAssurance {
            session: current.session.id,
            assurance: current.session.assurance.reauthenticated(now),
            second_factor_enrolled: current.session.second_factor_enrolled,
        });
        self.record(
            &mut changes,
            SecurityEventKind::Reauthenticated,
            Some(current.member.id),
            Some(current.session.id),
        );
        self.commit(changes).await.map_err(FactorError::Backend)
    }

    /// An operator removes every second factor of a member who lost them all (after checking
    /// who is asking, outside the service): the app and recovery codes go, every session
    /// ends, and the member is told by mail. The member signs in with their password alone
    /// and may turn a second factor on again.
    ///
    /// # Errors
    /// [`FactorError::NoSuchMember`]; [`FactorError::NotEnrolled`] when the member has none.
    pub async fn reset_second_factor(&self, member: MemberId) -> Result<(), FactorError> {
        let Some(member) = self.ports.members.by_id(member).await? else {
            return Err(FactorError::NoSuchMember);
        };
        let totp = self.ports.factors.totp(member.id).await?;
        let codes = self.ports.factors.recovery_codes(member.id).await?;
        let passkeys = self.ports.factors.passkeys(member.id).await?;
        if totp.is_none() && codes.is_empty() && passkeys.is_empty() {
            return Err(FactorError::NotEnrolled);
        }
        let mut changes = Changes::new();
        changes
            .push(Change::DeleteTotp(member.id))
            .push(Change::DeleteRecoveryCodes(member.id))
            .push(Change::DeletePasskeys(member.id))
            .push(Change::DeleteSessions {
                member: member.id,
                keep: None,
            });
        self.record(
            &mut changes,
            SecurityEventKind::SecondFactorReset,
            Some(member.id),
            None,
        );
        self.mail(
            &mut changes,
            &member,
            Message::SecondFactorRemoved {
                factor: "all".to_owned(),
            },
        );
        self.commit(changes).await.map_err(FactorError::Backend)
    }

    /// The changes that go with a factor the session just proved it holds: the first set of
    /// recovery codes when the member has none (returned, to show once), the session's
    /// assurance, the security events and the notice mail.
    pub(super) async fn factor_added(
        &self,
        changes: &mut Changes,
        current: &Authenticated,
        factor: Factor,
        event: SecurityEventKind,
        now: Timestamp,
    ) -> Result<Vec<RecoveryCode>, StoreError> {
        let member = &current.member;
        // A session begun before the member had any second factor never passed one: every
        // such session but this one (which just proved the factor) ends.
        let first = !self.has_second_factor(member.id).await?;
        if first {
            changes.push(Change::DeleteSessions {
                member: member.id,
                keep: Some(current.session.id),
            });
        }
        let codes = if self
            .ports
            .factors
            .recovery_codes(member.id)
            .await?
            .is_empty()
        {
            let codes = RecoveryCode::new_set(|| self.ports.random.bytes32());
            changes.push(Change::ReplaceRecoveryCodes {
                member: member.id,
                codes: codes.iter().map(|c| self.recovery_hash(c)).collect(),
                at: now,
            });
            codes
        } else {
            Vec::new()
        };
        changes.push(Change::UpdateAssurance {
            session: current.session.id,
            assurance: current.session.assurance.with_second(factor, now),
            second_factor_enrolled: true,
        });
        let session = Some(current.session.id);
        self.record(changes, event, Some(member.id), session);
        if !codes.is_empty() {
            self.record(
                changes,
                SecurityEventKind::RecoveryCodesGenerated,
                Some(member.id),
                session,
            );
        }
        self.mail(
            changes,
            member,
            Message::SecondFactorAdded {
                factor: factor.as_str().to_owned(),
                others_signed_out: first,
            },
        );
        Ok(codes)
    }

    /// Whether the session may enrol a second factor: recently authenticated, and the
    /// member's address verified (before that, the account may be someone else's who
    /// registered the address first, and what they enrol must not outlive the owner's proof).
    pub(super) fn may_enrol(&self, current: &Authenticated) -> Result<(), FactorError> {
        self.require_recent(current)?;
        if !current.member.is_verified() {
            return Err(FactorError::Unverified);
        }
        Ok(())
    }

    /// Counts a code check before it is made (and forgives it when the code is right, see
    /// [`Membership::forgive_codes`]), so that codes sent together each count: past the
    /// window's limit checks wait for the window to end; past the cap of checks in a row the
    /// member's codes are locked until a password reset, the session that reached it ends,
    /// and the member is told that someone may know their password.
    async fn check_code_throttle(&self, current: &Authenticated) -> Result<(), FactorError> {
        let rules = self.config.throttle;
        let member = current.member.id.to_string();
        if let Err(failure) = self
            .throttle(WINDOW, &member, rules.second_factor_failures_per_member)
            .await
        {
            self.audit(
                SecurityEventKind::SecondFactorThrottled,
                Some(current.member.id),
                Some(current.session.id),
            )
            .await?;
            return Err(match failure {
                super::ThrottleFailure::Throttled(t) => t.into(),
                super::ThrottleFailure::Store(e) => e.into(),
            });
        }
        let cap = rules.second_factor_failures_in_a_row;
        let in_a_row = self
            .ports
            .rate_limits
            .hit(&throttle_key(IN_A_ROW, &member), cap.window, self.now())
            .await?;
        if cap.exceeded_by(in_a_row.count) {
            self.lock_out(current, in_a_row.count == cap.max.saturating_add(1))
                .await?;
            return Err(FactorError::LockedOut);
        }
        Ok(())
    }

    /// Ends the session that asked past the cap of wrong codes in a row; on the first time
    /// (`tell`), the member learns that someone may know their password.
    async fn lock_out(&self, current: &Authenticated, tell: bool) -> Result<(), FactorError> {
        let mut changes = Changes::new();
        changes.push(Change::DeleteSession(current.session.id));
        self.record(
            &mut changes,
            SecurityEventKind::SecondFactorThrottled,
            Some(current.member.id),
            Some(current.session.id),
        );
        if tell {
            self.mail(&mut changes, &current.member, Message::SecondFactorFailures);
        }
        self.commit(changes).await.map_err(FactorError::Backend)
    }

    /// Forgets the member's counted code checks: after a right code, and after a password
    /// reset (which ends the lock past the cap).
    pub(super) async fn forgive_codes(&self, member: MemberId) -> Result<(), StoreError> {
        let member = member.to_string();
        for scope in [WINDOW, IN_A_ROW] {
            self.ports
                .rate_limits
                .reset(&throttle_key(scope, &member))
                .await?;
        }
        Ok(())
    }

    /// Records a wrong code (it was counted before the check); returns `error` (or the
    /// backend's).
    async fn code_failure(&self, current: &Authenticated, error: FactorError) -> FactorError {
        if let Err(e) = self
            .audit(
                SecurityEventKind::SecondFactorFailed,
                Some(current.member.id),
                Some(current.session.id),
            )
            .await
        {
            return e.into();
        }
        error
    }
}
