//! Anonymous access statistics: raw hits (kept for a period), daily counts (kept), and how far
//! the roll-up has come.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(crate) struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE access_hits (at BIGINT NOT NULL, day VARCHAR(10) NOT NULL, method VARCHAR(10) NOT NULL, \
     path VARCHAR(200) NOT NULL, status INTEGER NOT NULL, family VARCHAR(24) NOT NULL, major VARCHAR(24) NOT NULL, \
     os VARCHAR(24) NOT NULL, device VARCHAR(24) NOT NULL, count BIGINT NOT NULL)",
    "CREATE INDEX access_hits_day ON access_hits (day)",
    "CREATE INDEX access_hits_at ON access_hits (at)",
    "CREATE TABLE access_daily (day VARCHAR(10) NOT NULL, method VARCHAR(10) NOT NULL, path VARCHAR(200) NOT NULL, \
     status INTEGER NOT NULL, family VARCHAR(24) NOT NULL, os VARCHAR(24) NOT NULL, device VARCHAR(24) NOT NULL, \
     count BIGINT NOT NULL, PRIMARY KEY (day, method, path, status, family, os, device))",
    "CREATE TABLE access_rollup (id INTEGER PRIMARY KEY, rolled_through VARCHAR(10) NOT NULL)",
    "INSERT INTO access_rollup (id, rolled_through) VALUES (1, '0000-00-00')",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for statement in UP {
            db.execute_unprepared(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for table in ["access_rollup", "access_daily", "access_hits"] {
            db.execute_unprepared(&format!("DROP TABLE {table}"))
                .await?;
        }
        Ok(())
    }
}
