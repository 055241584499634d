//! Incidents on sea-orm. A notice's progress moves only from the cursor it was read at (a
//! conditional UPDATE inside the unit of work that puts the batch in the outbox), so two runs
//! of one approval never send a batch twice.

use std::collections::BTreeSet;

use async_trait::async_trait;
use kikeru_domain::office::incident::ports::Incidents;
use kikeru_domain::office::incident::{
    Concerned, Incident, IncidentFacts, IncidentId, Notice, Stage,
};
use kikeru_domain::privacy::DataCategory;
use kikeru_domain::{MemberId, StoreError, Timestamp};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::{Deserialize, Serialize};

use crate::entity::{incident, member};
use crate::{Error, Result, SqlStore, Stale, corrupt, from_millis, millis, operator_id};
use kikeru_domain::office::operators::OperatorId;

/// The facts as stored.
#[derive(Serialize, Deserialize)]
struct StoredFacts {
    categories: Vec<String>,
    credentials_or_payment: bool,
    sensitive: bool,
    people: u64,
    people_estimated: bool,
    cause: String,
    malicious_suspected: bool,
}

fn to_model(i: &Incident) -> Result<incident::ActiveModel> {
    let facts = StoredFacts {
        categories: i
            .facts
            .categories
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect(),
        credentials_or_payment: i.facts.credentials_or_payment,
        sensitive: i.facts.sensitive,
        people: i.facts.people,
        people_estimated: i.facts.people_estimated,
        cause: i.facts.cause.clone(),
        malicious_suspected: i.facts.malicious_suspected,
    };
    let (everyone, members) = match &i.concerned {
        Concerned::Everyone => (true, Vec::new()),
        Concerned::Members(m) => (false, m.iter().map(|m| *m.as_uuid()).collect()),
    };
    let notice = i.notice.as_ref();
    Ok(incident::ActiveModel {
        id: Set(*i.id.as_uuid()),
        discovered_at: Set(millis(i.facts.discovered_at)),
        recorded_at: Set(millis(i.recorded_at)),
        recorded_by: Set(i.recorded_by.to_string()),
        facts: Set(json(&facts)?),
        everyone: Set(everyone),
        members: Set(json(&members)?),
        preliminary_reported_at: Set(i.preliminary_reported_at.map(millis)),
        final_reported_at: Set(i.final_reported_at.map(millis)),
        notice_approved_by: Set(notice.map(|n| n.approved_by.to_string())),
        notice_approved_at: Set(notice.map(|n| millis(n.approved_at))),
        notice_cursor: Set(notice.and_then(|n| n.cursor).map(|c| *c.as_uuid())),
        notice_sent: Set(notice.map_or(0, |n| i64::try_from(n.sent).unwrap_or(i64::MAX))),
        notice_done: Set(notice.is_some_and(|n| n.done)),
    })
}

fn json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(Error::other)
}

fn to_incident(row: incident::Model) -> Result<Incident> {
    let facts: StoredFacts =
        serde_json::from_str(&row.facts).map_err(|_| corrupt("incident facts"))?;
    let categories = facts
        .categories
        .iter()
        .map(|c| DataCategory::from_name(c).ok_or_else(|| corrupt("incident category")))
        .collect::<Result<_, _>>()?;
    let concerned = if row.everyone {
        Concerned::Everyone
    } else {
        let ids: Vec<uuid::Uuid> =
            serde_json::from_str(&row.members).map_err(|_| corrupt("incident members"))?;
        Concerned::Members(
            ids.into_iter()
                .map(MemberId::from_uuid)
                .collect::<BTreeSet<_>>(),
        )
    };
    let notice = match (row.notice_approved_by, row.notice_approved_at) {
        (Some(approved_by), Some(at)) => Some(Notice {
            approved_by: operator_id(&approved_by)?,
            approved_at: from_millis(at)?,
            cursor: row.notice_cursor.map(MemberId::from_uuid),
            sent: u64::try_from(row.notice_sent).map_err(|_| corrupt("notice count"))?,
            done: row.notice_done,
        }),
        _ => None,
    };
    Ok(Incident {
        id: IncidentId::from_uuid(row.id),
        facts: IncidentFacts {
            discovered_at: from_millis(row.discovered_at)?,
            categories,
            credentials_or_payment: facts.credentials_or_payment,
            sensitive: facts.sensitive,
            people: facts.people,
            people_estimated: facts.people_estimated,
            cause: facts.cause,
            malicious_suspected: facts.malicious_suspected,
        },
        concerned,
        recorded_at: from_millis(row.recorded_at)?,
        recorded_by: operator_id(&row.recorded_by)?,
        preliminary_reported_at: row.preliminary_reported_at.map(from_millis).transpose()?,
        final_reported_at: row.final_reported_at.map(from_millis).transpose()?,
        notice,
    })
}

/// Moves a notice's progress from `from` to `to` (see
/// [`kikeru_domain::changes::Change::NoticeProgress`]).
pub(crate) async fn notice_progress(
    db: &impl ConnectionTrait,
    id: IncidentId,
    from: Option<MemberId>,
    to: Option<MemberId>,
    sent: u64,
    done: bool,
) -> Result<()> {
    let at_cursor = match from {
        Some(cursor) => incident::Column::NoticeCursor.eq(*cursor.as_uuid()),
        None => incident::Column::NoticeCursor.is_null(),
    };
    let moved = incident::Entity::update_many()
        .col_expr(
            incident::Column::NoticeCursor,
            Expr::value(to.map(|m| *m.as_uuid())),
        )
        .col_expr(
            incident::Column::NoticeSent,
            Expr::col(incident::Column::NoticeSent)
                .add(i64::try_from(sent).map_err(|_| StoreError::Conflict)?),
        )
        .col_expr(incident::Column::NoticeDone, Expr::value(done))
        .filter(incident::Column::Id.eq(*id.as_uuid()))
        .filter(incident::Column::NoticeApprovedAt.is_not_null())
        .filter(incident::Column::NoticeDone.eq(false))
        .filter(at_cursor)
        .exec(db)
        .await?
        .rows_affected;
    if moved == 1 {
        return Ok(());
    }
    let exists = incident::Entity::find_by_id(*id.as_uuid())
        .one(db)
        .await?
        .is_some();
    Err(if exists {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
    .into())
}

impl SqlStore {
    async fn incident(&self, id: IncidentId) -> Result<Incident> {
        Incidents::by_id(self, id)
            .await?
            .ok_or_else(|| StoreError::NotFound.into())
    }
}

#[async_trait]
impl Incidents for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn insert(&self, incident: &Incident) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            incident::Entity::insert(to_model(incident)?)
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn all(&self) -> Result<Vec<Incident>, StoreError> {
        self.read(async {
            incident::Entity::find()
                .order_by_desc(incident::Column::DiscoveredAt)
                .order_by_desc(incident::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_incident)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn by_id(&self, id: IncidentId) -> Result<Option<Incident>, StoreError> {
        self.read(async {
            incident::Entity::find_by_id(*id.as_uuid())
                .one(&self.db)
                .await?
                .map(to_incident)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn mark_reported(
        &self,
        id: IncidentId,
        stage: Stage,
        at: Timestamp,
    ) -> Result<Incident, StoreError> {
        let column = match stage {
            Stage::Preliminary => incident::Column::PreliminaryReportedAt,
            Stage::Final => incident::Column::FinalReportedAt,
        };
        self.write(Stale::Nothing, async {
            // The first time stays: only an empty field is set.
            incident::Entity::update_many()
                .col_expr(column, Expr::value(millis(at)))
                .filter(incident::Column::Id.eq(*id.as_uuid()))
                .filter(column.is_null())
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await?;
        self.read(self.incident(id)).await
    }

    #[tracing::instrument(skip_all)]
    async fn approve_notice(
        &self,
        id: IncidentId,
        by: OperatorId,
        at: Timestamp,
    ) -> Result<Incident, StoreError> {
        self.write(Stale::Nothing, async {
            incident::Entity::update_many()
                .col_expr(
                    incident::Column::NoticeApprovedBy,
                    Expr::value(by.to_string()),
                )
                .col_expr(incident::Column::NoticeApprovedAt, Expr::value(millis(at)))
                .filter(incident::Column::Id.eq(*id.as_uuid()))
                .filter(incident::Column::NoticeApprovedAt.is_null())
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await?;
        self.read(self.incident(id)).await
    }

    #[tracing::instrument(skip_all)]
    async fn members_after(
        &self,
        after: Option<MemberId>,
        registered_before: Timestamp,
        limit: u32,
    ) -> Result<Vec<MemberId>, StoreError> {
        self.read(async {
            let mut query = member::Entity::find()
                .select_only()
                .column(member::Column::Id)
                .filter(member::Column::CreatedAt.lt(millis(registered_before)))
                .order_by_asc(member::Column::Id)
                .limit(u64::from(limit));
            if let Some(after) = after {
                query = query.filter(member::Column::Id.gt(*after.as_uuid()));
            }
            let ids: Vec<uuid::Uuid> = query.into_tuple().all(&self.db).await?;
            Ok(ids.into_iter().map(MemberId::from_uuid).collect())
        })
        .await
    }
}
