//! Passkeys (issue 9): each member's WebAuthn credentials — the credential ID (unique across
//! the service), the public key as the COSE key the authenticator sent, the signature counter
//! and the member's name for it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, big_integer_null, binary, pk_uuid, string_len, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("passkeys")
                    .col(pk_uuid("id"))
                    .col(uuid("member_id"))
                    .col(binary("credential_id"))
                    .col(binary("public_key"))
                    .col(big_integer("sign_count"))
                    .col(string_len("name", 256))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("last_used_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("passkeys", "member_id")
                            .to("members", "id")
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkeys_credential")
                    .table("passkeys")
                    .col("credential_id")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("passkeys_member")
                    .table("passkeys")
                    .col("member_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("passkeys").to_owned())
            .await
    }
}
