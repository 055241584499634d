//! Incidents (issue 10): suspected leaks the office recorded, the reports submitted, and how
//! far the notice to the members concerned has gone. The facts and the list of members
//! concerned are kept as JSON, as recorded.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, text, text_null, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("incidents")
                    .col(uuid("id").primary_key())
                    .col(big_integer("discovered_at"))
                    .col(big_integer("recorded_at"))
                    .col(text("recorded_by"))
                    .col(text("facts"))
                    .col(boolean("everyone"))
                    .col(text("members"))
                    .col(big_integer_null("preliminary_reported_at"))
                    .col(big_integer_null("final_reported_at"))
                    .col(text_null("notice_approved_by"))
                    .col(big_integer_null("notice_approved_at"))
                    .col(uuid_null("notice_cursor"))
                    .col(big_integer("notice_sent").default(0))
                    .col(boolean("notice_done").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("incidents").to_owned())
            .await
    }
}
