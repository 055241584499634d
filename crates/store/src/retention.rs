//! Erasure of a deleted member and the retention job's purge.

use super::*;

#[async_trait]
impl Erasure for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn erase(&self, member: MemberId) -> Result<(), StoreError> {
        self.transaction(Stale::Member(member), async |txn| {
            crate::membership::erase_member(txn, member).await
        })
        .await
    }
}

#[async_trait]
impl kikeru_domain::privacy::ports::Retention for SqlStore {
    /// Each step is a write of its own, so the writer's turn is never held for the whole purge.
    #[tracing::instrument(skip_all)]
    async fn purge(
        &self,
        c: &kikeru_domain::privacy::retention::Cutoffs,
    ) -> Result<kikeru_domain::privacy::retention::Purged, StoreError> {
        use sea_orm::{ConnectionTrait, QuerySelect, Statement};
        let mut purged = kikeru_domain::privacy::retention::Purged::default();
        let stale: Vec<uuid::Uuid> = self
            .read(async {
                Ok(member::Entity::find()
                    .select_only()
                    .column(member::Column::Id)
                    .filter(member::Column::EmailVerifiedAt.is_null())
                    .filter(member::Column::CreatedAt.lt(millis(c.unverified_created_before)))
                    .into_tuple()
                    .all(&self.db)
                    .await?)
            })
            .await?;
        for id in stale {
            // Another node may have erased it first; that is the same outcome.
            match self.erase(MemberId::from_uuid(id)).await {
                Ok(()) => purged.unverified_accounts += 1,
                Err(StoreError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        purged.sessions = self
            .write(Stale::Everything, async {
                let expired = sea_orm::Condition::any()
                    .add(session::Column::ExpiresAt.lte(millis(c.now)))
                    .add(session::Column::LastSeenAt.lt(millis(c.sessions_seen_before)));
                let deleted = session::Entity::delete_many()
                    .filter(expired)
                    .exec(&self.db)
                    .await?;
                Ok(deleted.rows_affected)
            })
            .await?;
        purged.tokens = self
            .write(Stale::Nothing, async {
                let deleted = token::Entity::delete_many()
                    .filter(token::Column::ExpiresAt.lte(millis(c.now)))
                    .exec(&self.db)
                    .await?;
                Ok(deleted.rows_affected)
            })
            .await?;
        let backend = self.db.get_database_backend();
        // The orders go with their payments (by foreign key) and, in the same transaction,
        // their receipts and return invoices: accounting records leave together.
        let accounting = Statement::from_sql_and_values(
            backend,
            "DELETE FROM orders WHERE created_at < $1 AND member_id NOT IN (SELECT id FROM members)",
            [millis(c.accounting_before).into()],
        );
        purged.accounting_orders = self
            .transaction(Stale::Nothing, async |txn| {
                let orders = txn.execute_raw(accounting).await?.rows_affected();
                for table in ["receipts", "return_invoices"] {
                    txn.execute_unprepared(&format!(
                        "DELETE FROM {table} WHERE order_id NOT IN (SELECT id FROM orders)"
                    ))
                    .await?;
                }
                Ok(orders)
            })
            .await?;
        let ledger = Statement::from_sql_and_values(
            backend,
            "DELETE FROM ledger_entries WHERE at < $1",
            [millis(c.ledger_before).into()],
        );
        purged.ledger_entries = self
            .write(Stale::Nothing, async {
                Ok(self.db.execute_raw(ledger).await?.rows_affected())
            })
            .await?;
        (purged.settled_mail, purged.inquiries) =
            self.write(Stale::Nothing, unit::purge(&self.db, c)).await?;
        purged.requests = self
            .write(
                Stale::Nothing,
                crate::requests::purge_requests(&self.db, c.inquiries_before),
            )
            .await?;
        // A counter whose window ended counts nothing: it goes, key and all.
        let ended = Statement::from_sql_and_values(
            backend,
            "DELETE FROM rate_limits WHERE window_ends_at <= $1",
            [millis(c.now).into()],
        );
        purged.rate_limits = self
            .write(Stale::Nothing, async {
                Ok(self.db.execute_raw(ended).await?.rows_affected())
            })
            .await?;
        let log = Statement::from_sql_and_values(
            backend,
            "DELETE FROM operator_events WHERE at < $1",
            [millis(c.operator_log_before).into()],
        );
        purged.operator_events = self
            .write(Stale::Nothing, async {
                Ok(self.db.execute_raw(log).await?.rows_affected())
            })
            .await?;
        Ok(purged)
    }
}
