//! `payment_cases`: refunds and disputes of payments, each at the furthest state reported.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "payment_cases")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub provider: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub reference: String,
    pub payment_id: Uuid,
    pub kind: String,
    pub state: String,
    pub amount_minor: i64,
    pub currency: String,
    pub reason: Option<String>,
    pub respond_by: Option<i64>,
    pub reported_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
