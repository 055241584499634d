//! Operators, their sessions and their audit log on sea-orm.

use async_trait::async_trait;
use kikeru_domain::office::operators::{
    Operator, OperatorEvent, OperatorId, OperatorSession, Role,
};
use kikeru_domain::office::ports::Operators;
use kikeru_domain::{Email, PasswordHashString, StoreError, TokenHash};
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use uuid::Uuid;

use crate::entity::{operator, operator_event, operator_session};
use crate::{Result, SqlStore, Stale, corrupt, from_millis, hash_bytes, millis};

fn to_operator(row: operator::Model) -> Result<Operator> {
    Ok(Operator {
        id: OperatorId::from_uuid(row.id),
        email: Email::parse(&row.email).map_err(|_| corrupt("email"))?,
        password_hash: PasswordHashString::parse(&row.password_hash)
            .map_err(|_| corrupt("password hash"))?,
        role: Role::from_name(&row.role).ok_or_else(|| corrupt("role"))?,
        created_at: from_millis(row.created_at)?,
    })
}

#[async_trait]
impl Operators for SqlStore {
    async fn insert(&self, o: &Operator) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let row = operator::ActiveModel {
                id: Set(*o.id.as_uuid()),
                email: Set(o.email.as_str().to_owned()),
                password_hash: Set(o.password_hash.as_str().to_owned()),
                role: Set(o.role.as_str().to_owned()),
                created_at: Set(millis(o.created_at)),
            };
            operator::Entity::insert(row).exec(&self.db).await?;
            Ok(())
        })
        .await
    }

    async fn by_email(&self, email: &Email) -> Result<Option<Operator>, StoreError> {
        self.read(async {
            let row = operator::Entity::find()
                .filter(operator::Column::Email.eq(email.as_str()))
                .one(&self.db)
                .await?;
            row.map(to_operator).transpose()
        })
        .await
    }

    async fn by_id(&self, id: OperatorId) -> Result<Option<Operator>, StoreError> {
        self.read(async {
            let row = operator::Entity::find_by_id(*id.as_uuid())
                .one(&self.db)
                .await?;
            row.map(to_operator).transpose()
        })
        .await
    }

    async fn insert_session(&self, s: &OperatorSession) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let row = operator_session::ActiveModel {
                id: Set(s.id),
                operator_id: Set(*s.operator_id.as_uuid()),
                token_hash: Set(s.token_hash.as_bytes().to_vec()),
                created_at: Set(millis(s.created_at)),
                expires_at: Set(millis(s.expires_at)),
            };
            operator_session::Entity::insert(row).exec(&self.db).await?;
            Ok(())
        })
        .await
    }

    async fn session(&self, hash: &TokenHash) -> Result<Option<OperatorSession>, StoreError> {
        self.read(async {
            let row = operator_session::Entity::find()
                .filter(operator_session::Column::TokenHash.eq(hash.as_bytes().to_vec()))
                .one(&self.db)
                .await?;
            row.map(|r| {
                Ok(OperatorSession {
                    id: r.id,
                    operator_id: OperatorId::from_uuid(r.operator_id),
                    token_hash: hash_bytes(&r.token_hash)?,
                    created_at: from_millis(r.created_at)?,
                    expires_at: from_millis(r.expires_at)?,
                })
            })
            .transpose()
        })
        .await
    }

    async fn delete_session(&self, id: Uuid) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            operator_session::Entity::delete_by_id(id)
                .exec(&self.db)
                .await?;
            Ok(())
        })
        .await
    }

    async fn record(&self, e: &OperatorEvent) -> Result<(), StoreError> {
        self.write(Stale::Nothing, async {
            let row = operator_event::ActiveModel {
                id: Set(e.id),
                at: Set(millis(e.at)),
                operator_id: Set(e.operator_id.map(|o| *o.as_uuid())),
                action: Set(e.action.clone()),
                detail: Set(e.detail.clone()),
            };
            operator_event::Entity::insert(row).exec(&self.db).await?;
            Ok(())
        })
        .await
    }

    async fn events(&self, limit: u32) -> Result<Vec<OperatorEvent>, StoreError> {
        self.read(async {
            operator_event::Entity::find()
                .order_by_desc(operator_event::Column::At)
                .order_by_desc(operator_event::Column::Id)
                .limit(u64::from(limit))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|r| {
                    Ok(OperatorEvent {
                        id: r.id,
                        at: from_millis(r.at)?,
                        operator_id: r.operator_id.map(OperatorId::from_uuid),
                        action: r.action,
                        detail: r.detail,
                    })
                })
                .collect()
        })
        .await
    }
}
