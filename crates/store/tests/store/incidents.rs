//! The incident notice run on SQLite and PostgreSQL: two approvals at once tell every member
//! once (the shared store, as two nodes would have it).

use std::sync::Arc;

use kikeru_store::fixtures;

#[tokio::test]
async fn sqlite_two_approvals_at_once_tell_every_member_once() {
    let fixture = fixtures::sqlite()
        .await
        .expect("SQLite is always available");
    kikeru_contract::incidents::two_approvals_at_once_tell_every_member_once(Arc::new(
        (*fixture).clone(),
    ))
    .await;
    fixture.teardown().await;
}

#[tokio::test]
async fn postgres_two_approvals_at_once_tell_every_member_once() {
    let Some(fixture) = fixtures::postgres().await else {
        return;
    };
    kikeru_contract::incidents::two_approvals_at_once_tell_every_member_once(Arc::new(
        (*fixture).clone(),
    ))
    .await;
    fixture.teardown().await;
}
