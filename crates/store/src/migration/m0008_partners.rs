//! The partner register, and the recipient's name and address in each ledger entry (what
//! APPI's record of a provision names).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{string_len, string_len_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("partners")
                    .col(string_len("key", 64).primary_key())
                    .col(string_len("name", 300))
                    .col(string_len("address", 500))
                    .col(string_len_null("representative", 300))
                    .col(string_len("contact", 300))
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per statement.
        for column in [
            "recipient_name",
            "recipient_address",
            "recipient_representative",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("ledger_entries")
                        .add_column(ColumnDef::new(column).text().not_null().default(""))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [
            "recipient_name",
            "recipient_address",
            "recipient_representative",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("ledger_entries")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .drop_table(Table::drop().table("partners").to_owned())
            .await
    }
}
