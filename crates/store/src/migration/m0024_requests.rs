//! Requests under APPI (issue 24): each request with its number, the address and member it
//! concerns, where it stands and its whole record as JSON; and the cessations in force, which
//! the disclosure engine reads for every consent-based provision.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, text, uuid, uuid_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("privacy_requests")
                    .col(uuid("id").primary_key())
                    .col(text("number").unique_key())
                    .col(uuid_null("member_id"))
                    .col(text("email"))
                    .col(text("status"))
                    .col(big_integer("received_at"))
                    .col(integer("version"))
                    .col(text("content"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("privacy_requests_by_member")
                    .table("privacy_requests")
                    .col("member_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("processing_stops")
                    .col(uuid("id").primary_key())
                    .col(uuid("member_id"))
                    .col(text("scope"))
                    .col(uuid_null("request_id"))
                    .col(big_integer("from_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("processing_stops_by_member")
                    .table("processing_stops")
                    .col("member_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["processing_stops", "privacy_requests"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
