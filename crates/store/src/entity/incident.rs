//! `incidents`: suspected leaks, their reports and their members' notice.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "incidents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub discovered_at: i64,
    pub recorded_at: i64,
    pub recorded_by: String,
    pub facts: String,
    pub everyone: bool,
    pub members: String,
    pub preliminary_reported_at: Option<i64>,
    pub final_reported_at: Option<i64>,
    pub notice_approved_by: Option<String>,
    pub notice_approved_at: Option<i64>,
    pub notice_cursor: Option<Uuid>,
    pub notice_sent: i64,
    pub notice_done: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
