//! One return invoice per order and case (issue 22): a partial refund, a later refund of the
//! rest, a lost dispute each get their own 適格返還請求書, so the unique key moves from the order
//! to the order and the provider's case (`''` for a whole refund reported without a case). The
//! table is rebuilt, its rows kept as issued (SQLite cannot drop a column's unique constraint).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, string_len, text, uuid};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let backend = manager.get_database_backend();
        let create = backend.build(
            &Table::create()
                .table("return_invoices")
                .col(big_integer("number").primary_key())
                .col(uuid("order_id"))
                .col(string_len("case_ref", 255).default(""))
                .col(big_integer("receipt_number"))
                .col(uuid("member_id"))
                .col(big_integer("issued_at"))
                .col(text("content"))
                .to_owned(),
        );
        // One script, so that one connection runs it all (on SQLite the migrator runs without
        // a transaction, and a second pooled connection could still see the old schema).
        let script = format!(
            "ALTER TABLE return_invoices RENAME TO return_invoices_by_order; \
             {create}; \
             INSERT INTO return_invoices \
                 (number, order_id, case_ref, receipt_number, member_id, issued_at, content) \
             SELECT number, order_id, '', receipt_number, member_id, issued_at, content \
             FROM return_invoices_by_order; \
             DROP TABLE return_invoices_by_order; \
             CREATE UNIQUE INDEX return_invoices_order_case ON return_invoices (order_id, case_ref); \
             CREATE INDEX return_invoices_member ON return_invoices (member_id)",
            create = create.sql
        );
        manager.get_connection().execute_unprepared(&script).await?;
        Ok(())
    }

    async fn down(&self, _manager: &SchemaManager) -> Result<(), DbErr> {
        // Going back would have to drop every return invoice of a second case of an order:
        // accounting records are not dropped by a migration.
        Err(DbErr::Migration(
            "return invoices per case cannot be folded back into one per order".to_owned(),
        ))
    }
}
