//! Requests under APPI and the cessations in force, on sea-orm. A request is kept whole as
//! JSON; a change is stored only over the version it was made from, so two operators acting at
//! once cannot both answer (one gets a conflict).

use async_trait::async_trait;
use kikeru_domain::privacy::ports::PrivacyRequests;
use kikeru_domain::privacy::requests::{PrivacyRequest, Stop, StopScope};
use kikeru_domain::{MemberId, StoreError, Timestamp};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::entity::{privacy_request, processing_stop};
use crate::{Result, SqlStore, corrupt, from_millis, millis};

fn to_row(r: &PrivacyRequest) -> Result<privacy_request::ActiveModel> {
    let content = serde_json::to_string(r).map_err(|_| corrupt("a request as JSON"))?;
    Ok(privacy_request::ActiveModel {
        id: Set(r.id),
        number: Set(r.number.clone()),
        member_id: Set(r.member.map(|m| *m.as_uuid())),
        email: Set(r.email.as_str().to_owned()),
        status: Set(r.status.as_str().to_owned()),
        received_at: Set(millis(r.received_at)),
        version: Set(i32::try_from(r.version).map_err(|_| corrupt("a request's version"))?),
        content: Set(content),
    })
}

fn to_request(row: privacy_request::Model) -> Result<PrivacyRequest> {
    serde_json::from_str(&row.content).map_err(|_| corrupt("a stored request"))
}

fn to_stop(row: processing_stop::Model) -> Result<Stop> {
    let scope: StopScope =
        serde_json::from_str(&row.scope).map_err(|_| corrupt("a stored cessation"))?;
    Ok(Stop {
        id: row.id,
        member: MemberId::from_uuid(row.member_id),
        scope,
        request: row.request_id,
        from: from_millis(row.from_at)?,
    })
}

/// Stores a request: inserted at version 1, otherwise replaced over the version before it.
pub(crate) async fn put_request(db: &impl ConnectionTrait, r: &PrivacyRequest) -> Result<()> {
    let row = to_row(r)?;
    if r.version <= 1 {
        privacy_request::Entity::insert(row).exec(db).await?;
        return Ok(());
    }
    let before = i32::try_from(r.version - 1).map_err(|_| corrupt("a request's version"))?;
    let updated = privacy_request::Entity::update_many()
        .set(row)
        .filter(privacy_request::Column::Id.eq(r.id))
        .filter(privacy_request::Column::Version.eq(before))
        .exec(db)
        .await?;
    if updated.rows_affected == 1 {
        return Ok(());
    }
    let exists = privacy_request::Entity::find_by_id(r.id)
        .select_only()
        .column(privacy_request::Column::Id)
        .into_tuple::<Uuid>()
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

/// Puts a cessation in force.
pub(crate) async fn insert_stop(db: &impl ConnectionTrait, s: &Stop) -> Result<()> {
    let scope = serde_json::to_string(&s.scope).map_err(|_| corrupt("a cessation as JSON"))?;
    processing_stop::Entity::insert(processing_stop::ActiveModel {
        id: Set(s.id),
        member_id: Set(*s.member.as_uuid()),
        scope: Set(scope),
        request_id: Set(s.request),
        from_at: Set(millis(s.from)),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Ends one of the member's cessations.
pub(crate) async fn lift_stop(db: &impl ConnectionTrait, member: MemberId, id: Uuid) -> Result<()> {
    let deleted = processing_stop::Entity::delete_many()
        .filter(processing_stop::Column::Id.eq(id))
        .filter(processing_stop::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    if deleted.rows_affected == 0 {
        return Err(StoreError::NotFound.into());
    }
    Ok(())
}

/// Removes the requests of a member being erased (linked to them or made from their address)
/// and their cessations.
pub(crate) async fn erase_requests(
    db: &impl ConnectionTrait,
    member: MemberId,
    email: &str,
) -> Result<()> {
    privacy_request::Entity::delete_many()
        .filter(
            Condition::any()
                .add(privacy_request::Column::MemberId.eq(*member.as_uuid()))
                .add(privacy_request::Column::Email.eq(email)),
        )
        .exec(db)
        .await?;
    processing_stop::Entity::delete_many()
        .filter(processing_stop::Column::MemberId.eq(*member.as_uuid()))
        .exec(db)
        .await?;
    Ok(())
}

/// Removes requests that arrived before `before`.
pub(crate) async fn purge_requests(db: &impl ConnectionTrait, before: Timestamp) -> Result<u64> {
    let deleted = privacy_request::Entity::delete_many()
        .filter(privacy_request::Column::ReceivedAt.lt(millis(before)))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

#[async_trait]
impl PrivacyRequests for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn request(&self, id: Uuid) -> Result<Option<PrivacyRequest>, StoreError> {
        self.read(async {
            privacy_request::Entity::find_by_id(id)
                .one(&self.db)
                .await?
                .map(to_request)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn request_numbered(&self, number: &str) -> Result<Option<PrivacyRequest>, StoreError> {
        self.read(async {
            privacy_request::Entity::find()
                .filter(privacy_request::Column::Number.eq(number))
                .one(&self.db)
                .await?
                .map(to_request)
                .transpose()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn requests(
        &self,
        open_only: bool,
        limit: u32,
    ) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.read(async {
            let mut query = privacy_request::Entity::find();
            if open_only {
                query = query
                    .filter(privacy_request::Column::Status.is_not_in(["answered", "refused"]));
            }
            query
                .order_by_desc(privacy_request::Column::ReceivedAt)
                .order_by_desc(privacy_request::Column::Id)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_request)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn requests_of(&self, member: MemberId) -> Result<Vec<PrivacyRequest>, StoreError> {
        self.read(async {
            privacy_request::Entity::find()
                .filter(privacy_request::Column::MemberId.eq(*member.as_uuid()))
                .order_by_asc(privacy_request::Column::ReceivedAt)
                .order_by_asc(privacy_request::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_request)
                .collect()
        })
        .await
    }

    #[tracing::instrument(skip_all)]
    async fn stops_of(&self, member: MemberId) -> Result<Vec<Stop>, StoreError> {
        self.read(async {
            processing_stop::Entity::find()
                .filter(processing_stop::Column::MemberId.eq(*member.as_uuid()))
                .order_by_asc(processing_stop::Column::FromAt)
                .order_by_asc(processing_stop::Column::Id)
                .all(&self.db)
                .await?
                .into_iter()
                .map(to_stop)
                .collect()
        })
        .await
    }
}

/// Publishes a version of the privacy policy.
pub(crate) async fn publish_policy(
    db: &impl ConnectionTrait,
    v: &kikeru_domain::privacy::policy::PolicyVersion,
) -> Result<()> {
    use crate::entity::policy_version as row;
    let number = i32::try_from(v.number).map_err(|_| corrupt("a policy version's number"))?;
    row::Entity::insert(row::ActiveModel {
        number: Set(number),
        effective: Set(v.effective.to_string()),
        changes_ja: Set(v.changes_ja.clone()),
        changes_en: Set(v.changes_en.clone()),
        published_at: Set(millis(v.published_at)),
        published_by: Set(v.published_by.map(|o| *o.as_uuid())),
        notice_cursor: Set(v.notice_cursor.map(|m| *m.as_uuid())),
        notice_sent: Set(i64::try_from(v.notice_sent).unwrap_or(i64::MAX)),
        notice_done: Set(v.notice_done),
    })
    .exec(db)
    .await?;
    Ok(())
}

/// Moves the notice of a policy version from `from` to `to`.
pub(crate) async fn policy_notice_progress(
    db: &impl ConnectionTrait,
    number: u32,
    from: Option<MemberId>,
    to: Option<MemberId>,
    sent: u64,
    done: bool,
) -> Result<()> {
    use crate::entity::policy_version as row;
    use sea_orm::sea_query::{Expr, ExprTrait};
    let number = i32::try_from(number).map_err(|_| StoreError::NotFound)?;
    let at_cursor = match from {
        Some(cursor) => row::Column::NoticeCursor.eq(*cursor.as_uuid()),
        None => row::Column::NoticeCursor.is_null(),
    };
    let moved = row::Entity::update_many()
        .col_expr(
            row::Column::NoticeCursor,
            // A finished notice keeps no member's ID as its cursor.
            Expr::value(to.filter(|_| !done).map(|m| *m.as_uuid())),
        )
        .col_expr(
            row::Column::NoticeSent,
            Expr::col(row::Column::NoticeSent)
                .add(i64::try_from(sent).map_err(|_| StoreError::Conflict)?),
        )
        .col_expr(row::Column::NoticeDone, Expr::value(done))
        .filter(row::Column::Number.eq(number))
        .filter(row::Column::NoticeDone.eq(false))
        .filter(at_cursor)
        .exec(db)
        .await?
        .rows_affected;
    if moved == 1 {
        return Ok(());
    }
    let exists = row::Entity::find_by_id(number).one(db).await?.is_some();
    Err(if exists {
        StoreError::Conflict
    } else {
        StoreError::NotFound
    }
    .into())
}

#[async_trait]
impl kikeru_domain::privacy::policy::PolicyVersions for SqlStore {
    #[tracing::instrument(skip_all)]
    async fn versions(
        &self,
    ) -> Result<Vec<kikeru_domain::privacy::policy::PolicyVersion>, StoreError> {
        use crate::entity::policy_version as row;
        self.read(async {
            row::Entity::find()
                .order_by_asc(row::Column::Number)
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(kikeru_domain::privacy::policy::PolicyVersion {
                        number: u32::try_from(r.number)
                            .map_err(|_| corrupt("a policy version's number"))?,
                        effective: time::Date::parse(
                            &r.effective,
                            time::macros::format_description!("[year]-[month]-[day]"),
                        )
                        .map_err(|_| corrupt("a policy version's date"))?,
                        changes_ja: r.changes_ja,
                        changes_en: r.changes_en,
                        published_at: from_millis(r.published_at)?,
                        published_by: r
                            .published_by
                            .map(kikeru_domain::office::operators::OperatorId::from_uuid),
                        notice_cursor: r.notice_cursor.map(MemberId::from_uuid),
                        notice_sent: u64::try_from(r.notice_sent).unwrap_or(0),
                        notice_done: r.notice_done,
                    })
                })
                .collect()
        })
        .await
    }
}
