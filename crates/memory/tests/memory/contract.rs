//! The storage contract suites against the in-memory adapter.

use std::sync::Arc;

use kikeru_memory::MemoryStore;

async fn setup() -> Option<Arc<MemoryStore>> {
    Some(Arc::new(MemoryStore::new()))
}

async fn teardown(_store: Arc<MemoryStore>) {}

kikeru_contract::storage_contract_tests!(setup, teardown);

#[tokio::test]
async fn two_approvals_at_once_tell_every_member_once() {
    kikeru_contract::incidents::two_approvals_at_once_tell_every_member_once(Arc::new(
        MemoryStore::new(),
    ))
    .await;
}
