//! Members, sessions, mailed tokens, the audit log and rate-limit counters.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, binary_len, pk_uuid, string, string_len, string_len_null,
    string_len_uniq, uuid, uuid_null,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("members")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("email", 254))
                    .col(big_integer_null("email_verified_at"))
                    .col(string_len("password_hash", 255))
                    .col(string_len("display_name", 256))
                    .col(string_len("language", 8))
                    .col(big_integer("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("sessions")
                    .col(pk_uuid("id"))
                    .col(uuid("member_id"))
                    .col(binary_len("token_hash", 32).unique_key())
                    .col(big_integer("created_at"))
                    .col(big_integer("last_seen_at"))
                    .col(big_integer("expires_at"))
                    .col(string("browser"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("sessions", "member_id")
                            .to("members", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("sessions_member")
                    .table("sessions")
                    .col("member_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("one_time_tokens")
                    .col(binary_len("hash", 32).primary_key())
                    .col(uuid("member_id"))
                    .col(string_len("purpose", 32))
                    .col(string_len_null("new_email", 254))
                    .col(big_integer("created_at"))
                    .col(big_integer("expires_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("one_time_tokens", "member_id")
                            .to("members", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("one_time_tokens_member_purpose")
                    .table("one_time_tokens")
                    .col("member_id")
                    .col("purpose")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("security_events")
                    .col(pk_uuid("id"))
                    .col(big_integer("at"))
                    .col(uuid_null("member_id"))
                    .col(uuid_null("session_id"))
                    .col(string_len("kind", 64))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("security_events_member_at")
                    .table("security_events")
                    .col("member_id")
                    .col("at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("rate_limits")
                    .col(string_len("bucket", 128).primary_key())
                    .col(big_integer("hits"))
                    .col(big_integer("window_ends_at"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "rate_limits",
            "security_events",
            "one_time_tokens",
            "sessions",
            "members",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
