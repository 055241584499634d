//! The [`Operators`] contract.

use kikeru_domain::office::operators::{
    Operator, OperatorEvent, OperatorId, OperatorSession, Role,
};
use kikeru_domain::office::ports::Operators;
use kikeru_domain::ports::{Members, Sessions};
use kikeru_domain::{Email, PasswordHashString, SessionToken, StoreError};

use crate::fixtures::{NOW, PHC, given_members, session, uuid};

#[allow(clippy::unwrap_used)]
fn operator(n: u128, email: &str, role: Role) -> Operator {
    Operator {
        id: OperatorId::from_uuid(uuid(60_000 + n)),
        email: Email::parse(email).unwrap(),
        password_hash: PasswordHashString::parse(PHC).unwrap(),
        role,
        created_at: NOW,
    }
}

fn operator_session(n: u8, operator: OperatorId) -> (OperatorSession, SessionToken) {
    let token = SessionToken::from_bytes([n; 32]);
    let session = OperatorSession {
        id: uuid(70_000 + u128::from(n)),
        operator_id: operator,
        token_hash: token.hash(),
        created_at: NOW,
        expires_at: NOW + time::Duration::hours(12),
    };
    (session, token)
}

/// Operators read back equal by address and ID; MUST refuse an address another operator has.
pub async fn operators_read_back_and_addresses_are_unique(port: &dyn Operators) {
    let admin = operator(1, "office@example.jp", Role::Admin);
    port.insert(&admin).await.expect("insert");
    assert_eq!(
        port.by_email(&admin.email).await.expect("by_email"),
        Some(admin.clone())
    );
    assert_eq!(port.by_id(admin.id).await.expect("by_id"), Some(admin));
    let clash = port
        .insert(&operator(2, "office@example.jp", Role::Operator))
        .await;
    assert!(matches!(clash, Err(StoreError::Conflict)), "{clash:?}");
}

/// Operator sessions are found by their token hash and end when deleted; MUST NOT find a
/// member's session.
pub async fn operator_sessions_are_their_own_scope<S: Members + Sessions + Operators>(store: &S) {
    given_members(store, &[1]).await;
    let port: &dyn Operators = store;
    let admin = operator(1, "office@example.jp", Role::Admin);
    port.insert(&admin).await.expect("insert");
    let (stored, token) = operator_session(7, admin.id);
    port.insert_session(&stored).await.expect("insert session");
    assert_eq!(
        port.session(&token.hash()).await.expect("session"),
        Some(stored.clone())
    );
    let (member_session, member_token) = session(9, kikeru_domain::MemberId::from_uuid(uuid(1)), 0);
    Sessions::insert(store, &member_session)
        .await
        .expect("member session");
    assert_eq!(
        port.session(&member_token.hash()).await.expect("session"),
        None
    );
    port.delete_session(stored.id).await.expect("delete");
    assert_eq!(port.session(&token.hash()).await.expect("session"), None);
}

/// The audit log reads back newest first, at most `limit`.
pub async fn the_operators_audit_log_reads_back_newest_first(port: &dyn Operators) {
    let admin = operator(1, "office@example.jp", Role::Admin);
    port.insert(&admin).await.expect("insert");
    for n in 0..5 {
        let event = OperatorEvent {
            id: uuid(80_000 + n),
            at: NOW + time::Duration::seconds(n as i64),
            operator_id: n.is_multiple_of(2).then_some(admin.id),
            action: format!("action.{n}"),
            detail: format!("detail {n}"),
        };
        port.record(&event).await.expect("record");
    }
    let events = port.events(3).await.expect("events");
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["action.4", "action.3", "action.2"]);
    assert_eq!(events[0].operator_id, Some(admin.id));
    assert_eq!(events[1].operator_id, None);
}

/// Every case of this suite as a named `#[tokio::test]`, in a module `operators`, for an adapter
/// of this port alone (see [`crate::storage_contract_tests!`] for `$setup` and `$teardown`).
/// A new case is its function above and its name here.
#[macro_export]
macro_rules! operators_contract_tests {
    ($setup:path, $teardown:path) => {
        $crate::storage_contract_tests!(@suite $setup, $teardown, operators: [
            operators_read_back_and_addresses_are_unique,
            operator_sessions_are_their_own_scope,
            the_operators_audit_log_reads_back_newest_first,
        ]);
    };
}
