//! `legal_orders`: orders to disclose data; `members` and `categories` are comma-separated.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "legal_orders")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub authority: String,
    pub reference: String,
    pub legal_basis: String,
    pub issued_at: i64,
    pub members: String,
    pub categories: String,
    pub notice_withheld_until: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
