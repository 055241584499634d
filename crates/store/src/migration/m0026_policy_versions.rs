//! Versions of the privacy policy (issue 24): each published version, what changed in both
//! languages, and how far the notice to the members has gone.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, boolean, integer, text, uuid_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("policy_versions")
                    .col(integer("number").primary_key())
                    .col(text("effective"))
                    .col(text("changes_ja"))
                    .col(text("changes_en"))
                    .col(big_integer("published_at"))
                    .col(uuid_null("published_by"))
                    .col(uuid_null("notice_cursor"))
                    .col(big_integer("notice_sent").default(0))
                    .col(boolean("notice_done").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("policy_versions").to_owned())
            .await
    }
}
