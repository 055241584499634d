//! Anonymous access statistics on sea-orm: raw hits in batches, a roll-up into daily counts
//! serialized through one state row, so several nodes roll each day up once.

use async_trait::async_trait;
use kikeru_domain::privacy::ports::Statistics;
use kikeru_domain::privacy::stats::{DailyCount, Hit};
use kikeru_domain::{StoreError, Timestamp};
use sea_orm::{ConnectionTrait, Statement, Value};
use time::Date;

use crate::{Result, SqlStore, Stale, corrupt, millis};

/// Rows per `INSERT`: ten values each, well under both backends' limits.
const CHUNK: usize = 200;

fn day_text(day: Date) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    day.format(&format).unwrap_or_default()
}

fn parse_day(text: &str) -> Result<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text, &format).map_err(|_| corrupt("day"))
}

#[async_trait]
impl Statistics for SqlStore {
    #[tracing::instrument(skip_all, fields(hits = hits.len()))]
    async fn record(&self, hits: &[Hit]) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let backend = self.db.get_database_backend();
            for chunk in hits.chunks(CHUNK) {
                let mut sql = String::from(
                    "INSERT INTO access_hits (at, day, method, path, status, family, major, os, device, count) VALUES ",
                );
                let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 10);
                for (i, hit) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push(',');
                    }
                    let placeholders: Vec<String> =
                        (1..=10).map(|k| format!("${}", i * 10 + k)).collect();
                    sql.push_str(&format!("({})", placeholders.join(",")));
                    let b = &hit.browser;
                    values.extend([
                        millis(hit.at).into(),
                        day_text(hit.at.date()).into(),
                        hit.method.clone().into(),
                        hit.path.clone().into(),
                        i32::from(hit.status).into(),
                        b.family.clone().into(),
                        b.major.clone().into(),
                        b.os.clone().into(),
                        b.device.clone().into(),
                        i64::try_from(hit.count).unwrap_or(i64::MAX).into(),
                    ]);
                }
                self.db
                    .execute_raw(Statement::from_sql_and_values(backend, sql, values))
                    .await?;
            }
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn roll_up(&self, today: Date) -> Result<u64, StoreError> {
        self.transaction(Stale::Nothing, async |txn| {
            let backend = self.db.get_database_backend();
            // Writing the state row first takes the lock: a second roll-up waits, then finds the
            // days done.
            txn.execute_raw(Statement::from_string(
                backend,
                "UPDATE access_rollup SET rolled_through = rolled_through WHERE id = 1",
            ))
            .await?;
            let row = txn
                .query_one_raw(Statement::from_string(
                    backend,
                    "SELECT rolled_through FROM access_rollup WHERE id = 1",
                ))
                .await?
                .ok_or_else(|| corrupt("roll-up state"))?;
            let after: String = row.try_get_by_index(0)?;
            let before = day_text(today);
            let days = txn
                .query_one_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT COUNT(DISTINCT day) FROM access_hits WHERE day > $1 AND day < $2",
                    [after.clone().into(), before.clone().into()],
                ))
                .await?
                .ok_or_else(|| corrupt("roll-up count"))?;
            let days: i64 = days.try_get_by_index(0)?;
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO access_daily (day, method, path, status, family, os, device, count) \
                 SELECT day, method, path, status, family, os, device, SUM(count) FROM access_hits \
                 WHERE day > $1 AND day < $2 GROUP BY day, method, path, status, family, os, device",
                [after.clone().into(), before.clone().into()],
            ))
            .await?;
            let yesterday = today.previous_day().map_or(after, day_text);
            txn.execute_raw(Statement::from_sql_and_values(
                backend,
                "UPDATE access_rollup SET rolled_through = $1 WHERE id = 1 AND rolled_through < $1",
                [yesterday.into()],
            ))
            .await?;
            u64::try_from(days).map_err(|_| corrupt("roll-up count"))
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn daily(&self, from: Date, to: Date) -> Result<Vec<DailyCount>, StoreError> {
        self.read(async {
            let backend = self.db.get_database_backend();
            let rows = self
                .db
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    "SELECT day, method, path, status, family, os, device, count FROM access_daily \
                     WHERE day >= $1 AND day <= $2 ORDER BY day, method, path, status, family, os, device",
                    [day_text(from).into(), day_text(to).into()],
                ))
                .await?;
            rows.into_iter()
                .map(|row| {
                    let get = |i: usize| -> Result<String> { Ok(row.try_get_by_index(i)?) };
                    let status: i32 = row.try_get_by_index(3)?;
                    let count: i64 = row.try_get_by_index(7)?;
                    Ok(DailyCount {
                        day: parse_day(&get(0)?)?,
                        method: get(1)?,
                        path: get(2)?,
                        status: u16::try_from(status).map_err(|_| corrupt("status"))?,
                        family: get(4)?,
                        os: get(5)?,
                        device: get(6)?,
                        count: u64::try_from(count).map_err(|_| corrupt("count"))?,
                    })
                })
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn purge_hits(&self, before: Timestamp) -> Result<u64, StoreError> {
        self.write(Stale::Nothing, async {
            let backend = self.db.get_database_backend();
            Ok(self
                .db
                .execute_raw(Statement::from_sql_and_values(
                    backend,
                    "DELETE FROM access_hits WHERE at < $1",
                    [millis(before).into()],
                ))
                .await?
                .rows_affected())
        })
        .await
    }
}
