//! Passkeys: adding, naming and removing them on My Page, and signing in with a discoverable
//! passkey without typing an address. A passkey with user verification is two factors in
//! one, so a passkey sign-in is complete, and passkey sign-in in a signed-in browser counts as
//! re-authentication.
//!
//! A ceremony's state travels with the browser, sealed; each challenge is accepted once (an
//! atomic counter of the shared rate-limit store records its use) and for five minutes.

use super::{
    Authenticated, BackendError, Change, Changes, Client, FactorError, Membership, NewSession,
    SecurityEventKind, SignInError, StoreError, browser_label, throttle_key,
};
use crate::SessionToken;
use crate::kernel::ports::SealPurpose;
use crate::mail::message::Message;
use crate::membership::passkey::{
    AssertionResponse, CEREMONY_LIFETIME, Ceremony, CeremonyPurpose, MAX_PASSKEYS, Passkey,
    PasskeyId, RegistrationResponse, counter_is_plausible, passkey_name, user_handle,
};
use crate::membership::second_factor::{Assurance, Factor, RecoveryCode};

/// What the browser needs to start a ceremony (the rest — relying-party name, algorithms,
/// timeouts — is the edge's to add).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyOptions {
    /// The sealed ceremony, to send back with the answer.
    pub ceremony: String,
    /// The challenge the authenticator signs.
    pub challenge: [u8; 32],
    /// The relying-party ID.
    pub rp_id: String,
    /// For a registration: the user handle, the member's address (the passkey's label in the
    /// authenticator) and the credentials the member has already (not to register twice).
    pub user: Option<([u8; 16], String, Vec<Vec<u8>>)>,
}

/// Why a ceremony is not accepted (all alike to the caller).
struct CeremonyRefused;

impl Membership {
    fn start_ceremony(&self, purpose: CeremonyPurpose) -> Result<(String, [u8; 32]), StoreError> {
        let challenge = self.ports.random.bytes32();
        let ceremony = Ceremony {
            purpose,
            challenge,
            expires_at: self.now() + CEREMONY_LIFETIME,
        };
        let sealed = self
            .ports
            .sealer
            .seal(
                SealPurpose::VisitorToken,
                &ceremony.to_bytes(),
                Ceremony::SEAL_CONTEXT,
            )
            .map_err(|e| StoreError::Other(Box::new(e)))?;
        Ok((data_encoding::BASE64URL_NOPAD.encode(&sealed), challenge))
    }

    /// Opens a ceremony sent back by the browser: sealed by us, for `purpose`, not expired,
    /// and not used before (its challenge is spent by this call).
    async fn finish_ceremony(
        &self,
        text: &str,
        purpose: CeremonyPurpose,
    ) -> Result<Result<Ceremony, CeremonyRefused>, StoreError> {
        let Ok(sealed) = data_encoding::BASE64URL_NOPAD.decode(text.trim().as_bytes()) else {
            return Ok(Err(CeremonyRefused));
        };
        let Ok(plain) =
            self.ports
                .sealer
                .open(SealPurpose::VisitorToken, &sealed, Ceremony::SEAL_CONTEXT)
        else {
            return Ok(Err(CeremonyRefused));
        };
        let Ok(ceremony) = Ceremony::from_bytes(&plain) else {
            return Ok(Err(CeremonyRefused));
        };
        let now = self.now();
        if ceremony.purpose != purpose || now >= ceremony.expires_at {
            return Ok(Err(CeremonyRefused));
        }
        let spent = self
            .ports
            .rate_limits
            .hit(
                &throttle_key(
                    "passkey-challenge",
                    &data_encoding::HEXLOWER.encode(&ceremony.challenge),
                ),
                CEREMONY_LIFETIME,
                now,
            )
            .await?;
        if spent.count > 1 {
            return Ok(Err(CeremonyRefused));
        }
        Ok(Ok(ceremony))
    }

    /// The member's passkeys, oldest first.
    ///
    /// # Errors
    /// [`FactorError::Backend`] when storage fails.
    pub async fn passkeys(&self, current: &Authenticated) -> Result<Vec<Passkey>, FactorError> {
        Ok(self.ports.factors.passkeys(current.member.id).await?)
    }

    /// Starts adding a passkey: the options for `navigator.credentials.create()`.
    ///
    /// # Errors
    /// [`FactorError::StepUp`] without a recent authentication; [`FactorError::Unverified`];
    /// [`FactorError::TooManyPasskeys`].
    pub async fn begin_passkey_registration(
        &self,
        current: &Authenticated,
    ) -> Result<PasskeyOptions, FactorError> {
        self.may_enrol(current)?;
        let member = &current.member;
        let existing = self.ports.factors.passkeys(member.id).await?;
        if existing.len() >= MAX_PASSKEYS {
            return Err(FactorError::TooManyPasskeys);
        }
        let (ceremony, challenge) = self.start_ceremony(CeremonyPurpose::Register(member.id))?;
        Ok(PasskeyOptions {
            ceremony,
            challenge,
            rp_id: self.ports.passkeys.rp_id().to_owned(),
            user: Some((
                user_handle(member.id),
                member.email.as_str().to_owned(),
                existing.into_iter().map(|p| p.credential_id).collect(),
            )),
        })
    }

    /// Completes adding a passkey named `name` with the browser's answer. The session counts
    /// as having passed it. When it is the member's first second factor, ten recovery codes
    /// are made and returned — the only time they are shown.
    ///
    /// # Errors
    /// [`FactorError::StepUp`], [`FactorError::BadName`], [`FactorError::CeremonyInvalid`],
    /// [`FactorError::Passkey`] (the answer does not verify),
    /// [`FactorError::PasskeyRegistered`], [`FactorError::TooManyPasskeys`].
    pub async fn finish_passkey_registration(
        &self,
        current: &Authenticated,
        ceremony: &str,
        response: &RegistrationResponse,
        name: &str,
    ) -> Result<(Passkey, Vec<RecoveryCode>), FactorError> {
        self.may_enrol(current)?;
        let name = passkey_name(name).ok_or(FactorError::BadName)?;
        let member = &current.member;
        let Ok(ceremony) = self
            .finish_ceremony(ceremony, CeremonyPurpose::Register(member.id))
            .await?
        else {
            return Err(FactorError::CeremonyInvalid);
        };
        let credential = self
            .ports
            .passkeys
            .verify_registration(&ceremony.challenge, response)?;
        if self
            .ports
            .factors
            .passkey_by_credential(&credential.credential_id)
            .await?
            .is_some()
        {
            return Err(FactorError::PasskeyRegistered);
        }
        if self.ports.factors.passkeys(member.id).await?.len() >= MAX_PASSKEYS {
            return Err(FactorError::TooManyPasskeys);
        }
        let now = self.now();
        let passkey = Passkey {
            id: PasskeyId::from_uuid(self.new_uuid(now)),
            member_id: member.id,
            credential_id: credential.credential_id,
            public_key: credential.public_key,
            sign_count: credential.sign_count,
            name,
            created_at: now,
            last_used_at: None,
            backup_eligible: Some(credential.backup_eligible),
            backed_up: credential.backed_up,
        };
        let mut changes = Changes::new();
        changes.push(Change::InsertPasskey(passkey.clone()));
        let codes = self
            .factor_added(
                &mut changes,
                current,
                Factor::Passkey,
                SecurityEventKind::PasskeyAdded,
                now,
            )
            .await?;
        match self.commit(changes).await {
            Ok(()) => Ok((passkey, codes)),
            Err(BackendError::Store(StoreError::Conflict)) => Err(FactorError::PasskeyRegistered),
            Err(e) => Err(FactorError::Backend(e)),
        }
    }

    /// Renames one of the member's passkeys.
    ///
    /// # Errors
    /// [`FactorError::BadName`], [`FactorError::NoSuchPasskey`].
    pub async fn rename_passkey(
        &self,
        current: &Authenticated,
        id: PasskeyId,
        name: &str,
    ) -> Result<(), FactorError> {
        let name = passkey_name(name).ok_or(FactorError::BadName)?;
        let mut changes = Changes::new();
        changes.push(Change::RenamePasskey {
            member: current.member.id,
            id,
            name,
        });
        match self.commit(changes).await {
            Ok(()) => Ok(()),
            Err(BackendError::Store(StoreError::NotFound)) => Err(FactorError::NoSuchPasskey),
            Err(e) => Err(FactorError::Backend(e)),
        }
    }

    /// Removes one of the member's passkeys; with no second factor left, the recovery codes
    /// go too.
    ///
    /// # Errors
    /// [`FactorError::StepUp`], [`FactorError::NoSuchPasskey`] (also for another member's).
    pub async fn remove_passkey(
        &self,
        current: &Authenticated,
        id: PasskeyId,
    ) -> Result<(), FactorError> {
        self.require_recent(current)?;
        let member = &current.member;
        let passkeys = self.ports.factors.passkeys(member.id).await?;
        if !passkeys.iter().any(|p| p.id == id) {
            return Err(FactorError::NoSuchPasskey);
        }
        let totp = self
            .ports
            .factors
            .totp(member.id)
            .await?
            .is_some_and(|t| t.is_confirmed());
        let mut changes = Changes::new();
        changes.push(Change::DeletePasskey {
            member: member.id,
            id,
        });
        if !totp && passkeys.len() == 1 {
            changes.push(Change::DeleteRecoveryCodes(member.id));
        }
        self.record(
            &mut changes,
            SecurityEventKind::PasskeyRemoved,
            Some(member.id),
            Some(current.session.id),
        );
        self.mail(
            &mut changes,
            member,
            Message::SecondFactorRemoved {
                factor: Factor::Passkey.as_str().to_owned(),
            },
        );
        match self.commit(changes).await {
            Ok(()) => Ok(()),
            Err(BackendError::Store(StoreError::NotFound)) => Err(FactorError::NoSuchPasskey),
            Err(e) => Err(FactorError::Backend(e)),
        }
    }

    /// Starts a passkey sign-in: the options for `navigator.credentials.get()` with no
    /// credential named (the authenticator offers the member's discoverable passkeys).
    ///
    /// # Errors
    /// [`SignInError::Throttled`] past the per-client sign-in limit.
    pub async fn begin_passkey_sign_in(
        &self,
        client: &Client,
    ) -> Result<PasskeyOptions, SignInError> {
        self.throttle(
            "sign-in",
            &client.key,
            self.config.throttle.sign_in_per_client,
        )
        .await?;
        let (ceremony, challenge) = self.start_ceremony(CeremonyPurpose::SignIn)?;
        Ok(PasskeyOptions {
            ceremony,
            challenge,
            rp_id: self.ports.passkeys.rp_id().to_owned(),
            user: None,
        })
    }

    /// Signs in with a passkey's assertion and creates a new session (any session the
    /// browser had — one waiting for its second factor, or a signed-in one re-authenticating —
    /// ends: the session rotates). The session is signed in at once: a passkey with user
    /// verification is two factors.
    ///
    /// # Errors
    /// [`SignInError::InvalidCredentials`] for an unknown, used or expired ceremony, an
    /// unknown passkey, or an answer that does not verify (all alike);
    /// [`SignInError::Throttled`].
    pub async fn finish_passkey_sign_in(
        &self,
        ceremony: &str,
        response: &AssertionResponse,
        client: &Client,
        previous: Option<&SessionToken>,
    ) -> Result<NewSession, SignInError> {
        self.throttle(
            "sign-in",
            &client.key,
            self.config.throttle.sign_in_per_client,
        )
        .await?;
        let Ok(ceremony) = self
            .finish_ceremony(ceremony, CeremonyPurpose::SignIn)
            .await?
        else {
            return Err(SignInError::InvalidCredentials);
        };
        let Some(passkey) = self
            .ports
            .factors
            .passkey_by_credential(&response.credential_id)
            .await?
        else {
            self.audit(SecurityEventKind::SignInFailed, None, None)
                .await?;
            return Err(SignInError::InvalidCredentials);
        };
        let member_id = passkey.member_id;
        // Every passkey here is discoverable, and a discoverable credential returns its user
        // handle (WebAuthn §7.2 step 6): it must be there, and be this member's.
        let handle_matches = response
            .user_handle
            .as_ref()
            .is_some_and(|h| h.as_slice() == user_handle(member_id));
        let verified = self
            .ports
            .passkeys
            .verify_assertion(&ceremony.challenge, &passkey.public_key, response)
            .ok()
            .filter(|v| v.fits(&passkey));
        let member = self.ports.members.by_id(member_id).await?;
        let (Some(member), true, Some(verified)) = (member, handle_matches, verified) else {
            self.audit(SecurityEventKind::SignInFailed, Some(member_id), None)
                .await?;
            return Err(SignInError::InvalidCredentials);
        };
        let count = verified.sign_count;
        if !counter_is_plausible(passkey.sign_count, count) {
            // The counter went back: the credential may have been copied. Refused, and on
            // the member's record.
            self.audit(SecurityEventKind::SignInFailed, Some(member_id), None)
                .await?;
            return Err(SignInError::InvalidCredentials);
        }
        let now = self.now();
        let mut changes = Changes::new();
        changes.push(Change::UsePasskey {
            id: passkey.id,
            sign_count: count,
            at: now,
            backup_eligible: verified.backup_eligible,
            backed_up: verified.backed_up,
        });
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
        let created = self.create_session(
            &mut changes,
            &member,
            &client.browser,
            Assurance::signed_in(Factor::Passkey, now),
            true,
        );
        let session = Some(created.session.id);
        self.record(
            &mut changes,
            SecurityEventKind::SignedIn,
            Some(member.id),
            session,
        );
        self.record(
            &mut changes,
            SecurityEventKind::PasskeyUsed,
            Some(member.id),
            session,
        );
        match self.commit(changes).await {
            Ok(()) => Ok(created),
            // The same assertion twice at once: one wins.
            Err(BackendError::Store(StoreError::Conflict | StoreError::NotFound)) => {
                Err(SignInError::InvalidCredentials)
            }
            Err(e) => Err(SignInError::Backend(e)),
        }
    }
}
