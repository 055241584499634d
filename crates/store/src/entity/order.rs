//! `orders`: one row per order; `(member_id, idempotency_key)` is unique.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    pub status: String,
    pub total_minor: i64,
    pub currency: String,
    pub idempotency_key: Option<String>,
    pub created_at: i64,
    pub paid_at: Option<i64>,
    pub taxes: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
