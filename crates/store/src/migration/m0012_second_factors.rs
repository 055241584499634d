//! Second factors (issue 9): how each session was authenticated, members' authenticator apps
//! (their secrets sealed by the application, never in clear) and their recovery codes (hashes
//! only). Sessions that exist already count as signed in with a password at their creation.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, binary, binary_len, boolean, pk_uuid, string_len,
    string_len_null, uuid,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        let columns = [
            string_len("first_factor", 16)
                .default("password")
                .to_owned(),
            string_len_null("second_factor", 16),
            big_integer("authenticated_at").default(0).to_owned(),
            boolean("second_factor_enrolled").default(false).to_owned(),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("sessions")
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .get_connection()
            .execute_unprepared("UPDATE sessions SET authenticated_at = created_at")
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("totp_enrolments")
                    .col(pk_uuid("member_id"))
                    .col(binary("sealed_secret"))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("confirmed_at"))
                    .col(big_integer_null("last_used_step"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("totp_enrolments", "member_id")
                            .to("members", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("recovery_codes")
                    .col(uuid("member_id"))
                    .col(binary_len("code_hash", 32))
                    .col(big_integer("created_at"))
                    .primary_key(Index::create().col("member_id").col("code_hash"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("recovery_codes", "member_id")
                            .to("members", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["recovery_codes", "totp_enrolments"] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        for column in [
            "second_factor_enrolled",
            "authenticated_at",
            "second_factor",
            "first_factor",
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table("sessions")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
