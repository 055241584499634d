//! `privacy_requests`: requests under APPI, the whole record as JSON beside the columns looked
//! up by.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "privacy_requests")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    #[sea_orm(unique)]
    pub number: String,
    pub member_id: Option<Uuid>,
    pub email: String,
    pub status: String,
    pub received_at: i64,
    pub version: i32,
    /// The request as JSON.
    pub content: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
