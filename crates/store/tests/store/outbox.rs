//! What the outbox table keeps once a mail is settled: no content (the links and tokens in it),
//! and for a sent mail not even the address.

use kikeru_contract::fixtures::{NOW, uuid};
use kikeru_contract::unit::envelope;
use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::Settlement;
use kikeru_domain::mail::ports::Outbox;
use kikeru_store::fixtures;
use sea_orm::{ConnectionTrait, Statement};

#[tokio::test]
async fn a_settled_mail_keeps_no_content() {
    let store = fixtures::sqlite()
        .await
        .expect("SQLite is always available");
    let mut changes = Changes::new();
    changes
        .push(Change::Send(envelope(1, "sent@example.jp", None)))
        .push(Change::Send(envelope(2, "failed@example.jp", None)));
    store.apply(changes).await.unwrap();
    let lease = std::time::Duration::from_secs(60);
    let later = NOW + time::Duration::minutes(1);
    assert_eq!(
        store.claim(uuid(9), later, lease, 10).await.unwrap().len(),
        2
    );
    assert!(
        store
            .settle(uuid(1001), uuid(9), Settlement::Sent, later)
            .await
            .unwrap()
    );
    let failed = Settlement::Failed {
        error: "550 no such user".into(),
    };
    assert!(
        store
            .settle(uuid(1002), uuid(9), failed, later)
            .await
            .unwrap()
    );
    let db = store.connection();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT status, to_address, payload, last_error FROM outbox ORDER BY created_at",
        ))
        .await
        .unwrap();
    let read = |i: usize, column: &str| -> Option<String> { rows[i].try_get("", column).unwrap() };
    assert_eq!(read(0, "status").as_deref(), Some("sent"));
    assert_eq!((read(0, "to_address"), read(0, "payload")), (None, None));
    assert_eq!(read(1, "status").as_deref(), Some("failed"));
    assert_eq!(read(1, "payload"), None, "no token survives a failure");
    assert_eq!(read(1, "to_address").as_deref(), Some("failed@example.jp"));
    assert_eq!(read(1, "last_error").as_deref(), Some("550 no such user"));
    store.teardown().await;
}
