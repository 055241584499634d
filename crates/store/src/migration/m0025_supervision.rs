//! Supervision of processors (issue 24, 委託先の監督): append-only records of each processor's
//! contract, country, sub-processors, the check of its country's rules, and each review.

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
                    .table("processor_supervision")
                    .col(uuid("id").primary_key())
                    .col(text("processor"))
                    .col(text("contract_date"))
                    .col(text("country"))
                    .col(text("sub_processors"))
                    .col(text("foreign_environment"))
                    .col(text("reviewed_on"))
                    .col(text("outcome"))
                    .col(uuid("recorded_by"))
                    .col(big_integer("recorded_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("processor_supervision").to_owned())
            .await
    }
}
