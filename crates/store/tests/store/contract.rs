//! The storage contract suites against SQLite and PostgreSQL.

use kikeru_store::fixtures::{self, Fixture};

async fn teardown(fixture: Fixture) {
    fixture.teardown().await;
}

mod sqlite {
    use super::*;
    async fn setup() -> Option<Fixture> {
        fixtures::sqlite().await
    }
    kikeru_contract::storage_contract_tests!(setup, teardown);
}

mod postgres {
    use super::*;
    async fn setup() -> Option<Fixture> {
        fixtures::postgres().await
    }
    kikeru_contract::storage_contract_tests!(setup, teardown);
}
