//! Refunds and disputes of payments (issue 22): one row per case, by the provider's reference
//! of the case, kept at the furthest state the provider reported. No personal data: amounts,
//! states, the provider's reason codes and the deadline.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, string_len, string_len_null, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("payment_cases")
                    .col(string_len("provider", 32))
                    .col(string_len("reference", 255))
                    .col(uuid("payment_id"))
                    .col(string_len("kind", 16))
                    .col(string_len("state", 16))
                    .col(big_integer("amount_minor"))
                    .col(string_len("currency", 3))
                    .col(string_len_null("reason", 100))
                    .col(big_integer_null("respond_by"))
                    .col(big_integer("reported_at"))
                    .col(big_integer("updated_at"))
                    .primary_key(Index::create().col("provider").col("reference"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("payment_cases", "payment_id")
                            .to("payments", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payment_cases_by_payment")
                    .table("payment_cases")
                    .col("payment_id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payment_cases_by_update")
                    .table("payment_cases")
                    .col("updated_at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("payment_cases").to_owned())
            .await
    }
}
