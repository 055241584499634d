//! The transactional outbox and inquiries (the contact form and mail to the service).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, integer, string_len, string_len_null, text, text_null, uuid,
    uuid_null,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox")
                    .col(uuid("id").primary_key())
                    .col(uuid_null("member_id"))
                    .col(string_len("kind", 40))
                    // The address and the content go once the mail is settled.
                    .col(string_len_null("to_address", 254))
                    .col(string_len("language", 8))
                    .col(text_null("payload"))
                    .col(big_integer("created_at"))
                    .col(string_len("status", 16))
                    .col(integer("attempts"))
                    .col(big_integer("next_attempt_at"))
                    .col(uuid_null("claim"))
                    .col(big_integer_null("claimed_until"))
                    .col(big_integer_null("settled_at"))
                    .col(text_null("last_error"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("outbox_due")
                    .table("outbox")
                    .col("status")
                    .col("next_attempt_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("inquiries")
                    .col(uuid("id").primary_key())
                    .col(string_len("reference", 16).unique_key())
                    .col(uuid_null("member_id"))
                    .col(string_len("email", 254))
                    .col(string_len_null("name", 400))
                    .col(string_len("subject", 800))
                    .col(text("body"))
                    .col(string_len("language", 8))
                    .col(string_len("channel", 8))
                    .col(string_len_null("message_id", 998).unique_key())
                    .col(text("attachments"))
                    .col(big_integer("received_at"))
                    .to_owned(),
            )
            .await?;
        for (name, column) in [
            ("inquiries_member", "member_id"),
            ("inquiries_email", "email"),
            ("inquiries_received", "received_at"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("inquiries")
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("inquiry_answers")
                    .col(uuid("inquiry_id"))
                    .col(integer("seq"))
                    .col(string_len("operator", 254))
                    .col(text("body"))
                    .col(big_integer("at"))
                    .primary_key(Index::create().col("inquiry_id").col("seq"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("inquiry_answers", "inquiry_id")
                            .to("inquiries", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["inquiry_answers", "inquiries", "outbox"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
