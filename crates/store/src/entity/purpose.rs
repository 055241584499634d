//! `purposes`: purposes beyond providing the service, each with its current notice.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "purposes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub title_ja: String,
    pub title_en: String,
    pub notice_ja: String,
    pub notice_en: String,
    pub notice_version: i32,
    pub recipient: Option<String>,
    /// Category names, comma-separated.
    pub categories: String,
    pub transfer: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
