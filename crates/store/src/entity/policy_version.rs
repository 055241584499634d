//! `policy_versions`: published versions of the privacy policy and their notice's progress.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "policy_versions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub number: i32,
    /// `YYYY-MM-DD`.
    pub effective: String,
    pub changes_ja: String,
    pub changes_en: String,
    pub published_at: i64,
    pub published_by: Option<Uuid>,
    pub notice_cursor: Option<Uuid>,
    pub notice_sent: i64,
    pub notice_done: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
