//! `processor_proposals`: changes to the register waiting for a second administrator.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "processor_proposals")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub key: String,
    pub name: String,
    pub purpose: String,
    /// Category names, comma-separated.
    pub categories: String,
    /// The proposing administrator's operator ID.
    pub proposed_by: String,
    pub proposed_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
