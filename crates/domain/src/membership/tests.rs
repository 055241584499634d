//! Unit tests of the membership rules with mocked ports. Each test sets expectations only on
//! the ports the rule may touch: a call to any other port fails the test.

use super::*;
use crate::changes::MockUnitOfWork;
use crate::kernel::ports::{Hits, MockClock, MockRandom, MockRateLimits};
use crate::membership::ports::{
    MockAuditLog, MockMembers, MockPasswordHasher, MockSecondFactors, MockSessions, MockTokens,
};
use futures_executor::block_on;
use time::macros::datetime;

const NOW: Timestamp = datetime!(2026-04-01 09:00 UTC);

struct Mocks {
    members: MockMembers,
    sessions: MockSessions,
    tokens: MockTokens,
    audit: MockAuditLog,
    rate_limits: MockRateLimits,
    hasher: MockPasswordHasher,
    unit: MockUnitOfWork,
    factors: MockSecondFactors,
    register: Vec<crate::privacy::Processor>,
    /// How many times the register must be read, when a test counts it.
    register_reads: Option<usize>,
}

/// A verifier that accepts no passkey answer (these tests never reach one).
struct RefusingVerifier;

impl crate::membership::ports::PasskeyVerifier for RefusingVerifier {
    fn rp_id(&self) -> &str {
        "kikeru.example.jp"
    }

    fn verify_registration(
        &self,
        _: &[u8],
        _: &crate::membership::passkey::RegistrationResponse,
    ) -> Result<crate::membership::passkey::NewCredential, crate::membership::passkey::PasskeyError>
    {
        Err(crate::membership::passkey::PasskeyError::BadSignature)
    }

    fn verify_assertion(
        &self,
        _: &[u8],
        _: &[u8],
        _: &crate::membership::passkey::AssertionResponse,
    ) -> Result<
        crate::membership::passkey::VerifiedAssertion,
        crate::membership::passkey::PasskeyError,
    > {
        Err(crate::membership::passkey::PasskeyError::BadSignature)
    }
}

/// Seals by prefixing the purpose and the context: enough to check that the use cases bind
/// secrets to them.
struct TestSealer;

fn purpose_byte(purpose: crate::kernel::ports::SealPurpose) -> u8 {
    match purpose {
        crate::kernel::ports::SealPurpose::StoredSecret => b's',
        crate::kernel::ports::SealPurpose::VisitorToken => b'v',
    }
}

impl crate::kernel::ports::Sealer for TestSealer {
    fn seal(
        &self,
        purpose: crate::kernel::ports::SealPurpose,
        plain: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, crate::kernel::ports::SealError> {
        Ok([&[purpose_byte(purpose)][..], context, plain].concat())
    }

    fn open(
        &self,
        purpose: crate::kernel::ports::SealPurpose,
        sealed: &[u8],
        context: &[u8],
    ) -> Result<Vec<u8>, crate::kernel::ports::SealError> {
        sealed
            .strip_prefix(&[purpose_byte(purpose)][..])
            .and_then(|rest| rest.strip_prefix(context))
            .map(<[u8]>::to_vec)
            .ok_or(crate::kernel::ports::SealError)
    }

    fn is_stale(&self, _sealed: &[u8]) -> bool {
        false
    }

    fn digests(&self, data: &[u8]) -> Vec<[u8; 32]> {
        let mut digest = [1; 32];
        digest[..data.len().min(32)].copy_from_slice(&data[..data.len().min(32)]);
        vec![digest]
    }
}

impl Mocks {
    fn new() -> Self {
        Self {
            members: MockMembers::new(),
            sessions: MockSessions::new(),
            tokens: MockTokens::new(),
            audit: MockAuditLog::new(),
            rate_limits: MockRateLimits::new(),
            hasher: MockPasswordHasher::new(),
            unit: MockUnitOfWork::new(),
            factors: {
                let mut factors = MockSecondFactors::new();
                factors.expect_totp().returning(|_| Ok(None));
                factors
                    .expect_recovery_codes()
                    .returning(|_| Ok(Vec::new()));
                factors.expect_passkeys().returning(|_| Ok(Vec::new()));
                factors
            },
            register: vec![crate::privacy::Processor {
                key: MAIL_PROCESSOR.to_owned(),
                name: "mail".to_owned(),
                purpose: "mail".to_owned(),
                categories: mail_categories(),
            }],
            register_reads: None,
        }
    }

    fn allow_audit_and_limits(mut self) -> Self {
        self.audit.expect_record().returning(|_| Ok(()));
        self.rate_limits.expect_hit().returning(|_, window, now| {
            Ok(Hits {
                count: 1,
                window_ends_at: now + window,
            })
        });
        self.rate_limits.expect_peek().returning(|_, now| {
            Ok(Hits {
                count: 0,
                window_ends_at: now,
            })
        });
        self.rate_limits.expect_reset().returning(|_| Ok(()));
        self
    }

    fn build(self) -> Membership {
        let mut clock = MockClock::new();
        clock.expect_now().return_const(NOW);
        let mut processors = crate::privacy::ports::MockProcessors::new();
        let register = self.register;
        let reads = processors.expect_all();
        if let Some(times) = self.register_reads {
            reads.times(times);
        }
        reads.returning(move || Ok(register.clone()));
        let mut random = MockRandom::new();
        random.expect_bytes32().return_const([9u8; 32]);
        Membership::new(
            MembershipPorts {
                members: Arc::new(self.members),
                unit: Arc::new(self.unit),
                sessions: Arc::new(self.sessions),
                tokens: Arc::new(self.tokens),
                audit: Arc::new(self.audit),
                rate_limits: Arc::new(self.rate_limits),
                hasher: Arc::new(self.hasher),
                factors: Arc::new(self.factors),
                sealer: Arc::new(TestSealer),
                passkeys: Arc::new(RefusingVerifier),
                processors: Arc::new(processors),
                clock: Arc::new(clock),
                random: Arc::new(random),
            },
            MembershipConfig::default(),
        )
    }
}

fn member(verified: bool) -> Member {
    Member {
        id: MemberId::from_uuid(Uuid::from_u128(1)),
        email: Email::parse("hanako@example.jp").unwrap(),
        email_verified_at: verified.then_some(NOW),
        password_hash: crate::PasswordHashString::parse(
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
        )
        .unwrap(),
        display_name: DisplayName::default(),
        language: Language::En,
        created_at: NOW,
    }
}

fn stored(token: &SessionToken, purpose: TokenPurpose) -> OneTimeToken {
    OneTimeToken {
        hash: token.hash(),
        member_id: member(true).id,
        purpose,
        new_email: None,
        created_at: NOW,
        expires_at: NOW + purpose.lifetime(),
    }
}

fn client() -> Client {
    Client {
        key: "192.0.2.1".into(),
        browser: "Firefox 128 / Linux".into(),
    }
}

fn registration(email: &str, password: &str) -> Registration {
    Registration {
        email: Email::parse(email).unwrap(),
        password: password.into(),
        language: Language::Ja,
    }
}

#[test]
fn a_weak_password_is_refused_before_any_port_is_used() {
    let membership = Mocks::new().build();
    let result =
        block_on(membership.register(registration("new@example.jp", "password1234"), &client()));
    assert!(matches!(
        result,
        Err(RegisterError::Password(
            PasswordRejection::Common | PasswordRejection::TooWeak { .. }
        ))
    ));
}

#[test]
fn registering_an_existing_address_mails_its_owner_and_creates_nobody() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(member(true).password_hash));
    mocks
        .members
        .expect_by_email()
        .returning(|_| Ok(Some(member(true))));
    mocks
        .unit
        .expect_apply()
        .withf(|changes| {
            let mails: Vec<_> = changes.mails().collect();
            let creates = changes
                .as_slice()
                .iter()
                .any(|c| matches!(c, Change::InsertMember(_)));
            !creates
                && mails.len() == 1
                && mails[0].mail.message == Message::AlreadyRegistered { verify: None }
                && mails[0].mail.language == Language::En
        })
        .times(1)
        .returning(|_| Ok(()));
    let result = block_on(mocks.build().register(
        registration("hanako@example.jp", "correct horse battery staple"),
        &client(),
    ));
    assert!(result.is_ok());
}

#[test]
fn registering_an_unverified_existing_address_resends_a_verification_link() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(member(false).password_hash));
    mocks
        .members
        .expect_by_email()
        .returning(|_| Ok(Some(member(false))));
    mocks
        .unit
        .expect_apply()
        .withf(|changes| {
            let token = changes.as_slice().iter().any(
                |c| matches!(c, Change::InsertToken(t) if t.purpose == TokenPurpose::VerifyEmail),
            );
            let mail = changes.mails().any(|e| {
                matches!(
                    e.mail.message,
                    Message::AlreadyRegistered { verify: Some(_) }
                )
            });
            token && mail
        })
        .times(1)
        .returning(|_| Ok(()));
    assert!(
        block_on(mocks.build().register(
            registration("hanako@example.jp", "correct horse battery staple"),
            &client()
        ))
        .is_ok()
    );
}

#[test]
fn registration_past_the_client_limit_is_throttled_before_hashing() {
    let mut mocks = Mocks::new();
    mocks.rate_limits.expect_hit().returning(|_, window, now| {
        Ok(Hits {
            count: 11,
            window_ends_at: now + window,
        })
    });
    let result = block_on(mocks.build().register(
        registration("new@example.jp", "correct horse battery staple"),
        &client(),
    ));
    assert!(
        matches!(result, Err(RegisterError::Throttled(Throttled { retry_after })) if retry_after == Duration::from_secs(3600))
    );
}

#[test]
fn signing_in_with_an_unknown_address_still_verifies_against_a_dummy_and_counts_a_failure() {
    let mut mocks = Mocks::new();
    mocks
        .rate_limits
        .expect_hit()
        .times(2)
        .returning(|_, window, now| {
            Ok(Hits {
                count: 1,
                window_ends_at: now + window,
            })
        });
    mocks.rate_limits.expect_peek().returning(|_, now| {
        Ok(Hits {
            count: 0,
            window_ends_at: now,
        })
    });
    mocks
        .audit
        .expect_record()
        .withf(|e| e.kind == SecurityEventKind::SignInFailed && e.member_id.is_none())
        .times(1)
        .returning(|_| Ok(()));
    mocks.members.expect_by_email().returning(|_| Ok(None));
    mocks
        .hasher
        .expect_verify()
        .withf(|_, hash| hash.is_none())
        .times(1)
        .returning(|_, _| Ok(Verification::Mismatch));
    let result = block_on(mocks.build().sign_in(
        "nobody@example.jp",
        "whatever password",
        &client(),
        None,
    ));
    assert!(matches!(result, Err(SignInError::InvalidCredentials)));
}

#[test]
fn a_locked_address_is_refused_without_checking_the_password() {
    let mut mocks = Mocks::new();
    // The attempt is counted first: the address's counter answers with the sixth.
    let failures = throttle_key("sign-in-failures", "hanako@example.jp");
    mocks
        .rate_limits
        .expect_hit()
        .returning(move |key, window, now| {
            Ok(if key == failures {
                Hits {
                    count: 6,
                    window_ends_at: now + Duration::from_secs(600),
                }
            } else {
                Hits {
                    count: 1,
                    window_ends_at: now + window,
                }
            })
        });
    mocks.rate_limits.expect_peek().never();
    mocks
        .members
        .expect_by_email()
        .returning(|_| Ok(Some(member(true))));
    mocks.hasher.expect_verify().never();
    mocks
        .audit
        .expect_record()
        .withf(|e| e.kind == SecurityEventKind::SignInThrottled)
        .returning(|_| Ok(()));
    let result = block_on(mocks.build().sign_in(
        "hanako@example.jp",
        "correct horse battery staple",
        &client(),
        None,
    ));
    assert!(
        matches!(result, Err(SignInError::Throttled(Throttled { retry_after })) if retry_after == Duration::from_secs(600))
    );
}

#[test]
fn a_successful_sign_in_rehashes_outdated_hashes_and_deletes_the_previous_session() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    mocks
        .members
        .expect_by_email()
        .returning(|_| Ok(Some(member(true))));
    mocks
        .hasher
        .expect_verify()
        .returning(|_, _| Ok(Verification::Match { needs_rehash: true }));
    mocks
        .hasher
        .expect_hash()
        .times(1)
        .returning(|_| Ok(member(true).password_hash));
    mocks.members.expect_update().times(1).returning(|_| Ok(()));
    let previous = SessionToken::from_bytes([1; 32]);
    let old = Session {
        id: SessionId::from_uuid(Uuid::from_u128(77)),
        member_id: member(true).id,
        token_hash: previous.hash(),
        created_at: NOW,
        last_seen_at: NOW,
        expires_at: NOW + Duration::from_secs(60),
        browser: String::new(),
        assurance: Assurance::signed_in(Factor::Password, NOW),
        second_factor_enrolled: false,
    };
    mocks
        .sessions
        .expect_by_token_hash()
        .returning(move |_| Ok(Some(old.clone())));
    mocks.sessions.expect_for_member().returning(|_| Ok(vec![]));
    mocks.audit.expect_for_member().returning(|_, _| Ok(vec![]));
    mocks
        .unit
        .expect_apply()
        .withf(|changes| {
            let old = SessionId::from_uuid(Uuid::from_u128(77));
            let c = changes.as_slice();
            c.contains(&Change::DeleteSession(old))
                && c.iter().any(|c| matches!(c, Change::InsertSession(_)))
                && changes.mails().next().is_none()
        })
        .times(1)
        .returning(|_| Ok(()));
    let created = block_on(mocks.build().sign_in(
        "Hanako@Example.jp",
        "correct horse battery staple",
        &client(),
        Some(&previous),
    ))
    .unwrap();
    assert_ne!(created.token, previous);
    assert_eq!(created.session.token_hash, created.token.hash());
    assert_eq!(
        created.session.expires_at,
        NOW + Duration::from_secs(30 * 86_400)
    );
}

#[test]
fn an_expired_session_is_deleted_and_not_accepted() {
    let mut mocks = Mocks::new();
    let token = SessionToken::from_bytes([3; 32]);
    let stale = Session {
        id: SessionId::from_uuid(Uuid::from_u128(5)),
        member_id: member(true).id,
        token_hash: token.hash(),
        created_at: NOW - Duration::from_secs(8 * 86_400),
        last_seen_at: NOW - Duration::from_secs(7 * 86_400),
        expires_at: NOW + Duration::from_secs(86_400),
        browser: String::new(),
        assurance: Assurance::signed_in(Factor::Password, NOW),
        second_factor_enrolled: false,
    };
    mocks
        .sessions
        .expect_by_token_hash()
        .returning(move |_| Ok(Some(stale.clone())));
    mocks
        .sessions
        .expect_delete()
        .times(1)
        .returning(|_| Ok(true));
    assert!(matches!(
        block_on(mocks.build().authenticate(&token)),
        Err(AuthError::Unauthenticated)
    ));
}

#[test]
fn a_reset_token_with_a_weak_new_password_is_not_used_up() {
    let mut mocks = Mocks::new();
    let token = SessionToken::from_bytes([4; 32]);
    let stored = stored(&token, TokenPurpose::ResetPassword);
    mocks
        .tokens
        .expect_find()
        .returning(move |_| Ok(Some(stored.clone())));
    mocks.unit.expect_apply().never();
    mocks
        .members
        .expect_by_id()
        .returning(|_| Ok(Some(member(true))));
    let result = block_on(mocks.build().reset_password(&token, "short"));
    assert!(matches!(
        result,
        Err(TokenError::Password(PasswordRejection::TooShort { .. }))
    ));
}

#[test]
fn a_verification_link_cannot_be_used_as_a_reset_link_and_vice_versa() {
    let mut mocks = Mocks::new();
    let token = SessionToken::from_bytes([5; 32]);
    let reset = stored(&token, TokenPurpose::ResetPassword);
    let verify = stored(&token, TokenPurpose::VerifyEmail);
    mocks
        .tokens
        .expect_find()
        .times(1)
        .returning(move |_| Ok(Some(reset.clone())));
    mocks.unit.expect_apply().never();
    assert!(matches!(
        block_on(mocks.build().verify_email(&token)),
        Err(TokenError::Invalid)
    ));

    let mut mocks = Mocks::new();
    mocks
        .tokens
        .expect_find()
        .times(1)
        .returning(move |_| Ok(Some(verify.clone())));
    mocks.unit.expect_apply().never();
    assert!(matches!(
        block_on(
            mocks
                .build()
                .reset_password(&token, "correct horse battery staple")
        ),
        Err(TokenError::Invalid)
    ));
}

#[test]
fn throttle_keys_never_contain_the_address() {
    let key = throttle_key("sign-in-failures", "hanako@example.jp");
    assert!(!key.contains("hanako"));
    assert_eq!(key, throttle_key("sign-in-failures", "hanako@example.jp"));
    assert_ne!(key, throttle_key("reset-mails", "hanako@example.jp"));
}

fn signed_in_before() -> SecurityEvent {
    SecurityEvent {
        id: Uuid::from_u128(8),
        at: NOW,
        member_id: Some(member(true).id),
        session_id: None,
        kind: SecurityEventKind::SignedIn,
    }
}

fn signing_in(mocks: &mut Mocks) {
    mocks
        .members
        .expect_by_email()
        .returning(|_| Ok(Some(member(true))));
    mocks.hasher.expect_verify().returning(|_, _| {
        Ok(Verification::Match {
            needs_rehash: false,
        })
    });
    mocks
        .audit
        .expect_for_member()
        .returning(|_, _| Ok(vec![signed_in_before()]));
}

#[test]
fn a_sign_in_from_a_browser_without_a_session_is_announced_in_the_same_unit() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    signing_in(&mut mocks);
    mocks.sessions.expect_for_member().returning(|_| Ok(vec![]));
    mocks
        .unit
        .expect_apply()
        .withf(|changes| {
            let notice = changes.mails().any(|e| {
                matches!(&e.mail.message, Message::NewSignIn { browser, .. } if browser == "Firefox 128 / Linux")
            });
            let session = changes
                .as_slice()
                .iter()
                .any(|c| matches!(c, Change::InsertSession(_)));
            notice && session
        })
        .times(1)
        .returning(|_| Ok(()));
    block_on(mocks.build().sign_in(
        "hanako@example.jp",
        "correct horse battery staple",
        &client(),
        None,
    ))
    .unwrap();
}

#[test]
fn a_sign_in_from_a_browser_with_a_session_is_not_announced() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    signing_in(&mut mocks);
    mocks.sessions.expect_for_member().returning(|_| {
        Ok(vec![Session {
            id: SessionId::from_uuid(Uuid::from_u128(9)),
            member_id: member(true).id,
            token_hash: SessionToken::from_bytes([2; 32]).hash(),
            created_at: NOW,
            last_seen_at: NOW,
            expires_at: NOW + Duration::from_secs(60),
            browser: "Firefox 128 / Linux".into(),
            assurance: Assurance::signed_in(Factor::Password, NOW),
            second_factor_enrolled: false,
        }])
    });
    mocks
        .unit
        .expect_apply()
        .withf(|changes| changes.mails().next().is_none())
        .times(1)
        .returning(|_| Ok(()));
    block_on(mocks.build().sign_in(
        "hanako@example.jp",
        "correct horse battery staple",
        &client(),
        None,
    ))
    .unwrap();
}

#[test]
fn nothing_is_stored_when_the_register_does_not_entrust_the_mail_it_would_send() {
    let mut mocks = Mocks::new().allow_audit_and_limits();
    mocks.register.clear();
    mocks
        .hasher
        .expect_hash()
        .returning(|_| Ok(member(true).password_hash));
    mocks.members.expect_by_email().returning(|_| Ok(None));
    mocks.unit.expect_apply().never();
    let result = block_on(mocks.build().register(
        registration("new@example.jp", "correct horse battery staple"),
        &client(),
    ));
    assert!(
        matches!(result, Err(RegisterError::Backend(BackendError::Mail(ref e))) if e.is_permanent()),
        "{result:?}"
    );
}

/// A reset for an unknown address (or one past its mail limit) does what a real one does — one
/// counted hit per limit, one read of the register, one unit written — so that timing does not
/// tell members from strangers.
#[test]
fn a_reset_request_does_the_same_work_for_members_and_strangers() {
    for known in [true, false] {
        let mut mocks = Mocks::new();
        mocks.register_reads = Some(1);
        mocks
            .rate_limits
            .expect_hit()
            .times(2)
            .returning(|_, window, now| {
                Ok(Hits {
                    count: 1,
                    window_ends_at: now + window,
                })
            });
        mocks
            .members
            .expect_by_email()
            .times(1)
            .returning(move |_| Ok(known.then(|| member(true))));
        mocks.unit.expect_apply().times(1).returning(|_| Ok(()));
        let email = Email::parse("hanako@example.jp").unwrap();
        block_on(mocks.build().request_password_reset(&email, &client())).unwrap();
    }
}
