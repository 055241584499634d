//! Passkeys keep their backup flags (issue 20, WebAuthn §6.1.3): whether the credential may be
//! backed up (BE, fixed for its life; unknown for passkeys stored before, recorded at their next
//! use) and whether it was at its last use (BS).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{boolean, boolean_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per statement.
        manager
            .alter_table(
                Table::alter()
                    .table("passkeys")
                    .add_column(boolean_null("backup_eligible"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("passkeys")
                    .add_column(boolean("backed_up").default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["backed_up", "backup_eligible"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("passkeys")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
