//! In-memory access statistics.

use std::collections::BTreeMap;
use std::sync::{MutexGuard, PoisonError};

use async_trait::async_trait;
use kikeru_domain::privacy::ports::Statistics;
use kikeru_domain::privacy::stats::{DailyCount, Hit};
use kikeru_domain::{StoreError, Timestamp};
use time::Date;

use crate::MemoryStore;

/// The statistics' share of [`MemoryStore`].
#[derive(Debug, Default)]
pub(crate) struct State {
    hits: Vec<Hit>,
    daily: Vec<DailyCount>,
    rolled_through: Option<Date>,
}

impl MemoryStore {
    fn stats(&self) -> MutexGuard<'_, State> {
        self.stats.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Statistics for MemoryStore {
    async fn record(&self, hits: &[Hit]) -> Result<(), StoreError> {
        self.stats().hits.extend_from_slice(hits);
        Ok(())
    }

    async fn roll_up(&self, today: Date) -> Result<u64, StoreError> {
        let mut state = self.stats();
        let after = state.rolled_through;
        let mut counts: BTreeMap<(Date, String, String, u16, String, String, String), u64> =
            BTreeMap::new();
        for hit in &state.hits {
            let day = hit.at.date();
            if day >= today || after.is_some_and(|a| day <= a) {
                continue;
            }
            let b = &hit.browser;
            *counts
                .entry((
                    day,
                    hit.method.clone(),
                    hit.path.clone(),
                    hit.status,
                    b.family.clone(),
                    b.os.clone(),
                    b.device.clone(),
                ))
                .or_default() += hit.count;
        }
        let days: std::collections::BTreeSet<Date> = counts.keys().map(|k| k.0).collect();
        for ((day, method, path, status, family, os, device), count) in counts {
            state.daily.push(DailyCount {
                day,
                method,
                path,
                status,
                family,
                os,
                device,
                count,
            });
        }
        state.rolled_through = today.previous_day().max(after);
        Ok(days.len() as u64)
    }

    async fn daily(&self, from: Date, to: Date) -> Result<Vec<DailyCount>, StoreError> {
        let mut found: Vec<DailyCount> = self
            .stats()
            .daily
            .iter()
            .filter(|c| c.day >= from && c.day <= to)
            .cloned()
            .collect();
        found.sort();
        Ok(found)
    }

    async fn purge_hits(&self, before: Timestamp) -> Result<u64, StoreError> {
        let mut state = self.stats();
        let count = state.hits.len();
        state.hits.retain(|h| h.at >= before);
        Ok((count - state.hits.len()) as u64)
    }
}
