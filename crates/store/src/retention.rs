//! Erasure of a deleted member and the retention job's purge.

use super::*;

#[async_trait]
impl Erasure for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn erase(&self, member: MemberId) -> Result<(), StoreError> {
        let _turn = self.turn().await;
        use sea_orm::TransactionTrait;
        let txn = self.db.begin().await.map_err(store_error)?;
        let result = match crate::membership::erase_member(&txn, member).await {
            Ok(()) => txn.commit().await.map_err(store_error),
            Err(e) => Err(e),
        };
        self.cache.forget_member(member);
        result
    }
}

#[async_trait]
impl kikeru_domain::privacy::ports::Retention for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn purge(
        &self,
        c: &kikeru_domain::privacy::retention::Cutoffs,
    ) -> Result<kikeru_domain::privacy::retention::Purged, StoreError> {
        use sea_orm::{ConnectionTrait, QuerySelect, Statement};
        let mut purged = kikeru_domain::privacy::retention::Purged::default();
        let stale: Vec<uuid::Uuid> = member::Entity::find()
            .select_only()
            .column(member::Column::Id)
            .filter(member::Column::EmailVerifiedAt.is_null())
            .filter(member::Column::CreatedAt.lt(millis(c.unverified_created_before)))
            .into_tuple()
            .all(&self.db)
            .await
            .map_err(store_error)?;
        for id in stale {
            // Another node may have erased it first; that is the same outcome.
            match self.erase(MemberId::from_uuid(id)).await {
                Ok(()) => purged.unverified_accounts += 1,
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let sessions = session::Entity::delete_many()
            .filter(
                sea_orm::Condition::any()
                    .add(session::Column::ExpiresAt.lte(millis(c.now)))
                    .add(session::Column::LastSeenAt.lt(millis(c.sessions_seen_before))),
            )
            .exec(&self.db)
            .await;
        self.cache.forget_all();
        purged.sessions = sessions.map_err(store_error)?.rows_affected;
        purged.tokens = token::Entity::delete_many()
            .filter(token::Column::ExpiresAt.lte(millis(c.now)))
            .exec(&self.db)
            .await
            .map_err(store_error)?
            .rows_affected;
        let backend = self.db.get_database_backend();
        // The orders go with their payments (by foreign key) and, in the same transaction,
        // their receipts and return invoices: accounting records leave together.
        let accounting = Statement::from_sql_and_values(
            backend,
            "DELETE FROM orders WHERE created_at < $1 AND member_id NOT IN (SELECT id FROM members)",
            [millis(c.accounting_before).into()],
        );
        {
            use sea_orm::TransactionTrait;
            let _turn = self.turn().await;
            let txn = self.db.begin().await.map_err(store_error)?;
            purged.accounting_orders = txn
                .execute_raw(accounting)
                .await
                .map_err(store_error)?
                .rows_affected();
            for table in ["receipts", "return_invoices"] {
                txn.execute_unprepared(&format!(
                    "DELETE FROM {table} WHERE order_id NOT IN (SELECT id FROM orders)"
                ))
                .await
                .map_err(store_error)?;
            }
            txn.commit().await.map_err(store_error)?;
        }
        let ledger = Statement::from_sql_and_values(
            backend,
            "DELETE FROM ledger_entries WHERE at < $1",
            [millis(c.ledger_before).into()],
        );
        purged.ledger_entries = self
            .db
            .execute_raw(ledger)
            .await
            .map_err(store_error)?
            .rows_affected();
        (purged.settled_mail, purged.inquiries) = unit::purge(&self.db, c).await?;
        Ok(purged)
    }
}
