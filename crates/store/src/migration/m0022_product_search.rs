//! Search over the catalogue (issue 23): each product's titles and descriptions folded for
//! matching (`kikeru_domain::shop::search::keys`) in `search_title` and `search_body`, filled in
//! for the products already there; indexed for substring matching — on SQLite an FTS5 table
//! with the trigram tokenizer (`product_search`, kept by the store with each save), on
//! PostgreSQL GIN trigram indexes (`pg_trgm`, created in `public` so that every schema of the
//! database shares it).

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::text;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["search_title", "search_body"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("products")
                        .add_column(text(column).default(""))
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        let backend = manager.get_database_backend();
        if backend == DbBackend::Sqlite {
            db.execute_unprepared(
                "CREATE VIRTUAL TABLE product_search USING fts5(\
                     product_id UNINDEXED, title, body, tokenize = 'trigram')",
            )
            .await?;
        }
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT id, title_ja, title_en, description_ja, description_en FROM products",
            ))
            .await?;
        for row in rows {
            let id: uuid::Uuid = row.try_get("", "id")?;
            let field = |name: &str| row.try_get::<String>("", name);
            let fold = kikeru_domain::shop::search::fold;
            let title = format!(
                "{}\n{}",
                fold(&field("title_ja")?),
                fold(&field("title_en")?)
            );
            let body = format!(
                "{}\n{}",
                fold(&field("description_ja")?),
                fold(&field("description_en")?)
            );
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE products SET search_title = $1, search_body = $2 WHERE id = $3",
                [title.clone().into(), body.clone().into(), id.into()],
            ))
            .await?;
            if backend == DbBackend::Sqlite {
                db.execute_raw(Statement::from_sql_and_values(
                    backend,
                    "INSERT INTO product_search (product_id, title, body) VALUES ($1, $2, $3)",
                    [id.into(), title.into(), body.into()],
                ))
                .await?;
            }
        }
        if backend == DbBackend::Postgres {
            // One script is one transaction on PostgreSQL: the advisory lock, held to its end,
            // keeps migrations of several schemas of one database from creating the extension
            // at once.
            db.execute_unprepared(
                "SELECT pg_advisory_xact_lock(2223); \
                 CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public; \
                 CREATE INDEX products_search_title ON products \
                     USING gin (search_title public.gin_trgm_ops); \
                 CREATE INDEX products_search_body ON products \
                     USING gin (search_body public.gin_trgm_ops)",
            )
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if manager.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared("DROP TABLE product_search").await?;
        } else {
            db.execute_unprepared(
                "DROP INDEX products_search_title; DROP INDEX products_search_body",
            )
            .await?;
        }
        for column in ["search_title", "search_body"] {
            manager
                .alter_table(
                    Table::alter()
                        .table("products")
                        .drop_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
