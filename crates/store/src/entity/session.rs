//! `sessions`: server-side sessions, found by the SHA-256 of their token.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sessions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub member_id: Uuid,
    #[sea_orm(unique)]
    pub token_hash: Vec<u8>,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub browser: String,
    pub first_factor: String,
    pub second_factor: Option<String>,
    pub authenticated_at: i64,
    pub second_factor_enrolled: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
