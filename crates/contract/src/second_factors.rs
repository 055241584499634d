//! The [`SecondFactors`] contract, with the unit-of-work changes that write second factors and
//! session assurance.

use futures_util::future::join_all;
use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::membership::passkey::{Passkey, PasskeyId};
use kikeru_domain::membership::second_factor::{Assurance, Factor, RecoveryCode, TotpEnrolment};
use kikeru_domain::ports::{Members, SecondFactors, Sessions};
use kikeru_domain::{MemberId, SessionId, StoreError};

use crate::fixtures::{NOW, given_members, session, uuid};

fn member(n: u128) -> MemberId {
    MemberId::from_uuid(uuid(n))
}

fn enrolment(n: u128, sealed: &[u8]) -> TotpEnrolment {
    TotpEnrolment {
        member_id: member(n),
        sealed_secret: sealed.to_vec(),
        created_at: NOW,
        confirmed_at: None,
        last_used_step: None,
    }
}

fn passkey(n: u128, owner: u128, credential: &[u8], count: u32) -> Passkey {
    Passkey {
        id: PasskeyId::from_uuid(uuid(3000 + n)),
        member_id: member(owner),
        credential_id: credential.to_vec(),
        public_key: vec![0xa5, 1, 2, 3, 0x26, 0xff],
        sign_count: count,
        name: format!("鍵 {n}"),
        created_at: NOW + time::Duration::seconds(i64::try_from(n).unwrap_or(0)),
        last_used_at: None,
        // Odd passkeys are synced ones; even ones were stored before the flags were kept.
        backup_eligible: (n % 2 == 1).then_some(true),
        backed_up: n % 2 == 1,
    }
}

async fn apply(store: &dyn UnitOfWork, change: Change) -> Result<(), StoreError> {
    let mut changes = Changes::new();
    changes.push(change);
    store.apply(changes).await
}

/// An enrolment reads back pending, then confirmed with its step; putting another replaces
/// it; MUST NOT be returned for another member; removing it leaves nothing.
pub async fn a_totp_enrolment_reads_back_is_confirmed_and_replaced<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2]).await;
    let pending = enrolment(1, &[1, 2, 3, 0, 255]);
    apply(store, Change::PutTotp(pending.clone()))
        .await
        .expect("put");
    assert_eq!(store.totp(member(1)).await.expect("read"), Some(pending));
    assert_eq!(store.totp(member(2)).await.expect("read"), None);
    let at = NOW + time::Duration::seconds(40);
    apply(
        store,
        Change::ConfirmTotp {
            member: member(1),
            at,
            step: 59_000_000,
        },
    )
    .await
    .expect("confirm");
    let confirmed = store.totp(member(1)).await.expect("read").expect("present");
    assert_eq!(confirmed.confirmed_at, Some(at));
    assert_eq!(confirmed.last_used_step, Some(59_000_000));
    assert!(confirmed.is_confirmed());
    let missing = apply(
        store,
        Change::ConfirmTotp {
            member: member(2),
            at,
            step: 1,
        },
    )
    .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound)),
        "got {missing:?}"
    );
    let replacement = enrolment(1, &[9; 44]);
    apply(store, Change::PutTotp(replacement.clone()))
        .await
        .expect("replace");
    assert_eq!(
        store.totp(member(1)).await.expect("read"),
        Some(replacement)
    );
    apply(store, Change::DeleteTotp(member(1)))
        .await
        .expect("delete");
    assert_eq!(store.totp(member(1)).await.expect("read"), None);
    apply(store, Change::DeleteTotp(member(1)))
        .await
        .expect("deleting nothing is fine");
}

/// A code's step is used up once: concurrent uses of one step MUST let exactly one through
/// (the others are `Conflict`), an older step is `Conflict`, and without a confirmed app it
/// is `NotFound`.
pub async fn a_totp_step_is_used_once_even_at_once<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2]).await;
    let pending = enrolment(1, &[7; 44]);
    apply(store, Change::PutTotp(pending)).await.expect("put");
    let unconfirmed = apply(
        store,
        Change::UseTotpStep {
            member: member(1),
            step: 100,
        },
    )
    .await;
    assert!(
        matches!(unconfirmed, Err(StoreError::NotFound)),
        "got {unconfirmed:?}"
    );
    apply(
        store,
        Change::ConfirmTotp {
            member: member(1),
            at: NOW,
            step: 100,
        },
    )
    .await
    .expect("confirm");
    let attempts = join_all((0..8).map(|_| {
        apply(
            store,
            Change::UseTotpStep {
                member: member(1),
                step: 101,
            },
        )
    }))
    .await;
    let won = attempts.iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{attempts:?}");
    assert!(
        attempts
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict))),
        "{attempts:?}"
    );
    let older = apply(
        store,
        Change::UseTotpStep {
            member: member(1),
            step: 100,
        },
    )
    .await;
    assert!(matches!(older, Err(StoreError::Conflict)), "got {older:?}");
    apply(
        store,
        Change::UseTotpStep {
            member: member(1),
            step: 102,
        },
    )
    .await
    .expect("a later step");
    let stored = store.totp(member(1)).await.expect("read").expect("present");
    assert_eq!(stored.last_used_step, Some(102));
    let nobody = apply(
        store,
        Change::UseTotpStep {
            member: member(2),
            step: 1,
        },
    )
    .await;
    assert!(
        matches!(nobody, Err(StoreError::NotFound)),
        "got {nobody:?}"
    );
}

/// A new set replaces the old one whole; each code is used once (concurrent uses of one code:
/// exactly one succeeds, the others are `NotFound`); MUST NOT list used codes or another
/// member's.
pub async fn recovery_codes_are_replaced_as_a_set_and_each_used_once<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2]).await;
    let first: Vec<_> = (0..10u8)
        .map(|n| RecoveryCode::from_bytes([n; 10]).legacy_hash())
        .collect();
    let second: Vec<_> = (10..20u8)
        .map(|n| RecoveryCode::from_bytes([n; 10]).legacy_hash())
        .collect();
    assert!(
        store
            .recovery_codes(member(1))
            .await
            .expect("read")
            .is_empty()
    );
    apply(
        store,
        Change::ReplaceRecoveryCodes {
            member: member(1),
            codes: first.clone(),
            at: NOW,
        },
    )
    .await
    .expect("first set");
    let mut listed = store.recovery_codes(member(1)).await.expect("read");
    listed.sort_by_key(|h| *h.as_bytes());
    let mut expected = first.clone();
    expected.sort_by_key(|h| *h.as_bytes());
    assert_eq!(listed, expected);
    assert!(
        store
            .recovery_codes(member(2))
            .await
            .expect("read")
            .is_empty()
    );
    apply(
        store,
        Change::ReplaceRecoveryCodes {
            member: member(1),
            codes: second.clone(),
            at: NOW,
        },
    )
    .await
    .expect("second set");
    let listed = store.recovery_codes(member(1)).await.expect("read");
    assert_eq!(listed.len(), 10);
    assert!(listed.iter().all(|h| second.contains(h)), "old set gone");
    let old = apply(
        store,
        Change::UseRecoveryCode {
            member: member(1),
            code: first[0],
        },
    )
    .await;
    assert!(matches!(old, Err(StoreError::NotFound)), "got {old:?}");
    let others = apply(
        store,
        Change::UseRecoveryCode {
            member: member(2),
            code: second[0],
        },
    )
    .await;
    assert!(
        matches!(others, Err(StoreError::NotFound)),
        "got {others:?}"
    );
    let attempts = join_all((0..6).map(|_| {
        apply(
            store,
            Change::UseRecoveryCode {
                member: member(1),
                code: second[3],
            },
        )
    }))
    .await;
    assert_eq!(attempts.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(
        attempts
            .iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::NotFound))),
        "{attempts:?}"
    );
    let left = store.recovery_codes(member(1)).await.expect("read");
    assert_eq!(left.len(), 9);
    assert!(!left.contains(&second[3]));
    apply(store, Change::DeleteRecoveryCodes(member(1)))
        .await
        .expect("delete");
    assert!(
        store
            .recovery_codes(member(1))
            .await
            .expect("read")
            .is_empty()
    );
}

/// `UpdateAssurance` replaces how a session was authenticated; a session that is gone is
/// `NotFound` and nothing of its unit is applied.
pub async fn a_sessions_assurance_is_updated_in_a_unit<S>(store: &S)
where
    S: Members + Sessions + SecondFactors + UnitOfWork,
{
    given_members(store, &[1]).await;
    let (stored, token) = session(1, member(1), 60);
    Sessions::insert(store, &stored).await.expect("insert");
    let assurance = Assurance {
        first: Factor::Password,
        second: Some(Factor::RecoveryCode),
        authenticated_at: NOW,
    };
    apply(
        store,
        Change::UpdateAssurance {
            session: stored.id,
            assurance,
            second_factor_enrolled: true,
        },
    )
    .await
    .expect("update");
    let found = store
        .by_token_hash(&token.hash())
        .await
        .expect("find")
        .expect("present");
    assert_eq!(found.assurance, assurance);
    assert!(found.second_factor_enrolled);
    assert_eq!(found.created_at, stored.created_at);

    let mut changes = Changes::new();
    changes
        .push(Change::PutTotp(enrolment(1, &[1; 44])))
        .push(Change::UpdateAssurance {
            session: SessionId::from_uuid(uuid(999)),
            assurance,
            second_factor_enrolled: false,
        });
    let gone = store.apply(changes).await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "got {gone:?}");
    assert_eq!(
        store.totp(member(1)).await.expect("read"),
        None,
        "nothing of the failed unit is kept"
    );
}

/// Erasing a member removes their authenticator app and recovery codes, and no one else's.
pub async fn erasure_removes_every_second_factor<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2]).await;
    for n in [1, 2] {
        apply(store, Change::PutTotp(enrolment(n, &[3; 44])))
            .await
            .expect("put");
        apply(
            store,
            Change::ReplaceRecoveryCodes {
                member: member(n),
                codes: vec![
                    RecoveryCode::from_bytes([u8::try_from(n).unwrap_or(0); 10]).legacy_hash(),
                ],
                at: NOW,
            },
        )
        .await
        .expect("codes");
    }
    for n in [1, 2] {
        apply(
            store,
            Change::InsertPasskey(passkey(n, n, &[u8::try_from(n).unwrap_or(0); 16], 0)),
        )
        .await
        .expect("passkey");
    }
    apply(store, Change::Erase(member(1))).await.expect("erase");
    assert!(store.passkeys(member(1)).await.expect("read").is_empty());
    assert!(
        store
            .passkey_by_credential(&[1; 16])
            .await
            .expect("read")
            .is_none()
    );
    assert_eq!(store.passkeys(member(2)).await.expect("read").len(), 1);
    assert_eq!(store.totp(member(1)).await.expect("read"), None);
    assert!(
        store
            .recovery_codes(member(1))
            .await
            .expect("read")
            .is_empty()
    );
    assert!(store.totp(member(2)).await.expect("read").is_some());
    assert_eq!(
        store.recovery_codes(member(2)).await.expect("read").len(),
        1
    );
}

/// Passkeys read back per member (oldest first) and by credential ID; a credential ID is
/// unique across the service (`Conflict`); renaming and removing MUST NOT touch another
/// member's passkey (`NotFound`).
pub async fn passkeys_read_back_per_member_and_credentials_are_unique<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2]).await;
    let first = passkey(1, 1, b"credential-one", 0);
    let second = passkey(2, 1, b"credential-two", 7);
    let theirs = passkey(3, 2, b"credential-three", 0);
    for p in [&second, &first, &theirs] {
        apply(store, Change::InsertPasskey(p.clone()))
            .await
            .expect("insert");
    }
    assert_eq!(
        store.passkeys(member(1)).await.expect("read"),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store
            .passkey_by_credential(b"credential-three")
            .await
            .expect("read"),
        Some(theirs.clone())
    );
    assert_eq!(
        store.passkey_by_credential(b"nobody").await.expect("read"),
        None
    );
    let clash = apply(
        store,
        Change::InsertPasskey(passkey(4, 2, b"credential-one", 0)),
    )
    .await;
    assert!(matches!(clash, Err(StoreError::Conflict)), "got {clash:?}");
    apply(
        store,
        Change::RenamePasskey {
            member: member(1),
            id: first.id,
            name: "iPhone".to_owned(),
        },
    )
    .await
    .expect("rename");
    let renamed = store
        .passkey_by_credential(b"credential-one")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(renamed.name, "iPhone");
    for change in [
        Change::RenamePasskey {
            member: member(1),
            id: theirs.id,
            name: "mine now".to_owned(),
        },
        Change::DeletePasskey {
            member: member(1),
            id: theirs.id,
        },
    ] {
        let refused = apply(store, change).await;
        assert!(
            matches!(refused, Err(StoreError::NotFound)),
            "got {refused:?}"
        );
    }
    assert_eq!(store.passkeys(member(2)).await.expect("read"), vec![theirs]);
    apply(
        store,
        Change::DeletePasskey {
            member: member(1),
            id: first.id,
        },
    )
    .await
    .expect("delete");
    assert_eq!(store.passkeys(member(1)).await.expect("read"), vec![second]);
    apply(store, Change::DeletePasskeys(member(1)))
        .await
        .expect("delete all");
    assert!(store.passkeys(member(1)).await.expect("read").is_empty());
    assert_eq!(store.passkeys(member(2)).await.expect("read").len(), 1);
}

/// A use records the reported counter only when it grew (or both are 0): concurrent uses
/// with one counter let exactly one through (`Conflict` for the others), a lower counter is
/// `Conflict`, a passkey that is gone is `NotFound`.
pub async fn a_passkey_counter_only_grows_even_at_once<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1]).await;
    let counting = passkey(1, 1, b"counting", 5);
    let counterless = passkey(2, 1, b"counterless", 0);
    for p in [&counting, &counterless] {
        apply(store, Change::InsertPasskey(p.clone()))
            .await
            .expect("insert");
    }
    let at = NOW + time::Duration::seconds(90);
    let uses = join_all((0..6).map(|_| {
        apply(
            store,
            Change::UsePasskey {
                id: counting.id,
                sign_count: 6,
                at,
                backup_eligible: true,
                backed_up: false,
            },
        )
    }))
    .await;
    assert_eq!(uses.iter().filter(|r| r.is_ok()).count(), 1, "{uses:?}");
    assert!(
        uses.iter()
            .all(|r| r.is_ok() || matches!(r, Err(StoreError::Conflict))),
        "{uses:?}"
    );
    let stored = store
        .passkey_by_credential(b"counting")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(stored.sign_count, 6);
    assert_eq!(stored.last_used_at, Some(at));
    // The flags the authenticator last reported: BS may change.
    assert_eq!(
        (stored.backup_eligible, stored.backed_up),
        (Some(true), false)
    );
    for lower in [6, 2, 0] {
        let refused = apply(
            store,
            Change::UsePasskey {
                id: counting.id,
                sign_count: lower,
                at,
                backup_eligible: true,
                backed_up: false,
            },
        )
        .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict)),
            "{lower}: {refused:?}"
        );
    }
    for _ in 0..2 {
        apply(
            store,
            Change::UsePasskey {
                id: counterless.id,
                sign_count: 0,
                at,
                backup_eligible: true,
                backed_up: false,
            },
        )
        .await
        .expect("an authenticator without a counter");
    }
    let gone = apply(
        store,
        Change::UsePasskey {
            id: PasskeyId::from_uuid(uuid(9999)),
            sign_count: 1,
            at,
            backup_eligible: true,
            backed_up: false,
        },
    )
    .await;
    assert!(matches!(gone, Err(StoreError::NotFound)), "got {gone:?}");
}

/// Authenticator apps are listed in the order of their members' IDs, a page at a time, and a
/// sealed secret is replaced only while it is still the one read: an enrolment made meanwhile
/// is never overwritten.
pub async fn enrolments_are_paged_and_a_secret_is_resealed_only_if_unchanged<S>(store: &S)
where
    S: Members + SecondFactors + UnitOfWork,
{
    given_members(store, &[1, 2, 3]).await;
    for n in [3u128, 1, 2] {
        apply(store, Change::PutTotp(enrolment(n, b"old")))
            .await
            .expect("put");
    }
    let first = store.totp_enrolments(None, 2).await.expect("page");
    let ids: Vec<MemberId> = first.iter().map(|e| e.member_id).collect();
    assert_eq!(ids, vec![member(1), member(2)]);
    let rest = store
        .totp_enrolments(Some(member(2)), 2)
        .await
        .expect("page");
    assert_eq!(
        rest.iter().map(|e| e.member_id).collect::<Vec<_>>(),
        vec![member(3)]
    );
    assert!(
        store
            .totp_enrolments(Some(member(3)), 2)
            .await
            .expect("page")
            .is_empty()
    );

    apply(
        store,
        Change::ResealTotp {
            member: member(1),
            from: b"old".to_vec(),
            to: b"new".to_vec(),
        },
    )
    .await
    .expect("reseal");
    let resealed = store.totp(member(1)).await.expect("read").expect("present");
    assert_eq!(resealed.sealed_secret, b"new");
    assert_eq!(
        resealed.created_at, first[0].created_at,
        "nothing else changes"
    );
    let stale = apply(
        store,
        Change::ResealTotp {
            member: member(1),
            from: b"old".to_vec(),
            to: b"newer".to_vec(),
        },
    )
    .await;
    assert!(matches!(stale, Err(StoreError::NotFound)), "{stale:?}");
    assert_eq!(
        store
            .totp(member(1))
            .await
            .expect("read")
            .expect("present")
            .sealed_secret,
        b"new"
    );
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `second_factors`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! second_factors_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, second_factors: [
            a_totp_enrolment_reads_back_is_confirmed_and_replaced,
            a_totp_step_is_used_once_even_at_once,
            recovery_codes_are_replaced_as_a_set_and_each_used_once,
            a_sessions_assurance_is_updated_in_a_unit,
            erasure_removes_every_second_factor,
            passkeys_read_back_per_member_and_credentials_are_unique,
            a_passkey_counter_only_grows_even_at_once,
            enrolments_are_paged_and_a_secret_is_resealed_only_if_unchanged,
        ]);
    };
}
