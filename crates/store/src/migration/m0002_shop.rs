//! The catalogue, orders with their lines, payments with their history, and applied provider
//! events. No table has a column for card data.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{
    big_integer, big_integer_null, boolean, integer, pk_uuid, string_len, string_len_null,
    string_len_uniq, text, text_null, uuid,
};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

fn fk(from: &'static str, column: &'static str, to: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, column)
        .to(to, "id")
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("products")
                    .col(pk_uuid("id"))
                    .col(string_len_uniq("sku", 64))
                    .col(string_len("title_ja", 800))
                    .col(string_len("title_en", 800))
                    .col(text("description_ja"))
                    .col(text("description_en"))
                    .col(big_integer("price_minor"))
                    .col(string_len("currency", 3))
                    .col(boolean("active"))
                    .col(string_len("audio", 512))
                    .col(string_len_null("sample", 512))
                    .col(big_integer("created_at"))
                    .col(big_integer("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("orders")
                    .col(pk_uuid("id"))
                    .col(uuid("member_id"))
                    .col(string_len("status", 16))
                    .col(big_integer("total_minor"))
                    .col(string_len("currency", 3))
                    .col(string_len_null("idempotency_key", 255))
                    .col(big_integer("created_at"))
                    .col(big_integer_null("paid_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_member_idempotency_key")
                    .table("orders")
                    .col("member_id")
                    .col("idempotency_key")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("orders_member_paid")
                    .table("orders")
                    .col("member_id")
                    .col("paid_at")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("order_lines")
                    .col(uuid("order_id"))
                    .col(integer("line"))
                    .col(uuid("product_id"))
                    .col(string_len("sku", 64))
                    .col(string_len("title_ja", 800))
                    .col(string_len("title_en", 800))
                    .col(big_integer("unit_price_minor"))
                    .col(string_len("currency", 3))
                    .col(integer("quantity"))
                    .primary_key(Index::create().col("order_id").col("line"))
                    .foreign_key(&mut fk("order_lines", "order_id", "orders"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("order_lines", "product_id")
                            .to("products", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("payments")
                    .col(pk_uuid("id"))
                    .col(uuid("order_id").unique_key())
                    .col(uuid("member_id"))
                    .col(string_len("provider", 32))
                    .col(string_len_null("reference", 255))
                    .col(text_null("checkout_url"))
                    .col(string_len_null("payment_ref", 255))
                    .col(big_integer("amount_minor"))
                    .col(string_len("currency", 3))
                    .col(string_len("status", 16))
                    .col(big_integer("created_at"))
                    .foreign_key(&mut fk("payments", "order_id", "orders"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_provider_reference")
                    .table("payments")
                    .col("provider")
                    .col("reference")
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_provider_payment_ref")
                    .table("payments")
                    .col("provider")
                    .col("payment_ref")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("payments_member_id")
                    .table("payments")
                    .col("member_id")
                    .col("id")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("payment_status_changes")
                    .col(uuid("payment_id"))
                    .col(integer("seq"))
                    .col(string_len("status", 16))
                    .col(big_integer("at"))
                    .col(string_len_null("event_id", 255))
                    .primary_key(Index::create().col("payment_id").col("seq"))
                    .foreign_key(&mut fk("payment_status_changes", "payment_id", "payments"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("payment_events")
                    .col(string_len("provider", 32))
                    .col(string_len("event_id", 255))
                    .col(big_integer("received_at"))
                    .primary_key(Index::create().col("provider").col("event_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "payment_events",
            "payment_status_changes",
            "payments",
            "order_lines",
            "orders",
            "products",
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
