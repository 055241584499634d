//! Payment events on SQLite: two scripts per event, and events waiting for the single writer
//! applied together in one transaction (group commit).

use super::*;

/// Records the event and reads its payment: the first script of [`apply_in`].
/// `fresh` is 0 when the event was seen before; the payment's columns are NULL when no payment
/// has the reference (as checkout or as payment reference: two indexed lookups).
pub(super) const RECORD_AND_READ_SQL: &str = "\
    INSERT INTO payment_events (provider, event_id, received_at) VALUES ($1, $2, $3) \
        ON CONFLICT DO NOTHING; \
    SELECT changes() AS fresh, \
        COALESCE(a.id, b.id) AS id, COALESCE(a.order_id, b.order_id) AS order_id, \
        COALESCE(a.status, b.status) AS status, \
        CASE WHEN a.id IS NULL THEN b.payment_ref ELSE a.payment_ref END AS payment_ref, \
        (SELECT paid_at IS NOT NULL FROM orders WHERE id = COALESCE(a.order_id, b.order_id)) \
            AS order_paid \
    FROM (SELECT 1) AS one \
    LEFT JOIN payments AS a ON a.provider = $1 AND a.reference = $4 \
    LEFT JOIN payments AS b ON a.id IS NULL AND b.provider = $1 AND b.payment_ref = $4";

/// Writes a payment's new status (and its provider reference when first known), numbers the
/// change, and moves the order: the second script of [`apply_in`]. When the domain's step says
/// this is the first payment (`$7`, its paid time, is not null), the order is stamped paid and
/// comes back (`part = 'order'`) with its lines and member, for the receipt. Parameters:
/// payment, status, time, event, payment reference, order, first paid time.
pub(super) const WRITE_SQL: &str = "\
    UPDATE payments SET status = $2, payment_ref = COALESCE(payment_ref, $5) WHERE id = $1; \
    INSERT INTO payment_status_changes (payment_id, seq, status, at, event_id) \
        SELECT $1, COUNT(*), $2, $3, $4 FROM payment_status_changes WHERE payment_id = $1; \
    UPDATE orders SET status = $2, paid_at = $7 \
        WHERE id = $6 AND $7 IS NOT NULL \
        RETURNING 'order' AS part, id, member_id, status, total_minor, currency, \
            idempotency_key, created_at, paid_at, taxes; \
    UPDATE orders SET status = $2 WHERE id = $6 AND status <> $2; \
    SELECT 'line' AS part, order_id, line, product_id, sku, title_ja, title_en, \
        unit_price_minor, currency, quantity, tax_rate \
        FROM order_lines WHERE order_id = $6 AND $7 IS NOT NULL ORDER BY line; \
    SELECT 'member' AS part, members.* FROM members \
        JOIN orders ON orders.member_id = members.id WHERE orders.id = $6 AND $7 IS NOT NULL";

/// A payment event waiting for SQLite's writer, with the way back to its caller.
#[derive(Debug)]
pub(crate) struct WaitingEvent {
    event: PaymentEvent,
    at: Timestamp,
    reply: tokio::sync::oneshot::Sender<Result<EventOutcome>>,
}

/// At most this many events share one transaction.
pub(super) const MOST_EVENTS_PER_COMMIT: usize = 64;

impl SqlStore {
    /// [`Orders::apply_event`] on SQLite, with group commit: the event joins the queue, and
    /// whichever waiting caller gets the writer's turn first applies every queued event in one
    /// transaction, with one durable commit (`synchronous=FULL`: one `fsync`) for all of them,
    /// and hands each caller its own outcome. Each event is still decided by the domain's
    /// [`step`], in order, seeing the events before it; a duplicate within one batch is a
    /// duplicate. When the shared transaction fails, each event is applied again on its own,
    /// so one event's failure is never another's.
    pub(super) async fn apply_event_in_turn(
        &self,
        event: &PaymentEvent,
        at: Timestamp,
    ) -> Result<EventOutcome, StoreError> {
        let (reply, mut outcome) = tokio::sync::oneshot::channel();
        self.waiting()?.push(WaitingEvent {
            event: event.clone(),
            at,
            reply,
        });
        // The turn is held across the loop; the transactions inside are this write's own.
        self.write(Stale::Nothing, async {
            loop {
                match outcome.try_recv() {
                    // Applied by an earlier turn's holder, or by this one below.
                    Ok(result) => return result,
                    // Taken by a holder that was cancelled before it answered: apply it alone (an
                    // event applied already is recognised as a duplicate).
                    Err(tokio::sync::oneshot::error::TryRecvError::Closed) => {
                        return apply_alone(&self.db, event, at).await;
                    }
                    // Still queued (only a turn's holder takes from the queue): lead a batch.
                    Err(tokio::sync::oneshot::error::TryRecvError::Empty) => {}
                }
                let batch: Vec<WaitingEvent> = {
                    let mut waiting = self.waiting()?;
                    let take = waiting.len().min(MOST_EVENTS_PER_COMMIT);
                    waiting.drain(..take).collect()
                };
                if batch.is_empty() {
                    return Err(StoreError::Other(
                        "a payment event left its queue unanswered".into(),
                    )
                    .into());
                }
                match apply_together(&self.db, &batch).await {
                    Ok(outcomes) => {
                        for (waiting, outcome) in batch.into_iter().zip(outcomes) {
                            let _gone = waiting.reply.send(Ok(outcome));
                        }
                    }
                    Err(_) => {
                        for waiting in batch {
                            let result = apply_alone(&self.db, &waiting.event, waiting.at).await;
                            let _gone = waiting.reply.send(result);
                        }
                    }
                }
            }
        })
        .await
    }

    pub(super) fn waiting(&self) -> Result<std::sync::MutexGuard<'_, Vec<WaitingEvent>>> {
        self.waiting_events
            .lock()
            .map_err(|_| StoreError::Other("the payment event queue is poisoned".into()).into())
    }
}

/// Several events in one transaction, in order, their receipts put in the outbox together at
/// the end; fails as a whole.
pub(super) async fn apply_together(
    db: &sea_orm::DatabaseConnection,
    batch: &[WaitingEvent],
) -> Result<Vec<EventOutcome>> {
    let txn = db.begin().await?;
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut receipts = Vec::new();
    for waiting in batch {
        let (outcome, receipt) = apply_in(&txn, &waiting.event, waiting.at).await?;
        outcomes.push(outcome);
        receipts.extend(receipt);
    }
    crate::unit::enqueue_all(&txn, &receipts).await?;
    txn.commit().await?;
    Ok(outcomes)
}

/// One event in a transaction of its own.
pub(super) async fn apply_alone(
    db: &sea_orm::DatabaseConnection,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<EventOutcome> {
    let txn = db.begin().await?;
    let (outcome, receipt) = apply_in(&txn, event, at).await?;
    crate::unit::enqueue_all(&txn, receipt.as_slice()).await?;
    txn.commit().await?;
    Ok(outcome)
}

/// One event's unit of work on SQLite, inside a transaction that may hold others, in two
/// round trips to the connection's thread instead of a dozen: sqlx runs each SQLite statement
/// on the connection's own thread, and each trip costs more than the SQL itself. A script of
/// several statements is one trip (`$N` parameters name the same values in each). The
/// transition itself is still the domain's [`step`], between the two scripts. The receipt of
/// a first payment comes back for the caller to put in the outbox before it commits, so a batch
/// enqueues all its receipts in one statement.
pub(super) async fn apply_in(
    txn: &sea_orm::DatabaseTransaction,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<(EventOutcome, Option<Envelope>)> {
    let read = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            RECORD_AND_READ_SQL,
            [
                event.provider.clone().into(),
                event.event_id.clone().into(),
                millis(at).into(),
                event.reference.clone().into(),
            ],
        ))
        .await?
        .ok_or_else(|| corrupt("event lookup"))?;
    let named = match named_payment(&read, event)? {
        Read::Duplicate => return Ok((EventOutcome::Duplicate, None)),
        Read::Unknown => {
            // Not recorded: a redelivery once the checkout is known must still apply, so the
            // event is not kept as seen.
            payment_event::Entity::delete_by_id((event.provider.clone(), event.event_id.clone()))
                .exec(txn)
                .await?;
            return Ok((EventOutcome::UnknownReference, None));
        }
        Read::Payment(named) => named,
    };
    let signal = match &event.news {
        News::Checkout(signal) => *signal,
        News::Case(report) => return cases::apply_case_in(txn, event, named, report, at).await,
    };
    let NamedPayment {
        payment_id,
        order_uuid,
        current,
        order_paid,
        new_ref,
    } = named;
    let order_id = OrderId::from_uuid(order_uuid);
    let Step::Moved {
        status: next,
        first_paid_at,
    } = step(current, order_paid, signal, at)
    else {
        learn_payment_ref(txn, payment_id, new_ref).await?;
        let unchanged = EventOutcome::Unchanged {
            order_id,
            status: current,
        };
        return Ok((unchanged, None));
    };
    let rows = txn
        .query_all_raw(Statement::from_sql_and_values(
            DbBackend::Sqlite,
            WRITE_SQL,
            [
                payment_id.into(),
                next.as_str().into(),
                millis(at).into(),
                event.event_id.clone().into(),
                new_ref.into(),
                order_uuid.into(),
                first_paid_at.map(millis).into(),
            ],
        ))
        .await?;
    let (mut paid, mut lines, mut member) = (None, Vec::new(), None);
    for row in &rows {
        match row.try_get::<String>("", "part")?.as_str() {
            "order" => paid = Some(order::Model::from_query_result(row, "")?),
            "line" => lines.push(order_line::Model::from_query_result(row, "")?),
            "member" => {
                member = Some(crate::entity::member::Model::from_query_result(row, "")?);
            }
            _ => return Err(corrupt("paid order")),
        }
    }
    // The first payment: the receipt goes out in this transaction (unless the member has
    // gone).
    let receipt = match (paid, member) {
        (Some(placed), Some(member)) => {
            let member = crate::to_member(member)?;
            let paid_at = from_millis(placed.paid_at.ok_or_else(|| corrupt("paid order"))?)?;
            let order = to_order(placed, lines)?;
            Some(Envelope::receipt(&order, &member, paid_at))
        }
        _ => None,
    };
    let applied = EventOutcome::Applied {
        order_id,
        status: next,
    };
    Ok((applied, receipt))
}
