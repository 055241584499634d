//! `ledger_entries`: the disclosure ledger; each entry carries its predecessor's hash.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "ledger_entries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub seq: i64,
    pub at: i64,
    pub member_id: Uuid,
    pub recipient: String,
    pub recipient_name: String,
    pub recipient_address: String,
    pub recipient_representative: String,
    /// Category names, comma-separated.
    pub categories: String,
    pub basis: String,
    pub visible_from: i64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
