//! The register of entrusted processors.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::string_len;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("processors")
                    .col(string_len("key", 64).primary_key())
                    .col(string_len("name", 300))
                    .col(string_len("purpose", 300))
                    .col(string_len("categories", 400))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("processors").to_owned())
            .await
    }
}
