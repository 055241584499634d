//! Signing in and out, the sessions a member holds, recent authentication and the security log.

use super::*;

impl Membership {
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
    pub(super) async fn is_new_browser(
        &self,
        member: &Member,
        browser: &str,
    ) -> Result<bool, StoreError> {
        let label = browser_label(browser);
        let sessions = self.ports.sessions.for_member(member.id).await?;
        if sessions.iter().any(|s| s.browser == label) {
            return Ok(false);
        }
        let events = self.ports.audit.for_member(member.id, 100).await?;
        Ok(events.iter().any(|e| e.kind == SecurityEventKind::SignedIn))
    }

    pub(super) async fn find_member(&self, email: &str) -> Result<Option<Member>, StoreError> {
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

    pub(super) fn create_session(
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
    pub(super) fn issue_token(
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
}
