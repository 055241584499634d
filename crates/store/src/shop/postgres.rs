//! Payment events on PostgreSQL: one statement records the event and reads and locks its
//! payment, the domain decides, one statement moves payment and order (and enqueues the first
//! payment's receipt), then the commit.

use super::*;

/// Records an event and reads the payment it names, locked until the transaction ends: by
/// checkout reference, else by payment reference (two indexed lookups). One row always:
/// `fresh` is 0 for an event recorded before (and then no payment is read), and the payment's
/// columns are null when no payment has the reference. `order_paid` says whether the order was
/// paid before; the payment's lock covers it, since an order has one payment
/// (`payments.order_id` is unique) and only that payment's events pay it. While the order is unpaid,
/// the row also carries what its receipt needs should this event pay it: the order (`o_`
/// columns), its lines (JSON) and its member's address and language. Parameters: provider,
/// reference, event, time.
pub(super) const PG_RECORD_AND_READ_SQL: &str = "\
    WITH recorded AS ( \
        INSERT INTO payment_events (provider, event_id, received_at) VALUES ($1, $3, $4) \
        ON CONFLICT DO NOTHING RETURNING 1), \
    by_checkout AS ( \
        SELECT id, order_id, status, payment_ref FROM payments \
        WHERE provider = $1 AND reference = $2 AND EXISTS (SELECT 1 FROM recorded) \
        FOR UPDATE), \
    by_payment AS ( \
        SELECT id, order_id, status, payment_ref FROM payments \
        WHERE provider = $1 AND payment_ref = $2 AND EXISTS (SELECT 1 FROM recorded) \
        AND NOT EXISTS (SELECT 1 FROM by_checkout) FOR UPDATE), \
    found AS ( \
        SELECT id, order_id, status, payment_ref FROM by_checkout \
        UNION ALL SELECT id, order_id, status, payment_ref FROM by_payment) \
    SELECT (SELECT COUNT(*) FROM recorded) AS fresh, found.*, \
        (SELECT paid_at IS NOT NULL FROM orders WHERE id = found.order_id) AS order_paid, \
        o.id AS o_id, o.member_id AS o_member_id, o.status AS o_status, \
        o.total_minor AS o_total_minor, o.currency AS o_currency, \
        o.idempotency_key AS o_idempotency_key, o.created_at AS o_created_at, \
        o.paid_at AS o_paid_at, o.taxes AS o_taxes, \
        (SELECT json_agg(json_build_object( \
            'line', l.line, 'product_id', l.product_id, 'sku', l.sku, \
            'title_ja', l.title_ja, 'title_en', l.title_en, \
            'unit_price_minor', l.unit_price_minor, 'currency', l.currency, \
            'quantity', l.quantity, 'tax_rate', l.tax_rate) ORDER BY l.line) \
         FROM order_lines l WHERE l.order_id = o.id)::text AS lines_json, \
        m.email AS member_email, m.language AS member_language \
    FROM (SELECT 1) AS one LEFT JOIN found ON true \
    LEFT JOIN orders o ON o.id = found.order_id AND o.paid_at IS NULL \
    LEFT JOIN members m ON m.id = o.member_id";

/// Moves a payment and its order in one statement, as the domain's step decided: the payment's
/// status (and its provider reference when first known), the numbered change, and the order's
/// status — stamping `paid_at` with `$7` when the step says this is the first payment, and then
/// putting the receipt given in `$8`…`$17` in the outbox, provided its member still has that
/// address. Answers the order's ID; no row when the order is missing. Parameters: payment,
/// status, time, event, payment reference, order, first paid time (null when this is not the
/// first payment), and the receipt's outbox row (all null when there is none).
pub(super) const PG_WRITE_SQL: &str = concat!(
    "WITH moved AS ( \
        UPDATE payments SET status = $2, payment_ref = COALESCE(payment_ref, $5) WHERE id = $1), \
    numbered AS ( \
        INSERT INTO payment_status_changes (payment_id, seq, status, at, event_id) \
        SELECT $1, COUNT(*), $2, $3, $4 FROM payment_status_changes WHERE payment_id = $1), \
    placed AS ( \
        UPDATE orders SET status = $2, paid_at = COALESCE($7, paid_at) \
        WHERE id = $6 RETURNING id), \
    receipt AS ( \
        INSERT INTO outbox (",
    crate::unit::outbox_columns!(),
    ") \
        SELECT $8, $9, $10, $11, $12, $13, $14, $15, $16, $17 \
        WHERE $8::uuid IS NOT NULL \
        AND EXISTS (SELECT 1 FROM members WHERE id = $9 AND email = $11)) \
    SELECT id FROM placed"
);

/// One order line as [`PG_RECORD_AND_READ_SQL`] hands it back.
#[derive(serde::Deserialize)]
pub(super) struct JsonLine {
    line: i32,
    product_id: Uuid,
    sku: String,
    title_ja: String,
    title_en: String,
    unit_price_minor: i64,
    currency: String,
    quantity: i32,
    tax_rate: i32,
}

/// The receipt of the order [`PG_RECORD_AND_READ_SQL`] read unpaid, as it would be sent if this
/// event, at `at`, pays it; `None` when the order was paid already or its member is gone.
pub(super) fn receipt_of_unpaid(
    read: &sea_orm::QueryResult,
    at: Timestamp,
) -> Result<Option<Envelope>> {
    let unpaid: Option<Uuid> = read.try_get("", "o_id")?;
    let email: Option<String> = read.try_get("", "member_email")?;
    let language: Option<String> = read.try_get("", "member_language")?;
    let (Some(order_uuid), Some(email), Some(language)) = (unpaid, email, language) else {
        return Ok(None);
    };
    let placed = order::Model::from_query_result(read, "o_")?;
    let json: Option<String> = read.try_get("", "lines_json")?;
    let lines: Vec<JsonLine> = serde_json::from_str(json.as_deref().unwrap_or("[]"))
        .map_err(|_| corrupt("order lines"))?;
    let lines: Vec<order_line::Model> = lines
        .into_iter()
        .map(|l| order_line::Model {
            order_id: order_uuid,
            line: l.line,
            product_id: l.product_id,
            sku: l.sku,
            title_ja: l.title_ja,
            title_en: l.title_en,
            unit_price_minor: l.unit_price_minor,
            currency: l.currency,
            quantity: l.quantity,
            tax_rate: l.tax_rate,
        })
        .collect();
    let member_id = MemberId::from_uuid(placed.member_id);
    // Paid at `at` as stored: to the millisecond.
    let paid_at = from_millis(millis(at))?;
    let order = to_order(placed, lines)?;
    let to = kikeru_domain::Email::parse(&email).map_err(|_| corrupt("email"))?;
    let language = language.parse().map_err(|_| corrupt("language"))?;
    Ok(Some(Envelope::receipt_to(
        &order, member_id, &to, language, paid_at,
    )))
}

/// [`Orders::apply_event`] on PostgreSQL in four round trips: one statement records the event
/// (a duplicate stops here), reads and locks its payment and, while the order is unpaid, reads
/// what its receipt needs; the domain decides; one statement moves payment and order and, on
/// the first payment, puts the receipt in the outbox; then the commit.
pub(super) async fn apply_on_postgres(
    db: &sea_orm::DatabaseConnection,
    event: &PaymentEvent,
    at: Timestamp,
) -> Result<EventOutcome> {
    let txn = db.begin().await?;
    let read = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            PG_RECORD_AND_READ_SQL,
            [
                event.provider.clone().into(),
                event.reference.clone().into(),
                event.event_id.clone().into(),
                millis(at).into(),
            ],
        ))
        .await?
        .ok_or_else(|| corrupt("event lookup"))?;
    let named = match named_payment(&read, event)? {
        Read::Duplicate => {
            txn.rollback().await?;
            return Ok(EventOutcome::Duplicate);
        }
        Read::Unknown => {
            // Not recorded: a redelivery once the checkout is known must still apply.
            txn.rollback().await?;
            return Ok(EventOutcome::UnknownReference);
        }
        Read::Payment(named) => named,
    };
    let signal = match &event.news {
        News::Checkout(signal) => *signal,
        News::Case(report) => {
            let (outcome, receipt) = cases::apply_case_in(&txn, event, named, report, at).await?;
            crate::unit::enqueue_all(&txn, receipt.as_slice()).await?;
            txn.commit().await?;
            return Ok(outcome);
        }
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
        learn_payment_ref(&txn, payment_id, new_ref).await?;
        txn.commit().await?;
        return Ok(EventOutcome::Unchanged {
            order_id,
            status: current,
        });
    };
    // The first payment: its receipt goes out in the same statement (none when the member is
    // gone).
    let receipt = match first_paid_at {
        Some(paid_at) => receipt_of_unpaid(&read, paid_at)?,
        None => None,
    };
    let mut values = vec![
        payment_id.into(),
        next.as_str().into(),
        millis(at).into(),
        event.event_id.clone().into(),
        new_ref.into(),
        order_uuid.into(),
        first_paid_at.map(millis).into(),
    ];
    match &receipt {
        Some(envelope) => values.extend(crate::unit::outbox_values(envelope)?),
        None => values.extend([
            sea_orm::Value::Uuid(None),
            sea_orm::Value::Uuid(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::String(None),
            sea_orm::Value::BigInt(None),
            sea_orm::Value::String(None),
            sea_orm::Value::Int(None),
            sea_orm::Value::BigInt(None),
        ]),
    }
    txn.query_one_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        PG_WRITE_SQL,
        values,
    ))
    .await?
    .ok_or_else(|| corrupt("the paid order"))?;
    txn.commit().await?;
    Ok(EventOutcome::Applied {
        order_id,
        status: next,
    })
}
