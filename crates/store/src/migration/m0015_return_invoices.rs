//! Return invoices (issue 10): each refunded order's 適格返還請求書, numbered from its own
//! gap-free sequence — the second row of `receipt_sequence` — and kept as issued (JSON).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, text, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("return_invoices")
                    .col(big_integer("number").primary_key())
                    .col(uuid("order_id").unique_key())
                    .col(big_integer("receipt_number"))
                    .col(uuid("member_id"))
                    .col(big_integer("issued_at"))
                    .col(text("content"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("return_invoices_member")
                    .table("return_invoices")
                    .col("member_id")
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared("INSERT INTO receipt_sequence (id, last_number) VALUES (2, 0)")
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .get_connection()
            .execute_unprepared("DELETE FROM receipt_sequence WHERE id = 2")
            .await?;
        manager
            .drop_table(Table::drop().table("return_invoices").to_owned())
            .await
    }
}
