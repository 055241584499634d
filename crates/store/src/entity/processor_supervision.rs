//! `processor_supervision`: supervision records of processors (dates as `YYYY-MM-DD`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processor_supervision")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub processor: String,
    pub contract_date: String,
    pub country: String,
    pub sub_processors: String,
    pub foreign_environment: String,
    pub reviewed_on: String,
    pub outcome: String,
    pub recorded_by: Uuid,
    pub recorded_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
