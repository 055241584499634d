//! Units of work, the outbox and inquiries on sea-orm. A unit is one database transaction; the
//! outbox is claimed row by row with a lease, so several postmen never take the same mail.

use std::time::Duration;

use async_trait::async_trait;
use kikeru_domain::changes::{Change, Changes, UnitOfWork};
use kikeru_domain::mail::outbox::{Claimed, Envelope, OutboxCounts, Settlement};
use kikeru_domain::mail::ports::Outbox;
use kikeru_domain::office::inquiry::ports::Inquiries;
use kikeru_domain::office::inquiry::{Answer, AttachmentNote, Channel, Inquiry, InquiryId};
use kikeru_domain::ports::{Mail, Message};
use kikeru_domain::privacy::retention::Cutoffs;
use kikeru_domain::{Email, MemberId, StoreError, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, DbBackend,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Statement,
};
use uuid::Uuid;

use crate::entity::{inquiry, inquiry_answer, outbox_mail};
use crate::{Result, SqlStore, Stale, corrupt, factors, from_millis, millis};

const PENDING: &str = "pending";
const SENT: &str = "sent";
const FAILED: &str = "failed";

/// Puts a mail in the outbox.
pub(crate) async fn enqueue(db: &impl ConnectionTrait, envelope: &Envelope) -> Result<()> {
    enqueue_all(db, std::slice::from_ref(envelope)).await
}

/// Puts several mails in the outbox in one statement (none when `envelopes` is empty).
pub(crate) async fn enqueue_all(db: &impl ConnectionTrait, envelopes: &[Envelope]) -> Result<()> {
    if envelopes.is_empty() {
        return Ok(());
    }
    let rows = envelopes
        .iter()
        .map(outbox_row)
        .collect::<Result<Vec<_>, _>>()?;
    outbox_mail::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// The columns of a pending outbox row for `envelope`, in the order of [`outbox_columns!`], for
/// statements that insert it themselves.
pub(crate) fn outbox_values(envelope: &Envelope) -> Result<[sea_orm::Value; 10]> {
    let payload =
        serde_json::to_string(&envelope.mail.message).map_err(|e| StoreError::Other(e.into()))?;
    Ok([
        envelope.id.into(),
        envelope.member_id.map(|m| *m.as_uuid()).into(),
        envelope.mail.message.kind().into(),
        envelope.mail.to.as_str().into(),
        envelope.mail.language.tag().into(),
        payload.into(),
        millis(envelope.created_at).into(),
        PENDING.into(),
        0_i32.into(),
        millis(envelope.created_at).into(),
    ])
}

/// The columns [`outbox_values`] fills, as a literal for `concat!`; the rest (the claim, the
/// settlement) start empty.
macro_rules! outbox_columns {
    () => {
        "id, member_id, kind, to_address, language, payload, created_at, status, attempts, \
         next_attempt_at"
    };
}
pub(crate) use outbox_columns;

/// A pending outbox row for `envelope`.
fn outbox_row(envelope: &Envelope) -> Result<outbox_mail::ActiveModel> {
    let payload =
        serde_json::to_string(&envelope.mail.message).map_err(|e| StoreError::Other(e.into()))?;
    Ok(outbox_mail::ActiveModel {
        id: Set(envelope.id),
        member_id: Set(envelope.member_id.map(|m| *m.as_uuid())),
        kind: Set(envelope.mail.message.kind().to_owned()),
        to_address: Set(Some(envelope.mail.to.as_str().to_owned())),
        language: Set(envelope.mail.language.tag().to_owned()),
        payload: Set(Some(payload)),
        created_at: Set(millis(envelope.created_at)),
        status: Set(PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(millis(envelope.created_at)),
        claim: Set(None),
        claimed_until: Set(None),
        settled_at: Set(None),
        last_error: Set(None),
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredAttachment {
    name: String,
    content_type: String,
    size: u64,
}

async fn insert_inquiry(db: &impl ConnectionTrait, i: &Inquiry) -> Result<()> {
    let attachments: Vec<StoredAttachment> = i
        .attachments
        .iter()
        .map(|a| StoredAttachment {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.size,
        })
        .collect();
    let row = inquiry::ActiveModel {
        id: Set(*i.id.as_uuid()),
        reference: Set(i.reference.clone()),
        member_id: Set(i.member_id.map(|m| *m.as_uuid())),
        email: Set(i.email.as_str().to_owned()),
        name: Set(i.name.clone()),
        subject: Set(i.subject.clone()),
        body: Set(i.body.clone()),
        language: Set(i.language.tag().to_owned()),
        channel: Set(i.channel.as_str().to_owned()),
        message_id: Set(i.message_id.clone()),
        attachments: Set(
            serde_json::to_string(&attachments).map_err(|e| StoreError::Other(e.into()))?
        ),
        received_at: Set(millis(i.received_at)),
    };
    inquiry::Entity::insert(row).exec(db).await?;
    for (seq, answer) in i.answers.iter().enumerate() {
        insert_answer(db, i.id, seq, answer).await?;
    }
    Ok(())
}

async fn insert_answer(
    db: &impl ConnectionTrait,
    id: InquiryId,
    seq: usize,
    answer: &Answer,
) -> Result<()> {
    let row = inquiry_answer::ActiveModel {
        inquiry_id: Set(*id.as_uuid()),
        seq: Set(i32::try_from(seq).map_err(|_| corrupt("answer position"))?),
        operator: Set(answer.operator.clone()),
        body: Set(answer.body.clone()),
        at: Set(millis(answer.at)),
    };
    inquiry_answer::Entity::insert(row).exec(db).await?;
    Ok(())
}

async fn answer_inquiry(txn: &DatabaseTransaction, id: InquiryId, answer: &Answer) -> Result<()> {
    let exists = inquiry::Entity::find_by_id(*id.as_uuid())
        .count(txn)
        .await?;
    if exists == 0 {
        return Err(StoreError::NotFound.into());
    }
    let seq = inquiry_answer::Entity::find()
        .filter(inquiry_answer::Column::InquiryId.eq(*id.as_uuid()))
        .count(txn)
        .await?;
    insert_answer(
        txn,
        id,
        usize::try_from(seq).map_err(|_| corrupt("answers"))?,
        answer,
    )
    .await
}

/// Removes the inquiries of a member being erased: those linked to them and those from their
/// address.
pub(crate) async fn erase_inquiries(
    txn: &DatabaseTransaction,
    member: MemberId,
    email: &str,
) -> Result<()> {
    inquiry::Entity::delete_many()
        .filter(
            Condition::any()
                .add(inquiry::Column::MemberId.eq(*member.as_uuid()))
                .add(inquiry::Column::Email.eq(email)),
        )
        .exec(txn)
        .await?;
    Ok(())
}

async fn apply_one(txn: &DatabaseTransaction, change: &Change) -> Result<()> {
    match change {
        Change::InsertMember(m) => crate::membership::insert_member(txn, m).await,
        Change::UpdateMember(m) => crate::membership::update_member(txn, m).await,
        Change::InsertToken(t) => crate::membership::insert_token(txn, t).await,
        Change::DeleteTokens { member, purpose } => {
            crate::membership::delete_tokens(txn, *member, *purpose)
                .await
                .map(drop)
        }
        Change::TakeToken(hash) => match crate::membership::take_token(txn, hash).await? {
            true => Ok(()),
            false => Err(StoreError::NotFound.into()),
        },
        Change::InsertSession(s) => crate::membership::insert_session(txn, s).await,
        Change::DeleteSession(id) => crate::membership::delete_session(txn, *id).await.map(drop),
        Change::DeleteSessions { member, keep } => {
            crate::membership::delete_sessions(txn, *member, *keep)
                .await
                .map(drop)
        }
        Change::Record(e) => crate::membership::record_event(txn, e).await,
        Change::UpdateAssurance {
            session,
            assurance,
            second_factor_enrolled,
        } => factors::update_assurance(txn, *session, assurance, *second_factor_enrolled).await,
        Change::PutTotp(e) => factors::put_totp(txn, e).await,
        Change::ConfirmTotp { member, at, step } => {
            factors::confirm_totp(txn, *member, *at, *step).await
        }
        Change::UseTotpStep { member, step } => factors::use_totp_step(txn, *member, *step).await,
        Change::ResealTotp { member, from, to } => {
            factors::reseal_totp(txn, *member, from, to).await
        }
        Change::DeleteTotp(member) => factors::delete_totp(txn, *member).await,
        Change::ReplaceRecoveryCodes { member, codes, at } => {
            factors::replace_recovery_codes(txn, *member, codes, *at).await
        }
        Change::UseRecoveryCode { member, code } => {
            factors::use_recovery_code(txn, *member, code).await
        }
        Change::DeleteRecoveryCodes(member) => factors::delete_recovery_codes(txn, *member).await,
        Change::InsertPasskey(p) => factors::insert_passkey(txn, p).await,
        Change::RenamePasskey { member, id, name } => {
            factors::rename_passkey(txn, *member, *id, name).await
        }
        Change::DeletePasskey { member, id } => factors::delete_passkey(txn, *member, *id).await,
        Change::DeletePasskeys(member) => factors::delete_passkeys(txn, *member).await,
        Change::UsePasskey {
            id,
            sign_count,
            at,
            backup_eligible,
            backed_up,
        } => {
            let used = factors::PasskeyUse {
                sign_count: *sign_count,
                at: *at,
                backup_eligible: *backup_eligible,
                backed_up: *backed_up,
            };
            factors::use_passkey(txn, *id, used).await
        }
        Change::Erase(member) => crate::membership::erase_member(txn, *member).await,
        Change::Send(envelope) => enqueue(txn, envelope).await,
        Change::InsertInquiry(i) => insert_inquiry(txn, i).await,
        Change::AnswerInquiry { inquiry, answer } => answer_inquiry(txn, *inquiry, answer).await,
        Change::PutRequest(r) => crate::requests::put_request(txn, r).await,
        Change::PublishPolicy(v) => crate::requests::publish_policy(txn, v).await,
        Change::PolicyNoticeProgress {
            number,
            from,
            to,
            sent,
            done,
        } => crate::requests::policy_notice_progress(txn, *number, *from, *to, *sent, *done).await,
        Change::InsertStop(s) => crate::requests::insert_stop(txn, s).await,
        Change::LiftStop { member, id } => crate::requests::lift_stop(txn, *member, *id).await,
        Change::NoticeProgress {
            incident,
            from,
            to,
            sent,
            done,
        } => crate::incidents::notice_progress(txn, *incident, *from, *to, *sent, *done).await,
    }
}

#[async_trait]
impl UnitOfWork for SqlStore {
    #[tracing::instrument(skip_all, fields(changes = changes.as_slice().len()))]
    async fn apply(&self, changes: Changes) -> Result<(), StoreError> {
        // Once the transaction is over (whatever its outcome), the cached reads it may have
        // changed are forgotten.
        let stale = changes
            .as_slice()
            .iter()
            .filter_map(|change| match change {
                Change::UpdateMember(m) => Some(Stale::Member(m.id)),
                Change::DeleteSession(id) | Change::UpdateAssurance { session: id, .. } => {
                    Some(Stale::Session(*id))
                }
                Change::DeleteSessions { member, .. } | Change::Erase(member) => {
                    Some(Stale::Member(*member))
                }
                _ => None,
            })
            .collect();
        self.transaction(Stale::Each(stale), async |txn| {
            // An error drops the transaction, which rolls every change back.
            for change in changes.as_slice() {
                apply_one(txn, change).await?;
            }
            Ok(())
        })
        .await
    }
}

fn to_claimed(row: outbox_mail::Model) -> Result<Claimed> {
    let payload = row.payload.ok_or_else(|| corrupt("outbox payload"))?;
    let message: Message = serde_json::from_str(&payload).map_err(|_| corrupt("outbox payload"))?;
    let to = row.to_address.ok_or_else(|| corrupt("outbox address"))?;
    Ok(Claimed {
        id: row.id,
        member_id: row.member_id.map(MemberId::from_uuid),
        mail: Mail {
            to: Email::parse(&to).map_err(|_| corrupt("outbox address"))?,
            language: row.language.parse().map_err(|_| corrupt("language"))?,
            message,
        },
        attempts: u32::try_from(row.attempts).map_err(|_| corrupt("attempts"))?,
    })
}

/// Claims due mails in one statement. Its outer conditions are checked again against a row
/// another transaction changed meanwhile; on PostgreSQL the candidates are picked once, in a
/// materialized CTE that skips rows another claim has locked (a plain `IN (… LIMIT n)` may be
/// re-evaluated and exceed the limit). SQLite has one writer and evaluates the subquery once;
/// it is told to read the index that is already in claim order, so it never sorts every due
/// mail to find the first few (its planner, without statistics, may otherwise scan and sort).
fn claim_sql(backend: DbBackend) -> &'static str {
    match backend {
        DbBackend::Postgres => {
            "WITH picked AS MATERIALIZED (SELECT id FROM outbox WHERE status = 'pending' \
             AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3) \
             ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) \
             UPDATE outbox SET claim = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM picked) AND status = 'pending' \
             AND (claimed_until IS NULL OR claimed_until <= $3) RETURNING id"
        }
        _ => {
            "UPDATE outbox SET claim = $1, claimed_until = $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox INDEXED BY outbox_due_in_order \
             WHERE status = 'pending' \
             AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until <= $3) \
             ORDER BY next_attempt_at, id LIMIT $4) RETURNING id"
        }
    }
}

#[async_trait]
impl Outbox for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn claim(
        &self,
        claim: Uuid,
        now: Timestamp,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<Claimed>, StoreError> {
        self.write(Stale::Nothing, async {
            let backend = self.db.get_database_backend();
            let statement = Statement::from_sql_and_values(
                backend,
                claim_sql(backend),
                [
                    claim.into(),
                    millis(now + lease).into(),
                    millis(now).into(),
                    i64::from(limit).into(),
                ],
            );
            let claimed = self.db.query_all_raw(statement).await?;
            if claimed.is_empty() {
                return Ok(Vec::new());
            }
            let ids = claimed
                .iter()
                .map(|row| row.try_get_by_index::<Uuid>(0))
                .collect::<Result<Vec<_>, _>>()?;
            // By primary key: the table keeps settled mail (without content) for the retention
            // period, so anything else would read all of it on every claim.
            outbox_mail::Entity::find()
                .filter(outbox_mail::Column::Id.is_in(ids))
                .filter(outbox_mail::Column::Claim.eq(claim))
                .filter(outbox_mail::Column::Status.eq(PENDING))
                .order_by_asc(outbox_mail::Column::CreatedAt)
                .order_by_asc(outbox_mail::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_claimed)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn settle(
        &self,
        id: Uuid,
        claim: Uuid,
        settlement: Settlement,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write(Stale::Nothing, async {
            let mut update = outbox_mail::Entity::update_many()
                .col_expr(
                    outbox_mail::Column::Claim,
                    Expr::value(Option::<Uuid>::None),
                )
                .col_expr(
                    outbox_mail::Column::ClaimedUntil,
                    Expr::value(Option::<i64>::None),
                );
            let no_text = Expr::value(Option::<String>::None);
            update = match settlement {
                Settlement::Sent => update
                    .col_expr(outbox_mail::Column::Status, Expr::value(SENT))
                    .col_expr(outbox_mail::Column::Payload, no_text.clone())
                    .col_expr(outbox_mail::Column::ToAddress, no_text.clone())
                    .col_expr(outbox_mail::Column::LastError, no_text)
                    .col_expr(outbox_mail::Column::SettledAt, Expr::value(millis(now))),
                Settlement::Retry { at, error } => update
                    .col_expr(outbox_mail::Column::NextAttemptAt, Expr::value(millis(at)))
                    .col_expr(outbox_mail::Column::LastError, Expr::value(error)),
                Settlement::Failed { error } => update
                    .col_expr(outbox_mail::Column::Status, Expr::value(FAILED))
                    .col_expr(outbox_mail::Column::Payload, no_text)
                    .col_expr(outbox_mail::Column::LastError, Expr::value(error))
                    .col_expr(outbox_mail::Column::SettledAt, Expr::value(millis(now))),
            };
            let result = update
                .filter(outbox_mail::Column::Id.eq(id))
                .filter(outbox_mail::Column::Claim.eq(claim))
                .filter(outbox_mail::Column::Status.eq(PENDING))
                .exec(&self.db)
                .await?;
            Ok(result.rows_affected == 1)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn settle_sent(
        &self,
        ids: &[Uuid],
        claim: Uuid,
        now: Timestamp,
    ) -> Result<Vec<Uuid>, StoreError> {
        self.write(Stale::Nothing, async {
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            let no_text = Expr::value(Option::<String>::None);
            let settled: Vec<Uuid> = outbox_mail::Entity::update_many()
                .col_expr(
                    outbox_mail::Column::Claim,
                    Expr::value(Option::<Uuid>::None),
                )
                .col_expr(
                    outbox_mail::Column::ClaimedUntil,
                    Expr::value(Option::<i64>::None),
                )
                .col_expr(outbox_mail::Column::Status, Expr::value(SENT))
                .col_expr(outbox_mail::Column::Payload, no_text.clone())
                .col_expr(outbox_mail::Column::ToAddress, no_text.clone())
                .col_expr(outbox_mail::Column::LastError, no_text)
                .col_expr(outbox_mail::Column::SettledAt, Expr::value(millis(now)))
                .filter(outbox_mail::Column::Id.is_in(ids.iter().copied()))
                .filter(outbox_mail::Column::Claim.eq(claim))
                .filter(outbox_mail::Column::Status.eq(PENDING))
                .exec_with_returning(&self.db)
                .await?
                .into_iter()
                .map(|row| row.id)
                .collect();
            Ok(settled)
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn counts(&self) -> Result<OutboxCounts, StoreError> {
        self.read(async {
            let rows: Vec<(String, i64)> = outbox_mail::Entity::find()
                .select_only()
                .column(outbox_mail::Column::Status)
                .column_as(outbox_mail::Column::Id.count(), "n")
                .group_by(outbox_mail::Column::Status)
                .into_tuple()
                .all(&self.db)
                .await?;
            let mut counts = OutboxCounts::default();
            for (status, n) in rows {
                let n = u64::try_from(n).map_err(|_| corrupt("count"))?;
                match status.as_str() {
                    PENDING => counts.pending = n,
                    SENT => counts.sent = n,
                    FAILED => counts.failed = n,
                    _ => return Err(corrupt("outbox status")),
                }
            }
            let oldest: Option<Option<i64>> = outbox_mail::Entity::find()
                .select_only()
                .column_as(outbox_mail::Column::NextAttemptAt.min(), "oldest")
                .filter(outbox_mail::Column::Status.eq(PENDING))
                .into_tuple()
                .one(&self.db)
                .await?;
            counts.oldest_due = oldest.flatten().map(from_millis).transpose()?;
            Ok(counts)
        })
        .await
    }
}

/// Removes settled mail and inquiries past their periods; returns how many of each.
pub(crate) async fn purge(db: &impl ConnectionTrait, c: &Cutoffs) -> Result<(u64, u64)> {
    let mail = outbox_mail::Entity::delete_many()
        .filter(outbox_mail::Column::Status.ne(PENDING))
        .filter(outbox_mail::Column::SettledAt.lt(millis(c.mail_settled_before)))
        .exec(db)
        .await?
        .rows_affected;
    // Answers go with their inquiry (ON DELETE CASCADE).
    let inquiries = inquiry::Entity::delete_many()
        .filter(inquiry::Column::ReceivedAt.lt(millis(c.inquiries_before)))
        .exec(db)
        .await?
        .rows_affected;
    Ok((mail, inquiries))
}

fn to_inquiry(row: inquiry::Model, answers: Vec<inquiry_answer::Model>) -> Result<Inquiry> {
    let attachments: Vec<StoredAttachment> =
        serde_json::from_str(&row.attachments).map_err(|_| corrupt("attachments"))?;
    Ok(Inquiry {
        id: InquiryId::from_uuid(row.id),
        reference: row.reference,
        member_id: row.member_id.map(MemberId::from_uuid),
        email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
        name: row.name,
        subject: row.subject,
        body: row.body,
        language: row.language.parse().map_err(|_| corrupt("language"))?,
        channel: Channel::from_name(&row.channel).ok_or_else(|| corrupt("channel"))?,
        message_id: row.message_id,
        attachments: attachments
            .into_iter()
            .map(|a| AttachmentNote {
                name: a.name,
                content_type: a.content_type,
                size: a.size,
            })
            .collect(),
        received_at: from_millis(row.received_at)?,
        answers: answers
            .into_iter()
            .map(|a| {
                Ok(Answer {
                    operator: a.operator,
                    body: a.body,
                    at: from_millis(a.at)?,
                })
            })
            .collect::<Result<_>>()?,
    })
}

impl SqlStore {
    /// The inquiries of these rows, each with its answers, in the rows' order.
    async fn with_answers(&self, rows: Vec<inquiry::Model>) -> Result<Vec<Inquiry>> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut answers = inquiry_answer::Entity::find()
            .filter(inquiry_answer::Column::InquiryId.is_in(ids))
            .order_by_asc(inquiry_answer::Column::InquiryId)
            .order_by_asc(inquiry_answer::Column::Seq)
            .all(&self.db)
            .await?;
        rows.into_iter()
            .map(|row| {
                let (own, rest): (Vec<_>, Vec<_>) =
                    answers.drain(..).partition(|a| a.inquiry_id == row.id);
                answers = rest;
                to_inquiry(row, own)
            })
            .collect()
    }
}

#[async_trait]
impl Inquiries for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: InquiryId) -> Result<Option<Inquiry>, StoreError> {
        self.read(async {
            let rows = inquiry::Entity::find_by_id(*id.as_uuid())
                .all(&self.db)
                .await?;
            Ok(self.with_answers(rows).await?.pop())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_message_id(&self, message_id: &str) -> Result<Option<Inquiry>, StoreError> {
        self.read(async {
            let rows = inquiry::Entity::find()
                .filter(inquiry::Column::MessageId.eq(message_id))
                .all(&self.db)
                .await?;
            Ok(self.with_answers(rows).await?.pop())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn list(&self, open_only: bool, limit: u32) -> Result<Vec<Inquiry>, StoreError> {
        self.read(async {
            let mut query = inquiry::Entity::find();
            if open_only {
                query = query.filter(
                    Expr::col((inquiry::Entity, inquiry::Column::Id)).not_in_subquery(
                        sea_orm::sea_query::Query::select()
                            .column(inquiry_answer::Column::InquiryId)
                            .from(inquiry_answer::Entity)
                            .to_owned(),
                    ),
                );
            }
            let rows = query
                .order_by_desc(inquiry::Column::ReceivedAt)
                .order_by_desc(inquiry::Column::Id)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?;
            self.with_answers(rows).await
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn for_member(&self, member: MemberId) -> Result<Vec<Inquiry>, StoreError> {
        self.read(async {
            let rows = inquiry::Entity::find()
                .filter(inquiry::Column::MemberId.eq(*member.as_uuid()))
                .order_by_asc(inquiry::Column::ReceivedAt)
                .order_by_asc(inquiry::Column::Id)
                .all(&self.db)
                .await?;
            self.with_answers(rows).await
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    /// The claim reads due mail in index order and stops at its limit: no sort of every due
    /// mail (which held SQLite's single writer for milliseconds once thousands were pending).
    #[tokio::test]
    async fn claiming_mail_on_sqlite_needs_no_sort() {
        let store = crate::fixtures::sqlite().await.expect("SQLite");
        let sql = format!("EXPLAIN QUERY PLAN {}", super::claim_sql(DbBackend::Sqlite));
        let plan: Vec<String> = store
            .db
            .query_all_raw(Statement::from_string(DbBackend::Sqlite, sql))
            .await
            .expect("plan")
            .iter()
            .map(|row| row.try_get_by_index::<String>(3).expect("detail"))
            .collect();
        assert!(
            plan.iter()
                .any(|step| step.contains("INDEX outbox_due_in_order")),
            "{plan:?}"
        );
        assert!(
            !plan.iter().any(|step| step.contains("TEMP B-TREE")),
            "{plan:?}"
        );
    }
}
