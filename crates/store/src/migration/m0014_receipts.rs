//! Receipts (issue 10): each paid order's receipt with its number from one gap-free sequence.
//! The sequence is a single counter row, incremented in the transaction that stores the
//! receipt; the receipt's content is kept as JSON as it was issued (an accounting record,
//! never edited).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("receipts")
                    .col(big_integer("number").primary_key())
                    .col(uuid("order_id").unique_key())
                    .col(uuid("member_id"))
                    .col(big_integer("issued_at"))
                    .col(text("content"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("receipts_member")
                    .table("receipts")
                    .col("member_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("receipt_sequence")
                    .col(integer("id").primary_key())
                    .col(big_integer("last_number"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO receipt_sequence (id, last_number) VALUES (1, 0)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["receipt_sequence", "receipts"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
