//! Purposes needing consent, and members' append-only consent histories.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_pk_auto, boolean, integer, string_len, string_len_null, text, uuid,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("purposes")
                    .col(string_len("key", 64).primary_key())
                    .col(string_len("title_ja", 800))
                    .col(string_len("title_en", 800))
                    .col(text("notice_ja"))
                    .col(text("notice_en"))
                    .col(integer("notice_version"))
                    .col(string_len_null("recipient", 200))
                    .col(string_len("categories", 400))
                    .col(string_len("transfer", 16))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("consent_records")
                    .col(big_pk_auto("id"))
                    .col(uuid("member_id"))
                    .col(string_len("purpose", 64))
                    .col(boolean("granted"))
                    .col(integer("notice_version"))
                    .col(big_integer("at"))
                    .col(string_len("channel", 16))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("consent_records_member")
                    .table("consent_records")
                    .col("member_id")
                    .col("id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["consent_records", "purposes"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
