//! The postman's claim picks due mail `ORDER BY next_attempt_at, id`. The index had only
//! `(status, next_attempt_at)`, so SQLite sorted every due mail in a temporary B-tree before the
//! `LIMIT` (about 11 ms per claim with thousands of receipts pending, holding the single
//! writer). With `id` in the index the scan is already in order and stops at the limit.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

async fn run(manager: &SchemaManager<'_>, statements: &[&str]) -> Result<(), DbErr> {
    let db = manager.get_connection();
    for statement in statements {
        db.execute_unprepared(statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &[
                "DROP INDEX outbox_due",
                "CREATE INDEX outbox_due_in_order ON outbox (status, next_attempt_at, id)",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        run(
            manager,
            &[
                "DROP INDEX outbox_due_in_order",
                "CREATE INDEX outbox_due ON outbox (status, next_attempt_at)",
            ],
        )
        .await
    }
}
