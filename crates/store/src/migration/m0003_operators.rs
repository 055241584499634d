//! Operator accounts, their sessions, and the audit log of their actions.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, binary_len, pk_uuid, string_len, string_len_uniq, text, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("operators")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("email", 254))
                    .col(string_len("password_hash", 255))
                    .col(string_len("role", 16))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("operator_sessions")
                    .col(pk_uuid("id"))
                    .col(uuid("operator_id"))
                    .col(binary_len("token_hash", 32).unique_key())
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("operator_sessions", "operator_id")
                            .to("operators", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("operator_events")
                    .col(pk_uuid("id"))
                    .col(big_integer("at"))
                    .col(uuid_null("operator_id"))
                    .col(string_len("action", 64))
                    .col(text("detail"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("operator_events_at")
                    .table("operator_events")
                    .col("at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["operator_events", "operator_sessions", "operators"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
