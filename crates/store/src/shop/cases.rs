//! Refunds and disputes on sea-orm, for both backends: a case report is rare next to checkout
//! events, so it takes plain statements inside the event's transaction, after the backend's
//! own statement recorded the event and read (and, on PostgreSQL, locked) its payment.

use super::*;
use crate::entity::payment_case;
use kikeru_domain::shop::standing::{CaseStep, step_case};
use kikeru_domain::{Case, CaseState};
use sea_orm::PaginatorTrait;

pub(super) fn to_case(row: &payment_case::Model) -> Result<Case> {
    Ok(Case {
        reference: row.reference.clone(),
        state: CaseState::from_names(&row.kind, &row.state).ok_or_else(|| corrupt("case state"))?,
        amount: money(row.amount_minor, &row.currency)?,
        reason: row.reason.clone(),
        respond_by: row.respond_by.map(from_millis).transpose()?,
    })
}

/// The cases of these payments, in the order they were first reported.
pub(super) async fn cases_of(
    db: &impl ConnectionTrait,
    payments: Vec<Uuid>,
) -> Result<Vec<payment_case::Model>> {
    Ok(payment_case::Entity::find()
        .filter(payment_case::Column::PaymentId.is_in(payments))
        .order_by_asc(payment_case::Column::ReportedAt)
        .order_by_asc(payment_case::Column::Reference)
        .all(db)
        .await?)
}

/// Applies a case report to the payment the event names, inside the event's transaction: the
/// domain's [`step_case`] decides from the payment and its cases kept so far; the case is kept
/// as it answers, and the payment and its order move as it says (with the receipt of a first
/// payment, handed back for the caller to enqueue).
pub(super) async fn apply_case_in(
    txn: &sea_orm::DatabaseTransaction,
    event: &PaymentEvent,
    named: NamedPayment,
    report: &Case,
    at: Timestamp,
) -> Result<(EventOutcome, Option<Envelope>)> {
    let payment = payment::Entity::find_by_id(named.payment_id)
        .one(txn)
        .await?
        .ok_or_else(|| corrupt("payment"))?;
    let amount = money(payment.amount_minor, &payment.currency)?;
    let kept = cases_of(txn, vec![named.payment_id])
        .await?
        .iter()
        .map(to_case)
        .collect::<Result<Vec<_>>>()?;
    let CaseStep { case, step } =
        step_case(named.current, named.order_paid, amount, &kept, report, at);
    keep_case(txn, &event.provider, named.payment_id, &case, at).await?;
    learn_payment_ref(txn, named.payment_id, named.new_ref).await?;
    let order_id = OrderId::from_uuid(named.order_uuid);
    let Step::Moved {
        status: next,
        first_paid_at,
    } = step
    else {
        let unchanged = EventOutcome::Unchanged {
            order_id,
            status: named.current,
        };
        return Ok((unchanged, None));
    };
    payment::Entity::update_many()
        .col_expr(payment::Column::Status, Expr::value(next.as_str()))
        .filter(payment::Column::Id.eq(named.payment_id))
        .exec(txn)
        .await?;
    let seq = payment_change::Entity::find()
        .filter(payment_change::Column::PaymentId.eq(named.payment_id))
        .count(txn)
        .await?;
    payment_change::Entity::insert(payment_change::ActiveModel {
        payment_id: Set(named.payment_id),
        seq: Set(i32::try_from(seq).map_err(|_| corrupt("history"))?),
        status: Set(next.as_str().to_owned()),
        at: Set(millis(at)),
        event_id: Set(Some(event.event_id.clone())),
    })
    .exec(txn)
    .await?;
    let mut placed = order::Entity::update_many()
        .col_expr(order::Column::Status, Expr::value(next.as_str()))
        .filter(order::Column::Id.eq(named.order_uuid));
    if let Some(paid_at) = first_paid_at {
        placed = placed.col_expr(order::Column::PaidAt, Expr::value(millis(paid_at)));
    }
    placed.exec(txn).await?;
    let receipt = match first_paid_at {
        Some(paid_at) => receipt_in(txn, named.order_uuid, paid_at).await?,
        None => None,
    };
    Ok((
        EventOutcome::Applied {
            order_id,
            status: next,
        },
        receipt,
    ))
}

/// Keeps a case as the domain answered it (inserted, or replaced as a whole).
async fn keep_case(
    txn: &sea_orm::DatabaseTransaction,
    provider: &str,
    payment_id: Uuid,
    case: &Case,
    at: Timestamp,
) -> Result<()> {
    let row = payment_case::ActiveModel {
        provider: Set(provider.to_owned()),
        reference: Set(case.reference.clone()),
        payment_id: Set(payment_id),
        kind: Set(case.state.kind().to_owned()),
        state: Set(case.state.state().to_owned()),
        amount_minor: Set(case.amount.minor()),
        currency: Set(case.amount.currency().code().to_owned()),
        reason: Set(case.reason.clone()),
        respond_by: Set(case.respond_by.map(millis)),
        reported_at: Set(millis(at)),
        updated_at: Set(millis(at)),
    };
    payment_case::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([
                payment_case::Column::Provider,
                payment_case::Column::Reference,
            ])
            .update_columns([
                payment_case::Column::Kind,
                payment_case::Column::State,
                payment_case::Column::AmountMinor,
                payment_case::Column::Currency,
                payment_case::Column::Reason,
                payment_case::Column::RespondBy,
                payment_case::Column::UpdatedAt,
            ])
            .to_owned(),
        )
        .exec(txn)
        .await?;
    Ok(())
}

/// The receipt of an order paid for the first time at `paid_at` by a case report (the money
/// was taken, the checkout's own event has not arrived): none when the member is gone.
async fn receipt_in(
    txn: &sea_orm::DatabaseTransaction,
    order_uuid: Uuid,
    paid_at: Timestamp,
) -> Result<Option<Envelope>> {
    let placed = order::Entity::find_by_id(order_uuid)
        .one(txn)
        .await?
        .ok_or_else(|| corrupt("the paid order"))?;
    let member = crate::entity::member::Entity::find_by_id(placed.member_id)
        .one(txn)
        .await?;
    let Some(member) = member else {
        return Ok(None);
    };
    let lines = order_line::Entity::find()
        .filter(order_line::Column::OrderId.eq(order_uuid))
        .order_by_asc(order_line::Column::Line)
        .all(txn)
        .await?;
    let member = crate::to_member(member)?;
    let order = to_order(placed, lines)?;
    Ok(Some(Envelope::receipt(
        &order,
        &member,
        from_millis(millis(paid_at))?,
    )))
}

/// Cases the operators must look at, most recently reported first.
pub(super) async fn needing_attention(
    db: &impl ConnectionTrait,
    limit: u32,
) -> Result<Vec<(OrderId, Case)>> {
    let wanted: Vec<(&str, &str)> = CaseState::ALL
        .into_iter()
        .filter(|s| s.needs_attention())
        .map(|s| (s.kind(), s.state()))
        .collect();
    let mut condition = sea_orm::Condition::any();
    for (kind, state) in wanted {
        condition = condition.add(
            sea_orm::Condition::all()
                .add(payment_case::Column::Kind.eq(kind))
                .add(payment_case::Column::State.eq(state)),
        );
    }
    let rows = payment_case::Entity::find()
        .filter(condition)
        .order_by_desc(payment_case::Column::UpdatedAt)
        .order_by_asc(payment_case::Column::Reference)
        .limit(u64::from(limit))
        .all(db)
        .await?;
    let payments: Vec<Uuid> = rows.iter().map(|r| r.payment_id).collect();
    let orders: std::collections::HashMap<Uuid, Uuid> = payment::Entity::find()
        .select_only()
        .column(payment::Column::Id)
        .column(payment::Column::OrderId)
        .filter(payment::Column::Id.is_in(payments))
        .into_tuple::<(Uuid, Uuid)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    rows.iter()
        .map(|row| {
            let order = orders
                .get(&row.payment_id)
                .ok_or_else(|| corrupt("case without payment"))?;
            Ok((OrderId::from_uuid(*order), to_case(row)?))
        })
        .collect()
}
