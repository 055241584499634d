//! The disclosure ledger, and its head: a one-row table every append updates first, so that
//! appends take their positions one at a time on every backend.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, binary_len, integer, string_len, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("ledger_entries")
                    .col(big_integer("seq").primary_key())
                    .col(big_integer("at"))
                    .col(uuid("member_id"))
                    .col(string_len("recipient", 300))
                    .col(string_len("categories", 400))
                    .col(string_len("basis", 300))
                    .col(big_integer("visible_from"))
                    .col(binary_len("prev_hash", 32))
                    .col(binary_len("hash", 32))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ledger_entries_member")
                    .table("ledger_entries")
                    .col("member_id")
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("ledger_head")
                    .col(integer("id").primary_key())
                    .col(big_integer("seq"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO ledger_head (id, seq) VALUES (1, 0)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["ledger_head", "ledger_entries"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
