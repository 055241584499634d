//! The account's life: registration and the proof of the address, profile, password and
//! address changes, deletion, password reset.

use super::*;

impl Membership {
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

    pub(super) async fn mail_existing_owner(&self, existing: &Member) -> Result<(), RegisterError> {
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

    pub(super) async fn reauthenticate(
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
        // The confirmation goes to the address the account had, naming no member: the outbox
        // keeps nothing that ties the erased ID to its mail (see `Change::Erase`).
        let mail = Mail {
            to: member.email.clone(),
            language: member.language,
            message: Message::AccountDeleted {
                kept: crate::privacy::kept::kept_after_deletion(&self.config.retention),
            },
        };
        self.send(&mut changes, None, mail);
        self.commit(changes).await.map_err(ChangeError::Backend)
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
    pub(super) fn cancel_pending_links(changes: &mut Changes, member: MemberId) {
        for purpose in [TokenPurpose::ChangeEmail, TokenPurpose::ResetPassword] {
            changes.push(Change::DeleteTokens { member, purpose });
        }
    }

    /// The first proof that the member reads the mail of their address (verification, or a
    /// reset that counts as one). Until then the account may have been someone else's, who
    /// registered the address first: every session and pending change made before it ends,
    /// any second factor enrolled before it is removed, and the member is told when there
    /// was any.
    pub(super) async fn secure_first_proof(
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
}
