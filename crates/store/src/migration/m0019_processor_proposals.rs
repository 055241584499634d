//! Changes to the processor register that wait for a second administrator (issue 20): a new
//! processor, or more categories for one, is kept here until approved; the register holds only
//! what is in force.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string_len};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("processor_proposals")
                    .col(string_len("key", 64).primary_key())
                    .col(string_len("name", 300))
                    .col(string_len("purpose", 300))
                    .col(string_len("categories", 400))
                    .col(string_len("proposed_by", 64))
                    .col(big_integer("proposed_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("processor_proposals").to_owned())
            .await
    }
}
