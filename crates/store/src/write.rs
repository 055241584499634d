//! How the ports reach the database: [`SqlStore::read`] for reads, and for writes
//! [`SqlStore::write`] (statements that stand alone) or [`SqlStore::transaction`] (statements
//! that stand or fall together). A write waits for SQLite's writer turn, and when it is over,
//! committed or not, forgets the cached reads it may have changed ([`Stale`]). Each hands the
//! store's [`Error`] back as the domain's [`StoreError`].

use std::future::Future;
use std::sync::Arc;

use kikeru_domain::{MemberId, SessionId, StoreError};
use sea_orm::{DatabaseTransaction, TransactionTrait};

use crate::SqlStore;
use crate::error::{Error, Result};

/// The cached reads a write may change.
#[derive(Debug, Clone)]
pub(crate) enum Stale {
    /// None: the write touches no member and no session.
    Nothing,
    /// A member and every session of theirs.
    Member(MemberId),
    /// One session.
    Session(SessionId),
    /// Several of the above (a unit of work).
    Each(Vec<Stale>),
    /// Everything (a write whose reach is not known entry by entry).
    Everything,
}

/// A writer's turn on SQLite (nothing on PostgreSQL); the write is over when it is dropped.
pub(crate) type Turn = Option<tokio::sync::OwnedMutexGuard<()>>;

impl SqlStore {
    /// A read.
    pub(crate) async fn read<T>(
        &self,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T, StoreError> {
        Ok(work.await?)
    }

    /// A write of statements that each stand alone (most writes are one statement): run in the
    /// writer's turn, then `stale` is forgotten.
    pub(crate) async fn write<T>(
        &self,
        stale: Stale,
        work: impl Future<Output = Result<T>>,
    ) -> Result<T, StoreError> {
        let _turn = self.turn().await;
        // Dropped before the turn, even when this write is cancelled midway.
        let _forget = Forget { store: self, stale };
        Ok(work.await?)
    }

    /// A write in one transaction: committed when `work` succeeds, rolled back when it fails
    /// (or is cancelled); run in the writer's turn, then `stale` is forgotten.
    pub(crate) async fn transaction<T>(
        &self,
        stale: Stale,
        work: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T>,
    ) -> Result<T, StoreError> {
        let _turn = self.turn().await;
        // Dropped before the turn (and after the transaction), even when this write is
        // cancelled midway.
        let _forget = Forget { store: self, stale };
        let txn = self.db.begin().await.map_err(Error::from)?;
        let value = work(&txn).await?;
        txn.commit().await.map_err(Error::from)?;
        Ok(value)
    }

    /// Waits for this writer's turn (see [`SqlStore`]); hold it until the write is committed.
    /// Only the helpers above (and a test that holds the turn on purpose) take it.
    pub(crate) async fn turn(&self) -> Turn {
        match &self.writer {
            Some(writer) => Some(Arc::clone(writer).lock_owned().await),
            None => None,
        }
    }

    fn forget(&self, stale: &Stale) {
        match stale {
            Stale::Nothing => {}
            Stale::Member(id) => self.cache.forget_member(*id),
            Stale::Session(id) => self.cache.forget_session(*id),
            Stale::Each(each) => each.iter().for_each(|stale| self.forget(stale)),
            Stale::Everything => self.cache.forget_all(),
        }
    }
}

/// Forgets the cached reads a write may have changed when the write is over, however it ends.
struct Forget<'s> {
    store: &'s SqlStore,
    stale: Stale,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        self.store.forget(&self.stale);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::StoreConfig;

    #[tokio::test]
    async fn a_write_forgets_what_it_names_however_it_ends() {
        let store = SqlStore::connect(&StoreConfig::new("sqlite::memory:"))
            .await
            .unwrap();
        let member = crate::cache::tests::member();
        let cached = |store: &SqlStore| store.cache.member(member.id).is_some();
        store.cache.keep_member(store.cache.ticket(), &member);
        assert!(cached(&store));
        // Cancelled midway (a client gone, a timeout): what it may have changed is forgotten.
        let never = store.write(
            Stale::Member(member.id),
            std::future::pending::<Result<()>>(),
        );
        assert!(
            tokio::time::timeout(Duration::from_millis(10), never)
                .await
                .is_err()
        );
        assert!(!cached(&store));
        // A failed transaction, likewise, and the turn is free again afterwards.
        store.cache.keep_member(store.cache.ticket(), &member);
        let failed = store
            .transaction(Stale::Member(member.id), async |_| {
                Err::<(), _>(crate::corrupt("test"))
            })
            .await;
        assert!(failed.is_err());
        assert!(!cached(&store));
        store.write(Stale::Nothing, async { Ok(()) }).await.unwrap();
    }
}
