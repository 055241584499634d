//! Orders snapshot their tax (issue 10): each line's rate, and per rate the tax-inclusive
//! total, the tax in it and the amount without it, as placed (JSON). Lines stored before carry
//! the standard rate, the only one audio content was ever sold at; their orders' per-rate
//! snapshot stays empty (receipts compute it from the rates of the day they were paid).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{integer, text};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("order_lines")
                    .add_column(integer("tax_rate").default(10))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .add_column(text("taxes").default("[]"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("orders")
                    .drop_column("taxes")
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("order_lines")
                    .drop_column("tax_rate")
                    .to_owned(),
            )
            .await
    }
}
