//! `consent_records`: each member's append-only consent history.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consent_records")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub member_id: Uuid,
    pub purpose: String,
    pub granted: bool,
    pub notice_version: i32,
    pub at: i64,
    pub channel: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
