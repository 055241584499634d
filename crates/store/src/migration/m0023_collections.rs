//! Creators, tags, readings and covers of the catalogue (issue 23), and the catalogue's version:
//! one row that every save of the catalogue moves in its own transaction, which storefronts
//! poll to rebuild their shelf when another process or node changed the catalogue.
//!
//! Tags are kept in one text column, one tag per line (a tag holds no control characters).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::{big_integer, integer, integer_null, text, text_null};

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

/// The nullable text columns added to `products`.
const TEXTS: [&str; 5] = [
    "title_reading",
    "creator_key",
    "creator_ja",
    "creator_en",
    "cover",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut columns: Vec<ColumnDef> = TEXTS.iter().map(|c| text_null(*c)).collect();
        columns.push(text("tags").default("").to_owned());
        columns.push(integer_null("cover_width"));
        columns.push(integer_null("cover_height"));
        for column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table("products")
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_index(
                Index::create()
                    .name("products_creator")
                    .table("products")
                    .col("creator_key")
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("catalog_state")
                    .col(integer("id").primary_key())
                    .col(big_integer("version"))
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table("catalog_state")
                    .columns(["id", "version"])
                    .values_panic([1.into(), 1_i64.into()])
                    .to_owned(),
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("catalog_state").to_owned())
            .await?;
        manager
            .drop_index(
                Index::drop()
                    .name("products_creator")
                    .table("products")
                    .to_owned(),
            )
            .await?;
        let names = TEXTS.iter().chain(&["tags", "cover_width", "cover_height"]);
        for column in names {
            manager
                .alter_table(
                    Table::alter()
                        .table("products")
                        .drop_column(*column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
