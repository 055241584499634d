//! Legal orders to disclose data, and the operators who approved each.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, string_len, text};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("legal_orders")
                    .col(string_len("id", 64).primary_key())
                    .col(string_len("authority", 300))
                    .col(string_len("reference", 300))
                    .col(string_len("legal_basis", 300))
                    .col(big_integer("issued_at"))
                    .col(text("members"))
                    .col(string_len("categories", 400))
                    .col(big_integer_null("notice_withheld_until"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("legal_order_approvals")
                    .col(string_len("order_id", 64))
                    .col(string_len("operator", 64))
                    .primary_key(Index::create().col("order_id").col("operator"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("legal_order_approvals", "order_id")
                            .to("legal_orders", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["legal_order_approvals", "legal_orders"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
